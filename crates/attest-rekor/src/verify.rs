//! Offline verification of transparency-log evidence. No I/O: bytes and
//! trusted material in, a typed result out. Each check is its own function;
//! [`verify_bundle`] composes them into a [`Report`] that names every check.

use std::fmt;

use attest_dsse::{Envelope, PublicKey, Timestamp, Verifier, pae};
use attest_merkle::{Hash, ProofError, leaf_hash, verify_consistency};
use base64ct::{Base64, Encoding};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::body::EntryBody;
use crate::bundle::{Bundle, TlogEntry, b64, int};
pub use crate::reason::Reason;
use crate::{LogId, NoteError, SignedNote, TrustedLog};
use std::sync::Arc;

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
    /// The proof's root and size are the checkpoint's.
    CheckpointBinding,
    /// The inclusion proof leads from the body's leaf hash to the checkpoint root.
    Inclusion,
    /// The logged body is the one for this envelope or message.
    BodyMatch,
    /// The envelope's or message's signature verifies with the signer key.
    Signature,
    /// A claimed time is confirmed by integratedTime.
    NotBackdated,
    /// Certificate chain and identity: never verified by this crate.
    CertificateIdentity,
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::LogKey => "log-key",
            Self::IntegratedTime => "integrated-time",
            Self::Set => "set",
            Self::CheckpointSignature => "checkpoint-signature",
            Self::CheckpointBinding => "checkpoint-binding",
            Self::Inclusion => "inclusion",
            Self::BodyMatch => "body-match",
            Self::Signature => "signature",
            Self::NotBackdated => "not-backdated",
            Self::CertificateIdentity => "certificate-identity",
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

const fn fail(check: Check, reason: Reason) -> CheckError {
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

    fn push(&mut self, check: Check, r: Result<(), CheckError>) -> bool {
        let (outcome, detail) = match r {
            Ok(()) => (Outcome::Passed, String::new()),
            Err(e) => (Outcome::Failed, e.reason.to_string()),
        };
        self.checks.push(CheckResult {
            check,
            outcome,
            detail,
        });
        outcome == Outcome::Passed
    }

    fn not_checked(&mut self, check: Check, why: &str) {
        self.checks.push(CheckResult {
            check,
            outcome: Outcome::NotChecked,
            detail: why.to_owned(),
        });
    }

    /// True when no check failed and the log's evidence — log key,
    /// checkpoint signature and binding, inclusion — passed (for reports of
    /// [`verify_log_evidence`], where the content was not at hand).
    #[must_use]
    pub fn evidence_verified(&self) -> bool {
        self.first_failure().is_none()
            && [
                Check::LogKey,
                Check::CheckpointSignature,
                Check::CheckpointBinding,
                Check::Inclusion,
            ]
            .iter()
            .all(|c| {
                self.checks
                    .iter()
                    .any(|r| r.check == *c && r.outcome == Outcome::Passed)
            })
    }

    /// The first failed check.
    #[must_use]
    pub fn first_failure(&self) -> Option<&CheckResult> {
        self.checks.iter().find(|c| c.outcome == Outcome::Failed)
    }

    /// True when no check failed and every check that must run for this kind
    /// of evidence passed. `not-checked` lines are listed so that nobody
    /// mistakes them for passes.
    #[must_use]
    pub fn verified(&self) -> bool {
        self.first_failure().is_none()
            && [
                Check::LogKey,
                Check::CheckpointSignature,
                Check::CheckpointBinding,
                Check::Inclusion,
                Check::BodyMatch,
                Check::Signature,
            ]
            .iter()
            .all(|c| {
                self.checks
                    .iter()
                    .any(|r| r.check == *c && r.outcome == Outcome::Passed)
            })
    }
}

