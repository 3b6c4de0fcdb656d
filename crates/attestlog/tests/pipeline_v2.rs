//! The two flows over a Rekor v2 log: the embedded tile log and its RFC 3161
//! timestamp authority over loopback, a SQLite store. Everything passes when
//! nothing was touched; each kind of tampering fails the check that names
//! it; a lying tile server never yields a pass.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use attestlog::client::tsa::TsaClient;
use attestlog::client::v2::RekorV2Client;
use attestlog::client::{RetryPolicy, UreqTransport};
use attestlog::dsse::{Algorithm, KeySet, SigningKey, Statement, Subject, Timestamp, TrustedKey};
use attestlog::rekor::pki::Authorities;
use attestlog::rekor::{Outcome, TrustedRoot};
use attestlog::store::{AttestationRow, AttestationStore, LogApiVersion, SqliteStore};
use attestlog::tlog::{
    Server, TIMESTAMP_PATH, TileLog, TileLogOptions, TsaService, V2Services, serve_handler,
};
use attestlog::{
    AttestError, Attestor, AuditCheck, AuditReport, Auditor, Clock, MemoryBaseline, RekorV2,
    TrustedLog,
};
use attestlog_testkit::TempDir;

/// A v2 log and a TSA on one loopback port, and what a client is given.
struct Env {
    tmp: TempDir,
    log: TileLog,
    server: Option<Server>,
    url: String,
    logs: Vec<TrustedLog>,
    authorities: Authorities,
}

impl Env {
    fn new(tag: &str) -> Self {
        let tmp = TempDir::created(&format!("pipeline-v2-{tag}"));
        let log = TileLog::open(
            &tmp.file("log"),
            SigningKey::ed25519_from_seed(&[21; 32]),
            TileLogOptions::default().with_name("v2.pipeline.test"),
        )
        .unwrap();
        let tsa = TsaService::open(&tmp.file("tsa"), "tsa.pipeline.test").unwrap();
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
            logs: TrustedRoot::from_json(&root)
                .map(TrustedRoot::into_logs)
                .unwrap(),
            authorities: TrustedRoot::from_json(&root)
                .map(TrustedRoot::into_authorities)
                .unwrap(),
            tmp,
            log,
            server: Some(server),
            url,
        }
    }

    fn db(&self) -> String {
        self.tmp.file("store.db").display().to_string()
    }

    fn store(&self) -> Box<dyn AttestationStore> {
        Box::new(SqliteStore::open(self.db()).unwrap())
    }

    fn v2(&self) -> RekorV2<UreqTransport> {
        RekorV2::new(self.client()).with_tsa(TsaClient::new(
            format!("{}{TIMESTAMP_PATH}", self.url),
            UreqTransport::new(),
            self.authorities.timestamp_authorities.clone(),
        ))
    }

    fn client(&self) -> RekorV2Client<UreqTransport> {
        RekorV2Client::new(&self.url, UreqTransport::new(), self.logs.clone())
            .with_retry(RetryPolicy::default().with_max_attempts(1))
    }

    fn attestor(&self, key: SigningKey) -> Attestor {
        Attestor::builder(key, self.store()).log(self.v2()).build()
    }

    fn auditor(&self, keys: KeySet, baseline: &Arc<MemoryBaseline>) -> Auditor {
        Auditor::builder(keys, self.store())
            .log(self.v2())
            .authorities(self.authorities.clone())
            .baseline(Arc::clone(baseline))
            .trust_current_tree(true)
            .build()
    }
}

impl Env {
    /// The one attestation of `app-N`, audited with `key` trusted.
    fn audit(&self, key: &SigningKey, baseline: &Arc<MemoryBaseline>, n: u64) -> AuditReport {
        only(
            self.auditor(keys(key), baseline)
                .audit("acme", &subject(n))
                .unwrap(),
        )
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Some(s) = self.server.take() {
            s.shutdown();
        }
    }
}

fn p256() -> SigningKey {
    SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap()
}

/// The same key again (`SigningKey` is not `Clone`).
fn again(k: &SigningKey) -> SigningKey {
    SigningKey::from_pkcs8_pem(&k.to_pkcs8_pem().unwrap()).unwrap()
}

fn keys(k: &SigningKey) -> KeySet {
    KeySet::new(1, vec![TrustedKey::always(k.public_key().clone())])
}

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

fn only(reports: Vec<AuditReport>) -> AuditReport {
    assert_eq!(reports.len(), 1, "{reports:?}");
    reports.into_iter().next().unwrap()
}

