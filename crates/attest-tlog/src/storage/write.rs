//! Reading and writing the log's files once open: the checkpoint slots, entries, batches committed and the derived files synced.

#[allow(clippy::wildcard_imports)]
use super::*;

impl Files {
    /// The newest intact checkpoint of the two slots, if any.
    pub(crate) fn read_checkpoint(&self) -> Result<Option<DurableCheckpoint>, StorageError> {
        let len = self.len_of(&self.checkpoint, "stat checkpoint.dat")?;
        let mut best: Option<DurableCheckpoint> = None;
        for slot in 0..2u64 {
            let at = slot * SLOT as u64;
            if len <= at {
                continue;
            }
            let mut b = vec![0u8; SLOT.min(usize::try_from(len - at).unwrap_or(SLOT))];
            self.checkpoint
                .pread_exact(&mut b, at)
                .map_err(io("read checkpoint.dat"))?;
            if let Some(c) = parse_slot(&b)
                && best.as_ref().is_none_or(|b| c.seq > b.seq)
            {
                best = Some(c);
            }
        }
        Ok(best)
    }

    /// Makes a signed checkpoint of the log's current size and root durable
    /// (the other slot than the last one, so a torn write leaves the
    /// previous checkpoint whole). Called before entries are acknowledged.
    pub(crate) fn write_checkpoint(&self, tail: &mut Tail, note: &str) -> Result<(), StorageError> {
        let seq = tail.checkpoint_seq + 1;
        let mut b = Vec::with_capacity(SLOT);
        b.extend_from_slice(&seq.to_le_bytes());
        b.extend_from_slice(&tail.size().to_le_bytes());
        b.extend_from_slice(tail.root().as_bytes());
        let len = u32::try_from(note.len()).unwrap_or(u32::MAX);
        b.extend_from_slice(&len.to_le_bytes());
        b.extend_from_slice(note.as_bytes());
        let check = checkpoint_check(&b);
        b.extend_from_slice(&check);
        if b.len() > SLOT {
            return Err(io("write checkpoint.dat")(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "the signed checkpoint does not fit its slot",
            )));
        }
        self.checkpoint
            .pwrite_all(&b, (seq % 2) * SLOT as u64)
            .map_err(io("write checkpoint.dat"))?;
        self.checkpoint
            .sync_data()
            .map_err(io("sync checkpoint.dat"))?;
        tail.checkpoint_seq = seq;
        Ok(())
    }

    /// Flushes the derived files, then records how many entries they hold.
    pub(crate) fn sync_derived(&self, tail: &mut Tail) -> Result<(), StorageError> {
        self.index.sync_data().map_err(io("sync index.dat"))?;
        self.tree.sync_data().map_err(io("sync tree.dat"))?;
        let n = tail.size();
        let mut rec = [0u8; 16];
        rec[..8].copy_from_slice(&n.to_le_bytes());
        rec[8..].copy_from_slice(&synced_check(n));
        self.synced
            .pwrite_all(&rec, 0)
            .map_err(io("write synced.dat"))?;
        self.synced.sync_data().map_err(io("sync synced.dat"))?;
        tail.derived_synced = n;
        Ok(())
    }

    /// Entries the derived files hold durably (0 when unknown).
    pub(super) fn read_synced(&self) -> Result<u64, StorageError> {
        let mut rec = [0u8; 16];
        match self.synced.pread_exact(&mut rec, 0) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(0),
            Err(e) => return Err(io("read synced.dat")(e)),
        }
        let n = u64::from_le_bytes([
            rec[0], rec[1], rec[2], rec[3], rec[4], rec[5], rec[6], rec[7],
        ]);
        Ok(if rec[8..] == synced_check(n) { n } else { 0 })
    }

    pub(super) fn offset(&self, i: u64) -> Result<u64, StorageError> {
        let mut b = [0u8; 8];
        self.index
            .pread_exact(&mut b, i * 8)
            .map_err(io("read index.dat"))?;
        Ok(u64::from_le_bytes(b))
    }

    /// The committed entry at `index` (the caller knows it is committed).
    /// Its leaf must be the one `tree.dat` holds for `index` (proved
    /// against the records on open): an offset damaged since is refused,
    /// never signed for.
    pub(crate) fn read_entry(&self, index: u64) -> Result<Record, StorageError> {
        let off = self.offset(index)?;
        let len = self.len_of(&self.entries, "stat entries.log")?;
        let mut at = PositionalReader {
            file: &self.entries,
            pos: off,
        };
        let rec = read_next(&mut at, off, len)?
            .map(|loc| loc.record)
            .ok_or(StorageError::Corrupt(Damage::Record { index, offset: off }))?;
        if self.read_node(NodeId::leaf(index))? != rec.leaf {
            return Err(StorageError::Corrupt(Damage::Index { index }));
        }
        Ok(rec)
    }

    /// Writes a staged batch: records, then index, then nodes; then makes the
    /// records durable (the derived files every [`DERIVED_SYNC_EVERY`]
    /// entries). On return the batch is committed.
    pub(crate) fn commit(&self, tail: &mut Tail, batch: &mut Batch) -> Result<(), StorageError> {
        if batch.records.is_empty() {
            return Ok(());
        }
        self.entries
            .pwrite_all(&batch.records, batch.records_at)
            .map_err(io("write entries.log"))?;
        batch.records.clear();
        self.write_derived(tail, batch)?;
        self.entries.sync_data().map_err(io("sync entries.log"))?;
        Ok(())
    }

    /// Flushes the derived files when they lag [`DERIVED_SYNC_EVERY`]
    /// entries behind (after the checkpoint is durable, so the count they
    /// record never exceeds the checkpoint's).
    pub(crate) fn maybe_sync_derived(&self, tail: &mut Tail) -> Result<(), StorageError> {
        if tail.size() - tail.derived_synced >= DERIVED_SYNC_EVERY {
            self.sync_derived(tail)?;
        }
        Ok(())
    }

    pub(super) fn write_derived(&self, tail: &Tail, batch: &mut Batch) -> Result<(), StorageError> {
        let n_before = tail.range.end() - (batch.index.len() / 8) as u64;
        self.index
            .pwrite_all(&batch.index, n_before * 8)
            .map_err(io("write index.dat"))?;
        self.tree
            .pwrite_all(&batch.nodes, node_count(n_before) * NODE)
            .map_err(io("write tree.dat"))?;
        batch.index.clear();
        batch.nodes.clear();
        Ok(())
    }
}

