//! A blocking Rekor client over any [`Transport`]: retries with backoff and
//! jitter, idempotent publish (409 → fetch the existing entry), and every
//! entry verified before it is returned.

use std::time::Duration;

use attest_dsse::{Envelope, PublicKey, Timestamp};
use http::{Request, Response};

use crate::api::{LogEntry, ProposedEntry};
use crate::sansio::{self, CreateResponse, ResponseError};
use crate::verify::{BundlePolicy, Check, Report, VerifiedCheckpoint, verify_log_entry};
use crate::{EntryId, TrustedLog};

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
            Self::Verification(_) => false,
        }
    }
}

/// How failures are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all (1 = no retry).
    pub max_attempts: u32,
    /// Delay before the first retry; doubled each time, with jitter.
    pub base_delay: Duration,
    /// Cap on one delay (also on an honoured `Retry-After`).
    pub max_delay: Duration,
    /// Timeout of one attempt.
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    /// 4 attempts, 250 ms doubling to at most 10 s, 30 s per attempt.
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
        }
    }
}

/// An entry the log returned, verified.
#[derive(Debug, Clone)]
pub struct Published {
    /// The entry.
    pub entry: LogEntry,
    /// True when the log already had it (409) and it was fetched.
    pub already_existed: bool,
    /// The verification report (every check passed).
    pub report: Report,
}

/// The client. Everything it returns has been verified against the trusted
/// log keys.
pub struct RekorClient<T> {
    base: String,
    transport: T,
    logs: Vec<TrustedLog>,
    retry: RetryPolicy,
    user_agent: String,
    sleep: Box<dyn Fn(Duration) + Send + Sync>,
    now: Box<dyn Fn() -> Timestamp + Send + Sync>,
}

impl<T: Transport> RekorClient<T> {
    /// A client for the log at `base` (e.g. `https://rekor.sigstore.dev`)
    /// trusting `logs`.
    pub fn new(base: impl Into<String>, transport: T, logs: Vec<TrustedLog>) -> Self {
        Self {
            base: base.into(),
            transport,
            logs,
            retry: RetryPolicy::default(),
            user_agent: format!("attestlog-rekor-client/{}", env!("CARGO_PKG_VERSION")),
            sleep: Box::new(std::thread::sleep),
            now: Box::new(Timestamp::now),
        }
    }

    /// Sets the retry policy.
    #[must_use]
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Replaces how the client waits between attempts (tests make it instant).
    #[must_use]
    pub fn with_sleep(mut self, sleep: impl Fn(Duration) + Send + Sync + 'static) -> Self {
        self.sleep = Box::new(sleep);
        self
    }

    /// Replaces the clock that bounds integratedTime.
    #[must_use]
    pub fn with_clock(mut self, now: impl Fn() -> Timestamp + Send + Sync + 'static) -> Self {
        self.now = Box::new(now);
        self
    }

