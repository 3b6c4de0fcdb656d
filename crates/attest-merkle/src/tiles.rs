//! C2SP tlog-tiles: the static read API of tile-based logs (Rekor v2,
//! Tessera, Sunlight), and proofs computed from tiles that are each verified
//! against a checkpoint before a single hash of theirs is used.
//!
//! A tile at level `L`, index `N` holds up to 256 hashes: the nodes at Merkle
//! level `8·L` with indices `256·N ..`. A *full* tile has 256; the last tile of
//! a level in a tree that is not a multiple of `256^(L+1)` leaves is
//! *partial* (`.p/<W>`, `W` hashes). Entry bundles (`tile/entries/<N>`) hold
//! the leaves' data, each prefixed by its length as a big-endian `u16`.
//!
//! # How a tile is verified
//! - A full tile's 256 hashes fold into one node (level `8·L + 8`, index `N`),
//!   which is entry `N mod 256` of the tile above; that tile is verified first,
//!   so a mismatch is the lower tile's fault.
//! - Partial tiles are where the tree's right border lies: together, the
//!   partial tiles of every level hold exactly the tree's [`root_nodes`], so
//!   they are verified at once by folding them into the root of the
//!   checkpoint.
//!
//! [`TileReader`] does this for a checkpoint `(size, root)` the caller has
//! already verified, and is a [`NodeReader`]: [`inclusion_plan`] and
//! [`consistency_plan`] read proofs through it. Only verified tiles are handed
//! to [`TileSource::verified_tile`], so a cache behind it never keeps a lie.
//!
//! ```
//! use attest_merkle::tiles::{MemoryTiles, TileReader};
//! use attest_merkle::{MerkleTree, inclusion_plan, leaf_hash, verify_inclusion};
//!
//! let mut tree = MerkleTree::new();
//! for i in 0u32..1000 {
//!     tree.push(&i.to_be_bytes());
//! }
//! // A server's tiles (here: made from the tree) read against the root.
//! let tiles = MemoryTiles::from_tree(&tree);
//! let reader = TileReader::new(&tiles, tree.size(), tree.root());
//! let proof = inclusion_plan(700, 1000).unwrap().read_proof(&reader).unwrap();
//! verify_inclusion(700, 1000, &leaf_hash(&700u32.to_be_bytes()), &proof, &tree.root()).unwrap();
//! ```
//!
//! [`inclusion_plan`]: crate::inclusion_plan
//! [`consistency_plan`]: crate::consistency_plan

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::fmt::{self, Write as _};

use crate::nodes::{fold_right, root_nodes};
use crate::{HASH_LEN, Hash, NodeId, NodeReader, leaf_hash, node_hash};

/// Merkle levels per tile level.
pub const TILE_HEIGHT: u32 = 8;
/// Hashes in a full tile (and entries in a full bundle).
pub const TILE_WIDTH: u16 = 256;
/// Highest tile level a `u64`-sized tree has (levels 0..=7).
pub const MAX_TILE_LEVEL: u8 = 7;

/// One hash tile, or one entry bundle (`level` is unused for bundles).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TileId {
    /// Tile level: its hashes are nodes at Merkle level `8 · level`.
    pub level: u8,
    /// Index among the tiles of that level.
    pub index: u64,
    /// Number of hashes (1..=256); 256 is a full tile.
    pub width: u16,
}

impl TileId {
    /// Whether the tile is partial (`.p/<W>` in its path).
    #[must_use]
    pub const fn is_partial(&self) -> bool {
        self.width < TILE_WIDTH
    }

    /// The same tile when full.
    #[must_use]
    pub const fn full(&self) -> Self {
        Self {
            level: self.level,
            index: self.index,
            width: TILE_WIDTH,
        }
    }

    /// The hash tile's path: `tile/<L>/<N>[.p/<W>]`.
    #[must_use]
    pub fn path(&self) -> String {
        let mut s = String::with_capacity(40);
        let _ = write!(s, "tile/{}/", self.level);
        self.push_index(&mut s);
        s
    }

    /// The path of the entry bundle with this index and width:
    /// `tile/entries/<N>[.p/<W>]`.
    #[must_use]
    pub fn entries_path(&self) -> String {
        let mut s = String::with_capacity(40);
        s.push_str("tile/entries/");
        self.push_index(&mut s);
        s
    }

