#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod check;
#[cfg(feature = "object-store")]
mod objstore;
mod storage;
mod tilelog;
mod tsa;

#[cfg(feature = "http")]
mod server;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::thread::JoinHandle;
use std::time::Duration;

use attest_dsse::{Clock, Envelope, PublicKey, SigningKey, SystemClock};
use attest_merkle::{Hash, consistency_plan, inclusion_plan, leaf_hash, read_root};
use base64ct::{Base64, Encoding};
use http::{Method, Request, Response, StatusCode, header};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use attest_rekor::api::{ErrorBody, LogEntry, RestInclusionProof};
use attest_rekor::{EntryId, LogId, NoteVerifier, SignedNote, TrustedLog};

pub use attest_issue::TimestampAuthority;
pub use check::{CheckReport, RepairReport, check, repair};
#[cfg(feature = "object-store")]
pub use objstore::{LEASE, ObjectTileStore};
#[cfg(feature = "http")]
pub use server::{
    Blocking, HEAD_DEADLINE, Handler, IN_FLIGHT_BODY_BYTES, MAX_HEAD, MAX_IN_FLIGHT_REQUESTS,
    REQUEST_DEADLINE, Server, ServerError, V2Services, WRITE_TIMEOUT, serve, serve_handler,
};
pub use storage::{Damage, OutOfRange, StorageError};
pub use tilelog::{
    ClaimError, DirStore, Integrated, MAX_ENTRY_BYTES, PUBLIC_DIR, Pending, TileDamage, TileLog,
    TileLogCheck, TileLogError, TileLogOptions, TileLogRepair, TileStore, c2sp_log_id,
    check_tile_log, check_tile_log_in, repair_tile_log, repair_tile_log_in,
};
pub use tsa::{CERTCHAIN_PATH, TIMESTAMP_PATH, TsaService, TsaServiceError};

/// Settings of a [`LocalLog`].
#[derive(Clone)]
#[non_exhaustive]
pub struct LogOptions {
    /// The name checkpoints are signed under (origin `"<name> - <tree id>"`);
    /// fixed when the log is created. Clients verify checkpoints against it.
    pub name: String,
    /// Largest accepted request body (larger gets 413).
    pub max_body_bytes: usize,
    /// Most entries one group commit takes.
    pub max_batch: usize,
    /// The clock for integratedTime; tests replace it.
    pub clock: Arc<dyn Clock>,
}

impl LogOptions {
    /// Checkpoints signed under `name` (fixed when the log is created).
    #[must_use]
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Largest accepted request body.
    #[must_use]
    pub const fn with_max_body_bytes(mut self, n: usize) -> Self {
        self.max_body_bytes = n;
        self
    }

    /// Most entries one group commit takes.
    #[must_use]
    pub const fn with_max_batch(mut self, n: usize) -> Self {
        self.max_batch = n;
        self
    }

    /// The clock for integratedTime.
    #[must_use]
    pub fn with_clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }
}

impl std::fmt::Debug for LogOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogOptions")
            .field("name", &self.name)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("max_batch", &self.max_batch)
            .finish_non_exhaustive()
    }
}

impl Default for LogOptions {
    /// Name `attestlog.local`, 8 MiB bodies, batches of up to 4096, the
    /// system clock.
    fn default() -> Self {
        Self {
            name: DEFAULT_NAME.into(),
            max_body_bytes: 8 << 20,
            max_batch: 4096,
            clock: Arc::new(SystemClock),
        }
    }
}

/// The default checkpoint name.
pub const DEFAULT_NAME: &str = "attestlog.local";

