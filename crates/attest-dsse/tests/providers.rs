//! Every signature provider compiled in (RustCrypto always; ring with the
//! `ring` feature, as `cargo test --all-features` builds) runs the same
//! known-answer vectors and negative cases, and agrees with the other on
//! random and mutated signatures.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code

use attest_dsse::{Algorithm, EcdsaHash, Provider, PublicKey, SigEncoding, SigningKey, pae};
use base64ct::{Base64, Encoding};
use p384::ecdsa::signature::Signer as _;
use p384::pkcs8::DecodePublicKey as _;
use p384::pkcs8::EncodePublicKey as _;
use proptest::prelude::*;
use serde_json::Value;

const MSG: &[u8] = b"attestlog provider vectors";

fn spec() -> Value {
    serde_json::from_slice(
        &std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/vectors/dsse-spec-vectors.transcribed.json"
        ))
        .unwrap(),
    )
    .unwrap()
}

fn b64(v: &Value) -> Vec<u8> {
    Base64::decode_vec(v.as_str().unwrap()).unwrap()
}

fn p384_pair(seed: u8) -> (p384::ecdsa::SigningKey, PublicKey) {
    let sk = p384::ecdsa::SigningKey::from_slice(&[seed; 48]).unwrap();
    let spki = sk.verifying_key().to_public_key_der().unwrap();
    (sk, PublicKey::from_spki_der(spki.as_bytes()).unwrap())
}

#[test]
fn the_dsse_spec_ecdsa_vector_verifies_with_every_provider() {
    let d = spec();
    let k = &d["derived"]["ecdsa_p256_spec_key"];
    let der_key = PublicKey::from_pem(k["spki_pem"].as_str().unwrap()).unwrap();
    let raw_key = der_key.clone().with_sig_encoding(SigEncoding::Raw);
    let msg = pae("http://example.com/HelloWorld", b"hello world");
    let der_sig = b64(&k["sig_as_asn1_der_b64"]);
    let high_s = b64(&k["high_s_twin_raw_b64"]);
    for &p in Provider::ALL {
        assert!(der_key.verifies_with(p, &msg, &der_sig), "{p:?}");
        // High-S twin accepted (documented), in raw form.
        assert!(raw_key.verifies_with(p, &msg, &high_s), "{p:?}");
        // The DER signature is not a raw one, and vice versa.
        assert!(!raw_key.verifies_with(p, &msg, &der_sig), "{p:?}");
        assert!(!der_key.verifies_with(p, &msg, &high_s), "{p:?}");
        assert!(
            !der_key.verifies_with(p, b"another message", &der_sig),
            "{p:?}"
        );
    }
}

#[test]
fn rfc8032_test1_ed25519_verifies_with_every_provider() {
    let d = spec();
    let e = &d["derived"]["ed25519_rfc8032_test1_key_over_spec_pae"];
    let key = PublicKey::from_jwk(&serde_json::from_value(e["jwk"].clone()).unwrap()).unwrap();
    let env = &e["envelope"];
    let msg = pae(env["payloadType"].as_str().unwrap(), &b64(&env["payload"]));
    let sig = b64(&env["signatures"][0]["sig"]);
    for &p in Provider::ALL {
        assert!(key.verifies_with(p, &msg, &sig), "{p:?}");
        let mut bad = sig.clone();
        bad[0] ^= 1;
        assert!(!key.verifies_with(p, &msg, &bad), "{p:?}");
        // s + L (non-canonical scalar) is refused by both.
        let mut s_plus_l = sig.clone();
        let l: [u8; 32] = [
            0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9,
            0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ];
        let mut carry = 0u16;
        for i in 0..32 {
            let v = u16::from(s_plus_l[32 + i]) + u16::from(l[i]) + carry;
            s_plus_l[32 + i] = v as u8;
            carry = v >> 8;
        }
        assert!(!key.verifies_with(p, &msg, &s_plus_l), "{p:?}");
    }
}