    /// Sends with retries: transport errors, 5xx, 408 and 429 (honouring
    /// `Retry-After`) are retried; other answers are returned.
    fn exchange(&self, req: &Request<Vec<u8>>) -> Result<(Response<Vec<u8>>, u32), ClientError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut r = req.clone();
            if let Ok(v) = http::HeaderValue::from_str(&self.user_agent) {
                r.headers_mut().insert(http::header::USER_AGENT, v);
            }
            let delay = match self.transport.send(r, self.retry.timeout) {
                Ok(resp) => {
                    let s = resp.status().as_u16();
                    let retryable = s >= 500 || s == 408 || s == 429;
                    if !retryable || attempt >= self.retry.max_attempts {
                        return Ok((resp, attempt));
                    }
                    retry_after(&resp).unwrap_or_else(|| self.backoff(attempt))
                }
                Err(e) => {
                    if attempt >= self.retry.max_attempts {
                        return Err(ClientError::Transport {
                            attempts: attempt,
                            source: Box::new(e),
                        });
                    }
                    self.backoff(attempt)
                }
            };
            (self.sleep)(delay.min(self.retry.max_delay));
        }
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

    fn call<R>(
        &self,
        req: &Request<Vec<u8>>,
        parse: impl Fn(&Response<Vec<u8>>) -> Result<R, ResponseError>,
    ) -> Result<R, ClientError> {
        let (resp, attempts) = self.exchange(req)?;
        parse(&resp).map_err(|source| ClientError::Response { attempts, source })
    }

    fn verified(
        &self,
        entry: LogEntry,
        env: &Envelope,
        signer: &PublicKey,
    ) -> Result<(LogEntry, Report), ClientError> {
        let policy = BundlePolicy {
            logs: &self.logs,
            signer_key: Some(signer.clone()),
            now: (self.now)(),
            claimed_time: None,
        };
        let report = verify_log_entry(&entry, env, &policy);
        // The entry id must name the body the log returned.
        let id_ok = *entry.id.uuid() == attest_merkle::leaf_hash(&entry.body);
        if report.verified() && id_ok {
            Ok((entry, report))
        } else {
            let mut report = report;
            if !id_ok {
                report.checks.push(crate::verify::CheckResult {
                    check: crate::verify::Check::Inclusion,
                    outcome: crate::verify::Outcome::Failed,
                    detail: "the entry id is not the leaf hash of the returned body".into(),
                });
            }
            Err(ClientError::Verification(report))
        }
    }

    /// Publishes a DSSE envelope as a `dsse` 0.0.1 entry, signed by
    /// `signer` (whose PEM is the verifier the log checks). Returns the entry
    /// only after its SET, checkpoint, inclusion proof and body verified; a
    /// 409 fetches and verifies the existing entry instead.
    ///
    /// # Errors
    /// [`ClientError`].
    pub fn publish_dsse(
        &self,
        env: &Envelope,
        signer: &PublicKey,
    ) -> Result<Published, ClientError> {
        let proposed = ProposedEntry::dsse(&env.to_json(), &[signer.to_pem()]);
        match self.call(
            &sansio::create_entry(&self.base, &proposed),
            sansio::parse_create,
        )? {
            CreateResponse::Created(entry) => {
                let (entry, report) = self.verified(*entry, env, signer)?;
                Ok(Published {
                    entry,
                    already_existed: false,
                    report,
                })
            }
            CreateResponse::Exists { location } => {
                let url = sansio::resolve_location(&self.base, &location);
                let req = Request::get(url).body(Vec::new()).unwrap_or_default();
                let entry = self.call(&req, sansio::parse_entry)?;
                let (entry, report) = self.verified(entry, env, signer)?;
                Ok(Published {
                    entry,
                    already_existed: true,
                    report,
                })
            }
        }
    }

    /// Fetches an entry by id and verifies it for `env` signed by `signer`.
    ///
    /// # Errors
    /// [`ClientError`]; an unknown id is a `Response` error with
    /// [`ResponseError::NotFound`].
    pub fn get_verified(
        &self,
        id: &EntryId,
        env: &Envelope,
        signer: &PublicKey,
    ) -> Result<Published, ClientError> {
        let entry = self.call(&sansio::get_entry(&self.base, id), sansio::parse_entry)?;
        let (entry, report) = self.verified(entry, env, signer)?;
        Ok(Published {
            entry,
            already_existed: true,
            report,
        })
    }

    /// Fetches an entry by id (not verified: verify it with the envelope it
    /// logs, e.g. through [`get_verified`](Self::get_verified)).
    ///
    /// # Errors
    /// [`ClientError`].
    pub fn get_entry(&self, id: &EntryId) -> Result<LogEntry, ClientError> {
        self.call(&sansio::get_entry(&self.base, id), sansio::parse_entry)
    }

    /// Fetches an entry by global index (not verified).
    ///
    /// # Errors
    /// [`ClientError`].
    pub fn get_entry_by_index(&self, index: u64) -> Result<LogEntry, ClientError> {
        self.call(
            &sansio::get_entry_by_index(&self.base, index),
            sansio::parse_entry,
        )
    }

    /// Fetches many entries, [`sansio::MAX_RETRIEVE`] per request; missing
    /// ones are omitted (not verified).
    ///
    /// # Errors
    /// [`ClientError`].
    pub fn retrieve(&self, ids: &[EntryId]) -> Result<Vec<LogEntry>, ClientError> {
        let mut out = Vec::new();
        for chunk in ids.chunks(sansio::MAX_RETRIEVE) {
            out.extend(self.call(
                &sansio::retrieve_entries(&self.base, chunk),
                sansio::parse_retrieve,
            )?);
        }
        Ok(out)
    }
}

impl<T: Transport> RekorClient<T> {
    /// The log's current state, with its checkpoint verified against the
    /// trusted log whose name matches the checkpoint origin's host, and
    /// bound to the reported root and size.
    ///
    /// # Errors
    /// [`ClientError`]; a checkpoint that does not verify, or that does not
    /// match the reported root hash and tree size, is `Verification`.
    pub fn log_info(&self) -> Result<(crate::api::LogInfo, VerifiedCheckpoint), ClientError> {
        let info = self.call(&sansio::log_info(&self.base), sansio::parse_log_info)?;
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

    /// Proves that `new` extends `old` (two verified checkpoints of this log)
    /// with a consistency proof from the log.
    ///
    /// # Errors
    /// [`ClientError`]; a proof that does not verify is `Verification`.
    pub fn prove_consistency(
        &self,
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
        let proof = self.call(
            &sansio::consistency_proof(&self.base, old.size, new.size, None),
            sansio::parse_consistency,
        )?;
        let hashes = proof
            .hashes
            .iter()
            .map(|h| attest_merkle::Hash::from_hex(h))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ClientError::Response {
                attempts: 1,
                source: ResponseError::Malformed(e.to_string()),
            })?;
        crate::verify::verify_checkpoint_consistency(old, new, &hashes)
            .map_err(|e| single_failure(e.check, &e.reason))
    }

    fn verify_checkpoint_text(&self, note: &str) -> Result<VerifiedCheckpoint, ClientError> {
        let mut last = None;
        for log in &self.logs {
            match crate::verify::verify_checkpoint(note, log) {
                Ok(cp) => return Ok(cp),
                Err(e) => last = Some(e),
            }
        }
        let e = last.unwrap_or_else(|| crate::verify::CheckError {
            check: Check::LogKey,
            reason: "no trusted logs".into(),
        });
        Err(single_failure(e.check, &e.reason))
    }
}

fn single_failure(check: Check, detail: &str) -> ClientError {
    ClientError::Verification(Report {
        checks: vec![crate::verify::CheckResult {
            check,
            outcome: crate::verify::Outcome::Failed,
            detail: detail.to_owned(),
        }],
    })
}

fn retry_after(resp: &Response<Vec<u8>>) -> Option<Duration> {
    let v = resp
        .headers()
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?;
    v.trim().parse::<u64>().ok().map(Duration::from_secs)
}