    fn push_index(&self, s: &mut String) {
        push_tile_index(s, self.index);
        if self.is_partial() {
            let _ = write!(s, ".p/{}", self.width);
        }
    }

    /// Parses `tile/<L>/<N>[.p/<W>]`, or `tile/entries/<N>[.p/<W>]` (then
    /// `Ok((None, id))` with `id.level == 0`). Only the canonical spelling
    /// is accepted: no leading zeros beyond the 3-digit groups, `x` on every
    /// group but the last, `W` in `1..=255`.
    ///
    /// # Errors
    /// [`TilePathError`] for anything else.
    pub fn parse_path(path: &str) -> Result<(Option<u8>, Self), TilePathError> {
        let rest = path.strip_prefix("tile/").ok_or(TilePathError)?;
        let (level, rest) = rest.split_once('/').ok_or(TilePathError)?;
        let level = if level == "entries" {
            None
        } else {
            let l: u8 = parse_decimal(level)?
                .try_into()
                .map_err(|_| TilePathError)?;
            if l > MAX_TILE_LEVEL {
                return Err(TilePathError);
            }
            Some(l)
        };
        let (index, width) = match rest.split_once(".p/") {
            Some((index, w)) => {
                let w = parse_decimal(w)?;
                if !(1..u64::from(TILE_WIDTH)).contains(&w) {
                    return Err(TilePathError);
                }
                (index, w as u16)
            }
            None => (rest, TILE_WIDTH),
        };
        let index = parse_tile_index(index)?;
        let id = Self {
            level: level.unwrap_or(0),
            index,
            width,
        };
        // The canonical path must round-trip (rejects "x000" style variants).
        let canonical = if level.is_some() {
            id.path()
        } else {
            id.entries_path()
        };
        if canonical != path {
            return Err(TilePathError);
        }
        Ok((level, id))
    }
}

impl fmt::Display for TileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path())
    }
}

/// A path that is not a canonical tile or entry-bundle path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TilePathError;

impl fmt::Display for TilePathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a canonical tlog-tiles path")
    }
}

impl core::error::Error for TilePathError {}

fn parse_decimal(s: &str) -> Result<u64, TilePathError> {
    if s.is_empty() || s.len() > 20 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(TilePathError);
    }
    s.parse().map_err(|_| TilePathError)
}

/// `N` as 3-digit groups, every group but the last prefixed with `x`:
/// 1234067 → `x001/x234/067`.
fn push_tile_index(s: &mut String, index: u64) {
    let mut groups = [0u16; 7];
    let mut n = 0;
    let mut v = index;
    loop {
        groups[n] = (v % 1000) as u16;
        n += 1;
        v /= 1000;
        if v == 0 {
            break;
        }
    }
    for (i, g) in groups[..n].iter().rev().enumerate() {
        if i + 1 < n {
            let _ = write!(s, "x{g:03}/");
        } else {
            let _ = write!(s, "{g:03}");
        }
    }
}

fn parse_tile_index(s: &str) -> Result<u64, TilePathError> {
    let mut value: u64 = 0;
    let mut groups = s.split('/').peekable();
    while let Some(g) = groups.next() {
        let last = groups.peek().is_none();
        let digits = if last {
            g
        } else {
            g.strip_prefix('x').ok_or(TilePathError)?
        };
        if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(TilePathError);
        }
        let d: u64 = digits.parse().map_err(|_| TilePathError)?;
        value = value
            .checked_mul(1000)
            .and_then(|v| v.checked_add(d))
            .ok_or(TilePathError)?;
    }
    Ok(value)
}

/// Number of nodes at Merkle level `8 · level` in a tree of `size` leaves.
fn nodes_at(level: u8, size: u64) -> u64 {
    let shift = u32::from(level) * TILE_HEIGHT;
    if shift >= 64 { 0 } else { size >> shift }
}

/// The tile of level `level` and index `index` in a tree of `size` leaves,
/// with its width in that tree; `None` if the tree has no such tile.
#[must_use]
pub fn tile_in_tree(level: u8, index: u64, size: u64) -> Option<TileId> {
    if level > MAX_TILE_LEVEL {
        return None;
    }
    let m = nodes_at(level, size);
    let first = index.checked_mul(u64::from(TILE_WIDTH))?;
    if first >= m {
        return None;
    }
    let width = (m - first).min(u64::from(TILE_WIDTH)) as u16;
    Some(TileId {
        level,
        index,
        width,
    })
}

