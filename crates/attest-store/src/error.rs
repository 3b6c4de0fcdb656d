//! The store's error type.

/// Why a store operation failed. Bad input changes nothing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Malformed input (empty tenant, malformed entry or log id, …).
    #[error("invalid input: {0}")]
    InvalidInput(InvalidInput),
    /// An input over the configured limit.
    #[error("{what} is {size} bytes, the limit is {limit}")]
    TooLarge {
        /// What was too large.
        what: &'static str,
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The attestation id exists with another tenant, subject or predicate type.
    #[error("attestation {id} already exists with different tenant, subject or predicate type")]
    Conflict {
        /// The id.
        id: String,
    },
    /// No attestation with this id.
    #[error("no attestation {id}")]
    NotFound {
        /// The id.
        id: String,
    },
    /// The attestation already has a different log entry; entries are never
    /// overwritten.
    #[error("attestation {id} already has log entry {existing}, refusing {offered}")]
    EntryConflict {
        /// The attestation.
        id: String,
        /// The entry it has.
        existing: String,
        /// The entry offered.
        offered: String,
    },
    /// The log entry is already attached to another attestation.
    #[error("log entry {entry_id} is already attached to another attestation")]
    EntryAlreadyAttached {
        /// The entry.
        entry_id: String,
    },
    /// A checkpoint with a smaller tree size than the one remembered: the
    /// store never goes backwards.
    #[error("log {log_id}: remembered tree size {stored} is larger than offered {offered}")]
    CheckpointRegression {
        /// The log.
        log_id: String,
        /// Remembered size.
        stored: u64,
        /// Offered size.
        offered: u64,
    },
    /// The database schema is newer than this code: refusing to downgrade.
    #[error("database schema version {found} is newer than this code supports ({supported})")]
    SchemaTooNew {
        /// Version found.
        found: i64,
        /// Newest version this code knows.
        supported: i64,
    },
    /// A database opened read-only whose schema is older than this code's
    /// (or absent): a read-only open never migrates; open it once for
    /// writing (e.g. `attestlog attest`) to upgrade it.
    #[error(
        "database schema version {found} is older than this code's ({supported}) and it was opened read-only: open it once for writing to upgrade it"
    )]
    SchemaOutdated {
        /// Version found (0: no schema).
        found: i64,
        /// The version this code writes.
        supported: i64,
    },
    /// A read-only open of a SQLite database with a write-ahead log
    /// (`-wal`) where SQLite may not create its index file beside it (the
    /// directory is not writable, or the file system is read-only): the log
    /// may hold commits the main file lacks, so the file alone is not read.
    /// Ask the database's owner to checkpoint it (`PRAGMA
    /// wal_checkpoint(TRUNCATE)`, or close every writer), or copy the
    /// database with its `-wal` file to a directory you may write.
    #[error(
        "{wal} holds commits not yet in the database, and they cannot be read without write access to its directory: ask the owner to checkpoint it (PRAGMA wal_checkpoint(TRUNCATE)) or copy the database and its -wal file somewhere writable"
    )]
    ReadOnlyWal {
        /// The write-ahead log file.
        wal: String,
        /// SQLite's error.
        #[source]
        source: BoxError,
    },
    /// The stored data is not what this code wrote.
    #[error("corrupt row: {0}")]
    Corrupt(Corruption),
    /// The database is busy (locked, or a transaction kept conflicting):
    /// retrying later can succeed.
    #[error("database busy")]
    Busy {
        /// The database's error.
        #[source]
        source: BoxError,
    },
    /// A transaction conflicted with others this many times in a row.
    #[error("gave up after {0} conflicting attempts")]
    TooManyRetries(u32),
    /// The database reported any other error (connection lost, I/O, …).
    #[error("database error")]
    Database {
        /// The database's error.
        #[source]
        source: BoxError,
    },
    /// The backend this location needs is not compiled in.
    #[error("this build has no {0} support (enable the `{0}` feature)")]
    BackendDisabled(&'static str),
}

/// A database driver's error, kept whole as the source.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why an input is invalid: a closed set of reasons.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidInput {
    /// An attestation id that is not 64 hex digits.
    #[error("attestation id {0:?} is not 64 hex digits")]
    AttestationId(String),
    /// An empty tenant.
    #[error("tenant is empty")]
    EmptyTenant,
    /// An empty subject.
    #[error("subject is empty")]
    EmptySubject,
    /// An empty envelope.
    #[error("envelope is empty")]
    EmptyEnvelope,
    /// An entry id that is not 80 lowercase hex digits.
    #[error("entry id {0:?} is not 80 lowercase hex digits (tree id + leaf hash)")]
    EntryId(String),
    /// An entry id whose tree id is zero.
    #[error("entry id has a zero tree id")]
    ZeroTreeId,
    /// A Rekor v2 entry named by something other than its 64-hex leaf hash.
    #[error("Rekor v2 entry {0:?}: expected the 64 lowercase hex digits of its leaf hash")]
    LeafHash(String),
    /// A Rekor v2 entry whose two indices differ (a v2 log has one index).
    #[error(
        "Rekor v2 entry: global index {global} and shard index {shard} differ (a v2 log has one index)"
    )]
    V2Indices {
        /// The global index offered.
        global: u64,
        /// The shard index offered.
        shard: u64,
    },
    /// A Rekor v2 entry with a SET (v2 logs sign none).
    #[error("Rekor v2 entry with a SET: v2 logs sign none")]
    V2Set,
    /// A log id that is not 64 lowercase hex digits.
    #[error("log id {0:?} is not 64 lowercase hex digits")]
    LogId(String),
    /// An index or size the databases cannot hold (over 2^63 - 1).
    #[error("{what} {value} exceeds 2^63 - 1")]
    TooBig {
        /// Which number.
        what: &'static str,
        /// Its value.
        value: u64,
    },
    /// An empty checkpoint.
    #[error("checkpoint is empty")]
    EmptyCheckpoint,
    /// Signer key ids that do not serialize.
    #[error("signer key ids: {0}")]
    SignerKeyIds(String),
}

