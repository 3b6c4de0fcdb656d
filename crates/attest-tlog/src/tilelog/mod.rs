//! The embedded log as a Rekor v2 tile log: entries integrated in batches by
//! one sequencer thread, one checkpoint per batch, and every tile and entry
//! bundle written as a static file (C2SP tlog-tiles) that any static file
//! server or CDN can serve.
//!
//! # Durability: the journal is the truth
//! A log lives in a directory of its own: `tilelog.json` (its name and key),
//! `journal` (every acknowledged batch: its entries and signed checkpoint)
//! and `LOCK`; its public files are in a [`TileStore`] (`DIR/tiles` for
//! [`TileLog::open`]), which any static server or CDN may serve.
//!
//! A batch is appended to the journal and synced first, then its entry
//! bundles and hash tiles are written, then the public checkpoint; only then
//! are its writers answered. Opening reads the journal and compares every
//! public file with it: a public checkpoint that is missing, older, foreign
//! or ahead, a tile or bundle that differs, or a file for entries the
//! journal does not have is [`TileDamage`], and the log refuses to open
//! rather than re-issue an index it already acknowledged.
//! [`repair_tile_log`] rewrites the public files from the journal when that
//! is provably safe. The one state that is not damage is the one a crash
//! leaves: the last batch journaled but its public files not all written
//! (the public checkpoint exactly one batch behind); opening finishes it.
//!
//! Partial tiles are new files (`.p/<W>`), never rewritten, so every file
//! a published checkpoint refers to is immutable.
//!
//! The whole tree's node hashes are kept in memory (64 bytes per entry) so
//! that each answer carries its inclusion proof; past tens of millions of
//! entries, run a Rekor v2 (rekor-tiles on Tessera) instead.

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::path::{Path, PathBuf};

mod api;
mod check;
mod dedup;
mod journal;
mod recover;
mod sequencer;
mod store;

#[allow(unused_imports)]
use api::*;
#[allow(unused_imports)]
use check::*;
pub use check::{
    TileLogCheck, TileLogRepair, check_tile_log, check_tile_log_in, repair_tile_log,
    repair_tile_log_in,
};
pub use recover::{CheckpointProblem, TileDamage};
#[allow(unused_imports)]
use sequencer::*;
pub use store::{ClaimError, DirStore, TileStore};

use journal::{JOURNAL, Journal};
use recover::{Meta, tile_bytes};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::thread::JoinHandle;

use attest_dsse::{Algorithm, PublicKey, SigningKey};
use attest_merkle::tiles::{TILE_WIDTH, TileId, push_bundle_entry, tile_in_tree};
use attest_merkle::{Hash, MerkleTree, leaf_hash};
use attest_rekor::v2::{V2Request, V2Verifier, algorithm_of};
use attest_rekor::{LogId, NoteVerifier, SignedNote};
use base64ct::{Base64, Encoding};
use http::{Method, Request, Response, StatusCode, header};

/// The longest entry (canonical body) a tile log takes: entry bundles
/// prefix each entry with a `u16` length.
pub const MAX_ENTRY_BYTES: usize = u16::MAX as usize;

/// Whether a public store holds no checkpoint and no tile.
fn is_empty(public: &dyn TileStore) -> Result<bool, TileLogError> {
    Ok(public
        .get("checkpoint")
        .map_err(io_err("read checkpoint"))?
        .is_none()
        && public
            .list("tile/")
            .map_err(io_err("list the tiles"))?
            .is_empty())
}

/// Settings of a [`TileLog`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TileLogOptions {
    /// The log's name: the checkpoint origin and the note key name (a host
    /// name by convention, like `log2025-1.rekor.sigstore.dev`).
    pub name: String,
    /// Most entries one batch (one checkpoint) takes.
    pub max_batch: usize,
    /// Largest accepted request body.
    pub max_body_bytes: usize,
    /// How many of the most recent entries an identical new entry is
    /// found among (and answered with the existing index, HTTP 409, as
    /// Rekor v2); 0 turns deduplication off. About 20 bytes of memory an
    /// entry in the window.
    pub dedup_window: u64,
    /// Whether [`TileLog::open`] syncs each public file (tiles, bundles,
    /// checkpoint) before answering, besides the journal. Off by default:
    /// the journal alone makes every answered entry durable, a process
    /// crash loses no public file, and after a power failure the log
    /// refuses to open until `log repair` rewrites them from the journal.
    pub sync_public_files: bool,
}

impl Default for TileLogOptions {
    fn default() -> Self {
        Self {
            name: "attestlog-v2.local".into(),
            max_batch: 8192,
            max_body_bytes: 1 << 20,
            dedup_window: 1 << 20,
            sync_public_files: false,
        }
    }
}

