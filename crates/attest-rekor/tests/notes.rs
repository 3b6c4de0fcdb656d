//! Signed notes: real Rekor v1 and v2 checkpoints, the C2SP example, and a
//! negative case per rule.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use attest_dsse::{Algorithm, PublicKey, SigningKey};
use attest_rekor::{EntryId, EntryIdError, NoteError, NoteVerifier, SignedNote};
use base64ct::{Base64, Encoding};
use proptest::prelude::*;
use serde_json::Value;

fn load(name: &str) -> Value {
    let path = attestlog_testkit::vector_path(name);
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn checkpoint_of(bundle: &str) -> String {
    load(bundle)["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["checkpoint"]["envelope"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn rekor_v1() -> NoteVerifier {
    let pem = std::fs::read_to_string(attestlog_testkit::vector_path("rekor.sigstore.dev.pub.pem"))
        .unwrap();
    NoteVerifier::rekor_v1("rekor.sigstore.dev", PublicKey::from_pem(&pem).unwrap())
}

fn staging_v2() -> NoteVerifier {
    let spki =
        Base64::decode_vec("MCowBQYDK2VwAyEAlD3dVc8yaP25mPtT/sJ59D3LLxGBgW/qYrM6x6KmOqk=").unwrap();
    NoteVerifier::c2sp(
        "log2025-alpha3.rekor.sigstage.dev",
        PublicKey::from_spki_der(&spki).unwrap(),
    )
}

#[test]
fn production_v1_checkpoints_verify() {
    let v = rekor_v1();
    // Key hint c0d23d6a = the first 4 bytes of the v1 log id.
    assert_eq!(v.key_id(), [0xc0, 0xd2, 0x3d, 0x6a]);
    for bundle in [
        "prod-v1-dsse-v001.sigstore.json",
        "prod-v1-dsse-v001-tsa.sigstore.json",
        "prod-v1-intoto-v002.sigstore.json",
        "prod-v1-hashedrekord-v001-pubkey.sigstore.json",
    ] {
        let text = checkpoint_of(bundle);
        let note = SignedNote::parse(&text).unwrap();
        assert_eq!(
            note.verify(std::slice::from_ref(&v)).unwrap(),
            ["rekor.sigstore.dev"],
            "{bundle}"
        );
        let cp = note.checkpoint().unwrap();
        assert!(cp.origin().starts_with("rekor.sigstore.dev - "));
        assert_eq!(note.to_text(), text, "round trip {bundle}");
    }
    // The checkpoint with an extension line keeps it.
    let note = SignedNote::parse(&checkpoint_of("prod-v1-intoto-v002.sigstore.json")).unwrap();
    let cp = note.checkpoint().unwrap();
    assert_eq!(cp.size(), 27_657_875);
    assert_eq!(
        cp.extensions().collect::<Vec<_>>(),
        ["Timestamp: 1692374735595899989"]
    );
}

#[test]
fn staging_v2_checkpoint_with_witness_cosignatures() {
    let text = checkpoint_of("staging-v2-dsse-as-hashedrekord-v002.sigstore.json");
    let note = SignedNote::parse(&text).unwrap();
    assert_eq!(note.signatures().len(), 4);
    let v = staging_v2();
    // The C2SP Ed25519 key id is the first 4 bytes of the v2 log id.
    let log_id = Base64::decode_vec("09OnDKEw7/hpZiYVPoTRzRbglHk0sylsUovegnRUlJY=").unwrap();
    assert_eq!(v.key_id(), log_id[..4]);
    // The three witness lines are unknown and skipped.
    assert_eq!(
        note.verify(&[v]).unwrap(),
        ["log2025-alpha3.rekor.sigstage.dev"]
    );
    assert_eq!(note.checkpoint().unwrap().size(), 4_026_479);
}

#[test]
fn c2sp_example_note() {
    let d = load("c2sp_note_and_rekor_v2_examples.json");
    let ex = &d["signed_note_ed25519"];
    let v = NoteVerifier::from_vkey(ex["vkey"].as_str().unwrap()).unwrap();
    let note = SignedNote::parse(ex["note"].as_str().unwrap()).unwrap();
    assert_eq!(note.text(), ex["signed_text"].as_str().unwrap());
    assert_eq!(note.verify(&[v]).unwrap(), ["example.com/foo"]);
    // A note whose text has a blank line: the last one splits.
    let other = SignedNote::parse(d["signed_note_unknown_key"]["note"].as_str().unwrap()).unwrap();
    assert!(other.text().contains("\n\ned"));
    assert_eq!(other.signatures()[0].name, "quasimodo.example/salvatore");
    // A vkey whose id does not match its key is refused.
    let vkey = ex["vkey"]
        .as_str()
        .unwrap()
        .replace("+530d903a+", "+530d903b+");
    assert_eq!(
        NoteVerifier::from_vkey(&vkey),
        Err(NoteError::MalformedVerifierKey)
    );
}

#[test]
fn every_rule_rejects_for_its_reason() {
    let text = checkpoint_of("prod-v1-dsse-v001.sigstore.json");
    let v = rekor_v1();
    // A changed byte of the signed text: the known key's signature fails.
    let tampered = text.replacen("\n3", "\n4", 1);
    assert!(matches!(
        SignedNote::parse(&tampered)
            .unwrap()
            .verify(std::slice::from_ref(&v)),
        Err(NoteError::BadSignature { .. })
    ));
    // Another key under the same name and key id: fails.
    let other = SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
    let impostor = NoteVerifier::rekor_v1("rekor.sigstore.dev", other.public_key().clone());
    assert_eq!(
        SignedNote::parse(&text).unwrap().verify(&[impostor]),
        Err(NoteError::NoKnownSignature)
    );
    // The same key under another name: the line is found by its key id
    // (the name on it is not signed), so it verifies...
    let renamed = NoteVerifier::rekor_v1("rekor.example", v.key().clone());
    assert_eq!(
        SignedNote::parse(&text)
            .unwrap()
            .verify(std::slice::from_ref(&renamed)),
        Ok(vec!["rekor.example".to_owned()])
    );
    // ... but not over tampered text: under another name a failing line is
    // taken for another key sharing the id, and nothing known verifies.
    assert_eq!(
        SignedNote::parse(&tampered).unwrap().verify(&[renamed]),
        Err(NoteError::NoKnownSignature)
    );
    // Shapes.
    assert_eq!(
        SignedNote::parse("no split\n"),
        Err(NoteError::Unsplittable)
    );
    assert_eq!(
        SignedNote::parse("a\n\n"),
        Err(NoteError::SignatureCount(0))
    );
    assert_eq!(
        SignedNote::parse("a\n\n- x AAAAAAA=\n"),
        Err(NoteError::MalformedSignature(1))
    );
    assert_eq!(
        SignedNote::parse("a\n\n\u{2014} x AAAA\n"),
        Err(NoteError::MalformedSignature(1))
    );
    assert_eq!(
        SignedNote::parse("a\r\n\n\u{2014} x AAAAAAA=\n"),
        Err(NoteError::NotText)
    );
    assert_eq!(
        SignedNote::parse("a\n\n\u{2014} x AAAAAAA="),
        Err(NoteError::Unsplittable)
    );
    let many: String = (0..101).map(|_| "\u{2014} x AAAAAAA=\n").collect();
    assert_eq!(
        SignedNote::parse(&format!("a\n\n{many}")),
        Err(NoteError::SignatureCount(101))
    );
    let sixteen: String = (0..16)
        .map(|i| format!("\u{2014} w{i} AAAAAAA=\n"))
        .collect();
    assert_eq!(
        SignedNote::parse(&format!("a\n\n{sixteen}"))
            .unwrap()
            .signatures()
            .len(),
        16
    );
}

#[test]
fn sign_and_verify_both_key_types() {
    for alg in [Algorithm::Ed25519, Algorithm::EcdsaP256Sha256] {
        let key = SigningKey::generate(alg).unwrap();
        let v = NoteVerifier::c2sp("log.example", key.public_key().clone());
        let text = "log.example\n5\nbjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=\nTimestamp: 1\n";
        let note = SignedNote::sign(text, "log.example", v.key_id(), &key).unwrap();
        let back = SignedNote::parse(&note.to_text()).unwrap();
        assert_eq!(back, note);
        assert_eq!(back.verify(&[v]).unwrap(), ["log.example"]);
    }
    let key = SigningKey::generate(Algorithm::Ed25519).unwrap();
    assert!(SignedNote::sign("a\n\nb\n", "x", [0; 4], &key).is_err());
    assert!(SignedNote::sign("no newline", "x", [0; 4], &key).is_err());
}

#[test]
fn entry_ids() {
    let uuid = "875d33538d49eb9bc3224c4868c25d06f78f566730771c4437f50962530906ae";
    let full = format!("24296fb24b8ad77a{uuid}");
    let a = EntryId::parse(&full).unwrap();
    let b = EntryId::parse(uuid).unwrap();
    assert_eq!(a, b, "compared on the leaf hash");
    assert_eq!(a.to_string(), full);
    assert_eq!(b.to_string(), uuid);
    assert_eq!(a.tree_id(), Some(0x2429_6fb2_4b8a_d77a));
    assert_eq!(
        EntryId::parse(&full.to_uppercase()).unwrap().to_string(),
        full
    );
    assert_eq!(
        EntryId::parse(&full[1..]),
        Err(EntryIdError::WrongLength(79))
    );
    assert_eq!(
        EntryId::parse(&format!("0000000000000000{uuid}")),
        Err(EntryIdError::ZeroTreeId)
    );
    assert_eq!(
        EntryId::parse(&full.replace('7', "g")),
        Err(EntryIdError::NotHex)
    );
}

proptest! {
    #[test]
    fn entry_id_round_trip(tree in proptest::option::of(1u64..), uuid in any::<[u8; 32]>()) {
        let id = EntryId::new(tree, attest_merkle::Hash(uuid));
        let back = EntryId::parse(&id.to_string()).unwrap();
        prop_assert_eq!(back, id);
        prop_assert_eq!(back.tree_id(), tree);
    }

    #[test]
    fn signed_note_round_trip(
        origin in "[a-z.]{1,20}", size in any::<u64>(), root in any::<[u8; 32]>(),
        witnesses in proptest::collection::vec(("[a-z./]{1,12}", any::<[u8; 8]>()), 0..4),
    ) {
        let key = SigningKey::ed25519_from_seed(&[3; 32]);
        let v = NoteVerifier::c2sp(origin.clone(), key.public_key().clone());
        let text = format!("{origin}\n{size}\n{}\n", Base64::encode_string(&root));
        let note = SignedNote::sign(&text, &origin, v.key_id(), &key).unwrap();
        let mut full = note.to_text();
        for (name, blob) in &witnesses {
            full.push_str(&format!("\u{2014} {name} {}\n", Base64::encode_string(blob)));
        }
        let parsed = SignedNote::parse(&full).unwrap();
        prop_assert_eq!(parsed.text(), text.as_str());
        prop_assert_eq!(parsed.to_text(), full);
        prop_assert!(parsed.verify(&[v]).is_ok());
        prop_assert_eq!(parsed.checkpoint().unwrap().size(), size);
    }

    #[test]
    fn note_parser_never_panics(s in "\\PC{0,200}") {
        let _ = SignedNote::parse(&s);
    }
}

/// The log-name trap: the embedded log signs as `attestlog.local`, a
/// client calls it by its URL's host; the signature is found by key id. A
/// pinned name is checked against the signed origin line instead.
#[test]
fn a_note_is_found_by_key_id_and_a_pinned_name_by_its_origin() {
    use attest_rekor::verify::hazmat::verify_checkpoint;
    use attest_rekor::{Check, Reason, TrustedLog, origin_names};
    let key = SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
    let log = TrustedLog::rekor_v1("http://127.0.0.1:3000", key.public_key().clone());
    let sign = |origin: &str, as_name: &str| {
        let text = format!("{origin}\n5\nbjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=\n");
        SignedNote::sign(&text, as_name, log.note_verifier().key_id(), &key)
            .unwrap()
            .to_text()
    };
    let served = sign("attestlog.local - 42", "attestlog.local");
    // No pin: verified, whatever the line's name.
    let cp = verify_checkpoint(&served, &log).unwrap();
    assert_eq!(cp.origin, "attestlog.local - 42");
    // Pinned to the right name: verified; to another: the origin is named.
    let pinned = log.clone().pinned_name("attestlog.local");
    assert!(verify_checkpoint(&served, &pinned).is_ok());
    let wrong = log.clone().pinned_name("rekor.example");
    let e = verify_checkpoint(&served, &wrong).unwrap_err();
    assert_eq!(e.check, Check::CheckpointSignature);
    assert!(matches!(e.reason, Reason::UnexpectedOrigin { .. }));
    assert!(
        e.to_string()
            .contains("origin is \"attestlog.local - 42\", expected \"rekor.example\""),
        "{e}"
    );
    // A pinned name does not match a longer name, or a tree id that is
    // not a number.
    for (origin, ok) in [
        ("attestlog.local", true),
        ("attestlog.local - 1", true),
        ("attestlog.local - ", false),
        ("attestlog.local - 1x", false),
        ("attestlog.localhost - 1", false),
        ("attestlog.local-1", false),
        ("evil.attestlog.local - 1", false),
    ] {
        assert_eq!(origin_names(origin, "attestlog.local"), ok, "{origin}");
    }
    // Another key cannot stand in under the pinned name.
    let other = SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
    let forged = SignedNote::sign(
        "attestlog.local - 42\n5\nbjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=\n",
        "attestlog.local",
        log.note_verifier().key_id(),
        &other,
    )
    .unwrap()
    .to_text();
    assert!(verify_checkpoint(&forged, &pinned).is_err());
}
