#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod error;
mod memory;
mod model;
#[cfg(feature = "postgres")]
mod postgres;
mod rules;
#[cfg(feature = "sqlite")]
mod sqlite;

pub use error::{BoxError, CorruptRow, Corruption, InvalidInput, StoreError, StoreErrorKind};
pub use memory::MemoryStore;
pub use model::{
    AttestationId, AttestationRow, CheckpointRecord, LogApiVersion, LogEntryRecord, NewAttestation,
    Page, PageEach, StoreLimits,
};
#[cfg(feature = "postgres")]
pub use postgres::PostgresStore;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;

/// Where attestations live with their log entries.
///
/// Plain data in, plain data out: no HTTP, no log client, no envelope
/// parsing. Every write is atomic; bad input is an error and changes nothing.
pub trait AttestationStore: Send + Sync {
    /// Stores an attestation. Putting the same attestation again (same id,
    /// tenant, subject and predicate type) is a no-op that returns the stored
    /// row; the same id with other metadata is [`StoreError::Conflict`].
    ///
    /// # Errors
    /// [`StoreError`].
    fn put(&self, attestation: &NewAttestation) -> Result<AttestationRow, StoreError>;

    /// Stores many attestations in one transaction (all or nothing).
    ///
    /// # Errors
    /// [`StoreError`]; on error nothing was stored.
    fn put_many(&self, attestations: &[NewAttestation]) -> Result<Vec<AttestationRow>, StoreError>;

    /// Attaches a verified log entry. Attaching the same entry again is a
    /// no-op; a different entry for a row that has one is
    /// [`StoreError::EntryConflict`], never an overwrite; an entry attached to
    /// another row is [`StoreError::EntryAlreadyAttached`].
    ///
    /// # Errors
    /// [`StoreError`].
    fn attach_entry(
        &self,
        id: &AttestationId,
        entry: &LogEntryRecord,
    ) -> Result<AttestationRow, StoreError>;

    /// The attestation with this id.
    ///
    /// # Errors
    /// [`StoreError::Database`] or [`StoreError::Busy`].
    fn get(&self, id: &AttestationId) -> Result<Option<AttestationRow>, StoreError>;

    /// Every attestation of `tenant` about `subject`, in insertion order.
    ///
    /// # Errors
    /// [`StoreError::Database`] or [`StoreError::Busy`].
    fn by_subject(&self, tenant: &str, subject: &str) -> Result<Vec<AttestationRow>, StoreError>;

    /// [`by_subject`](Self::by_subject), except that a row the store holds
    /// but cannot decode is a [`CorruptRow`] in its place instead of failing
    /// the whole answer: an auditor fails that one row and audits the
    /// others. The SQL backends implement it; the default (for stores whose
    /// rows cannot be corrupt) is `by_subject`.
    ///
    /// # Errors
    /// [`StoreError::Database`] or [`StoreError::Busy`].
    fn by_subject_each(
        &self,
        tenant: &str,
        subject: &str,
    ) -> Result<Vec<Result<AttestationRow, CorruptRow>>, StoreError> {
        Ok(self
            .by_subject(tenant, subject)?
            .into_iter()
            .map(Ok)
            .collect())
    }

    /// A page of `tenant`'s attestations after sequence number `after`
    /// (keyset pagination), at most `limit` rows.
    ///
    /// # Errors
    /// [`StoreError::Database`] or [`StoreError::Busy`].
    fn list(&self, tenant: &str, after: Option<u64>, limit: usize) -> Result<Page, StoreError>;

    /// [`list`](Self::list), except that a row the store holds but cannot
    /// decode is a [`CorruptRow`] in its place instead of failing the page
    /// (the SQL backends implement it; the default is `list`).
    ///
    /// # Errors
    /// [`StoreError::Database`] or [`StoreError::Busy`].
    fn list_each(
        &self,
        tenant: &str,
        after: Option<u64>,
        limit: usize,
    ) -> Result<PageEach, StoreError> {
        let page = self.list(tenant, after, limit)?;
        Ok(PageEach {
            rows: page.rows.into_iter().map(Ok).collect(),
            next: page.next,
        })
    }

    /// How many attestations `tenant` has (for progress and ETAs). The
    /// default pages through [`list`](Self::list); the SQL backends count.
    ///
    /// # Errors
    /// [`StoreError::Database`] or [`StoreError::Busy`].
    fn count(&self, tenant: &str) -> Result<u64, StoreError> {
        let (mut n, mut after) = (0u64, None);
        loop {
            let page = self.list(tenant, after, 1000)?;
            n += page.rows.len() as u64;
            match page.next {
                Some(seq) => after = Some(seq),
                None => return Ok(n),
            }
        }
    }

