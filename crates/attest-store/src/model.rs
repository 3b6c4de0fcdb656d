//! The plain data that goes in and out of a store, and its validation.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::StoreError;
use crate::error::InvalidInput;

/// A content-derived attestation id: SHA-256 of the envelope's PAE (computed
/// by the caller; the store does not parse envelopes).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AttestationId(pub [u8; 32]);

impl AttestationId {
    /// Parses 64 hex digits.
    ///
    /// # Errors
    /// [`StoreError::InvalidInput`].
    pub fn from_hex(s: &str) -> Result<Self, StoreError> {
        let bytes = decode_hex(s)
            .filter(|b| b.len() == 32)
            .ok_or_else(|| StoreError::invalid(InvalidInput::AttestationId(s.to_owned())))?;
        let mut id = [0u8; 32];
        id.copy_from_slice(&bytes);
        Ok(Self(id))
    }
}

impl fmt::Display for AttestationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&base16ct::lower::encode_string(&self.0))
    }
}

impl fmt::Debug for AttestationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AttestationId({self})")
    }
}

impl Serialize for AttestationId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

pub(crate) fn decode_hex(s: &str) -> Option<Vec<u8>> {
    base16ct::mixed::decode_vec(s).ok()
}

fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
}

/// An attestation to store: the envelope exactly as signed and what it is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct NewAttestation {
    /// Content-derived id (SHA-256 of the PAE).
    pub id: AttestationId,
    /// The tenant owning it (non-empty).
    pub tenant: String,
    /// What it is about, e.g. `repo@sha256:…` or a commit (non-empty).
    pub subject: String,
    /// The in-toto predicate type.
    pub predicate_type: String,
    /// The envelope bytes exactly as signed (never re-serialized).
    #[serde(skip)]
    pub envelope: Vec<u8>,
    /// Ids of the keys that signed it.
    pub signer_key_ids: Vec<String>,
    /// The time the attestation claims (Unix seconds).
    pub claimed_time: i64,
}

/// Which Rekor API a log entry was published through: it decides what the
/// record's fields mean and which evidence it carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum LogApiVersion {
    /// Rekor v1: an 80-hex entry id, a global and a shard index, the log's
    /// integrated time and its SET.
    #[default]
    V1,
    /// Rekor v2 (C2SP tiles): no entry id and no time of the log's own; the
    /// entry is leaf `global_index` (= `shard_index`), named by its 64-hex
    /// leaf hash, and timed by an RFC 3161 timestamp.
    V2,
}

impl LogApiVersion {
    /// The major API version: 1 or 2.
    #[must_use]
    pub const fn number(self) -> u32 {
        match self {
            Self::V1 => 1,
            Self::V2 => 2,
        }
    }

    /// The version with this major number.
    #[must_use]
    pub const fn from_number(n: u32) -> Option<Self> {
        match n {
            1 => Some(Self::V1),
            2 => Some(Self::V2),
            _ => None,
        }
    }
}

/// A transparency-log entry, attached once it has been verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LogEntryRecord {
    /// The Rekor API the entry was published through.
    #[serde(default)]
    pub api: LogApiVersion,
    /// Rekor v1: the entry id, 16 hex tree id + 64 hex leaf hash. Rekor v2
    /// (which has no entry ids): the 64-hex leaf hash. Lowercase.
    pub entry_id: String,
    /// The log's id: lowercase hex of its 32-byte log id.
    pub log_id: String,
    /// Global log index (SET, lookups); v2: the leaf index.
    pub global_index: u64,
    /// Shard-local index (inclusion proof); v2: the leaf index again.
    pub shard_index: u64,
    /// v1: the log's integrated time; v2: the verified RFC 3161
    /// timestamp's genTime (a v2 log keeps no time). Unix seconds.
    pub integrated_time: i64,
    /// Inclusion-proof evidence, opaque to the store (v1: the REST entry
    /// JSON; v2: the `TransparencyLogEntry` JSON).
    #[serde(skip)]
    pub inclusion_proof: Vec<u8>,
    /// Checkpoint evidence, opaque to the store.
    #[serde(skip)]
    pub checkpoint: Vec<u8>,
    /// Signed entry timestamp, opaque to the store (v1 only).
    #[serde(skip)]
    pub set: Vec<u8>,
    /// The RFC 3161 timestamp response over the signature, opaque to the
    /// store (v2; empty for v1).
    #[serde(skip)]
    pub timestamp: Vec<u8>,
}

