//! A log never forgets and never lies: one flipped bit in every file at
//! several offsets, truncations and deletions either make the log refuse to
//! open — with a typed error naming what is damaged — or it serves exactly
//! the acknowledged history: every acknowledged id still found and verified,
//! and the same tree as the checkpoint taken before the damage.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::Path;

use attest_dsse::{Envelope, SigningKey};
use attest_rekor::EntryId;
use attest_tlog::{LocalError, LocalLog, LogOptions, StorageError};
use attestlog_testkit::TempDir;
use rekor_client::{RekorClient, RetryPolicy};

const ENTRIES: u64 = 40;

fn log_key() -> SigningKey {
    SigningKey::ed25519_from_seed(&[17; 32])
}

fn signer() -> SigningKey {
    SigningKey::ed25519_from_seed(&[18; 32])
}

fn envelope(n: u64) -> Envelope {
    Envelope::sign(
        "text/plain",
        format!("entry {n}").into_bytes(),
        &[&signer()],
    )
    .unwrap()
}

fn client(log: &LocalLog) -> RekorClient<LocalLog> {
    RekorClient::new(
        "http://attestlog.local",
        log.clone(),
        vec![log.trusted_log()],
    )
    .with_retry(RetryPolicy::default().with_max_attempts(1))
}

/// The log's files, by name.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_file() && e.file_name() != "LOCK")
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

fn restore(dir: &Path, files: &BTreeMap<String, Vec<u8>>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        if e.file_name() != "LOCK" {
            std::fs::remove_file(e.path()).unwrap();
        }
    }
    for (name, bytes) in files {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

struct Before {
    ids: Vec<EntryId>,
    checkpoint: attest_rekor::verify::VerifiedCheckpoint,
}

/// Opening after damage: a refusal, or exactly the acknowledged history.
fn refuses_or_serves_everything(dir: &Path, before: &Before, what: &str) -> &'static str {
    match LocalLog::open(dir, log_key(), LogOptions::default()) {
        Err(e) => {
            // A typed refusal that names what is wrong.
            assert!(
                matches!(
                    e,
                    LocalError::Storage(StorageError::Corrupt(_))
                        | LocalError::MetaJson { .. }
                        | LocalError::MetaFormat { .. }
                        | LocalError::TreeId { .. }
                        | LocalError::WrongKey { .. }
                ),
                "{what}: {e:?}"
            );
            "refused"
        }
        Ok(log) => {
            let c = client(&log);
            let (_, now) = c.log_info().unwrap();
            assert_eq!(now.size, ENTRIES, "{what}: the log lost or gained entries");
            assert_eq!(now.root, before.checkpoint.root, "{what}: another tree");
            c.prove_consistency(&before.checkpoint, &now).unwrap();
            for (n, id) in before.ids.iter().enumerate() {
                c.get_verified(id, &envelope(n as u64), signer().public_key())
                    .unwrap_or_else(|e| panic!("{what}: entry {n}: {e}"));
            }
            "served"
        }
    }
}

fn build(dir: &Path) -> Before {
    let log = LocalLog::open(dir, log_key(), LogOptions::default()).unwrap();
    let c = client(&log);
    let ids = (0..ENTRIES)
        .map(|n| {
            c.publish_dsse(&envelope(n), signer().public_key())
                .unwrap()
                .entry
                .id
        })
        .collect();
    let (_, checkpoint) = c.log_info().unwrap();
    Before { ids, checkpoint }
}

#[test]
fn bit_flips_truncations_and_deletions_never_shorten_or_change_the_log() {
    let tmp = TempDir::created("damage");
    let dir = tmp.path();
    let before = build(dir);
    let pristine = snapshot(dir);
    let mut outcomes: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    let mut record = |what: String, outcome: &'static str| {
        outcomes.entry(outcome).or_default().push(what);
    };

    // One flipped bit at several offsets of every file.
    for (name, bytes) in &pristine {
        let len = bytes.len();
        let mut offsets: Vec<usize> = vec![0, 1, len / 3, len / 2, 2 * len / 3, len - 1];
        offsets.sort_unstable();
        offsets.dedup();
        for off in offsets {
            let mut files = pristine.clone();
            files.get_mut(name).unwrap()[off] ^= 0x04;
            restore(dir, &files);
            let what = format!("{name}: bit flipped at {off}");
            let outcome = refuses_or_serves_everything(dir, &before, &what);
            record(what, outcome);
        }
    }
    // Truncations.
    for (name, bytes) in &pristine {
        for keep in [0, bytes.len() / 2, bytes.len().saturating_sub(1)] {
            let mut files = pristine.clone();
            files.get_mut(name).unwrap().truncate(keep);
            restore(dir, &files);
            let what = format!("{name}: cut to {keep} bytes");
            let outcome = refuses_or_serves_everything(dir, &before, &what);
            record(what, outcome);
        }
    }
    // Deletions.
    for name in pristine.keys() {
        let mut files = pristine.clone();
        files.remove(name);
        restore(dir, &files);
        let what = format!("{name}: deleted");
        let outcome = refuses_or_serves_everything(dir, &before, &what);
        record(what, outcome);
    }
    eprintln!("{outcomes:#?}");
    // The cases the issue names are refusals, not a shorter log.
    let refused = &outcomes["refused"];
    for must in [
        "entries.log: deleted",
        "log.json: deleted",
        "checkpoint.dat: deleted",
    ] {
        assert!(
            refused.iter().any(|r| r == must),
            "{must} must be refused: {outcomes:#?}"
        );
    }
    let half = format!(
        "entries.log: cut to {} bytes",
        pristine["entries.log"].len() / 2
    );
    assert!(refused.contains(&half), "{half}");
    // A flipped bit in the middle of entries.log names the record.
    let mut files = pristine.clone();
    let mid = pristine["entries.log"].len() / 2;
    files.get_mut("entries.log").unwrap()[mid] ^= 1;
    restore(dir, &files);
    let err = LocalLog::open(dir, log_key(), LogOptions::default()).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("entries.log") && text.contains("offset") && text.contains("entry"),
        "{text}"
    );
    // Damaged derived files are rewritten, and the log serves everything.
    for name in ["index.dat", "tree.dat"] {
        assert!(
            outcomes["served"].iter().any(|r| r.starts_with(name)),
            "{name}: {outcomes:#?}"
        );
    }
    // Restored, the log is whole again.
    restore(dir, &pristine);
    assert_eq!(
        refuses_or_serves_everything(dir, &before, "pristine"),
        "served"
    );
}