    /// Rows still waiting for publication (no log entry), oldest first, of
    /// one tenant or of all.
    ///
    /// # Errors
    /// [`StoreError::Database`] or [`StoreError::Busy`].
    fn pending(
        &self,
        tenant: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AttestationRow>, StoreError>;

    /// For each of `entry_ids` (as [`LogEntryRecord::entry_id`] holds them),
    /// the tenant of the row published as that entry, of whichever tenant,
    /// or `None` when no row names it — what a completeness audit asks of
    /// the entries it found in the log. Indexed in the database backends.
    ///
    /// # Errors
    /// [`StoreError::Database`] or [`StoreError::Busy`].
    fn entry_tenants(&self, entry_ids: &[String]) -> Result<Vec<Option<String>>, StoreError>;

    /// The last verified checkpoint this store remembers for `log_id`.
    ///
    /// # Errors
    /// [`StoreError::Database`] or [`StoreError::Busy`].
    fn last_checkpoint(&self, log_id: &str) -> Result<Option<CheckpointRecord>, StoreError>;

    /// Remembers a checkpoint whose consistency with the remembered one the
    /// caller has proven. Only a larger tree size replaces it; the same one
    /// again is a no-op; a smaller size is [`StoreError::CheckpointRegression`].
    ///
    /// # Errors
    /// [`StoreError`].
    fn store_checkpoint(&self, checkpoint: &CheckpointRecord) -> Result<(), StoreError>;
}

/// Cuts a page from up to `limit + 1` rows fetched in order.
/// A shared store is a store: one `Arc` can serve an attestor and an
/// auditor in the same process.
impl<S: AttestationStore + ?Sized> AttestationStore for std::sync::Arc<S> {
    fn put(&self, attestation: &NewAttestation) -> Result<AttestationRow, StoreError> {
        (**self).put(attestation)
    }
    fn put_many(&self, attestations: &[NewAttestation]) -> Result<Vec<AttestationRow>, StoreError> {
        (**self).put_many(attestations)
    }
    fn attach_entry(
        &self,
        id: &AttestationId,
        entry: &LogEntryRecord,
    ) -> Result<AttestationRow, StoreError> {
        (**self).attach_entry(id, entry)
    }
    fn get(&self, id: &AttestationId) -> Result<Option<AttestationRow>, StoreError> {
        (**self).get(id)
    }
    fn by_subject(&self, tenant: &str, subject: &str) -> Result<Vec<AttestationRow>, StoreError> {
        (**self).by_subject(tenant, subject)
    }
    fn by_subject_each(
        &self,
        tenant: &str,
        subject: &str,
    ) -> Result<Vec<Result<AttestationRow, CorruptRow>>, StoreError> {
        (**self).by_subject_each(tenant, subject)
    }
    fn list(&self, tenant: &str, after: Option<u64>, limit: usize) -> Result<Page, StoreError> {
        (**self).list(tenant, after, limit)
    }
    fn list_each(
        &self,
        tenant: &str,
        after: Option<u64>,
        limit: usize,
    ) -> Result<PageEach, StoreError> {
        (**self).list_each(tenant, after, limit)
    }
    fn count(&self, tenant: &str) -> Result<u64, StoreError> {
        (**self).count(tenant)
    }
    fn pending(
        &self,
        tenant: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AttestationRow>, StoreError> {
        (**self).pending(tenant, limit)
    }
    fn entry_tenants(&self, entry_ids: &[String]) -> Result<Vec<Option<String>>, StoreError> {
        (**self).entry_tenants(entry_ids)
    }
    fn last_checkpoint(&self, log_id: &str) -> Result<Option<CheckpointRecord>, StoreError> {
        (**self).last_checkpoint(log_id)
    }
    fn store_checkpoint(&self, checkpoint: &CheckpointRecord) -> Result<(), StoreError> {
        (**self).store_checkpoint(checkpoint)
    }
}

pub(crate) fn page_from(rows: &mut Vec<AttestationRow>, limit: usize) -> Page {
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next = if more {
        rows.last().map(|r| r.seq)
    } else {
        None
    };
    Page {
        rows: std::mem::take(rows),
        next,
    }
}

/// Opens the store a `--db` style location names: a `postgres://` or
/// `postgresql://` URL, or a SQLite file path.
///
/// # Errors
/// [`StoreError`].
#[cfg(feature = "sqlite")]
pub fn open(location: &str) -> Result<Box<dyn AttestationStore>, StoreError> {
    open_as(location, false)
}

/// [`open`] for reading only: a SQLite file is opened read-only and never
/// created or migrated ([`SqliteStore::open_read_only`]); a PostgreSQL
/// session is made read-only (`default_transaction_read_only`) after its
/// schema version is checked, never migrated. Every write then fails.
///
/// # Errors
/// As [`open`], and [`StoreError::SchemaOutdated`] for an older schema.
#[cfg(feature = "sqlite")]
pub fn open_read_only(location: &str) -> Result<Box<dyn AttestationStore>, StoreError> {
    open_as(location, true)
}

#[cfg(feature = "sqlite")]
fn open_as(location: &str, read_only: bool) -> Result<Box<dyn AttestationStore>, StoreError> {
    if location.starts_with("postgres://") || location.starts_with("postgresql://") {
        #[cfg(feature = "postgres")]
        return Ok(Box::new(if read_only {
            PostgresStore::open_read_only(location)?
        } else {
            PostgresStore::open(location)?
        }));
        #[cfg(not(feature = "postgres"))]
        return Err(StoreError::BackendDisabled("postgres"));
    }
    Ok(Box::new(if read_only {
        SqliteStore::open_read_only(location)?
    } else {
        SqliteStore::open(location)?
    }))
}
