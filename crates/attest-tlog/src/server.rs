//! The embedded log over HTTP/1.1, on hyper and tokio, with tower's timeout
//! and concurrency limit. What a cheap client could otherwise take down is
//! bounded:
//!
//! - the whole request head must arrive within [`HEAD_DEADLINE`] and fit
//!   [`MAX_HEAD`] bytes (hyper's `header_read_timeout` and buffer limit), so
//!   a head without a newline or a trickle of header bytes costs at most
//!   that much and that long (the deadline also closes a kept-alive
//!   connection idle that long);
//! - a body is read only after its head is accepted, within the request's
//!   [`REQUEST_DEADLINE`] (tower's timeout; at most
//!   [`MAX_IN_FLIGHT_REQUESTS`] at once, tower's concurrency limit), into a
//!   buffer bounded by the log's `max_body_bytes`, and only while a global
//!   budget of in-flight body bytes ([`IN_FLIGHT_BODY_BYTES`]) has room
//!   (503 otherwise);
//! - a response a client does not read is abandoned after
//!   [`WRITE_TIMEOUT`] (`tokio-io-timeout`: a write deadline, which hyper
//!   does not have);
//! - connections are capped to fit the process's descriptor limit (the soft
//!   `nofile` limit is raised to the hard one at start), and one more is
//!   answered 503 and closed rather than reset;
//! - a `Content-Length` that is repeated or not plain digits is a 400.
//!
//! A publish awaits its group commit (the log's writer thread answers through
//! a oneshot channel), so no worker thread blocks on the disk; the rest of a
//! request is bounded CPU work done in place. The in-process transport
//! ([`LocalLog::handle`]) needs no runtime at all. TLS belongs in a reverse
//! proxy.
//!
//! The same server, with the same limits, serves any [`Handler`]
//! ([`serve_handler`]); [`Blocking`] adapts a synchronous function that may
//! block (a database, a blocking HTTP client) by running it on tokio's
//! blocking pool, so the connection workers never wait on it. attestlog's
//! auditor portal is served this way.

use std::convert::Infallible;
use std::future::Future;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::sync::{Semaphore, watch};
use tower::ServiceBuilder;

use super::LocalLog;

/// Largest request head (request line and headers).
pub const MAX_HEAD: usize = 64 << 10;
/// The whole request head must arrive within this.
pub const HEAD_DEADLINE: Duration = Duration::from_secs(10);
/// A request — its body read, the log's work, the answer — must finish
/// within this once its head is accepted (tower's timeout).
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(30);
/// A response the client does not read is abandoned after this.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Body bytes all requests together may hold in memory at once.
pub const IN_FLIGHT_BODY_BYTES: usize = 64 << 20;
/// Requests answered at once, all connections together (tower's
/// concurrency limit; more wait for a turn).
pub const MAX_IN_FLIGHT_REQUESTS: usize = 1024;
/// Descriptors kept free of connections (log files, the listener, stdio).
const RESERVED_FDS: u64 = 64;

/// What a [`Server`] answers requests with: a request whose body was read
/// within the limits (at most [`max_body_bytes`](Self::max_body_bytes)),
/// answered by a future that must not block its thread.
pub trait Handler: Clone + Send + Sync + 'static {
    /// The largest request body accepted (413 beyond it).
    fn max_body_bytes(&self) -> usize;
    /// The answer to `req`.
    fn call(&self, req: Request<Vec<u8>>) -> impl Future<Output = Response<Vec<u8>>> + Send;
}

impl Handler for LocalLog {
    fn max_body_bytes(&self) -> usize {
        self.shared().options.max_body_bytes
    }

    async fn call(&self, req: Request<Vec<u8>>) -> Response<Vec<u8>> {
        // Waiting for the group commit suspends this task; nothing blocks.
        self.handle_async(&req).await
    }
}

impl Handler for crate::TileLog {
    fn max_body_bytes(&self) -> usize {
        crate::TileLog::max_body_bytes(self)
    }

    async fn call(&self, req: Request<Vec<u8>>) -> Response<Vec<u8>> {
        // A write is checked on this task (a signature verification) and
        // waits for its batch's checkpoint suspended: no thread blocks.
        if crate::TileLog::is_write(&req) {
            return self.handle_write_async(&req).await;
        }
        // Reads go through the store, which may block (object storage).
        let log = self.clone();
        tokio::task::spawn_blocking(move || log.handle(&req))
            .await
            .unwrap_or_else(|_| {
                let mut r = Response::new(br#"{"code":500,"message":"internal error"}"#.to_vec());
                *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                r
            })
    }
}

impl Handler for crate::Witness {
    fn max_body_bytes(&self) -> usize {
        crate::MAX_ADD_CHECKPOINT_BYTES
    }

