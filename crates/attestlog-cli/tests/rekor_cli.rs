//! `attestlog bundle verify` and `attestlog checkpoint verify` through the real binary.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::process::{Command, Output};

use serde_json::Value;

fn vectors(name: &str) -> String {
    attestlog_testkit::vector_path(name).display().to_string()
}

fn run(args: &[&str], stdin: Option<&[u8]>) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_attestlog"))
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or_default()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

fn lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn production_bundles_verify_offline() {
    let root = vectors("trusted_root.json");
    let bundles: Vec<String> = [
        "prod-v1-dsse-v001.sigstore.json",
        "prod-v1-dsse-v001-tsa.sigstore.json",
        "prod-v1-intoto-v002.sigstore.json",
        "prod-v1-hashedrekord-v001-pubkey.sigstore.json",
    ]
    .iter()
    .map(|b| vectors(b))
    .collect();
    let mut args = vec!["bundle", "verify", "--trusted-root", &root];
    args.extend(bundles.iter().map(String::as_str));
    let out = run(&args, None);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let reports = lines(&out);
    assert_eq!(reports.len(), 4);
    for r in &reports {
        assert_eq!(r["verified"], true);
        assert!(r["note"].as_str().unwrap().contains("not verified"));
        let identity = r["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["check"] == "certificate-identity")
            .unwrap();
        assert_eq!(identity["outcome"], "not-checked");
    }
}

#[test]
fn failures_and_malformed_input() {
    let root = vectors("trusted_root.json");
    // The staging v2 log is not in the production trust root: fails at log-key.
    let out = run(
        &[
            "bundle",
            "verify",
            "--trusted-root",
            &root,
            &vectors("staging-v2-dsse-as-hashedrekord-v002.sigstore.json"),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let r = &lines(&out)[0];
    assert_eq!(r["verified"], false);
    assert!(
        r["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["check"] == "log-key" && c["outcome"] == "failed")
    );

    // A tampered SET fails at `set`.
    let mut v: Value =
        serde_json::from_slice(&std::fs::read(vectors("prod-v1-dsse-v001.sigstore.json")).unwrap())
            .unwrap();
    let set =
        v["verificationMaterial"]["tlogEntries"][0]["inclusionPromise"]["signedEntryTimestamp"]
            .as_str()
            .unwrap()
            .to_owned();
    let tampered = format!("{}A{}", &set[..10], &set[11..]);
    v["verificationMaterial"]["tlogEntries"][0]["inclusionPromise"]["signedEntryTimestamp"] =
        tampered.into();
    let tmp = attestlog_testkit::TempDir::created("rekor-cli");
    let dir = tmp.path().to_path_buf();
    let path = dir.join("tampered.json");
    std::fs::write(&path, v.to_string()).unwrap();
    let out = run(
        &[
            "bundle",
            "verify",
            "--trusted-root",
            &root,
            path.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let r = &lines(&out)[0];
    assert!(
        r["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["check"] == "set" && c["outcome"] == "failed"),
        "{r}"
    );

    // Malformed: exit 2 naming the file.
    std::fs::write(&path, b"{\"mediaType\": 5}").unwrap();
    let out = run(
        &[
            "bundle",
            "verify",
            "--trusted-root",
            &root,
            path.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("tampered.json"));
}

#[test]
fn checkpoint_verify() {
    let v: Value = serde_json::from_slice(
        &std::fs::read(vectors("prod-v1-intoto-v002.sigstore.json")).unwrap(),
    )
    .unwrap();
    let note =
        v["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["checkpoint"]["envelope"]
            .as_str()
            .unwrap()
            .to_owned();
    let key = vectors("rekor.sigstore.dev.pub.pem");
    let out = run(
        &["checkpoint", "verify", "--key", &key],
        Some(note.as_bytes()),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = &lines(&out)[0];
    assert_eq!(r["size"], 27_657_875);
    assert_eq!(r["extensions"][0], "Timestamp: 1692374735595899989");
    assert_eq!(r["verifiedBy"][0], "rekor.sigstore.dev");
    let out = run(
        &[
            "checkpoint",
            "verify",
            "--trusted-root",
            &vectors("trusted_root.json"),
        ],
        Some(note.as_bytes()),
    );
    assert_eq!(out.status.code(), Some(0));
    let bad = note.replacen("27657875", "27657876", 1);
    let out = run(
        &["checkpoint", "verify", "--key", &key],
        Some(bad.as_bytes()),
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(lines(&out)[0]["error"], "checkpoint-signature-invalid");
    let out = run(
        &["checkpoint", "verify", "--key", &key],
        Some(b"not a note"),
    );
    assert_eq!(out.status.code(), Some(2));
}
