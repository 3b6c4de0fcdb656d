//! Envelope parsing never panics; whatever parses re-emits and re-parses to
//! the same envelope, and verification of it never panics.
#![no_main]

use std::sync::OnceLock;

use attest_dsse::{Envelope, SigningKey, Timestamp, Verifier};
use libfuzzer_sys::fuzz_target;

fn verifier() -> &'static Verifier {
    static V: OnceLock<Verifier> = OnceLock::new();
    V.get_or_init(|| {
        let k = SigningKey::ed25519_from_seed(&[1; 32]);
        Verifier::from_keys([k.public_key().clone()], 1).unwrap()
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(env) = Envelope::from_json(data) else {
        return;
    };
    let again = Envelope::from_json(env.to_json().as_bytes()).unwrap();
    assert_eq!(again.payload_unverified(), env.payload_unverified());
    assert_eq!(again.signatures(), env.signatures());
    let _ = verifier().verify(&env, env.payload_type(), Timestamp::from_unix(0));
});