/// The entry bundle holding leaf `index` in a tree of `size` leaves (level 0,
/// same index and width as the level-0 hash tile).
#[must_use]
pub fn bundle_for_leaf(index: u64, size: u64) -> Option<TileId> {
    if index >= size {
        return None;
    }
    tile_in_tree(0, index >> TILE_HEIGHT, size)
}

/// The partial tiles of a tree of `size` leaves, lowest level first: the
/// tiles whose hashes make up the tree's right border.
#[must_use]
pub fn partial_tiles(size: u64) -> Vec<TileId> {
    (0..=MAX_TILE_LEVEL)
        .filter_map(|level| {
            let m = nodes_at(level, size);
            let w = (m % u64::from(TILE_WIDTH)) as u16;
            (w != 0).then_some(TileId {
                level,
                index: m >> TILE_HEIGHT,
                width: w,
            })
        })
        .collect()
}

/// The root of a perfect subtree given its `2^k` leaves (here: tile hashes).
fn perfect_root(hashes: &[Hash]) -> Hash {
    debug_assert!(hashes.len().is_power_of_two());
    let mut level: Vec<Hash> = hashes.to_vec();
    while level.len() > 1 {
        level = level
            .chunks_exact(2)
            .map(|p| node_hash(&p[0], &p[1]))
            .collect();
    }
    level.first().copied().unwrap_or(crate::EMPTY_ROOT)
}

/// Splits tile bytes into hashes; `None` unless exactly `width` hashes.
fn parse_hashes(bytes: &[u8], width: u16) -> Option<Vec<Hash>> {
    if bytes.len() != usize::from(width) * HASH_LEN {
        return None;
    }
    Some(
        bytes
            .chunks_exact(HASH_LEN)
            .filter_map(Hash::from_slice)
            .collect(),
    )
}

/// Splits an entry bundle into its entries (each `u16`-BE length prefixed).
///
/// # Errors
/// [`TileError::BadBundle`] when the bytes do not hold exactly `id.width`
/// well-formed entries.
pub fn parse_entry_bundle<E>(id: TileId, bytes: &[u8]) -> Result<Vec<&[u8]>, TileError<E>> {
    let mut out = Vec::with_capacity(usize::from(id.width));
    let mut rest = bytes;
    while !rest.is_empty() {
        let bad = || TileError::BadBundle { bundle: id };
        let (len, tail) = rest.split_first_chunk::<2>().ok_or_else(bad)?;
        let len = usize::from(u16::from_be_bytes(*len));
        if tail.len() < len || out.len() == usize::from(id.width) {
            return Err(bad());
        }
        let (entry, tail) = tail.split_at(len);
        out.push(entry);
        rest = tail;
    }
    if out.len() != usize::from(id.width) {
        return Err(TileError::BadBundle { bundle: id });
    }
    Ok(out)
}

/// Appends one entry to a bundle being written (length prefix + data).
///
/// # Errors
/// [`EntryTooLong`] for an entry of more than 65,535 bytes.
pub fn push_bundle_entry(bundle: &mut Vec<u8>, entry: &[u8]) -> Result<(), EntryTooLong> {
    let len = u16::try_from(entry.len()).map_err(|_| EntryTooLong(entry.len()))?;
    bundle.extend_from_slice(&len.to_be_bytes());
    bundle.extend_from_slice(entry);
    Ok(())
}

/// An entry that does not fit an entry bundle's `u16` length prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryTooLong(pub usize);

impl fmt::Display for EntryTooLong {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "an entry of {} bytes does not fit a tile entry bundle (at most 65535)",
            self.0
        )
    }
}

impl core::error::Error for EntryTooLong {}

/// Where tiles come from: HTTP, a directory, object storage, memory.
pub trait TileSource {
    /// Why a tile could not be read.
    type Error;

    /// The bytes of a hash tile (`width · 32`). `fresh` is true when an
    /// earlier answer for this tile failed verification: a caching source
    /// must then skip its cache.
    ///
    /// # Errors
    /// Whatever the source reports.
    fn read_tile(&self, tile: TileId, fresh: bool) -> Result<Vec<u8>, Self::Error>;

