//! Policy-driven verification: what the caller trusts in, `Ok(Verified)`
//! out only when signer, artifact, time and log evidence are all
//! established.
//!
//! The policy for an entry's evidence comes from the trusted log its log id
//! names ([`TrustedLog::api`]), never from which fields a bundle carries:
//! deleting a Rekor v1 entry's integratedTime and SET does not make it look
//! like a Rekor v2 entry, it makes it fail. Absent and zero-valued protobuf
//! fields are the same thing.

use attest_dsse::{Envelope, IN_TOTO_PAYLOAD_TYPE, KeySet, PublicKey, Timestamp};
use base64ct::{Base64, Encoding};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::sync::Arc;

use crate::body::EntryBody;
use crate::bundle::{Bundle, TlogEntry, b64, int0};
use crate::pki::{self, Authorities, Cert, IdentityPolicy, PkiError, Purpose};
use crate::verify::{
    Check, CheckError, CheckpointMemo, Reason, Report, VerifiedCheckpoint, VerifiedWith,
    body_matches_envelope, check_body_matches_message, check_integrated_time, check_log_key_valid,
    check_not_backdated, fail, find_log, verify_checkpoint, verify_inclusion_in, verify_set,
};
use crate::{LogApi, LogId, TrustedLog};

/// The in-toto statement types whose subjects name artifacts.
pub const STATEMENT_TYPES: &[&str] = &[
    "https://in-toto.io/Statement/v1",
    "https://in-toto.io/Statement/v0.1",
];

/// Who must have signed. There is no policy that trusts a key found in the
/// bundle or the log entry by itself.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum SignerPolicy {
    /// One pinned key.
    Key(PublicKey),
    /// Any key of the set that is valid (window, not revoked) at every
    /// verified time.
    KeySet(KeySet),
    /// A Fulcio certificate: chaining to a certificate authority of the
    /// trusted root ([`BundlePolicy::with_authorities`]) at every verified
    /// time, seen by a trusted CT log (an SCT), and issued to the identity
    /// by the OIDC issuer the [`IdentityPolicy`] names.
    CertificateIdentity(IdentityPolicy),
}

impl From<KeySet> for SignerPolicy {
    fn from(set: KeySet) -> Self {
        Self::KeySet(set)
    }
}

impl From<PublicKey> for SignerPolicy {
    fn from(key: PublicKey) -> Self {
        Self::Key(key)
    }
}

impl From<IdentityPolicy> for SignerPolicy {
    fn from(identity: IdentityPolicy) -> Self {
        Self::CertificateIdentity(identity)
    }
}

/// The name for [`SignerPolicy`]: who must have signed.
pub type VerificationPolicy = SignerPolicy;

impl SignerPolicy {
    /// One pinned key.
    #[must_use]
    pub const fn key(key: PublicKey) -> Self {
        Self::Key(key)
    }

    /// Any valid key of a key set.
    #[must_use]
    pub const fn key_set(set: KeySet) -> Self {
        Self::KeySet(set)
    }

    /// A Fulcio certificate issued to exactly `identity` (a SAN: URI, email
    /// or other-name) by exactly the OIDC `issuer`.
    #[must_use]
    pub fn identity(identity: impl Into<String>, issuer: impl Into<String>) -> Self {
        Self::CertificateIdentity(IdentityPolicy::exact(identity, issuer))
    }
}

/// The artifact a signature must be about, named by its digests: from its
/// content (SHA-256 and SHA-512), or by a digest alone.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Artifact {
    sha256: Option<[u8; 32]>,
    sha384: Option<[u8; 48]>,
    sha512: Option<[u8; 64]>,
}

/// Why an artifact digest could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not sha256: + 64, sha384: + 96 or sha512: + 128 hex digits")]
pub struct ArtifactDigestError(pub String);

impl Artifact {
    /// The artifact whose content is `bytes`.
    #[must_use]
    pub fn of_bytes(bytes: &[u8]) -> Self {
        Self {
            sha256: Some(Sha256::digest(bytes).into()),
            sha384: Some(sha2::Sha384::digest(bytes).into()),
            sha512: Some(sha2::Sha512::digest(bytes).into()),
        }
    }

    /// The artifact whose SHA-256 is `digest`.
    #[must_use]
    pub const fn sha256_digest(digest: [u8; 32]) -> Self {
        Self {
            sha256: Some(digest),
            sha384: None,
            sha512: None,
        }
    }

    /// Parses `sha256:` + 64, `sha384:` + 96 or `sha512:` + 128 hex digits
    /// (either case).
    ///
    /// # Errors
    /// [`ArtifactDigestError`].
    pub fn parse_digest(s: &str) -> Result<Self, ArtifactDigestError> {
        let err = || ArtifactDigestError(s.to_owned());
        if let Some(hex) = s.strip_prefix("sha256:") {
            let mut out = [0u8; 32];
            if hex.len() != 64 || base16ct::mixed::decode(hex, &mut out).is_err() {
                return Err(err());
            }
            return Ok(Self::sha256_digest(out));
        }
        if let Some(hex) = s.strip_prefix("sha384:") {
            let mut out = [0u8; 48];
            if hex.len() != 96 || base16ct::mixed::decode(hex, &mut out).is_err() {
                return Err(err());
            }
            return Ok(Self {
                sha256: None,
                sha384: Some(out),
                sha512: None,
            });
        }
        let hex = s.strip_prefix("sha512:").ok_or_else(err)?;
        let mut out = [0u8; 64];
        if hex.len() != 128 || base16ct::mixed::decode(hex, &mut out).is_err() {
            return Err(err());
        }
        Ok(Self {
            sha256: None,
            sha384: None,
            sha512: Some(out),
        })
    }

