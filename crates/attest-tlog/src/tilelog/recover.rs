//! Opening, checking and repairing a tile log: the journal is the truth,
//! and every public file is compared with what it gives.
//!
//! A public file that is missing, older, foreign or different is
//! [`TileDamage`]: `open` refuses, `check` reports it, and `repair`
//! rewrites the public files from the journal when that is provably safe
//! (the journal is intact, its last checkpoint verifies and nothing public
//! is *ahead* of it). One state is not damage: a crash after a batch was
//! journaled but before its public files were all written leaves the public
//! checkpoint exactly one batch behind, and opening finishes that publish.

use std::path::Path;

use attest_dsse::PublicKey;
use attest_merkle::tiles::{
    MAX_TILE_LEVEL, TILE_WIDTH, TileId, parse_entry_bundle, push_bundle_entry, tile_in_tree,
};
use attest_merkle::{Hash, MerkleTree, NodeId, leaf_hash};
use attest_rekor::{NoteVerifier, SignedNote};

use super::journal::{self, JOURNAL, Scan};
use super::{TileLogError, TileStore, io_err};

/// The log's identity file, beside the journal (never in the public store).
pub(crate) const META: &str = "tilelog.json";
/// The format `tilelog.json` names.
pub(crate) const FORMAT: &str = "attestlog-tile-log-2";

/// What is wrong with a checkpoint among the log's own files.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointProblem {
    /// It is not UTF-8.
    #[error("it is not UTF-8")]
    NotUtf8,
    /// It is not a signed note.
    #[error("it does not parse")]
    Parse(#[source] attest_rekor::NoteError),
    /// The log's key did not sign it.
    #[error("it is not signed by the log's key")]
    Signature(#[source] attest_rekor::NoteError),
    /// Its body is not a checkpoint.
    #[error("it has no checkpoint body")]
    Body(#[source] attest_merkle::CheckpointError),
    /// It names another log.
    #[error("it names the log {found}, not {expected}")]
    Origin {
        /// The origin line.
        found: String,
        /// This log's name.
        expected: String,
    },
    /// It is not the tree of the journal's entries.
    #[error("it is not the tree of the journal's entries")]
    NotJournalTree,
}

/// What is wrong with a tile log's files.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TileDamage {
    /// Public files (or a journal) exist but not the log's own state
    /// (`tilelog.json` and `journal`): without its journal the log cannot
    /// know which indices it already acknowledged.
    #[error(
        "the log's journal or tilelog.json is missing{}",
        if *.legacy { " (a tile log made before the journal existed: its public tilelog.json is of the first format; start a new log, this one's indices cannot be vouched for)" } else { "" }
    )]
    NoJournal {
        /// The public store holds a `tilelog.json` of the first format.
        legacy: bool,
    },
    /// `tilelog.json` is not JSON.
    #[error("tilelog.json is not JSON (line {line}, column {column})")]
    MetaJson {
        /// Where it stops being JSON (1-based).
        line: usize,
        /// The column (1-based).
        column: usize,
    },
    /// `tilelog.json` lacks a field (named) or has an unknown format.
    #[error("tilelog.json: {0}")]
    Meta(&'static str),
    /// A journal record that is damaged (not a torn tail).
    #[error("journal: {reason} (record at byte {offset})")]
    Journal {
        /// Byte offset of the record.
        offset: u64,
        /// What is wrong.
        reason: &'static str,
    },
    /// The journal's last checkpoint does not verify, or is not its tree.
    #[error("the journal's last checkpoint")]
    JournalCheckpoint(#[source] CheckpointProblem),
    /// The public `checkpoint` is missing.
    #[error("the public checkpoint is missing (the journal has {durable} entries)")]
    CheckpointMissing {
        /// The journal's tree size.
        durable: u64,
    },
    /// The public `checkpoint` does not parse, is not signed by the log's
    /// key, or names another log.
    #[error("the public checkpoint is not this log's")]
    CheckpointForeign(#[source] CheckpointProblem),
    /// The public checkpoint is a genuine one, older than the journal's
    /// (a copy written back from a backup or a cache).
    #[error("the public checkpoint is of size {public}, older than the journal's {durable}")]
    CheckpointBehind {
        /// The public checkpoint's size.
        public: u64,
        /// The journal's.
        durable: u64,
    },
    /// The public checkpoint is signed by this log for a larger tree than
    /// its journal holds: the journal was rolled back, and entries it lost
    /// may have been acknowledged.
    #[error(
        "the public checkpoint is of size {public}, ahead of the journal's {durable}: the journal was rolled back"
    )]
    CheckpointAhead {
        /// The public checkpoint's size.
        public: u64,
        /// The journal's.
        durable: u64,
    },
    /// The public checkpoint is signed by this log for the journal's size
    /// but another root.
    #[error("the public checkpoint signs another root for size {size}: a fork")]
    CheckpointFork {
        /// The size.
        size: u64,
    },
    /// The public `tilelog.json` (the log's name, key and creation, for
    /// readers and `log check`) is missing or not the log's.
    #[error("the public tilelog.json is {}", if *.missing { "missing" } else { "not this log's" })]
    PublicMeta {
        /// Missing (rather than different).
        missing: bool,
    },
    /// A hash tile is missing or differs from the journal's tree.
    #[error("{path} is {}", if *.missing { "missing" } else { "not what the journal gives" })]
    Tile {
        /// The tile's path.
        path: String,
        /// Missing (rather than different).
        missing: bool,
    },
    /// An entry bundle is missing or differs from the journal's entries.
    #[error("{path} is {}", if *.missing { "missing" } else { "not what the journal gives" })]
    Bundle {
        /// The bundle's path.
        path: String,
        /// Missing (rather than different).
        missing: bool,
    },
    /// A public tile or bundle for entries the journal does not have: the
    /// journal was rolled back (or the files are another log's).
    #[error("{path} covers entries the journal does not have (it has {durable})")]
    BeyondJournal {
        /// The file's path.
        path: String,
        /// The journal's tree size.
        durable: u64,
    },
}