    /// The bytes of an entry bundle (`tile` names the bundle's index and
    /// width; its level is 0). `fresh` as for [`read_tile`](Self::read_tile).
    ///
    /// # Errors
    /// Whatever the source reports.
    fn read_entry_bundle(&self, tile: TileId, fresh: bool) -> Result<Vec<u8>, Self::Error>;

    /// Called with a hash tile once it has verified against the checkpoint
    /// (a cache may keep it now). The default does nothing.
    fn verified_tile(&self, _tile: TileId, _bytes: &[u8]) {}

    /// Called with an entry bundle once every entry's leaf hash matched a
    /// verified tile. The default does nothing.
    fn verified_entry_bundle(&self, _tile: TileId, _bytes: &[u8]) {}
}

impl<S: TileSource + ?Sized> TileSource for &S {
    type Error = S::Error;
    fn read_tile(&self, tile: TileId, fresh: bool) -> Result<Vec<u8>, Self::Error> {
        (**self).read_tile(tile, fresh)
    }
    fn read_entry_bundle(&self, tile: TileId, fresh: bool) -> Result<Vec<u8>, Self::Error> {
        (**self).read_entry_bundle(tile, fresh)
    }
    fn verified_tile(&self, tile: TileId, bytes: &[u8]) {
        (**self).verified_tile(tile, bytes);
    }
    fn verified_entry_bundle(&self, tile: TileId, bytes: &[u8]) {
        (**self).verified_entry_bundle(tile, bytes);
    }
}

/// Why a tile, bundle or node could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TileError<E> {
    /// The source failed.
    Source(E),
    /// The tile is not `width · 32` bytes.
    BadLength {
        /// The tile.
        tile: TileId,
        /// Bytes received.
        got: usize,
    },
    /// A full tile's hash is not the one its parent tile holds.
    ParentMismatch {
        /// The tile.
        tile: TileId,
    },
    /// The partial tiles do not fold into the checkpoint's root.
    RootMismatch,
    /// An entry bundle that does not parse, or whose entries' leaf hashes
    /// are not the verified level-0 tile.
    BadBundle {
        /// The bundle.
        bundle: TileId,
    },
    /// A node or leaf outside the checkpoint's tree.
    OutOfTree,
}

impl<E> TileError<E> {
    /// The source's error, or this error when it is the tiles' own (which
    /// then has no source).
    ///
    /// # Errors
    /// The tiles' own error, when it is not the source's.
    pub fn into_source(self) -> Result<E, TileError<core::convert::Infallible>> {
        match self {
            Self::Source(e) => Ok(e),
            Self::BadLength { tile, got } => Err(TileError::BadLength { tile, got }),
            Self::ParentMismatch { tile } => Err(TileError::ParentMismatch { tile }),
            Self::RootMismatch => Err(TileError::RootMismatch),
            Self::BadBundle { bundle } => Err(TileError::BadBundle { bundle }),
            Self::OutOfTree => Err(TileError::OutOfTree),
        }
    }
}

impl<E: fmt::Display> fmt::Display for TileError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Source(e) => write!(f, "reading a tile: {e}"),
            Self::BadLength { tile, got } => write!(
                f,
                "{tile} has {got} bytes, not {}",
                usize::from(tile.width) * HASH_LEN
            ),
            Self::ParentMismatch { tile } => {
                write!(f, "{tile} does not hash to the node its parent tile holds")
            }
            Self::RootMismatch => {
                f.write_str("the partial tiles do not fold into the checkpoint's root")
            }
            Self::BadBundle { bundle } => write!(
                f,
                "{} is malformed or does not match its verified hash tile",
                bundle.entries_path()
            ),
            Self::OutOfTree => f.write_str("the node is not inside the checkpoint's tree"),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> core::error::Error for TileError<E> {}

/// Tiles read from a [`TileSource`] and verified against one checkpoint.
///
/// Verified tiles are kept in memory for the reader's life; build a new
/// reader for a new checkpoint.
pub struct TileReader<S> {
    source: S,
    size: u64,
    root: Hash,
    verified: RefCell<BTreeMap<(u8, u64), Vec<Hash>>>,
    reads: RefCell<u64>,
}

impl<S: fmt::Debug> fmt::Debug for TileReader<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TileReader")
            .field("source", &self.source)
            .field("size", &self.size)
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

