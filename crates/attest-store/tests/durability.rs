//! Crash safety, concurrency and migrations, against real databases.
//!
//! Child processes are this test binary run again with `--ignored --exact`
//! on one of the `child_*` tests and an environment variable saying what to do.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;

use std::io::Write;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use attest_store::{AttestationStore, SqliteStore, StoreError};
use attestlog_testkit::child::Running;
use attestlog_testkit::{Lcg, TempDir};
use common::{attestation, entry};

fn child(test: &str, envs: &[(&str, String)]) -> std::process::Command {
    attestlog_testkit::child::command(test, envs)
}

/// Child: writes and attaches in a loop, printing each acknowledged write.
#[test]
#[ignore = "run as a child process by sqlite_survives_sigkill"]
fn child_writer() {
    let Ok(path) = std::env::var("ATTEST_CHILD_DB") else {
        return;
    };
    let start: u64 = std::env::var("ATTEST_CHILD_START")
        .unwrap()
        .parse()
        .unwrap();
    let store = SqliteStore::open(&path).unwrap();
    let mut out = std::io::stdout().lock();
    for n in start.. {
        let a = attestation(n, "acme", "app");
        store.put(&a).unwrap();
        writeln!(out, "PUT {n}").unwrap();
        out.flush().unwrap();
        if n % 3 != 0 {
            store.attach_entry(&a.id, &entry(n)).unwrap();
            writeln!(out, "ATTACH {n}").unwrap();
            out.flush().unwrap();
        }
        if n % 10 == 0 {
            let batch: Vec<_> = (0..5)
                .map(|i| attestation(n * 10 + 5_000_000 + i, "batch", "b"))
                .collect();
            store.put_many(&batch).unwrap();
            writeln!(out, "BATCH {n}").unwrap();
            out.flush().unwrap();
        }
    }
}

#[test]
fn sqlite_survives_sigkill() {
    let dir = TempDir::created("crash");
    let path = dir.file("store.db");
    let mut acked_puts = Vec::new();
    let mut acked_attaches = Vec::new();
    let mut acked_batches = Vec::new();
    let mut rng = Lcg(0x5eed);
    let rounds = 25;
    for round in 0..rounds {
        let mut running = Running::spawn(child(
            "child_writer",
            &[
                ("ATTEST_CHILD_DB", path.display().to_string()),
                ("ATTEST_CHILD_START", (round * 100_000 + 1).to_string()),
            ],
        ));
        // Kill only after the child acknowledged a write (an event, however
        // busy the machine), at a random moment after it.
        running.wait_for_line(|l| l.starts_with("PUT "), Duration::from_secs(120));
        std::thread::sleep(Duration::from_millis(rng.next(250)));
        let lines = running.kill(); // SIGKILL
        for line in &lines {
            let (what, n) = line.split_once(' ').unwrap_or(("", ""));
            let Ok(n) = n.parse::<u64>() else { continue };
            match what {
                "PUT" => acked_puts.push(n),
                "ATTACH" => acked_attaches.push(n),
                "BATCH" => acked_batches.push(n),
                _ => {}
            }
        }

        // After every crash: the file is sound, every acknowledged write is
        // there, and no row is partial.
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.integrity_check().unwrap(), "ok", "round {round}");
        for &n in &acked_puts {
            let row = store.get(&attestation(n, "acme", "app").id).unwrap();
            assert_eq!(
                row.map(|r| r.attestation),
                Some(attestation(n, "acme", "app")),
                "round {round}: put {n}"
            );
        }
        for &n in &acked_attaches {
            let row = store
                .get(&attestation(n, "acme", "app").id)
                .unwrap()
                .unwrap();
            assert_eq!(row.entry, Some(entry(n)), "round {round}: attach {n}");
        }
        for &n in &acked_batches {
            for i in 0..5 {
                assert!(
                    store
                        .get(&attestation(n * 10 + 5_000_000 + i, "batch", "b").id)
                        .unwrap()
                        .is_some()
                );
            }
        }
        // Every row, acknowledged or not, is whole: attestation and entry
        // exactly as written, or no entry at all.
        let mut after = None;
        loop {
            let page = store.list("acme", after, 500).unwrap();
            for row in &page.rows {
                let n = u64::from_be_bytes(row.attestation.id.0[..8].try_into().unwrap());
                assert_eq!(row.attestation, attestation(n, "acme", "app"));
                assert!(
                    row.entry.is_none() || row.entry == Some(entry(n)),
                    "partial row {n}"
                );
            }
            match page.next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
        // Batches are all or nothing.
        let batch_rows = store.by_subject("batch", "b").unwrap();
        assert_eq!(batch_rows.len() % 5, 0, "round {round}: a partial batch");
    }
    assert!(
        acked_puts.len() > rounds as usize,
        "the child hardly wrote anything: {}",
        acked_puts.len()
    );
}