impl TileDamage {
    /// Whether `log repair` may fix it by rewriting public files from the
    /// journal. Damage to the journal itself, or public evidence that the
    /// journal is behind, is never repaired: rewriting would re-issue
    /// indices that were acknowledged.
    #[must_use]
    pub const fn repairable(&self) -> bool {
        matches!(
            self,
            Self::CheckpointMissing { .. }
                | Self::PublicMeta { .. }
                | Self::CheckpointForeign(_)
                | Self::CheckpointBehind { .. }
                | Self::Tile { .. }
                | Self::Bundle { .. }
        )
    }
}

/// The log's identity from `tilelog.json`.
pub(crate) struct Meta {
    pub name: String,
    pub public: PublicKey,
    pub created: attest_dsse::Timestamp,
    /// This log's sequencer id: how it claims its public store.
    pub sequencer: String,
}

/// A new random sequencer id (128 bits, hex).
pub(crate) fn new_sequencer_id() -> Result<String, TileLogError> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| TileLogError::Io {
        context: "make a sequencer id".into(),
        source: std::io::Error::other(attest_dsse::ErrorChain(&e).to_string()),
    })?;
    Ok(base16ct::lower::encode_string(&b))
}

/// Reads `tilelog.json` from `dir`; `Ok(None)` when there is none.
pub(crate) fn read_meta(dir: &Path) -> Result<Option<Meta>, TileLogError> {
    let bytes = match std::fs::read(dir.join(META)) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err("read tilelog.json")(e)),
    };
    let bad = |m| TileLogError::Damaged(TileDamage::Meta(m));
    let v: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
        TileLogError::Damaged(TileDamage::MetaJson {
            line: e.line(),
            column: e.column(),
        })
    })?;
    if v["format"].as_str() != Some(FORMAT) {
        return Err(bad("an unknown format"));
    }
    let name = v["name"].as_str().ok_or_else(|| bad("no name"))?.to_owned();
    let public = v["publicKey"]
        .as_str()
        .and_then(|p| PublicKey::from_pem(p).ok())
        .ok_or_else(|| bad("no public key"))?;
    let created = v["created"]
        .as_str()
        .and_then(|t| attest_dsse::Timestamp::parse_rfc3339(t).ok())
        .ok_or_else(|| bad("no creation time"))?;
    let sequencer = v["sequencer"]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| bad("no sequencer id"))?
        .to_owned();
    Ok(Some(Meta {
        name,
        public,
        created,
        sequencer,
    }))
}

