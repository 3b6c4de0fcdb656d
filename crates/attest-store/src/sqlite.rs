//! SQLite backend: rusqlite with the bundled SQLite, WAL, `synchronous=FULL`.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{
    Connection, ErrorCode, OpenFlags, OptionalExtension, Row, Transaction, TransactionBehavior,
    params,
};

use crate::rules::{
    COLUMNS, CheckpointAction, RawEntry, RawRow, checkpoint_action, on_existing_entry,
    on_existing_put,
};
use crate::{
    AttestationId, AttestationRow, AttestationStore, CheckpointRecord, CorruptRow, Corruption,
    InvalidInput, LogEntryRecord, NewAttestation, Page, PageEach, StoreError, StoreLimits,
};

/// The numbered migrations, applied in order, each in the transaction that
/// records its number.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/sqlite/0001_attestations.sql"),
    include_str!("../migrations/sqlite/0002_log_entries.sql"),
    include_str!("../migrations/sqlite/0003_log_checkpoints.sql"),
    include_str!("../migrations/sqlite/0004_rekor_v2.sql"),
];

/// How long a writer waits for another connection's write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// A store in one SQLite file.
///
/// Safe from many threads (one connection behind a mutex) and from several
/// processes (WAL, a 30 s busy timeout, `BEGIN IMMEDIATE` for every write, and
/// a retry if SQLite still reports the database busy). Commits are durable
/// (`synchronous=FULL`): an acknowledged write survives a crash of the
/// process or the machine.
pub struct SqliteStore {
    conn: Mutex<Connection>,
    limits: StoreLimits,
}

fn db(e: rusqlite::Error) -> StoreError {
    let busy = matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    );
    if busy {
        StoreError::Busy {
            source: Box::new(e),
        }
    } else {
        StoreError::Database {
            source: Box::new(e),
        }
    }
}

const fn is_busy(e: &StoreError) -> bool {
    matches!(e, StoreError::Busy { .. })
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == ErrorCode::ConstraintViolation)
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and brings its
    /// schema up to date.
    ///
    /// # Errors
    /// [`StoreError::SchemaTooNew`] for a database written by newer code, or
    /// [`StoreError::Database`].
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_with_limits(path, StoreLimits::default())
    }

    /// [`open`](Self::open) with input limits.
    ///
    /// # Errors
    /// As [`open`](Self::open).
    pub fn open_with_limits(
        path: impl AsRef<Path>,
        limits: StoreLimits,
    ) -> Result<Self, StoreError> {
        let mut conn = connect(path.as_ref())?;
        migrate(&mut conn, MIGRATIONS.len())?;
        Ok(Self {
            conn: Mutex::new(conn),
            limits,
        })
    }

    /// Opens an existing database read-only (`SQLITE_OPEN_READ_ONLY` and
    /// `PRAGMA query_only`): nothing is created, migrated or written, so it
    /// works on a file the process may not write (a copy owned by someone
    /// else, a read-only mount, `chmod a-w`); every write method fails.
    ///
    /// A WAL database is normally read through a shared-memory index (the
    /// `-shm` file) that SQLite creates beside it. Where that cannot be
    /// created (a directory the process may not write, a read-only file
    /// system) and there is no write-ahead log (`-wal`) holding commits not
    /// yet in the file — a copy at rest, or a database its writer closed
    /// cleanly — the file is opened as immutable (SQLite's `immutable=1`),
    /// which reads it without any lock or index. Such a file must not be
    /// written while it is read; a live writer always keeps a `-wal` file,
    /// and then this fallback is refused.
    ///
    /// # Errors
    /// [`StoreError::SchemaOutdated`] for a schema older than this code's,
    /// [`StoreError::SchemaTooNew`], [`StoreError::ReadOnlyWal`] when the
    /// database has a write-ahead log that cannot be read without write
    /// access, or [`StoreError::Database`] (a missing file among them).
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref();
        match open_read_only_as(path, false) {
            Err(StoreError::Database { source }) if cannot_create_index(&*source) => {
                if !path.is_file() {
                    return Err(StoreError::Database { source });
                }
                let mut wal = path.as_os_str().to_owned();
                wal.push("-wal");
                let wal = std::path::PathBuf::from(wal);
                match std::fs::metadata(&wal) {
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Ok(m) if m.len() == 0 => {}
                    _ => {
                        return Err(StoreError::ReadOnlyWal {
                            wal: wal.display().to_string(),
                            source,
                        });
                    }
                }
                open_read_only_as(path, true)
            }
            other => other,
        }
    }

    /// Creates or upgrades a database only up to schema `version` (for
    /// migration tests and tools).
    ///
    /// # Errors
    /// As [`open`](Self::open).
    #[doc(hidden)]
    pub fn create_at_schema_version(
        path: impl AsRef<Path>,
        version: usize,
    ) -> Result<(), StoreError> {
        let mut conn = connect(path.as_ref())?;
        migrate(&mut conn, version.min(MIGRATIONS.len()))
    }

    /// The schema version this code writes.
    #[must_use]
    pub const fn schema_version() -> usize {
        MIGRATIONS.len()
    }

    /// Runs `PRAGMA integrity_check` and returns its report (`"ok"` when sound).
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn integrity_check(&self) -> Result<String, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare("PRAGMA integrity_check").map_err(db)?;
        let lines: Vec<String> = stmt
            .query_map([], |r| r.get(0))
            .map_err(db)?
            .collect::<Result<_, _>>()
            .map_err(db)?;
        Ok(lines.join("\n"))
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // rusqlite rolls back an unfinished transaction when it is dropped, so
        // a panic while holding the lock leaves the database consistent.
        self.conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs `f` in a `BEGIN IMMEDIATE` transaction, retrying while the
    /// database is busy, so that "database is locked" never reaches callers
    /// before a long wait.
    fn write<T>(
        &self,
        mut f: impl FnMut(&Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.lock();
        let mut attempt = 0u32;
        loop {
            let result = (|| {
                let tx = conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .map_err(db)?;
                let v = f(&tx)?;
                tx.commit().map_err(db)?;
                Ok(v)
            })();
            match result {
                Err(e) if is_busy(&e) && attempt < 20 => {
                    attempt += 1;
                    std::thread::sleep(Duration::from_millis(10 << attempt.min(6)));
                }
                other => return other,
            }
        }
    }
}

