//! Shared by the rekor-client tests: the vectors and the trusted logs.

#![allow(dead_code, unreachable_pub, missing_docs)]

use attest_dsse::PublicKey;
use base64ct::{Base64, Encoding};
use rekor_client::{TrustedLog, logs_from_trusted_root};

pub fn read(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/vectors/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// The production trust root's logs plus the staging Rekor v2 log (its key
/// from sigstore-python's embedded staging trust root, see the vectors README).
pub fn trusted_logs() -> Vec<TrustedLog> {
    let mut logs = logs_from_trusted_root(&read("trusted_root.json")).unwrap();
    let spki =
        Base64::decode_vec("MCowBQYDK2VwAyEAlD3dVc8yaP25mPtT/sJ59D3LLxGBgW/qYrM6x6KmOqk=").unwrap();
    let id = Base64::decode_vec("09OnDKEw7/hpZiYVPoTRzRbglHk0sylsUovegnRUlJY=").unwrap();
    logs.push(TrustedLog {
        log_id: id.try_into().unwrap(),
        key: PublicKey::from_spki_der(&spki).unwrap(),
        name: "log2025-alpha3.rekor.sigstage.dev".into(),
        base_url: "https://log2025-alpha3.rekor.sigstage.dev".into(),
        valid_from: None,
        valid_until: None,
    });
    logs
}

pub const BUNDLES: [&str; 5] = [
    "prod-v1-dsse-v001.sigstore.json",
    "prod-v1-dsse-v001-tsa.sigstore.json",
    "prod-v1-intoto-v002.sigstore.json",
    "prod-v1-hashedrekord-v001-pubkey.sigstore.json",
    "staging-v2-dsse-as-hashedrekord-v002.sigstore.json",
];
