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
use attest_rekor::{Bundle, LogEntry, Policy, SignerPolicy, TrustedLog, TrustedRoot, Verifier};
use attest_store::{AttestationRow, AttestationStore, LogApiVersion, LogEntryRecord, StoreError};

use crate::baseline::{AuditBaseline, BaselineError, MemoryBaseline};
#[cfg(doc)]
use rekor_client::{AsyncRekorClient, RekorClient};
use serde::Serialize;
use std::marker::PhantomData;

use crate::binding::{self, attestation_id_of};
use crate::blocking::Blocking;
#[cfg(doc)]
use crate::log::{AsyncRekorV2, RekorV2};
use crate::log::{LogOps, PipelineLog, ReadEntry, mode, run_ready};

mod checks;
mod complete;
mod flow;
mod lines;
mod report;
mod row_v1;
mod row_v2;
mod state;
#[allow(unused_imports)]
use checks::*;
pub use complete::{CompletenessFailure, CompletenessReport};
#[allow(unused_imports)]
use flow::*;
#[allow(unused_imports)]
use lines::*;
#[allow(unused_imports)]
pub use report::*;
#[allow(unused_imports)]
use row_v1::*;
#[allow(unused_imports)]
use row_v2::*;
#[allow(unused_imports)]
use state::*;

/// Builds an [`Auditor`] (blocking log clients) or an [`AsyncAuditor`]:
/// `Auditor::builder(keys, store)`, then `.log(client)` (once per log API),
/// `.backdate_window(s)`, `.clock(clock)` as needed, and `.build()`.
#[must_use = "a builder does nothing until built"]
#[derive(Debug)]
pub struct AuditorBuilder<M = mode::Blocking> {
    core: Core,
    mode: PhantomData<fn() -> M>,
}

/// The default back-dating window: 300 seconds.
pub const DEFAULT_BACKDATE_WINDOW: i64 = 300;

impl<M> AuditorBuilder<M> {
    fn new(signer: SignerPolicy, store: Box<dyn AttestationStore>) -> Self {
        Self {
            core: Core {
                signer: RwLock::new(signer),
                authorities: TrustedRoot::new(),
                store: Arc::from(store),
                blocking: Blocking::InPlace,
                logs: Vec::new(),
                audited: Vec::new(),
                window: DEFAULT_BACKDATE_WINDOW,
                clock: Arc::new(SystemClock),
                baseline: Arc::new(MemoryBaseline::new()),
                trust_current_tree: false,
                witnesses: None,
                new_finds_only: false,
            },
            mode: PhantomData,
        }
    }

    /// Checks the evidence of the rows published to the log behind
    /// `client`: a [`RekorClient`] or a [`RekorV2`] builds an [`Auditor`],
    /// an [`AsyncRekorClient`] or an [`AsyncRekorV2`] an [`AsyncAuditor`].
    /// Give one log per API (a Rekor v1 and a v2 log may both be given: each
    /// row is audited against the log of its API; a second log of the same
    /// API replaces the first). A v2 row's entry is read from the log's
    /// tiles at the stored index, its inclusion proven from tiles against
    /// the log's current checkpoint, its time from the stored RFC 3161
    /// timestamp — which needs [`authorities`](Self::authorities) with the
    /// trusted root's timestamp authorities. A row whose log is not given
    /// fails every log check ("no transparency log configured").
    pub fn log<C: PipelineLog>(self, client: C) -> AuditorBuilder<C::Mode> {
        self.optional_log(Some(client))
    }

    /// [`log`](Self::log) when `client` is `Some`; `None` changes nothing
    /// (e.g. from a configuration where publication is optional).
    pub fn optional_log<C: PipelineLog>(mut self, client: Option<C>) -> AuditorBuilder<C::Mode> {
        if let Some(client) = client {
            let log = client.into_ops();
            self.core.logs.retain(|l| l.api() != log.api());
            self.core.logs.push(log);
        }
        AuditorBuilder {
            core: self.core,
            mode: PhantomData,
        }
    }

