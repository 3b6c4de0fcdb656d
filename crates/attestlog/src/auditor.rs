//! The audit flow: without trusting the store, re-verify every attestation
//! against the key set and the log, and say which checks passed.

use std::fmt;

use std::sync::{Arc, PoisonError, RwLock};

use attest_dsse::{Clock, Envelope, Statement, SystemClock};
use attest_rekor::bundle::{TlogEntry, VerificationMaterial};
use attest_rekor::pki::Authorities;
use attest_rekor::verify::{
    Check, CheckResult, CheckpointMemo, Outcome, Report, VerifiedCheckpoint, report_of,
};
use attest_rekor::{Bundle, BundlePolicy, EntryId, LogEntry, SignerPolicy, TrustedLog};
use attest_store::{
    AttestationId, AttestationRow, AttestationStore, LogApiVersion, LogEntryRecord, StoreError,
};

use crate::baseline::{AuditBaseline, BaselineError, MemoryBaseline};
use rekor_client::{AsyncRekorClient, AsyncTransport, RekorClient, Transport};
use serde::Serialize;

use crate::attestor::binding;
use crate::blocking::Blocking;
use crate::log::{AsyncRekorV2, LogOps, Offline, RekorV2, V2Ops, run_ready};

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
    /// (Rekor v2: at the timestamp's genTime).
    KeyValidAtIntegratedTime,
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
    /// timestamp when it verified, else 0.
    pub integrated_time: i64,
}

impl LoggedFacts {
    fn of(e: &LogEntry) -> Self {
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
            integrated_time: e.integrated_time,
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

    fn push(&mut self, check: AuditCheck, r: Result<(), String>) {
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
    fn push_note(&mut self, check: AuditCheck, note: &str) {
        self.checks.push(AuditLine {
            check,
            outcome: Outcome::Passed,
            detail: note.to_owned(),
        });
    }

    fn skip(&mut self, check: AuditCheck, why: &str) {
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
            let mark = match c.outcome {
                Outcome::Passed => "ok  ",
                Outcome::Failed => "FAIL",
                Outcome::NotChecked => "skip",
            };
            if c.detail.is_empty() {
                writeln!(f, "    {mark} {}", c.check)?;
            } else {
                writeln!(f, "    {mark} {}: {}", c.check, c.detail)?;
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
            Self::Baseline(_) => crate::ErrorKind::Other,
        }
    }
}

/// What one audit run learned from the log, once for all its rows.
struct LogState {
    /// The log's current checkpoint, verified, or why it is unavailable.
    current: Result<VerifiedCheckpoint, String>,
    /// The consistency of `current` with the baseline (the detail of a
    /// pass says when the baseline was started on this run).
    consistency: Result<String, String>,
    /// The Rekor v2 log's, when one is configured.
    v2: Option<V2State>,
}

/// What one audit run learned from the Rekor v2 log.
struct V2State {
    /// The log's current checkpoint with the trusted log that signed it.
    current: Result<(VerifiedCheckpoint, TrustedLog), String>,
    /// Its consistency with the baseline.
    consistency: Result<String, String>,
    /// The trusted v2 logs.
    logs: Vec<TrustedLog>,
}

/// What the baseline says of a log's current checkpoint.
enum BaselineStep {
    /// Decided without the log (no baseline, another tree, shrunk, empty).
    Done(Result<String, String>),
    /// Consistency from this kept checkpoint must be proven by the log.
    Prove(VerifiedCheckpoint),
}

/// Builds an [`Auditor`] (blocking log client) or an [`AsyncAuditor`]:
/// `Auditor::builder(keys, store)`, then `.log(client)`, `.backdate_window(s)`,
/// `.clock(clock)` as needed, and `.build()`.
#[must_use = "a builder does nothing until built"]
#[derive(Debug)]
pub struct AuditorBuilder<L> {
    core: Core<L>,
}

/// The default back-dating window: 300 seconds.
pub const DEFAULT_BACKDATE_WINDOW: i64 = 300;

impl<L> AuditorBuilder<L> {
    fn new(signer: SignerPolicy, store: Box<dyn AttestationStore>) -> Self {
        Self {
            core: Core {
                signer: RwLock::new(signer),
                authorities: None,
                store: Arc::from(store),
                blocking: Blocking::InPlace,
                log: None,
                v2: None,
                window: DEFAULT_BACKDATE_WINDOW,
                clock: Arc::new(SystemClock),
                checkpoints: CheckpointMemo::default(),
                baseline: Arc::new(MemoryBaseline::new()),
                trust_current_tree: false,
            },
        }
    }

    /// Checks the log's evidence through `client`: a [`RekorClient`] builds
    /// an [`Auditor`], an [`AsyncRekorClient`] an [`AsyncAuditor`]. Without
    /// a log every log check fails ("no transparency log configured").
    pub fn log<C>(self, client: C) -> AuditorBuilder<C> {
        self.optional_log(Some(client))
    }

    /// [`log`](Self::log) when `client` is `Some`, none when `None` (e.g.
    /// from a configuration where publication is optional).
    pub fn optional_log<C>(self, client: Option<C>) -> AuditorBuilder<C> {
        let Core {
            signer,
            authorities,
            store,
            blocking,
            window,
            clock,
            checkpoints,
            baseline,
            trust_current_tree,
            v2,
            ..
        } = self.core;
        AuditorBuilder {
            core: Core {
                signer,
                authorities,
                store,
                blocking,
                v2,
                log: client,
                window,
                clock,
                checkpoints,
                baseline,
                trust_current_tree,
            },
        }
    }

    /// The trusted root's certificate authorities, CT logs and timestamp
    /// authorities (`attest_rekor::TrustedRoot::authorities`): needed
    /// by an identity policy, and to verify RFC 3161 timestamps.
    pub fn authorities(mut self, authorities: Authorities) -> Self {
        self.core.authorities = Some(Arc::new(authorities));
        self
    }

    /// Seconds a claimed time may precede the log's integrated time
    /// (default [`DEFAULT_BACKDATE_WINDOW`]).
    pub const fn backdate_window(mut self, seconds: i64) -> Self {
        self.core.window = seconds;
        self
    }

    /// The verifier's clock (default: the system clock).
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.core.clock = Arc::new(clock);
        self
    }

    /// Where the auditor keeps the last checkpoint it verified per log
    /// (default: a [`MemoryBaseline`] that starts empty, so the first audit
    /// fails its consistency check unless
    /// [`trust_current_tree`](Self::trust_current_tree) is set). Use a
    /// [`FileBaseline`](crate::FileBaseline) to remember across runs.
    pub fn baseline(mut self, baseline: impl AuditBaseline + 'static) -> Self {
        self.core.baseline = Arc::new(baseline);
        self
    }

    /// When the baseline has no checkpoint for the log, accept the log's
    /// current tree as the start of one (trust on first use, said so in the
    /// consistency line) instead of failing. A baseline that exists is
    /// always checked.
    pub const fn trust_current_tree(mut self, trust: bool) -> Self {
        self.core.trust_current_tree = trust;
        self
    }
}

impl<T: Transport + Sync> AuditorBuilder<RekorClient<T>> {
    /// Audits the rows published to a Rekor v2 log through `v2` (beside a
    /// v1 log given with [`log`](Self::log): each row is audited against the
    /// log of its API). Its entry is read from the log's tiles at the
    /// stored index, its inclusion proven from tiles against the log's
    /// current checkpoint, consistency from the auditor's baseline, its
    /// time from the stored RFC 3161 timestamp — which needs
    /// [`authorities`](Self::authorities) with the trusted root's timestamp
    /// authorities. Blocking, like the [`Auditor`].
    pub fn log_v2<V: Transport + Sync + Send + 'static>(mut self, v2: RekorV2<V>) -> Self {
        self.core.v2 = Some(Arc::new(v2));
        self
    }

