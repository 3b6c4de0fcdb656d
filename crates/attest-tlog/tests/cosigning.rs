//! Logs that gather witness cosignatures: both embedded logs, two real
//! witnesses (in process), a 2-of-2 policy met on the served checkpoint; a
//! witness that is down leaves the log serving with what it has; a
//! restarted log learns the witness's size from its 409; a forked log is
//! refused.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use attest_dsse::{Envelope, SigningKey, Timestamp};
use attest_rekor::SignedNote;
use attest_rekor::v2::V2Request;
use attest_rekor::witness::{Cosigner, WitnessKey, WitnessPolicy};
use attest_tlog::{
    LocalLog, LogOptions, TileLog, TileLogOptions, Witness, WitnessedLog, Witnessing,
};
use attestlog_testkit::TempDir;
use http::{Request, Response};
use rekor_client::witness::WitnessClient;
use rekor_client::{RekorClient, RetryPolicy};
use sha2::{Digest, Sha256};

type Send = Box<
    dyn Fn(Request<Vec<u8>>, Duration) -> Result<Response<Vec<u8>>, std::io::Error>
        + std::marker::Send
        + Sync,
>;

const WAIT: Duration = Duration::from_secs(60);

fn log_key() -> SigningKey {
    SigningKey::ed25519_from_seed(&[21; 32])
}

fn cosigner(n: u8) -> Cosigner {
    Cosigner::new(
        format!("witness.test/w{n}"),
        SigningKey::ed25519_from_seed(&[30 + n; 32]),
    )
    .unwrap()
}

fn now() -> i64 {
    Timestamp::now().unix()
}

/// A witness of `origin` in `dir`, and a client reaching it in process
/// (or failing, while `down` is set).
fn witness(
    dir: &TempDir,
    n: u8,
    origin: &str,
    down: Arc<AtomicBool>,
) -> (Witness, WitnessClient<Send>) {
    let log = WitnessedLog::new(origin, log_key().public_key().clone());
    let w = Witness::open(&dir.file(&format!("w{n}")), cosigner(n), vec![log]).unwrap();
    let served = w.clone();
    let transport: Send = Box::new(move |req, _| {
        if down.load(Ordering::SeqCst) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionRefused,
                "witness down",
            ));
        }
        Ok(served.handle(&req))
    });
    let client = WitnessClient::new(
        transport,
        &format!("http://w{n}.test"),
        w.witness_key().clone(),
    );
    (w, client.unwrap())
}

/// A client reaching `w` in process (always up).
fn reach(w: &Witness) -> WitnessClient<impl rekor_client::Transport + std::marker::Send + 'static> {
    let served = w.clone();
    WitnessClient::new(
        move |req: Request<Vec<u8>>, _| Ok::<_, Infallible>(served.handle(&req)),
        "http://w1.test",
        w.witness_key().clone(),
    )
    .unwrap()
}

fn policy(witnesses: &[&Witness]) -> WitnessPolicy {
    let keys: Vec<WitnessKey> = witnesses.iter().map(|w| w.witness_key().clone()).collect();
    let n = keys.len();
    WitnessPolicy::new(keys, n).unwrap()
}

fn envelope(n: u64) -> Envelope {
    Envelope::sign("text/plain", format!("s {n}").into_bytes(), &[&log_key()]).unwrap()
}

fn publish_v1(log: &LocalLog, from: u64, to: u64) {
    let c = RekorClient::new("http://log.test", log.clone(), vec![log.trusted_log()])
        .with_retry(RetryPolicy::default().with_max_attempts(1));
    for n in from..to {
        c.publish_dsse(&envelope(n), log_key().public_key())
            .unwrap();
    }
}

fn publish_v2(log: &TileLog, from: u64, to: u64) {
    let key = SigningKey::ed25519_from_seed(&[5; 32]);
    for n in from..to {
        let artifact = format!("artifact {n}");
        let digest: [u8; 32] = Sha256::digest(artifact.as_bytes()).into();
        let req =
            V2Request::message(digest, key.sign(artifact.as_bytes()), key.public_key()).unwrap();
        log.append(req.canonical_body()).unwrap();
    }
}

fn served_v1(log: &LocalLog) -> String {
    let r = log.handle(
        &Request::get("http://log.test/api/v1/log")
            .body(vec![])
            .unwrap(),
    );
    let v: serde_json::Value = serde_json::from_slice(r.body()).unwrap();
    v["signedTreeHead"].as_str().unwrap().to_owned()
}

fn served_v2(log: &TileLog) -> String {
    let r = log.handle(
        &Request::get("http://log.test/checkpoint")
            .body(vec![])
            .unwrap(),
    );
    String::from_utf8(r.body().clone()).unwrap()
}

