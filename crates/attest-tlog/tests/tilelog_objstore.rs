//! The v2 tile log through `object_store`: in memory and on a local
//! directory under a key prefix, served over HTTP; proofs from the objects;
//! reopening recovers; a damaged object is refused.

#![cfg(all(feature = "object-store", feature = "http"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use attest_dsse::{Algorithm, SigningKey};
use attest_rekor::v2::V2Request;
use attest_tlog::{
    ObjectTileStore, TileDamage, TileLog, TileLogError, TileLogOptions, TileStore,
    check_tile_log_in, repair_tile_log_in, serve_handler,
};
use attestlog_testkit::TempDir;
use object_store::ObjectStore;
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use rekor_client::UreqTransport;
use rekor_client::v2::RekorV2Client;
use sha2::{Digest, Sha256};

fn key() -> SigningKey {
    SigningKey::ed25519_from_seed(&[8; 32])
}

#[test]
fn in_memory_objects_recover_and_refuse_damage() {
    let mem: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let state = TempDir::new("tilelog-objstore-state");
    let store = || Arc::new(ObjectTileStore::new(Arc::clone(&mem), "logs/v2").unwrap());
    {
        let log =
            TileLog::open_in(state.path(), store(), key(), TileLogOptions::default()).unwrap();
        let pending: Vec<_> = (0..600u64)
            .map(|n| log.submit(format!("entry {n}").into_bytes()).unwrap())
            .collect();
        for (n, p) in pending.into_iter().enumerate() {
            assert_eq!(p.wait().unwrap().index, n as u64);
        }
    }
    let s = store();
    assert!(s.get("tile/0/001").unwrap().is_some());
    assert!(s.get("tile/entries/002.p/88").unwrap().is_some());
    {
        let log =
            TileLog::open_in(state.path(), store(), key(), TileLogOptions::default()).unwrap();
        assert_eq!(log.append(b"entry 600".to_vec()).unwrap().index, 600);
    }
    // Another key: not this log.
    assert!(matches!(
        TileLog::open_in(
            state.path(),
            store(),
            SigningKey::ed25519_from_seed(&[9; 32]),
            TileLogOptions::default()
        ),
        Err(TileLogError::OtherLog(_))
    ));
    // A damaged object: the log does not open.
    let mut tile = s.get("tile/0/000").unwrap().unwrap();
    tile[0] ^= 1;
    s.put("tile/0/000", &tile).unwrap();
    assert!(matches!(
        TileLog::open_in(state.path(), store(), key(), TileLogOptions::default()),
        Err(TileLogError::Damaged(TileDamage::Tile {
            missing: false,
            ..
        }))
    ));
    // The journal (in the state directory) rewrites it.
    let r = repair_tile_log_in(state.path(), &*store()).unwrap();
    assert_eq!(
        (r.size, r.rewritten.as_slice()),
        (601, &["tile/0/000".to_owned()][..])
    );
    // A deleted checkpoint object: refused, not a new log; repaired.
    s.delete("checkpoint").unwrap();
    assert!(matches!(
        TileLog::open_in(state.path(), store(), key(), TileLogOptions::default()),
        Err(TileLogError::Damaged(TileDamage::CheckpointMissing {
            durable: 601
        }))
    ));
    repair_tile_log_in(state.path(), &*store()).unwrap();
    // An object beyond the journal (listed through the object store).
    s.put("tile/entries/x001/000", b"not ours").unwrap();
    assert!(matches!(
        TileLog::open_in(state.path(), store(), key(), TileLogOptions::default()),
        Err(TileLogError::Damaged(TileDamage::BeyondJournal {
            durable: 601,
            ..
        }))
    ));
    assert!(
        check_tile_log_in(state.path(), &*store())
            .unwrap()
            .damage
            .len()
            == 1
    );
    s.delete("tile/entries/x001/000").unwrap();
    let log = TileLog::open_in(state.path(), store(), key(), TileLogOptions::default()).unwrap();
    assert_eq!(log.append(b"entry 601".to_vec()).unwrap().index, 601);
}

#[test]
fn a_local_object_store_served_over_http() {
    let tmp = TempDir::created("tilelog-objstore");
    let fs: Arc<dyn ObjectStore> = Arc::new(
        LocalFileSystem::new_with_prefix(tmp.path())
            .unwrap()
            .with_fsync(true),
    );
    let store = Arc::new(ObjectTileStore::new(fs, "public").unwrap());
    let log =
        TileLog::open_in(&tmp.file("state"), store, key(), TileLogOptions::default()).unwrap();
    let server = serve_handler(log.clone(), "127.0.0.1:0", 16).unwrap();
    let url = format!("http://{}", server.local_addr());
    let c = RekorV2Client::new(&url, UreqTransport::new(), vec![log.trusted_log(&url)]);
    let signer = SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
    let mut published = Vec::new();
    for n in 0..3u64 {
        let a = format!("artifact {n}");
        let d: [u8; 32] = Sha256::digest(a.as_bytes()).into();
        let req = V2Request::message(d, signer.sign(a.as_bytes()), signer.public_key()).unwrap();
        published.push(c.publish(&req).unwrap());
    }
    let head = c.checkpoint().unwrap();
    for (i, p) in published.iter().enumerate() {
        c.prove_inclusion(&p.body, i as u64, &head).unwrap();
    }
    // The objects are files under the prefix, as a static server needs them.
    assert_eq!(
        std::fs::read_to_string(tmp.file("public/checkpoint")).unwrap(),
        head.note
    );
    assert!(tmp.file("public/tile/0/000.p/3").exists());
    server.shutdown();
}
