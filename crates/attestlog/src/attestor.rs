//! The attest flow: statement → DSSE envelope → row persisted → (log
//! configured) published, verified, attached.

use std::sync::Arc;

use attest_dsse::{
    Clock, Envelope, EnvelopeError, IN_TOTO_PAYLOAD_TYPE, SigningKey, Statement, StatementError,
    SystemClock,
};
use attest_rekor::{ApiError, LogEntry};
use attest_store::{AttestationId, AttestationStore, LogEntryRecord, NewAttestation, StoreError};
use rekor_client::ClientError;
use rekor_client::tsa::Timestamped;
use rekor_client::v2::V2Published;
#[cfg(doc)]
use rekor_client::{AsyncRekorClient, RekorClient};

use std::marker::PhantomData;

use crate::ErrorKind;
use crate::blocking::Blocking;
#[cfg(doc)]
use crate::log::{AsyncRekorV2, RekorV2};
use crate::log::{LogOps, PipelineLog, PublishFailure, mode, run_ready};

use crate::binding;

/// Why an attestation could not be made or stored. A log failure is not an
/// error of `attest`: the row stays pending (see [`Attested::publish_error`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AttestError {
    /// The tenant is empty.
    #[error("invalid attestation: the tenant is empty")]
    EmptyTenant,
    /// The subject is empty.
    #[error("invalid attestation: the subject is empty")]
    EmptySubject,
    /// The statement is not a valid in-toto statement.
    #[error("invalid attestation")]
    Statement(#[source] StatementError),
    /// Signing failed.
    #[error("signing failed")]
    Sign(#[source] signature::Error),
    /// The store failed; nothing was published.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A stored row could not be read back for publication.
    #[error("stored envelope of {id} is unreadable")]
    StoredEnvelope {
        /// The row.
        id: AttestationId,
        /// Why.
        #[source]
        source: EnvelopeError,
    },
    /// The log's verified answer could not be recorded (its evidence does
    /// not serialize as a Rekor entry).
    #[error("the log entry's evidence cannot be recorded")]
    Evidence(#[source] ApiError),
    /// The attestation cannot be written to the configured Rekor v2 log
    /// (e.g. an Ed25519 signer: `hashedrekord` 0.0.2 carries a digest,
    /// which a pure Ed25519 signature over the PAE cannot be checked
    /// against). Checked before anything is stored.
    #[error("cannot publish to the Rekor v2 log")]
    V2Request(#[source] attest_rekor::v2::V2Error),
    /// A Rekor v2 log is configured without a timestamp authority: its
    /// entries would have no verified time. Checked before anything is
    /// stored.
    #[error(
        "a Rekor v2 log keeps no time: it needs a timestamp authority (--tsa-url or REKOR_TSA_URL; in code, RekorV2::with_tsa)"
    )]
    NoTimestampAuthority,
    /// The envelope to publish to a Rekor v2 log does not have exactly one
    /// signature (the one the timestamp is over).
    #[error("a Rekor v2 entry needs an envelope with exactly one signature, this one has {0}")]
    SignatureCount(usize),
    /// The same statement (subject, predicate, tenant and claimed second:
    /// the same attestation id) is already stored with another signature
    /// (another key signed it in the same second). Nothing was published;
    /// the stored row is untouched. Attesting again a second later makes a
    /// new attestation.
    #[error(
        "attestation {id} (the same statement in the same second) is already stored with another signature; nothing was published"
    )]
    SignedDifferently {
        /// The stored attestation.
        id: AttestationId,
    },
    /// A blocking pipeline suspended: a bug in this crate.
    #[error(transparent)]
    Suspended(#[from] crate::log::Suspended),
}

impl AttestError {
    /// What kind of failure this is, for callers that branch on it.
    #[must_use]
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::EmptyTenant
            | Self::EmptySubject
            | Self::Statement(_)
            | Self::V2Request(_)
            | Self::NoTimestampAuthority => ErrorKind::InvalidInput,
            Self::SignedDifferently { .. } => ErrorKind::Conflict,
            Self::SignatureCount(_) => ErrorKind::Corrupt,
            Self::Sign(_) | Self::Suspended(_) => ErrorKind::Other,
            Self::Store(e) => ErrorKind::from_store(e),
            Self::StoredEnvelope { .. } | Self::Evidence(_) => ErrorKind::Corrupt,
        }
    }
}

/// What `attest` did.
#[derive(Debug)]
#[non_exhaustive]
pub struct Attested {
    /// The attestation id: SHA-256 of the envelope's PAE.
    pub id: AttestationId,
    /// The envelope as signed and stored.
    pub envelope: Envelope,
    /// The verified log entry, when published.
    pub entry: Option<LogEntryRecord>,
    /// Why publication failed (the row is pending; `publish_pending` retries).
    pub publish_error: Option<ClientError>,
}

