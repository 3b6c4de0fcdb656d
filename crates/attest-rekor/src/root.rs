//! A Sigstore trusted root (`trusted_root.json`) as a type: parsed and
//! validated once, read through accessors, built in code, and written by
//! one serializer — the embedded logs, the timestamp authority and the test
//! CA all write their roots through it.

use attest_dsse::{Algorithm, PublicKey, Timestamp};
use base64ct::{Base64, Encoding};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::pki::{Authorities, CertificateAuthority, CtLog};
use crate::trust::{AuthorityProblem, TlogProblem, TrustRootError};
use crate::{LogApi, LogId, TrustedLog, host_of};

/// A Sigstore trusted root: the transparency logs, certificate authorities,
/// CT logs and timestamp authorities a verifier trusts, each with its
/// validity window.
///
/// [`from_json`](Self::from_json) parses and validates a document once;
/// [`new`](Self::new) and the `with_*` methods build one;
/// [`to_json`](Self::to_json) writes one.
///
/// ```
/// use attest_rekor::{TrustedLog, TrustedRoot};
/// use attest_dsse::{Algorithm, SigningKey, Timestamp};
///
/// let key = SigningKey::generate(Algorithm::EcdsaP256Sha256)?;
/// let log = TrustedLog::rekor_v1("http://127.0.0.1:3000", key.public_key().clone())
///     .valid_between(Some(Timestamp::from_unix(1_700_000_000)), None);
/// let root = TrustedRoot::new().with_log(log);
/// let again = TrustedRoot::from_json(&root.to_json_vec())?;
/// assert_eq!(again.logs(), root.logs());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// A clone shares the authorities (and what they learn on first use: their
/// keys' precomputed tables, the verdicts on their own chains) until one of
/// the two is given more.
#[derive(Debug, Clone, Default)]
pub struct TrustedRoot {
    logs: Vec<TrustedLog>,
    authorities: std::sync::Arc<Authorities>,
}

impl TrustedRoot {
    /// An empty root: it trusts nothing.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses and validates a `trusted_root.json` (media type
    /// [`TRUSTED_ROOT_MEDIA_TYPE`]). Every log key, authority and CT log
    /// needs a `validFor.start`; a window that ends before it starts, a key
    /// or chain that does not parse, a log id that is not 32 bytes is
    /// refused, naming the list and the position.
    ///
    /// # Errors
    /// [`TrustRootError`].
    pub fn from_json(json: &[u8]) -> Result<Self, TrustRootError> {
        let root: RootJson = serde_json::from_slice(json).map_err(TrustRootError::Json)?;
        if root.media_type != TRUSTED_ROOT_MEDIA_TYPE {
            return Err(TrustRootError::MediaType(root.media_type));
        }
        Ok(Self {
            logs: logs_of(root.tlogs)?,
            authorities: authorities_of(
                root.certificate_authorities,
                root.ctlogs,
                root.timestamp_authorities,
            )?
            .into(),
        })
    }

    /// A root trusting `logs` and nothing else (no certificate or
    /// timestamp authorities).
    #[must_use]
    pub fn from_logs(logs: impl IntoIterator<Item = TrustedLog>) -> Self {
        Self {
            logs: logs.into_iter().collect(),
            authorities: std::sync::Arc::default(),
        }
    }

    /// With the transparency log `log` (its `valid_from` is the window's
    /// start when written; `None` is written as the Unix epoch).
    #[must_use]
    pub fn with_log(mut self, log: TrustedLog) -> Self {
        self.logs.push(log);
        self
    }

    /// With the certificate authority `ca` (`certificateAuthorities`).
    #[must_use]
    pub fn with_certificate_authority(mut self, ca: CertificateAuthority) -> Self {
        std::sync::Arc::make_mut(&mut self.authorities)
            .certificate_authorities
            .push(ca);
        self
    }

    /// With the CT log `ct` (`ctlogs`).
    #[must_use]
    pub fn with_ct_log(mut self, ct: CtLog) -> Self {
        std::sync::Arc::make_mut(&mut self.authorities)
            .ct_logs
            .push(ct);
        self
    }