    /// The SHA-384, when known.
    #[must_use]
    pub const fn sha384(&self) -> Option<&[u8; 48]> {
        self.sha384.as_ref()
    }

    /// The digest with a protobuf `HashAlgorithm` (`SHA2_256`, `SHA2_384`,
    /// `SHA2_512`), when known.
    #[must_use]
    pub fn digest_for(&self, algorithm: &str) -> Option<&[u8]> {
        match algorithm {
            "SHA2_256" => self.sha256.as_ref().map(|d| &d[..]),
            "SHA2_384" => self.sha384.as_ref().map(|d| &d[..]),
            "SHA2_512" => self.sha512.as_ref().map(|d| &d[..]),
            _ => None,
        }
    }

    /// The SHA-256, when known.
    #[must_use]
    pub const fn sha256(&self) -> Option<&[u8; 32]> {
        self.sha256.as_ref()
    }

    /// The SHA-512, when known.
    #[must_use]
    pub const fn sha512(&self) -> Option<&[u8; 64]> {
        self.sha512.as_ref()
    }

    /// Whether an in-toto subject's digest set names this artifact: some
    /// algorithm both know (sha256, sha512) with equal values.
    fn named_by(&self, digests: &std::collections::BTreeMap<String, String>) -> bool {
        let eq = |alg: &str, ours: Option<&[u8]>| {
            ours.zip(digests.get(alg)).is_some_and(|(o, hex)| {
                hex.eq_ignore_ascii_case(&base16ct::lower::encode_string(o))
            })
        };
        eq("sha256", self.sha256.as_ref().map(|d| &d[..]))
            || eq("sha384", self.sha384.as_ref().map(|d| &d[..]))
            || eq("sha512", self.sha512.as_ref().map(|d| &d[..]))
    }
}

/// The hash a logged `hashedrekord` body names for its digest, as a
/// protobuf `HashAlgorithm` name: 0.0.2's `data.algorithm`, 0.0.1's
/// lower-case name mapped; `SHA2_256` when the body names none we know
/// (the body check then fails on its own).
fn logged_digest_algorithm(entry: &TlogEntry) -> &'static str {
    let body = Base64::decode_vec(&entry.canonicalized_body)
        .ok()
        .and_then(|b| EntryBody::parse(&b).ok());
    let name = match &body {
        Some(EntryBody::HashedRekordV002(h)) => h.hashed_rekord_v0_0_2.data.algorithm.as_str(),
        Some(EntryBody::HashedRekordV001(h)) => match h.data.hash.algorithm.as_str() {
            "sha384" => "SHA2_384",
            "sha512" => "SHA2_512",
            _ => "SHA2_256",
        },
        _ => "SHA2_256",
    };
    match name {
        "SHA2_384" => "SHA2_384",
        "SHA2_512" => "SHA2_512",
        _ => "SHA2_256",
    }
}

/// What a bundle or log entry is verified against.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct BundlePolicy<'a> {
    /// Trusted logs: each entry's evidence is checked by the policy of the
    /// log its log id names.
    pub logs: &'a [TrustedLog],
    /// Who must have signed.
    pub signer: SignerPolicy,
    /// The verifier's clock.
    pub now: Timestamp,
    /// A claimed time and allowed window (seconds) to confirm against the
    /// log's time — a v1 log's integratedTime, a v2 log's earliest verified
    /// RFC 3161 genTime (required when set).
    pub claimed_time: Option<(i64, i64)>,
    /// The trusted root's certificate authorities, CT logs and timestamp
    /// authorities: needed by a certificate policy, and to verify RFC 3161
    /// timestamps (without them a bundle's timestamps are counted in
    /// [`Verified::unverified_timestamps`], never used).
    pub authorities: Option<&'a Authorities>,
}

impl<'a> BundlePolicy<'a> {
    /// A policy trusting `logs` and `signer`, at time `now`.
    #[must_use]
    pub const fn new(logs: &'a [TrustedLog], signer: SignerPolicy, now: Timestamp) -> Self {
        Self {
            logs,
            signer,
            now,
            claimed_time: None,
            authorities: None,
        }
    }

    /// The trusted root's certificate authorities, CT logs and timestamp
    /// authorities (from [`crate::TrustedRoot`]).
    #[must_use]
    pub const fn with_authorities(mut self, authorities: &'a Authorities) -> Self {
        self.authorities = Some(authorities);
        self
    }

    /// The verifier's clock reading.
    #[must_use]
    pub const fn with_now(mut self, now: Timestamp) -> Self {
        self.now = now;
        self
    }

    /// A claimed time (Unix seconds) and the window (seconds) within which
    /// the log's time (v1: integratedTime; v2: the earliest verified RFC
    /// 3161 genTime) must confirm it: `claimed <= t <= claimed + window`.
    #[must_use]
    pub const fn with_claimed_time(mut self, claimed: i64, window: i64) -> Self {
        self.claimed_time = Some((claimed, window));
        self
    }
}

/// Where a verified time comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeSource {
    /// A Rekor v1 entry's integratedTime, whose SET verified with the key
    /// of the trusted log `log_id`.
    IntegratedTime {
        /// The log.
        log_id: LogId,
    },
    /// An RFC 3161 timestamp's genTime, verified with a timestamp authority
    /// of the trusted root.
    Rfc3161 {
        /// The authority's URI.
        authority: String,
    },
}

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
    /// [`verify_log_entry`], where the caller's own envelope (whatever its
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
/// [`verify_log_evidence`].
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

