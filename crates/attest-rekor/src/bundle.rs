//! Sigstore bundles (v0.1, v0.2, v0.3): the protobuf JSON mapping, where
//! int64 values are decimal strings and bytes are standard base64.

use attest_dsse::Envelope;

use crate::reason::FieldProblem;
use base64ct::{Base64, Encoding};
use serde::{Deserialize, Serialize};

/// Media types this crate reads.
pub const MEDIA_TYPES: &[&str] = &[
    "application/vnd.dev.sigstore.bundle+json;version=0.1",
    "application/vnd.dev.sigstore.bundle+json;version=0.2",
    "application/vnd.dev.sigstore.bundle+json;version=0.3",
    "application/vnd.dev.sigstore.bundle.v0.3+json",
];

/// The media type of bundles this crate writes.
pub const MEDIA_TYPE_V03: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";

/// Why a bundle could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    /// Not bundle JSON.
    #[error("not a Sigstore bundle")]
    Json(#[source] serde_json::Error),
    /// A media type this crate does not read.
    #[error("unsupported bundle media type {0:?}")]
    MediaType(String),
    /// Neither or both of `dsseEnvelope` and `messageSignature`.
    #[error("a bundle carries exactly one of dsseEnvelope and messageSignature")]
    Content,
    /// A field with a malformed value.
    #[error("bundle field {field}: {reason}")]
    Field {
        /// The field.
        field: &'static str,
        /// What is wrong.
        #[source]
        reason: FieldProblem,
    },
}

/// A bundle.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Bundle {
    /// The bundle media type.
    pub media_type: String,
    /// Keys, certificates and log entries.
    pub verification_material: VerificationMaterial,
    /// A DSSE envelope, kept as the exact JSON text and parsed strictly on
    /// use (duplicate members survive to be rejected).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dsse_envelope: Option<Box<serde_json::value::RawValue>>,
    /// A signature over a message digest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_signature: Option<MessageSignature>,
}

/// How the signer is identified, and the log evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct VerificationMaterial {
    /// A key hint (the key comes from the verifier's trust material).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<PublicKeyHint>,
    /// The signing certificate (v0.3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<RawBytes>,
    /// A certificate chain, leaf first (v0.1, v0.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x509_certificate_chain: Option<CertificateChain>,
    /// Transparency-log entries.
    #[serde(default)]
    pub tlog_entries: Vec<TlogEntry>,
    /// RFC 3161 timestamps (not verified by this crate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp_verification_data: Option<serde_json::Value>,
}

impl VerificationMaterial {
    /// Log entries with a public-key hint (the key comes from the
    /// verifier's trust material).
    #[must_use]
    pub fn with_key_hint(hint: impl Into<String>, tlog_entries: Vec<TlogEntry>) -> Self {
        Self {
            public_key: Some(PublicKeyHint { hint: hint.into() }),
            certificate: None,
            x509_certificate_chain: None,
            tlog_entries,
            timestamp_verification_data: None,
        }
    }

    /// Log entries with the signer's certificate (DER).
    #[must_use]
    pub fn with_certificate(der: &[u8], tlog_entries: Vec<TlogEntry>) -> Self {
        Self {
            public_key: None,
            certificate: Some(RawBytes {
                raw_bytes: Base64::encode_string(der),
            }),
            x509_certificate_chain: None,
            tlog_entries,
            timestamp_verification_data: None,
        }
    }
}

impl VerificationMaterial {
    /// The same material with these RFC 3161 timestamp responses (DER, as
    /// the TSA sent them) in `timestampVerificationData`.
    #[must_use]
    pub fn with_rfc3161_timestamps(mut self, responses: &[Vec<u8>]) -> Self {
        let list: Vec<serde_json::Value> = responses
            .iter()
            .map(|r| serde_json::json!({ "signedTimestamp": Base64::encode_string(r) }))
            .collect();
        self.timestamp_verification_data = Some(serde_json::json!({ "rfc3161Timestamps": list }));
        self
    }
}

/// `{"hint": …}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicKeyHint {
    /// The hint.
    #[serde(default)]
    pub hint: String,
}

/// `{"rawBytes": base64}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawBytes {
    /// Base64 DER.
    pub raw_bytes: String,
}

/// `{"certificates": [{"rawBytes": …}]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateChain {
    /// Leaf first.
    pub certificates: Vec<RawBytes>,
}