/// Why a log could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LocalError {
    /// The files could not be read or repaired.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// A key file is not a PKCS#8 private key we read.
    #[error("{}: {source}", path.display())]
    Key {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: attest_dsse::KeyError,
    },
    /// A new log key could not be made.
    #[error("a new log key: {0}")]
    NewKey(#[source] attest_dsse::KeyError),
    /// A file could not be read.
    #[error("{}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// `log.json` is not this code's metadata.
    #[error("{}: {source}", path.display())]
    MetaJson {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// `log.json` has a format this code does not know.
    #[error("{}: unknown format {format}", path.display())]
    MetaFormat {
        /// The file.
        path: PathBuf,
        /// The format found.
        format: u32,
    },
    /// `log.json`'s tree id is not a decimal `u64`.
    #[error("{}: treeID is not a decimal u64", path.display())]
    TreeId {
        /// The file.
        path: PathBuf,
    },
    /// The directory belongs to another log key.
    #[error("{} belongs to the log key {found}, not this key ({expected})", dir.display())]
    WrongKey {
        /// The directory.
        dir: PathBuf,
        /// The log id of the key in `log.json`.
        found: String,
        /// The log id of the key given.
        expected: String,
    },
    /// A log name that checkpoints cannot carry (C2SP signed-note: non-empty,
    /// no whitespace, no `+`; no control characters).
    #[error(
        "invalid log name {0:?}: it must be non-empty, without whitespace, control characters or '+'"
    )]
    InvalidName(String),
    /// The operating system's random source failed.
    #[error("randomness: {0}")]
    Random(getrandom::Error),
    /// The log's checkpoint cannot be signed under its name.
    #[error("the checkpoint cannot be signed: {0}")]
    Checkpoint(#[source] attest_rekor::NoteError),
    /// Another process (or handle) has the directory open.
    #[error("the log directory {0} is in use by another process")]
    Locked(PathBuf),
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Meta {
    format: u32,
    name: String,
    /// Decimal, as Rekor's `treeID`.
    #[serde(rename = "treeID")]
    tree_id: String,
    /// Hex SHA-256 of the log key's SPKI.
    #[serde(rename = "logID")]
    log_id: String,
    /// When the log was created (unix seconds): the start of its key's
    /// validity in a trusted root. Absent in logs made before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    created: Option<i64>,
}

/// The log state readers see: a committed size, its root and the signed
/// checkpoint over them.
#[derive(Debug)]
struct Head {
    size: u64,
    root: Hash,
    checkpoint: String,
}

enum Done {
    Created { index: u64, head: Arc<Head> },
    Exists { index: u64 },
    Failed(String),
}

/// What routing a request leads to: an answer now, or a commit to wait for.
enum Routed {
    Answer(Answer),
    Commit { canonical: Vec<u8>, leaf: Hash },
}

struct Job {
    body: Vec<u8>,
    leaf: Hash,
    /// Called once with the outcome, on the writer thread.
    reply: Box<dyn FnOnce(Done) + Send>,
}

struct Shared {
    files: storage::Files,
    key: SigningKey,
    public: PublicKey,
    log_id: LogId,
    tree_id: u64,
    name: String,
    /// `log.json`'s creation time, kept when it is rewritten.
    created: Option<i64>,
    origin: String,
    note_key_id: [u8; 4],
    options: LogOptions,
    head: RwLock<Arc<Head>>,
    uuids: RwLock<HashMap<Hash, u64>>,
    keys: KeyCache,
    /// Group commits since open.
    commits: std::sync::atomic::AtomicU64,
}

struct Inner {
    shared: Arc<Shared>,
    tx: Mutex<Option<mpsc::Sender<Job>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    _lock: DirLock,
}

impl Drop for Inner {
    fn drop(&mut self) {
        close_writer(&self.tx, &self.writer);
    }
}

/// Closes a writer thread's queue and waits for it: it finishes what it
/// has and exits (both logs' handles do this when the last clone drops).
pub(crate) fn close_writer<T>(tx: &Mutex<Option<T>>, writer: &Mutex<Option<JoinHandle<()>>>) {
    tx.lock().unwrap_or_else(PoisonError::into_inner).take();
    if let Some(w) = writer.lock().unwrap_or_else(PoisonError::into_inner).take() {
        let _ = w.join();
    }
}

/// An exclusive claim on a log directory: an OS file lock (`flock` on Unix,
/// `LockFileEx` on Windows) on `LOCK`, held as long as the file is open and
/// released by the OS when the process dies however it dies — no stale lock,
/// no PID to check, no window between checking and taking.
pub(crate) struct DirLock {
    _file: std::fs::File,
}

impl DirLock {
    pub(crate) fn take(dir: &Path) -> Result<Self, LocalError> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(dir.join("LOCK"))
            .map_err(|source| {
                LocalError::Storage(StorageError::Io {
                    context: "open LOCK",
                    source,
                })
            })?;
        match file.try_lock() {
            Ok(()) => Ok(Self { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(LocalError::Locked(dir.to_owned())),
            Err(std::fs::TryLockError::Error(source)) => {
                Err(LocalError::Storage(StorageError::Io {
                    context: "lock LOCK",
                    source,
                }))
            }
        }
    }
}

/// An embedded Rekor v1 log over a directory. Cheap to clone (a shared
/// handle); the directory is released when the last clone is dropped.
#[derive(Clone)]
pub struct LocalLog {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for LocalLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalLog")
            .field("origin", &self.inner.shared.origin)
            .field("size", &self.size())
            .finish_non_exhaustive()
    }
}

/// What opening a log found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct OpenReport {
    /// Entries in the log.
    pub size: u64,
    /// Bytes of a torn, unacknowledged write discarded from the end of
    /// `entries.log` (never an acknowledged entry).
    pub discarded_bytes: u64,
    /// Whether `index.dat` or `tree.dat` disagreed with the records and was
    /// rewritten from them.
    pub rebuilt_derived: bool,
}

impl LocalLog {
    /// Opens the log in `dir` (created if missing) signing with `key`. A new
    /// log gets a random tree id and `options.name`; an existing log keeps
    /// its own and must be opened with the same key.
    ///
    /// # Errors
    /// [`LocalError`].
    pub fn open(dir: &Path, key: SigningKey, options: LogOptions) -> Result<Self, LocalError> {
        Self::open_with_report(dir, key, options).map(|(log, _)| log)
    }

    /// [`open`](Self::open), also saying what recovery did.
    ///
    /// # Errors
    /// [`LocalError`].
    pub fn open_with_report(
        dir: &Path,
        key: SigningKey,
        options: LogOptions,
    ) -> Result<(Self, OpenReport), LocalError> {
        std::fs::create_dir_all(dir).map_err(|e| {
            LocalError::Storage(StorageError::Io {
                context: "create the log directory",
                source: e,
            })
        })?;
        let lock = DirLock::take(dir)?;
        let public = key.public_key().clone();
        let log_id = LogId::of_key(&public);
        let (meta, layout) = load_or_create_meta(dir, &options.name, &log_id.to_hex())?;
        let tree_id: u64 = meta.tree_id.parse().map_err(|_| LocalError::TreeId {
            path: dir.join("log.json"),
        })?;
        // The public key beside the log, for clients and auditors.
        let public_pem = dir.join("log-public.pem");
        if std::fs::read_to_string(&public_pem).ok().as_deref() != Some(public.to_pem().as_str()) {
            std::fs::write(&public_pem, public.to_pem()).map_err(|e| {
                LocalError::Storage(StorageError::Io {
                    context: "write log-public.pem",
                    source: e,
                })
            })?;
        }
        let mut opened = storage::Files::open(dir, layout)?;
        let origin = format!("{} - {tree_id}", meta.name);
        if let Some(found) = opened
            .checkpoint
            .as_ref()
            .map(|cp| durable_origin(&cp.note))
            .filter(|o| *o != origin)
        {
            return Err(LocalError::Storage(StorageError::Corrupt(
                storage::Damage::Meta {
                    meta: origin,
                    checkpoint: found,
                },
            )));
        }
        let note_key_id = NoteVerifier::rekor_v1(meta.name.clone(), public.clone()).key_id();
        let size = opened.tail.size();
        let root = opened.tail.root();
        let shared = Arc::new(Shared {
            files: opened.files,
            key,
            public,
            log_id,
            tree_id,
            name: meta.name,
            created: meta.created,
            origin,
            note_key_id,
            options,
            head: RwLock::new(Arc::new(Head {
                size: 0,
                root,
                checkpoint: String::new(),
            })),
            uuids: RwLock::new(opened.uuids),
            keys: KeyCache::default(),
            commits: std::sync::atomic::AtomicU64::new(0),
        });
        let head = shared
            .sign_head(size, root)
            .map_err(LocalError::Checkpoint)?;
        // A new or legacy log gets its durable checkpoint now (and a legacy
        // one then says so in its metadata); a current one already has it.
        if opened.checkpoint.is_none() {
            shared
                .files
                .write_checkpoint(&mut opened.tail, &head.checkpoint)?;
        }
        if layout == storage::Layout::Legacy {
            write_meta(dir, &meta_copy(&shared))?;
        }
        *shared.head.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(head);
        let (tx, rx) = mpsc::channel();
        let writer = {
            let shared = Arc::clone(&shared);
            let tail = opened.tail;
            std::thread::Builder::new()
                .name("attestlog-log-writer".into())
                .spawn(move || shared.write_loop(tail, &rx))
                .map_err(|e| {
                    LocalError::Storage(StorageError::Io {
                        context: "start the writer thread",
                        source: e,
                    })
                })?
        };
        let report = OpenReport {
            size,
            discarded_bytes: opened.discarded_bytes,
            rebuilt_derived: opened.rebuilt_derived,
        };
        Ok((
            Self {
                inner: Arc::new(Inner {
                    shared,
                    tx: Mutex::new(Some(tx)),
                    writer: Mutex::new(Some(writer)),
                    _lock: lock,
                }),
            },
            report,
        ))
    }

