//! The sigstore-conformance bundle-verify suite, driven exactly as that
//! suite drives a client: for every case folder, `attestlog verify-bundle
//! [--staging] --bundle FILE (--key KEY | --certificate-identity ID
//! --certificate-oidc-issuer URL) [--trusted-root FILE] FILE_OR_DIGEST`,
//! once with the artifact's path and once with its `sha256:` digest; exit 0
//! is acceptance. A case whose name ends in `_fail` must be rejected.
//!
//! Every run must be right — keyless cases included (Fulcio chains, SCTs,
//! identities, RFC 3161 timestamps) — and a `_fail` case about one rule
//! must be refused *by that rule*: its check must be among the report's
//! failed lines, not merely some other check failing first.
//!
//! Every run is made twice, by `attestlog verify-bundle` and by
//! `attestlog-verify verify-bundle` (the single-purpose verifier, given the
//! protocol's subcommand word): the two must exit alike and print the same
//! report.
//!
//! `cargo test -p attestlog-cli --test conformance -- --nocapture` prints the
//! tally.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;

use std::path::Path;

use serde_json::Value;
use sha2::{Digest, Sha256};

const DEFAULT_IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const DEFAULT_ISSUER: &str = "https://token.actions.githubusercontent.com";

/// What one run of the client said.
struct Outcome {
    accepted: bool,
    /// The exit code.
    code: Option<i32>,
    /// The checks the JSON report says failed (none for input errors, exit 2).
    failed_checks: Vec<String>,
    stdout: String,
    stderr: String,
}

/// `_fail` cases about one rule, and the check that must refuse them.
const REFUSED_BY: &[(&str, &str)] = &[
    ("bundle-empty-certificate-chain_fail", "certificate-chain"),
    ("bundle-with-root-cert_fail", "certificate-chain"),
    ("intoto-expired-certificate_fail", "certificate-chain"),
    (
        "intoto-set-outside-signing-cert-validity_fail",
        "certificate-chain",
    ),
    (
        "intoto-tsa-timestamp-outside-cert-validity_fail",
        "certificate-chain",
    ),
    ("invalid-ct-key_fail", "sct"),
    ("rekor2-no-timestamp_fail", "time"),
    (
        "rekor2-timestamp-outside-trust-root-tsa-validity_fail",
        "timestamp",
    ),
    (
        "rekor2-timestamp-outside-tsa-cert-validity_fail",
        "timestamp",
    ),
    ("rekor2-timestamp-payload-mismatch_fail", "timestamp"),
    (
        "rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail",
        "timestamp",
    ),
    (
        "rekor2-timestamp-untrusted-tsa-without-embedded-cert_fail",
        "timestamp",
    ),
    ("rekor2-timestamp-with-incorrect-time_fail", "timestamp"),
    ("checkpoint-bad-keyhint_fail", "checkpoint-signature"),
    ("invalid-checkpoint-signature_fail", "checkpoint-signature"),
    ("inclusion-proof-corrupted-hash_fail", "inclusion"),
    ("set-invalid-signature_fail", "set"),
    ("message-digest-mismatch_fail", "body-match"),
    ("wrong-material_fail", "artifact"),
    ("bundle-from-wrong-instance_fail", "log-key"),
];

