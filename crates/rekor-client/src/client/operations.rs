//! The clients' operations, written once as futures (publish, get, log info, consistency) and instantiated for the blocking and the async client.

#[allow(clippy::wildcard_imports)]
use super::*;

/// What a returned entry must log.
#[derive(Clone, Copy)]
pub(super) enum Expected<'a> {
    Dsse(&'a Envelope, &'a PublicKey),
    HashedRekord {
        digest: &'a [u8; 32],
        signature: &'a [u8],
        key: &'a PublicKey,
    },
}

/// One exchange with retries, however the transport waits.
pub(super) trait Exchanger: Sync {
    fn exchange<'a>(
        &'a self,
        req: &'a Request<Vec<u8>>,
    ) -> impl Future<Output = Result<(Response<Vec<u8>>, u32), ClientError>> + Send + 'a;
}

/// The operations, written once for both clients.
pub(super) mod ops {
    use super::{ClientError, Core, Exchanger, Expected, Published, single_failure};
    use attest_rekor::EntryId;
    use attest_rekor::api::{LogEntry, LogInfo, ProposedEntry};
    use attest_rekor::sansio::{self, CreateResponse, ResponseError};
    use attest_rekor::verify::{Check, VerifiedCheckpoint};
    use http::{Request, Response};

    pub(super) async fn call<R>(
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

    pub(super) async fn retrieve_indexes(
        core: &Core,
        x: &impl Exchanger,
        indexes: &[u64],
    ) -> Result<Vec<LogEntry>, ClientError> {
        let mut out = Vec::with_capacity(indexes.len());
        for chunk in indexes.chunks(sansio::MAX_RETRIEVE) {
            out.extend(
                call(
                    x,
                    &sansio::retrieve_indexes(&core.base, chunk)?,
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
            .map_err(|e| single_failure(e.check, &attest_dsse::ErrorChain(&e.reason).to_string()))
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

        /// Fetches the entries at many log indexes,
        /// [`MAX_RETRIEVE`](attest_rekor::sansio::MAX_RETRIEVE) per request;
        /// missing ones are omitted (not verified: a caller enumerating the
        /// log checks the bodies against a verified checkpoint).
        ///
        /// # Errors
        /// [`ClientError`].
        pub $($kw)? fn retrieve_indexes(&self, indexes: &[u64]) -> Result<Vec<LogEntry>, ClientError> {
            $run(ops::retrieve_indexes(&self.core, self.x(), indexes))$(.$aw)?
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
            self.core.verifier.root().logs()
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
pub(super) fn run_blocking<R>(
    fut: impl Future<Output = Result<R, ClientError>>,
) -> Result<R, ClientError> {
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

    pub(super) const fn x(&self) -> &Self {
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
pub(super) type SleepFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

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

    pub(super) const fn x(&self) -> &Self {
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
