//! The fixed-base tables compiled into attest-dsse (its `sigstore-keys`
//! feature, on by attest-rekor's default) cover exactly the keys of
//! Sigstore's public-good instance that the vectors' trusted roots name,
//! no other key gets one, and a compiled table gives the curve crates'
//! verdict on real signatures and on their mutations.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use attest_dsse::{Algorithm, EcdsaHash, Provider, PublicKey};
use attestlog_testkit::vector_path;
use base64ct::{Base64, Encoding};
use serde_json::Value;

/// Every `trusted_root*.json` under `dir`.
fn trusted_roots(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            trusted_roots(&p, out);
        } else if p
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("trusted_root") && n.ends_with(".json"))
        {
            out.push(p);
        }
    }
}

fn b64(v: &Value) -> Vec<u8> {
    Base64::decode_vec(v.as_str().unwrap()).unwrap()
}

/// Every ECDSA key a trusted root names for a log, or as the first
/// certificate (the issuing one) of a CA's or TSA's chain, with where it
/// serves.
fn keys_of(root: &Value) -> Vec<(String, PublicKey)> {
    let mut keys = Vec::new();
    for kind in ["tlogs", "ctlogs"] {
        for log in root[kind].as_array().into_iter().flatten() {
            let Ok(key) = PublicKey::from_spki_der(&b64(&log["publicKey"]["rawBytes"])) else {
                continue; // RSA: not a key this crate verifies with
            };
            keys.push((log["baseUrl"].as_str().unwrap().to_owned(), key));
        }
    }
    for kind in ["certificateAuthorities", "timestampAuthorities"] {
        for ca in root[kind].as_array().into_iter().flatten() {
            let first = &ca["certChain"]["certificates"][0]["rawBytes"];
            if let Ok(key) = attest_rekor::x509::certificate_public_key(&b64(first)) {
                keys.push((ca["uri"].as_str().unwrap_or("").to_owned(), key));
            }
        }
    }
    keys.retain(|(_, k)| {
        matches!(
            k.algorithm(),
            Algorithm::EcdsaP256Sha256 | Algorithm::EcdsaP384Sha384
        )
    });
    keys
}

fn public_good(url: &str) -> bool {
    url.contains("sigstore.dev") || url.contains("sigstage.dev")
}

/// A key of the public-good instance has its table from its first use; a
/// key of any other instance has none; and every listed key is one of the
/// vectors' (no stale entries: 7 P-256 and 5 P-384 keys are listed).
#[test]
fn compiled_tables_cover_the_public_good_keys_and_no_others() {
    let mut files = Vec::new();
    trusted_roots(&vector_path(""), &mut files);
    assert!(files.len() >= 30, "trusted roots found: {}", files.len());
    let mut public = BTreeMap::new();
    let mut others = 0;
    for f in &files {
        let root: Value = serde_json::from_slice(&std::fs::read(f).unwrap()).unwrap();
        for (url, key) in keys_of(&root) {
            if public_good(&url) {
                assert!(key.has_fixed_base_tables(), "{url} in {}", f.display());
                public.insert(key.key_id(), key.algorithm());
            } else {
                assert!(!key.has_fixed_base_tables(), "{url} in {}", f.display());
                others += 1;
            }
        }
    }
    let count = |a| public.values().filter(|&&x| x == a).count();
    assert_eq!(count(Algorithm::EcdsaP256Sha256), 7);
    assert_eq!(count(Algorithm::EcdsaP384Sha384), 5);
    assert!(others > 0, "the vectors name keys of other instances too");
}

/// The high-S twin of a DER signature (n - s): valid exactly when the
/// original is.
fn high_s(alg: Algorithm, der: &[u8]) -> Vec<u8> {
    match alg {
        Algorithm::EcdsaP256Sha256 => {
            let sig = p256::ecdsa::Signature::from_der(der).unwrap();
            let (r, s) = sig.split_scalars();
            let twin = p256::ecdsa::Signature::from_scalars(r.to_bytes(), (-*s).to_bytes());
            twin.unwrap().to_der().as_bytes().to_vec()
        }
        Algorithm::EcdsaP384Sha384 => {
            let sig = p384::ecdsa::Signature::from_der(der).unwrap();
            let (r, s) = sig.split_scalars();
            let twin = p384::ecdsa::Signature::from_scalars(r.to_bytes(), (-*s).to_bytes());
            twin.unwrap().to_der().as_bytes().to_vec()
        }
        other => panic!("{other:?}"),
    }
}

