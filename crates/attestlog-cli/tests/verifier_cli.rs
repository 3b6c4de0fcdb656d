//! `attestlog-verify`, the single-purpose verifier: what it links, how it
//! reads its command line, and how it fails. That it verifies exactly as
//! `attestlog verify-bundle` does is the conformance suite's
//! (`tests/conformance.rs` runs every case through both).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;

use std::path::PathBuf;

const IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

/// The arguments verifying the conformance suite's `happy-path-v0.3` case
/// (production keyless, a message signature), with `artifact` as the
/// artifact.
fn happy_path(artifact: &str) -> Vec<String> {
    let suite = attestlog_testkit::vector_path("sigstore-conformance/bundle-verify");
    let case = suite.join("happy-path-v0.3");
    vec![
        "--bundle".into(),
        case.join("bundle.sigstore.json").display().to_string(),
        "--certificate-identity".into(),
        IDENTITY.into(),
        "--certificate-oidc-issuer".into(),
        ISSUER.into(),
        "--trusted-root".into(),
        attestlog_testkit::vector_path("trusted_root.json")
            .display()
            .to_string(),
        artifact.into(),
    ]
}

fn a_txt() -> String {
    attestlog_testkit::vector_path("sigstore-conformance/a.txt")
        .display()
        .to_string()
}

/// The verifier exists to start fast, so it must not carry what only the
/// multi-tool needs. Markers that only those libraries' code holds: SQLite's
/// file header string and PostgreSQL's SASL mechanism name. Both must be in
/// `attestlog` (else the markers prove nothing) and neither in
/// `attestlog-verify`. (Not the sizes: a debug build's are mostly debug
/// information, and differ by features.)
#[test]
fn the_verifier_links_no_database_client() {
    let read = |name: &str| std::fs::read(PathBuf::from(name)).unwrap();
    let full = read(env!("CARGO_BIN_EXE_attestlog"));
    let verifier = read(env!("CARGO_BIN_EXE_attestlog-verify"));
    let holds = |bin: &[u8], marker: &[u8]| bin.windows(marker.len()).any(|w| w == marker);
    for marker in [&b"SQLite format 3"[..], b"SCRAM-SHA-256"] {
        let m = String::from_utf8_lossy(marker);
        assert!(holds(&full, marker), "attestlog holds {m}");
        assert!(!holds(&verifier, marker), "attestlog-verify holds {m}");
    }
}

/// With or without sigstore-conformance's `verify-bundle` word first, the
/// same verification and the same report as `attestlog verify-bundle`.
#[test]
fn verifies_with_or_without_the_protocol_word() {
    let args = happy_path(&a_txt());
    let full = common::bin()
        .arg("verify-bundle")
        .args(&args)
        .output()
        .unwrap();
    assert!(full.status.success(), "{full:?}");
    let bare = common::verifier().args(&args).output().unwrap();
    let worded = common::verifier()
        .arg("verify-bundle")
        .args(&args)
        .output()
        .unwrap();
    for o in [&bare, &worded] {
        assert_eq!(o.status.code(), Some(0), "{o:?}");
        assert_eq!(o.stdout, full.stdout);
    }
    let report: serde_json::Value = serde_json::from_slice(&bare.stdout).unwrap();
    assert_eq!(report["verified"], true);
}

/// A bundle over another artifact: exit 1, the report says which check
/// failed — as `attestlog verify-bundle` says it.
#[test]
fn a_failed_check_exits_1_with_the_report() {
    let dir = attestlog_testkit::TempDir::created("verifier-cli");
    let other = dir.path().join("other.txt");
    std::fs::write(&other, b"not the signed artifact\n").unwrap();
    let args = happy_path(&other.display().to_string());
    let v = common::verifier().args(&args).output().unwrap();
    let full = common::bin()
        .arg("verify-bundle")
        .args(&args)
        .output()
        .unwrap();
    assert_eq!(v.status.code(), Some(1), "{v:?}");
    assert_eq!(v.stdout, full.stdout);
    let stderr = String::from_utf8_lossy(&v.stderr);
    assert!(
        stderr.starts_with("attestlog-verify: ") && stderr.contains("not verified: artifact"),
        "{stderr}"
    );
    let report: serde_json::Value = serde_json::from_slice(&v.stdout).unwrap();
    assert_eq!(report["verified"], false);
    assert!(
        report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["check"] == "artifact" && c["outcome"] == "failed"),
        "{report}"
    );
}

/// Bad input is exit 2 with a message naming the verifier; a missing
/// argument is clap's usage error (also 2); `--version` and `--help` name
/// it.
#[test]
fn bad_input_and_usage() {
    let missing = common::verifier()
        .args([
            "--bundle",
            "/nonexistent/bundle.json",
            "--key",
            "/nonexistent/key.pem",
        ])
        .arg(a_txt())
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2), "{missing:?}");
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(stderr.starts_with("attestlog-verify: "), "{stderr}");

    let no_bundle = common::verifier().arg(a_txt()).output().unwrap();
    assert_eq!(no_bundle.status.code(), Some(2), "{no_bundle:?}");
    assert!(String::from_utf8_lossy(&no_bundle.stderr).contains("--bundle"));

    let version = common::verifier().arg("--version").output().unwrap();
    assert!(version.status.success());
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("attestlog-verify {}", env!("CARGO_PKG_VERSION"))
    );
    let help = common::verifier().arg("--help").output().unwrap();
    assert!(help.status.success());
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("Usage: attestlog-verify"), "{help}");
    assert!(help.contains("--certificate-identity"), "{help}");
}