    /// The blocking auditor.
    pub fn build(self) -> Auditor<T> {
        Auditor { core: self.core }
    }
}

impl<T: AsyncTransport> AuditorBuilder<AsyncRekorClient<T>> {
    /// [`AuditorBuilder::log_v2`] for the async auditor: audits the rows
    /// published to a Rekor v2 log through `v2`'s async client.
    pub fn log_v2<V: AsyncTransport + Send + Sync + 'static>(
        mut self,
        v2: AsyncRekorV2<V>,
    ) -> Self {
        self.core.v2 = Some(Arc::new(v2));
        self
    }

    /// The async auditor: it calls the store and the baseline on threads
    /// of their own, so a blocking store (SQLite, PostgreSQL) never blocks
    /// the executor.
    pub fn build(mut self) -> AsyncAuditor<T> {
        self.core.blocking = Blocking::OwnThread;
        AsyncAuditor { core: self.core }
    }
}

/// Re-verifies stored attestations against a key set and the log, over a
/// blocking transport `T` (`Offline`: no log).
#[derive(Debug)]
pub struct Auditor<T = Offline> {
    core: Core<RekorClient<T>>,
}

impl Auditor<Offline> {
    /// A builder trusting `signer` for signatures — a [`KeySet`](attest_dsse::KeySet), a pinned
    /// key, or a certificate identity (`SignerPolicy::identity(san,
    /// issuer)`, with [`authorities`](AuditorBuilder::authorities)) —
    /// auditing `store`.
    pub fn builder(
        signer: impl Into<SignerPolicy>,
        store: Box<dyn AttestationStore>,
    ) -> AuditorBuilder<RekorClient<Offline>> {
        AuditorBuilder::new(signer.into(), store)
    }
}

impl<T: Transport + Sync> Auditor<T> {
    /// Trusts `signer` from now on (e.g. a key set that rotated: a new key
    /// added, an old one retired or revoked); audits running keep the
    /// policy they started with for the line being checked.
    pub fn set_signer(&self, signer: impl Into<SignerPolicy>) {
        self.core.set_signer(signer.into());
    }

    /// The store.
    #[must_use]
    pub fn store(&self) -> &dyn AttestationStore {
        self.core.store.as_ref()
    }

    /// Audits every attestation of `tenant` about `subject`.
    ///
    /// # Errors
    /// [`AuditError::Store`].
    pub fn audit(&self, tenant: &str, subject: &str) -> Result<Vec<AuditReport>, AuditError> {
        run_ready(self.core.audit(tenant, subject))
    }

    /// Audits every attestation of `tenant`, a page at a time, calling
    /// `progress(done)` after each row.
    ///
    /// # Errors
    /// [`AuditError::Store`].
    pub fn audit_tenant(
        &self,
        tenant: &str,
        progress: impl FnMut(usize),
    ) -> Result<Vec<AuditReport>, AuditError> {
        run_ready(self.core.audit_tenant(tenant, progress))
    }

    /// Audits every attestation of `tenant`, handing each report to `each`
    /// as soon as it is made (a command streams them); returns how many.
    ///
    /// # Errors
    /// [`AuditError::Store`].
    pub fn audit_tenant_each(
        &self,
        tenant: &str,
        each: impl FnMut(AuditReport),
    ) -> Result<usize, AuditError> {
        run_ready(self.core.audit_tenant_each(tenant, each))
    }

    /// Audits one row.
    ///
    /// # Errors
    /// [`AuditError::Store`].
    pub fn audit_row(&self, row: &AttestationRow) -> Result<AuditReport, AuditError> {
        run_ready(self.core.audit_row(row))
    }

    /// Audits `rows` (e.g. one page of a subject's) against one look at the
    /// log: its current checkpoint and its consistency with the baseline,
    /// as [`audit`](Self::audit) does for all of a subject's rows.
    ///
    /// # Errors
    /// [`AuditError::Baseline`].
    pub fn audit_rows(&self, rows: &[AttestationRow]) -> Result<Vec<AuditReport>, AuditError> {
        run_ready(self.core.audit_rows(rows))
    }

    /// Audits a Sigstore bundle offline: the same checks without the store
    /// and without asking the log (inclusion against the bundle's checkpoint;
    /// consistency is not checked).
    #[must_use]
    pub fn audit_bundle(&self, bundle: &Bundle, logs: &[TrustedLog]) -> AuditReport {
        self.core.audit_bundle(bundle, logs)
    }
}

/// [`Auditor`] over an async transport; the store and the baseline, whose
/// calls block, are called on threads of their own, so any store works on
/// any executor. Its futures are `Send`.
#[derive(Debug)]
pub struct AsyncAuditor<T> {
    core: Core<AsyncRekorClient<T>>,
}

