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
    BundlePolicy, Check, CheckResult, Outcome, Report, SignerPolicy, Verified, VerifiedCheckpoint,
};
use attest_rekor::{EntryId, TrustedLog};

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
    #[error("transport error after {attempts} attempts: {source}")]
    Transport {
        /// Attempts made.
        attempts: u32,
        /// The last error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The log answered with an error or a malformed response.
    #[error("after {attempts} attempts: {source}")]
    Response {
        /// Attempts made.
        attempts: u32,
        /// The last answer.
        source: ResponseError,
    },
    /// The log's URL, or a `Location` it answered with, cannot be used (not
    /// http(s), or another origin than the log's). Never retried.
    #[error("log URL: {0}")]
    Url(#[from] attest_rekor::sansio::UrlError),
    /// The log returned evidence that does not verify: never retried, never
    /// returned as an entry.
    #[error("the log's answer does not verify: {}", .0.first_failure().map_or_else(String::new, |f| format!("{}: {}", f.check, f.detail)))]
    Verification(Report),
}

impl ClientError {
    /// Whether trying again later could help.
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Transport { .. } => true,
            Self::Response { source, .. } => source.is_retryable(),
            Self::Url(_) | Self::Verification(_) => false,
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

/// What both clients share: where the log is, what is trusted, how to retry.
struct Core {
    base: String,
    logs: Vec<TrustedLog>,
    checkpoints: attest_rekor::verify::CheckpointMemo,
    retry: RetryPolicy,
    user_agent: String,
    clock: Arc<dyn Clock>,
}

/// What one attempt leads to.
enum Step {
    Return(Result<(Response<Vec<u8>>, u32), ClientError>),
    Wait(Duration),
}

impl Core {
    fn new(base: String, logs: Vec<TrustedLog>) -> Self {
        Self {
            base,
            logs,
            checkpoints: attest_rekor::verify::CheckpointMemo::default(),
            retry: RetryPolicy::default(),
            user_agent: format!("attestlog-rekor-client/{}", env!("CARGO_PKG_VERSION")),
            clock: Arc::new(SystemClock),
        }
    }

    fn prepared(&self, req: &Request<Vec<u8>>) -> Request<Vec<u8>> {
        let mut r = req.clone();
        if let Ok(v) = http::HeaderValue::from_str(&self.user_agent) {
            r.headers_mut().insert(http::header::USER_AGENT, v);
        }
        r
    }

    /// Transport errors, 5xx, 408 and 429 (honouring `Retry-After`) are
    /// retried until the attempts run out; other answers are returned.
    fn step<E: std::error::Error + Send + Sync + 'static>(
        &self,
        attempt: u32,
        started: std::time::Instant,
        outcome: Result<Response<Vec<u8>>, E>,
    ) -> Step {
        let out_of_time = |delay: Duration| started.elapsed() + delay >= self.retry.deadline;
        let delay = match outcome {
            Ok(resp) => {
                let s = resp.status().as_u16();
                let retryable = s >= 500 || s == 408 || s == 429;
                let delay = retry_after(&resp)
                    .unwrap_or_else(|| self.backoff(attempt))
                    .min(self.retry.max_delay);
                if !retryable || attempt >= self.retry.max_attempts || out_of_time(delay) {
                    return Step::Return(Ok((resp, attempt)));
                }
                delay
            }
            Err(e) => {
                let delay = self.backoff(attempt).min(self.retry.max_delay);
                if attempt >= self.retry.max_attempts || out_of_time(delay) {
                    return Step::Return(Err(ClientError::Transport {
                        attempts: attempt,
                        source: Box::new(e),
                    }));
                }
                delay
            }
        };
        Step::Wait(delay)
    }

    /// The timeout of the next attempt: the per-attempt timeout, cut to what
    /// is left of the operation's deadline.
    fn attempt_timeout(&self, started: std::time::Instant) -> Duration {
        self.retry
            .timeout
            .min(self.retry.deadline.saturating_sub(started.elapsed()))
    }

    /// Exponential backoff with full jitter: a random delay up to
    /// `base * 2^(attempt-1)`, capped.
    fn backoff(&self, attempt: u32) -> Duration {
        let ceiling = self
            .retry
            .base_delay
            .saturating_mul(1 << (attempt - 1).min(16))
            .min(self.retry.max_delay);
        let r = getrandom::u32().unwrap_or(u32::MAX / 2);
        ceiling.mul_f64(f64::from(r) / f64::from(u32::MAX))
    }

    fn verified(
        &self,
        entry: LogEntry,
        expected: Expected<'_>,
    ) -> Result<(LogEntry, Verified), ClientError> {
        let now = self.clock.now();
        let result = match expected {
            Expected::Dsse(env, signer) => {
                let policy = BundlePolicy::new(&self.logs, SignerPolicy::Key(signer.clone()), now);
                attest_rekor::verify::verify_log_entry_memo(&entry, env, &policy, &self.checkpoints)
            }
            Expected::HashedRekord {
                digest,
                signature,
                key,
            } => {
                let policy = BundlePolicy::new(&self.logs, SignerPolicy::Key(key.clone()), now);
                attest_rekor::verify::verify_log_entry_message(&entry, digest, signature, &policy)
            }
        };
        let mut verified = result.map_err(|e| ClientError::Verification(e.report))?;
        // The entry id must name the body the log returned.
        if *entry.id.uuid() != attest_merkle::leaf_hash(&entry.body) {
            verified.report.checks.push(CheckResult::new(
                Check::Inclusion,
                Outcome::Failed,
                "the entry id is not the leaf hash of the returned body",
            ));
            return Err(ClientError::Verification(verified.report));
        }
        Ok((entry, verified))
    }

    fn checked_log_info(
        &self,
        info: attest_rekor::api::LogInfo,
    ) -> Result<(attest_rekor::api::LogInfo, VerifiedCheckpoint), ClientError> {
        let cp = self.verify_checkpoint_text(&info.signed_tree_head)?;
        let root = attest_merkle::Hash::from_hex(&info.root_hash).ok();
        if cp.size != info.tree_size || root != Some(cp.root) {
            return Err(single_failure(
                Check::CheckpointBinding,
                "logInfo rootHash/treeSize differ from its signed tree head",
            ));
        }
        Ok((info, cp))
    }

    fn verify_checkpoint_text(&self, note: &str) -> Result<VerifiedCheckpoint, ClientError> {
        let mut last = None;
        for log in &self.logs {
            match self.checkpoints.verify(note, log) {
                Ok(cp) => return Ok(cp),
                Err(e) => last = Some(e),
            }
        }
        match last {
            Some(e) => Err(single_failure(e.check, &e.reason.to_string())),
            None => Err(single_failure(Check::LogKey, "no trusted logs")),
        }
    }
}

/// What a returned entry must log.
#[derive(Clone, Copy)]
enum Expected<'a> {
    Dsse(&'a Envelope, &'a PublicKey),
    HashedRekord {
        digest: &'a [u8; 32],
        signature: &'a [u8],
        key: &'a PublicKey,
    },
}

