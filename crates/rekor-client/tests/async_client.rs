//! The async client over an async test transport built on the embedded log:
//! the same retries and verification as the blocking client, `Send` futures.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use attest_dsse::{Envelope, SigningKey};
use attest_rekor::sansio::ResponseError;
use attest_tlog::{LocalLog, LogOptions};
use http::{Request, Response};
use rekor_client::{AsyncRekorClient, ClientError, RetryPolicy};

fn envelope(n: u64) -> Envelope {
    let k = SigningKey::ed25519_from_seed(&[4; 32]);
    Envelope::sign("text/plain", format!("async {n}").into_bytes(), &[&k]).unwrap()
}

/// Fails the first `faults` attempts of every request in the given way,
/// then forwards to the log.
fn faulty(
    log: LocalLog,
    faults: Vec<u16>,
    calls: Arc<AtomicU32>,
) -> impl rekor_client::AsyncTransport {
    move |req: Request<Vec<u8>>, _t: Duration| {
        let n = calls.fetch_add(1, Ordering::SeqCst) as usize;
        let log = log.clone();
        let fault = faults.get(n).copied();
        async move {
            match fault {
                Some(0) => Err(std::io::Error::from(std::io::ErrorKind::TimedOut)),
                Some(429) => Ok(Response::builder()
                    .status(429)
                    .header("retry-after", "1")
                    .body(Vec::new())
                    .unwrap()),
                Some(status) => Ok(Response::builder()
                    .status(status)
                    .body(br#"{"code":1,"message":"injected"}"#.to_vec())
                    .unwrap()),
                None => Ok(log.handle(&req)),
            }
        }
    }
}

fn dir(tag: &str) -> attestlog_testkit::TempDir {
    attestlog_testkit::TempDir::new(&format!("async-{tag}"))
}

#[tokio::test]
async fn retries_what_it_should_and_verifies_what_it_returns() {
    let d = dir("retry");
    let log = LocalLog::open(
        d.path(),
        SigningKey::ed25519_from_seed(&[8; 32]),
        LogOptions::default(),
    )
    .unwrap();
    let signer = SigningKey::ed25519_from_seed(&[4; 32]);
    let waits = Arc::new(std::sync::Mutex::new(Vec::new()));
    let client = |faults: Vec<u16>, calls: &Arc<AtomicU32>| {
        let waits = Arc::clone(&waits);
        AsyncRekorClient::new(
            "http://attestlog.local",
            faulty(log.clone(), faults, Arc::clone(calls)),
            vec![log.trusted_log()],
        )
        .with_sleep(move |d| {
            waits.lock().unwrap().push(d);
            Box::pin(async {})
        })
    };

    // A timeout, a 503, a 502 and a 429: retried; the fifth attempt succeeds.
    let calls = Arc::new(AtomicU32::new(0));
    let c = client(vec![0, 503, 502, 429], &calls)
        .with_retry(RetryPolicy::default().with_max_attempts(5));
    let p = c
        .publish_dsse(&envelope(1), signer.public_key())
        .await
        .unwrap();
    assert!(p.verified.report.all_passed());
    assert_eq!(calls.load(Ordering::SeqCst), 5);
    assert_eq!(
        waits.lock().unwrap().last(),
        Some(&Duration::from_secs(1)),
        "Retry-After honoured"
    );

    // A 400 is never retried.
    let calls = Arc::new(AtomicU32::new(0));
    let c = client(vec![400], &calls);
    match c.publish_dsse(&envelope(2), signer.public_key()).await {
        Err(
            e @ ClientError::Response {
                source: ResponseError::Status { status: 400, .. },
                ..
            },
        ) => {
            assert!(!e.is_retryable());
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    // Attempts run out on 500s: a retryable typed error.
    let calls = Arc::new(AtomicU32::new(0));
    let c = client(vec![500; 10], &calls);
    let e = c.get_entry_by_index(0).await.unwrap_err();
    assert!(e.is_retryable());
    assert_eq!(
        calls.load(Ordering::SeqCst),
        RetryPolicy::default().max_attempts
    );

    // The operation's deadline ends the retries early.
    let calls = Arc::new(AtomicU32::new(0));
    let c = client(vec![503; 10], &calls).with_retry(
        RetryPolicy::default()
            .with_max_attempts(10)
            .with_deadline(Duration::ZERO),
    );
    let e = c.get_entry_by_index(0).await.unwrap_err();
    assert!(e.is_retryable(), "{e}");
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    // The 409 path, and the futures run on a multi-threaded runtime.
    let calls = Arc::new(AtomicU32::new(0));
    let c = Arc::new(client(vec![], &calls));
    let again = tokio::spawn({
        let c = Arc::clone(&c);
        let pk = signer.public_key().clone();
        async move { c.publish_dsse(&envelope(1), &pk).await }
    })
    .await
    .unwrap()
    .unwrap();
    assert!(again.already_existed);
    assert_eq!(again.entry.id, p.entry.id);
    drop((c, log));
}
