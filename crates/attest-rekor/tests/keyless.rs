//! Keyless and timestamped verification on real bundles: each rule broken
//! by mutating the real bundle, its timestamps or its trusted root, and
//! refused by that rule.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use attest_dsse::Timestamp;
use attest_rekor::pki::{IdentityPolicy, PkiError};
use attest_rekor::tsp::{MAX_TIMESTAMPS, TimestampError, verify_timestamp};
use attest_rekor::{
    Bundle, Check, Policy, Reason, SignerPolicy, TimeSource, TrustedRoot, Verifier,
};
use base64ct::{Base64, Encoding};
use serde_json::Value;

mod common;
use common::{artifact_of, read, verifier};

const KUBEWARDEN: &str = "prod-v1-dsse-v001-tsa.sigstore.json";
const KUBEWARDEN_ID: &str = "https://github.com/kubewarden/kubewarden-controller/.github/workflows/release.yml@refs/tags/v1.34.0";
const GITHUB: &str = "https://token.actions.githubusercontent.com";

fn root() -> Vec<u8> {
    read("trusted_root.json")
}

fn json(name: &str) -> Value {
    serde_json::from_slice(&read(name)).unwrap()
}

fn bundle(v: &Value) -> Bundle {
    Bundle::from_json(v.to_string().as_bytes()).unwrap()
}

fn timestamps(v: &mut Value) -> &mut Vec<Value> {
    v["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"]
        .as_array_mut()
        .unwrap()
}

fn run(v: &Value, root_json: &[u8]) -> Result<attest_rekor::Verified, attest_rekor::NotVerified> {
    let verifier = Verifier::new(TrustedRoot::from_json(root_json).unwrap());
    let b = bundle(v);
    let policy = Policy::new(
        SignerPolicy::identity(KUBEWARDEN_ID, GITHUB),
        Timestamp::now(),
    );
    verifier.verify(&b, &artifact_of(&b), &policy)
}

fn failed(r: Result<attest_rekor::Verified, attest_rekor::NotVerified>, check: Check) -> Reason {
    let e = r.expect_err("must not verify");
    let line = e
        .report
        .checks
        .iter()
        .find(|c| c.check == check && c.outcome == attest_rekor::Outcome::Failed);
    assert!(line.is_some(), "{check} did not fail: {:?}", e.report);
    e.first.reason
}

#[test]
fn a_real_keyless_bundle_with_a_timestamp_verifies_with_both_times() {
    let v = run(&json(KUBEWARDEN), &root()).unwrap();
    assert_eq!(v.times.len(), 2);
    assert!(matches!(
        v.times[0].source,
        TimeSource::IntegratedTime { .. }
    ));
    assert!(matches!(v.times[1].source, TimeSource::Rfc3161 { .. }));
    let c = v.certificate.unwrap();
    assert_eq!(c.identities, [KUBEWARDEN_ID]);
    assert_eq!(c.issuer, GITHUB);
    assert_eq!(c.authority, "https://fulcio.sigstore.dev");
}

#[test]
fn timestamp_mutations_are_each_refused_by_the_timestamp_check() {
    // Duplicated.
    let mut v = json(KUBEWARDEN);
    let t = timestamps(&mut v)[0].clone();
    timestamps(&mut v).push(t.clone());
    assert!(matches!(
        failed(run(&v, &root()), Check::Timestamp),
        Reason::Timestamp {
            error: TimestampError::Duplicate,
            ..
        }
    ));
    // More than the maximum (all distinct would be refused the same way:
    // the count is checked first).
    let mut v = json(KUBEWARDEN);
    *timestamps(&mut v) = vec![t.clone(); MAX_TIMESTAMPS + 1];
    assert!(matches!(
        failed(run(&v, &root()), Check::Timestamp),
        Reason::Timestamp {
            error: TimestampError::TooMany(_),
            ..
        }
    ));
    // Not base64; a flipped byte anywhere in the token.
    let mut v = json(KUBEWARDEN);
    timestamps(&mut v)[0]["signedTimestamp"] = "!!".into();
    failed(run(&v, &root()), Check::Timestamp);
    let token = Base64::decode_vec(t["signedTimestamp"].as_str().unwrap()).unwrap();
    for at in [token.len() / 3, token.len() / 2, token.len() - 2] {
        let mut bad = token.clone();
        bad[at] ^= 0x01;
        let mut v = json(KUBEWARDEN);
        timestamps(&mut v)[0]["signedTimestamp"] = Base64::encode_string(&bad).into();
        failed(run(&v, &root()), Check::Timestamp);
    }
    // Without timestamp authorities in the trusted root.
    let mut r: Value = serde_json::from_slice(&root()).unwrap();
    r["timestampAuthorities"] = Value::Array(vec![]);
    assert!(matches!(
        failed(
            run(&json(KUBEWARDEN), r.to_string().as_bytes()),
            Check::Timestamp
        ),
        Reason::Timestamp {
            error: TimestampError::NoSignerCertificate | TimestampError::Authority(_),
            ..
        }
    ));
}

