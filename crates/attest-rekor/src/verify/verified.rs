//! What verification establishes: the typed result and the failure.

#[allow(clippy::wildcard_imports)]
use super::*;

/// A time established by signed evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifiedTime {
    /// The instant.
    pub at: Timestamp,
    /// What vouches for it.
    pub source: TimeSource,
}

/// A log entry whose inclusion verified against a checkpoint signed by a
/// trusted log.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifiedEntry {
    /// The log.
    pub log_id: LogId,
    /// The log's API (from the trusted log).
    pub api: LogApi,
    /// The global log index (bound by the SET for Rekor v1; equal to the
    /// proven index for Rekor v2).
    pub log_index: u64,
    /// The index in the checkpoint's tree (the shard-local index for Rekor v1).
    pub tree_index: u64,
    /// The checkpoint the proof leads to.
    pub checkpoint: VerifiedCheckpoint,
    /// integratedTime, only when its SET verified.
    pub integrated_time: Option<i64>,
}

/// Everything a successful verification established.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Verified {
    /// The key that made the signature, which the policy trusts.
    pub signer: PublicKey,
    /// The artifact the signature is bound to; `None` only from
    /// [`Verifier::verify_log_entry`], where the caller's own envelope (whatever its
    /// payload type) is what was named.
    pub artifact: Option<Artifact>,
    /// At least one time, each at which the signer's key and the log's key
    /// were valid.
    pub times: Vec<VerifiedTime>,
    /// The log entries (one).
    pub entries: Vec<VerifiedEntry>,
    /// The signing certificate, under a certificate policy.
    pub certificate: Option<VerifiedCertificate>,
    /// RFC 3161 timestamps the bundle carries that this version does not
    /// verify: none of them is among `times`.
    pub unverified_timestamps: usize,
    /// Every check, each passed.
    pub report: Report,
}

/// A signing certificate that chained to a trusted authority, carried a
/// verified SCT and named the policy's identity.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifiedCertificate {
    /// The certificate (DER).
    pub der: Vec<u8>,
    /// Its subject alternative names.
    pub identities: Vec<String>,
    /// Its OIDC issuer.
    pub issuer: String,
    /// The certificate authority's URI.
    pub authority: String,
}

/// Verification failed: the first failing check, and the report of all.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{first}")]
#[non_exhaustive]
pub struct NotVerified {
    /// The first check that failed.
    pub first: CheckError,
    /// Every check that ran.
    pub report: Report,
}

/// The report of a verification, whichever way it went.
#[must_use]
pub const fn report_of(result: &Result<Verified, NotVerified>) -> &Report {
    match result {
        Ok(v) => &v.report,
        Err(e) => &e.report,
    }
}

/// A log entry's evidence alone (no signer, no content): from
/// [`Verifier::verify_log_evidence`] or [`Verifier::verify_tlog_evidence`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct VerifiedEvidence {
    /// The entry.
    pub entry: VerifiedEntry,
    /// Its integratedTime when the log is Rekor v1 and the SET verified.
    pub time: Option<VerifiedTime>,
    /// Every check, each passed.
    pub report: Report,
}
