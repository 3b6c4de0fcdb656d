//! Real production and staging bundles verify completely, offline.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use attest_dsse::{PublicKey, Timestamp};
use attest_rekor::{Bundle, Check, Outcome, Policy, Report, TrustedRoot};
use base64ct::{Base64, Encoding};

mod common;
use common::{BUNDLES, artifact_of, not_passed, pinned_signer, read, trusted_logs, verifier};

fn outcome(r: &Report, c: Check) -> Option<Outcome> {
    r.checks.iter().find(|x| x.check == c).map(|x| x.outcome)
}

#[test]
fn trusted_root_has_the_production_logs() {
    let logs = TrustedRoot::from_json(&read("trusted_root.json"))
        .map(TrustedRoot::into_logs)
        .unwrap();
    let v1 = logs
        .iter()
        .find(|l| l.name == "rekor.sigstore.dev")
        .unwrap();
    assert_eq!(
        v1.log_id_hex(),
        "c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d"
    );
    let pem = String::from_utf8(read("rekor.sigstore.dev.pub.pem")).unwrap();
    assert_eq!(v1.key, PublicKey::from_pem(&pem).unwrap());
    assert!(
        logs.iter()
            .any(|l| l.name == "log2025-1.rekor.sigstore.dev")
    );
}

#[test]
fn every_real_rekor_v1_bundle_verifies_completely() {
    let logs = trusted_logs();
    for name in BUNDLES.iter().filter(|n| n.starts_with("prod-v1")) {
        let bundle = Bundle::from_json(&read(name)).unwrap();
        let policy = Policy::new(pinned_signer(&bundle), Timestamp::now());
        let v = verifier(&logs)
            .verify(&bundle, &artifact_of(&bundle), &policy)
            .unwrap_or_else(|e| panic!("{name}: {e}: {:?}", e.report));
        assert!(v.report.all_passed(), "{name}");
        for c in [
            Check::LogKey,
            Check::Set,
            Check::IntegratedTime,
            Check::CheckpointSignature,
            Check::CheckpointBinding,
            Check::Inclusion,
            Check::BodyMatch,
            Check::Signature,
            Check::Artifact,
            Check::Time,
            Check::SignerValidity,
        ] {
            assert_eq!(outcome(&v.report, c), Some(Outcome::Passed), "{name}: {c}");
        }
        // The time is the SET's integratedTime, and the entry is the bundle's.
        let e = &bundle.verification_material.tlog_entries[0];
        let it: i64 = e.integrated_time.as_deref().unwrap().parse().unwrap();
        assert_eq!(v.times.len(), 1);
        assert_eq!(v.times[0].at.unix(), it, "{name}");
        assert_eq!(v.entries[0].integrated_time, Some(it));
        assert_eq!(v.entries[0].log_index, e.log_index.parse::<u64>().unwrap());
        assert_eq!(
            v.entries[0].tree_index,
            e.inclusion_proof
                .as_ref()
                .unwrap()
                .log_index
                .parse::<u64>()
                .unwrap()
        );
        assert_eq!(v.artifact.as_ref(), Some(&artifact_of(&bundle)));
    }
}

#[test]
fn a_rekor_v2_bundle_has_complete_log_evidence_but_no_time_of_its_own() {
    let logs = trusted_logs();
    let name = "staging-v2-dsse-as-hashedrekord-v002.sigstore.json";
    let bundle = Bundle::from_json(&read(name)).unwrap();
    let policy = Policy::new(pinned_signer(&bundle), Timestamp::now());
    let e = verifier(&logs)
        .verify(&bundle, &artifact_of(&bundle), &policy)
        .unwrap_err();
    assert_eq!(e.first.check, Check::Time);
    assert!(matches!(e.first.reason, attest_rekor::Reason::NoTimeFromV2));
    let failed = not_passed(&e.report);
    assert_eq!(failed, [Check::Time], "only the time is missing");
    assert_eq!(outcome(&e.report, Check::Set), None, "a v2 log has no SET");
}

#[test]
fn bundles_round_trip_through_json() {
    for name in BUNDLES {
        let bundle = Bundle::from_json(&read(name)).unwrap();
        let again = Bundle::from_json(bundle.to_json().as_bytes()).unwrap();
        assert_eq!(again.to_json(), bundle.to_json(), "{name}");
        let a: serde_json::Value = serde_json::from_slice(&read(name)).unwrap();
        let b: serde_json::Value = serde_json::from_str(&bundle.to_json()).unwrap();
        assert_eq!(
            a["verificationMaterial"]["tlogEntries"], b["verificationMaterial"]["tlogEntries"],
            "{name}"
        );
    }
}

#[test]
fn golden_dsse_body_from_the_production_envelope() {
    let bundle = Bundle::from_json(&read("prod-v1-dsse-v001.sigstore.json")).unwrap();
    let env = bundle.envelope().unwrap().unwrap();
    let cert = bundle.certificate_der().unwrap().unwrap();
    let pem = pem_rfc7468_encode(&cert);
    let sigs: Vec<(Vec<u8>, String)> = env
        .signatures()
        .iter()
        .map(|s| (s.sig.clone(), pem.clone()))
        .collect();
    let entry = &bundle.verification_material.tlog_entries[0];
    let logged = Base64::decode_vec(&entry.canonicalized_body).unwrap();
    // envelopeHash depends on how the client serialized the envelope: take the logged one.
    let logged_json: serde_json::Value = serde_json::from_slice(&logged).unwrap();
    let envelope_hash = logged_json["spec"]["envelopeHash"]["value"]
        .as_str()
        .unwrap();
    let built = attest_rekor::body::dsse_v001_body(
        envelope_hash,
        &attest_rekor::hashes::payload_hash(&env),
        &sigs,
    )
    .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&built),
        String::from_utf8_lossy(&logged)
    );
    assert_eq!(built, logged, "byte for byte");
    let leaf = attest_merkle::leaf_hash(&built);
    assert_eq!(
        leaf.to_string(),
        "875d33538d49eb9bc3224c4868c25d06f78f566730771c4437f50962530906ae"
    );
}

fn pem_rfc7468_encode(der: &[u8]) -> String {
    let b64 = Base64::encode_string(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap());
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}
