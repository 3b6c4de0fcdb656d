//! The auditor portal's page for one subject with 1,000 attestations (every
//! row audited, the summary of all and the first 100 cards shown), after
//! the first load (checkpoints memoized by the portal's auditor), beside
//! the raw primitive in the same run: `Auditor::audit` of the same rows by
//! an auditor as warm — so the ratio is what the page (routing, the token
//! check, the HTML template) adds to the audit itself. Both fetch every
//! entry from the embedded log in process and verify it.
//!
//! `cargo bench -p attestlog-benches --bench portal`

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)] // bench code

use std::hint::black_box;

use attestlog::client::RekorClient;
use attestlog::dsse::{KeySet, SigningKey, Statement, Subject, TrustedKey};
use attestlog::tlog::{LocalLog, LogOptions};
use attestlog::{Attestor, Auditor, LogClient, LogTransport, MemoryBaseline};
use attestlog_portal::{EntryLinks, Portal, PortalAccess, TokenFile, audit_path, new_token};
use criterion::{Criterion, criterion_group, criterion_main};

const N: usize = 1000;
const SUBJECT: &str = "github.com/acme/app@gitCommit:0123456789abcdef0123456789abcdef01234567";

fn client(log: &LocalLog) -> LogClient {
    RekorClient::new(
        "http://attestlog.local",
        LogTransport::Local(log.clone()),
        vec![log.trusted_log()],
    )
}

fn bench(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("attestlog-bench-portal-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let log = LocalLog::open(
        &dir.join("log"),
        SigningKey::ed25519_from_seed(&[1; 32]),
        LogOptions::default(),
    )
    .unwrap();
    let key = SigningKey::ed25519_from_seed(&[2; 32]);
    let keys = KeySet::new(1, vec![TrustedKey::always(key.public_key().clone())]);
    let db = dir.join("store.db").display().to_string();
    let attestor = Attestor::builder(key, attestlog::store::open(&db).unwrap())
        .log(client(&log))
        .build();
    for n in 0..N {
        let st = Statement::new(
            Subject {
                name: "app".into(),
                digest: [("gitCommit".into(), "01".repeat(20))].into(),
                annotations: Default::default(),
            },
            "https://slsa.dev/provenance/v1",
            serde_json::json!({ "run": n }),
        );
        attestor.attest("acme", SUBJECT, st).unwrap();
    }
    let auditor = || {
        Auditor::builder(keys.clone(), attestlog::store::open(&db).unwrap())
            .log(client(&log))
            .baseline(MemoryBaseline::new())
            .trust_current_tree(true)
            .build()
    };
    let token = new_token().unwrap();
    let mut tokens = TokenFile::new();
    tokens.add("acme", &token, "").unwrap();
    let portal = Portal::new("attestlog", auditor(), &keys, PortalAccess::Tokens(tokens))
        .unwrap()
        .with_entry_links(EntryLinks::Rekor("https://log.example.com".into()));
    let req = http::Request::get(audit_path("acme", SUBJECT))
        .header("authorization", format!("Bearer {token}"))
        .body(())
        .unwrap();
    // The first load: checkpoints verified and memoized, baseline started.
    let first = portal.handle(&req);
    assert_eq!(first.status(), 200);
    let html = String::from_utf8(first.into_body()).unwrap();
    assert_eq!(
        html.matches(r#"data-verdict="pass""#).count(),
        attestlog_portal::PAGE_SIZE
    );
    assert_eq!(html.matches(r#"<tr class="pass" data-row="#).count(), N);
    let raw = auditor();
    assert!(
        raw.audit("acme", SUBJECT)
            .unwrap()
            .iter()
            .all(|r| r.passed())
    );

    let mut g = c.benchmark_group("portal page, 1000 attestations");
    g.sample_size(10);
    g.bench_function("Portal::handle (HTML page)", |b| {
        b.iter(|| black_box(portal.handle(black_box(&req))));
    });
    g.bench_function("Auditor::audit (the primitive)", |b| {
        b.iter(|| black_box(raw.audit("acme", SUBJECT).unwrap()));
    });
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench);
criterion_main!(benches);
