//! Keyless verification's public-key infrastructure, pure: certificate
//! paths to a trusted certificate authority, embedded SCTs checked against
//! trusted CT logs, and the Fulcio identity a certificate names.
//!
//! Parsing is RustCrypto's (`x509-cert`, `der`, `spki`); path validation is
//! written here because no RustCrypto crate validates paths, and what
//! Sigstore needs is small and exact: a leaf, the intermediates and root of
//! one trusted authority (never certificates from the bundle), at each
//! verified time. Signatures are verified over the bytes as received.

use std::fmt;

use attest_dsse::{PublicKey, Timestamp};
use const_oid::ObjectIdentifier;
use der::asn1::Any;
use der::{Decode, Encode, Tag, Tagged};
use sha2::{Digest, Sha256, Sha384, Sha512};
use x509_cert::Certificate;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAltName};

/// Why a certificate, its path, its SCTs or its identity were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PkiError {
    /// A certificate is not DER X.509.
    #[error("malformed certificate: {0}")]
    Malformed(String),
    /// The bundle's certificate chain is empty.
    #[error("the bundle's certificate chain is empty")]
    EmptyChain,
    /// The bundle's chain is longer than [`MAX_BUNDLE_CHAIN`].
    #[error("the bundle's certificate chain has {0} certificates (at most {MAX_BUNDLE_CHAIN})")]
    ChainTooLong(usize),
    /// The bundle's chain carries a self-signed (root) certificate: a root
    /// must come from the trusted root, never from the bundle.
    #[error("the bundle's certificate chain contains a root certificate")]
    RootInBundle,
    /// The trusted root has no certificate authority of this kind.
    #[error("the trusted root has no {0}")]
    NoAuthority(&'static str),
    /// No trusted authority's chain issued the certificate.
    #[error("no trusted authority issued the certificate (issuer {0})")]
    NoIssuer(String),
    /// A certificate of the path is not valid at a verified time.
    #[error("{role} certificate not valid at {at} (valid {not_before} to {not_after})")]
    NotValidAt {
        /// Which certificate.
        role: Role,
        /// The time.
        at: Timestamp,
        /// Its notBefore.
        not_before: Timestamp,
        /// Its notAfter.
        not_after: Timestamp,
    },
    /// The trusted root's validity window of the authority does not contain
    /// the time.
    #[error("the trusted authority {uri:?} was not valid at {at}")]
    AuthorityNotValidAt {
        /// The authority's URI (or subject).
        uri: String,
        /// The time.
        at: Timestamp,
    },
    /// A certificate's signature does not verify with its issuer's key.
    #[error("{0} certificate: the signature does not verify with its issuer's key")]
    Signature(Role),
    /// A signature algorithm this crate does not verify (or an algorithm
    /// that does not fit the issuer's key).
    #[error("{role} certificate: unsupported signature algorithm {oid}")]
    Algorithm {
        /// Which certificate.
        role: Role,
        /// The algorithm's OID.
        oid: String,
    },
    /// The signature algorithm inside the TBS differs from the outer one.
    #[error("{0} certificate: the inner and outer signature algorithms differ")]
    AlgorithmMismatch(Role),
    /// An issuer is not a CA (basicConstraints).
    #[error("{0} certificate is not a certificate authority")]
    NotCa(Role),
    /// A CA's path length constraint is exceeded.
    #[error("{0} certificate's path length constraint is exceeded")]
    PathLength(Role),
    /// The leaf is a CA certificate.
    #[error("the leaf certificate is a certificate authority")]
    LeafIsCa,
    /// Key usage does not allow the certificate's role.
    #[error("{role} certificate: key usage lacks {needed}")]
    KeyUsage {
        /// Which certificate.
        role: Role,
        /// The usage needed.
        needed: &'static str,
    },
    /// Extended key usage does not allow the purpose.
    #[error("{role} certificate: extended key usage lacks {needed}")]
    ExtKeyUsage {
        /// Which certificate.
        role: Role,
        /// The purpose needed.
        needed: &'static str,
    },
    /// A critical extension this verifier does not process.
    #[error("{role} certificate: unhandled critical extension {oid}")]
    CriticalExtension {
        /// Which certificate.
        role: Role,
        /// Its OID.
        oid: String,
    },
    /// An extension that appears twice, or does not decode.
    #[error("{role} certificate: extension {oid} is repeated or malformed")]
    Extension {
        /// Which certificate.
        role: Role,
        /// Its OID.
        oid: String,
    },
    /// The leaf carries no SCT list.
    #[error("the certificate carries no signed certificate timestamp")]
    NoSct,
    /// The SCT list does not parse.
    #[error("malformed SCT list: {0}")]
    SctMalformed(&'static str),
    /// No SCT is from a trusted CT log and verifies.
    #[error("no SCT from a trusted CT log verifies ({0} SCTs)")]
    NoValidSct(usize),
    /// An SCT names a trusted CT log but its signature does not verify.
    #[error("an SCT of trusted CT log {0} does not verify")]
    SctSignature(String),
    /// The CT log's key was not valid at the SCT's time.
    #[error("CT log {log} was not valid at the SCT's time {at}")]
    SctLogNotValid {
        /// The log id (hex).
        log: String,
        /// The SCT's time.
        at: Timestamp,
    },
    /// The certificate names no identity (no subject alternative name).
    #[error("the certificate has no subject alternative name")]
    NoIdentity,
    /// The certificate's identity is not the expected one.
    #[error("certificate identity {found:?} does not match {expected}")]
    IdentityMismatch {
        /// The policy.
        expected: String,
        /// The names found.
        found: Vec<String>,
    },
    /// The certificate names no OIDC issuer.
    #[error("the certificate has no OIDC issuer extension")]
    NoOidcIssuer,
    /// The two issuer extensions (legacy and DER) disagree.
    #[error("the certificate's OIDC issuer extensions disagree ({0:?} and {1:?})")]
    OidcIssuerConflict(String, String),
    /// The OIDC issuer is not the expected one.
    #[error("OIDC issuer {found:?} does not match {expected}")]
    OidcIssuerMismatch {
        /// The policy.
        expected: String,
        /// The issuer found.
        found: String,
    },
    /// A Fulcio extension the policy checks is absent or differs.
    #[error("certificate extension {name} is {found:?}, expected {expected}")]
    ExtensionMismatch {
        /// The extension's name.
        name: &'static str,
        /// The policy.
        expected: String,
        /// The value found.
        found: Option<String>,
    },
}

/// A certificate's place in a path, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Role {
    /// The end-entity certificate.
    Leaf,
    /// An issuer: intermediates count 1, 2, …; the root is the last.
    Issuer(u8),
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Leaf => f.write_str("leaf"),
            Self::Issuer(n) => write!(f, "issuer #{n}"),
        }
    }
}

