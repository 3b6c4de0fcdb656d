//! The two flows end to end on the embedded log and SQLite: everything
//! passes when nothing was touched, and each kind of tampering is caught by
//! the check that names it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use attestlog::client::{RekorClient, RetryPolicy, UreqTransport};
use attestlog::dsse::{KeySet, KeyStatus, SigningKey, Statement, Subject, Timestamp, TrustedKey};
use attestlog::rekor::Outcome;
use attestlog::tlog::{LocalLog, LogOptions};
use attestlog::{
    Attestor, AuditCheck, AuditReport, Auditor, FileBaseline, LogClient, LogTransport,
};
use attestlog_testkit::TempDir;

struct Env {
    tmp: TempDir,
}

impl Env {
    fn new(tag: &str) -> Self {
        Self {
            tmp: TempDir::created(&format!("pipeline-{tag}")),
        }
    }
    fn db(&self) -> String {
        self.tmp.file("store.db").display().to_string()
    }
    fn log_dir(&self) -> PathBuf {
        self.tmp.file("log")
    }
}

fn log_key() -> SigningKey {
    SigningKey::ed25519_from_seed(&[77; 32])
}

fn open_log(dir: &Path) -> LocalLog {
    LocalLog::open(dir, log_key(), LogOptions::default()).unwrap()
}

fn client(log: &LocalLog) -> LogClient {
    RekorClient::new(
        "http://attestlog.local",
        LogTransport::Local(log.clone()),
        vec![log.trusted_log()],
    )
}

fn signer(seed: u8) -> SigningKey {
    SigningKey::ed25519_from_seed(&[seed; 32])
}

fn keys(ks: &[&SigningKey]) -> KeySet {
    KeySet::new(
        1,
        ks.iter()
            .map(|k| TrustedKey::always(k.public_key().clone()))
            .collect(),
    )
}

fn statement(n: u64) -> Statement {
    Statement::new(
        Subject {
            name: format!("git+https://example.com/repo-{n}"),
            digest: [("gitCommit".into(), format!("{n:040x}"))].into(),
            annotations: Default::default(),
        },
        "https://slsa.dev/provenance/v1",
        serde_json::json!({ "buildDefinition": { "n": n } }),
    )
}

fn subject(n: u64) -> String {
    format!("repo-{n}@{n:040x}")
}

fn attest_n(
    env: &Env,
    log: &LocalLog,
    key: &SigningKey,
    tenant: &str,
    n: u64,
) -> Vec<attestlog::Attested> {
    let a = Attestor::builder(
        key.clone_for_test(),
        attestlog::store::open(&env.db()).unwrap(),
    )
    .optional_log(Some(client(log)))
    .build();
    (0..n)
        .map(|i| {
            let done = a.attest(tenant, &subject(i), statement(i)).unwrap();
            assert!(done.entry.is_some() && done.publish_error.is_none());
            done
        })
        .collect()
}

trait CloneForTest {
    fn clone_for_test(&self) -> SigningKey;
}

impl CloneForTest for SigningKey {
    fn clone_for_test(&self) -> SigningKey {
        SigningKey::from_pkcs8_pem(&self.to_pkcs8_pem().unwrap()).unwrap()
    }
}

/// An auditor whose baseline lives in the environment's own file (shared by
/// every auditor of the test, as by successive runs of one auditor); the
/// first audit starts it.
fn auditor(env: &Env, log: &LocalLog, keys: KeySet) -> Auditor {
    Auditor::builder(keys, attestlog::store::open(&env.db()).unwrap())
        .log(client(log))
        .backdate_window(300)
        .baseline(FileBaseline::new(env.tmp.file("audit-baseline.json")))
        .trust_current_tree(true)
        .build()
}

fn only(reports: Vec<AuditReport>) -> AuditReport {
    assert_eq!(reports.len(), 1, "{reports:?}");
    reports.into_iter().next().unwrap()
}

fn failed(r: &AuditReport, c: AuditCheck) {
    assert_eq!(
        r.outcome(c),
        Some(Outcome::Failed),
        "{c} should fail: {r:#?}"
    );
    assert!(!r.passed());
}

fn sql(env: &Env, q: &str) {
    let c = rusqlite::Connection::open(env.db()).unwrap();
    c.execute_batch(q).unwrap();
}

