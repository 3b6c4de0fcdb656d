//! The whole verification of one entry and its content, check by check.

#[allow(clippy::wildcard_imports)]
use super::*;

#[derive(Deserialize)]
pub(super) struct StatementView {
    #[serde(rename = "_type", default)]
    pub(super) type_: String,
    #[serde(default)]
    pub(super) subject: Vec<SubjectView>,
}

#[derive(Deserialize)]
pub(super) struct SubjectView {
    #[serde(default)]
    pub(super) digest: std::collections::BTreeMap<String, String>,
}

/// The envelope carries an in-toto statement of a known type, one of whose
/// subjects is the artifact.
pub(super) fn check_statement(env: &Envelope, artifact: &Artifact) -> Result<(), CheckError> {
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
pub(super) fn run(
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
pub(super) fn signer_valid(
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