impl<S: TileSource> TileReader<S> {
    /// A reader for the tree of `size` leaves whose root is `root`, taken
    /// from a checkpoint the caller has verified.
    pub fn new(source: S, size: u64, root: Hash) -> Self {
        Self {
            source,
            size,
            root,
            verified: RefCell::new(BTreeMap::new()),
            reads: RefCell::new(0),
        }
    }

    /// The tree size this reader verifies against.
    #[must_use]
    pub const fn size(&self) -> u64 {
        self.size
    }

    /// The source.
    pub const fn source(&self) -> &S {
        &self.source
    }

    /// How many tiles and bundles were requested from the source so far.
    #[must_use]
    pub fn source_reads(&self) -> u64 {
        *self.reads.borrow()
    }

    fn fetch(&self, tile: TileId, fresh: bool) -> Result<Vec<Hash>, TileError<S::Error>> {
        *self.reads.borrow_mut() += 1;
        let bytes = self
            .source
            .read_tile(tile, fresh)
            .map_err(TileError::Source)?;
        parse_hashes(&bytes, tile.width).ok_or(TileError::BadLength {
            tile,
            got: bytes.len(),
        })
    }

    fn is_verified(&self, tile: TileId) -> bool {
        self.verified
            .borrow()
            .contains_key(&(tile.level, tile.index))
    }

    fn keep(&self, tile: TileId, hashes: Vec<Hash>) {
        let mut bytes = Vec::with_capacity(hashes.len() * HASH_LEN);
        for h in &hashes {
            bytes.extend_from_slice(&h.0);
        }
        self.source.verified_tile(tile, &bytes);
        self.verified
            .borrow_mut()
            .insert((tile.level, tile.index), hashes);
    }

    /// Makes sure `tile` (a tile of this tree, with its width here) is
    /// verified: a full tile against its parent, partial tiles against the
    /// root.
    fn ensure(&self, tile: TileId) -> Result<(), TileError<S::Error>> {
        if self.is_verified(tile) {
            return Ok(());
        }
        if tile.is_partial() {
            return self.ensure_border();
        }
        // A full tile's node is entry `index % 256` of the tile above, which
        // always exists in the tree (it holds that node).
        let parent = tile_in_tree(tile.level + 1, tile.index >> TILE_HEIGHT, self.size)
            .ok_or(TileError::OutOfTree)?;
        self.ensure(parent)?;
        let expected = self
            .verified
            .borrow()
            .get(&(parent.level, parent.index))
            .and_then(|h| h.get((tile.index & 0xff) as usize).copied())
            .ok_or(TileError::OutOfTree)?;
        for fresh in [false, true] {
            let hashes = self.fetch(tile, fresh)?;
            if perfect_root(&hashes) == expected {
                self.keep(tile, hashes);
                return Ok(());
            }
        }
        Err(TileError::ParentMismatch { tile })
    }

    /// Verifies every partial tile at once by folding them into the root.
    fn ensure_border(&self) -> Result<(), TileError<S::Error>> {
        let tiles = partial_tiles(self.size);
        for fresh in [false, true] {
            let mut fetched = Vec::with_capacity(tiles.len());
            for t in &tiles {
                fetched.push(self.fetch(*t, fresh)?);
            }
            if border_root(self.size, &tiles, &fetched) == Some(self.root) {
                for (t, h) in tiles.iter().zip(fetched) {
                    self.keep(*t, h);
                }
                return Ok(());
            }
        }
        Err(TileError::RootMismatch)
    }

    /// The hash of a perfect node of this tree, from verified tiles.
    ///
    /// # Errors
    /// [`TileError`]: the node is outside the tree, a tile could not be read,
    /// or did not verify.
    pub fn node(&self, id: NodeId) -> Result<Hash, TileError<S::Error>> {
        let level = u32::from(id.level);
        let first = id.first_leaf().ok_or(TileError::OutOfTree)?;
        let count = 1u128 << level;
        if u128::from(first) + count > u128::from(self.size) {
            return Err(TileError::OutOfTree);
        }
        let tile_level = (level / TILE_HEIGHT) as u8;
        let r = level % TILE_HEIGHT;
        // The node's descendants at Merkle level 8·tile_level.
        let start = id.index << r;
        let tile = tile_in_tree(tile_level, start >> TILE_HEIGHT, self.size)
            .ok_or(TileError::OutOfTree)?;
        self.ensure(tile)?;
        let map = self.verified.borrow();
        let hashes = map
            .get(&(tile.level, tile.index))
            .ok_or(TileError::OutOfTree)?;
        let offset = (start & 0xff) as usize;
        let slice = hashes
            .get(offset..offset + (1usize << r))
            .ok_or(TileError::OutOfTree)?;
        Ok(perfect_root(slice))
    }

