//! An offline stand-in for Fulcio and its CT log, for tests and local
//! setups: a certificate authority (ECDSA P-256 root) that issues
//! short-lived code-signing certificates in the Sigstore profile — empty
//! subject, the identity as a critical subjectAltName, the OIDC issuer in
//! extensions `1.3.6.1.4.1.57264.1.1` (raw) and `.1.8` (UTF8String) — each
//! carrying one SCT from its own CT log key, signed over the
//! precertificate exactly as RFC 6962 §3.2 defines it.
//!
//! **It authenticates nobody**: whoever calls [`TestFulcio::issue`] gets a
//! certificate for any identity. Trust it only in a trusted root made for
//! tests ([`TestFulcio::trusted_root_entries`]), never beside a real one.
//!
//! Written here because no crate issues SCT-bearing certificates: the
//! certificates themselves are built with `x509-cert`.

use attest_dsse::{Algorithm, PublicKey, SigningKey, Timestamp};
use der::asn1::{Ia5String, OctetString, Utf8StringRef};
use der::{Decode, Encode};
use sha2::{Digest, Sha256};
use x509_cert::Certificate;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, ExtendedKeyUsage, KeyUsage, KeyUsages, SubjectAltName,
    SubjectKeyIdentifier,
};

use attest_rekor::pki::{Authorities, CertificateAuthority, CtLog, oid};

use crate::tsa::{ext, root_extensions};
use crate::x509::IssueError;

/// Why a certificate could not be issued.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FulcioError {
    /// A key is not ECDSA P-256 (the root and the CT log key must be).
    #[error("the test CA's keys must be ECDSA P-256")]
    KeyType,
    /// The certificate could not be built or read.
    #[error("could not make the certificate")]
    Certificate(#[from] IssueError),
    /// The root certificate is not the root key's.
    #[error("the root certificate is not the root key's")]
    RootMismatch,
    /// The identity is neither an email address nor a URI.
    #[error("identity {0:?}: expected an email address or a URI")]
    Identity(String),
    /// A field is longer than its TLS length prefix can say.
    #[error("{0} is too long for an SCT")]
    TooLong(&'static str),
    /// The issued certificate does not verify as a Sigstore certificate
    /// with its SCT (a bug, refused rather than returned).
    #[error("the issued certificate does not verify")]
    Sct(#[source] attest_rekor::pki::PkiError),
}

/// An offline Fulcio: a root key and certificate, and a CT log key.
pub struct TestFulcio {
    root_key: SigningKey,
    root_der: Vec<u8>,
    ct_key: SigningKey,
    not_before: Timestamp,
}

impl std::fmt::Debug for TestFulcio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestFulcio")
            .field(
                "ct_log_id",
                &base16ct::lower::encode_string(&self.ct_log_id()),
            )
            .finish_non_exhaustive()
    }
}

fn p256(k: &SigningKey) -> Result<(), FulcioError> {
    if k.public_key().algorithm() == Algorithm::EcdsaP256Sha256 {
        Ok(())
    } else {
        Err(FulcioError::KeyType)
    }
}

/// A key identifier: the first 20 bytes of the SHA-256 of the SPKI.
fn key_identifier(spki: &[u8]) -> Result<OctetString, IssueError> {
    OctetString::new(&Sha256::digest(spki)[..20]).map_err(IssueError::Der)
}

/// The subjectKeyIdentifier extension of a key.
fn subject_key_id(spki: &[u8]) -> Result<Extension, IssueError> {
    ext(
        oid::SUBJECT_KEY_ID,
        false,
        &SubjectKeyIdentifier(key_identifier(spki)?),
    )
}

impl TestFulcio {
    /// A new CA with fresh keys, its root valid from `not_before` for ten
    /// years.
    ///
    /// # Errors
    /// [`FulcioError`].
    pub fn generate(name: &str, not_before: Timestamp) -> Result<Self, FulcioError> {
        let k =
            || SigningKey::generate(Algorithm::EcdsaP256Sha256).map_err(|_| FulcioError::KeyType);
        let (root_key, ct_key) = (k()?, k()?);
        let root_name = format!("CN={name},O=attestlog test CA");
        let until = Timestamp::from_unix(not_before.unix() + 10 * 366 * 86_400);
        let spki = root_key.public_key().spki_der();
        let root_der = crate::x509::issue_certificate(
            &root_key,
            &root_name,
            spki,
            &root_name,
            not_before,
            until,
            [root_extensions()?, vec![subject_key_id(spki)?]].concat(),
        )?;
        Self::new(root_key, root_der, ct_key)
    }