/// What `publish_pending` did.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct PublishSummary {
    /// Rows published and attached.
    pub published: usize,
    /// Rows still pending, with the log's error.
    pub failed: Vec<(AttestationId, ClientError)>,
}

/// Builds an [`Attestor`] (blocking log client) or an [`AsyncAttestor`]
/// (async log client): `Attestor::builder(signer, store)`, optionally
/// `.log(client)` and `.clock(clock)`, then `.build()`. The client — Rekor
/// v1 or v2, blocking or async, or a configured one — decides the mode `M`
/// and so which attestor `build` makes.
#[must_use = "a builder does nothing until built"]
#[derive(Debug)]
pub struct AttestorBuilder<M = mode::Blocking> {
    core: Core,
    mode: PhantomData<fn() -> M>,
}

impl<M> AttestorBuilder<M> {
    fn new(signer: SigningKey, store: Box<dyn AttestationStore>) -> Self {
        Self {
            core: Core {
                signer,
                store: Arc::from(store),
                blocking: Blocking::InPlace,
                log: None,
                clock: Arc::new(SystemClock),
            },
            mode: PhantomData,
        }
    }

    /// Publishes to the log behind `client`: a [`RekorClient`] or a
    /// [`RekorV2`] builds an [`Attestor`], an [`AsyncRekorClient`] or an
    /// [`AsyncRekorV2`] an [`AsyncAttestor`]. A Rekor v2 log times each
    /// attestation with its timestamp authority (over its signature), then
    /// logs it as `hashedrekord` 0.0.2 over its PAE; both answers are
    /// verified before the entry is attached. Its signer must be ECDSA (v2
    /// cannot check an Ed25519 signature over a PAE: see
    /// [`AttestError::V2Request`]). An attestor publishes to one log: this
    /// replaces a log given before.
    pub fn log<C: PipelineLog>(self, client: C) -> AttestorBuilder<C::Mode> {
        self.optional_log(Some(client))
    }

    /// [`log`](Self::log) when `client` is `Some`; `None` changes nothing
    /// (e.g. from a configuration where publication is optional).
    pub fn optional_log<C: PipelineLog>(mut self, client: Option<C>) -> AttestorBuilder<C::Mode> {
        if let Some(client) = client {
            self.core.log = Some(client.into_ops());
        }
        AttestorBuilder {
            core: self.core,
            mode: PhantomData,
        }
    }

    /// The clock that sets claimed times (default: the system clock).
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.core.clock = Arc::new(clock);
        self
    }
}

impl AttestorBuilder<mode::Blocking> {
    /// The blocking attestor.
    pub fn build(self) -> Attestor {
        Attestor { core: self.core }
    }
}

impl AttestorBuilder<mode::Async> {
    /// The async attestor: it calls the store on threads of its own, so a
    /// blocking store (SQLite, PostgreSQL) never blocks the executor.
    pub fn build(mut self) -> AsyncAttestor {
        self.core.blocking = Blocking::OwnThread;
        AsyncAttestor { core: self.core }
    }
}

/// What both attestors share; the flows are written once, as futures.
struct Core {
    signer: SigningKey,
    store: Arc<dyn AttestationStore>,
    /// Where the store is called (in place, or off the async threads).
    blocking: Blocking,
    /// The log published to (v1 or v2), if any.
    log: Option<Arc<dyn LogOps>>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attestor")
            .field("signer", &self.signer.public_key().key_id())
            .field("publishes_to", &self.log.as_ref().map(|l| l.api()))
            .finish_non_exhaustive()
    }
}

impl Core {
    async fn attest(
        &self,
        tenant: &str,
        subject: &str,
        mut statement: Statement,
    ) -> Result<Attested, AttestError> {
        if tenant.is_empty() {
            return Err(AttestError::EmptyTenant);
        }
        if subject.is_empty() {
            return Err(AttestError::EmptySubject);
        }
        statement
            .validate_for_signing()
            .map_err(AttestError::Statement)?;
        let claimed = self.clock.now().unix();
        for s in &mut statement.subject {
            s.annotations.insert(binding::TENANT.into(), tenant.into());
            s.annotations
                .insert(binding::SUBJECT.into(), subject.into());
            s.annotations
                .insert(binding::CLAIMED_TIME.into(), claimed.into());
        }
        let env = Envelope::sign(IN_TOTO_PAYLOAD_TYPE, statement.to_json(), &[&self.signer])
            .map_err(AttestError::Sign)?;
        // What the log cannot take is refused before anything is stored.
        if let Some(log) = &self.log {
            log.admit(&env, self.signer.public_key())?;
        }
        let id = binding::attestation_id_of(&env);
        let signed = env.to_json().into_bytes();
        let row = NewAttestation::new(
            id,
            tenant,
            subject,
            statement.predicate_type.clone(),
            signed.clone(),
            vec![self.signer.public_key().key_id()],
            claimed,
        );
        let stored = self.blocking.on(&self.store, move |s| s.put(&row)).await?;
        // The id covers the statement, not the signatures: a row already
        // stored under it with another envelope is another signer's (or
        // the same statement signed differently); it is never published
        // over.
        if stored.attestation.envelope != signed {
            return Err(AttestError::SignedDifferently { id });
        }
        let (entry, publish_error) = match self.publish(&id, &env).await {
            Ok(e) => (e, None),
            Err(PublishFailure::Log(e)) => (None, Some(e)),
            Err(PublishFailure::Other(e)) => return Err(e),
        };
        Ok(Attested {
            id,
            envelope: env,
            entry,
            publish_error,
        })
    }