/// Opens `path` read-only and checks its schema; `immutable` opens it
/// through SQLite's `immutable=1` URI parameter (no locks, no `-shm`).
fn open_read_only_as(path: &Path, immutable: bool) -> Result<SqliteStore, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = if immutable {
        let uri = format!("{}?immutable=1", file_uri(path).map_err(db)?);
        Connection::open_with_flags(uri, flags | OpenFlags::SQLITE_OPEN_URI)
    } else {
        Connection::open_with_flags(path, flags)
    }
    .map_err(db)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(db)?;
    conn.pragma_update(None, "query_only", "ON").map_err(db)?;
    let found: i64 = conn
        .query_row("SELECT version FROM schema_version", [], |r| r.get(0))
        .or_else(|e| match e {
            rusqlite::Error::SqliteFailure(_, Some(ref m)) if m.contains("no such table") => Ok(0),
            e => Err(e),
        })
        .map_err(db)?;
    let supported = MIGRATIONS.len() as i64;
    if found > supported {
        return Err(StoreError::SchemaTooNew { found, supported });
    }
    if found < supported {
        return Err(StoreError::SchemaOutdated { found, supported });
    }
    Ok(SqliteStore {
        conn: Mutex::new(conn),
        limits: StoreLimits::default(),
    })
}