/// Exactly `check` failed; every other line passed or was not checked
/// because of it.
fn only_failed(r: &AuditReport, check: AuditCheck) {
    assert!(!r.passed(), "{r}");
    let failed: Vec<AuditCheck> = r
        .checks
        .iter()
        .filter(|c| c.outcome == Outcome::Failed)
        .map(|c| c.check)
        .collect();
    assert_eq!(failed, vec![check], "{r}");
}

fn sql(env: &Env, q: &str) {
    rusqlite::Connection::open(env.db())
        .unwrap()
        .execute_batch(q)
        .unwrap();
}

const V2_LINES: &[&str] = &[
    "attestation-id",
    "envelope-signature",
    "binding",
    "entry-fetched",
    "stored-entry",
    "body-match",
    "inclusion",
    "consistency",
    "timestamp",
    "key-valid-at-timestamp",
    "not-backdated",
];

#[test]
fn attest_to_v2_then_audit_from_tiles() {
    let env = Env::new("flow");
    let key = p256();
    let attestor = env.attestor(again(&key));
    let mut published = Vec::new();
    for n in 0..3 {
        let done = attestor.attest("acme", &subject(n), statement(n)).unwrap();
        assert!(done.publish_error.is_none(), "{:?}", done.publish_error);
        let e = done.entry.unwrap();
        assert_eq!(e.api, LogApiVersion::V2);
        assert_eq!(e.entry_id.len(), 64);
        assert_eq!((e.global_index, e.shard_index), (n, n));
        assert!(!e.timestamp.is_empty() && e.set.is_empty());
        published.push(e);
    }
    // What the store kept is what the attestor returned.
    let row = env
        .store()
        .by_subject("acme", &subject(1))
        .unwrap()
        .remove(0);
    assert_eq!(row.entry.as_ref(), Some(&published[1]));

    let baseline = Arc::new(MemoryBaseline::new());
    let auditor = env.auditor(keys(&key), &baseline);
    for n in 0..3 {
        let r = only(auditor.audit("acme", &subject(n)).unwrap());
        assert!(r.passed(), "{r}");
        let lines: Vec<String> = r.checks.iter().map(|c| c.check.to_string()).collect();
        assert_eq!(lines, V2_LINES, "{r}");
        let logged = r.logged.as_ref().unwrap();
        assert_eq!(logged.api_version, 2);
        assert_eq!(logged.log_index, n);
        assert_eq!(logged.entry_id, published[n as usize].entry_id);
        assert_eq!(
            logged.integrated_time,
            Some(published[n as usize].integrated_time)
        );
    }
    // The log grows; the same auditor proves it consistent from its
    // baseline, from tiles.
    for i in 0..300u32 {
        env.log.append(format!("other {i}").into_bytes()).unwrap();
    }
    let r = only(auditor.audit("acme", &subject(0)).unwrap());
    assert!(r.passed(), "{r}");
    assert!(
        r.checks
            .iter()
            .all(|c| c.check != AuditCheck::Consistency || c.detail.is_empty()),
        "proven, not trusted on first use: {r}"
    );

    // The exported bundle carries the timestamp and verifies offline.
    let json = attestlog::export_bundle(&row).unwrap();
    let bundle = attestlog::Bundle::from_json(json.as_bytes()).unwrap();
    let offline = auditor.audit_bundle(&bundle, &env.logs);
    assert!(offline.passed(), "{offline}");
}

#[test]
fn what_a_v2_log_cannot_take_is_refused_before_anything_is_stored() {
    let env = Env::new("refused");
    let ed = Attestor::builder(SigningKey::ed25519_from_seed(&[3; 32]), env.store())
        .log(env.v2())
        .build();
    assert!(matches!(
        ed.attest("acme", "app-0", statement(0)),
        Err(AttestError::V2Request(_))
    ));
    let no_tsa = Attestor::builder(p256(), env.store())
        .log(RekorV2::new(RekorV2Client::new(
            &env.url,
            UreqTransport::new(),
            env.logs.clone(),
        )))
        .build();
    assert!(matches!(
        no_tsa.attest("acme", "app-0", statement(0)),
        Err(AttestError::NoTimestampAuthority)
    ));
    assert_eq!(env.store().count("acme").unwrap(), 0);
}

