//! Property tests: sign/verify round trips, single-bit tampering, JSON round trips.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::sync::OnceLock;

use attest_dsse::{Algorithm, Envelope, SigningKey, Timestamp, Verifier};
use proptest::prelude::*;

fn keys() -> &'static [SigningKey; 2] {
    static KEYS: OnceLock<[SigningKey; 2]> = OnceLock::new();
    KEYS.get_or_init(|| {
        [
            SigningKey::generate(Algorithm::Ed25519).unwrap(),
            SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap(),
        ]
    })
}

fn flip(bytes: &mut [u8], bit: usize) {
    let i = bit / 8 % bytes.len();
    bytes[i] ^= 1 << (bit % 8);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn sign_verify_and_tamper(
        payload in proptest::collection::vec(any::<u8>(), 0..600),
        ptype in "[ -~]{0,40}|\\PC{0,12}",
        which in 0usize..2,
        bit in any::<usize>(),
    ) {
        let key = &keys()[which];
        let env = Envelope::sign(ptype.clone(), payload.clone(), &[key]).unwrap();
        let verifier = Verifier::from_keys([key.public_key().clone()], 1).unwrap();
        let now = Timestamp::now();

        // JSON round trip keeps everything, and still verifies.
        let json = env.to_json();
        let back = Envelope::from_json(json.as_bytes()).unwrap();
        prop_assert_eq!(&back, &env);
        prop_assert_eq!(&back.to_json(), &json);
        let ok = verifier.verify(&back, &ptype, now).unwrap();
        prop_assert_eq!(ok.payload(), payload.as_slice());

        // Any single-bit change to payload, payload type or signature fails.
        if !payload.is_empty() {
            let mut p = payload.clone();
            flip(&mut p, bit);
            let e = Envelope::sign(ptype.clone(), p, &[]).unwrap();
            let mut forged = Envelope::from_json(
                e.to_json().replace(r#""signatures":[]"#, &format!(r#""signatures":{}"#, sigs_json(&env))).as_bytes()
            ).unwrap();
            prop_assert!(verifier.verify(&forged, &ptype, now).is_err());
            forged = back.clone();
            prop_assert!(verifier.verify(&forged, &ptype, now).is_ok());
        }
        let mut t = ptype.clone().into_bytes();
        if !t.is_empty() {
            flip(&mut t, bit);
            if let Ok(t) = String::from_utf8(t) {
                let moved = Envelope::from_json(json.replace(&format!("\"payloadType\":{}", json_str(&ptype)), &format!("\"payloadType\":{}", json_str(&t))).as_bytes()).unwrap();
                prop_assert!(verifier.verify(&moved, &t, now).is_err());
            }
        }
        let mut sig = env.signatures()[0].sig.clone();
        flip(&mut sig, bit);
        prop_assert!(!key.public_key().verifies(&env.pae(), &sig));
    }

    #[test]
    fn parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = Envelope::from_json(&bytes);
    }
}

fn json_str(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

fn sigs_json(env: &Envelope) -> String {
    let v: serde_json::Value = serde_json::from_str(&env.to_json()).unwrap();
    v["signatures"].to_string()
}
