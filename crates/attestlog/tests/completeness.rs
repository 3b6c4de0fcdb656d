//! The completeness audit over both log kinds: every entry signed with the
//! watched keys has a row (of any tenant), until a row is deleted or an
//! entry is logged behind the store's back; the scan resumes where it stopped, starts over
//! for another key set, ignores other signers, and refuses a log whose
//! entries do not make its checkpoint's tree.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use attestlog::client::tsa::TsaClient;
use attestlog::client::v2::RekorV2Client;
use attestlog::client::{RekorClient, RetryPolicy, UreqTransport};
use attestlog::dsse::{Algorithm, Envelope, KeySet, SigningKey, Statement, Subject, TrustedKey};
use attestlog::rekor::TrustedRoot;
use attestlog::store::AttestationStore;
use attestlog::tlog::{
    LocalLog, LogOptions, Server, TIMESTAMP_PATH, TileLog, TileLogOptions, TsaService, V2Services,
    serve_handler,
};
use attestlog::{Attestor, Auditor, LogClient, LogTransport, MemoryBaseline, RekorV2};
use attestlog_testkit::TempDir;
use http::{Request, Response};

fn statement(n: u64) -> Statement {
    Statement::new(
        Subject::sha256(format!("app-{n}"), &[n as u8; 32]),
        "https://slsa.dev/provenance/v1",
        serde_json::json!({ "n": n }),
    )
}

fn subject(n: u64) -> String {
    format!("app-{n}")
}

fn keys(ks: &[&SigningKey]) -> KeySet {
    KeySet::new(
        1,
        ks.iter()
            .map(|k| TrustedKey::always(k.public_key().clone()))
            .collect(),
    )
}

fn again(k: &SigningKey) -> SigningKey {
    SigningKey::from_pkcs8_pem(&k.to_pkcs8_pem().unwrap()).unwrap()
}

fn sql(db: &str, q: &str) {
    rusqlite::Connection::open(db)
        .unwrap()
        .execute_batch(q)
        .unwrap();
}

fn v1_client(log: &LocalLog) -> LogClient {
    RekorClient::new(
        "http://attestlog.local",
        LogTransport::Local(log.clone()),
        vec![log.trusted_log()],
    )
}

/// A directory with a store path, an embedded v1 log, and the tenant's key.
fn v1_world(tag: &str) -> (TempDir, String, LocalLog, SigningKey) {
    let dir = TempDir::created(tag);
    let db = dir.file("store.db").display().to_string();
    let log = LocalLog::open(
        &dir.file("log"),
        SigningKey::ed25519_from_seed(&[1; 32]),
        LogOptions::default(),
    )
    .unwrap();
    (dir, db, log, SigningKey::ed25519_from_seed(&[2; 32]))
}

fn store(db: &str) -> Box<dyn AttestationStore> {
    attestlog::store::open(db).unwrap()
}

