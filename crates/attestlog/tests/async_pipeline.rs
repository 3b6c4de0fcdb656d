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

/// The async pipelines over a Rekor v2 log: the embedded tile log and its
/// TSA served on loopback, reached with reqwest; attestations published
/// from spawned tasks, audited from tiles; a tampered row fails its line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_pipelines_over_a_rekor_v2_log() {
    use attestlog::client::tsa::AsyncTsaClient;
    use attestlog::client::v2::AsyncRekorV2Client;
    use attestlog::tlog::{
        TIMESTAMP_PATH, TileLog, TileLogOptions, TsaService, V2Services, serve_handler,
    };
    use attestlog::{AsyncRekorV2, AttestationRow};
    let dir = TempDir::new("async-v2");
    let log = TileLog::open(
        &dir.file("log"),
        SigningKey::ed25519_from_seed(&[3; 32]),
        TileLogOptions::default().with_name("async-v2.test"),
    )
    .unwrap();
    let tsa = TsaService::open(&dir.file("tsa"), "async TSA").unwrap();
    let server = serve_handler(
        V2Services {
            log: log.clone(),
            tsa: Some(tsa.clone()),
        },
        "127.0.0.1:0",
        16,
    )
    .unwrap();
    let url = format!("http://{}", server.local_addr());
    let tsa_url = format!("{url}{TIMESTAMP_PATH}");
    let root = serde_json::to_vec(&log.trusted_root(&url, Some((&tsa, &tsa_url)))).unwrap();
    let logs = attestlog::rekor::TrustedRoot::from_json(&root)
        .map(attestlog::rekor::TrustedRoot::into_logs)
        .unwrap();
    let authorities = attestlog::rekor::TrustedRoot::from_json(&root)
        .map(attestlog::rekor::TrustedRoot::into_authorities)
        .unwrap();
    let v2 = || {
        AsyncRekorV2::new(AsyncRekorV2Client::new(
            &url,
            ReqwestTransport::new().unwrap(),
            logs.clone(),
        ))
        .with_tsa(AsyncTsaClient::new(
            &tsa_url,
            ReqwestTransport::new().unwrap(),
            authorities.timestamp_authorities.clone(),
        ))
    };
    let signer = SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
    let signer_key = signer.public_key().clone();
    let key_set = || KeySet::new(1, vec![TrustedKey::always(signer_key.clone())]);
    let store = Arc::new(MemoryStore::new());
    let attestor = Arc::new(
        AsyncAttestor::builder(signer, Box::new(Arc::clone(&store)))
            .log(v2())
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
        assert!(done.publish_error.is_none(), "{:?}", done.publish_error);
        assert_eq!(done.entry.unwrap().api, attestlog::store::LogApiVersion::V2);
    }
    // The log grows past a tile, so the proofs span several tiles.
    for i in 0..300u32 {
        log.append(format!("other {i}").into_bytes()).unwrap();
    }
    let auditor = Arc::new(
        AsyncAuditor::builder(key_set(), Box::new(Arc::clone(&store)))
            .log(v2())
            .authorities(authorities.clone())
            .trust_current_tree(true)
            .build(),
    );
    let a = Arc::clone(&auditor);
    let reports = tokio::spawn(assert_send(
        async move { a.audit_tenant("acme", |_| {}).await },
    ))
    .await
    .unwrap()
    .unwrap();
    assert_eq!(reports.len(), 4);
    for r in &reports {
        assert!(r.passed(), "{r}");
        assert_eq!(
            r.outcome(AuditCheck::Timestamp),
            Some(attestlog::rekor::Outcome::Passed)
        );
    }
    // A row whose stored time was altered fails stored-entry, only it.
    let mut row: AttestationRow = store.by_subject("acme", "artifact-1").unwrap().remove(0);
    row.entry.as_mut().unwrap().integrated_time += 1;
    let r = auditor.audit_row(&row).await.unwrap();
    let failed: Vec<AuditCheck> = r
        .checks
        .iter()
        .filter(|c| c.outcome == attestlog::rekor::Outcome::Failed)
        .map(|c| c.check)
        .collect();
    assert_eq!(failed, vec![AuditCheck::StoredEntry], "{r}");
    // An index past the log's end: the entry cannot be fetched.
    let mut row: AttestationRow = store.by_subject("acme", "artifact-2").unwrap().remove(0);
    let e = row.entry.as_mut().unwrap();
    (e.global_index, e.shard_index) = (10_000, 10_000);
    let r = auditor.audit_row(&row).await.unwrap();
    assert_eq!(
        r.outcome(AuditCheck::EntryFetched),
        Some(attestlog::rekor::Outcome::Failed),
        "{r}"
    );

    // A lying tile server (in process: the log's own handler, one tile
    // damaged every time it is served, flipped or cut short) never yields a
    // pass; which tiles an honest audit reads is recorded first.
    let read = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let over = |damaged: Option<(String, bool)>| {
        let (log, read) = (log.clone(), Arc::clone(&read));
        let transport = move |req: Request<Vec<u8>>, _t: Duration| {
            let path = req.uri().path().to_owned();
            let mut resp = log.handle(&req);
            if path.starts_with("/tile/") {
                read.lock().unwrap().push(path.clone());
            }
            if let Some((victim, cut)) = &damaged
                && *victim == path
            {
                let b = resp.body_mut();
                if *cut {
                    b.truncate(b.len() / 2);
                } else if let Some(x) = b.get_mut(7) {
                    *x ^= 1;
                }
            }
            async move { Ok::<Response<Vec<u8>>, Infallible>(resp) }
        };
        AsyncAuditor::builder(key_set(), Box::new(Arc::clone(&store)))
            .log(AsyncRekorV2::new(AsyncRekorV2Client::new(
                "http://attestlog.local",
                transport,
                logs.clone(),
            )))
            .authorities(authorities.clone())
            .trust_current_tree(true)
            .build()
    };
    let honest = over(None).audit("acme", "artifact-1").await.unwrap();
    assert!(honest.iter().all(attestlog::AuditReport::passed));
    let paths = read.lock().unwrap().clone();
    assert!(paths.len() >= 3, "{paths:?}");
    for victim in paths {
        for cut in [false, true] {
            let r = over(Some((victim.clone(), cut)))
                .audit("acme", "artifact-1")
                .await
                .unwrap();
            assert!(
                r.iter().all(|r| !r.passed()),
                "{victim} damaged (cut: {cut}), yet: {r:?}"
            );
        }
    }
    server.shutdown();
}
