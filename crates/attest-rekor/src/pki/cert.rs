//! Parsed certificates, their keys, and signature verification by algorithm.

#[allow(clippy::wildcard_imports)]
use super::*;

/// A parsed certificate with its TBS bytes as received.
#[derive(Clone)]
pub(crate) struct Cert {
    pub(crate) der: Vec<u8>,
    pub(crate) cert: Certificate,
    pub(super) tbs: Vec<u8>,
    pub(super) spki: Vec<u8>,
    /// The key, parsed on first use and kept: a trusted authority's key
    /// then keeps its precomputed verification tables across bundles.
    pub(super) key: KeyCache,
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
        let malformed = PkiError::Der;
        let cert = Certificate::from_der(der).map_err(malformed)?;
        // The outer SEQUENCE's first element, as received (a strict DER
        // parse above means it is the canonical encoding).
        let parts: Vec<Any> = Vec::from_der(der).map_err(malformed)?;
        let tbs = parts
            .first()
            .ok_or(PkiError::Malformed("no TBS"))?
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

    pub(super) fn tbs(&self) -> &x509_cert::TbsCertificate {
        self.cert.tbs_certificate()
    }

    pub(crate) fn not_before(&self) -> Timestamp {
        secs(self.tbs().validity().not_before.to_unix_duration())
    }

    pub(crate) fn not_after(&self) -> Timestamp {
        secs(self.tbs().validity().not_after.to_unix_duration())
    }

    pub(super) fn valid_at(&self, at: Timestamp) -> bool {
        self.not_before() <= at && at <= self.not_after()
    }

    /// Subject equals issuer and the key verifies its own signature.
    pub(crate) fn self_signed(&self) -> bool {
        self.tbs().subject() == self.tbs().issuer() && verify_cert_signature(self, self).is_ok()
    }

    /// The public key (for signature verification by this crate's keys).
    pub(crate) fn public_key(&self) -> Result<PublicKey, PkiError> {
        PublicKey::from_spki_der(&self.spki).map_err(PkiError::PublicKey)
    }

    pub(super) fn extension<T>(&self, role: Role) -> Result<Option<(bool, T)>, PkiError>
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

pub(super) fn secs(d: std::time::Duration) -> Timestamp {
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

pub(super) fn verify_cert_signature(cert: &Cert, issuer: &Cert) -> Result<(), SigProblem> {
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