impl AsyncAuditor<Offline> {
    /// A builder trusting `signer` for signatures (as
    /// [`Auditor::builder`]), auditing `store`; give it an
    /// [`AsyncRekorClient`] with `.log(…)`.
    pub fn builder(
        signer: impl Into<SignerPolicy>,
        store: Box<dyn AttestationStore>,
    ) -> AuditorBuilder<AsyncRekorClient<Offline>> {
        AuditorBuilder::new(signer.into(), store)
    }
}

impl<T: AsyncTransport> AsyncAuditor<T> {
    /// [`Auditor::set_signer`].
    pub fn set_signer(&self, signer: impl Into<SignerPolicy>) {
        self.core.set_signer(signer.into());
    }

    /// The store.
    #[must_use]
    pub fn store(&self) -> &dyn AttestationStore {
        self.core.store.as_ref()
    }

    /// [`Auditor::audit`], awaiting the log.
    ///
    /// # Errors
    /// [`AuditError::Store`].
    pub async fn audit(&self, tenant: &str, subject: &str) -> Result<Vec<AuditReport>, AuditError> {
        self.core.audit(tenant, subject).await
    }

    /// [`Auditor::audit_tenant`], awaiting the log.
    ///
    /// # Errors
    /// [`AuditError::Store`].
    pub async fn audit_tenant(
        &self,
        tenant: &str,
        progress: impl FnMut(usize) + Send,
    ) -> Result<Vec<AuditReport>, AuditError> {
        self.core.audit_tenant(tenant, progress).await
    }

    /// [`Auditor::audit_tenant_each`], awaiting the log.
    ///
    /// # Errors
    /// [`AuditError::Store`].
    pub async fn audit_tenant_each(
        &self,
        tenant: &str,
        each: impl FnMut(AuditReport) + Send,
    ) -> Result<usize, AuditError> {
        self.core.audit_tenant_each(tenant, each).await
    }

    /// [`Auditor::audit_row`], awaiting the log.
    ///
    /// # Errors
    /// [`AuditError::Store`].
    pub async fn audit_row(&self, row: &AttestationRow) -> Result<AuditReport, AuditError> {
        self.core.audit_row(row).await
    }

    /// [`Auditor::audit_bundle`] (offline, nothing to await).
    #[must_use]
    pub fn audit_bundle(&self, bundle: &Bundle, logs: &[TrustedLog]) -> AuditReport {
        self.core.audit_bundle(bundle, logs)
    }
}

/// What both auditors share; the flows are written once, as futures.
struct Core<L> {
    /// Replaceable while the auditor runs (a portal whose key set rotated).
    signer: RwLock<SignerPolicy>,
    authorities: Option<Arc<Authorities>>,
    store: Arc<dyn AttestationStore>,
    /// Where the store and the baseline are called (in place, or off the
    /// async threads).
    blocking: Blocking,
    log: Option<L>,
    /// The Rekor v2 log, for rows published to one.
    v2: Option<Arc<dyn V2Ops>>,
    window: i64,
    clock: Arc<dyn Clock>,
    checkpoints: CheckpointMemo,
    baseline: Arc<dyn AuditBaseline>,
    trust_current_tree: bool,
}

impl<L> fmt::Debug for Core<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Auditor")
            .field("signer", &*self.signer())
            .field("window", &self.window)
            .finish_non_exhaustive()
    }
}

impl<L: LogOps> Core<L> {
    async fn audit(&self, tenant: &str, subject: &str) -> Result<Vec<AuditReport>, AuditError> {
        let (tenant, subject) = (tenant.to_owned(), subject.to_owned());
        let rows = self
            .blocking
            .store(&self.store, move |s| s.by_subject(&tenant, &subject))
            .await?;
        self.audit_rows(&rows).await
    }

