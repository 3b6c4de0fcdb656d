//! The v2 tile log on a real S3 API: a server process on loopback (moto's
//! S3 server from PyPI, which `.ci/run` starts and names in
//! `ATTEST_S3_ENDPOINT`), reached through `object_store`'s S3 client.
//! Publish from a child process and kill it with SIGKILL, reopen: every
//! acknowledged entry is at its index; a deleted checkpoint object is
//! refused and repaired from the journal; two sequencer processes racing to
//! open one bucket prefix — exactly one integrates, the other is fenced off
//! by the conditional write of the lease; a sequencer whose lease is taken
//! over stops before its next batch.
//!
//! Without `ATTEST_S3_ENDPOINT` the tests say so and pass, except under CI
//! (`CI` set), where a missing server is a failure.

#![cfg(all(feature = "object-store", feature = "http"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write as _;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use attest_dsse::SigningKey;
use attest_merkle::tiles::{TileId, TileReader, TileSource};
use attest_tlog::{
    ClaimError, LEASE, ObjectTileStore, SequencerError, TileDamage, TileLog, TileLogError,
    TileLogOptions, TileStore, check_tile_log_in, repair_tile_log_in,
};
use attestlog_testkit::TempDir;
use attestlog_testkit::child::{self, Running};
use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;

const BUCKET: &str = "attestlog-tiles";

/// The S3 endpoint, or `None` (outside CI) when no server was started.
fn endpoint() -> Option<String> {
    match std::env::var("ATTEST_S3_ENDPOINT") {
        Ok(e) if !e.is_empty() => Some(e),
        _ if std::env::var_os("CI").is_some() => {
            panic!("CI must start an S3 server and set ATTEST_S3_ENDPOINT (see .ci/run)")
        }
        _ => {
            eprintln!("ATTEST_S3_ENDPOINT is not set: the S3 tests did not run");
            None
        }
    }
}

fn s3(endpoint: &str) -> Arc<dyn ObjectStore> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Arc::new(
        AmazonS3Builder::new()
            .with_endpoint(endpoint)
            .with_allow_http(true)
            .with_bucket_name(BUCKET)
            .with_region("us-east-1")
            .with_access_key_id("attestlog")
            .with_secret_access_key("attestlog")
            .build()
            .unwrap(),
    )
}

/// The bucket (made once; making it again is harmless).
fn bucket(endpoint: &str) {
    use rekor_client::Transport as _;
    let req = http::Request::builder()
        .method("PUT")
        .uri(format!("{endpoint}/{BUCKET}"))
        .body(Vec::new())
        .unwrap();
    let r = rekor_client::UreqTransport::new()
        .send(req, Duration::from_secs(30))
        .unwrap();
    assert!(r.status().is_success() || r.status() == 409, "{r:?}");
}

fn store(endpoint: &str, prefix: &str) -> Arc<ObjectTileStore> {
    Arc::new(ObjectTileStore::new(s3(endpoint), prefix).unwrap())
}

fn key() -> SigningKey {
    SigningKey::ed25519_from_seed(&[31; 32])
}

fn open(state: &Path, store: Arc<ObjectTileStore>) -> Result<TileLog, TileLogError> {
    TileLog::open_in(state, store, key(), TileLogOptions::default())
}

/// A unique prefix per test run, so runs never meet in the bucket.
fn prefix(tag: &str) -> String {
    format!(
        "{tag}-{}-{}",
        std::process::id(),
        attest_dsse::Timestamp::now().unix()
    )
}

/// Reads tiles and bundles from the store, for a verifying reader.
struct FromStore<'a>(&'a ObjectTileStore);

impl TileSource for FromStore<'_> {
    type Error = String;
    fn read_tile(&self, tile: TileId, _fresh: bool) -> Result<Vec<u8>, String> {
        self.0
            .get(&tile.path())
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("{} missing", tile.path()))
    }
    fn read_entry_bundle(&self, tile: TileId, _fresh: bool) -> Result<Vec<u8>, String> {
        self.0
            .get(&tile.entries_path())
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("{} missing", tile.entries_path()))
    }
}

/// A child's endpoint, prefix and state directory (`None`: not a child).
fn child_env() -> Option<(String, String, String)> {
    Some((
        std::env::var("ATTEST_S3_ENDPOINT").ok()?,
        std::env::var("ATTEST_S3_PREFIX").ok()?,
        std::env::var("ATTEST_S3_STATE").ok()?,
    ))
}

/// Child: eight threads append until killed, printing each acknowledgement.
#[test]
#[ignore = "run as a child process by the S3 tests"]
fn s3_child_appender() {
    let Some((ep, pfx, state)) = child_env() else {
        return;
    };
    let log = open(Path::new(&state), store(&ep, &pfx)).unwrap();
    let out = Arc::new(Mutex::new(std::io::stdout()));
    std::thread::scope(|s| {
        for t in 0..8u64 {
            let (log, out) = (log.clone(), Arc::clone(&out));
            s.spawn(move || {
                for i in 0.. {
                    let data = format!("t{t} i{i}");
                    let done = log.append(data.clone().into_bytes()).unwrap();
                    let mut o = out.lock().unwrap();
                    writeln!(o, "ACK {} {data}", done.index).unwrap();
                    o.flush().unwrap();
                }
            });
        }
    });
}

/// Child: opens the log (racing another), appends 20 entries, and says
/// which happened.
#[test]
#[ignore = "run as a child process by the S3 tests"]
fn s3_child_racer() {
    let Some((ep, pfx, state)) = child_env() else {
        return;
    };
    match open(Path::new(&state), store(&ep, &pfx)) {
        Ok(log) => {
            for i in 0..20 {
                log.append(format!("{state} {i}").into_bytes()).unwrap();
            }
            println!("INTEGRATED");
        }
        Err(TileLogError::Fenced(ClaimError::Held(owner))) => println!("FENCED {owner}"),
        Err(e) => println!("ERROR {e}"),
    }
}

