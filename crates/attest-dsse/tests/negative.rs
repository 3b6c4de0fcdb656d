//! One test per rule, each failing for exactly one reason, next to the
//! passing case it was derived from.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use attest_dsse::{
    Algorithm, Envelope, EnvelopeError, KeyError, KeySet, KeyStatus, Limits, PublicKey, SigningKey,
    Statement, StatementError, Subject, Timestamp, TrustedKey, Verifier, VerifierError,
    VerifyError,
};
use serde_json::{Value, json};

const T: &str = "application/vnd.in-toto+json";

fn key(alg: Algorithm) -> SigningKey {
    SigningKey::generate(alg).unwrap()
}

fn at() -> Timestamp {
    Timestamp::parse_rfc3339("2026-06-01T00:00:00Z").unwrap()
}

fn verifier(keys: &[&SigningKey], threshold: usize) -> Verifier {
    Verifier::from_keys(keys.iter().map(|k| k.public_key().clone()), threshold).unwrap()
}

fn json_of(env: &Envelope) -> Value {
    serde_json::from_str(&env.to_json()).unwrap()
}

fn reparse(v: &Value) -> Envelope {
    Envelope::from_json(v.to_string().as_bytes()).unwrap()
}

#[test]
fn baseline_verifies_for_both_algorithms() {
    for alg in [Algorithm::Ed25519, Algorithm::EcdsaP256Sha256] {
        let k = key(alg);
        let env = Envelope::sign(T, b"{}".to_vec(), &[&k]).unwrap();
        let ok = verifier(&[&k], 1)
            .verify(&reparse(&json_of(&env)), T, at())
            .unwrap();
        assert_eq!(ok.key_ids(), [k.public_key().key_id()]);
    }
}

#[test]
fn wrong_payload_type() {
    let k = key(Algorithm::Ed25519);
    let env = Envelope::sign(T, b"{}".to_vec(), &[&k]).unwrap();
    assert!(matches!(
        verifier(&[&k], 1).verify(&env, "application/json", at()),
        Err(VerifyError::WrongPayloadType { .. })
    ));
}

#[test]
fn one_flipped_payload_bit() {
    for alg in [Algorithm::Ed25519, Algorithm::EcdsaP256Sha256] {
        let k = key(alg);
        let env = Envelope::sign(T, b"{\"a\":1}".to_vec(), &[&k]).unwrap();
        let mut payload = env.payload_unverified().to_vec();
        payload[3] ^= 0x01;
        let mut v = json_of(&env);
        v["payload"] = base64(&payload).into();
        assert_eq!(
            verifier(&[&k], 1).verify(&reparse(&v), T, at()),
            Err(VerifyError::ThresholdNotMet {
                verified: 0,
                threshold: 1
            })
        );
    }
}

fn base64(b: &[u8]) -> String {
    use base64ct::Encoding;
    base64ct::Base64::encode_string(b)
}

#[test]
fn signature_by_an_untrusted_key() {
    let (trusted, stranger) = (key(Algorithm::Ed25519), key(Algorithm::Ed25519));
    let env = Envelope::sign(T, b"{}".to_vec(), &[&stranger]).unwrap();
    assert_eq!(
        verifier(&[&trusted], 1).verify(&env, T, at()),
        Err(VerifyError::ThresholdNotMet {
            verified: 0,
            threshold: 1
        })
    );
}

#[test]
fn duplicated_signature_entry_counts_once() {
    let (a, b) = (key(Algorithm::Ed25519), key(Algorithm::EcdsaP256Sha256));
    let both = Envelope::sign(T, b"{}".to_vec(), &[&a, &b]).unwrap();
    assert!(verifier(&[&a, &b], 2).verify(&both, T, at()).is_ok());
    // a's signature twice would reach 2 if entries were counted.
    let twice = Envelope::sign(T, b"{}".to_vec(), &[&a, &a]).unwrap();
    assert_eq!(
        verifier(&[&a, &b], 2).verify(&twice, T, at()),
        Err(VerifyError::ThresholdNotMet {
            verified: 1,
            threshold: 2
        })
    );
}