/// A parsed certificate with its TBS bytes as received.
#[derive(Clone)]
pub(crate) struct Cert {
    pub(crate) der: Vec<u8>,
    pub(crate) cert: Certificate,
    tbs: Vec<u8>,
    spki: Vec<u8>,
    /// The key, parsed on first use and kept: a trusted authority's key
    /// then keeps its precomputed verification tables across bundles.
    key: KeyCache,
}

/// A key parsed from its SPKI on first use (`None`: not a key this crate's
/// [`PublicKey`] reads, e.g. RSA).
pub(crate) type KeyCache = std::sync::OnceLock<Option<PublicKey>>;

impl fmt::Debug for Cert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cert")
            .field(
                "subject",
                &self.cert.tbs_certificate().subject().to_string(),
            )
            .finish_non_exhaustive()
    }
}

impl PartialEq for Cert {
    fn eq(&self, other: &Self) -> bool {
        self.der == other.der
    }
}
impl Eq for Cert {}

impl Cert {
    /// Parses DER; the TBS is kept as its bytes in `der`.
    pub(crate) fn parse(der: &[u8]) -> Result<Self, PkiError> {
        let malformed = |e: der::Error| PkiError::Malformed(e.to_string());
        let cert = Certificate::from_der(der).map_err(malformed)?;
        // The outer SEQUENCE's first element, as received (a strict DER
        // parse above means it is the canonical encoding).
        let parts: Vec<Any> = Vec::from_der(der).map_err(malformed)?;
        let tbs = parts
            .first()
            .ok_or_else(|| PkiError::Malformed("no TBS".into()))?
            .to_der()
            .map_err(malformed)?;
        let spki = cert
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()
            .map_err(malformed)?;
        Ok(Self {
            der: der.to_vec(),
            cert,
            tbs,
            spki,
            key: KeyCache::new(),
        })
    }

    pub(crate) fn spki(&self) -> &[u8] {
        &self.spki
    }

    /// The key cache that goes with [`spki`](Self::spki).
    pub(crate) const fn key_cache(&self) -> &KeyCache {
        &self.key
    }

    fn tbs(&self) -> &x509_cert::TbsCertificate {
        self.cert.tbs_certificate()
    }

    pub(crate) fn not_before(&self) -> Timestamp {
        secs(self.tbs().validity().not_before.to_unix_duration())
    }

    pub(crate) fn not_after(&self) -> Timestamp {
        secs(self.tbs().validity().not_after.to_unix_duration())
    }

    fn valid_at(&self, at: Timestamp) -> bool {
        self.not_before() <= at && at <= self.not_after()
    }

    /// Subject equals issuer and the key verifies its own signature.
    pub(crate) fn self_signed(&self) -> bool {
        self.tbs().subject() == self.tbs().issuer() && verify_cert_signature(self, self).is_ok()
    }

    /// The public key (for signature verification by this crate's keys).
    pub(crate) fn public_key(&self) -> Result<PublicKey, PkiError> {
        PublicKey::from_spki_der(&self.spki).map_err(|e| PkiError::Malformed(e.to_string()))
    }

    fn extension<T>(&self, role: Role) -> Result<Option<(bool, T)>, PkiError>
    where
        T: for<'a> Decode<'a, Error = der::Error> + const_oid::AssociatedOid,
    {
        self.tbs()
            .get_extension::<T>()
            .map_err(|_| PkiError::Extension {
                role,
                oid: T::OID.to_string(),
            })
    }

    /// The raw value (the OCTET STRING's content) of extension `oid`; a
    /// repeated extension is an error.
    pub(crate) fn raw_extension(&self, oid: ObjectIdentifier) -> Result<Option<&[u8]>, PkiError> {
        let mut found = self
            .tbs()
            .extensions()
            .into_iter()
            .flatten()
            .filter(|e| e.extn_id == oid);
        let first = found.next();
        if found.next().is_some() {
            return Err(PkiError::Extension {
                role: Role::Leaf,
                oid: oid.to_string(),
            });
        }
        Ok(first.map(|e| e.extn_value.as_bytes()))
    }
}