/// A signature over a message digest (`hashedrekord` entries).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageSignature {
    /// The digest that was signed. Optional in the protobuf (sigstore-python
    /// leaves it out): when absent, the artifact the caller names supplies
    /// it, and the logged body must match that.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_digest: Option<MessageDigest>,
    /// Base64 signature.
    pub signature: String,
}

/// `{"algorithm": "SHA2_256", "digest": base64}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageDigest {
    /// Algorithm name.
    pub algorithm: String,
    /// Base64 digest.
    pub digest: String,
}

/// One transparency-log entry of a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TlogEntry {
    /// Global log index (decimal string; absent, read as `""`, is 0 as in
    /// protobuf).
    #[serde(default)]
    pub log_index: String,
    /// `{"keyId": base64}`: the log id.
    pub log_id: LogIdField,
    /// `{"kind", "version"}` of the body.
    pub kind_version: KindVersion,
    /// Unix seconds (decimal string); absent for Rekor v2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integrated_time: Option<String>,
    /// The signed entry timestamp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inclusion_promise: Option<InclusionPromise>,
    /// The inclusion proof and checkpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inclusion_proof: Option<InclusionProof>,
    /// Base64 of the canonical body, the exact bytes the leaf hash covers.
    pub canonicalized_body: String,
}

/// `{"keyId": base64}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogIdField {
    /// Base64 of the 32-byte log id.
    pub key_id: String,
}

/// `{"kind", "version"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindVersion {
    /// Entry kind (`dsse`, `hashedrekord`, `intoto`).
    pub kind: String,
    /// Kind version (`0.0.1`, `0.0.2`).
    pub version: String,
}

/// `{"signedEntryTimestamp": base64}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InclusionPromise {
    /// Base64 DER ECDSA signature by the log.
    pub signed_entry_timestamp: String,
}

/// An inclusion proof with the checkpoint it is bound to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InclusionProof {
    /// Shard-local index (decimal string; absent = 0).
    #[serde(default)]
    pub log_index: String,
    /// Base64 root hash.
    pub root_hash: String,
    /// Tree size (decimal string; absent = 0).
    #[serde(default)]
    pub tree_size: String,
    /// Base64 proof hashes, leaf side first.
    #[serde(default)]
    pub hashes: Vec<String>,
    /// `{"envelope": signed note}` (absent = empty, which fails).
    #[serde(default)]
    pub checkpoint: CheckpointEnvelope,
}

/// `{"envelope": …}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointEnvelope {
    /// The signed note text.
    pub envelope: String,
}

impl Bundle {
    /// A bundle v0.3 of a DSSE envelope (its exact JSON text) with this
    /// verification material.
    ///
    /// # Errors
    /// [`BundleError::Json`] when `envelope_json` is not JSON.
    pub fn v03_dsse(
        verification_material: VerificationMaterial,
        envelope_json: &[u8],
    ) -> Result<Self, BundleError> {
        let raw: Box<serde_json::value::RawValue> =
            serde_json::from_slice(envelope_json).map_err(BundleError::Json)?;
        Ok(Self {
            media_type: MEDIA_TYPE_V03.to_owned(),
            verification_material,
            dsse_envelope: Some(raw),
            message_signature: None,
        })
    }

    /// A bundle v0.3 of a signature over the artifact whose SHA-256 is
    /// `digest`, with this verification material.
    #[must_use]
    pub fn v03_message(
        verification_material: VerificationMaterial,
        digest: &[u8; 32],
        signature: &[u8],
    ) -> Self {
        Self {
            media_type: MEDIA_TYPE_V03.to_owned(),
            verification_material,
            dsse_envelope: None,
            message_signature: Some(MessageSignature {
                message_digest: Some(MessageDigest {
                    algorithm: "SHA2_256".to_owned(),
                    digest: Base64::encode_string(digest),
                }),
                signature: Base64::encode_string(signature),
            }),
        }
    }

    /// Parses bundle JSON and checks its media type and content.
    ///
    /// # Errors
    /// [`BundleError`].
    pub fn from_json(bytes: &[u8]) -> Result<Self, BundleError> {
        let b: Self = serde_json::from_slice(bytes).map_err(BundleError::Json)?;
        if !MEDIA_TYPES.contains(&b.media_type.as_str()) {
            return Err(BundleError::MediaType(b.media_type));
        }
        if b.dsse_envelope.is_some() == b.message_signature.is_some() {
            return Err(BundleError::Content);
        }
        Ok(b)
    }