    /// With the timestamp authority `tsa` (`timestampAuthorities`).
    #[must_use]
    pub fn with_timestamp_authority(mut self, tsa: CertificateAuthority) -> Self {
        std::sync::Arc::make_mut(&mut self.authorities)
            .timestamp_authorities
            .push(tsa);
        self
    }

    /// Every authority and CT log of `other` added to this root's.
    #[must_use]
    pub fn with_authorities(mut self, other: Authorities) -> Self {
        if other.is_empty() {
            return self;
        }
        let a = std::sync::Arc::make_mut(&mut self.authorities);
        a.certificate_authorities
            .extend(other.certificate_authorities);
        a.ct_logs.extend(other.ct_logs);
        a.timestamp_authorities.extend(other.timestamp_authorities);
        self
    }

    /// The transparency logs (`tlogs`).
    #[must_use]
    pub fn logs(&self) -> &[TrustedLog] {
        &self.logs
    }

    /// The transparency logs whose base URL is `url` (a trailing `/`
    /// ignored): what a root delivered for many logs vouches for one of
    /// them.
    #[must_use]
    pub fn logs_at(&self, url: &str) -> Vec<TrustedLog> {
        let url = url.trim_end_matches('/');
        self.logs
            .iter()
            .filter(|l| l.base_url.trim_end_matches('/') == url)
            .cloned()
            .collect()
    }

    /// The transparency logs with `name` pinned on each, when given (see
    /// [`TrustedLog::pinned_name`]).
    #[must_use]
    pub fn logs_pinned(&self, name: Option<&str>) -> Vec<TrustedLog> {
        pin_log_name(self.logs.clone(), name)
    }

    /// The certificate side: certificate authorities, CT logs, timestamp
    /// authorities.
    #[must_use]
    pub fn authorities(&self) -> &Authorities {
        &self.authorities
    }

    /// The certificate authorities (`certificateAuthorities`).
    #[must_use]
    pub fn certificate_authorities(&self) -> &[CertificateAuthority] {
        &self.authorities.certificate_authorities
    }

    /// The CT logs (`ctlogs`).
    #[must_use]
    pub fn ct_logs(&self) -> &[CtLog] {
        &self.authorities.ct_logs
    }

    /// The timestamp authorities (`timestampAuthorities`).
    #[must_use]
    pub fn timestamp_authorities(&self) -> &[CertificateAuthority] {
        &self.authorities.timestamp_authorities
    }

    /// The transparency logs, owned.
    #[must_use]
    pub fn into_logs(self) -> Vec<TrustedLog> {
        self.logs
    }

    /// The certificate side, owned.
    #[must_use]
    pub fn into_authorities(self) -> Authorities {
        std::sync::Arc::unwrap_or_clone(self.authorities)
    }

    /// The logs and the authorities, owned.
    #[must_use]
    pub fn into_parts(self) -> (Vec<TrustedLog>, Authorities) {
        (self.logs, std::sync::Arc::unwrap_or_clone(self.authorities))
    }