impl LogEntryRecord {
    /// A log entry's record without evidence blobs (see
    /// [`with_evidence`](Self::with_evidence)); validated when attached.
    #[must_use]
    pub fn new(
        entry_id: impl Into<String>,
        log_id: impl Into<String>,
        global_index: u64,
        shard_index: u64,
        integrated_time: i64,
    ) -> Self {
        Self {
            api: LogApiVersion::V1,
            entry_id: entry_id.into(),
            log_id: log_id.into(),
            global_index,
            shard_index,
            integrated_time,
            inclusion_proof: Vec::new(),
            checkpoint: Vec::new(),
            set: Vec::new(),
            timestamp: Vec::new(),
        }
    }

    /// A Rekor v2 entry's record: its 64-hex leaf hash, the log id, the
    /// leaf index and the verified timestamp's genTime (see
    /// [`with_evidence`](Self::with_evidence) and
    /// [`with_timestamp`](Self::with_timestamp)); validated when attached.
    #[must_use]
    pub fn v2(
        leaf_hash: impl Into<String>,
        log_id: impl Into<String>,
        index: u64,
        timestamp_time: i64,
    ) -> Self {
        Self {
            api: LogApiVersion::V2,
            ..Self::new(leaf_hash, log_id, index, index, timestamp_time)
        }
    }

    /// With the RFC 3161 timestamp response (DER) over the signature.
    #[must_use]
    pub fn with_timestamp(mut self, response: Vec<u8>) -> Self {
        self.timestamp = response;
        self
    }

    /// With the log's evidence: the entry JSON with its inclusion proof, the
    /// checkpoint and the SET.
    #[must_use]
    pub fn with_evidence(
        mut self,
        inclusion_proof: Vec<u8>,
        checkpoint: Vec<u8>,
        set: Vec<u8>,
    ) -> Self {
        self.inclusion_proof = inclusion_proof;
        self.checkpoint = checkpoint;
        self.set = set;
        self
    }

    /// The same entry: equal entry ids (which embed the leaf hash).
    #[must_use]
    pub fn same_entry(&self, other: &Self) -> bool {
        self.entry_id == other.entry_id
    }
}

/// A stored attestation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct AttestationRow {
    /// Insertion sequence number: the pagination key.
    pub seq: u64,
    /// The attestation.
    #[serde(flatten)]
    pub attestation: NewAttestation,
    /// Its log entry, once published and verified.
    pub entry: Option<LogEntryRecord>,
}

/// The last verified checkpoint of one log, as an auditor remembers it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CheckpointRecord {
    /// The log's id.
    pub log_id: String,
    /// Tree size of the checkpoint.
    pub tree_size: u64,
    /// The signed checkpoint (note text and signatures), opaque.
    pub checkpoint: Vec<u8>,
}

/// One page of a tenant's attestations.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Page {
    /// The rows, in insertion order.
    pub rows: Vec<AttestationRow>,
    /// Pass as `after` to get the next page; `None` when this was the last.
    pub next: Option<u64>,
}

/// A page of [`AttestationStore::list_each`](crate::AttestationStore::list_each):
/// each row decoded, or the [`CorruptRow`](crate::CorruptRow) in its place.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PageEach {
    /// The rows, in insertion order.
    pub rows: Vec<Result<AttestationRow, crate::CorruptRow>>,
    /// Pass as `after` to get the next page; `None` when this was the last.
    pub next: Option<u64>,
}

/// Limits a store enforces on input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoreLimits {
    /// Largest envelope accepted, in bytes.
    pub max_envelope_bytes: usize,
    /// Largest evidence blob (proof, checkpoint or SET) accepted, in bytes.
    pub max_evidence_bytes: usize,
}

impl StoreLimits {
    /// Sets the largest envelope accepted, in bytes.
    #[must_use]
    pub const fn with_max_envelope_bytes(mut self, n: usize) -> Self {
        self.max_envelope_bytes = n;
        self
    }

    /// Sets the largest evidence blob accepted, in bytes.
    #[must_use]
    pub const fn with_max_evidence_bytes(mut self, n: usize) -> Self {
        self.max_evidence_bytes = n;
        self
    }
}

impl Default for StoreLimits {
    /// 4 MiB envelopes, 1 MiB evidence blobs.
    fn default() -> Self {
        Self {
            max_envelope_bytes: 4 << 20,
            max_evidence_bytes: 1 << 20,
        }
    }
}

