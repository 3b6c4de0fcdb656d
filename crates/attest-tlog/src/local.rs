//! The embedded Rekor v1 log: its handle, shared state and opening (files proved, the durable checkpoint checked).

#[allow(clippy::wildcard_imports)]
use super::*;

/// The log state readers see: a committed size, its root and the signed
/// checkpoint over them.
#[derive(Debug)]
pub(crate) struct Head {
    pub(crate) size: u64,
    pub(crate) root: Hash,
    pub(crate) checkpoint: String,
}

pub(crate) enum Done {
    Created { index: u64, head: Arc<Head> },
    Exists { index: u64 },
    Failed(String),
}

/// What routing a request leads to: an answer now, or a commit to wait for.
pub(crate) enum Routed {
    Answer(Answer),
    Commit { canonical: Vec<u8>, leaf: Hash },
}

pub(crate) struct Job {
    pub(crate) body: Vec<u8>,
    pub(crate) leaf: Hash,
    /// Called once with the outcome, on the writer thread.
    pub(crate) reply: Box<dyn FnOnce(Done) + Send>,
}

pub(crate) struct Shared {
    pub(crate) files: storage::Files,
    pub(crate) key: SigningKey,
    pub(crate) public: PublicKey,
    pub(crate) log_id: LogId,
    pub(crate) tree_id: u64,
    pub(crate) name: String,
    /// `log.json`'s creation time, kept when it is rewritten.
    pub(crate) created: Option<i64>,
    pub(crate) origin: String,
    pub(crate) note_key_id: [u8; 4],
    pub(crate) options: LogOptions,
    pub(crate) head: RwLock<Arc<Head>>,
    pub(crate) uuids: RwLock<HashMap<Hash, u64>>,
    pub(crate) keys: KeyCache,
    /// Group commits since open.
    pub(crate) commits: std::sync::atomic::AtomicU64,
    /// Witness cosignatures served with the checkpoint, once witnessing
    /// started.
    pub(crate) cosignatures: RwLock<Option<Arc<crate::Cosignatures>>>,
}

pub(crate) struct Inner {
    pub(crate) shared: Arc<Shared>,
    pub(crate) tx: Mutex<Option<mpsc::Sender<Job>>>,
    pub(crate) writer: Mutex<Option<JoinHandle<()>>>,
    pub(crate) _lock: DirLock,
}

impl Drop for Inner {
    fn drop(&mut self) {
        close_writer(&self.tx, &self.writer);
    }
}

/// An embedded Rekor v1 log over a directory. Cheap to clone (a shared
/// handle); the directory is released when the last clone is dropped.
#[derive(Clone)]
pub struct LocalLog {
    pub(crate) inner: Arc<Inner>,
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
            cosignatures: RwLock::new(None),
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

    pub(crate) fn shared(&self) -> &Shared {
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

    /// The origin line of its checkpoints (`<name> - <tree id>`): what a
    /// witness knows the log by.
    #[must_use]
    pub fn origin(&self) -> &str {
        &self.shared().origin
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

    /// The consistency proof from size `old` to `new` (`0 < old < new <=`
    /// the committed size; empty when `old == new`).
    ///
    /// # Errors
    /// [`StorageError::OutOfRange`] for sizes outside that, or an I/O
    /// error.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>, StorageError> {
        let sh = self.shared();
        let committed = sh.head().size;
        if new > committed {
            return Err(StorageError::OutOfRange(OutOfRange::Size {
                asked: new,
                size: committed,
            }));
        }
        if old == new {
            return Ok(Vec::new());
        }
        let plan = consistency_plan(old, new)
            .map_err(|e| StorageError::OutOfRange(OutOfRange::Proof(e)))?;
        Ok(plan.read_proof(&sh.files)?.as_slice().to_vec())
    }

    /// The latest checkpoint as served: with the witness cosignatures
    /// obtained for it, once [`Witnessing`](crate::Witnessing) runs.
    #[must_use]
    pub fn served_checkpoint(&self) -> String {
        self.shared().served_checkpoint(&self.checkpoint())
    }

    /// How a client trusts this log: its key, log id and checkpoint name.
    #[must_use]
    pub fn trusted_log(&self) -> TrustedLog {
        let mut t = TrustedLog::rekor_v1("http://attestlog.local", self.public_key().clone());
        t.name = self.name().to_owned();
        t
    }
}
