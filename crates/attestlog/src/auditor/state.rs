//! What one audit run learned from the log, once for all its rows.

#[allow(clippy::wildcard_imports)]
use super::*;

/// What one audit run learned from the log, once for all its rows.
pub(super) struct LogState {
    /// The log's current checkpoint, verified, or why it is unavailable.
    pub(super) current: Result<VerifiedCheckpoint, String>,
    /// The consistency of `current` with the baseline (the detail of a
    /// pass says when the baseline was started on this run).
    pub(super) consistency: Result<String, String>,
    /// The Rekor v2 log's, when one is configured.
    pub(super) v2: Option<V2State>,
}

/// What one audit run learned from the Rekor v2 log.
pub(super) struct V2State {
    /// The log's current checkpoint with the trusted log that signed it.
    pub(super) current: Result<(VerifiedCheckpoint, TrustedLog), String>,
    /// Its consistency with the baseline.
    pub(super) consistency: Result<String, String>,
    /// The trusted v2 logs.
    pub(super) logs: Vec<TrustedLog>,
}

/// What the baseline says of a log's current checkpoint.
pub(super) enum BaselineStep {
    /// Decided without the log (no baseline, another tree, shrunk, empty).
    Done(Result<String, String>),
    /// Consistency from this kept checkpoint must be proven by the log.
    Prove(VerifiedCheckpoint),
}
