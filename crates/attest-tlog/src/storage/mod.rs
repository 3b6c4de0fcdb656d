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

mod open;
mod write;
#[allow(unused_imports)]
pub(crate) use open::*;
#[allow(unused_imports)]
pub(crate) use write::*;

#[cfg(test)]
mod tests;

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
    #[error("{context}")]
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
