//! The embedded log's files. `entries.log` is the source of truth: one record
//! per entry, `len: u32 LE | integratedTime: i64 LE | body | check: 8 bytes`,
//! where `check` is the first 8 bytes of
//! `SHA-256("attestlog-entry\0" || len || time || leaf hash(body))`. Two
//! derived files make reads O(1) and proofs O(log n): `index.dat` (the
//! record offset of each entry, `u64 LE`) and `tree.dat` (every perfect
//! subtree hash in post-order, the order a compact range completes them).
//! Before an entry is acknowledged, its record is flushed and so is the
//! signed checkpoint over it, in `checkpoint.dat` (two slots written in
//! turn, so that one is always whole: `seq | size | root | note length |
//! signed note | 8-byte check`). That checkpoint's size is the durable
//! count: on open every record before it must be intact (a damaged, missing
//! or truncated one is an error naming the file, offset and entry — the log
//! refuses to start rather than forget), and the records must give the
//! checkpoint's root. Intact records past it are kept; the first record
//! past it that is not intact ends the log, and only those bytes — a torn,
//! unacknowledged write — are discarded. The derived files are flushed every
//! [`DERIVED_SYNC_EVERY`] entries (and on close), after which `synced.dat`
//! records how many they hold (`count: u64 LE | first 8 bytes of
//! SHA-256("attestlog-synced\0" || count)`); on open they are proved
//! against the records and rewritten wherever they disagree, never trusted.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read};
use std::path::Path;

use attest_merkle::{CompactRange, Hash, NodeId, NodeReader, leaf_hash};
use sha2::{Digest, Sha256};

/// Entries between two flushes of the derived files.
pub(crate) const DERIVED_SYNC_EVERY: u64 = 4096;

const HEADER: usize = 12;
const CHECK: usize = 8;
const NODE: u64 = 32;

/// An I/O failure of the log's files.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// The file system failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: &'static str,
        /// The error.
        source: std::io::Error,
    },
    /// A committed record or node does not match its checksum: the files
    /// were damaged (not a torn tail, which is repaired on open).
    #[error("log files damaged: {0}")]
    Corrupt(Damage),
    /// An index or tree size the log does not have.
    #[error("out of range: {0}")]
    OutOfRange(OutOfRange),
}

/// What is damaged in the log's files.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Damage {
    /// The record of entry `index` in `entries.log` fails its checksum.
    #[error("entries.log: the record of entry {index} at offset {offset} is damaged")]
    Record {
        /// The entry.
        index: u64,
        /// Its offset in `entries.log`.
        offset: u64,
    },
    /// `entries.log` ends before the durable checkpoint's size.
    #[error(
        "entries.log: ends after {records} intact entries (at offset {offset}), but {durable} were acknowledged"
    )]
    Truncated {
        /// Intact records found.
        records: u64,
        /// Where they end.
        offset: u64,
        /// The durable count (the checkpoint's size, or the derived files').
        durable: u64,
    },
    /// The records do not give the durable checkpoint's root.
    #[error("entries.log: the first {size} entries do not hash to the root of checkpoint.dat")]
    RootMismatch {
        /// The checkpoint's size.
        size: u64,
    },
    /// A file of an existing log is missing.
    #[error("{file} is missing from an existing log")]
    MissingFile {
        /// The file.
        file: &'static str,
    },
    /// Neither slot of `checkpoint.dat` holds an intact checkpoint.
    #[error("checkpoint.dat: no intact checkpoint")]
    Checkpoint,
    /// `log.json` names another log (name or tree id) than the one the
    /// durable checkpoint was signed for: serving it would hand out entry
    /// ids and checkpoints of a log that does not exist.
    #[error("log.json names the log {meta:?}, but checkpoint.dat was signed for {checkpoint:?}")]
    Meta {
        /// The origin `log.json` gives (`<name> - <tree id>`).
        meta: String,
        /// The durable checkpoint's origin.
        checkpoint: String,
    },
    /// The record `index.dat` points at for an entry is another entry's.
    #[error("index.dat: entry {index} points at another record")]
    Index {
        /// The entry.
        index: u64,
    },
    /// `tree.dat` holds no valid compact range for the log's size.
    #[error("tree.dat: {0}")]
    Tree(attest_merkle::RangeError),
    /// A node id that has no position in `tree.dat`.
    #[error("tree.dat: node (level {level}, index {index}) has no position")]
    NodePosition {
        /// Level.
        level: u8,
        /// Index.
        index: u64,
    },
    /// A proof the stored tree cannot plan for its own size.
    #[error("proof plan for a committed size: {0}")]
    Plan(attest_merkle::ProofError),
}