/// The logged body is a hashedrekord of this digest and signature, by this key.
/// One exchange with retries, however the transport waits.
trait Exchanger: Sync {
    fn exchange<'a>(
        &'a self,
        req: &'a Request<Vec<u8>>,
    ) -> impl Future<Output = Result<(Response<Vec<u8>>, u32), ClientError>> + Send + 'a;
}

/// The operations, written once for both clients.
mod ops {
    use super::{ClientError, Core, Exchanger, Expected, Published, single_failure};
    use attest_rekor::EntryId;
    use attest_rekor::api::{LogEntry, LogInfo, ProposedEntry};
    use attest_rekor::sansio::{self, CreateResponse, ResponseError};
    use attest_rekor::verify::{Check, VerifiedCheckpoint};
    use http::{Request, Response};

    async fn call<R>(
        x: &impl Exchanger,
        req: &Request<Vec<u8>>,
        parse: impl Fn(&Response<Vec<u8>>) -> Result<R, ResponseError>,
    ) -> Result<R, ClientError> {
        let (resp, attempts) = x.exchange(req).await?;
        parse(&resp).map_err(|source| ClientError::Response { attempts, source })
    }

    pub(super) async fn publish(
        core: &Core,
        x: &impl Exchanger,
        proposed: &ProposedEntry,
        expected: Expected<'_>,
    ) -> Result<Published, ClientError> {
        let created = call(
            x,
            &sansio::create_entry(&core.base, proposed)?,
            sansio::parse_create,
        )
        .await?;
        let (entry, already_existed) = match created {
            CreateResponse::Created(entry) => (*entry, false),
            CreateResponse::Exists { location } => {
                let req = sansio::get_location(&core.base, &location)?;
                (call(x, &req, sansio::parse_entry).await?, true)
            }
        };
        let (entry, verified) = core.verified(entry, expected)?;
        Ok(Published {
            entry,
            already_existed,
            verified,
        })
    }

