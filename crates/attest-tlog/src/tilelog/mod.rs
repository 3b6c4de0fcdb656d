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

mod dedup;
mod journal;
mod recover;
mod store;

pub use recover::TileDamage;
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
    #[error("{context}: {source}")]
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
    #[error("the tile log's sequencer stopped: {0}")]
    Stopped(String),
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

struct Job {
    body: Vec<u8>,
    /// Called once with the outcome, on the sequencer thread (a channel
    /// send: a blocking waiter's or an async task's).
    reply: Box<dyn FnOnce(Result<Integrated, String>) + Send>,
}

struct Sequencer {
    store: Arc<dyn TileStore>,
    /// The id this sequencer claimed the store with.
    owner: String,
    journal: Journal,
    /// The log's `published` marker.
    published: recover::PublishedMarker,
    key: SigningKey,
    name: String,
    key_id: [u8; 4],
    tree: MerkleTree,
    /// The entries of the current partial bundle.
    edge: Vec<Vec<u8>>,
    /// The most recent entries' leaf hashes, for deduplication.
    recent: dedup::Recent,
    /// Whether to deduplicate within a batch too (`dedup_window > 0`).
    dedup: bool,
    /// The widths written of each tile that is still partial: once the
    /// full tile is published, these files are deleted (readers that ask
    /// for them get 404 and read the full tile, as C2SP tlog-tiles says).
    partials: BTreeMap<(u8, u64), Vec<u16>>,
    head: Arc<RwLock<String>>,
}

/// The paths of a superseded partial tile (and, at level 0, its bundle).
fn superseded(level: u8, index: u64, width: u16) -> Vec<String> {
    let t = TileId {
        level,
        index,
        width,
    };
    if level == 0 {
        vec![t.path(), t.entries_path()]
    } else {
        vec![t.path()]
    }
}

/// A response with a body of content type `ctype`.
fn plain_response(status: StatusCode, ctype: &'static str, body: Vec<u8>) -> Response<Vec<u8>> {
    let mut r = Response::new(body);
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(ctype),
    );
    r
}

/// Rekor's error body `{code, message}`.
fn error_response(status: StatusCode, message: &str) -> Response<Vec<u8>> {
    let body = serde_json::to_vec(&serde_json::json!({
        "code": status.as_u16(), "message": message
    }))
    .unwrap_or_default();
    plain_response(status, "application/json", body)
}

/// The answer to a create.
fn create_response(r: Result<Vec<u8>, (StatusCode, String)>) -> Response<Vec<u8>> {
    match r {
        Ok(json) => plain_response(StatusCode::CREATED, "application/json", json),
        Err((status, m)) => error_response(status, &m),
    }
}

/// The checkpoint body for `size` and `root` under `name`.
fn checkpoint_text(name: &str, size: u64, root: &Hash) -> String {
    format!("{name}\n{size}\n{}\n", root.base64())
}

impl Sequencer {
    fn put(&self, path: &str, bytes: &[u8]) -> Result<(), String> {
        self.store
            .put(path, bytes)
            .map_err(|e| format!("write {path}: {e}"))
    }