#[test]
fn a_timestamp_over_another_signature_is_refused() {
    let v = json(KUBEWARDEN);
    let token = Base64::decode_vec(
        v["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"][0]
            ["signedTimestamp"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let auth = TrustedRoot::from_json(&root())
        .map(TrustedRoot::into_authorities)
        .unwrap();
    let b = bundle(&v);
    let sig = b.envelope().unwrap().unwrap().signatures()[0].sig.clone();
    let ok = verify_timestamp(&token, &sig, &auth.timestamp_authorities).unwrap();
    assert!(ok.gen_time.unix() > 1_700_000_000);
    let mut other = sig.clone();
    other[10] ^= 1;
    assert_eq!(
        verify_timestamp(&token, &other, &auth.timestamp_authorities),
        Err(TimestampError::Imprint)
    );
    // The TSA's trusted-root window: ending exactly at genTime still
    // verifies (inclusive), a second earlier does not.
    let mut at_end: Value = serde_json::from_slice(&root()).unwrap();
    for t in at_end["timestampAuthorities"].as_array_mut().unwrap() {
        t["validFor"]["end"] = ok.gen_time.to_string().into();
    }
    let a = TrustedRoot::from_json(at_end.to_string().as_bytes())
        .map(TrustedRoot::into_authorities)
        .unwrap();
    verify_timestamp(&token, &sig, &a.timestamp_authorities).unwrap();
    for t in at_end["timestampAuthorities"].as_array_mut().unwrap() {
        t["validFor"]["end"] = Timestamp::from_unix(ok.gen_time.unix() - 1)
            .to_string()
            .into();
    }
    let a = TrustedRoot::from_json(at_end.to_string().as_bytes())
        .map(TrustedRoot::into_authorities)
        .unwrap();
    assert!(matches!(
        verify_timestamp(&token, &sig, &a.timestamp_authorities),
        Err(TimestampError::Authority(
            PkiError::AuthorityNotValidAt { .. }
        ))
    ));
    // The bare TimeStampToken (the response's second element) verifies
    // too; a response whose status is not granted does not.
    use der::{Decode, Encode};
    let parts: Vec<der::asn1::Any> = Vec::from_der(&token).unwrap();
    let bare = parts[1].to_der().unwrap();
    verify_timestamp(&bare, &sig, &auth.timestamp_authorities).unwrap();
    let mut rejected = token.clone();
    let status_at = token
        .windows(3)
        .position(|w| w == [0x02, 0x01, 0x00])
        .unwrap();
    rejected[status_at + 2] = 2; // PKIStatus rejection
    assert_eq!(
        verify_timestamp(&rejected, &sig, &auth.timestamp_authorities),
        Err(TimestampError::NotGranted)
    );
    // Garbage is a typed error, never a panic.
    for junk in [
        &[][..],
        &[0x30, 0x00],
        &[0x30, 0x80, 0x00, 0x00],
        &token[..20],
    ] {
        assert!(verify_timestamp(junk, &sig, &a.timestamp_authorities).is_err());
    }
}

#[test]
fn certificate_mutations_and_root_mutations_are_refused_by_their_rule() {
    // The trusted root without CT logs: the SCT check fails.
    let mut r: Value = serde_json::from_slice(&root()).unwrap();
    r["ctlogs"] = Value::Array(vec![]);
    assert!(matches!(
        failed(run(&json(KUBEWARDEN), r.to_string().as_bytes()), Check::Sct),
        Reason::Pki(PkiError::NoAuthority(_))
    ));
    // Without Fulcio: no path.
    let mut r: Value = serde_json::from_slice(&root()).unwrap();
    r["certificateAuthorities"] = Value::Array(vec![]);
    failed(
        run(&json(KUBEWARDEN), r.to_string().as_bytes()),
        Check::CertificateChain,
    );
    // Fulcio's window ending before the certificate was used.
    let mut r: Value = serde_json::from_slice(&root()).unwrap();
    for ca in r["certificateAuthorities"].as_array_mut().unwrap() {
        ca["validFor"]["end"] = ca["validFor"]["start"].clone();
    }
    failed(
        run(&json(KUBEWARDEN), r.to_string().as_bytes()),
        Check::CertificateChain,
    );
    // The Fulcio intermediate put in the bundle in place of the leaf: a
    // certificate authority is not a signing certificate.
    let auth = TrustedRoot::from_json(&root())
        .map(TrustedRoot::into_authorities)
        .unwrap();
    let fulcio = auth
        .certificate_authorities
        .iter()
        .find(|c| c.valid_until.is_none())
        .unwrap();
    let inter = fulcio.chain_der().next().unwrap();
    let mut v = json(KUBEWARDEN);
    v["verificationMaterial"]["certificate"]["rawBytes"] = Base64::encode_string(inter).into();
    failed(run(&v, &root()), Check::CertificateChain);
    // A policy with no authorities at all fails closed.
    let logs = TrustedRoot::from_json(&root())
        .map(TrustedRoot::into_logs)
        .unwrap();
    let b = bundle(&json(KUBEWARDEN));
    let policy = Policy::new(
        SignerPolicy::CertificateIdentity(IdentityPolicy::exact(KUBEWARDEN_ID, GITHUB)),
        Timestamp::now(),
    );
    let e = verifier(&logs)
        .verify(&b, &artifact_of(&b), &policy)
        .unwrap_err();
    assert!(matches!(e.first.reason, Reason::NoAuthorities));
    // A key policy without authorities: the timestamp is counted, unused.
    let key =
        attest_rekor::x509::certificate_public_key(&b.certificate_der().unwrap().unwrap()).unwrap();
    let policy = Policy::new(SignerPolicy::Key(key), Timestamp::now());
    let v = verifier(&logs)
        .verify(&b, &artifact_of(&b), &policy)
        .unwrap();
    assert_eq!((v.times.len(), v.unverified_timestamps), (1, 1));
}

/// One verifier's trusted material used again and again (so that the
/// Fulcio intermediate's, the CT log's, the log's and the TSA's keys build
/// their precomputed tables), with a good bundle and bundles broken in one
/// signature each in between: every verdict stays what it was on first use.
#[test]
fn verdicts_hold_after_the_trusted_keys_build_their_tables() {
    fn flip_b64(v: &mut Value, at: usize) {
        let mut raw = Base64::decode_vec(v.as_str().unwrap()).unwrap();
        let i = raw.len() - at;
        raw[i] ^= 0x01;
        *v = Base64::encode_string(&raw).into();
    }
    let verifier = Verifier::new(TrustedRoot::from_json(&root()).unwrap());
    let policy = Policy::new(
        SignerPolicy::identity(KUBEWARDEN_ID, GITHUB),
        Timestamp::now(),
    );
    let run = |v: &Value| {
        let b = bundle(v);
        verifier.verify(&b, &artifact_of(&b), &policy)
    };
    let good = json(KUBEWARDEN);
    // The leaf's signature by the intermediate (its last byte).
    let mut leaf_sig = good.clone();
    flip_b64(
        &mut leaf_sig["verificationMaterial"]["certificate"]["rawBytes"],
        1,
    );
    // The SET, the envelope's signature, the timestamp token's signature.
    let mut set = good.clone();
    flip_b64(
        &mut set["verificationMaterial"]["tlogEntries"][0]["inclusionPromise"]["signedEntryTimestamp"],
        2,
    );
    let mut dsse = good.clone();
    flip_b64(&mut dsse["dsseEnvelope"]["signatures"][0]["sig"], 2);
    let mut tsa = good.clone();
    flip_b64(&mut timestamps(&mut tsa)[0]["signedTimestamp"], 2);
    for round in 0..24 {
        assert!(run(&good).is_ok(), "round {round}");
        failed(run(&leaf_sig), Check::CertificateChain);
        failed(run(&set), Check::Set);
        failed(run(&dsse), Check::Signature);
        failed(run(&tsa), Check::Timestamp);
    }
}

mod never_panic {
    use super::*;
    use proptest::prelude::*;

    fn material() -> (Vec<u8>, Vec<u8>, attest_rekor::pki::Authorities) {
        let v = json(KUBEWARDEN);
        let vm = &v["verificationMaterial"];
        let token = Base64::decode_vec(
            vm["timestampVerificationData"]["rfc3161Timestamps"][0]["signedTimestamp"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
        let cert = Base64::decode_vec(vm["certificate"]["rawBytes"].as_str().unwrap()).unwrap();
        (
            token,
            cert,
            TrustedRoot::from_json(&root())
                .map(TrustedRoot::into_authorities)
                .unwrap(),
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// Real tokens and certificates with bytes overwritten or cut: a
        /// typed error or (for bytes the signature does not cover) a pass,
        /// never a panic; a mutated certificate never passes its path.
        #[test]
        fn mutated_tokens_and_certificates(at in any::<prop::sample::Index>(), byte in any::<u8>(), cut in any::<prop::sample::Index>()) {
            let (token, cert, auth) = material();
            let mut t = token.clone();
            let i = at.index(t.len());
            t[i] = byte;
            let _ = verify_timestamp(&t, b"sig", &auth.timestamp_authorities);
            let _ = verify_timestamp(&token[..cut.index(token.len())], b"sig", &auth.timestamp_authorities);
            let mut c = cert.clone();
            let i = at.index(c.len());
            let changed = c[i] != byte;
            c[i] = byte;
            let res = attest_rekor::pki::verify_certificate(&c, &auth, &[Timestamp::from_unix(1_775_719_500)]);
            if changed {
                prop_assert!(res.is_err());
            } else {
                prop_assert!(res.is_ok(), "{res:?}");
            }
            let _ = attest_rekor::pki::certificate_identity(&c[..cut.index(c.len())]);
            let _ = attest_rekor::pki::parse_sct_list_len(&c[..cut.index(c.len())]);
        }
    }
}
