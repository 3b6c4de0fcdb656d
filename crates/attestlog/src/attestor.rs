//! The attest flow: statement → DSSE envelope → row persisted → (log
//! configured) published, verified, attached.

use attest_dsse::{Envelope, IN_TOTO_PAYLOAD_TYPE, SigningKey, Statement, Timestamp};
use attest_store::{AttestationId, AttestationStore, LogEntryRecord, NewAttestation, StoreError};
use rekor_client::{ClientError, LogEntry};
use sha2::{Digest, Sha256};

use crate::LogClient;

/// The annotation keys the attestor adds to every subject of a statement,
/// binding the signed statement to its row: the tenant, the stored subject
/// and the claimed time (Unix seconds).
pub mod binding {
    /// The tenant owning the attestation.
    pub const TENANT: &str = "attestlog.dev/tenant";
    /// The subject as stored (`name` or `name@sha256:hex`).
    pub const SUBJECT: &str = "attestlog.dev/subject";
    /// The time the attestation claims, Unix seconds.
    pub const CLAIMED_TIME: &str = "attestlog.dev/claimedTime";
}

/// Why an attestation could not be made or stored. A log failure is not an
/// error of `attest`: the row stays pending (see [`Attested::publish_error`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AttestError {
    /// The statement or its metadata is invalid.
    #[error("invalid attestation: {0}")]
    Invalid(String),
    /// Signing failed.
    #[error("signing failed: {0}")]
    Sign(String),
    /// The store failed; nothing was published.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A stored row could not be read back for publication.
    #[error("stored envelope of {id} is unreadable: {reason}")]
    StoredEnvelope {
        /// The row.
        id: AttestationId,
        /// Why.
        reason: String,
    },
}

/// What `attest` did.
#[derive(Debug)]
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
pub struct PublishSummary {
    /// Rows published and attached.
    pub published: usize,
    /// Rows still pending, with the reason.
    pub failed: Vec<(AttestationId, String)>,
}

/// Signs, stores and (optionally) publishes attestations.
pub struct Attestor {
    signer: SigningKey,
    store: Box<dyn AttestationStore>,
    log: Option<LogClient>,
    now: Box<dyn Fn() -> Timestamp + Send + Sync>,
}

impl std::fmt::Debug for Attestor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attestor")
            .field("signer", &self.signer.public_key().key_id())
            .field("publishes", &self.log.is_some())
            .finish_non_exhaustive()
    }
}

impl Attestor {
    /// An attestor signing with `signer`, storing in `store`, publishing to
    /// `log` when given.
    #[must_use]
    pub fn new(
        signer: SigningKey,
        store: Box<dyn AttestationStore>,
        log: Option<LogClient>,
    ) -> Self {
        Self {
            signer,
            store,
            log,
            now: Box::new(Timestamp::now),
        }
    }

    /// Replaces the clock that sets claimed times.
    #[must_use]
    pub fn with_clock(mut self, now: impl Fn() -> Timestamp + Send + Sync + 'static) -> Self {
        self.now = Box::new(now);
        self
    }

    /// The store.
    #[must_use]
    pub fn store(&self) -> &dyn AttestationStore {
        self.store.as_ref()
    }

    /// The signing key.
    #[must_use]
    pub const fn signer(&self) -> &SigningKey {
        &self.signer
    }

