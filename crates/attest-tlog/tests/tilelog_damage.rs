//! The v2 tile log never forgets what it acknowledged: its journal is the
//! truth, and every way the public files can disagree with it — a deleted,
//! older, foreign, forked or unparsable checkpoint, a deleted or altered
//! tile or bundle, files beyond the journal, a journal rolled back or
//! damaged — makes opening refuse with a typed [`TileDamage`]. `check`
//! reports the same damage without the key; `repair` rewrites the public
//! files from the journal when that is safe and refuses (changing nothing)
//! when it is not. A crash between journaling a batch and publishing it is
//! not damage: opening completes the publish.
//!
//! The log under test has a full tile and a partial one (301 entries).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use attest_dsse::SigningKey;
use attest_tlog::{
    TileDamage, TileLog, TileLogError, TileLogOptions, check_tile_log, repair_tile_log,
};
use attestlog_testkit::TempDir;

fn log_key(seed: u8) -> SigningKey {
    SigningKey::ed25519_from_seed(&[seed; 32])
}

fn open(dir: &Path) -> Result<TileLog, TileLogError> {
    TileLog::open(dir, log_key(1), TileLogOptions::default())
}

/// A stopped log of 301 entries (the last appended alone), and what an
/// attacker or a careless operator could write back: its public checkpoint
/// at 200 and at 300, and its journal and `published` at 200.
struct Fixture {
    _tmp: TempDir,
    dir: PathBuf,
    checkpoint_200: String,
    checkpoint_300: String,
    journal_200: Vec<u8>,
    published_200: Vec<u8>,
    /// Another log with the same key and name, 301 other entries.
    fork_checkpoint: String,
    fork_bundle: Vec<u8>,
    _fork: TempDir,
}

