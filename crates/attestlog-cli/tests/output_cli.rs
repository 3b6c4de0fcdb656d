//! Output that cannot be written: a reader that went away (`attestlog …
//! | head -1`) ends the command quietly with 141 (128 + SIGPIPE), a full
//! disk is reported with exit 2 — never a panic. The pipe's read end is
//! closed before the command starts, so no test races the command.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;

use std::process::{Output, Stdio};

fn conformance(case: &str, file: &str) -> String {
    attestlog_testkit::vector_path(&format!("sigstore-conformance/bundle-verify/{case}/{file}"))
        .display()
        .to_string()
}

/// Commands that print: JSON (`verify-bundle`) and text (`keys export`).
fn commands() -> Vec<Vec<String>> {
    let key = conformance("managed-key-happy-path", "key.pub");
    vec![
        vec![
            "verify-bundle".into(),
            "--bundle".into(),
            conformance("managed-key-happy-path", "bundle.sigstore.json"),
            "--key".into(),
            key.clone(),
            attestlog_testkit::vector_path("sigstore-conformance/a.txt")
                .display()
                .to_string(),
        ],
        vec!["keys".into(), "export".into(), key],
    ]
}

fn run_into(args: &[String], stdout: impl Into<Stdio>) -> Output {
    common::bin()
        .args(args)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

#[test]
fn a_reader_that_went_away_ends_the_command_quietly() {
    for args in commands() {
        // Sanity: with a reader, the command succeeds.
        let ok = run_into(&args, Stdio::piped());
        assert_eq!(
            ok.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&ok.stderr)
        );
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let o = run_into(&args, writer);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(141), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(
            stderr.trim().is_empty() || !stderr.contains("Broken pipe"),
            "{stderr}"
        );
    }
}

#[test]
fn a_full_disk_is_reported_not_panicked() {
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        return; // not Linux
    };
    for args in commands() {
        let o = run_into(&args, full.try_clone().unwrap());
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("cannot write the output"), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

/// Issue 15, item 5: the key-set document the project writes is accepted
/// wherever a signer's key is; it vouches only for its own keys, within
/// their windows.
#[test]
fn a_key_set_document_is_a_signer_wherever_a_key_is() {
    let tmp = attestlog_testkit::TempDir::created("keyset-signer");
    let key = conformance("managed-key-happy-path", "key.pub");
    let export = |key: &str, from: &str| {
        let o = common::bin()
            .args(["keys", "export", "--valid-from", from, key])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0));
        o.stdout
    };
    let good = tmp.file("attestation-keys.json");
    std::fs::write(&good, export(&key, "2020-01-01T00:00:00Z")).unwrap();
    let late = tmp.file("late-keys.json");
    std::fs::write(&late, export(&key, "2100-01-01T00:00:00Z")).unwrap();
    let other_pem = tmp.file("other.pem");
    common::keygen(&other_pem);
    let other = tmp.file("other-keys.json");
    std::fs::write(
        &other,
        export(&other_pem.display().to_string(), "2020-01-01T00:00:00Z"),
    )
    .unwrap();
    let artifact = attestlog_testkit::vector_path("sigstore-conformance/a.txt")
        .display()
        .to_string();
    let bundle = conformance("managed-key-happy-path", "bundle.sigstore.json");
    let verify = |doc: &std::path::Path| {
        common::bin()
            .args(["verify-bundle", "--bundle", &bundle, "--key"])
            .arg(doc)
            .arg(&artifact)
            .output()
            .unwrap()
    };
    let o = verify(&good);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // The same key, not yet valid when the entry was logged.
    let o = verify(&late);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("signer-validity"));
    // A document of other keys.
    let o = verify(&other);
    assert_eq!(o.status.code(), Some(1));
    // `bundle verify` takes it too.
    let o = common::bin()
        .args(["bundle", "verify", "--key"])
        .arg(&good)
        .args(["--artifact", &artifact, &bundle])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    // A document that is not one is a typed input error, not a PEM error.
    let broken = tmp.file("broken.json");
    std::fs::write(&broken, b"{\"keys\": 7}").unwrap();
    let o = verify(&broken);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a key-set document"));
}

/// Issue 15, item 8: `--dir` naming a file says so.
#[test]
fn a_log_directory_that_is_a_file_is_named_as_such() {
    let tmp = attestlog_testkit::TempDir::created("dir-is-file");
    let file = tmp.path().join("afile");
    std::fs::write(&file, b"x").unwrap();
    for args in [
        vec!["log", "serve", "--addr", "127.0.0.1:0", "--dir"],
        vec!["log", "check"],
        vec!["log", "repair"],
    ] {
        let o = common::bin().args(&args).arg(&file).output().unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("is a file, not a log directory"),
            "{args:?}: {stderr}"
        );
    }
}
