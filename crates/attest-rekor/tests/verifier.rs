//! One shared `Verifier` (a trusted root owned once, caches and a checkpoint
//! memo kept across calls) against a fresh one per call: over every real
//! bundle and mutations of each — signatures, checkpoints, proofs, bodies,
//! indices — interleaved so that a passing bundle comes after failing ones
//! and the other way round, one shared verifier accepts and refuses exactly
//! what a fresh verification does, failing the same check.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use attest_dsse::Timestamp;
use attest_rekor::{Bundle, Policy, TrustedRoot, Verifier};
use serde_json::Value;

mod common;
use common::{BUNDLES, artifact_of, pinned_signer, read, trusted_logs};

/// Flips one character of the string at `path` (a JSON pointer), keeping it
/// base64 or text; `None` when there is no such string.
fn mutate(v: &Value, path: &str, at: usize) -> Option<Value> {
    let mut v = v.clone();
    let s = v.pointer_mut(path)?.as_str()?.to_owned();
    if s.is_empty() {
        return None;
    }
    let i = at % s.len();
    let mut bytes = s.into_bytes();
    bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
    *v.pointer_mut(path)? = Value::String(String::from_utf8(bytes).ok()?);
    Some(v)
}

const PATHS: &[&str] = &[
    "/dsseEnvelope/signatures/0/sig",
    "/dsseEnvelope/payload",
    "/messageSignature/signature",
    "/verificationMaterial/tlogEntries/0/canonicalizedBody",
    "/verificationMaterial/tlogEntries/0/inclusionProof/checkpoint/envelope",
    "/verificationMaterial/tlogEntries/0/inclusionProof/hashes/0",
    "/verificationMaterial/tlogEntries/0/inclusionProof/rootHash",
    "/verificationMaterial/tlogEntries/0/inclusionProof/logIndex",
    "/verificationMaterial/tlogEntries/0/inclusionPromise/signedEntryTimestamp",
    "/verificationMaterial/tlogEntries/0/integratedTime",
    "/verificationMaterial/tlogEntries/0/logId/keyId",
];

#[test]
fn a_shared_verifier_decides_every_bundle_and_mutation_as_a_fresh_one_does() {
    // The recorded logs (production and staging v2) with the production
    // root's certificate and timestamp authorities, parsed anew for each
    // fresh verifier (nothing cached is shared with the shared one).
    let root = || {
        let authorities = TrustedRoot::from_json(&read("trusted_root.json"))
            .unwrap()
            .into_authorities();
        TrustedRoot::from_logs(trusted_logs()).with_authorities(authorities)
    };
    let verifier = Verifier::new(root());
    let now = Timestamp::now();
    let mut cases = Vec::new();
    for name in BUNDLES {
        let json: Value = serde_json::from_slice(&read(name)).unwrap();
        cases.push(((*name).to_owned(), json.clone()));
        for (k, path) in PATHS.iter().enumerate() {
            for at in [0, 7, 40 + k] {
                if let Some(m) = mutate(&json, path, at) {
                    cases.push((format!("{name} {path}@{at}"), m));
                }
            }
        }
        // The genuine bundle again, after its mutations: nothing learned
        // from a refused one may refuse it (or pass a refused one later).
        cases.push((format!("{name} again"), json));
    }
    let (mut passed, mut failed) = (0, 0);
    for (name, json) in &cases {
        let Ok(bundle) = Bundle::from_json(json.to_string().as_bytes()) else {
            continue;
        };
        let original = Bundle::from_json(&read(name.split(' ').next().unwrap())).unwrap();
        let signer = pinned_signer(&original);
        let artifact = artifact_of(&original);
        let fresh =
            Verifier::new(root()).verify(&bundle, &artifact, &Policy::new(signer.clone(), now));
        let shared = verifier.verify(&bundle, &artifact, &Policy::new(signer, now));
        match (&fresh, &shared) {
            (Ok(a), Ok(b)) => {
                assert_eq!(a.report, b.report, "{name}");
                passed += 1;
            }
            (Err(a), Err(b)) => {
                assert_eq!(a.first.check, b.first.check, "{name}");
                assert_eq!(a.report, b.report, "{name}");
                failed += 1;
            }
            _ => panic!(
                "{name}: fresh {:?} vs shared {:?}",
                fresh.is_ok(),
                shared.is_ok()
            ),
        }
    }
    // Each genuine bundle the root can time passed twice (the staging v2
    // bundle's timestamp authority is not in the production root); most
    // mutations failed.
    assert!(passed >= 2 * (BUNDLES.len() - 1), "{passed} passed");
    assert!(failed >= 3 * BUNDLES.len(), "{failed} failed");
}
