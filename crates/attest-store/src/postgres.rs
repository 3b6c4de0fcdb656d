//! PostgreSQL backend (the synchronous `postgres` client).

use std::sync::{Mutex, MutexGuard};

use postgres::error::SqlState;
use postgres::{Client, GenericClient, NoTls, Row, Statement, Transaction};

use crate::rules::{
    COLUMNS, CheckpointAction, RawEntry, RawRow, checkpoint_action, on_existing_entry,
    on_existing_put,
};
use crate::{
    AttestationId, AttestationRow, AttestationStore, CheckpointRecord, CorruptRow, Corruption,
    InvalidInput, LogEntryRecord, NewAttestation, Page, PageEach, StoreError, StoreLimits,
};

const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/postgres/0001_attestations.sql"),
    include_str!("../migrations/postgres/0002_log_entries.sql"),
    include_str!("../migrations/postgres/0003_log_checkpoints.sql"),
    include_str!("../migrations/postgres/0004_rekor_v2.sql"),
];

/// Serializes migrations between processes opening the same database.
const MIGRATION_LOCK: i64 = 0x6174_7465_7374_6c67; // "attestlg"

/// A store in a PostgreSQL database.
///
/// One connection behind a mutex; every write is one transaction, and
/// concurrent writers from other connections are resolved by the database
/// (`ON CONFLICT`, a unique index on the entry id, serialization retries).
/// Connections are plain TCP (`NoTls`): use it on loopback or a private
/// network, or put a TLS proxy in front.
pub struct PostgresStore {
    /// `None` only while the store is dropped (see `Drop`).
    conn: Mutex<Option<Conn>>,
    limits: StoreLimits,
}

/// Closing the connection blocks on the `postgres` client's own runtime,
/// which panics when done on an async runtime's thread (an async pipeline
/// dropped inside a task). The connection is closed on a thread of its own.
impl Drop for PostgresStore {
    fn drop(&mut self) {
        let conn = self
            .conn
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(conn) = conn {
            // If no thread can be started, the connection is leaked rather
            // than closed here (the server notices the socket closing).
            let _ = std::thread::Builder::new()
                .name("attest-store-pg-close".into())
                .spawn(move || drop(conn));
        }
    }
}

/// The connection and its prepared statements.
struct Conn {
    client: Client,
    insert: Statement,
}

const INSERT: &str = "INSERT INTO attestations
    (id, tenant, subject, predicate_type, envelope, signer_key_ids, claimed_time)
    VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING RETURNING seq";

fn db(e: postgres::Error) -> StoreError {
    if is_retryable(&e) {
        StoreError::Busy {
            source: Box::new(e),
        }
    } else {
        StoreError::Database {
            source: Box::new(e),
        }
    }
}