#[test]
fn p384_with_sha384_and_sha256_and_negatives_with_every_provider() {
    let (sk, pk) = p384_pair(7);
    let (_, other) = p384_pair(9);
    let sig: p384::ecdsa::Signature = sk.sign(MSG);
    let der = sig.to_der();
    // The same key signing a SHA-256 digest (as an X.509 CA may).
    let digest256 = <sha2::Sha256 as sha2::Digest>::digest(MSG);
    let sig256: p384::ecdsa::Signature =
        p384::ecdsa::signature::hazmat::PrehashSigner::sign_prehash(&sk, &digest256).unwrap();
    for &p in Provider::ALL {
        assert!(pk.verifies_with(p, MSG, der.as_bytes()), "{p:?}");
        assert!(
            pk.verifies_hashed_with(p, EcdsaHash::Sha256, MSG, sig256.to_der().as_bytes()),
            "{p:?}"
        );
        assert!(
            !pk.verifies_hashed_with(p, EcdsaHash::Sha256, MSG, der.as_bytes()),
            "{p:?}"
        );
        assert!(!other.verifies_with(p, MSG, der.as_bytes()), "{p:?}");
        assert!(
            !pk.verifies_with(p, MSG, &der.as_bytes()[..der.as_bytes().len() - 1]),
            "{p:?}"
        );
        assert!(!pk.verifies_with(p, MSG, &[]), "{p:?}");
        let raw = pk.clone().with_sig_encoding(SigEncoding::Raw);
        assert!(raw.verifies_with(p, MSG, &sig.to_bytes()), "{p:?}");
    }
}

fn agree(key: &PublicKey, hash: EcdsaHash, msg: &[u8], sig: &[u8]) -> bool {
    let answers: Vec<bool> = Provider::ALL
        .iter()
        .map(|&p| key.verifies_hashed_with(p, hash, msg, sig))
        .collect();
    answers.windows(2).all(|w| w[0] == w[1])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Signatures made here, then left alone or with one byte changed:
    /// every provider says the same, and an unchanged one verifies.
    #[test]
    fn providers_agree_on_valid_and_mutated_signatures(
        msg in prop::collection::vec(any::<u8>(), 0..200),
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        for alg in [Algorithm::Ed25519, Algorithm::EcdsaP256Sha256] {
            let k = SigningKey::generate(alg).unwrap();
            let sig = k.sign(&msg);
            let pk = k.public_key();
            for &p in Provider::ALL {
                prop_assert!(pk.verifies_with(p, &msg, &sig));
            }
            let mut bad = sig.clone();
            let i = at.index(bad.len());
            bad[i] = byte;
            prop_assert!(agree(pk, EcdsaHash::Sha256, &msg, &bad));
            if bad != sig {
                prop_assert!(!pk.verifies(&msg, &bad));
            }
        }
    }
}

fn p256_pair(seed: &[u8; 32]) -> Option<(p256::ecdsa::SigningKey, PublicKey)> {
    use p256::pkcs8::EncodePublicKey as _;
    let sk = p256::ecdsa::SigningKey::from_slice(seed).ok()?;
    let spki = sk.verifying_key().to_public_key_der().ok()?;
    Some((sk, PublicKey::from_spki_der(spki.as_bytes()).ok()?))
}

#[test]
fn a_digest_longer_than_the_curve_is_truncated_by_every_provider() {
    // P-256 over a SHA-384 digest: bits2int keeps the leftmost 256 bits.
    let (sk, pk) = p256_pair(&[3; 32]).unwrap();
    let digest = <sha2::Sha384 as sha2::Digest>::digest(MSG);
    let sig: p256::ecdsa::Signature =
        p256::ecdsa::signature::hazmat::PrehashSigner::sign_prehash(&sk, &digest).unwrap();
    let der = sig.to_der();
    for &p in Provider::ALL {
        assert!(
            pk.verifies_hashed_with(p, EcdsaHash::Sha384, MSG, der.as_bytes()),
            "{p:?}"
        );
        assert!(
            !pk.verifies_hashed_with(p, EcdsaHash::Sha256, MSG, der.as_bytes()),
            "{p:?}"
        );
    }
    assert!(pk.verifies_prehashed(&digest, der.as_bytes()));
    // Only the leftmost 256 bits count: they alone verify too; others do not.
    assert!(pk.verifies_prehashed(&digest[..32], der.as_bytes()));
    assert!(!pk.verifies_prehashed(&digest[16..], der.as_bytes()));
}