    /// The root as a `trusted_root.json` document. Keys are written with
    /// their `keyDetails` (`PKIX_ED25519`, `PKIX_ECDSA_P256_SHA_256`, …;
    /// RSA CT keys as `PKIX_RSA_PKCS1V15_<bits>_SHA256`), windows in RFC
    /// 3339. [`from_json`](Self::from_json) reads back the same trust.
    #[must_use]
    pub fn to_json(&self) -> Value {
        let window = |from: Timestamp, until: Option<Timestamp>| match until {
            Some(end) => json!({ "start": from.to_string(), "end": end.to_string() }),
            None => json!({ "start": from.to_string() }),
        };
        let tlogs: Vec<Value> = self
            .logs
            .iter()
            .map(|l| {
                json!({
                    "baseUrl": l.base_url,
                    "hashAlgorithm": "SHA2_256",
                    "publicKey": {
                        "rawBytes": Base64::encode_string(l.key.spki_der()),
                        "keyDetails": key_details(l.key.algorithm()),
                        "validFor": window(l.valid_from.unwrap_or(Timestamp::from_unix(0)), l.valid_until),
                    },
                    "logId": { "keyId": l.log_id.to_base64() },
                })
            })
            .collect();
        let authority = |a: &CertificateAuthority| {
            let certificates: Vec<Value> = a
                .chain_der()
                .map(|d| json!({ "rawBytes": Base64::encode_string(d) }))
                .collect();
            let (organization, common_name) = subject_of(a);
            json!({
                "subject": { "organization": organization, "commonName": common_name },
                "uri": a.uri,
                "certChain": { "certificates": certificates },
                "validFor": window(a.valid_from, a.valid_until),
            })
        };
        let ctlogs: Vec<Value> = self
            .authorities
            .ct_logs
            .iter()
            .map(|c| {
                json!({
                    "baseUrl": c.base_url,
                    "hashAlgorithm": "SHA2_256",
                    "publicKey": {
                        "rawBytes": Base64::encode_string(&c.spki),
                        "keyDetails": ct_key_details(&c.spki),
                        "validFor": window(c.valid_from, c.valid_until),
                    },
                    "logId": { "keyId": Base64::encode_string(&c.log_id) },
                })
            })
            .collect();
        json!({
            "mediaType": TRUSTED_ROOT_MEDIA_TYPE,
            "tlogs": tlogs,
            "certificateAuthorities": self.authorities.certificate_authorities.iter().map(authority).collect::<Vec<_>>(),
            "ctlogs": ctlogs,
            "timestampAuthorities": self.authorities.timestamp_authorities.iter().map(authority).collect::<Vec<_>>(),
        })
    }

    /// [`to_json`](Self::to_json), pretty-printed, with a final newline.
    #[must_use]
    pub fn to_json_vec(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(&self.to_json()).unwrap_or_default();
        out.push(b'\n');
        out
    }
}

/// The organization and common name of an authority's root certificate
/// (its subject's `O` and `CN`; the authority's URI when it has no `CN`),
/// for a trusted root's `subject` (clients read both).
fn subject_of(a: &CertificateAuthority) -> (String, String) {
    let mut organization = String::new();
    let mut common_name = String::new();
    if let Some(root) = a.chain.last() {
        for atv in root.cert.tbs_certificate().subject().iter() {
            let value = || {
                der::asn1::Utf8StringRef::try_from(&atv.value)
                    .map(|s| s.as_str().to_owned())
                    .or_else(|_| {
                        der::asn1::PrintableStringRef::try_from(&atv.value)
                            .map(|s| s.as_str().to_owned())
                    })
                    .ok()
            };
            match atv.oid.to_string().as_str() {
                "2.5.4.10" => organization = value().unwrap_or_default(),
                "2.5.4.3" => common_name = value().unwrap_or_default(),
                _ => {}
            }
        }
    }
    if common_name.is_empty() {
        common_name.clone_from(&a.uri);
    }
    (organization, common_name)
}

/// Serialized as [`TrustedRoot::to_json`] writes it.
impl serde::Serialize for TrustedRoot {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

/// The one route from a log's trust sources to the logs a verifier trusts,
/// for every command and configuration: a pinned `key` (a Rekor v1 log at
/// `url`) is taken before a trusted `root`; the pinned `name`, when given,
/// applies to either. `None` when neither a key nor a root is given.
#[must_use]
pub fn trusted_logs(
    key: Option<PublicKey>,
    root: Option<&TrustedRoot>,
    url: &str,
    name: Option<&str>,
) -> Option<Vec<TrustedLog>> {
    let logs = match (key, root) {
        (Some(key), _) => vec![TrustedLog::rekor_v1(url, key)],
        (None, Some(root)) => root.logs().to_vec(),
        (None, None) => return None,
    };
    Some(pin_log_name(logs, name))
}

/// `logs` with `name` pinned on each, when given.
#[must_use]
pub fn pin_log_name(logs: Vec<TrustedLog>, name: Option<&str>) -> Vec<TrustedLog> {
    match name {
        Some(n) => logs.into_iter().map(|l| l.pinned_name(n)).collect(),
        None => logs,
    }
}

/// A key's `keyDetails` ([`crate::v2::key_details`], the one map from
/// algorithm to name); the protobuf's unspecified value for an algorithm
/// it has no name for.
fn key_details(alg: Algorithm) -> &'static str {
    crate::v2::key_details(alg).unwrap_or("PUBLIC_KEY_DETAILS_UNSPECIFIED")
}