/// Whether SQLite refused a read-only open because it could not create or
/// initialise the WAL index beside the database (`SQLITE_READONLY_CANTINIT`,
/// `SQLITE_READONLY_DIRECTORY`, or `SQLITE_CANTOPEN` on a read-only file
/// system).
fn cannot_create_index(e: &(dyn std::error::Error + 'static)) -> bool {
    const READONLY_CANTINIT: i32 = 8 | (5 << 8);
    const READONLY_DIRECTORY: i32 = 8 | (6 << 8);
    match e.downcast_ref::<rusqlite::Error>() {
        Some(rusqlite::Error::SqliteFailure(f, _)) => {
            matches!(f.extended_code, READONLY_CANTINIT | READONLY_DIRECTORY)
                || f.code == ErrorCode::CannotOpen
        }
        _ => false,
    }
}

/// `path` as an absolute SQLite `file:` URI. Hand-written: the escaping
/// SQLite needs (`%`, `?`, `#` and bytes outside printable ASCII, per its
/// URI rules) is a few lines, and no URL crate is in the tree.
fn file_uri(path: &Path) -> Result<String, rusqlite::Error> {
    let absolute = std::path::absolute(path).map_err(|e| {
        rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
            Some(format!("{}: {e}", path.display())),
        )
    })?;
    #[cfg(unix)]
    let bytes = std::os::unix::ffi::OsStrExt::as_bytes(absolute.as_os_str()).to_vec();
    #[cfg(not(unix))]
    let bytes = absolute.to_string_lossy().replace('\\', "/").into_bytes();
    let mut uri = String::from("file://");
    if bytes.first() != Some(&b'/') {
        uri.push('/');
    }
    for b in bytes {
        if b.is_ascii_alphanumeric() || b"/-._~:".contains(&b) {
            uri.push(char::from(b));
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    Ok(uri)
}

fn connect(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path).map_err(db)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(db)?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(db)?;
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(db)?;
    conn.pragma_update(None, "foreign_keys", "ON").map_err(db)?;
    Ok(conn)
}

fn migrate(conn: &mut Connection, target: usize) -> Result<(), StoreError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db)?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
         INSERT INTO schema_version (version) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM schema_version);",
    )
    .map_err(db)?;
    let found: i64 = tx
        .query_row("SELECT version FROM schema_version", [], |r| r.get(0))
        .map_err(db)?;
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
        tx.execute_batch(sql).map_err(db)?;
        tx.execute("UPDATE schema_version SET version = ?1", [i as i64 + 1])
            .map_err(db)?;
    }
    tx.commit().map_err(db)
}

