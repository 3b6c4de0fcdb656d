//! Certificate paths to a trusted authority, validated at each verified time.

#[allow(clippy::wildcard_imports)]
use super::*;

/// What a path is for: the leaf's extended key usage and key usage.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Purpose {
    CodeSigning,
    TimeStamping,
}

impl Purpose {
    pub(super) const fn eku(self) -> (ObjectIdentifier, &'static str) {
        match self {
            Self::CodeSigning => (oid::CODE_SIGNING, "codeSigning"),
            Self::TimeStamping => (oid::TIME_STAMPING, "timeStamping"),
        }
    }
}

pub(super) fn sig_error(p: SigProblem, role: Role, cert: &Cert) -> PkiError {
    match p {
        SigProblem::Invalid => PkiError::Signature(role),
        SigProblem::Unsupported | SigProblem::KeyMismatch => PkiError::Algorithm {
            role,
            oid: cert.cert.signature_algorithm().oid.to_string(),
        },
    }
}

/// The names and signatures of `path`'s certificates before index
/// `signed_from` (the rest are the authority's own chain, trusted material
/// whose names [`CertificateAuthority::links_verified`] checks): once,
/// whatever the times.
pub(super) fn path_signatures(path: &[&Cert], signed_from: usize) -> Result<(), PkiError> {
    for (i, pair) in path.windows(2).enumerate().take(signed_from) {
        let role = if i == 0 {
            Role::Leaf
        } else {
            Role::Issuer(u8::try_from(i).unwrap_or(u8::MAX))
        };
        let (c, issuer) = (pair[0], pair[1]);
        if c.tbs().issuer() != issuer.tbs().subject() {
            return Err(PkiError::NoIssuer(c.tbs().issuer().to_string()));
        }
        verify_cert_signature(c, issuer).map_err(|p| sig_error(p, role, c))?;
    }
    Ok(())
}

/// Validates every rule of `path` (leaf first, the trusted root last) that
/// depends on the time or the certificates' contents, at `at`.
pub(super) fn validate_path(
    path: &[&Cert],
    at: Timestamp,
    purpose: Purpose,
) -> Result<(), PkiError> {
    let (eku, eku_name) = purpose.eku();
    for (i, c) in path.iter().enumerate() {
        let role = if i == 0 {
            Role::Leaf
        } else {
            Role::Issuer(u8::try_from(i).unwrap_or(u8::MAX))
        };
        if !c.valid_at(at) {
            return Err(PkiError::NotValidAt {
                role,
                at,
                not_before: c.not_before(),
                not_after: c.not_after(),
            });
        }
        for e in c.tbs().extensions().into_iter().flatten() {
            if e.critical && !oid::HANDLED_CRITICAL.contains(&e.extn_id) {
                return Err(PkiError::CriticalExtension {
                    role,
                    oid: e.extn_id.to_string(),
                });
            }
        }
        if c.tbs().signature() != c.cert.signature_algorithm() {
            return Err(PkiError::AlgorithmMismatch(role));
        }
        let bc = c.extension::<BasicConstraints>(role)?.map(|(_, b)| b);
        let ku = c.extension::<KeyUsage>(role)?.map(|(_, k)| k);
        let ext_ku = c.extension::<ExtendedKeyUsage>(role)?.map(|(_, k)| k);
        if i == 0 {
            if bc.is_some_and(|b| b.ca) {
                return Err(PkiError::LeafIsCa);
            }
            match purpose {
                // Fulcio leaves always say digitalSignature; require it.
                Purpose::CodeSigning => {
                    if !ku.is_some_and(|k| k.digital_signature()) {
                        return Err(PkiError::KeyUsage {
                            role,
                            needed: "digitalSignature",
                        });
                    }
                }
                // RFC 3161 §2.3 fixes only the EKU; a key usage, when
                // present, must allow signing.
                Purpose::TimeStamping => {
                    if ku.is_some_and(|k| !k.digital_signature() && !k.non_repudiation()) {
                        return Err(PkiError::KeyUsage {
                            role,
                            needed: "digitalSignature",
                        });
                    }
                }
            }
            if !ext_ku.is_some_and(|k| k.0.contains(&eku)) {
                return Err(PkiError::ExtKeyUsage {
                    role,
                    needed: eku_name,
                });
            }
        } else {
            let Some(bc) = bc.filter(|b| b.ca) else {
                return Err(PkiError::NotCa(role));
            };
            // Intermediates between this CA and the leaf.
            if bc
                .path_len_constraint
                .is_some_and(|n| usize::from(n) < i - 1)
            {
                return Err(PkiError::PathLength(role));
            }
            if ku.is_some_and(|k| !k.key_cert_sign()) {
                return Err(PkiError::KeyUsage {
                    role,
                    needed: "keyCertSign",
                });
            }
            // An issuer restricted by EKU must allow the purpose (the
            // nesting rule Go and the CA/B Forum apply).
            if ext_ku.is_some_and(|k| !k.0.contains(&eku) && !k.0.contains(&oid::ANY_EKU)) {
                return Err(PkiError::ExtKeyUsage {
                    role,
                    needed: eku_name,
                });
            }
        }
    }
    Ok(())
}