/// An index or size past what the log holds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OutOfRange {
    /// No committed entry with this index.
    #[error("no entry {index}: the log has {size}")]
    Entry {
        /// The index asked for.
        index: u64,
        /// The committed size.
        size: u64,
    },
    /// A tree size larger than the log.
    #[error("size {asked} is beyond the log's {size}")]
    Size {
        /// The size asked for.
        asked: u64,
        /// The committed size.
        size: u64,
    },
    /// Arguments no proof exists for (e.g. index ≥ size).
    #[error("{0}")]
    Proof(attest_merkle::ProofError),
}

fn io(context: &'static str) -> impl FnOnce(std::io::Error) -> StorageError {
    move |source| StorageError::Io { context, source }
}

fn synced_check(n: u64) -> [u8; 8] {
    let d = Sha256::new()
        .chain_update(b"attestlog-synced\0")
        .chain_update(n.to_le_bytes())
        .finalize();
    let mut out = [0; 8];
    out.copy_from_slice(&d[..8]);
    out
}

fn check_bytes(len: u32, time: i64, leaf: &Hash) -> [u8; CHECK] {
    let mut h = Sha256::new();
    h.update(b"attestlog-entry\0");
    h.update(len.to_le_bytes());
    h.update(time.to_le_bytes());
    h.update(leaf.as_bytes());
    let d = h.finalize();
    let mut out = [0; CHECK];
    out.copy_from_slice(&d[..CHECK]);
    out
}

/// Nodes stored for a tree of `n` leaves.
const fn node_count(n: u64) -> u64 {
    2 * n - n.count_ones() as u64
}

/// Position of a perfect node in `tree.dat` (post-order).
fn node_pos(id: NodeId) -> Option<u64> {
    let m = id.index.checked_add(1)?.checked_shl(u32::from(id.level))?;
    if m >> id.level != id.index + 1 {
        return None;
    }
    Some(node_count(m) - 1 - (u64::from(m.trailing_zeros()) - u64::from(id.level)))
}

/// The next record from a sequential reader at `off`, or `None` when what
/// follows is torn, damaged or absent.
fn read_next(r: &mut impl Read, off: u64, file_len: u64) -> Result<Option<Located>, StorageError> {
    if off.saturating_add((HEADER + CHECK) as u64) > file_len {
        return Ok(None);
    }
    let mut h = [0u8; HEADER];
    r.read_exact(&mut h).map_err(io("read entries.log"))?;
    let len = u32::from_le_bytes([h[0], h[1], h[2], h[3]]);
    let time = i64::from_le_bytes([h[4], h[5], h[6], h[7], h[8], h[9], h[10], h[11]]);
    let next = off
        .saturating_add((HEADER + CHECK) as u64)
        .saturating_add(u64::from(len));
    if next > file_len {
        return Ok(None);
    }
    let mut buf = vec![0u8; len as usize + CHECK];
    r.read_exact(&mut buf).map_err(io("read entries.log"))?;
    let check = buf.split_off(len as usize);
    let leaf = leaf_hash(&buf);
    if check[..] != check_bytes(len, time, &leaf)[..] {
        return Ok(None);
    }
    Ok(Some(Located {
        offset: off,
        next,
        record: Record {
            time,
            body: buf,
            leaf,
        },
    }))
}

