//! The entry points: bundles, REST log entries, log evidence alone.

#[allow(clippy::wildcard_imports)]
use super::*;

/// What was signed, as the verifier sees it.
pub(super) enum Content {
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
pub(super) struct Input<'a> {
    pub(super) entry: &'a TlogEntry,
    pub(super) content: Result<Content, CheckError>,
    /// The bundle's certificates, leaf first.
    pub(super) chain: Result<Option<Vec<Vec<u8>>>, CheckError>,
    pub(super) artifact: Option<Artifact>,
    pub(super) bundle_v01: bool,
    /// RFC 3161 tokens (DER).
    pub(super) timestamps: Result<Vec<Vec<u8>>, CheckError>,
}

pub(super) fn bundle_run(
    bundle: &Bundle,
    artifact: Option<Artifact>,
    policy: &BundlePolicy<'_>,
    memo: Option<&CheckpointMemo>,
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
                Some(d) => crate::b64::decode(&d.digest)
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
            match (digest, crate::b64::decode(&m.signature)) {
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
        memo,
    )
}

/// [`verify_log_entry`] with a memo of checkpoints already verified: a
/// client checking many entries published under one checkpoint (a group
/// commit) verifies its signature once. The result is the same as without.
///
/// # Errors
/// [`NotVerified`].
pub(crate) fn verify_log_entry_memo(
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
pub(crate) fn verify_log_entry_message(
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

pub(super) fn rest(
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
pub(crate) fn verify_log_evidence(
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
pub(crate) fn verify_tlog_evidence(
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
