//! [`Verifier`]: built once from a trusted root, verifying many bundles and
//! log entries under a [`Policy`].

#[allow(clippy::wildcard_imports)]
use super::*;

use crate::TrustedRoot;

/// What a caller requires of one verification beyond the trusted root: who
/// must have signed, the verifier's clock reading, and optionally a claimed
/// time the log's time must confirm.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Policy {
    /// Who must have signed.
    pub signer: SignerPolicy,
    /// The verifier's clock reading.
    pub now: Timestamp,
    /// A claimed time (Unix seconds) and the window (seconds) within which
    /// the log's time must confirm it (see [`Policy::with_claimed_time`]).
    pub claimed_time: Option<(i64, i64)>,
}

impl Policy {
    /// `signer` must have signed; the clock reads `now`.
    #[must_use]
    pub fn new(signer: impl Into<SignerPolicy>, now: Timestamp) -> Self {
        Self {
            signer: signer.into(),
            now,
            claimed_time: None,
        }
    }

    /// The verifier's clock reading `now` instead.
    #[must_use]
    pub const fn with_now(mut self, now: Timestamp) -> Self {
        self.now = now;
        self
    }

    /// A claimed time and the window within which the log's time (v1:
    /// integratedTime; v2: the earliest verified RFC 3161 genTime) must
    /// confirm it: `claimed <= t <= claimed + window`.
    #[must_use]
    pub const fn with_claimed_time(mut self, claimed: i64, window: i64) -> Self {
        self.claimed_time = Some((claimed, window));
        self
    }
}

/// Verifies bundles and log entries against one [`TrustedRoot`].
///
/// Build it once and share it (`&self` methods; `Send + Sync`): it owns the
/// root, whose authorities keep their parsed keys and verification tables
/// and the verdict on their own chains after first use, and a memo of the
/// checkpoints whose signatures verified, so a log's checkpoint is checked
/// once however many entries it covers. Results are the same as on a fresh
/// verifier; only the time differs.
///
/// ```
/// use attest_dsse::{PublicKey, Timestamp};
/// use attest_rekor::verify::{Policy, Verifier};
/// use attest_rekor::{Artifact, Bundle, TrustedRoot};
///
/// # let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../attestlog-testkit/vectors/");
/// let root = TrustedRoot::from_json(&std::fs::read(format!("{dir}trusted_root.json"))?)?;
/// let verifier = Verifier::new(root);
/// let bundle = Bundle::from_json(&std::fs::read(format!(
///     "{dir}prod-v1-hashedrekord-v001-pubkey.sigstore.json"
/// ))?)?;
/// let signer = PublicKey::from_pem(
///     "-----BEGIN PUBLIC KEY-----
/// MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAExRRST79+PsrRBnGAI4cMu6Omz2Jh
/// fwlMW+gIutNKVRaMyS4rQKvgngc5p8UbLj55pVHhIoAxi/SRgURZI0J3Xw==
/// -----END PUBLIC KEY-----",
/// )?;
/// let artifact = Artifact::parse_digest(
///     "sha256:a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf",
/// )?;
/// let verified = verifier.verify(&bundle, &artifact, &Policy::new(signer, Timestamp::now()))?;
/// assert_eq!(verified.entries.len(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Verifier {
    root: TrustedRoot,
    memo: CheckpointMemo,
}

impl Verifier {
    /// A verifier trusting `root`.
    #[must_use]
    pub fn new(root: TrustedRoot) -> Self {
        Self {
            root,
            memo: CheckpointMemo::default(),
        }
    }

    /// The trusted root.
    #[must_use]
    pub const fn root(&self) -> &TrustedRoot {
        &self.root
    }

    /// The checkpoints this verifier has verified (shared with callers that
    /// verify checkpoints themselves, e.g. a client's consistency checks).
    #[must_use]
    pub const fn checkpoints(&self) -> &CheckpointMemo {
        &self.memo
    }

