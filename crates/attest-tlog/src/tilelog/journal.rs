//! The tile log's journal: the durable truth of what the log acknowledged.
//!
//! One append-only file, one record per integrated batch, each synced before
//! any writer of the batch is answered:
//!
//! ```text
//! record  = "TLJ1" | u32-BE payload length | payload | 8-byte check
//! payload = u64-BE first index | u32-BE count | count × (u16-BE length | body)
//!         | the batch's signed checkpoint (the rest of the payload, UTF-8)
//! check   = SHA-256(length | payload)[..8]
//! ```
//!
//! The public files (tiles, bundles, `checkpoint`) are derived from it and
//! checked against it on every open, so a deleted or rolled-back public file
//! is refused, never believed. Hand-written rather than a database: it is
//! one append and one `fdatasync` per batch, read once sequentially on open,
//! and the format must stay readable forever.

use std::fs::{File, OpenOptions};
use std::io::{self, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};

use attest_merkle::MerkleTree;
use sha2::{Digest, Sha256};

/// The journal's file name in the log's directory.
pub(crate) const JOURNAL: &str = "journal";

const MAGIC: &[u8; 4] = b"TLJ1";
const HEADER: usize = 8;
const CHECK: usize = 8;
/// Largest payload a record may declare (a batch of 8,192 entries of 1 MiB
/// would not fit a `u16` bundle length anyway; this only bounds a damaged
/// length field's allocation).
const MAX_PAYLOAD: u32 = 1 << 30;

/// What reading the journal found wrong with it (not a torn tail).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JournalDamage {
    /// Byte offset of the damaged record.
    pub offset: u64,
    /// What is wrong.
    pub reason: &'static str,
}

/// The journal read back.
#[derive(Debug)]
pub(crate) struct Scan {
    /// The tree of every journaled entry.
    pub tree: MerkleTree,
    /// The entries of the last, partial entry bundle.
    pub edge: Vec<Vec<u8>>,
    /// The last record's checkpoint (empty when the journal has none).
    pub checkpoint: String,
    /// The tree size before the last record (the previous checkpoint's).
    pub previous_size: u64,
    /// Bytes of the intact records.
    pub intact: u64,
    /// Bytes after them: a record torn by a crash while it was being
    /// written (never acknowledged).
    pub torn: u64,
}

fn check_of(len: &[u8], payload: &[u8]) -> [u8; CHECK] {
    let d = Sha256::new()
        .chain_update(len)
        .chain_update(payload)
        .finalize();
    let mut out = [0u8; CHECK];
    out.copy_from_slice(&d[..CHECK]);
    out
}

/// One record's bytes.
pub(crate) fn encode(first: u64, bodies: &[Vec<u8>], checkpoint: &str) -> io::Result<Vec<u8>> {
    let mut payload = Vec::with_capacity(
        12 + bodies.iter().map(|b| b.len() + 2).sum::<usize>() + checkpoint.len(),
    );
    payload.extend_from_slice(&first.to_be_bytes());
    let count = u32::try_from(bodies.len()).map_err(|_| io::Error::other("batch too large"))?;
    payload.extend_from_slice(&count.to_be_bytes());
    for b in bodies {
        let len = u16::try_from(b.len())
            .map_err(|_| io::Error::other("an entry of more than 65535 bytes"))?;
        payload.extend_from_slice(&len.to_be_bytes());
        payload.extend_from_slice(b);
    }
    payload.extend_from_slice(checkpoint.as_bytes());
    let len = u32::try_from(payload.len())
        .ok()
        .filter(|l| *l <= MAX_PAYLOAD)
        .ok_or_else(|| io::Error::other("batch too large"))?;
    let mut rec = Vec::with_capacity(HEADER + payload.len() + CHECK);
    rec.extend_from_slice(MAGIC);
    rec.extend_from_slice(&len.to_be_bytes());
    rec.extend_from_slice(&payload);
    rec.extend_from_slice(&check_of(&len.to_be_bytes(), &payload));
    Ok(rec)
}