fn fixture() -> Fixture {
    let tmp = TempDir::new("tilelog-damage");
    let dir = tmp.path().to_path_buf();
    let log = open(&dir).unwrap();
    let pending: Vec<_> = (0..200u64)
        .map(|n| log.submit(format!("entry {n}").into_bytes()).unwrap())
        .collect();
    for p in pending {
        p.wait().unwrap();
    }
    let checkpoint_200 = log.checkpoint();
    let journal_200 = std::fs::read(dir.join("journal")).unwrap();
    let published_200 = std::fs::read(dir.join("published")).unwrap();
    for n in 200..300u64 {
        log.append(format!("entry {n}").into_bytes()).unwrap();
    }
    let checkpoint_300 = log.checkpoint();
    assert_eq!(log.append(b"entry 300".to_vec()).unwrap().index, 300);
    drop(log);
    let fork = TempDir::new("tilelog-damage-fork");
    let other = open(fork.path()).unwrap();
    for n in 0..301u64 {
        other.append(format!("other {n}").into_bytes()).unwrap();
    }
    let fork_checkpoint = other.checkpoint();
    for n in 301..310u64 {
        other.append(format!("other {n}").into_bytes()).unwrap();
    }
    drop(other);
    let fork_bundle = std::fs::read(fork.path().join("tiles/tile/entries/001.p/54")).unwrap();
    Fixture {
        _tmp: tmp,
        dir,
        checkpoint_200,
        checkpoint_300,
        journal_200,
        published_200,
        fork_checkpoint,
        fork_bundle,
        _fork: fork,
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_name() == "LOCK" {
            continue;
        }
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

fn flip(p: &Path) {
    let mut b = std::fs::read(p).unwrap();
    b[5] ^= 1;
    std::fs::write(p, b).unwrap();
}

type Damage = Box<dyn Fn(&Path)>;
/// What a damage is, how to make it, which damage it must be, and whether
/// `repair` may fix it.
type Case = (&'static str, Damage, fn(&TileDamage) -> bool, bool);

/// Every damage: what it does, and whether `repair` may fix it.
fn damages(f: &Fixture) -> Vec<Case> {
    let cp200 = f.checkpoint_200.clone();
    let cp300 = f.checkpoint_300.clone();
    let fork_cp = f.fork_checkpoint.clone();
    let fork_bundle = f.fork_bundle.clone();
    let journal_200 = f.journal_200.clone();
    let published_200 = f.published_200.clone();
    let mut v: Vec<Case> = vec![
        (
            "deleted checkpoint",
            Box::new(|d| std::fs::remove_file(d.join("tiles/checkpoint")).unwrap()),
            |d| matches!(d, TileDamage::CheckpointMissing { durable: 301 }),
            true,
        ),
        (
            "older genuine checkpoint (size 200)",
            Box::new(move |d| std::fs::write(d.join("tiles/checkpoint"), &cp200).unwrap()),
            |d| {
                matches!(
                    d,
                    TileDamage::CheckpointBehind {
                        public: 200,
                        durable: 301
                    }
                )
            },
            true,
        ),
        (
            "the previous batch's genuine checkpoint (size 300)",
            Box::new(move |d| std::fs::write(d.join("tiles/checkpoint"), &cp300).unwrap()),
            |d| {
                matches!(
                    d,
                    TileDamage::CheckpointBehind {
                        public: 300,
                        durable: 301
                    }
                )
            },
            true,
        ),
        (
            "unparsable checkpoint",
            Box::new(|d| std::fs::write(d.join("tiles/checkpoint"), b"\xff not a note").unwrap()),
            |d| matches!(d, TileDamage::CheckpointForeign(_)),
            true,
        ),
        (
            "empty checkpoint",
            Box::new(|d| std::fs::write(d.join("tiles/checkpoint"), b"").unwrap()),
            |d| matches!(d, TileDamage::CheckpointForeign(_)),
            true,
        ),
        (
            "checkpoint signed by another key",
            Box::new(|d| {
                let t = TempDir::new("tilelog-damage-foreign");
                let other = TileLog::open(t.path(), log_key(2), TileLogOptions::default()).unwrap();
                std::fs::write(d.join("tiles/checkpoint"), other.checkpoint()).unwrap();
            }),
            |d| matches!(d, TileDamage::CheckpointForeign(_)),
            true,
        ),
        (
            "checkpoint of a fork (same key and size, another root)",
            Box::new(move |d| std::fs::write(d.join("tiles/checkpoint"), &fork_cp).unwrap()),
            |d| matches!(d, TileDamage::CheckpointFork { size: 301 }),
            false,
        ),
        (
            "journal rolled back to size 200",
            Box::new(move |d| {
                std::fs::write(d.join("journal"), &journal_200).unwrap();
                std::fs::write(d.join("published"), &published_200).unwrap();
            }),
            |d| {
                matches!(
                    d,
                    TileDamage::CheckpointAhead {
                        public: 301,
                        durable: 200
                    }
                )
            },
            false,
        ),
        (
            "journal and checkpoint rolled back to size 200 (tiles still there)",
            Box::new({
                let journal_200 = f.journal_200.clone();
                let published_200 = f.published_200.clone();
                let cp200 = f.checkpoint_200.clone();
                move |d| {
                    std::fs::write(d.join("journal"), &journal_200).unwrap();
                    std::fs::write(d.join("published"), &published_200).unwrap();
                    std::fs::write(d.join("tiles/checkpoint"), &cp200).unwrap();
                }
            }),
            |d| matches!(d, TileDamage::BeyondJournal { durable: 200, .. }),
            false,
        ),
        (
            "a bundle beyond the journal",
            Box::new(move |d| {
                std::fs::write(d.join("tiles/tile/entries/001.p/54"), &fork_bundle).unwrap();
            }),
            |d| matches!(d, TileDamage::BeyondJournal { durable: 301, .. }),
            false,
        ),
        (
            "deleted journal",
            Box::new(|d| std::fs::remove_file(d.join("journal")).unwrap()),
            |d| matches!(d, TileDamage::NoJournal { .. }),
            false,
        ),
        (
            "deleted tilelog.json",
            Box::new(|d| std::fs::remove_file(d.join("tilelog.json")).unwrap()),
            |d| matches!(d, TileDamage::NoJournal { .. }),
            false,
        ),
        (
            "a flipped byte in the journal's first record",
            Box::new(|d| flip(&d.join("journal"))),
            |d| matches!(d, TileDamage::Journal { offset: 0, .. }),
            false,
        ),
    ];
    v.push((
        "deleted public tilelog.json",
        Box::new(|d| std::fs::remove_file(d.join("tiles/tilelog.json")).unwrap()),
        |d| matches!(d, TileDamage::PublicMeta { missing: true }),
        true,
    ));
    v.push((
        "another log's public tilelog.json",
        Box::new(|d| {
            let t = TempDir::new("tilelog-damage-othermeta");
            drop(TileLog::open(t.path(), log_key(2), TileLogOptions::default()).unwrap());
            std::fs::copy(
                t.path().join("tiles/tilelog.json"),
                d.join("tiles/tilelog.json"),
            )
            .unwrap();
        }),
        |d| matches!(d, TileDamage::PublicMeta { missing: false }),
        true,
    ));
    for (what, path, is_tile) in [
        ("deleted full level-0 tile", "tile/0/000", true),
        ("deleted partial level-0 tile", "tile/0/001.p/45", true),
        ("deleted level-1 tile", "tile/1/000.p/1", true),
        ("deleted full entry bundle", "tile/entries/000", false),
        (
            "deleted partial entry bundle",
            "tile/entries/001.p/45",
            false,
        ),
    ] {
        v.push((
            what,
            Box::new(move |d| std::fs::remove_file(d.join("tiles").join(path)).unwrap()),
            if is_tile {
                |d| matches!(d, TileDamage::Tile { missing: true, .. })
            } else {
                |d| matches!(d, TileDamage::Bundle { missing: true, .. })
            },
            true,
        ));
    }
    for (what, path, is_tile) in [
        ("flipped full level-0 tile", "tile/0/000", true),
        ("flipped partial level-0 tile", "tile/0/001.p/45", true),
        ("flipped level-1 tile", "tile/1/000.p/1", true),
        ("flipped full entry bundle", "tile/entries/000", false),
        (
            "flipped partial entry bundle",
            "tile/entries/001.p/45",
            false,
        ),
    ] {
        v.push((
            what,
            Box::new(move |d| flip(&d.join("tiles").join(path))),
            if is_tile {
                |d| matches!(d, TileDamage::Tile { missing: false, .. })
            } else {
                |d| matches!(d, TileDamage::Bundle { missing: false, .. })
            },
            true,
        ));
    }
    v
}

#[test]
fn every_damage_is_refused_reported_and_repaired_only_when_safe() {
    let f = fixture();
    for (what, damage, expected, repairable) in damages(&f) {
        let copy = TempDir::new("tilelog-damaged");
        copy_dir(&f.dir, copy.path());
        damage(copy.path());
        // Opening refuses, with the damage named.
        match open(copy.path()) {
            Err(TileLogError::Damaged(d)) => {
                assert!(expected(&d), "{what}: open refused with {d:?}");
                assert_eq!(d.repairable(), repairable, "{what}: {d:?}");
            }
            other => panic!("{what}: open gave {other:?}"),
        }
        // Check reports it (journal damage as an error, public damage in
        // the report), without the key.
        match check_tile_log(copy.path()) {
            Ok(c) => {
                assert!(!c.healthy(), "{what}");
                assert!(c.damage.iter().any(expected), "{what}: {:?}", c.damage);
                assert_eq!(c.repairable(), repairable, "{what}: {:?}", c.damage);
            }
            Err(TileLogError::Damaged(d)) => assert!(expected(&d), "{what}: {d:?}"),
            Err(e) => panic!("{what}: check failed: {e}"),
        }
        let before = snapshot(copy.path());
        let repaired = repair_tile_log(copy.path());
        if repairable {
            let r = repaired.unwrap_or_else(|e| panic!("{what}: repair: {e}"));
            assert_eq!(r.size, 301, "{what}");
            assert!(!r.rewritten.is_empty(), "{what}");
            assert!(check_tile_log(copy.path()).unwrap().healthy(), "{what}");
            // The log continues where its journal ends: nothing re-issued.
            let log = open(copy.path()).unwrap();
            assert_eq!(log.append(b"next".to_vec()).unwrap().index, 301, "{what}");
        } else {
            assert!(
                matches!(repaired, Err(TileLogError::Damaged(_))),
                "{what}: repair gave {repaired:?}"
            );
            assert_eq!(
                snapshot(copy.path()),
                before,
                "{what}: repair changed files"
            );
            assert!(open(copy.path()).is_err(), "{what}");
        }
    }
}

/// Every file under a directory with its bytes (but LOCK).
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else if e.file_name() != "LOCK" {
                out.push((e.path(), std::fs::read(e.path()).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn a_publish_cut_short_by_a_crash_is_completed_on_open() {
    let f = fixture();
    let copy = TempDir::new("tilelog-cut");
    copy_dir(&f.dir, copy.path());
    let d = copy.path();
    // The state a crash leaves after the last batch (entry 300) was
    // journaled but before its public files and checkpoint were written:
    // the public checkpoint and `published` at 300, the new partial tile
    // and bundle missing.
    std::fs::write(d.join("tiles/checkpoint"), &f.checkpoint_300).unwrap();
    std::fs::write(d.join("published"), "300").unwrap();
    for p in ["tile/0/001.p/45", "tile/entries/001.p/45"] {
        std::fs::remove_file(d.join("tiles").join(p)).unwrap();
    }
    let c = check_tile_log(d).unwrap();
    assert!(c.healthy() && c.interrupted_publish, "{c:?}");
    let log = open(d).unwrap();
    assert!(log.checkpoint().contains("\n301\n"));
    assert!(d.join("tiles/tile/entries/001.p/45").exists());
    assert_eq!(log.append(b"next".to_vec()).unwrap().index, 301);
    drop(log);
    let c = check_tile_log(d).unwrap();
    assert!(
        c.healthy() && !c.interrupted_publish && c.size == 302,
        "{c:?}"
    );
}

#[test]
fn a_torn_journal_tail_is_cut_and_nothing_acknowledged_is_lost() {
    let f = fixture();
    let copy = TempDir::new("tilelog-torn");
    copy_dir(&f.dir, copy.path());
    let d = copy.path();
    let mut j = std::fs::read(d.join("journal")).unwrap();
    let intact = j.len() as u64;
    // Half a record: its header says more bytes than follow.
    j.extend_from_slice(b"TLJ1\x00\x00\x01\x00partial");
    std::fs::write(d.join("journal"), &j).unwrap();
    let c = check_tile_log(d).unwrap();
    assert!(c.healthy(), "{c:?}");
    assert_eq!((c.size, c.torn_bytes), (301, 15));
    let log = open(d).unwrap();
    drop(log);
    assert_eq!(std::fs::metadata(d.join("journal")).unwrap().len(), intact);
    let log = open(d).unwrap();
    assert_eq!(log.append(b"next".to_vec()).unwrap().index, 301);
}

#[test]
fn an_entry_too_long_for_a_bundle_is_refused_and_the_log_goes_on() {
    let tmp = TempDir::new("tilelog-long");
    let log = open(tmp.path()).unwrap();
    assert!(matches!(
        log.append(vec![b'x'; 65_536]),
        Err(TileLogError::TooLarge(65_536))
    ));
    assert_eq!(log.append(vec![b'x'; 65_535]).unwrap().index, 0);
    assert_eq!(log.append(b"next".to_vec()).unwrap().index, 1);
}

#[test]
fn a_directory_that_is_not_a_new_log_is_not_made_one() {
    // Public files without the log's journal: not silently a new log.
    let f = fixture();
    let copy = TempDir::new("tilelog-nojournal");
    copy_dir(&f.dir, copy.path());
    for name in ["journal", "tilelog.json", "published"] {
        std::fs::remove_file(copy.path().join(name)).unwrap();
    }
    assert!(matches!(
        open(copy.path()),
        Err(TileLogError::Damaged(TileDamage::NoJournal {
            legacy: false
        }))
    ));
    // Only the checkpoint left: still not a new log.
    let only = TempDir::created("tilelog-onlycp");
    std::fs::create_dir_all(only.file("tiles")).unwrap();
    std::fs::copy(
        f.dir.join("tiles/checkpoint"),
        only.file("tiles/checkpoint"),
    )
    .unwrap();
    assert!(matches!(
        open(only.path()),
        Err(TileLogError::Damaged(TileDamage::NoJournal { .. }))
    ));
}

#[test]
fn two_logs_on_one_public_directory_are_fenced() {
    // Two state directories, one public directory: the second sequencer
    // is refused before it reads or writes anything.
    let public = TempDir::created("tilelog-fence-public");
    let (a, b) = (
        TempDir::new("tilelog-fence-a"),
        TempDir::new("tilelog-fence-b"),
    );
    let store = || std::sync::Arc::new(attest_tlog::DirStore::new(public.path()));
    let first = TileLog::open_in(a.path(), store(), log_key(1), TileLogOptions::default()).unwrap();
    first.append(b"one".to_vec()).unwrap();
    assert!(matches!(
        TileLog::open_in(b.path(), store(), log_key(1), TileLogOptions::default()),
        Err(TileLogError::Fenced(attest_tlog::ClaimError::Held(_)))
    ));
    // Nothing of the second was written: the first goes on.
    assert!(!b.path().join("tilelog.json").exists());
    assert_eq!(first.append(b"two".to_vec()).unwrap().index, 1);
}
