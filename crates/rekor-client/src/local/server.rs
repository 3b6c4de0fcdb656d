//! The embedded log over HTTP/1.1.
//!
//! tiny_http: a small, dependency-light, blocking HTTP/1.1 server (keep-alive,
//! pipelining, chunked bodies) that fits a log whose writes block on a group
//! commit anyway; no async runtime is pulled into the `attestlog` binary. TLS
//! is left to a reverse proxy.

use std::io::Read;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::thread::JoinHandle;

use http::{Request, StatusCode};

use super::LocalLog;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// Binding the address failed.
    #[error("cannot listen on {addr}: {reason}")]
    Bind {
        /// The address.
        addr: String,
        /// Why.
        reason: String,
    },
}

/// A running server; [`Server::shutdown`] (or drop) stops it.
pub struct Server {
    http: Arc<tiny_http::Server>,
    addr: SocketAddr,
    workers: Vec<JoinHandle<()>>,
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

    /// Stops accepting requests and waits for the workers.
    pub fn shutdown(mut self) {
        self.stop();
    }

    /// Blocks until the server stops (it never does on its own).
    pub fn join(mut self) {
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }

    fn stop(&mut self) {
        self.http.unblock();
        for _ in 1..self.workers.len() {
            self.http.unblock();
        }
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Serves `log` on `addr` (e.g. `127.0.0.1:3000`, or port 0) with `workers`
/// threads (each handles one request at a time; writes wait for their group
/// commit, so more workers mean larger batches).
///
/// # Errors
/// [`ServerError::Bind`].
pub fn serve(log: LocalLog, addr: &str, workers: usize) -> Result<Server, ServerError> {
    let bind = |reason: String| ServerError::Bind {
        addr: addr.to_owned(),
        reason,
    };
    let sock_addr: SocketAddr = addr
        .to_socket_addrs()
        .map_err(|e| bind(e.to_string()))?
        .next()
        .ok_or_else(|| bind("no address".into()))?;
    // TCP_NODELAY on the listener is inherited by accepted sockets on Linux:
    // tiny_http writes a response in pieces, and Nagle's algorithm would hold
    // the last piece for the client's delayed ACK (~40 ms per request).
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(sock_addr),
        socket2::Type::STREAM,
        Some(socket2::Protocol::TCP),
    )
    .map_err(|e| bind(e.to_string()))?;
    socket
        .set_reuse_address(true)
        .map_err(|e| bind(e.to_string()))?;
    socket
        .set_tcp_nodelay(true)
        .map_err(|e| bind(e.to_string()))?;
    socket
        .bind(&sock_addr.into())
        .map_err(|e| bind(e.to_string()))?;
    socket.listen(1024).map_err(|e| bind(e.to_string()))?;
    let listener: std::net::TcpListener = socket.into();
    let bound = listener.local_addr().map_err(|e| bind(e.to_string()))?;
    let http = tiny_http::Server::from_listener(listener, None).map_err(|e| bind(e.to_string()))?;
    let http = Arc::new(http);
    let workers = (0..workers.max(1))
        .map(|_| {
            let http = Arc::clone(&http);
            let log = log.clone();
            std::thread::spawn(move || {
                while let Ok(req) = http.recv() {
                    answer(&log, req);
                }
            })
        })
        .collect();
    Ok(Server {
        http,
        addr: bound,
        workers,
    })
}

fn answer(log: &LocalLog, mut req: tiny_http::Request) {
    let limit = log.shared().options.max_body_bytes;
    let mut body = Vec::new();
    let read = req
        .as_reader()
        .take(limit as u64 + 1)
        .read_to_end(&mut body);
    let resp = if read.is_err() {
        super::err(StatusCode::BAD_REQUEST, "could not read the request body").into_response()
    } else if body.len() > limit {
        super::err(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("request body larger than {limit} bytes"),
        )
        .into_response()
    } else {
        let method = req.method().as_str().to_owned();
        match Request::builder()
            .method(method.as_str())
            .uri(req.url())
            .body(body)
        {
            Ok(r) => log.handle(&r),
            Err(_) => super::err(StatusCode::BAD_REQUEST, "malformed request line").into_response(),
        }
    };
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .filter_map(|(k, v)| {
            tiny_http::Header::from_bytes(k.as_str().as_bytes(), v.as_bytes()).ok()
        })
        .collect();
    let body = resp.into_body();
    let len = body.len();
    let out = tiny_http::Response::new(
        tiny_http::StatusCode(status),
        headers,
        std::io::Cursor::new(body),
        Some(len),
        None,
    );
    let _ = req.respond(out);
}