    /// Integrates one batch durably; the checkpoint text.
    fn integrate(&mut self, bodies: Vec<Vec<u8>>) -> Result<String, String> {
        let old = self.tree.size();
        let mut files: Vec<(String, Vec<u8>)> = Vec::new();
        for b in &bodies {
            self.tree.push(b);
            self.edge.push(b.clone());
            if self.edge.len() == usize::from(TILE_WIDTH) {
                let index = (self.tree.size() - 1) >> 8;
                files.push(self.bundle(index)?);
                self.edge.clear();
            }
        }
        let new = self.tree.size();
        if !self.edge.is_empty() {
            files.push(self.bundle(new >> 8)?);
        }
        // Every tile whose contents changed, at each level; the partial
        // versions of those that are full now become garbage.
        let mut garbage = Vec::new();
        for level in 0..=attest_merkle::tiles::MAX_TILE_LEVEL {
            let shift = u32::from(level) * 8;
            let (m_old, m_new) = (old >> shift, new >> shift);
            if m_new == m_old {
                continue;
            }
            for index in (m_old >> 8)..=((m_new - 1) >> 8) {
                if let Some(tile) = tile_in_tree(level, index, new) {
                    files.push((tile.path(), tile_bytes(&self.tree, tile)));
                    if tile.is_partial() {
                        self.partials
                            .entry((level, index))
                            .or_default()
                            .push(tile.width);
                    } else {
                        for width in self.partials.remove(&(level, index)).unwrap_or_default() {
                            garbage.push(superseded(level, index, width));
                        }
                    }
                }
            }
        }
        let text = checkpoint_text(&self.name, new, &self.tree.root());
        let note = SignedNote::sign(&text, &self.name, self.key_id, &self.key)
            .map_err(|e| format!("sign the checkpoint: {e}"))?
            .to_text();
        // Still ours? (A sequencer whose store was taken over stops here,
        // before it journals or writes anything.)
        self.store
            .check_claim(&self.owner)
            .map_err(|e| format!("fenced: {e}"))?;
        // The journal first: once it is synced the batch is the log's.
        let record = journal::encode(old, &bodies, &note).map_err(|e| e.to_string())?;
        self.journal
            .append(&record)
            .map_err(|e| format!("append to {}: {e}", self.journal.path().display()))?;
        // Then the public files, the checkpoint naming them last.
        self.store
            .put_all(&files)
            .map_err(|e| format!("write tiles: {e}"))?;
        self.put("checkpoint", note.as_bytes())?;
        self.published
            .set(new)
            .map_err(|e| format!("write published: {e}"))?;
        // Only now that a published checkpoint names the full tiles. A
        // failure leaves garbage, not damage: opening collects it.
        for paths in garbage {
            for p in paths {
                let _ = self.store.delete(&p);
            }
        }
        *self.head.write().unwrap_or_else(PoisonError::into_inner) = note.clone();
        Ok(note)
    }

    fn bundle(&self, index: u64) -> Result<(String, Vec<u8>), String> {
        let mut bytes = Vec::new();
        for e in &self.edge {
            push_bundle_entry(&mut bytes, e).map_err(|e| e.to_string())?;
        }
        let id = TileId {
            level: 0,
            index,
            width: self.edge.len() as u16,
        };
        Ok((id.entries_path(), bytes))
    }

    fn run(mut self, rx: mpsc::Receiver<Job>, max_batch: usize) {
        while let Some(mut jobs) = crate::group_commit::next_batch(&rx, max_batch) {
            let first_index = self.tree.size();
            // Each job's index: an identical recent entry's (or one earlier
            // in this batch), else the next new one; without dedup, every
            // job is new.
            let mut bodies: Vec<Vec<u8>> = Vec::with_capacity(jobs.len());
            let (recent, tree, dedup) = (&self.recent, &self.tree, self.dedup);
            let slots = crate::group_commit::assign(
                &mut jobs,
                |job| dedup.then(|| leaf_hash(&job.body)),
                |leaf| recent.find(leaf, tree),
                |job| {
                    bodies.push(std::mem::take(&mut job.body));
                    first_index + bodies.len() as u64 - 1
                },
            );
            let indices: Vec<(u64, bool)> = slots.iter().map(|s| (s.index, !s.new)).collect();
            let result = if bodies.is_empty() {
                // Only duplicates: the current checkpoint covers them.
                Ok(self
                    .head
                    .read()
                    .unwrap_or_else(PoisonError::into_inner)
                    .clone())
            } else {
                self.integrate(bodies)
            };
            match result {
                Ok(note) => {
                    self.recent.extend(first_index, &self.tree);
                    let size = self.tree.size();
                    let root = self.tree.root();
                    for (job, (index, existing)) in jobs.into_iter().zip(indices) {
                        let proof = self
                            .tree
                            .inclusion_proof(index, size)
                            .map(|p| p.to_vec())
                            .unwrap_or_default();
                        (job.reply)(Ok(Integrated {
                            index,
                            proof,
                            checkpoint: note.clone(),
                            tree_size: size,
                            root,
                            existing,
                        }));
                    }
                }
                Err(e) => {
                    // The in-memory tree is ahead of what is durable: stop,
                    // and let a reopen recover from the files.
                    for job in jobs {
                        (job.reply)(Err(e.clone()));
                    }
                    for job in rx.try_iter() {
                        (job.reply)(Err(e.clone()));
                    }
                    return;
                }
            }
        }
    }
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
}

impl Drop for Inner {
    fn drop(&mut self) {
        crate::close_writer(&self.tx, &self.writer);
    }
}