    async fn publish(
        &self,
        id: &AttestationId,
        env: &Envelope,
    ) -> Result<Option<LogEntryRecord>, PublishFailure> {
        let Some(log) = &self.log else {
            return Ok(None);
        };
        let record = log.publish(env, self.signer.public_key()).await?;
        let (id, attached) = (*id, record.clone());
        self.blocking
            .on(&self.store, move |s| s.attach_entry(&id, &attached))
            .await
            .map_err(|e| PublishFailure::Other(e.into()))?;
        Ok(Some(record))
    }

    async fn publish_pending(&self, tenant: Option<&str>) -> Result<PublishSummary, AttestError> {
        let mut summary = PublishSummary::default();
        if self.log.is_none() {
            return Ok(summary);
        }
        let tenant = tenant.map(str::to_owned);
        let pending = self
            .blocking
            .on(&self.store, move |s| {
                s.pending(tenant.as_deref(), usize::MAX)
            })
            .await?;
        for row in pending {
            let id = row.attestation.id;
            let env = Envelope::from_json(&row.attestation.envelope)
                .map_err(|source| AttestError::StoredEnvelope { id, source })?;
            match self.publish(&id, &env).await {
                Ok(_) => summary.published += 1,
                Err(PublishFailure::Log(e)) => summary.failed.push((id, e)),
                Err(PublishFailure::Other(e)) => return Err(e),
            }
        }
        Ok(summary)
    }
}

/// Signs, stores and (optionally) publishes attestations over a blocking
/// log client (or none).
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use attestlog::dsse::{Algorithm, SigningKey, Statement, Subject};
/// use attestlog::store::MemoryStore;
///
/// let attestor = attestlog::Attestor::builder(
///     SigningKey::generate(Algorithm::Ed25519)?,
///     Box::new(MemoryStore::new()),
/// )
/// .build();
/// let subject = Subject::sha256("app", &[0xab; 32]);
/// let done = attestor.attest("acme", "app", Statement::new(subject, "https://example.com/p", serde_json::json!({})))?;
/// assert!(done.entry.is_none()); // no log: signed and stored only
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Attestor {
    core: Core,
}

impl Attestor {
    /// A builder signing with `signer` and storing in `store`; without
    /// `.log(…)` it publishes nothing.
    pub fn builder(
        signer: SigningKey,
        store: Box<dyn AttestationStore>,
    ) -> AttestorBuilder<mode::Blocking> {
        AttestorBuilder::new(signer, store)
    }

    /// The store.
    #[must_use]
    pub fn store(&self) -> &dyn AttestationStore {
        self.core.store.as_ref()
    }

    /// The signing key.
    #[must_use]
    pub const fn signer(&self) -> &SigningKey {
        &self.core.signer
    }

    /// Signs `statement` for `tenant` under `label`, binding both and the
    /// claimed time into every statement subject's annotations
    /// ([`binding`]); **persists the row first**; then, with a log
    /// configured, publishes it, verifies what the log returned and attaches
    /// the entry. A log failure leaves the row pending and is reported in
    /// [`Attested::publish_error`].
    ///
    /// `label` is what the row is stored, listed and audited under (the
    /// store's `subject` column; `Auditor::audit(tenant, label)`), e.g.
    /// `repo@<commit>` or `app.tar.gz`: a free-form name chosen by the
    /// service, **not** checked against the statement's subjects (those are
    /// in-toto's: names and digests of the artifacts). It cannot drift from
    /// what was signed, though: it is bound into the signed statement, and
    /// the auditor's `binding` check fails a row whose label is not the one
    /// the signer bound. To make the two agree, use a subject's name (or
    /// `NAME@ALG:HEX`, as the CLI's `attest --subject` does).
    ///
    /// # Errors
    /// [`AttestError`] when nothing could be stored.
    pub fn attest(
        &self,
        tenant: &str,
        label: &str,
        statement: Statement,
    ) -> Result<Attested, AttestError> {
        run_ready(self.core.attest(tenant, label, statement))
    }

