//! X.509 certificates as carriers of keys, through the RustCrypto formats
//! (`x509-cert`, `der`, `spki`): the public key of a certificate, PEM and
//! DER. Making certificates is the `attest-issue` crate's job.
//!
//! Nothing here validates a certificate (chains, validity windows, SCTs and
//! identities belong to keyless verification): a key taken from a
//! certificate is trusted only when the caller trusts that key.

use attest_dsse::{KeyError, PublicKey};
use der::{Decode, Encode};
use x509_cert::Certificate;

/// Why a certificate could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CertificateError {
    /// Not a DER X.509 certificate.
    #[error("malformed X.509 certificate")]
    Der(#[source] der::Error),
    /// Not PEM.
    #[error("not PEM")]
    Pem(#[source] der::pem::Error),
    /// A PEM label other than `CERTIFICATE` / `PUBLIC KEY`.
    #[error("unexpected PEM label {0:?} (expected CERTIFICATE or PUBLIC KEY)")]
    PemLabel(String),
    /// The certificate's key is not one attest-dsse supports.
    #[error("the certificate's public key")]
    Key(#[source] KeyError),
}

/// The public key of a DER X.509 certificate. The certificate is parsed in
/// full (`x509-cert`) but not validated: it only carries the key here.
///
/// # Errors
/// [`CertificateError::Der`] or [`CertificateError::Key`].
pub fn certificate_public_key(der: &[u8]) -> Result<PublicKey, CertificateError> {
    let cert = Certificate::from_der(der).map_err(CertificateError::Der)?;
    let spki = cert
        .tbs_certificate()
        .subject_public_key_info()
        .to_der()
        .map_err(CertificateError::Der)?;
    PublicKey::from_spki_der(&spki).map_err(CertificateError::Key)
}

/// A PEM `PUBLIC KEY` (SPKI) or `CERTIFICATE` (its key, not validated).
///
/// # Errors
/// [`CertificateError::Pem`] or the errors of [`certificate_public_key`].
pub fn public_key_from_pem(pem: &str) -> Result<PublicKey, CertificateError> {
    let (label, der) =
        der::pem::decode_vec(pem.trim().as_bytes()).map_err(CertificateError::Pem)?;
    match label {
        "PUBLIC KEY" => PublicKey::from_spki_der(&der).map_err(CertificateError::Key),
        "CERTIFICATE" => certificate_public_key(&der),
        other => Err(CertificateError::PemLabel(other.to_owned())),
    }
}

/// A certificate (DER) as PEM.
#[must_use]
pub fn certificate_to_pem(der: &[u8]) -> String {
    // Encoding cannot fail for a byte string in memory.
    der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, der).unwrap_or_default()
}

/// A certificate file's bytes as DER: PEM (`CERTIFICATE`) or DER already.
///
/// # Errors
/// [`CertificateError::Der`] for PEM of anything else, or bytes that are
/// neither.
pub fn certificate_der(bytes: &[u8]) -> Result<Vec<u8>, CertificateError> {
    let der = match der::pem::decode_vec(bytes) {
        Ok(("CERTIFICATE", der)) => der,
        Ok(_) => return Err(CertificateError::Der(der::ErrorKind::Failed.into())),
        Err(_) => bytes.to_vec(),
    };
    certificate_public_key(&der)?;
    Ok(der)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn garbage_is_a_typed_error() {
        assert!(matches!(
            certificate_public_key(b"\x30\x03\x02\x01\x01"),
            Err(CertificateError::Der(_))
        ));
        assert!(matches!(
            public_key_from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
            Err(CertificateError::PemLabel(_))
        ));
    }
}