/// An entry queued by [`TileLog::submit`].
#[derive(Debug)]
pub struct Pending {
    rx: mpsc::Receiver<Result<Integrated, String>>,
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
            .map_err(|_| TileLogError::Stopped("the sequencer stopped".into()))?
            .map_err(TileLogError::Stopped)
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
            seq.integrate(Vec::new()).map_err(TileLogError::Stopped)?;
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

    /// Appends one canonical entry body and waits until a durable
    /// checkpoint covers it.
    ///
    /// # Errors
    /// [`TileLogError::Stopped`] if the sequencer stopped or a write failed.
    pub fn append(&self, body: Vec<u8>) -> Result<Integrated, TileLogError> {
        self.submit(body)?.wait()
    }

    /// Queues one canonical entry body without waiting: a writer with many
    /// entries in flight submits them all, then waits for each (they join
    /// the same batches, so one checkpoint covers many).
    ///
    /// # Errors
    /// [`TileLogError::Stopped`] if the sequencer stopped.
    pub fn submit(&self, body: Vec<u8>) -> Result<Pending, TileLogError> {
        let (reply, rx) = mpsc::sync_channel(1);
        self.enqueue(
            body,
            Box::new(move |r| {
                let _ = reply.send(r);
            }),
        )?;
        Ok(Pending { rx })
    }

    /// [`append`](Self::append) for async callers: the wait suspends the
    /// task, no thread blocks on it.
    ///
    /// # Errors
    /// As [`append`](Self::append).
    #[cfg(feature = "http")]
    pub async fn append_async(&self, body: Vec<u8>) -> Result<Integrated, TileLogError> {
        let (reply, rx) = tokio::sync::oneshot::channel();
        self.enqueue(
            body,
            Box::new(move |r| {
                let _ = reply.send(r);
            }),
        )?;
        rx.await
            .map_err(|_| TileLogError::Stopped("the sequencer stopped".into()))?
            .map_err(TileLogError::Stopped)
    }

    fn enqueue(
        &self,
        body: Vec<u8>,
        reply: Box<dyn FnOnce(Result<Integrated, String>) + Send>,
    ) -> Result<(), TileLogError> {
        if body.len() > MAX_ENTRY_BYTES {
            return Err(TileLogError::TooLarge(body.len()));
        }
        let tx = self
            .inner
            .tx
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or_else(|| TileLogError::Stopped("closed".into()))?;
        tx.send(Job { body, reply })
            .map_err(|_| TileLogError::Stopped("the sequencer stopped".into()))
    }

    /// Checks a `hashedRekordRequestV002` as a Rekor v2 log does (the
    /// signature verifies over the digest with the named key), logs its
    /// canonical body and returns the `TransparencyLogEntry` JSON.
    ///
    /// # Errors
    /// `(status, message)`: 400 for a request the log refuses, 409 (with
    /// the index, in Rekor v2's words) when an identical entry is among the
    /// recent ones ([`TileLogOptions::dedup_window`]), 413 for an entry
    /// over [`MAX_ENTRY_BYTES`], 500 when the write failed.
    pub fn create(&self, request_json: &[u8]) -> Result<Vec<u8>, (StatusCode, String)> {
        let body = self.validate(request_json)?;
        let done = self.append(body.clone());
        self.created(&body, done)
    }

    /// [`create`](Self::create) for async callers (the HTTP server): the
    /// request is checked on the calling task, the wait for the batch's
    /// checkpoint suspends it.
    ///
    /// # Errors
    /// As [`create`](Self::create).
    #[cfg(feature = "http")]
    pub async fn create_async(&self, request_json: &[u8]) -> Result<Vec<u8>, (StatusCode, String)> {
        let body = self.validate(request_json)?;
        let done = self.append_async(body.clone()).await;
        self.created(&body, done)
    }

    /// The request checked as a Rekor v2 log checks it: its canonical body.
    fn validate(&self, request_json: &[u8]) -> Result<Vec<u8>, (StatusCode, String)> {
        let bad = |m: String| (StatusCode::BAD_REQUEST, m);
        let req = V2Request::from_json(request_json).map_err(|e| bad(e.to_string()))?;
        let key = self.verifier_key(&req.verifier).map_err(bad)?;
        let alg = algorithm_of(&req.key_details).map_err(|e| bad(e.to_string()))?;
        if alg != key.algorithm() {
            return Err(bad("keyDetails does not match the verifier's key".into()));
        }
        if alg == Algorithm::Ed25519 {
            return Err(bad(
                "Ed25519 signs the message, not its digest: this log cannot verify it (use ECDSA)"
                    .into(),
            ));
        }
        // The digest's length was checked against keyDetails when the
        // request was read, and keyDetails against the key just above: the
        // signature is checked over a digest of the key's own hash.
        if !key.verifies_prehashed(&req.digest, &req.signature) {
            return Err(bad("the signature does not verify over the digest".into()));
        }
        Ok(req.canonical_body())
    }