    /// A CA from its keys and root certificate (DER), e.g. as kept on disk.
    ///
    /// # Errors
    /// [`FulcioError`]: keys that are not P-256, or a root that is not the
    /// root key's.
    pub fn new(
        root_key: SigningKey,
        root_der: Vec<u8>,
        ct_key: SigningKey,
    ) -> Result<Self, FulcioError> {
        p256(&root_key)?;
        p256(&ct_key)?;
        let root = Certificate::from_der(&root_der).map_err(IssueError::Der)?;
        let tbs = root.tbs_certificate();
        let spki = tbs
            .subject_public_key_info()
            .to_der()
            .map_err(IssueError::Der)?;
        if spki != root_key.public_key().spki_der() {
            return Err(FulcioError::RootMismatch);
        }
        let not_before = Timestamp::from_unix(
            i64::try_from(tbs.validity().not_before.to_unix_duration().as_secs())
                .unwrap_or(i64::MAX),
        );
        Ok(Self {
            root_key,
            root_der,
            ct_key,
            not_before,
        })
    }

    /// The root certificate (DER).
    #[must_use]
    pub fn root_der(&self) -> &[u8] {
        &self.root_der
    }

    /// The root's signing key.
    #[must_use]
    pub const fn root_key(&self) -> &SigningKey {
        &self.root_key
    }

    /// The CT log's signing key.
    #[must_use]
    pub const fn ct_key(&self) -> &SigningKey {
        &self.ct_key
    }

    /// The CT log's id: SHA-256 of its SubjectPublicKeyInfo (RFC 6962).
    #[must_use]
    pub fn ct_log_id(&self) -> [u8; 32] {
        Sha256::digest(self.ct_key.public_key().spki_der()).into()
    }

    /// A code-signing certificate for `key`, naming `identity` (an email
    /// address, or a URI such as a CI workflow's) and `oidc_issuer`, valid
    /// from `not_before` to `not_after`, with one embedded SCT timestamped
    /// `not_before` (DER).
    ///
    /// # Errors
    /// [`FulcioError`].
    pub fn issue(
        &self,
        key: &PublicKey,
        identity: &str,
        oidc_issuer: &str,
        not_before: Timestamp,
        not_after: Timestamp,
    ) -> Result<Vec<u8>, FulcioError> {
        let bad_identity = || FulcioError::Identity(identity.to_owned());
        let ia5 = |s: &str| Ia5String::new(s).map_err(|_| bad_identity());
        let san = if identity.contains("://") {
            GeneralName::UniformResourceIdentifier(ia5(identity)?)
        } else if identity.contains('@') {
            GeneralName::Rfc822Name(ia5(identity)?)
        } else {
            return Err(bad_identity());
        };
        let root = Certificate::from_der(&self.root_der).map_err(IssueError::Der)?;
        let issuer_name = root.tbs_certificate().subject().to_string();
        let spki = key.spki_der();
        let issuer_v2 = Utf8StringRef::new(oidc_issuer).map_err(IssueError::Der)?;
        let raw_issuer = Extension {
            extn_id: oid::FULCIO_ISSUER_V1,
            critical: false,
            extn_value: OctetString::new(oidc_issuer.as_bytes()).map_err(IssueError::Der)?,
        };
        let mut extensions = vec![
            ext(
                oid::KEY_USAGE,
                true,
                &KeyUsage(KeyUsages::DigitalSignature.into()),
            )?,
            ext(
                oid::EXT_KEY_USAGE,
                false,
                &ExtendedKeyUsage(vec![oid::CODE_SIGNING]),
            )?,
            subject_key_id(spki)?,
            ext(
                oid::AUTHORITY_KEY_ID,
                false,
                &AuthorityKeyIdentifier {
                    key_identifier: Some(key_identifier(self.root_key.public_key().spki_der())?),
                    authority_cert_issuer: None,
                    authority_cert_serial_number: None,
                },
            )?,
            // The subject is empty: the identity is the (critical) SAN.
            ext(oid::SUBJECT_ALT_NAME, true, &SubjectAltName(vec![san]))?,
            raw_issuer,
            ext(oid::FULCIO_ISSUER_V2, false, &issuer_v2)?,
        ];
        let issue = |extensions: Vec<Extension>| {
            crate::x509::issue_certificate(
                &self.root_key,
                &issuer_name,
                spki,
                "",
                not_before,
                not_after,
                extensions,
            )
        };
        // The precertificate: the same certificate without the SCT list
        // (the builder is deterministic: the same serial and fields).
        let pre = Certificate::from_der(&issue(extensions.clone())?).map_err(IssueError::Der)?;
        let tbs = pre.tbs_certificate().to_der().map_err(IssueError::Der)?;
        let timestamp_ms = u64::try_from(not_before.unix()).unwrap_or(0) * 1000;
        let sct = self.sct(&tbs, timestamp_ms)?;
        let list = sct_list(&sct)?;
        extensions.push(Extension {
            extn_id: oid::SCT_LIST,
            critical: false,
            extn_value: OctetString::new(
                OctetString::new(list)
                    .map_err(IssueError::Der)?
                    .to_der()
                    .map_err(IssueError::Der)?,
            )
            .map_err(IssueError::Der)?,
        });
        let der = issue(extensions)?;
        // What was issued verifies as a verifier checks it: chain, usage,
        // validity and the SCT.
        attest_rekor::pki::verify_certificate(&der, &self.authorities()?, &[not_before])
            .map_err(FulcioError::Sct)?;
        Ok(der)
    }

