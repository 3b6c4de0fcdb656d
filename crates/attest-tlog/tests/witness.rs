//! The witness (C2SP tlog-witness): every status the spec names, through
//! `Witness::handle`; its memory durable, never rolled back, and not
//! interleavable; a forked log refused.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use attest_dsse::{SigningKey, Timestamp};
use attest_merkle::MerkleTree;
use attest_rekor::witness::{Cosigner, WitnessPolicy};
use attest_rekor::{NoteSignature, NoteVerifier, SignedNote};
use attest_tlog::{AddCheckpoint, WITNESS_STATE_FILE, Witness, WitnessServiceError, WitnessedLog};
use attestlog_testkit::TempDir;
use http::{Request, Response, StatusCode};

const ORIGIN: &str = "example.com/log";
const NOW: i64 = 1_800_000_000;

struct Clock;
impl attest_dsse::Clock for Clock {
    fn now(&self) -> Timestamp {
        Timestamp::from_unix(NOW)
    }
}

fn log_key() -> SigningKey {
    SigningKey::ed25519_from_seed(&[11; 32])
}

fn cosigner() -> Cosigner {
    Cosigner::new("witness.test/w1", SigningKey::ed25519_from_seed(&[12; 32])).unwrap()
}

fn open(dir: &TempDir) -> Result<Witness, WitnessServiceError> {
    let log = WitnessedLog::new(ORIGIN, log_key().public_key().clone());
    Witness::open_with_clock(dir.path(), cosigner(), vec![log], Clock)
}

/// A tree of `n` leaves, each tagged (two histories differ in their tag).
fn tree(n: u64, tag: &str) -> MerkleTree {
    let mut t = MerkleTree::new();
    for i in 0..n {
        t.push(format!("{tag}-{i}").as_bytes());
    }
    t
}

fn signed(t: &MerkleTree, key: &SigningKey) -> String {
    let text = format!("{ORIGIN}\n{}\n{}\n", t.size(), t.root().base64());
    let id = NoteVerifier::c2sp(ORIGIN, key.public_key().clone()).key_id();
    SignedNote::sign(&text, ORIGIN, id, key).unwrap().to_text()
}

fn body(old: u64, t: &MerkleTree, note: &str) -> Vec<u8> {
    let proof = if old == 0 {
        vec![]
    } else {
        t.consistency_proof(old, t.size())
            .unwrap()
            .as_slice()
            .to_vec()
    };
    AddCheckpoint { old, proof, note }.to_body().into_bytes()
}

fn post(w: &Witness, body: Vec<u8>) -> Response<Vec<u8>> {
    w.handle(&Request::post("/add-checkpoint").body(body).unwrap())
}

fn add(w: &Witness, old: u64, t: &MerkleTree) -> Response<Vec<u8>> {
    post(w, body(old, t, &signed(t, &log_key())))
}

fn text(r: &Response<Vec<u8>>) -> String {
    String::from_utf8(r.body().clone()).unwrap()
}

#[test]
fn cosigns_a_first_checkpoint_then_extensions_and_remembers_across_restarts() {
    let dir = TempDir::created("witness-basic");
    let w = open(&dir).unwrap();
    let t5 = tree(5, "a");
    let r = add(&w, 0, &t5);
    assert_eq!(r.status(), StatusCode::OK, "{}", text(&r));
    // The line is a cosignature/v1 of the witness over that checkpoint.
    let mut note = SignedNote::parse(&signed(&t5, &log_key())).unwrap();
    for line in text(&r).lines() {
        note.push_signature(NoteSignature::parse_line(line).unwrap());
    }
    let policy = WitnessPolicy::new(vec![w.witness_key().clone()], 1).unwrap();
    let got = policy.verify(&note, NOW).unwrap();
    assert_eq!(got[0].time, NOW as u64);
    // Extending it needs a proof from 5; the same checkpoint again is fine.
    let t9 = tree(9, "a");
    assert_eq!(add(&w, 5, &t9).status(), StatusCode::OK);
    assert_eq!(add(&w, 9, &t9).status(), StatusCode::OK);
    assert_eq!(w.cosigned_size(ORIGIN), 9);
    drop(w);
    let w = open(&dir).unwrap();
    assert_eq!(w.cosigned_size(ORIGIN), 9, "remembered after a restart");
    let r = add(&w, 5, &tree(12, "a"));
    assert_eq!(r.status(), StatusCode::CONFLICT);
}

#[test]
fn a_stale_old_size_is_a_409_naming_the_known_size() {
    let dir = TempDir::created("witness-409");
    let w = open(&dir).unwrap();
    assert_eq!(add(&w, 0, &tree(7, "a")).status(), StatusCode::OK);
    for old in [0, 3, 8] {
        let r = add(&w, old, &tree(10, "a"));
        assert_eq!(r.status(), StatusCode::CONFLICT, "old {old}");
        assert_eq!(text(&r), "7\n");
        assert_eq!(r.headers()["content-type"], "text/x.tlog.size");
    }
    // A smaller checkpoint (a rollback) cannot even be proposed honestly.
    let r = add(&w, 0, &tree(3, "a"));
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(w.cosigned_size(ORIGIN), 7);
}

