//! Opening the log's files: every record before the durable checkpoint proved, the derived files proved against the records and rewritten where they disagree, a torn tail discarded; and a read-only check.

#[allow(clippy::wildcard_imports)]
use super::*;

impl Files {
    /// Opens (creating, for a new log) the files in `dir`, proves the
    /// derived files against the records and the records against the
    /// durable checkpoint, rewrites what disagrees, and discards only a torn
    /// tail past the durable count.
    pub(crate) fn open(dir: &Path, layout: Layout) -> Result<Opened, StorageError> {
        if layout != Layout::New {
            for file in ["entries.log", "checkpoint.dat"] {
                if file == "checkpoint.dat" && layout == Layout::Legacy {
                    continue;
                }
                if !dir.join(file).exists() {
                    return Err(StorageError::Corrupt(Damage::MissingFile { file }));
                }
            }
        }
        let mut created = false;
        let mut open = |name: &str| {
            let path = dir.join(name);
            created |= !path.exists();
            OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(path)
        };
        let files = Self {
            entries: open("entries.log").map_err(io("open entries.log"))?,
            index: open("index.dat").map_err(io("open index.dat"))?,
            tree: open("tree.dat").map_err(io("open tree.dat"))?,
            synced: open("synced.dat").map_err(io("open synced.dat"))?,
            checkpoint: open("checkpoint.dat").map_err(io("open checkpoint.dat"))?,
        };
        if created {
            // New directory entries are durable only once the directory is.
            sync_dir(dir)?;
        }
        let checkpoint = match layout {
            Layout::Current => Some(
                files
                    .read_checkpoint()?
                    .ok_or(StorageError::Corrupt(Damage::Checkpoint))?,
            ),
            Layout::New | Layout::Legacy => None,
        };
        let durable = checkpoint.as_ref().map(|c| c.size);
        let synced = files.read_synced()?;

        // Every record, re-derived: leaves, offsets and nodes, compared with
        // the derived files chunk by chunk and rewritten where they differ.
        let mut range = CompactRange::new();
        let mut batch = Batch::default();
        let mut uuids = HashMap::new();
        let mut rebuilt = false;
        // The root at the durable checkpoint's size, as the records give it.
        let mut root_at_durable = (durable == Some(0)).then_some(attest_merkle::EMPTY_ROOT);
        let entries_len = files.len_of(&files.entries, "stat entries.log")?;
        let end = files.scan(entries_len, durable, |i, loc| {
            batch.index.extend_from_slice(&loc.offset.to_le_bytes());
            let nodes = &mut batch.nodes;
            // A range ending at u64::MAX cannot be reached by a file.
            let _ = range.append_with(loc.record.leaf, |_, h| {
                nodes.extend_from_slice(h.as_bytes());
            });
            uuids.insert(loc.record.leaf, i);
            if durable == Some(range.end()) {
                root_at_durable = range.root().ok();
            }
            if batch.index.len() >= 8 << 16 {
                rebuilt |= files.prove_derived(range.end(), &mut batch)?;
            }
            Ok(())
        })?;
        rebuilt |= files.prove_derived(range.end(), &mut batch)?;
        let size = end.records;
        // What was acknowledged must all be there.
        let bound = durable.unwrap_or(0).max(synced);
        if size < bound {
            return Err(StorageError::Corrupt(Damage::Truncated {
                records: size,
                offset: end.end,
                durable: bound,
            }));
        }
        if let Some(cp) = &checkpoint
            && root_at_durable != Some(cp.root)
        {
            return Err(StorageError::Corrupt(Damage::RootMismatch {
                size: cp.size,
            }));
        }
        let (n_index, n_tree) = (
            files.len_of(&files.index, "stat index.dat")?,
            files.len_of(&files.tree, "stat tree.dat")?,
        );
        if n_index != size * 8 || n_tree != node_count(size) * NODE {
            rebuilt |= n_index > size * 8 || n_tree > node_count(size) * NODE;
            files
                .index
                .set_len(size * 8)
                .map_err(io("truncate index.dat"))?;
            files
                .tree
                .set_len(node_count(size) * NODE)
                .map_err(io("truncate tree.dat"))?;
        }
        if end.trailing > 0 {
            files
                .entries
                .set_len(end.end)
                .map_err(io("truncate entries.log"))?;
            files.entries.sync_data().map_err(io("sync entries.log"))?;
        }
        let mut tail = Tail {
            range,
            end: end.end,
            derived_synced: 0,
            checkpoint_seq: checkpoint.as_ref().map_or(0, |c| c.seq),
        };
        files.sync_derived(&mut tail)?;
        Ok(Opened {
            files,
            tail,
            uuids,
            discarded_bytes: end.trailing,
            rebuilt_derived: rebuilt,
            checkpoint,
        })
    }