    /// The answer once the body was appended (or not).
    fn created(
        &self,
        body: &[u8],
        done: Result<Integrated, TileLogError>,
    ) -> Result<Vec<u8>, (StatusCode, String)> {
        let done = done.map_err(|e| match e {
            TileLogError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, e.to_string()),
            _ => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        })?;
        if done.existing {
            // As Rekor v2: 409, the existing index in the message.
            return Err((
                StatusCode::CONFLICT,
                format!(
                    "an equivalent entry already exists in the transparency log with index {}",
                    done.index
                ),
            ));
        }
        Ok(self.entry_json(body, &done))
    }

    /// The verifier's public key, parsed once per distinct verifier among
    /// the recent ones: a service signing with one key has its key (and its
    /// precomputed verification tables, built after a few uses) reused
    /// rather than parsed and set up again for every entry.
    fn verifier_key(&self, verifier: &V2Verifier) -> Result<PublicKey, String> {
        let raw = match verifier {
            V2Verifier::PublicKey(d) | V2Verifier::Certificate(d) => d,
        };
        let mut cache = self
            .inner
            .keys
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(k) = cache.get(raw) {
            return Ok(k.clone());
        }
        let key = match verifier {
            V2Verifier::PublicKey(spki) => {
                PublicKey::from_spki_der(spki).map_err(|e| format!("verifier public key: {e}"))?
            }
            V2Verifier::Certificate(der) => attest_rekor::x509::certificate_public_key(der)
                .map_err(|e| format!("verifier certificate: {e}"))?,
        };
        // Bounded: forget them all when full (keyless signing brings a new
        // key per certificate; those never repeat).
        if cache.len() >= KEY_CACHE {
            cache.clear();
        }
        cache.insert(raw.clone(), key.clone());
        Ok(key)
    }

    /// The `TransparencyLogEntry` JSON of an integrated body.
    fn entry_json(&self, body: &[u8], done: &Integrated) -> Vec<u8> {
        let hashes: Vec<String> = done.proof.iter().map(|h| h.base64().to_string()).collect();
        let v = serde_json::json!({
            "logIndex": done.index.to_string(),
            "logId": { "keyId": self.inner.log_id.to_base64() },
            "kindVersion": { "kind": "hashedrekord", "version": "0.0.2" },
            "inclusionProof": {
                "logIndex": done.index.to_string(),
                "rootHash": done.root.base64().to_string(),
                "treeSize": done.tree_size.to_string(),
                "hashes": hashes,
                "checkpoint": { "envelope": done.checkpoint },
            },
            "canonicalizedBody": Base64::encode_string(body),
        });
        serde_json::to_vec(&v).unwrap_or_default()
    }

    /// A static file of the log (`checkpoint`, a tile, an entry bundle), as
    /// the store has it; `None` for any other path or a missing file.
    ///
    /// # Errors
    /// The store's I/O error.
    pub fn read(&self, path: &str) -> io::Result<Option<Vec<u8>>> {
        if path != "checkpoint" && TileId::parse_path(path).is_err() {
            return Ok(None);
        }
        self.inner.store.get(path)
    }

    /// Answers an HTTP request: `POST /api/v2/log/entries`, `GET
    /// /checkpoint`, `GET /tile/…` (blocks while a write waits for its
    /// checkpoint).
    #[must_use]
    pub fn handle(&self, req: &Request<Vec<u8>>) -> Response<Vec<u8>> {
        if let Some(refused) = self.refuse_write(req) {
            return refused;
        }
        if req.uri().path() == attest_rekor::v2::CREATE_PATH {
            return create_response(self.create(req.body()));
        }
        self.read_response(req)
    }

    /// Whether `req` is a write (`POST /api/v2/log/entries`).
    #[must_use]
    pub fn is_write(req: &Request<Vec<u8>>) -> bool {
        req.uri().path() == attest_rekor::v2::CREATE_PATH && req.method() == Method::POST
    }

    /// [`handle`](Self::handle) for a write, awaited (the HTTP server's
    /// path: no thread waits for the batch's checkpoint).
    #[cfg(feature = "http")]
    pub async fn handle_write_async(&self, req: &Request<Vec<u8>>) -> Response<Vec<u8>> {
        if let Some(refused) = self.refuse_write(req) {
            return refused;
        }
        create_response(self.create_async(req.body()).await)
    }

    /// The answer to a request on the write path that is refused before
    /// any work: the wrong method, a body over the limit.
    fn refuse_write(&self, req: &Request<Vec<u8>>) -> Option<Response<Vec<u8>>> {
        if req.uri().path() != attest_rekor::v2::CREATE_PATH {
            return None;
        }
        if req.method() != Method::POST {
            return Some(error_response(
                StatusCode::METHOD_NOT_ALLOWED,
                "method not allowed",
            ));
        }
        if req.body().len() > self.inner.options.max_body_bytes {
            return Some(error_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                "request body too large",
            ));
        }
        None
    }

    /// A read: the checkpoint, a tile or an entry bundle.
    fn read_response(&self, req: &Request<Vec<u8>>) -> Response<Vec<u8>> {
        let path = req.uri().path();
        let respond = plain_response;
        let error = error_response;
        if req.method() != Method::GET && req.method() != Method::HEAD {
            return error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
        }
        let rel = path.trim_start_matches('/');
        // The path is parsed once: it decides both what may be read and how
        // long a cache may keep it.
        let (ctype, cache) = if rel == "checkpoint" {
            ("text/plain; charset=utf-8", "no-cache")
        } else {
            match TileId::parse_path(rel) {
                Ok((_, t)) if t.is_partial() => ("application/octet-stream", "public, max-age=60"),
                Ok(_) => (
                    "application/octet-stream",
                    "public, max-age=31536000, immutable",
                ),
                Err(_) => {
                    return respond(StatusCode::NOT_FOUND, "text/plain", b"not found".to_vec());
                }
            }
        };
        match self.inner.store.get(rel) {
            Ok(Some(bytes)) => {
                let mut r = respond(StatusCode::OK, ctype, bytes);
                r.headers_mut().insert(
                    header::CACHE_CONTROL,
                    header::HeaderValue::from_static(cache),
                );
                r
            }
            Ok(None) => respond(StatusCode::NOT_FOUND, "text/plain", b"not found".to_vec()),
            Err(_) => error(StatusCode::INTERNAL_SERVER_ERROR, "storage error"),
        }
    }

    /// The largest request body accepted.
    #[must_use]
    pub fn max_body_bytes(&self) -> usize {
        self.inner.options.max_body_bytes
    }
}