#[test]
fn a_v1_log_deleted_rows_and_entries_behind_the_stores_back_are_reported() {
    let (_dir, db, log, tenant) = v1_world("complete-v1");
    let other = SigningKey::ed25519_from_seed(&[3; 32]);
    let attestor = Attestor::builder(again(&tenant), store(&db))
        .log(v1_client(&log))
        .build();
    for n in 0..5 {
        attestor.attest("acme", &subject(n), statement(n)).unwrap();
    }
    // Another signer's entries (another tenant's) are not ours to account for.
    let others = Attestor::builder(again(&other), store(&db))
        .log(v1_client(&log))
        .build();
    others.attest("globex", "x", statement(100)).unwrap();

    let baseline = Arc::new(MemoryBaseline::new());
    let auditor = |ks: KeySet| {
        Auditor::builder(ks, store(&db))
            .log(v1_client(&log))
            .baseline(Arc::clone(&baseline))
            .trust_current_tree(true)
            .build()
    };
    let r = &auditor(keys(&[&tenant])).completeness().unwrap()[0];
    assert!(r.passed(), "{r:?}");
    assert_eq!((r.from, r.to, r.signed), (0, 6, 5));

    // A row deleted from the database: its entry is still in the log.
    sql(&db, "DELETE FROM attestations WHERE subject = 'app-3';");
    // And an attestation published straight to the log, with no row.
    let env = Envelope::sign(
        "application/vnd.in-toto+json",
        b"{\"behind\":\"the store's back\"}".to_vec(),
        &[&tenant],
    )
    .unwrap();
    let hidden = v1_client(&log)
        .publish_dsse(&env, tenant.public_key())
        .unwrap();
    let r = &auditor(keys(&[&tenant])).completeness().unwrap()[0];
    assert!(!r.passed());
    // Incremental: this run read only the one new entry.
    assert_eq!((r.from, r.to, r.signed), (6, 7, 6));
    let missing: Vec<u64> = r.missing.iter().map(|m| m.index).collect();
    assert_eq!(missing, vec![3, 6], "{r:?}");
    assert_eq!(r.missing[1].leaf, *hidden.entry.id.uuid());
    assert_eq!(r.missing[1].entry_id, hidden.entry.id.to_string());
    assert_eq!(r.missing[0].key, tenant.public_key().key_id());

    // Another key set: the kept scan is not reused.
    let r = &auditor(keys(&[&tenant, &other])).completeness().unwrap()[0];
    assert_eq!(r.from, 0);
    assert!(r.started_over.is_some());
    // globex's entry, now signed by a watched key, has globex's row: a row
    // of any tenant accounts for an entry (the keys are the service's).
    assert_eq!(r.signed, 7);
    assert_eq!(r.missing.len(), 2, "{r:?}");
}

#[test]
fn a_log_serving_other_entries_than_its_checkpoint_commits_to_is_refused() {
    let (_dir, db, log, tenant) = v1_world("complete-lie");
    let attestor = Attestor::builder(again(&tenant), store(&db))
        .log(v1_client(&log))
        .build();
    for n in 0..4 {
        attestor.attest("acme", &subject(n), statement(n)).unwrap();
    }
    // The log answers retrieve with entry 1 where entry 2 should be (an
    // entry hidden from the scan).
    let l = log.clone();
    let lying =
        move |req: Request<Vec<u8>>, _: Duration| -> Result<Response<Vec<u8>>, std::io::Error> {
            if req.uri().path().ends_with("/retrieve") {
                let body = String::from_utf8(req.body().clone()).unwrap();
                let swapped = body.replace("2,", "1,").replace(",2]", ",1]");
                let mut r = l.handle(
                    &Request::post(req.uri().clone())
                        .body(swapped.into_bytes())
                        .unwrap(),
                );
                // Renumber the duplicate so the answer looks like the request.
                let text = String::from_utf8(r.body().clone()).unwrap();
                let v: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
                let mut out = Vec::new();
                let mut seen1 = false;
                for mut item in v {
                    let (k, e) = item.as_object_mut().unwrap().iter_mut().next().unwrap();
                    let k = k.clone();
                    if e["logIndex"] == 1 {
                        if seen1 {
                            e["logIndex"] = 2.into();
                            e["verification"]["inclusionProof"]["logIndex"] = 2.into();
                        }
                        seen1 = true;
                    }
                    out.push(serde_json::json!({ k: e.clone() }));
                }
                *r.body_mut() = serde_json::to_vec(&out).unwrap();
                return Ok(r);
            }
            Ok(l.handle(&req))
        };
    let client = RekorClient::new("http://attestlog.local", lying, vec![log.trusted_log()])
        .with_retry(RetryPolicy::default().with_max_attempts(1));
    let auditor = Auditor::builder(keys(&[&tenant]), store(&db))
        .log(client)
        .trust_current_tree(true)
        .build();
    let r = &auditor.completeness().unwrap()[0];
    assert!(!r.passed());
    let why = r.error.as_deref().unwrap();
    assert!(why.contains("do not make the tree"), "{why}");
}