fn secs(d: std::time::Duration) -> Timestamp {
    Timestamp::from_unix(i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// The object identifiers of the Sigstore certificate profile that this
/// crate reads (and that the issuing crate writes); each constant is named
/// after its registered name.
#[allow(missing_docs)] // the names are the documentation
pub mod oid {
    use const_oid::ObjectIdentifier as O;
    pub const ECDSA_SHA256: O = O::new_unwrap("1.2.840.10045.4.3.2");
    pub const ECDSA_SHA384: O = O::new_unwrap("1.2.840.10045.4.3.3");
    pub const ECDSA_SHA512: O = O::new_unwrap("1.2.840.10045.4.3.4");
    pub const RSA_SHA256: O = O::new_unwrap("1.2.840.113549.1.1.11");
    pub const RSA_SHA384: O = O::new_unwrap("1.2.840.113549.1.1.12");
    pub const RSA_SHA512: O = O::new_unwrap("1.2.840.113549.1.1.13");
    pub const ED25519: O = O::new_unwrap("1.3.101.112");
    pub const SHA256: O = O::new_unwrap("2.16.840.1.101.3.4.2.1");
    pub const SHA384: O = O::new_unwrap("2.16.840.1.101.3.4.2.2");
    pub const SHA512: O = O::new_unwrap("2.16.840.1.101.3.4.2.3");
    pub const CODE_SIGNING: O = O::new_unwrap("1.3.6.1.5.5.7.3.3");
    pub const TIME_STAMPING: O = O::new_unwrap("1.3.6.1.5.5.7.3.8");
    pub const ANY_EKU: O = O::new_unwrap("2.5.29.37.0");
    pub const SCT_LIST: O = O::new_unwrap("1.3.6.1.4.1.11129.2.4.2");
    pub const BASIC_CONSTRAINTS: O = O::new_unwrap("2.5.29.19");
    pub const KEY_USAGE: O = O::new_unwrap("2.5.29.15");
    pub const EXT_KEY_USAGE: O = O::new_unwrap("2.5.29.37");
    pub const SUBJECT_ALT_NAME: O = O::new_unwrap("2.5.29.17");
    pub const SUBJECT_KEY_ID: O = O::new_unwrap("2.5.29.14");
    pub const AUTHORITY_KEY_ID: O = O::new_unwrap("2.5.29.35");
    pub const FULCIO_ISSUER_V1: O = O::new_unwrap("1.3.6.1.4.1.57264.1.1");
    pub const FULCIO_GH_TRIGGER: O = O::new_unwrap("1.3.6.1.4.1.57264.1.2");
    pub const FULCIO_GH_SHA: O = O::new_unwrap("1.3.6.1.4.1.57264.1.3");
    pub const FULCIO_GH_WORKFLOW: O = O::new_unwrap("1.3.6.1.4.1.57264.1.4");
    pub const FULCIO_GH_REPOSITORY: O = O::new_unwrap("1.3.6.1.4.1.57264.1.5");
    pub const FULCIO_GH_REF: O = O::new_unwrap("1.3.6.1.4.1.57264.1.6");
    pub const FULCIO_OTHERNAME_SAN: O = O::new_unwrap("1.3.6.1.4.1.57264.1.7");
    pub const FULCIO_ISSUER_V2: O = O::new_unwrap("1.3.6.1.4.1.57264.1.8");
    /// Extensions whose criticality this verifier honours.
    pub const HANDLED_CRITICAL: &[O] = &[
        O::new_unwrap("2.5.29.19"), // basicConstraints
        O::new_unwrap("2.5.29.15"), // keyUsage
        O::new_unwrap("2.5.29.37"), // extKeyUsage
        O::new_unwrap("2.5.29.17"), // subjectAltName
        O::new_unwrap("2.5.29.14"), // subjectKeyIdentifier
        O::new_unwrap("2.5.29.35"), // authorityKeyIdentifier
    ];
}

/// `sig` is `alg`'s signature of `msg` by the key `spki` (DER). ECDSA with
/// SHA-256/384/512 on P-256/P-384/P-521, RSA PKCS#1 v1.5 (2048 bits or
/// more) with SHA-256/384/512, Ed25519.
///
/// `cache` keeps the parsed key of `spki` (ECDSA, Ed25519) between calls.
pub(crate) fn verify_signature(
    spki: &[u8],
    cache: &KeyCache,
    alg: ObjectIdentifier,
    msg: &[u8],
    sig: &[u8],
) -> Result<(), SigProblem> {
    let parsed = || {
        cache
            .get_or_init(|| PublicKey::from_spki_der(spki).ok())
            .as_ref()
            .ok_or(SigProblem::KeyMismatch)
    };
    match alg {
        oid::ECDSA_SHA256 | oid::ECDSA_SHA384 | oid::ECDSA_SHA512 => {
            let key = parsed()?;
            if key.algorithm() == attest_dsse::Algorithm::Ed25519 {
                return Err(SigProblem::KeyMismatch);
            }
            let hash = match alg {
                oid::ECDSA_SHA256 => attest_dsse::EcdsaHash::Sha256,
                oid::ECDSA_SHA384 => attest_dsse::EcdsaHash::Sha384,
                _ => attest_dsse::EcdsaHash::Sha512,
            };
            if key.verifies_hashed(hash, msg, sig) {
                Ok(())
            } else {
                Err(SigProblem::Invalid)
            }
        }
        oid::RSA_SHA256 | oid::RSA_SHA384 | oid::RSA_SHA512 => {
            use rsa::pkcs8::DecodePublicKey;
            use rsa::signature::Verifier;
            use rsa::traits::PublicKeyParts;
            let key =
                rsa::PublicKey::from_public_key_der(spki).map_err(|_| SigProblem::KeyMismatch)?;
            if key.n().bit_width() < 2048 {
                return Err(SigProblem::KeyMismatch);
            }
            let sig = rsa::pkcs1v15::Signature::try_from(sig).map_err(|_| SigProblem::Invalid)?;
            let ok = match alg {
                oid::RSA_SHA256 => rsa::pkcs1v15::VerifyingKey::<Sha256>::new(key)
                    .verify(msg, &sig)
                    .is_ok(),
                oid::RSA_SHA384 => rsa::pkcs1v15::VerifyingKey::<Sha384>::new(key)
                    .verify(msg, &sig)
                    .is_ok(),
                _ => rsa::pkcs1v15::VerifyingKey::<Sha512>::new(key)
                    .verify(msg, &sig)
                    .is_ok(),
            };
            if ok { Ok(()) } else { Err(SigProblem::Invalid) }
        }
        oid::ED25519 => {
            let key = parsed()?;
            if key.algorithm() != attest_dsse::Algorithm::Ed25519 {
                return Err(SigProblem::KeyMismatch);
            }
            if key.verifies(msg, sig) {
                Ok(())
            } else {
                Err(SigProblem::Invalid)
            }
        }
        _ => Err(SigProblem::Unsupported),
    }
}

/// Why [`verify_signature`] said no.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SigProblem {
    Unsupported,
    KeyMismatch,
    Invalid,
}

fn verify_cert_signature(cert: &Cert, issuer: &Cert) -> Result<(), SigProblem> {
    let sig = cert
        .cert
        .signature()
        .as_bytes()
        .ok_or(SigProblem::Invalid)?;
    verify_signature(
        issuer.spki(),
        issuer.key_cache(),
        cert.cert.signature_algorithm().oid,
        &cert.tbs,
        sig,
    )
}

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
    /// Whether each certificate of the chain is signed by the next one: a
    /// property of the trusted material alone, verified once, on first use.
    links: std::sync::OnceLock<Result<(), PkiError>>,
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

    /// Each certificate of the chain is named and signed by the next (the
    /// root's own signature is not checked: it is the trust anchor).
    fn links_verified(&self) -> Result<(), PkiError> {
        self.links
            .get_or_init(|| {
                for (i, pair) in self.chain.windows(2).enumerate() {
                    let role = Role::Issuer(u8::try_from(i + 1).unwrap_or(u8::MAX));
                    let (cert, issuer) = (&pair[0], &pair[1]);
                    if cert.tbs().issuer() != issuer.tbs().subject() {
                        return Err(PkiError::NoIssuer(cert.tbs().issuer().to_string()));
                    }
                    verify_cert_signature(cert, issuer).map_err(|p| sig_error(p, role, cert))?;
                }
                Ok(())
            })
            .clone()
    }

    /// The chain's certificates (DER), issuing certificate first.
    pub fn chain_der(&self) -> impl Iterator<Item = &[u8]> {
        self.chain.iter().map(|c| c.der.as_slice())
    }

    fn valid_at(&self, t: Timestamp) -> bool {
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
    /// `spki` parsed on first use and kept (with its verification tables).
    key: KeyCache,
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
            key: KeyCache::new(),
        }
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

/// What a path is for: the leaf's extended key usage and key usage.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Purpose {
    CodeSigning,
    TimeStamping,
}

impl Purpose {
    const fn eku(self) -> (ObjectIdentifier, &'static str) {
        match self {
            Self::CodeSigning => (oid::CODE_SIGNING, "codeSigning"),
            Self::TimeStamping => (oid::TIME_STAMPING, "timeStamping"),
        }
    }
}

fn sig_error(p: SigProblem, role: Role, cert: &Cert) -> PkiError {
    match p {
        SigProblem::Invalid => PkiError::Signature(role),
        SigProblem::Unsupported | SigProblem::KeyMismatch => PkiError::Algorithm {
            role,
            oid: cert.cert.signature_algorithm().oid.to_string(),
        },
    }
}