    /// The trusted root's certificate authorities, CT logs and timestamp
    /// authorities (`attest_rekor::TrustedRoot::authorities`): needed
    /// by an identity policy, and to verify RFC 3161 timestamps.
    pub fn authorities(mut self, authorities: Authorities) -> Self {
        self.core.authorities = TrustedRoot::new().with_authorities(authorities);
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

    /// For a monitor that follows a log: each
    /// [`completeness`](Auditor::completeness) look reports only the
    /// watched keys' entries found since the previous look, and the scan
    /// state kept in the baseline holds no list of earlier finds — it stays
    /// the size of one look's finds instead of growing with every entry the
    /// keys ever signed (and each look no longer asks the store about all of
    /// them). Not for a completeness *audit*: a row deleted after its entry
    /// was found would no longer be reported.
    pub const fn new_finds_only(mut self, new_only: bool) -> Self {
        self.core.new_finds_only = new_only;
        self
    }

    /// Requires each log's current checkpoint — the tree every row's
    /// inclusion and the baseline's consistency are proven against — to
    /// carry `policy`'s k of n witness cosignatures (C2SP
    /// `cosignature/v1`, dated no later than the auditor's clock plus the
    /// policy's skew). A checkpoint without them fails every row's
    /// inclusion and consistency lines with the reason, and never becomes
    /// the baseline: a log showing this auditor a tree the witnesses did
    /// not see is caught even on the auditor's first run.
    pub fn witnesses(mut self, policy: attest_rekor::witness::WitnessPolicy) -> Self {
        self.core.witnesses = Some(policy);
        self
    }
}

impl AuditorBuilder<mode::Blocking> {
    /// The blocking auditor.
    pub fn build(mut self) -> Auditor {
        self.core.make_verifiers();
        Auditor { core: self.core }
    }
}

impl AuditorBuilder<mode::Async> {
    /// The async auditor: it calls the store and the baseline on threads
    /// of their own, so a blocking store (SQLite, PostgreSQL) never blocks
    /// the executor.
    pub fn build(mut self) -> AsyncAuditor {
        self.core.make_verifiers();
        self.core.blocking = Blocking::OwnThread;
        AsyncAuditor { core: self.core }
    }
}

/// Re-verifies stored attestations against a key set and the logs, over
/// blocking log clients (or none).
#[derive(Debug)]
pub struct Auditor {
    core: Core,
}

impl Auditor {
    /// A builder trusting `signer` for signatures — a [`KeySet`](attest_dsse::KeySet), a pinned
    /// key, or a certificate identity (`SignerPolicy::identity(san,
    /// issuer)`, with [`authorities`](AuditorBuilder::authorities)) —
    /// auditing `store`.
    pub fn builder(
        signer: impl Into<SignerPolicy>,
        store: Box<dyn AttestationStore>,
    ) -> AuditorBuilder<mode::Blocking> {
        AuditorBuilder::new(signer.into(), store)
    }

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

    /// The completeness audit: scans each configured log, from
    /// where the last scan (kept in the baseline) stopped up to its
    /// verified current checkpoint (witnessed, when the auditor requires
    /// it; consistent with the baseline), for entries signed with the
    /// signer policy's keys (the service's, whichever tenant they signed
    /// for), authenticating every body scanned against the checkpoint's
    /// root ([`crate::completeness`]); reports each such entry that no row
    /// of the store, of any tenant, was published as (by entry id), one
    /// report per log. A log that cannot be scanned — unavailable, forked, serving
    /// entries that do not make its checkpoint's tree — fails its report
    /// with the reason; so does an identity policy (no keys to look for)
    /// and an auditor without a log.
    ///
    /// # Errors
    /// [`AuditError::Store`], [`AuditError::Baseline`].
    pub fn completeness(&self) -> Result<Vec<CompletenessReport>, AuditError> {
        run_ready(self.core.completeness())
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
pub struct AsyncAuditor {
    core: Core,
}

impl AsyncAuditor {
    /// A builder trusting `signer` for signatures (as
    /// [`Auditor::builder`]), auditing `store`; give it an
    /// [`AsyncRekorClient`] with `.log(…)`.
    pub fn builder(
        signer: impl Into<SignerPolicy>,
        store: Box<dyn AttestationStore>,
    ) -> AuditorBuilder<mode::Async> {
        AuditorBuilder::new(signer.into(), store)
    }

    /// [`Auditor::set_signer`].
    pub fn set_signer(&self, signer: impl Into<SignerPolicy>) {
        self.core.set_signer(signer.into());
    }

    /// The store.
    #[must_use]
    pub fn store(&self) -> &dyn AttestationStore {
        self.core.store.as_ref()
    }

    /// [`Auditor::completeness`], awaiting the log.
    ///
    /// # Errors
    /// [`AuditError::Store`], [`AuditError::Baseline`].
    pub async fn completeness(&self) -> Result<Vec<CompletenessReport>, AuditError> {
        self.core.completeness().await
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
struct Core {
    /// Replaceable while the auditor runs (a portal whose key set rotated).
    signer: RwLock<SignerPolicy>,
    /// The trusted root's authorities (a root without logs): every
    /// verifier of this auditor shares them.
    authorities: TrustedRoot,
    store: Arc<dyn AttestationStore>,
    /// Where the store and the baseline are called (in place, or off the
    /// async threads).
    blocking: Blocking,
    /// The logs given to the builder, at most one per API.
    logs: Vec<Arc<dyn LogOps>>,
    /// Each with its verifier (made by `build`).
    audited: Vec<AuditedLog>,
    window: i64,
    clock: Arc<dyn Clock>,
    baseline: Arc<dyn AuditBaseline>,
    trust_current_tree: bool,
    /// Cosignatures each log's current checkpoint must carry.
    witnesses: Option<attest_rekor::witness::WitnessPolicy>,
    /// Completeness reports and keeps only each look's finds (a monitor).
    new_finds_only: bool,
}

impl Core {
    /// Moves the builder's logs into `audited`, each with its verifier.
    fn make_verifiers(&mut self) {
        for log in std::mem::take(&mut self.logs) {
            let verifier = Arc::new(self.verifier(log.trusted_logs()));
            self.audited.push(AuditedLog { log, verifier });
        }
    }
}

impl fmt::Debug for Core {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Auditor")
            .field("signer", &*self.signer())
            .field("window", &self.window)
            .finish_non_exhaustive()
    }
}