    async fn audit_rows(&self, rows: &[AttestationRow]) -> Result<Vec<AuditReport>, AuditError> {
        let state = self.log_state().await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            out.push(self.audit_row_with(r, &state).await);
        }
        Ok(out)
    }

    async fn audit_tenant(
        &self,
        tenant: &str,
        mut progress: impl FnMut(usize),
    ) -> Result<Vec<AuditReport>, AuditError> {
        let mut out = Vec::new();
        self.audit_tenant_each(tenant, |r| {
            out.push(r);
            progress(out.len());
        })
        .await?;
        Ok(out)
    }

    /// Every attestation of `tenant`, a page at a time, each report handed
    /// to `each` as soon as it is made; how many.
    async fn audit_tenant_each(
        &self,
        tenant: &str,
        mut each: impl FnMut(AuditReport),
    ) -> Result<usize, AuditError> {
        let state = self.log_state().await?;
        let mut n = 0;
        let mut after = None;
        loop {
            let t = tenant.to_owned();
            let page = self
                .blocking
                .store(&self.store, move |s| s.list(&t, after, 500))
                .await?;
            for r in &page.rows {
                each(self.audit_row_with(r, &state).await);
                n += 1;
            }
            match page.next {
                Some(next) => after = Some(next),
                None => return Ok(n),
            }
        }
    }

    async fn audit_row(&self, row: &AttestationRow) -> Result<AuditReport, AuditError> {
        let state = self.log_state().await?;
        Ok(self.audit_row_with(row, &state).await)
    }

    /// The log's current checkpoint and its consistency with the auditor's
    /// baseline; a consistent current checkpoint becomes the new baseline (a
    /// forked one never replaces it).
    async fn log_state(&self) -> Result<LogState, AuditError> {
        let v2 = self.v2_state().await?;
        let Some(log) = &self.log else {
            return Ok(LogState {
                current: Err("no transparency log configured".into()),
                consistency: Err("no transparency log configured".into()),
                v2,
            });
        };
        let current = match log.log_info().await {
            Ok((_, cp)) => cp,
            Err(e) => {
                let why = format!("the log's current checkpoint: {e}");
                return Ok(LogState {
                    current: Err(why.clone()),
                    consistency: Err(why),
                    v2,
                });
            }
        };
        let Some(log_key) = signer_of(&self.checkpoints, log.trusted_logs(), &current)
            .map(|signer| log_key(signer, &current))
        else {
            let why = "the current checkpoint verifies with no trusted log key".to_owned();
            return Ok(LogState {
                current: Err(why.clone()),
                consistency: Err(why),
                v2,
            });
        };
        let consistency = self
            .consistency_of(log.trusted_logs(), &log_key, &current, |old| {
                let current = &current;
                async move { log.prove_consistency(&old, current).await }
            })
            .await?;
        Ok(LogState {
            current: Ok(current),
            consistency,
            v2,
        })
    }

    /// The Rekor v2 log's current checkpoint and its consistency with the
    /// baseline (proven from tiles), as for a v1 log.
    async fn v2_state(&self) -> Result<Option<V2State>, AuditError> {
        let Some(v2) = &self.v2 else {
            return Ok(None);
        };
        let logs = v2.trusted_logs();
        let unavailable = |why: String, logs| {
            Ok(Some(V2State {
                current: Err(why.clone()),
                consistency: Err(why),
                logs,
            }))
        };
        let current = match v2.checkpoint().await {
            Ok(cp) => cp,
            Err(e) => {
                return unavailable(format!("the Rekor v2 log's current checkpoint: {e}"), logs);
            }
        };
        let Some(signer) = signer_of(&self.checkpoints, &logs, &current).cloned() else {
            return unavailable(
                "the current checkpoint verifies with no trusted Rekor v2 log key".into(),
                logs,
            );
        };
        let log_key = log_key(&signer, &current);
        let consistency = self
            .consistency_of(&logs, &log_key, &current, |old| {
                let current = &current;
                async move { v2.prove_consistency(&old, current).await }
            })
            .await?;
        Ok(Some(V2State {
            current: Ok((current, signer)),
            consistency,
            logs,
        }))
    }

    /// The consistency of `current` (filed under `log_key`) with the
    /// baseline — proven by `prove` from the kept checkpoint when the
    /// baseline alone cannot decide; a consistent `current` becomes the
    /// baseline (a forked one never replaces it).
    async fn consistency_of<F: Future<Output = Result<(), rekor_client::ClientError>>>(
        &self,
        logs: &[TrustedLog],
        log_key: &str,
        current: &VerifiedCheckpoint,
        prove: impl FnOnce(VerifiedCheckpoint) -> F,
    ) -> Result<Result<String, String>, AuditError> {
        let key = log_key.to_owned();
        let kept = self
            .blocking
            .baseline(&self.baseline, move |b| b.load(&key))
            .await;
        let consistency = match self.baseline_step(kept, logs, current) {
            BaselineStep::Done(r) => r,
            BaselineStep::Prove(old) => {
                let from = old.size;
                prove(old)
                    .await
                    .map(|()| String::new())
                    .map_err(|e| format!("from size {from} to {}: {e}", current.size))
            }
        };
        if consistency.is_ok() {
            let (key, note) = (log_key.to_owned(), current.note.clone());
            self.blocking
                .baseline(&self.baseline, move |b| b.store(&key, &note))
                .await?;
        }
        Ok(consistency)
    }

    async fn audit_row_with(&self, row: &AttestationRow, state: &LogState) -> AuditReport {
        let a = &row.attestation;
        let mut r = AuditReport {
            attestation_id: a.id.to_string(),
            tenant: a.tenant.clone(),
            subject: a.subject.clone(),
            entry_id: row.entry.as_ref().map(|e| e.entry_id.clone()),
            signed: None,
            logged: None,
            checks: Vec::new(),
            fetched: None,
        };
        let env = match Envelope::from_json(&a.envelope) {
            Ok(e) => e,
            Err(e) => {
                r.push(
                    AuditCheck::AttestationId,
                    Err(format!("stored envelope unreadable: {e}")),
                );
                for &c in ALL_AFTER_ID {
                    r.skip(c, "the stored envelope is unreadable");
                }
                return r;
            }
        };
        // The id is re-derived from the envelope, never taken from the row.
        let derived = attestation_id_of(&env);
        r.push(
            AuditCheck::AttestationId,
            if derived == a.id {
                Ok(())
            } else {
                Err(format!(
                    "the row's id {} is not its envelope's {derived}",
                    a.id
                ))
            },
        );
        if let Some(stored) = row.entry.as_ref().filter(|e| e.api == LogApiVersion::V2) {
            return self.audit_v2_row(r, row, &env, stored, state).await;
        }
        // The entry is fetched first (its lines are written below): under an
        // identity policy the signing certificate is the one it records.
        let fetched = match (&row.entry, &self.log) {
            (Some(stored), Some(log)) => Some(match EntryId::parse(&stored.entry_id) {
                Err(e) => Err(format!("stored entry id: {e}")),
                Ok(id) => match log.get_entry(&id).await {
                    Err(e) => Err(e.to_string()),
                    Ok(e) if e.id.uuid() == id.uuid() => Ok(e),
                    Ok(_) => Err("the log returned another entry".to_owned()),
                },
            }),
            _ => None,
        };
        let certificate = match &fetched {
            Some(Ok(e)) => attest_rekor::logged_certificate_der(e),
            _ => None,
        };
        // Without a valid signature nothing the payload says is trusted (no
        // binding, no claimed time), but the log's evidence is still checked.
        let claimed = self.signature_then_binding(&mut r, &env, certificate.as_deref(), |r, p| {
            binding_check(r, p, row)
        });

        // The log's evidence.
        let (Some(stored), Some(log), Some(fetched)) = (&row.entry, &self.log, fetched) else {
            let why = if row.entry.is_none() {
                "not published: the row is pending"
            } else {
                "no transparency log configured"
            };
            for &c in ALL_LOG_CHECKS {
                r.skip(c, why);
            }
            return r;
        };
        let entry = match fetched {
            Ok(e) => {
                r.push(AuditCheck::EntryFetched, Ok(()));
                r.logged = Some(LoggedFacts::of(&e));
                r.fetched = Some(Box::new(Fetched::V1(e.clone())));
                e
            }
            Err(e) => {
                r.push(AuditCheck::EntryFetched, Err(e));
                for &c in &ALL_LOG_CHECKS[1..] {
                    r.skip(c, "the entry could not be fetched");
                }
                self.certificate_line(&mut r, None);
                return r;
            }
        };
        r.push(AuditCheck::StoredEntry, stored_copies(stored, &entry));
        let logs = log.trusted_logs();
        let result = attest_rekor::verify::verify_log_entry_memo(
            &entry,
            &env,
            &self.policy(logs, claimed),
            &self.checkpoints,
        );
        let report = report_of(&result);
        r.push(
            AuditCheck::BodyMatch,
            from_rekor(report, &[Check::BodyMatch]),
        );
        let prefix = proof_lines(report).and_then(|()| {
            let current = state.current.as_ref().map_err(Clone::clone)?;
            let note = entry
                .inclusion_proof
                .as_ref()
                .and_then(|p| p.checkpoint.as_deref())
                .ok_or("the entry has no checkpoint")?;
            let entry_cp = verified_checkpoint(&self.checkpoints, logs, note)
                .ok_or("the entry's checkpoint does not verify")?;
            if entry_cp.origin != current.origin {
                return Err("the entry's checkpoint is for another tree".into());
            }
            if entry_cp.size > current.size {
                return Err("the entry's checkpoint is ahead of the current one".into());
            }
            Ok((entry_cp, current))
        });
        let inclusion = match prefix {
            Err(e) => Err(e),
            Ok((entry_cp, current)) => log
                .prove_consistency(&entry_cp, current)
                .await
                .map_err(|e| format!("the entry's tree is not a prefix of the current tree: {e}")),
        };
        r.push(AuditCheck::Inclusion, inclusion);
        match &state.consistency {
            Ok(note) => r.push_note(AuditCheck::Consistency, note),
            Err(e) => r.push(AuditCheck::Consistency, Err(e.clone())),
        }
        self.certificate_line(&mut r, Some(report));
        Self::time_lines(&mut r, report, claimed, &V1_TIME);
        r
    }

    /// A row published to a Rekor v2 log: the entry read from tiles at the
    /// stored index, a `TransparencyLogEntry` assembled from it with a proof
    /// to the log's current checkpoint, and the bundle of the stored
    /// envelope, that entry and the stored timestamp verified as a whole.
    async fn audit_v2_row(
        &self,
        mut r: AuditReport,
        row: &AttestationRow,
        env: &Envelope,
        stored: &LogEntryRecord,
        state: &LogState,
    ) -> AuditReport {
        // No certificate: a v2 row's signer is named by key.
        let claimed =
            self.signature_then_binding(&mut r, env, None, |r, p| binding_check(r, p, row));
        let skip_rest = |r: &mut AuditReport, from: usize, why: &str| {
            for &c in &V2_LOG_CHECKS[from..] {
                r.skip(c, why);
            }
            self.certificate_line(r, None);
        };
        let (Some(v2), Some(st)) = (&self.v2, &state.v2) else {
            skip_rest(
                &mut r,
                0,
                "a Rekor v2 entry, and no Rekor v2 log configured (AuditorBuilder::log_v2)",
            );
            return r;
        };
        let (current, log) = match &st.current {
            Ok(c) => c,
            Err(e) => {
                r.push(AuditCheck::EntryFetched, Err(e.clone()));
                skip_rest(&mut r, 1, "the log's current checkpoint is unavailable");
                return r;
            }
        };
        let index = stored.global_index;
        let body = if index >= current.size {
            Err(format!(
                "the stored index {index} is not in the log's tree of {} entries",
                current.size
            ))
        } else {
            v2.entry_with_proof(index, current)
                .await
                .map_err(|e| format!("entry {index} from the log's tiles: {e}"))
        }
        .and_then(|(body, proof)| {
            let leaf = attest_merkle::leaf_hash(&body).to_string();
            if leaf == stored.entry_id {
                Ok((body, proof))
            } else {
                Err(format!(
                    "the log's entry {index} is another entry (leaf hash {leaf}, the row names {})",
                    stored.entry_id
                ))
            }
        });
        let (body, proof) = match body {
            Ok(b) => {
                r.push(AuditCheck::EntryFetched, Ok(()));
                b
            }
            Err(e) => {
                r.push(AuditCheck::EntryFetched, Err(e));
                skip_rest(&mut r, 1, "the entry could not be fetched");
                return r;
            }
        };
        let entry = attest_rekor::v2::tlog_entry(
            &log.log_id,
            index,
            &body,
            current,
            proof.as_ref().ok().map(attest_merkle::Proof::as_slice),
        );
        let timestamps: &[Vec<u8>] = if stored.timestamp.is_empty() {
            &[]
        } else {
            std::slice::from_ref(&stored.timestamp)
        };
        let bundle = Bundle::v03_dsse(
            VerificationMaterial::with_key_hint(
                row.attestation
                    .signer_key_ids
                    .first()
                    .cloned()
                    .unwrap_or_default(),
                vec![entry.clone()],
            )
            .with_rfc3161_timestamps(timestamps),
            &row.attestation.envelope,
        );
        let result = bundle
            .map(|b| attest_rekor::verify_bundle_envelope(&b, &self.policy(&st.logs, claimed)));
        // The stored timestamp's time, when it verifies (signed by the TSA,
        // so the store's copy is as good as any): from the verification, or
        // — when that failed for another reason — checked alone.
        let stamped = match &result {
            Ok(Ok(v)) => v
                .times
                .iter()
                .filter(|t| matches!(t.source, attest_rekor::verify::TimeSource::Rfc3161 { .. }))
                .map(|t| t.at.unix())
                .min(),
            _ => env.signatures().first().and_then(|sig| {
                let a = self.authorities.as_ref()?;
                let token = timestamps.first()?;
                attest_rekor::tsp::verify_timestamp(token, &sig.sig, &a.timestamp_authorities)
                    .ok()
                    .map(|t| t.gen_time.unix())
            }),
        };
        r.logged = Some(LoggedFacts {
            api_version: 2,
            entry_id: stored.entry_id.clone(),
            uuid: stored.entry_id.clone(),
            log_id: log.log_id_hex(),
            log_index: index,
            shard_index: index,
            integrated_time: stamped.unwrap_or(0),
        });
        r.fetched = Some(Box::new(Fetched::V2 {
            entry,
            timestamp: stored.timestamp.clone(),
        }));
        r.push(
            AuditCheck::StoredEntry,
            stored_copies_v2(stored, log, index, stamped),
        );
        let result = match result {
            Ok(res) => res,
            Err(e) => {
                r.push(
                    AuditCheck::BodyMatch,
                    Err(format!("the stored envelope: {e}")),
                );
                skip_rest(&mut r, 3, "the stored envelope cannot be verified");
                return r;
            }
        };
        let report = report_of(&result);
        r.push(
            AuditCheck::BodyMatch,
            from_rekor(report, &[Check::BodyMatch]),
        );
        r.push(
            AuditCheck::Inclusion,
            match &proof {
                Err(e) => Err(format!("from the log's tiles: {e}")),
                Ok(_) => proof_lines(report),
            },
        );
        match &st.consistency {
            Ok(note) => r.push_note(AuditCheck::Consistency, note),
            Err(e) => r.push(AuditCheck::Consistency, Err(e.clone())),
        }
        self.certificate_line(&mut r, Some(report));
        if self.authorities.is_none() {
            r.push(
                AuditCheck::Timestamp,
                Err("no timestamp authorities to verify it with \
                     (AuditorBuilder::authorities, from the trusted root)"
                    .into()),
            );
            r.skip(AuditCheck::KeyValidAtIntegratedTime, V2_TIME.unverified);
            r.skip(AuditCheck::NotBackdated, V2_TIME.unverified);
            return r;
        }
        Self::time_lines(&mut r, report, claimed, &V2_TIME);
        r
    }
}

