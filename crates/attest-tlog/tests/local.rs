//! The embedded log in process: Rekor v1 semantics, statuses, persistence,
//! recovery from torn writes, and a lying log built on it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::sync::Arc;

use attest_dsse::{Algorithm, Envelope, SigningKey, Timestamp};
use attest_rekor::api::LogEntry;
use attest_rekor::{Bundle, EntryId, ProposedEntry, SignedNote};
use attest_tlog::{LocalLog, LogOptions};
use base64ct::{Base64, Encoding};
use http::{Request, Response};
use rekor_client::{ClientError, RekorClient, RetryPolicy};
use sha2::{Digest, Sha256};

const BASE: &str = "http://attestlog.local";

use attestlog_testkit::TempDir;

fn log_key() -> SigningKey {
    SigningKey::ed25519_from_seed(&[7; 32])
}

fn open(dir: &Path) -> LocalLog {
    LocalLog::open(dir, log_key(), LogOptions::default()).unwrap()
}

fn signer() -> SigningKey {
    SigningKey::ed25519_from_seed(&[9; 32])
}

fn envelope(n: u64) -> Envelope {
    Envelope::sign(
        "text/plain",
        format!("statement {n}").into_bytes(),
        &[&signer()],
    )
    .unwrap()
}

fn client<T: rekor_client::Transport + Sync>(t: T, log: &LocalLog) -> RekorClient<T> {
    RekorClient::new(BASE, t, vec![log.trusted_log()])
        .with_retry(RetryPolicy::default().with_max_attempts(1))
}

fn send(log: &LocalLog, method: &str, path: &str, body: &[u8]) -> Response<Vec<u8>> {
    log.handle(
        &Request::builder()
            .method(method)
            .uri(format!("{BASE}{path}"))
            .body(body.to_vec())
            .unwrap(),
    )
}

fn error_message(r: &Response<Vec<u8>>) -> (i64, String) {
    let v: serde_json::Value = serde_json::from_slice(r.body()).unwrap();
    (
        v["code"].as_i64().unwrap(),
        v["message"].as_str().unwrap().to_owned(),
    )
}

#[test]
fn publish_get_retrieve_and_prove() {
    let dir = TempDir::new("flow");
    let log = open(dir.path());
    let c = client(log.clone(), &log);
    let key = signer();
    let (_, cp0) = c.log_info().unwrap();
    assert_eq!(cp0.size, 0);
    let mut ids = Vec::new();
    for n in 0..20 {
        let p = c.publish_dsse(&envelope(n), key.public_key()).unwrap();
        assert!(!p.already_existed);
        assert!(p.verified.report.all_passed(), "{:?}", p.verified.report);
        assert_eq!(p.entry.log_index, n);
        assert_eq!(p.entry.id.tree_id(), Some(log.tree_id()));
        assert_eq!(*p.entry.id.uuid(), attest_merkle::leaf_hash(&p.entry.body));
        ids.push(p.entry.id);
    }
    // Re-publishing is the 409 path: the same entry, verified, marked.
    let again = c.publish_dsse(&envelope(3), key.public_key()).unwrap();
    assert!(again.already_existed);
    assert_eq!(again.entry.id, ids[3]);
    assert_eq!(log.size(), 20);

    let by_id = c
        .get_verified(&ids[5], &envelope(5), key.public_key())
        .unwrap();
    assert_eq!(by_id.entry.log_index, 5);
    // The proof of an old entry is against the current tree.
    assert_eq!(by_id.entry.inclusion_proof.as_ref().unwrap().tree_size, 20);
    let by_index = c.get_entry_by_index(7).unwrap();
    assert_eq!(by_index.id, ids[7]);
    // A 64-hex UUID finds the entry too.
    let short = EntryId::new(None, *ids[2].uuid());
    assert_eq!(c.get_entry(&short).unwrap().id, ids[2]);

    let got = c.retrieve(&ids).unwrap();
    assert_eq!(got.len(), 20);
    assert!(got.iter().zip(&ids).all(|(e, id)| e.id == *id));

    let (info, cp) = c.log_info().unwrap();
    assert_eq!(info.tree_size, 20);
    assert_eq!(info.tree_id, log.tree_id().to_string());
    c.prove_consistency(&cp0, &cp).unwrap_err(); // size 0: RFC-strict, not provable
    let (_, cp20) = c.log_info().unwrap();
    c.publish_dsse(&envelope(100), key.public_key()).unwrap();
    let (_, cp21) = c.log_info().unwrap();
    c.prove_consistency(&cp20, &cp21).unwrap();
    let checkpoint = SignedNote::parse(&log.checkpoint()).unwrap();
    assert!(
        checkpoint
            .text()
            .starts_with(&format!("attestlog.local - {}\n21\n", log.tree_id()))
    );
}

