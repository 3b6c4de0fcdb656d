//! The conformance suite against every backend.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;

use attest_store::{AttestationStore, MemoryStore, SqliteStore, StoreLimits};

fn memory() -> Option<impl Fn(StoreLimits) -> Box<dyn AttestationStore>> {
    Some(|limits| Box::new(MemoryStore::with_limits(limits)) as Box<dyn AttestationStore>)
}

fn sqlite() -> Option<impl Fn(StoreLimits) -> Box<dyn AttestationStore>> {
    // Each store gets its own directory. A static is never dropped: the
    // next test process removes them (`TempDir`'s sweep).
    static DIRS: std::sync::Mutex<Vec<attestlog_testkit::TempDir>> =
        std::sync::Mutex::new(Vec::new());
    Some(|limits| {
        let dir = attestlog_testkit::TempDir::created("conformance");
        let store = SqliteStore::open_with_limits(dir.file("store.db"), limits).unwrap();
        DIRS.lock().unwrap().push(dir);
        Box::new(store) as Box<dyn AttestationStore>
    })
}

#[cfg(feature = "postgres")]
fn postgres() -> Option<impl Fn(StoreLimits) -> Box<dyn AttestationStore>> {
    common::postgres_database("conformance")?;
    Some(|limits| {
        let url = common::postgres_database("conformance").unwrap();
        Box::new(attest_store::PostgresStore::open_with_limits(&url, limits).unwrap())
            as Box<dyn AttestationStore>
    })
}

conformance_tests!(memory_store, memory());
conformance_tests!(sqlite_store, sqlite());
#[cfg(feature = "postgres")]
conformance_tests!(postgres_store, postgres());