    /// The data of leaf `index`, from its entry bundle after every entry of
    /// the bundle matched the verified level-0 tile.
    ///
    /// # Errors
    /// [`TileError`].
    pub fn entry(&self, index: u64) -> Result<Vec<u8>, TileError<S::Error>> {
        let bundle = bundle_for_leaf(index, self.size).ok_or(TileError::OutOfTree)?;
        self.ensure(bundle)?;
        let expected = self
            .verified
            .borrow()
            .get(&(0, bundle.index))
            .cloned()
            .ok_or(TileError::OutOfTree)?;
        for fresh in [false, true] {
            *self.reads.borrow_mut() += 1;
            let bytes = self
                .source
                .read_entry_bundle(bundle, fresh)
                .map_err(TileError::Source)?;
            let Ok(entries) = parse_entry_bundle::<S::Error>(bundle, &bytes) else {
                continue;
            };
            if entries
                .iter()
                .zip(&expected)
                .all(|(e, h)| leaf_hash(e) == *h)
            {
                let entry = entries
                    .get((index & 0xff) as usize)
                    .map(|e| e.to_vec())
                    .ok_or(TileError::OutOfTree)?;
                self.source.verified_entry_bundle(bundle, &bytes);
                return Ok(entry);
            }
        }
        Err(TileError::BadBundle { bundle })
    }
}

/// The root that the partial tiles of a tree of `size` fold into, or `None`
/// if they do not cover its right border.
fn border_root(size: u64, tiles: &[TileId], hashes: &[Vec<Hash>]) -> Option<Hash> {
    let mut nodes = Vec::with_capacity(64);
    for id in root_nodes(size) {
        let level = u32::from(id.level);
        let tile_level = (level / TILE_HEIGHT) as u8;
        let r = level % TILE_HEIGHT;
        let start = id.index << r;
        let pos = tiles
            .iter()
            .position(|t| t.level == tile_level && t.index == start >> TILE_HEIGHT)?;
        let offset = (start & 0xff) as usize;
        nodes.push(perfect_root(
            hashes.get(pos)?.get(offset..offset + (1usize << r))?,
        ));
    }
    Some(fold_right(&nodes))
}

impl<S: TileSource> NodeReader for TileReader<S> {
    type Error = TileError<S::Error>;
    fn read_node(&self, id: NodeId) -> Result<Hash, Self::Error> {
        self.node(id)
    }
}

/// The tiles of a tree held in memory, for servers that build them and for
/// tests. Any size up to the tree's can be served: partial tiles are cut
/// from the hashes on request.
#[derive(Debug, Clone, Default)]
pub struct MemoryTiles {
    /// Per tile level, the node hashes at Merkle level `8 · L`.
    levels: Vec<Vec<Hash>>,
    entries: Vec<Vec<u8>>,
}

impl MemoryTiles {
    /// Tiles of `tree` (no entry bundles: [`with_entries`](Self::with_entries)).
    #[must_use]
    pub fn from_tree(tree: &crate::MerkleTree) -> Self {
        let size = tree.size();
        let levels = (0..=MAX_TILE_LEVEL)
            .map(|l| {
                let n = nodes_at(l, size);
                (0..n)
                    .filter_map(|i| tree.node(NodeId::new((u32::from(l) * TILE_HEIGHT) as u8, i)))
                    .collect::<Vec<_>>()
            })
            .take_while(|v| !v.is_empty())
            .collect();
        Self {
            levels,
            entries: Vec::new(),
        }
    }

    /// Tiles and entry bundles of a tree of these leaves' data.
    #[must_use]
    pub fn with_entries(entries: Vec<Vec<u8>>) -> Self {
        let mut tree = crate::MerkleTree::with_capacity(entries.len());
        for e in &entries {
            tree.push(e);
        }
        let mut tiles = Self::from_tree(&tree);
        tiles.entries = entries;
        tiles
    }

