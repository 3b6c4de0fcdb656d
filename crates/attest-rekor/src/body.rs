//! Rekor entry bodies: what the log stores for each entry kind.

use base64ct::{Base64, Encoding};
use serde::{Deserialize, Serialize};

/// A decoded entry body. Parse it from the exact canonical bytes; hash those
/// bytes, never a re-serialization.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EntryBody {
    /// `dsse` 0.0.1.
    DsseV001(DsseV001),
    /// `hashedrekord` 0.0.1.
    HashedRekordV001(HashedRekordV001),
    /// `intoto` 0.0.2 (read only).
    IntotoV002(IntotoV002),
    /// `hashedrekord` 0.0.2 (Rekor v2).
    HashedRekordV002(HashedRekordV002),
}

/// Why a body could not be read.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum BodyError {
    /// Not JSON of a known kind's shape.
    #[error("entry body is not a valid {kind} {version} body")]
    Malformed {
        /// Kind.
        kind: String,
        /// Version.
        version: String,
        /// The JSON error.
        #[source]
        source: std::sync::Arc<serde_json::Error>,
    },
    /// A kind or version this crate does not read.
    #[error("unsupported entry kind {kind} {version}")]
    Unsupported {
        /// Kind.
        kind: String,
        /// Version.
        version: String,
    },
}

/// `{"algorithm": "sha256", "value": hex}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HashValue {
    /// Algorithm.
    pub algorithm: String,
    /// Lowercase hex.
    pub value: String,
}

/// `dsse` 0.0.1 stored body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DsseV001 {
    /// Hash of the envelope JSON as submitted.
    pub envelope_hash: HashValue,
    /// Hash of the decoded payload.
    pub payload_hash: HashValue,
    /// Signatures with the keys or certificates that verified them.
    pub signatures: Vec<DsseSignature>,
}

/// One `dsse` signature record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DsseSignature {
    /// Base64 signature.
    pub signature: String,
    /// Base64 of the PEM public key or certificate.
    pub verifier: String,
}

/// `hashedrekord` 0.0.1 stored body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HashedRekordV001 {
    /// `{"hash": {algorithm, value}}`.
    pub data: HashedData,
    /// The signature and its key.
    pub signature: HashedSignature,
}

/// `{"hash": …}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HashedData {
    /// The signed digest.
    pub hash: HashValue,
}

/// `{"content": base64, "publicKey": {"content": base64 PEM}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HashedSignature {
    /// Base64 signature.
    pub content: String,
    /// `{"content": base64 PEM}`.
    pub public_key: ContentField,
}

/// `{"content": …}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentField {
    /// Base64 content.
    pub content: String,
}

/// `intoto` 0.0.2 stored body (signatures and key are double base64).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct IntotoV002 {
    /// `{"envelope": {payloadType, signatures}, "hash", "payloadHash"}`.
    pub content: IntotoContent,
}

/// The `content` of an `intoto` 0.0.2 body.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IntotoContent {
    /// The envelope without its payload.
    pub envelope: IntotoEnvelope,
    /// Client-supplied, unchecked by the log: not relied upon.
    #[serde(default)]
    pub hash: Option<HashValue>,
    /// SHA-256 of the payload.
    pub payload_hash: HashValue,
}

/// The stored envelope of an `intoto` 0.0.2 entry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IntotoEnvelope {
    /// Payload type.
    pub payload_type: String,
    /// Signatures.
    pub signatures: Vec<IntotoSignature>,
}

/// One `intoto` 0.0.2 signature: `sig` is base64 of the base64 signature,
/// `publicKey` base64 of the PEM.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IntotoSignature {
    /// Double-base64 signature.
    pub sig: String,
    /// Base64 PEM.
    pub public_key: String,
}

/// `hashedrekord` 0.0.2 (Rekor v2) body.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HashedRekordV002 {
    /// Digest and signature.
    pub hashed_rekord_v0_0_2: HashedRekordV002Inner,
}

/// The inner record of a `hashedrekord` 0.0.2 body.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct HashedRekordV002Inner {
    /// `{"algorithm": "SHA2_256", "digest": base64}`.
    pub data: crate::bundle::MessageDigest,
    /// `{"content": base64, "verifier": …}`.
    pub signature: V2Signature,
}

/// Rekor v2 signature record.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct V2Signature {
    /// Base64 signature.
    pub content: String,
    /// The key or certificate the log verified the signature with.
    #[serde(default)]
    pub verifier: Option<V2Verifier>,
}