impl TileLogOptions {
    /// Checkpoints signed under `name`.
    #[must_use]
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Sync every public file too (see
    /// [`sync_public_files`](Self::sync_public_files)).
    #[must_use]
    pub fn with_synced_public_files(mut self, sync: bool) -> Self {
        self.sync_public_files = sync;
        self
    }

    /// Deduplicate among the last `entries` entries (0: not at all).
    #[must_use]
    pub fn with_dedup_window(mut self, entries: u64) -> Self {
        self.dedup_window = entries;
        self
    }
}

/// Why a tile log could not be opened or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TileLogError {
    /// File or store I/O.
    #[error("{context}")]
    Io {
        /// What was being done.
        context: String,
        /// The error.
        #[source]
        source: io::Error,
    },
    /// Another process has the directory open.
    #[error("{0} is in use by another process")]
    Locked(PathBuf),
    /// Rekor v2 logs sign checkpoints with Ed25519 (their log id is the
    /// C2SP key hash).
    #[error("a tile log's key must be Ed25519")]
    KeyType,
    /// The directory belongs to a log with another key or name.
    #[error("this tile log was created with another key or name: {0}")]
    OtherLog(String),
    /// The public files disagree with the journal, or the journal is
    /// damaged: the log refuses to open rather than forget or fork.
    #[error("the tile log is damaged: {0}")]
    Damaged(TileDamage),
    /// Another sequencer holds (or took over) the log's public store: two
    /// sequencers on one store would fork the log.
    #[error("the tile log is fenced off: {0}")]
    Fenced(ClaimError),
    /// An entry longer than an entry bundle can hold
    /// ([`MAX_ENTRY_BYTES`]).
    #[error("an entry of {0} bytes is longer than a tile log entry may be (65535)")]
    TooLarge(usize),
    /// The sequencer stopped (a write failed; reopen the log).
    #[error("the tile log's sequencer stopped")]
    Stopped(#[source] Arc<SequencerError>),
    /// The entry is logged (durably), but its inclusion proof could not be
    /// made.
    #[error("entry {index} is logged, but its inclusion proof in a tree of {size} failed")]
    NoProof {
        /// The entry's index.
        index: u64,
        /// The tree size.
        size: u64,
        /// Why.
        #[source]
        source: attest_merkle::ProofError,
    },
}

/// Why the tile log's sequencer stopped: the step of a batch that failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SequencerError {
    /// A file could not be written.
    #[error("writing {path}")]
    Write {
        /// The file, relative to the log.
        path: String,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The batch's tiles and bundles could not be written.
    #[error("writing the batch's tiles")]
    WriteTiles(#[source] io::Error),
    /// The checkpoint could not be signed.
    #[error("signing the checkpoint")]
    Sign(#[source] attest_rekor::NoteError),
    /// Another sequencer claimed the store.
    #[error("the store was claimed by another sequencer")]
    Fenced(#[source] ClaimError),
    /// The journal could not be written.
    #[error("appending to the journal {}", path.display())]
    Journal {
        /// The journal file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The published size could not be recorded.
    #[error("recording the published size")]
    Published(#[source] io::Error),
    /// An entry does not fit an entry bundle.
    #[error("an entry bundle")]
    Bundle(#[source] attest_merkle::tiles::EntryTooLong),
    /// The sequencer's thread is gone (it stopped earlier, or the log was
    /// closed).
    #[error("the sequencer is gone")]
    Gone,
}

pub(crate) fn io_err(context: impl Into<String>) -> impl FnOnce(io::Error) -> TileLogError {
    let context = context.into();
    move |source| TileLogError::Io { context, source }
}

/// An integrated entry and the proof of it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Integrated {
    /// The entry's index.
    pub index: u64,
    /// Inclusion proof in the tree of the checkpoint.
    pub proof: Vec<Hash>,
    /// The signed checkpoint covering the entry.
    pub checkpoint: String,
    /// The checkpoint's tree size.
    pub tree_size: u64,
    /// The checkpoint's root.
    pub root: Hash,
    /// The entry was already in the log (an identical entry among the
    /// recent ones): `index` is the existing entry's, nothing was added.
    pub existing: bool,
}

/// Distinct verifier keys kept parsed.
const KEY_CACHE: usize = 1024;

struct Inner {
    store: Arc<dyn TileStore>,
    /// Verifier keys by their DER (SPKI or certificate).
    keys: Mutex<HashMap<Vec<u8>, PublicKey>>,
    public: PublicKey,
    name: String,
    log_id: LogId,
    options: TileLogOptions,
    created: attest_dsse::Timestamp,
    head: Arc<RwLock<String>>,
    tx: Mutex<Option<mpsc::SyncSender<Job>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    _lock: crate::DirLock,
    /// Witness cosignatures served with the checkpoint.
    cosignatures: RwLock<Option<Arc<crate::Cosignatures>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        crate::close_writer(&self.tx, &self.writer);
    }
}

/// An entry queued by [`TileLog::submit`].
#[derive(Debug)]
pub struct Pending {
    rx: mpsc::Receiver<Result<Integrated, TileLogError>>,
}

impl Pending {
    /// Waits until a durable checkpoint covers the entry.
    ///
    /// # Errors
    /// [`TileLogError::Stopped`] if the sequencer stopped or the batch's
    /// write failed (the entry is then not in the log).
    pub fn wait(self) -> Result<Integrated, TileLogError> {
        self.rx
            .recv()
            .map_err(|_| TileLogError::Stopped(Arc::new(SequencerError::Gone)))?
    }
}

/// An embedded Rekor v2 tile log. Cheap to clone.
#[derive(Clone)]
pub struct TileLog {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for TileLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TileLog")
            .field("name", &self.inner.name)
            .finish_non_exhaustive()
    }
}

/// The C2SP log id of an Ed25519 log key: SHA-256(name ‖ `\n` ‖ 0x01 ‖ key),
/// all 32 bytes (Rekor v2's `logId.keyId`; its first 4 are the note key id).
#[must_use]
pub fn c2sp_log_id(name: &str, key: &PublicKey) -> LogId {
    LogId(attest_rekor::c2sp_key_hash(name, key))
}

/// The public files' directory under a log directory (see [`TileLog::open`]).
pub const PUBLIC_DIR: &str = "tiles";

impl TileLog {
    /// Opens (or creates) the tile log in `dir`: its journal and identity
    /// there, its public files (checkpoint, tiles, bundles) in `dir/tiles`,
    /// which may be served as they are. The directory is locked while the
    /// log is open. `key` signs checkpoints (Ed25519).
    ///
    /// # Errors
    /// [`TileLogError`]; [`TileLogError::Damaged`] when the public files
    /// disagree with the journal (see [`check_tile_log`] and
    /// [`repair_tile_log`]).
    pub fn open(
        dir: &Path,
        key: SigningKey,
        options: TileLogOptions,
    ) -> Result<Self, TileLogError> {
        let store = DirStore::new(dir.join(PUBLIC_DIR));
        let store = if options.sync_public_files {
            store
        } else {
            store.without_sync()
        };
        Self::open_in(dir, Arc::new(store), key, options)
    }

    /// Opens (or creates) the tile log whose journal and identity are in
    /// `dir` (locked while open) and whose public files are in `public`
    /// (object storage, another directory). Only this log may write to
    /// `public`.
    ///
    /// # Errors
    /// [`TileLogError`].
    pub fn open_in(
        dir: &Path,
        public: Arc<dyn TileStore>,
        key: SigningKey,
        options: TileLogOptions,
    ) -> Result<Self, TileLogError> {
        let public_key = key.public_key().clone();
        if public_key.algorithm() != Algorithm::Ed25519 {
            return Err(TileLogError::KeyType);
        }
        std::fs::create_dir_all(dir).map_err(io_err("create the log directory"))?;
        let lock = lock_dir(dir)?;
        let name = options.name.clone();
        let found = recover::read_meta(dir)?;
        if let Some(meta) = &found
            && (meta.name != name || meta.public != public_key)
        {
            return Err(TileLogError::OtherLog(format!(
                "tilelog.json names {} with another key or name than {name}",
                meta.name
            )));
        }
        // Claim the public store first: of two sequencers opening one
        // store, the loser stops here, before it reads or writes anything.
        let sequencer = match &found {
            Some(meta) => meta.sequencer.clone(),
            None => recover::new_sequencer_id()?,
        };
        public.claim(&sequencer).map_err(TileLogError::Fenced)?;
        let meta = match found {
            Some(meta) => meta,
            None => {
                // A new log: nothing of an old one may be anywhere.
                if dir.join(JOURNAL).exists() || !is_empty(public.as_ref())? {
                    let legacy = public
                        .get(recover::META)
                        .map_err(io_err("read tilelog.json"))?
                        .is_some_and(|b| recover::is_legacy_public_meta(&b));
                    return Err(TileLogError::Damaged(TileDamage::NoJournal { legacy }));
                }
                let meta = Meta {
                    name: name.clone(),
                    public: public_key.clone(),
                    created: attest_dsse::Timestamp::now(),
                    sequencer,
                };
                recover::write_meta(dir, &meta)?;
                public
                    .put(recover::META, &recover::public_meta_bytes(&meta))
                    .map_err(io_err("write the public tilelog.json"))?;
                meta
            }
        };
        let verifier = NoteVerifier::c2sp(name.clone(), public_key.clone());
        let journal_path = dir.join(JOURNAL);
        // A journal with no batch yet (a creation cut short) and no public
        // file is a new log; anything else is compared with the journal.
        // Read once: a journal with no batch yet (a creation cut short) and
        // no public file is a new log; anything else is compared with it.
        let read = recover::read_journal(dir)?;
        let fresh = read.intact == 0 && is_empty(public.as_ref())?;
        let (scan, interrupted, listed) = if fresh {
            (read, false, Vec::new())
        } else {
            let found = recover::compare(dir, public.as_ref(), &verifier, &meta, read)?;
            if let Some(first) = found.damage.into_iter().next() {
                return Err(TileLogError::Damaged(first));
            }
            (found.scan, found.interrupted_publish, found.partials)
        };
        if interrupted {
            // The last batch was journaled (so acknowledged, or about to
            // be) but a crash cut its publishing short: finish it.
            recover::rewrite_public(dir, public.as_ref(), &scan, &meta)?;
            recover::write_published(dir, scan.tree.size()).map_err(io_err("write published"))?;
        }
        let journal =
            Journal::open(&journal_path, scan.intact).map_err(io_err("open the journal"))?;
        // Partial files of tiles that are full now are garbage (a crash
        // came before they were deleted); the others are kept until theirs is.
        let mut partials: BTreeMap<(u8, u64), Vec<u16>> = BTreeMap::new();
        for (level, tile) in listed {
            let full = tile_in_tree(tile.level, tile.index, scan.tree.size())
                .is_some_and(|t| !t.is_partial());
            if full {
                let path = if level.is_some() {
                    tile.path()
                } else {
                    tile.entries_path()
                };
                public
                    .delete(&path)
                    .map_err(io_err(format!("delete {path}")))?;
            } else if level.is_some() {
                partials
                    .entry((tile.level, tile.index))
                    .or_default()
                    .push(tile.width);
            }
        }
        let head = Arc::new(RwLock::new(scan.checkpoint.clone()));
        let mut seq = Sequencer {
            store: public.clone(),
            owner: meta.sequencer.clone(),
            journal,
            published: recover::PublishedMarker::open(dir).map_err(io_err("open published"))?,
            key,
            name: name.clone(),
            key_id: verifier.key_id(),
            recent: dedup::Recent::new(options.dedup_window, &scan.tree),
            dedup: options.dedup_window > 0,
            tree: scan.tree,
            edge: scan.edge,
            partials,
            head: head.clone(),
        };
        if fresh {
            // A new log journals and publishes its empty checkpoint.
            seq.integrate(Vec::new())
                .map_err(|e| TileLogError::Stopped(Arc::new(e)))?;
        }
        let (tx, rx) = mpsc::sync_channel::<Job>(options.max_batch.max(1) * 2);
        let max_batch = options.max_batch.max(1);
        let writer = std::thread::Builder::new()
            .name("tilelog-sequencer".into())
            .spawn(move || seq.run(rx, max_batch))
            .map_err(io_err("start the sequencer"))?;
        Ok(Self {
            inner: Arc::new(Inner {
                store: public,
                keys: Mutex::new(HashMap::new()),
                log_id: c2sp_log_id(&name, &public_key),
                public: public_key,
                name,
                options,
                created: meta.created,
                head,
                tx: Mutex::new(Some(tx)),
                writer: Mutex::new(Some(writer)),
                _lock: lock,
                cosignatures: RwLock::new(None),
            }),
        })
    }

    /// The log's public key.
    #[must_use]
    pub fn public_key(&self) -> &PublicKey {
        &self.inner.public
    }

    /// The log's name (checkpoint origin and key name).
    #[must_use]
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The log id (C2SP key hash, 32 bytes).
    #[must_use]
    pub fn log_id(&self) -> LogId {
        self.inner.log_id
    }

    /// The latest signed checkpoint.
    #[must_use]
    pub fn checkpoint(&self) -> String {
        self.inner
            .head
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The latest checkpoint as served: with the witness cosignatures
    /// obtained for it, once [`Witnessing`](crate::Witnessing) runs.
    #[must_use]
    pub fn served_checkpoint(&self) -> String {
        self.decorate(self.checkpoint())
    }

    pub(crate) fn attach_cosignatures(&self, c: Arc<crate::Cosignatures>) {
        // The latest witnessing's lines are served.
        *self
            .inner
            .cosignatures
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some(c);
    }

    pub(crate) fn decorate(&self, checkpoint: String) -> String {
        match &*self
            .inner
            .cosignatures
            .read()
            .unwrap_or_else(PoisonError::into_inner)
        {
            Some(c) => c.decorate(&checkpoint),
            None => checkpoint,
        }
    }

    /// The consistency proof from size `old` to `new` (`0 < old <= new <=`
    /// the current size), read from the log's own tiles and checked against
    /// the current checkpoint as it is read.
    ///
    /// # Errors
    /// [`TileLogError::Io`] when a tile cannot be read or does not verify,
    /// or the sizes are out of range.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>, TileLogError> {
        let note = self.checkpoint();
        let (size, root) = SignedNote::parse(&note)
            .ok()
            .and_then(|n| n.checkpoint().ok().map(|c| (c.size(), *c.root())))
            .ok_or_else(|| TileLogError::Io {
                context: "parse the log's own checkpoint".into(),
                source: io::Error::other("malformed"),
            })?;
        let bad = |e: String| TileLogError::Io {
            context: format!("a consistency proof from {old} to {new}"),
            source: io::Error::other(e),
        };
        if old == 0 || old > new || new > size {
            return Err(bad(format!(
                "sizes {old} to {new} out of range for a tree of {size}"
            )));
        }
        if old == new {
            return Ok(Vec::new());
        }
        let reader = attest_merkle::tiles::TileReader::new(
            StoreTiles(self.inner.store.as_ref()),
            size,
            root,
        );
        let plan = attest_merkle::consistency_plan(old, new).map_err(|e| bad(e.to_string()))?;
        let proof = plan.read_proof(&reader).map_err(|e| bad(e.to_string()))?;
        Ok(proof.as_slice().to_vec())
    }

    /// This log as a trusted Rekor v2 log at `base_url`.
    #[must_use]
    pub fn trusted_log(&self, base_url: &str) -> attest_rekor::TrustedLog {
        attest_rekor::TrustedLog::new(
            self.inner.log_id,
            self.inner.public.clone(),
            self.inner.name.clone(),
            base_url,
        )
        .with_api(attest_rekor::LogApi::V2)
    }

    /// A Sigstore trusted root (`trusted_root.json`) for this log at
    /// `base_url` (a Rekor v2 `tlogs` entry: Ed25519 key, C2SP log id,
    /// valid from the log's creation) and, when given, a timestamp authority
    /// at `tsa_url`.
    #[must_use]
    pub fn trusted_root(
        &self,
        base_url: &str,
        tsa: Option<(&crate::TsaService, &str)>,
    ) -> attest_rekor::TrustedRoot {
        let log = attest_rekor::TrustedLog::new(
            self.inner.log_id,
            self.inner.public.clone(),
            attest_rekor::host_of(base_url),
            base_url,
        )
        .with_api(attest_rekor::LogApi::V2)
        .valid_between(Some(self.inner.created), None);
        let root = attest_rekor::TrustedRoot::new().with_log(log);
        match tsa {
            Some((t, url)) => root.with_timestamp_authority(t.trusted_authority(url)),
            None => root,
        }
    }
}

#[cfg(test)]
mod tests;

/// The log's own public store as a tile source (a partial tile the log has
/// since filled is cut from the full one).
struct StoreTiles<'a>(&'a dyn TileStore);

impl StoreTiles<'_> {
    fn read(&self, path: &str, full: &str, len: usize) -> io::Result<Vec<u8>> {
        if let Some(b) = self.0.get(path)? {
            return Ok(b);
        }
        match self.0.get(full)? {
            Some(mut b) if path != full && b.len() >= len => {
                b.truncate(len);
                Ok(b)
            }
            _ => Err(io::Error::new(io::ErrorKind::NotFound, path.to_owned())),
        }
    }
}

impl attest_merkle::tiles::TileSource for StoreTiles<'_> {
    type Error = io::Error;

    fn read_tile(&self, tile: TileId, _fresh: bool) -> io::Result<Vec<u8>> {
        self.read(
            &tile.path(),
            &tile.full().path(),
            usize::from(tile.width) * 32,
        )
    }

    fn read_entry_bundle(&self, tile: TileId, _fresh: bool) -> io::Result<Vec<u8>> {
        // Bundles are length-prefixed: a partial one is not a byte prefix
        // of a known length; only the exact file is used.
        self.0
            .get(&tile.entries_path())?
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, tile.entries_path()))
    }
}
