//! The decisions every backend makes the same way, so that they cannot drift.

use crate::{
    AttestationRow, CheckpointRecord, Corruption, LogEntryRecord, NewAttestation, StoreError,
};

/// Putting `new` where `existing` has its id: the existing row, or a conflict.
pub(crate) fn on_existing_put(
    existing: AttestationRow,
    new: &NewAttestation,
) -> Result<AttestationRow, StoreError> {
    if existing.attestation.same_as(new) {
        Ok(existing)
    } else {
        Err(StoreError::Conflict {
            id: new.id.to_string(),
        })
    }
}

/// Attaching `entry` to `row` that already has one: a no-op or a conflict.
pub(crate) fn on_existing_entry(
    row: AttestationRow,
    entry: &LogEntryRecord,
) -> Result<AttestationRow, StoreError> {
    match &row.entry {
        Some(existing) if existing.same_entry(entry) => Ok(row),
        Some(existing) => Err(StoreError::EntryConflict {
            id: row.attestation.id.to_string(),
            existing: existing.entry_id.clone(),
            offered: entry.entry_id.clone(),
        }),
        None => Err(StoreError::Corrupt(Corruption::Inconsistent(
            "row has no entry after a refused attach",
        ))),
    }
}

/// What to do with an offered checkpoint given the remembered one.
pub(crate) enum CheckpointAction {
    /// Store it.
    Replace,
    /// Identical: nothing to do.
    Keep,
}

pub(crate) fn checkpoint_action(
    stored: Option<&CheckpointRecord>,
    offered: &CheckpointRecord,
) -> Result<CheckpointAction, StoreError> {
    match stored {
        None => Ok(CheckpointAction::Replace),
        Some(s) if s.tree_size < offered.tree_size => Ok(CheckpointAction::Replace),
        Some(s) if s.tree_size > offered.tree_size => Err(StoreError::CheckpointRegression {
            log_id: offered.log_id.clone(),
            stored: s.tree_size,
            offered: offered.tree_size,
        }),
        // Same size: the same tree head may come with other signatures or
        // timestamps; keep the first one remembered.
        Some(_) => Ok(CheckpointAction::Keep),
    }
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
/// The columns every backend selects, in the order [`RawRow`] expects.
pub(crate) const COLUMNS: &str = "seq, id, tenant, subject, predicate_type, envelope, signer_key_ids, \
    claimed_time, rekor_uuid, log_id, log_index, shard_index, integrated_time, inclusion_proof, \
    checkpoint, signed_entry_timestamp, log_api, rfc3161_timestamp";

#[cfg(any(feature = "sqlite", feature = "postgres"))]
/// One row as the database returns it, before the checks that turn it into
/// an [`AttestationRow`]; the backends only differ in how they read columns.
pub(crate) struct RawRow {
    pub(crate) seq: i64,
    pub(crate) id: Vec<u8>,
    pub(crate) tenant: String,
    pub(crate) subject: String,
    pub(crate) predicate_type: String,
    pub(crate) envelope: Vec<u8>,
    pub(crate) signer_key_ids: String,
    pub(crate) claimed_time: i64,
    /// Present when `rekor_uuid` is set.
    pub(crate) entry: Option<RawEntry>,
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
/// The log-entry columns of a [`RawRow`].
pub(crate) struct RawEntry {
    pub(crate) entry_id: String,
    pub(crate) log_id: String,
    pub(crate) log_index: i64,
    pub(crate) shard_index: i64,
    pub(crate) integrated_time: i64,
    pub(crate) inclusion_proof: Option<Vec<u8>>,
    pub(crate) checkpoint: Option<Vec<u8>>,
    pub(crate) set: Option<Vec<u8>>,
    pub(crate) api: i64,
    pub(crate) timestamp: Option<Vec<u8>>,
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
impl RawEntry {
    fn into_record(self) -> Result<LogEntryRecord, StoreError> {
        let index = |v: i64, what| {
            u64::try_from(v).map_err(|_| StoreError::Corrupt(Corruption::Negative(what)))
        };
        // NULL evidence columns are rows attached before the evidence was
        // kept (schema 1): no evidence, which is what an empty blob means.
        let blob = |b: Option<Vec<u8>>| b.unwrap_or_default();
        let api = u32::try_from(self.api)
            .ok()
            .and_then(crate::LogApiVersion::from_number)
            .ok_or(StoreError::Corrupt(Corruption::LogApi(self.api)))?;
        Ok(LogEntryRecord {
            api,
            entry_id: self.entry_id,
            log_id: self.log_id,
            global_index: index(self.log_index, "log index")?,
            shard_index: index(self.shard_index, "shard index")?,
            integrated_time: self.integrated_time,
            inclusion_proof: blob(self.inclusion_proof),
            checkpoint: blob(self.checkpoint),
            set: blob(self.set),
            timestamp: blob(self.timestamp),
        })
    }
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
/// Decodes one row for [`AttestationStore::by_subject_each`]: a row that
/// does not decode is a [`CorruptRow`] naming what could be read of it.
///
/// [`AttestationStore::by_subject_each`]: crate::AttestationStore::by_subject_each
pub(crate) fn decode_one(raw: RawRow) -> Result<AttestationRow, crate::CorruptRow> {
    let (seq, id, subject) = (raw.seq, raw.id.clone(), raw.subject.clone());
    raw.into_row().map_err(|e| {
        let reason = match e {
            StoreError::Corrupt(c) => c,
            other => Corruption::Unreadable(other.to_string()),
        };
        crate::CorruptRow::new(Some(seq), Some(&id), reason).with_subject(Some(subject))
    })
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
/// Cuts a page from up to `limit + 1` rows, each decoded or corrupt (a
/// corrupt row's sequence number is always readable: it is the key).
pub(crate) fn page_each_from(
    mut rows: Vec<Result<AttestationRow, crate::CorruptRow>>,
    limit: usize,
) -> Result<crate::PageEach, StoreError> {
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next = match rows.last() {
        Some(_) if !more => None,
        Some(Ok(r)) => Some(r.seq),
        Some(Err(c)) => Some(
            c.seq
                .ok_or(StoreError::Corrupt(Corruption::Negative("seq")))?,
        ),
        None => None,
    };
    Ok(crate::PageEach { rows, next })
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
impl RawRow {
    pub(crate) fn into_row(self) -> Result<AttestationRow, StoreError> {
        let id: [u8; 32] = self
            .id
            .try_into()
            .map_err(|_| StoreError::Corrupt(Corruption::AttestationIdLength))?;
        let entry = self.entry.map(RawEntry::into_record).transpose()?;
        Ok(AttestationRow {
            seq: u64::try_from(self.seq)
                .map_err(|_| StoreError::Corrupt(Corruption::Negative("seq")))?,
            attestation: NewAttestation {
                id: crate::AttestationId(id),
                tenant: self.tenant,
                subject: self.subject,
                predicate_type: self.predicate_type,
                envelope: self.envelope,
                signer_key_ids: serde_json::from_str(&self.signer_key_ids)
                    .map_err(|_| StoreError::Corrupt(Corruption::SignerKeyIds))?,
                claimed_time: self.claimed_time,
            },
            entry,
        })
    }
}