#[test]
fn attest_publish_audit_all_and_restart() {
    let env = Env::new("all");
    let key = signer(1);
    {
        let log = open_log(&env.log_dir());
        attest_n(&env, &log, &key, "acme", 6);
        let a = auditor(&env, &log, keys(&[&key]));
        for i in 0..6 {
            let r = only(a.audit("acme", &subject(i)).unwrap());
            assert!(r.passed(), "{r:#?}");
            assert_eq!(r.checks.len(), 11);
        }
        let all = a.audit_tenant("acme", |_| {}).unwrap();
        assert_eq!(all.len(), 6);
        assert!(all.iter().all(AuditReport::passed));
        // What the report shows comes from the signature and the log.
        let store = attestlog::store::open(&env.db()).unwrap();
        for r in &all {
            let row = store.by_subject("acme", &r.subject).unwrap().remove(0);
            let stored = row.entry.as_ref().unwrap();
            let signed = r.signed.as_ref().unwrap();
            assert_eq!(signed.signer_key_id, key.public_key().key_id());
            assert_eq!(
                signed.predicate_type.as_deref(),
                Some(row.attestation.predicate_type.as_str())
            );
            assert_eq!(signed.claimed_time, Some(row.attestation.claimed_time));
            let logged = r.logged.as_ref().unwrap();
            assert_eq!(logged.entry_id, stored.entry_id);
            assert_eq!(logged.uuid.len(), 64);
            assert!(stored.entry_id.ends_with(&logged.uuid));
            assert_eq!(logged.log_index, stored.global_index);
            assert_eq!(logged.shard_index, stored.shard_index);
            assert_eq!(logged.integrated_time, Some(stored.integrated_time));
            assert_eq!(logged.log_id, stored.log_id);
        }
    }
    // Restart everything: same results.
    let log = open_log(&env.log_dir());
    let a = auditor(&env, &log, keys(&[&key]));
    for i in 0..6 {
        assert!(only(a.audit("acme", &subject(i)).unwrap()).passed());
    }
    // Another tenant's name finds nothing.
    assert!(a.audit("other", &subject(0)).unwrap().is_empty());
}

