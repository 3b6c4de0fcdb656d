//! Rekor v1 REST API types. Responses tolerate unknown fields; indices are
//! `u64`; global (`logIndex`) and shard-local (`inclusionProof.logIndex`)
//! indices are separate fields.

use std::collections::BTreeMap;

use base64ct::{Base64, Encoding};
use serde::{Deserialize, Serialize};

use crate::bundle::{CheckpointEnvelope, InclusionPromise, InclusionProof, KindVersion, TlogEntry};
use crate::reason::FieldProblem;
use crate::{EntryBody, EntryId, LogId};

/// Why an API response could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// Not JSON of the expected shape.
    #[error("malformed response")]
    Json(#[source] serde_json::Error),
    /// A log entry response must be an object with exactly one key.
    #[error("a log entry response has {0} entries, expected exactly one")]
    EntryCount(usize),
    /// The key is not an entry id.
    #[error("entry id")]
    EntryId(#[source] crate::EntryIdError),
    /// A field with a malformed value.
    #[error("field {field}: {reason}")]
    Field {
        /// The field.
        field: &'static str,
        /// What is wrong.
        #[source]
        reason: FieldProblem,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogEntryJson {
    body: String,
    integrated_time: i64,
    #[serde(rename = "logID")]
    log_id: String,
    log_index: u64,
    #[serde(default)]
    verification: Option<VerificationJson>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct VerificationJson {
    #[serde(default)]
    signed_entry_timestamp: Option<String>,
    #[serde(default)]
    inclusion_proof: Option<InclusionProofJson>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct InclusionProofJson {
    log_index: u64,
    root_hash: String,
    tree_size: u64,
    #[serde(default)]
    hashes: Vec<String>,
    #[serde(default)]
    checkpoint: Option<String>,
}

/// A log entry as the REST API returns it (`{"<entry id>": {…}}`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LogEntry {
    /// The entry id (the map key).
    pub id: EntryId,
    /// The body exactly as sent: base64 text (what the SET covers).
    pub body_b64: String,
    /// The decoded body bytes (what the leaf hash covers).
    pub body: Vec<u8>,
    /// Unix seconds.
    pub integrated_time: i64,
    /// The log id (`logID`, hex in the REST API).
    pub log_id: LogId,
    /// Global log index.
    pub log_index: u64,
    /// Base64 SET, when present.
    pub signed_entry_timestamp: Option<String>,
    /// The inclusion proof, when present.
    pub inclusion_proof: Option<RestInclusionProof>,
}

/// The REST form of an inclusion proof: hex hashes, shard-local index.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RestInclusionProof {
    /// Shard-local index.
    pub log_index: u64,
    /// Hex root hash.
    pub root_hash: String,
    /// Tree size.
    pub tree_size: u64,
    /// Hex proof hashes.
    pub hashes: Vec<String>,
    /// The signed checkpoint.
    pub checkpoint: Option<String>,
}

impl RestInclusionProof {
    /// A proof at shard-local `log_index` in a tree of `tree_size` with root
    /// `root_hash` (hex), `hashes` (hex) and the signed checkpoint.
    #[must_use]
    pub const fn new(
        log_index: u64,
        root_hash: String,
        tree_size: u64,
        hashes: Vec<String>,
        checkpoint: Option<String>,
    ) -> Self {
        Self {
            log_index,
            root_hash,
            tree_size,
            hashes,
            checkpoint,
        }
    }
}

impl LogEntry {
    /// An entry with its body (the base64 text is derived), without SET
    /// or inclusion proof (see [`with_set`](Self::with_set),
    /// [`with_inclusion_proof`](Self::with_inclusion_proof)).
    #[must_use]
    pub fn new(
        id: EntryId,
        body: Vec<u8>,
        integrated_time: i64,
        log_id: LogId,
        log_index: u64,
    ) -> Self {
        Self {
            id,
            body_b64: Base64::encode_string(&body),
            body,
            integrated_time,
            log_id,
            log_index,
            signed_entry_timestamp: None,
            inclusion_proof: None,
        }
    }

    /// With its signed entry timestamp (base64 DER).
    #[must_use]
    pub fn with_set(mut self, set_b64: impl Into<String>) -> Self {
        self.signed_entry_timestamp = Some(set_b64.into());
        self
    }

    /// With its inclusion proof.
    #[must_use]
    pub fn with_inclusion_proof(mut self, proof: RestInclusionProof) -> Self {
        self.inclusion_proof = Some(proof);
        self
    }

    /// Parses a `GET /api/v1/log/entries/{id}` response (also one element of
    /// a `retrieve` array).
    ///
    /// # Errors
    /// [`ApiError`].
    pub fn from_json(bytes: &[u8]) -> Result<Self, ApiError> {
        let map: BTreeMap<String, LogEntryJson> =
            serde_json::from_slice(bytes).map_err(ApiError::Json)?;
        if map.len() != 1 {
            return Err(ApiError::EntryCount(map.len()));
        }
        let Some((id, e)) = map.into_iter().next() else {
            return Err(ApiError::EntryCount(0));
        };
        let id = EntryId::parse(&id).map_err(ApiError::EntryId)?;
        let body = crate::b64::decode(&e.body).map_err(|_| ApiError::Field {
            field: "body",
            reason: FieldProblem::NotBase64,
        })?;
        let v = e.verification.unwrap_or(VerificationJson {
            signed_entry_timestamp: None,
            inclusion_proof: None,
        });
        Ok(Self {
            id,
            body_b64: e.body,
            body,
            integrated_time: e.integrated_time,
            log_id: LogId::from_hex(&e.log_id).map_err(|e| ApiError::Field {
                field: "logID",
                reason: FieldProblem::NotLogId(e),
            })?,
            log_index: e.log_index,
            signed_entry_timestamp: v.signed_entry_timestamp,
            inclusion_proof: v.inclusion_proof.map(|p| RestInclusionProof {
                log_index: p.log_index,
                root_hash: p.root_hash,
                tree_size: p.tree_size,
                hashes: p.hashes,
                checkpoint: p.checkpoint,
            }),
        })
    }

    /// The response JSON for this entry.
    #[must_use]
    pub fn to_json(&self) -> String {
        let mut map = BTreeMap::new();
        map.insert(
            self.id.to_string(),
            LogEntryJson {
                body: self.body_b64.clone(),
                integrated_time: self.integrated_time,
                log_id: self.log_id.to_hex(),
                log_index: self.log_index,
                verification: Some(VerificationJson {
                    signed_entry_timestamp: self.signed_entry_timestamp.clone(),
                    inclusion_proof: self.inclusion_proof.as_ref().map(|p| InclusionProofJson {
                        log_index: p.log_index,
                        root_hash: p.root_hash.clone(),
                        tree_size: p.tree_size,
                        hashes: p.hashes.clone(),
                        checkpoint: p.checkpoint.clone(),
                    }),
                }),
            },
        );
        // Plain data with string keys: serialization cannot fail.
        #[allow(clippy::expect_used)]
        serde_json::to_string(&map).expect("a log entry serializes")
    }

    /// The same evidence as a bundle's `tlogEntries` element (hex → base64,
    /// numbers → decimal strings), so one verifier serves both forms.
    ///
    /// # Errors
    /// [`ApiError::Field`] for malformed hex, and when the body's kind
    /// cannot be read.
    pub fn to_tlog_entry(&self) -> Result<TlogEntry, ApiError> {
        let hex = |field: &'static str, s: &str| -> Result<String, ApiError> {
            let h = attest_merkle::Hash::from_hex(s).map_err(|e| ApiError::Field {
                field,
                reason: FieldProblem::NotHash(e),
            })?;
            Ok(Base64::encode_string(h.as_bytes()))
        };
        let body = EntryBody::parse(&self.body).map_err(|e| ApiError::Field {
            field: "body",
            reason: FieldProblem::Body(e),
        })?;
        let (kind, version) = body.kind_version();
        Ok(TlogEntry {
            log_index: self.log_index.to_string(),
            log_id: crate::bundle::LogIdField {
                key_id: self.log_id.to_base64(),
            },
            kind_version: KindVersion {
                kind: kind.into(),
                version: version.into(),
            },
            integrated_time: Some(self.integrated_time.to_string()),
            inclusion_promise: self
                .signed_entry_timestamp
                .clone()
                .map(|s| InclusionPromise {
                    signed_entry_timestamp: s,
                }),
            inclusion_proof: self
                .inclusion_proof
                .as_ref()
                .map(|p| {
                    Ok::<_, ApiError>(InclusionProof {
                        log_index: p.log_index.to_string(),
                        root_hash: hex("rootHash", &p.root_hash)?,
                        tree_size: p.tree_size.to_string(),
                        hashes: p
                            .hashes
                            .iter()
                            .map(|h| hex("hashes", h))
                            .collect::<Result<_, _>>()?,
                        checkpoint: CheckpointEnvelope {
                            envelope: p.checkpoint.clone().ok_or(ApiError::Field {
                                field: "inclusionProof.checkpoint",
                                reason: FieldProblem::Missing,
                            })?,
                        },
                    })
                })
                .transpose()?,
            canonicalized_body: self.body_b64.clone(),
        })
    }
}

/// `GET /api/v1/log`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct LogInfo {
    /// Hex root hash of the active shard.
    pub root_hash: String,
    /// Size of the active shard.
    pub tree_size: u64,
    /// The signed checkpoint of the active shard.
    pub signed_tree_head: String,
    /// The active shard's tree id (decimal string).
    #[serde(rename = "treeID")]
    pub tree_id: String,
    /// Earlier, frozen shards.
    #[serde(default)]
    pub inactive_shards: Vec<InactiveShard>,
}

/// A frozen shard in [`LogInfo`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InactiveShard {
    /// Hex root hash.
    pub root_hash: String,
    /// Final size.
    pub tree_size: u64,
    /// Signed checkpoint.
    pub signed_tree_head: String,
    /// Tree id (decimal string).
    #[serde(rename = "treeID")]
    pub tree_id: String,
}