/// The trusted log whose id is `log_id`.
///
/// # Errors
/// [`Check::LogKey`] when no trusted log has that id.
pub fn find_log<'a>(logs: &'a [TrustedLog], log_id: &[u8]) -> Result<&'a TrustedLog, CheckError> {
    logs.iter()
        .find(|l| l.log_id.as_bytes()[..] == *log_id)
        .ok_or_else(|| fail(Check::LogKey, Reason::UntrustedLog))
}

/// The log key was valid at `integrated_time` (inclusive window).
///
/// # Errors
/// [`Check::LogKey`].
pub fn check_log_key_valid(log: &TrustedLog, integrated_time: i64) -> Result<(), CheckError> {
    if log.valid_at(Timestamp::from_unix(integrated_time)) {
        Ok(())
    } else {
        Err(fail(Check::LogKey, Reason::LogKeyNotValidAtTime))
    }
}

/// integratedTime is not later than `now`.
///
/// # Errors
/// [`Check::IntegratedTime`].
pub fn check_integrated_time(integrated_time: i64, now: Timestamp) -> Result<(), CheckError> {
    if integrated_time <= now.unix() {
        Ok(())
    } else {
        Err(fail(
            Check::IntegratedTime,
            Reason::FutureIntegratedTime(integrated_time),
        ))
    }
}

/// The bytes a SET signs: the RFC 8785 JSON of
/// `{"body","integratedTime","logID","logIndex"}` (members already in
/// canonical order; the body is the base64 text as sent, JSON-escaped).
#[must_use]
pub fn set_payload(
    body_b64: &str,
    integrated_time: i64,
    log_id_hex: &str,
    global_index: u64,
) -> Vec<u8> {
    let payload = serde_json::json!({
        "body": body_b64,
        "integratedTime": integrated_time,
        "logID": log_id_hex,
        "logIndex": global_index,
    });
    // A JSON object of strings and integers: canonicalization cannot fail.
    #[allow(clippy::expect_used)]
    serde_jcs::to_vec(&payload).expect("RFC 8785 of strings and integers")
}

/// The SET: the log's signature over the RFC 8785 JSON of
/// `{body, integratedTime, logID, logIndex}` (body as the base64 string sent,
/// logID lowercase hex, logIndex the global index).
///
/// # Errors
/// [`Check::Set`].
pub fn verify_set(
    log: &TrustedLog,
    body_b64: &str,
    integrated_time: i64,
    global_index: u64,
    set: &[u8],
) -> Result<(), CheckError> {
    let msg = set_payload(body_b64, integrated_time, &log.log_id_hex(), global_index);
    if log.key.verifies(&msg, set) {
        Ok(())
    } else {
        Err(fail(Check::Set, Reason::SetSignature))
    }
}

/// A checkpoint whose signature verified.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifiedCheckpoint {
    /// The origin line.
    pub origin: String,
    /// Tree size.
    pub size: u64,
    /// Root hash.
    pub root: Hash,
    /// The signed note.
    pub note: String,
}

/// Verifies a checkpoint's signature with the log key and parses its body.
///
/// # Errors
/// [`Check::CheckpointSignature`].
pub fn verify_checkpoint(note: &str, log: &TrustedLog) -> Result<VerifiedCheckpoint, CheckError> {
    let sig = |e: NoteError| fail(Check::CheckpointSignature, Reason::Note(e));
    let parsed = SignedNote::parse(note).map_err(sig)?;
    parsed.verify(&[log.note_verifier()]).map_err(sig)?;
    let cp = parsed
        .checkpoint()
        .map_err(|e| fail(Check::CheckpointSignature, Reason::CheckpointBody(e)))?;
    Ok(VerifiedCheckpoint {
        origin: cp.origin().to_owned(),
        size: cp.size(),
        root: *cp.root(),
        note: note.to_owned(),
    })
}

