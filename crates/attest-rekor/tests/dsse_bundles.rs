//! DSSE envelopes inside real Sigstore bundles: their certificate keys verify
//! them, and the hashes a Rekor `dsse` entry records are what the log stored.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use attest_dsse::{Envelope, PublicKey, SigningKey, Timestamp, Verifier};
use base64ct::{Base64, Encoding};
use serde_json::Value;

fn load(name: &str) -> Value {
    serde_json::from_slice(&attestlog_testkit::vector(name)).unwrap()
}

fn b64(v: &Value) -> Vec<u8> {
    Base64::decode_vec(v.as_str().unwrap()).unwrap()
}

fn now() -> Timestamp {
    Timestamp::now()
}

/// The signing certificate of a Sigstore bundle (v0.1 chain or v0.3 single cert).
fn bundle_cert_key(bundle: &Value) -> PublicKey {
    let vm = &bundle["verificationMaterial"];
    let raw = if vm["certificate"].is_object() {
        &vm["certificate"]["rawBytes"]
    } else {
        &vm["x509CertificateChain"]["certificates"][0]["rawBytes"]
    };
    attest_rekor::x509::certificate_public_key(&b64(raw)).unwrap()
}

#[test]
fn envelopes_inside_real_bundles_verify_with_their_certificate_keys() {
    for name in [
        "prod-v1-dsse-v001.sigstore.json",
        "prod-v1-dsse-v001-tsa.sigstore.json",
        "prod-v1-intoto-v002.sigstore.json",
        "staging-v2-dsse-as-hashedrekord-v002.sigstore.json",
    ] {
        let bundle = load(name);
        let key = bundle_cert_key(&bundle);
        let env = Envelope::from_json(bundle["dsseEnvelope"].to_string().as_bytes()).unwrap();
        let verifier = Verifier::from_keys([key.clone()], 1).unwrap();
        let ok = verifier
            .verify(&env, "application/vnd.in-toto+json", now())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let statement = attest_dsse::Statement::from_json(ok.payload()).unwrap();
        assert!(!statement.subject.is_empty(), "{name}");
        // Another key does not verify it.
        let other = SigningKey::generate(attest_dsse::Algorithm::EcdsaP256Sha256).unwrap();
        let wrong = Verifier::from_keys([other.public_key().clone()], 1).unwrap();
        assert!(
            wrong
                .verify(&env, "application/vnd.in-toto+json", now())
                .is_err()
        );
    }
}

#[test]
fn rekor_hashes_of_a_real_entry() {
    let d = load("dsse-spec-vectors.transcribed.json");
    let checks = d["derived"]["sigstore_bundle_v03_crosscheck"]["checks_passed"].to_string();
    let bundle = load("prod-v1-dsse-v001-tsa.sigstore.json");
    let env = Envelope::from_json(bundle["dsseEnvelope"].to_string().as_bytes()).unwrap();
    let payload_hash = attest_rekor::hashes::payload_hash(&env);
    let envelope_hash = attest_rekor::hashes::envelope_hash(&env);
    assert_eq!(
        payload_hash,
        "736c85e434454351bb48cde164f34376cb4a992dd2dfbe1e20326986b1a688c4"
    );
    assert_eq!(
        envelope_hash,
        "d46849f99a73583ccd6b360aa93354af5a1959df828193bcf40c3c882aa603a0"
    );
    assert!(checks.contains(&payload_hash) && checks.contains(&envelope_hash));
    // And the logged body records exactly these.
    let body = b64(&bundle["verificationMaterial"]["tlogEntries"][0]["canonicalizedBody"]);
    let body = String::from_utf8(body).unwrap();
    assert!(body.contains(&payload_hash), "{body}");
    assert!(body.contains(&envelope_hash), "{body}");
}