    /// Signs `statement` for `tenant` about `subject`, binding both and the
    /// claimed time into every statement subject's annotations
    /// ([`binding`]); **persists the row first**; then, with a log
    /// configured, publishes it, verifies what the log returned and attaches
    /// the entry. A log failure leaves the row pending and is reported in
    /// [`Attested::publish_error`].
    ///
    /// # Errors
    /// [`AttestError`] when nothing could be stored.
    pub fn attest(
        &self,
        tenant: &str,
        subject: &str,
        mut statement: Statement,
    ) -> Result<Attested, AttestError> {
        if tenant.is_empty() || subject.is_empty() {
            return Err(AttestError::Invalid(
                "tenant and subject must be non-empty".into(),
            ));
        }
        statement
            .validate()
            .map_err(|e| AttestError::Invalid(e.to_string()))?;
        let claimed = (self.now)().unix();
        for s in &mut statement.subject {
            s.annotations.insert(binding::TENANT.into(), tenant.into());
            s.annotations
                .insert(binding::SUBJECT.into(), subject.into());
            s.annotations
                .insert(binding::CLAIMED_TIME.into(), claimed.into());
        }
        let env = Envelope::sign(IN_TOTO_PAYLOAD_TYPE, statement.to_json(), &[&self.signer])
            .map_err(|e| AttestError::Sign(e.to_string()))?;
        let id = AttestationId(Sha256::digest(env.pae()).into());
        let row = NewAttestation {
            id,
            tenant: tenant.to_owned(),
            subject: subject.to_owned(),
            predicate_type: statement.predicate_type.clone(),
            envelope: env.to_json().into_bytes(),
            signer_key_ids: vec![self.signer.public_key().key_id()],
            claimed_time: claimed,
        };
        self.store.put(&row)?;
        let (entry, publish_error) = match self.publish(&id, &env) {
            Ok(e) => (e, None),
            Err(PublishFailure::Log(e)) => (None, Some(e)),
            Err(PublishFailure::Store(e)) => return Err(e.into()),
        };
        Ok(Attested {
            id,
            envelope: env,
            entry,
            publish_error,
        })
    }

    fn publish(
        &self,
        id: &AttestationId,
        env: &Envelope,
    ) -> Result<Option<LogEntryRecord>, PublishFailure> {
        let Some(log) = &self.log else {
            return Ok(None);
        };
        let published = log
            .publish_dsse(env, self.signer.public_key())
            .map_err(PublishFailure::Log)?;
        let record = entry_record(&published.entry);
        self.store
            .attach_entry(id, &record)
            .map_err(PublishFailure::Store)?;
        Ok(Some(record))
    }

    /// Publishes every pending row (of `tenant`, or all), oldest first:
    /// the recovery path after a log outage. Rows signed by another key are
    /// published only if this attestor's key signed them.
    ///
    /// # Errors
    /// [`AttestError::Store`] when the store fails; log failures are counted
    /// in the summary and the rows stay pending.
    pub fn publish_pending(&self, tenant: Option<&str>) -> Result<PublishSummary, AttestError> {
        let mut summary = PublishSummary::default();
        if self.log.is_none() {
            return Ok(summary);
        }
        for row in self.store.pending(tenant, usize::MAX)? {
            let id = row.attestation.id;
            let env = Envelope::from_json(&row.attestation.envelope).map_err(|e| {
                AttestError::StoredEnvelope {
                    id,
                    reason: e.to_string(),
                }
            })?;
            match self.publish(&id, &env) {
                Ok(_) => summary.published += 1,
                Err(PublishFailure::Log(e)) => summary.failed.push((id, e.to_string())),
                Err(PublishFailure::Store(e)) => return Err(e.into()),
            }
        }
        Ok(summary)
    }
}

enum PublishFailure {
    Log(ClientError),
    Store(StoreError),
}

/// The store's record of a verified entry: the ids, both indices and the
/// time, with the log's whole answer kept as evidence (the REST entry JSON,
/// its checkpoint and SET), so a bundle can be exported without the log.
#[must_use]
pub fn entry_record(e: &LogEntry) -> LogEntryRecord {
    let proof = e.inclusion_proof.as_ref();
    LogEntryRecord {
        entry_id: e.id.to_string(),
        log_id: e.log_id.clone(),
        global_index: e.log_index,
        shard_index: proof.map_or(e.log_index, |p| p.log_index),
        integrated_time: e.integrated_time,
        inclusion_proof: e.to_json().into_bytes(),
        checkpoint: proof
            .and_then(|p| p.checkpoint.clone())
            .unwrap_or_default()
            .into_bytes(),
        set: e
            .signed_entry_timestamp
            .as_deref()
            .and_then(|s| <base64ct::Base64 as base64ct::Encoding>::decode_vec(s).ok())
            .unwrap_or_default(),
    }
}