    /// The bundle as JSON.
    #[must_use]
    #[allow(clippy::expect_used)] // plain data with string keys: cannot fail
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a bundle serializes")
    }

    /// The bundle format's minor version: 1, 2 or 3 (media types are
    /// checked on parsing; an unknown one reads as 0).
    #[must_use]
    pub fn minor_version(&self) -> u8 {
        match self.media_type.as_str() {
            "application/vnd.dev.sigstore.bundle+json;version=0.1" => 1,
            "application/vnd.dev.sigstore.bundle+json;version=0.2" => 2,
            "application/vnd.dev.sigstore.bundle+json;version=0.3"
            | "application/vnd.dev.sigstore.bundle.v0.3+json" => 3,
            _ => 0,
        }
    }

    /// The DSSE envelope, parsed strictly.
    ///
    /// # Errors
    /// [`BundleError::Field`] when it is not a valid envelope.
    pub fn envelope(&self) -> Result<Option<Envelope>, BundleError> {
        self.dsse_envelope
            .as_ref()
            .map(|v| {
                Envelope::from_json(v.get().as_bytes()).map_err(|e| BundleError::Field {
                    field: "dsseEnvelope",
                    reason: FieldProblem::Envelope(std::sync::Arc::new(e)),
                })
            })
            .transpose()
    }

    /// DER of the signing certificate (v0.3 `certificate`, or the leaf of a
    /// v0.1/v0.2 chain), if any.
    ///
    /// # Errors
    /// [`BundleError::Field`] when it is not base64.
    pub fn certificate_der(&self) -> Result<Option<Vec<u8>>, BundleError> {
        let vm = &self.verification_material;
        let raw = vm.certificate.as_ref().or_else(|| {
            vm.x509_certificate_chain
                .as_ref()
                .and_then(|c| c.certificates.first())
        });
        raw.map(|r| b64("certificate", &r.raw_bytes)).transpose()
    }
}

impl Bundle {
    /// The bundle's certificates (DER): v0.3's one `certificate`, or every
    /// certificate of v0.1/v0.2's `x509CertificateChain` (leaf first; the
    /// list may be empty). `None` for a public-key bundle.
    ///
    /// # Errors
    /// [`BundleError::Field`] when one is not base64.
    pub fn certificate_chain_der(&self) -> Result<Option<Vec<Vec<u8>>>, BundleError> {
        let vm = &self.verification_material;
        if let Some(c) = &vm.certificate {
            return Ok(Some(vec![b64("certificate", &c.raw_bytes)?]));
        }
        vm.x509_certificate_chain
            .as_ref()
            .map(|c| {
                c.certificates
                    .iter()
                    .map(|r| b64("x509CertificateChain", &r.raw_bytes))
                    .collect()
            })
            .transpose()
    }

    /// The RFC 3161 timestamp tokens (DER) of
    /// `timestampVerificationData.rfc3161Timestamps[].signedTimestamp`.
    ///
    /// # Errors
    /// [`BundleError::Field`] when the list or a token is malformed.
    pub fn rfc3161_timestamps(&self) -> Result<Vec<Vec<u8>>, BundleError> {
        let bad = |reason| BundleError::Field {
            field: "rfc3161Timestamps",
            reason,
        };
        let Some(tvd) = &self.verification_material.timestamp_verification_data else {
            return Ok(Vec::new());
        };
        let Some(list) = tvd.get("rfc3161Timestamps") else {
            return Ok(Vec::new());
        };
        let list = list
            .as_array()
            .ok_or_else(|| bad(FieldProblem::NotBase64))?;
        list.iter()
            .map(|t| {
                let s = t
                    .get("signedTimestamp")
                    .and_then(serde_json::Value::as_str)
                    .ok_or_else(|| bad(FieldProblem::NotBase64))?;
                b64("rfc3161Timestamps", s)
            })
            .collect()
    }
}

pub(crate) fn b64(field: &'static str, s: &str) -> Result<Vec<u8>, BundleError> {
    crate::b64::decode(s).map_err(|_| BundleError::Field {
        field,
        reason: FieldProblem::NotBase64,
    })
}

/// A protobuf int64/uint64 field: absent (read as `""`) is 0.
pub(crate) fn int0(field: &'static str, s: &str) -> Result<u64, BundleError> {
    if s.is_empty() { Ok(0) } else { int(field, s) }
}

pub(crate) fn int(field: &'static str, s: &str) -> Result<u64, BundleError> {
    if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0'))
    {
        return Err(BundleError::Field {
            field,
            reason: FieldProblem::NotDecimal(s.to_owned()),
        });
    }
    s.parse().map_err(|_| BundleError::Field {
        field,
        reason: FieldProblem::TooLarge(s.to_owned()),
    })
}