/// What [`check_tile_log`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TileLogCheck {
    /// The log's name.
    pub name: String,
    /// Entries the journal holds (its last signed checkpoint's size).
    pub size: u64,
    /// Its root.
    pub root: Hash,
    /// Bytes of a batch torn by a crash at the journal's end (never
    /// acknowledged; cut off when the log next opens).
    pub torn_bytes: u64,
    /// The public checkpoint is one batch behind the journal because a
    /// crash cut its publishing short (not damage: opening finishes it).
    pub interrupted_publish: bool,
    /// Everything wrong with the public files, unrepairable damage first.
    pub damage: Vec<TileDamage>,
}

impl TileLogCheck {
    /// No damage.
    #[must_use]
    pub fn healthy(&self) -> bool {
        self.damage.is_empty()
    }

    /// Every damage found is one [`repair_tile_log`] fixes.
    #[must_use]
    pub fn repairable(&self) -> bool {
        self.damage.iter().all(TileDamage::repairable)
    }
}

/// What [`repair_tile_log`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TileLogRepair {
    /// Entries the log holds.
    pub size: u64,
    /// Public files rewritten from the journal.
    pub rewritten: Vec<String>,
    /// Bytes of a torn, unacknowledged batch cut from the journal's end.
    pub torn_bytes: u64,
}

/// The log directory's exclusive lock (another process has it: `Locked`).
fn lock_dir(dir: &Path) -> Result<crate::DirLock, TileLogError> {
    crate::DirLock::take(dir).map_err(|e| match e {
        crate::LocalError::Locked(p) => TileLogError::Locked(p),
        other => TileLogError::Io {
            context: "lock the log directory".into(),
            source: io::Error::other(other.to_string()),
        },
    })
}