#[test]
fn a_v1_log_serves_its_checkpoint_with_two_of_two_cosignatures() {
    let dir = TempDir::created("cosign-v1");
    let log = LocalLog::open(&dir.file("log"), log_key(), LogOptions::default()).unwrap();
    let up = Arc::new(AtomicBool::new(false));
    let (w1, c1) = witness(&dir, 1, log.origin(), Arc::clone(&up));
    let (w2, c2) = witness(&dir, 2, log.origin(), Arc::clone(&up));
    publish_v1(&log, 0, 5);
    let witnessing =
        Witnessing::start(log.clone(), vec![c1, c2], 2, Duration::from_millis(10)).unwrap();
    assert!(
        witnessing.wait_cosigned(5, 2, WAIT),
        "{:?}",
        witnessing.status()
    );
    let note = SignedNote::parse(&served_v1(&log)).unwrap();
    assert_eq!(policy(&[&w1, &w2]).verify(&note, now()).unwrap().len(), 2);
    // The log signature is still there, and verifies.
    note.verify(&[log.trusted_log().note_verifier()]).unwrap();
    assert_eq!(log.served_checkpoint(), served_v1(&log));
    // An entry read now carries the witnessed checkpoint in its proof.
    let r = log.handle(
        &Request::get("http://log.test/api/v1/log/entries?logIndex=2")
            .body(vec![])
            .unwrap(),
    );
    let v: serde_json::Value = serde_json::from_slice(r.body()).unwrap();
    let (_, entry) = v.as_object().unwrap().iter().next().unwrap();
    let in_proof = entry["verification"]["inclusionProof"]["checkpoint"]
        .as_str()
        .unwrap();
    assert_eq!(in_proof, served_v1(&log));

    // The log grows: the next checkpoint is cosigned from size 5 (a proof).
    publish_v1(&log, 5, 12);
    assert!(
        witnessing.wait_cosigned(12, 2, WAIT),
        "{:?}",
        witnessing.status()
    );
    assert_eq!(w1.cosigned_size(log.origin()), 12);
    assert_eq!(w2.cosigned_size(log.origin()), 12);
    let status = witnessing.status();
    assert!(status.quorum());
    assert!(status.witnesses.iter().all(|w| w.error.is_none()));
}

#[test]
fn a_witness_that_is_down_does_not_stop_the_log_and_is_reported() {
    let dir = TempDir::created("cosign-down");
    let log = TileLog::open(&dir.file("log"), log_key(), TileLogOptions::default()).unwrap();
    let (w1, c1) = witness(&dir, 1, log.name(), Arc::new(AtomicBool::new(false)));
    let down = Arc::new(AtomicBool::new(true));
    let (w2, c2) = witness(&dir, 2, log.name(), Arc::clone(&down));
    let witnessing =
        Witnessing::start(log.clone(), vec![c1, c2], 2, Duration::from_millis(10)).unwrap();
    publish_v2(&log, 0, 3);
    assert!(
        witnessing.wait_cosigned(3, 1, WAIT),
        "{:?}",
        witnessing.status()
    );
    // The log took the entries and serves its checkpoint with one line.
    let note = SignedNote::parse(&served_v2(&log)).unwrap();
    assert_eq!(note.checkpoint().unwrap().size(), 3);
    let err = policy(&[&w1, &w2]).verify(&note, now()).unwrap_err();
    assert!(err.to_string().contains("1 of"), "{err}");
    let status = witnessing.status();
    assert!(!status.quorum());
    let w2_status = &status.witnesses[1];
    assert!(
        w2_status.error.as_deref().unwrap().contains("unreachable"),
        "{w2_status:?}"
    );
    // The witness comes back: within its backoff, the checkpoint gets both.
    down.store(false, Ordering::SeqCst);
    assert!(
        witnessing.wait_cosigned(3, 2, WAIT),
        "{:?}",
        witnessing.status()
    );
    let note = SignedNote::parse(&served_v2(&log)).unwrap();
    assert_eq!(policy(&[&w1, &w2]).verify(&note, now()).unwrap().len(), 2);
}

#[test]
fn a_restarted_log_proves_from_the_size_the_witness_answers_409_with() {
    let dir = TempDir::created("cosign-restart");
    let path = dir.file("log");
    let up = Arc::new(AtomicBool::new(false));
    let log = TileLog::open(&path, log_key(), TileLogOptions::default()).unwrap();
    let (w1, c1) = witness(&dir, 1, log.name(), Arc::clone(&up));
    publish_v2(&log, 0, 300);
    let witnessing =
        Witnessing::start(log.clone(), vec![c1], 1, Duration::from_millis(10)).unwrap();
    assert!(witnessing.wait_cosigned(300, 1, WAIT));
    witnessing.stop();
    drop(log);
    // A new process: it does not know what the witness cosigned; its
    // first request (from 0) is answered 409 300, and the retry proves
    // from 300 with tiles read back from disk.
    let log = TileLog::open(&path, log_key(), TileLogOptions::default()).unwrap();
    publish_v2(&log, 300, 777);
    let c1 = reach(&w1);
    let witnessing =
        Witnessing::start(log.clone(), vec![c1], 1, Duration::from_millis(10)).unwrap();
    assert!(
        witnessing.wait_cosigned(777, 1, WAIT),
        "{:?}",
        witnessing.status()
    );
    assert_eq!(w1.cosigned_size(log.name()), 777);
}

