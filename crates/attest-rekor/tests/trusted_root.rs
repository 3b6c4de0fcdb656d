//! `TrustedRoot`: every root in the vectors (production, staging, the
//! conformance suite's) reads back the same trust after `to_json`; a root
//! built in code round-trips; and the one route from trust sources to
//! logs applies a pinned name to a root's logs as to a pinned key.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use attest_dsse::{Algorithm, SigningKey, Timestamp};
use attest_rekor::pki::CtLog;
use attest_rekor::{LogApi, TrustedLog, TrustedRoot, trusted_logs};
use base64ct::Encoding as _;

fn roots() -> Vec<(String, Vec<u8>)> {
    let vectors = Path::new(env!("CARGO_MANIFEST_DIR")).join("../attestlog-testkit/vectors");
    let mut out = vec![(
        "trusted_root.json".to_owned(),
        std::fs::read(vectors.join("trusted_root.json")).unwrap(),
    )];
    out.push((
        "staging_trusted_root.json".to_owned(),
        std::fs::read(vectors.join("staging_trusted_root.json")).unwrap(),
    ));
    // The production root Sigstore's TUF repository delivered (the one the
    // CLI verifies with by default).
    out.push((
        "tuf trusted_root.json".to_owned(),
        std::fs::read(vectors.join("tuf/sigstore-root-signing/targets/trusted_root.json")).unwrap(),
    ));
    let suite = vectors.join("sigstore-conformance/bundle-verify");
    for case in std::fs::read_dir(suite).unwrap() {
        let path = case.unwrap().path().join("trusted_root.json");
        if let Ok(bytes) = std::fs::read(&path) {
            out.push((path.display().to_string(), bytes));
        }
    }
    out
}

/// What a root trusts, comparable: logs whole; authorities by chain and
/// window; CT logs by id, key and window.
fn trust_of(root: &TrustedRoot) -> impl PartialEq + std::fmt::Debug {
    let authority = |a: &attest_rekor::pki::CertificateAuthority| {
        (
            a.uri.clone(),
            a.chain_der().map(<[u8]>::to_vec).collect::<Vec<_>>(),
            a.valid_from,
            a.valid_until,
        )
    };
    (
        root.logs().to_vec(),
        root.certificate_authorities()
            .iter()
            .map(authority)
            .collect::<Vec<_>>(),
        root.ct_logs().to_vec(),
        root.timestamp_authorities()
            .iter()
            .map(authority)
            .collect::<Vec<_>>(),
    )
}

#[test]
fn every_vector_root_reads_back_the_same_trust_after_to_json() {
    let mut read = 0;
    for (name, bytes) in roots() {
        // The suite's deliberately broken roots are refused, as before.
        let Ok(root) = TrustedRoot::from_json(&bytes) else {
            continue;
        };
        let again = TrustedRoot::from_json(&root.to_json_vec())
            .unwrap_or_else(|e| panic!("{name}: written root refused: {e}"));
        assert_eq!(trust_of(&again), trust_of(&root), "{name}");
        // Writing is deterministic.
        assert_eq!(again.to_json(), root.to_json(), "{name}");
        read += 1;
    }
    assert!(read >= 30, "only {read} roots read");
}

#[test]
fn authorities_are_written_with_their_root_certificates_subject() {
    let bytes = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../attestlog-testkit/vectors/trusted_root.json"),
    )
    .unwrap();
    let original: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let written = TrustedRoot::from_json(&bytes).unwrap().to_json();
    let subjects = |v: &serde_json::Value| -> Vec<serde_json::Value> {
        v["certificateAuthorities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|ca| ca["subject"].clone())
            .collect()
    };
    // Sigstore's own root names each authority by its root certificate.
    assert_eq!(subjects(&written), subjects(&original));
    assert!(
        subjects(&written)
            .iter()
            .all(|s| s["organization"] != "" && s["commonName"] != "")
    );
}

