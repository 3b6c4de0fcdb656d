//! Shared by the attest-rekor tests: the trusted logs of the recorded
//! vectors, and the policy that pins each real bundle's own signer.

#![allow(dead_code, unused_imports, unreachable_pub, missing_docs)]

use attest_dsse::PublicKey;
use attest_rekor::{
    Artifact, Bundle, EntryBody, LogApi, LogId, SignerPolicy, TrustedLog, TrustedRoot,
};
pub use attestlog_testkit::{BUNDLES, vector as read};
use base64ct::{Base64, Encoding};

/// The production trust root's logs plus the staging Rekor v2 log (its key
/// from sigstore-python's embedded staging trust root, see the vectors README).
pub fn trusted_logs() -> Vec<TrustedLog> {
    let mut logs = TrustedRoot::from_json(&read("trusted_root.json"))
        .map(TrustedRoot::into_logs)
        .unwrap();
    let (name, spki, id) = attestlog_testkit::STAGING_V2_LOG;
    let spki = Base64::decode_vec(spki).unwrap();
    logs.push(
        TrustedLog::new(
            LogId::from_base64(id).unwrap(),
            PublicKey::from_spki_der(&spki).unwrap(),
            name,
            format!("https://{name}"),
        )
        .with_api(LogApi::V2),
    );
    logs
}

/// The signer key of a real bundle (its certificate's key, or the key its
/// hashedrekord body logs), pinned: these tests trust it by choice, as a
/// caller with that key would; certificate chains are another issue's.
pub fn pinned_signer(bundle: &Bundle) -> SignerPolicy {
    if let Some(der) = bundle.certificate_der().unwrap() {
        return SignerPolicy::Key(attest_rekor::x509::certificate_public_key(&der).unwrap());
    }
    let e = &bundle.verification_material.tlog_entries[0];
    let body = EntryBody::parse(&Base64::decode_vec(&e.canonicalized_body).unwrap()).unwrap();
    SignerPolicy::Key(attest_rekor::verify::hazmat::logged_key(&body).unwrap())
}

/// The artifact a real bundle is about: its message digest, or the first
/// subject's sha256 or sha512 digest.
pub fn artifact_of(bundle: &Bundle) -> Artifact {
    if let Some(m) = &bundle.message_signature {
        let d: [u8; 32] = Base64::decode_vec(&m.message_digest.as_ref().unwrap().digest)
            .unwrap()
            .try_into()
            .unwrap();
        return Artifact::sha256_digest(d);
    }
    let env = bundle.envelope().unwrap().unwrap();
    let st: serde_json::Value = serde_json::from_slice(env.payload_unverified()).unwrap();
    let digest = &st["subject"][0]["digest"];
    let (alg, hex) = ["sha256", "sha512"]
        .iter()
        .find_map(|a| digest[*a].as_str().map(|h| (*a, h)))
        .unwrap();
    Artifact::parse_digest(&format!("{alg}:{hex}")).unwrap()
}

/// The checks of a report that did not pass, in order.
pub fn not_passed(r: &attest_rekor::Report) -> Vec<attest_rekor::Check> {
    r.checks
        .iter()
        .filter(|c| c.outcome != attest_rekor::Outcome::Passed)
        .map(|c| c.check)
        .collect()
}

/// A verifier trusting `logs` and no authority (as one built from a trusted
/// root that lists only those logs).
pub fn verifier(logs: &[TrustedLog]) -> attest_rekor::Verifier {
    attest_rekor::Verifier::new(TrustedRoot::from_logs(logs.to_vec()))
}

/// A verifier trusting `logs` and `authorities`.
pub fn verifier_with(
    logs: &[TrustedLog],
    authorities: &attest_rekor::pki::Authorities,
) -> attest_rekor::Verifier {
    attest_rekor::Verifier::new(
        TrustedRoot::from_logs(logs.to_vec()).with_authorities(authorities.clone()),
    )
}