/// Inclusion of `body` (the exact canonical bytes) at shard-local `index`,
/// bound to a verified checkpoint: the proof's claimed root and size must be
/// the checkpoint's, and the proof must lead to that root.
///
/// # Errors
/// [`Check::CheckpointBinding`] or [`Check::Inclusion`].
pub fn verify_inclusion_in(
    checkpoint: &VerifiedCheckpoint,
    body: &[u8],
    index: u64,
    tree_size: u64,
    claimed_root: &Hash,
    proof: &[Hash],
) -> Result<(), CheckError> {
    if checkpoint.size != tree_size {
        return Err(fail(
            Check::CheckpointBinding,
            Reason::TreeSizeMismatch {
                proof: tree_size,
                checkpoint: checkpoint.size,
            },
        ));
    }
    if checkpoint.root != *claimed_root {
        return Err(fail(Check::CheckpointBinding, Reason::RootMismatch));
    }
    attest_merkle::verify_inclusion(index, tree_size, &leaf_hash(body), proof, &checkpoint.root)
        .map_err(|e: ProofError| fail(Check::Inclusion, Reason::Proof(e)))
}

/// Consistency between two verified checkpoints of the same log.
///
/// # Errors
/// [`Check::Inclusion`]-style errors under the check name `checkpoint-binding`
/// for different origins, and the proof error otherwise.
pub fn verify_checkpoint_consistency(
    old: &VerifiedCheckpoint,
    new: &VerifiedCheckpoint,
    proof: &[Hash],
) -> Result<(), CheckError> {
    if old.origin != new.origin {
        return Err(fail(Check::CheckpointBinding, Reason::OriginMismatch));
    }
    verify_consistency(old.size, new.size, proof, &old.root, &new.root)
        .map_err(|e| fail(Check::Inclusion, Reason::Consistency(e)))
}

/// A claimed time is confirmed when `claimed <= integrated <= claimed + window`.
///
/// # Errors
/// [`Check::NotBackdated`].
pub fn check_not_backdated(
    claimed: i64,
    integrated_time: i64,
    window_secs: i64,
) -> Result<(), CheckError> {
    if claimed > integrated_time {
        return Err(fail(Check::NotBackdated, Reason::ClaimedAfterLogTime));
    }
    let behind = integrated_time
        .checked_sub(claimed)
        .ok_or(fail(Check::NotBackdated, Reason::TimesOutOfRange))?;
    if behind > window_secs {
        return Err(fail(
            Check::NotBackdated,
            Reason::Backdated {
                behind,
                window: window_secs,
            },
        ));
    }
    Ok(())
}

fn sha256_hex(b: &[u8]) -> String {
    base16ct::lower::encode_string(&Sha256::digest(b))
}

/// The logged body is the one for this envelope: `dsse` 0.0.1 (payload hash
/// and every signature with its verifier), `intoto` 0.0.2 (payload hash,
/// type, signatures), or Rekor v2 `hashedrekord` 0.0.2 (digest = SHA-256 of
/// the PAE, the one signature).
///
/// # Errors
/// [`Check::BodyMatch`].
pub fn check_body_matches_envelope(body: &EntryBody, env: &Envelope) -> Result<(), CheckError> {
    body_matches_envelope(body, env, None)
}