impl NewAttestation {
    /// An attestation to store (validated when it is put).
    #[must_use]
    pub fn new(
        id: AttestationId,
        tenant: impl Into<String>,
        subject: impl Into<String>,
        predicate_type: impl Into<String>,
        envelope: Vec<u8>,
        signer_key_ids: Vec<String>,
        claimed_time: i64,
    ) -> Self {
        Self {
            id,
            tenant: tenant.into(),
            subject: subject.into(),
            predicate_type: predicate_type.into(),
            envelope,
            signer_key_ids,
            claimed_time,
        }
    }

    pub(crate) fn validate(&self, limits: &StoreLimits) -> Result<(), StoreError> {
        if self.tenant.is_empty() {
            return Err(StoreError::invalid(InvalidInput::EmptyTenant));
        }
        if self.subject.is_empty() {
            return Err(StoreError::invalid(InvalidInput::EmptySubject));
        }
        if self.envelope.is_empty() {
            return Err(StoreError::invalid(InvalidInput::EmptyEnvelope));
        }
        if self.envelope.len() > limits.max_envelope_bytes {
            return Err(StoreError::TooLarge {
                what: "envelope",
                size: self.envelope.len(),
                limit: limits.max_envelope_bytes,
            });
        }
        Ok(())
    }

    /// Whether `other` is the same attestation put again: same id, tenant,
    /// subject and predicate type. (Envelope bytes may differ: two
    /// signatures over the same PAE are the same attestation; the first
    /// stored envelope is kept.)
    pub(crate) fn same_as(&self, other: &Self) -> bool {
        self.id == other.id
            && self.tenant == other.tenant
            && self.subject == other.subject
            && self.predicate_type == other.predicate_type
    }
}

impl LogEntryRecord {
    pub(crate) fn validate(&self, limits: &StoreLimits) -> Result<(), StoreError> {
        match self.api {
            LogApiVersion::V1 => {
                if !is_lower_hex(&self.entry_id, 80) {
                    return Err(StoreError::invalid(InvalidInput::EntryId(
                        self.entry_id.clone(),
                    )));
                }
                if self.entry_id.starts_with("0000000000000000") {
                    return Err(StoreError::invalid(InvalidInput::ZeroTreeId));
                }
            }
            LogApiVersion::V2 => {
                if !is_lower_hex(&self.entry_id, 64) {
                    return Err(StoreError::invalid(InvalidInput::LeafHash(
                        self.entry_id.clone(),
                    )));
                }
                if self.global_index != self.shard_index {
                    return Err(StoreError::invalid(InvalidInput::V2Indices {
                        global: self.global_index,
                        shard: self.shard_index,
                    }));
                }
                if !self.set.is_empty() {
                    return Err(StoreError::invalid(InvalidInput::V2Set));
                }
            }
        }
        if !is_lower_hex(&self.log_id, 64) {
            return Err(StoreError::invalid(InvalidInput::LogId(
                self.log_id.clone(),
            )));
        }
        for (what, v) in [
            ("global index", self.global_index),
            ("shard index", self.shard_index),
        ] {
            if i64::try_from(v).is_err() {
                return Err(StoreError::invalid(InvalidInput::TooBig { what, value: v }));
            }
        }
        for (what, blob) in [
            ("inclusion proof", &self.inclusion_proof),
            ("checkpoint", &self.checkpoint),
            ("SET", &self.set),
            ("timestamp", &self.timestamp),
        ] {
            if blob.len() > limits.max_evidence_bytes {
                return Err(StoreError::TooLarge {
                    what,
                    size: blob.len(),
                    limit: limits.max_evidence_bytes,
                });
            }
        }
        Ok(())
    }
}

impl CheckpointRecord {
    /// A verified checkpoint to remember for `log_id` (validated when stored).
    #[must_use]
    pub fn new(log_id: impl Into<String>, tree_size: u64, checkpoint: Vec<u8>) -> Self {
        Self {
            log_id: log_id.into(),
            tree_size,
            checkpoint,
        }
    }
}

impl CheckpointRecord {
    pub(crate) fn validate(&self) -> Result<(), StoreError> {
        if !is_lower_hex(&self.log_id, 64) {
            return Err(StoreError::invalid(InvalidInput::LogId(
                self.log_id.clone(),
            )));
        }
        if i64::try_from(self.tree_size).is_err() {
            return Err(StoreError::invalid(InvalidInput::TooBig {
                what: "tree size",
                value: self.tree_size,
            }));
        }
        if self.checkpoint.is_empty() {
            return Err(StoreError::invalid(InvalidInput::EmptyCheckpoint));
        }
        Ok(())
    }
}
