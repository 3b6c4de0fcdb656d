//! Rekor clients over any [`Transport`] (blocking) or [`AsyncTransport`]:
//! retries with backoff and jitter, idempotent publish (409 → fetch the
//! existing entry), and every entry verified before it is returned.
//!
//! Both clients run the same operations (written once, as futures): the
//! blocking client drives them with a transport that never suspends, so one
//! poll completes them.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use attest_dsse::{Clock, Envelope, PublicKey, SystemClock};
use http::{Request, Response};

use attest_rekor::api::{LogEntry, ProposedEntry};
use attest_rekor::sansio::ResponseError;
use attest_rekor::verify::{
    Check, CheckResult, Outcome, Policy, Report, SignerPolicy, Verified, VerifiedCheckpoint,
};
use attest_rekor::{EntryId, TrustedLog};

mod operations;
mod retry;
#[allow(unused_imports)]
pub use operations::*;
#[allow(unused_imports)]
use retry::*;

/// Carries one HTTP exchange. Closures implement it, so a test double is
/// one closure: `|req, timeout| Ok(response)`.
pub trait Transport {
    /// Why the exchange failed (connection refused, timeout, …). Always
    /// treated as retryable.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Sends `req` and waits at most `timeout` for the whole response.
    ///
    /// # Errors
    /// The transport's error.
    fn send(
        &self,
        req: Request<Vec<u8>>,
        timeout: Duration,
    ) -> Result<Response<Vec<u8>>, Self::Error>;
}

/// Carries one HTTP exchange asynchronously; the future must be `Send` so
/// the client works on multi-threaded runtimes. Closures returning futures
/// implement it.
pub trait AsyncTransport: Sync {
    /// Why the exchange failed. Always treated as retryable.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Sends `req` and resolves within `timeout` (the transport enforces it).
    fn send(
        &self,
        req: Request<Vec<u8>>,
        timeout: Duration,
    ) -> impl Future<Output = Result<Response<Vec<u8>>, Self::Error>> + Send;
}

impl<F, Fut, E> AsyncTransport for F
where
    F: Fn(Request<Vec<u8>>, Duration) -> Fut + Sync,
    Fut: Future<Output = Result<Response<Vec<u8>>, E>> + Send,
    E: std::error::Error + Send + Sync + 'static,
{
    type Error = E;
    fn send(
        &self,
        req: Request<Vec<u8>>,
        timeout: Duration,
    ) -> impl Future<Output = Result<Response<Vec<u8>>, E>> + Send {
        self(req, timeout)
    }
}

impl<F, E> Transport for F
where
    F: Fn(Request<Vec<u8>>, Duration) -> Result<Response<Vec<u8>>, E>,
    E: std::error::Error + Send + Sync + 'static,
{
    type Error = E;
    fn send(&self, req: Request<Vec<u8>>, timeout: Duration) -> Result<Response<Vec<u8>>, E> {
        self(req, timeout)
    }
}

/// Why a client call failed. [`ClientError::is_retryable`] says whether
/// trying again later could help.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The transport failed on the last attempt.
    #[error("transport error after {attempts} attempts")]
    Transport {
        /// Attempts made.
        attempts: u32,
        /// The last error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The log answered with an error or a malformed response.
    #[error("after {attempts} attempts")]
    Response {
        /// Attempts made.
        attempts: u32,
        /// The last answer.
        source: ResponseError,
    },
    /// The log's URL, or a `Location` it answered with, cannot be used (not
    /// http(s), or another origin than the log's). Never retried.
    #[error("log URL")]
    Url(#[from] attest_rekor::sansio::UrlError),
    /// The log returned evidence that does not verify: never retried, never
    /// returned as an entry.
    #[error("the log's answer does not verify: {}", .0.first_failure().map_or_else(String::new, |f| format!("{}: {}", f.check, f.detail)))]
    Verification(Report),
    /// The log's tiles do not prove what they must (a tile of the wrong
    /// length, one that does not hash to its parent or the checkpoint's
    /// root, an entry bundle that is not the tile's leaves): never retried.
    #[error("the log's tiles do not verify")]
    Tiles(#[source] attest_merkle::tiles::TileError<std::convert::Infallible>),
    /// A proof read from the log's verified tiles does not verify: never
    /// retried.
    #[error("the proof from the log's tiles does not verify")]
    Proof(#[source] attest_merkle::ProofError),
    /// A tile an operation needed was not fetched (a bug in this crate's
    /// async driver; reported, never a panic).
    #[error("tile {0} was needed but not fetched")]
    TileNotFetched(String),
}

impl ClientError {
    /// Whether trying again later could help.
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Transport { .. } => true,
            Self::Response { source, .. } => source.is_retryable(),
            Self::Url(_)
            | Self::Verification(_)
            | Self::Tiles(_)
            | Self::Proof(_)
            | Self::TileNotFetched(_) => false,
        }
    }
}

/// How failures are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in all (1 = no retry).
    pub max_attempts: u32,
    /// Delay before the first retry; doubled each time, with jitter.
    pub base_delay: Duration,
    /// Cap on one delay (also on an honoured `Retry-After`).
    pub max_delay: Duration,
    /// Timeout of one attempt.
    pub timeout: Duration,
    /// Budget of a whole operation, retries and waits included: no attempt
    /// starts, and no wait is begun, past it.
    pub deadline: Duration,
}

impl RetryPolicy {
    /// Attempts in all (1 = no retry).
    #[must_use]
    pub const fn with_max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n;
        self
    }

    /// Delay before the first retry (doubled each time, with jitter).
    #[must_use]
    pub const fn with_base_delay(mut self, d: Duration) -> Self {
        self.base_delay = d;
        self
    }

    /// Cap on one delay.
    #[must_use]
    pub const fn with_max_delay(mut self, d: Duration) -> Self {
        self.max_delay = d;
        self
    }

    /// Timeout of one attempt.
    #[must_use]
    pub const fn with_timeout(mut self, d: Duration) -> Self {
        self.timeout = d;
        self
    }

    /// Budget of a whole operation.
    #[must_use]
    pub const fn with_deadline(mut self, d: Duration) -> Self {
        self.deadline = d;
        self
    }
}

impl Default for RetryPolicy {
    /// 4 attempts, 250 ms doubling to at most 10 s, 30 s per attempt, 2 min
    /// per operation.
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            deadline: Duration::from_secs(120),
        }
    }
}

/// An entry the log returned, verified.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Published {
    /// The entry.
    pub entry: LogEntry,
    /// True when the log already had it (409) and it was fetched.
    pub already_existed: bool,
    /// What verifying the log's answer established (its report: every
    /// check passed).
    pub verified: Verified,
}

pub(crate) fn single_failure(check: Check, detail: &str) -> ClientError {
    ClientError::Verification(Report::failure(check, detail))
}