/// Which audit line authenticates an entry's time, from which checks of
/// the rekor report, and what the lines after it say when it fails.
struct TimeLine {
    check: AuditCheck,
    from: &'static [Check],
    unverified: &'static str,
}

/// Rekor v1: the SET authenticates integratedTime.
const V1_TIME: TimeLine = TimeLine {
    check: AuditCheck::Set,
    from: &[Check::LogKey, Check::IntegratedTime, Check::Set],
    unverified: "integratedTime is not authenticated (SET)",
};

/// Rekor v2: an RFC 3161 timestamp is the entry's time.
const V2_TIME: TimeLine = TimeLine {
    check: AuditCheck::Timestamp,
    from: &[Check::Timestamp, Check::Time, Check::LogKey],
    unverified: "the entry's time is not verified (RFC 3161 timestamp)",
};

impl<L> Core<L> {
    /// What the auditor's baseline (`kept`: the checkpoint it holds for
    /// the log, as loaded) says of `current` (the log's verified checkpoint).
    fn baseline_step(
        &self,
        kept: Result<Option<String>, BaselineError>,
        logs: &[TrustedLog],
        current: &VerifiedCheckpoint,
    ) -> BaselineStep {
        BaselineStep::Done(match kept {
            Err(e) => Err(format!("{e}")),
            Ok(None) if self.trust_current_tree => Ok(format!(
                "no baseline: started one at tree size {} (trusted on first use, not proven)",
                current.size
            )),
            Ok(None) => Err(
                "no baseline: run with `--trust-current-tree` once to start one \
                 (`AuditorBuilder::trust_current_tree`)"
                    .into(),
            ),
            Ok(Some(text)) => match verified_checkpoint(&self.checkpoints, logs, &text) {
                None => {
                    Err("the baseline checkpoint does not verify with the trusted log keys".into())
                }
                Some(old) if old.origin != current.origin => {
                    Err("the baseline checkpoint is for another tree".into())
                }
                Some(old) if old.size > current.size => Err(format!(
                    "the log shrank from {} to {} entries",
                    old.size, current.size
                )),
                // The empty tree is a prefix of every tree.
                Some(old) if old.size == 0 => Ok(String::new()),
                Some(old) => return BaselineStep::Prove(old),
            },
        })
    }

