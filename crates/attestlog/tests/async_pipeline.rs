//! The async pipelines on a multi-threaded tokio runtime: the same flow and
//! checks as the blocking ones, over an async transport the test writes (a
//! closure returning a future) in front of the embedded log, and over
//! reqwest against the embedded log served on loopback.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use attestlog::client::ReqwestTransport;
use attestlog::dsse::{Algorithm, KeySet, TrustedKey};
use attestlog::tlog::{LocalLog, LogOptions};
use attestlog::{
    AsyncAttestor, AsyncAuditor, AsyncRekorClient, AttestationStore, AuditCheck, MemoryStore,
    SigningKey, Statement, Subject,
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

fn keys(k: &SigningKey) -> KeySet {
    KeySet::new(1, vec![TrustedKey::always(k.public_key().clone())])
}

/// The futures of the async pipelines are `Send`: they can be spawned.
fn assert_send<T: Send>(t: T) -> T {
    t
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_pipelines_over_a_user_async_transport() {
    let dir = TempDir::new("async-closure");
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
        || AsyncRekorClient::new("http://attestlog.local", transport.clone(), trusted.clone());
    let signer = SigningKey::ed25519_from_seed(&[2; 32]);
    let k = keys(&signer);
    let store = Arc::new(MemoryStore::new());
    let attestor = Arc::new(
        AsyncAttestor::builder(signer, Box::new(Arc::clone(&store)))
            .log(client())
            .build(),
    );
    let mut tasks = Vec::new();
    for n in 0..4u8 {
        let a = Arc::clone(&attestor);
        tasks.push(tokio::spawn(assert_send(async move {
            a.attest("acme", &format!("artifact-{n}"), statement(n))
                .await
        })));
    }
    for t in tasks {
        let done = t.await.unwrap().unwrap();
        assert!(done.entry.is_some() && done.publish_error.is_none());
    }
    // Bad input is a typed error of kind InvalidInput, and nothing is stored.
    let err = attestor
        .attest("", "artifact-x", statement(7))
        .await
        .unwrap_err();
    assert!(matches!(err, attestlog::AttestError::EmptyTenant));
    assert_eq!(err.kind(), attestlog::ErrorKind::InvalidInput);
    let err = attestor.attest("acme", "", statement(7)).await.unwrap_err();
    assert!(matches!(err, attestlog::AttestError::EmptySubject));

    let auditor = AsyncAuditor::builder(k, Box::new(Arc::clone(&store)))
        .log(client())
        .trust_current_tree(true)
        .build();
    let reports = assert_send(auditor.audit_tenant("acme", |_| {}))
        .await
        .unwrap();
    assert_eq!(reports.len(), 4);
    assert!(
        reports.iter().all(attestlog::AuditReport::passed),
        "{reports:?}"
    );

    // Tampering is caught the same way as by the blocking auditor.
    let row = store.by_subject("acme", "artifact-0").unwrap().remove(0);
    let mut forged = row.clone();
    forged.attestation.envelope[40] ^= 1;
    let r = auditor.audit_row(&forged).await.unwrap();
    assert!(!r.passed());
    assert_ne!(
        r.outcome(AuditCheck::EnvelopeSignature),
        Some(attestlog::rekor::Outcome::Passed)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_pipelines_over_reqwest_against_the_served_log() {
    let dir = TempDir::new("async-reqwest");
    let log = LocalLog::open(
        dir.path(),
        SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap(),
        LogOptions::default(),
    )
    .unwrap();
    let trusted = log.trusted_log();
    let server = attest_tlog::serve(log, "127.0.0.1:0", 64).unwrap();
    let base = format!("http://{}", server.local_addr());
    let client = || {
        AsyncRekorClient::new(
            base.clone(),
            ReqwestTransport::new().unwrap(),
            vec![trusted.clone()],
        )
        .with_sleep(|d| Box::pin(tokio::time::sleep(d)))
    };
    let signer = SigningKey::generate(Algorithm::Ed25519).unwrap();
    let k = keys(&signer);
    let store = Arc::new(MemoryStore::new());
    let attestor = AsyncAttestor::builder(signer, Box::new(Arc::clone(&store)))
        .log(client())
        .build();
    let done = attestor
        .attest("acme", "artifact-9", statement(9))
        .await
        .unwrap();
    assert!(done.entry.is_some(), "{:?}", done.publish_error);
    let auditor = AsyncAuditor::builder(k, Box::new(store))
        .log(client())
        .trust_current_tree(true)
        .build();
    let reports = auditor.audit("acme", "artifact-9").await.unwrap();
    assert!(reports.len() == 1 && reports[0].passed(), "{reports:?}");
    server.shutdown();
}