/// How stored data differs from what this code writes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Corruption {
    /// A negative number where only non-negative ones are written.
    #[error("negative {0}")]
    Negative(&'static str),
    /// An attestation id that is not 32 bytes.
    #[error("attestation id is not 32 bytes")]
    AttestationIdLength,
    /// Signer key ids that are not a JSON array of strings.
    #[error("signer key ids are not a JSON array of strings")]
    SignerKeyIds,
    /// A log API version other than 1 or 2.
    #[error("log API version {0} (this code knows 1 and 2)")]
    LogApi(i64),
    /// A row that vanished or changed within one transaction.
    #[error("{0}")]
    Inconsistent(&'static str),
    /// A column the database could not hand over as the type this code
    /// wrote (the driver's message).
    #[error("unreadable column: {0}")]
    Unreadable(String),
}

/// A stored row that could not be decoded, with what could be read of it
/// ([`AttestationStore::by_subject_each`](crate::AttestationStore::by_subject_each)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CorruptRow {
    /// Its sequence number, when readable.
    pub seq: Option<u64>,
    /// Its attestation id (hex), when it is readable and 32 bytes.
    pub id: Option<String>,
    /// Its subject, when readable.
    pub subject: Option<String>,
    /// What is wrong with it.
    pub reason: Corruption,
}

impl std::fmt::Display for CorruptRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("corrupt row")?;
        if let Some(id) = &self.id {
            write!(f, " {id}")?;
        } else if let Some(seq) = self.seq {
            write!(f, " (seq {seq})")?;
        }
        write!(f, ": {}", self.reason)
    }
}

impl std::error::Error for CorruptRow {}

impl CorruptRow {
    /// A corrupt row with what could be read of it.
    #[must_use]
    pub fn new(seq: Option<i64>, id: Option<&[u8]>, reason: Corruption) -> Self {
        Self {
            seq: seq.and_then(|s| u64::try_from(s).ok()),
            id: id.filter(|i| i.len() == 32).map(|i| {
                i.iter().fold(String::new(), |mut h, b| {
                    h.push_str(&format!("{b:02x}"));
                    h
                })
            }),
            subject: None,
            reason,
        }
    }

    /// With the subject the row names, when it could be read.
    #[must_use]
    pub fn with_subject(mut self, subject: Option<String>) -> Self {
        self.subject = subject;
        self
    }
}

/// A stable classification of [`StoreError`] for callers that branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StoreErrorKind {
    /// Bad input; retrying cannot help.
    InvalidInput,
    /// An input over a limit.
    TooLarge,
    /// The id, entry or checkpoint conflicts with what is stored.
    Conflict,
    /// No such attestation.
    NotFound,
    /// Stored data is damaged, or written by newer code.
    Corrupt,
    /// Busy or conflicting: retry later.
    Busy,
    /// The database failed or is unreachable.
    Unavailable,
    /// The build lacks the backend.
    Unsupported,
}

impl StoreError {
    pub(crate) const fn invalid(reason: InvalidInput) -> Self {
        Self::InvalidInput(reason)
    }

    /// What kind of failure this is.
    #[must_use]
    pub const fn kind(&self) -> StoreErrorKind {
        match self {
            Self::InvalidInput(_) => StoreErrorKind::InvalidInput,
            Self::TooLarge { .. } => StoreErrorKind::TooLarge,
            Self::Conflict { .. }
            | Self::EntryConflict { .. }
            | Self::EntryAlreadyAttached { .. }
            | Self::CheckpointRegression { .. } => StoreErrorKind::Conflict,
            Self::NotFound { .. } => StoreErrorKind::NotFound,
            Self::SchemaTooNew { .. } | Self::Corrupt(_) => StoreErrorKind::Corrupt,
            Self::SchemaOutdated { .. } => StoreErrorKind::Unsupported,
            Self::Busy { .. } | Self::TooManyRetries(_) => StoreErrorKind::Busy,
            Self::Database { .. } | Self::ReadOnlyWal { .. } => StoreErrorKind::Unavailable,
            Self::BackendDisabled(_) => StoreErrorKind::Unsupported,
        }
    }

    /// Whether trying again later can succeed.
    #[must_use]
    pub const fn is_retryable(&self) -> bool {
        matches!(
            self.kind(),
            StoreErrorKind::Busy | StoreErrorKind::Unavailable
        )
    }
}
