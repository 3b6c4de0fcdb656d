//! Envelopes produced by Python securesystemslib 1.6.0 (and by us, verified
//! there) by `interop/run.sh --update-fixtures`: `cargo test` alone checks them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use attest_dsse::{Envelope, PublicKey, Timestamp, Verifier};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/interop/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

#[test]
fn securesystemslib_envelopes_verify_here() {
    for name in ["python-ed25519", "python-p256", "rust-ed25519", "rust-p256"] {
        let key =
            PublicKey::from_pem(std::str::from_utf8(&fixture(&format!("{name}.pub.pem"))).unwrap())
                .unwrap();
        let env = Envelope::from_json(&fixture(&format!("{name}.envelope.json"))).unwrap();
        assert_eq!(env.signatures()[0].keyid.as_deref(), Some(name));
        let verifier = Verifier::from_keys([key], 1).unwrap();
        let ok = verifier
            .verify(&env, "application/vnd.in-toto+json", Timestamp::now())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let statement = attest_dsse::Statement::from_json(ok.payload()).unwrap();
        assert_eq!(statement.subject[0].name, "interop.tar.gz");
    }
}