/// The public `tilelog.json`: the log's identity without its sequencer id.
pub(crate) fn public_meta_bytes(meta: &Meta) -> Vec<u8> {
    let v = serde_json::json!({
        "format": FORMAT,
        "name": meta.name,
        "publicKey": meta.public.to_pem(),
        "created": meta.created.to_string(),
    });
    serde_json::to_vec_pretty(&v).unwrap_or_default()
}

/// Whether a public `tilelog.json` is of the first format (a log made
/// before the journal: its identity and checkpoint were only public).
pub(crate) fn is_legacy_public_meta(bytes: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(bytes)
        .is_ok_and(|v| v["format"].as_str() == Some("attestlog-tile-log-1"))
}

/// Writes `tilelog.json` (atomically and durably).
pub(crate) fn write_meta(dir: &Path, meta: &Meta) -> Result<(), TileLogError> {
    let v = serde_json::json!({
        "format": FORMAT,
        "name": meta.name,
        "publicKey": meta.public.to_pem(),
        "created": meta.created.to_string(),
        "sequencer": meta.sequencer,
    });
    let bytes = serde_json::to_vec_pretty(&v).unwrap_or_default();
    super::DirStore::new(dir)
        .put(META, &bytes)
        .map_err(io_err("write tilelog.json"))
}

/// Beside the journal: the size of the last public checkpoint this log
/// wrote. It tells a crash that cut a publish short (the public checkpoint
/// one batch behind, and this file too) from a public checkpoint rolled
/// back after it was published (this file ahead of it).
pub(crate) const PUBLISHED: &str = "published";

/// The size in `published`; 0 when there is none or it does not parse.
pub(crate) fn read_published(dir: &Path) -> u64 {
    std::fs::read_to_string(dir.join(PUBLISHED))
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}

/// Records that the public checkpoint of `size` was written: in place, a
/// fixed-width decimal overwritten with one `pwrite` (one small write within
/// a page: a crash leaves the old value or the new; no new file per batch,
/// which on some file systems costs more than the write), not synced (a
/// power cut that loses it only makes a rolled-back public checkpoint look
/// like a cut publish, which opening then completes from the journal:
/// nothing is re-issued either way).
pub(crate) fn write_published(dir: &Path, size: u64) -> std::io::Result<()> {
    PublishedMarker::open(dir)?.set(size)
}

/// The `published` file, kept open by the sequencer.
#[derive(Debug)]
pub(crate) struct PublishedMarker(std::fs::File);

impl PublishedMarker {
    pub(crate) fn open(dir: &Path) -> std::io::Result<Self> {
        let f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(dir.join(PUBLISHED))?;
        Ok(Self(f))
    }

    pub(crate) fn set(&self, size: u64) -> std::io::Result<()> {
        use crate::storage::Positional as _;
        // 20 digits hold any u64; the same length every time.
        self.0.pwrite_all(format!("{size:020}").as_bytes(), 0)
    }
}

/// A hash tile's bytes, from the tree that holds its nodes.
pub(crate) fn tile_bytes(tree: &MerkleTree, tile: TileId) -> Vec<u8> {
    let level = (u32::from(tile.level) * 8) as u8;
    let first = tile.index * u64::from(TILE_WIDTH);
    (first..first + u64::from(tile.width))
        .filter_map(|i| tree.node(NodeId::new(level, i)))
        .flat_map(|h| h.0)
        .collect()
}

/// The journal read back and the public files compared with it.
pub(crate) struct Inspection {
    /// The journal.
    pub scan: Scan,
    /// Everything found wrong, unrepairable damage first.
    pub damage: Vec<TileDamage>,
    /// The public checkpoint is the journal's previous one: a crash cut
    /// the last publish short, and opening completes it.
    pub interrupted_publish: bool,
    /// Every partial tile and bundle file in the store that the journal
    /// reaches (`None` level: a bundle), superseded or not.
    pub partials: Vec<(Option<u8>, TileId)>,
}

/// How many leaves a public file's contents reach (`index·256 + width`
/// nodes at its level).
fn reach(level: u8, tile: TileId) -> u64 {
    let nodes = u128::from(tile.index) * 256 + u128::from(tile.width);
    let leaves = nodes << (8 * u32::from(level));
    u64::try_from(leaves).unwrap_or(u64::MAX)
}