/// The names and signatures of `path`'s certificates before index
/// `signed_from` (the rest were verified with the authority's chain,
/// [`CertificateAuthority::links_verified`]): once, whatever the times.
fn path_signatures(path: &[&Cert], signed_from: usize) -> Result<(), PkiError> {
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
fn validate_path(path: &[&Cert], at: Timestamp, purpose: Purpose) -> Result<(), PkiError> {
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

/// Validates a signing certificate (DER) against `authorities` at every
/// time of `times`: its path to one of the certificate authorities, and at
/// least one embedded SCT from a trusted CT log. Returns the authority.
/// No identity is checked here (see [`IdentityPolicy`]).
///
/// # Errors
/// [`PkiError`] naming the first rule broken.
pub fn verify_certificate<'a>(
    der: &[u8],
    authorities: &'a Authorities,
    times: &[Timestamp],
) -> Result<&'a CertificateAuthority, PkiError> {
    let leaf = Cert::parse(der)?;
    if times.is_empty() {
        return Err(PkiError::NoAuthority("verified time"));
    }
    let ca = verify_path(
        &leaf,
        &authorities.certificate_authorities,
        times,
        Purpose::CodeSigning,
        "certificate authority",
    )?;
    let issuer = ca.chain.first().ok_or(PkiError::EmptyChain)?;
    verify_scts(&leaf, issuer, &authorities.ct_logs)?;
    Ok(ca)
}

/// The identities (SAN URIs, emails, Fulcio other-names) and the OIDC
/// issuer a DER certificate names — read, not validated.
///
/// # Errors
/// [`PkiError`] for a malformed certificate or missing names.
pub fn certificate_identity(der: &[u8]) -> Result<(Vec<String>, String), PkiError> {
    let leaf = Cert::parse(der)?;
    Ok((san_identities(&leaf)?, oidc_issuer(&leaf)?))
}

// ---------------------------------------------------------------- SCTs

/// One embedded SCT (RFC 6962 §3.2), as parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sct<'a> {
    log_id: [u8; 32],
    timestamp_ms: u64,
    extensions: &'a [u8],
    hash_alg: u8,
    sig_alg: u8,
    signature: &'a [u8],
}

/// How many SCTs a `SignedCertificateTimestampList` extension value holds
/// (parsing only; for fuzzing and diagnostics).
///
/// # Errors
/// [`PkiError::SctMalformed`].
pub fn parse_sct_list_len(ext_value: &[u8]) -> Result<usize, PkiError> {
    parse_sct_list(ext_value).map(|l| l.len())
}

/// A TLS-style reader over bytes (RFC 5246 §4 vectors).
struct Tls<'a>(&'a [u8]);

impl<'a> Tls<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], PkiError> {
        if self.0.len() < n {
            return Err(PkiError::SctMalformed("truncated"));
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    fn uint(&mut self, n: usize) -> Result<u64, PkiError> {
        Ok(self
            .take(n)?
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }
    fn vec(&mut self, len_bytes: usize) -> Result<&'a [u8], PkiError> {
        let n =
            usize::try_from(self.uint(len_bytes)?).map_err(|_| PkiError::SctMalformed("length"))?;
        self.take(n)
    }
}

/// Parses a `SignedCertificateTimestampList` (the extension's OCTET STRING
/// content, itself an OCTET STRING).
pub(crate) fn parse_sct_list(ext_value: &[u8]) -> Result<Vec<Sct<'_>>, PkiError> {
    let inner = <&der::asn1::OctetStringRef>::from_der(ext_value)
        .map_err(|_| PkiError::SctMalformed("not an OCTET STRING"))?;
    let mut list = Tls(inner.as_bytes());
    let mut items = Tls(list.vec(2)?);
    if !list.0.is_empty() {
        return Err(PkiError::SctMalformed("trailing bytes"));
    }
    let mut out = Vec::new();
    while !items.0.is_empty() {
        let mut s = Tls(items.vec(2)?);
        if s.uint(1)? != 0 {
            return Err(PkiError::SctMalformed("version is not v1"));
        }
        let mut log_id = [0u8; 32];
        log_id.copy_from_slice(s.take(32)?);
        let timestamp_ms = s.uint(8)?;
        let extensions = s.vec(2)?;
        let hash_alg = u8::try_from(s.uint(1)?).unwrap_or(u8::MAX);
        let sig_alg = u8::try_from(s.uint(1)?).unwrap_or(u8::MAX);
        let signature = s.vec(2)?;
        if !s.0.is_empty() {
            return Err(PkiError::SctMalformed("trailing bytes in an SCT"));
        }
        out.push(Sct {
            log_id,
            timestamp_ms,
            extensions,
            hash_alg,
            sig_alg,
            signature,
        });
    }
    if out.is_empty() {
        return Err(PkiError::SctMalformed("empty list"));
    }
    Ok(out)
}

/// The precertificate TBS a CT log signed: the leaf's TBS with the SCT
/// list extension removed. Every other field is copied as received; only
/// the extensions' wrapper is rebuilt (RFC 6962 §3.2 defines the signed
/// TBS as this re-encoding).
fn precert_tbs(leaf: &Cert) -> Result<Vec<u8>, PkiError> {
    let malformed = |_| PkiError::SctMalformed("the certificate's TBS");
    let fields: Vec<Any> = Vec::from_der(&leaf.tbs).map_err(malformed)?;
    let mut out: Vec<Any> = Vec::with_capacity(fields.len());
    for f in fields {
        let extensions_tag = Tag::ContextSpecific {
            constructed: true,
            number: der::TagNumber(3),
        };
        if f.tag() == extensions_tag {
            let exts: Vec<Any> = Vec::from_der(f.value()).map_err(malformed)?;
            let mut kept = Vec::with_capacity(exts.len());
            for e in exts {
                let ext: x509_cert::ext::Extension = e.decode_as().map_err(malformed)?;
                if ext.extn_id != oid::SCT_LIST {
                    kept.push(e);
                }
            }
            let inner = kept.to_der().map_err(malformed)?;
            out.push(Any::new(f.tag(), inner).map_err(malformed)?);
        } else {
            out.push(f);
        }
    }
    out.to_der().map_err(malformed)
}