#[test]
fn tampering_with_a_v2_row_fails_the_check_that_names_it() {
    let env = Env::new("tamper");
    let key = p256();
    let attestor = env.attestor(again(&key));
    for n in 0..2 {
        attestor.attest("acme", &subject(n), statement(n)).unwrap();
    }
    let baseline = Arc::new(MemoryBaseline::new());
    let audit = |n: u64| env.audit(&key, &baseline, n);
    assert!(audit(0).passed());
    let row0 = env
        .store()
        .by_subject("acme", &subject(0))
        .unwrap()
        .remove(0);
    let entry0 = row0.entry.clone().unwrap();

    // The stored time is not the timestamp's.
    sql(
        &env,
        "UPDATE attestations SET integrated_time = integrated_time - 1 WHERE subject = 'app-0'",
    );
    only_failed(&audit(0), AuditCheck::StoredEntry);
    sql(
        &env,
        "UPDATE attestations SET integrated_time = integrated_time + 1 WHERE subject = 'app-0'",
    );
    // The stored log id is another log's.
    sql(
        &env,
        &format!(
            "UPDATE attestations SET log_id = '{}' WHERE subject = 'app-0'",
            "ab".repeat(32)
        ),
    );
    only_failed(&audit(0), AuditCheck::StoredEntry);
    sql(
        &env,
        &format!(
            "UPDATE attestations SET log_id = '{}' WHERE subject = 'app-0'",
            entry0.log_id
        ),
    );
    // The stored index points at another entry (row 1's).
    sql(
        &env,
        "UPDATE attestations SET log_index = 1, shard_index = 1 WHERE subject = 'app-0'",
    );
    only_failed(&audit(0), AuditCheck::EntryFetched);
    // Past the end of the log.
    sql(
        &env,
        "UPDATE attestations SET log_index = 99, shard_index = 99 WHERE subject = 'app-0'",
    );
    only_failed(&audit(0), AuditCheck::EntryFetched);
    sql(
        &env,
        "UPDATE attestations SET log_index = 0, shard_index = 0 WHERE subject = 'app-0'",
    );
    assert!(audit(0).passed());

    // The row claims to be a Rekor v1 entry: it names no v1 entry.
    sql(
        &env,
        "UPDATE attestations SET log_api = 1 WHERE subject = 'app-0'",
    );
    let r = env.audit(&key, &baseline, 0);
    assert!(!r.passed(), "{r}");
    assert_eq!(
        r.outcome(AuditCheck::EntryFetched)
            .map(|o| o != Outcome::Passed),
        Some(true),
        "{r}"
    );
    sql(
        &env,
        "UPDATE attestations SET log_api = 2 WHERE subject = 'app-0'",
    );
    assert!(env.audit(&key, &baseline, 0).passed());

    // The timestamp: deleted, another signature's (row 1's), a rogue TSA's.
    let row1 = env
        .store()
        .by_subject("acme", &subject(1))
        .unwrap()
        .remove(0);
    let other_stamp = row1.entry.unwrap().timestamp;
    let rogue = attestlog::tlog::TimestampAuthority::generate("rogue", Timestamp::now()).unwrap();
    let env0 = attestlog::Envelope::from_json(&row0.attestation.envelope).unwrap();
    let rogue_stamp = rogue
        .respond(
            &attestlog::rekor::tsp::timestamp_request(&env0.signatures()[0].sig, 7),
            Timestamp::now(),
            1,
        )
        .unwrap();
    let with_stamp = |t: &[u8]| {
        let mut row: AttestationRow = row0.clone();
        row.entry.as_mut().unwrap().timestamp = t.to_vec();
        env.auditor(keys(&key), &baseline).audit_row(&row).unwrap()
    };
    for bad in [&[][..], &other_stamp[..], &rogue_stamp[..]] {
        only_failed(&with_stamp(bad), AuditCheck::Timestamp);
    }
    // Without the trusted root's timestamp authorities nothing times it.
    let blind = Auditor::builder(keys(&key), env.store())
        .log(env.v2())
        .baseline(Arc::clone(&baseline))
        .build();
    only_failed(
        &only(blind.audit("acme", &subject(0)).unwrap()),
        AuditCheck::Timestamp,
    );

    // The signer's key was not valid at the timestamp's time.
    let retired = KeySet::new(
        1,
        vec![
            TrustedKey::always(key.public_key().clone())
                .until(Timestamp::from_unix(entry0.integrated_time - 10)),
        ],
    );
    only_failed(
        &only(
            env.auditor(retired, &baseline)
                .audit("acme", &subject(0))
                .unwrap(),
        ),
        AuditCheck::KeyValidAtTimestamp,
    );
    // Another key signed it.
    let r = only(
        env.auditor(keys(&p256()), &baseline)
            .audit("acme", &subject(0))
            .unwrap(),
    );
    assert_eq!(
        r.outcome(AuditCheck::EnvelopeSignature),
        Some(Outcome::Failed),
        "{r}"
    );
    assert!(!r.passed());
    // The envelope was replaced by another signed one (row 1's): the id no
    // longer matches, and the log's leaf is not this envelope's.
    let mut swapped = row0.clone();
    swapped.attestation.envelope = row1.attestation.envelope.clone();
    let r = env
        .auditor(keys(&key), &baseline)
        .audit_row(&swapped)
        .unwrap();
    assert_eq!(
        r.outcome(AuditCheck::AttestationId),
        Some(Outcome::Failed),
        "{r}"
    );
    assert_eq!(
        r.outcome(AuditCheck::BodyMatch),
        Some(Outcome::Failed),
        "{r}"
    );
}

