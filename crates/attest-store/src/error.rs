//! The store's error type.

/// Why a store operation failed. Bad input changes nothing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Malformed input (empty tenant, malformed entry or log id, …).
    #[error("invalid input: {0}")]
    InvalidInput(String),
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
    /// The stored data is not what this code wrote.
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// The database reported an error.
    #[error("database error: {0}")]
    Database(String),
}

impl StoreError {
    pub(crate) fn invalid(msg: impl Into<String>) -> Self {
        Self::InvalidInput(msg.into())
    }

    /// A stable kebab-case name of the failure.
    #[must_use]
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::InvalidInput(_) => "invalid-input",
            Self::TooLarge { .. } => "too-large",
            Self::Conflict { .. } => "conflict",
            Self::NotFound { .. } => "not-found",
            Self::EntryConflict { .. } => "entry-conflict",
            Self::EntryAlreadyAttached { .. } => "entry-already-attached",
            Self::CheckpointRegression { .. } => "checkpoint-regression",
            Self::SchemaTooNew { .. } => "schema-too-new",
            Self::Corrupt(_) => "corrupt",
            Self::Database(_) => "database",
        }
    }
}
