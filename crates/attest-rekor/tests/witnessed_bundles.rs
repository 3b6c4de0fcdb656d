//! Real Rekor v1 bundles against logs that require witness cosignatures:
//! with none, or too few, or one over another checkpoint, only the
//! `witnesses` check fails; with enough, everything passes; a log without a
//! policy ignores the added lines.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use attest_dsse::{SigningKey, Timestamp};
use attest_rekor::witness::{Cosigner, WitnessPolicy};
use attest_rekor::{Bundle, Check, Policy, SignedNote, TrustedLog};
use serde_json::Value;

mod common;
use common::{BUNDLES, artifact_of, not_passed, pinned_signer, read, trusted_logs, verifier};

fn cosigner(name: &str, seed: u8) -> Cosigner {
    Cosigner::new(name, SigningKey::ed25519_from_seed(&[seed; 32])).unwrap()
}

fn witnessed(logs: &[TrustedLog], ws: &[&Cosigner], k: usize) -> Vec<TrustedLog> {
    let policy = WitnessPolicy::new(ws.iter().map(|c| c.witness().clone()).collect(), k).unwrap();
    logs.iter()
        .cloned()
        .map(|l| l.with_witnesses(policy.clone()))
        .collect()
}

/// The bundle with `lines(text)` added to its checkpoint note.
fn cosigned(bundle: &Value, lines: impl Fn(&str) -> Vec<attest_rekor::NoteSignature>) -> Bundle {
    let mut v = bundle.clone();
    let cp = &mut v["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["checkpoint"]["envelope"];
    let mut note = SignedNote::parse(cp.as_str().unwrap()).unwrap();
    for l in lines(note.text()) {
        assert!(note.push_signature(l));
    }
    *cp = note.to_text().into();
    Bundle::from_json(v.to_string().as_bytes()).unwrap()
}

#[test]
fn only_the_witnesses_check_fails_without_enough_cosignatures() {
    let (a, b) = (cosigner("w.example/a", 1), cosigner("w.example/b", 2));
    let now = Timestamp::now();
    let t = u64::try_from(now.unix()).unwrap() - 10;
    let plain = trusted_logs();
    let two_of_two = witnessed(&plain, &[&a, &b], 2);
    // The v1 bundles (the v2 one lacks a verified time here).
    for name in &BUNDLES[..4] {
        let original: Value = serde_json::from_slice(&read(name)).unwrap();
        let parsed = Bundle::from_json(original.to_string().as_bytes()).unwrap();
        let policy = Policy::new(pinned_signer(&parsed), now);
        let artifact = artifact_of(&parsed);
        let fails =
            |logs: &[TrustedLog], b: &Bundle| match verifier(logs).verify(b, &artifact, &policy) {
                Ok(_) => Vec::new(),
                Err(e) => not_passed(&e.report),
            };
        assert!(fails(&plain, &parsed).is_empty(), "{name}");
        assert_eq!(
            fails(&two_of_two, &parsed),
            [Check::Witnesses],
            "{name}: no cosignature"
        );
        let both = cosigned(&original, |text| {
            vec![a.cosign(text, t).unwrap(), b.cosign(text, t).unwrap()]
        });
        assert!(fails(&two_of_two, &both).is_empty(), "{name}: 2 of 2");
        assert!(
            fails(&plain, &both).is_empty(),
            "{name}: a log without a policy ignores them"
        );
        let one = cosigned(&original, |text| vec![a.cosign(text, t).unwrap()]);
        assert_eq!(
            fails(&two_of_two, &one),
            [Check::Witnesses],
            "{name}: 1 of 2"
        );
        assert!(
            fails(&witnessed(&plain, &[&a, &b], 1), &one).is_empty(),
            "{name}: 1 of 2 needed"
        );
        let twice = cosigned(&original, |text| {
            vec![a.cosign(text, t).unwrap(), a.cosign(text, t + 1).unwrap()]
        });
        assert_eq!(
            fails(&two_of_two, &twice),
            [Check::Witnesses],
            "{name}: one witness twice"
        );
        let other = cosigned(&original, |text| {
            vec![
                a.cosign(text, t).unwrap(),
                b.cosign(&text.replacen('\n', "x\n", 1), t).unwrap(),
            ]
        });
        assert_eq!(
            fails(&two_of_two, &other),
            [Check::Witnesses],
            "{name}: over another checkpoint"
        );
        let future = cosigned(&original, |text| {
            vec![
                a.cosign(text, t).unwrap(),
                b.cosign(text, t + 3_600).unwrap(),
            ]
        });
        assert_eq!(
            fails(&two_of_two, &future),
            [Check::Witnesses],
            "{name}: from the future"
        );
        // The reason names the quorum.
        let err = verifier(&two_of_two)
            .verify(&one, &artifact, &policy)
            .unwrap_err();
        assert!(err.to_string().contains("1 of the 2 witnesses"), "{err}");
    }
}