/// Runs `case` through `client` (`common::bin` or `common::verifier`).
fn run_case(client: fn() -> std::process::Command, case: &Path, artifact_arg: &str) -> Outcome {
    // A case without its own trusted root is verified with production's,
    // from Sigstore's TUF repository as published (`common::bin`'s loopback
    // mirror): the binary's default trust source.
    let mut c = client();
    c.arg("verify-bundle")
        .arg("--bundle")
        .arg(case.join("bundle.sigstore.json"));
    if case.join("key.pub").exists() {
        c.arg("--key").arg(case.join("key.pub"));
    } else {
        let read = |f: &str, default: &str| {
            std::fs::read_to_string(case.join(f))
                .map_or_else(|_| default.to_owned(), |s| s.trim().to_owned())
        };
        c.args([
            "--certificate-identity",
            &read("identity", DEFAULT_IDENTITY),
            "--certificate-oidc-issuer",
            &read("issuer", DEFAULT_ISSUER),
        ]);
    }
    if case.join("trusted_root.json").exists() {
        c.arg("--trusted-root").arg(case.join("trusted_root.json"));
    }
    c.arg(artifact_arg);
    let o = c.output().unwrap();
    let report: Option<Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .find_map(|l| serde_json::from_str(l).ok());
    Outcome {
        accepted: o.status.success(),
        code: o.status.code(),
        failed_checks: report
            .and_then(|r| {
                r["checks"].as_array().map(|c| {
                    c.iter()
                        .filter(|c| c["outcome"] == "failed")
                        .filter_map(|c| c["check"].as_str().map(str::to_owned))
                        .collect()
                })
            })
            .unwrap_or_default(),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

#[test]
fn sigstore_conformance_bundle_verify_suite() {
    let suite = attestlog_testkit::vector_path("sigstore-conformance/bundle-verify");
    let default_artifact = suite.parent().unwrap().join("a.txt");
    let mut cases: Vec<_> = std::fs::read_dir(&suite)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("bundle.sigstore.json").exists())
        .collect();
    cases.sort();
    assert_eq!(cases.len(), 70, "the suite copy has 70 cases");

    for (n, _) in REFUSED_BY {
        assert!(suite.join(n).is_dir(), "no case {n}");
    }
    let (mut right, mut runs) = (0, 0);
    let mut accepted_fail = Vec::new();
    let mut wrong = Vec::new();
    let mut verifier_differs = Vec::new();
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let must_fail = name.ends_with("_fail");
        let artifact = if case.join("artifact").exists() {
            case.join("artifact")
        } else {
            default_artifact.clone()
        };
        let digest = format!(
            "sha256:{}",
            base16ct::lower::encode_string(&Sha256::digest(std::fs::read(&artifact).unwrap()))
        );
        for arg in [artifact.display().to_string(), digest] {
            runs += 1;
            let o = run_case(common::bin, case, &arg);
            let v = run_case(common::verifier, case, &arg);
            let label = format!(
                "{name} ({})",
                if arg.starts_with("sha256:") {
                    "digest"
                } else {
                    "path"
                }
            );
            if (v.code, &v.stdout) != (o.code, &o.stdout) {
                verifier_differs.push(format!(
                    "{label}: attestlog exit {:?}, attestlog-verify exit {:?}\n{}\n{}",
                    o.code, v.code, o.stdout, v.stdout
                ));
            }
            let rule = REFUSED_BY.iter().find(|(n, _)| *n == name).map(|(_, c)| *c);
            if must_fail && o.accepted {
                accepted_fail.push(label);
            } else if must_fail && rule.is_some_and(|c| !o.failed_checks.iter().any(|f| f == c)) {
                wrong.push(format!(
                    "{label}: refused, but not by {:?}: failed {:?}",
                    rule.unwrap_or_default(),
                    o.failed_checks
                ));
            } else if must_fail || o.accepted {
                right += 1;
            } else {
                wrong.push(format!(
                    "{label}: failed {:?} {}",
                    o.failed_checks,
                    o.stderr.trim()
                ));
            }
        }
    }
    println!(
        "sigstore-conformance bundle-verify: {} cases x 2 inputs (artifact path, sha256 digest) = {runs} runs: {right} right; accepted _fail: {}; {} _fail cases checked to be refused by their own rule; attestlog-verify differing from attestlog verify-bundle: {}",
        cases.len(),
        accepted_fail.len(),
        REFUSED_BY.len(),
        verifier_differs.len()
    );
    assert!(
        accepted_fail.is_empty(),
        "accepted _fail cases: {accepted_fail:#?}"
    );
    assert!(wrong.is_empty(), "wrong: {wrong:#?}");
    assert!(
        verifier_differs.is_empty(),
        "attestlog-verify and attestlog verify-bundle differ: {verifier_differs:#?}"
    );
    assert_eq!(right, runs);
}