/// Verifies the leaf's embedded SCTs against `ct_logs`: at least one from a
/// trusted log must verify with that log's key valid at the SCT's time; an
/// SCT naming a trusted log that does not verify is a failure. Returns how
/// many verified.
pub(crate) fn verify_scts(
    leaf: &Cert,
    issuer: &Cert,
    ct_logs: &[CtLog],
) -> Result<usize, PkiError> {
    let raw = leaf.raw_extension(oid::SCT_LIST)?.ok_or(PkiError::NoSct)?;
    let scts = parse_sct_list(raw)?;
    let tbs = precert_tbs(leaf)?;
    let tbs_len = u32::try_from(tbs.len())
        .ok()
        .filter(|n| *n < 1 << 24)
        .ok_or(PkiError::SctMalformed("TBS too long"))?;
    let issuer_key_hash = Sha256::digest(issuer.spki());
    let mut verified = 0;
    for sct in &scts {
        let Some(log) = ct_logs.iter().find(|l| l.log_id == sct.log_id) else {
            continue;
        };
        let log_hex = base16ct::lower::encode_string(&log.log_id);
        let at = Timestamp::from_unix(i64::try_from(sct.timestamp_ms / 1000).unwrap_or(i64::MAX));
        if at < log.valid_from || log.valid_until.is_some_and(|end| at > end) {
            return Err(PkiError::SctLogNotValid { log: log_hex, at });
        }
        let mut signed = Vec::with_capacity(tbs.len() + 64);
        signed.push(0); // v1
        signed.push(0); // certificate_timestamp
        signed.extend_from_slice(&sct.timestamp_ms.to_be_bytes());
        signed.extend_from_slice(&1u16.to_be_bytes()); // precert_entry
        signed.extend_from_slice(&issuer_key_hash);
        signed.extend_from_slice(&tbs_len.to_be_bytes()[1..]);
        signed.extend_from_slice(&tbs);
        let ext_len = u16::try_from(sct.extensions.len())
            .map_err(|_| PkiError::SctMalformed("extensions too long"))?;
        signed.extend_from_slice(&ext_len.to_be_bytes());
        signed.extend_from_slice(sct.extensions);
        // RFC 5246 SignatureAndHashAlgorithm: sha256(4) with rsa(1) or ecdsa(3).
        let alg = match (sct.hash_alg, sct.sig_alg) {
            (4, 3) => oid::ECDSA_SHA256,
            (4, 1) => oid::RSA_SHA256,
            _ => return Err(PkiError::SctSignature(log_hex)),
        };
        verify_signature(&log.spki, &log.key, alg, &signed, sct.signature)
            .map_err(|_| PkiError::SctSignature(log_hex))?;
        verified += 1;
    }
    if verified == 0 {
        return Err(PkiError::NoValidSct(scts.len()));
    }
    Ok(verified)
}

// ------------------------------------------------------------ identity

/// A value an identity policy requires: exact, or a regular expression
/// matched against the whole value (anchored at both ends, unlike Go's
/// `regexp.MatchString`, so that `https://github.com/acme/` cannot be
/// satisfied by `https://evil.example/?https://github.com/acme/`).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Matcher {
    /// Equal to this string.
    Exact(String),
    /// The whole value matches this pattern.
    Regex(regex_lite::Regex),
}

/// Why a [`Matcher::regex`] pattern was refused.
#[derive(Debug, Clone, thiserror::Error)]
#[error("invalid pattern {pattern:?}: {message}")]
pub struct PatternError {
    /// The pattern.
    pub pattern: String,
    /// What is wrong.
    pub message: String,
}

impl Matcher {
    /// An exact value.
    #[must_use]
    pub fn exact(s: impl Into<String>) -> Self {
        Self::Exact(s.into())
    }

    /// A pattern matched against the whole value.
    ///
    /// # Errors
    /// [`PatternError`] when it is not a valid pattern.
    pub fn regex(pattern: &str) -> Result<Self, PatternError> {
        regex_lite::Regex::new(&format!("^(?:{pattern})$"))
            .map(Self::Regex)
            .map_err(|e| PatternError {
                pattern: pattern.to_owned(),
                message: e.to_string(),
            })
    }

    /// Whether `value` is matched.
    #[must_use]
    pub fn matches(&self, value: &str) -> bool {
        match self {
            Self::Exact(s) => s == value,
            Self::Regex(r) => r.is_match(value),
        }
    }
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Exact(s) => write!(f, "{s:?}"),
            Self::Regex(r) => write!(f, "/{}/", r.as_str()),
        }
    }
}

/// Who a Fulcio certificate must have been issued to.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct IdentityPolicy {
    /// The subject alternative name (URI, email or Fulcio other-name).
    pub identity: Matcher,
    /// The OIDC issuer (extension 1.3.6.1.4.1.57264.1.8, or the legacy .1.1).
    pub issuer: Matcher,
    /// Further Fulcio extensions that must be equal (GitHub workflow).
    pub extensions: Vec<(FulcioExtension, String)>,
}

/// A legacy Fulcio GitHub Actions extension (raw string values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FulcioExtension {
    /// 1.3.6.1.4.1.57264.1.2: the event that triggered the workflow.
    GithubWorkflowTrigger,
    /// 1.3.6.1.4.1.57264.1.3: the commit SHA.
    GithubWorkflowSha,
    /// 1.3.6.1.4.1.57264.1.4: the workflow's name.
    GithubWorkflowName,
    /// 1.3.6.1.4.1.57264.1.5: `owner/repository`.
    GithubWorkflowRepository,
    /// 1.3.6.1.4.1.57264.1.6: the git ref.
    GithubWorkflowRef,
}

impl FulcioExtension {
    const fn oid(self) -> ObjectIdentifier {
        match self {
            Self::GithubWorkflowTrigger => oid::FULCIO_GH_TRIGGER,
            Self::GithubWorkflowSha => oid::FULCIO_GH_SHA,
            Self::GithubWorkflowName => oid::FULCIO_GH_WORKFLOW,
            Self::GithubWorkflowRepository => oid::FULCIO_GH_REPOSITORY,
            Self::GithubWorkflowRef => oid::FULCIO_GH_REF,
        }
    }

    const fn name(self) -> &'static str {
        match self {
            Self::GithubWorkflowTrigger => "github-workflow-trigger",
            Self::GithubWorkflowSha => "github-workflow-sha",
            Self::GithubWorkflowName => "github-workflow-name",
            Self::GithubWorkflowRepository => "github-workflow-repository",
            Self::GithubWorkflowRef => "github-workflow-ref",
        }
    }
}

impl IdentityPolicy {
    /// Exactly `identity`, issued by exactly `issuer`.
    #[must_use]
    pub fn exact(identity: impl Into<String>, issuer: impl Into<String>) -> Self {
        Self::new(Matcher::exact(identity), Matcher::exact(issuer))
    }

    /// From two matchers.
    #[must_use]
    pub const fn new(identity: Matcher, issuer: Matcher) -> Self {
        Self {
            identity,
            issuer,
            extensions: Vec::new(),
        }
    }

    /// Also require a Fulcio GitHub extension to equal `value`.
    #[must_use]
    pub fn with_extension(mut self, ext: FulcioExtension, value: impl Into<String>) -> Self {
        self.extensions.push((ext, value.into()));
        self
    }
}

/// The identities a certificate names: SAN URIs, emails and Fulcio
/// other-names, as strings.
pub(crate) fn san_identities(leaf: &Cert) -> Result<Vec<String>, PkiError> {
    let Some((_, san)) = leaf.extension::<SubjectAltName>(Role::Leaf)? else {
        return Err(PkiError::NoIdentity);
    };
    let mut out = Vec::new();
    for name in &san.0 {
        match name {
            GeneralName::UniformResourceIdentifier(s) | GeneralName::Rfc822Name(s) => {
                out.push(s.as_str().to_owned());
            }
            GeneralName::OtherName(o) if o.type_id == oid::FULCIO_OTHERNAME_SAN => {
                if let Ok(s) = o.value.decode_as::<der::asn1::Utf8StringRef<'_>>() {
                    out.push(s.as_str().to_owned());
                }
            }
            _ => {}
        }
    }
    if out.is_empty() {
        return Err(PkiError::NoIdentity);
    }
    Ok(out)
}