/// A `Read` over a file from a position, by positional reads: a record is
/// read by the same [`read_next`] whether the file is scanned or an entry is
/// looked up, without moving the file's shared cursor.
struct PositionalReader<'a> {
    file: &'a File,
    pos: u64,
}

impl Read for PositionalReader<'_> {
    /// Fills `buf` entirely or fails (`read_next` only asks for what the
    /// file's length says is there).
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.file.pread_exact(buf, self.pos)?;
        self.pos += buf.len() as u64;
        Ok(buf.len())
    }
}

/// Flushes a directory, so that files created in it survive a crash (Unix;
/// elsewhere a directory cannot be opened for it and creation is durable).
fn sync_dir(dir: &Path) -> Result<(), StorageError> {
    #[cfg(unix)]
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io("sync the log directory"))?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// A record read back: its time and body.
pub(crate) struct Record {
    pub(crate) time: i64,
    pub(crate) body: Vec<u8>,
    /// The body's leaf hash (computed once, by the checksum test).
    pub(crate) leaf: Hash,
}

/// The files; every read is positional, so readers share them freely.
pub(crate) struct Files {
    entries: File,
    index: File,
    tree: File,
    synced: File,
    checkpoint: File,
}

/// What the log's directory holds, as its metadata says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// A new log: no files yet.
    New,
    /// A log written before `checkpoint.dat` existed: every intact record
    /// up to the first damaged one is taken (and `synced.dat` bounds it).
    Legacy,
    /// A log with `checkpoint.dat`.
    Current,
}

/// The durable checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DurableCheckpoint {
    pub(crate) seq: u64,
    pub(crate) size: u64,
    pub(crate) root: Hash,
    pub(crate) note: String,
}

const SLOT: usize = 4096;

fn checkpoint_check(head: &[u8]) -> [u8; 8] {
    let d = Sha256::new()
        .chain_update(b"attestlog-checkpoint\0")
        .chain_update(head)
        .finalize();
    let mut out = [0; 8];
    out.copy_from_slice(&d[..8]);
    out
}

fn parse_slot(b: &[u8]) -> Option<DurableCheckpoint> {
    let u64_at = |i: usize| {
        b.get(i..i + 8)
            .and_then(|s| s.try_into().ok())
            .map(u64::from_le_bytes)
    };
    let seq = u64_at(0)?;
    let size = u64_at(8)?;
    let root = Hash::from_slice(b.get(16..48)?)?;
    let len = u32::from_le_bytes(b.get(48..52)?.try_into().ok()?) as usize;
    let end = 52usize.checked_add(len)?;
    let note = b.get(52..end)?;
    let check = b.get(end..end + 8)?;
    if check != checkpoint_check(&b[..end]) {
        return None;
    }
    Some(DurableCheckpoint {
        seq,
        size,
        root,
        note: String::from_utf8(note.to_vec()).ok()?,
    })
}

/// What the writer alone owns.
pub(crate) struct Tail {
    range: CompactRange,
    end: u64,
    /// Entries the derived files hold durably.
    derived_synced: u64,
    /// The sequence number of the last durable checkpoint.
    checkpoint_seq: u64,
}

/// The result of opening: files, the writer's tail, the leaf-hash map.
pub(crate) struct Opened {
    pub(crate) files: Files,
    pub(crate) tail: Tail,
    pub(crate) uuids: HashMap<Hash, u64>,
    /// Torn bytes dropped from the end of `entries.log`.
    pub(crate) discarded_bytes: u64,
    /// Whether a derived file disagreed with the records and was rewritten.
    pub(crate) rebuilt_derived: bool,
    /// The durable checkpoint found (none for a new or legacy log).
    pub(crate) checkpoint: Option<DurableCheckpoint>,
}