/// `{"publicKey": {"rawBytes"}} | {"x509Certificate": {"rawBytes"}}` and
/// `keyDetails`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct V2Verifier {
    /// Base64 DER SubjectPublicKeyInfo.
    #[serde(default)]
    pub public_key: Option<crate::bundle::RawBytes>,
    /// Base64 DER certificate.
    #[serde(default)]
    pub x509_certificate: Option<crate::bundle::RawBytes>,
    /// The algorithm (`PKIX_ECDSA_P256_SHA_256`, `PKIX_ED25519`, …).
    #[serde(default)]
    pub key_details: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    kind: String,
    api_version: String,
    spec: serde_json::Value,
}

impl EntryBody {
    /// Decodes canonical body bytes.
    ///
    /// # Errors
    /// [`BodyError`].
    pub fn parse(bytes: &[u8]) -> Result<Self, BodyError> {
        let e: Envelope = serde_json::from_slice(bytes).map_err(|err| BodyError::Malformed {
            kind: "?".into(),
            version: "?".into(),
            source: std::sync::Arc::new(err),
        })?;
        let bad = |err: serde_json::Error| BodyError::Malformed {
            kind: e.kind.clone(),
            version: e.api_version.clone(),
            source: std::sync::Arc::new(err),
        };
        match (e.kind.as_str(), e.api_version.as_str()) {
            ("dsse", "0.0.1") => serde_json::from_value(e.spec.clone())
                .map(Self::DsseV001)
                .map_err(bad),
            ("hashedrekord", "0.0.1") => serde_json::from_value(e.spec.clone())
                .map(Self::HashedRekordV001)
                .map_err(bad),
            ("intoto", "0.0.2") => serde_json::from_value(e.spec.clone())
                .map(Self::IntotoV002)
                .map_err(bad),
            ("hashedrekord", "0.0.2") => serde_json::from_value(e.spec.clone())
                .map(Self::HashedRekordV002)
                .map_err(bad),
            (k, v) => Err(BodyError::Unsupported {
                kind: k.to_owned(),
                version: v.to_owned(),
            }),
        }
    }

    /// `(kind, version)` of the body.
    #[must_use]
    pub const fn kind_version(&self) -> (&'static str, &'static str) {
        match self {
            Self::DsseV001(_) => ("dsse", "0.0.1"),
            Self::HashedRekordV001(_) => ("hashedrekord", "0.0.1"),
            Self::IntotoV002(_) => ("intoto", "0.0.2"),
            Self::HashedRekordV002(_) => ("hashedrekord", "0.0.2"),
        }
    }
}

/// Builds the canonical `dsse` 0.0.1 body Rekor stores for an envelope and
/// the PEM verifiers (public keys or certificates) of its signatures: RFC 8785
/// JSON, signatures sorted by their base64 text.
///
/// # Errors
/// A serialization error (not expected for these types).
pub fn dsse_v001_body(
    envelope_hash_hex: &str,
    payload_hash_hex: &str,
    signatures: &[(Vec<u8>, String)],
) -> Result<Vec<u8>, serde_json::Error> {
    let mut sigs: Vec<DsseSignature> = signatures
        .iter()
        .map(|(sig, pem)| DsseSignature {
            signature: Base64::encode_string(sig),
            verifier: Base64::encode_string(pem.as_bytes()),
        })
        .collect();
    sigs.sort_by(|a, b| a.signature.cmp(&b.signature));
    let body = serde_json::json!({
        "apiVersion": "0.0.1",
        "kind": "dsse",
        "spec": DsseV001 {
            envelope_hash: HashValue { algorithm: "sha256".into(), value: envelope_hash_hex.into() },
            payload_hash: HashValue { algorithm: "sha256".into(), value: payload_hash_hex.into() },
            signatures: sigs,
        },
    });
    serde_jcs::to_vec(&body)
}

/// Builds the canonical `hashedrekord` 0.0.1 body Rekor stores for a
/// SHA-256 digest, a signature over it and the signer's PEM public key (or
/// certificate) as base64 — RFC 8785 JSON.
///
/// # Errors
/// A serialization error (not expected for these types).
pub fn hashedrekord_v001_body(
    digest: &[u8; 32],
    signature: &[u8],
    public_key_pem_b64: &str,
) -> Result<Vec<u8>, serde_json::Error> {
    let body = serde_json::json!({
        "apiVersion": "0.0.1",
        "kind": "hashedrekord",
        "spec": {
            "data": { "hash": { "algorithm": "sha256", "value": base16ct::lower::encode_string(digest) } },
            "signature": {
                "content": Base64::encode_string(signature),
                "publicKey": { "content": public_key_pem_b64 },
            },
        },
    });
    serde_jcs::to_vec(&body)
}