    /// Who the auditor trusts to sign, now.
    fn signer(&self) -> std::sync::RwLockReadGuard<'_, SignerPolicy> {
        // A poisoned lock still holds a whole policy: it is only ever
        // replaced, never changed in place.
        self.signer.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn set_signer(&self, signer: SignerPolicy) {
        *self.signer.write().unwrap_or_else(PoisonError::into_inner) = signer;
    }

    /// The policy for this auditor's evidence: its key set, its clock, and
    /// the signed claimed time within its window.
    fn policy<'a>(&'a self, logs: &'a [TrustedLog], claimed: Option<i64>) -> BundlePolicy<'a> {
        let mut policy = BundlePolicy::new(logs, self.signer().clone(), self.clock.now());
        if let Some(a) = &self.authorities {
            policy = policy.with_authorities(a);
        }
        match claimed {
            Some(t) => policy.with_claimed_time(t, self.window),
            None => policy,
        }
    }

    /// The envelope-signature line, then the binding line from the signed
    /// payload (skipped when the signature does not verify: nothing the
    /// payload says is trusted then); returns the signed claimed time.
    fn signature_then_binding(
        &self,
        r: &mut AuditReport,
        env: &Envelope,
        certificate: Option<&[u8]>,
        binding: impl FnOnce(&mut AuditReport, &Statement) -> Option<i64>,
    ) -> Option<i64> {
        match self.signature_any_time(env, certificate) {
            Ok((payload, signer_key_id)) => {
                r.push(AuditCheck::EnvelopeSignature, Ok(()));
                // The payload is parsed once, for the binding line and the
                // facts the report shows.
                let (claimed, statement) = match Statement::from_json(&payload) {
                    Ok(s) => (binding(r, &s), Some(s)),
                    Err(e) => {
                        r.push(
                            AuditCheck::Binding,
                            Err(format!("the payload is not an in-toto statement: {e}")),
                        );
                        (None, None)
                    }
                };
                let digest = statement
                    .as_ref()
                    .and_then(|s| {
                        s.subject
                            .iter()
                            .find(|x| x.annotations.contains_key(binding::SUBJECT))
                            .or_else(|| s.subject.first())
                    })
                    .map(|x| x.digest.clone())
                    .unwrap_or_default();
                r.signed = Some(SignedFacts {
                    signer_key_id,
                    predicate_type: statement.map(|s| s.predicate_type),
                    claimed_time: claimed,
                    digest,
                });
                claimed
            }
            Err(e) => {
                r.push(AuditCheck::EnvelopeSignature, Err(e));
                r.skip(
                    AuditCheck::Binding,
                    "the envelope signature does not verify",
                );
                None
            }
        }
    }