/// What was signed, as the verifier sees it.
enum Content {
    Envelope(Envelope),
    Message {
        digest: Vec<u8>,
        algorithm: String,
        signature: Vec<u8>,
        /// The bundle named no digest: it is the artifact's, and only the
        /// logged body and the signature can tie the artifact to them.
        from_artifact: bool,
    },
}

/// One verification's inputs, whatever their source (bundle or REST).
struct Input<'a> {
    entry: &'a TlogEntry,
    content: Result<Content, CheckError>,
    /// The bundle's certificates, leaf first.
    chain: Result<Option<Vec<Vec<u8>>>, CheckError>,
    artifact: Option<Artifact>,
    bundle_v01: bool,
    /// RFC 3161 tokens (DER).
    timestamps: Result<Vec<Vec<u8>>, CheckError>,
}

/// Verifies a bundle completely, offline: `Ok` only when the signer the
/// policy names signed `artifact`, at a verified time, with the log's
/// evidence complete and valid.
///
/// # Errors
/// [`NotVerified`] naming the first failing check.
pub fn verify_bundle(
    bundle: &Bundle,
    artifact: &Artifact,
    policy: &BundlePolicy<'_>,
) -> Result<Verified, NotVerified> {
    bundle_run(bundle, Some(artifact.clone()), policy)
}

/// Verifies a bundle whose DSSE envelope is itself what the caller names —
/// an auditor re-checking an attestation it holds, where there is no
/// separate artifact: every rule of [`verify_bundle`] but the artifact's. A
/// message-signature bundle fails ([`Check::Artifact`]): its digest is only
/// meaningful against an artifact.
///
/// # Errors
/// [`NotVerified`].
pub fn verify_bundle_envelope(
    bundle: &Bundle,
    policy: &BundlePolicy<'_>,
) -> Result<Verified, NotVerified> {
    bundle_run(bundle, None, policy)
}

fn bundle_run(
    bundle: &Bundle,
    artifact: Option<Artifact>,
    policy: &BundlePolicy<'_>,
) -> Result<Verified, NotVerified> {
    let entries = &bundle.verification_material.tlog_entries;
    let entry = match entries.as_slice() {
        [e] => e,
        [] => return Err(single(Check::Inclusion, Reason::NoEntry)),
        _ => return Err(single(Check::LogKey, Reason::SeveralEntries)),
    };
    let content = match (bundle.envelope(), &bundle.message_signature) {
        (Ok(Some(env)), None) => Ok(Content::Envelope(env)),
        (Ok(None), Some(m)) => {
            // No digest in the bundle: the named artifact's digest is the
            // message digest (and with no artifact there is none: a
            // failure), with the hash the logged body names (SHA-256 by
            // default; a P-384 signer's Rekor v2 entry names SHA2_384). The
            // body, the signature and the trusted key then bind it.
            let digest = match &m.message_digest {
                Some(d) => Base64::decode_vec(&d.digest)
                    .map(|v| (v, d.algorithm.clone(), false))
                    .map_err(|_| fail(Check::Signature, Reason::MessageEncoding)),
                None => {
                    let algorithm = logged_digest_algorithm(entry);
                    artifact
                        .as_ref()
                        .and_then(|a| a.digest_for(algorithm))
                        .map(|a| (a.to_vec(), algorithm.to_owned(), true))
                        .ok_or(fail(Check::Artifact, Reason::ArtifactDigest))
                }
            };
            match (digest, Base64::decode_vec(&m.signature)) {
                (Ok((digest, algorithm, from_artifact)), Ok(signature)) => Ok(Content::Message {
                    digest,
                    algorithm,
                    signature,
                    from_artifact,
                }),
                (Err(e), _) => Err(e),
                (_, Err(_)) => Err(fail(Check::Signature, Reason::MessageEncoding)),
            }
        }
        (Err(e), _) => Err(fail(Check::BodyMatch, Reason::Envelope(Arc::new(e)))),
        _ => Err(fail(Check::BodyMatch, Reason::NoContent)),
    };
    let chain = bundle
        .certificate_chain_der()
        .map_err(|e| fail(Check::Signature, Reason::CertificateField(Arc::new(e))));
    let timestamps = bundle
        .rfc3161_timestamps()
        .map_err(|e| fail(Check::Timestamp, Reason::Entry(Arc::new(e))));
    run(
        &Input {
            entry,
            content,
            chain,
            artifact,
            bundle_v01: bundle.minor_version() == 1,
            timestamps,
        },
        policy,
        None,
    )
}

/// Verifies a REST log entry for the caller's DSSE envelope: the same rules
/// as [`verify_bundle`], the envelope standing for the artifact.
///
/// # Errors
/// [`NotVerified`].
pub fn verify_log_entry(
    entry: &crate::api::LogEntry,
    env: &Envelope,
    policy: &BundlePolicy<'_>,
) -> Result<Verified, NotVerified> {
    rest(entry, Content::Envelope(env.clone()), None, policy, None)
}

/// [`verify_log_entry`] with a memo of checkpoints already verified: a
/// client checking many entries published under one checkpoint (a group
/// commit) verifies its signature once. The result is the same as without.
///
/// # Errors
/// [`NotVerified`].
pub fn verify_log_entry_memo(
    entry: &crate::api::LogEntry,
    env: &Envelope,
    policy: &BundlePolicy<'_>,
    memo: &CheckpointMemo,
) -> Result<Verified, NotVerified> {
    rest(
        entry,
        Content::Envelope(env.clone()),
        None,
        policy,
        Some(memo),
    )
}

