//! Shared by the attest-rekor tests: the trusted logs of the recorded vectors.

#![allow(dead_code, unreachable_pub, missing_docs)]

use attest_dsse::PublicKey;
use attest_rekor::{LogId, TrustedLog, logs_from_trusted_root};
pub use attestlog_testkit::{BUNDLES, vector as read};
use base64ct::{Base64, Encoding};

/// The production trust root's logs plus the staging Rekor v2 log (its key
/// from sigstore-python's embedded staging trust root, see the vectors README).
pub fn trusted_logs() -> Vec<TrustedLog> {
    let mut logs = logs_from_trusted_root(&read("trusted_root.json")).unwrap();
    let (name, spki, id) = attestlog_testkit::STAGING_V2_LOG;
    let spki = Base64::decode_vec(spki).unwrap();
    logs.push(TrustedLog::new(
        LogId::from_base64(id).unwrap(),
        PublicKey::from_spki_der(&spki).unwrap(),
        name,
        format!("https://{name}"),
    ));
    logs
}