#[test]
fn a_forked_log_gets_no_cosignature_and_says_why() {
    let dir = TempDir::created("cosign-fork");
    let up = Arc::new(AtomicBool::new(false));
    let a = TileLog::open(&dir.file("a"), log_key(), TileLogOptions::default()).unwrap();
    let (w1, c1) = witness(&dir, 1, a.name(), Arc::clone(&up));
    publish_v2(&a, 0, 4);
    let wa = Witnessing::start(a.clone(), vec![c1], 1, Duration::from_millis(10)).unwrap();
    assert!(wa.wait_cosigned(4, 1, WAIT));
    wa.stop();
    // Same key and name, another history (a different first entry).
    let b = TileLog::open(&dir.file("b"), log_key(), TileLogOptions::default()).unwrap();
    publish_v2(&b, 100, 106);
    let c1 = reach(&w1);
    let wb = Witnessing::start(b.clone(), vec![c1], 1, Duration::from_millis(10)).unwrap();
    // Wait for the event: the witness's refusal recorded in the status.
    let mut status = wb.status();
    while status.witnesses[0].error.is_none() {
        let _ = wb.wait_cosigned(u64::MAX, 1, Duration::from_millis(50));
        status = wb.status();
    }
    let why = status.witnesses[0].error.clone().unwrap();
    assert!(why.contains("refused") && why.contains("422"), "{why}");
    assert_eq!(status.cosigned, 0);
    assert_eq!(w1.cosigned_size(b.name()), 4, "the witness kept its tree");
    let note = SignedNote::parse(&served_v2(&b)).unwrap();
    assert!(note.signatures().len() == 1, "only the log's own signature");
}

#[test]
fn an_impossible_policy_is_refused() {
    let dir = TempDir::created("cosign-policy");
    let log = TileLog::open(&dir.file("log"), log_key(), TileLogOptions::default()).unwrap();
    let (_w1, c1) = witness(&dir, 1, log.name(), Arc::new(AtomicBool::new(false)));
    let err = Witnessing::start(log.clone(), vec![c1], 2, Duration::from_millis(10)).unwrap_err();
    assert!(err.to_string().contains("2 of 1"), "{err}");
    let none: Vec<WitnessClient<Send>> = Vec::new();
    assert!(Witnessing::start(log, none, 0, Duration::from_millis(10)).is_err());
}

#[test]
fn a_hanging_witness_does_not_hold_up_the_others() {
    let dir = TempDir::created("cosign-hang");
    let log = TileLog::open(&dir.file("log"), log_key(), TileLogOptions::default()).unwrap();
    let (w1, c1) = witness(&dir, 1, log.name(), Arc::new(AtomicBool::new(false)));
    let (w2, _) = witness(&dir, 2, log.name(), Arc::new(AtomicBool::new(false)));
    // w2 answers only once the gate opens (a witness stuck in a request).
    let gate = Arc::new((std::sync::Mutex::new(false), std::sync::Condvar::new()));
    let hanging: Send = {
        let (gate, w) = (Arc::clone(&gate), w2.clone());
        Box::new(move |req: Request<Vec<u8>>, _| {
            let (m, cv) = &*gate;
            let _open = cv.wait_while(m.lock().unwrap(), |open| !*open).unwrap();
            Ok(w.handle(&req))
        })
    };
    let c2 = WitnessClient::new(hanging, "http://w2.test", w2.witness_key().clone()).unwrap();
    publish_v2(&log, 0, 3);
    // The hanging witness first: the other is still asked, and answers.
    let witnessing =
        Witnessing::start(log.clone(), vec![c2, c1], 2, Duration::from_millis(10)).unwrap();
    assert!(
        witnessing.wait_cosigned(3, 1, WAIT),
        "{:?}",
        witnessing.status()
    );
    let note = SignedNote::parse(&served_v2(&log)).unwrap();
    let one = WitnessPolicy::new(vec![w1.witness_key().clone()], 1).unwrap();
    assert_eq!(one.verify(&note, now()).unwrap().len(), 1);
    let (m, cv) = &*gate;
    *m.lock().unwrap() = true;
    cv.notify_all();
    assert!(
        witnessing.wait_cosigned(3, 2, WAIT),
        "{:?}",
        witnessing.status()
    );
}