    fn shared(&self) -> &Shared {
        &self.inner.shared
    }

    /// Committed entries.
    #[must_use]
    pub fn size(&self) -> u64 {
        self.shared().head().size
    }

    /// Group commits (one disk flush each) since the log was opened: with
    /// the entries added, the average batch size.
    #[must_use]
    pub fn commits(&self) -> u64 {
        self.shared()
            .commits
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The log's public key.
    #[must_use]
    pub fn public_key(&self) -> &PublicKey {
        &self.shared().public
    }

    /// The checkpoint name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.shared().name
    }

    /// The tree id (the first 16 hex digits of entry ids).
    #[must_use]
    pub fn tree_id(&self) -> u64 {
        self.shared().tree_id
    }

    /// The latest signed checkpoint.
    #[must_use]
    pub fn checkpoint(&self) -> String {
        self.shared().head().checkpoint.clone()
    }

    /// The inclusion proof of entry `index` in the tree of `size` entries
    /// (`size` at most the committed size), read from the stored nodes.
    ///
    /// # Errors
    /// [`StorageError::OutOfRange`] unless `index < size <= self.size()`,
    /// or an I/O error.
    pub fn inclusion_proof(
        &self,
        index: u64,
        size: u64,
    ) -> Result<attest_merkle::Proof, StorageError> {
        let sh = self.shared();
        let committed = sh.head().size;
        if size > committed {
            return Err(StorageError::OutOfRange(OutOfRange::Size {
                asked: size,
                size: committed,
            }));
        }
        inclusion_plan(index, size)
            .map_err(|e| StorageError::OutOfRange(OutOfRange::Proof(e)))?
            .read_proof(&sh.files)
    }

    /// The leaf hash (entry UUID) of committed entry `index`.
    ///
    /// # Errors
    /// [`StorageError::OutOfRange`] past the committed size, or an I/O error.
    pub fn leaf_hash(&self, index: u64) -> Result<Hash, StorageError> {
        let sh = self.shared();
        let size = sh.head().size;
        if index >= size {
            return Err(StorageError::OutOfRange(OutOfRange::Entry { index, size }));
        }
        attest_merkle::NodeReader::read_node(&sh.files, attest_merkle::NodeId::leaf(index))
    }

    /// How a client trusts this log: its key, log id and checkpoint name.
    #[must_use]
    pub fn trusted_log(&self) -> TrustedLog {
        let mut t = TrustedLog::rekor_v1("http://attestlog.local", self.public_key().clone());
        t.name = self.name().to_owned();
        t
    }

    /// Answers one Rekor v1 API request. Blocks until a new entry is durable.
    #[must_use]
    pub fn handle(&self, req: &Request<Vec<u8>>) -> Response<Vec<u8>> {
        match self.route(req) {
            Routed::Answer(r) => r.unwrap_or_else(Reject::into_response),
            Routed::Commit { canonical, leaf } => {
                let done = self.submit(canonical, leaf);
                self.created(leaf, done)
                    .unwrap_or_else(Reject::into_response)
            }
        }
    }

    /// [`handle`](Self::handle) for an async server: waiting for a group
    /// commit suspends instead of blocking a thread.
    #[cfg(feature = "http")]
    pub(crate) async fn handle_async(&self, req: &Request<Vec<u8>>) -> Response<Vec<u8>> {
        match self.route(req) {
            Routed::Answer(r) => r.unwrap_or_else(Reject::into_response),
            Routed::Commit { canonical, leaf } => {
                let done = self.submit_async(canonical, leaf).await;
                self.created(leaf, done)
                    .unwrap_or_else(Reject::into_response)
            }
        }
    }

    /// Everything of a request but the wait for a commit.
    fn route(&self, req: &Request<Vec<u8>>) -> Routed {
        let path = req.uri().path().trim_end_matches('/');
        let query = req.uri().query().unwrap_or("");
        let m = req.method();
        if path == "/api/v1/log/entries" && m == Method::POST {
            return match self.validate(req.body()) {
                Ok((canonical, leaf)) => Routed::Commit { canonical, leaf },
                Err(e) => Routed::Answer(Err(e)),
            };
        }
        let r = match path {
            "/api/v1/log/entries" if m == Method::GET => self.get_by_index(query),
            "/api/v1/log/entries/retrieve" if m == Method::POST => self.retrieve(req.body()),
            "/api/v1/log" if m == Method::GET => self.shared().log_info(),
            "/api/v1/log/proof" if m == Method::GET => self.shared().consistency(query),
            "/api/v1/log/publicKey" if m == Method::GET => Ok(respond(
                StatusCode::OK,
                "application/x-pem-file",
                self.public_key().to_pem().into_bytes(),
            )),
            p if m == Method::GET && p.starts_with("/api/v1/log/entries/") => {
                self.get_by_id(&p["/api/v1/log/entries/".len()..])
            }
            "/api/v1/log/entries"
            | "/api/v1/log/entries/retrieve"
            | "/api/v1/log"
            | "/api/v1/log/proof"
            | "/api/v1/log/publicKey" => {
                Err(err(StatusCode::METHOD_NOT_ALLOWED, "method not allowed"))
            }
            _ => Err(err(StatusCode::NOT_FOUND, "no such endpoint")),
        };
        Routed::Answer(r)
    }

