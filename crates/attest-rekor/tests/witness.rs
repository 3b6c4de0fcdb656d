//! Witness cosignatures (C2SP tlog-cosignature v1): known answers made
//! outside this code (`tests/vectors/witness/make_vectors.py`), the spec's
//! own example, and a test per field where only that field is wrong.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use attest_dsse::SigningKey;
use attest_rekor::witness::{
    CosignatureProblem, Cosigner, WitnessError, WitnessKey, WitnessPolicy, cosigned_message,
};
use attest_rekor::{NoteSignature, SignedNote};

const NOW: i64 = 1_800_000_000;

fn vectors() -> serde_json::Value {
    serde_json::from_str(include_str!("vectors/witness/cosignature_v1.json")).unwrap()
}

fn seed(hex: &str) -> [u8; 32] {
    base16ct::lower::decode_vec(hex)
        .unwrap()
        .try_into()
        .unwrap()
}

const CHECKPOINT: &str = "attestlog.local - 7\n5\nOTExMTExMTExMTExMTExMTExMTExMTExMTExMTExMTE=\n";
const OTHER: &str = "attestlog.local - 7\n5\nOTIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjI=\n";

/// The checkpoint with a (fake) log signature line and the given lines.
fn note(text: &str, lines: &[NoteSignature]) -> SignedNote {
    let mut n =
        SignedNote::parse(&format!("{text}\n\u{2014} attestlog.local AAAAAAAAAAAA\n")).unwrap();
    for l in lines {
        assert!(n.push_signature(l.clone()));
    }
    n
}

fn cosigner(name: &str, seed: u8) -> Cosigner {
    Cosigner::new(name, SigningKey::ed25519_from_seed(&[seed; 32])).unwrap()
}

fn policy(ws: &[&Cosigner], k: usize) -> WitnessPolicy {
    WitnessPolicy::new(ws.iter().map(|c| c.witness().clone()).collect(), k).unwrap()
}

#[test]
fn known_answers_made_outside_this_code() {
    let v = vectors();
    for c in v["cosignatures"].as_array().unwrap() {
        let s = |k: &str| c[k].as_str().unwrap().to_owned();
        let time = c["time"].as_u64().unwrap();
        let signer = Cosigner::new(
            s("name"),
            SigningKey::ed25519_from_seed(&seed(&s("seed_hex"))),
        )
        .unwrap();
        assert_eq!(signer.witness().to_vkey(), s("vkey"));
        let parsed = WitnessKey::from_vkey(&s("vkey")).unwrap();
        assert_eq!(&parsed, signer.witness());
        assert_eq!(
            base16ct::lower::encode_string(&parsed.key_id()),
            s("key_id_hex")
        );
        assert_eq!(
            cosigned_message(&s("checkpoint"), time),
            s("message").as_bytes()
        );
        let line = signer.cosign(&s("checkpoint"), time).unwrap();
        assert_eq!(line.to_line(), s("line"));
        // The line as a verifier receives it.
        let received = NoteSignature::parse_line(&s("line")).unwrap();
        let n = note(&s("checkpoint"), &[received]);
        let ok = WitnessPolicy::new(vec![parsed], 1)
            .unwrap()
            .verify(&n, NOW)
            .unwrap();
        assert_eq!(ok.len(), 1);
        assert_eq!(ok[0].time, time);
    }
}

#[test]
fn the_spec_example_line_carries_its_key_id_and_time() {
    let v = vectors();
    let ex = &v["spec_example"];
    let n = SignedNote::parse(ex["note"].as_str().unwrap()).unwrap();
    let w = &n.signatures()[1];
    assert_eq!(w.name, "witness.example.com/w1");
    assert_eq!(
        base16ct::lower::encode_string(&w.key_id),
        ex["witness_key_id_hex"].as_str().unwrap()
    );
    assert_eq!(w.signature.len(), 72);
    let time = u64::from_be_bytes(w.signature[..8].try_into().unwrap());
    assert_eq!(time, ex["witness_time"].as_u64().unwrap());
    // The spec's message for that time is ours.
    let text = n.text();
    let msg = String::from_utf8(cosigned_message(text, time)).unwrap();
    assert_eq!(msg, format!("cosignature/v1\ntime 1679315147\n{text}"));
}

