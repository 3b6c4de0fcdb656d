//! [`Transport`](crate::Transport) over ureq 3 (blocking, rustls with the ring
//! provider). No ureq type appears in this crate's public API.

use std::time::Duration;

use http::{Request, Response};

use attest_rekor::sansio::MAX_RESPONSE_BYTES;

/// A blocking HTTP transport. Cheap to clone; connections are pooled.
#[derive(Clone)]
pub struct UreqTransport {
    agent: ureq::Agent,
}

impl std::fmt::Debug for UreqTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UreqTransport").finish_non_exhaustive()
    }
}

/// Why a ureq exchange failed. The source is ureq's error, boxed so that
/// no ureq type is part of this crate's API.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UreqError {
    /// Connecting, sending or receiving the head failed (or timed out).
    #[error("HTTP exchange failed")]
    Exchange(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Reading the body failed, or it is larger than the limit.
    #[error("reading the response body (at most {MAX_RESPONSE_BYTES} bytes)")]
    Body(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl Default for UreqTransport {
    fn default() -> Self {
        Self::new()
    }
}

impl UreqTransport {
    /// A transport with ureq's defaults (system proxy settings ignored,
    /// webpki roots) but up to 32 pooled connections per host, where error
    /// statuses are returned as responses.
    #[must_use]
    pub fn new() -> Self {
        // ureq keeps 3 idle connections per host by default: a client shared
        // by more concurrent requests would reconnect for most of them.
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_idle_connections(64)
            .max_idle_connections_per_host(32)
            .build();
        Self {
            agent: ureq::Agent::new_with_config(config),
        }
    }
}

impl crate::Transport for UreqTransport {
    type Error = UreqError;

    fn send(
        &self,
        req: Request<Vec<u8>>,
        timeout: Duration,
    ) -> Result<Response<Vec<u8>>, UreqError> {
        let req = self
            .agent
            .configure_request(req)
            .timeout_global(Some(timeout))
            .build();
        let resp = self
            .agent
            .run(req)
            .map_err(|e| UreqError::Exchange(Box::new(e)))?;
        let (parts, mut body) = resp.into_parts();
        // An oversized body is an error here, never silently cut.
        let bytes = body
            .with_config()
            .limit(MAX_RESPONSE_BYTES as u64)
            .read_to_vec()
            .map_err(|e| UreqError::Body(Box::new(e)))?;
        Ok(Response::from_parts(parts, bytes))
    }
}