/// The compiled table (FixedBase) and the curve crate (RustCrypto) agree
/// on a real signature, its high-S twin, and each with one bit flipped in
/// the signature or the message; the real one and its twin verify.
fn agree(key: &PublicKey, hash: EcdsaHash, msg: &[u8], sig: &[u8]) {
    assert!(key.has_fixed_base_tables());
    let both = |m: &[u8], s: &[u8]| {
        let fast = key.verifies_hashed_with(Provider::FixedBase, hash, m, s);
        let slow = key.verifies_hashed_with(Provider::RustCrypto, hash, m, s);
        assert_eq!(fast, slow, "sig {s:02x?}");
        fast
    };
    let twin = high_s(key.algorithm(), sig);
    assert_ne!(twin, sig);
    assert!(both(msg, sig) && both(msg, &twin));
    for s in [sig, &twin] {
        for i in 0..s.len() {
            let mut bad = s.to_vec();
            bad[i] ^= 1 << (i % 8);
            assert!(!both(msg, &bad), "bit {i} of the signature");
        }
    }
    for i in (0..msg.len()).step_by(msg.len().div_ceil(64)) {
        let mut bad = msg.to_vec();
        bad[i] ^= 0x80;
        assert!(!both(&bad, sig), "byte {i} of the message");
    }
}

fn bundle(case: &str) -> Value {
    let p = vector_path("sigstore-conformance/bundle-verify")
        .join(case)
        .join("bundle.sigstore.json");
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

fn production_root() -> Value {
    serde_json::from_slice(&std::fs::read(vector_path("trusted_root.json")).unwrap()).unwrap()
}

/// P-384: production Fulcio's intermediate over a keyless leaf certificate
/// (SHA-384), with its compiled table.
#[test]
fn compiled_p384_table_agrees_with_the_curve_crate_on_a_real_certificate() {
    use x509_cert::der::{Decode, Encode};
    let leaf = b64(
        &bundle("happy-path-intoto-in-dsse-v3")["verificationMaterial"]["certificate"]["rawBytes"],
    );
    let cert = x509_cert::Certificate::from_der(&leaf).unwrap();
    let tbs = cert.tbs_certificate().to_der().unwrap();
    let sig = cert.signature().raw_bytes().to_vec();
    let issuers: Vec<PublicKey> = keys_of(&production_root())
        .into_iter()
        .filter(|(url, k)| url.contains("fulcio") && k.algorithm() == Algorithm::EcdsaP384Sha384)
        .map(|(_, k)| k)
        .filter(|k| k.verifies_hashed_with(Provider::RustCrypto, EcdsaHash::Sha384, &tbs, &sig))
        .collect();
    assert_eq!(issuers.len(), 1, "one production CA key signed the leaf");
    agree(&issuers[0], EcdsaHash::Sha384, &tbs, &sig);
}

/// P-256: production Rekor's signature on a checkpoint (SHA-256), with its
/// compiled table.
#[test]
fn compiled_p256_table_agrees_with_the_curve_crate_on_a_real_checkpoint() {
    let b = bundle("happy-path-intoto-in-dsse-v3");
    let note =
        b["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["checkpoint"]["envelope"]
            .as_str()
            .unwrap()
            .to_owned();
    let (body, sigs) = note.split_once("\n\n").unwrap();
    let msg = format!("{body}\n");
    let line = sigs.lines().next().unwrap();
    let raw = Base64::decode_vec(line.rsplit(' ').next().unwrap()).unwrap();
    let sig = &raw[4..]; // after the key hint
    let (_, rekor) = keys_of(&production_root())
        .into_iter()
        .find(|(url, _)| url == "https://rekor.sigstore.dev")
        .unwrap();
    agree(&rekor, EcdsaHash::Sha256, msg.as_bytes(), sig);
}