#[test]
fn tampering_is_caught_by_the_check_that_names_it() {
    let env = Env::new("tamper");
    let key = signer(2);
    let log = open_log(&env.log_dir());
    attest_n(&env, &log, &key, "acme", 5);
    let other = Attestor::builder(
        key.clone_for_test(),
        attestlog::store::open(&env.db()).unwrap(),
    )
    .optional_log(Some(client(&log)))
    .build();
    other.attest("globex", "globex-app", statement(99)).unwrap();
    let a = auditor(&env, &log, keys(&[&key]));
    let row = |n: u64| format!("subject = '{}'", subject(n));

    // A flipped envelope byte (in the base64 payload).
    sql(
        &env,
        &format!(
            "UPDATE attestations SET envelope = CAST(replace(CAST(envelope AS TEXT), '\"payload\":\"ey', '\"payload\":\"ez') AS BLOB) WHERE {}",
            row(0)
        ),
    );
    let r = only(a.audit("acme", &subject(0)).unwrap());
    failed(&r, AuditCheck::EnvelopeSignature);
    assert!(r.signed.is_none(), "an unverified payload is not shown");

    // An entry id attached to the wrong row: row 1 gets row 2's entry.
    sql(&env, &format!("
        CREATE TEMP TABLE e AS SELECT rekor_uuid, log_id, log_index, shard_index, integrated_time, inclusion_proof, checkpoint, signed_entry_timestamp FROM attestations WHERE {r2};
        UPDATE attestations SET rekor_uuid = NULL WHERE {r2};
        UPDATE attestations SET (rekor_uuid, log_id, log_index, shard_index, integrated_time, inclusion_proof, checkpoint, signed_entry_timestamp) =
            (SELECT * FROM e) WHERE {r1};", r1 = row(1), r2 = row(2)));
    let r = only(a.audit("acme", &subject(1)).unwrap());
    failed(&r, AuditCheck::BodyMatch);
    assert_eq!(r.outcome(AuditCheck::EntryFetched), Some(Outcome::Passed));

    // Rows swapped between tenants.
    sql(
        &env,
        &format!(
            "UPDATE attestations SET tenant = CASE tenant WHEN 'acme' THEN 'globex' ELSE 'acme' END WHERE {} OR subject = 'globex-app'",
            row(3)
        ),
    );
    let r = only(a.audit("globex", &subject(3)).unwrap());
    failed(&r, AuditCheck::Binding);
    let r = only(a.audit("acme", "globex-app").unwrap());
    failed(&r, AuditCheck::Binding);

    // A stored claimed time moved earlier: it no longer is the signed one.
    sql(
        &env,
        &format!(
            "UPDATE attestations SET claimed_time = claimed_time - 3600 WHERE {}",
            row(4)
        ),
    );
    let r = only(a.audit("acme", &subject(4)).unwrap());
    failed(&r, AuditCheck::Binding);

    // A stored integrated time moved: the report shows the log's.
    let moved = Env::new("moved");
    attest_n(&moved, &log, &key, "acme", 1);
    let before = only(
        auditor(&moved, &log, keys(&[&key]))
            .audit("acme", &subject(0))
            .unwrap(),
    );
    sql(
        &moved,
        "UPDATE attestations SET integrated_time = integrated_time + 86400",
    );
    let r = only(
        auditor(&moved, &log, keys(&[&key]))
            .audit("acme", &subject(0))
            .unwrap(),
    );
    failed(&r, AuditCheck::StoredEntry);
    assert_eq!(
        r.logged.as_ref().unwrap().integrated_time,
        before.logged.as_ref().unwrap().integrated_time
    );

    // A key revoked in the key set.
    let fresh = Env::new("revoked");
    attest_n(&fresh, &log, &key, "acme", 1);
    let mut revoked = keys(&[&key]);
    revoked.keys[0].status = KeyStatus::Revoked;
    let r = only(
        auditor(&fresh, &log, revoked)
            .audit("acme", &subject(0))
            .unwrap(),
    );
    failed(&r, AuditCheck::KeyValidAtIntegratedTime);
    assert_eq!(
        r.outcome(AuditCheck::EnvelopeSignature),
        Some(Outcome::Passed)
    );

    // A row relabelled in the store (its free-form label, the `subject`
    // column): the label is bound into the signed statement, so it fails.
    let relabelled = Env::new("relabelled");
    attest_n(&relabelled, &log, &key, "acme", 1);
    sql(
        &relabelled,
        &format!(
            "UPDATE attestations SET subject = 'relabelled' WHERE subject = '{}'",
            subject(0)
        ),
    );
    let r = only(
        auditor(&relabelled, &log, keys(&[&key]))
            .audit("acme", "relabelled")
            .unwrap(),
    );
    failed(&r, AuditCheck::Binding);
}

#[test]
fn back_dated_claims_are_not_confirmed() {
    let env = Env::new("backdate");
    let key = signer(3);
    let log = open_log(&env.log_dir());
    let early = Timestamp::from_unix(Timestamp::now().unix() - 3600);
    let attestor = Attestor::builder(
        key.clone_for_test(),
        attestlog::store::open(&env.db()).unwrap(),
    )
    .log(client(&log))
    .clock(move || early)
    .build();
    attestor.attest("acme", "x", statement(1)).unwrap();
    let r = only(
        auditor(&env, &log, keys(&[&key]))
            .audit("acme", "x")
            .unwrap(),
    );
    failed(&r, AuditCheck::NotBackdated);
    assert_eq!(r.outcome(AuditCheck::Binding), Some(Outcome::Passed));
}

/// The attestation id covers the statement, not its signatures: another
/// key attesting the same statement in the same second finds the row
/// stored and is refused — nothing published over it, the row untouched —
/// while the same key attesting it again is the same attestation (found,
/// not stored twice, its entry the same).
#[test]
fn the_same_statement_signed_by_another_key_is_refused_not_published_over() {
    let env = Env::new("signed-differently");
    let log = open_log(&env.log_dir());
    let at = Timestamp::now();
    let attestor = |seed: u8| {
        Attestor::builder(signer(seed), attestlog::store::open(&env.db()).unwrap())
            .log(client(&log))
            .clock(move || at)
            .build()
    };
    let first = attestor(5).attest("acme", "x", statement(1)).unwrap();
    let again = attestor(5).attest("acme", "x", statement(1)).unwrap();
    assert_eq!(again.id, first.id);
    assert_eq!(
        again.entry.as_ref().unwrap().entry_id,
        first.entry.as_ref().unwrap().entry_id
    );
    let other = attestor(6).attest("acme", "x", statement(1));
    assert!(
        matches!(other, Err(attestlog::AttestError::SignedDifferently { id }) if id == first.id),
        "{other:?}"
    );
    let store = attestlog::store::open(&env.db()).unwrap();
    let rows = store.by_subject("acme", "x").unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        rows[0].attestation.envelope,
        first.envelope.to_json().into_bytes()
    );
    assert_eq!(log.size(), 1, "nothing else was published");
}

#[test]
fn a_log_that_rewrote_history_fails_consistency() {
    let env = Env::new("fork");
    let key = signer(4);
    let log = open_log(&env.log_dir());
    attest_n(&env, &log, &key, "acme", 3);
    drop(log);
    // Fork: a copy of the log's files, then different entries in each.
    let fork_dir = env.tmp.file("fork");
    attestlog_testkit::copy_files(&env.log_dir(), &fork_dir);
    let log = open_log(&env.log_dir());
    let fork = open_log(&fork_dir);
    let other = Attestor::builder(
        signer(9),
        attestlog::store::open(&env.tmp.file("other.db").display().to_string()).unwrap(),
    )
    .optional_log(Some(client(&fork)))
    .build();
    other.attest("x", "y", statement(100)).unwrap();
    let honest = Attestor::builder(
        signer(9),
        attestlog::store::open(&env.tmp.file("other2.db").display().to_string()).unwrap(),
    )
    .optional_log(Some(client(&log)))
    .build();
    honest.attest("x", "y", statement(200)).unwrap();

    let a = auditor(&env, &log, keys(&[&key]));
    assert!(only(a.audit("acme", &subject(0)).unwrap()).passed());
    // The same auditor (same baseline file), now served the fork.
    let a = auditor(&env, &fork, keys(&[&key]));
    let r = only(a.audit("acme", &subject(0)).unwrap());
    failed(&r, AuditCheck::Consistency);
    // The baseline was not replaced by the forked checkpoint.
    let a = auditor(&env, &log, keys(&[&key]));
    assert!(only(a.audit("acme", &subject(0)).unwrap()).passed());
}

#[test]
fn log_down_during_attest_leaves_rows_pending_then_publishes() {
    let env = Env::new("down");
    let key = signer(5);
    // Nothing listens on port 9 of loopback: the log is down.
    let down: LogClient = RekorClient::new(
        "http://127.0.0.1:9",
        LogTransport::Http(UreqTransport::new()),
        vec![open_log(&env.tmp.file("unused")).trusted_log()],
    )
    .with_retry(
        RetryPolicy::default()
            .with_max_attempts(2)
            .with_base_delay(std::time::Duration::from_millis(1)),
    );
    let a = Attestor::builder(
        key.clone_for_test(),
        attestlog::store::open(&env.db()).unwrap(),
    )
    .optional_log(Some(down))
    .build();
    for i in 0..3 {
        let done = a.attest("acme", &subject(i), statement(i)).unwrap();
        assert!(done.entry.is_none());
        assert!(done.publish_error.as_ref().unwrap().is_retryable());
    }
    assert_eq!(a.store().pending(None, 100).unwrap().len(), 3);
    let r = only(
        auditor(&env, &open_log(&env.tmp.file("l2")), keys(&[&key]))
            .audit("acme", &subject(0))
            .unwrap(),
    );
    assert_eq!(
        r.outcome(AuditCheck::EntryFetched),
        Some(Outcome::NotChecked)
    );
    assert!(!r.passed());
    drop(a);

    let log = open_log(&env.log_dir());
    let a = Attestor::builder(
        key.clone_for_test(),
        attestlog::store::open(&env.db()).unwrap(),
    )
    .optional_log(Some(client(&log)))
    .build();
    let s = a.publish_pending(None).unwrap();
    assert_eq!((s.published, s.failed.len()), (3, 0));
    assert!(a.store().pending(None, 100).unwrap().is_empty());
    let aud = auditor(&env, &log, keys(&[&key]));
    for i in 0..3 {
        assert!(only(aud.audit("acme", &subject(i)).unwrap()).passed());
    }
}

#[test]
fn retired_keys_verify_within_their_window() {
    let env = Env::new("rotate");
    let old = signer(6);
    let new = signer(7);
    let log = open_log(&env.log_dir());
    attest_n(&env, &log, &old, "acme", 1);
    let now = Timestamp::now();
    let mut set = keys(&[&old, &new]);
    set.keys[0].status = KeyStatus::Retired;
    set.keys[0].valid_until = Some(Timestamp::from_unix(now.unix() + 60));
    let r = only(
        auditor(&env, &log, set.clone())
            .audit("acme", &subject(0))
            .unwrap(),
    );
    assert!(r.passed(), "{r:#?}");
    // Retired before the entry was logged: not valid then.
    set.keys[0].valid_until = Some(Timestamp::from_unix(now.unix() - 3600));
    let r = only(auditor(&env, &log, set).audit("acme", &subject(0)).unwrap());
    failed(&r, AuditCheck::KeyValidAtIntegratedTime);
}

#[test]
fn bundles_export_and_audit_offline() {
    let env = Env::new("bundle");
    let key = signer(8);
    let log = open_log(&env.log_dir());
    let done = attest_n(&env, &log, &key, "acme", 1);
    let store = attestlog::store::open(&env.db()).unwrap();
    let row = store.get(&done[0].id).unwrap().unwrap();
    let json = attestlog::export_bundle(&row).unwrap();
    let bundle = attestlog::rekor::Bundle::from_json(json.as_bytes()).unwrap();
    let a = auditor(&env, &log, keys(&[&key]));
    let r = a.audit_bundle(&bundle, &[log.trusted_log()]);
    // The offline policy: no log to ask, no baseline; binding is read from
    // the signed statement, and the report passes.
    assert!(r.passed(), "{r:#?}");
    assert_eq!(r.outcome(AuditCheck::Consistency), None);
    assert_eq!(r.outcome(AuditCheck::Binding), Some(Outcome::Passed));
    assert_eq!(
        (r.tenant.as_str(), r.subject.as_str()),
        ("acme", subject(0).as_str())
    );
    assert_eq!(r.attestation_id, done[0].id.to_string());
    // A pending row has no bundle.
    let a2 = Attestor::builder(
        key.clone_for_test(),
        attestlog::store::open(&env.db()).unwrap(),
    )
    .optional_log(None::<LogClient>)
    .build();
    let p = a2.attest("acme", "pending", statement(50)).unwrap();
    let row = store.get(&p.id).unwrap().unwrap();
    assert!(attestlog::export_bundle(&row).is_err());
}

#[test]
fn key_set_documents_are_built_and_fetched() {
    let k1 = signer(10);
    let k2 = signer(11);
    let t = Timestamp::from_unix(1_800_000_000);
    let doc = attestlog::key_set_document(None, &[k1.public_key().clone()], t, None);
    assert_eq!((doc.version, doc.keys.len()), (1, 1));
    assert_eq!(doc.keys[0].valid_from, Some(t));
    let end = Timestamp::from_unix(1_900_000_000);
    let bounded = attestlog::key_set_document(None, &[k1.public_key().clone()], t, Some(end));
    assert_eq!(bounded.keys[0].valid_until, Some(end));
    // Adding a key keeps the published ones as they are and bumps the version.
    let mut published = doc.clone();
    published.keys[0].status = KeyStatus::Retired;
    let next = attestlog::key_set_document(
        Some(published.clone()),
        &[k1.public_key().clone(), k2.public_key().clone()],
        t,
        None,
    );
    assert_eq!((next.version, next.keys.len()), (2, 2));
    assert_eq!(next.keys[0].status, KeyStatus::Retired);
    assert_eq!(
        attestlog::key_set_document(Some(next.clone()), &[k2.public_key().clone()], t, None)
            .version,
        2
    );

    let body = next.to_json_pretty().into_bytes();
    let serve = move |status: u16, body: Vec<u8>| {
        move |req: http::Request<Vec<u8>>, _t: std::time::Duration| {
            assert_eq!(req.uri().path(), attestlog::KEY_SET_PATH);
            Ok::<_, std::convert::Infallible>(
                http::Response::builder()
                    .status(status)
                    .body(body.clone())
                    .unwrap(),
            )
        }
    };
    let url = format!("https://example.com{}", attestlog::KEY_SET_PATH);
    let fetched = attestlog::fetch_key_set(&serve(200, body.clone()), &url).unwrap();
    assert_eq!(fetched, next);
    assert!(attestlog::fetch_key_set(&serve(404, Vec::new()), &url).is_err());
    assert!(attestlog::fetch_key_set(&serve(200, b"{}".to_vec()), &url).is_err());
}