/// The default path switches a reused key to its tables: its verdicts on
/// good and bad signatures stay the same before, during and after, for the
/// key and for its clones (which share the tables), message and digest.
#[test]
fn a_key_reused_past_the_table_threshold_keeps_its_verdicts() {
    let (sk384, pk384) = p384_pair(11);
    let (sk256, pk256) = p256_pair(&[5; 32]).unwrap();
    let sig384 = p384::ecdsa::signature::Signer::<p384::ecdsa::Signature>::sign(&sk384, MSG)
        .to_der()
        .as_bytes()
        .to_vec();
    let sig256 = p256::ecdsa::signature::Signer::<p256::ecdsa::Signature>::sign(&sk256, MSG)
        .to_der()
        .as_bytes()
        .to_vec();
    let digest = <sha2::Sha256 as sha2::Digest>::digest(MSG);
    for (pk, sig) in [(pk384, sig384), (pk256, sig256)] {
        let clone = pk.clone();
        let mut bad = sig.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        for round in 0..40 {
            let k = if round % 2 == 0 { &pk } else { &clone };
            assert!(k.verifies(MSG, &sig), "round {round}");
            assert!(!k.verifies(MSG, &bad), "round {round}");
            assert!(!k.verifies(b"another message", &sig), "round {round}");
            if k.algorithm() == Algorithm::EcdsaP256Sha256 {
                assert!(k.verifies_prehashed(&digest, &sig), "round {round}");
                assert!(!k.verifies_prehashed(&digest, &bad), "round {round}");
            }
        }
    }
}

/// A P-384 key from `seed` (when it is a valid scalar) and a P-256 key
/// from its first 32 bytes (likewise), each with its hash and its DER
/// signature over `msg`.
fn random_nist_keys(seed: &[u8; 48], msg: &[u8]) -> Vec<(PublicKey, EcdsaHash, Vec<u8>)> {
    let mut cases = Vec::new();
    if let Ok(sk) = p384::ecdsa::SigningKey::from_slice(seed) {
        let pk =
            PublicKey::from_spki_der(sk.verifying_key().to_public_key_der().unwrap().as_bytes())
                .unwrap();
        let sig: p384::ecdsa::Signature = sk.sign(msg);
        cases.push((pk, EcdsaHash::Sha384, sig.to_der().as_bytes().to_vec()));
    }
    if let Some((sk, pk)) = p256_pair(seed[..32].try_into().unwrap()) {
        let sig: p256::ecdsa::Signature = p256::ecdsa::signature::Signer::sign(&sk, msg);
        cases.push((pk, EcdsaHash::Sha256, sig.to_der().as_bytes().to_vec()));
    }
    cases
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    /// P-256 and P-384 keys from random scalars, signatures over random
    /// messages, left alone or with one byte changed: every provider (the
    /// tables included) says the same, and an unchanged one verifies.
    #[test]
    fn providers_agree_on_random_nist_keys(
        seed in any::<[u8; 48]>(),
        msg in prop::collection::vec(any::<u8>(), 0..200),
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        for (pk, hash, sig) in random_nist_keys(&seed, &msg) {
            for &p in Provider::ALL {
                prop_assert!(pk.verifies_hashed_with(p, hash, &msg, &sig), "{:?}", p);
            }
            let mut bad = sig.clone();
            let i = at.index(bad.len());
            bad[i] = byte;
            prop_assert!(agree(&pk, hash, &msg, &bad));
            if bad != sig {
                prop_assert!(!pk.verifies_hashed_with(Provider::FixedBase, hash, &msg, &bad));
            }
        }
    }
}

