//! The embedded log's files. `entries.log` is the source of truth: one record
//! per entry, `len: u32 LE | integratedTime: i64 LE | body | check: 8 bytes`,
//! where `check` is the first 8 bytes of
//! `SHA-256("attestlog-entry\0" || len || time || leaf hash(body))`. Two
//! derived files make reads O(1) and proofs O(log n): `index.dat` (the
//! record offset of each entry, `u64 LE`) and `tree.dat` (every perfect
//! subtree hash in post-order, the order a compact range completes them).
//! Only `entries.log` is flushed before an entry is acknowledged; the derived
//! files are flushed every [`DERIVED_SYNC_EVERY`] entries (and on close),
//! after which `synced.dat` records how many entries they hold durably
//! (`count: u64 LE | first 8 bytes of SHA-256("attestlog-synced\0" || count)`).
//! On open, derived data past that count is not trusted: it is checked
//! against the log's tail and rebuilt from the records; a torn record at the
//! tail is discarded.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read};
use std::path::Path;

use attest_merkle::{CompactRange, Hash, NodeId, NodeReader, leaf_hash, root_nodes};
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
    #[error("entries.log: the record of entry {index} fails its checksum")]
    Record {
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

/// Largest `n` whose nodes fit in `nodes`.
fn leaves_for_nodes(nodes: u64) -> u64 {
    // node_count(n) >= 2n - 64, so n <= (nodes + 64) / 2.
    let mut n = nodes.saturating_add(64) / 2;
    while n > 0 && node_count(n) > nodes {
        n -= 1;
    }
    n
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
}

/// What the writer alone owns.
pub(crate) struct Tail {
    range: CompactRange,
    end: u64,
    /// Entries the derived files hold durably.
    derived_synced: u64,
}

/// The result of opening: files, the writer's tail, the leaf-hash map.
pub(crate) struct Opened {
    pub(crate) files: Files,
    pub(crate) tail: Tail,
    pub(crate) uuids: HashMap<Hash, u64>,
    /// Torn bytes dropped from the end of `entries.log`.
    pub(crate) discarded_bytes: u64,
}

impl Files {
    /// Opens (creating) the files in `dir` and repairs them.
    pub(crate) fn open(dir: &Path) -> Result<Opened, StorageError> {
        let open = |name: &str| {
            OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(dir.join(name))
        };
        let files = Self {
            entries: open("entries.log").map_err(io("open entries.log"))?,
            index: open("index.dat").map_err(io("open index.dat"))?,
            tree: open("tree.dat").map_err(io("open tree.dat"))?,
            synced: open("synced.dat").map_err(io("open synced.dat"))?,
        };
        let len = |f: &File, c| f.metadata().map(|m| m.len()).map_err(io(c));
        let entries_len = len(&files.entries, "stat entries.log")?;
        let n_index = len(&files.index, "stat index.dat")? / 8;
        let n_tree = leaves_for_nodes(len(&files.tree, "stat tree.dat")? / NODE);

        // The last entry both derived files cover, if its record is intact
        // and its leaf matches; otherwise step back (rare: only after a
        // machine crash lost derived pages).
        let mut k = n_index.min(n_tree).min(files.read_synced()?);
        let mut start = 0;
        while k > 0 {
            let off = files.offset(k - 1)?;
            match files.read_record_at(off, entries_len)? {
                Some((rec, next))
                    if files.read_node(NodeId::leaf(k - 1)).ok() == Some(rec.leaf) =>
                {
                    start = next;
                    break;
                }
                _ => k = k.saturating_sub(k.div_ceil(16).max(1)),
            }
        }
        files
            .index
            .set_len(k * 8)
            .map_err(io("truncate index.dat"))?;
        files
            .tree
            .set_len(node_count(k) * NODE)
            .map_err(io("truncate tree.dat"))?;
        let mut enc = Vec::with_capacity(16 + 32 * 64);
        enc.extend_from_slice(&0u64.to_be_bytes());
        enc.extend_from_slice(&k.to_be_bytes());
        for id in root_nodes(k) {
            enc.extend_from_slice(files.read_node(id)?.as_bytes());
        }
        let range =
            CompactRange::from_bytes(&enc).map_err(|e| StorageError::Corrupt(Damage::Tree(e)))?;
        let mut tail = Tail {
            range,
            end: start,
            derived_synced: 0,
        };

        // Records past the derived files: re-derive them; stop at the first
        // torn or damaged one and cut the file there.
        let mut off = start;
        let mut batch = Batch::default();
        while let Some((rec, next)) = files.read_record_at(off, entries_len)? {
            tail.stage_existing(&mut batch, off, rec.leaf);
            off = next;
            if batch.index.len() > 1 << 20 {
                files.write_derived(&tail, &mut batch)?;
            }
        }
        files.write_derived(&tail, &mut batch)?;
        tail.end = off;
        let discarded_bytes = entries_len - off;
        if discarded_bytes > 0 {
            files
                .entries
                .set_len(off)
                .map_err(io("truncate entries.log"))?;
        }
        files.entries.sync_data().map_err(io("sync entries.log"))?;
        files.sync_derived(&mut tail)?;
        let uuids = files.load_uuids(tail.range.end())?;
        Ok(Opened {
            files,
            tail,
            uuids,
            discarded_bytes,
        })
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

    /// Leaf hash → index for the first `n` entries, streaming `tree.dat`.
    fn load_uuids(&self, n: u64) -> Result<HashMap<Hash, u64>, StorageError> {
        let mut map = HashMap::with_capacity(usize::try_from(n).unwrap_or(0));
        let mut r = BufReader::with_capacity(1 << 20, &self.tree);
        let mut node = [0u8; 32];
        let mut skip = vec![0u8; 64 * 32];
        for i in 0..n {
            r.read_exact(&mut node).map_err(io("read tree.dat"))?;
            map.insert(Hash(node), i);
            let parents = (i + 1).trailing_zeros() as usize;
            r.read_exact(&mut skip[..parents * 32])
                .map_err(io("read tree.dat"))?;
        }
        Ok(map)
    }

    fn offset(&self, i: u64) -> Result<u64, StorageError> {
        let mut b = [0u8; 8];
        self.index
            .pread_exact(&mut b, i * 8)
            .map_err(io("read index.dat"))?;
        Ok(u64::from_le_bytes(b))
    }

    /// The record at `off` and the offset after it, or `None` if it is torn,
    /// damaged or beyond `file_len`.
    fn read_record_at(
        &self,
        off: u64,
        file_len: u64,
    ) -> Result<Option<(Record, u64)>, StorageError> {
        if off.saturating_add((HEADER + CHECK) as u64) > file_len {
            return Ok(None);
        }
        let mut h = [0u8; HEADER];
        self.entries
            .pread_exact(&mut h, off)
            .map_err(io("read entries.log"))?;
        let len = u32::from_le_bytes([h[0], h[1], h[2], h[3]]);
        let time = i64::from_le_bytes([h[4], h[5], h[6], h[7], h[8], h[9], h[10], h[11]]);
        let next = off
            .saturating_add((HEADER + CHECK) as u64)
            .saturating_add(u64::from(len));
        if next > file_len {
            return Ok(None);
        }
        let mut buf = vec![0u8; len as usize + CHECK];
        self.entries
            .pread_exact(&mut buf, off + HEADER as u64)
            .map_err(io("read entries.log"))?;
        let check = buf.split_off(len as usize);
        let leaf = leaf_hash(&buf);
        if check[..] != check_bytes(len, time, &leaf)[..] {
            return Ok(None);
        }
        Ok(Some((
            Record {
                time,
                body: buf,
                leaf,
            },
            next,
        )))
    }

    /// The committed entry at `index` (the caller knows it is committed).
    pub(crate) fn read_entry(&self, index: u64) -> Result<Record, StorageError> {
        let off = self.offset(index)?;
        let len = self
            .entries
            .metadata()
            .map_err(io("stat entries.log"))?
            .len();
        self.read_record_at(off, len)?
            .map(|(r, _)| r)
            .ok_or(StorageError::Corrupt(Damage::Record { index }))
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
trait Positional {
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
            assert_eq!(leaves_for_nodes(pos), i + 1);
        }
        assert_eq!(node_pos(NodeId::new(63, 2)), None);
    }
}