#[test]
fn dsse_body_is_what_rekor_stores_for_a_real_envelope() {
    // The production bundle's envelope, submitted with its certificate as the
    // verifier: the embedded log must build the very body Rekor logged, but
    // for envelopeHash, which hashes the envelope text we send.
    let dir = TempDir::new("golden");
    let log = open(dir.path());
    let bundle = Bundle::from_json(&attestlog_testkit::vector(
        "prod-v1-dsse-v001.sigstore.json",
    ))
    .unwrap();
    let env = bundle.envelope().unwrap().unwrap();
    let cert = bundle.certificate_der().unwrap().unwrap();
    let pem = pem("CERTIFICATE", &cert);
    let sent = env.to_json();
    let req = serde_json::to_vec(&ProposedEntry::dsse(&sent, &[pem])).unwrap();
    let r = send(&log, "POST", "/api/v1/log/entries", &req);
    assert_eq!(r.status(), 201, "{}", String::from_utf8_lossy(r.body()));
    let entry = LogEntry::from_json(r.body()).unwrap();
    let logged =
        Base64::decode_vec(&bundle.verification_material.tlog_entries[0].canonicalized_body)
            .unwrap();
    let mut expected: serde_json::Value = serde_json::from_slice(&logged).unwrap();
    let our_hash: String = Sha256::digest(sent.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    expected["spec"]["envelopeHash"]["value"] = serde_json::Value::String(our_hash);
    assert_eq!(entry.body, serde_jcs::to_vec(&expected).unwrap());
    // Everything except that one value is byte for byte the logged body.
    let same_len = entry.body.len() == logged.len();
    assert!(same_len);
    assert_eq!(
        r.headers()["location"],
        format!("/api/v1/log/entries/{}", entry.id)
    );
}

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = Base64::encode_string(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

#[test]
fn hashedrekord_is_verified_and_canonical() {
    let dir = TempDir::new("hashedrekord");
    let log = open(dir.path());
    let key = SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
    let data = b"artifact bytes";
    let digest: [u8; 32] = Sha256::digest(data).into();
    let sig = key.sign(data);
    let pem = key.public_key().to_pem();
    let req = serde_json::to_vec(&ProposedEntry::hashedrekord(&digest, &sig, &pem)).unwrap();
    let r = send(&log, "POST", "/api/v1/log/entries", &req);
    assert_eq!(r.status(), 201, "{}", String::from_utf8_lossy(r.body()));
    let entry = LogEntry::from_json(r.body()).unwrap();
    let body = attest_rekor::EntryBody::parse(&entry.body).unwrap();
    assert_eq!(body.kind_version(), ("hashedrekord", "0.0.1"));
    let v: serde_json::Value = serde_json::from_slice(&entry.body).unwrap();
    assert_eq!(
        entry.body,
        serde_jcs::to_vec(&v).unwrap(),
        "stored canonical"
    );
    // Same digest and signature again: 409.
    assert_eq!(
        send(&log, "POST", "/api/v1/log/entries", &req).status(),
        409
    );
    // A signature over another digest: 400.
    let mut other = digest;
    other[0] ^= 1;
    let bad = serde_json::to_vec(&ProposedEntry::hashedrekord(&other, &sig, &pem)).unwrap();
    let r = send(&log, "POST", "/api/v1/log/entries", &bad);
    assert_eq!(r.status(), 400);
    assert!(error_message(&r).1.contains("does not verify"));
}

/// `publish_hashedrekord` through the client: the entry comes back verified
/// (SET, checkpoint, inclusion, body, logged key), a second publish is the
/// same entry marked `already_existed`, and an Ed25519 key is refused by the
/// log as Rekor v1 refuses it.
#[test]
fn publish_hashedrekord_through_the_client() {
    let dir = TempDir::new("hashedrekord-client");
    let log = open(dir.path());
    let c = client(log.clone(), &log);
    let key = SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
    let data = b"release.tar.gz bytes";
    let digest: [u8; 32] = Sha256::digest(data).into();
    let sig = key.sign(data);
    let first = c
        .publish_hashedrekord(&digest, &sig, key.public_key())
        .unwrap();
    assert!(
        first.verified.report.all_passed(),
        "{:?}",
        first.verified.report
    );
    assert!(!first.already_existed);
    let again = c
        .publish_hashedrekord(&digest, &sig, key.public_key())
        .unwrap();
    assert!(again.already_existed);
    assert_eq!(again.entry.id, first.entry.id);
    // Another key than the one that signed: the log refuses it (400).
    let other = SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
    assert!(
        c.publish_hashedrekord(&digest, &sig, other.public_key())
            .is_err()
    );
}

/// Many opens of one directory at once: exactly one holds it, the others are
/// told it is locked; once released it opens again.
#[test]
fn one_open_wins_a_race() {
    // Racing to create a new log, then racing to open the existing one.
    for existing in [false, true] {
        one_open_wins(existing);
    }
}

fn one_open_wins(existing: bool) {
    let dir = TempDir::new("lock-race");
    if existing {
        open(dir.path()); // created once, then released
    }
    let barrier = std::sync::Barrier::new(16);
    let results: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..16)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    LocalLog::open(dir.path(), log_key(), LogOptions::default())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let opened = results.iter().filter(|r| r.is_ok()).count();
    let locked = results
        .iter()
        .filter(|r| matches!(r, Err(attest_tlog::LocalError::Locked(_))))
        .count();
    // Each open holds the lock until its log is dropped, which happens only
    // after every thread finished: so exactly one succeeded.
    assert_eq!((opened, locked), (1, 15), "{results:?}");
    drop(results);
    open(dir.path());
}

/// Query parameters are percent-decoded as HTTP clients encode them.
#[test]
fn query_parameters_are_percent_decoded() {
    let dir = TempDir::new("query");
    let log = open(dir.path());
    let env = Envelope::sign("text/plain", b"q".to_vec(), &[&log_key()]).unwrap();
    client(log.clone(), &log)
        .publish_dsse(&env, log_key().public_key())
        .unwrap();
    let plain = send(&log, "GET", "/api/v1/log/entries?logIndex=0", b"");
    assert_eq!(plain.status(), 200);
    // "%30" is "0".
    let encoded = send(&log, "GET", "/api/v1/log/entries?logIndex=%30", b"");
    assert_eq!(encoded.status(), 200);
    assert_eq!(encoded.body(), plain.body());
}

#[test]
fn bad_requests_get_rekor_statuses() {
    let dir = TempDir::new("statuses");
    let key = log_key();
    let log = LocalLog::open(
        dir.path(),
        key,
        LogOptions::default().with_max_body_bytes(4096),
    )
    .unwrap();
    let post = |body: &[u8]| send(&log, "POST", "/api/v1/log/entries", body);
    let s = signer();
    let pem = s.public_key().to_pem();

    let r = post(b"{not json");
    assert_eq!(r.status(), 400);
    assert_eq!(error_message(&r).0, 400);
    let r = post(br#"{"kind":"rekord","apiVersion":"0.0.1","spec":{}}"#);
    assert_eq!(r.status(), 400);
    assert!(error_message(&r).1.contains("unsupported entry kind"));
    let r = post(br#"{"kind":"dsse","apiVersion":"0.0.9","spec":{}}"#);
    assert_eq!(r.status(), 400);
    assert!(error_message(&r).1.contains("apiVersion"));

    // A signature that does not verify with the verifier given.
    let other = SigningKey::ed25519_from_seed(&[1; 32]);
    let wrong = ProposedEntry::dsse(&envelope(1).to_json(), &[other.public_key().to_pem()]);
    let r = post(&serde_json::to_vec(&wrong).unwrap());
    assert_eq!(r.status(), 400);
    assert!(error_message(&r).1.contains("does not verify"));
    // No verifiers; a verifier that is not a key.
    for verifiers in [vec![], vec!["not a pem".to_owned()]] {
        let p = ProposedEntry::dsse(&envelope(1).to_json(), &verifiers);
        assert_eq!(post(&serde_json::to_vec(&p).unwrap()).status(), 400);
    }
    // Oversized.
    let big = Envelope::sign("text/plain", vec![b'x'; 8000], &[&s]).unwrap();
    let p = ProposedEntry::dsse(&big.to_json(), &[pem]);
    assert_eq!(post(&serde_json::to_vec(&p).unwrap()).status(), 413);

    // Unknown id: 404 with no body; malformed id: 400.
    let r = send(
        &log,
        "GET",
        &format!("/api/v1/log/entries/{}", "ab".repeat(32)),
        b"",
    );
    assert_eq!(r.status(), 404);
    assert!(r.body().is_empty());
    assert_eq!(
        send(&log, "GET", "/api/v1/log/entries/xyz", b"").status(),
        400
    );
    // Bad or missing logIndex: 400; beyond the tree: 404.
    assert_eq!(
        send(&log, "GET", "/api/v1/log/entries?logIndex=-1", b"").status(),
        400
    );
    assert_eq!(
        send(&log, "GET", "/api/v1/log/entries?logIndex=x", b"").status(),
        400
    );
    assert_eq!(send(&log, "GET", "/api/v1/log/entries", b"").status(), 400);
    assert_eq!(
        send(&log, "GET", "/api/v1/log/entries?logIndex=0", b"").status(),
        404
    );
    // Consistency bounds.
    let c = client(log.clone(), &log);
    for n in 0..3 {
        c.publish_dsse(&envelope(n), s.public_key()).unwrap();
    }
    for q in [
        "firstSize=3&lastSize=2",
        "firstSize=1&lastSize=4",
        "firstSize=0&lastSize=2",
        "lastSize=x",
        "firstSize=1&lastSize=3&treeID=1",
    ] {
        let r = send(&log, "GET", &format!("/api/v1/log/proof?{q}"), b"");
        assert_eq!(r.status(), 400, "{q}");
        assert_eq!(error_message(&r).0, 400);
    }
    let r = send(&log, "GET", "/api/v1/log/proof?firstSize=1&lastSize=3", b"");
    assert_eq!(r.status(), 200);
    // Retrieve: more than 10 queries is 422; missing ones are omitted.
    let many: Vec<u64> = (0..11).collect();
    let r = send(
        &log,
        "POST",
        "/api/v1/log/entries/retrieve",
        &serde_json::to_vec(&serde_json::json!({"logIndexes": many})).unwrap(),
    );
    assert_eq!(r.status(), 422);
    let r = send(
        &log,
        "POST",
        "/api/v1/log/entries/retrieve",
        br#"{"logIndexes":[0,2,9]}"#,
    );
    assert_eq!(
        serde_json::from_slice::<Vec<serde_json::Value>>(r.body())
            .unwrap()
            .len(),
        2
    );
    // Unknown endpoint, wrong method.
    assert_eq!(send(&log, "GET", "/api/v2/nothing", b"").status(), 404);
    assert_eq!(send(&log, "DELETE", "/api/v1/log", b"").status(), 405);
    // Public key.
    let r = send(&log, "GET", "/api/v1/log/publicKey", b"");
    assert_eq!(
        String::from_utf8(r.body().clone()).unwrap(),
        log.public_key().to_pem()
    );
}

#[test]
fn reopen_keeps_everything_and_discards_a_torn_tail() {
    let dir = TempDir::new("reopen");
    let key = signer();
    let (tree_id, root, ids) = {
        let log = open(dir.path());
        let c = client(log.clone(), &log);
        let ids: Vec<EntryId> = (0..37)
            .map(|n| {
                c.publish_dsse(&envelope(n), key.public_key())
                    .unwrap()
                    .entry
                    .id
            })
            .collect();
        let (info, _) = c.log_info().unwrap();
        (log.tree_id(), info.root_hash, ids)
    };
    // A torn record: a header promising more bytes than were written.
    {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(dir.path().join("entries.log"))
            .unwrap();
        f.write_all(&[200, 0, 0, 0, 1, 2, 3]).unwrap();
    }
    let (log, report) =
        LocalLog::open_with_report(dir.path(), log_key(), LogOptions::default()).unwrap();
    assert_eq!(report.size, 37);
    assert_eq!(report.discarded_bytes, 7);
    assert_eq!(log.tree_id(), tree_id);
    let c = client(log.clone(), &log);
    let (info, _) = c.log_info().unwrap();
    assert_eq!(info.root_hash, root);
    for (n, id) in ids.iter().enumerate() {
        c.get_verified(id, &envelope(n as u64), key.public_key())
            .unwrap();
    }
    assert!(
        c.publish_dsse(&envelope(3), key.public_key())
            .unwrap()
            .already_existed
    );
    c.publish_dsse(&envelope(1000), key.public_key()).unwrap();
    drop(c);
    drop(log);

    // Derived files lost or cut short are rebuilt from entries.log.
    std::fs::remove_file(dir.path().join("tree.dat")).unwrap();
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(dir.path().join("index.dat"))
        .unwrap();
    f.set_len(8 * 5 + 3).unwrap();
    drop(f);
    let log = open(dir.path());
    assert_eq!(log.size(), 38);
    let c = client(log.clone(), &log);
    c.get_verified(&ids[36], &envelope(36), key.public_key())
        .unwrap();
    // A different log key cannot open the directory; neither can a second handle.
    let err = LocalLog::open(dir.path(), signer(), LogOptions::default()).unwrap_err();
    assert!(
        err.to_string().contains("in use") || err.to_string().contains("key"),
        "{err}"
    );
    drop(c);
    drop(log);
    let err = LocalLog::open(dir.path(), signer(), LogOptions::default()).unwrap_err();
    assert!(err.to_string().contains("belongs to the log key"), "{err}");
}

#[test]
fn concurrent_publishers_share_commits() {
    let dir = TempDir::new("concurrent");
    let log = open(dir.path());
    let key = signer();
    std::thread::scope(|s| {
        for t in 0..8u64 {
            let log = log.clone();
            let key = &key;
            s.spawn(move || {
                let c = client(log.clone(), &log);
                for n in 0..25 {
                    let p = c
                        .publish_dsse(&envelope(t * 1000 + n), key.public_key())
                        .unwrap();
                    assert!(p.verified.report.all_passed());
                }
                // Everybody re-publishes one shared envelope: one creation.
                c.publish_dsse(&envelope(424_242), key.public_key())
                    .unwrap();
            });
        }
    });
    assert_eq!(log.size(), 201);
}

/// A test double built on the embedded log: forwards to it, then rewrites the
/// answer in one way.
fn lying(
    log: LocalLog,
    lie: impl Fn(&mut LogEntry) + Send + Sync + 'static,
) -> impl rekor_client::Transport + Sync {
    move |req: Request<Vec<u8>>, _t: std::time::Duration| {
        let mut r = log.handle(&req);
        if r.status().is_success() && req.uri().path().starts_with("/api/v1/log/entries") {
            let mut e = LogEntry::from_json(r.body()).unwrap();
            lie(&mut e);
            *r.body_mut() = e.to_json().into_bytes();
        }
        Ok::<_, std::convert::Infallible>(r)
    }
}

#[test]
fn a_lying_embedded_log_never_yields_a_verified_entry() {
    let dir = TempDir::new("lying");
    let log = open(dir.path());
    let key = signer();
    let honest = client(log.clone(), &log);
    // Another entry whose evidence is entirely genuine.
    let decoy = honest
        .publish_dsse(&envelope(999), key.public_key())
        .unwrap()
        .entry;
    let the_log_key = Arc::new(log_key());
    let other_key = Arc::new(SigningKey::ed25519_from_seed(&[3; 32]));
    let log_id = log.trusted_log().log_id_hex();

    type Lie = Box<dyn Fn(&mut LogEntry) + Send + Sync>;
    let resign = {
        let k = Arc::clone(&the_log_key);
        let log_id = log_id.clone();
        move |e: &mut LogEntry| {
            let msg = attest_rekor::verify::hazmat::set_payload(
                &e.body_b64,
                e.integrated_time,
                &log_id,
                e.log_index,
            );
            e.signed_entry_timestamp = Some(Base64::encode_string(&k.sign(&msg)));
        }
    };
    let lies: Vec<(&str, Lie)> = vec![
        (
            "wrong proof hash",
            Box::new(|e: &mut LogEntry| {
                let p = e.inclusion_proof.as_mut().unwrap();
                if p.hashes.is_empty() {
                    p.hashes.push("00".repeat(32));
                } else {
                    p.hashes[0] = "11".repeat(32);
                }
            }),
        ),
        (
            "root differs from checkpoint",
            Box::new(|e: &mut LogEntry| {
                e.inclusion_proof.as_mut().unwrap().root_hash = "22".repeat(32);
            }),
        ),
        ("checkpoint signed by another key", {
            let k = Arc::clone(&other_key);
            Box::new(move |e: &mut LogEntry| {
                let p = e.inclusion_proof.as_mut().unwrap();
                let note = SignedNote::parse(p.checkpoint.as_ref().unwrap()).unwrap();
                let id = attest_rekor::NoteVerifier::rekor_v1(
                    "attestlog.local",
                    log_key().public_key().clone(),
                )
                .key_id();
                p.checkpoint = Some(
                    SignedNote::sign(note.text(), "attestlog.local", id, &k)
                        .unwrap()
                        .to_text(),
                );
            })
        }),
        (
            "SET over another integratedTime",
            Box::new(|e: &mut LogEntry| e.integrated_time -= 1),
        ),
        (
            "SET over another index",
            Box::new(|e: &mut LogEntry| e.log_index += 1),
        ),
        ("body for a different envelope", {
            let decoy = decoy.clone();
            Box::new(move |e: &mut LogEntry| *e = decoy.clone())
        }),
        ("integratedTime in the future (SET re-signed)", {
            let resign = resign.clone();
            Box::new(move |e: &mut LogEntry| {
                e.integrated_time = Timestamp::now().unix() + 3600;
                resign(e);
            })
        }),
        (
            "entry id does not hash its body",
            Box::new(|e: &mut LogEntry| {
                e.id = EntryId::new(e.id.tree_id(), attest_merkle::leaf_hash(b"other"));
            }),
        ),
    ];
    for (n, (name, lie)) in lies.into_iter().enumerate() {
        let c = client(lying(log.clone(), lie), &log);
        let env = envelope(n as u64);
        match c.publish_dsse(&env, key.public_key()) {
            Err(ClientError::Verification(report)) => {
                assert!(report.first_failure().is_some(), "{name}");
            }
            other => panic!("{name}: {other:?}"),
        }
        // The honest log has it, and fetching through the liar fails too.
        let id = honest
            .publish_dsse(&env, key.public_key())
            .unwrap()
            .entry
            .id;
        assert!(
            c.get_verified(&id, &env, key.public_key()).is_err(),
            "{name}"
        );
    }
}

mod arbitrary_requests {
    use super::*;
    use proptest::prelude::*;

    fn shared() -> &'static LocalLog {
        static LOG: std::sync::OnceLock<(TempDir, LocalLog)> = std::sync::OnceLock::new();
        &LOG.get_or_init(|| {
            let dir = TempDir::new("arbitrary");
            let log = open(dir.path());
            let c = client(log.clone(), &log);
            for n in 0..5 {
                c.publish_dsse(&envelope(n), signer().public_key()).unwrap();
            }
            (dir, log)
        })
        .1
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        /// Any body or path and query gets one of Rekor's answers, never a
        /// panic or a 500 (what the `local_log` fuzz target explores further).
        #[test]
        fn never_a_500(pick in 0u8..5, bytes in proptest::collection::vec(any::<u8>(), 0..300), text in "[a-zA-Z0-9=&?%./_-]{0,80}") {
            let log = shared();
            let r = match pick {
                0 => send(log, "POST", "/api/v1/log/entries", &bytes),
                1 => send(log, "POST", "/api/v1/log/entries/retrieve", &bytes),
                2 => send(log, "GET", &format!("/api/v1/log/entries/{text}"), b""),
                3 => send(log, "GET", &format!("/api/v1/log/entries?{text}"), b""),
                _ => send(log, "GET", &format!("/api/v1/log/proof?{text}"), b""),
            };
            prop_assert!(r.status().as_u16() != 500, "{}", String::from_utf8_lossy(r.body()));
        }
    }
}

#[test]
fn derived_data_past_the_synced_count_is_rebuilt() {
    use std::os::unix::fs::FileExt;
    let dir = TempDir::new("synced");
    let key = signer();
    let root = {
        let log = open(dir.path());
        let c = client(log.clone(), &log);
        for n in 0..12 {
            c.publish_dsse(&envelope(n), key.public_key()).unwrap();
        }
        c.log_info().unwrap().0.root_hash
    };
    // As after a power loss: the derived files were last flushed at 5
    // entries, and a node completed later (the root of leaves 0..8, at
    // post-order position 14) never reached the disk intact.
    let mut rec = 5u64.to_le_bytes().to_vec();
    let d = Sha256::new()
        .chain_update(b"attestlog-synced\0")
        .chain_update(5u64.to_le_bytes())
        .finalize();
    rec.extend_from_slice(&d[..8]);
    std::fs::write(dir.path().join("synced.dat"), &rec).unwrap();
    let tree = std::fs::OpenOptions::new()
        .write(true)
        .open(dir.path().join("tree.dat"))
        .unwrap();
    tree.write_all_at(&[0xab; 32], 14 * 32).unwrap();
    drop(tree);
    let log = open(dir.path());
    let c = client(log.clone(), &log);
    assert_eq!(c.log_info().unwrap().0.root_hash, root);
    for n in 0..12 {
        let id = EntryId::new(None, log.leaf_hash(n).unwrap());
        c.get_verified(&id, &envelope(n), key.public_key()).unwrap();
    }
    drop(c);
    drop(log);
    // A damaged count is no count: everything is re-derived.
    std::fs::write(dir.path().join("synced.dat"), [1u8; 16]).unwrap();
    let log = open(dir.path());
    assert_eq!(
        client(log.clone(), &log).log_info().unwrap().0.root_hash,
        root
    );
}

#[test]
fn the_checkpoint_memo_remembers_only_what_verified() {
    use attest_rekor::verify::CheckpointMemo;
    use attest_rekor::verify::hazmat::verify_checkpoint;
    let dir = TempDir::new("memo");
    let log = open(dir.path());
    client(log.clone(), &log)
        .publish_dsse(&envelope(1), signer().public_key())
        .unwrap();
    let trusted = log.trusted_log();
    let note = log.checkpoint();
    let memo = CheckpointMemo::default();
    assert_eq!(
        memo.verify(&note, &trusted).unwrap(),
        verify_checkpoint(&note, &trusted).unwrap()
    );
    assert_eq!(
        memo.verify(&note, &trusted).unwrap(),
        verify_checkpoint(&note, &trusted).unwrap()
    );
    // Another size under the same signature: refused, memo or not.
    let forged = note.replacen("\n1\n", "\n2\n", 1);
    assert!(memo.verify(&forged, &trusted).is_err());
    assert!(memo.verify(&forged, &trusted).is_err());
    // Another log (key) does not get the remembered answer.
    let other = attest_rekor::TrustedLog::rekor_v1(
        "http://x",
        SigningKey::ed25519_from_seed(&[2; 32]).public_key().clone(),
    );
    let mut other = other;
    other.name = trusted.name.clone();
    assert!(memo.verify(&note, &other).is_err());
}

#[test]
fn a_clock_that_jumps_ahead_does_not_freeze_the_log() {
    use std::sync::atomic::{AtomicI64, Ordering};
    let tmp = TempDir::new("clock-jump");
    let now = Timestamp::now().unix();
    let clock = Arc::new(AtomicI64::new(now));
    let open_at = |c: &Arc<AtomicI64>| {
        let c = Arc::clone(c);
        LocalLog::open(
            tmp.path(),
            log_key(),
            LogOptions::default()
                .with_clock(move || Timestamp::from_unix(c.load(Ordering::SeqCst))),
        )
        .unwrap()
    };
    let log = open_at(&clock);
    // The verifier's clock follows the server's here, so a future time is
    // not refused as such: what is under test is the log's own time.
    let verifier_clock = Arc::clone(&clock);
    let c = client(log.clone(), &log)
        .with_clock(move || Timestamp::from_unix(verifier_clock.load(Ordering::SeqCst)));
    let first = c.publish_dsse(&envelope(1), signer().public_key()).unwrap();
    assert_eq!(first.entry.integrated_time, now);
    // Ten years ahead, then back: each entry takes the clock's time, the
    // earlier one after the later one, and the log keeps accepting entries.
    let ahead = now + 10 * 365 * 86_400;
    clock.store(ahead, Ordering::SeqCst);
    let jumped = c.publish_dsse(&envelope(2), signer().public_key()).unwrap();
    assert_eq!(jumped.entry.integrated_time, ahead);
    clock.store(now + 1, Ordering::SeqCst);
    let back = c.publish_dsse(&envelope(3), signer().public_key()).unwrap();
    assert_eq!(
        back.entry.integrated_time,
        now + 1,
        "never raised to an earlier entry's time"
    );
    drop((c, log));
    // After a restart with the right clock: the same.
    let log = open_at(&clock);
    let verifier_clock = Arc::clone(&clock);
    let c = client(log.clone(), &log)
        .with_clock(move || Timestamp::from_unix(verifier_clock.load(Ordering::SeqCst)));
    let again = c.publish_dsse(&envelope(4), signer().public_key()).unwrap();
    assert_eq!(again.entry.integrated_time, now + 1);
    assert_eq!(log.size(), 4);
}

#[test]
fn the_cost_of_an_entry_is_capped() {
    let dir = TempDir::new("cost-cap");
    let log = open(dir.path());
    let post = |body: &[u8]| send(&log, "POST", "/api/v1/log/entries", body);
    let s = signer();
    // 65 verifiers for one signature: refused before any key is parsed.
    let strangers: Vec<String> = (0..65u8)
        .map(|i| {
            SigningKey::ed25519_from_seed(&[i + 100; 32])
                .public_key()
                .to_pem()
        })
        .collect();
    let p = ProposedEntry::dsse(&envelope(1).to_json(), &strangers);
    let r = post(&serde_json::to_vec(&p).unwrap());
    assert_eq!(r.status(), 400);
    assert!(
        error_message(&r).1.contains("at most 64 pairs"),
        "{:?}",
        error_message(&r)
    );
    // 64 pairs are fine, the signer's key last.
    let mut keys = strangers[..63].to_vec();
    keys.push(s.public_key().to_pem());
    let p = ProposedEntry::dsse(&envelope(2).to_json(), &keys);
    assert_eq!(post(&serde_json::to_vec(&p).unwrap()).status(), 201);
    // A key hint naming a verifier: only that one is tried, so a hint that
    // names another submitted key fails even though the signer's key is there.
    let hinted = |hint: &str, n: u64| {
        let k = SigningKey::ed25519_from_seed(&[9; 32]).with_keyid(hint);
        Envelope::sign("text/plain", format!("hinted {n}").into_bytes(), &[&k]).unwrap()
    };
    let other = SigningKey::ed25519_from_seed(&[200; 32]);
    let both = [other.public_key().to_pem(), s.public_key().to_pem()];
    let p = ProposedEntry::dsse(&hinted(&other.public_key().key_id(), 1).to_json(), &both);
    assert_eq!(post(&serde_json::to_vec(&p).unwrap()).status(), 400);
    let p = ProposedEntry::dsse(&hinted(&s.public_key().key_id(), 2).to_json(), &both);
    assert_eq!(post(&serde_json::to_vec(&p).unwrap()).status(), 201);
    // A hint that names no submitted key: every verifier is tried.
    let p = ProposedEntry::dsse(&hinted("some-label", 3).to_json(), &both);
    assert_eq!(post(&serde_json::to_vec(&p).unwrap()).status(), 201);
}

#[test]
fn a_name_no_checkpoint_can_carry_is_refused_at_creation() {
    for bad in [
        "",
        "two words",
        "tab\tname",
        "new\nline",
        "ctl\u{1}x",
        "a+b",
        "nbsp\u{a0}x",
    ] {
        let dir = TempDir::new("bad-name");
        let err = LocalLog::open(dir.path(), log_key(), LogOptions::default().with_name(bad))
            .unwrap_err();
        assert!(
            matches!(err, attest_tlog::LocalError::InvalidName(ref n) if n == bad),
            "{bad:?}: {err}"
        );
        // Nothing was created that would make the directory look like a log.
        assert!(!dir.path().join("log.json").exists());
    }
    let dir = TempDir::new("good-name");
    let log = LocalLog::open(
        dir.path(),
        log_key(),
        LogOptions::default().with_name("log.example.com/x"),
    )
    .unwrap();
    assert!(log.checkpoint().starts_with("log.example.com/x - "));
}