#[test]
fn on_s3_acknowledged_entries_survive_sigkill_and_damage_is_refused() {
    let Some(ep) = endpoint() else { return };
    bucket(&ep);
    let pfx = prefix("crash");
    let state = TempDir::new("s3-state");
    let mut acked: Vec<(u64, String)> = Vec::new();
    for round in 0..2u64 {
        let mut c = Running::spawn(child::command(
            "s3_child_appender",
            &[
                ("ATTEST_S3_ENDPOINT", ep.clone()),
                ("ATTEST_S3_PREFIX", pfx.clone()),
                ("ATTEST_S3_STATE", state.path().display().to_string()),
            ],
        ));
        let want = 40 * (round + 1);
        c.wait_for_line(
            |l| {
                l.starts_with("ACK ")
                    && l.split(' ')
                        .nth(1)
                        .and_then(|n| n.parse::<u64>().ok())
                        .is_some_and(|n| n >= want)
            },
            Duration::from_secs(120),
        );
        for l in c.kill() {
            let mut p = l.splitn(3, ' ');
            if let (Some("ACK"), Some(i), Some(d)) = (p.next(), p.next(), p.next()) {
                acked.push((i.parse().unwrap(), d.to_owned()));
            }
        }
        // Reopened (by this process: the lease is the log's, not the
        // process's): every acknowledged entry at its index.
        let s = store(&ep, &pfx);
        let log = open(state.path(), Arc::clone(&s)).unwrap();
        let size: u64 = log.checkpoint().lines().nth(1).unwrap().parse().unwrap();
        let root =
            attest_merkle::Hash::from_base64(log.checkpoint().lines().nth(2).unwrap()).unwrap();
        let reader = TileReader::new(FromStore(&s), size, root);
        for (i, d) in &acked {
            assert_eq!(reader.entry(*i).unwrap(), d.as_bytes(), "round {round}");
        }
        drop(log);
    }
    // A deleted checkpoint object: refused, reported, repaired.
    let s = store(&ep, &pfx);
    s.delete("checkpoint").unwrap();
    assert!(matches!(
        open(state.path(), store(&ep, &pfx)),
        Err(TileLogError::Damaged(TileDamage::CheckpointMissing { .. }))
    ));
    assert!(!check_tile_log_in(state.path(), &*s).unwrap().healthy());
    let r = repair_tile_log_in(state.path(), &*s).unwrap();
    assert_eq!(r.rewritten, ["checkpoint"]);
    let log = open(state.path(), store(&ep, &pfx)).unwrap();
    assert!(!log.append(b"after".to_vec()).unwrap().existing);
}

#[test]
fn on_s3_two_racing_sequencers_never_both_integrate() {
    let Some(ep) = endpoint() else { return };
    bucket(&ep);
    for round in 0..3 {
        let pfx = prefix(&format!("race{round}"));
        let (a, b) = (TempDir::new("s3-race-a"), TempDir::new("s3-race-b"));
        let spawn = |state: &TempDir| {
            child::command(
                "s3_child_racer",
                &[
                    ("ATTEST_S3_ENDPOINT", ep.clone()),
                    ("ATTEST_S3_PREFIX", pfx.clone()),
                    ("ATTEST_S3_STATE", state.path().display().to_string()),
                ],
            )
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
        };
        // Both started before either is waited for.
        let (ca, cb) = (spawn(&a), spawn(&b));
        let outs: Vec<String> = [ca, cb]
            .into_iter()
            .map(|c| String::from_utf8(c.wait_with_output().unwrap().stdout).unwrap())
            .collect();
        let won = outs.iter().filter(|o| o.contains("INTEGRATED")).count();
        let fenced = outs.iter().filter(|o| o.contains("FENCED")).count();
        assert_eq!((won, fenced), (1, 1), "round {round}: {outs:?}");
        // The winner's log is whole; a third sequencer is fenced off too.
        let winner = if outs[0].contains("INTEGRATED") {
            &a
        } else {
            &b
        };
        let s = store(&ep, &pfx);
        let c = check_tile_log_in(winner.path(), &*s).unwrap();
        assert!(c.healthy() && c.size == 20, "{c:?}");
        let third = TempDir::new("s3-race-c");
        assert!(matches!(
            open(third.path(), store(&ep, &pfx)),
            Err(TileLogError::Fenced(ClaimError::Held(_)))
        ));
    }
}

#[test]
fn on_s3_a_sequencer_whose_lease_is_taken_over_stops() {
    let Some(ep) = endpoint() else { return };
    bucket(&ep);
    let pfx = prefix("takeover");
    let state = TempDir::new("s3-takeover");
    let s = store(&ep, &pfx);
    let log = open(state.path(), Arc::clone(&s)).unwrap();
    log.append(b"first".to_vec()).unwrap();
    // Another sequencer takes the lease over (as an operator moving it
    // would, without stopping this one).
    s.put(LEASE, br#"{"owner":"another","epoch":0}"#).unwrap();
    let err = log.append(b"second".to_vec()).unwrap_err();
    assert!(
        matches!(&err, TileLogError::Stopped(s) if matches!(**s, SequencerError::Fenced(_))),
        "{err}"
    );
    drop(log);
    assert!(matches!(
        open(state.path(), store(&ep, &pfx)),
        Err(TileLogError::Fenced(ClaimError::Held(o))) if o == "another"
    ));
}