    /// The bytes of a tile, if this tree has it at that width or wider.
    #[must_use]
    pub fn tile_bytes(&self, tile: TileId) -> Option<Vec<u8>> {
        let level = self.levels.get(usize::from(tile.level))?;
        let first = usize::try_from(tile.index).ok()?.checked_mul(256)?;
        let hashes = level.get(first..first + usize::from(tile.width))?;
        Some(hashes.iter().flat_map(|h| h.0).collect())
    }

    /// The bytes of an entry bundle, if this tree has it at that width or
    /// wider.
    #[must_use]
    pub fn bundle_bytes(&self, tile: TileId) -> Option<Vec<u8>> {
        let first = usize::try_from(tile.index).ok()?.checked_mul(256)?;
        let entries = self.entries.get(first..first + usize::from(tile.width))?;
        let mut out = Vec::new();
        for e in entries {
            push_bundle_entry(&mut out, e).ok()?;
        }
        Some(out)
    }
}

/// A tile or bundle that a [`MemoryTiles`] does not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotFound(pub TileId);

impl fmt::Display for NotFound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} not found", self.0)
    }
}

impl TileSource for MemoryTiles {
    type Error = NotFound;
    fn read_tile(&self, tile: TileId, _fresh: bool) -> Result<Vec<u8>, NotFound> {
        self.tile_bytes(tile).ok_or(NotFound(tile))
    }
    fn read_entry_bundle(&self, tile: TileId, _fresh: bool) -> Result<Vec<u8>, NotFound> {
        self.bundle_bytes(tile).ok_or(NotFound(tile))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_the_spec() {
        let t = |level, index, width| TileId {
            level,
            index,
            width,
        };
        assert_eq!(t(0, 0, 256).path(), "tile/0/000");
        assert_eq!(t(1, 1_234_067, 256).path(), "tile/1/x001/x234/067");
        assert_eq!(t(2, 5, 17).path(), "tile/2/005.p/17");
        assert_eq!(t(0, 1000, 256).entries_path(), "tile/entries/x001/000");
        assert_eq!(
            t(7, u64::MAX, 1).path(),
            "tile/7/x018/x446/x744/x073/x709/x551/615.p/1"
        );
        for p in [
            "tile/0/000",
            "tile/1/x001/x234/067",
            "tile/2/005.p/17",
            "tile/entries/x001/000.p/255",
        ] {
            let (level, id) = TileId::parse_path(p).unwrap();
            let back = if level.is_some() {
                id.path()
            } else {
                id.entries_path()
            };
            assert_eq!(back, p);
        }
        for bad in [
            "tile/0/0",
            "tile/0/x000/001",
            "tile/0/001/002",
            "tile/0/x1/002",
            "tile/8/000",
            "tile/0/000.p/0",
            "tile/0/000.p/256",
            "tile/0/000.p/017",
            "tile/00/000",
            "tile/0/x018/x446/x744/x073/x709/x551/616",
            "tiles/0/000",
            "tile/0/000/",
        ] {
            assert!(TileId::parse_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn partial_tiles_of_a_size() {
        assert!(partial_tiles(0).is_empty());
        assert!(partial_tiles(256 * 256).iter().all(|t| t.level == 2));
        let p = partial_tiles(256 * 256 + 256 * 3 + 7);
        assert_eq!(
            p,
            [
                TileId {
                    level: 0,
                    index: 259,
                    width: 7
                },
                TileId {
                    level: 1,
                    index: 1,
                    width: 3
                },
                TileId {
                    level: 2,
                    index: 0,
                    width: 1
                },
            ]
        );
    }

    #[test]
    fn bundles_round_trip_and_refuse_damage() {
        let id = TileId {
            level: 0,
            index: 0,
            width: 3,
        };
        let mut b = Vec::new();
        for e in [&b"a"[..], b"", b"ccc"] {
            push_bundle_entry(&mut b, e).unwrap();
        }
        let entries = parse_entry_bundle::<()>(id, &b).unwrap();
        assert_eq!(entries, [&b"a"[..], b"", b"ccc"]);
        assert!(parse_entry_bundle::<()>(id, &b[..b.len() - 1]).is_err());
        let mut more = b.clone();
        push_bundle_entry(&mut more, b"d").unwrap();
        assert!(parse_entry_bundle::<()>(id, &more).is_err());
        assert!(push_bundle_entry(&mut b, &[0u8; 65536]).is_err());
    }
}