    /// Queues an entry for the writer; `reply` gets the outcome (called at
    /// once if the log is shutting down).
    fn enqueue(&self, body: Vec<u8>, leaf: Hash, reply: Box<dyn FnOnce(Done) + Send>) {
        let tx = self
            .inner
            .tx
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        match tx {
            Some(tx) => {
                if let Err(mpsc::SendError(job)) = tx.send(Job { body, leaf, reply }) {
                    (job.reply)(Done::Failed("the log is shutting down".into()));
                }
            }
            None => reply(Done::Failed("the log is shutting down".into())),
        }
    }

    /// Queues an entry and blocks until its group commit.
    fn submit(&self, body: Vec<u8>, leaf: Hash) -> Done {
        let (reply, rx) = mpsc::sync_channel(1);
        self.enqueue(
            body,
            leaf,
            Box::new(move |d| {
                let _ = reply.send(d);
            }),
        );
        rx.recv()
            .unwrap_or_else(|_| Done::Failed("the log writer stopped".into()))
    }

    /// Queues an entry and awaits its group commit (no thread blocks).
    #[cfg(feature = "http")]
    async fn submit_async(&self, body: Vec<u8>, leaf: Hash) -> Done {
        let (reply, rx) = tokio::sync::oneshot::channel();
        self.enqueue(
            body,
            leaf,
            Box::new(move |d| {
                let _ = reply.send(d);
            }),
        );
        rx.await
            .unwrap_or_else(|_| Done::Failed("the log writer stopped".into()))
    }

    /// A proposed entry's canonical body and leaf hash, or the 4xx.
    fn validate(&self, body: &[u8]) -> Result<(Vec<u8>, Hash), Reject> {
        let sh = self.shared();
        if body.len() > sh.options.max_body_bytes {
            return Err(err(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!(
                    "request body larger than {} bytes",
                    sh.options.max_body_bytes
                ),
            ));
        }
        let canonical =
            canonicalize(&sh.keys, body).map_err(|m| err(StatusCode::BAD_REQUEST, &m))?;
        let leaf = leaf_hash(&canonical);
        Ok((canonical, leaf))
    }

    /// The answer to a committed (or refused) proposal.
    fn created(&self, leaf: Hash, done: Done) -> Answer {
        let sh = self.shared();
        match done {
            Done::Created { index, head } => {
                let entry = sh.entry(index, &head).map_err(internal)?;
                let mut r = respond(
                    StatusCode::CREATED,
                    "application/json",
                    entry.to_json().into_bytes(),
                );
                // A hash and an entry id: hex digits, always valid header values.
                r.headers_mut()
                    .insert(header::ETAG, hex_header(&format!("\"{leaf}\"")));
                r.headers_mut().insert(
                    header::LOCATION,
                    hex_header(&format!("/api/v1/log/entries/{}", entry.id)),
                );
                Ok(r)
            }
            Done::Exists { index } => {
                let id = EntryId::new(Some(sh.tree_id), leaf);
                let mut r = err(
                    StatusCode::CONFLICT,
                    &format!(
                        "an equivalent entry already exists in the transparency log with UUID {id} at index {index}"
                    ),
                );
                r.location = Some(format!("/api/v1/log/entries/{id}"));
                Err(r)
            }
            Done::Failed(m) => Err(err(StatusCode::INTERNAL_SERVER_ERROR, &m)),
        }
    }

    fn get_by_id(&self, id: &str) -> Answer {
        let Ok(id) = EntryId::parse(id) else {
            return Err(err(
                StatusCode::BAD_REQUEST,
                "entry id must be 64 or 80 hex digits",
            ));
        };
        let sh = self.shared();
        if id.tree_id().is_some_and(|t| t != sh.tree_id) {
            return Err(not_found());
        }
        let index = sh.lookup(id.uuid()).ok_or_else(not_found)?;
        let head = sh.head();
        ok_json(sh.entry(index, &head).map_err(internal)?.to_json())
    }

    fn get_by_index(&self, query: &str) -> Answer {
        let Some(index) = param(query, "logIndex") else {
            return Err(err(StatusCode::BAD_REQUEST, "logIndex is required"));
        };
        let index: u64 = index.parse().map_err(|_| {
            err(
                StatusCode::BAD_REQUEST,
                "logIndex must be a non-negative integer",
            )
        })?;
        let sh = self.shared();
        let head = sh.head();
        if index >= head.size {
            return Err(not_found());
        }
        ok_json(sh.entry(index, &head).map_err(internal)?.to_json())
    }

    fn retrieve(&self, body: &[u8]) -> Answer {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        struct Query {
            #[serde(default, rename = "entryUUIDs")]
            entry_uuids: Vec<String>,
            #[serde(default)]
            log_indexes: Vec<u64>,
            #[serde(default)]
            entries: Vec<serde_json::Value>,
        }
        let q: Query = serde_json::from_slice(body)
            .map_err(|e| err(StatusCode::BAD_REQUEST, &format!("malformed query: {e}")))?;
        let n = q.entry_uuids.len() + q.log_indexes.len() + q.entries.len();
        if n > attest_rekor::sansio::MAX_RETRIEVE {
            return Err(err(
                StatusCode::UNPROCESSABLE_ENTITY,
                &format!(
                    "at most {} queries per request",
                    attest_rekor::sansio::MAX_RETRIEVE
                ),
            ));
        }
        let sh = self.shared();
        let head = sh.head();
        let mut indices = Vec::new();
        for s in &q.entry_uuids {
            let id = EntryId::parse(s).map_err(|_| {
                err(
                    StatusCode::BAD_REQUEST,
                    "entry id must be 64 or 80 hex digits",
                )
            })?;
            if id.tree_id().is_none_or(|t| t == sh.tree_id) {
                indices.extend(sh.lookup(id.uuid()));
            }
        }
        indices.extend(q.log_indexes.iter().copied());
        for e in &q.entries {
            let bytes = e.to_string().into_bytes();
            let canonical =
                canonicalize(&sh.keys, &bytes).map_err(|m| err(StatusCode::BAD_REQUEST, &m))?;
            indices.extend(sh.lookup(&leaf_hash(&canonical)));
        }
        // A JSON array of the entries' own JSON, joined as text.
        let mut out = String::from("[");
        for (n, i) in indices.into_iter().filter(|&i| i < head.size).enumerate() {
            if n > 0 {
                out.push(',');
            }
            out.push_str(&sh.entry(i, &head).map_err(internal)?.to_json());
        }
        out.push(']');
        ok_json(out)
    }
}