    pub(super) async fn get_verified(
        core: &Core,
        x: &impl Exchanger,
        id: &EntryId,
        expected: Expected<'_>,
    ) -> Result<Published, ClientError> {
        let entry = get_entry(core, x, id).await?;
        let (entry, verified) = core.verified(entry, expected)?;
        Ok(Published {
            entry,
            already_existed: true,
            verified,
        })
    }

    pub(super) async fn get_entry(
        core: &Core,
        x: &impl Exchanger,
        id: &EntryId,
    ) -> Result<LogEntry, ClientError> {
        call(x, &sansio::get_entry(&core.base, id)?, sansio::parse_entry).await
    }

    pub(super) async fn get_entry_by_index(
        core: &Core,
        x: &impl Exchanger,
        index: u64,
    ) -> Result<LogEntry, ClientError> {
        call(
            x,
            &sansio::get_entry_by_index(&core.base, index)?,
            sansio::parse_entry,
        )
        .await
    }

    pub(super) async fn retrieve(
        core: &Core,
        x: &impl Exchanger,
        ids: &[EntryId],
    ) -> Result<Vec<LogEntry>, ClientError> {
        let mut out = Vec::new();
        for chunk in ids.chunks(sansio::MAX_RETRIEVE) {
            out.extend(
                call(
                    x,
                    &sansio::retrieve_entries(&core.base, chunk)?,
                    sansio::parse_retrieve,
                )
                .await?,
            );
        }
        Ok(out)
    }

    pub(super) async fn log_info(
        core: &Core,
        x: &impl Exchanger,
    ) -> Result<(LogInfo, VerifiedCheckpoint), ClientError> {
        let info = call(x, &sansio::log_info(&core.base)?, sansio::parse_log_info).await?;
        core.checked_log_info(info)
    }

    pub(super) async fn prove_consistency(
        core: &Core,
        x: &impl Exchanger,
        old: &VerifiedCheckpoint,
        new: &VerifiedCheckpoint,
    ) -> Result<(), ClientError> {
        if old.size == new.size {
            return if old.root == new.root {
                Ok(())
            } else {
                Err(single_failure(
                    Check::Inclusion,
                    "two checkpoints of the same size with different roots: the log forked",
                ))
            };
        }
        let proof = call(
            x,
            &sansio::consistency_proof(&core.base, old.size, new.size, None)?,
            sansio::parse_consistency,
        )
        .await?;
        let hashes = proof
            .hashes
            .iter()
            .map(|h| attest_merkle::Hash::from_hex(h))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ClientError::Response {
                attempts: 1,
                source: ResponseError::Malformed(sansio::Malformed::Hash(e)),
            })?;
        attest_rekor::verify::hazmat::verify_checkpoint_consistency(old, new, &hashes)
            .map_err(|e| single_failure(e.check, &e.reason.to_string()))
    }
}

