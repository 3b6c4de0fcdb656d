//! The decisions every backend makes the same way, so that they cannot drift.

use crate::{AttestationRow, CheckpointRecord, LogEntryRecord, NewAttestation, StoreError};

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
        None => Err(StoreError::Database(
            "row has no entry after a refused attach".into(),
        )),
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
