//! A transparency-log witness (C2SP `tlog-witness`): `POST /add-checkpoint`
//! with a consistency proof from the last checkpoint it cosigned for the
//! log; a `cosignature/v1` line back when the new checkpoint extends it.
//!
//! The witness's memory is what makes it useful, so it follows the log's
//! own rules: per-log state (size and root of the last cosigned checkpoint)
//! is written durably before any cosignature leaves, never rolled back (a
//! request for an older size is a 409 naming the size it knows), checked and
//! updated under one lock (two requests cannot interleave into a rollback),
//! and a state file that does not parse stops the witness from starting
//! rather than letting it forget. One process at a time holds the directory.
//! A checkpoint the log signed with another root at a size the witness
//! cosigned is kept under `evidence/` beside the one cosigned: two signed
//! trees of one size are the log's own proof of a fork. A consistency proof
//! that does not verify is refused (422) but not kept: proofs are unsigned,
//! so anyone can send a bad one with a genuine checkpoint, and keeping each
//! would let anyone fill the disk.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use attest_dsse::{Clock, PublicKey, SystemClock};
use attest_merkle::{Hash, verify_consistency};
use attest_rekor::witness::{AddCheckpoint, Cosigner, TLOG_SIZE_MEDIA_TYPE, WitnessKey};
use attest_rekor::{NoteError, NoteVerifier, SignedNote};
use http::{Method, Request, Response, StatusCode, header};
use serde::{Deserialize, Serialize};

use crate::DirLock;

/// The file holding the witness's per-log state.
pub const WITNESS_STATE_FILE: &str = "witness-state.json";

/// Largest `add-checkpoint` body accepted.
pub const MAX_ADD_CHECKPOINT_BYTES: usize = 64 << 10;

/// Why a witness could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WitnessServiceError {
    /// The directory could not be created, locked or read.
    #[error("witness directory {path}")]
    Dir {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: Box<crate::LocalError>,
    },
    /// The state file exists but does not parse: starting would forget what
    /// was cosigned.
    #[error(
        "witness state {path} does not parse ({reason}); refusing to start and forget what was cosigned"
    )]
    CorruptState {
        /// The file.
        path: PathBuf,
        /// The parser's complaint.
        reason: String,
    },
    /// [`Witness::resume`] found no state: the witness ran before (its key
    /// exists) but what it cosigned is gone, and starting afresh would let
    /// it cosign a fork of what it cosigned.
    #[error(
        "witness state {path} is missing; refusing to start and cosign as if nothing had been cosigned before (restore it, or start a new witness with a new key)"
    )]
    StateMissing {
        /// The file.
        path: PathBuf,
    },
    /// The state is another witness's (another name or key).
    #[error("witness state {path} belongs to witness {found}, not to this one")]
    OtherWitness {
        /// The file.
        path: PathBuf,
        /// The verifier key the state names.
        found: String,
    },
    /// Reading or writing the state failed.
    #[error("witness state {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The same origin configured twice.
    #[error("log origin {0:?} is configured twice")]
    DuplicateLog(String),
    /// No log to witness.
    #[error("a witness needs at least one log to witness")]
    NoLogs,
}

/// A log the witness cosigns for: its origin line and the keys its
/// checkpoints are signed with.
#[derive(Debug, Clone)]
pub struct WitnessedLog {
    origin: String,
    verifiers: Vec<NoteVerifier>,
}

impl WitnessedLog {
    /// The log of origin `origin` signing with `key`. Its signature lines are
    /// recognised by either key-id rule (Rekor v1's SHA-256 of the SPKI, or
    /// C2SP's for Ed25519): the key id only selects the line; the
    /// signature must verify under `key`.
    #[must_use]
    pub fn new(origin: impl Into<String>, key: PublicKey) -> Self {
        let origin = origin.into();
        let name = origin.split(" - ").next().unwrap_or(&origin).to_owned();
        let mut verifiers = vec![NoteVerifier::rekor_v1(name.clone(), key.clone())];
        let c2sp = NoteVerifier::c2sp(name, key);
        if c2sp.key_id() != verifiers[0].key_id() {
            verifiers.push(c2sp);
        }
        Self { origin, verifiers }
    }