    /// The run's policy. A root without authorities has none to offer: a
    /// certificate then fails (no authority issued it) and an RFC 3161
    /// timestamp is not a verified time (counted in
    /// [`Verified::unverified_timestamps`]), as with no root at all.
    fn bundle_policy(&self, policy: &Policy) -> BundlePolicy<'_> {
        let mut p = BundlePolicy::new(self.root.logs(), policy.signer.clone(), policy.now);
        if !self.root.authorities().is_empty() {
            p = p.with_authorities(self.root.authorities());
        }
        if let Some((claimed, window)) = policy.claimed_time {
            p = p.with_claimed_time(claimed, window);
        }
        p
    }

    /// Verifies a bundle completely: `Ok` only when the signer the policy
    /// names signed `artifact`, at a verified time, with the log's evidence
    /// complete and valid.
    ///
    /// # Errors
    /// [`NotVerified`] naming the first failing check, with the report.
    pub fn verify(
        &self,
        bundle: &Bundle,
        artifact: &Artifact,
        policy: &Policy,
    ) -> Result<Verified, NotVerified> {
        bundle_run(
            bundle,
            Some(artifact.clone()),
            &self.bundle_policy(policy),
            Some(&self.memo),
        )
    }

    /// Verifies a bundle whose DSSE envelope is itself what the caller
    /// holds (no separate artifact): every rule of [`verify`](Self::verify)
    /// but the artifact's. A message-signature bundle fails
    /// ([`Check::Artifact`]).
    ///
    /// # Errors
    /// [`NotVerified`].
    pub fn verify_envelope(
        &self,
        bundle: &Bundle,
        policy: &Policy,
    ) -> Result<Verified, NotVerified> {
        bundle_run(bundle, None, &self.bundle_policy(policy), Some(&self.memo))
    }

    /// Verifies a REST log entry for the caller's DSSE envelope: the rules
    /// of [`verify`](Self::verify), the envelope standing for the artifact.
    ///
    /// # Errors
    /// [`NotVerified`].
    pub fn verify_log_entry(
        &self,
        entry: &crate::api::LogEntry,
        env: &Envelope,
        policy: &Policy,
    ) -> Result<Verified, NotVerified> {
        verify_log_entry_memo(entry, env, &self.bundle_policy(policy), &self.memo)
    }

    /// Verifies a REST `hashedrekord` entry for a signature over a SHA-256
    /// `digest` (the artifact).
    ///
    /// # Errors
    /// [`NotVerified`].
    pub fn verify_log_entry_message(
        &self,
        entry: &crate::api::LogEntry,
        digest: &[u8; 32],
        signature: &[u8],
        policy: &Policy,
    ) -> Result<Verified, NotVerified> {
        verify_log_entry_message(entry, digest, signature, &self.bundle_policy(policy))
    }

    /// Verifies only a REST entry's log evidence (log key, SET and
    /// integratedTime for v1, checkpoint and inclusion) when the logged
    /// content is not at hand. Not a verification of any signer or artifact.
    ///
    /// # Errors
    /// [`NotVerified`].
    pub fn verify_log_evidence(
        &self,
        entry: &crate::api::LogEntry,
        now: Timestamp,
    ) -> Result<VerifiedEvidence, NotVerified> {
        verify_log_evidence(entry, self.root.logs(), now)
    }

    /// Verifies only a bundle-form entry's log evidence (Rekor v2's
    /// `TransparencyLogEntry`, or a bundle's `tlogEntries[]`). Not a
    /// verification of any signer or artifact.
    ///
    /// # Errors
    /// [`NotVerified`].
    pub fn verify_tlog_evidence(
        &self,
        entry: &TlogEntry,
        now: Timestamp,
    ) -> Result<VerifiedEvidence, NotVerified> {
        verify_tlog_evidence(entry, self.root.logs(), now)
    }
}