/// Whether `tile` (as it is in the tree) holds other nodes than it did in
/// the tree of `size` leaves.
fn changed_since(level: u8, tile: TileId, size: u64) -> bool {
    let shift = 8 * u32::from(level);
    let nodes = if shift >= 64 { 0 } else { size >> shift };
    let before = nodes
        .saturating_sub(tile.index.saturating_mul(256))
        .min(u64::from(TILE_WIDTH));
    before != u64::from(tile.width)
}

/// Reads the journal in `dir` and compares every public file with it.
pub(crate) fn inspect(
    dir: &Path,
    public: &dyn TileStore,
    verifier: &NoteVerifier,
    meta: &Meta,
) -> Result<Inspection, TileLogError> {
    compare(dir, public, verifier, meta, read_journal(dir)?)
}

/// The journal in `dir`, read back (a damaged record is
/// [`TileDamage::Journal`]).
pub(crate) fn read_journal(dir: &Path) -> Result<Scan, TileLogError> {
    journal::scan(&dir.join(JOURNAL), |_, _| {})
        .map_err(io_err("read the journal"))?
        .map_err(|d| {
            TileLogError::Damaged(TileDamage::Journal {
                offset: d.offset,
                reason: d.reason,
            })
        })
}

/// Compares every public file with the journal already read as `scan`.
pub(crate) fn compare(
    dir: &Path,
    public: &dyn TileStore,
    verifier: &NoteVerifier,
    meta: &Meta,
    scan: Scan,
) -> Result<Inspection, TileLogError> {
    let name = meta.name.as_str();
    let damaged = |d| Err(TileLogError::Damaged(d));
    if scan.intact == 0 {
        return damaged(TileDamage::NoJournal { legacy: false });
    }
    let size = scan.tree.size();
    // The journal's own checkpoint: ours, for its tree.
    let journal_cp = verify_note(&scan.checkpoint, verifier, name)
        .map_err(|e| TileLogError::Damaged(TileDamage::JournalCheckpoint(e)))?;
    if journal_cp != (size, scan.tree.root()) {
        return damaged(TileDamage::JournalCheckpoint(
            CheckpointProblem::NotJournalTree,
        ));
    }
    let mut damage = Vec::new();
    let mut interrupted_publish = false;
    match public
        .get(META)
        .map_err(io_err("read the public tilelog.json"))?
    {
        None => damage.push(TileDamage::PublicMeta { missing: true }),
        Some(b) if b != public_meta_bytes(meta) => {
            damage.push(TileDamage::PublicMeta { missing: false });
        }
        Some(_) => {}
    }
    match public
        .get("checkpoint")
        .map_err(io_err("read checkpoint"))?
    {
        None => damage.push(TileDamage::CheckpointMissing { durable: size }),
        Some(bytes) => {
            let text = String::from_utf8(bytes).map_err(|_| CheckpointProblem::NotUtf8);
            match text.and_then(|t| verify_note(&t, verifier, name)) {
                Err(e) => damage.push(TileDamage::CheckpointForeign(e)),
                Ok((s, _)) if s > size => damage.push(TileDamage::CheckpointAhead {
                    public: s,
                    durable: size,
                }),
                Ok((s, root)) if scan.tree.root_at(s).ok() != Some(root) => {
                    damage.push(TileDamage::CheckpointFork { size: s });
                }
                Ok((s, _)) if s == size => {}
                Ok((s, _)) if s == scan.previous_size && read_published(dir) <= s => {
                    interrupted_publish = true;
                }
                Ok((s, _)) => damage.push(TileDamage::CheckpointBehind {
                    public: s,
                    durable: size,
                }),
            }
        }
    }
    // Files the journal's tree does not reach.
    let mut listed = public.list("tile/").map_err(io_err("list the tiles"))?;
    listed.sort();
    let mut partials = Vec::new();
    for path in listed {
        let Ok((level, tile)) = TileId::parse_path(&path) else {
            continue; // a temporary file, or nothing of ours
        };
        if reach(level.unwrap_or(0), tile) > size {
            damage.push(TileDamage::BeyondJournal {
                path,
                durable: size,
            });
        } else if tile.is_partial() {
            partials.push((level, tile));
        }
    }
    // Every tile and bundle of the tree. After an interrupted publish, the
    // last batch's files may be missing or older: opening rewrites them.
    let settled = if interrupted_publish {
        scan.previous_size
    } else {
        size
    };
    for level in 0..=MAX_TILE_LEVEL {
        let mut index = 0;
        while let Some(tile) = tile_in_tree(level, index, size) {
            index += 1;
            let in_flux = changed_since(level, tile, settled);
            let want = tile_bytes(&scan.tree, tile);
            let path = tile.path();
            match public.get(&path).map_err(io_err(format!("read {path}")))? {
                Some(got) if got == want => {}
                _ if in_flux => {}
                got => damage.push(TileDamage::Tile {
                    missing: got.is_none(),
                    path,
                }),
            }
            if level == 0 {
                let path = tile.entries_path();
                let got = public.get(&path).map_err(io_err(format!("read {path}")))?;
                let fits = got.as_deref().is_some_and(|b| {
                    parse_entry_bundle::<()>(tile, b).is_ok_and(|entries| {
                        entries.iter().enumerate().all(|(i, e)| {
                            scan.tree.leaf_hash(tile.index * 256 + i as u64) == Some(leaf_hash(e))
                        })
                    })
                });
                if !fits && !in_flux {
                    damage.push(TileDamage::Bundle {
                        missing: got.is_none(),
                        path,
                    });
                }
            }
        }
    }
    damage.sort_by_key(TileDamage::repairable);
    Ok(Inspection {
        scan,
        damage,
        interrupted_publish,
        partials,
    })
}