/// Generates the public operations of a client: `$wrap` turns an
/// operation's future into the method's result (`.await` or one poll).
macro_rules! client_operations {
    ($($kw:ident)?; $run:path; $($aw:ident)?) => {
        /// Publishes a DSSE envelope as a `dsse` 0.0.1 entry, signed by
        /// `signer` (whose PEM is the verifier the log checks). Returns the
        /// entry only after its SET, checkpoint, inclusion proof and body
        /// verified; a 409 fetches and verifies the existing entry instead.
        ///
        /// # Errors
        /// [`ClientError`].
        pub $($kw)? fn publish_dsse(&self, env: &Envelope, signer: &PublicKey) -> Result<Published, ClientError> {
            let proposed = ProposedEntry::dsse(&env.to_json(), &[signer.to_pem()]);
            $run(ops::publish(&self.core, self.x(), &proposed, Expected::Dsse(env, signer)))$(.$aw)?
        }

        /// Publishes a `hashedrekord` 0.0.1 entry: `signature` by `key` over
        /// the SHA-256 `digest` (ECDSA; Rekor v1 refuses Ed25519 here).
        /// Returned verified, like [`publish_dsse`](Self::publish_dsse).
        ///
        /// # Errors
        /// [`ClientError`].
        pub $($kw)? fn publish_hashedrekord(&self, digest: &[u8; 32], signature: &[u8], key: &PublicKey) -> Result<Published, ClientError> {
            let proposed = ProposedEntry::hashedrekord(digest, signature, &key.to_pem());
            $run(ops::publish(&self.core, self.x(), &proposed, Expected::HashedRekord { digest, signature, key }))$(.$aw)?
        }

        /// Fetches an entry by id and verifies it for `env` signed by `signer`.
        ///
        /// # Errors
        /// [`ClientError`]; an unknown id is a `Response` error with
        /// [`ResponseError::NotFound`](attest_rekor::sansio::ResponseError::NotFound).
        pub $($kw)? fn get_verified(&self, id: &EntryId, env: &Envelope, signer: &PublicKey) -> Result<Published, ClientError> {
            $run(ops::get_verified(&self.core, self.x(), id, Expected::Dsse(env, signer)))$(.$aw)?
        }

        /// Fetches an entry by id (not verified: verify it with the envelope
        /// it logs, e.g. through [`get_verified`](Self::get_verified)).
        ///
        /// # Errors
        /// [`ClientError`].
        pub $($kw)? fn get_entry(&self, id: &EntryId) -> Result<LogEntry, ClientError> {
            $run(ops::get_entry(&self.core, self.x(), id))$(.$aw)?
        }

        /// Fetches an entry by global index (not verified).
        ///
        /// # Errors
        /// [`ClientError`].
        pub $($kw)? fn get_entry_by_index(&self, index: u64) -> Result<LogEntry, ClientError> {
            $run(ops::get_entry_by_index(&self.core, self.x(), index))$(.$aw)?
        }

        /// Fetches many entries, [`MAX_RETRIEVE`](attest_rekor::sansio::MAX_RETRIEVE) per request;
        /// missing ones are omitted (not verified).
        ///
        /// # Errors
        /// [`ClientError`].
        pub $($kw)? fn retrieve(&self, ids: &[EntryId]) -> Result<Vec<LogEntry>, ClientError> {
            $run(ops::retrieve(&self.core, self.x(), ids))$(.$aw)?
        }

        /// The log's current state, with its checkpoint verified against a
        /// trusted log and bound to the reported root and size.
        ///
        /// # Errors
        /// [`ClientError`]; a checkpoint that does not verify, or that does
        /// not match the reported root hash and tree size, is `Verification`.
        pub $($kw)? fn log_info(&self) -> Result<(attest_rekor::api::LogInfo, VerifiedCheckpoint), ClientError> {
            $run(ops::log_info(&self.core, self.x()))$(.$aw)?
        }

        /// Proves that `new` extends `old` (two verified checkpoints of this
        /// log) with a consistency proof from the log.
        ///
        /// # Errors
        /// [`ClientError`]; a proof that does not verify is `Verification`.
        pub $($kw)? fn prove_consistency(&self, old: &VerifiedCheckpoint, new: &VerifiedCheckpoint) -> Result<(), ClientError> {
            $run(ops::prove_consistency(&self.core, self.x(), old, new))$(.$aw)?
        }

        /// The log's base URL.
        #[must_use]
        pub fn base_url(&self) -> &str {
            &self.core.base
        }

        /// The logs this client trusts.
        #[must_use]
        pub fn trusted_logs(&self) -> &[TrustedLog] {
            &self.core.logs
        }

        /// Sets the retry policy.
        #[must_use]
        pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
            self.core.retry = retry;
            self
        }

        /// Replaces the clock that bounds integratedTime.
        #[must_use]
        pub fn with_clock(mut self, clock: impl Clock + 'static) -> Self {
            self.core.clock = Arc::new(clock);
            self
        }
    };
}

/// The blocking client. Everything it returns has been verified against the
/// trusted log keys.
pub struct RekorClient<T> {
    core: Core,
    transport: T,
    sleep: Box<dyn Fn(Duration) + Send + Sync>,
}

impl<T: Transport + Sync> Exchanger for RekorClient<T> {
    fn exchange<'a>(
        &'a self,
        req: &'a Request<Vec<u8>>,
    ) -> impl Future<Output = Result<(Response<Vec<u8>>, u32), ClientError>> + Send + 'a {
        let mut attempt = 0;
        let started = std::time::Instant::now();
        let result = loop {
            attempt += 1;
            let outcome = self
                .transport
                .send(self.core.prepared(req), self.core.attempt_timeout(started));
            match self.core.step(attempt, started, outcome) {
                Step::Return(r) => break r,
                Step::Wait(d) => (self.sleep)(d),
            }
        };
        std::future::ready(result)
    }
}

/// Runs an operation whose exchanges never suspend: one poll completes it.
fn run_blocking<R>(fut: impl Future<Output = Result<R, ClientError>>) -> Result<R, ClientError> {
    let mut fut = std::pin::pin!(fut);
    match fut
        .as_mut()
        .poll(&mut Context::from_waker(std::task::Waker::noop()))
    {
        Poll::Ready(r) => r,
        Poll::Pending => Err(ClientError::Transport {
            attempts: 0,
            source: "a blocking exchange suspended".into(),
        }),
    }
}