#[test]
fn two_of_two_and_two_of_three() {
    let (a, b, c) = (
        cosigner("w.example/a", 1),
        cosigner("w.example/b", 2),
        cosigner("w.example/c", 3),
    );
    let la = a.cosign(CHECKPOINT, 100).unwrap();
    let lb = b.cosign(CHECKPOINT, 200).unwrap();
    let both = note(CHECKPOINT, &[la.clone(), lb.clone()]);
    let got = policy(&[&a, &b], 2).verify(&both, NOW).unwrap();
    assert_eq!(
        got.iter().map(|c| c.witness.as_str()).collect::<Vec<_>>(),
        ["w.example/a", "w.example/b"]
    );
    assert!(policy(&[&a, &b, &c], 2).verify(&both, NOW).is_ok());
    let err = policy(&[&a, &b, &c], 3).verify(&both, NOW).unwrap_err();
    assert!(
        matches!(
            err,
            WitnessError::Quorum {
                needed: 3,
                got: 2,
                ..
            }
        ),
        "{err}"
    );
    let only_a = note(CHECKPOINT, &[la]);
    let err = policy(&[&a, &b], 2).verify(&only_a, NOW).unwrap_err();
    assert!(
        matches!(
            err,
            WitnessError::Quorum {
                needed: 2,
                got: 1,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(err.kind(), "witness-quorum-not-met");
}

#[test]
fn one_witness_signing_twice_counts_once() {
    let (a, b) = (cosigner("w.example/a", 1), cosigner("w.example/b", 2));
    let twice = note(
        CHECKPOINT,
        &[
            a.cosign(CHECKPOINT, 100).unwrap(),
            a.cosign(CHECKPOINT, 101).unwrap(),
        ],
    );
    let err = policy(&[&a, &b], 2).verify(&twice, NOW).unwrap_err();
    assert!(matches!(err, WitnessError::Quorum { got: 1, .. }), "{err}");
    let one = policy(&[&a], 1).verify(&twice, NOW).unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].time, 101, "the latest valid line");
}

#[test]
fn a_cosignature_over_another_checkpoint_does_not_count() {
    let a = cosigner("w.example/a", 1);
    let moved = note(CHECKPOINT, &[a.cosign(OTHER, 100).unwrap()]);
    let err = policy(&[&a], 1).verify(&moved, NOW).unwrap_err();
    let WitnessError::Quorum {
        got: 0, problems, ..
    } = err
    else {
        panic!("{err}")
    };
    assert!(
        matches!(&problems[..], [CosignatureProblem::BadSignature { .. }]),
        "{problems:?}"
    );
}

#[test]
fn a_swapped_witness_key_is_not_the_witness() {
    // A line signed by another key under the witness's name: another key
    // id, so it is not the witness's line at all.
    let a = cosigner("w.example/a", 1);
    let impostor = cosigner("w.example/a", 9);
    let n = note(CHECKPOINT, &[impostor.cosign(CHECKPOINT, 100).unwrap()]);
    let err = policy(&[&a], 1).verify(&n, NOW).unwrap_err();
    assert!(
        matches!(err, WitnessError::Quorum { got: 0, ref problems, .. } if problems.is_empty()),
        "{err}"
    );
    // The impostor's signature under the witness's key id: a bad signature.
    let mut forged = impostor.cosign(CHECKPOINT, 100).unwrap();
    forged.key_id = a.witness().key_id();
    let err = policy(&[&a], 1)
        .verify(&note(CHECKPOINT, &[forged]), NOW)
        .unwrap_err();
    assert!(
        matches!(err, WitnessError::Quorum { got: 0, ref problems, .. }
        if matches!(problems[..], [CosignatureProblem::BadSignature { .. }])),
        "{err}"
    );
}

/// Each field of a valid line mutated alone: the line no longer counts.
#[test]
fn every_field_of_the_line_mutated_alone_fails() {
    let a = cosigner("w.example/a", 1);
    let good = a.cosign(CHECKPOINT, 1_700_000_000).unwrap();
    let p = policy(&[&a], 1);
    assert!(
        p.verify(&note(CHECKPOINT, std::slice::from_ref(&good)), NOW)
            .is_ok()
    );
    let mut cases: Vec<(&str, NoteSignature)> = Vec::new();
    let mut name = good.clone();
    name.name = "w.example/b".into();
    cases.push(("name", name));
    for i in 0..4 {
        let mut s = good.clone();
        s.key_id[i] ^= 1;
        cases.push(("key id", s));
    }
    for i in [0, 3, 7] {
        let mut s = good.clone();
        s.signature[i] ^= 0x01;
        cases.push(("time", s));
    }
    for i in [8, 40, 71] {
        let mut s = good.clone();
        s.signature[i] ^= 0x80;
        cases.push(("signature", s));
    }
    let mut short = good.clone();
    short.signature.pop();
    cases.push(("length", short));
    let mut long = good.clone();
    long.signature.push(0);
    cases.push(("length", long));
    let mut zero = good.clone();
    zero.signature = vec![0; 72];
    cases.push(("zeroed", zero));
    for (what, line) in cases {
        let r = p.verify(&note(CHECKPOINT, &[line]), NOW);
        assert!(
            matches!(r, Err(WitnessError::Quorum { got: 0, .. })),
            "{what}: {r:?}"
        );
    }
}

#[test]
fn a_cosignature_from_the_future_fails_beyond_the_skew() {
    let a = cosigner("w.example/a", 1);
    let p = policy(&[&a], 1);
    let at = |t: u64| note(CHECKPOINT, &[a.cosign(CHECKPOINT, t).unwrap()]);
    let now = u64::try_from(NOW).unwrap();
    assert!(
        p.verify(&at(now + 300), NOW).is_ok(),
        "within the default skew"
    );
    let err = p.verify(&at(now + 301), NOW).unwrap_err();
    let WitnessError::Quorum { problems, .. } = &err else {
        panic!("{err}")
    };
    assert!(
        matches!(problems[..], [CosignatureProblem::FromTheFuture { .. }]),
        "{err}"
    );
    assert!(p.clone().with_skew(0).verify(&at(now + 1), NOW).is_err());
    // A time beyond 2^63 - 1 is neither made nor accepted.
    assert_eq!(
        a.cosign(CHECKPOINT, 1 << 63).unwrap_err(),
        WitnessError::TimeOutOfRange(1 << 63)
    );
    let mut huge = a.cosign(CHECKPOINT, 5).unwrap();
    huge.signature[..8].copy_from_slice(&u64::MAX.to_be_bytes());
    let err = p.verify(&note(CHECKPOINT, &[huge]), NOW).unwrap_err();
    let WitnessError::Quorum { problems, .. } = &err else {
        panic!("{err}")
    };
    assert!(
        matches!(problems[..], [CosignatureProblem::TimeOutOfRange { .. }]),
        "{err}"
    );
}

#[test]
fn an_appended_bad_line_does_not_veto_a_good_one() {
    let a = cosigner("w.example/a", 1);
    let mut bad = a.cosign(CHECKPOINT, 100).unwrap();
    bad.signature[20] ^= 1;
    let n = note(CHECKPOINT, &[bad, a.cosign(CHECKPOINT, 100).unwrap()]);
    assert_eq!(policy(&[&a], 1).verify(&n, NOW).unwrap().len(), 1);
}

#[test]
fn policies_that_cannot_mean_anything_are_refused() {
    let (a, b) = (cosigner("w.example/a", 1), cosigner("w.example/b", 2));
    let ws = vec![a.witness().clone(), b.witness().clone()];
    assert!(matches!(
        WitnessPolicy::new(ws.clone(), 0),
        Err(WitnessError::Threshold { .. })
    ));
    assert!(matches!(
        WitnessPolicy::new(ws, 3),
        Err(WitnessError::Threshold { .. })
    ));
    assert!(matches!(
        WitnessPolicy::new(vec![], 1),
        Err(WitnessError::Threshold { .. })
    ));
    let same_key_other_name = WitnessKey::new("w.example/a2", a.witness().key().clone()).unwrap();
    let r = WitnessPolicy::new(vec![a.witness().clone(), same_key_other_name], 2);
    assert!(matches!(r, Err(WitnessError::DuplicateWitness(_))), "{r:?}");
    let same_name = cosigner("w.example/a", 5);
    let r = WitnessPolicy::new(vec![a.witness().clone(), same_name.witness().clone()], 2);
    assert!(matches!(r, Err(WitnessError::DuplicateWitness(_))), "{r:?}");
}

#[test]
fn witness_keys_and_names_are_checked() {
    let p256 = SigningKey::generate(attest_dsse::Algorithm::EcdsaP256Sha256).unwrap();
    assert!(matches!(
        WitnessKey::new("w", p256.public_key().clone()),
        Err(WitnessError::NotEd25519 { .. })
    ));
    for bad in ["", "has space", "a+b", "tab\there"] {
        assert!(
            matches!(
                Cosigner::new(bad, SigningKey::ed25519_from_seed(&[1; 32])),
                Err(WitnessError::BadName(_))
            ),
            "{bad:?}"
        );
    }
    let a = cosigner("w.example/a", 1);
    let vkey = a.witness().to_vkey();
    let (name, rest) = vkey.split_once('+').unwrap();
    let (id, key) = rest.split_once('+').unwrap();
    let bad_vkeys = [
        format!("{name}+{id}"),
        format!("{name}+00000000+{key}"),
        format!("other.example+{id}+{key}"),
        format!("{name}+{id}+not base64"),
        // A signed-note (0x01) key is not a cosignature/v1 (0x04) key.
        format!("{name}+{id}+{}", {
            use base64ct::Encoding;
            let mut b = base64ct::Base64::decode_vec(key).unwrap();
            b[0] = 0x01;
            base64ct::Base64::encode_string(&b)
        }),
    ];
    for v in bad_vkeys {
        assert!(WitnessKey::from_vkey(&v).is_err(), "{v}");
    }
    assert!(a.cosign("not a checkpoint\n", 1).is_err());
}