/// Parses and verifies a checkpoint note of this log: `(size, root)`.
fn verify_note(
    text: &str,
    verifier: &NoteVerifier,
    name: &str,
) -> Result<(u64, Hash), CheckpointProblem> {
    let note = SignedNote::parse(text).map_err(CheckpointProblem::Parse)?;
    note.verify(std::slice::from_ref(verifier))
        .map_err(CheckpointProblem::Signature)?;
    let cp = note.checkpoint().map_err(CheckpointProblem::Body)?;
    if cp.origin() != name {
        return Err(CheckpointProblem::Origin {
            found: cp.origin().to_owned(),
            expected: name.to_owned(),
        });
    }
    Ok((cp.size(), *cp.root()))
}

/// Rewrites every public file that differs from what the journal gives
/// (`tilelog.json`, bundles, hash tiles, then the checkpoint); the paths it
/// wrote.
pub(crate) fn rewrite_public(
    dir: &Path,
    public: &dyn TileStore,
    scan: &Scan,
    meta: &Meta,
) -> Result<Vec<String>, TileLogError> {
    let size = scan.tree.size();
    let mut written = Vec::new();
    let mut put_if_different = |path: String, bytes: &[u8]| -> Result<(), TileLogError> {
        let got = public.get(&path).map_err(io_err(format!("read {path}")))?;
        if got.as_deref() != Some(bytes) {
            public
                .put(&path, bytes)
                .map_err(io_err(format!("write {path}")))?;
            written.push(path);
        }
        Ok(())
    };
    put_if_different(META.to_owned(), &public_meta_bytes(meta))?;
    // Bundles, streamed from the journal (never all entries in memory).
    let mut bundle = Vec::new();
    let mut count = 0u16;
    let mut failed: Option<TileLogError> = None;
    let rescan = journal::scan(&dir.join(JOURNAL), |index, body| {
        if failed.is_some() || index >= size {
            return;
        }
        if push_bundle_entry(&mut bundle, body).is_err() {
            failed = Some(TileLogError::Damaged(TileDamage::Journal {
                offset: 0,
                reason: "an entry too long for a bundle",
            }));
            return;
        }
        count += 1;
        if count == TILE_WIDTH || index + 1 == size {
            let id = TileId {
                level: 0,
                index: index >> 8,
                width: count,
            };
            if let Err(e) = put_if_different(id.entries_path(), &bundle) {
                failed = Some(e);
            }
            bundle.clear();
            count = 0;
        }
    })
    .map_err(io_err("read the journal"))?;
    if let Err(d) = rescan {
        return Err(TileLogError::Damaged(TileDamage::Journal {
            offset: d.offset,
            reason: d.reason,
        }));
    }
    if let Some(e) = failed {
        return Err(e);
    }
    for level in 0..=MAX_TILE_LEVEL {
        let mut index = 0;
        while let Some(tile) = tile_in_tree(level, index, size) {
            put_if_different(tile.path(), &tile_bytes(&scan.tree, tile))?;
            index += 1;
        }
    }
    put_if_different("checkpoint".into(), scan.checkpoint.as_bytes())?;
    Ok(written)
}
