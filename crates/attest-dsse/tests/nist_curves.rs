//! ECDSA P-384 (SHA-384) and P-521 (SHA-512) public keys: read from SPKI,
//! verify DER and raw signatures over the message and over its digest, and
//! refuse the wrong curve's hash, a flipped bit and another key.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use attest_dsse::{Algorithm, PublicKey, SigEncoding, SigningKey};
use p384::ecdsa::signature::Signer as _;
use p384::pkcs8::EncodePublicKey as _;
use sha2::{Digest, Sha256, Sha384, Sha512};

const MSG: &[u8] = b"DSSEv1 28 application/vnd.in-toto+json 2 {}";

fn p384_pair(seed: u8) -> (p384::ecdsa::SigningKey, PublicKey) {
    let sk = p384::ecdsa::SigningKey::from_slice(&[seed; 48]).expect("scalar");
    let spki = sk.verifying_key().to_public_key_der().expect("spki");
    (
        sk,
        PublicKey::from_spki_der(spki.as_bytes()).expect("P-384 key"),
    )
}

fn p521_pair(seed: u8) -> (p521::ecdsa::SigningKey, PublicKey) {
    let mut scalar = [seed; 66];
    scalar[0] = 1; // below the order
    let sk = p521::ecdsa::SigningKey::from_slice(&scalar).expect("scalar");
    let spki = sk.verifying_key().to_public_key_der().expect("spki");
    (
        sk,
        PublicKey::from_spki_der(spki.as_bytes()).expect("P-521 key"),
    )
}

#[test]
fn p384_verifies_sha384_signatures_in_der_and_raw() {
    let (sk, pk) = p384_pair(7);
    assert_eq!(pk.algorithm(), Algorithm::EcdsaP384Sha384);
    let sig: p384::ecdsa::Signature = sk.sign(MSG);
    assert!(pk.verifies(MSG, sig.to_der().as_bytes()));
    assert!(
        !pk.verifies(MSG, &sig.to_bytes()),
        "raw needs the key to say so"
    );
    let raw = pk.clone().with_sig_encoding(SigEncoding::Raw);
    assert!(raw.verifies(MSG, &sig.to_bytes()));
    assert!(!pk.verifies(b"another message", sig.to_der().as_bytes()));
    // Over the digest: the SHA-384 of the message, not its SHA-256.
    assert!(pk.verifies_prehashed(&Sha384::digest(MSG), sig.to_der().as_bytes()));
    assert!(!pk.verifies_prehashed(&Sha256::digest(MSG), sig.to_der().as_bytes()));
    assert!(!pk.verifies_prehashed_sha256(&Sha384::digest(MSG), sig.to_der().as_bytes()));
    // Round trips: PEM and JWK.
    assert_eq!(PublicKey::from_pem(&pk.to_pem()).expect("pem"), pk);
    let jwk = pk.to_jwk();
    assert_eq!(jwk.crv, "P-384");
    assert_eq!(PublicKey::from_jwk(&jwk).expect("jwk"), pk);
}

#[test]
fn p521_verifies_sha512_signatures() {
    let (sk, pk) = p521_pair(3);
    assert_eq!(pk.algorithm(), Algorithm::EcdsaP521Sha512);
    let sig: p521::ecdsa::Signature = p521::ecdsa::signature::Signer::sign(&sk, MSG);
    let der = sig.to_der();
    assert!(pk.verifies(MSG, der.as_bytes()));
    assert!(pk.verifies_prehashed(&Sha512::digest(MSG), der.as_bytes()));
    let mut flipped = der.as_bytes().to_vec();
    let last = flipped.len() - 1;
    flipped[last] ^= 1;
    assert!(!pk.verifies(MSG, &flipped));
    let jwk = pk.to_jwk();
    assert_eq!(jwk.crv, "P-521");
    assert_eq!(PublicKey::from_jwk(&jwk).expect("jwk"), pk);
}

#[test]
fn a_signature_by_another_curve_or_key_is_refused() {
    let (sk384, pk384) = p384_pair(7);
    let (_, other384) = p384_pair(9);
    let (_, pk521) = p521_pair(3);
    let sig: p384::ecdsa::Signature = sk384.sign(MSG);
    let der = sig.to_der();
    assert!(!other384.verifies(MSG, der.as_bytes()));
    assert!(!pk521.verifies(MSG, der.as_bytes()));
    let p256 = SigningKey::generate(Algorithm::EcdsaP256Sha256).expect("key");
    assert!(!p256.public_key().verifies(MSG, der.as_bytes()));
    assert!(!pk384.verifies(MSG, &p256.sign(MSG)));
}

#[test]
fn signing_with_a_verification_only_curve_is_a_typed_error() {
    for alg in [Algorithm::EcdsaP384Sha384, Algorithm::EcdsaP521Sha512] {
        assert!(matches!(
            SigningKey::generate(alg),
            Err(attest_dsse::KeyError::SigningUnsupported(a)) if a == alg
        ));
    }
}
