//! The async pipelines over a blocking store: PostgreSQL, whose client
//! blocks on a runtime of its own and so must never be called on an async
//! runtime's threads. `AsyncAttestor` and `AsyncAuditor` attest from spawned
//! tasks, retry pending rows, audit and are dropped, on a multi-thread and
//! on a current-thread tokio runtime.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use attestlog::dsse::{KeySet, TrustedKey};
use attestlog::store::PostgresStore;
use attestlog::tlog::{LocalLog, LogOptions};
use attestlog::{
    AsyncAttestor, AsyncAuditor, AsyncRekorClient, AttestationStore, SigningKey, Statement, Subject,
};
use attestlog_testkit::TempDir;
use http::{Request, Response};

fn statement(n: u8) -> Statement {
    Statement::new(
        Subject::of_bytes(format!("artifact-{n}"), &[n; 16]),
        "https://slsa.dev/provenance/v1",
        serde_json::json!({ "n": n }),
    )
}

/// Attests four artifacts from spawned tasks and one offline (pending),
/// publishes the pending one, audits the tenant, and drops the pipelines
/// and the store inside the runtime.
fn pipelines_over_postgres(runtime: &tokio::runtime::Runtime, name: &str) {
    let Some(url) = attestlog_testkit::postgres_database(name) else {
        return;
    };
    let dir = TempDir::new(name);
    let log = LocalLog::open(
        dir.path(),
        SigningKey::ed25519_from_seed(&[1; 32]),
        LogOptions::default(),
    )
    .unwrap();
    let trusted = vec![log.trusted_log()];
    let transport = {
        let log = log.clone();
        move |req: Request<Vec<u8>>, _t: Duration| {
            let log = log.clone();
            async move { Ok::<Response<Vec<u8>>, Infallible>(log.handle(&req)) }
        }
    };
    let client =
        move || AsyncRekorClient::new("http://attestlog.local", transport.clone(), trusted.clone());
    let signer = SigningKey::ed25519_from_seed(&[2; 32]);
    let keys = KeySet::new(1, vec![TrustedKey::always(signer.public_key().clone())]);
    let open_url = url.clone();
    runtime.block_on(async move {
        // The store's constructor blocks: it runs where a user would run
        // it, off the runtime's threads.
        let store: Arc<PostgresStore> = {
            let url = open_url;
            Arc::new(
                std::thread::spawn(move || PostgresStore::open(&url))
                    .join()
                    .unwrap()
                    .unwrap(),
            )
        };
        let attestor = Arc::new(
            AsyncAttestor::builder(signer.clone(), Box::new(Arc::clone(&store)))
                .log(client())
                .build(),
        );
        let mut tasks = Vec::new();
        for n in 0..4u8 {
            let a = Arc::clone(&attestor);
            tasks.push(tokio::spawn(async move {
                a.attest("acme", &format!("artifact-{n}"), statement(n))
                    .await
            }));
        }
        for t in tasks {
            let done = t.await.unwrap().unwrap();
            assert!(done.entry.is_some(), "{:?}", done.publish_error);
        }
        // An attestor without a log leaves its row pending; one with a log
        // publishes it.
        let offline = AsyncAttestor::builder(signer, Box::new(Arc::clone(&store)))
            .optional_log(None::<AsyncRekorClient<attestlog::Offline>>)
            .build();
        let pending = offline
            .attest("acme", "artifact-9", statement(9))
            .await
            .unwrap();
        assert!(pending.entry.is_none());
        let summary = attestor.publish_pending(Some("acme")).await.unwrap();
        assert_eq!(summary.published, 1, "{summary:?}");
        assert!(summary.failed.is_empty());

        let auditor = Arc::new(
            AsyncAuditor::builder(keys, Box::new(Arc::clone(&store)))
                .log(client())
                .trust_current_tree(true)
                .build(),
        );
        let a = Arc::clone(&auditor);
        let reports = tokio::spawn(async move { a.audit_tenant("acme", |_| {}).await })
            .await
            .unwrap()
            .unwrap();
        assert_eq!(reports.len(), 5);
        assert!(
            reports.iter().all(attestlog::AuditReport::passed),
            "{reports:?}"
        );
        let one = auditor.audit("acme", "artifact-9").await.unwrap();
        assert!(one.len() == 1 && one[0].passed(), "{one:?}");
        // Every pipeline and the last handle on the store dropped here, on
        // the runtime: closing the connection must not block on it either.
        drop((attestor, offline, auditor));
        drop(store);
    });
    // What the pipelines wrote is in the database.
    let store = PostgresStore::open(&url).unwrap();
    assert_eq!(store.count("acme").unwrap(), 5);
    assert!(store.pending(Some("acme"), 10).unwrap().is_empty());
}

#[test]
fn async_pipelines_over_postgres_on_a_multi_thread_runtime() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    pipelines_over_postgres(&runtime, "async_mt");
}

#[test]
fn async_pipelines_over_postgres_on_a_current_thread_runtime() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    pipelines_over_postgres(&runtime, "async_ct");
}
