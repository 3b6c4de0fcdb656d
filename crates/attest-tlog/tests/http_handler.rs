//! The server with a handler of the user's: a blocking function runs off
//! the connection workers (a request that blocks does not hold up the
//! next), the body limit is the handler's, and a panic is a 500, not a
//! dead server.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use attest_tlog::{Blocking, serve_handler};
use http::{Response, StatusCode};

fn exchange(addr: SocketAddr, raw: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(raw.as_bytes()).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn a_blocking_handler_is_served_with_its_own_body_limit() {
    // `/hold` blocks until the test lets it go; `/echo` answers the body.
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let release_rx = Arc::new(Mutex::new(release_rx));
    let (entered_tx, entered_rx) = mpsc::channel::<()>();
    let entered_tx = Mutex::new(entered_tx);
    let handler = Blocking::new(16, move |req: http::Request<Vec<u8>>| {
        match req.uri().path() {
            "/hold" => {
                entered_tx.lock().unwrap().send(()).unwrap();
                release_rx.lock().unwrap().recv().unwrap();
                Response::new(b"held".to_vec())
            }
            "/panic" => panic!("a handler bug"),
            _ => Response::new(req.into_body()),
        }
    });
    let server = serve_handler(handler, "127.0.0.1:0", 16).unwrap();
    let addr = server.local_addr();

    let held = std::thread::spawn(move || {
        exchange(
            addr,
            "GET /hold HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
    });
    // Wait for the event (the handler entered), not for a time.
    entered_rx.recv_timeout(Duration::from_secs(20)).unwrap();
    // While one request blocks, another is answered.
    let echo = exchange(
        addr,
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
    );
    assert!(echo.starts_with("HTTP/1.1 200"), "{echo}");
    assert!(echo.ends_with("hello"), "{echo}");
    release_tx.send(()).unwrap();
    let held = held.join().unwrap();
    assert!(held.ends_with("held"), "{held}");

    // Over the handler's limit: 413 before the handler runs.
    let big = exchange(
        addr,
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 17\r\nConnection: close\r\n\r\n01234567890123456",
    );
    assert!(
        big.starts_with(&format!(
            "HTTP/1.1 {}",
            StatusCode::PAYLOAD_TOO_LARGE.as_u16()
        )),
        "{big}"
    );

    // A panic is a 500 and the server goes on answering.
    let p = exchange(
        addr,
        "GET /panic HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(p.starts_with("HTTP/1.1 500"), "{p}");
    let again = exchange(
        addr,
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
    );
    assert!(again.ends_with("ok"), "{again}");
    server.shutdown();
}
