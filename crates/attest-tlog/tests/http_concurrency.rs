//! Many concurrent publishers sharing one pooled HTTP client against the
//! served log: no request may stall (the server first used here, tiny_http,
//! stalled requests once more keep-alive connections were open than it had
//! worker threads).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use attest_dsse::{Envelope, SigningKey};
use attest_tlog::{LocalLog, LogOptions, serve};
use rekor_client::{RekorClient, RetryPolicy, UreqTransport};

#[test]
fn shared_pooled_client_never_stalls() {
    for max_connections in [12, 1024] {
        let tmp = attestlog_testkit::TempDir::new("http-conc");
        let dir = tmp.path().to_path_buf();
        let log = LocalLog::open(
            &dir,
            SigningKey::ed25519_from_seed(&[3; 32]),
            LogOptions::default(),
        )
        .unwrap();
        let server = serve(log.clone(), "127.0.0.1:0", max_connections).unwrap();
        let url = format!("http://{}", server.local_addr());
        let client = RekorClient::new(url, UreqTransport::new(), vec![log.trusted_log()])
            .with_retry(
                RetryPolicy::default()
                    .with_max_attempts(1)
                    .with_timeout(Duration::from_secs(10)),
            );
        let signer = SigningKey::ed25519_from_seed(&[4; 32]);
        std::thread::scope(|s| {
            for t in 0..12u64 {
                let (client, signer) = (&client, &signer);
                s.spawn(move || {
                    for i in 0..25u64 {
                        let env = Envelope::sign(
                            "text/plain",
                            format!("{max_connections} {t} {i}").into_bytes(),
                            &[signer],
                        )
                        .unwrap();
                        client.publish_dsse(&env, signer.public_key()).unwrap();
                    }
                });
            }
        });
        assert_eq!(log.size(), 300);
        server.shutdown();
        drop(log);
    }
}

/// One raw exchange: what the server answers to `request` (read to close).
fn raw(addr: std::net::SocketAddr, request: &[u8]) -> String {
    use std::io::{Read, Write};
    let started = std::time::Instant::now();
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(request).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    // Every one of these exchanges ends with the server closing: none may
    // wait for a deadline.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?} for {:?}",
        started.elapsed(),
        String::from_utf8_lossy(request)
    );
    text
}

#[test]
fn raw_http_edge_cases() {
    let tmp = attestlog_testkit::TempDir::new("http-raw");
    let dir = tmp.path().to_path_buf();
    let log = LocalLog::open(
        &dir,
        SigningKey::ed25519_from_seed(&[3; 32]),
        LogOptions::default().with_max_body_bytes(1000),
    )
    .unwrap();
    let server = serve(log.clone(), "127.0.0.1:0", 64).unwrap();
    let a = server.local_addr();
    // Keep-alive: two requests on one connection, then close on request.
    let two = raw(
        a,
        b"GET /api/v1/log HTTP/1.1\r\nHost: x\r\n\r\nGET /api/v1/log/publicKey HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(two.matches("HTTP/1.1 200 OK").count(), 2, "{two}");
    assert!(two.contains("-----BEGIN PUBLIC KEY-----"));
    // Expect: 100-continue gets its interim answer, then the real one.
    let r = raw(
        a,
        b"POST /api/v1/log/entries HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
    );
    assert!(
        r.starts_with("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 400"),
        "{r}"
    );
    // Too large (by Content-Length, before reading it): 413.
    let r = raw(
        a,
        b"POST /api/v1/log/entries HTTP/1.1\r\nContent-Length: 5000\r\nConnection: close\r\n\r\n",
    );
    assert!(r.starts_with("HTTP/1.1 413"), "{r}");
    // Too large without a length: 413 once the limit is read past.
    let mut big = b"POST /api/v1/log/entries HTTP/1.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n7d0\r\n".to_vec();
    big.extend_from_slice(&[b'x'; 2000]);
    big.extend_from_slice(b"\r\n0\r\n\r\n");
    let r = raw(a, &big);
    assert!(r.starts_with("HTTP/1.1 413"), "{r}");
    // A chunked body is read like any other (an empty one is malformed JSON).
    let r = raw(
        a,
        b"POST /api/v1/log/entries HTTP/1.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n",
    );
    assert!(r.starts_with("HTTP/1.1 400"), "{r}");
    // Content-Length repeated, signed, or not a number: 400, never "the last wins".
    for cl in [
        "Content-Length: 2\r\nContent-Length: 2",
        "Content-Length: 2\r\nContent-Length: 3",
        "Content-Length: +2",
        "Content-Length: 2, 2",
        "Content-Length: x",
    ] {
        let req = format!(
            "POST /api/v1/log/entries HTTP/1.1\r\nHost: x\r\n{cl}\r\nConnection: close\r\n\r\n{{}}"
        );
        let r = raw(a, req.as_bytes());
        assert!(r.starts_with("HTTP/1.1 400"), "{cl}: {r}");
    }
    // Garbage is 400.
    let r = raw(a, b"\x00\x01 nonsense\r\n\r\n");
    assert!(r.starts_with("HTTP/1.1 400"), "{r}");
    let r = raw(
        a,
        b"GET /api/v1/log/entries/zz HTTP/1.1\r\nConnection: close\r\n\r\n",
    );
    assert!(r.starts_with("HTTP/1.1 400"), "{r}");
    server.shutdown();
    drop(log);
}
