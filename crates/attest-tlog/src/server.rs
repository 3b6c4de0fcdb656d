//! The embedded log over HTTP/1.1: a thread per connection, requests parsed
//! by `httparse` (the parser under hyper: small, maintained, no I/O of its
//! own), each answered with one write.
//!
//! Why not a server framework: the log's writes block on a group commit, so
//! an async runtime buys nothing, and the first choice, tiny_http, stalled
//! requests when more keep-alive connections than worker threads were open
//! (its connection task pool; reproduced by `tests/http_concurrency.rs`). A
//! connection here is served by its own thread from request to response —
//! no hand-off, and nothing to starve. TLS belongs in a reverse proxy.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use http::{Request, Response, StatusCode};

use super::LocalLog;

/// Largest request head (request line and headers).
const MAX_HEAD: usize = 64 << 10;
/// Most headers in a request.
const MAX_HEADERS: usize = 64;
/// An idle keep-alive connection is closed after this long.
const IDLE: Duration = Duration::from_secs(60);

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// Binding the address failed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The address resolves to nothing.
    #[error("{0} resolves to no address")]
    NoAddress(String),
}

/// An open connection: a handle to shut it down, and its thread.
type Open = (TcpStream, Option<JoinHandle<()>>);

#[derive(Default)]
struct Connections {
    open: Mutex<HashMap<u64, Open>>,
    next: AtomicU64,
}

/// A running server; [`Server::shutdown`] (or drop) stops it.
pub struct Server {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
    connections: Arc<Connections>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// The bound address (useful after binding port 0).
    #[must_use]
    pub const fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, closes every connection and waits for their threads
    /// (a request being answered is finished first).
    pub fn shutdown(mut self) {
        self.stop();
    }

    /// Blocks until the server stops (it never does on its own).
    pub fn join(mut self) {
        if let Some(a) = self.accept.take() {
            let _ = a.join();
        }
    }

    fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(a) = self.accept.take() {
            let _ = a.join();
        }
        let open: Vec<_> = self
            .connections
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain()
            .collect();
        for (_, (stream, thread)) in open {
            let _ = stream.shutdown(Shutdown::Read);
            if let Some(t) = thread {
                let _ = t.join();
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Serves `log` on `addr` (e.g. `127.0.0.1:3000`, or port 0), with at most
/// `max_connections` open connections (more are answered 503 and closed).
///
/// # Errors
/// [`ServerError::Bind`].
pub fn serve(log: LocalLog, addr: &str, max_connections: usize) -> Result<Server, ServerError> {
    let bind = |source: std::io::Error| ServerError::Bind {
        addr: addr.to_owned(),
        source,
    };
    let sock_addr: SocketAddr = addr
        .to_socket_addrs()
        .map_err(bind)?
        .next()
        .ok_or_else(|| ServerError::NoAddress(addr.to_owned()))?;
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(sock_addr),
        socket2::Type::STREAM,
        Some(socket2::Protocol::TCP),
    )
    .map_err(bind)?;
    socket.set_reuse_address(true).map_err(bind)?;
    socket.bind(&sock_addr.into()).map_err(bind)?;
    socket.listen(1024).map_err(bind)?;
    let listener: TcpListener = socket.into();
    let bound = listener.local_addr().map_err(bind)?;
    let stop = Arc::new(AtomicBool::new(false));
    let connections = Arc::new(Connections::default());
    let accept = {
        let (stop, connections) = (Arc::clone(&stop), Arc::clone(&connections));
        std::thread::Builder::new()
            .name("attestlog-log-accept".into())
            .spawn(move || {
                accept_loop(&listener, &log, &stop, &connections, max_connections.max(1))
            })
            .map_err(bind)?
    };
    Ok(Server {
        addr: bound,
        stop,
        accept: Some(accept),
        connections,
    })
}

fn accept_loop(
    listener: &TcpListener,
    log: &LocalLog,
    stop: &AtomicBool,
    connections: &Arc<Connections>,
    max: usize,
) {
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(mut stream) = stream else { continue };
        // Responses go out in one write; no Nagle delay on the last piece.
        let _ = stream.set_nodelay(true);
        let _ = stream.set_read_timeout(Some(IDLE));
        let mut open = connections
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // Forget connections whose threads are done.
        open.retain(|_, (_, t)| t.as_ref().is_some_and(|t| !t.is_finished()));
        if open.len() >= max {
            drop(open);
            let r =
                super::err(StatusCode::SERVICE_UNAVAILABLE, "too many connections").into_response();
            let _ = write_response(&mut stream, &r, false);
            continue;
        }
        let Ok(registered) = stream.try_clone() else {
            continue;
        };
        let id = connections.next.fetch_add(1, Ordering::Relaxed);
        let (log, conns) = (log.clone(), Arc::clone(connections));
        let thread = std::thread::Builder::new()
            .name("attestlog-log-conn".into())
            .spawn(move || {
                serve_connection(stream, &log);
                let mut open = conns.open.lock().unwrap_or_else(PoisonError::into_inner);
                if let Some((_, t)) = open.get_mut(&id) {
                    // Our own handle: nothing to join.
                    t.take();
                }
                open.remove(&id);
            });
        if let Ok(t) = thread {
            open.insert(id, (registered, Some(t)));
        }
    }
}

/// Answers requests on one connection until it closes, fails, idles out or
/// asks to close.
fn serve_connection(stream: TcpStream, log: &LocalLog) {
    let Ok(mut out) = stream.try_clone() else {
        return;
    };
    let mut input = BufReader::with_capacity(16 << 10, stream);
    let limit = log.shared().options.max_body_bytes;
    loop {
        let head = match read_head(&mut input) {
            Ok(Some(h)) => h,
            Ok(None) => return,
            Err(r) => {
                let _ = write_response(&mut out, &r.into_response(), false);
                return;
            }
        };
        let (parts, len, keep_alive, expect_continue) = match parse_head(&head, limit) {
            Ok(p) => p,
            Err(r) => {
                let _ = write_response(&mut out, &r.into_response(), false);
                return;
            }
        };
        if expect_continue && out.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").is_err() {
            return;
        }
        let mut body = vec![0u8; len];
        if input.read_exact(&mut body).is_err() {
            return;
        }
        let resp = log.handle(&Request::from_parts(parts, body));
        if write_response(&mut out, &resp, keep_alive).is_err() || !keep_alive {
            return;
        }
    }
}

