//! What both clients share: where the log is, what is trusted, and one exchange with retries (backoff with jitter, `Retry-After`), with a timer that needs no runtime.

#[allow(clippy::wildcard_imports)]
use super::*;

/// What both clients share: where the log is, what is trusted, how to retry.
pub(super) struct Core {
    pub(super) base: String,
    /// What is trusted, and the checkpoints verified so far.
    pub(super) verifier: attest_rekor::Verifier,
    pub(super) retry: RetryPolicy,
    pub(super) user_agent: String,
    pub(super) clock: Arc<dyn Clock>,
}

/// What one attempt leads to.
pub(super) enum Step {
    Return(Result<(Response<Vec<u8>>, u32), ClientError>),
    Wait(Duration),
}

impl Core {
    pub(super) fn new(base: String, logs: Vec<TrustedLog>) -> Self {
        Self {
            base,
            verifier: attest_rekor::Verifier::new(attest_rekor::TrustedRoot::from_logs(logs)),
            retry: RetryPolicy::default(),
            user_agent: format!("attestlog-rekor-client/{}", env!("CARGO_PKG_VERSION")),
            clock: Arc::new(SystemClock),
        }
    }

    pub(super) fn prepared(&self, req: &Request<Vec<u8>>) -> Request<Vec<u8>> {
        let mut r = req.clone();
        if let Ok(v) = http::HeaderValue::from_str(&self.user_agent) {
            r.headers_mut().insert(http::header::USER_AGENT, v);
        }
        r
    }

    /// Transport errors, 5xx, 408 and 429 (honouring `Retry-After`) are
    /// retried until the attempts run out; other answers are returned.
    pub(super) fn step<E: std::error::Error + Send + Sync + 'static>(
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
    pub(super) fn attempt_timeout(&self, started: std::time::Instant) -> Duration {
        self.retry
            .timeout
            .min(self.retry.deadline.saturating_sub(started.elapsed()))
    }

    /// Exponential backoff with full jitter: a random delay up to
    /// `base * 2^(attempt-1)`, capped.
    pub(super) fn backoff(&self, attempt: u32) -> Duration {
        let ceiling = self
            .retry
            .base_delay
            .saturating_mul(1 << (attempt - 1).min(16))
            .min(self.retry.max_delay);
        let r = getrandom::u32().unwrap_or(u32::MAX / 2);
        ceiling.mul_f64(f64::from(r) / f64::from(u32::MAX))
    }

    pub(super) fn verified(
        &self,
        entry: LogEntry,
        expected: Expected<'_>,
    ) -> Result<(LogEntry, Verified), ClientError> {
        let now = self.clock.now();
        let result = match expected {
            Expected::Dsse(env, signer) => self.verifier.verify_log_entry(
                &entry,
                env,
                &Policy::new(SignerPolicy::Key(signer.clone()), now),
            ),
            Expected::HashedRekord {
                digest,
                signature,
                key,
            } => self.verifier.verify_log_entry_message(
                &entry,
                digest,
                signature,
                &Policy::new(SignerPolicy::Key(key.clone()), now),
            ),
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

    pub(super) fn checked_log_info(
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

    pub(super) fn verify_checkpoint_text(
        &self,
        note: &str,
    ) -> Result<VerifiedCheckpoint, ClientError> {
        let mut last = None;
        for log in self.verifier.root().logs() {
            match self.verifier.checkpoints().verify(note, log) {
                Ok(cp) => return Ok(cp),
                Err(e) => last = Some(e),
            }
        }
        match last {
            Some(e) => Err(single_failure(
                e.check,
                &attest_dsse::ErrorChain(&e.reason).to_string(),
            )),
            None => Err(single_failure(Check::LogKey, "no trusted logs")),
        }
    }
}

/// A timer future that needs no runtime: a thread sleeps, then wakes it.
pub(super) struct ThreadDelay {
    pub(super) at: std::time::Instant,
    pub(super) started: bool,
}

impl ThreadDelay {
    pub(super) fn new(d: Duration) -> Self {
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

pub(super) fn retry_after(resp: &Response<Vec<u8>>) -> Option<Duration> {
    let v = resp
        .headers()
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?;
    v.trim().parse::<u64>().ok().map(Duration::from_secs)
}