/// Reads every record of the journal at `path`, handing each entry to
/// `visit(index, body)` in order. A missing file reads as empty.
///
/// # Errors
/// `Ok(Err(damage))` for a damaged record that is not the torn tail.
pub(crate) fn scan(
    path: &Path,
    mut visit: impl FnMut(u64, &[u8]),
) -> io::Result<Result<Scan, JournalDamage>> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e),
    };
    let mut s = Scan {
        tree: MerkleTree::new(),
        edge: Vec::new(),
        checkpoint: String::new(),
        previous_size: 0,
        intact: 0,
        torn: 0,
    };
    let mut pos = 0usize;
    while pos < bytes.len() {
        let offset = pos as u64;
        let damaged = |reason| Ok(Err(JournalDamage { offset, reason }));
        let rest = &bytes[pos..];
        let Some((head, body)) = rest.split_first_chunk::<HEADER>() else {
            // A header cut short can only be the tail being written.
            s.torn = rest.len() as u64;
            break;
        };
        if &head[..4] != MAGIC {
            return damaged("no record starts here");
        }
        let len_bytes = [head[4], head[5], head[6], head[7]];
        let len = u32::from_be_bytes(len_bytes);
        if len > MAX_PAYLOAD {
            return damaged("impossible record length");
        }
        let len = len as usize;
        let end = len + CHECK;
        if body.len() < end {
            // Running past the end is a torn tail only if no intact record
            // follows (a damaged length field must not hide the rest).
            if intact_record_after(&bytes, pos + 1) {
                return damaged("record length runs into later records");
            }
            s.torn = rest.len() as u64;
            break;
        }
        let payload = &body[..len];
        if check_of(&len_bytes, payload)[..] != body[len..end] {
            if body.len() == end {
                // The last record, complete in length but not in content:
                // the write of it was cut (it was never synced, so never
                // acknowledged).
                s.torn = rest.len() as u64;
                break;
            }
            return damaged("record fails its checksum");
        }
        match read_payload(payload, &mut s, &mut visit) {
            Ok(()) => {}
            Err(reason) => return damaged(reason),
        }
        pos += HEADER + end;
        s.intact = pos as u64;
    }
    Ok(Ok(s))
}

/// Whether an intact record (magic, length and check all agree) starts
/// anywhere at or after `from`.
fn intact_record_after(bytes: &[u8], from: usize) -> bool {
    let mut at = from;
    while let Some(found) = bytes
        .get(at..)
        .and_then(|b| b.windows(MAGIC.len()).position(|w| w == MAGIC))
    {
        let pos = at + found;
        let rest = &bytes[pos..];
        if let Some((head, body)) = rest.split_first_chunk::<HEADER>() {
            let len_bytes = [head[4], head[5], head[6], head[7]];
            let len = u32::from_be_bytes(len_bytes) as usize;
            if let (Some(payload), Some(check)) = (body.get(..len), body.get(len..len + CHECK))
                && check_of(&len_bytes, payload)[..] == *check
            {
                return true;
            }
        }
        at = pos + 1;
    }
    false
}

fn read_payload(
    payload: &[u8],
    s: &mut Scan,
    visit: &mut impl FnMut(u64, &[u8]),
) -> Result<(), &'static str> {
    let (first, rest) = payload.split_first_chunk::<8>().ok_or("short record")?;
    let (count, mut rest) = rest.split_first_chunk::<4>().ok_or("short record")?;
    if u64::from_be_bytes(*first) != s.tree.size() {
        return Err("a batch that does not continue the one before it");
    }
    let previous = s.tree.size();
    for _ in 0..u32::from_be_bytes(*count) {
        let (len, tail) = rest.split_first_chunk::<2>().ok_or("short record")?;
        let len = usize::from(u16::from_be_bytes(*len));
        if tail.len() < len {
            return Err("short record");
        }
        let (entry, tail) = tail.split_at(len);
        let index = s.tree.push(entry);
        visit(index, entry);
        if s.edge.len() == 256 {
            s.edge.clear();
        }
        s.edge.push(entry.to_vec());
        rest = tail;
    }
    if s.edge.len() == 256 {
        s.edge.clear();
    }
    s.checkpoint = String::from_utf8(rest.to_vec()).map_err(|_| "checkpoint is not UTF-8")?;
    s.previous_size = previous;
    Ok(())
}

/// The journal open for appending.
#[derive(Debug)]
pub(crate) struct Journal {
    file: File,
    path: PathBuf,
}

impl Journal {
    /// Opens the journal at `path` for appending after its `intact` bytes
    /// (a torn tail after them is cut off first), creating it if missing.
    pub(crate) fn open(path: &Path, intact: u64) -> io::Result<Self> {
        let created = !path.exists();
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        if file.metadata()?.len() != intact {
            file.set_len(intact)?;
            file.sync_all()?;
        }
        file.seek(SeekFrom::Start(intact))?;
        if created && let Some(dir) = path.parent() {
            File::open(dir)?.sync_all()?;
        }
        Ok(Self {
            file,
            path: path.to_owned(),
        })
    }

    /// Appends one batch and syncs it: when this returns, the batch is
    /// acknowledged. On an error the journal is cut back to where it was.
    pub(crate) fn append(&mut self, record: &[u8]) -> io::Result<()> {
        let at = self.file.stream_position()?;
        let r = self
            .file
            .write_all(record)
            .and_then(|()| self.file.sync_data());
        if r.is_err() {
            // Best effort: a partial record would read as a torn tail anyway.
            let _ = self.file.set_len(at);
            let _ = self.file.seek(SeekFrom::Start(at));
        }
        r
    }