#[test]
fn swapped_index_words_never_bind_an_entry_to_another_index() {
    let tmp = TempDir::created("swapped-index");
    let dir = tmp.path();
    let before = build(dir);
    // Entries 3 and 7 swap their offsets in index.dat while the log is shut.
    let mut index = std::fs::read(dir.join("index.dat")).unwrap();
    let (a, b) = (3 * 8, 7 * 8);
    let word_a: Vec<u8> = index[a..a + 8].to_vec();
    let word_b: Vec<u8> = index[b..b + 8].to_vec();
    index[a..a + 8].copy_from_slice(&word_b);
    index[b..b + 8].copy_from_slice(&word_a);
    std::fs::write(dir.join("index.dat"), &index).unwrap();
    // Open proves index.dat against the records and rewrites it: every
    // entry is served at its own index, with a SET over that index.
    let (log, report) = LocalLog::open_with_report(dir, log_key(), LogOptions::default()).unwrap();
    assert!(report.rebuilt_derived);
    let c = client(&log);
    for (n, id) in before.ids.iter().enumerate() {
        let p = c
            .get_verified(id, &envelope(n as u64), signer().public_key())
            .unwrap();
        assert_eq!(p.entry.log_index, n as u64);
    }
    drop((c, log));
    // Swapped while the log runs (behind its back): the entry is refused
    // with a server error, never served or signed at the wrong index.
    let log = LocalLog::open(dir, log_key(), LogOptions::default()).unwrap();
    std::fs::write(dir.join("index.dat"), &index).unwrap();
    let r = log.handle(
        &http::Request::get("http://attestlog.local/api/v1/log/entries?logIndex=3")
            .body(Vec::new())
            .unwrap(),
    );
    assert_eq!(r.status(), 500, "{}", String::from_utf8_lossy(r.body()));
}

/// `log.json` rewritten to name another log — another tree id, another
/// name — in valid JSON: the durable checkpoint was signed for the real
/// one, so the log refuses to open (and `check` names it) rather than hand
/// out entry ids of a tree that does not exist.
#[test]
fn a_log_json_naming_another_log_is_refused() {
    let tmp = TempDir::created("damage-meta");
    let dir = tmp.path().join("log");
    let before = build(&dir);
    let files = snapshot(&dir);
    let meta = String::from_utf8(files["log.json"].clone()).unwrap();
    let v: serde_json::Value = serde_json::from_str(&meta).unwrap();
    let tree_id = v["treeID"].as_str().unwrap().to_owned();
    let other_id = if tree_id.ends_with('1') {
        format!("{}2", &tree_id[..tree_id.len() - 1])
    } else {
        format!("{}1", &tree_id[..tree_id.len() - 1])
    };
    for (what, changed) in [
        ("tree id", meta.replace(&tree_id, &other_id)),
        (
            "name",
            meta.replace("\"attestlog.local\"", "\"attestlog.locam\""),
        ),
    ] {
        restore(&dir, &files);
        std::fs::write(dir.join("log.json"), &changed).unwrap();
        let report = attest_tlog::check(&dir).unwrap();
        assert!(
            matches!(report.damage, Some(attest_tlog::Damage::Meta { .. })),
            "{what}: {report:?}"
        );
        match LocalLog::open(&dir, log_key(), LogOptions::default()) {
            Err(LocalError::Storage(StorageError::Corrupt(attest_tlog::Damage::Meta {
                meta,
                checkpoint,
            }))) => {
                assert_ne!(meta, checkpoint, "{what}");
            }
            other => panic!(
                "{what}: expected a Meta damage, got {:?}",
                other.map(|_| ())
            ),
        }
    }
    // Restored, it serves its history again.
    restore(&dir, &files);
    assert_eq!(
        refuses_or_serves_everything(&dir, &before, "restored"),
        "served"
    );
}