/// Verifies a REST `hashedrekord` entry for a signature over a SHA-256
/// `digest` (the artifact).
///
/// # Errors
/// [`NotVerified`].
pub fn verify_log_entry_message(
    entry: &crate::api::LogEntry,
    digest: &[u8; 32],
    signature: &[u8],
    policy: &BundlePolicy<'_>,
) -> Result<Verified, NotVerified> {
    let content = Content::Message {
        digest: digest.to_vec(),
        algorithm: "SHA2_256".into(),
        signature: signature.to_vec(),
        from_artifact: false,
    };
    rest(
        entry,
        content,
        Some(Artifact::sha256_digest(*digest)),
        policy,
        None,
    )
}

fn rest(
    entry: &crate::api::LogEntry,
    content: Content,
    artifact: Option<Artifact>,
    policy: &BundlePolicy<'_>,
    memo: Option<&CheckpointMemo>,
) -> Result<Verified, NotVerified> {
    let tlog = entry
        .to_tlog_entry()
        .map_err(|e| single(Check::LogKey, Reason::RestEntry(Arc::new(e))))?;
    // A REST entry carries no bundle certificate; under a certificate
    // policy, the certificate is the one the log recorded as the verifier.
    let chain = match policy.signer {
        SignerPolicy::CertificateIdentity(_) => Ok(logged_certificate(&tlog)),
        _ => Ok(None),
    };
    run(
        &Input {
            entry: &tlog,
            content: Ok(content),
            chain,
            artifact,
            bundle_v01: false,
            timestamps: Ok(Vec::new()),
        },
        policy,
        memo,
    )
}

/// Verifies only a REST entry's log evidence — log key, SET and
/// integratedTime (Rekor v1), checkpoint and inclusion — when the logged
/// content is not at hand. Not a verification of any signer or artifact.
///
/// # Errors
/// [`NotVerified`].
pub fn verify_log_evidence(
    entry: &crate::api::LogEntry,
    logs: &[TrustedLog],
    now: Timestamp,
) -> Result<VerifiedEvidence, NotVerified> {
    let tlog = entry
        .to_tlog_entry()
        .map_err(|e| single(Check::LogKey, Reason::RestEntry(Arc::new(e))))?;
    verify_tlog_evidence(&tlog, logs, now)
}

/// Verifies only a bundle-form entry's log evidence (Rekor v2's
/// `TransparencyLogEntry`, or a bundle's `tlogEntries[]`): log key, SET and
/// integratedTime for a v1 log, checkpoint and inclusion. Not a verification
/// of any signer or artifact.
///
/// # Errors
/// [`NotVerified`].
pub fn verify_tlog_evidence(
    entry: &TlogEntry,
    logs: &[TrustedLog],
    now: Timestamp,
) -> Result<VerifiedEvidence, NotVerified> {
    let mut r = Rec::default();
    let ev = evidence(&mut r, entry, logs, now, None, false);
    match (ev.entry, &r.first) {
        (Some(entry), None) => Ok(VerifiedEvidence {
            entry,
            time: ev.time,
            report: r.report,
        }),
        _ => Err(r.into_error()),
    }
}

pub(crate) fn single(check: Check, reason: Reason) -> NotVerified {
    let mut r = Rec::default();
    r.push(check, Err(fail(check, reason)));
    r.into_error()
}

/// A report and its first failure, as it is written.
#[derive(Default)]
struct Rec {
    report: Report,
    first: Option<CheckError>,
}

impl Rec {
    fn push(&mut self, check: Check, res: Result<(), CheckError>) -> bool {
        if let Err(e) = &res {
            self.first.get_or_insert_with(|| e.clone());
        }
        self.report.push(check, res)
    }

    /// The failure (fails closed: a report without a failed line that still
    /// lacks an element is [`Reason::Incomplete`]).
    fn into_error(self) -> NotVerified {
        NotVerified {
            first: self
                .first
                .unwrap_or_else(|| fail(Check::Time, Reason::Incomplete)),
            report: self.report,
        }
    }
}

/// What the log evidence of one entry established.
#[derive(Default)]
struct Evidence {
    body: Option<Vec<u8>>,
    entry: Option<VerifiedEntry>,
    time: Option<VerifiedTime>,
    log: Option<TrustedLog>,
}

