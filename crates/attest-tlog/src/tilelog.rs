//! The embedded log as a Rekor v2 tile log: entries integrated in batches by
//! one sequencer thread, one checkpoint per batch, and every tile and entry
//! bundle written as a static file (C2SP tlog-tiles) that any static file
//! server or CDN can serve.
//!
//! # Durability and immutability
//! A batch writes its entry bundles, then its hash tiles, then the
//! checkpoint, each file atomically and durably ([`TileStore::put`]); only
//! then are the batch's writers answered. A crash before the checkpoint
//! loses only unanswered entries: the old checkpoint still names only files
//! that were complete before (partial tiles are new files, `.p/<W>`, never
//! rewritten), so every file a published checkpoint refers to is immutable.
//!
//! Opening re-reads every level-0 tile and entry bundle the checkpoint
//! covers, and every higher tile, and refuses the directory (rather than
//! fork the log) when anything disagrees with the signed checkpoint.
//!
//! The whole tree's node hashes are kept in memory (64 bytes per entry) so
//! that each answer carries its inclusion proof; past tens of millions of
//! entries, run a Rekor v2 (rekor-tiles on Tessera) instead.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::thread::JoinHandle;

use attest_dsse::{Algorithm, PublicKey, SigningKey};
use attest_merkle::tiles::{
    TILE_WIDTH, TileId, parse_entry_bundle, push_bundle_entry, tile_in_tree,
};
use attest_merkle::{Checkpoint, Hash, MerkleTree, NodeId, leaf_hash};
use attest_rekor::v2::{V2Request, V2Verifier, algorithm_of};
use attest_rekor::{LogId, NoteVerifier, SignedNote};
use base64ct::{Base64, Encoding};
use http::{Method, Request, Response, StatusCode, header};

/// Where a tile log's static files go. `put` must be atomic (a reader sees
/// the old bytes or the new, never a mix) and durable when it returns.
pub trait TileStore: Send + Sync + 'static {
    /// Writes `bytes` at `path` (`checkpoint`, `tile/0/000.p/5`, …).
    ///
    /// # Errors
    /// The store's I/O error.
    fn put(&self, path: &str, bytes: &[u8]) -> io::Result<()>;

    /// Writes several files, each as [`put`](Self::put) does, all durable
    /// when it returns (in no particular order before that). The default
    /// puts them one by one; a store can do better (one directory sync per
    /// directory, parallel uploads).
    ///
    /// # Errors
    /// The store's I/O error.
    fn put_all(&self, files: &[(String, Vec<u8>)]) -> io::Result<()> {
        for (path, bytes) in files {
            self.put(path, bytes)?;
        }
        Ok(())
    }

    /// Reads `path`; `Ok(None)` if it does not exist.
    ///
    /// # Errors
    /// The store's I/O error.
    fn get(&self, path: &str) -> io::Result<Option<Vec<u8>>>;
}

/// A [`TileStore`] on the local file system: each file written to a
/// temporary name, synced, renamed into place, and its directory synced.
#[derive(Debug, Clone)]
pub struct DirStore {
    root: PathBuf,
}

impl DirStore {
    /// Files under `root`.
    #[must_use]
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The directory the files are in (serve it as the log's read URL).
    #[must_use]
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, rel: &str) -> io::Result<PathBuf> {
        // Only the names this module makes: no "..", no absolute paths.
        if rel.is_empty()
            || rel.starts_with('/')
            || rel
                .split('/')
                .any(|s| s.is_empty() || s == "." || s == "..")
        {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "bad tile path"));
        }
        Ok(self.root.join(rel))
    }
}

impl TileStore for DirStore {
    fn put(&self, rel: &str, bytes: &[u8]) -> io::Result<()> {
        use std::io::Write as _;
        let path = self.path(rel)?;
        let dir = path
            .parent()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "bad tile path"))?;
        std::fs::create_dir_all(dir)?;
        let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
        {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(bytes)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, &path)?;
        std::fs::File::open(dir)?.sync_all()
    }

    fn put_all(&self, files: &[(String, Vec<u8>)]) -> io::Result<()> {
        use std::io::Write as _;
        // Every file written and synced under a temporary name, renamed,
        // then each directory synced once.
        let mut dirs: Vec<PathBuf> = Vec::new();
        let mut renames = Vec::with_capacity(files.len());
        for (rel, bytes) in files {
            let path = self.path(rel)?;
            let dir = path
                .parent()
                .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "bad tile path"))?
                .to_owned();
            if !dirs.contains(&dir) {
                std::fs::create_dir_all(&dir)?;
                dirs.push(dir);
            }
            let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(bytes)?;
            f.sync_data()?;
            renames.push((tmp, path));
        }
        for (tmp, path) in renames {
            std::fs::rename(tmp, path)?;
        }
        for dir in dirs {
            std::fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    }

    fn get(&self, rel: &str) -> io::Result<Option<Vec<u8>>> {
        match std::fs::read(self.path(rel)?) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
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
}

