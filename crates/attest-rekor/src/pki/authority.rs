//! The trusted root's certificate side: certificate and timestamp authorities, CT logs.

#[allow(clippy::wildcard_imports)]
use super::*;

/// A certificate authority (or timestamp authority) of the trusted root:
/// its chain, issuing certificate first and root last, and the window in
/// which the trusted root vouches for it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CertificateAuthority {
    /// Its URI in the trusted root (or its subject's name when none).
    pub uri: String,
    /// First instant it is trusted (inclusive).
    pub valid_from: Timestamp,
    /// Last instant it is trusted (inclusive); `None` = still.
    pub valid_until: Option<Timestamp>,
    pub(crate) chain: Vec<Cert>,
    /// Whether each certificate of the chain names the next as its issuer:
    /// a property of the trusted material alone, checked once, on first use.
    pub(super) links: std::sync::OnceLock<Result<(), PkiError>>,
}

impl CertificateAuthority {
    /// An authority from its chain (DER, issuing certificate first, root
    /// last) and validity window.
    ///
    /// # Errors
    /// [`PkiError::Malformed`] when a certificate does not parse,
    /// [`PkiError::EmptyChain`] for no certificates.
    pub fn new(
        uri: impl Into<String>,
        chain_der: &[Vec<u8>],
        valid_from: Timestamp,
        valid_until: Option<Timestamp>,
    ) -> Result<Self, PkiError> {
        if chain_der.is_empty() {
            return Err(PkiError::EmptyChain);
        }
        Ok(Self {
            uri: uri.into(),
            valid_from,
            valid_until,
            chain: chain_der
                .iter()
                .map(|d| Cert::parse(d))
                .collect::<Result<_, _>>()?,
            links: std::sync::OnceLock::new(),
        })
    }

    /// Each certificate of the chain names the next as its issuer. The
    /// signatures between them are not checked here: every certificate of
    /// a trusted root is trusted material (whoever can change the root can
    /// add a whole authority), so checking them on every cold start would
    /// cost a verification (a P-384 one for Sigstore's chains) and add no
    /// security. [`chain_signatures_verify`](Self::chain_signatures_verify)
    /// checks them, for a test or a tool that vets a root once.
    pub(super) fn links_verified(&self) -> Result<(), PkiError> {
        self.links
            .get_or_init(|| {
                for pair in self.chain.windows(2) {
                    let (cert, issuer) = (&pair[0], &pair[1]);
                    if cert.tbs().issuer() != issuer.tbs().subject() {
                        return Err(PkiError::NoIssuer(cert.tbs().issuer().to_string()));
                    }
                }
                Ok(())
            })
            .clone()
    }

    /// Whether each certificate of the chain is named and signed by the
    /// next (the root's own signature is not checked: it is the trust
    /// anchor). Verification does not call this (see above); a test over
    /// every trusted root in use, or a tool vetting a new one, does.
    ///
    /// # Errors
    /// [`PkiError`] for the first link that does not hold.
    pub fn chain_signatures_verify(&self) -> Result<(), PkiError> {
        for (i, pair) in self.chain.windows(2).enumerate() {
            let role = Role::Issuer(u8::try_from(i + 1).unwrap_or(u8::MAX));
            let (cert, issuer) = (&pair[0], &pair[1]);
            if cert.tbs().issuer() != issuer.tbs().subject() {
                return Err(PkiError::NoIssuer(cert.tbs().issuer().to_string()));
            }
            verify_cert_signature(cert, issuer).map_err(|p| sig_error(p, role, cert))?;
        }
        Ok(())
    }

    /// The chain's certificates (DER), issuing certificate first.
    pub fn chain_der(&self) -> impl Iterator<Item = &[u8]> {
        self.chain.iter().map(|c| c.der.as_slice())
    }

    pub(super) fn valid_at(&self, t: Timestamp) -> bool {
        self.valid_from <= t && self.valid_until.is_none_or(|end| t <= end)
    }
}

/// A certificate transparency log of the trusted root (`ctlogs`).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CtLog {
    /// SHA-256 of the log key's SPKI (RFC 6962 log id).
    pub log_id: [u8; 32],
    /// The key's SubjectPublicKeyInfo (DER): ECDSA or RSA.
    pub spki: Vec<u8>,
    /// First instant the key is valid (inclusive).
    pub valid_from: Timestamp,
    /// Last instant the key is valid (inclusive); `None` = still.
    pub valid_until: Option<Timestamp>,
    /// The log's base URL, when known (written to a trusted root's
    /// `ctlogs`; not used to verify).
    pub base_url: String,
    /// `spki` parsed on first use and kept (with its verification tables).
    pub(super) key: KeyCache,
}

impl PartialEq for CtLog {
    fn eq(&self, other: &Self) -> bool {
        (self.log_id, &self.spki, self.valid_from, self.valid_until)
            == (
                other.log_id,
                &other.spki,
                other.valid_from,
                other.valid_until,
            )
    }
}

impl Eq for CtLog {}

impl CtLog {
    /// A CT log: its id, key (SPKI DER) and validity window.
    #[must_use]
    pub const fn new(
        log_id: [u8; 32],
        spki: Vec<u8>,
        valid_from: Timestamp,
        valid_until: Option<Timestamp>,
    ) -> Self {
        Self {
            log_id,
            spki,
            valid_from,
            valid_until,
            base_url: String::new(),
            key: KeyCache::new(),
        }
    }

    /// At `base_url` (see [`base_url`](Self::base_url)).
    #[must_use]
    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into();
        self
    }
}

/// The certificate side of a trusted root: Fulcio's authorities, the CT
/// logs that must have seen their certificates, and the timestamp
/// authorities whose RFC 3161 tokens establish time.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Authorities {
    /// `certificateAuthorities`.
    pub certificate_authorities: Vec<CertificateAuthority>,
    /// `ctlogs`.
    pub ct_logs: Vec<CtLog>,
    /// `timestampAuthorities`.
    pub timestamp_authorities: Vec<CertificateAuthority>,
}

impl Authorities {
    /// No authority of any kind.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.certificate_authorities.is_empty()
            && self.ct_logs.is_empty()
            && self.timestamp_authorities.is_empty()
    }
}
