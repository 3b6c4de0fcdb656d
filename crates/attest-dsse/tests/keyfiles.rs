//! Private-key files in the forms OpenSSL writes (`vectors/keyfiles/`):
//! PKCS#8, SEC1 `EC PRIVATE KEY`, and encrypted PKCS#8 (PBES2 with PBKDF2
//! or scrypt), each checked against the public key OpenSSL derived.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use attest_dsse::{KeyError, PublicKey, SigningKey};

fn file(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/vectors/keyfiles/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn public(name: &str) -> PublicKey {
    PublicKey::from_pem(&file(&format!("{name}.pub.pem"))).unwrap()
}

/// The key signs, and OpenSSL's public key verifies what it signed.
fn signs_as(key: &SigningKey, name: &str) {
    assert_eq!(key.public_key(), &public(name), "{name}");
    let env = attest_dsse::Envelope::sign("text/plain", b"hello".to_vec(), &[key]).unwrap();
    let verifier =
        attest_dsse::Verifier::new(vec![attest_dsse::TrustedKey::always(public(name))], 1).unwrap();
    assert!(
        verifier
            .verify(
                &env,
                "text/plain",
                attest_dsse::Timestamp::from_unix(1_800_000_000)
            )
            .is_ok(),
        "{name}"
    );
}

#[test]
fn sec1_ec_private_keys_of_p256_load_and_others_are_refused() {
    let key = SigningKey::from_pem(&file("p256-sec1.pem")).unwrap();
    signs_as(&key, "p256-sec1");
    assert!(matches!(
        SigningKey::from_pem(&file("p384-sec1.pem")),
        Err(KeyError::UnsupportedPrivateKey)
    ));
    // The PKCS#8 reader alone names the label it wanted.
    assert!(matches!(
        SigningKey::from_pkcs8_pem(&file("p256-sec1.pem")),
        Err(KeyError::PemLabel { .. })
    ));
}

#[test]
fn an_encrypted_key_needs_its_passphrase() {
    assert!(matches!(
        SigningKey::from_pem(&file("p256-pbkdf2-aes256.pem")),
        Err(KeyError::Encrypted)
    ));
    // An unencrypted key given to the encrypted reader is read as it is.
    let key = SigningKey::from_encrypted_pkcs8_pem(&file("p256-sec1.pem"), b"ignored").unwrap();
    signs_as(&key, "p256-sec1");
}

#[cfg(feature = "encrypted-keys")]
#[test]
fn encrypted_pkcs8_with_pbkdf2_and_scrypt_decrypts_and_a_wrong_passphrase_fails() {
    for name in ["p256-pbkdf2-aes256", "ed25519-scrypt-aes256"] {
        let pem = file(&format!("{name}.pem"));
        let key = SigningKey::from_encrypted_pkcs8_pem(&pem, b"correct-horse").unwrap();
        signs_as(&key, name);
        for wrong in [&b"correct-hors"[..], b"", b"Correct-horse"] {
            assert!(
                matches!(
                    SigningKey::from_encrypted_pkcs8_pem(&pem, wrong),
                    Err(KeyError::Decrypt)
                ),
                "{name} with {wrong:?}"
            );
        }
    }
    // A file that asks for more work than any honest one is refused before
    // any is done: 10,000,001 PBKDF2 iterations (with the right passphrase:
    // derived, it would decrypt), scrypt with r = 127 (266 MB), scrypt with
    // p = 127.
    for name in [
        "p256-pbkdf2-too-many-iterations.pem",
        "ed25519-scrypt-too-much-memory.pem",
        "ed25519-scrypt-too-parallel.pem",
    ] {
        assert!(
            matches!(
                SigningKey::from_encrypted_pkcs8_pem(&file(name), b"correct-horse"),
                Err(KeyError::KdfTooCostly)
            ),
            "{name}"
        );
    }
    // PBES1 (SHA-1, 3DES) is refused, not mis-read.
    assert!(
        SigningKey::from_encrypted_pkcs8_pem(&file("p256-legacy-3des.pem"), b"correct-horse")
            .is_err()
    );
}

#[cfg(not(feature = "encrypted-keys"))]
#[test]
fn without_the_feature_an_encrypted_key_is_a_named_refusal() {
    assert!(matches!(
        SigningKey::from_encrypted_pkcs8_pem(&file("p256-pbkdf2-aes256.pem"), b"correct-horse"),
        Err(KeyError::EncryptionDisabled)
    ));
}