impl rekor_client::Transport for LocalLog {
    type Error = std::convert::Infallible;

    /// In-process: the request is answered directly (the timeout does not
    /// apply; a request waits for its group commit).
    fn send(
        &self,
        req: Request<Vec<u8>>,
        _timeout: Duration,
    ) -> Result<Response<Vec<u8>>, Self::Error> {
        Ok(self.handle(&req))
    }
}

impl Shared {
    fn head(&self) -> Arc<Head> {
        Arc::clone(&self.head.read().unwrap_or_else(PoisonError::into_inner))
    }

    fn lookup(&self, uuid: &Hash) -> Option<u64> {
        self.uuids
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(uuid)
            .copied()
    }

    /// Signs the checkpoint of (`size`, `root`). A note that cannot be
    /// signed (a name from an older `log.json` that a note cannot carry) is
    /// an error: the log never publishes a head without its signature.
    fn sign_head(&self, size: u64, root: Hash) -> Result<Head, attest_rekor::NoteError> {
        let text = format!("{}\n{size}\n{}\n", self.origin, root.base64());
        let checkpoint =
            SignedNote::sign(&text, &self.name, self.note_key_id, &self.key)?.to_text();
        Ok(Head {
            size,
            root,
            checkpoint,
        })
    }

    /// The writer: takes every waiting job, stages them, commits once, then
    /// publishes the new head and answers.
    fn write_loop(&self, mut tail: storage::Tail, rx: &mpsc::Receiver<Job>) {
        let mut failed: Option<String> = None;
        self.write_batches(&mut tail, rx, &mut failed);
        // Closed: leave the derived files durable, so the next open is quick.
        if failed.is_none() {
            let _ = self.files.sync_derived(&mut tail);
        }
    }

