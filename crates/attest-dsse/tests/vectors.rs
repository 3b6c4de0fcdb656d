//! Known-answer tests: the DSSE spec vectors, the go-securesystemslib
//! cross-language fixtures and the DSSE envelopes inside real Sigstore bundles.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use attest_dsse::{Envelope, PublicKey, SigEncoding, SigningKey, Timestamp, Verifier, pae};
use base64ct::{Base64, Encoding};
use serde_json::Value;
use sha2::{Digest, Sha256};

fn load(name: &str) -> Value {
    let path = format!("{}/tests/vectors/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

fn b64(v: &Value) -> Vec<u8> {
    Base64::decode_vec(v.as_str().unwrap()).unwrap()
}

fn now() -> Timestamp {
    Timestamp::now()
}

#[test]
fn spec_pae_vectors() {
    let d = load("dsse-spec-vectors.transcribed.json");
    for case in d["official"]["pae"].as_array().unwrap() {
        let got = pae(
            case["payloadType"].as_str().unwrap(),
            case["payload_utf8"].as_str().unwrap().as_bytes(),
        );
        assert_eq!(
            got,
            case["pae_utf8"].as_str().unwrap().as_bytes(),
            "{}",
            case["name"]
        );
    }
}

fn spec_key() -> PublicKey {
    let d = load("dsse-spec-vectors.transcribed.json");
    let k = &d["derived"]["ecdsa_p256_spec_key"];
    let key = PublicKey::from_pem(k["spki_pem"].as_str().unwrap()).unwrap();
    // SPKI, JWK and key id agree.
    let from_jwk = PublicKey::from_jwk(&serde_json::from_value(k["jwk"].clone()).unwrap()).unwrap();
    assert_eq!(key, from_jwk);
    assert_eq!(
        key.key_id(),
        format!("sha256:{}", k["spki_der_sha256_hex"].as_str().unwrap())
    );
    key
}

#[test]
fn spec_ecdsa_vector_raw_and_der() {
    let d = load("dsse-spec-vectors.transcribed.json");
    let v = &d["official"]["ecdsa_p256_spec_vector"];
    let raw_key = spec_key().with_sig_encoding(SigEncoding::Raw);
    for which in ["envelope_protocol_md", "envelope_signing_spec_py_doctest"] {
        let env = Envelope::from_json(v[which].to_string().as_bytes()).unwrap();
        let verifier = Verifier::from_keys([raw_key.clone()], 1).unwrap();
        let ok = verifier
            .verify(&env, "http://example.com/HelloWorld", now())
            .unwrap();
        assert_eq!(ok.payload(), b"hello world");
        // The same signature read as DER does not verify: the encoding is the
        // key's business, not guessed.
        let der_verifier = Verifier::from_keys([spec_key()], 1).unwrap();
        assert!(
            der_verifier
                .verify(&env, "http://example.com/HelloWorld", now())
                .is_err()
        );
    }
    // The DER form of the same signature verifies under the DER key.
    let k = &d["derived"]["ecdsa_p256_spec_key"];
    let msg = pae("http://example.com/HelloWorld", b"hello world");
    assert!(spec_key().verifies(&msg, &b64(&k["sig_as_asn1_der_b64"])));
    // High-S twin (r, n - s): accepted, as documented.
    assert!(raw_key.verifies(&msg, &b64(&k["high_s_twin_raw_b64"])));
}

#[test]
fn spec_derived_ed25519_envelope() {
    let d = load("dsse-spec-vectors.transcribed.json");
    let e = &d["derived"]["ed25519_rfc8032_test1_key_over_spec_pae"];
    let jwk = serde_json::from_value(e["jwk"].clone()).unwrap();
    let key = PublicKey::from_jwk(&jwk).unwrap();
    let env = Envelope::from_json(e["envelope"].to_string().as_bytes()).unwrap();
    let ok =
        Verifier::from_keys([key], 1)
            .unwrap()
            .verify(&env, "http://example.com/HelloWorld", now());
    assert_eq!(ok.unwrap().payload(), b"hello world");
}

#[test]
fn go_securesystemslib_cross_language_fixtures() {
    let d = load("dsse-crate-0.1.6_cross_lang_signing.json");
    let seed: [u8; 32] = (0..32)
        .map(|i| {
            u8::from_str_radix(&d["test_seed_hex"].as_str().unwrap()[2 * i..2 * i + 2], 16).unwrap()
        })
        .collect::<Vec<_>>()
        .try_into()
        .unwrap();
    // The published seed is sha256(key_label), and gives the published key.
    assert_eq!(
        Sha256::digest(d["key_label"].as_str().unwrap().as_bytes()).as_slice(),
        seed
    );
    let signer = SigningKey::ed25519_from_seed(&seed);
    let public = PublicKey::from_pem(d["public_key_pem"].as_str().unwrap()).unwrap();
    assert_eq!(signer.public_key(), &public);
    let verifier = Verifier::from_keys([public], 1).unwrap();
    let fixtures = d["fixtures"].as_array().unwrap();
    assert_eq!(fixtures.len(), 11);
    for f in fixtures {
        let name = f["name"].as_str().unwrap();
        let ptype = f["payload_type"].as_str().unwrap();
        let payload = b64(&f["canonical_b64"]);
        assert_eq!(pae(ptype, &payload), b64(&f["pae_b64"]), "{name}: PAE");
        let env = Envelope::from_json(f["envelope"].to_string().as_bytes()).unwrap();
        assert_eq!(env.payload_unverified(), payload.as_slice(), "{name}");
        let ok = verifier
            .verify(&env, ptype, now())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(ok.payload(), payload.as_slice());
        // Ed25519 is deterministic: we produce the very same signature.
        assert_eq!(
            signer.sign(&pae(ptype, &payload)),
            b64(&f["signature_b64"]),
            "{name}: signature"
        );
    }
    // The non-ASCII payload type: 36 characters, 40 bytes, and the byte count is signed.
    let uni = fixtures
        .iter()
        .find(|f| f["name"] == "unicode_payload_type")
        .unwrap();
    let t = uni["payload_type"].as_str().unwrap();
    assert_eq!((t.chars().count(), t.len()), (36, 40));
    assert!(b64(&uni["pae_b64"]).starts_with(b"DSSEv1 40 "));
}
