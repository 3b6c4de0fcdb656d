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

mod authority;
mod cert;
mod identity;
mod path;
mod sct;
#[allow(unused_imports)]
pub use authority::*;
#[allow(unused_imports)]
pub use cert::*;
#[allow(unused_imports)]
pub use identity::*;
#[allow(unused_imports)]
pub use path::*;
#[allow(unused_imports)]
pub use sct::*;

#[cfg(test)]
mod tests;

/// Why a certificate, its path, its SCTs or its identity were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PkiError {
    /// A certificate is not DER X.509.
    #[error("malformed certificate")]
    Der(#[source] der::Error),
    /// A certificate's part is missing (named).
    #[error("malformed certificate: {0}")]
    Malformed(&'static str),
    /// A certificate's public key is not one this crate verifies with.
    #[error("the certificate's public key")]
    PublicKey(#[source] attest_dsse::KeyError),
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