#[test]
fn an_identity_policy_or_no_log_fails_instead_of_passing() {
    let dir = TempDir::created("complete-none");
    let db = dir.file("store.db").display().to_string();
    let tenant = SigningKey::ed25519_from_seed(&[2; 32]);
    let auditor = Auditor::builder(keys(&[&tenant]), store(&db)).build();
    let r = &auditor.completeness().unwrap()[0];
    assert!(!r.passed());
    assert!(r.error.as_deref().unwrap().contains("no transparency log"));
}

struct V2Env {
    _tmp: TempDir,
    server: Option<Server>,
    url: String,
    root: TrustedRoot,
}

impl Drop for V2Env {
    fn drop(&mut self) {
        if let Some(s) = self.server.take() {
            s.shutdown();
        }
    }
}

impl V2Env {
    fn new(tmp: TempDir) -> Self {
        let log = TileLog::open(
            &tmp.file("log"),
            SigningKey::ed25519_from_seed(&[21; 32]),
            TileLogOptions::default().with_name("v2.complete.test"),
        )
        .unwrap();
        let tsa = TsaService::open(&tmp.file("tsa"), "tsa.complete.test").unwrap();
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
        let root = serde_json::to_vec(
            &log.trusted_root(&url, Some((&tsa, &format!("{url}{TIMESTAMP_PATH}")))),
        )
        .unwrap();
        Self {
            root: TrustedRoot::from_json(&root).unwrap(),
            _tmp: tmp,
            server: Some(server),
            url,
        }
    }

    fn v2(&self) -> RekorV2<UreqTransport> {
        let root = self.root.clone();
        RekorV2::new(
            RekorV2Client::new(&self.url, UreqTransport::new(), root.clone().into_logs())
                .with_retry(RetryPolicy::default().with_max_attempts(1)),
        )
        .with_tsa(TsaClient::new(
            format!("{}{TIMESTAMP_PATH}", self.url),
            UreqTransport::new(),
            root.into_authorities().timestamp_authorities,
        ))
    }
}

#[test]
fn a_v2_tile_log_over_http_deleted_row_reported() {
    let tmp = TempDir::created("complete-v2");
    let db = tmp.file("store.db").display().to_string();
    let env = V2Env::new(tmp);
    let tenant = SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
    let attestor = Attestor::builder(again(&tenant), store(&db))
        .log(env.v2())
        .build();
    // More than one entry bundle (256), so full and partial bundles are read.
    for n in 0..300 {
        attestor.attest("acme", &subject(n), statement(n)).unwrap();
    }
    let baseline = Arc::new(MemoryBaseline::new());
    let auditor = || {
        Auditor::builder(keys(&[&tenant]), store(&db))
            .log(env.v2())
            .authorities(env.root.clone().into_authorities())
            .baseline(Arc::clone(&baseline))
            .trust_current_tree(true)
            .build()
    };
    let r = &auditor().completeness().unwrap()[0];
    assert!(r.passed(), "{r:?}");
    assert_eq!((r.to, r.signed), (300, 300));
    sql(&db, "DELETE FROM attestations WHERE subject = 'app-257';");
    attestor
        .attest("acme", &subject(300), statement(300))
        .unwrap();
    let r = &auditor().completeness().unwrap()[0];
    assert_eq!((r.from, r.to, r.signed), (300, 301, 301));
    let missing: Vec<u64> = r.missing.iter().map(|m| m.index).collect();
    assert_eq!(missing, vec![257], "{r:?}");
}