impl Default for TileLogOptions {
    fn default() -> Self {
        Self {
            name: "attestlog-v2.local".into(),
            max_batch: 8192,
            max_body_bytes: 1 << 20,
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
    /// What is on disk disagrees with the signed checkpoint: the log
    /// refuses to open rather than fork.
    #[error("the tile log is damaged: {0}")]
    Damaged(String),
    /// The sequencer stopped (a write failed; reopen the log).
    #[error("the tile log's sequencer stopped: {0}")]
    Stopped(String),
}

fn io_err(context: impl Into<String>) -> impl FnOnce(io::Error) -> TileLogError {
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
}

struct Job {
    body: Vec<u8>,
    reply: mpsc::SyncSender<Result<Integrated, String>>,
}

struct Sequencer {
    store: Arc<dyn TileStore>,
    key: SigningKey,
    name: String,
    key_id: [u8; 4],
    tree: MerkleTree,
    /// The entries of the current partial bundle.
    edge: Vec<Vec<u8>>,
    head: Arc<RwLock<String>>,
}

/// A hash tile's bytes, from the tree that holds its nodes.
fn tile_bytes(tree: &MerkleTree, tile: TileId) -> Vec<u8> {
    let level = (u32::from(tile.level) * 8) as u8;
    let first = tile.index * u64::from(TILE_WIDTH);
    (first..first + u64::from(tile.width))
        .filter_map(|i| tree.node(NodeId::new(level, i)))
        .flat_map(|h| h.0)
        .collect()
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
        for b in bodies {
            self.tree.push(&b);
            self.edge.push(b);
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
        // Every tile whose contents changed, at each level.
        for level in 0..=attest_merkle::tiles::MAX_TILE_LEVEL {
            let shift = u32::from(level) * 8;
            let (m_old, m_new) = (old >> shift, new >> shift);
            if m_new == m_old {
                continue;
            }
            for index in (m_old >> 8)..=((m_new - 1) >> 8) {
                if let Some(tile) = tile_in_tree(level, index, new) {
                    files.push((tile.path(), tile_bytes(&self.tree, tile)));
                }
            }
        }
        // The data first, all durable; the checkpoint naming it last.
        self.store
            .put_all(&files)
            .map_err(|e| format!("write tiles: {e}"))?;
        let text = checkpoint_text(&self.name, new, &self.tree.root());
        let note = SignedNote::sign(&text, &self.name, self.key_id, &self.key)
            .map_err(|e| format!("sign the checkpoint: {e}"))?
            .to_text();
        self.put("checkpoint", note.as_bytes())?;
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
        while let Ok(first) = rx.recv() {
            // Group commit: whatever is queued now joins this batch.
            let mut jobs = vec![first];
            while jobs.len() < max_batch {
                match rx.try_recv() {
                    Ok(j) => jobs.push(j),
                    Err(_) => break,
                }
            }
            let first_index = self.tree.size();
            let bodies: Vec<Vec<u8>> = jobs
                .iter_mut()
                .map(|j| std::mem::take(&mut j.body))
                .collect();
            match self.integrate(bodies) {
                Ok(note) => {
                    let size = self.tree.size();
                    let root = self.tree.root();
                    for (i, job) in jobs.into_iter().enumerate() {
                        let index = first_index + i as u64;
                        let proof = self
                            .tree
                            .inclusion_proof(index, size)
                            .map(|p| p.to_vec())
                            .unwrap_or_default();
                        let _ = job.reply.send(Ok(Integrated {
                            index,
                            proof,
                            checkpoint: note.clone(),
                            tree_size: size,
                            root,
                        }));
                    }
                }
                Err(e) => {
                    // The in-memory tree is ahead of what is durable: stop,
                    // and let a reopen recover from the files.
                    for job in jobs {
                        let _ = job.reply.send(Err(e.clone()));
                    }
                    for job in rx.try_iter() {
                        let _ = job.reply.send(Err(e.clone()));
                    }
                    return;
                }
            }
        }
    }
}

struct Inner {
    store: Arc<dyn TileStore>,
    public: PublicKey,
    name: String,
    log_id: LogId,
    options: TileLogOptions,
    created: attest_dsse::Timestamp,
    head: Arc<RwLock<String>>,
    tx: Mutex<Option<mpsc::SyncSender<Job>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    _lock: Option<crate::DirLock>,
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

const META: &str = "tilelog.json";

impl TileLog {
    /// Opens (or creates) the tile log whose files are in `dir`, signing
    /// with `key` (Ed25519). The directory is locked while the log is open.
    ///
    /// # Errors
    /// [`TileLogError`].
    pub fn open(
        dir: &Path,
        key: SigningKey,
        options: TileLogOptions,
    ) -> Result<Self, TileLogError> {
        std::fs::create_dir_all(dir).map_err(io_err("create the log directory"))?;
        let lock = crate::DirLock::take(dir).map_err(|e| match e {
            crate::LocalError::Locked(p) => TileLogError::Locked(p),
            other => TileLogError::Io {
                context: "lock the log directory".into(),
                source: io::Error::other(other.to_string()),
            },
        })?;
        Self::open_store(Arc::new(DirStore::new(dir)), key, options, Some(lock))
    }

    /// Opens the tile log in any [`TileStore`] (object storage, memory).
    /// The caller makes sure only one process writes to it.
    ///
    /// # Errors
    /// [`TileLogError`].
    pub fn open_in(
        store: Arc<dyn TileStore>,
        key: SigningKey,
        options: TileLogOptions,
    ) -> Result<Self, TileLogError> {
        Self::open_store(store, key, options, None)
    }

    fn open_store(
        store: Arc<dyn TileStore>,
        key: SigningKey,
        options: TileLogOptions,
        lock: Option<crate::DirLock>,
    ) -> Result<Self, TileLogError> {
        let public = key.public_key().clone();
        if public.algorithm() != Algorithm::Ed25519 {
            return Err(TileLogError::KeyType);
        }
        // The log's identity, fixed at creation.
        let identity = |v: &serde_json::Value| {
            (
                v["format"].as_str().map(str::to_owned),
                v["name"].as_str().map(str::to_owned),
                v["publicKey"].as_str().map(str::to_owned),
            )
        };
        let mut meta = serde_json::json!({
            "format": "attestlog-tile-log-1",
            "name": options.name,
            "publicKey": public.to_pem(),
            "created": attest_dsse::Timestamp::now().to_string(),
        });
        match store.get(META).map_err(io_err("read tilelog.json"))? {
            Some(found) => {
                let found: serde_json::Value = serde_json::from_slice(&found)
                    .map_err(|e| TileLogError::Damaged(format!("tilelog.json: {e}")))?;
                if identity(&found) != identity(&meta) {
                    return Err(TileLogError::OtherLog(format!(
                        "tilelog.json names {} with another key or name than {}",
                        found["name"], options.name
                    )));
                }
                meta = found;
            }
            None => {
                if store
                    .get("checkpoint")
                    .map_err(io_err("read checkpoint"))?
                    .is_some()
                {
                    return Err(TileLogError::Damaged(
                        "a checkpoint without tilelog.json".into(),
                    ));
                }
                let bytes = serde_json::to_vec_pretty(&meta).unwrap_or_default();
                store
                    .put(META, &bytes)
                    .map_err(io_err("write tilelog.json"))?;
            }
        }
        let created = meta["created"]
            .as_str()
            .and_then(|t| attest_dsse::Timestamp::parse_rfc3339(t).ok())
            .unwrap_or_else(|| attest_dsse::Timestamp::from_unix(0));
        let name = options.name.clone();
        let verifier = NoteVerifier::c2sp(name.clone(), public.clone());
        let (tree, edge, note) = recover(store.as_ref(), &verifier, &name)?;
        let head = Arc::new(RwLock::new(note.clone()));
        let mut seq = Sequencer {
            store: store.clone(),
            key,
            name: name.clone(),
            key_id: verifier.key_id(),
            tree,
            edge,
            head: head.clone(),
        };
        if note.is_empty() {
            // A new log publishes its empty checkpoint.
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
                store,
                log_id: c2sp_log_id(&name, &public),
                public,
                name,
                options,
                created,
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
    ) -> serde_json::Value {
        let tsas: Vec<serde_json::Value> = tsa
            .map(|(t, url)| t.trusted_root_entry(url))
            .into_iter()
            .collect();
        serde_json::json!({
            "mediaType": attest_rekor::TRUSTED_ROOT_MEDIA_TYPE,
            "tlogs": [{
                "baseUrl": base_url,
                "hashAlgorithm": "SHA2_256",
                "publicKey": {
                    "rawBytes": Base64::encode_string(self.inner.public.spki_der()),
                    "keyDetails": "PKIX_ED25519",
                    "validFor": { "start": self.inner.created.to_string() },
                },
                "logId": { "keyId": self.inner.log_id.to_base64() },
            }],
            "certificateAuthorities": [],
            "ctlogs": [],
            "timestampAuthorities": tsas,
        })
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
        let tx = self
            .inner
            .tx
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or_else(|| TileLogError::Stopped("closed".into()))?;
        tx.send(Job { body, reply })
            .map_err(|_| TileLogError::Stopped("the sequencer stopped".into()))?;
        Ok(Pending { rx })
    }

    /// Checks a `hashedRekordRequestV002` as a Rekor v2 log does (the
    /// signature verifies over the digest with the named key), logs its
    /// canonical body and returns the `TransparencyLogEntry` JSON.
    ///
    /// # Errors
    /// `(status, message)`: 400 for a request the log refuses, 500 when
    /// the write failed.
    pub fn create(&self, request_json: &[u8]) -> Result<Vec<u8>, (StatusCode, String)> {
        let bad = |m: String| (StatusCode::BAD_REQUEST, m);
        let req = V2Request::from_json(request_json).map_err(|e| bad(e.to_string()))?;
        let key = match &req.verifier {
            V2Verifier::PublicKey(spki) => PublicKey::from_spki_der(spki)
                .map_err(|e| bad(format!("verifier public key: {e}")))?,
            V2Verifier::Certificate(der) => attest_rekor::x509::certificate_public_key(der)
                .map_err(|e| bad(format!("verifier certificate: {e}")))?,
        };
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
        if !key.verifies_prehashed_sha256(&req.digest, &req.signature) {
            return Err(bad("the signature does not verify over the digest".into()));
        }
        let body = req.canonical_body();
        let done = self
            .append(body.clone())
            .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
        Ok(self.entry_json(&body, &done))
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
        let path = req.uri().path();
        let respond = |status: StatusCode, ctype: &'static str, body: Vec<u8>| {
            let mut r = Response::new(body);
            *r.status_mut() = status;
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static(ctype),
            );
            r
        };
        let error = |status: StatusCode, message: &str| {
            let body = serde_json::to_vec(&serde_json::json!({
                "code": status.as_u16(), "message": message
            }))
            .unwrap_or_default();
            respond(status, "application/json", body)
        };
        if path == attest_rekor::v2::CREATE_PATH {
            if req.method() != Method::POST {
                return error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
            }
            if req.body().len() > self.inner.options.max_body_bytes {
                return error(StatusCode::PAYLOAD_TOO_LARGE, "request body too large");
            }
            return match self.create(req.body()) {
                Ok(json) => respond(StatusCode::CREATED, "application/json", json),
                Err((status, m)) => error(status, &m),
            };
        }
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

/// What [`check_tile_log`] found in a healthy tile log.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TileLogCheck {
    /// The log's name.
    pub name: String,
    /// Entries the signed checkpoint covers.
    pub size: u64,
    /// Its root.
    pub root: Hash,
}

/// Checks a tile log's files in `store` without changing anything (and
/// without the log's private key): `tilelog.json`, the checkpoint's
/// signature by the key it names, every level-0 tile and entry bundle
/// against the signed root, every higher tile against the tree — what
/// opening checks. Works while the log is served.
///
/// # Errors
/// [`TileLogError::Damaged`] naming the first disagreement;
/// [`TileLogError::Io`].
pub fn check_tile_log(store: &dyn TileStore) -> Result<TileLogCheck, TileLogError> {
    let meta = store
        .get(META)
        .map_err(io_err("read tilelog.json"))?
        .ok_or_else(|| TileLogError::Damaged("no tilelog.json: not a tile log".into()))?;
    let meta: serde_json::Value = serde_json::from_slice(&meta)
        .map_err(|e| TileLogError::Damaged(format!("tilelog.json: {e}")))?;
    let name = meta["name"].as_str().unwrap_or_default().to_owned();
    let key = meta["publicKey"]
        .as_str()
        .and_then(|p| PublicKey::from_pem(p).ok())
        .ok_or_else(|| TileLogError::Damaged("tilelog.json: no public key".into()))?;
    let verifier = NoteVerifier::c2sp(name.clone(), key);
    let (tree, _, note) = recover(store, &verifier, &name)?;
    if note.is_empty() {
        return Err(TileLogError::Damaged("no checkpoint".into()));
    }
    Ok(TileLogCheck {
        name,
        size: tree.size(),
        root: tree.root(),
    })
}

/// Reads back the tree the checkpoint signs, refusing any disagreement.
fn recover(
    store: &dyn TileStore,
    verifier: &NoteVerifier,
    name: &str,
) -> Result<(MerkleTree, Vec<Vec<u8>>, String), TileLogError> {
    let damaged = |m: String| TileLogError::Damaged(m);
    let Some(note) = store.get("checkpoint").map_err(io_err("read checkpoint"))? else {
        return Ok((MerkleTree::new(), Vec::new(), String::new()));
    };
    let note = String::from_utf8(note).map_err(|_| damaged("checkpoint is not UTF-8".into()))?;
    let parsed = SignedNote::parse(&note).map_err(|e| damaged(format!("checkpoint: {e}")))?;
    parsed
        .verify(std::slice::from_ref(verifier))
        .map_err(|e| damaged(format!("checkpoint signature: {e}")))?;
    let cp: Checkpoint<'_> = parsed
        .checkpoint()
        .map_err(|e| damaged(format!("checkpoint body: {e}")))?;
    if cp.origin() != name {
        return Err(damaged(format!(
            "checkpoint origin {} is not {name}",
            cp.origin()
        )));
    }
    let (size, root) = (cp.size(), *cp.root());
    let mut tree = MerkleTree::with_capacity(usize::try_from(size).unwrap_or(0));
    let mut edge = Vec::new();
    let tiles0 = size.div_ceil(u64::from(TILE_WIDTH));
    for index in 0..tiles0 {
        let Some(tile) = tile_in_tree(0, index, size) else {
            break;
        };
        let read = |p: String| {
            store
                .get(&p)
                .map_err(io_err(format!("read {p}")))?
                .ok_or_else(|| damaged(format!("{p} is missing")))
        };
        let hashes = read(tile.path())?;
        let bundle = read(tile.entries_path())?;
        let entries = parse_entry_bundle::<()>(tile, &bundle)
            .map_err(|_| damaged(format!("{} is malformed", tile.entries_path())))?;
        if hashes.len() != usize::from(tile.width) * 32 {
            return Err(damaged(format!(
                "{} has {} bytes",
                tile.path(),
                hashes.len()
            )));
        }
        for (e, h) in entries.iter().zip(hashes.chunks_exact(32)) {
            if leaf_hash(e).0 != h {
                return Err(damaged(format!(
                    "{} does not match {}",
                    tile.entries_path(),
                    tile.path()
                )));
            }
            tree.push(e);
        }
        if tile.is_partial() {
            edge = entries.iter().map(|e| e.to_vec()).collect();
        }
    }
    if tree.root() != root {
        return Err(damaged(
            "the level-0 tiles do not hash to the checkpoint's root".into(),
        ));
    }
    // Higher tiles must be what the tree says they are.
    for level in 1..=attest_merkle::tiles::MAX_TILE_LEVEL {
        let mut index = 0;
        while let Some(tile) = tile_in_tree(level, index, size) {
            let want = tile_bytes(&tree, tile);
            let p = tile.path();
            let got = store.get(&p).map_err(io_err(format!("read {p}")))?;
            if got.as_deref() != Some(&want[..]) {
                return Err(damaged(format!("{p} is missing or wrong")));
            }
            index += 1;
        }
    }
    Ok((tree, edge, note))
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

    #[test]
    fn dir_store_refuses_paths_outside_it() {
        let s = DirStore::new(std::env::temp_dir().join("attestlog-dirstore-test"));
        for bad in ["", "/etc/passwd", "../x", "tile/../../x", "tile//0", "./x"] {
            assert!(s.put(bad, b"x").is_err(), "{bad}");
        }
    }
}
