//! An RFC 3161 timestamp client (blocking), for Sigstore's timestamp
//! authority (`POST <url>` with a DER `TimeStampReq`, e.g.
//! `https://timestamp.sigstore.dev/api/v1/timestamp`) or any RFC 3161 TSA.
//! The answer is verified — granted, signed by a trusted authority's
//! certificate valid at its `genTime`, over the SHA-256 of the signature
//! asked for, with the request's nonce — before it is returned.

use attest_rekor::pki::CertificateAuthority;
use attest_rekor::tsp::{self, VerifiedTimestamp};
use attest_rekor::verify::Check;
use http::{Request, header};

use crate::client::{ClientError, RekorClient, RetryPolicy, Transport};

/// A timestamp the TSA returned, verified.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Timestamped {
    /// The DER `TimeStampResp` as received (what a bundle's
    /// `rfc3161Timestamps[].signedTimestamp` carries).
    pub response: Vec<u8>,
    /// What verifying it established.
    pub verified: VerifiedTimestamp,
}

/// The blocking TSA client (the log client's retries and timeouts).
pub struct TsaClient<T> {
    http: RekorClient<T>,
    url: String,
    authorities: Vec<CertificateAuthority>,
}

impl<T: Transport + Sync> TsaClient<T> {
    /// A client for the TSA endpoint `url`, trusting `authorities` (a
    /// trusted root's `timestampAuthorities`).
    pub fn new(
        url: impl Into<String>,
        transport: T,
        authorities: Vec<CertificateAuthority>,
    ) -> Self {
        let url = url.into();
        Self {
            http: RekorClient::new(url.clone(), transport, Vec::new()),
            url,
            authorities,
        }
    }

    /// Sets the retry policy.
    #[must_use]
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.http = self.http.with_retry(retry);
        self
    }

    /// Replaces how the client waits between attempts.
    #[must_use]
    pub fn with_sleep(
        mut self,
        sleep: impl Fn(std::time::Duration) + Send + Sync + 'static,
    ) -> Self {
        self.http = self.http.with_sleep(sleep);
        self
    }

    /// Timestamps `signature` (the bytes a bundle's signature field holds).
    ///
    /// # Errors
    /// [`ClientError`]: a response that does not verify is `Verification`
    /// naming the timestamp check.
    pub fn timestamp(&self, signature: &[u8]) -> Result<Timestamped, ClientError> {
        let (req, nonce) = timestamp_request(&self.url, signature)?;
        let (resp, attempts) = self.http.exchange_blocking(&req)?;
        timestamped(resp, attempts, signature, nonce, &self.authorities)
    }
}

/// The `TimeStampReq` for `signature` to `url`, and its nonce.
fn timestamp_request(url: &str, signature: &[u8]) -> Result<(Request<Vec<u8>>, u64), ClientError> {
    let nonce = getrandom::u64().unwrap_or(0) >> 1;
    let body = tsp::timestamp_request(signature, nonce);
    let bad_url = || crate::client::single_failure(Check::Timestamp, "the TSA URL is not a URL");
    let uri: http::Uri = url.parse().map_err(|_| bad_url())?;
    let req = Request::post(uri)
        .header(header::CONTENT_TYPE, "application/timestamp-query")
        .header(header::ACCEPT, "application/timestamp-reply")
        .body(body)
        .map_err(|_| bad_url())?;
    Ok((req, nonce))
}

/// The TSA's answer, verified: granted, by a trusted authority, over
/// `signature`, with `nonce`.
fn timestamped(
    resp: http::Response<Vec<u8>>,
    attempts: u32,
    signature: &[u8],
    nonce: u64,
    authorities: &[CertificateAuthority],
) -> Result<Timestamped, ClientError> {
    if resp.status() != http::StatusCode::OK {
        return Err(ClientError::Response {
            attempts,
            source: attest_rekor::sansio::ResponseError::Status {
                status: resp.status().as_u16(),
                code: None,
                message: "the timestamp authority refused the request".into(),
            },
        });
    }
    let response = resp.into_body();
    let verified = tsp::verify_response(&response, signature, nonce, authorities).map_err(|e| {
        crate::client::single_failure(Check::Timestamp, &attest_dsse::ErrorChain(&e).to_string())
    })?;
    Ok(Timestamped { response, verified })
}

/// [`TsaClient`] over an [`AsyncTransport`](crate::AsyncTransport); its
/// futures are `Send`.
pub struct AsyncTsaClient<T> {
    http: crate::client::AsyncRekorClient<T>,
    url: String,
    authorities: Vec<CertificateAuthority>,
}

impl<T: crate::AsyncTransport> AsyncTsaClient<T> {
    /// A client for the TSA endpoint `url`, trusting `authorities`.
    pub fn new(
        url: impl Into<String>,
        transport: T,
        authorities: Vec<CertificateAuthority>,
    ) -> Self {
        let url = url.into();
        Self {
            http: crate::client::AsyncRekorClient::new(url.clone(), transport, Vec::new()),
            url,
            authorities,
        }
    }

    /// Sets the retry policy.
    #[must_use]
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.http = self.http.with_retry(retry);
        self
    }

    /// [`TsaClient::timestamp`], awaited.
    ///
    /// # Errors
    /// [`ClientError`].
    pub async fn timestamp(&self, signature: &[u8]) -> Result<Timestamped, ClientError> {
        let (req, nonce) = timestamp_request(&self.url, signature)?;
        let (resp, attempts) = self.http.exchange_async(&req).await?;
        timestamped(resp, attempts, signature, nonce, &self.authorities)
    }
}