    /// The journal's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let p =
            std::env::temp_dir().join(format!("attestlog-journal-{name}-{}", std::process::id()));
        let _ = std::fs::remove_file(&p);
        p
    }

    fn bodies(from: u64, n: u64) -> Vec<Vec<u8>> {
        (from..from + n)
            .map(|i| format!("entry {i}").into_bytes())
            .collect()
    }

    #[test]
    fn records_read_back_and_a_torn_tail_is_cut() {
        let p = tmp("torn");
        let mut j = Journal::open(&p, 0).unwrap();
        j.append(&encode(0, &bodies(0, 3), "cp3\n").unwrap())
            .unwrap();
        j.append(&encode(3, &bodies(3, 300), "cp303\n").unwrap())
            .unwrap();
        let full = std::fs::read(&p).unwrap();
        let s = scan(&p, |_, _| {}).unwrap().unwrap();
        assert_eq!((s.tree.size(), s.previous_size, s.torn), (303, 3, 0));
        assert_eq!(s.checkpoint, "cp303\n");
        assert_eq!(s.edge.len(), 303 - 256);
        // Every cut of the last record reads as a torn tail, never damage.
        let first_len = encode(0, &bodies(0, 3), "cp3\n").unwrap().len();
        for cut in [first_len + 1, first_len + 7, full.len() - 1] {
            std::fs::write(&p, &full[..cut]).unwrap();
            let s = scan(&p, |_, _| {}).unwrap().unwrap();
            assert_eq!(
                (s.tree.size(), s.intact),
                (3, first_len as u64),
                "cut {cut}"
            );
            assert_eq!(s.torn, (cut - first_len) as u64);
        }
        // A flipped byte in the last record: torn (never synced, never
        // acknowledged); in an earlier record: damage.
        let mut b = full.clone();
        let last = b.len() - 20;
        b[last] ^= 1;
        std::fs::write(&p, &b).unwrap();
        assert_eq!(scan(&p, |_, _| {}).unwrap().unwrap().tree.size(), 3);
        let mut b = full.clone();
        b[12] ^= 1;
        std::fs::write(&p, &b).unwrap();
        assert_eq!(
            scan(&p, |_, _| {}).unwrap().unwrap_err(),
            JournalDamage {
                offset: 0,
                reason: "record fails its checksum"
            }
        );
        // Reopening for append cuts the torn tail.
        std::fs::write(&p, &full[..full.len() - 5]).unwrap();
        let s = scan(&p, |_, _| {}).unwrap().unwrap();
        let mut j = Journal::open(&p, s.intact).unwrap();
        j.append(&encode(3, &bodies(3, 1), "cp4\n").unwrap())
            .unwrap();
        let s = scan(&p, |_, _| {}).unwrap().unwrap();
        assert_eq!(
            (s.tree.size(), s.torn, s.checkpoint.as_str()),
            (4, 0, "cp4\n")
        );
        std::fs::remove_file(&p).unwrap();
    }

    #[test]
    fn a_damaged_length_is_damage_not_a_torn_tail() {
        let p = tmp("length");
        let mut j = Journal::open(&p, 0).unwrap();
        j.append(&encode(0, &bodies(0, 2), "a").unwrap()).unwrap();
        j.append(&encode(2, &bodies(2, 2), "b").unwrap()).unwrap();
        let mut b = std::fs::read(&p).unwrap();
        b[5] ^= 1; // the first record now claims 64 KiB more than the file has
        std::fs::write(&p, &b).unwrap();
        let d = scan(&p, |_, _| {}).unwrap().unwrap_err();
        assert_eq!(
            d,
            JournalDamage {
                offset: 0,
                reason: "record length runs into later records"
            }
        );
        std::fs::remove_file(&p).unwrap();
    }

    #[test]
    fn a_batch_that_skips_or_repeats_indices_is_damage() {
        let p = tmp("gap");
        let mut j = Journal::open(&p, 0).unwrap();
        j.append(&encode(0, &bodies(0, 2), "a").unwrap()).unwrap();
        j.append(&encode(1, &bodies(1, 2), "b").unwrap()).unwrap();
        j.append(&encode(3, &bodies(3, 1), "c").unwrap()).unwrap();
        let d = scan(&p, |_, _| {}).unwrap().unwrap_err();
        assert_eq!(d.reason, "a batch that does not continue the one before it");
        std::fs::remove_file(&p).unwrap();
    }
}