impl<T: Transport + Sync> RekorClient<T> {
    /// A client for the log at `base` (e.g. `https://rekor.sigstore.dev`)
    /// trusting `logs`.
    pub fn new(base: impl Into<String>, transport: T, logs: Vec<TrustedLog>) -> Self {
        Self {
            core: Core::new(base.into(), logs),
            transport,
            sleep: Box::new(std::thread::sleep),
        }
    }

    /// Replaces how the client waits between attempts (tests make it instant).
    #[must_use]
    pub fn with_sleep(mut self, sleep: impl Fn(Duration) + Send + Sync + 'static) -> Self {
        self.sleep = Box::new(sleep);
        self
    }

    const fn x(&self) -> &Self {
        self
    }

    /// One exchange with the client's retries (for the v2 client).
    pub(crate) fn exchange_blocking(
        &self,
        req: &Request<Vec<u8>>,
    ) -> Result<(Response<Vec<u8>>, u32), ClientError> {
        run_blocking(self.exchange(req))
    }

    /// The client's clock.
    pub(crate) fn now(&self) -> attest_dsse::Timestamp {
        self.core.clock.now()
    }

    client_operations!(; run_blocking;);
}

/// A boxed sleep future.
type SleepFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The async client: the same operations and guarantees as [`RekorClient`]
/// over an [`AsyncTransport`]; its futures are `Send`.
pub struct AsyncRekorClient<T> {
    core: Core,
    transport: T,
    sleep: Arc<dyn Fn(Duration) -> SleepFuture + Send + Sync>,
}

impl<T: AsyncTransport> Exchanger for AsyncRekorClient<T> {
    async fn exchange<'a>(
        &'a self,
        req: &'a Request<Vec<u8>>,
    ) -> Result<(Response<Vec<u8>>, u32), ClientError> {
        let mut attempt = 0;
        let started = std::time::Instant::now();
        loop {
            attempt += 1;
            let outcome = self
                .transport
                .send(self.core.prepared(req), self.core.attempt_timeout(started))
                .await;
            match self.core.step(attempt, started, outcome) {
                Step::Return(r) => return r,
                Step::Wait(d) => (self.sleep)(d).await,
            }
        }
    }
}

impl<T: AsyncTransport> AsyncRekorClient<T> {
    /// A client for the log at `base` trusting `logs`. Waits between
    /// attempts use a runtime-independent timer (a short-lived thread);
    /// [`with_sleep`](Self::with_sleep) plugs in the runtime's own.
    pub fn new(base: impl Into<String>, transport: T, logs: Vec<TrustedLog>) -> Self {
        Self {
            core: Core::new(base.into(), logs),
            transport,
            sleep: Arc::new(|d| Box::pin(ThreadDelay::new(d))),
        }
    }

    /// Replaces how the client waits between attempts, e.g.
    /// `|d| Box::pin(tokio::time::sleep(d))`.
    #[must_use]
    pub fn with_sleep(
        mut self,
        sleep: impl Fn(Duration) -> SleepFuture + Send + Sync + 'static,
    ) -> Self {
        self.sleep = Arc::new(sleep);
        self
    }

    const fn x(&self) -> &Self {
        self
    }

    /// One exchange with the client's retries (for the v2 client).
    pub(crate) async fn exchange_async(
        &self,
        req: &Request<Vec<u8>>,
    ) -> Result<(Response<Vec<u8>>, u32), ClientError> {
        self.exchange(req).await
    }

    /// The client's clock.
    pub(crate) fn now(&self) -> attest_dsse::Timestamp {
        self.core.clock.now()
    }

    client_operations!(async; std::convert::identity; await);
}

/// A timer future that needs no runtime: a thread sleeps, then wakes it.
struct ThreadDelay {
    at: std::time::Instant,
    started: bool,
}

impl ThreadDelay {
    fn new(d: Duration) -> Self {
        Self {
            at: std::time::Instant::now() + d,
            started: false,
        }
    }
}

impl Future for ThreadDelay {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let now = std::time::Instant::now();
        if now >= self.at {
            return Poll::Ready(());
        }
        if !self.started {
            self.started = true;
            let waker = cx.waker().clone();
            let wait = self.at - now;
            std::thread::spawn(move || {
                std::thread::sleep(wait);
                waker.wake();
            });
        }
        Poll::Pending
    }
}

pub(crate) fn single_failure(check: Check, detail: &str) -> ClientError {
    ClientError::Verification(Report::failure(check, detail))
}

fn retry_after(resp: &Response<Vec<u8>>) -> Option<Duration> {
    let v = resp
        .headers()
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?;
    v.trim().parse::<u64>().ok().map(Duration::from_secs)
}
