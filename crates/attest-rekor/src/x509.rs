//! X.509 certificates as carriers of keys, through the RustCrypto formats
//! (`x509-cert`, `der`, `spki`): the public key of a certificate, and a
//! self-signed certificate for a key where a format demands a certificate.
//!
//! Nothing here validates a certificate (chains, validity windows, SCTs and
//! identities belong to keyless verification): a key taken from a
//! certificate is trusted only when the caller trusts that key.

use std::str::FromStr;
use std::time::Duration;

use attest_dsse::{Algorithm, KeyError, PublicKey, SigningKey, Timestamp};
use der::asn1::BitString;
use der::{Decode, Encode};
use spki::{
    AlgorithmIdentifierOwned, DynSignatureAlgorithmIdentifier, EncodePublicKey,
    SignatureBitStringEncoding, SubjectPublicKeyInfoOwned,
};
use x509_cert::Certificate;
use x509_cert::builder::profile::BuilderProfile;
use x509_cert::builder::{Builder, CertificateBuilder};
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};

/// Why a certificate could not be read or made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CertificateError {
    /// Not a DER X.509 certificate.
    #[error("malformed X.509 certificate: {0}")]
    Der(#[source] der::Error),
    /// Not PEM.
    #[error("not PEM: {0}")]
    Pem(#[source] der::pem::Error),
    /// A PEM label other than `CERTIFICATE` / `PUBLIC KEY`.
    #[error("unexpected PEM label {0:?} (expected CERTIFICATE or PUBLIC KEY)")]
    PemLabel(String),
    /// The certificate's key is not one attest-dsse supports.
    #[error("the certificate's public key: {0}")]
    Key(#[source] KeyError),
    /// The common name is not a valid X.520 name.
    #[error("the certificate name {0:?} is not a valid common name")]
    Name(String),
    /// Building the certificate failed.
    #[error("could not build the certificate: {0}")]
    Build(#[source] x509_cert::builder::Error),
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

/// A self-signed X.509 v3 certificate (DER) for `key`, named `CN=<name>`,
/// valid from `not_before` to `not_after`. It carries the key where a
/// format requires a certificate (Sigstore bundles v0.3 as parsed by some
/// clients); it asserts no identity and chains to nothing. The serial is
/// derived from the key and `not_before`, so it is deterministic per key.
///
/// # Errors
/// [`CertificateError::Name`] for a name that is not a valid common name,
/// [`CertificateError::Build`] when encoding fails.
pub fn self_signed_certificate(
    key: &SigningKey,
    name: &str,
    not_before: Timestamp,
    not_after: Timestamp,
) -> Result<Vec<u8>, CertificateError> {
    let subject = Name::from_str(&format!("CN={name}"))
        .map_err(|_| CertificateError::Name(name.to_owned()))?;
    let spki = key.public_key().spki_der();
    let seed = [spki, &not_before.unix().to_be_bytes()].concat();
    // Self-signed: issuer = subject, no extensions.
    let profile = Issued {
        issuer: subject.clone(),
        subject,
        extensions: Vec::new(),
    };
    build(key, profile, &seed, spki, not_before, not_after)
}

/// Signs a certificate for `subject_spki` under `profile` with `key`; its
/// serial is derived from `seed` (deterministic: the same inputs give the
/// same certificate).
fn build(
    key: &SigningKey,
    profile: Issued,
    seed: &[u8],
    subject_spki: &[u8],
    not_before: Timestamp,
    not_after: Timestamp,
) -> Result<Vec<u8>, CertificateError> {
    let spki = SubjectPublicKeyInfoOwned::from_der(subject_spki).map_err(CertificateError::Der)?;
    let digest = <sha2::Sha256 as sha2::Digest>::digest(seed);
    let mut serial = [0u8; 16];
    serial.copy_from_slice(&digest[..16]);
    serial[0] = (serial[0] & 0x7f) | 0x01;
    let serial = SerialNumber::new(&serial).map_err(CertificateError::Der)?;
    let validity = Validity::new(time(not_before)?, time(not_after)?);
    let builder = CertificateBuilder::new(profile, serial, validity, spki)
        .map_err(CertificateError::Build)?;
    let cert = builder
        .build::<_, RawSignature>(&CertSigner(key))
        .map_err(CertificateError::Build)?;
    cert.to_der().map_err(CertificateError::Der)
}

fn time(t: Timestamp) -> Result<Time, CertificateError> {
    let unix = u64::try_from(t.unix())
        .map_err(|_| CertificateError::Der(der::ErrorKind::DateTime.into()))?;
    Time::try_from(std::time::UNIX_EPOCH + Duration::from_secs(unix)).map_err(CertificateError::Der)
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

/// A certificate for the key `subject_spki` (DER) named `subject`, issued
/// by `issuer_key` under the name `issuer`, with `extensions`, valid from
/// `not_before` to `not_after` (tests build whole PKIs with it).
///
/// # Errors
/// [`CertificateError`] when a name or the encoding is refused.
#[doc(hidden)]
pub fn issue_certificate(
    issuer_key: &SigningKey,
    issuer: &str,
    subject_spki: &[u8],
    subject: &str,
    not_before: Timestamp,
    not_after: Timestamp,
    extensions: Vec<Extension>,
) -> Result<Vec<u8>, CertificateError> {
    // An empty name is the empty RDN sequence (a Fulcio leaf's subject).
    let name = |n: &str| match n {
        "" => Ok(Name::default()),
        n => Name::from_str(n).map_err(|_| CertificateError::Name(n.to_owned())),
    };
    let profile = Issued {
        subject: name(subject)?,
        issuer: name(issuer)?,
        extensions,
    };
    let seed = [subject_spki, subject.as_bytes()].concat();
    build(
        issuer_key,
        profile,
        &seed,
        subject_spki,
        not_before,
        not_after,
    )
}

/// A profile with given names and extensions.
struct Issued {
    subject: Name,
    issuer: Name,
    extensions: Vec<Extension>,
}

impl BuilderProfile for Issued {
    fn get_issuer(&self, _subject: &Name) -> Name {
        self.issuer.clone()
    }
    fn get_subject(&self) -> Name {
        self.subject.clone()
    }
    fn build_extensions(
        &self,
        _spk: spki::SubjectPublicKeyInfoRef<'_>,
        _issuer_spk: spki::SubjectPublicKeyInfoRef<'_>,
        _tbs: &x509_cert::TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        Ok(self.extensions.clone())
    }
}

/// Our signing key seen through the traits `x509-cert`'s builder wants.
struct CertSigner<'a>(&'a SigningKey);

/// The SPKI of [`CertSigner`], already DER.
#[derive(Clone)]
struct SpkiDer(Vec<u8>);

impl EncodePublicKey for SpkiDer {
    fn to_public_key_der(&self) -> spki::Result<der::Document> {
        Ok(der::Document::try_from(self.0.as_slice())?)
    }
}

/// A signature as our key produced it (DER ECDSA or raw Ed25519).
struct RawSignature(Vec<u8>);

impl SignatureBitStringEncoding for RawSignature {
    fn to_bitstring(&self) -> der::Result<BitString> {
        BitString::from_bytes(&self.0)
    }
}

impl signature::Keypair for CertSigner<'_> {
    type VerifyingKey = SpkiDer;
    fn verifying_key(&self) -> SpkiDer {
        SpkiDer(self.0.public_key().spki_der().to_vec())
    }
}

impl DynSignatureAlgorithmIdentifier for CertSigner<'_> {
    fn signature_algorithm_identifier(&self) -> spki::Result<AlgorithmIdentifierOwned> {
        let oid = match self.0.public_key().algorithm() {
            // ecdsa-with-SHA256
            Algorithm::EcdsaP256Sha256 => const_oid::db::rfc5912::ECDSA_WITH_SHA_256,
            // id-Ed25519
            Algorithm::Ed25519 => const_oid::db::rfc8410::ID_ED_25519,
            _ => return Err(spki::Error::AlgorithmParametersMissing),
        };
        Ok(AlgorithmIdentifierOwned {
            oid,
            parameters: None,
        })
    }
}

impl signature::Signer<RawSignature> for CertSigner<'_> {
    fn try_sign(&self, msg: &[u8]) -> Result<RawSignature, signature::Error> {
        Ok(RawSignature(self.0.sign(msg)))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn self_signed_certificates_carry_the_key_and_verify() {
        for alg in [Algorithm::Ed25519, Algorithm::EcdsaP256Sha256] {
            let k = SigningKey::generate(alg).unwrap();
            let from = Timestamp::from_unix(1_700_000_000);
            let der =
                self_signed_certificate(&k, "attestlog", from, Timestamp::from_unix(4_102_444_800))
                    .unwrap();
            let key = certificate_public_key(&der).unwrap();
            assert_eq!(key.spki_der(), k.public_key().spki_der());
            let cert = Certificate::from_der(&der).unwrap();
            let tbs = cert.tbs_certificate().to_der().unwrap();
            assert!(key.verifies(&tbs, cert.signature().raw_bytes()));
            assert_eq!(
                cert.tbs_certificate().issuer(),
                cert.tbs_certificate().subject()
            );
        }
    }

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