/// A leaf's path through one of `authorities`, valid at every time of
/// `times`: the authority that issued it and the leaf's issuer (its
/// authority's first certificate, or the authority's own leaf when `leaf`
/// is that certificate, as a TSA's signing certificate may be).
pub(crate) fn verify_path<'a>(
    leaf: &Cert,
    authorities: &'a [CertificateAuthority],
    times: &[Timestamp],
    purpose: Purpose,
    kind: &'static str,
) -> Result<&'a CertificateAuthority, PkiError> {
    if authorities.is_empty() {
        return Err(PkiError::NoAuthority(kind));
    }
    let mut first_err = None;
    for ca in authorities {
        let (chain, signed_from): (Vec<&Cert>, usize) = if ca.chain.first() == Some(leaf) {
            (ca.chain.iter().collect(), 0)
        } else {
            (std::iter::once(leaf).chain(ca.chain.iter()).collect(), 1)
        };
        // Only an authority whose issuing certificate names the leaf's
        // issuer is a candidate; its failure is the one worth reporting.
        if chain
            .get(1)
            .is_none_or(|i| i.tbs().subject() != leaf.tbs().issuer())
        {
            continue;
        }
        let res = ca
            .links_verified()
            .and_then(|()| path_signatures(&chain, signed_from))
            .and_then(|()| {
                times.iter().try_for_each(|&t| {
                    if !ca.valid_at(t) {
                        return Err(PkiError::AuthorityNotValidAt {
                            uri: ca.uri.clone(),
                            at: t,
                        });
                    }
                    validate_path(&chain, t, purpose)
                })
            });
        match res {
            Ok(()) => return Ok(ca),
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    Err(first_err.unwrap_or_else(|| PkiError::NoIssuer(leaf.tbs().issuer().to_string())))
}

/// At most this many certificates in a bundle's chain (each is parsed and,
/// when self-issued, its signature checked).
pub const MAX_BUNDLE_CHAIN: usize = 10;

/// The bundle's certificates: the leaf, checked for a root among them and
/// an empty chain. Intermediates the bundle carries are ignored (paths are
/// built from the trusted root alone).
pub(crate) fn bundle_leaf(chain: &[Vec<u8>]) -> Result<Cert, PkiError> {
    if chain.len() > MAX_BUNDLE_CHAIN {
        return Err(PkiError::ChainTooLong(chain.len()));
    }
    let certs = chain
        .iter()
        .map(|d| Cert::parse(d))
        .collect::<Result<Vec<_>, _>>()?;
    if certs.iter().any(Cert::self_signed) {
        return Err(PkiError::RootInBundle);
    }
    certs.into_iter().next().ok_or(PkiError::EmptyChain)
}