    async fn call(&self, req: Request<Vec<u8>>) -> Response<Vec<u8>> {
        // A cosignature is written durably (fsync) before it is returned.
        let w = self.clone();
        tokio::task::spawn_blocking(move || w.handle(&req))
            .await
            .unwrap_or_else(|_| {
                let mut r = Response::new(b"internal error\n".to_vec());
                *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                r
            })
    }
}

/// A Rekor v2 tile log and, on the same server, an RFC 3161 timestamp
/// authority (`/api/v1/timestamp`): the whole v2 write flow on one port.
#[derive(Clone, Debug)]
pub struct V2Services {
    /// The log.
    pub log: crate::TileLog,
    /// The TSA, when served.
    pub tsa: Option<crate::TsaService>,
}

impl Handler for V2Services {
    fn max_body_bytes(&self) -> usize {
        self.log.max_body_bytes()
    }

    async fn call(&self, req: Request<Vec<u8>>) -> Response<Vec<u8>> {
        if let Some(r) = self.tsa.as_ref().and_then(|t| t.handle(&req)) {
            return r;
        }
        Handler::call(&self.log, req).await
    }
}

/// A [`Handler`] from a synchronous function that may block: each request
/// runs on tokio's blocking pool (at most [`MAX_IN_FLIGHT_REQUESTS`] at
/// once, the server's own limit), never on a connection worker.
pub struct Blocking<F> {
    f: Arc<F>,
    max_body_bytes: usize,
}

impl<F> Clone for Blocking<F> {
    fn clone(&self) -> Self {
        Self {
            f: Arc::clone(&self.f),
            max_body_bytes: self.max_body_bytes,
        }
    }
}

impl<F> std::fmt::Debug for Blocking<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Blocking")
            .field("max_body_bytes", &self.max_body_bytes)
            .finish_non_exhaustive()
    }
}

impl<F> Blocking<F>
where
    F: Fn(Request<Vec<u8>>) -> Response<Vec<u8>> + Send + Sync + 'static,
{
    /// Serves `f`, accepting request bodies up to `max_body_bytes`.
    pub fn new(max_body_bytes: usize, f: F) -> Self {
        Self {
            f: Arc::new(f),
            max_body_bytes,
        }
    }
}