    /// The envelope's signature by a key the policy names, time aside
    /// (validity at the log's time, and a certificate's trust, are their own
    /// lines); the verified payload and the id of the key that verified it.
    fn signature_any_time(
        &self,
        env: &Envelope,
        certificate: Option<&[u8]>,
    ) -> Result<(Vec<u8>, String), String> {
        let keys: Vec<(attest_dsse::PublicKey, String)> = match &*self.signer() {
            SignerPolicy::Key(k) => vec![(k.clone(), k.key_id())],
            SignerPolicy::KeySet(set) => set
                .keys
                .iter()
                .map(|k| (k.key.clone(), k.id.clone()))
                .collect(),
            SignerPolicy::CertificateIdentity(_) => {
                let der = certificate.ok_or(
                    "no signing certificate: an identity policy reads it from the bundle or the published log entry",
                )?;
                let key = attest_rekor::x509::certificate_public_key(der)
                    .map_err(|e| format!("the signing certificate: {e}"))?;
                let id = key.key_id();
                vec![(key, id)]
            }
            _ => return Err("unsupported signer policy".into()),
        };
        let pae = env.pae();
        keys.into_iter()
            .find(|(k, _)| env.signatures().iter().any(|s| k.verifies(&pae, &s.sig)))
            .map(|(_, id)| (env.payload_unverified().to_vec(), id))
            .ok_or_else(|| "no key the policy trusts signed the envelope".into())
    }

    /// Identity policy only: the certificate line, from the rekor report
    /// (chain, SCT, identity), or failed when there is none.
    fn certificate_line(&self, r: &mut AuditReport, report: Option<&Report>) {
        if !matches!(*self.signer(), SignerPolicy::CertificateIdentity(_)) {
            return;
        }
        let res = match report {
            Some(report) => from_rekor(
                report,
                &[
                    Check::CertificateChain,
                    Check::Sct,
                    Check::CertificateIdentity,
                ],
            ),
            None => Err("no verified log evidence to establish the certificate at".into()),
        };
        r.push(AuditCheck::Certificate, res);
    }

    /// set, key-valid-at-integrated-time, not-backdated from the rekor
    /// report (integratedTime is trusted only with its SET).
    fn time_lines(r: &mut AuditReport, report: &Report, claimed: Option<i64>, time: &TimeLine) {
        r.push(time.check, from_rekor(report, time.from));
        if r.outcome(time.check) != Some(Outcome::Passed) {
            r.skip(AuditCheck::KeyValidAtIntegratedTime, time.unverified);
            r.skip(AuditCheck::NotBackdated, time.unverified);
            return;
        }
        if r.outcome(AuditCheck::EnvelopeSignature) != Some(Outcome::Passed) {
            let why = "the envelope signature does not verify";
            r.skip(AuditCheck::KeyValidAtIntegratedTime, why);
            r.skip(AuditCheck::NotBackdated, why);
            return;
        }
        r.push(
            AuditCheck::KeyValidAtIntegratedTime,
            from_rekor(report, &[Check::Signature, Check::SignerValidity]),
        );
        match claimed {
            Some(_) => r.push(
                AuditCheck::NotBackdated,
                from_rekor(report, &[Check::NotBackdated]),
            ),
            None => r.skip(
                AuditCheck::NotBackdated,
                "the statement carries no claimed time",
            ),
        }
    }

    /// The offline audit of a bundle: the same evidence lines from the
    /// bundle's own checkpoint, with binding read from the statement; no
    /// log to fetch from and no baseline, so `entry-fetched`,
    /// `stored-entry` and `consistency` are not part of this policy.
    fn audit_bundle(&self, bundle: &Bundle, logs: &[TrustedLog]) -> AuditReport {
        let mut r = AuditReport {
            attestation_id: String::new(),
            tenant: String::new(),
            subject: String::new(),
            entry_id: None,
            signed: None,
            logged: None,
            checks: Vec::new(),
            fetched: None,
        };
        let env = match bundle.envelope() {
            Ok(Some(e)) => e,
            Ok(None) => {
                r.push(
                    AuditCheck::EnvelopeSignature,
                    Err("the bundle has no DSSE envelope".into()),
                );
                return r;
            }
            Err(e) => {
                r.push(AuditCheck::EnvelopeSignature, Err(e.to_string()));
                return r;
            }
        };
        r.attestation_id = attestation_id_of(&env).to_string();
        let certificate = bundle
            .certificate_chain_der()
            .ok()
            .flatten()
            .and_then(|c| c.into_iter().next());
        let claimed =
            self.signature_then_binding(&mut r, &env, certificate.as_deref(), bundle_binding);
        let result = attest_rekor::verify_bundle_envelope(bundle, &self.policy(logs, claimed));
        let report = report_of(&result);
        r.push(
            AuditCheck::BodyMatch,
            from_rekor(report, &[Check::BodyMatch]),
        );
        r.push(AuditCheck::Inclusion, proof_lines(report));
        self.certificate_line(&mut r, Some(report));
        Self::time_lines(&mut r, report, claimed, &V1_TIME);
        r
    }
}

/// SHA-256 of the envelope's PAE: how an attestation's id is made.
pub(crate) fn attestation_id_of(env: &Envelope) -> AttestationId {
    use sha2::{Digest, Sha256};
    AttestationId(Sha256::digest(env.pae()).into())
}

/// The store's copies of the log's answer equal what the log returned now
/// (the evidence lines say whether that answer verified).
fn stored_copies(stored: &LogEntryRecord, fetched: &LogEntry) -> Result<(), String> {
    let shard = fetched
        .inclusion_proof
        .as_ref()
        .map_or(fetched.log_index, |p| p.log_index);
    let mut differ = Vec::new();
    if stored.entry_id != fetched.id.to_string() {
        differ.push(format!("entry id {} ≠ {}", stored.entry_id, fetched.id));
    }
    if stored.log_id != fetched.log_id.to_hex() {
        differ.push(format!(
            "log id {} ≠ {}",
            stored.log_id,
            fetched.log_id.to_hex()
        ));
    }
    if stored.global_index != fetched.log_index {
        differ.push(format!(
            "global index {} ≠ {}",
            stored.global_index, fetched.log_index
        ));
    }
    if stored.shard_index != shard {
        differ.push(format!("shard index {} ≠ {shard}", stored.shard_index));
    }
    if stored.integrated_time != fetched.integrated_time {
        differ.push(format!(
            "integrated time {} ≠ {}",
            stored.integrated_time, fetched.integrated_time
        ));
    }
    differences(&differ)
}

