//! The ureq transport over loopback against a scripted HTTP/1.1 server.

#![cfg(feature = "ureq")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use attest_rekor::EntryId;
use attest_rekor::sansio::ResponseError;
use rekor_client::{ClientError, RekorClient, RetryPolicy, UreqTransport};

/// Status, headers, body, and how long to wait before answering.
type Scripted = (u16, Vec<(&'static str, String)>, String, Duration);

/// Serves one scripted response per connection, in order, then stops.
/// Returns the base URL and the request lines it saw.
fn serve(responses: Vec<Scripted>) -> (String, std::thread::JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let mut seen = Vec::new();
        for (status, headers, body, delay) in responses {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            seen.push(line.trim_end().to_owned());
            let mut len = 0;
            loop {
                let mut h = String::new();
                reader.read_line(&mut h).unwrap();
                if h == "\r\n" || h.is_empty() {
                    break;
                }
                if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap();
                }
            }
            let mut req_body = vec![0; len];
            reader.read_exact(&mut req_body).unwrap();
            std::thread::sleep(delay);
            let mut out = stream;
            let mut head = format!(
                "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n",
                body.len()
            );
            for (k, v) in headers {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            let _ = out.write_all(format!("{head}\r\n{body}").as_bytes());
        }
        seen
    });
    (base, handle)
}

#[test]
fn statuses_timeouts_and_bodies_over_loopback() {
    let uuid = "875d33538d49eb9bc3224c4868c25d06f78f566730771c4437f50962530906ae";
    let now = Duration::ZERO;
    let (base, server) = serve(vec![
        (503, vec![("Retry-After", "0".into())], String::new(), now),
        // Slower than the client's timeout: a transport error, retried.
        (200, vec![], "{}".into(), Duration::from_millis(1300)),
        (404, vec![], String::new(), now),
        (
            400,
            vec![],
            r#"{"code":400,"message":"bad logIndex"}"#.into(),
            now,
        ),
    ]);
    let client = RekorClient::new(base, UreqTransport::new(), vec![])
        .with_retry(RetryPolicy {
            max_attempts: 3,
            timeout: Duration::from_millis(1000),
            ..RetryPolicy::default()
        })
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
