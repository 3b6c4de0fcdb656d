//! Keyless signing: the certificate the bundle or the log carries, its path, SCTs and identity; RFC 3161 timestamps.

#[allow(clippy::wildcard_imports)]
use super::*;

/// The signing certificate (DER) a REST entry's logged body records as its
/// verifier, when it is a certificate (keyless signing). Read, not
/// validated: [`Verifier::verify_log_entry`] under a certificate policy
/// validates it.
#[must_use]
pub fn logged_certificate_der(entry: &crate::api::LogEntry) -> Option<Vec<u8>> {
    let tlog = entry.to_tlog_entry().ok()?;
    logged_certificate(&tlog)?.into_iter().next()
}

/// The certificate a logged body names as its (first) verifier: a `dsse`
/// or `intoto` verifier PEM, a `hashedrekord` public key PEM, or a Rekor v2
/// verifier, when it is a certificate.
pub(super) fn logged_certificate(entry: &TlogEntry) -> Option<Vec<Vec<u8>>> {
    let body = EntryBody::parse(&crate::b64::decode(&entry.canonicalized_body).ok()?).ok()?;
    let pem_cert = |b64: &str| {
        let pem = crate::b64::decode(b64).ok()?;
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
            crate::b64::decode(&c.raw_bytes).ok()
        }
    }?;
    Some(vec![der])
}

/// The bundle's leaf certificate (a root among the bundle's certificates,
/// or an empty chain, is a refusal).
pub(super) fn bundle_leaf(
    chain: &Result<Option<Vec<Vec<u8>>>, CheckError>,
) -> Result<Cert, CheckError> {
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
pub(super) fn certificate_checks(
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
pub(super) fn timestamped_signature(content: &Content) -> Result<&[u8], CheckError> {
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
pub(super) fn verify_timestamps(
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