/// What a read-only check of the files found.
#[derive(Debug, Clone)]
pub(crate) struct CheckFacts {
    pub(crate) records: u64,
    pub(crate) torn_tail_bytes: u64,
    pub(crate) damage: Option<Damage>,
    pub(crate) checkpoint: Option<DurableCheckpoint>,
    pub(crate) synced: u64,
    pub(crate) index_mismatches: u64,
    pub(crate) tree_mismatches: u64,
    pub(crate) excess_derived: bool,
}

/// A record's place in `entries.log`.
pub(crate) struct Located {
    pub(crate) offset: u64,
    pub(crate) next: u64,
    pub(crate) record: Record,
}

/// How a scan of `entries.log` ended.
pub(crate) struct ScanEnd {
    /// Intact records.
    pub(crate) records: u64,
    /// The offset after the last intact record.
    pub(crate) end: u64,
    /// Bytes after it.
    pub(crate) trailing: u64,
}

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

    fn len_of(&self, f: &File, context: &'static str) -> Result<u64, StorageError> {
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
    fn prove_derived(&self, size: u64, batch: &mut Batch) -> Result<bool, StorageError> {
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
    fn holds(&self, file: &File, bytes: &[u8], at: u64) -> bool {
        let mut have = vec![0u8; bytes.len()];
        file.pread_exact(&mut have, at).is_ok() && have == bytes
    }

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
    fn read_synced(&self) -> Result<u64, StorageError> {
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

    fn offset(&self, i: u64) -> Result<u64, StorageError> {
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

    fn write_derived(&self, tail: &Tail, batch: &mut Batch) -> Result<(), StorageError> {
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
    records: Vec<u8>,
    records_at: u64,
    index: Vec<u8>,
    nodes: Vec<u8>,
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

    fn stage_existing(&mut self, batch: &mut Batch, off: u64, leaf: Hash) {
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

/// Positional reads and writes, portably: `FileExt` on Unix, `seek_read` /
/// `seek_write` on Windows (which move the file cursor; the log never uses
/// the cursor of these files, so that is harmless there).
pub(crate) trait Positional {
    fn pread_exact(&self, buf: &mut [u8], offset: u64) -> std::io::Result<()>;
    fn pwrite_all(&self, buf: &[u8], offset: u64) -> std::io::Result<()>;
}

#[cfg(unix)]
impl Positional for File {
    fn pread_exact(&self, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
        std::os::unix::fs::FileExt::read_exact_at(self, buf, offset)
    }
    fn pwrite_all(&self, buf: &[u8], offset: u64) -> std::io::Result<()> {
        std::os::unix::fs::FileExt::write_all_at(self, buf, offset)
    }
}

#[cfg(windows)]
impl Positional for File {
    fn pread_exact(&self, mut buf: &mut [u8], mut offset: u64) -> std::io::Result<()> {
        use std::os::windows::fs::FileExt;
        while !buf.is_empty() {
            match self.seek_read(buf, offset)? {
                0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
                n => {
                    buf = &mut buf[n..];
                    offset += n as u64;
                }
            }
        }
        Ok(())
    }
    fn pwrite_all(&self, mut buf: &[u8], mut offset: u64) -> std::io::Result<()> {
        use std::os::windows::fs::FileExt;
        while !buf.is_empty() {
            match self.seek_write(buf, offset)? {
                0 => return Err(std::io::ErrorKind::WriteZero.into()),
                n => {
                    buf = &buf[n..];
                    offset += n as u64;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn post_order_positions() {
        // Append leaves and record where each completed node lands.
        let mut range = CompactRange::new();
        let mut pos = 0u64;
        for i in 0..1000u64 {
            range
                .append_with(leaf_hash(&i.to_le_bytes()), |id, _| {
                    assert_eq!(node_pos(id), Some(pos), "{id:?}");
                    pos += 1;
                })
                .unwrap();
            assert_eq!(node_count(i + 1), pos);
        }
        assert_eq!(node_pos(NodeId::new(63, 2)), None);
    }
}