/// The concurrent workload: threads put shared and own rows and race to
/// attach different entries to the shared ones. Every call must succeed or
/// be refused as `EntryConflict`; "database is locked" or any other error
/// fails the test.
fn race(open: &(dyn Fn() -> Box<dyn AttestationStore> + Sync), threads: u64, rows: u64, tag: u64) {
    std::thread::scope(|s| {
        for t in 0..threads {
            s.spawn(move || {
                let store = open();
                for i in 0..rows {
                    let shared = attestation(i, "acme", "shared");
                    store
                        .put(&shared)
                        .unwrap_or_else(|e| panic!("put shared: {e}"));
                    store
                        .put(&attestation(
                            tag * 1_000_000 + t * 10_000 + i,
                            "acme",
                            "own",
                        ))
                        .unwrap();
                    // Even threads offer entry(i), odd ones entry(100_000 + i).
                    let offered = if t % 2 == 0 {
                        entry(i)
                    } else {
                        entry(100_000 + i)
                    };
                    match store.attach_entry(&shared.id, &offered) {
                        Ok(row) => assert!(row.entry.is_some()),
                        Err(StoreError::EntryConflict { .. }) => {}
                        Err(e) => panic!("thread {t}: unexpected {e}"),
                    }
                }
            });
        }
    });
}

fn check_race(store: &dyn AttestationStore, threads: u64, rows: u64, tags: &[u64]) {
    for i in 0..rows {
        let row = store
            .get(&attestation(i, "acme", "shared").id)
            .unwrap()
            .unwrap();
        let e = row.entry.expect("every shared row got exactly one entry");
        assert!(e == entry(i) || e == entry(100_000 + i));
    }
    assert_eq!(
        store.by_subject("acme", "shared").unwrap().len() as u64,
        rows
    );
    let own = store.by_subject("acme", "own").unwrap();
    assert_eq!(
        own.len() as u64,
        threads * rows * tags.len() as u64,
        "lost writes"
    );
}

#[test]
fn sqlite_eight_threads_each_with_a_connection() {
    let dir = TempDir::created("threads");
    let path = dir.file("store.db");
    SqliteStore::open(&path).unwrap();
    let open = || Box::new(SqliteStore::open(&path).unwrap()) as Box<dyn AttestationStore>;
    race(&open, 8, 40, 1);
    check_race(&SqliteStore::open(&path).unwrap(), 8, 40, &[1]);
}