/// A signature's high-S twin (`n - s`), DER.
fn high_s_twin(alg: Algorithm, der: &[u8]) -> Vec<u8> {
    match alg {
        Algorithm::EcdsaP256Sha256 => {
            let (r, s) = p256::ecdsa::Signature::from_der(der)
                .unwrap()
                .split_scalars();
            p256::ecdsa::Signature::from_scalars(r.to_bytes(), (-*s).to_bytes())
                .unwrap()
                .to_der()
                .as_bytes()
                .to_vec()
        }
        _ => {
            let (r, s) = p384::ecdsa::Signature::from_der(der)
                .unwrap()
                .split_scalars();
            p384::ecdsa::Signature::from_scalars(r.to_bytes(), (-*s).to_bytes())
                .unwrap()
                .to_der()
                .as_bytes()
                .to_vec()
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    /// The default path of a key without tables (the windowed ladder over
    /// the generator's compiled table) says what RustCrypto's curve crates
    /// say: on a signature, its high-S twin and a one-byte change of either,
    /// over the message and over digests cut or extended.
    #[test]
    fn the_windowed_default_path_agrees_with_rustcrypto(
        seed in any::<[u8; 48]>(),
        msg in prop::collection::vec(any::<u8>(), 0..200),
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        cut in 0..40usize,
    ) {
        for (pk, hash, sig) in random_nist_keys(&seed, &msg) {
            prop_assert!(!pk.has_fixed_base_tables());
            let twin = high_s_twin(pk.algorithm(), &sig);
            let mut bad = sig.clone();
            let i = at.index(bad.len());
            bad[i] = byte;
            let mut bad_twin = twin.clone();
            let j = at.index(bad_twin.len());
            bad_twin[j] ^= byte | 1;
            let digest = match hash {
                EcdsaHash::Sha256 => <sha2::Sha256 as sha2::Digest>::digest(&msg).to_vec(),
                _ => <sha2::Sha384 as sha2::Digest>::digest(&msg).to_vec(),
            };
            let mut digests = vec![digest.clone(), digest[..digest.len().saturating_sub(cut)].to_vec()];
            digests.push([digest.as_slice(), &[byte; 8]].concat());
            for s in [&sig, &twin, &bad, &bad_twin] {
                // A fresh key each time: the default path never reaches tables.
                let fresh = PublicKey::from_spki_der(pk.spki_der()).unwrap();
                prop_assert_eq!(
                    fresh.verifies_hashed(hash, &msg, s),
                    pk.verifies_hashed_with(Provider::RustCrypto, hash, &msg, s)
                );
                for d in &digests {
                    let fresh = PublicKey::from_spki_der(pk.spki_der()).unwrap();
                    let reference = {
                        use p256::ecdsa::signature::hazmat::PrehashVerifier;
                        match pk.algorithm() {
                            Algorithm::EcdsaP256Sha256 => p256::ecdsa::Signature::from_der(s)
                                .ok()
                                .is_some_and(|sg| p256::ecdsa::VerifyingKey::from_public_key_der(pk.spki_der())
                                    .unwrap()
                                    .verify_prehash(d, &sg)
                                    .is_ok()),
                            _ => p384::ecdsa::Signature::from_der(s)
                                .ok()
                                .is_some_and(|sg| p384::ecdsa::VerifyingKey::from_public_key_der(pk.spki_der())
                                    .unwrap()
                                    .verify_prehash(d, &sg)
                                    .is_ok()),
                        }
                    };
                    prop_assert_eq!(fresh.verifies_prehashed(d, s), reference, "digest of {} bytes", d.len());
                }
            }
            prop_assert!(pk.verifies_hashed_with(Provider::RustCrypto, hash, &msg, &twin));
        }
    }
}