#[test]
fn a_root_built_in_code_round_trips_with_each_kind_of_entry() {
    let t0 = Timestamp::from_unix(1_700_000_000);
    let v1 = SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
    let v2 = SigningKey::ed25519_from_seed(&[7; 32]);
    let ct = SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
    let root = TrustedRoot::new()
        .with_log(
            TrustedLog::rekor_v1("https://rekor.example", v1.public_key().clone())
                .valid_between(Some(t0), Some(Timestamp::from_unix(1_800_000_000))),
        )
        .with_log(
            TrustedLog::new(
                attest_rekor::LogId([9; 32]),
                v2.public_key().clone(),
                "log2025-1.example",
                "https://log2025-1.example",
            )
            .with_api(LogApi::V2)
            .valid_between(Some(t0), None),
        )
        .with_ct_log(
            CtLog::new([3; 32], ct.public_key().spki_der().to_vec(), t0, None)
                .with_base_url("https://ct.example"),
        );
    let json = root.to_json();
    assert_eq!(
        json["tlogs"][0]["publicKey"]["keyDetails"],
        "PKIX_ECDSA_P256_SHA_256"
    );
    assert_eq!(json["tlogs"][1]["publicKey"]["keyDetails"], "PKIX_ED25519");
    assert_eq!(json["ctlogs"][0]["baseUrl"], "https://ct.example");
    let again = TrustedRoot::from_json(&root.to_json_vec()).unwrap();
    assert_eq!(trust_of(&again), trust_of(&root));
    assert_eq!(again.logs()[0].api, LogApi::V1);
    assert_eq!(again.logs()[1].api, LogApi::V2);
    // Serialize is to_json.
    assert_eq!(serde_json::to_value(&root).unwrap(), json);
}

#[test]
fn the_pinned_name_applies_to_a_roots_logs_and_to_a_pinned_key() {
    let bytes = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../attestlog-testkit/vectors/trusted_root.json"),
    )
    .unwrap();
    let root = TrustedRoot::from_json(&bytes).unwrap();
    let from_root = trusted_logs(None, Some(&root), "https://x", Some("pinned.example")).unwrap();
    assert!(!from_root.is_empty());
    assert!(
        from_root
            .iter()
            .all(|l| l.origin.as_deref() == Some("pinned.example"))
    );
    assert!(
        trusted_logs(None, Some(&root), "https://x", None)
            .unwrap()
            .iter()
            .all(|l| l.origin.is_none())
    );
    let key = SigningKey::ed25519_from_seed(&[1; 32]).public_key().clone();
    // A pinned key is taken before the root.
    let pinned = trusted_logs(Some(key.clone()), Some(&root), "https://x", Some("n")).unwrap();
    assert_eq!(pinned.len(), 1);
    assert_eq!(pinned[0].key, key);
    assert_eq!(pinned[0].origin.as_deref(), Some("n"));
    assert!(trusted_logs(None, None, "https://x", Some("n")).is_none());
}

/// Verification treats a trusted root's chains as trusted material and does
/// not check the signatures inside them on every cold start (issue 29); so
/// every chain of every root in use is checked here, once: each certificate
/// is signed by the next.
#[test]
fn every_chain_of_every_root_in_use_is_signed_link_by_link() {
    let mut checked = 0;
    for (name, bytes) in roots() {
        // A few conformance cases carry a root that is refused on purpose.
        let Ok(root) = TrustedRoot::from_json(&bytes) else {
            continue;
        };
        for a in root
            .certificate_authorities()
            .iter()
            .chain(root.timestamp_authorities())
        {
            a.chain_signatures_verify()
                .unwrap_or_else(|e| panic!("{name}: {}: {e}", a.uri));
            checked += 1;
        }
    }
    assert!(checked > 20, "{checked}");
}

/// A chain whose links are named right but whose signature is not the
/// issuer's is refused by `chain_signatures_verify` (and only by it).
#[test]
fn a_forged_link_is_found_by_the_chain_check() {
    let bytes = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../attestlog-testkit/vectors/trusted_root.json"),
    )
    .unwrap();
    let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    // The first authority with an intermediate: flip a byte near the end of
    // its issuing certificate (inside the signature).
    let cas = v["certificateAuthorities"].as_array_mut().unwrap();
    let ca = cas
        .iter_mut()
        .find(|c| c["certChain"]["certificates"].as_array().unwrap().len() > 1)
        .unwrap();
    let b64 = ca["certChain"]["certificates"][0]["rawBytes"]
        .as_str()
        .unwrap();
    let mut der = base64ct::Base64::decode_vec(b64).unwrap();
    let n = der.len();
    der[n - 3] ^= 1;
    ca["certChain"]["certificates"][0]["rawBytes"] =
        serde_json::Value::String(base64ct::Base64::encode_string(&der));
    let root = TrustedRoot::from_json(&serde_json::to_vec(&v).unwrap()).unwrap();
    let forged = root
        .certificate_authorities()
        .iter()
        .filter(|a| a.chain_signatures_verify().is_err())
        .count();
    assert_eq!(forged, 1);
}