#[test]
fn sqlite_eight_threads_sharing_one_store() {
    let dir = TempDir::created("shared");
    let store = Arc::new(SqliteStore::open(dir.file("store.db")).unwrap());
    struct Shared(Arc<SqliteStore>);
    impl AttestationStore for Shared {
        fn put(
            &self,
            a: &attest_store::NewAttestation,
        ) -> Result<attest_store::AttestationRow, StoreError> {
            self.0.put(a)
        }
        fn put_many(
            &self,
            a: &[attest_store::NewAttestation],
        ) -> Result<Vec<attest_store::AttestationRow>, StoreError> {
            self.0.put_many(a)
        }
        fn attach_entry(
            &self,
            id: &attest_store::AttestationId,
            e: &attest_store::LogEntryRecord,
        ) -> Result<attest_store::AttestationRow, StoreError> {
            self.0.attach_entry(id, e)
        }
        fn get(
            &self,
            id: &attest_store::AttestationId,
        ) -> Result<Option<attest_store::AttestationRow>, StoreError> {
            self.0.get(id)
        }
        fn entry_tenants(&self, ids: &[String]) -> Result<Vec<Option<String>>, StoreError> {
            self.0.entry_tenants(ids)
        }
        fn by_subject(
            &self,
            t: &str,
            s: &str,
        ) -> Result<Vec<attest_store::AttestationRow>, StoreError> {
            self.0.by_subject(t, s)
        }
        fn list(
            &self,
            t: &str,
            a: Option<u64>,
            l: usize,
        ) -> Result<attest_store::Page, StoreError> {
            self.0.list(t, a, l)
        }
        fn pending(
            &self,
            t: Option<&str>,
            l: usize,
        ) -> Result<Vec<attest_store::AttestationRow>, StoreError> {
            self.0.pending(t, l)
        }
        fn last_checkpoint(
            &self,
            l: &str,
        ) -> Result<Option<attest_store::CheckpointRecord>, StoreError> {
            self.0.last_checkpoint(l)
        }
        fn store_checkpoint(&self, c: &attest_store::CheckpointRecord) -> Result<(), StoreError> {
            self.0.store_checkpoint(c)
        }
    }
    let open = || Box::new(Shared(Arc::clone(&store))) as Box<dyn AttestationStore>;
    race(&open, 8, 40, 1);
    check_race(store.as_ref(), 8, 40, &[1]);
}

/// Child: runs the race workload in its own process.
#[test]
#[ignore = "run as a child process by sqlite_two_processes"]
fn child_racer() {
    let Ok(path) = std::env::var("ATTEST_CHILD_DB") else {
        return;
    };
    let tag: u64 = std::env::var("ATTEST_CHILD_TAG").unwrap().parse().unwrap();
    let open = || Box::new(SqliteStore::open(&path).unwrap()) as Box<dyn AttestationStore>;
    race(&open, 4, 40, tag);
    println!("RACER DONE");
}