fn to_i64(v: u64) -> i64 {
    // Validation keeps every stored u64 below 2^63.
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn read_row(r: &Row<'_>) -> rusqlite::Result<RawRow> {
    let entry_id: Option<String> = r.get(8)?;
    let entry = match entry_id {
        None => None,
        Some(entry_id) => Some(RawEntry {
            entry_id,
            log_id: r.get(9)?,
            log_index: r.get(10)?,
            shard_index: r.get(11)?,
            integrated_time: r.get(12)?,
            inclusion_proof: r.get(13)?,
            checkpoint: r.get(14)?,
            set: r.get(15)?,
            api: r.get(16)?,
            timestamp: r.get(17)?,
        }),
    };
    Ok(RawRow {
        seq: r.get(0)?,
        id: r.get(1)?,
        tenant: r.get(2)?,
        subject: r.get(3)?,
        predicate_type: r.get(4)?,
        envelope: r.get(5)?,
        signer_key_ids: r.get(6)?,
        claimed_time: r.get(7)?,
        entry,
    })
}

fn query_rows(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<AttestationRow>, StoreError> {
    let mut stmt = conn.prepare_cached(sql).map_err(db)?;
    let rows = stmt.query_map(params, read_row).map_err(db)?;
    rows.map(|r| r.map_err(db).and_then(RawRow::into_row))
        .collect()
}

/// Rows, each decoded or the [`CorruptRow`] in its place.
fn query_rows_each(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<Result<AttestationRow, CorruptRow>>, StoreError> {
    let mut stmt = conn.prepare_cached(sql).map_err(db)?;
    let rows = stmt
        .query_map(params, |r| {
            Ok(read_row(r).map_err(|e| {
                let id: Option<Vec<u8>> = r.get(1).ok();
                CorruptRow::new(
                    r.get(0).ok(),
                    id.as_deref(),
                    Corruption::Unreadable(e.to_string()),
                )
                .with_subject(r.get(3).ok())
            }))
        })
        .map_err(db)?;
    rows.map(|r| Ok(r.map_err(db)?.and_then(crate::rules::decode_one)))
        .collect()
}

fn get_row(conn: &Connection, id: &AttestationId) -> Result<Option<AttestationRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM attestations WHERE id = ?1");
    Ok(query_rows(conn, &sql, [&id.0[..]])?.pop())
}

fn insert(tx: &Transaction<'_>, a: &NewAttestation) -> Result<AttestationRow, StoreError> {
    let key_ids = serde_json::to_string(&a.signer_key_ids)
        .map_err(|e| StoreError::invalid(InvalidInput::SignerKeyIds(e.to_string())))?;
    let mut stmt = tx
        .prepare_cached(
            "INSERT INTO attestations (id, tenant, subject, predicate_type, envelope, signer_key_ids, claimed_time)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (id) DO NOTHING",
        )
        .map_err(db)?;
    let inserted = stmt
        .execute(params![
            &a.id.0[..],
            a.tenant,
            a.subject,
            a.predicate_type,
            a.envelope,
            key_ids,
            a.claimed_time
        ])
        .map_err(db)?;
    if inserted == 0 {
        let existing = get_row(tx, &a.id)?.ok_or(StoreError::Corrupt(Corruption::Inconsistent(
            "conflicting row vanished",
        )))?;
        return on_existing_put(existing, a);
    }
    Ok(AttestationRow {
        seq: u64::try_from(tx.last_insert_rowid())
            .map_err(|_| StoreError::Corrupt(Corruption::Negative("rowid")))?,
        attestation: a.clone(),
        entry: None,
    })
}

impl AttestationStore for SqliteStore {
    fn put(&self, a: &NewAttestation) -> Result<AttestationRow, StoreError> {
        a.validate(&self.limits)?;
        self.write(|tx| insert(tx, a))
    }

    fn put_many(&self, items: &[NewAttestation]) -> Result<Vec<AttestationRow>, StoreError> {
        for a in items {
            a.validate(&self.limits)?;
        }
        self.write(|tx| items.iter().map(|a| insert(tx, a)).collect())
    }

    fn attach_entry(
        &self,
        id: &AttestationId,
        e: &LogEntryRecord,
    ) -> Result<AttestationRow, StoreError> {
        e.validate(&self.limits)?;
        self.write(|tx| {
            let updated = tx
                .prepare_cached(
                    "UPDATE attestations SET rekor_uuid = ?2, log_id = ?3, log_index = ?4, shard_index = ?5,
                     integrated_time = ?6, inclusion_proof = ?7, checkpoint = ?8, signed_entry_timestamp = ?9,
                     log_api = ?10, rfc3161_timestamp = ?11
                     WHERE id = ?1 AND rekor_uuid IS NULL",
                )
                .map_err(db)?
                .execute(params![
                    &id.0[..],
                    e.entry_id,
                    e.log_id,
                    to_i64(e.global_index),
                    to_i64(e.shard_index),
                    e.integrated_time,
                    e.inclusion_proof,
                    e.checkpoint,
                    e.set,
                    e.api.number(),
                    e.timestamp
                ]);
            let row = match updated {
                Ok(_) => get_row(tx, id)?,
                // The UPDATE only touches a row without an entry, so a
                // uniqueness violation means another row has this entry.
                Err(err) if is_unique_violation(&err) => {
                    return Err(StoreError::EntryAlreadyAttached { entry_id: e.entry_id.clone() });
                }
                Err(err) => return Err(db(err)),
            };
            let row = row.ok_or(StoreError::NotFound { id: id.to_string() })?;
            // Now attached, or attached before: the same entry is a no-op, a
            // different one a conflict.
            on_existing_entry(row, e)
        })
    }

    fn get(&self, id: &AttestationId) -> Result<Option<AttestationRow>, StoreError> {
        get_row(&self.lock(), id)
    }

    fn entry_tenants(&self, entry_ids: &[String]) -> Result<Vec<Option<String>>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare_cached("SELECT tenant FROM attestations WHERE rekor_uuid = ?1")
            .map_err(db)?;
        entry_ids
            .iter()
            .map(|id| {
                stmt.query_row(params![id], |r| r.get::<_, String>(0))
                    .optional()
                    .map_err(db)
            })
            .collect()
    }

    fn by_subject(&self, tenant: &str, subject: &str) -> Result<Vec<AttestationRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM attestations WHERE tenant = ?1 AND subject = ?2 ORDER BY seq"
        );
        query_rows(&self.lock(), &sql, params![tenant, subject])
    }

    fn by_subject_each(
        &self,
        tenant: &str,
        subject: &str,
    ) -> Result<Vec<Result<AttestationRow, CorruptRow>>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM attestations WHERE tenant = ?1 AND subject = ?2 ORDER BY seq"
        );
        query_rows_each(&self.lock(), &sql, params![tenant, subject])
    }

    fn list_each(
        &self,
        tenant: &str,
        after: Option<u64>,
        limit: usize,
    ) -> Result<PageEach, StoreError> {
        let limit = limit.max(1);
        let sql = format!(
            "SELECT {COLUMNS} FROM attestations WHERE tenant = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3"
        );
        let fetch = i64::try_from(limit).unwrap_or(i64::MAX - 1) + 1;
        let rows = query_rows_each(
            &self.lock(),
            &sql,
            params![tenant, to_i64(after.unwrap_or(0)), fetch],
        )?;
        crate::rules::page_each_from(rows, limit)
    }

    fn list(&self, tenant: &str, after: Option<u64>, limit: usize) -> Result<Page, StoreError> {
        let limit = limit.max(1);
        let sql = format!(
            "SELECT {COLUMNS} FROM attestations WHERE tenant = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3"
        );
        let fetch = i64::try_from(limit).unwrap_or(i64::MAX - 1) + 1;
        let mut rows = query_rows(
            &self.lock(),
            &sql,
            params![tenant, to_i64(after.unwrap_or(0)), fetch],
        )?;
        Ok(crate::page_from(&mut rows, limit))
    }

    fn count(&self, tenant: &str) -> Result<u64, StoreError> {
        let n: i64 = self
            .lock()
            .query_row(
                "SELECT count(*) FROM attestations WHERE tenant = ?1",
                [tenant],
                |r| r.get(0),
            )
            .map_err(db)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    fn pending(
        &self,
        tenant: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AttestationRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM attestations WHERE rekor_uuid IS NULL AND (?1 IS NULL OR tenant = ?1)
             ORDER BY seq LIMIT ?2"
        );
        query_rows(
            &self.lock(),
            &sql,
            params![tenant, i64::try_from(limit).unwrap_or(i64::MAX)],
        )
    }

    fn last_checkpoint(&self, log_id: &str) -> Result<Option<CheckpointRecord>, StoreError> {
        read_checkpoint(&self.lock(), log_id)
    }

    fn store_checkpoint(&self, cp: &CheckpointRecord) -> Result<(), StoreError> {
        cp.validate()?;
        self.write(|tx| {
            let stored = read_checkpoint(tx, &cp.log_id)?;
            if let CheckpointAction::Replace = checkpoint_action(stored.as_ref(), cp)? {
                tx.execute(
                    "INSERT INTO log_checkpoints (log_id, tree_size, checkpoint) VALUES (?1, ?2, ?3)
                     ON CONFLICT (log_id) DO UPDATE SET tree_size = excluded.tree_size, checkpoint = excluded.checkpoint",
                    params![cp.log_id, to_i64(cp.tree_size), cp.checkpoint],
                )
                .map_err(db)?;
            }
            Ok(())
        })
    }
}

