//! Each check on its own, failing for exactly one reason.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use attest_dsse::{Algorithm, SigningKey, Timestamp};
use attest_merkle::{Checkpoint, MerkleTree};
use attest_rekor::verify::Check;
use attest_rekor::verify::hazmat::{
    check_integrated_time, check_log_key_valid, check_not_backdated, find_log, verify_checkpoint,
    verify_checkpoint_consistency, verify_inclusion_in, verify_set,
};
use attest_rekor::{SignedNote, TrustedLog};

fn log() -> (SigningKey, TrustedLog) {
    let key = SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
    let log = TrustedLog::rekor_v1("https://log.example", key.public_key().clone());
    (key, log)
}

fn signed_checkpoint(key: &SigningKey, log: &TrustedLog, tree: &MerkleTree, size: u64) -> String {
    let root = tree.root_at(size).unwrap();
    let text = Checkpoint::new("log.example - 1", size, root)
        .unwrap()
        .to_string();
    SignedNote::sign(&text, &log.name, log.note_verifier().key_id(), key)
        .unwrap()
        .to_text()
}

#[test]
fn log_key_window_is_inclusive() {
    let (_, mut log) = log();
    log.valid_from = Some(Timestamp::from_unix(100));
    log.valid_until = Some(Timestamp::from_unix(200));
    for t in [100, 150, 200] {
        assert!(check_log_key_valid(&log, t).is_ok(), "{t}");
    }
    for t in [99, 201] {
        assert_eq!(
            check_log_key_valid(&log, t).unwrap_err().check,
            Check::LogKey,
            "{t}"
        );
    }
    assert_eq!(
        find_log(&[log.clone()], &[0; 32]).unwrap_err().check,
        Check::LogKey
    );
    assert!(find_log(&[log.clone()], log.log_id.as_bytes()).is_ok());
}

#[test]
fn integrated_time_and_backdating() {
    let now = Timestamp::from_unix(1000);
    assert!(check_integrated_time(1000, now).is_ok());
    assert_eq!(
        check_integrated_time(1001, now).unwrap_err().check,
        Check::IntegratedTime
    );
    assert!(check_not_backdated(900, 900, 60).is_ok());
    assert!(check_not_backdated(900, 960, 60).is_ok());
    assert_eq!(
        check_not_backdated(900, 961, 60).unwrap_err().check,
        Check::NotBackdated
    );
    assert_eq!(
        check_not_backdated(901, 900, 60).unwrap_err().check,
        Check::NotBackdated
    );
    // The reasons give both times, in Unix seconds and RFC 3339.
    let back = check_not_backdated(1_796_000_000, 1_796_000_061, 60).unwrap_err();
    assert_eq!(
        back.reason.to_string(),
        "claimed time 1796000000 (2026-11-30T00:53:20Z) is 61s before the log's time \
         1796000061 (2026-11-30T00:54:21Z); the window is 60s"
    );
    let after = check_not_backdated(1_796_000_001, 1_796_000_000, 60).unwrap_err();
    assert!(
        after
            .reason
            .to_string()
            .contains("(2026-11-30T00:53:21Z) is later")
    );
    let future = check_integrated_time(
        1_796_000_001,
        attest_dsse::Timestamp::from_unix(1_796_000_000),
    )
    .unwrap_err();
    assert!(
        future
            .reason
            .to_string()
            .contains("(2026-11-30T00:53:21Z) is in the future")
    );
}

#[test]
fn set_over_the_canonical_payload() {
    let (key, log) = log();
    let body = "eyJhIjoxfQ==";
    let msg = format!(
        r#"{{"body":"{body}","integratedTime":5,"logID":"{}","logIndex":7}}"#,
        log.log_id_hex()
    );
    let set = key.sign(msg.as_bytes());
    assert!(verify_set(&log, body, 5, 7, &set).is_ok());
    for (b, t, i) in [("eyJhIjoyfQ==", 5, 7), (body, 6, 7), (body, 5, 8)] {
        assert_eq!(
            verify_set(&log, b, t, i, &set).unwrap_err().check,
            Check::Set
        );
    }
    let (_, other) = log_pair();
    assert_eq!(
        verify_set(&other, body, 5, 7, &set).unwrap_err().check,
        Check::Set
    );
}

fn log_pair() -> (SigningKey, TrustedLog) {
    log()
}

#[test]
fn checkpoint_inclusion_and_consistency() {
    let (key, log) = log();
    let mut tree = MerkleTree::new();
    for i in 0u32..20 {
        tree.push(format!("entry {i}").as_bytes());
    }
    let cp12 = verify_checkpoint(&signed_checkpoint(&key, &log, &tree, 12), &log).unwrap();
    let cp20 = verify_checkpoint(&signed_checkpoint(&key, &log, &tree, 20), &log).unwrap();
    let proof = tree.inclusion_proof(5, 20).unwrap();
    let body = b"entry 5";
    assert!(verify_inclusion_in(&cp20, body, 5, 20, &tree.root(), &proof).is_ok());
    assert_eq!(
        verify_inclusion_in(&cp20, body, 5, 19, &tree.root(), &proof)
            .unwrap_err()
            .check,
        Check::CheckpointBinding
    );
    assert_eq!(
        verify_inclusion_in(&cp20, body, 5, 20, &cp12.root, &proof)
            .unwrap_err()
            .check,
        Check::CheckpointBinding
    );
    assert_eq!(
        verify_inclusion_in(&cp20, b"entry 6", 5, 20, &tree.root(), &proof)
            .unwrap_err()
            .check,
        Check::Inclusion
    );
    let cons = tree.consistency_proof(12, 20).unwrap();
    assert!(verify_checkpoint_consistency(&cp12, &cp20, &cons).is_ok());
    assert!(verify_checkpoint_consistency(&cp20, &cp12, &cons).is_err());
    // A checkpoint signed by another key fails its signature check.
    let (other, _) = log_pair();
    let forged = signed_checkpoint(&other, &log, &tree, 20);
    assert_eq!(
        verify_checkpoint(&forged, &log).unwrap_err().check,
        Check::CheckpointSignature
    );
}