impl NodeReader for Files {
    type Error = StorageError;
    fn read_node(&self, id: NodeId) -> Result<Hash, StorageError> {
        let pos = node_pos(id).ok_or(StorageError::Corrupt(Damage::NodePosition {
            level: id.level,
            index: id.index,
        }))?;
        let mut h = [0u8; 32];
        self.tree
            .pread_exact(&mut h, pos * NODE)
            .map_err(io("read tree.dat"))?;
        Ok(Hash(h))
    }
}

/// Bytes staged for one commit.
#[derive(Default)]
pub(crate) struct Batch {
    pub(super) records: Vec<u8>,
    pub(super) records_at: u64,
    pub(super) index: Vec<u8>,
    pub(super) nodes: Vec<u8>,
}

impl Tail {
    /// Entries in the log (committed and staged).
    pub(crate) fn size(&self) -> u64 {
        self.range.end()
    }

    /// The root over all entries (committed and staged).
    pub(crate) fn root(&self) -> Hash {
        self.range.root().unwrap_or(attest_merkle::EMPTY_ROOT)
    }

    pub(super) fn stage_existing(&mut self, batch: &mut Batch, off: u64, leaf: Hash) {
        batch.index.extend_from_slice(&off.to_le_bytes());
        let nodes = &mut batch.nodes;
        // A range ending at u64::MAX cannot be reached by a file.
        let _ = self
            .range
            .append_with(leaf, |_, h| nodes.extend_from_slice(h.as_bytes()));
    }

    /// Stages a new entry at the next index, integrated at `time`: the
    /// clock's reading, never raised to an earlier entry's (a clock that once
    /// jumped ahead must not freeze the log, and no entry is given a time
    /// ahead of the clock). Times need not increase along the log.
    pub(crate) fn stage(&mut self, batch: &mut Batch, body: &[u8], leaf: Hash, time: i64) -> u64 {
        if batch.records.is_empty() {
            batch.records_at = self.end;
        }
        let len = u32::try_from(body.len()).unwrap_or(u32::MAX);
        let off = self.end;
        batch.records.extend_from_slice(&len.to_le_bytes());
        batch.records.extend_from_slice(&time.to_le_bytes());
        batch.records.extend_from_slice(body);
        batch
            .records
            .extend_from_slice(&check_bytes(len, time, &leaf));
        self.end += (HEADER + CHECK + body.len()) as u64;
        let index = self.size();
        self.stage_existing(batch, off, leaf);
        index
    }
}
