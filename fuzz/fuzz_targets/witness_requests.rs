//! The witness (C2SP tlog-witness) on any `add-checkpoint` body, and
//! cosignature policies on any note. Nothing panics; the witness answers
//! only the statuses the spec names; what it cosigned for the log never
//! shrinks; a 200 carries one cosignature line that verifies over the
//! request's checkpoint.
#![no_main]

use std::sync::OnceLock;

use attest_dsse::SigningKey;
use attest_rekor::SignedNote;
use attest_rekor::witness::{Cosigner, WitnessPolicy};
use attest_tlog::{Witness, WitnessedLog};
use libfuzzer_sys::fuzz_target;

#[path = "scratch.rs"]
mod scratch;

const ORIGIN: &str = "example.com/log";

fn witness() -> &'static (Witness, WitnessPolicy) {
    static W: OnceLock<(Witness, WitnessPolicy)> = OnceLock::new();
    W.get_or_init(|| {
        let dir = scratch::dir("attestlog-fuzz-witness-");
        let log_key = SigningKey::ed25519_from_seed(&[11; 32]);
        let cosigner =
            Cosigner::new("witness.test/w1", SigningKey::ed25519_from_seed(&[12; 32])).unwrap();
        let other =
            Cosigner::new("witness.test/w2", SigningKey::ed25519_from_seed(&[13; 32])).unwrap();
        let policy =
            WitnessPolicy::new(vec![cosigner.witness().clone(), other.witness().clone()], 1)
                .unwrap();
        let w = Witness::open(
            &dir,
            cosigner,
            vec![WitnessedLog::new(ORIGIN, log_key.public_key().clone())],
        )
        .unwrap();
        (w, policy)
    })
}

fuzz_target!(|data: &[u8]| {
    let (w, policy) = witness();
    let before = w.cosigned_size(ORIGIN);
    let req = http::Request::post("/add-checkpoint")
        .body(data.to_vec())
        .unwrap();
    let resp = w.handle(&req);
    let status = resp.status().as_u16();
    assert!(
        matches!(status, 200 | 400 | 403 | 404 | 409 | 413 | 422),
        "{status}"
    );
    let after = w.cosigned_size(ORIGIN);
    assert!(
        after >= before,
        "cosigned size went from {before} to {after}"
    );
    if status == 200 {
        let body = std::str::from_utf8(data).unwrap();
        let note_text = attest_tlog::AddCheckpoint::parse(body).unwrap().note;
        let mut note = SignedNote::parse(note_text).unwrap();
        let reply = String::from_utf8(resp.body().clone()).unwrap();
        for line in reply.lines() {
            note.push_signature(attest_rekor::NoteSignature::parse_line(line).unwrap());
        }
        assert!(
            policy.verify(&note, i64::MAX).is_ok(),
            "the cosignature does not verify"
        );
    }
    // The same bytes as a cosigned note.
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(note) = SignedNote::parse(text)
    {
        let _ = policy.verify(&note, 1_800_000_000);
    }
});