/// A v2 row's stored copies equal what the log and the timestamp say now:
/// the log id of the log whose checkpoint covers it, its one index, and
/// the verified genTime (compared when the timestamp verifies; its own
/// line fails otherwise).
fn stored_copies_v2(
    stored: &LogEntryRecord,
    log: &TrustedLog,
    index: u64,
    stamped: Option<i64>,
) -> Result<(), String> {
    let mut differ = Vec::new();
    if stored.log_id != log.log_id_hex() {
        differ.push(format!("log id {} ≠ {}", stored.log_id, log.log_id_hex()));
    }
    if stored.shard_index != index {
        differ.push(format!("shard index {} ≠ {index}", stored.shard_index));
    }
    if let Some(t) = stamped.filter(|t| *t != stored.integrated_time) {
        differ.push(format!("timestamp time {} ≠ {t}", stored.integrated_time));
    }
    differences(&differ)
}

/// The stored-entry line from what differs.
fn differences(differ: &[String]) -> Result<(), String> {
    if differ.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the stored copy differs from the log: {}",
            differ.join(", ")
        ))
    }
}

/// The lines of a Rekor v2 row after `binding`.
const V2_LOG_CHECKS: &[AuditCheck] = &[
    AuditCheck::EntryFetched,
    AuditCheck::StoredEntry,
    AuditCheck::BodyMatch,
    AuditCheck::Inclusion,
    AuditCheck::Consistency,
    AuditCheck::Timestamp,
    AuditCheck::KeyValidAtIntegratedTime,
    AuditCheck::NotBackdated,
];

const ALL_AFTER_ID: &[AuditCheck] = &[
    AuditCheck::EnvelopeSignature,
    AuditCheck::Binding,
    AuditCheck::EntryFetched,
    AuditCheck::StoredEntry,
    AuditCheck::BodyMatch,
    AuditCheck::Inclusion,
    AuditCheck::Consistency,
    AuditCheck::Set,
    AuditCheck::KeyValidAtIntegratedTime,
    AuditCheck::NotBackdated,
];

/// The checks that need the log's evidence.
const ALL_LOG_CHECKS: &[AuditCheck] = ALL_AFTER_ID.split_at(2).1;

/// One audit line from a group of rekor-client checks: the first that did
/// not pass, or a failure when none of them ran.
fn from_rekor(report: &attest_rekor::Report, checks: &[Check]) -> Result<(), String> {
    match report
        .checks
        .iter()
        .find(|c: &&CheckResult| checks.contains(&c.check) && c.outcome != Outcome::Passed)
    {
        Some(c) => Err(format!("{}: {}", c.check, c.detail)),
        None if report.checks.iter().any(|c| checks.contains(&c.check)) => Ok(()),
        None => Err("not in the log's evidence".into()),
    }
}

/// The inclusion line's part from the rekor report: the checkpoint's
/// signature and binding, and the proof.
fn proof_lines(report: &attest_rekor::Report) -> Result<(), String> {
    from_rekor(
        report,
        &[
            Check::CheckpointSignature,
            Check::CheckpointBinding,
            Check::Inclusion,
        ],
    )
}

/// The binding line; returns the signed claimed time.
fn binding_check(r: &mut AuditReport, statement: &Statement, row: &AttestationRow) -> Option<i64> {
    let a = &row.attestation;
    let claimed = claimed_time(statement);
    let bound = statement.subject.iter().any(|s| {
        s.annotations.get(binding::TENANT).and_then(|v| v.as_str()) == Some(a.tenant.as_str())
            && s.annotations.get(binding::SUBJECT).and_then(|v| v.as_str())
                == Some(a.subject.as_str())
    });
    let result = if !bound {
        Err(format!(
            "the signed statement is not about tenant {:?} and subject {:?}",
            a.tenant, a.subject
        ))
    } else if statement.predicate_type != a.predicate_type {
        Err("the stored predicate type is not the signed one".into())
    } else if claimed != Some(a.claimed_time) {
        Err(format!(
            "the stored claimed time {} is not the signed one {claimed:?}",
            a.claimed_time
        ))
    } else {
        Ok(())
    };
    r.push(AuditCheck::Binding, result);
    claimed
}

/// The binding line of an offline bundle audit: the signed statement names
/// a tenant and subject (taken into the report); returns the claimed time.
fn bundle_binding(r: &mut AuditReport, statement: &Statement) -> Option<i64> {
    let bound = statement.subject.iter().find_map(|s| {
        let get = |k| s.annotations.get(k).and_then(|v| v.as_str());
        Some((get(binding::TENANT)?, get(binding::SUBJECT)?))
    });
    match bound {
        Some((tenant, subject)) => {
            r.tenant = tenant.to_owned();
            r.subject = subject.to_owned();
            r.push(AuditCheck::Binding, Ok(()));
        }
        None => r.push(
            AuditCheck::Binding,
            Err("the signed statement names no attestlog tenant and subject".into()),
        ),
    }
    claimed_time(statement)
}

fn claimed_time(s: &Statement) -> Option<i64> {
    s.subject.iter().find_map(|s| {
        s.annotations
            .get(binding::CLAIMED_TIME)
            .and_then(serde_json::Value::as_i64)
    })
}

/// The checkpoint, if a trusted log signed it (each text verified once per
/// auditor: rows published under one checkpoint share it).
fn verified_checkpoint(
    memo: &CheckpointMemo,
    logs: &[TrustedLog],
    note: &str,
) -> Option<VerifiedCheckpoint> {
    logs.iter().find_map(|l| memo.verify(note, l).ok())
}

/// The key the store files checkpoints under: hex SHA-256 of the log id of
/// the trusted log that signed `cp` and the checkpoint origin, which names
/// the tree (a Rekor shard) — trees are only comparable within one origin.
fn log_key(signer: &TrustedLog, cp: &VerifiedCheckpoint) -> String {
    use sha2::{Digest, Sha256};
    let id = signer.log_id_hex();
    attest_merkle::Hash(Sha256::digest(format!("{id}\n{}", cp.origin)).into()).to_string()
}

/// The trusted log whose key signed `cp`.
fn signer_of<'a>(
    memo: &CheckpointMemo,
    logs: &'a [TrustedLog],
    cp: &VerifiedCheckpoint,
) -> Option<&'a TrustedLog> {
    logs.iter().find(|l| memo.verify(&cp.note, l).is_ok())
}
