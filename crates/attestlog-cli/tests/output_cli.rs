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
