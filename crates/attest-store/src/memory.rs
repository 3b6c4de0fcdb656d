//! An in-memory store, for tests and examples.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

use crate::rules::{CheckpointAction, checkpoint_action, on_existing_entry, on_existing_put};
use crate::{
    AttestationId, AttestationRow, AttestationStore, CheckpointRecord, LogEntryRecord,
    NewAttestation, Page, StoreError, StoreLimits,
};

#[derive(Default)]
struct Inner {
    rows: BTreeMap<u64, AttestationRow>,
    by_id: HashMap<AttestationId, u64>,
    by_entry: HashMap<String, u64>,
    checkpoints: HashMap<String, CheckpointRecord>,
    next_seq: u64,
}

/// A store in memory. Nothing survives the process; behaviour is otherwise
/// that of the database backends (the same conformance suite runs on it).
#[derive(Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
    limits: StoreLimits,
}

impl MemoryStore {
    /// An empty store with default limits.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty store with these limits.
    #[must_use]
    pub fn with_limits(limits: StoreLimits) -> Self {
        Self {
            inner: Mutex::default(),
            limits,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave a half-made change:
        // every mutation below is a single insert after all checks.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Inner {
    fn put(&mut self, a: &NewAttestation) -> Result<AttestationRow, StoreError> {
        if let Some(seq) = self.by_id.get(&a.id) {
            return on_existing_put(self.rows[seq].clone(), a);
        }
        self.next_seq += 1;
        let row = AttestationRow {
            seq: self.next_seq,
            attestation: a.clone(),
            entry: None,
        };
        self.by_id.insert(a.id, row.seq);
        self.rows.insert(row.seq, row.clone());
        Ok(row)
    }
}

impl AttestationStore for MemoryStore {
    fn put(&self, a: &NewAttestation) -> Result<AttestationRow, StoreError> {
        a.validate(&self.limits)?;
        self.lock().put(a)
    }

    fn put_many(&self, items: &[NewAttestation]) -> Result<Vec<AttestationRow>, StoreError> {
        for a in items {
            a.validate(&self.limits)?;
        }
        let mut inner = self.lock();
        // All or nothing: work on a copy, commit by swapping.
        let mut staged = Inner {
            rows: inner.rows.clone(),
            by_id: inner.by_id.clone(),
            by_entry: HashMap::new(),
            checkpoints: HashMap::new(),
            next_seq: inner.next_seq,
        };
        let rows = items
            .iter()
            .map(|a| staged.put(a))
            .collect::<Result<Vec<_>, _>>()?;
        inner.rows = staged.rows;
        inner.by_id = staged.by_id;
        inner.next_seq = staged.next_seq;
        Ok(rows)
    }

    fn attach_entry(
        &self,
        id: &AttestationId,
        entry: &LogEntryRecord,
    ) -> Result<AttestationRow, StoreError> {
        entry.validate(&self.limits)?;
        let mut inner = self.lock();
        let seq = *inner
            .by_id
            .get(id)
            .ok_or(StoreError::NotFound { id: id.to_string() })?;
        let row = inner.rows[&seq].clone();
        if row.entry.is_some() {
            return on_existing_entry(row, entry);
        }
        if inner.by_entry.contains_key(&entry.entry_id) {
            return Err(StoreError::EntryAlreadyAttached {
                entry_id: entry.entry_id.clone(),
            });
        }
        inner.by_entry.insert(entry.entry_id.clone(), seq);
        let row = inner
            .rows
            .get_mut(&seq)
            .ok_or(StoreError::NotFound { id: id.to_string() })?;
        row.entry = Some(entry.clone());
        Ok(row.clone())
    }

    fn get(&self, id: &AttestationId) -> Result<Option<AttestationRow>, StoreError> {
        let inner = self.lock();
        Ok(inner.by_id.get(id).map(|seq| inner.rows[seq].clone()))
    }

    fn entry_tenants(&self, entry_ids: &[String]) -> Result<Vec<Option<String>>, StoreError> {
        let inner = self.lock();
        Ok(entry_ids
            .iter()
            .map(|id| {
                inner
                    .by_entry
                    .get(id)
                    .map(|seq| inner.rows[seq].attestation.tenant.clone())
            })
            .collect())
    }

    fn by_subject(&self, tenant: &str, subject: &str) -> Result<Vec<AttestationRow>, StoreError> {
        let inner = self.lock();
        Ok(inner
            .rows
            .values()
            .filter(|r| r.attestation.tenant == tenant && r.attestation.subject == subject)
            .cloned()
            .collect())
    }

    fn list(&self, tenant: &str, after: Option<u64>, limit: usize) -> Result<Page, StoreError> {
        let inner = self.lock();
        let from = after.map_or(0, |a| a.saturating_add(1));
        let mut rows: Vec<AttestationRow> = inner
            .rows
            .range(from..)
            .map(|(_, r)| r)
            .filter(|r| r.attestation.tenant == tenant)
            .take(limit.saturating_add(1))
            .cloned()
            .collect();
        Ok(crate::page_from(&mut rows, limit))
    }

    fn pending(
        &self,
        tenant: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AttestationRow>, StoreError> {
        let inner = self.lock();
        Ok(inner
            .rows
            .values()
            .filter(|r| r.entry.is_none() && tenant.is_none_or(|t| r.attestation.tenant == t))
            .take(limit)
            .cloned()
            .collect())
    }

    fn last_checkpoint(&self, log_id: &str) -> Result<Option<CheckpointRecord>, StoreError> {
        Ok(self.lock().checkpoints.get(log_id).cloned())
    }

    fn store_checkpoint(&self, cp: &CheckpointRecord) -> Result<(), StoreError> {
        cp.validate()?;
        let mut inner = self.lock();
        if let CheckpointAction::Replace = checkpoint_action(inner.checkpoints.get(&cp.log_id), cp)?
        {
            inner.checkpoints.insert(cp.log_id.clone(), cp.clone());
        }
        Ok(())
    }
}