#[test]
fn a_forked_log_is_refused_and_its_signed_word_kept() {
    let dir = TempDir::created("witness-fork");
    let w = open(&dir).unwrap();
    assert_eq!(add(&w, 0, &tree(5, "a")).status(), StatusCode::OK);
    // Same key, another history: at the cosigned size, another root.
    let r = add(&w, 5, &tree(5, "b"));
    assert_eq!(r.status(), StatusCode::CONFLICT, "{}", text(&r));
    assert!(text(&r).contains("another root"), "{}", text(&r));
    // Another history grown past it: its proof cannot start from the
    // cosigned root.
    let b8 = tree(8, "b");
    let r = add(&w, 5, &b8);
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{}", text(&r));
    // A forged proof (the honest tree's, with the fork's checkpoint).
    let a8 = tree(8, "a");
    let forged = AddCheckpoint {
        old: 5,
        proof: a8.consistency_proof(5, 8).unwrap().as_slice().to_vec(),
        note: &signed(&b8, &log_key()),
    };
    assert_eq!(
        post(&w, forged.to_body().into_bytes()).status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(w.cosigned_size(ORIGIN), 5);
    // Only the two signed trees of size 5 are evidence (a failed proof is
    // unsigned: anyone could send one); the same conflict again is one file.
    assert_eq!(add(&w, 5, &tree(5, "b")).status(), StatusCode::CONFLICT);
    let files: Vec<_> = std::fs::read_dir(dir.file("evidence"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(
        files[0].contains(&signed(&tree(5, "a"), &log_key())),
        "{}",
        files[0]
    );
    assert!(
        files[0].contains(&signed(&tree(5, "b"), &log_key())),
        "{}",
        files[0]
    );
    // The honest history still extends.
    assert_eq!(add(&w, 5, &a8).status(), StatusCode::OK);
}

#[test]
fn every_refusal_the_spec_names() {
    let dir = TempDir::created("witness-refusals");
    let w = open(&dir).unwrap();
    let t = tree(4, "a");
    // Unknown origin: 404.
    let other = SignedNote::sign(
        &format!("other.example/log\n4\n{}\n", t.root().base64()),
        "other.example/log",
        [0; 4],
        &log_key(),
    )
    .unwrap()
    .to_text();
    assert_eq!(
        post(&w, body(0, &t, &other)).status(),
        StatusCode::NOT_FOUND
    );
    // Signed by another key: 403.
    let forged = signed(&t, &SigningKey::ed25519_from_seed(&[99; 32]));
    assert_eq!(
        post(&w, body(0, &t, &forged)).status(),
        StatusCode::FORBIDDEN
    );
    // Old size beyond the checkpoint: 400.
    assert_eq!(add(&w, 0, &t).status(), StatusCode::OK);
    // Between equal sizes the proof is empty: 422.
    let same = AddCheckpoint {
        old: 4,
        proof: vec![t.root()],
        note: &signed(&t, &log_key()),
    };
    assert_eq!(
        post(&w, same.to_body().into_bytes()).status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let big_old = AddCheckpoint {
        old: 9,
        proof: vec![],
        note: &signed(&t, &log_key()),
    };
    assert_eq!(
        post(&w, big_old.to_body().into_bytes()).status(),
        StatusCode::BAD_REQUEST
    );
    // A proof from size 0 must be empty: 422 (fresh witness).
    let dir2 = TempDir::created("witness-refusals-2");
    let w2 = open(&dir2).unwrap();
    let nonempty = AddCheckpoint {
        old: 0,
        proof: vec![t.root()],
        note: &signed(&t, &log_key()),
    };
    assert_eq!(
        post(&w2, nonempty.to_body().into_bytes()).status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(w2.cosigned_size(ORIGIN), 0);
    // Malformed bodies: 400.
    let note = signed(&t, &log_key());
    for bad in [
        format!("old 04\n\n{note}"),
        format!("old -1\n\n{note}"),
        format!("old 0\n{note}"),
        format!("new 0\n\n{note}"),
        format!("old 0\nnot-base64!\n\n{note}"),
        format!(
            "old 4\n{}\n{note}",
            format!("{}\n", t.root().base64()).repeat(64)
        ),
        "old 0\n\nnot a note".to_owned(),
    ] {
        assert_eq!(
            post(&w2, bad.clone().into_bytes()).status(),
            StatusCode::BAD_REQUEST,
            "{bad:?}"
        );
    }
    assert_eq!(
        post(&w2, vec![0xff, 0xfe]).status(),
        StatusCode::BAD_REQUEST
    );
    // Other methods and paths.
    let get = w.handle(&Request::get("/add-checkpoint").body(vec![]).unwrap());
    assert_eq!(get.status(), StatusCode::METHOD_NOT_ALLOWED);
    let elsewhere = w.handle(&Request::post("/checkpoint").body(vec![]).unwrap());
    assert_eq!(elsewhere.status(), StatusCode::NOT_FOUND);
}

#[test]
fn concurrent_requests_from_one_size_cosign_exactly_one() {
    // Without one lock around check and update, two requests from size 5
    // could both pass and the smaller would roll the larger back.
    let dir = TempDir::created("witness-race");
    let w = open(&dir).unwrap();
    assert_eq!(add(&w, 0, &tree(5, "a")).status(), StatusCode::OK);
    let bodies: Vec<Vec<u8>> = (6..=13)
        .map(|n| {
            let t = tree(n, "a");
            body(5, &t, &signed(&t, &log_key()))
        })
        .collect();
    let w = Arc::new(w);
    let barrier = Arc::new(std::sync::Barrier::new(bodies.len()));
    let handles: Vec<_> = bodies
        .into_iter()
        .map(|b| {
            let (w, barrier) = (Arc::clone(&w), Arc::clone(&barrier));
            std::thread::spawn(move || {
                barrier.wait();
                post(&w, b).status()
            })
        })
        .collect();
    let statuses: Vec<StatusCode> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::OK || *s == StatusCode::CONFLICT)
    );
    assert!(w.cosigned_size(ORIGIN) > 5);
}

#[test]
fn a_state_file_that_does_not_parse_stops_the_witness_instead_of_forgetting() {
    let dir = TempDir::created("witness-corrupt");
    {
        let w = open(&dir).unwrap();
        assert_eq!(add(&w, 0, &tree(5, "a")).status(), StatusCode::OK);
    }
    let path = dir.file(WITNESS_STATE_FILE);
    let good = std::fs::read(&path).unwrap();
    for bad in [&b"{"[..], b"", br#"{"format":2,"logs":{}}"#] {
        std::fs::write(&path, bad).unwrap();
        let e = open(&dir).unwrap_err();
        assert!(matches!(e, WitnessServiceError::CorruptState { .. }), "{e}");
    }
    std::fs::write(&path, good).unwrap();
    assert_eq!(open(&dir).unwrap().cosigned_size(ORIGIN), 5);
}

#[test]
fn one_process_holds_the_directory() {
    let dir = TempDir::created("witness-lock");
    let _w = open(&dir).unwrap();
    assert!(matches!(open(&dir), Err(WitnessServiceError::Dir { .. })));
}

#[test]
fn logs_are_configured_once_each() {
    let dir = TempDir::created("witness-config");
    let l = WitnessedLog::new(ORIGIN, log_key().public_key().clone());
    assert!(matches!(
        Witness::open(dir.path(), cosigner(), vec![]),
        Err(WitnessServiceError::NoLogs)
    ));
    assert!(matches!(
        Witness::open(dir.path(), cosigner(), vec![l.clone(), l]),
        Err(WitnessServiceError::DuplicateLog(_))
    ));
}

#[test]
fn a_cosigned_empty_tree_is_extended_without_a_proof() {
    // A new log's first checkpoint is the empty tree; the witness cosigns
    // it, and the next (from 0) needs no proof — but refuses one.
    let dir = TempDir::created("witness-empty");
    let w = open(&dir).unwrap();
    let empty = tree(0, "a");
    assert_eq!(add(&w, 0, &empty).status(), StatusCode::OK);
    assert_eq!(w.cosigned_size(ORIGIN), 0);
    let t3 = tree(3, "a");
    let with_proof = AddCheckpoint {
        old: 0,
        proof: vec![t3.root()],
        note: &signed(&t3, &log_key()),
    };
    assert_eq!(
        post(&w, with_proof.to_body().into_bytes()).status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let r = add(&w, 0, &t3);
    assert_eq!(r.status(), StatusCode::OK, "{}", text(&r));
    assert_eq!(w.cosigned_size(ORIGIN), 3);
}

#[test]
fn a_witness_that_ran_never_starts_afresh_nor_on_anothers_state() {
    let dir = TempDir::created("witness-resume");
    // A first start writes the state at once, naming the witness.
    drop(open(&dir).unwrap());
    let state = std::fs::read_to_string(dir.file(WITNESS_STATE_FILE)).unwrap();
    assert!(state.contains(&cosigner().witness().to_vkey()), "{state}");
    let log = || vec![WitnessedLog::new(ORIGIN, log_key().public_key().clone())];
    let w = Witness::resume(dir.path(), cosigner(), log()).unwrap();
    assert_eq!(add(&w, 0, &tree(4, "a")).status(), StatusCode::OK);
    drop(w);
    // The state deleted (or never restored): resume refuses; it does not
    // forget size 4 and cosign another history.
    std::fs::remove_file(dir.file(WITNESS_STATE_FILE)).unwrap();
    let err = Witness::resume(dir.path(), cosigner(), log()).unwrap_err();
    assert!(
        matches!(err, WitnessServiceError::StateMissing { .. }),
        "{err}"
    );
    // Another witness's state is not this one's.
    drop(open(&dir).unwrap());
    let other = Cosigner::new("witness.test/w2", SigningKey::ed25519_from_seed(&[13; 32])).unwrap();
    let err = Witness::resume(dir.path(), other, log()).unwrap_err();
    assert!(
        matches!(err, WitnessServiceError::OtherWitness { .. }),
        "{err}"
    );
}
