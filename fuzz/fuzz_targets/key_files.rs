//! Key files as users hand them over: private keys (PKCS#8, SEC1,
//! encrypted PKCS#8 with a passphrase), public keys (PEM, SPKI DER) and JWKs
//! never panic, and never cost unbounded work (an encrypted key's file names
//! its own key-derivation cost). Whatever private key loads signs, and its
//! public half verifies what it signed.
#![no_main]

use attest_dsse::{Jwk, PublicKey, SigningKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = PublicKey::from_spki_der(data);
    if let Ok(jwk) = serde_json::from_slice::<Jwk>(data) {
        let _ = PublicKey::from_jwk(&jwk);
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = PublicKey::from_pem(text);
    let loaded =
        SigningKey::from_pem(text).or_else(|_| SigningKey::from_encrypted_pkcs8_pem(text, b"fuzz"));
    if let Ok(key) = loaded {
        let env = attest_dsse::Envelope::sign("t", b"x".to_vec(), &[&key]).unwrap();
        let verifier = attest_dsse::Verifier::new(
            vec![attest_dsse::TrustedKey::always(key.public_key().clone())],
            1,
        )
        .unwrap();
        assert!(
            verifier
                .verify(&env, "t", attest_dsse::Timestamp::from_unix(0))
                .is_ok()
        );
    }
});
