//! The ureq transport over loopback against a scripted HTTP/1.1 server.

#![cfg(feature = "ureq")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::time::Duration;

use attest_rekor::EntryId;
use attest_rekor::sansio::ResponseError;
use attestlog_testkit::http::{Scripted, serve};
use rekor_client::{ClientError, RekorClient, RetryPolicy, UreqTransport};

#[test]
fn statuses_timeouts_and_bodies_over_loopback() {
    let uuid = "875d33538d49eb9bc3224c4868c25d06f78f566730771c4437f50962530906ae";
    let (base, server) = serve(vec![
        Scripted::new(503, "").header("Retry-After", "0"),
        // No answer until the client's timeout closes the connection: a
        // transport error, retried.
        Scripted::held(),
        Scripted::new(404, ""),
        Scripted::new(400, r#"{"code":400,"message":"bad logIndex"}"#),
    ]);
    let client = RekorClient::new(base, UreqTransport::new(), vec![])
        .with_retry(
            RetryPolicy::default()
                .with_max_attempts(3)
                .with_timeout(Duration::from_millis(1000)),
        )
        .with_sleep(|_| {});
    let id = EntryId::parse(uuid).unwrap();
    // 503, then a timeout, then 404: NotFound after 3 attempts.
    match client.get_entry(&id) {
        Err(ClientError::Response {
            attempts: 3,
            source: ResponseError::NotFound,
        }) => {}
        other => panic!("{other:?}"),
    }
    // 400 is returned at once with Rekor's message.
    match client.get_entry_by_index(u64::MAX) {
        Err(ClientError::Response {
            attempts: 1,
            source:
                ResponseError::Status {
                    status: 400,
                    message,
                    ..
                },
        }) => {
            assert_eq!(message, "bad logIndex");
        }
        other => panic!("{other:?}"),
    }
    let seen = server.join().unwrap();
    assert_eq!(seen[0], format!("GET /api/v1/log/entries/{uuid} HTTP/1.1"));
    assert_eq!(
        seen[3],
        format!("GET /api/v1/log/entries?logIndex={} HTTP/1.1", u64::MAX)
    );
}
