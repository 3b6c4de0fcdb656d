#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod check;
mod cosigning;
#[cfg(feature = "object-store")]
mod objstore;
mod storage;
mod tilelog;
mod tsa;
mod witness;

mod bodies;
mod dirlock;
mod group_commit;
mod local;
mod meta;
mod routes;
mod sequencer;

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
/// The `add-checkpoint` protocol, shared with the witness client
/// (`rekor_client::witness`).
pub use attest_rekor::witness::{AddCheckpoint, MAX_PROOF_LINES, TLOG_SIZE_MEDIA_TYPE};
pub use check::{CheckReport, RepairReport, check, repair};
pub use cosigning::{
    Cosignatures, DEFAULT_WITNESS_POLL, WitnessStanding, WitnessedSource, Witnessing,
    WitnessingError, WitnessingStatus,
};
#[cfg(feature = "object-store")]
pub use objstore::{LEASE, ObjectTileStore};
#[cfg(feature = "http")]
pub use server::{
    Blocking, HEAD_DEADLINE, Handler, IN_FLIGHT_BODY_BYTES, MAX_HEAD, MAX_IN_FLIGHT_REQUESTS,
    REQUEST_DEADLINE, Server, ServerError, V2Services, WRITE_TIMEOUT, bind, serve, serve_handler,
    serve_listener,
};
pub use storage::{Damage, OutOfRange, StorageError};
pub use tilelog::{
    CheckpointProblem, ClaimError, DirStore, Integrated, MAX_ENTRY_BYTES, PUBLIC_DIR, Pending,
    SequencerError, TileDamage, TileLog, TileLogCheck, TileLogError, TileLogOptions, TileLogRepair,
    TileStore, c2sp_log_id, check_tile_log, check_tile_log_in, repair_tile_log, repair_tile_log_in,
};
pub use tsa::{CERTCHAIN_PATH, TIMESTAMP_PATH, TsaService, TsaServiceError};
pub use witness::{
    MAX_ADD_CHECKPOINT_BYTES, WITNESS_STATE_FILE, Witness, WitnessServiceError, WitnessedLog,
};

pub use bodies::MAX_VERIFY_PAIRS;
#[allow(unused_imports)]
use bodies::*;
#[allow(unused_imports)]
pub(crate) use dirlock::*;
#[allow(unused_imports)]
use local::*;
pub use local::{LocalLog, OpenReport};
#[allow(unused_imports)]
use meta::*;
pub use meta::{load_or_create_key, load_or_create_key_of, trusted_root};
#[allow(unused_imports)]
use routes::*;

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
    #[error("{}", path.display())]
    Key {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: attest_dsse::KeyError,
    },
    /// A new log key could not be made.
    #[error("a new log key")]
    NewKey(#[source] attest_dsse::KeyError),
    /// A file could not be read.
    #[error("{}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// `log.json` is not this code's metadata.
    #[error("{}", path.display())]
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
    #[error("the checkpoint cannot be signed")]
    Checkpoint(#[source] attest_rekor::NoteError),
    /// Another process (or handle) has the directory open.
    #[error("the log directory {0} is in use by another process")]
    Locked(PathBuf),
}