    /// A C2SP log named by its verifier key (`<name>+<id>+<key>`), whose
    /// origin line is the key's name.
    ///
    /// # Errors
    /// [`NoteError::MalformedVerifierKey`].
    pub fn from_vkey(vkey: &str) -> Result<Self, NoteError> {
        let v = NoteVerifier::from_vkey(vkey.trim())?;
        Ok(Self {
            origin: v.name().to_owned(),
            verifiers: vec![v],
        })
    }

    /// The origin line.
    #[must_use]
    pub fn origin(&self) -> &str {
        &self.origin
    }
}

/// What the witness remembers of one log: the last cosigned tree, and its
/// note as received (the witness's side of any fork evidence).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Seen {
    size: u64,
    root: Hash,
    note: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct StateFile {
    format: u32,
    /// The verifier key of the witness whose state this is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    witness: Option<String>,
    logs: BTreeMap<String, Seen>,
}

struct Inner {
    cosigner: Cosigner,
    logs: BTreeMap<String, WitnessedLog>,
    dir: PathBuf,
    state: Mutex<StateFile>,
    clock: Box<dyn Clock>,
    _lock: DirLock,
}

/// A witness: cosigns the checkpoints of the logs it is configured with,
/// never one inconsistent with what it cosigned before. Cheap to clone;
/// serve it with [`crate::serve_handler`] (feature `http`) or call
/// [`handle`](Self::handle).
#[derive(Clone)]
pub struct Witness {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Witness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Witness")
            .field("witness", self.inner.cosigner.witness())
            .field("logs", &self.inner.logs.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> WitnessServiceError + '_ {
    move |source| WitnessServiceError::Io {
        path: path.to_owned(),
        source,
    }
}

impl Witness {
    /// Opens the witness state in `dir`, or creates it (written at once,
    /// naming this witness's key), holding the directory for this process,
    /// cosigning as `cosigner` for `logs`. Use [`resume`](Self::resume) for
    /// a witness that has run before.
    ///
    /// # Errors
    /// [`WitnessServiceError`].
    pub fn open(
        dir: &Path,
        cosigner: Cosigner,
        logs: Vec<WitnessedLog>,
    ) -> Result<Self, WitnessServiceError> {
        Self::open_inner(dir, cosigner, logs, Box::new(SystemClock), false)
    }

    /// Opens the state of a witness that has run before (its key existed):
    /// a missing state file is [`WitnessServiceError::StateMissing`], never
    /// a fresh start — a witness that forgot what it cosigned would cosign
    /// a fork of it.
    ///
    /// # Errors
    /// [`WitnessServiceError`].
    pub fn resume(
        dir: &Path,
        cosigner: Cosigner,
        logs: Vec<WitnessedLog>,
    ) -> Result<Self, WitnessServiceError> {
        Self::open_inner(dir, cosigner, logs, Box::new(SystemClock), true)
    }

    /// [`open`](Self::open) with a clock for the cosignatures' times.
    ///
    /// # Errors
    /// [`WitnessServiceError`].
    pub fn open_with_clock(
        dir: &Path,
        cosigner: Cosigner,
        logs: Vec<WitnessedLog>,
        clock: impl Clock + 'static,
    ) -> Result<Self, WitnessServiceError> {
        Self::open_inner(dir, cosigner, logs, Box::new(clock), false)
    }