/// [`check_body_matches_envelope`], skipping the signature check of a logged
/// (signature, verifier) pair that is the envelope's only signature, already
/// verified with that same key by the signature check.
fn body_matches_envelope(
    body: &EntryBody,
    env: &Envelope,
    verified_with: Option<&PublicKey>,
) -> Result<(), CheckError> {
    let bm = |r: Reason| fail(Check::BodyMatch, r);
    let payload_hash = sha256_hex(env.payload_unverified());
    let env_sigs: Vec<&[u8]> = env.signatures().iter().map(|s| s.sig.as_slice()).collect();
    let pae = env.pae();
    match body {
        EntryBody::DsseV001(d) => {
            if d.payload_hash.algorithm != "sha256" || d.payload_hash.value != payload_hash {
                return Err(bm(Reason::PayloadHash));
            }
            let mut logged = Vec::new();
            for s in &d.signatures {
                let sig = Base64::decode_vec(&s.signature)
                    .map_err(|_| bm(Reason::LoggedSignatureEncoding))?;
                let pem = Base64::decode_vec(&s.verifier)
                    .map_err(|_| bm(Reason::LoggedVerifierEncoding))?;
                // The verifier the signature check used, in the same PEM text,
                // need not be parsed again.
                let same = verified_with.filter(|k| k.to_pem().as_bytes() == pem.as_slice());
                let key = same
                    .cloned()
                    .or_else(|| {
                        std::str::from_utf8(&pem)
                            .ok()
                            .and_then(|p| crate::x509::public_key_from_pem(p).ok())
                    })
                    .ok_or_else(|| bm(Reason::LoggedVerifierKey))?;
                // With one envelope signature, the signature check verified
                // exactly that signature with that key.
                let already = env_sigs.len() == 1
                    && verified_with.is_some_and(|k| *k == key)
                    && env_sigs[0] == sig.as_slice();
                if !already && !key.verifies(&pae, &sig) {
                    return Err(bm(Reason::LoggedSignatureInvalid));
                }
                logged.push(sig);
            }
            same_signatures(&logged, &env_sigs).map_err(bm)
        }
        EntryBody::IntotoV002(i) => {
            let c = &i.content;
            if c.payload_hash.value != payload_hash {
                return Err(bm(Reason::PayloadHash));
            }
            if c.envelope.payload_type != env.payload_type() {
                return Err(bm(Reason::PayloadType));
            }
            let mut logged = Vec::new();
            for s in &c.envelope.signatures {
                let inner =
                    Base64::decode_vec(&s.sig).map_err(|_| bm(Reason::LoggedSignatureEncoding))?;
                let inner =
                    std::str::from_utf8(&inner).map_err(|_| bm(Reason::LoggedSignatureEncoding))?;
                let sig =
                    Base64::decode_vec(inner).map_err(|_| bm(Reason::LoggedSignatureEncoding))?;
                logged.push(sig);
            }
            same_signatures(&logged, &env_sigs).map_err(bm)
        }
        EntryBody::HashedRekordV002(h) => {
            let r = &h.hashed_rekord_v0_0_2;
            let digest =
                Base64::decode_vec(&r.data.digest).map_err(|_| bm(Reason::DigestEncoding))?;
            if r.data.algorithm != "SHA2_256" || digest != Sha256::digest(&pae).as_slice() {
                return Err(bm(Reason::PaeDigest));
            }
            let sig = Base64::decode_vec(&r.signature.content)
                .map_err(|_| bm(Reason::LoggedSignatureEncoding))?;
            same_signatures(&[sig], &env_sigs).map_err(bm)
        }
        EntryBody::HashedRekordV001(_) => Err(bm(Reason::NotAnEnvelopeEntry)),
    }
}

fn same_signatures(logged: &[Vec<u8>], envelope: &[&[u8]]) -> Result<(), Reason> {
    let mut a: Vec<&[u8]> = logged.iter().map(Vec::as_slice).collect();
    let mut b: Vec<&[u8]> = envelope.to_vec();
    a.sort_unstable();
    b.sort_unstable();
    if a == b {
        Ok(())
    } else {
        Err(Reason::SignaturesDiffer)
    }
}

/// The logged `hashedrekord` 0.0.1 body is the one for this message
/// signature: same digest, same signature.
///
/// # Errors
/// [`Check::BodyMatch`].
pub fn check_body_matches_message(
    body: &EntryBody,
    digest: &[u8],
    signature: &[u8],
) -> Result<(), CheckError> {
    let bm = |r: Reason| fail(Check::BodyMatch, r);
    let EntryBody::HashedRekordV001(h) = body else {
        return Err(bm(Reason::NotAMessageEntry));
    };
    let hex = base16ct::lower::encode_string(digest);
    if h.data.hash.algorithm != "sha256" || h.data.hash.value != hex {
        return Err(bm(Reason::MessageDigest));
    }
    if Base64::decode_vec(&h.signature.content).ok().as_deref() != Some(signature) {
        return Err(bm(Reason::MessageSignatureDiffers));
    }
    Ok(())
}