#[test]
fn sqlite_two_processes() {
    let dir = TempDir::created("procs");
    let path = dir.file("store.db");
    SqliteStore::open(&path).unwrap();
    let procs: Vec<_> = [1u64, 2]
        .iter()
        .map(|tag| {
            child(
                "child_racer",
                &[
                    ("ATTEST_CHILD_DB", path.display().to_string()),
                    ("ATTEST_CHILD_TAG", tag.to_string()),
                ],
            )
            .stdout(Stdio::piped())
            .spawn()
            .unwrap()
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(300);
    for p in procs {
        let out = p.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "child failed: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("RACER DONE"));
        assert!(Instant::now() < deadline);
    }
    check_race(&SqliteStore::open(&path).unwrap(), 4, 40, &[1, 2]);
}

#[test]
fn sqlite_migrates_a_version_1_database_with_its_data() {
    let dir = TempDir::created("migrate");
    let path = dir.file("store.db");
    SqliteStore::create_at_schema_version(&path, 1).unwrap();
    let a = attestation(7, "acme", "app");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        let cols: Vec<String> = conn
            .prepare("SELECT name FROM pragma_table_info('attestations')")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(
            !cols.contains(&"rekor_uuid".to_string()),
            "version 1 has no rekor_uuid"
        );
        conn.execute(
            "INSERT INTO attestations (id, tenant, subject, predicate_type, envelope, signer_key_ids, claimed_time)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            rusqlite::params![&a.id.0[..], a.tenant, a.subject, a.predicate_type, a.envelope,
                serde_json::to_string(&a.signer_key_ids).unwrap(), a.claimed_time],
        )
        .unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    let row = store.get(&a.id).unwrap().unwrap();
    assert_eq!(row.attestation, a);
    assert!(row.entry.is_none());
    assert_eq!(store.pending(None, 10).unwrap().len(), 1);
    store.attach_entry(&a.id, &entry(7)).unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    let version: i64 = conn
        .query_row("SELECT version FROM schema_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, SqliteStore::schema_version() as i64);
    let uuid: String = conn
        .query_row("SELECT rekor_uuid FROM attestations", [], |r| r.get(0))
        .unwrap();
    assert_eq!(uuid, entry(7).entry_id);
}

#[test]
fn sqlite_migrates_a_version_3_database_its_entries_read_as_rekor_v1() {
    let dir = TempDir::created("migrate3");
    let path = dir.file("store.db");
    SqliteStore::create_at_schema_version(&path, 3).unwrap();
    let a = attestation(8, "acme", "app");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        let e = entry(8);
        conn.execute(
            "INSERT INTO attestations (id, tenant, subject, predicate_type, envelope, signer_key_ids, claimed_time,
             rekor_uuid, log_id, log_index, shard_index, integrated_time, inclusion_proof, checkpoint, signed_entry_timestamp)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            rusqlite::params![&a.id.0[..], a.tenant, a.subject, a.predicate_type, a.envelope,
                serde_json::to_string(&a.signer_key_ids).unwrap(), a.claimed_time,
                e.entry_id, e.log_id, e.global_index as i64, e.shard_index as i64, e.integrated_time,
                e.inclusion_proof, e.checkpoint, e.set],
        )
        .unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    let got = store.get(&a.id).unwrap().unwrap().entry.unwrap();
    assert_eq!(got, entry(8));
    assert_eq!(got.api, attest_store::LogApiVersion::V1);
    // A value no code writes is corruption, not a v1 entry.
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("PRAGMA ignore_check_constraints = ON; UPDATE attestations SET log_api = 3")
        .unwrap();
    assert!(matches!(
        store.get(&a.id),
        Err(StoreError::Corrupt(attest_store::Corruption::LogApi(3)))
    ));
}

/// Issue 30, item 11: one corrupt row does not hide a subject's others.
/// `by_subject` fails as a whole; `by_subject_each` returns every good row
/// and, in its place, each corrupt one with its id and what is wrong.
#[test]
fn sqlite_a_corrupt_row_is_its_own_error_beside_the_good_ones() {
    let dir = TempDir::created("corrupt-row");
    let path = dir.file("store.db");
    let store = SqliteStore::open(&path).unwrap();
    let rows: Vec<_> = (1..=3).map(|n| attestation(n, "acme", "app")).collect();
    for a in &rows {
        store.put(a).unwrap();
    }
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute(
        "UPDATE attestations SET signer_key_ids = 'not json' WHERE id = ?1",
        [&rows[1].id.0[..]],
    )
    .unwrap();
    // SQLite keeps what it is given: an integer where the envelope's bytes were.
    conn.execute(
        "UPDATE attestations SET envelope = 42 WHERE id = ?1",
        [&rows[2].id.0[..]],
    )
    .unwrap();
    assert!(store.by_subject("acme", "app").is_err());
    let each = store.by_subject_each("acme", "app").unwrap();
    assert_eq!(each.len(), 3);
    assert_eq!(each[0].as_ref().unwrap().attestation, rows[0]);
    let bad = each[1].as_ref().unwrap_err();
    assert_eq!(bad.reason, attest_store::Corruption::SignerKeyIds);
    assert_eq!(bad.id.as_deref(), Some(rows[1].id.to_string().as_str()));
    assert_eq!(bad.seq, Some(2));
    let bad = each[2].as_ref().unwrap_err();
    assert!(
        matches!(bad.reason, attest_store::Corruption::Unreadable(_)),
        "{bad}"
    );
    assert_eq!(bad.id.as_deref(), Some(rows[2].id.to_string().as_str()));
    assert!(
        bad.to_string()
            .starts_with(&format!("corrupt row {}", rows[2].id))
    );
    assert_eq!(bad.subject.as_deref(), Some("app"));
    // Paged the same way: a corrupt row takes its place and paging goes on.
    assert!(store.list("acme", None, 2).is_err());
    let first = store.list_each("acme", None, 2).unwrap();
    assert_eq!(first.rows.len(), 2);
    assert!(first.rows[0].is_ok() && first.rows[1].is_err());
    assert_eq!(first.next, Some(2));
    let second = store.list_each("acme", first.next, 2).unwrap();
    assert_eq!(second.rows.len(), 1);
    assert!(second.rows[0].is_err());
    assert_eq!(second.next, None);
    // The memory store (whose rows cannot be corrupt) answers the same as by_subject.
    let mem = attest_store::MemoryStore::new();
    mem.put(&rows[0]).unwrap();
    assert_eq!(
        mem.by_subject_each("acme", "app").unwrap(),
        vec![Ok(mem.by_subject("acme", "app").unwrap().remove(0))]
    );
}

#[test]
fn sqlite_refuses_a_newer_schema() {
    let dir = TempDir::created("newer");
    let path = dir.file("store.db");
    SqliteStore::open(&path)
        .unwrap()
        .put(&attestation(1, "acme", "app"))
        .unwrap();
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute("UPDATE schema_version SET version = 99", [])
        .unwrap();
    match SqliteStore::open(&path) {
        Err(StoreError::SchemaTooNew {
            found: 99,
            supported,
        }) => {
            assert_eq!(supported, SqliteStore::schema_version() as i64);
        }
        other => panic!("expected SchemaTooNew, got {:?}", other.err()),
    }
    // Nothing was touched.
    let conn = rusqlite::Connection::open(&path).unwrap();
    let n: i64 = conn
        .query_row("SELECT count(*) FROM attestations", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1);
}

/// A read-only open reads what a writer stored, writes nothing (every write
/// method fails), and never migrates: an older schema or a file without one
/// is refused rather than upgraded, a missing file is not created.
#[test]
fn sqlite_read_only_reads_refuses_writes_and_never_migrates() {
    let dir = TempDir::created("read-only");
    let path = dir.file("store.db");
    let a = attestation(1, "acme", "app");
    SqliteStore::open(&path).unwrap().put(&a).unwrap();
    let ro = SqliteStore::open_read_only(&path).unwrap();
    assert_eq!(ro.get(&a.id).unwrap().unwrap().attestation, a);
    assert_eq!(ro.by_subject("acme", "app").unwrap().len(), 1);
    assert!(ro.put(&attestation(2, "acme", "app")).is_err());
    assert!(ro.attach_entry(&a.id, &entry(1)).is_err());
    drop(ro);
    assert_eq!(
        SqliteStore::open(&path)
            .unwrap()
            .list("acme", None, 10)
            .unwrap()
            .rows
            .len(),
        1
    );
    // The same through `attest_store::open_read_only`.
    let ro = attest_store::open_read_only(path.to_str().unwrap()).unwrap();
    assert!(ro.put(&attestation(3, "acme", "app")).is_err());

    // An older schema: refused, and left as it was.
    let old = dir.file("old.db");
    SqliteStore::create_at_schema_version(&old, 1).unwrap();
    assert!(matches!(
        SqliteStore::open_read_only(&old),
        Err(StoreError::SchemaOutdated { found: 1, .. })
    ));
    let v: i64 = rusqlite::Connection::open(&old)
        .unwrap()
        .query_row("SELECT version FROM schema_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, 1);
    // A SQLite file with no schema at all, and a missing file.
    let empty = dir.file("empty.db");
    rusqlite::Connection::open(&empty)
        .unwrap()
        .execute_batch("CREATE TABLE t (x INTEGER)")
        .unwrap();
    assert!(matches!(
        SqliteStore::open_read_only(&empty),
        Err(StoreError::SchemaOutdated { found: 0, .. })
    ));
    let missing = dir.file("missing.db");
    assert!(SqliteStore::open_read_only(&missing).is_err());
    assert!(!missing.exists());
}

#[cfg(feature = "postgres")]
mod postgres_durability {
    use super::*;
    use attest_store::PostgresStore;

    #[test]
    fn postgres_eight_connections_race() {
        let Some(url) = common::postgres_database("race") else {
            return;
        };
        PostgresStore::open(&url).unwrap();
        let open = || Box::new(PostgresStore::open(&url).unwrap()) as Box<dyn AttestationStore>;
        race(&open, 8, 40, 1);
        check_race(&PostgresStore::open(&url).unwrap(), 8, 40, &[1]);
    }

    #[test]
    fn postgres_read_only_reads_refuses_writes_and_never_migrates() {
        let Some(url) = common::postgres_database("read_only") else {
            return;
        };
        let a = attestation(1, "acme", "app");
        PostgresStore::open(&url).unwrap().put(&a).unwrap();
        let ro = PostgresStore::open_read_only(&url).unwrap();
        assert_eq!(ro.get(&a.id).unwrap().unwrap().attestation, a);
        assert!(ro.put(&attestation(2, "acme", "app")).is_err());
        assert!(ro.attach_entry(&a.id, &entry(1)).is_err());
        let Some(old) = common::postgres_database("read_only_old") else {
            return;
        };
        PostgresStore::create_at_schema_version(&old, 1).unwrap();
        assert!(matches!(
            PostgresStore::open_read_only(&old),
            Err(StoreError::SchemaOutdated { found: 1, .. })
        ));
    }

    #[test]
    fn postgres_a_corrupt_row_is_its_own_error_beside_the_good_ones() {
        let Some(url) = common::postgres_database("corrupt_row") else {
            return;
        };
        let store = PostgresStore::open(&url).unwrap();
        let rows: Vec<_> = (1..=2).map(|n| attestation(n, "acme", "app")).collect();
        for a in &rows {
            store.put(a).unwrap();
        }
        let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        c.execute(
            "UPDATE attestations SET signer_key_ids = '{' WHERE id = $1",
            &[&&rows[0].id.0[..]],
        )
        .unwrap();
        assert!(store.by_subject("acme", "app").is_err());
        let each = store.by_subject_each("acme", "app").unwrap();
        let bad = each[0].as_ref().unwrap_err();
        assert_eq!(bad.reason, attest_store::Corruption::SignerKeyIds);
        assert_eq!(bad.id.as_deref(), Some(rows[0].id.to_string().as_str()));
        assert_eq!(each[1].as_ref().unwrap().attestation, rows[1]);
        let page = store.list_each("acme", None, 1).unwrap();
        assert!(page.rows[0].is_err());
        let page = store.list_each("acme", page.next, 1).unwrap();
        assert_eq!(page.rows[0].as_ref().unwrap().attestation, rows[1]);
    }

    #[test]
    fn postgres_migrates_a_version_1_database_and_refuses_a_newer_one() {
        let Some(url) = common::postgres_database("migrate") else {
            return;
        };
        PostgresStore::create_at_schema_version(&url, 1).unwrap();
        let a = attestation(7, "acme", "app");
        let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        c.execute(
            "INSERT INTO attestations (id, tenant, subject, predicate_type, envelope, signer_key_ids, claimed_time)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[&&a.id.0[..], &a.tenant, &a.subject, &a.predicate_type, &a.envelope,
              &serde_json::to_string(&a.signer_key_ids).unwrap(), &a.claimed_time],
        )
        .unwrap();
        let store = PostgresStore::open(&url).unwrap();
        assert_eq!(store.get(&a.id).unwrap().unwrap().attestation, a);
        store.attach_entry(&a.id, &entry(7)).unwrap();
        let uuid: String = c
            .query_one("SELECT rekor_uuid FROM attestations", &[])
            .unwrap()
            .get(0);
        assert_eq!(uuid, entry(7).entry_id);
        c.execute("UPDATE schema_version SET version = 99", &[])
            .unwrap();
        assert!(matches!(
            PostgresStore::open(&url),
            Err(StoreError::SchemaTooNew { found: 99, .. })
        ));
    }
}