    /// The SCT (RFC 6962 §3.2, v1, precert entry) over `tbs`.
    fn sct(&self, tbs: &[u8], timestamp_ms: u64) -> Result<Vec<u8>, FulcioError> {
        let too_long = || FulcioError::TooLong("the precertificate");
        let tbs_len = u32::try_from(tbs.len())
            .ok()
            .filter(|n| *n < 1 << 24)
            .ok_or_else(too_long)?;
        let issuer_key_hash = Sha256::digest(self.root_key.public_key().spki_der());
        let mut signed = Vec::with_capacity(tbs.len() + 64);
        signed.extend_from_slice(&[0, 0]); // v1, certificate_timestamp
        signed.extend_from_slice(&timestamp_ms.to_be_bytes());
        signed.extend_from_slice(&1u16.to_be_bytes()); // precert_entry
        signed.extend_from_slice(&issuer_key_hash);
        signed.extend_from_slice(&tbs_len.to_be_bytes()[1..]);
        signed.extend_from_slice(tbs);
        signed.extend_from_slice(&0u16.to_be_bytes()); // no extensions
        let signature = self.ct_key.sign(&signed);
        let sig_len = u16::try_from(signature.len()).map_err(|_| too_long())?;
        let mut sct = Vec::with_capacity(signature.len() + 48);
        sct.push(0); // v1
        sct.extend_from_slice(&self.ct_log_id());
        sct.extend_from_slice(&timestamp_ms.to_be_bytes());
        sct.extend_from_slice(&0u16.to_be_bytes()); // no extensions
        sct.extend_from_slice(&[4, 3]); // sha256, ecdsa
        sct.extend_from_slice(&sig_len.to_be_bytes());
        sct.extend_from_slice(&signature);
        Ok(sct)
    }

    /// This CA and its CT log as a verifier's authorities.
    fn authorities(&self) -> Result<Authorities, FulcioError> {
        let (ca, ct) = self.trusted_root_entries("test-fulcio", "")?;
        let mut a = Authorities::default();
        a.certificate_authorities.push(ca);
        a.ct_logs.push(ct);
        Ok(a)
    }

    fn ct_log(&self) -> CtLog {
        CtLog::new(
            self.ct_log_id(),
            self.ct_key.public_key().spki_der().to_vec(),
            self.not_before,
            None,
        )
    }