/// The bytes of one request head, through the blank line; `None` when the
/// peer closed (or idled out) between requests.
fn read_head(input: &mut BufReader<TcpStream>) -> Result<Option<Vec<u8>>, super::Reject> {
    let mut head = Vec::new();
    loop {
        match input.read_until(b'\n', &mut head) {
            // Closed or idle between requests, or cut off mid-head: done.
            Ok(0) | Err(_) => return Ok(None),
            Ok(_) => {}
        }
        if head.len() > MAX_HEAD {
            return Err(super::err(
                StatusCode::from_u16(431).unwrap_or(StatusCode::BAD_REQUEST),
                "request head too large",
            ));
        }
        if head.ends_with(b"\r\n\r\n") || head.ends_with(b"\n\n") {
            // Tolerate blank lines before a request line (RFC 9112 §2.2).
            if head.iter().all(|b| *b == b'\r' || *b == b'\n') {
                head.clear();
                continue;
            }
            return Ok(Some(head));
        }
    }
}

/// The request's parts, its body length, whether to keep the connection,
/// and whether the client waits for `100 Continue`.
fn parse_head(
    head: &[u8],
    limit: usize,
) -> Result<(http::request::Parts, usize, bool, bool), super::Reject> {
    let bad = |m: &str| super::err(StatusCode::BAD_REQUEST, m);
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        _ => return Err(bad("malformed request head")),
    }
    let (Some(method), Some(path), Some(version)) = (req.method, req.path, req.version) else {
        return Err(bad("malformed request line"));
    };
    let mut len = 0usize;
    let mut keep_alive = version == 1;
    let mut expect_continue = false;
    for h in req.headers.iter() {
        let value = std::str::from_utf8(h.value).unwrap_or("").trim();
        if h.name.eq_ignore_ascii_case("content-length") {
            len = value.parse().map_err(|_| bad("invalid Content-Length"))?;
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            return Err(super::err(
                StatusCode::LENGTH_REQUIRED,
                "send the body with a Content-Length",
            ));
        } else if h.name.eq_ignore_ascii_case("connection") {
            let v = value.to_ascii_lowercase();
            if v.contains("close") {
                keep_alive = false;
            } else if v.contains("keep-alive") {
                keep_alive = true;
            }
        } else if h.name.eq_ignore_ascii_case("expect")
            && value.eq_ignore_ascii_case("100-continue")
        {
            expect_continue = true;
        }
    }
    if len > limit {
        return Err(super::err(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("request body larger than {limit} bytes"),
        ));
    }
    let request = Request::builder()
        .method(method)
        .uri(path)
        .body(())
        .map_err(|_| bad("malformed request line"))?;
    let (parts, ()) = request.into_parts();
    Ok((parts, len, keep_alive, expect_continue))
}

fn write_response(
    out: &mut TcpStream,
    resp: &Response<Vec<u8>>,
    keep_alive: bool,
) -> std::io::Result<()> {
    let status = resp.status();
    let mut buf = Vec::with_capacity(resp.body().len() + 256);
    let _ = write!(
        buf,
        "HTTP/1.1 {} {}\r\ncontent-length: {}\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or(""),
        resp.body().len()
    );
    for (k, v) in resp.headers() {
        buf.extend_from_slice(k.as_str().as_bytes());
        buf.extend_from_slice(b": ");
        buf.extend_from_slice(v.as_bytes());
        buf.extend_from_slice(b"\r\n");
    }
    if !keep_alive {
        buf.extend_from_slice(b"connection: close\r\n");
    }
    buf.extend_from_slice(b"\r\n");
    buf.extend_from_slice(resp.body());
    out.write_all(&buf)?;
    out.flush()
}