/// Log key, time evidence by the log's API, checkpoint, inclusion.
fn evidence(
    r: &mut Rec,
    entry: &TlogEntry,
    logs: &[TrustedLog],
    now: Timestamp,
    memo: Option<&CheckpointMemo>,
    bundle_v01: bool,
) -> Evidence {
    let mut out = Evidence::default();
    let parsed = (|| {
        let body = b64("canonicalizedBody", &entry.canonicalized_body)?;
        let log_id = b64("logId.keyId", &entry.log_id.key_id)?;
        let global = int0("logIndex", &entry.log_index)?;
        let integrated = int0(
            "integratedTime",
            entry.integrated_time.as_deref().unwrap_or(""),
        )?;
        Ok::<_, crate::BundleError>((body, log_id, global, integrated))
    })();
    let (body, log_id, global, integrated) = match parsed {
        Ok(v) => v,
        Err(e) => {
            r.push(
                Check::LogKey,
                Err(fail(Check::LogKey, Reason::Entry(Arc::new(e)))),
            );
            return out;
        }
    };
    out.body = Some(body.clone());
    let log = match find_log(logs, &log_id) {
        Ok(l) => l,
        Err(e) => {
            r.push(Check::LogKey, Err(e));
            return out;
        }
    };
    out.log = Some(log.clone());
    let mut ok = true;

    // Time evidence, by the trusted log's API.
    let set = entry
        .inclusion_promise
        .as_ref()
        .map(|p| p.signed_entry_timestamp.as_str())
        .filter(|s| !s.is_empty());
    let mut integrated_time = None;
    match log.api {
        LogApi::V1 => {
            let res = match (integrated, set) {
                (0, _) => Err(fail(Check::Set, Reason::NoIntegratedTime)),
                (_, None) => Err(fail(Check::Set, Reason::NoSet)),
                (t, Some(set)) => i64::try_from(t)
                    .map_err(|_| fail(Check::Set, Reason::IntegratedTimeRange(t)))
                    .and_then(|t| {
                        let sig = Base64::decode_vec(set)
                            .map_err(|_| fail(Check::Set, Reason::SetEncoding))?;
                        verify_set(log, &entry.canonicalized_body, t, global, &sig)?;
                        Ok(t)
                    }),
            };
            match res {
                Ok(t) => {
                    r.push(Check::Set, Ok(()));
                    ok &= r.push(Check::IntegratedTime, check_integrated_time(t, now));
                    ok &= r.push(Check::LogKey, check_log_key_valid(log, t));
                    integrated_time = Some(t);
                    out.time = Some(VerifiedTime {
                        at: Timestamp::from_unix(t),
                        source: TimeSource::IntegratedTime { log_id: log.log_id },
                    });
                }
                Err(e) => {
                    ok = false;
                    r.push(Check::Set, Err(e));
                }
            }
        }
        LogApi::V2 => {
            // A Rekor v2 entry has no time of its own; what integratedTime or
            // SET a bundle carries for it is unsigned and ignored.
            if bundle_v01 {
                ok &= r.push(Check::Set, Err(fail(Check::Set, Reason::BundleV01NeedsSet)));
            }
        }
    }

    // Checkpoint and inclusion.
    let Some(p) = &entry.inclusion_proof else {
        r.push(
            Check::Inclusion,
            Err(fail(Check::Inclusion, Reason::NoInclusionProof)),
        );
        return out;
    };
    if p.checkpoint.envelope.is_empty() {
        r.push(
            Check::CheckpointSignature,
            Err(fail(Check::CheckpointSignature, Reason::NoCheckpoint)),
        );
        return out;
    }
    let cp = match memo {
        Some(m) => m.verify(&p.checkpoint.envelope, log),
        None => verify_checkpoint(&p.checkpoint.envelope, log),
    };
    let cp = match cp {
        Ok(cp) => {
            r.push(Check::CheckpointSignature, Ok(()));
            cp
        }
        Err(e) => {
            r.push(Check::CheckpointSignature, Err(e));
            return out;
        }
    };
    let proof = (|| {
        let index = int0("inclusionProof.logIndex", &p.log_index)?;
        let size = int0("inclusionProof.treeSize", &p.tree_size)?;
        let hash = |field: &'static str, s: &str| {
            attest_merkle::Hash::from_slice(&b64(field, s)?).ok_or(crate::BundleError::Field {
                field,
                reason: crate::reason::FieldProblem::Not32Bytes,
            })
        };
        let root = hash("inclusionProof.rootHash", &p.root_hash)?;
        let hashes = p
            .hashes
            .iter()
            .map(|h| hash("inclusionProof.hashes", h))
            .collect::<Result<Vec<_>, _>>()?;
        Ok::<_, crate::BundleError>((index, size, root, hashes))
    })();
    let (index, size, root, hashes) = match proof {
        Ok(v) => v,
        Err(e) => {
            r.push(
                Check::Inclusion,
                Err(fail(Check::Inclusion, Reason::ProofEncoding(Arc::new(e)))),
            );
            return out;
        }
    };
    match verify_inclusion_in(&cp, &body, index, size, &root, &hashes) {
        Err(e) if e.check == Check::CheckpointBinding => {
            r.push(Check::CheckpointBinding, Err(e));
            return out;
        }
        res => {
            r.push(Check::CheckpointBinding, Ok(()));
            // A Rekor v2 log has one index, which nothing but the proof
            // authenticates: the entry's must be the proof's.
            let res = res.and_then(|()| match log.api {
                LogApi::V2 if global != index => Err(fail(
                    Check::Inclusion,
                    Reason::LogIndexMismatch {
                        entry: global,
                        proof: index,
                    },
                )),
                _ => Ok(()),
            });
            ok &= r.push(Check::Inclusion, res);
        }
    }
    if ok {
        out.entry = Some(VerifiedEntry {
            log_id: log.log_id,
            api: log.api,
            log_index: global,
            tree_index: index,
            checkpoint: cp,
            integrated_time,
        });
    }
    out
}

/// The signing certificate (DER) a REST entry's logged body records as its
/// verifier, when it is a certificate (keyless signing). Read, not
/// validated: [`verify_log_entry`] under a certificate policy validates it.
#[must_use]
pub fn logged_certificate_der(entry: &crate::api::LogEntry) -> Option<Vec<u8>> {
    let tlog = entry.to_tlog_entry().ok()?;
    logged_certificate(&tlog)?.into_iter().next()
}