fn is_retryable(e: &postgres::Error) -> bool {
    matches!(
        e.code(),
        Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED
    )
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user@host:port/db`) and brings the
    /// schema up to date.
    ///
    /// # Errors
    /// [`StoreError::SchemaTooNew`] or [`StoreError::Database`].
    pub fn open(url: &str) -> Result<Self, StoreError> {
        Self::open_with_limits(url, StoreLimits::default())
    }

    /// [`open`](Self::open) with input limits.
    ///
    /// # Errors
    /// As [`open`](Self::open).
    pub fn open_with_limits(url: &str, limits: StoreLimits) -> Result<Self, StoreError> {
        let mut client = Client::connect(url, NoTls).map_err(db)?;
        migrate(&mut client, MIGRATIONS.len())?;
        let insert = client.prepare(INSERT).map_err(db)?;
        Ok(Self {
            conn: Mutex::new(Some(Conn { client, insert })),
            limits,
        })
    }

    /// Connects read-only: the schema version must be this code's (never
    /// migrated), then the session's transactions are read-only
    /// (`default_transaction_read_only`), so every write fails.
    ///
    /// # Errors
    /// [`StoreError::SchemaOutdated`], [`StoreError::SchemaTooNew`] or
    /// [`StoreError::Database`].
    pub fn open_read_only(url: &str) -> Result<Self, StoreError> {
        let mut client = Client::connect(url, NoTls).map_err(db)?;
        client
            .batch_execute("SET default_transaction_read_only = on")
            .map_err(db)?;
        let found: i64 = match client.query_opt("SELECT version FROM schema_version", &[]) {
            Ok(row) => row.map_or(0, |r| r.get(0)),
            Err(e) if e.code() == Some(&SqlState::UNDEFINED_TABLE) => 0,
            Err(e) => return Err(db(e)),
        };
        let supported = MIGRATIONS.len() as i64;
        if found > supported {
            return Err(StoreError::SchemaTooNew { found, supported });
        }
        if found < supported {
            return Err(StoreError::SchemaOutdated { found, supported });
        }
        let insert = client.prepare(INSERT).map_err(db)?;
        Ok(Self {
            conn: Mutex::new(Some(Conn { client, insert })),
            limits: StoreLimits::default(),
        })
    }

    /// Creates or upgrades a database only up to schema `version`.
    ///
    /// # Errors
    /// As [`open`](Self::open).
    #[doc(hidden)]
    pub fn create_at_schema_version(url: &str, version: usize) -> Result<(), StoreError> {
        let mut client = Client::connect(url, NoTls).map_err(db)?;
        migrate(&mut client, version.min(MIGRATIONS.len()))
    }

    /// Runs `f` on the connection (held for the call).
    fn with<T>(
        &self,
        f: impl FnOnce(&mut Client, &Statement) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut guard: MutexGuard<'_, Option<Conn>> = self
            .conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match guard.as_mut() {
            Some(Conn { client, insert }) => f(client, insert),
            None => Err(StoreError::Database {
                source: "the connection is closed".into(),
            }),
        }
    }

    fn write<T>(
        &self,
        mut f: impl FnMut(&mut Transaction<'_>, &Statement) -> Result<T, Attempt>,
    ) -> Result<T, StoreError> {
        self.with(|client, insert| {
            let mut attempt = 0u32;
            loop {
                let result = (|| {
                    let mut tx = client.transaction().map_err(Attempt::from)?;
                    let v = f(&mut tx, insert)?;
                    tx.commit().map_err(Attempt::from)?;
                    Ok(v)
                })();
                match result {
                    Ok(v) => return Ok(v),
                    Err(Attempt::Retry) if attempt < 20 => attempt += 1,
                    Err(Attempt::Retry) => return Err(StoreError::TooManyRetries(attempt)),
                    Err(Attempt::Fail(e)) => return Err(e),
                }
            }
        })
    }
}

/// A failed attempt: worth retrying, or final.
enum Attempt {
    Retry,
    Fail(StoreError),
}

impl From<postgres::Error> for Attempt {
    fn from(e: postgres::Error) -> Self {
        if is_retryable(&e) {
            Self::Retry
        } else {
            Self::Fail(db(e))
        }
    }
}

impl From<StoreError> for Attempt {
    fn from(e: StoreError) -> Self {
        Self::Fail(e)
    }
}

fn migrate(client: &mut Client, target: usize) -> Result<(), StoreError> {
    let mut tx = client.transaction().map_err(db)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .map_err(db)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL);
         INSERT INTO schema_version (version) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM schema_version);",
    )
    .map_err(db)?;
    let found: i64 = tx
        .query_one("SELECT version FROM schema_version", &[])
        .map_err(db)?
        .get(0);
    let supported = MIGRATIONS.len() as i64;
    if found > supported {
        return Err(StoreError::SchemaTooNew { found, supported });
    }
    for (i, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .take(target)
        .skip(usize::try_from(found).unwrap_or(0))
    {
        tx.batch_execute(sql).map_err(db)?;
        tx.execute("UPDATE schema_version SET version = $1", &[&(i as i64 + 1)])
            .map_err(db)?;
    }
    tx.commit().map_err(db)
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn read_row(r: &Row) -> Result<AttestationRow, StoreError> {
    read_raw(r)?.into_row()
}

/// One row, or what could be read of it when it does not decode.
fn read_row_each(r: &Row) -> Result<AttestationRow, CorruptRow> {
    match read_raw(r) {
        Ok(raw) => crate::rules::decode_one(raw),
        Err(e) => {
            let id: Option<Vec<u8>> = r.try_get(1).ok();
            Err(CorruptRow::new(
                r.try_get(0).ok(),
                id.as_deref(),
                Corruption::Unreadable(e.to_string()),
            )
            .with_subject(r.try_get(3).ok()))
        }
    }
}

fn read_raw(r: &Row) -> Result<RawRow, StoreError> {
    let entry_id: Option<String> = r.try_get(8).map_err(db)?;
    let entry = match entry_id {
        None => None,
        Some(entry_id) => Some(RawEntry {
            entry_id,
            log_id: r.try_get(9).map_err(db)?,
            log_index: r.try_get(10).map_err(db)?,
            shard_index: r.try_get(11).map_err(db)?,
            integrated_time: r.try_get(12).map_err(db)?,
            inclusion_proof: r.try_get(13).map_err(db)?,
            checkpoint: r.try_get(14).map_err(db)?,
            set: r.try_get(15).map_err(db)?,
            api: i64::from(r.try_get::<_, i16>(16).map_err(db)?),
            timestamp: r.try_get(17).map_err(db)?,
        }),
    };
    Ok(RawRow {
        seq: r.try_get(0).map_err(db)?,
        id: r.try_get(1).map_err(db)?,
        tenant: r.try_get(2).map_err(db)?,
        subject: r.try_get(3).map_err(db)?,
        predicate_type: r.try_get(4).map_err(db)?,
        envelope: r.try_get(5).map_err(db)?,
        signer_key_ids: r.try_get(6).map_err(db)?,
        claimed_time: r.try_get(7).map_err(db)?,
        entry,
    })
}

fn query_rows(
    c: &mut impl GenericClient,
    sql: &str,
    params: &[&(dyn postgres::types::ToSql + Sync)],
) -> Result<Vec<AttestationRow>, StoreError> {
    c.query(sql, params)
        .map_err(db)?
        .iter()
        .map(read_row)
        .collect()
}

/// Rows, each decoded or the [`CorruptRow`] in its place.
fn query_rows_each(
    c: &mut impl GenericClient,
    sql: &str,
    params: &[&(dyn postgres::types::ToSql + Sync)],
) -> Result<Vec<Result<AttestationRow, CorruptRow>>, StoreError> {
    Ok(c.query(sql, params)
        .map_err(db)?
        .iter()
        .map(read_row_each)
        .collect())
}

fn get_row(
    c: &mut impl GenericClient,
    id: &AttestationId,
) -> Result<Option<AttestationRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM attestations WHERE id = $1");
    Ok(query_rows(c, &sql, &[&&id.0[..]])?.pop())
}

/// Inserts `a` with the prepared INSERT: one round trip when it is new.
fn insert(
    c: &mut impl GenericClient,
    stmt: &Statement,
    a: &NewAttestation,
) -> Result<AttestationRow, Attempt> {
    let key_ids = serde_json::to_string(&a.signer_key_ids)
        .map_err(|e| StoreError::invalid(InvalidInput::SignerKeyIds(e.to_string())))?;
    let inserted = c.query_opt(
        stmt,
        &[
            &&a.id.0[..],
            &a.tenant,
            &a.subject,
            &a.predicate_type,
            &a.envelope,
            &key_ids,
            &a.claimed_time,
        ],
    )?;
    match inserted {
        Some(row) => Ok(AttestationRow {
            seq: u64::try_from(row.get::<_, i64>(0))
                .map_err(|_| Attempt::Fail(StoreError::Corrupt(Corruption::Negative("seq"))))?,
            attestation: a.clone(),
            entry: None,
        }),
        None => {
            // Another transaction may hold the conflicting row uncommitted;
            // ON CONFLICT waited for it, so it is visible now.
            let existing = get_row(c, &a.id)?.ok_or(Attempt::Retry)?;
            Ok(on_existing_put(existing, a)?)
        }
    }
}

impl AttestationStore for PostgresStore {
    fn put(&self, a: &NewAttestation) -> Result<AttestationRow, StoreError> {
        a.validate(&self.limits)?;
        // A single statement commits on its own: no transaction round trips.
        self.with(|client, stmt| {
            for _ in 0..20 {
                match insert(client, stmt, a) {
                    Ok(row) => return Ok(row),
                    Err(Attempt::Retry) => {}
                    Err(Attempt::Fail(e)) => return Err(e),
                }
            }
            Err(StoreError::TooManyRetries(20))
        })
    }

    fn put_many(&self, items: &[NewAttestation]) -> Result<Vec<AttestationRow>, StoreError> {
        for a in items {
            a.validate(&self.limits)?;
        }
        self.write(|tx, stmt| items.iter().map(|a| insert(tx, stmt, a)).collect())
    }

    fn attach_entry(
        &self,
        id: &AttestationId,
        e: &LogEntryRecord,
    ) -> Result<AttestationRow, StoreError> {
        e.validate(&self.limits)?;
        self.write(|tx, _| {
            let updated = tx.execute(
                "UPDATE attestations SET rekor_uuid = $2, log_id = $3, log_index = $4, shard_index = $5,
                 integrated_time = $6, inclusion_proof = $7, checkpoint = $8, signed_entry_timestamp = $9,
                 log_api = $10, rfc3161_timestamp = $11
                 WHERE id = $1 AND rekor_uuid IS NULL",
                &[
                    &&id.0[..],
                    &e.entry_id,
                    &e.log_id,
                    &to_i64(e.global_index),
                    &to_i64(e.shard_index),
                    &e.integrated_time,
                    &e.inclusion_proof,
                    &e.checkpoint,
                    &e.set,
                    // 1 or 2; anything else would fail the column's CHECK.
                    &i16::try_from(e.api.number()).unwrap_or(i16::MAX),
                    &e.timestamp,
                ],
            );
            match updated {
                Ok(_) => {}
                Err(err) if err.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
                    return Err(Attempt::Fail(StoreError::EntryAlreadyAttached {
                        entry_id: e.entry_id.clone(),
                    }));
                }
                Err(err) => return Err(err.into()),
            }
            let row = get_row(tx, id)?.ok_or(StoreError::NotFound { id: id.to_string() })?;
            Ok(on_existing_entry(row, e)?)
        })
    }

    fn get(&self, id: &AttestationId) -> Result<Option<AttestationRow>, StoreError> {
        self.with(|c, _| get_row(c, id))
    }

    fn entry_tenants(&self, entry_ids: &[String]) -> Result<Vec<Option<String>>, StoreError> {
        self.with(|c, _| {
            let mut found = std::collections::HashMap::new();
            // One indexed query per thousand ids.
            for chunk in entry_ids.chunks(1000) {
                let ids: Vec<&str> = chunk.iter().map(String::as_str).collect();
                for row in c
                    .query(
                        "SELECT rekor_uuid, tenant FROM attestations WHERE rekor_uuid = ANY($1)",
                        &[&ids],
                    )
                    .map_err(db)?
                {
                    found.insert(row.get::<_, String>(0), row.get::<_, String>(1));
                }
            }
            Ok(entry_ids.iter().map(|id| found.get(id).cloned()).collect())
        })
    }

    fn by_subject(&self, tenant: &str, subject: &str) -> Result<Vec<AttestationRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM attestations WHERE tenant = $1 AND subject = $2 ORDER BY seq"
        );
        self.with(|c, _| query_rows(c, &sql, &[&tenant, &subject]))
    }

    fn by_subject_each(
        &self,
        tenant: &str,
        subject: &str,
    ) -> Result<Vec<Result<AttestationRow, CorruptRow>>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM attestations WHERE tenant = $1 AND subject = $2 ORDER BY seq"
        );
        self.with(|c, _| query_rows_each(c, &sql, &[&tenant, &subject]))
    }

    fn list_each(
        &self,
        tenant: &str,
        after: Option<u64>,
        limit: usize,
    ) -> Result<PageEach, StoreError> {
        let limit = limit.max(1);
        let sql = format!(
            "SELECT {COLUMNS} FROM attestations WHERE tenant = $1 AND seq > $2 ORDER BY seq LIMIT $3"
        );
        let fetch = i64::try_from(limit).unwrap_or(i64::MAX - 1) + 1;
        let rows = self.with(|c, _| {
            query_rows_each(c, &sql, &[&tenant, &to_i64(after.unwrap_or(0)), &fetch])
        })?;
        crate::rules::page_each_from(rows, limit)
    }

    fn list(&self, tenant: &str, after: Option<u64>, limit: usize) -> Result<Page, StoreError> {
        let limit = limit.max(1);
        let sql = format!(
            "SELECT {COLUMNS} FROM attestations WHERE tenant = $1 AND seq > $2 ORDER BY seq LIMIT $3"
        );
        let fetch = i64::try_from(limit).unwrap_or(i64::MAX - 1) + 1;
        let mut rows =
            self.with(|c, _| query_rows(c, &sql, &[&tenant, &to_i64(after.unwrap_or(0)), &fetch]))?;
        Ok(crate::page_from(&mut rows, limit))
    }

    fn count(&self, tenant: &str) -> Result<u64, StoreError> {
        let n: i64 = self.with(|c, _| {
            Ok(c.query_one(
                "SELECT count(*) FROM attestations WHERE tenant = $1",
                &[&tenant],
            )
            .map_err(db)?
            .get(0))
        })?;
        u64::try_from(n).map_err(|_| StoreError::Database {
            source: format!("count(*) returned {n}").into(),
        })
    }

    fn pending(
        &self,
        tenant: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AttestationRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM attestations WHERE rekor_uuid IS NULL
             AND ($1::TEXT IS NULL OR tenant = $1) ORDER BY seq LIMIT $2"
        );
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.with(|c, _| query_rows(c, &sql, &[&tenant, &limit]))
    }

    fn last_checkpoint(&self, log_id: &str) -> Result<Option<CheckpointRecord>, StoreError> {
        self.with(|c, _| read_checkpoint(c, log_id))
    }

    fn store_checkpoint(&self, cp: &CheckpointRecord) -> Result<(), StoreError> {
        cp.validate()?;
        self.write(|tx, _| {
            // Lock the log's row (or its absence) for this transaction.
            tx.execute("SELECT pg_advisory_xact_lock(hashtext($1))", &[&cp.log_id])?;
            let stored = read_checkpoint(tx, &cp.log_id)?;
            if let CheckpointAction::Replace = checkpoint_action(stored.as_ref(), cp)? {
                tx.execute(
                    "INSERT INTO log_checkpoints (log_id, tree_size, checkpoint) VALUES ($1, $2, $3)
                     ON CONFLICT (log_id) DO UPDATE SET tree_size = EXCLUDED.tree_size, checkpoint = EXCLUDED.checkpoint",
                    &[&cp.log_id, &to_i64(cp.tree_size), &cp.checkpoint],
                )?;
            }
            Ok(())
        })
    }
}

fn read_checkpoint(
    c: &mut impl GenericClient,
    log_id: &str,
) -> Result<Option<CheckpointRecord>, StoreError> {
    let row = c
        .query_opt(
            "SELECT tree_size, checkpoint FROM log_checkpoints WHERE log_id = $1",
            &[&log_id],
        )
        .map_err(db)?;
    row.map(|r| {
        Ok(CheckpointRecord::new(
            log_id.to_owned(),
            u64::try_from(r.get::<_, i64>(0))
                .map_err(|_| StoreError::Corrupt(Corruption::Negative("tree size")))?,
            r.get(1),
        ))
    })
    .transpose()
}