/// A CT log key's `keyDetails`: an ECDSA/Ed25519 key's, or RSA PKCS#1 v1.5
/// with SHA-256 at the key's size.
fn ct_key_details(spki: &[u8]) -> String {
    if let Ok(key) = PublicKey::from_spki_der(spki) {
        return key_details(key.algorithm()).to_owned();
    }
    use rsa::pkcs8::DecodePublicKey;
    use rsa::traits::PublicKeyParts;
    let bits = rsa::PublicKey::from_public_key_der(spki).map_or(2048, |k| k.size() * 8);
    format!("PKIX_RSA_PKCS1V15_{bits}_SHA256")
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RootJson {
    media_type: String,
    #[serde(default)]
    tlogs: Vec<TlogJson>,
    #[serde(default)]
    certificate_authorities: Vec<AuthorityJson>,
    #[serde(default)]
    ctlogs: Vec<CtLogJson>,
    #[serde(default)]
    timestamp_authorities: Vec<AuthorityJson>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AuthorityJson {
    #[serde(default)]
    uri: String,
    cert_chain: CertChainJson,
    #[serde(default)]
    valid_for: Option<ValidForJson>,
}

#[derive(Deserialize)]
struct CertChainJson {
    #[serde(default)]
    certificates: Vec<RawBytesJson>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawBytesJson {
    raw_bytes: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CtLogJson {
    #[serde(default)]
    base_url: String,
    public_key: CtKeyJson,
    log_id: LogIdJson,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CtKeyJson {
    raw_bytes: String,
    #[serde(default)]
    key_details: String,
    #[serde(default)]
    valid_for: Option<ValidForJson>,
}

fn window(v: Option<ValidForJson>) -> Result<(Timestamp, Option<Timestamp>), AuthorityProblem> {
    let v = v.ok_or(AuthorityProblem::NoValidityStart)?;
    let start = v.start.ok_or(AuthorityProblem::NoValidityStart)?;
    if v.end.is_some_and(|end| end < start) {
        return Err(AuthorityProblem::ValidityReversed);
    }
    Ok((start, v.end))
}

/// A CT log key as SubjectPublicKeyInfo DER: PKIX keys are SPKI already;
/// `PKCS1_RSA_PKCS1V5` keys are PKCS#1 `RSAPublicKey` and are wrapped.
fn ct_key_spki(raw: &[u8], details: &str) -> Result<Vec<u8>, AuthorityProblem> {
    use rsa::pkcs1::DecodeRsaPublicKey;
    use rsa::pkcs8::EncodePublicKey;
    let bad = || AuthorityProblem::Key(details.to_owned());
    if details.starts_with("PKCS1_RSA") {
        let key = rsa::PublicKey::from_pkcs1_der(raw).map_err(|_| bad())?;
        return Ok(key.to_public_key_der().map_err(|_| bad())?.into_vec());
    }
    if details.starts_with("PKIX_RSA") {
        use rsa::pkcs8::DecodePublicKey;
        rsa::PublicKey::from_public_key_der(raw).map_err(|_| bad())?;
        return Ok(raw.to_vec());
    }
    PublicKey::from_spki_der(raw).map_err(|_| bad())?;
    Ok(raw.to_vec())
}

/// The certificate side: Fulcio's certificate authorities, the CT logs and
/// the timestamp authorities. Every entry needs a `validFor.start`; a chain
/// that does not parse or a key that is not ECDSA/RSA/Ed25519 is refused.
fn authorities_of(
    certificate_authorities: Vec<AuthorityJson>,
    ctlogs: Vec<CtLogJson>,
    timestamp_authorities: Vec<AuthorityJson>,
) -> Result<Authorities, TrustRootError> {
    let authorities = |list: Vec<AuthorityJson>, kind: &'static str| {
        list.into_iter()
            .enumerate()
            .map(|(index, a)| {
                let err = |problem| TrustRootError::Authority {
                    kind,
                    index,
                    problem,
                };
                let (start, end) = window(a.valid_for).map_err(err)?;
                let chain = a
                    .cert_chain
                    .certificates
                    .iter()
                    .map(|c| crate::b64::decode(&c.raw_bytes))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|_| err(AuthorityProblem::RawBytes))?;
                crate::pki::CertificateAuthority::new(a.uri, &chain, start, end)
                    .map_err(|e| err(AuthorityProblem::Chain(e)))
            })
            .collect::<Result<Vec<_>, _>>()
    };
    let certificate_authorities = authorities(certificate_authorities, "certificateAuthorities")?;
    let timestamp_authorities = authorities(timestamp_authorities, "timestampAuthorities")?;
    let ct_logs = ctlogs
        .into_iter()
        .enumerate()
        .map(|(index, c)| {
            let err = |problem| TrustRootError::Authority {
                kind: "ctlogs",
                index,
                problem,
            };
            let (valid_from, valid_until) = window(c.public_key.valid_for).map_err(err)?;
            let raw = crate::b64::decode(&c.public_key.raw_bytes)
                .map_err(|_| err(AuthorityProblem::RawBytes))?;
            let spki = ct_key_spki(&raw, &c.public_key.key_details).map_err(err)?;
            let log_id: [u8; 32] = crate::b64::decode(&c.log_id.key_id)
                .ok()
                .and_then(|v| v.try_into().ok())
                .ok_or(err(AuthorityProblem::KeyId))?;
            Ok(CtLog::new(log_id, spki, valid_from, valid_until).with_base_url(c.base_url))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Authorities {
        certificate_authorities,
        ct_logs,
        timestamp_authorities,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TlogJson {
    base_url: String,
    public_key: PublicKeyJson,
    log_id: LogIdJson,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PublicKeyJson {
    raw_bytes: String,
    #[serde(default)]
    valid_for: Option<ValidForJson>,
}

#[derive(Deserialize)]
struct ValidForJson {
    start: Option<Timestamp>,
    end: Option<Timestamp>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogIdJson {
    key_id: String,
}

/// The trusted-root media type this crate reads.
pub const TRUSTED_ROOT_MEDIA_TYPE: &str =
    "application/vnd.dev.sigstore.trustedroot+json;version=0.1";

/// The transparency logs. Every log key needs a `validFor.start`. A log
/// whose id is SHA-256 of its key's SPKI is a Rekor v1 log
/// ([`LogApi::V1`]); any other id is a C2SP key id, a Rekor v2 log.
fn logs_of(tlogs: Vec<TlogJson>) -> Result<Vec<TrustedLog>, TrustRootError> {
    tlogs
        .into_iter()
        .enumerate()
        .map(|(index, t)| {
            let err = |problem| TrustRootError::Log { index, problem };
            let spki = crate::b64::decode(&t.public_key.raw_bytes)
                .map_err(|_| err(TlogProblem::RawBytes))?;
            let key = PublicKey::from_spki_der(&spki).map_err(|e| err(TlogProblem::Key(e)))?;
            let log_id =
                LogId::from_base64(&t.log_id.key_id).map_err(|e| err(TlogProblem::KeyId(e)))?;
            let valid = t
                .public_key
                .valid_for
                .ok_or(err(TlogProblem::NoValidityStart))?;
            let start = valid.start.ok_or(err(TlogProblem::NoValidityStart))?;
            if valid.end.is_some_and(|end| end < start) {
                return Err(err(TlogProblem::ValidityReversed));
            }
            let api = if LogId::of_key(&key) == log_id {
                LogApi::V1
            } else {
                LogApi::V2
            };
            Ok(
                TrustedLog::new(log_id, key, host_of(&t.base_url), t.base_url)
                    .with_api(api)
                    .valid_between(Some(start), valid.end),
            )
        })
        .collect()
}