fn read_checkpoint(
    conn: &Connection,
    log_id: &str,
) -> Result<Option<CheckpointRecord>, StoreError> {
    conn.query_row(
        "SELECT tree_size, checkpoint FROM log_checkpoints WHERE log_id = ?1",
        [log_id],
        |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)),
    )
    .optional()
    .map_err(db)?
    .map(|(size, checkpoint)| {
        Ok(CheckpointRecord::new(
            log_id.to_owned(),
            u64::try_from(size)
                .map_err(|_| StoreError::Corrupt(Corruption::Negative("tree size")))?,
            checkpoint,
        ))
    })
    .transpose()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The immutable fallback opens a path whose characters mean something
    /// in a URI (`?`, `#`, `%`, a space, non-ASCII) as that very file.
    #[test]
    fn the_immutable_open_finds_a_path_with_uri_characters() {
        let dir = std::env::temp_dir().join(format!("attest-store-uri-{}", std::process::id()));
        let odd = dir.join("a?b#c%20d e é");
        std::fs::create_dir_all(&odd).unwrap();
        let path = odd.join("s?.db");
        drop(SqliteStore::open(&path).unwrap());
        let store = open_read_only_as(&path, true).unwrap();
        assert!(store.integrity_check().unwrap() == "ok");
        assert!(file_uri(&path).unwrap().starts_with("file:///"));
        assert!(
            file_uri(&path)
                .unwrap()
                .contains("a%3Fb%23c%2520d%20e%20%C3%A9/s%3F.db")
        );
        // A file that is not there is not created by it.
        let missing = odd.join("missing.db");
        assert!(open_read_only_as(&missing, true).is_err());
        assert!(!missing.exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
