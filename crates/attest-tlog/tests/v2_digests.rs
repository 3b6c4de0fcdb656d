//! hashedrekord 0.0.2 digests follow the key: SHA-256 for P-256, SHA-384
//! for P-384, SHA-512 for P-521 (as `keyDetails` names them). The log
//! accepts each with its own hash, logs the hash's name in the body, and
//! refuses a digest of another length — a P-384 key signing a SHA-256
//! digest while its keyDetails say SHA-384 included.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use attest_dsse::{Envelope, PublicKey, SigningKey};
use attest_rekor::v2::{V2Error, V2Request};
use attest_tlog::{TileLog, TileLogOptions};
use attestlog_testkit::TempDir;
use base64ct::{Base64, Encoding};
use p384::ecdsa::signature::hazmat::PrehashSigner as _;
use p384::pkcs8::EncodePublicKey as _;
use sha2::{Digest, Sha256, Sha384, Sha512};

fn p384_key() -> (p384::ecdsa::SigningKey, PublicKey) {
    let sk = p384::ecdsa::SigningKey::from_slice(&[7; 48]).unwrap();
    let spki = sk.verifying_key().to_public_key_der().unwrap();
    (sk, PublicKey::from_spki_der(spki.as_bytes()).unwrap())
}

fn p521_key() -> (p521::ecdsa::SigningKey, PublicKey) {
    let mut scalar = [3u8; 66];
    scalar[0] = 1;
    let sk = p521::ecdsa::SigningKey::from_slice(&scalar).unwrap();
    let spki = p521::ecdsa::VerifyingKey::from(&sk)
        .to_public_key_der()
        .unwrap();
    (sk, PublicKey::from_spki_der(spki.as_bytes()).unwrap())
}

fn sign384(sk: &p384::ecdsa::SigningKey, digest: &[u8]) -> Vec<u8> {
    let sig: p384::ecdsa::Signature = sk.sign_prehash(digest).unwrap();
    sig.to_der().as_bytes().to_vec()
}

/// A request body as a client would send it, whatever its digest length.
fn raw_request(digest: &[u8], sig: &[u8], key: &PublicKey, details: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({"hashedRekordRequestV002": {
        "digest": Base64::encode_string(digest),
        "signature": {"content": Base64::encode_string(sig), "verifier": {
            "publicKey": {"rawBytes": Base64::encode_string(key.spki_der())},
            "keyDetails": details}}}}))
    .unwrap()
}

fn logged_algorithm(entry_json: &[u8]) -> String {
    let v: serde_json::Value = serde_json::from_slice(entry_json).unwrap();
    let body = Base64::decode_vec(v["canonicalizedBody"].as_str().unwrap()).unwrap();
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    body["spec"]["hashedRekordV002"]["data"]["algorithm"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn each_key_logs_with_its_own_hash_and_no_other() {
    let tmp = TempDir::new("tilelog-digests");
    let log = TileLog::open(
        tmp.path(),
        SigningKey::ed25519_from_seed(&[1; 32]),
        TileLogOptions::default(),
    )
    .unwrap();
    let artifact = b"an artifact";
    // P-384 with SHA-384.
    let (sk, pk) = p384_key();
    let d384 = Sha384::digest(artifact);
    let req = V2Request::message(d384.to_vec(), sign384(&sk, &d384), &pk).unwrap();
    assert_eq!(req.hash_algorithm(), Some("SHA2_384"));
    let entry = log.create(&req.to_json()).unwrap();
    assert_eq!(logged_algorithm(&entry), "SHA2_384");
    // P-384 signing a SHA-256 digest (valid ECDSA over those 32 bytes)
    // while keyDetails say SHA-384: refused, by the builder and the log.
    let d256 = Sha256::digest(artifact);
    let sig = sign384(&sk, &d256);
    assert!(
        pk.verifies_prehashed(&d256, &sig),
        "the signature itself is valid"
    );
    assert!(matches!(
        V2Request::message(d256.to_vec(), sig.clone(), &pk),
        Err(V2Error::DigestLength {
            want: 48,
            got: 32,
            ..
        })
    ));
    let (status, msg) = log
        .create(&raw_request(&d256, &sig, &pk, "PKIX_ECDSA_P384_SHA_384"))
        .unwrap_err();
    assert_eq!(status, 400, "{msg}");
    assert!(msg.contains("SHA2_384"), "{msg}");
    // A P-384 key named as P-256 (with a SHA-256 digest): refused.
    let (status, _) = log
        .create(&raw_request(&d256, &sig, &pk, "PKIX_ECDSA_P256_SHA_256"))
        .unwrap_err();
    assert_eq!(status, 400);
    // P-521 with SHA-512.
    let (sk, pk) = p521_key();
    let d512 = Sha512::digest(artifact);
    let sig: p521::ecdsa::Signature = sk.sign_prehash(&d512).unwrap();
    let req = V2Request::message(d512.to_vec(), sig.to_der().as_bytes().to_vec(), &pk).unwrap();
    assert_eq!(
        logged_algorithm(&log.create(&req.to_json()).unwrap()),
        "SHA2_512"
    );
    // P-256 with a 48-byte digest: refused.
    let p256 = SigningKey::generate(attest_dsse::Algorithm::EcdsaP256Sha256).unwrap();
    let (status, _) = log
        .create(&raw_request(
            &d384,
            &p256.sign(artifact),
            p256.public_key(),
            "PKIX_ECDSA_P256_SHA_256",
        ))
        .unwrap_err();
    assert_eq!(status, 400);
    // And P-256 still logs SHA2_256.
    let req = V2Request::message(d256.to_vec(), p256.sign(artifact), p256.public_key()).unwrap();
    assert_eq!(
        logged_algorithm(&log.create(&req.to_json()).unwrap()),
        "SHA2_256"
    );
}

#[test]
fn a_p384_envelope_is_logged_with_the_sha384_of_its_pae() {
    let (sk, pk) = p384_key();
    let payload = br#"{"_type":"https://in-toto.io/Statement/v1"}"#.to_vec();
    let pae = attest_dsse::pae("application/vnd.in-toto+json", &payload);
    let sig: p384::ecdsa::Signature = p384::ecdsa::signature::Signer::sign(&sk, &pae);
    let env = Envelope::from_json(
        &serde_json::to_vec(&serde_json::json!({
            "payload": Base64::encode_string(&payload),
            "payloadType": "application/vnd.in-toto+json",
            "signatures": [{"sig": Base64::encode_string(sig.to_der().as_bytes())}],
        }))
        .unwrap(),
    )
    .unwrap();
    let req = V2Request::dsse(&env, &pk).unwrap();
    assert_eq!(req.digest, Sha384::digest(&pae).to_vec());
    let tmp = TempDir::new("tilelog-digests-dsse");
    let log = TileLog::open(
        tmp.path(),
        SigningKey::ed25519_from_seed(&[1; 32]),
        TileLogOptions::default(),
    )
    .unwrap();
    assert_eq!(
        logged_algorithm(&log.create(&req.to_json()).unwrap()),
        "SHA2_384"
    );
}