    fn write_batches(
        &self,
        tail: &mut storage::Tail,
        rx: &mpsc::Receiver<Job>,
        failed: &mut Option<String>,
    ) {
        while let Ok(first) = rx.recv() {
            let mut jobs = vec![first];
            while jobs.len() < self.options.max_batch {
                match rx.try_recv() {
                    Ok(j) => jobs.push(j),
                    Err(_) => break,
                }
            }
            if let Some(why) = failed.as_ref() {
                for j in jobs {
                    (j.reply)(Done::Failed(why.clone()));
                }
                continue;
            }
            let now = self.options.clock.now().unix();
            let mut batch = storage::Batch::default();
            let mut staged: HashMap<Hash, u64> = HashMap::new();
            let mut outcome = Vec::with_capacity(jobs.len());
            {
                let uuids = self.uuids.read().unwrap_or_else(PoisonError::into_inner);
                for j in &jobs {
                    if let Some(&i) = uuids.get(&j.leaf).or_else(|| staged.get(&j.leaf)) {
                        outcome.push((i, false));
                    } else {
                        let index = tail.stage(&mut batch, &j.body, j.leaf, now);
                        staged.insert(j.leaf, index);
                        outcome.push((index, true));
                    }
                }
            }
            if !staged.is_empty() {
                self.commits
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            if let Err(e) = self.files.commit(tail, &mut batch) {
                let why = format!("the log's storage failed; reopen the log: {e}");
                for j in jobs {
                    (j.reply)(Done::Failed(why.clone()));
                }
                *failed = Some(why);
                continue;
            }
            let head = if staged.is_empty() {
                self.head()
            } else {
                self.uuids
                    .write()
                    .unwrap_or_else(PoisonError::into_inner)
                    .extend(staged.iter().map(|(k, v)| (*k, *v)));
                let signed = self
                    .sign_head(tail.size(), tail.root())
                    .map_err(|e| format!("the log cannot sign its checkpoint; reopen it: {e}"))
                    .and_then(|head| {
                        // Durable before anything is acknowledged: its size is
                        // what the next open holds the records to.
                        self.files
                            .write_checkpoint(tail, &head.checkpoint)
                            .and_then(|()| self.files.maybe_sync_derived(tail))
                            .map(|()| head)
                            .map_err(|e| format!("the log's storage failed; reopen the log: {e}"))
                    });
                match signed {
                    Ok(head) => {
                        let head = Arc::new(head);
                        *self.head.write().unwrap_or_else(PoisonError::into_inner) =
                            Arc::clone(&head);
                        head
                    }
                    Err(why) => {
                        for j in jobs {
                            (j.reply)(Done::Failed(why.clone()));
                        }
                        *failed = Some(why);
                        continue;
                    }
                }
            };
            for (j, (index, new)) in jobs.into_iter().zip(outcome) {
                let done = if new {
                    Done::Created {
                        index,
                        head: Arc::clone(&head),
                    }
                } else {
                    Done::Exists { index }
                };
                (j.reply)(done);
            }
        }
    }

    /// The REST entry at `index` with its SET and an inclusion proof against
    /// `head`.
    fn entry(&self, index: u64, head: &Head) -> Result<LogEntry, StorageError> {
        let rec = self.files.read_entry(index)?;
        let leaf = rec.leaf;
        let entry = LogEntry::new(
            EntryId::new(Some(self.tree_id), leaf),
            rec.body,
            rec.time,
            self.log_id,
            index,
        );
        let set = self.key.sign(&attest_rekor::verify::hazmat::set_payload(
            &entry.body_b64,
            rec.time,
            &self.log_id.to_hex(),
            index,
        ));
        let plan =
            inclusion_plan(index, head.size).map_err(|e| StorageError::Corrupt(Damage::Plan(e)))?;
        let proof = plan.read_proof(&self.files)?;
        Ok(entry
            .with_set(Base64::encode_string(&set))
            .with_inclusion_proof(RestInclusionProof::new(
                index,
                head.root.to_string(),
                head.size,
                proof.as_slice().iter().map(ToString::to_string).collect(),
                Some(head.checkpoint.clone()),
            )))
    }

    fn log_info(&self) -> Answer {
        let head = self.head();
        ok_json(
            serde_json::json!({
                "rootHash": head.root.to_string(),
                "treeSize": head.size,
                "signedTreeHead": head.checkpoint,
                "treeID": self.tree_id.to_string(),
                "inactiveShards": [],
            })
            .to_string(),
        )
    }

    fn consistency(&self, query: &str) -> Answer {
        let size = |name| -> Result<u64, Reject> {
            param(query, name)
                .ok_or_else(|| err(StatusCode::BAD_REQUEST, &format!("{name} is required")))?
                .parse()
                .map_err(|_| {
                    err(
                        StatusCode::BAD_REQUEST,
                        &format!("{name} must be a non-negative integer"),
                    )
                })
        };
        let first = match param(query, "firstSize") {
            None => 1,
            Some(_) => size("firstSize")?,
        };
        let last = size("lastSize")?;
        if param(query, "treeID").is_some_and(|t| t != self.tree_id.to_string()) {
            return Err(err(StatusCode::BAD_REQUEST, "unknown treeID"));
        }
        let head = self.head();
        if first == 0 || first > last || last > head.size {
            return Err(err(
                StatusCode::BAD_REQUEST,
                &format!(
                    "firstSize({first}) must be at least 1 and at most lastSize({last}), which must be at most the tree size {}",
                    head.size
                ),
            ));
        }
        let root = read_root(&self.files, last).map_err(internal)?;
        let hashes: Vec<String> = if first == last {
            Vec::new()
        } else {
            let plan = consistency_plan(first, last)
                .map_err(|e| internal(StorageError::Corrupt(Damage::Plan(e))))?;
            plan.read_proof(&self.files)
                .map_err(internal)?
                .as_slice()
                .iter()
                .map(ToString::to_string)
                .collect()
        };
        ok_json(serde_json::json!({ "rootHash": root.to_string(), "hashes": hashes }).to_string())
    }
}

/// The log key in `path` (PKCS#8 PEM), or a new ECDSA P-256 key (as Rekor
/// uses) written there with mode 0600 when the file does not exist.
///
/// # Errors
/// [`LocalError::Key`] or [`LocalError::Read`] for an unreadable key, [`LocalError::Storage`] when
/// the file cannot be written.
pub fn load_or_create_key(path: &Path) -> Result<SigningKey, LocalError> {
    load_or_create_key_of(path, attest_dsse::Algorithm::EcdsaP256Sha256)
}

/// [`load_or_create_key`], creating a key of `alg` when the file is missing
/// (a tile log's key is Ed25519).
///
/// # Errors
/// [`LocalError`].
pub fn load_or_create_key_of(
    path: &Path,
    alg: attest_dsse::Algorithm,
) -> Result<SigningKey, LocalError> {
    match std::fs::read_to_string(path) {
        Ok(pem) => SigningKey::from_pkcs8_pem(&pem).map_err(|source| LocalError::Key {
            path: path.to_owned(),
            source,
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = SigningKey::generate(alg).map_err(LocalError::NewKey)?;
            let pem = key.to_pkcs8_pem().map_err(LocalError::NewKey)?;
            let io = |source| {
                LocalError::Storage(StorageError::Io {
                    context: "write the log key",
                    source,
                })
            };
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(io)?;
            }
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create_new(true);
            // Private to the owner where the platform has modes.
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            let mut f = opts.open(path).map_err(io)?;
            std::io::Write::write_all(&mut f, pem.as_bytes()).map_err(io)?;
            f.sync_all().map_err(io)?;
            Ok(key)
        }
        Err(source) => Err(LocalError::Read {
            path: path.to_owned(),
            source,
        }),
    }
}

/// The files of a log besides `log.json`: if any is there, the directory
/// holds a log whose metadata is missing.
const DATA_FILES: [&str; 5] = [
    "entries.log",
    "index.dat",
    "tree.dat",
    "synced.dat",
    "checkpoint.dat",
];

fn load_or_create_meta(
    dir: &Path,
    name: &str,
    log_id_hex: &str,
) -> Result<(Meta, storage::Layout), LocalError> {
    let path = dir.join("log.json");
    match std::fs::read(&path) {
        Ok(bytes) => {
            let meta: Meta =
                serde_json::from_slice(&bytes).map_err(|source| LocalError::MetaJson {
                    path: path.clone(),
                    source,
                })?;
            let layout = match meta.format {
                1 => storage::Layout::Legacy,
                2 => storage::Layout::Current,
                format => return Err(LocalError::MetaFormat { path, format }),
            };
            if meta.log_id != log_id_hex {
                return Err(LocalError::WrongKey {
                    dir: dir.to_owned(),
                    found: meta.log_id,
                    expected: log_id_hex.to_owned(),
                });
            }
            Ok((meta, layout))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // Without its metadata an existing log is damaged, not new: a
            // new tree id would orphan every entry id handed out.
            if DATA_FILES
                .iter()
                .any(|f| std::fs::metadata(dir.join(f)).is_ok_and(|m| m.len() > 0))
            {
                return Err(LocalError::Storage(StorageError::Corrupt(
                    storage::Damage::MissingFile { file: "log.json" },
                )));
            }
            if !valid_key_name(name) {
                return Err(LocalError::InvalidName(name.to_owned()));
            }
            // A random positive tree id, like Trillian's.
            let tree_id = getrandom::u64().map_err(LocalError::Random)? >> 1;
            let meta = Meta {
                format: 2,
                name: name.to_owned(),
                tree_id: tree_id.to_string(),
                log_id: log_id_hex.to_owned(),
                created: Some(SystemClock.now().unix()),
            };
            write_meta(dir, &meta)?;
            Ok((meta, storage::Layout::New))
        }
        Err(e) => Err(LocalError::Storage(StorageError::Io {
            context: "read log.json",
            source: e,
        })),
    }
}

/// A signed-note key name (C2SP signed-note): non-empty, no Unicode
/// whitespace, no `+`; control characters are refused too, since a note
/// line cannot carry them.
fn valid_key_name(name: &str) -> bool {
    !name.is_empty() && !name.contains(|c: char| c.is_whitespace() || c.is_control() || c == '+')
}

/// `log.json`, replaced atomically and durably.
fn write_meta(dir: &Path, meta: &Meta) -> Result<(), LocalError> {
    // Plain strings and a number: serialization cannot fail.
    #[allow(clippy::expect_used)]
    let text = serde_json::to_string_pretty(meta).expect("log metadata serializes");
    let tmp = dir.join("log.json.tmp");
    let write = || -> std::io::Result<()> {
        use std::io::Write;
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, dir.join("log.json"))?;
        std::fs::File::open(dir)?.sync_all()
    };
    write().map_err(|e| {
        LocalError::Storage(StorageError::Io {
            context: "write log.json",
            source: e,
        })
    })
}