impl<F> Handler for Blocking<F>
where
    F: Fn(Request<Vec<u8>>) -> Response<Vec<u8>> + Send + Sync + 'static,
{
    fn max_body_bytes(&self) -> usize {
        self.max_body_bytes
    }

    async fn call(&self, req: Request<Vec<u8>>) -> Response<Vec<u8>> {
        let f = Arc::clone(&self.f);
        match tokio::task::spawn_blocking(move || f(req)).await {
            Ok(r) => r,
            // The function panicked: a 500, and the server goes on.
            Err(_) => {
                let mut r = Response::new(br#"{"code":500,"message":"internal error"}"#.to_vec());
                *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                r.headers_mut().insert(
                    header::CONTENT_TYPE,
                    header::HeaderValue::from_static("application/json"),
                );
                r
            }
        }
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// Binding the address failed.
    #[error("cannot listen on {addr}")]
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
    /// The async runtime could not start.
    #[error("cannot start the server's runtime")]
    Runtime(#[source] std::io::Error),
}

/// A running server; [`Server::shutdown`] (or drop) stops it.
pub struct Server {
    addr: SocketAddr,
    max_connections: usize,
    slots: Arc<Semaphore>,
    stop: Option<watch::Sender<bool>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("addr", &self.addr)
            .field("max_connections", &self.max_connections)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// The bound address (useful after binding port 0).
    #[must_use]
    pub const fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The connection cap in effect: the one asked for, lowered to fit the
    /// process's descriptor limit.
    #[must_use]
    pub const fn max_connections(&self) -> usize {
        self.max_connections
    }

    /// Connections open now (each holds one of the
    /// [`max_connections`](Self::max_connections) slots).
    #[must_use]
    pub fn open_connections(&self) -> usize {
        self.max_connections - self.slots.available_permits()
    }

    /// Stops accepting, lets requests being answered finish (up to
    /// [`REQUEST_DEADLINE`]), closes every connection and waits.
    pub fn shutdown(mut self) {
        self.stop();
    }

    /// Blocks until the server stops (it never does on its own).
    pub fn join(mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    fn stop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(true);
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Raises the soft `nofile` limit to the hard one, and returns how many
/// connections fit the limit then in effect.
fn connection_cap(asked: usize) -> usize {
    let soft = rlimit::increase_nofile_limit(u64::MAX).unwrap_or(1024);
    let fit = usize::try_from(soft.saturating_sub(RESERVED_FDS)).unwrap_or(usize::MAX);
    asked.min(fit).max(1)
}

/// Serves `log` on `addr` (e.g. `127.0.0.1:3000`; port 0 picks one) with at
/// most `max_connections` open connections, lowered to fit the process's
/// descriptor limit (see [`Server::max_connections`]); one more is answered
/// 503 and closed.
///
/// # Errors
/// [`ServerError`] when the address cannot be bound or the runtime started.
pub fn serve(log: LocalLog, addr: &str, max_connections: usize) -> Result<Server, ServerError> {
    serve_handler(log, addr, max_connections)
}

/// [`serve`] for any [`Handler`]: the same limits, deadlines and connection
/// cap, answering with `handler`.
///
/// # Errors
/// [`ServerError`] when the address cannot be bound or the runtime started.
pub fn serve_handler<H: Handler>(
    handler: H,
    addr: &str,
    max_connections: usize,
) -> Result<Server, ServerError> {
    serve_listener(handler, bind(addr)?, max_connections)
}

/// Binds `addr` (the first address it resolves to), so that a caller can
/// refuse a port in use before it creates anything, then serve on the
/// listener with [`serve_listener`].
///
/// # Errors
/// [`ServerError::Bind`] or [`ServerError::NoAddress`].
pub fn bind(addr: &str) -> Result<std::net::TcpListener, ServerError> {
    let sock = addr
        .to_socket_addrs()
        .map_err(|source| ServerError::Bind {
            addr: addr.to_owned(),
            source,
        })?
        .next()
        .ok_or_else(|| ServerError::NoAddress(addr.to_owned()))?;
    std::net::TcpListener::bind(sock).map_err(|source| ServerError::Bind {
        addr: addr.to_owned(),
        source,
    })
}

/// [`serve_handler`] on a listener bound already ([`bind`]).
///
/// # Errors
/// [`ServerError`] when the listener cannot be used or the runtime started.
pub fn serve_listener<H: Handler>(
    handler: H,
    listener: std::net::TcpListener,
    max_connections: usize,
) -> Result<Server, ServerError> {
    let addr = listener
        .local_addr()
        .map_or_else(|_| "the listener".to_owned(), |a| a.to_string());
    let bind_err = |source| ServerError::Bind {
        addr: addr.clone(),
        source,
    };
    listener.set_nonblocking(true).map_err(bind_err)?;
    let local = listener.local_addr().map_err(bind_err)?;
    let cap = connection_cap(max_connections);
    // One worker per core (tokio's default).
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .thread_name("attestlog-http")
        .enable_all()
        .build()
        .map_err(ServerError::Runtime)?;
    let (stop, stopped) = watch::channel(false);
    let slots = Arc::new(Semaphore::new(cap));
    let accept_slots = Arc::clone(&slots);
    let thread = std::thread::Builder::new()
        .name("attestlog-http-accept".into())
        .spawn(move || runtime.block_on(accept_loop(listener, handler, accept_slots, stopped)))
        .map_err(ServerError::Runtime)?;
    Ok(Server {
        addr: local,
        max_connections: cap,
        slots,
        stop: Some(stop),
        thread: Some(thread),
    })
}

/// What every connection shares.
#[derive(Clone)]
struct Ctx<H> {
    handler: H,
    body_budget: Arc<Semaphore>,
    /// Requests being answered at once, all connections together.
    requests: Arc<Semaphore>,
}

async fn accept_loop<H: Handler>(
    listener: std::net::TcpListener,
    handler: H,
    slots: Arc<Semaphore>,
    mut stopped: watch::Receiver<bool>,
) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    let ctx = Ctx {
        handler,
        body_budget: Arc::new(Semaphore::new(IN_FLIGHT_BODY_BYTES)),
        requests: Arc::new(Semaphore::new(MAX_IN_FLIGHT_REQUESTS)),
    };
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    loop {
        let accepted = tokio::select! {
            _ = stopped.changed() => break,
            a = listener.accept() => a,
        };
        let stream = match accepted {
            Ok((s, _)) => s,
            Err(_) => {
                // Out of descriptors or a transient error: back off briefly.
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        match Arc::clone(&slots).try_acquire_owned() {
            Ok(slot) => {
                let conn = connection(stream, ctx.clone());
                let watched = graceful.watch(conn);
                tokio::spawn(async move {
                    let _ = watched.await;
                    drop(slot);
                });
            }
            Err(_) => {
                tokio::spawn(turn_away(stream));
            }
        }
    }
    drop(listener);
    let _ = tokio::time::timeout(REQUEST_DEADLINE, graceful.shutdown()).await;
}

/// One connection over more than the cap: a 503 and close (not a reset).
async fn turn_away(mut stream: tokio::net::TcpStream) {
    use tokio::io::AsyncWriteExt;
    let body = br#"{"code":503,"message":"too many connections"}"#;
    let head = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\nretry-after: 1\r\n\r\n",
        body.len()
    );
    let _ = tokio::time::timeout(WRITE_TIMEOUT, async {
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body).await?;
        stream.shutdown().await
    })
    .await;
}

/// A connection: hyper's HTTP/1.1 state machine over a stream with read and
/// write deadlines, serving the tower stack.
fn connection<H: Handler>(
    stream: tokio::net::TcpStream,
    ctx: Ctx<H>,
) -> impl hyper_util::server::graceful::GracefulConnection + Send {
    // Reads need no deadline of their own: hyper's covers every head,
    // including the wait for the next one on a kept-alive connection, and
    // tower's covers the body.
    let mut timed = tokio_io_timeout::TimeoutStream::new(stream);
    timed.set_write_timeout(Some(WRITE_TIMEOUT));
    let svc = ServiceBuilder::new()
        .layer(tower::limit::GlobalConcurrencyLimitLayer::with_semaphore(
            Arc::clone(&ctx.requests),
        ))
        .timeout(REQUEST_DEADLINE)
        .service_fn(move |req| answer(req, ctx.clone()));
    hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEAD_DEADLINE)
        .max_buf_size(MAX_HEAD)
        .keep_alive(true)
        .serve_connection(
            TokioIo::new(Box::pin(timed)),
            hyper_util::service::TowerToHyperService::new(svc),
        )
}

fn json(status: StatusCode, message: &str) -> Response<Full<Bytes>> {
    let body = serde_json::json!({ "code": status.as_u16(), "message": message }).to_string();
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    r
}

/// The request's body length: `None` without one; a repeated header or one
/// that is not plain decimal digits is refused (request smuggling behind a
/// proxy that reads it differently).
fn content_length(h: &HeaderMap) -> Result<Option<u64>, &'static str> {
    let mut values = h.get_all(header::CONTENT_LENGTH).iter();
    let Some(v) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err("more than one Content-Length");
    }
    let s = v.to_str().map_err(|_| "malformed Content-Length")?;
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err("malformed Content-Length");
    }
    s.parse().map(Some).map_err(|_| "malformed Content-Length")
}