/// The OIDC issuer: the DER extension (.1.8) or the legacy raw one (.1.1);
/// both present and different is a refusal.
pub(crate) fn oidc_issuer(leaf: &Cert) -> Result<String, PkiError> {
    let v2 = leaf
        .raw_extension(oid::FULCIO_ISSUER_V2)?
        .map(|raw| {
            der::asn1::Utf8StringRef::from_der(raw)
                .map(|s| s.as_str().to_owned())
                .map_err(|_| PkiError::Extension {
                    role: Role::Leaf,
                    oid: oid::FULCIO_ISSUER_V2.to_string(),
                })
        })
        .transpose()?;
    let v1 = leaf
        .raw_extension(oid::FULCIO_ISSUER_V1)?
        .map(|raw| {
            std::str::from_utf8(raw)
                .map(str::to_owned)
                .map_err(|_| PkiError::Extension {
                    role: Role::Leaf,
                    oid: oid::FULCIO_ISSUER_V1.to_string(),
                })
        })
        .transpose()?;
    match (v2, v1) {
        (Some(a), Some(b)) if a != b => Err(PkiError::OidcIssuerConflict(a, b)),
        (Some(a), _) | (None, Some(a)) => Ok(a),
        (None, None) => Err(PkiError::NoOidcIssuer),
    }
}

/// The leaf names the policy's identity and issuer (and extensions); the
/// names and issuer it read.
/// The identities and OIDC issuer of the DER certificate `der`, when they
/// satisfy `policy` (its chain, validity and SCTs are
/// [`verify_certificate`]'s job).
///
/// # Errors
/// [`PkiError`]: a malformed certificate, or the first mismatch.
pub fn verify_identity(
    der: &[u8],
    policy: &IdentityPolicy,
) -> Result<(Vec<String>, String), PkiError> {
    check_identity(&Cert::parse(der)?, policy)
}