fn meta_copy(sh: &Shared) -> Meta {
    Meta {
        format: 2,
        name: sh.name.clone(),
        tree_id: sh.tree_id.to_string(),
        log_id: sh.log_id.to_hex(),
        created: sh.created,
    }
}

/// Validates a proposed entry as Rekor does and returns the canonical body
/// it stores, or the 400 message.
fn canonicalize(keys: &KeyCache, body: &[u8]) -> Result<Vec<u8>, String> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Proposed {
        kind: String,
        api_version: String,
        spec: serde_json::Value,
    }
    let p: Proposed =
        serde_json::from_slice(body).map_err(|e| format!("malformed proposed entry: {e}"))?;
    match (p.kind.as_str(), p.api_version.as_str()) {
        ("dsse", "0.0.1") => dsse_body(keys, &p.spec),
        ("hashedrekord", "0.0.1") => hashedrekord_body(keys, &p.spec),
        ("dsse" | "hashedrekord", v) => Err(format!(
            "unsupported apiVersion {v:?} for kind {:?}",
            p.kind
        )),
        (k, _) => Err(format!("unsupported entry kind {k:?}")),
    }
}

/// Parsed verifier keys by their base64 text: submitters reuse a few keys,
/// and parsing one (PEM, SPKI, point decompression) costs as much as a
/// signature check. Bounded; cleared when full.
#[derive(Default)]
struct KeyCache(Mutex<HashMap<String, (String, PublicKey)>>);

const KEY_CACHE_ENTRIES: usize = 4096;

/// The most (signature, verifier) pairs one `dsse` entry may ask the log to
/// try (a 400 beyond): Rekor's own entries have one of each.
pub const MAX_VERIFY_PAIRS: usize = 64;

impl KeyCache {
    fn decode_pem_b64(&self, s: &str) -> Result<(String, PublicKey), String> {
        if let Some(hit) = self.0.lock().unwrap_or_else(PoisonError::into_inner).get(s) {
            return Ok(hit.clone());
        }
        let pem = Base64::decode_vec(s).map_err(|_| "verifier is not base64".to_owned())?;
        let pem = String::from_utf8(pem).map_err(|_| "verifier is not PEM text".to_owned())?;
        let key =
            attest_rekor::x509::public_key_from_pem(&pem).map_err(|e| format!("verifier: {e}"))?;
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= KEY_CACHE_ENTRIES {
            map.clear();
        }
        map.insert(s.to_owned(), (pem.clone(), key.clone()));
        Ok((pem, key))
    }
}

fn dsse_body(keys: &KeyCache, spec: &serde_json::Value) -> Result<Vec<u8>, String> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Spec {
        proposed_content: Content,
    }
    #[derive(Deserialize)]
    struct Content {
        envelope: String,
        verifiers: Vec<String>,
    }
    let spec: Spec = serde_json::from_value(spec.clone()).map_err(|e| format!("dsse spec: {e}"))?;
    let c = spec.proposed_content;
    let env = Envelope::from_json(c.envelope.as_bytes()).map_err(|e| format!("envelope: {e}"))?;
    if !env.rejected_signatures().is_empty() {
        return Err("envelope has malformed signatures".into());
    }
    if env.signatures().is_empty() {
        return Err("envelope has no signatures".into());
    }
    if c.verifiers.is_empty() {
        return Err("at least one verifier is required".into());
    }
    // A bounded cost per request: every (signature, verifier) pair may have
    // to be tried, so their product is capped before any key is parsed.
    let pairs_asked = env.signatures().len().saturating_mul(c.verifiers.len());
    if pairs_asked > MAX_VERIFY_PAIRS {
        return Err(format!(
            "{} signatures × {} verifiers: at most {MAX_VERIFY_PAIRS} pairs are checked per entry",
            env.signatures().len(),
            c.verifiers.len()
        ));
    }
    let verifiers = c
        .verifiers
        .iter()
        .map(|v| keys.decode_pem_b64(v))
        .collect::<Result<Vec<_>, _>>()?;
    let pae = env.pae();
    let mut pairs = Vec::new();
    for (i, s) in env.signatures().iter().enumerate() {
        // A key hint naming a verifier's key id: only that verifier is tried.
        let hinted = s
            .keyid
            .as_deref()
            .filter(|h| !h.is_empty())
            .and_then(|h| verifiers.iter().find(|(_, k)| k.key_id() == h));
        let found = match hinted {
            Some((pem, k)) => k.verifies(&pae, &s.sig).then_some(pem),
            None => verifiers
                .iter()
                .find(|(_, k)| k.verifies(&pae, &s.sig))
                .map(|(pem, _)| pem),
        };
        let Some(pem) = found else {
            return Err(format!(
                "signature {i} does not verify with any of the verifiers"
            ));
        };
        pairs.push((s.sig.clone(), pem.clone()));
    }
    let envelope_hash = Hash(Sha256::digest(c.envelope.as_bytes()).into()).to_string();
    let payload_hash = attest_rekor::hashes::payload_hash(&env);
    attest_rekor::body::dsse_v001_body(&envelope_hash, &payload_hash, &pairs)
        .map_err(|e| e.to_string())
}

