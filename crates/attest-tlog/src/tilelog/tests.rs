#![allow(clippy::unwrap_used)]
use super::*;

/// The C2SP log id rule, on the real staging Rekor v2 log.
#[test]
fn log_id_is_the_c2sp_key_hash() {
    let (name, spki, id) = attestlog_testkit::STAGING_V2_LOG;
    let key = PublicKey::from_spki_der(&Base64::decode_vec(spki).unwrap()).unwrap();
    assert_eq!(c2sp_log_id(name, &key).to_base64(), id);
}