#[test]
fn keyid_never_authenticates() {
    let (a, b, c) = (
        key(Algorithm::Ed25519),
        key(Algorithm::Ed25519),
        key(Algorithm::Ed25519),
    );
    let b_id = b.public_key().key_id();
    // c signs but claims to be b.
    let c_as_b = c.clone().with_keyid(b_id.clone());
    let env = Envelope::sign(T, b"{}".to_vec(), &[&a, &c_as_b]).unwrap();
    assert_eq!(env.signatures()[1].keyid.as_deref(), Some(b_id.as_str()));
    assert_eq!(
        verifier(&[&a, &b], 2).verify(&env, T, at()),
        Err(VerifyError::ThresholdNotMet {
            verified: 1,
            threshold: 2
        })
    );
    // A keyid naming a trusted key on a signature by that key is fine.
    let b_named = b.clone().with_keyid(b_id);
    let env = Envelope::sign(T, b"{}".to_vec(), &[&a, &b_named]).unwrap();
    assert!(verifier(&[&a, &b], 2).verify(&env, T, at()).is_ok());
}

#[test]
fn ed25519_identity_key_forgery_is_refused() {
    // The small-order "identity" key with signature (R = identity, s = 0)
    // verifies any message under non-strict Ed25519.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    assert_eq!(
        PublicKey::ed25519_from_bytes(&identity),
        Err(KeyError::WeakKey)
    );
    let jwk = serde_json::from_value(
        json!({"kty": "OKP", "crv": "Ed25519", "x": "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}),
    )
    .unwrap();
    assert_eq!(PublicKey::from_jwk(&jwk), Err(KeyError::WeakKey));
    // SPKI form as well.
    let mut spki = vec![
        0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
    ];
    spki.extend(identity);
    assert_eq!(PublicKey::from_spki_der(&spki), Err(KeyError::WeakKey));
}

#[test]
fn duplicate_and_case_variant_members() {
    let ok = r#"{"payload":"QQ==","payloadType":"t","signatures":[]}"#;
    assert!(Envelope::from_json(ok.as_bytes()).is_ok());
    let cases = [
        (
            r#"{"payload":"QQ==","payloadType":"t","signatures":[],"payload":"Qg=="}"#,
            "duplicate-member",
        ),
        (
            r#"{"payload":"QQ==","payloadType":"t","signatures":[],"Payload":"Qg=="}"#,
            "case-variant-member",
        ),
        (
            r#"{"payload":"QQ==","payloadType":"t","signatures":[],"PAYLOADTYPE":"u"}"#,
            "case-variant-member",
        ),
        // Go's EqualFold also maps U+017F to 's' and U+212A to 'k'.
        (
            "{\"payload\":\"QQ==\",\"payloadType\":\"t\",\"signatures\":[],\"\u{17f}ignatures\":[]}",
            "case-variant-member",
        ),
        (r#"{"payloadType":"t","signatures":[]}"#, "missing-member"),
        (
            r#"{"payload":"QQ==","payloadType":7,"signatures":[]}"#,
            "wrong-type",
        ),
        (
            r#"{"payload":"QQ==","payloadType":"t","signatures":{}}"#,
            "wrong-type",
        ),
        (r#"["payload"]"#, "malformed-json"),
        (
            r#"{"payload":"QQ==","payloadType":"t","signatures":[]"#,
            "malformed-json",
        ),
    ];
    for (text, kind) in cases {
        let err = Envelope::from_json(text.as_bytes()).unwrap_err();
        assert_eq!(err.kind(), kind, "{text}: {err}");
    }
    // Unknown members are ignored.
    let extra = r#"{"payload":"QQ==","payloadType":"t","signatures":[],"comment":{"x":[1]}}"#;
    assert!(Envelope::from_json(extra.as_bytes()).is_ok());
}

#[test]
fn malformed_signature_entry_leaves_good_ones_usable() {
    let k = key(Algorithm::Ed25519);
    let env = Envelope::sign(T, b"{}".to_vec(), &[&k]).unwrap();
    let mut v = json_of(&env);
    let good = v["signatures"][0].clone();
    let sig = good["sig"].clone();
    v["signatures"] = json!([
        "not an object",
        {"keyid": "x"},
        {"sig": "!!!"},
        {"sig": 5},
        {"sig": sig, "Sig": sig},
        good,
    ]);
    // The duplicate-key entry is only expressible as text.
    let text = v.to_string().replace(r#""Sig""#, r#""sig""#);
    let parsed = Envelope::from_json(text.as_bytes()).unwrap();
    assert_eq!(parsed.signatures().len(), 1);
    let rejected: Vec<usize> = parsed
        .rejected_signatures()
        .iter()
        .map(|r| r.index)
        .collect();
    assert_eq!(rejected, [0, 1, 2, 3, 4]);
    assert!(verifier(&[&k], 1).verify(&parsed, T, at()).is_ok());
}

#[test]
fn non_canonical_base64() {
    let wrap = |p: &str| format!(r#"{{"payload":"{p}","payloadType":"t","signatures":[]}}"#);
    let accept = ["aGVsbG8gd29ybGQ=", "eA==", "_-8=", "/+8="];
    for p in accept {
        assert!(Envelope::from_json(wrap(p).as_bytes()).is_ok(), "{p}");
    }
    let reject = [
        "aGVsbG8gd29ybGR=",
        "eB==",
        "aGVsbG8gd29ybGQ",
        "aGVs\\nbG8=",
        "_+8=",
        "eA=",
        "eA===",
    ];
    for p in reject {
        assert!(
            matches!(
                Envelope::from_json(wrap(p).as_bytes()),
                Err(EnvelopeError::InvalidBase64)
            ),
            "{p}"
        );
    }
}

#[test]
fn oversized_inputs() {
    let limits = Limits::default()
        .with_max_envelope_bytes(4096)
        .with_max_payload_bytes(1000)
        .with_max_signatures(2);
    let k = key(Algorithm::Ed25519);
    let fits = Envelope::sign(T, vec![b'a'; 1000], &[&k, &k]).unwrap();
    assert!(Envelope::from_json_with(fits.to_json().as_bytes(), &limits).is_ok());
    let payload = Envelope::sign(T, vec![b'a'; 1003], &[&k]).unwrap();
    assert!(matches!(
        Envelope::from_json_with(payload.to_json().as_bytes(), &limits),
        Err(EnvelopeError::PayloadTooLarge { .. })
    ));
    let sigs = Envelope::sign(T, vec![], &[&k, &k, &k]).unwrap();
    assert!(matches!(
        Envelope::from_json_with(sigs.to_json().as_bytes(), &limits),
        Err(EnvelopeError::TooManySignatures { count: 3, limit: 2 })
    ));
    let big = Envelope::sign(T, vec![b'a'; 3000], &[&k]).unwrap();
    assert!(matches!(
        Envelope::from_json_with(big.to_json().as_bytes(), &limits),
        Err(EnvelopeError::EnvelopeTooLarge { .. })
    ));
}

fn window_set(k: &SigningKey, from: &str, until: Option<&str>, status: KeyStatus) -> KeySet {
    let mut t = TrustedKey::always(k.public_key().clone())
        .with_id("k1")
        .from(Timestamp::parse_rfc3339(from).unwrap())
        .with_status(status);
    if let Some(u) = until {
        t = t.until(Timestamp::parse_rfc3339(u).unwrap());
    }
    KeySet::new(1, vec![t])
}

#[test]
fn key_outside_its_validity_window() {
    let k = key(Algorithm::EcdsaP256Sha256);
    let env = Envelope::sign(T, b"{}".to_vec(), &[&k]).unwrap();
    let set = window_set(
        &k,
        "2026-01-01T00:00:00Z",
        Some("2026-12-31T23:59:59Z"),
        KeyStatus::Active,
    );
    // Round trip through the published JSON document.
    let set = KeySet::from_json(set.to_json_pretty().as_bytes()).unwrap();
    let v = Verifier::from_key_set(&set, 1).unwrap();
    let t = |s: &str| Timestamp::parse_rfc3339(s).unwrap();
    for inside in [
        "2026-01-01T00:00:00Z",
        "2026-06-01T00:00:00Z",
        "2026-12-31T23:59:59Z",
    ] {
        assert_eq!(
            v.verify(&env, T, t(inside)).unwrap().key_ids(),
            ["k1"],
            "{inside}"
        );
    }
    for outside in ["2025-12-31T23:59:59Z", "2027-01-01T00:00:00Z"] {
        assert_eq!(
            v.verify(&env, T, t(outside)),
            Err(VerifyError::ThresholdNotMet {
                verified: 0,
                threshold: 1
            }),
            "{outside}"
        );
    }
}

#[test]
fn retired_keys_verify_inside_their_window_revoked_keys_never() {
    let k = key(Algorithm::Ed25519);
    let env = Envelope::sign(T, b"{}".to_vec(), &[&k]).unwrap();
    let retired = window_set(
        &k,
        "2026-01-01T00:00:00Z",
        Some("2026-12-31T00:00:00Z"),
        KeyStatus::Retired,
    );
    let retired = KeySet::from_json(retired.to_json_pretty().as_bytes()).unwrap();
    assert!(
        Verifier::from_key_set(&retired, 1)
            .unwrap()
            .verify(&env, T, at())
            .is_ok()
    );
    let revoked = window_set(&k, "2026-01-01T00:00:00Z", None, KeyStatus::Revoked);
    let revoked = KeySet::from_json(revoked.to_json_pretty().as_bytes()).unwrap();
    assert_eq!(revoked.keys[0].status, KeyStatus::Revoked);
    assert_eq!(
        Verifier::from_key_set(&revoked, 1)
            .unwrap()
            .verify(&env, T, at()),
        Err(VerifyError::ThresholdNotMet {
            verified: 0,
            threshold: 1
        })
    );
}

#[test]
fn trust_sets_and_thresholds_that_cannot_be_right() {
    let k = key(Algorithm::Ed25519);
    let pk = k.public_key().clone();
    assert_eq!(
        Verifier::from_keys([pk.clone(), pk.clone()], 1).unwrap_err(),
        VerifierError::DuplicateKey {
            first: 0,
            second: 1
        }
    );
    assert_eq!(
        Verifier::from_keys([pk.clone()], 0).unwrap_err(),
        VerifierError::ZeroThreshold
    );
    assert!(matches!(
        Verifier::from_keys([pk], 2),
        Err(VerifierError::ThresholdUnreachable {
            threshold: 2,
            keys: 1
        })
    ));
    // A key set listing one key twice is refused at parse time.
    let mut set = window_set(&k, "2026-01-01T00:00:00Z", None, KeyStatus::Active);
    set.keys.push(set.keys[0].clone());
    assert!(KeySet::from_json(set.to_json_pretty().as_bytes()).is_err());
    // And an inverted window.
    let inverted = window_set(
        &k,
        "2026-02-01T00:00:00Z",
        Some("2026-01-01T00:00:00Z"),
        KeyStatus::Active,
    );
    assert!(KeySet::from_json(inverted.to_json_pretty().as_bytes()).is_err());
}

#[test]
fn no_signatures_at_all() {
    let k = key(Algorithm::Ed25519);
    let env = Envelope::new(T, b"{}".to_vec());
    assert_eq!(
        verifier(&[&k], 1).verify(&env, T, at()),
        Err(VerifyError::NoSignatures)
    );
}

#[test]
fn statement_validation() {
    let good = Statement::new(
        Subject {
            name: "a".into(),
            digest: [("sha256".into(), "ab".repeat(32))].into(),
            annotations: Default::default(),
        },
        "https://slsa.dev/provenance/v1",
        json!({}),
    );
    assert!(Statement::from_json(&good.to_json()).is_ok());
    let mut s = good.clone();
    s.subject.clear();
    assert!(matches!(s.validate(), Err(StatementError::NoSubject)));
    let mut s = good.clone();
    s.subject[0].digest = [("sha256".into(), "AB".repeat(32))].into();
    assert!(matches!(
        s.validate(),
        Err(StatementError::BadDigest { .. })
    ));
    let mut s = good.clone();
    s.subject[0].digest = [("sha512".into(), "ab".repeat(32))].into();
    assert!(matches!(
        s.validate(),
        Err(StatementError::BadDigest { len: 128, .. })
    ));
    let mut s = good.clone();
    s.subject[0].digest.clear();
    assert!(matches!(s.validate(), Err(StatementError::NoDigest(0))));
    let mut s = good.clone();
    s.type_ = "https://in-toto.io/Statement/v0.1".into();
    assert!(matches!(s.validate(), Err(StatementError::WrongType(_))));
    let mut s = good;
    s.subject[0].digest = [("gitCommit".into(), "abc123".into())].into();
    assert!(s.validate().is_ok());
}

#[test]
fn ed25519_private_keys_are_written_as_pkcs8_v1() {
    // RFC 8410 §7's example: version 0, the Ed25519 OID, the 32-byte seed —
    // 48 bytes, no public key (v2 is refused by OpenSSL 3.0 and Python
    // `cryptography`). The same seed gives exactly those bytes.
    let seed: [u8; 32] = [
        0xd4, 0xee, 0x72, 0xdb, 0xf9, 0x13, 0x58, 0x4a, 0xd5, 0xb6, 0xd8, 0xf1, 0xf7, 0x69, 0xf8,
        0xad, 0x3a, 0xfe, 0x7c, 0x28, 0xcb, 0xf1, 0xd4, 0xfb, 0xe0, 0x97, 0xa8, 0x8f, 0x44, 0x75,
        0x58, 0x42,
    ];
    let pem = SigningKey::ed25519_from_seed(&seed).to_pkcs8_pem().unwrap();
    assert_eq!(
        pem,
        "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n-----END PRIVATE KEY-----\n"
    );
    assert_eq!(
        SigningKey::from_pkcs8_pem(&pem).unwrap().public_key(),
        SigningKey::ed25519_from_seed(&seed).public_key()
    );
}

#[test]
fn private_keys_round_trip_through_pkcs8_pem() {
    for alg in [Algorithm::Ed25519, Algorithm::EcdsaP256Sha256] {
        let k = key(alg);
        let pem = k.to_pkcs8_pem().unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        let back = SigningKey::from_pkcs8_pem(&pem).unwrap();
        assert_eq!(back.public_key(), k.public_key());
        let pub_back = PublicKey::from_pem(&k.public_key().to_pem()).unwrap();
        assert_eq!(&pub_back, k.public_key());
        let jwk_back = PublicKey::from_jwk(&k.public_key().to_jwk()).unwrap();
        assert_eq!(&jwk_back, k.public_key());
    }
    assert!(matches!(
        SigningKey::from_pkcs8_pem("-----BEGIN PUBLIC KEY-----\nAA==\n-----END PUBLIC KEY-----\n"),
        Err(KeyError::PemLabel {
            expected: "PRIVATE KEY",
            ..
        })
    ));
    assert!(matches!(
        PublicKey::from_pem("not pem at all"),
        Err(KeyError::Pem(_))
    ));
    // A JWK: each missing or malformed member is named.
    let mut jwk = SigningKey::generate(attest_dsse::Algorithm::EcdsaP256Sha256)
        .unwrap()
        .public_key()
        .to_jwk();
    let y = jwk.y.take();
    assert_eq!(PublicKey::from_jwk(&jwk), Err(KeyError::JwkMissing("y")));
    jwk.y = y;
    jwk.x = Some("AAAA".into());
    assert_eq!(PublicKey::from_jwk(&jwk), Err(KeyError::JwkMember("x")));
    jwk.crv = "P-192".into();
    assert!(matches!(
        PublicKey::from_jwk(&jwk),
        Err(KeyError::JwkUnsupported { .. })
    ));
}

#[cfg(feature = "batch")]
#[test]
fn batch_verification_gives_exactly_the_single_results() {
    let keys: Vec<SigningKey> = (0..3u8)
        .map(|i| {
            let k = SigningKey::ed25519_from_seed(&[i + 1; 32]);
            let id = k.public_key().key_id();
            k.with_keyid(id)
        })
        .collect();
    let stranger = key(Algorithm::Ed25519);
    let p256 = key(Algorithm::EcdsaP256Sha256);
    let mut trusted: Vec<PublicKey> = keys.iter().map(|k| k.public_key().clone()).collect();
    trusted.push(p256.public_key().clone());
    let verifier = Verifier::from_keys(trusted, 1).unwrap();
    let mut envs = vec![
        Envelope::sign(T, b"0".to_vec(), &[&keys[0]]).unwrap(),
        Envelope::sign(T, b"1".to_vec(), &[&keys[1], &keys[2]]).unwrap(),
        Envelope::sign(T, b"2".to_vec(), &[&p256]).unwrap(),
        Envelope::sign(T, b"3".to_vec(), &[&stranger]).unwrap(),
        Envelope::sign("text/plain", b"4".to_vec(), &[&keys[0]]).unwrap(),
        Envelope::new(T, b"5".to_vec()),
        // A stranger claiming a trusted keyid.
        Envelope::sign(
            T,
            b"6".to_vec(),
            &[&stranger.clone().with_keyid(keys[0].public_key().key_id())],
        )
        .unwrap(),
    ];
    let single: Vec<_> = envs.iter().map(|e| verifier.verify(e, T, at())).collect();
    assert!(single[0].is_ok() && single[1].is_ok() && single[2].is_ok());
    assert!(single[3].is_err() && single[4].is_err() && single[5].is_err() && single[6].is_err());
    assert_eq!(verifier.verify_batch_ed25519(&envs, T, at()), single);
    // With a bad signature in the batch, the fallback still gives the same answers.
    let mut v = json_of(&envs[0]);
    v["payload"] = base64(b"tampered").into();
    envs.push(reparse(&v));
    let single: Vec<_> = envs.iter().map(|e| verifier.verify(e, T, at())).collect();
    assert!(single[7].is_err());
    assert_eq!(verifier.verify_batch_ed25519(&envs, T, at()), single);
}

/// What this project signs is held to in-toto's types: a `predicateType`
/// that is an absolute URI and an object predicate (issue 30, item 8);
/// statements read back are held only to `validate`.
#[test]
fn a_statement_to_sign_needs_a_uri_type_and_an_object_predicate() {
    let subject = || Subject {
        name: "app".into(),
        digest: [("sha256".into(), "ab".repeat(32))].into(),
        annotations: Default::default(),
    };
    let ok = |t: &str, p: serde_json::Value| Statement::new(subject(), t, p).validate_for_signing();
    ok(
        "https://slsa.dev/provenance/v1",
        serde_json::json!({"a": 1}),
    )
    .unwrap();
    ok("urn:example:thing", serde_json::Value::Null).unwrap();
    for bad in [
        "not a uri",
        "provenance",
        "://x",
        "1https://x",
        "https://x y",
        ":x",
        "https:",
    ] {
        let err = ok(bad, serde_json::json!({})).unwrap_err();
        assert!(
            matches!(err, StatementError::PredicateTypeNotUri(_)),
            "{bad}: {err:?}"
        );
        // The reading rules still accept it (history signed before).
        Statement::new(subject(), bad, serde_json::json!({}))
            .validate()
            .unwrap();
    }
    for bad in [
        serde_json::json!([1, 2]),
        serde_json::json!("text"),
        serde_json::json!(7),
    ] {
        let err = ok("https://slsa.dev/provenance/v1", bad.clone()).unwrap_err();
        assert!(
            matches!(err, StatementError::PredicateNotObject),
            "{bad}: {err:?}"
        );
    }
}