/// The certificate a logged body names as its (first) verifier: a `dsse`
/// or `intoto` verifier PEM, a `hashedrekord` public key PEM, or a Rekor v2
/// verifier, when it is a certificate.
fn logged_certificate(entry: &TlogEntry) -> Option<Vec<Vec<u8>>> {
    let body = EntryBody::parse(&Base64::decode_vec(&entry.canonicalized_body).ok()?).ok()?;
    let pem_cert = |b64: &str| {
        let pem = Base64::decode_vec(b64).ok()?;
        let (label, der) = der::pem::decode_vec(&pem).ok()?;
        (label == "CERTIFICATE").then_some(der)
    };
    let der = match &body {
        EntryBody::DsseV001(d) => pem_cert(&d.signatures.first()?.verifier),
        EntryBody::IntotoV002(i) => pem_cert(&i.content.envelope.signatures.first()?.public_key),
        EntryBody::HashedRekordV001(h) => pem_cert(&h.signature.public_key.content),
        EntryBody::HashedRekordV002(h) => {
            let c = h
                .hashed_rekord_v0_0_2
                .signature
                .verifier
                .as_ref()?
                .x509_certificate
                .as_ref()?;
            Base64::decode_vec(&c.raw_bytes).ok()
        }
    }?;
    Some(vec![der])
}

/// The bundle's leaf certificate (a root among the bundle's certificates,
/// or an empty chain, is a refusal).
fn bundle_leaf(chain: &Result<Option<Vec<Vec<u8>>>, CheckError>) -> Result<Cert, CheckError> {
    match chain {
        Ok(Some(chain)) => {
            pki::bundle_leaf(chain).map_err(|e| fail(Check::CertificateChain, Reason::Pki(e)))
        }
        Ok(None) => Err(fail(Check::Signature, Reason::NoCertificate)),
        Err(e) => Err(e.clone()),
    }
}

/// The leaf's path to a trusted certificate authority at every verified
/// time, its SCTs and its identity, each its own line of the report.
fn certificate_checks(
    r: &mut Rec,
    leaf: &Cert,
    authorities: Option<&Authorities>,
    identity: &IdentityPolicy,
    times: &[VerifiedTime],
) -> Option<VerifiedCertificate> {
    let chain = |reason| fail(Check::CertificateChain, reason);
    let ca = match (authorities, times) {
        (None, _) => Err(chain(Reason::NoAuthorities)),
        (Some(_), []) => Err(chain(Reason::NoTimeForCertificate)),
        (Some(a), times) => {
            let at: Vec<Timestamp> = times.iter().map(|t| t.at).collect();
            pki::verify_path(
                leaf,
                &a.certificate_authorities,
                &at,
                Purpose::CodeSigning,
                "certificate authority",
            )
            .map_err(|e| chain(Reason::Pki(e)))
        }
    };
    let ok_chain = r.push(
        Check::CertificateChain,
        ca.as_ref().map(|_| ()).map_err(Clone::clone),
    );
    let mut ok = ok_chain;
    if let (Ok(ca), Some(a)) = (&ca, authorities) {
        let sct = match ca.chain.first() {
            _ if a.ct_logs.is_empty() => Err(PkiError::NoAuthority("CT log")),
            Some(issuer) => pki::verify_scts(leaf, issuer, &a.ct_logs).map(|_| ()),
            None => Err(PkiError::EmptyChain),
        };
        ok &= r.push(
            Check::Sct,
            sct.map_err(|e| fail(Check::Sct, Reason::Pki(e))),
        );
    }
    let id = pki::check_identity(leaf, identity)
        .map_err(|e| fail(Check::CertificateIdentity, Reason::Pki(e)));
    ok &= r.push(
        Check::CertificateIdentity,
        id.as_ref().map(|_| ()).map_err(Clone::clone),
    );
    let ca = ca.ok().filter(|_| ok)?;
    let (identities, issuer) = id.ok()?;
    Some(VerifiedCertificate {
        der: leaf.der.clone(),
        identities,
        issuer,
        authority: ca.uri.clone(),
    })
}

/// The signature bytes an RFC 3161 timestamp is over: the message
/// signature, or the envelope's only signature.
fn timestamped_signature(content: &Content) -> Result<&[u8], CheckError> {
    match content {
        Content::Message { signature, .. } => Ok(signature),
        Content::Envelope(env) => match env.signatures() {
            [one] => Ok(&one.sig),
            sigs => Err(fail(
                Check::Timestamp,
                Reason::TimestampedSignatureCount(sigs.len()),
            )),
        },
    }
}

/// Every token verifies (no duplicates, at most
/// [`crate::tsp::MAX_TIMESTAMPS`]); their genTimes.
fn verify_timestamps(
    tokens: &[Vec<u8>],
    signature: &[u8],
    authorities: &Authorities,
) -> Result<Vec<VerifiedTime>, CheckError> {
    use crate::tsp::{MAX_TIMESTAMPS, TimestampError, verify_timestamp};
    let err = |index, error| fail(Check::Timestamp, Reason::Timestamp { index, error });
    if tokens.len() > MAX_TIMESTAMPS {
        return Err(err(MAX_TIMESTAMPS, TimestampError::TooMany(tokens.len())));
    }
    let mut out = Vec::with_capacity(tokens.len());
    for (i, t) in tokens.iter().enumerate() {
        if tokens[..i].contains(t) {
            return Err(err(i, TimestampError::Duplicate));
        }
        let v = verify_timestamp(t, signature, &authorities.timestamp_authorities)
            .map_err(|e| err(i, e))?;
        out.push(VerifiedTime {
            at: v.gen_time,
            source: TimeSource::Rfc3161 {
                authority: v.authority,
            },
        });
    }
    Ok(out)
}

#[derive(Deserialize)]
struct StatementView {
    #[serde(rename = "_type", default)]
    type_: String,
    #[serde(default)]
    subject: Vec<SubjectView>,
}