    /// This CA and its CT log as a trusted root's certificate authority
    /// named `ca_uri` and CT log at `ct_url`, both valid from the root's
    /// start (add them with
    /// [`TrustedRoot::with_certificate_authority`](attest_rekor::TrustedRoot::with_certificate_authority)
    /// and [`with_ct_log`](attest_rekor::TrustedRoot::with_ct_log)).
    ///
    /// # Errors
    /// [`FulcioError::Sct`] if its own root does not parse (it was checked
    /// when the CA was made).
    pub fn trusted_root_entries(
        &self,
        ca_uri: &str,
        ct_url: &str,
    ) -> Result<(CertificateAuthority, CtLog), FulcioError> {
        let ca = CertificateAuthority::new(
            ca_uri,
            std::slice::from_ref(&self.root_der),
            self.not_before,
            None,
        )
        .map_err(FulcioError::Sct)?;
        Ok((ca, self.ct_log().with_base_url(ct_url)))
    }
}

/// A `SignedCertificateTimestampList` of one SCT (TLS encoding).
fn sct_list(sct: &[u8]) -> Result<Vec<u8>, FulcioError> {
    let too_long = || FulcioError::TooLong("the SCT");
    let one = u16::try_from(sct.len()).map_err(|_| too_long())?;
    let all = one.checked_add(2).ok_or_else(too_long)?;
    let mut out = Vec::with_capacity(sct.len() + 4);
    out.extend_from_slice(&all.to_be_bytes());
    out.extend_from_slice(&one.to_be_bytes());
    out.extend_from_slice(sct);
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use attest_rekor::pki::{IdentityPolicy, Matcher, verify_certificate, verify_identity};

    #[test]
    fn issued_certificates_chain_carry_a_verified_sct_and_name_the_identity() {
        let now = Timestamp::now();
        let ca =
            TestFulcio::generate("test fulcio", Timestamp::from_unix(now.unix() - 60)).unwrap();
        let signer = SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
        let der = ca
            .issue(
                signer.public_key(),
                "dev@example.com",
                "https://oidc.example",
                Timestamp::from_unix(now.unix() - 30),
                Timestamp::from_unix(now.unix() + 600),
            )
            .unwrap();
        assert_eq!(
            attest_rekor::x509::certificate_public_key(&der).unwrap(),
            *signer.public_key()
        );
        let at = [Timestamp::from_unix(now.unix() - 30)];
        verify_certificate(&der, &ca.authorities().unwrap(), &at).unwrap();
        let policy = IdentityPolicy::new(
            Matcher::exact("dev@example.com"),
            Matcher::exact("https://oidc.example"),
        );
        verify_identity(&der, &policy).unwrap();
        let other = IdentityPolicy::new(
            Matcher::exact("eve@example.com"),
            Matcher::exact("https://oidc.example"),
        );
        assert!(verify_identity(&der, &other).is_err());
        // Another CT log's key: the SCT does not verify.
        let rogue = TestFulcio::generate("rogue", Timestamp::from_unix(now.unix() - 60)).unwrap();
        let mut authorities = ca.authorities().unwrap();
        authorities.ct_logs = vec![rogue.ct_log()];
        assert!(verify_certificate(&der, &authorities, &at).is_err());
        // A URI identity; anything else is refused.
        ca.issue(
            signer.public_key(),
            "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main",
            "https://token.actions.githubusercontent.com",
            now,
            now,
        )
        .unwrap();
        assert!(matches!(
            ca.issue(
                signer.public_key(),
                "nobody",
                "https://oidc.example",
                now,
                now
            ),
            Err(FulcioError::Identity(_))
        ));
        // Reloaded from its parts, it is the same CA.
        let again = TestFulcio::new(
            SigningKey::from_pkcs8_pem(&ca.root_key().to_pkcs8_pem().unwrap()).unwrap(),
            ca.root_der().to_vec(),
            SigningKey::from_pkcs8_pem(&ca.ct_key().to_pkcs8_pem().unwrap()).unwrap(),
        )
        .unwrap();
        assert_eq!(again.ct_log_id(), ca.ct_log_id());
        assert!(matches!(
            TestFulcio::new(
                SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap(),
                ca.root_der().to_vec(),
                SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap(),
            ),
            Err(FulcioError::RootMismatch)
        ));
    }
}