async fn answer<H: Handler>(
    req: Request<Incoming>,
    ctx: Ctx<H>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let max = ctx.handler.max_body_bytes();
    let len = match content_length(req.headers()) {
        Ok(l) => l,
        Err(m) => return Ok(json(StatusCode::BAD_REQUEST, m)),
    };
    if len.is_some_and(|l| l > max as u64) {
        return Ok(json(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("request body larger than {max} bytes"),
        ));
    }
    let (parts, body) = req.into_parts();
    // Room in the global budget for the most this body may hold: nothing
    // for a request without a body, its length, or the limit when chunked.
    let want = if hyper::body::Body::is_end_stream(&body) {
        0
    } else {
        len.map_or(max, |l| usize::try_from(l).unwrap_or(max))
            .min(max)
    };
    let permit = if want == 0 {
        None
    } else {
        let Ok(p) = Arc::clone(&ctx.body_budget)
            .try_acquire_many_owned(u32::try_from(want).unwrap_or(u32::MAX))
        else {
            return Ok(json(
                StatusCode::SERVICE_UNAVAILABLE,
                "too many request bodies in flight",
            ));
        };
        Some(p)
    };
    // The body's deadline is the request's (tower's timeout).
    let bytes = match Limited::new(body, max).collect().await {
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            return Ok(json(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("request body larger than {max} bytes"),
            ));
        }
        Err(_) => return Ok(json(StatusCode::BAD_REQUEST, "unreadable request body")),
        Ok(b) => b.to_bytes(),
    };
    let req = Request::from_parts(parts, bytes.to_vec());
    let answered = ctx.handler.call(req).await;
    drop(permit);
    Ok(answered.map(|b| Full::new(Bytes::from(b))))
}
