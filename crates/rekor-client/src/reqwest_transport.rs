//! [`AsyncTransport`](crate::AsyncTransport) over reqwest 0.13 on rustls with
//! the ring provider chosen here (reqwest's own `rustls` feature would bring
//! aws-lc) and the Mozilla roots from `webpki-roots`. No reqwest type appears
//! in this crate's public API.

use std::sync::Arc;
use std::time::Duration;

use http::{Request, Response};

use attest_rekor::sansio::MAX_RESPONSE_BYTES;

/// An async HTTP transport (HTTP/1.1, pooled connections). Cheap to clone.
#[derive(Clone, Debug)]
pub struct ReqwestTransport {
    client: reqwest::Client,
}

/// Why a reqwest exchange failed, or the transport could not be built. The
/// sources are rustls' and reqwest's errors, boxed so that neither crate is
/// part of this crate's API.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReqwestError {
    /// The TLS configuration could not be built.
    #[error("TLS configuration")]
    Tls(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The HTTP client could not be built.
    #[error("HTTP client")]
    Client(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Connecting, sending or receiving failed (or timed out).
    #[error("HTTP exchange failed")]
    Exchange(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The response body is larger than the limit.
    #[error("response larger than {MAX_RESPONSE_BYTES} bytes")]
    TooLarge,
    /// The response could not be assembled.
    #[error("response")]
    Response(#[source] http::Error),
}

impl ReqwestTransport {
    /// A transport trusting the webpki (Mozilla) roots, TLS by rustls with
    /// the ring provider.
    ///
    /// # Errors
    /// [`ReqwestError`] when the TLS configuration or client cannot be built.
    pub fn new() -> Result<Self, ReqwestError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| ReqwestError::Tls(Box::new(e)))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .build()
            .map_err(|e| ReqwestError::Client(Box::new(e)))?;
        Ok(Self { client })
    }
}

impl crate::AsyncTransport for ReqwestTransport {
    type Error = ReqwestError;

    async fn send(
        &self,
        req: Request<Vec<u8>>,
        timeout: Duration,
    ) -> Result<Response<Vec<u8>>, ReqwestError> {
        let err = |e: reqwest::Error| ReqwestError::Exchange(Box::new(e));
        let (parts, body) = req.into_parts();
        let url = parts.uri.to_string();
        let mut resp = self
            .client
            .request(parts.method, url)
            .headers(parts.headers)
            .body(body)
            .timeout(timeout)
            .send()
            .await
            .map_err(err)?;
        // Read the body in chunks so an oversized one is refused, never cut.
        let mut bytes = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(err)? {
            if bytes.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(ReqwestError::TooLarge);
            }
            bytes.extend_from_slice(&chunk);
        }
        let mut out = Response::builder().status(resp.status());
        if let Some(h) = out.headers_mut() {
            *h = resp.headers().clone();
        }
        out.body(bytes).map_err(ReqwestError::Response)
    }
}