    fn open_inner(
        dir: &Path,
        cosigner: Cosigner,
        logs: Vec<WitnessedLog>,
        clock: Box<dyn Clock>,
        must_exist: bool,
    ) -> Result<Self, WitnessServiceError> {
        if logs.is_empty() {
            return Err(WitnessServiceError::NoLogs);
        }
        let mut by_origin = BTreeMap::new();
        for l in logs {
            if by_origin.contains_key(&l.origin) {
                return Err(WitnessServiceError::DuplicateLog(l.origin));
            }
            by_origin.insert(l.origin.clone(), l);
        }
        let dir_err = |source: crate::LocalError| WitnessServiceError::Dir {
            path: dir.to_owned(),
            source: Box::new(source),
        };
        std::fs::create_dir_all(dir).map_err(|e| {
            dir_err(crate::LocalError::Storage(crate::StorageError::Io {
                context: "create the witness directory",
                source: e,
            }))
        })?;
        let lock = DirLock::take(dir).map_err(dir_err)?;
        let path = dir.join(WITNESS_STATE_FILE);
        let state = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice::<StateFile>(&bytes)
                .ok()
                .filter(|s| s.format == 1)
                .ok_or_else(|| WitnessServiceError::CorruptState {
                    path: path.clone(),
                    reason: serde_json::from_slice::<StateFile>(&bytes).map_or_else(
                        |e| e.to_string(),
                        |s| format!("unknown format {}", s.format),
                    ),
                })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && must_exist => {
                return Err(WitnessServiceError::StateMissing { path });
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => StateFile {
                format: 1,
                ..StateFile::default()
            },
            Err(e) => return Err(io_err(&path)(e)),
        };
        let vkey = cosigner.witness().to_vkey();
        if let Some(found) = state.witness.as_ref().filter(|w| **w != vkey) {
            return Err(WitnessServiceError::OtherWitness {
                path,
                found: found.clone(),
            });
        }
        let created = state.witness.is_none();
        let w = Self {
            inner: Arc::new(Inner {
                cosigner,
                logs: by_origin,
                dir: dir.to_owned(),
                state: Mutex::new(state),
                clock,
                _lock: lock,
            }),
        };
        if created {
            // The state names its witness, and exists from the first start:
            // a later start without it is a loss, not a new witness.
            let mut state = w.state();
            state.witness = Some(vkey);
            w.persist(&state).map_err(io_err(&path))?;
        }
        Ok(w)
    }

    /// The witness's public identity (give it to verifiers).
    #[must_use]
    pub fn witness_key(&self) -> &WitnessKey {
        self.inner.cosigner.witness()
    }

    /// The size of the last checkpoint cosigned for `origin` (0: none).
    #[must_use]
    pub fn cosigned_size(&self, origin: &str) -> u64 {
        self.state().logs.get(origin).map_or(0, |s| s.size)
    }

    fn state(&self) -> std::sync::MutexGuard<'_, StateFile> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Answers one HTTP request: `POST /add-checkpoint` (any path prefix is
    /// the caller's to strip).
    #[must_use]
    pub fn handle(&self, req: &Request<Vec<u8>>) -> Response<Vec<u8>> {
        if req.uri().path() != "/add-checkpoint" {
            return text(
                StatusCode::NOT_FOUND,
                "not found: the witness answers POST /add-checkpoint\n",
            );
        }
        if req.method() != Method::POST {
            let mut r = text(
                StatusCode::METHOD_NOT_ALLOWED,
                "add-checkpoint takes POST\n",
            );
            r.headers_mut()
                .insert(header::ALLOW, header::HeaderValue::from_static("POST"));
            return r;
        }
        match self.add_checkpoint(req.body()) {
            Ok(lines) => text(StatusCode::OK, &lines),
            Err(Refusal::Conflict(size)) => {
                let mut r = text(StatusCode::CONFLICT, &format!("{size}\n"));
                r.headers_mut().insert(
                    header::CONTENT_TYPE,
                    header::HeaderValue::from_static(TLOG_SIZE_MEDIA_TYPE),
                );
                r
            }
            Err(Refusal::Status(status, why)) => text(status, &format!("{why}\n")),
        }
    }