#[derive(Deserialize)]
struct SubjectView {
    #[serde(default)]
    digest: std::collections::BTreeMap<String, String>,
}

/// The envelope carries an in-toto statement of a known type, one of whose
/// subjects is the artifact.
fn check_statement(env: &Envelope, artifact: &Artifact) -> Result<(), CheckError> {
    let a = |r: Reason| fail(Check::Artifact, r);
    if env.payload_type() != IN_TOTO_PAYLOAD_TYPE {
        return Err(a(Reason::NotInToto(env.payload_type().to_owned())));
    }
    let st: StatementView = serde_json::from_slice(env.payload_unverified())
        .map_err(|e| a(Reason::StatementJson(Arc::new(e))))?;
    if !STATEMENT_TYPES.contains(&st.type_.as_str()) {
        return Err(a(Reason::StatementType(st.type_)));
    }
    if st.subject.iter().any(|s| artifact.named_by(&s.digest)) {
        Ok(())
    } else {
        Err(a(Reason::SubjectNotFound))
    }
}

/// The whole verification of one entry with its content.
fn run(
    input: &Input<'_>,
    policy: &BundlePolicy<'_>,
    memo: Option<&CheckpointMemo>,
) -> Result<Verified, NotVerified> {
    let mut r = Rec::default();
    let ev = evidence(
        &mut r,
        input.entry,
        policy.logs,
        policy.now,
        memo,
        input.bundle_v01,
    );

    // Time: the SET's integratedTime and every RFC 3161 timestamp.
    let mut times: Vec<VerifiedTime> = ev.time.clone().into_iter().collect();
    let mut unverified_timestamps = 0;
    match (&input.timestamps, policy.authorities, &input.content) {
        (Ok(ts), _, _) if ts.is_empty() => {}
        (Ok(ts), None, _) => unverified_timestamps = ts.len(),
        (Err(e), _, _) => {
            r.push(Check::Timestamp, Err(e.clone()));
        }
        // The content's own failure is reported below.
        (Ok(_), Some(_), Err(_)) => {}
        (Ok(ts), Some(a), Ok(content)) => {
            let res = timestamped_signature(content)
                .and_then(|sig| verify_timestamps(ts, sig, a))
                .map(|v| times.extend(v));
            r.push(Check::Timestamp, res);
        }
    }
    // A Rekor v2 log's key must be valid when its entry was timestamped.
    if let Some(log) = ev
        .log
        .as_ref()
        .filter(|l| l.api == LogApi::V2 && !times.is_empty())
    {
        r.push(
            Check::LogKey,
            times
                .iter()
                .try_for_each(|t| check_log_key_valid(log, t.at.unix())),
        );
    }

    // Signer: a pinned key, a key set, or a certificate.
    let mut certificate = None;
    let mut leaf_der = None;
    let keys = match &policy.signer {
        SignerPolicy::Key(k) => Ok(vec![k.clone()]),
        SignerPolicy::KeySet(set) => Ok(set.keys.iter().map(|k| k.key.clone()).collect()),
        SignerPolicy::CertificateIdentity(identity) => match bundle_leaf(&input.chain) {
            Ok(leaf) => {
                certificate =
                    certificate_checks(&mut r, &leaf, policy.authorities, identity, &times);
                let key = leaf.public_key();
                leaf_der = Some(leaf.der);
                key.map(|k| vec![k])
                    .map_err(|e| fail(Check::Signature, Reason::Pki(e)))
            }
            Err(e) => {
                if e.check != Check::Signature {
                    r.push(e.check, Err(e.clone()));
                }
                Err(e)
            }
        },
    };

    // Body, signature, artifact.
    let mut signer: Option<PublicKey> = None;
    let body = ev.body.as_deref().map(|b| {
        EntryBody::parse(b)
            .map_err(|e| fail(Check::BodyMatch, Reason::Body(e)))
            .and_then(|parsed| {
                let (k, v) = parsed.kind_version();
                if k == input.entry.kind_version.kind && v == input.entry.kind_version.version {
                    Ok(parsed)
                } else {
                    Err(fail(Check::BodyMatch, Reason::KindVersionMismatch))
                }
            })
    });
    match &input.content {
        Err(e) => {
            r.push(e.check, Err(e.clone()));
        }
        Ok(Content::Envelope(env)) => {
            let pae = env.pae();
            let sig = keys.and_then(|keys| {
                keys.into_iter()
                    .find(|k| env.signatures().iter().any(|s| k.verifies(&pae, &s.sig)))
                    .ok_or(fail(Check::Signature, Reason::UntrustedSigner))
            });
            if let Some(body) = body {
                r.push(
                    Check::BodyMatch,
                    body.and_then(|b| {
                        let with = sig.as_ref().ok().map(|key| VerifiedWith {
                            key,
                            certificate_der: leaf_der.as_deref(),
                        });
                        body_matches_envelope(&b, env, with)
                    }),
                );
            }
            r.push(
                Check::Signature,
                sig.as_ref().map(|_| ()).map_err(Clone::clone),
            );
            signer = sig.ok();
            // With no artifact named, the caller's own envelope is what is
            // verified, whatever its payload type.
            if let Some(artifact) = &input.artifact {
                r.push(Check::Artifact, check_statement(env, artifact));
            }
        }
        Ok(Content::Message {
            digest,
            algorithm,
            signature,
            from_artifact,
        }) => {
            let sig = keys.and_then(|keys| {
                keys.into_iter()
                    .find(|k| k.verifies_prehashed(digest, signature))
                    .ok_or(fail(Check::Signature, Reason::UntrustedSigner))
            });
            let mut body_ok = false;
            if let Some(body) = body {
                let res = body.and_then(|b| match &sig {
                    Ok(k) => check_body_matches_message(&b, algorithm, digest, signature, k),
                    // Without a trusted signer the logged key has nothing to
                    // equal; digest and signature are still compared.
                    Err(_) => match crate::verify::logged_key(&b) {
                        Some(k) => check_body_matches_message(&b, algorithm, digest, signature, &k),
                        None => Err(fail(Check::BodyMatch, Reason::LoggedVerifierKey)),
                    },
                });
                body_ok = res.is_ok();
                r.push(Check::BodyMatch, res);
            }
            r.push(
                Check::Signature,
                sig.as_ref().map(|_| ()).map_err(Clone::clone),
            );
            let sig_ok = sig.is_ok();
            signer = sig.ok();
            let artifact = if *from_artifact && !(body_ok && sig_ok) {
                // The digest is the artifact's own: the artifact is
                // established only by the logged body and the signature.
                Err(fail(Check::Artifact, Reason::ArtifactDigest))
            } else if !matches!(algorithm.as_str(), "SHA2_256" | "SHA2_384" | "SHA2_512") {
                Err(fail(
                    Check::Artifact,
                    Reason::DigestAlgorithm(algorithm.clone()),
                ))
            } else if input
                .artifact
                .as_ref()
                .and_then(|a| a.digest_for(algorithm))
                .is_none_or(|a| a != &digest[..])
            {
                Err(fail(Check::Artifact, Reason::ArtifactDigest))
            } else {
                Ok(())
            };
            r.push(Check::Artifact, artifact);
        }
    }

    // At least one time, and the signer valid at each.
    let time = if times.is_empty() {
        let reason = match ev.log.as_ref().map(|l| l.api) {
            Some(LogApi::V2) => Reason::NoTimeFromV2,
            _ => Reason::NoVerifiedTime,
        };
        Err(fail(Check::Time, reason))
    } else {
        Ok(())
    };
    r.push(Check::Time, time);
    if let Some(k) = &signer {
        r.push(
            Check::SignerValidity,
            signer_valid(&policy.signer, k, &times),
        );
    }
    if let Some((claimed, window)) = policy.claimed_time {
        // The proof of existence: a v1 log's integratedTime; a v2 log keeps
        // no time, so its entry's earliest verified RFC 3161 genTime.
        let log_time = match ev.log.as_ref().map(|l| l.api) {
            Some(LogApi::V2) => times
                .iter()
                .filter(|t| matches!(t.source, TimeSource::Rfc3161 { .. }))
                .map(|t| t.at.unix())
                .min(),
            _ => ev.entry.as_ref().and_then(|e| e.integrated_time),
        };
        r.push(
            Check::NotBackdated,
            log_time.map_or(
                Err(fail(Check::NotBackdated, Reason::NoLogTimeForClaim)),
                |t| check_not_backdated(claimed, t, window),
            ),
        );
    }
    let certificate_ok = match policy.signer {
        SignerPolicy::CertificateIdentity(_) => certificate.is_some(),
        _ => true,
    };
    match (signer, ev.entry, &r.first) {
        (Some(signer), Some(entry), None) if !times.is_empty() && certificate_ok => Ok(Verified {
            signer,
            artifact: input.artifact.clone(),
            times,
            entries: vec![entry],
            certificate,
            unverified_timestamps,
            report: r.report,
        }),
        _ => Err(r.into_error()),
    }
}