    /// Publishes every pending row (of `tenant`, or all), oldest first:
    /// the recovery path after a log outage.
    ///
    /// # Errors
    /// [`AttestError::Store`] when the store fails; log failures are listed
    /// in the summary and the rows stay pending.
    pub fn publish_pending(&self, tenant: Option<&str>) -> Result<PublishSummary, AttestError> {
        run_ready(self.core.publish_pending(tenant))
    }
}

/// [`Attestor`] over an async transport: the same flow, the log I/O
/// awaited, and the store — whose calls block — called on threads of its
/// own, so any store (PostgreSQL's client included) works on any executor.
/// Its futures are `Send`.
#[derive(Debug)]
pub struct AsyncAttestor {
    core: Core,
}

impl AsyncAttestor {
    /// A builder signing with `signer` and storing in `store`; give it an
    /// [`AsyncRekorClient`] with `.log(…)`.
    pub fn builder(
        signer: SigningKey,
        store: Box<dyn AttestationStore>,
    ) -> AttestorBuilder<mode::Async> {
        AttestorBuilder::new(signer, store)
    }

    /// The store.
    #[must_use]
    pub fn store(&self) -> &dyn AttestationStore {
        self.core.store.as_ref()
    }

    /// The signing key.
    #[must_use]
    pub const fn signer(&self) -> &SigningKey {
        &self.core.signer
    }

    /// [`Attestor::attest`], awaiting the log.
    ///
    /// # Errors
    /// [`AttestError`] when nothing could be stored.
    pub async fn attest(
        &self,
        tenant: &str,
        label: &str,
        statement: Statement,
    ) -> Result<Attested, AttestError> {
        self.core.attest(tenant, label, statement).await
    }

    /// [`Attestor::publish_pending`], awaiting the log.
    ///
    /// # Errors
    /// [`AttestError::Store`].
    pub async fn publish_pending(
        &self,
        tenant: Option<&str>,
    ) -> Result<PublishSummary, AttestError> {
        self.core.publish_pending(tenant).await
    }
}

/// The store's record of a verified entry: the ids, both indices and the
/// time, with the log's whole answer kept as evidence (the REST entry JSON,
/// its checkpoint and SET), so a bundle can be exported without the log.
///
/// # Errors
/// [`ApiError`] when the SET is not base64 (a verified entry's always is).
pub fn entry_record(e: &LogEntry) -> Result<LogEntryRecord, ApiError> {
    let proof = e.inclusion_proof.as_ref();
    let set = match e.signed_entry_timestamp.as_deref() {
        None => Vec::new(),
        Some(s) => <base64ct::Base64 as base64ct::Encoding>::decode_vec(s).map_err(|_| {
            ApiError::Field {
                field: "verification.signedEntryTimestamp",
                reason: attest_rekor::FieldProblem::NotBase64,
            }
        })?,
    };
    // No checkpoint (an entry that was not verified) is no evidence.
    let checkpoint = proof
        .and_then(|p| p.checkpoint.as_deref())
        .map_or_else(Vec::new, |c| c.as_bytes().to_vec());
    Ok(LogEntryRecord::new(
        e.id.to_string(),
        e.log_id.to_hex(),
        e.log_index,
        proof.map_or(e.log_index, |p| p.log_index),
        e.integrated_time,
    )
    .with_evidence(e.to_json().into_bytes(), checkpoint, set))
}

/// The store's record of a verified Rekor v2 entry and its verified
/// timestamp: the leaf hash (a v2 log has no entry ids), the log id, the
/// leaf index, the timestamp's genTime, with the `TransparencyLogEntry`
/// JSON, its checkpoint and the RFC 3161 response kept as evidence, so a
/// bundle can be exported without the log.
#[must_use]
pub fn entry_record_v2(published: &V2Published, timestamp: &Timestamped) -> LogEntryRecord {
    let entry = &published.evidence.entry;
    let leaf = attest_merkle::leaf_hash(&published.body);
    // A struct of strings always serializes.
    let json = serde_json::to_vec(&published.entry).unwrap_or_default();
    LogEntryRecord::v2(
        leaf.to_string(),
        entry.log_id.to_hex(),
        entry.log_index,
        timestamp.verified.gen_time.unix(),
    )
    .with_evidence(json, entry.checkpoint.note.as_bytes().to_vec(), Vec::new())
    .with_timestamp(timestamp.response.clone())
}