    /// Opens an existing log's files for reading only (a missing derived
    /// file reads as empty; nothing is created or changed).
    pub(crate) fn open_read_only(dir: &Path) -> Result<Self, StorageError> {
        let open = |name: &'static str, required: bool| -> Result<File, StorageError> {
            match File::open(dir.join(name)) {
                Ok(f) => Ok(f),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
                    // An empty stand-in: the null device reads as empty.
                    File::open(if cfg!(windows) { "NUL" } else { "/dev/null" })
                        .map_err(io("open the null device"))
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    Err(StorageError::Corrupt(Damage::MissingFile { file: name }))
                }
                Err(e) => Err(io("open a log file")(e)),
            }
        };
        Ok(Self {
            entries: open("entries.log", true)?,
            index: open("index.dat", false)?,
            tree: open("tree.dat", false)?,
            synced: open("synced.dat", false)?,
            checkpoint: open("checkpoint.dat", false)?,
        })
    }

    /// Everything `attestlog log check` reports, read only.
    pub(crate) fn check(&self, layout: Layout) -> Result<CheckFacts, StorageError> {
        let checkpoint = self.read_checkpoint()?;
        let durable = checkpoint.as_ref().map(|c| c.size);
        let synced = self.read_synced()?;
        let mut range = CompactRange::new();
        let mut root_at_durable = (durable == Some(0)).then_some(attest_merkle::EMPTY_ROOT);
        let (mut index_mismatches, mut tree_mismatches) = (0u64, 0u64);
        let mut nodes = Vec::new();
        let entries_len = self.len_of(&self.entries, "stat entries.log")?;
        let end = self.scan(entries_len, None, |i, loc| {
            let mut at = [0u8; 8];
            if self.index.pread_exact(&mut at, i * 8).is_err() || at != loc.offset.to_le_bytes() {
                index_mismatches += 1;
            }
            nodes.clear();
            let n_before = range.end();
            let _ = range.append_with(loc.record.leaf, |_, h| nodes.push(*h));
            for (k, h) in nodes.iter().enumerate() {
                let mut have = [0u8; 32];
                let pos = (node_count(n_before) + k as u64) * NODE;
                if self.tree.pread_exact(&mut have, pos).is_err() || have != h.0 {
                    tree_mismatches += 1;
                }
            }
            if durable == Some(range.end()) {
                root_at_durable = range.root().ok();
            }
            Ok(())
        })?;
        let bound = durable.unwrap_or(0).max(synced);
        let missing = if end.trailing > 0 {
            Damage::Record {
                index: end.records,
                offset: end.end,
            }
        } else {
            Damage::Truncated {
                records: end.records,
                offset: end.end,
                durable: bound,
            }
        };
        let damage = (end.records < bound).then_some(missing);
        let damage = damage.or_else(|| match (&checkpoint, layout) {
            (None, Layout::Current) => Some(Damage::Checkpoint),
            (Some(cp), _) if root_at_durable != Some(cp.root) => {
                Some(Damage::RootMismatch { size: cp.size })
            }
            _ => None,
        });
        let extra = |f: &File, want: u64| self.len_of(f, "stat a derived file").map(|l| l > want);
        let excess_derived = extra(&self.index, end.records * 8)?
            || extra(&self.tree, node_count(end.records) * NODE)?;
        Ok(CheckFacts {
            records: end.records,
            torn_tail_bytes: end.trailing,
            damage,
            checkpoint,
            synced,
            index_mismatches,
            tree_mismatches,
            excess_derived,
        })
    }

    pub(super) fn len_of(&self, f: &File, context: &'static str) -> Result<u64, StorageError> {
        f.metadata().map(|m| m.len()).map_err(io(context))
    }

    /// Reads `entries.log` from the start, calling `each(index, record)` for
    /// every intact record, up to the first that is not. Before the durable
    /// count, such a record is damage, an error naming it; after it, the
    /// rest is a torn write that was never acknowledged.
    pub(crate) fn scan(
        &self,
        file_len: u64,
        durable: Option<u64>,
        mut each: impl FnMut(u64, &Located) -> Result<(), StorageError>,
    ) -> Result<ScanEnd, StorageError> {
        let mut r = BufReader::with_capacity(1 << 20, &self.entries);
        std::io::Seek::seek(&mut r, std::io::SeekFrom::Start(0)).map_err(io("read entries.log"))?;
        let (mut off, mut i) = (0u64, 0u64);
        loop {
            match read_next(&mut r, off, file_len)? {
                Some(loc) => {
                    each(i, &loc)?;
                    off = loc.next;
                    i += 1;
                }
                None => {
                    if durable.is_some_and(|n| i < n) && off < file_len {
                        return Err(StorageError::Corrupt(Damage::Record {
                            index: i,
                            offset: off,
                        }));
                    }
                    break;
                }
            }
        }
        Ok(ScanEnd {
            records: i,
            end: off,
            trailing: file_len - off,
        })
    }

    /// Compares the staged derived bytes of the entries before `size` with
    /// the files and rewrites them where they differ; true when it wrote.
    pub(super) fn prove_derived(&self, size: u64, batch: &mut Batch) -> Result<bool, StorageError> {
        let n_before = size - (batch.index.len() / 8) as u64;
        let mut wrote = false;
        let index_at = n_before * 8;
        if !self.holds(&self.index, &batch.index, index_at) {
            self.index
                .pwrite_all(&batch.index, index_at)
                .map_err(io("write index.dat"))?;
            wrote = true;
        }
        let tree_at = node_count(n_before) * NODE;
        if !self.holds(&self.tree, &batch.nodes, tree_at) {
            self.tree
                .pwrite_all(&batch.nodes, tree_at)
                .map_err(io("write tree.dat"))?;
            wrote = true;
        }
        batch.index.clear();
        batch.nodes.clear();
        Ok(wrote)
    }

    /// Whether `file` holds exactly `bytes` at `at`.
    pub(super) fn holds(&self, file: &File, bytes: &[u8], at: u64) -> bool {
        let mut have = vec![0u8; bytes.len()];
        file.pread_exact(&mut have, at).is_ok() && have == bytes
    }
}