#[test]
fn a_sharded_v1_log_is_said_to_be_unsupported_not_passed() {
    let (_dir, db, log, tenant) = v1_world("complete-sharded");
    Attestor::builder(again(&tenant), store(&db))
        .log(v1_client(&log))
        .build()
        .attest("acme", &subject(0), statement(0))
        .unwrap();
    // Its entries answered as a sharded log's: the global index is not the
    // index in the checkpoint's tree.
    let l = log.clone();
    let sharded =
        move |req: Request<Vec<u8>>, _: Duration| -> Result<Response<Vec<u8>>, std::io::Error> {
            let mut r = l.handle(&req);
            if req.uri().path().ends_with("/retrieve") {
                let mut v: Vec<serde_json::Value> = serde_json::from_slice(r.body()).unwrap();
                for item in &mut v {
                    for (_, e) in item.as_object_mut().unwrap() {
                        e["verification"]["inclusionProof"]["logIndex"] = 7.into();
                    }
                }
                *r.body_mut() = serde_json::to_vec(&v).unwrap();
            }
            Ok(r)
        };
    let client = RekorClient::new("http://attestlog.local", sharded, vec![log.trusted_log()])
        .with_retry(RetryPolicy::default().with_max_attempts(1));
    let auditor = Auditor::builder(keys(&[&tenant]), store(&db))
        .log(client)
        .trust_current_tree(true)
        .build();
    let r = &auditor.completeness().unwrap()[0];
    assert!(!r.passed());
    assert!(r.error.as_deref().unwrap().contains("sharded"), "{r:?}");
}

/// A monitor's auditor (`new_finds_only`): each look reports the watched
/// keys' entries found since the previous one, and the scan state it keeps
/// holds only that look's finds — it does not grow with every entry ever
/// found. A completeness audit on the same log keeps reporting all of them.
#[test]
fn a_monitor_keeps_only_each_looks_finds() {
    use attestlog::AuditBaseline;
    let (_dir, db, log, tenant) = v1_world("complete-monitor");
    let attestor = Attestor::builder(again(&tenant), store(&db))
        .log(v1_client(&log))
        .build();
    let monitor_baseline = Arc::new(MemoryBaseline::new());
    let audit_baseline = Arc::new(MemoryBaseline::new());
    // The monitor's store is empty: every find is reported.
    let look = |new_only: bool, baseline: &Arc<MemoryBaseline>| {
        Auditor::builder(keys(&[&tenant]), Box::new(attestlog::MemoryStore::new()))
            .log(v1_client(&log))
            .baseline(Arc::clone(baseline))
            .trust_current_tree(true)
            .new_finds_only(new_only)
            .build()
            .completeness()
            .unwrap()
            .remove(0)
    };
    let kept = |baseline: &MemoryBaseline, origin: &str| {
        baseline
            .load(&format!("completeness V1 {origin}"))
            .unwrap()
            .unwrap()
    };
    for n in 0..3 {
        attestor.attest("acme", &subject(n), statement(n)).unwrap();
    }
    let first = look(true, &monitor_baseline);
    let indexes = |r: &attestlog::CompletenessReport| -> Vec<u64> {
        r.missing.iter().map(|m| m.index).collect()
    };
    assert_eq!((first.from, first.to, first.signed), (0, 3, 3));
    assert_eq!(indexes(&first), vec![0, 1, 2]);
    let state_after_three = kept(&monitor_baseline, &first.origin).len();
    assert_eq!(indexes(&look(false, &audit_baseline)), vec![0, 1, 2]);

    for n in 3..5 {
        attestor.attest("acme", &subject(n), statement(n)).unwrap();
    }
    let second = look(true, &monitor_baseline);
    assert_eq!((second.from, second.to, second.signed), (3, 5, 2));
    assert_eq!(indexes(&second), vec![3, 4], "{second:?}");
    let state = kept(&monitor_baseline, &second.origin);
    assert!(
        state.len() < state_after_three,
        "two finds kept, not five: {state}"
    );
    // The audit's scan, resumed the same way, still reports every entry.
    assert_eq!(indexes(&look(false, &audit_baseline)), vec![0, 1, 2, 3, 4]);

    // A look that finds nothing keeps nothing.
    let third = look(true, &monitor_baseline);
    assert_eq!((third.from, third.to, third.signed), (5, 5, 0));
    assert!(third.missing.is_empty());
}