/// What a bundle is verified against.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct BundlePolicy<'a> {
    /// Trusted logs.
    pub logs: &'a [TrustedLog],
    /// The signer's key; when absent, the bundle certificate's key is used
    /// (the certificate itself is not validated).
    pub signer_key: Option<PublicKey>,
    /// The verifier's clock.
    pub now: Timestamp,
    /// A claimed time and allowed window (seconds) to confirm against
    /// integratedTime.
    pub claimed_time: Option<(i64, i64)>,
}

impl<'a> BundlePolicy<'a> {
    /// A policy trusting `logs`, at time `now`, with no pinned signer key and
    /// no claimed time.
    #[must_use]
    pub const fn new(logs: &'a [TrustedLog], now: Timestamp) -> Self {
        Self {
            logs,
            signer_key: None,
            now,
            claimed_time: None,
        }
    }

    /// The signer's key.
    #[must_use]
    pub fn with_signer_key(mut self, key: PublicKey) -> Self {
        self.signer_key = Some(key);
        self
    }

    /// The verifier's clock reading.
    #[must_use]
    pub const fn with_now(mut self, now: Timestamp) -> Self {
        self.now = now;
        self
    }

    /// A claimed time (Unix seconds) and the window (seconds) within which
    /// integratedTime must confirm it.
    #[must_use]
    pub const fn with_claimed_time(mut self, claimed: i64, window: i64) -> Self {
        self.claimed_time = Some((claimed, window));
        self
    }
}

/// Verifies a bundle completely, offline, and reports every check.
#[must_use]
pub fn verify_bundle(bundle: &Bundle, policy: &BundlePolicy<'_>) -> Report {
    let mut r = Report::default();
    let Some(entry) = bundle.verification_material.tlog_entries.first() else {
        r.push(
            Check::Inclusion,
            Err(fail(Check::Inclusion, Reason::NoEntry)),
        );
        return r;
    };
    if bundle.verification_material.tlog_entries.len() > 1 {
        r.push(
            Check::LogKey,
            Err(fail(Check::LogKey, Reason::SeveralEntries)),
        );
        return r;
    }
    verify_entry(&mut r, bundle, entry, policy, true, None);
    r
}

