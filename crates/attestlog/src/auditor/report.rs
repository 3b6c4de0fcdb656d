//! What an audit says: its lines, the report, the facts it established, and why it could not run.

#[allow(clippy::wildcard_imports)]
use super::*;

/// One line of an audit report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum AuditCheck {
    /// The row's attestation id is SHA-256 of its envelope's PAE (the id is
    /// re-derived, never trusted from the store).
    AttestationId,
    /// The stored envelope is signed by a key the auditor's policy trusts:
    /// a key of the key set, the pinned key, or (identity policy) the key
    /// of the signing certificate — which the `certificate` line judges.
    EnvelopeSignature,
    /// The signed statement names this row's tenant, subject and claimed time.
    Binding,
    /// The entry was fetched from the log by its id, and names the same leaf.
    EntryFetched,
    /// Every copy the store keeps of the log's answer — entry id, log id,
    /// both indices, integrated time — equals the verified entry.
    StoredEntry,
    /// The logged body is this envelope's (payload hash, signatures, verifiers).
    BodyMatch,
    /// The entry is included in the log's current tree: its proof verifies
    /// against its signed checkpoint, which the current checkpoint extends.
    Inclusion,
    /// The log's current tree extends the last one this auditor saw, kept
    /// in its own [`AuditBaseline`](crate::AuditBaseline) (never in the
    /// audited store). No baseline is a failure unless the auditor was told
    /// to trust the current tree once.
    Consistency,
    /// The SET verifies with a trusted log key valid at integratedTime, which
    /// is not in the future (Rekor v1 entries).
    Set,
    /// The signing key was valid (window, not revoked) at integratedTime
    /// (Rekor v1; a v2 row has [`KeyValidAtTimestamp`](Self::KeyValidAtTimestamp)).
    KeyValidAtIntegratedTime,
    /// Rekor v2 entries (which have no integratedTime): the signing key was
    /// valid (window, not revoked) at the RFC 3161 timestamp's genTime.
    KeyValidAtTimestamp,
    /// The claimed time T satisfies T ≤ integratedTime ≤ T + window (Rekor
    /// v2: T ≤ genTime ≤ T + window).
    NotBackdated,
    /// Rekor v2 entries (in place of `set`: a v2 log keeps no time): the
    /// stored RFC 3161 timestamp verifies with a timestamp authority of the
    /// trusted root, over the envelope's signature, and the log's key was
    /// valid at its genTime.
    Timestamp,
    /// Identity policy only: the signing certificate (the bundle's, or the
    /// one the log recorded) chains to a certificate authority of the
    /// trusted root at every verified time, carries an SCT from a trusted
    /// CT log, and names the policy's identity and OIDC issuer.
    Certificate,
}

impl fmt::Display for AuditCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = serde_json::to_value(self).ok();
        f.write_str(s.as_ref().and_then(|v| v.as_str()).unwrap_or("?"))
    }
}

/// A check and what happened to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct AuditLine {
    /// The check.
    pub check: AuditCheck,
    /// `passed`, `failed`, or `not-checked` (never a pass).
    pub outcome: Outcome,
    /// Why it failed or could not run.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

/// The audit of one attestation: a line per check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
#[serde(rename_all = "camelCase")]
pub struct AuditReport {
    /// The attestation id.
    pub attestation_id: String,
    /// The tenant.
    pub tenant: String,
    /// The subject.
    pub subject: String,
    /// The log entry id, when published.
    pub entry_id: Option<String>,
    /// What the envelope's verified signature establishes: `None` when no
    /// trusted key signed it (nothing its payload says is shown then).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed: Option<SignedFacts>,
    /// What the log answered for the entry, fetched by its id: `None` when
    /// it was not fetched. These are the log's values, never the store's;
    /// whether they are established is what the checks say.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logged: Option<LoggedFacts>,
    /// Every check.
    pub checks: Vec<AuditLine>,
    /// The entry as the log returned it (for a bundle built from the log's
    /// answer rather than the store's copy).
    #[serde(skip)]
    pub(crate) fetched: Option<Box<Fetched>>,
}

/// A log entry as the auditor fetched it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fetched {
    /// A Rekor v1 REST entry.
    V1(LogEntry),
    /// A Rekor v2 entry: the `TransparencyLogEntry` the auditor assembled
    /// from the log's tiles (body, index, proof to the current checkpoint)
    /// and the RFC 3161 timestamp that times it.
    V2 {
        entry: TlogEntry,
        timestamp: Vec<u8>,
    },
}

/// What the signed envelope says, read only after its signature verified
/// with a key the auditor trusts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
#[serde(rename_all = "camelCase")]
pub struct SignedFacts {
    /// The id of the trusted key whose signature verified (the key set's
    /// `kid`; a pinned or certificate key's default key id).
    pub signer_key_id: String,
    /// The statement's predicate type, when the payload is a statement.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub predicate_type: Option<String>,
    /// The signed claimed time (Unix seconds), when the statement has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claimed_time: Option<i64>,
    /// The digests of the subject the statement binds (the one carrying
    /// attestlog's subject annotation, else the first): algorithm → hex.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub digest: std::collections::BTreeMap<String, String>,
}

