//! What one audit run learned from the logs, once for all its rows.

#[allow(clippy::wildcard_imports)]
use super::*;

/// What one audit run learned from the logs, once for all its rows: one
/// [`LogRun`] per configured log.
pub(super) struct LogState {
    pub(super) runs: Vec<LogRun>,
}

impl LogState {
    /// The run of the log of `api`, when one is configured.
    pub(super) fn run(&self, api: LogApiVersion) -> Option<&LogRun> {
        self.runs.iter().find(|r| r.log.api() == api)
    }
}

/// A configured log with the verifier of its evidence.
pub(super) struct AuditedLog {
    /// The log.
    pub(super) log: Arc<dyn LogOps>,
    /// A verifier trusting its keys and the auditor's authorities, made
    /// when the auditor is built.
    pub(super) verifier: Arc<Verifier>,
}

/// What one audit run learned from one log.
pub(super) struct LogRun {
    /// The log.
    pub(super) log: Arc<dyn LogOps>,
    /// The keys trusted for it.
    pub(super) logs: Vec<TrustedLog>,
    /// The verifier of its evidence (its checkpoint memo lasts as long as
    /// the auditor).
    pub(super) verifier: Arc<Verifier>,
    /// Its current checkpoint, verified, with the trusted log that signed
    /// it, or why it is unavailable.
    pub(super) current: Result<(VerifiedCheckpoint, TrustedLog), String>,
    /// The consistency of `current` with the baseline (the detail of a
    /// pass says when the baseline was started on this run).
    pub(super) consistency: Result<String, String>,
}

/// What the baseline says of a log's current checkpoint.
pub(super) enum BaselineStep {
    /// Decided without the log (no baseline, another tree, shrunk, empty).
    Done(Result<String, String>),
    /// Consistency from this kept checkpoint must be proven by the log.
    Prove(VerifiedCheckpoint),
}