fn verify_entry(
    r: &mut Report,
    bundle: &Bundle,
    entry: &TlogEntry,
    policy: &BundlePolicy<'_>,
    check_content: bool,
    memo: Option<&CheckpointMemo>,
) {
    let parsed = (|| {
        let body = b64("canonicalizedBody", &entry.canonicalized_body)?;
        let log_id = b64("logId.keyId", &entry.log_id.key_id)?;
        let global = int("logIndex", &entry.log_index)?;
        let integrated = entry
            .integrated_time
            .as_deref()
            .map(|t| int("integratedTime", t))
            .transpose()?;
        Ok::<_, crate::BundleError>((body, log_id, global, integrated))
    })();
    let (body, log_id, global, integrated) = match parsed {
        Ok(v) => v,
        Err(e) => {
            r.push(
                Check::LogKey,
                Err(fail(Check::LogKey, Reason::Entry(Arc::new(e)))),
            );
            return;
        }
    };
    let integrated = integrated.map(|t| i64::try_from(t).unwrap_or(i64::MAX));

    // Log key.
    let log = match find_log(policy.logs, &log_id) {
        Ok(l) => l,
        Err(e) => {
            r.push(Check::LogKey, Err(e));
            return;
        }
    };
    match integrated {
        Some(t) => {
            r.push(Check::LogKey, check_log_key_valid(log, t));
            r.push(Check::IntegratedTime, check_integrated_time(t, policy.now));
            match &entry.inclusion_promise {
                Some(p) => {
                    let set = Base64::decode_vec(&p.signed_entry_timestamp)
                        .map_err(|_| fail(Check::Set, Reason::SetEncoding))
                        .and_then(|set| {
                            verify_set(log, &entry.canonicalized_body, t, global, &set)
                        });
                    r.push(Check::Set, set);
                }
                None => {
                    r.push(Check::Set, Err(fail(Check::Set, Reason::NoSet)));
                }
            }
        }
        None => {
            // Rekor v2: no SET and no integrated time; time comes from RFC 3161
            // timestamps, which this crate does not verify.
            r.push(
                Check::LogKey,
                if log.valid_until.is_none() {
                    Ok(())
                } else {
                    Err(fail(Check::LogKey, Reason::NoTimeForExpiringKey))
                },
            );
            r.not_checked(
                Check::IntegratedTime,
                "Rekor v2 entries carry no integratedTime",
            );
            r.not_checked(
                Check::Set,
                "Rekor v2 entries carry no signed entry timestamp",
            );
        }
    }

    // Checkpoint and inclusion.
    match &entry.inclusion_proof {
        None => {
            r.push(
                Check::Inclusion,
                Err(fail(Check::Inclusion, Reason::NoInclusionProof)),
            );
        }
        Some(p) => {
            let cp = match memo {
                Some(m) => m.verify(&p.checkpoint.envelope, log),
                None => verify_checkpoint(&p.checkpoint.envelope, log),
            };
            let ok = r.push(
                Check::CheckpointSignature,
                cp.as_ref().map(|_| ()).map_err(Clone::clone),
            );
            if let (true, Ok(cp)) = (ok, cp) {
                let proof = (|| {
                    let index = int("inclusionProof.logIndex", &p.log_index)?;
                    let size = int("inclusionProof.treeSize", &p.tree_size)?;
                    let root = Hash::from_slice(&b64("inclusionProof.rootHash", &p.root_hash)?)
                        .ok_or(crate::BundleError::Field {
                            field: "inclusionProof.rootHash",
                            reason: crate::reason::FieldProblem::Not32Bytes,
                        })?;
                    let hashes = p
                        .hashes
                        .iter()
                        .map(|h| {
                            Hash::from_slice(&b64("inclusionProof.hashes", h)?).ok_or(
                                crate::BundleError::Field {
                                    field: "inclusionProof.hashes",
                                    reason: crate::reason::FieldProblem::Not32Bytes,
                                },
                            )
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    Ok::<_, crate::BundleError>((index, size, root, hashes))
                })();
                match proof {
                    Ok((index, size, root, hashes)) => {
                        let res = verify_inclusion_in(&cp, &body, index, size, &root, &hashes);
                        match res {
                            Err(e) if e.check == Check::CheckpointBinding => {
                                r.push(Check::CheckpointBinding, Err(e));
                            }
                            other => {
                                r.push(Check::CheckpointBinding, Ok(()));
                                r.push(Check::Inclusion, other);
                            }
                        }
                    }
                    Err(e) => {
                        r.push(
                            Check::Inclusion,
                            Err(fail(Check::Inclusion, Reason::ProofEncoding(Arc::new(e)))),
                        );
                    }
                }
            }
        }
    }

    if !check_content {
        r.not_checked(
            Check::BodyMatch,
            "log evidence only: no envelope or message was given",
        );
        r.not_checked(
            Check::Signature,
            "log evidence only: no envelope or message was given",
        );
        return;
    }

    // Body and signature.
    let parsed_body = EntryBody::parse(&body);
    let kind_ok = parsed_body.as_ref().is_ok_and(|b| {
        let (k, v) = b.kind_version();
        k == entry.kind_version.kind && v == entry.kind_version.version
    });
    let at = Timestamp::from_unix(integrated.unwrap_or(policy.now.unix()));
    let key = match &policy.signer_key {
        Some(k) => Ok(k.clone()),
        None => match bundle.certificate_der() {
            Ok(Some(der)) => crate::x509::certificate_public_key(&der)
                .map_err(|e| Reason::Certificate(Arc::new(e))),
            Ok(None) => Err(Reason::NoSignerKey),
            Err(e) => Err(Reason::CertificateField(Arc::new(e))),
        },
    };
    match (parsed_body, bundle.envelope(), &bundle.message_signature) {
        (Err(e), _, _) => {
            r.push(
                Check::BodyMatch,
                Err(fail(Check::BodyMatch, Reason::Body(e))),
            );
        }
        (Ok(_), _, _) if !kind_ok => {
            r.push(
                Check::BodyMatch,
                Err(fail(Check::BodyMatch, Reason::KindVersionMismatch)),
            );
        }
        (Ok(b), Ok(Some(env)), _) => {
            let sig = key.map_err(|e| fail(Check::Signature, e)).and_then(|k| {
                let v = Verifier::from_keys([k.clone()], 1)
                    .map_err(|e| fail(Check::Signature, Reason::Verifier(e)))?;
                v.verify(&env, env.payload_type(), at)
                    .map(|_| k)
                    .map_err(|e| fail(Check::Signature, Reason::EnvelopeSignature(e)))
            });
            // A (signature, key) pair the signature check just verified is
            // not verified again by the body check.
            r.push(
                Check::BodyMatch,
                body_matches_envelope(&b, &env, sig.as_ref().ok()),
            );
            r.push(Check::Signature, sig.map(|_| ()));
        }
        (Ok(b), Ok(None), Some(m)) => {
            let (digest, sig) = match (
                Base64::decode_vec(&m.message_digest.digest),
                Base64::decode_vec(&m.signature),
            ) {
                (Ok(d), Ok(s)) => (d, s),
                _ => {
                    let e = fail(Check::BodyMatch, Reason::MessageEncoding);
                    r.push(Check::BodyMatch, Err(e.clone()));
                    r.push(
                        Check::Signature,
                        Err(fail(Check::Signature, Reason::MessageSignatureEncoding)),
                    );
                    return;
                }
            };
            r.push(
                Check::BodyMatch,
                check_body_matches_message(&b, &digest, &sig),
            );
            // hashedrekord: the key is in the logged body when the bundle has only a hint.
            let key = key.or_else(|_| logged_key(&b).ok_or(Reason::NoSignerKey));
            let res = key.map_err(|e| fail(Check::Signature, e)).and_then(|k| {
                if k.verifies_prehashed_sha256(&digest, &sig) {
                    Ok(())
                } else {
                    Err(fail(Check::Signature, Reason::MessageSignatureInvalid))
                }
            });
            r.push(Check::Signature, res);
        }
        (Ok(_), Err(e), _) => {
            r.push(
                Check::BodyMatch,
                Err(fail(Check::BodyMatch, Reason::Envelope(Arc::new(e)))),
            );
        }
        (Ok(_), Ok(None), None) => {
            r.push(
                Check::BodyMatch,
                Err(fail(Check::BodyMatch, Reason::NoContent)),
            );
        }
    }

    if let Some((claimed, window)) = policy.claimed_time {
        match integrated {
            Some(t) => {
                r.push(Check::NotBackdated, check_not_backdated(claimed, t, window));
            }
            None => r.not_checked(
                Check::NotBackdated,
                "no integratedTime to confirm the claimed time against",
            ),
        }
    }
    r.not_checked(Check::CertificateIdentity, "certificate chains and signer identities are not verified; a certificate only carries the key");
}

/// Verifies a REST log entry for a DSSE envelope signed by `signer_key`:
/// the same checks as [`verify_bundle`].
///
/// # Errors
/// A report whose first failure names the check; malformed entries fail
/// [`Check::LogKey`].
#[must_use]
pub fn verify_log_entry(
    entry: &crate::api::LogEntry,
    env: &Envelope,
    policy: &BundlePolicy<'_>,
) -> Report {
    log_entry_report(entry, Some(env), policy, None)
}

/// [`verify_log_entry`] with a memo of checkpoints already verified: a
/// client checking many entries published under one checkpoint (a group
/// commit) verifies its signature once. The result is the same as without
/// the memo.
#[must_use]
pub fn verify_log_entry_memo(
    entry: &crate::api::LogEntry,
    env: &Envelope,
    policy: &BundlePolicy<'_>,
    memo: &CheckpointMemo,
) -> Report {
    log_entry_report(entry, Some(env), policy, Some(memo))
}

/// Checkpoints whose signatures verified, by their exact text and the log
/// that signed them (the last [`CheckpointMemo::CAPACITY`]).
#[derive(Debug, Default)]
pub struct CheckpointMemo {
    seen: std::sync::Mutex<std::collections::VecDeque<(LogId, VerifiedCheckpoint)>>,
}

impl CheckpointMemo {
    /// How many checkpoints are remembered.
    pub const CAPACITY: usize = 16;

    /// [`verify_checkpoint`], remembering what verified: the same text from
    /// the same log is not verified again.
    ///
    /// # Errors
    /// As [`verify_checkpoint`].
    pub fn verify(&self, note: &str, log: &TrustedLog) -> Result<VerifiedCheckpoint, CheckError> {
        let lock = || {
            self.seen
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        if let Some((_, cp)) = lock()
            .iter()
            .find(|(id, cp)| *id == log.log_id && cp.note == note)
        {
            return Ok(cp.clone());
        }
        let cp = verify_checkpoint(note, log)?;
        let mut seen = lock();
        if seen.len() == Self::CAPACITY {
            seen.pop_front();
        }
        seen.push_back((log.log_id, cp.clone()));
        Ok(cp)
    }
}

/// Verifies only the log's evidence for a REST entry — log key, integrated
/// time, SET, checkpoint and inclusion — when the logged envelope is not at
/// hand; body match and signature are reported `not-checked`. Use
/// [`Report::evidence_verified`].
#[must_use]
pub fn verify_log_evidence(entry: &crate::api::LogEntry, policy: &BundlePolicy<'_>) -> Report {
    log_entry_report(entry, None, policy, None)
}

fn log_entry_report(
    entry: &crate::api::LogEntry,
    env: Option<&Envelope>,
    policy: &BundlePolicy<'_>,
    memo: Option<&CheckpointMemo>,
) -> Report {
    let evidence_only = env.is_none();
    let mut r = Report::default();
    let tlog = match entry.to_tlog_entry() {
        Ok(t) => t,
        Err(e) => {
            r.push(
                Check::LogKey,
                Err(fail(Check::LogKey, Reason::RestEntry(Arc::new(e)))),
            );
            return r;
        }
    };
    let raw = env.and_then(|e| serde_json::value::RawValue::from_string(e.to_json()).ok());
    let bundle = Bundle {
        media_type: crate::bundle::MEDIA_TYPE_V03.to_owned(),
        verification_material: crate::bundle::VerificationMaterial {
            public_key: Some(crate::bundle::PublicKeyHint {
                hint: String::new(),
            }),
            certificate: None,
            x509_certificate_chain: None,
            tlog_entries: vec![tlog.clone()],
            timestamp_verification_data: None,
        },
        dsse_envelope: raw,
        message_signature: None,
    };
    verify_entry(&mut r, &bundle, &tlog, policy, !evidence_only, memo);
    r
}

/// The public key a `hashedrekord` 0.0.1 body records (a PEM public key or
/// certificate), when it is one we read.
#[must_use]
pub fn logged_key(body: &EntryBody) -> Option<PublicKey> {
    let EntryBody::HashedRekordV001(h) = body else {
        return None;
    };
    let pem = Base64::decode_vec(&h.signature.public_key.content).ok()?;
    crate::x509::public_key_from_pem(std::str::from_utf8(&pem).ok()?).ok()
}

/// PAE bytes of an envelope (re-exported for callers building Rekor v2 digests).
#[must_use]
pub fn envelope_pae(env: &Envelope) -> Vec<u8> {
    pae(env.payload_type(), env.payload_unverified())
}