/// A clock that says what it was told.
#[derive(Debug)]
struct At(i64);
impl Clock for At {
    fn now(&self) -> Timestamp {
        Timestamp::from_unix(self.0)
    }
}

#[test]
fn a_back_dated_claim_is_not_confirmed_by_the_timestamp() {
    let env = Env::new("backdated");
    let key = p256();
    let now = Timestamp::now().unix();
    let early = Attestor::builder(again(&key), env.store())
        .log(env.v2())
        .clock(At(now - 3600))
        .build();
    early.attest("acme", &subject(0), statement(0)).unwrap();
    let late = Attestor::builder(again(&key), env.store())
        .log(env.v2())
        .clock(At(now + 3600))
        .build();
    late.attest("acme", &subject(1), statement(1)).unwrap();
    let baseline = Arc::new(MemoryBaseline::new());
    for n in 0..2 {
        let r = env.audit(&key, &baseline, n);
        only_failed(&r, AuditCheck::NotBackdated);
    }
}

#[test]
fn a_forked_v2_log_fails_consistency_and_keeps_the_baseline() {
    let env = Env::new("fork");
    let key = p256();
    env.attestor(again(&key))
        .attest("acme", &subject(0), statement(0))
        .unwrap();
    let baseline = Arc::new(MemoryBaseline::new());
    assert!(env.audit(&key, &baseline, 0).passed());

    // A second log with the same key and name, whose history differs after
    // entry 0 — the same tree head of size 1 would not be a fork, so both
    // grow differently.
    env.log.append(b"honest".to_vec()).unwrap();
    let fork_dir = env.tmp.file("fork");
    let fork_log = TileLog::open(
        &fork_dir,
        SigningKey::ed25519_from_seed(&[21; 32]),
        TileLogOptions::default().with_name("v2.pipeline.test"),
    )
    .unwrap();
    // The fork has our entry 0 too (same body), then another.
    let client = env.client();
    let body = client.entry(0, &client.checkpoint().unwrap()).unwrap();
    fork_log.append(body).unwrap();
    fork_log.append(b"forked".to_vec()).unwrap();
    let fork_server = serve_handler(
        V2Services {
            log: fork_log.clone(),
            tsa: None,
        },
        "127.0.0.1:0",
        4,
    )
    .unwrap();
    let fork_url = format!("http://{}", fork_server.local_addr());
    // The honest log's baseline now has size 2 (audited below); then the
    // auditor is served the fork's tiles.
    assert!(env.audit(&key, &baseline, 0).passed());
    let forked = Auditor::builder(keys(&key), env.store())
        .log(RekorV2::new(RekorV2Client::new(
            &fork_url,
            UreqTransport::new(),
            env.logs.clone(),
        )))
        .authorities(env.authorities.clone())
        .baseline(Arc::clone(&baseline))
        .build();
    only_failed(
        &only(forked.audit("acme", &subject(0)).unwrap()),
        AuditCheck::Consistency,
    );
    // The baseline was not replaced by the fork's checkpoint: the honest
    // log still passes.
    assert!(env.audit(&key, &baseline, 0).passed());
    fork_server.shutdown();
}

/// A transport that may lie.
type Lying = Box<
    dyn Fn(
            http::Request<Vec<u8>>,
            Duration,
        ) -> Result<http::Response<Vec<u8>>, attestlog::client::UreqError>
        + Send
        + Sync,
