//! X.509 certificates made with `x509-cert`'s builder: a self-signed
//! certificate that carries a key where a format demands a certificate, and
//! a certificate issued by one key for another with given names and
//! extensions (the test Fulcio's and the TSA's chains).

use std::str::FromStr;
use std::time::Duration;

use attest_dsse::{Algorithm, SigningKey, Timestamp};
use der::asn1::BitString;
use der::{Decode, Encode};
use spki::{
    AlgorithmIdentifierOwned, DynSignatureAlgorithmIdentifier, EncodePublicKey,
    SignatureBitStringEncoding, SubjectPublicKeyInfoOwned,
};
use x509_cert::builder::profile::BuilderProfile;
use x509_cert::builder::{Builder, CertificateBuilder};
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};

/// Why a certificate could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IssueError {
    /// A name is not a valid X.520 distinguished name.
    #[error("the certificate name {0:?} is not a valid name")]
    Name(String),
    /// A field could not be encoded (or a given DER value decoded).
    #[error("could not encode the certificate")]
    Der(#[source] der::Error),
    /// The builder refused the certificate.
    #[error("could not build the certificate")]
    Build(#[source] x509_cert::builder::Error),
}

/// A self-signed X.509 v3 certificate (DER) for `key`, named `CN=<name>`,
/// valid from `not_before` to `not_after`. It carries the key where a
/// format requires a certificate (Sigstore bundles v0.3 as parsed by some
/// clients); it asserts no identity and chains to nothing. The serial is
/// derived from the key and `not_before`, so it is deterministic per key.
///
/// # Errors
/// [`IssueError::Name`] for a name that is not a valid common name,
/// [`IssueError::Build`] when encoding fails.
pub fn self_signed_certificate(
    key: &SigningKey,
    name: &str,
    not_before: Timestamp,
    not_after: Timestamp,
) -> Result<Vec<u8>, IssueError> {
    let subject =
        Name::from_str(&format!("CN={name}")).map_err(|_| IssueError::Name(name.to_owned()))?;
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
) -> Result<Vec<u8>, IssueError> {
    let spki = SubjectPublicKeyInfoOwned::from_der(subject_spki).map_err(IssueError::Der)?;
    let digest = <sha2::Sha256 as sha2::Digest>::digest(seed);
    let mut serial = [0u8; 16];
    serial.copy_from_slice(&digest[..16]);
    serial[0] = (serial[0] & 0x7f) | 0x01;
    let serial = SerialNumber::new(&serial).map_err(IssueError::Der)?;
    let validity = Validity::new(time(not_before)?, time(not_after)?);
    let builder =
        CertificateBuilder::new(profile, serial, validity, spki).map_err(IssueError::Build)?;
    let cert = builder
        .build::<_, RawSignature>(&CertSigner(key))
        .map_err(IssueError::Build)?;
    cert.to_der().map_err(IssueError::Der)
}

fn time(t: Timestamp) -> Result<Time, IssueError> {
    let unix =
        u64::try_from(t.unix()).map_err(|_| IssueError::Der(der::ErrorKind::DateTime.into()))?;
    Time::try_from(std::time::UNIX_EPOCH + Duration::from_secs(unix)).map_err(IssueError::Der)
}

/// A certificate for the key `subject_spki` (DER) named `subject`, issued
/// by `issuer_key` under the name `issuer`, with `extensions`, valid from
/// `not_before` to `not_after` (tests build whole PKIs with it).
///
/// # Errors
/// [`IssueError`] when a name or the encoding is refused.
#[doc(hidden)]
pub fn issue_certificate(
    issuer_key: &SigningKey,
    issuer: &str,
    subject_spki: &[u8],
    subject: &str,
    not_before: Timestamp,
    not_after: Timestamp,
    extensions: Vec<Extension>,
) -> Result<Vec<u8>, IssueError> {
    // An empty name is the empty RDN sequence (a Fulcio leaf's subject).
    let name = |n: &str| match n {
        "" => Ok(Name::default()),
        n => Name::from_str(n).map_err(|_| IssueError::Name(n.to_owned())),
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
    use attest_rekor::x509::certificate_public_key;
    use x509_cert::Certificate;

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
}