/// A log entry as the log returned it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
#[serde(rename_all = "camelCase")]
pub struct LoggedFacts {
    /// The Rekor API of the log: 1 or 2.
    pub api_version: u32,
    /// The entry id the log answered with (80 hex with a tree id); Rekor
    /// v2, which has no entry ids: the 64-hex leaf hash.
    pub entry_id: String,
    /// The entry's UUID: the 64-hex leaf hash, the log's search key.
    pub uuid: String,
    /// The log id (hex SHA-256 of its key).
    pub log_id: String,
    /// The global log index.
    pub log_index: u64,
    /// The shard-local index its inclusion proof is for.
    pub shard_index: u64,
    /// The log's integrated time (Unix seconds; trusted with its SET).
    /// Rekor v2 keeps no time: the genTime of the entry's RFC 3161
    /// timestamp when it verified, else `None` (never a made-up time).
    pub integrated_time: Option<i64>,
}

impl LoggedFacts {
    pub(super) fn of(e: &LogEntry) -> Self {
        Self {
            api_version: 1,
            entry_id: e.id.to_string(),
            uuid: e.id.uuid().to_string(),
            log_id: e.log_id.to_hex(),
            log_index: e.log_index,
            shard_index: e
                .inclusion_proof
                .as_ref()
                .map_or(e.log_index, |p| p.log_index),
            integrated_time: Some(e.integrated_time),
        }
    }
}

impl AuditReport {
    /// True only when every check ran and passed.
    #[must_use]
    pub fn passed(&self) -> bool {
        !self.checks.is_empty() && self.checks.iter().all(|c| c.outcome == Outcome::Passed)
    }

    /// The first check that did not pass.
    #[must_use]
    pub fn first_problem(&self) -> Option<&AuditLine> {
        self.checks.iter().find(|c| c.outcome != Outcome::Passed)
    }

    /// The outcome of one check.
    #[must_use]
    pub fn outcome(&self, check: AuditCheck) -> Option<Outcome> {
        self.checks
            .iter()
            .find(|c| c.check == check)
            .map(|c| c.outcome)
    }

    pub(super) fn push(&mut self, check: AuditCheck, r: Result<(), String>) {
        let (outcome, detail) = match r {
            Ok(()) => (Outcome::Passed, String::new()),
            Err(d) => (Outcome::Failed, d),
        };
        self.checks.push(AuditLine {
            check,
            outcome,
            detail,
        });
    }

    /// A pass with a note (e.g. a baseline started on this run).
    pub(super) fn push_note(&mut self, check: AuditCheck, note: &str) {
        self.checks.push(AuditLine {
            check,
            outcome: Outcome::Passed,
            detail: note.to_owned(),
        });
    }

    /// The report of a row the store holds but cannot decode: its
    /// `attestation-id` line fails with what is wrong with it, and nothing
    /// else can be checked. The other rows of its subject are audited as
    /// usual.
    pub(super) fn corrupt_row(tenant: &str, subject: &str, row: &attest_store::CorruptRow) -> Self {
        let mut r = Self {
            attestation_id: row.id.clone().unwrap_or_else(|| match row.seq {
                Some(seq) => format!("(unreadable id, row {seq})"),
                None => "(unreadable id)".to_owned(),
            }),
            tenant: tenant.to_owned(),
            subject: subject.to_owned(),
            entry_id: None,
            signed: None,
            logged: None,
            checks: Vec::new(),
            fetched: None,
        };
        r.push(AuditCheck::AttestationId, Err(format!("the store's {row}")));
        for &check in ALL_AFTER_ID {
            r.skip(check, "the stored row is corrupt");
        }
        r
    }

    pub(super) fn skip(&mut self, check: AuditCheck, why: &str) {
        self.checks.push(AuditLine {
            check,
            outcome: Outcome::NotChecked,
            detail: why.to_owned(),
        });
    }
}

impl fmt::Display for AuditReport {
    /// The readable report: a verdict line, then a line per check.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} {} / {}  attestation {}  entry {}",
            if self.passed() { "PASS" } else { "FAIL" },
            self.tenant,
            self.subject,
            self.attestation_id,
            self.entry_id.as_deref().unwrap_or("-"),
        )?;
        for c in &self.checks {
            // A check that could not run is never shown as a pass or a
            // skip: it says so, with its reason.
            let (mark, lead) = match c.outcome {
                Outcome::Passed => ("ok  ", ""),
                Outcome::Failed => ("FAIL", ""),
                Outcome::NotChecked => ("--  ", "not checked: "),
            };
            if c.detail.is_empty() && lead.is_empty() {
                writeln!(f, "    {mark} {}", c.check)?;
            } else {
                writeln!(f, "    {mark} {}: {lead}{}", c.check, c.detail)?;
            }
        }
        Ok(())
    }
}

/// Why an audit could not run at all (a failed check is a report, not this).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The auditor's baseline could not be written.
    #[error(transparent)]
    Baseline(#[from] BaselineError),
    /// A blocking pipeline suspended: a bug in this crate.
    #[error(transparent)]
    Suspended(#[from] crate::log::Suspended),
}

impl AuditError {
    /// What kind of failure this is.
    #[must_use]
    pub fn kind(&self) -> crate::ErrorKind {
        match self {
            Self::Store(e) => crate::ErrorKind::from_store(e),
            Self::Baseline(BaselineError::Corrupt { .. } | BaselineError::Version { .. }) => {
                crate::ErrorKind::Corrupt
            }
            Self::Baseline(_) | Self::Suspended(_) => crate::ErrorKind::Other,
        }
    }
}