>;

#[test]
fn a_lying_tile_server_never_yields_a_pass() {
    let env = Env::new("lying");
    let key = p256();
    let attestor = env.attestor(again(&key));
    for n in 0..3 {
        attestor.attest("acme", &subject(n), statement(n)).unwrap();
    }
    for i in 0..300u32 {
        env.log.append(format!("other {i}").into_bytes()).unwrap();
    }
    let baseline = Arc::new(MemoryBaseline::new());
    assert!(env.audit(&key, &baseline, 1).passed());
    // Which tiles (and entry bundles) an audit reads.
    let paths = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let recorder = {
        let paths = Arc::clone(&paths);
        let ureq = UreqTransport::new();
        move |req: http::Request<Vec<u8>>, timeout: Duration| {
            let path = req.uri().path().to_owned();
            if path.starts_with("/tile/") {
                paths.lock().unwrap().push(path);
            }
            attestlog::Transport::send(&ureq, req, timeout)
        }
    };
    let auditor_over = |t: Lying| {
        Auditor::builder(keys(&key), env.store())
            .log(RekorV2::new(
                RekorV2Client::new(&env.url, t, env.logs.clone())
                    .with_retry(RetryPolicy::default().with_max_attempts(1)),
            ))
            .authorities(env.authorities.clone())
            .baseline(Arc::clone(&baseline))
            .build()
    };
    assert!(
        only(
            auditor_over(Box::new(recorder))
                .audit("acme", &subject(1))
                .unwrap()
        )
        .passed()
    );
    let read = paths.lock().unwrap().clone();
    assert!(read.len() >= 3, "{read:?}");
    // Each of them, damaged every time it is served (one byte flipped, or
    // cut short): the audit fails.
    for victim in &read {
        for cut in [false, true] {
            let path = victim.clone();
            let ureq = UreqTransport::new();
            let lying = move |req: http::Request<Vec<u8>>, timeout: Duration| {
                let hit = req.uri().path() == path;
                let mut resp = attestlog::Transport::send(&ureq, req, timeout)?;
                if hit {
                    let b = resp.body_mut();
                    if cut {
                        b.truncate(b.len() / 2);
                    } else if let Some(x) = b.get_mut(7) {
                        *x ^= 1;
                    }
                }
                Ok(resp)
            };
            let r = only(
                auditor_over(Box::new(lying))
                    .audit("acme", &subject(1))
                    .unwrap(),
            );
            assert!(!r.passed(), "{victim} damaged (cut: {cut}), yet: {r}");
        }
    }
}

#[test]
fn a_v2_log_down_leaves_rows_pending_then_publish_pending_publishes_them() {
    let env = Env::new("pending");
    let key = p256();
    // Nothing listens there (the port of a server that was shut down).
    let dead = {
        let s = serve_handler(
            V2Services {
                log: env.log.clone(),
                tsa: None,
            },
            "127.0.0.1:0",
            1,
        )
        .unwrap();
        let url = format!("http://{}", s.local_addr());
        s.shutdown();
        url
    };
    let quick = || RetryPolicy::default().with_max_attempts(1);
    let down = Attestor::builder(again(&key), env.store())
        .log(
            RekorV2::new(
                RekorV2Client::new(&dead, UreqTransport::new(), env.logs.clone())
                    .with_retry(quick()),
            )
            .with_tsa(
                TsaClient::new(
                    format!("{dead}{TIMESTAMP_PATH}"),
                    UreqTransport::new(),
                    env.authorities.timestamp_authorities.clone(),
                )
                .with_retry(quick()),
            ),
        )
        .build();
    let done = down.attest("acme", &subject(0), statement(0)).unwrap();
    assert!(done.entry.is_none() && done.publish_error.is_some());
    assert_eq!(env.store().pending(None, 10).unwrap().len(), 1);
    // Still down: still pending, the failure listed.
    let summary = down.publish_pending(None).unwrap();
    assert_eq!((summary.published, summary.failed.len()), (0, 1));
    // Back up.
    let summary = env.attestor(again(&key)).publish_pending(None).unwrap();
    assert_eq!((summary.published, summary.failed.len()), (1, 0));
    assert!(env.store().pending(None, 10).unwrap().is_empty());
    let baseline = Arc::new(MemoryBaseline::new());
    let r = env.audit(&key, &baseline, 0);
    assert!(r.passed(), "{r}");
}