    /// The `add-checkpoint` call on a request body: the cosignature lines
    /// (each ending with a newline) or why not.
    fn add_checkpoint(&self, body: &[u8]) -> Result<String, Refusal> {
        let bad = |why: &str| Refusal::Status(StatusCode::BAD_REQUEST, why.to_owned());
        if body.len() > MAX_ADD_CHECKPOINT_BYTES {
            return Err(Refusal::Status(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body too large".into(),
            ));
        }
        let body = std::str::from_utf8(body).map_err(|_| bad("the body is not UTF-8"))?;
        let req = AddCheckpoint::parse(body).map_err(bad)?;
        let note =
            SignedNote::parse(req.note).map_err(|e| bad(&format!("checkpoint note: {e}")))?;
        let cp = note
            .checkpoint()
            .map_err(|e| bad(&format!("checkpoint: {e}")))?;
        let Some(log) = self.inner.logs.get(cp.origin()) else {
            return Err(Refusal::Status(
                StatusCode::NOT_FOUND,
                format!("unknown log origin {:?}", cp.origin()),
            ));
        };
        note.verify(&log.verifiers).map_err(|e| {
            Refusal::Status(StatusCode::FORBIDDEN, format!("the log's signature: {e}"))
        })?;
        if req.old > cp.size() {
            return Err(bad("the old size is larger than the checkpoint's"));
        }
        // Check against what was cosigned and record the new tree under one
        // lock: two requests must not interleave into a rollback.
        let mut state = self.state();
        let known = state.logs.get(cp.origin()).cloned();
        let known_size = known.as_ref().map_or(0, |s| s.size);
        if req.old != known_size {
            return Err(Refusal::Conflict(known_size));
        }
        match &known {
            None if !req.proof.is_empty() => {
                return Err(Refusal::Status(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "a proof from size 0 must be empty".into(),
                ));
            }
            None => {}
            Some(k) if k.size == cp.size() && k.root != *cp.root() => {
                self.keep_evidence(cp.origin(), &k.note, req.note);
                return Err(Refusal::Status(
                    StatusCode::CONFLICT,
                    format!("size {} was cosigned with another root hash", k.size),
                ));
            }
            Some(k) if k.size == cp.size() && !req.proof.is_empty() => {
                return Err(Refusal::Status(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "a proof between equal sizes must be empty".into(),
                ));
            }
            Some(k) if k.size == cp.size() => {}
            // Every tree extends the empty one: the proof must be empty,
            // as from no record at all.
            Some(k) if k.size == 0 && !req.proof.is_empty() => {
                return Err(Refusal::Status(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "a proof from size 0 must be empty".into(),
                ));
            }
            Some(k) if k.size == 0 => {}
            Some(k) => {
                if let Err(e) =
                    verify_consistency(k.size, cp.size(), &req.proof, &k.root, cp.root())
                {
                    return Err(Refusal::Status(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        format!(
                            "the consistency proof from size {} does not verify: {e}",
                            k.size
                        ),
                    ));
                }
            }
        }
        if known
            .as_ref()
            .is_none_or(|k| k.size != cp.size() || k.root != *cp.root())
        {
            let seen = Seen {
                size: cp.size(),
                root: *cp.root(),
                note: req.note.to_owned(),
            };
            let before = state.logs.insert(cp.origin().to_owned(), seen);
            if let Err(e) = self.persist(&state) {
                // Not durable: not cosigned, and not remembered either.
                match before {
                    Some(b) => state.logs.insert(cp.origin().to_owned(), b),
                    None => state.logs.remove(cp.origin()),
                };
                return Err(Refusal::Status(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!("the witness could not record the checkpoint: {e}"),
                ));
            }
        }
        drop(state);
        let now = u64::try_from(self.inner.clock.now().unix()).unwrap_or(0);
        let line = self
            .inner
            .cosigner
            .cosign(note.text(), now)
            .map_err(|e| Refusal::Status(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
        Ok(format!("{}\n", line.to_line()))
    }

    /// Replaces the state file atomically and durably.
    fn persist(&self, state: &StateFile) -> std::io::Result<()> {
        use std::io::Write;
        let text = serde_json::to_vec_pretty(state).map_err(std::io::Error::other)?;
        let path = self.inner.dir.join(WITNESS_STATE_FILE);
        let tmp = self.inner.dir.join(format!("{WITNESS_STATE_FILE}.tmp"));
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&text)?;
        f.sync_all()?;
        std::fs::rename(&tmp, &path)?;
        std::fs::File::open(&self.inner.dir)?.sync_all()
    }

    /// Keeps a checkpoint the log signed with another root at a cosigned
    /// size, beside the cosigned one: one file per conflicting checkpoint
    /// (the same one sent again is not kept twice). Best effort: the
    /// refusal stands whether or not the copy is written.
    fn keep_evidence(&self, origin: &str, cosigned: &str, conflicting: &str) {
        let dir = self.inner.dir.join("evidence");
        let name = format!(
            "fork-{}.txt",
            base16ct::lower::encode_string(
                &attest_merkle::leaf_hash(conflicting.as_bytes()).0[..16]
            )
        );
        let text = format!(
            "The log {origin:?} signed two different trees of the same size.\n\n\
             Cosigned by this witness:\n\n{cosigned}\n\nThen sent to it:\n\n{conflicting}"
        );
        let _ = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(dir.join(name), text));
    }
}

enum Refusal {
    /// 409 with the size the witness knows.
    Conflict(u64),
    Status(StatusCode, String),
}

fn text(status: StatusCode, body: &str) -> Response<Vec<u8>> {
    let mut r = Response::new(body.as_bytes().to_vec());
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}