/// `GET /api/v1/log/proof`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsistencyProof {
    /// Hex root hash of the larger tree.
    pub root_hash: String,
    /// Hex proof hashes.
    #[serde(default)]
    pub hashes: Vec<String>,
}

/// The error body `{code, message}`; `code` may differ from the HTTP status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Application error code.
    #[serde(default)]
    pub code: i64,
    /// Message.
    #[serde(default)]
    pub message: String,
}

/// A `POST /api/v1/log/entries` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProposedEntry {
    /// `dsse` or `hashedrekord`.
    pub kind: String,
    /// `0.0.1`.
    pub api_version: String,
    /// The kind's proposed content.
    pub spec: serde_json::Value,
}

impl ProposedEntry {
    /// A `dsse` 0.0.1 proposal: the envelope as a JSON **string** and the
    /// base64 PEM verifiers.
    #[must_use]
    pub fn dsse(envelope_json: &str, verifier_pems: &[String]) -> Self {
        let verifiers: Vec<String> = verifier_pems
            .iter()
            .map(|p| Base64::encode_string(p.as_bytes()))
            .collect();
        Self {
            kind: "dsse".into(),
            api_version: "0.0.1".into(),
            spec: serde_json::json!({ "proposedContent": { "envelope": envelope_json, "verifiers": verifiers } }),
        }
    }

    /// A `hashedrekord` 0.0.1 proposal for a SHA-256 digest.
    #[must_use]
    pub fn hashedrekord(sha256: &[u8; 32], signature: &[u8], public_key_pem: &str) -> Self {
        let hex = base16ct::lower::encode_string(sha256);
        Self {
            kind: "hashedrekord".into(),
            api_version: "0.0.1".into(),
            spec: serde_json::json!({
                "data": { "hash": { "algorithm": "sha256", "value": hex } },
                "signature": {
                    "content": Base64::encode_string(signature),
                    "publicKey": { "content": Base64::encode_string(public_key_pem.as_bytes()) },
                },
            }),
        }
    }
}
