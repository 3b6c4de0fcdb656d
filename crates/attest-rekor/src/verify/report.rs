//! What verification says: the checks, their outcomes, and the report.

#[allow(clippy::wildcard_imports)]
use super::*;

/// The checks, each named in reports and errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Check {
    /// The entry's log is trusted and its key was valid at integratedTime.
    LogKey,
    /// integratedTime is not in the verifier's future.
    IntegratedTime,
    /// The signed entry timestamp verifies.
    Set,
    /// The checkpoint's signature verifies with the log key.
    CheckpointSignature,
    /// The checkpoint carries valid cosignatures from the witnesses the
    /// log's witness policy requires (only for a log with a policy).
    Witnesses,
    /// The proof's root and size are the checkpoint's.
    CheckpointBinding,
    /// The inclusion proof leads from the body's leaf hash to the checkpoint root.
    Inclusion,
    /// The logged body is the one for this envelope or message.
    BodyMatch,
    /// The envelope's or message's signature verifies with the signer key.
    Signature,
    /// The signature is over the artifact the caller named (message digest,
    /// or an in-toto subject of a statement of a known type).
    Artifact,
    /// At least one verified time (a Rekor v1 SET's integratedTime).
    Time,
    /// The signer's key was valid at every verified time.
    SignerValidity,
    /// A claimed time is confirmed by integratedTime.
    NotBackdated,
    /// The signing certificate chains to a certificate authority of the
    /// trusted root, valid at every verified time.
    CertificateChain,
    /// An embedded SCT from a trusted CT log verifies.
    Sct,
    /// The certificate names the identity and OIDC issuer the policy
    /// requires.
    CertificateIdentity,
    /// Every RFC 3161 timestamp verifies with a trusted timestamp authority.
    Timestamp,
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::LogKey => "log-key",
            Self::IntegratedTime => "integrated-time",
            Self::Set => "set",
            Self::CheckpointSignature => "checkpoint-signature",
            Self::Witnesses => "witnesses",
            Self::CheckpointBinding => "checkpoint-binding",
            Self::Inclusion => "inclusion",
            Self::BodyMatch => "body-match",
            Self::Signature => "signature",
            Self::Artifact => "artifact",
            Self::Time => "time",
            Self::SignerValidity => "signer-validity",
            Self::NotBackdated => "not-backdated",
            Self::CertificateChain => "certificate-chain",
            Self::Sct => "sct",
            Self::CertificateIdentity => "certificate-identity",
            Self::Timestamp => "timestamp",
        })
    }
}

/// Why a check failed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{check}: {reason}")]
#[non_exhaustive]
pub struct CheckError {
    /// The check that failed.
    pub check: Check,
    /// What was wrong.
    #[source]
    pub reason: Reason,
}

pub(crate) const fn fail(check: Check, reason: Reason) -> CheckError {
    CheckError { check, reason }
}

/// One line of a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CheckResult {
    /// The check.
    pub check: Check,
    /// `passed`, `failed` or `not-checked`.
    pub outcome: Outcome,
    /// Detail: the failure, or why it was not checked.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

impl CheckResult {
    /// A check's result.
    #[must_use]
    pub fn new(check: Check, outcome: Outcome, detail: impl Into<String>) -> Self {
        Self {
            check,
            outcome,
            detail: detail.into(),
        }
    }

    /// Passed, or failed with `failure` as the detail.
    #[must_use]
    pub fn passed_if(check: Check, passed: bool, failure: &str) -> Self {
        if passed {
            Self::new(check, Outcome::Passed, "")
        } else {
            Self::new(check, Outcome::Failed, failure)
        }
    }
}

/// What happened to a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// It ran and passed.
    Passed,
    /// It ran and failed.
    Failed,
    /// It did not run; the detail says why. Never counted as a pass.
    NotChecked,
}

/// Every check and its outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Report {
    /// In the order they ran.
    pub checks: Vec<CheckResult>,
}

impl Report {
    /// A report of these results.
    #[must_use]
    pub const fn from_checks(checks: Vec<CheckResult>) -> Self {
        Self { checks }
    }

    /// A report with one failed check.
    #[must_use]
    pub fn failure(check: Check, detail: impl Into<String>) -> Self {
        Self::from_checks(vec![CheckResult::new(check, Outcome::Failed, detail)])
    }

    pub(crate) fn push(&mut self, check: Check, r: Result<(), CheckError>) -> bool {
        let (outcome, detail) = match r {
            Ok(()) => (Outcome::Passed, String::new()),
            Err(e) => (
                Outcome::Failed,
                attest_dsse::ErrorChain(&e.reason).to_string(),
            ),
        };
        self.checks.push(CheckResult {
            check,
            outcome,
            detail,
        });
        outcome == Outcome::Passed
    }

    /// The first failed check.
    #[must_use]
    pub fn first_failure(&self) -> Option<&CheckResult> {
        self.checks.iter().find(|c| c.outcome == Outcome::Failed)
    }

    /// True when the report has lines and every one passed. A display
    /// helper: the verdict is the `Result` of the verification functions.
    #[must_use]
    pub fn all_passed(&self) -> bool {
        !self.checks.is_empty() && self.checks.iter().all(|c| c.outcome == Outcome::Passed)
    }

    /// The outcome of `check`, if it ran.
    #[must_use]
    pub fn outcome(&self, check: Check) -> Option<Outcome> {
        self.checks
            .iter()
            .find(|c| c.check == check)
            .map(|c| c.outcome)
    }
}