fn hashedrekord_body(keys: &KeyCache, spec: &serde_json::Value) -> Result<Vec<u8>, String> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Spec {
        data: Data,
        signature: Sig,
    }
    #[derive(Deserialize)]
    struct Data {
        hash: HashJson,
    }
    #[derive(Deserialize)]
    struct HashJson {
        algorithm: String,
        value: String,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Sig {
        content: String,
        public_key: Content,
    }
    #[derive(Deserialize)]
    struct Content {
        content: String,
    }
    let spec: Spec =
        serde_json::from_value(spec.clone()).map_err(|e| format!("hashedrekord spec: {e}"))?;
    if spec.data.hash.algorithm != "sha256" {
        return Err(format!(
            "unsupported hash algorithm {:?}",
            spec.data.hash.algorithm
        ));
    }
    let digest =
        Hash::from_hex(&spec.data.hash.value).map_err(|e| format!("data.hash.value: {e}"))?;
    let sig = Base64::decode_vec(&spec.signature.content)
        .map_err(|_| "signature.content is not base64".to_owned())?;
    let (_, key) = keys.decode_pem_b64(&spec.signature.public_key.content)?;
    if !key.verifies_prehashed_sha256(digest.as_bytes(), &sig) {
        return Err("the signature does not verify with the public key over the digest".into());
    }
    attest_rekor::body::hashedrekord_v001_body(
        digest.as_bytes(),
        &sig,
        &spec.signature.public_key.content,
    )
    .map_err(|e| e.to_string())
}

/// The first value of query parameter `name`, percent-decoded
/// (`application/x-www-form-urlencoded`, as HTTP clients encode queries).
fn param(query: &str, name: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn ok_json(body: String) -> Answer {
    Ok(respond(
        StatusCode::OK,
        "application/json",
        body.into_bytes(),
    ))
}

/// A response with a status, a content type (a static media type) and a body.
fn respond(status: StatusCode, content_type: &'static str, body: Vec<u8>) -> Response<Vec<u8>> {
    let mut r = Response::new(body);
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(content_type),
    );
    r
}

/// A header value made of hex digits, quotes and slashes (an ETag, a
/// Location path): always valid; anything else is dropped to the empty
/// value rather than sent (it cannot happen with the callers' inputs).
fn hex_header(s: &str) -> header::HeaderValue {
    header::HeaderValue::from_str(s).unwrap_or(header::HeaderValue::from_static(""))
}

/// A refusal: Rekor's `{code, message}` body with the HTTP status as the
/// code, or no body at all (an unknown entry).
struct Reject {
    status: StatusCode,
    message: Option<String>,
    location: Option<String>,
}

type Answer = Result<Response<Vec<u8>>, Reject>;

impl Reject {
    fn into_response(self) -> Response<Vec<u8>> {
        let mut r = match self.message {
            Some(message) => {
                let body = ErrorBody {
                    code: i64::from(self.status.as_u16()),
                    message,
                };
                // An integer and a string: serialization cannot fail.
                #[allow(clippy::expect_used)]
                let json = serde_json::to_vec(&body).expect("an error body serializes");
                respond(self.status, "application/json", json)
            }
            None => {
                let mut r = Response::new(Vec::new());
                *r.status_mut() = self.status;
                r
            }
        };
        if let Some(l) = &self.location {
            r.headers_mut().insert(header::LOCATION, hex_header(l));
        }
        r
    }
}

fn err(status: StatusCode, message: &str) -> Reject {
    Reject {
        status,
        message: Some(message.to_owned()),
        location: None,
    }
}

/// Rekor's 404 for an unknown entry: no body.
fn not_found() -> Reject {
    Reject {
        status: StatusCode::NOT_FOUND,
        message: None,
        location: None,
    }
}

fn internal(e: StorageError) -> Reject {
    err(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string())
}

/// A Sigstore `TrustedRoot` (media type `…trustedroot+json;version=0.1`)
/// for the log in `dir`, as served at `base_url`: one `tlogs` entry with the
/// log's key (`log-public.pem`), `logId.keyId` = SHA-256 of its SPKI, and
/// `validFor.start` = the log's creation (for a log made before creation
/// times were kept: `log.json`'s modification time). Reads the two files
/// only, so it works while a server has the log open. With it any Sigstore
/// client can verify the bundles of the embedded log.
///
/// # Errors
/// [`LocalError::MetaJson`] and storage errors for a missing or malformed
/// `log.json` or key, [`LocalError::WrongKey`] when the key is not the one
/// `log.json` names.
pub fn trusted_root(dir: &Path, base_url: &str) -> Result<attest_rekor::TrustedRoot, LocalError> {
    let io = |context: &'static str| {
        move |source: std::io::Error| LocalError::Storage(StorageError::Io { context, source })
    };
    let path = dir.join("log.json");
    let bytes = std::fs::read(&path).map_err(io("read log.json"))?;
    let meta: Meta = serde_json::from_slice(&bytes).map_err(|source| LocalError::MetaJson {
        path: path.clone(),
        source,
    })?;
    let pem =
        std::fs::read_to_string(dir.join("log-public.pem")).map_err(io("read log-public.pem"))?;
    let key = PublicKey::from_pem(&pem).map_err(|_| {
        LocalError::Storage(StorageError::Io {
            context: "parse log-public.pem",
            source: std::io::Error::from(std::io::ErrorKind::InvalidData),
        })
    })?;
    let log_id = LogId::of_key(&key);
    if log_id.to_hex() != meta.log_id {
        return Err(LocalError::WrongKey {
            dir: dir.to_owned(),
            found: meta.log_id,
            expected: log_id.to_hex(),
        });
    }
    let created = match meta.created {
        Some(t) => t,
        None => std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .and_then(|d| i64::try_from(d.as_secs()).ok())
            .unwrap_or(0),
    };
    let log = TrustedLog::rekor_v1(base_url, key)
        .valid_between(Some(attest_dsse::Timestamp::from_unix(created)), None);
    Ok(attest_rekor::TrustedRoot::new().with_log(log))
}

/// The origin line of a durable checkpoint's note (empty when it does not
/// parse: then it cannot match any log's origin).
pub(crate) fn durable_origin(note: &str) -> String {
    note.split('\n').next().unwrap_or_default().to_owned()
}
