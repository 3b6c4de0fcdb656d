//! A scripted HTTP/1.1 server on loopback: one scripted response per
//! connection, in order, then it stops. It records each request line.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::thread::JoinHandle;

/// One scripted answer.
#[derive(Debug, Clone, Default)]
pub struct Scripted {
    /// Status code.
    pub status: u16,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: String,
    /// Never answer: hold the connection until the client closes it (a
    /// client timeout, observed as an event rather than raced by a sleep).
    pub hold: bool,
}

impl Scripted {
    /// `status` with `body`, at once.
    #[must_use]
    pub fn new(status: u16, body: impl Into<String>) -> Self {
        Self {
            status,
            body: body.into(),
            ..Self::default()
        }
    }

    /// Adds a header.
    #[must_use]
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Never answers; the connection is held until the client gives up and
    /// closes it.
    #[must_use]
    pub fn held() -> Self {
        Self {
            hold: true,
            ..Self::default()
        }
    }
}

/// A loopback listener and its base URL, for tests that must know the
/// address before the script (e.g. to put it in a `Location`).
///
/// # Panics
/// When no loopback port can be bound.
#[must_use]
pub fn listener() -> (TcpListener, String) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", l.local_addr().unwrap());
    (l, base)
}

/// Serves `script` on `listener`, one response per connection
/// (`Connection: close`); the handle yields the request lines it saw.
#[must_use]
pub fn serve_on(listener: TcpListener, script: Vec<Scripted>) -> JoinHandle<Vec<String>> {
    std::thread::spawn(move || {
        let mut seen = Vec::new();
        for s in script {
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
            if s.hold {
                // Wait for the client to close (EOF) or reset the connection.
                let mut sink = [0u8; 512];
                while matches!(reader.read(&mut sink), Ok(n) if n > 0) {}
                continue;
            }
            let mut head = format!(
                "HTTP/1.1 {} X\r\nContent-Length: {}\r\nConnection: close\r\n",
                s.status,
                s.body.len()
            );
            for (k, v) in &s.headers {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            let mut out = stream;
            let _ = out.write_all(format!("{head}\r\n{}", s.body).as_bytes());
        }
        seen
    })
}

/// [`listener`] + [`serve_on`]: the base URL and the server's handle.
#[must_use]
pub fn serve(script: Vec<Scripted>) -> (String, JoinHandle<Vec<String>>) {
    let (l, base) = listener();
    (base, serve_on(l, script))
}