fn log_identity(dir: &Path) -> Result<(Meta, NoteVerifier), TileLogError> {
    let meta = recover::read_meta(dir)?.ok_or(TileLogError::Damaged(TileDamage::NoJournal {
        legacy: false,
    }))?;
    let verifier = NoteVerifier::c2sp(meta.name.clone(), meta.public.clone());
    Ok((meta, verifier))
}

/// Checks the tile log in `dir` (public files in `dir/tiles`) without
/// changing anything and without its private key: the journal, and every
/// public file against it — what opening checks. Works while the log is
/// served.
///
/// # Errors
/// [`TileLogError::Damaged`] when the journal itself is damaged or missing
/// (damage to public files is reported in [`TileLogCheck::damage`]);
/// [`TileLogError::Io`].
pub fn check_tile_log(dir: &Path) -> Result<TileLogCheck, TileLogError> {
    check_tile_log_in(dir, &DirStore::new(dir.join(PUBLIC_DIR)))
}

/// [`check_tile_log`] for a log whose public files are in `public`.
///
/// # Errors
/// As [`check_tile_log`].
pub fn check_tile_log_in(dir: &Path, public: &dyn TileStore) -> Result<TileLogCheck, TileLogError> {
    let (meta, verifier) = log_identity(dir)?;
    // A log being served changes under the check (a batch journaled and
    // published between reading the journal and listing the tiles, a
    // superseded partial deleted): damage is reported only when it is
    // still there on a second and a third look.
    let mut found = recover::inspect(dir, public, &verifier, &meta)?;
    for _ in 0..2 {
        if found.damage.is_empty() {
            break;
        }
        found = recover::inspect(dir, public, &verifier, &meta)?;
    }
    Ok(TileLogCheck {
        name: meta.name,
        size: found.scan.tree.size(),
        root: found.scan.tree.root(),
        torn_bytes: found.scan.torn,
        interrupted_publish: found.interrupted_publish,
        damage: found.damage,
    })
}

/// Rewrites the public files of the (stopped) tile log in `dir` from its
/// journal, and cuts a torn batch from the journal's end. It refuses, and
/// changes nothing, when any damage is not [`TileDamage::repairable`]:
/// a damaged journal, or a public checkpoint or tile *ahead* of it, means
/// the journal lost acknowledged entries, and rewriting would hide that.
///
/// # Errors
/// [`TileLogError::Locked`] while the log is open; [`TileLogError::Damaged`]
/// with the first unrepairable damage; [`TileLogError::Io`].
pub fn repair_tile_log(dir: &Path) -> Result<TileLogRepair, TileLogError> {
    repair_tile_log_in(dir, &DirStore::new(dir.join(PUBLIC_DIR)))
}

/// [`repair_tile_log`] for a log whose public files are in `public`.
///
/// # Errors
/// As [`repair_tile_log`].
pub fn repair_tile_log_in(
    dir: &Path,
    public: &dyn TileStore,
) -> Result<TileLogRepair, TileLogError> {
    let _lock = lock_dir(dir)?;
    let (meta, verifier) = log_identity(dir)?;
    let found = recover::inspect(dir, public, &verifier, &meta)?;
    if let Some(d) = found.damage.iter().find(|d| !d.repairable()) {
        return Err(TileLogError::Damaged(d.clone()));
    }
    let rewritten = recover::rewrite_public(dir, public, &found.scan, &meta)?;
    recover::write_published(dir, found.scan.tree.size()).map_err(io_err("write published"))?;
    // Cut the torn tail, as opening would.
    Journal::open(&dir.join(JOURNAL), found.scan.intact).map_err(io_err("open the journal"))?;
    Ok(TileLogRepair {
        size: found.scan.tree.size(),
        rewritten,
        torn_bytes: found.scan.torn,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The C2SP log id rule, on the real staging Rekor v2 log.
    #[test]
    fn log_id_is_the_c2sp_key_hash() {
        let (name, spki, id) = attestlog_testkit::STAGING_V2_LOG;
        let key = PublicKey::from_spki_der(&Base64::decode_vec(spki).unwrap()).unwrap();
        assert_eq!(c2sp_log_id(name, &key).to_base64(), id);
    }
}