pub(crate) fn check_identity(
    leaf: &Cert,
    policy: &IdentityPolicy,
) -> Result<(Vec<String>, String), PkiError> {
    let names = san_identities(leaf)?;
    if !names.iter().any(|n| policy.identity.matches(n)) {
        return Err(PkiError::IdentityMismatch {
            expected: policy.identity.to_string(),
            found: names,
        });
    }
    let issuer = oidc_issuer(leaf)?;
    if !policy.issuer.matches(&issuer) {
        return Err(PkiError::OidcIssuerMismatch {
            expected: policy.issuer.to_string(),
            found: issuer,
        });
    }
    for (ext, want) in &policy.extensions {
        let found = leaf
            .raw_extension(ext.oid())?
            .map(|raw| String::from_utf8_lossy(raw).into_owned());
        if found.as_deref() != Some(want.as_str()) {
            return Err(PkiError::ExtensionMismatch {
                name: ext.name(),
                expected: want.clone(),
                found,
            });
        }
    }
    Ok((names, issuer))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use attest_dsse::{Algorithm, SigningKey};
    use der::asn1::OctetString;
    use x509_cert::ext::Extension;
    use x509_cert::ext::pkix::KeyUsages;

    const T0: i64 = 1_700_000_000;

    fn ext<T: Encode>(oid: ObjectIdentifier, critical: bool, value: &T) -> Extension {
        Extension {
            extn_id: oid,
            critical,
            extn_value: OctetString::new(value.to_der().unwrap()).unwrap(),
        }
    }
    fn bc(ca: bool, path_len: Option<u8>) -> Extension {
        ext(
            ObjectIdentifier::new_unwrap("2.5.29.19"),
            true,
            &BasicConstraints {
                ca,
                path_len_constraint: path_len,
            },
        )
    }
    fn ku(k: KeyUsage) -> Extension {
        ext(ObjectIdentifier::new_unwrap("2.5.29.15"), true, &k)
    }
    fn eku(oids: &[ObjectIdentifier]) -> Extension {
        ext(
            ObjectIdentifier::new_unwrap("2.5.29.37"),
            false,
            &ExtendedKeyUsage(oids.to_vec()),
        )
    }

    /// A root, an intermediate and a leaf, each part replaceable.
    struct Pki {
        root_key: SigningKey,
        inter_key: SigningKey,
        leaf_key: SigningKey,
        root_ext: Vec<Extension>,
        inter_ext: Vec<Extension>,
        leaf_ext: Vec<Extension>,
        leaf_window: (i64, i64),
    }

    impl Pki {
        fn new() -> Self {
            let k = || SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
            Self {
                root_key: k(),
                inter_key: k(),
                leaf_key: k(),
                root_ext: vec![
                    bc(true, None),
                    ku(KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign)),
                ],
                inter_ext: vec![
                    bc(true, Some(0)),
                    ku(KeyUsage(KeyUsages::KeyCertSign.into())),
                    eku(&[oid::CODE_SIGNING]),
                ],
                leaf_ext: vec![
                    ku(KeyUsage(KeyUsages::DigitalSignature.into())),
                    eku(&[oid::CODE_SIGNING]),
                ],
                leaf_window: (T0, T0 + 600),
            }
        }

        fn certs(&self) -> (Cert, CertificateAuthority) {
            let t = Timestamp::from_unix;
            let issue =
                |key: &SigningKey, issuer, spki: &[u8], subject, from, to, e: &[Extension]| {
                    Cert::parse(
                        &attest_issue::issue_certificate(
                            key,
                            issuer,
                            spki,
                            subject,
                            t(from),
                            t(to),
                            e.to_vec(),
                        )
                        .unwrap(),
                    )
                    .unwrap()
                };
            let root = issue(
                &self.root_key,
                "CN=root",
                self.root_key.public_key().spki_der(),
                "CN=root",
                T0 - 1000,
                T0 + 10_000,
                &self.root_ext,
            );
            let inter = issue(
                &self.root_key,
                "CN=root",
                self.inter_key.public_key().spki_der(),
                "CN=inter",
                T0 - 1000,
                T0 + 10_000,
                &self.inter_ext,
            );
            let leaf = issue(
                &self.inter_key,
                "CN=inter",
                self.leaf_key.public_key().spki_der(),
                "CN=leaf",
                self.leaf_window.0,
                self.leaf_window.1,
                &self.leaf_ext,
            );
            let ca = CertificateAuthority::new(
                "https://ca.example",
                &[inter.der.clone(), root.der.clone()],
                t(T0 - 1000),
                Some(t(T0 + 10_000)),
            )
            .unwrap();
            (leaf, ca)
        }

        fn verify_at(&self, at: i64) -> Result<(), PkiError> {
            let (leaf, ca) = self.certs();
            verify_path(
                &leaf,
                std::slice::from_ref(&ca),
                &[Timestamp::from_unix(at)],
                Purpose::CodeSigning,
                "certificate authority",
            )
            .map(|_| ())
        }
    }

    #[test]
    fn a_good_path_verifies_and_each_broken_rule_is_named() {
        let good = Pki::new();
        good.verify_at(T0 + 1).unwrap();

        let mut p = Pki::new();
        p.leaf_ext = vec![ku(KeyUsage(KeyUsages::DigitalSignature.into()))];
        assert!(matches!(
            p.verify_at(T0 + 1),
            Err(PkiError::ExtKeyUsage {
                role: Role::Leaf,
                ..
            })
        ));

        let mut p = Pki::new();
        p.leaf_ext = vec![eku(&[oid::CODE_SIGNING])];
        assert!(matches!(
            p.verify_at(T0 + 1),
            Err(PkiError::KeyUsage {
                role: Role::Leaf,
                ..
            })
        ));

        let mut p = Pki::new();
        p.leaf_ext.push(bc(true, None));
        assert_eq!(p.verify_at(T0 + 1), Err(PkiError::LeafIsCa));

        let mut p = Pki::new();
        p.inter_ext[0] = bc(false, None);
        assert_eq!(p.verify_at(T0 + 1), Err(PkiError::NotCa(Role::Issuer(1))));

        let mut p = Pki::new();
        p.inter_ext.remove(0);
        assert_eq!(p.verify_at(T0 + 1), Err(PkiError::NotCa(Role::Issuer(1))));

        let mut p = Pki::new();
        p.inter_ext[1] = ku(KeyUsage(KeyUsages::DigitalSignature.into()));
        assert!(matches!(
            p.verify_at(T0 + 1),
            Err(PkiError::KeyUsage {
                role: Role::Issuer(1),
                needed: "keyCertSign"
            })
        ));

        let mut p = Pki::new();
        p.inter_ext[2] = eku(&[oid::TIME_STAMPING]);
        assert!(matches!(
            p.verify_at(T0 + 1),
            Err(PkiError::ExtKeyUsage {
                role: Role::Issuer(1),
                ..
            })
        ));

        // The root allows no intermediate below it.
        let mut p = Pki::new();
        p.root_ext[0] = bc(true, Some(0));
        assert_eq!(
            p.verify_at(T0 + 1),
            Err(PkiError::PathLength(Role::Issuer(2)))
        );

        let mut p = Pki::new();
        p.leaf_ext.push(ext(
            ObjectIdentifier::new_unwrap("1.2.3.4.5"),
            true,
            &der::asn1::Null,
        ));
        assert!(matches!(
            p.verify_at(T0 + 1),
            Err(PkiError::CriticalExtension {
                role: Role::Leaf,
                ..
            })
        ));
        // Not critical: ignored.
        let mut p = Pki::new();
        p.leaf_ext.push(ext(
            ObjectIdentifier::new_unwrap("1.2.3.4.5"),
            false,
            &der::asn1::Null,
        ));
        p.verify_at(T0 + 1).unwrap();
    }

    #[test]
    fn a_leaf_signed_by_a_stranger_under_the_issuers_name_is_refused() {
        let mut p = Pki::new();
        let (_, ca) = p.certs();
        p.inter_key = SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
        let (forged, _) = p.certs();
        assert_eq!(
            verify_path(
                &forged,
                std::slice::from_ref(&ca),
                &[Timestamp::from_unix(T0 + 1)],
                Purpose::CodeSigning,
                "certificate authority",
            )
            .unwrap_err(),
            PkiError::Signature(Role::Leaf)
        );
    }

    #[test]
    fn an_authority_whose_own_chain_is_broken_issues_nothing() {
        // The intermediate signed by one root key, the trusted root
        // certificate (same name) holding another: the authority's chain is
        // verified once, and its failure refuses every leaf.
        let p = Pki::new();
        let (leaf, ca) = p.certs();
        let mut q = Pki::new();
        q.inter_key = p.inter_key.clone();
        let (_, other) = q.certs();
        let broken = CertificateAuthority::new(
            "https://ca.example",
            &[ca.chain[0].der.clone(), other.chain[1].der.clone()],
            Timestamp::from_unix(T0 - 1000),
            None,
        )
        .unwrap();
        let at = [Timestamp::from_unix(T0 + 1)];
        assert_eq!(
            verify_path(
                &leaf,
                std::slice::from_ref(&broken),
                &at,
                Purpose::CodeSigning,
                "ca"
            )
            .unwrap_err(),
            PkiError::Signature(Role::Issuer(1))
        );
        // The same again (the memo keeps the failure).
        assert!(
            verify_path(
                &leaf,
                std::slice::from_ref(&broken),
                &at,
                Purpose::CodeSigning,
                "ca"
            )
            .is_err()
        );
        // The intact authority issues it.
        verify_path(
            &leaf,
            std::slice::from_ref(&ca),
            &at,
            Purpose::CodeSigning,
            "ca",
        )
        .unwrap();
    }

    #[test]
    fn validity_windows_are_inclusive_at_both_ends() {
        let p = Pki::new();
        p.verify_at(T0).unwrap();
        p.verify_at(T0 + 600).unwrap();
        assert!(matches!(
            p.verify_at(T0 - 1),
            Err(PkiError::NotValidAt {
                role: Role::Leaf,
                ..
            })
        ));
        assert!(matches!(
            p.verify_at(T0 + 601),
            Err(PkiError::NotValidAt {
                role: Role::Leaf,
                ..
            })
        ));
        // The authority's trusted-root window, inclusive too.
        let mut p = Pki::new();
        p.leaf_window = (T0 - 5000, T0 + 50_000);
        let (leaf, ca) = p.certs();
        let at = |t| {
            verify_path(
                &leaf,
                std::slice::from_ref(&ca),
                &[Timestamp::from_unix(t)],
                Purpose::CodeSigning,
                "ca",
            )
        };
        assert!(at(T0 + 10_000).is_ok());
        assert!(matches!(
            at(T0 + 10_001),
            Err(PkiError::NotValidAt { .. } | PkiError::AuthorityNotValidAt { .. })
        ));
        // Every verified time must fall inside.
        let both = verify_path(
            &leaf,
            std::slice::from_ref(&ca),
            &[Timestamp::from_unix(T0), Timestamp::from_unix(T0 + 20_000)],
            Purpose::CodeSigning,
            "ca",
        );
        assert!(both.is_err());
    }

    #[test]
    fn a_leaf_without_an_sct_or_with_a_malformed_list_is_refused() {
        let p = Pki::new();
        let (leaf, ca) = p.certs();
        let (_, a) = production();
        assert_eq!(
            verify_scts(&leaf, &ca.chain[0], &a.ct_logs),
            Err(PkiError::NoSct)
        );
        // A list that is not an OCTET STRING, or whose TLS vector overruns.
        let mut bad = Pki::new();
        bad.leaf_ext
            .push(ext(oid::SCT_LIST, false, &der::asn1::Null));
        let (leaf, ca) = bad.certs();
        assert!(matches!(
            verify_scts(&leaf, &ca.chain[0], &a.ct_logs),
            Err(PkiError::SctMalformed(_))
        ));
        let mut bad = Pki::new();
        bad.leaf_ext.push(ext(
            oid::SCT_LIST,
            false,
            &OctetString::new(vec![0x00, 0x09, 0x00, 0x01]).unwrap(),
        ));
        let (leaf, ca) = bad.certs();
        assert_eq!(
            verify_scts(&leaf, &ca.chain[0], &a.ct_logs),
            Err(PkiError::SctMalformed("truncated"))
        );
    }

    #[test]
    fn the_bundle_chain_has_a_leaf_and_no_root() {
        let p = Pki::new();
        let (leaf, ca) = p.certs();
        assert_eq!(bundle_leaf(&[]).unwrap_err(), PkiError::EmptyChain);
        let root = ca.chain[1].der.clone();
        assert_eq!(
            bundle_leaf(&[leaf.der.clone(), ca.chain[0].der.clone(), root]).unwrap_err(),
            PkiError::RootInBundle
        );
        assert_eq!(
            bundle_leaf(&[leaf.der.clone(), ca.chain[0].der.clone()]).unwrap(),
            leaf
        );
        assert!(matches!(
            bundle_leaf(&[vec![0x30, 0]]),
            Err(PkiError::Malformed(_))
        ));
        let long = vec![leaf.der.clone(); MAX_BUNDLE_CHAIN + 1];
        assert_eq!(
            bundle_leaf(&long).unwrap_err(),
            PkiError::ChainTooLong(MAX_BUNDLE_CHAIN + 1)
        );
        bundle_leaf(&vec![leaf.der.clone(); MAX_BUNDLE_CHAIN]).unwrap();
    }

    /// The production DSSE bundle's Fulcio leaf and the production root.
    fn production() -> (Cert, Authorities) {
        let b: serde_json::Value = serde_json::from_slice(&attestlog_testkit::vector(
            "prod-v1-dsse-v001.sigstore.json",
        ))
        .unwrap();
        use base64ct::Encoding;
        let der = base64ct::Base64::decode_vec(
            b["verificationMaterial"]["certificate"]["rawBytes"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
        let a =
            crate::authorities_from_trusted_root(&attestlog_testkit::vector("trusted_root.json"))
                .unwrap();
        (Cert::parse(&der).unwrap(), a)
    }

    #[test]
    fn real_scts_verify_and_each_mutation_is_refused() {
        let (leaf, a) = production();
        let issued = Timestamp::from_unix(leaf.not_before().unix() + 1);
        let ca = verify_path(
            &leaf,
            &a.certificate_authorities,
            &[issued],
            Purpose::CodeSigning,
            "ca",
        )
        .unwrap();
        let issuer = &ca.chain[0];
        assert_eq!(verify_scts(&leaf, issuer, &a.ct_logs).unwrap(), 1);
        // No trusted CT log.
        assert_eq!(
            verify_scts(&leaf, issuer, &[]),
            Err(PkiError::NoValidSct(1))
        );
        // The CT log's key not yet valid at the SCT's time.
        let mut late = a.ct_logs.clone();
        for l in &mut late {
            l.valid_from = Timestamp::from_unix(leaf.not_after().unix() + 1);
        }
        assert!(matches!(
            verify_scts(&leaf, issuer, &late),
            Err(PkiError::SctLogNotValid { .. })
        ));
        // The wrong issuer key hash (another CA's certificate as issuer).
        let other = &ca.chain[1];
        assert!(matches!(
            verify_scts(&leaf, other, &a.ct_logs),
            Err(PkiError::SctSignature(_))
        ));
        // A flipped byte in the SCT's signature (inside the certificate).
        let raw = leaf.raw_extension(oid::SCT_LIST).unwrap().unwrap().to_vec();
        let at = leaf.der.windows(raw.len()).position(|w| w == raw).unwrap();
        let mut der = leaf.der.clone();
        let last = at + raw.len() - 3;
        der[last] ^= 1;
        let mutated = Cert::parse(&der).unwrap();
        assert!(matches!(
            verify_scts(&mutated, issuer, &a.ct_logs),
            Err(PkiError::SctSignature(_))
        ));
        // ... and the certificate's own signature no longer verifies either.
        assert!(matches!(
            verify_path(
                &mutated,
                &a.certificate_authorities,
                &[issued],
                Purpose::CodeSigning,
                "ca"
            ),
            Err(PkiError::Signature(Role::Leaf))
        ));
        // Truncated and empty lists.
        assert!(parse_sct_list(&[0x04, 0x02, 0x00, 0x05]).is_err());
        assert_eq!(
            parse_sct_list(&[0x04, 0x02, 0x00, 0x00]).unwrap_err(),
            PkiError::SctMalformed("empty list")
        );
    }

    #[test]
    fn real_identity_is_read_and_matched_exactly_or_anchored() {
        let (leaf, _) = production();
        let id = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
        let iss = "https://token.actions.githubusercontent.com";
        assert_eq!(san_identities(&leaf).unwrap(), vec![id.to_owned()]);
        assert_eq!(oidc_issuer(&leaf).unwrap(), iss);
        check_identity(&leaf, &IdentityPolicy::exact(id, iss)).unwrap();
        assert!(matches!(
            check_identity(
                &leaf,
                &IdentityPolicy::exact(id, "https://accounts.google.com")
            ),
            Err(PkiError::OidcIssuerMismatch { .. })
        ));
        assert!(matches!(
            check_identity(&leaf, &IdentityPolicy::exact(&id[..id.len() - 1], iss)),
            Err(PkiError::IdentityMismatch { .. })
        ));
        let re = |i: &str, s: &str| {
            IdentityPolicy::new(Matcher::regex(i).unwrap(), Matcher::regex(s).unwrap())
        };
        check_identity(
            &leaf,
            &re(
                r"https://github\.com/sigstore-conformance/.*",
                r"https://token\.actions\.githubusercontent\.com",
            ),
        )
        .unwrap();
        // Anchored: a pattern matching only part of the identity fails.
        assert!(check_identity(&leaf, &re(r"github\.com/sigstore-conformance", ".*")).is_err());
        assert!(Matcher::regex("(").is_err());
        // GitHub extensions: present ones compared, a wrong value refused.
        let repo = leaf
            .raw_extension(oid::FULCIO_GH_REPOSITORY)
            .unwrap()
            .map(|r| String::from_utf8_lossy(r).into_owned());
        if let Some(repo) = repo {
            check_identity(
                &leaf,
                &IdentityPolicy::exact(id, iss)
                    .with_extension(FulcioExtension::GithubWorkflowRepository, repo),
            )
            .unwrap();
        }
        assert!(matches!(
            check_identity(
                &leaf,
                &IdentityPolicy::exact(id, iss)
                    .with_extension(FulcioExtension::GithubWorkflowRepository, "evil/repo")
            ),
            Err(PkiError::ExtensionMismatch { .. })
        ));
    }
}
