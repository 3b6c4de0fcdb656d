//! The sigstore-conformance bundle-verify suite, driven exactly as that
//! suite drives a client: for every case folder, `attestlog verify-bundle
//! [--staging] --bundle FILE (--key KEY | --certificate-identity ID
//! --certificate-oidc-issuer URL) [--trusted-root FILE] FILE_OR_DIGEST`,
//! once with the artifact's path and once with its `sha256:` digest; exit 0
//! is acceptance. A case whose name ends in `_fail` must be rejected.
//!
//! Certificate chains, SCTs and RFC 3161 timestamps are not verified by this
//! version (issue 14): a case that needs them is rejected *with that reason*
//! and counted apart. No `_fail` case may be accepted, and every case that
//! needs none of them must be right.
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
    /// The failing check and its reason, from the JSON report (none for
    /// input errors, exit 2).
    failed: Option<(String, String)>,
    stderr: String,
}

fn run_case(case: &Path, artifact_arg: &str) -> Outcome {
    let mut c = common::bin();
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
        failed: report.and_then(|r| {
            Some((
                r["failed"].as_str()?.to_owned(),
                r["reason"].as_str()?.to_owned(),
            ))
        }),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// Rejected only because this version does not verify certificate chains
/// (the identity check) or RFC 3161 timestamps (the time check of a Rekor
/// v2 entry, which carries no time of its own).
fn deferred(o: &Outcome) -> Option<&'static str> {
    match &o.failed {
        Some((check, reason))
            if check == "certificate-identity" && reason.contains("not implemented yet") =>
        {
            Some("certificate chain")
        }
        Some((check, reason)) if check == "time" && reason.contains("RFC 3161") => {
            Some("RFC 3161 timestamp")
        }
        _ => None,
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

    let (mut right, mut deferred_runs, mut runs) = (0, 0, 0);
    let mut accepted_fail = Vec::new();
    let mut wrong = Vec::new();
    let mut deferred_cases = std::collections::BTreeMap::<&str, Vec<String>>::new();
    let mut fail_rejected_on_merit = 0;
    let mut fail_rejected_only_deferred = std::collections::BTreeSet::new();
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
            let o = run_case(case, &arg);
            let is_digest = arg.starts_with("sha256:");
            let label = format!("{name} ({})", if is_digest { "digest" } else { "path" });
            if must_fail {
                if o.accepted {
                    accepted_fail.push(label);
                } else {
                    right += 1;
                    if deferred(&o).is_none() {
                        fail_rejected_on_merit += 1;
                    } else {
                        fail_rejected_only_deferred.insert(name.clone());
                    }
                }
            } else if o.accepted {
                right += 1;
            } else if let Some(why) = deferred(&o) {
                deferred_runs += 1;
                if !is_digest {
                    deferred_cases.entry(why).or_default().push(name.clone());
                }
            } else {
                wrong.push(format!("{label}: {:?} {}", o.failed, o.stderr.trim()));
            }
        }
    }
    println!(
        "sigstore-conformance bundle-verify: {} cases x 2 inputs = {runs} runs: {right} right, \
         {deferred_runs} rejected as needing what this version does not verify, 0 wrong; \
         accepted _fail: {}; _fail rejected on their own merits (not only for lack of \
         certificate/RFC 3161 support): {fail_rejected_on_merit}",
        cases.len(),
        accepted_fail.len()
    );
    for (why, names) in &deferred_cases {
        println!("  needs {why}: {}", names.join(", "));
    }
    println!(
        "  _fail cases rejected only for lack of certificate/RFC 3161 support: {}",
        fail_rejected_only_deferred
            .into_iter()
            .collect::<Vec<_>>()
            .join(", ")
    );
    assert!(
        accepted_fail.is_empty(),
        "accepted _fail cases: {accepted_fail:#?}"
    );
    assert!(
        wrong.is_empty(),
        "cases wrong for another reason: {wrong:#?}"
    );
    // The cases that need neither certificates nor timestamps all verify.
    for ok in ["managed-key-happy-path", "managed-key-and-trusted-root"] {
        assert!(
            deferred_cases.values().flatten().all(|n| n != ok),
            "{ok} must verify"
        );
    }
    // Deferral is only for what is really missing: a certificate-signed
    // bundle, or a Rekor v2 entry.
    for (why, names) in &deferred_cases {
        for n in names {
            let b: Value = serde_json::from_slice(
                &std::fs::read(suite.join(n).join("bundle.sigstore.json")).unwrap(),
            )
            .unwrap();
            let vm = &b["verificationMaterial"];
            let has_cert =
                vm.get("certificate").is_some() || vm.get("x509CertificateChain").is_some();
            assert!(has_cert, "{n} deferred for {why} without a certificate");
        }
    }
    assert_eq!(right + deferred_runs, runs);
}