/// The signer's key was valid at every verified time: always for a pinned
/// key; for a key set, some record of that key valid at each.
fn signer_valid(
    policy: &SignerPolicy,
    key: &PublicKey,
    times: &[VerifiedTime],
) -> Result<(), CheckError> {
    let SignerPolicy::KeySet(set) = policy else {
        return Ok(());
    };
    for t in times {
        if !set.valid_at(t.at).any(|k| k.key == *key) {
            return Err(fail(Check::SignerValidity, Reason::SignerKeyNotValid(t.at)));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn artifacts_know_their_sha256_sha384_and_sha512() {
        let a = Artifact::of_bytes(b"artifact");
        assert_eq!(
            a.digest_for("SHA2_384"),
            Some(&sha2::Sha384::digest(b"artifact")[..])
        );
        assert_eq!(a.digest_for("SHA2_256").map(<[u8]>::len), Some(32));
        assert_eq!(a.digest_for("SHA2_512").map(<[u8]>::len), Some(64));
        assert_eq!(a.digest_for("SHA3_256"), None);
        let hex = base16ct::lower::encode_string(&sha2::Sha384::digest(b"artifact"));
        let parsed = Artifact::parse_digest(&format!("sha384:{hex}")).unwrap();
        assert_eq!(parsed.sha384(), a.sha384());
        assert_eq!(parsed.digest_for("SHA2_256"), None);
        for bad in [
            format!("sha384:{}", &hex[..94]),
            format!("sha384:{hex}00"),
            format!("sha384:{}", "zz".repeat(48)),
        ] {
            assert!(Artifact::parse_digest(&bad).is_err(), "{bad}");
        }
        // An in-toto subject named by its sha384.
        let mut subject = std::collections::BTreeMap::new();
        subject.insert("sha384".to_owned(), hex.to_uppercase());
        assert!(a.named_by(&subject));
        subject.insert("sha384".to_owned(), "00".repeat(48));
        assert!(!a.named_by(&subject));
    }
}
