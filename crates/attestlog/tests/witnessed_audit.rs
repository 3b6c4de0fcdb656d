//! An auditor that requires witness cosignatures on each log's current
//! checkpoint: it passes when the log gathered them, fails every row's
//! inclusion and consistency with the reason when it did not, and never
//! makes an unwitnessed checkpoint its baseline.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::convert::Infallible;
use std::time::Duration;

use attestlog::client::RekorClient;
use attestlog::client::witness::WitnessClient;
use attestlog::dsse::{KeySet, SigningKey, Statement, Subject, TrustedKey};
use attestlog::rekor::Outcome;
use attestlog::rekor::witness::{Cosigner, WitnessKey, WitnessPolicy};
use attestlog::tlog::{LocalLog, LogOptions, Witness, WitnessedLog, Witnessing};
use attestlog::{Attestor, AuditCheck, Auditor, FileBaseline, LogClient, LogTransport};
use attestlog_testkit::TempDir;
use http::Request;

const WAIT: Duration = Duration::from_secs(60);

fn log_key() -> SigningKey {
    SigningKey::ed25519_from_seed(&[61; 32])
}

fn signer() -> SigningKey {
    SigningKey::ed25519_from_seed(&[62; 32])
}

fn client(log: &LocalLog) -> LogClient {
    RekorClient::new(
        "http://attestlog.local",
        LogTransport::Local(log.clone()),
        vec![log.trusted_log()],
    )
}

fn statement(n: u64) -> Statement {
    Statement::new(
        Subject {
            name: format!("git+https://example.com/r-{n}"),
            digest: [("gitCommit".into(), format!("{n:040x}"))].into(),
            annotations: Default::default(),
        },
        "https://slsa.dev/provenance/v1",
        serde_json::json!({ "n": n }),
    )
}

fn witness(dir: &TempDir, n: u8, log: &LocalLog) -> Witness {
    Witness::open(
        &dir.file(&format!("w{n}")),
        Cosigner::new(
            format!("w{n}.test"),
            SigningKey::ed25519_from_seed(&[70 + n; 32]),
        )
        .unwrap(),
        vec![WitnessedLog::new(
            log.origin(),
            log_key().public_key().clone(),
        )],
    )
    .unwrap()
}

fn in_process(w: &Witness) -> WitnessClient<impl attestlog::client::Transport + Send + 'static> {
    let served = w.clone();
    WitnessClient::new(
        move |req: Request<Vec<u8>>, _| Ok::<_, Infallible>(served.handle(&req)),
        &format!("http://{}.example", w.witness_key().name()),
        w.witness_key().clone(),
    )
    .unwrap()
}

fn auditor(dir: &TempDir, log: &LocalLog, policy: WitnessPolicy) -> Auditor {
    Auditor::builder(
        KeySet::new(1, vec![TrustedKey::always(signer().public_key().clone())]),
        attestlog::store::open(&dir.file("store.db").display().to_string()).unwrap(),
    )
    .log(client(log))
    .baseline(FileBaseline::new(dir.file("baseline.json")))
    .trust_current_tree(true)
    .witnesses(policy)
    .build()
}

#[test]
fn an_auditor_requires_the_witnesses_on_the_current_checkpoint() {
    let dir = TempDir::created("witnessed-audit");
    let log = LocalLog::open(&dir.file("log"), log_key(), LogOptions::default()).unwrap();
    let (w1, w2) = (witness(&dir, 1, &log), witness(&dir, 2, &log));
    let attestor = Attestor::builder(
        signer(),
        attestlog::store::open(&dir.file("store.db").display().to_string()).unwrap(),
    )
    .log(client(&log))
    .build();
    for n in 0..3 {
        attestor
            .attest("t", &format!("r-{n}@x"), statement(n))
            .unwrap();
    }
    let both =
        || WitnessPolicy::new(vec![w1.witness_key().clone(), w2.witness_key().clone()], 2).unwrap();

    // Only w1 is configured on the log: 1 of the 2 the auditor requires.
    let witnessing = Witnessing::start(
        log.clone(),
        vec![in_process(&w1)],
        1,
        Duration::from_millis(10),
    )
    .unwrap();
    assert!(witnessing.wait_cosigned(log.size(), 1, WAIT));
    let reports = auditor(&dir, &log, both())
        .audit_tenant("t", |_| {})
        .unwrap();
    assert_eq!(reports.len(), 3);
    for r in &reports {
        assert!(!r.passed());
        for c in [AuditCheck::Inclusion, AuditCheck::Consistency] {
            assert_eq!(r.outcome(c), Some(Outcome::Failed), "{c}: {r:#?}");
            let line = r.checks.iter().find(|l| l.check == c).unwrap();
            assert!(line.detail.contains("not witnessed"), "{}", line.detail);
        }
    }
    assert!(
        !dir.file("baseline.json").exists(),
        "an unwitnessed checkpoint never becomes the baseline"
    );
    witnessing.stop();

    // Both witnesses: 2 of 2, every row passes.
    let witnessing = Witnessing::start(
        log.clone(),
        vec![in_process(&w1), in_process(&w2)],
        2,
        Duration::from_millis(10),
    )
    .unwrap();
    assert!(
        witnessing.wait_cosigned(log.size(), 2, WAIT),
        "{:?}",
        witnessing.status()
    );
    let reports = auditor(&dir, &log, both())
        .audit_tenant("t", |_| {})
        .unwrap();
    assert!(
        reports.iter().all(attestlog::AuditReport::passed),
        "{reports:#?}"
    );

    // A policy naming a witness the log never reached (its key swapped
    // for another under the same name) fails again.
    let impostor = WitnessKey::new(
        "w2.test",
        SigningKey::ed25519_from_seed(&[99; 32])
            .public_key()
            .clone(),
    )
    .unwrap();
    let swapped = WitnessPolicy::new(vec![w1.witness_key().clone(), impostor], 2).unwrap();
    let reports = auditor(&dir, &log, swapped)
        .audit_tenant("t", |_| {})
        .unwrap();
    assert!(reports.iter().all(|r| !r.passed()));
}
