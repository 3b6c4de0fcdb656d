//! Compact ranges: the O(log n) summary of a contiguous run of leaves.
//!
//! A [`CompactRange`] over leaves `[begin, end)` holds the hashes of the fewest
//! perfect subtrees that exactly cover that run. Over a prefix (`begin == 0`)
//! it is the "frontier" of the tree: at most 64 hashes, enough to append
//! leaves and compute the root at any time. Appending a leaf costs one node
//! hash amortized; two adjacent ranges merge into one. This is the write path
//! of a log: the visitor passed to [`CompactRange::append_with`] sees every
//! perfect node as it is completed, so a log can persist exactly those.
//!
//! ```
//! use attest_merkle::{leaf_hash, CompactRange, MerkleTree};
//!
//! let mut left = CompactRange::new();
//! let mut right = CompactRange::starting_at(10);
//! let mut tree = MerkleTree::new();
//! for i in 0u32..25 {
//!     let h = leaf_hash(&i.to_be_bytes());
//!     if i < 10 { left.append(h).unwrap() } else { right.append(h).unwrap() }
//!     tree.push_leaf_hash(h);
//! }
//! left.merge(&right).unwrap();
//! assert_eq!(left.root().unwrap(), tree.root());
//!
//! let bytes = left.to_bytes();
//! assert_eq!(attest_merkle::CompactRange::from_bytes(&bytes).unwrap(), left);
//! ```

use core::fmt;

use crate::nodes::fold_right;
use crate::{HASH_LEN, Hash, NodeId, node_hash};

/// Most hashes a compact range can hold (126 for an arbitrary range of `u64`
/// leaf indices; 64 for a prefix).
pub const MAX_RANGE_HASHES: usize = 128;

/// Why a compact-range operation was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RangeError {
    /// The range already ends at `u64::MAX`; no more leaves fit.
    Full,
    /// [`CompactRange::merge`] needs `other.begin() == self.end()`.
    NotAdjacent {
        /// Where this range ends.
        end: u64,
        /// Where the other range begins.
        other_begin: u64,
    },
    /// A root exists only for a range that starts at leaf 0.
    NotAPrefix {
        /// Where this range begins.
        begin: u64,
    },
    /// Serialized form: `begin > end`.
    InvalidBounds {
        /// Encoded begin.
        begin: u64,
        /// Encoded end.
        end: u64,
    },
    /// Serialized form: the byte length does not match the bounds.
    WrongEncodedLength {
        /// Length the bounds call for.
        expected: usize,
        /// Length given.
        got: usize,
    },
}

impl RangeError {
    /// A stable, kebab-case name of the failure.
    #[must_use]
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::Full => "range-full",
            Self::NotAdjacent { .. } => "not-adjacent",
            Self::NotAPrefix { .. } => "not-a-prefix",
            Self::InvalidBounds { .. } => "invalid-bounds",
            Self::WrongEncodedLength { .. } => "wrong-encoded-length",
        }
    }
}

impl fmt::Display for RangeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full => f.write_str("the range already ends at the last possible leaf index"),
            Self::NotAdjacent { end, other_begin } => {
                write!(
                    f,
                    "cannot merge: this range ends at {end}, the other begins at {other_begin}"
                )
            }
            Self::NotAPrefix { begin } => {
                write!(f, "a range that begins at leaf {begin} has no tree root")
            }
            Self::InvalidBounds { begin, end } => {
                write!(f, "encoded range has begin {begin} > end {end}")
            }
            Self::WrongEncodedLength { expected, got } => {
                write!(
                    f,
                    "encoded range is {got} bytes, its bounds call for {expected}"
                )
            }
        }
    }
}

impl core::error::Error for RangeError {}

/// The levels of the perfect nodes covering `[begin, end)`: bits of `left`
/// (ascending) then bits of `right` (descending). Requires `begin <= end`.
fn decompose(begin: u64, end: u64) -> (u64, u64) {
    if begin == 0 {
        return (0, end);
    }
    let last_before = begin - 1;
    // Below the level where the paths to leaf `begin - 1` and to leaf `end`
    // part, zero bits of `begin - 1` are left-part nodes and one bits of `end`
    // are right-part nodes.
    let diverge = 63 - (last_before ^ end).leading_zeros();
    let mask = (1u64 << diverge) - 1;
    (!last_before & mask, end & mask)
}

/// Number of hashes in the compact range `[begin, end)`.
fn node_count(begin: u64, end: u64) -> usize {
    let (l, r) = decompose(begin, end);
    (l.count_ones() + r.count_ones()) as usize
}

/// The minimal set of perfect-subtree hashes covering leaves `[begin, end)`.
#[derive(Clone)]
pub struct CompactRange {
    begin: u64,
    end: u64,
    len: usize,
    hashes: [Hash; MAX_RANGE_HASHES],
}

impl PartialEq for CompactRange {
    fn eq(&self, other: &Self) -> bool {
        self.begin == other.begin && self.end == other.end && self.hashes() == other.hashes()
    }
}

impl Eq for CompactRange {}

impl fmt::Debug for CompactRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompactRange")
            .field("begin", &self.begin)
            .field("end", &self.end)
            .field("hashes", &self.hashes())
            .finish()
    }
}

impl Default for CompactRange {
    fn default() -> Self {
        Self::new()
    }
}

impl CompactRange {
    /// An empty range at leaf 0 (the frontier of an empty tree).
    #[must_use]
    pub const fn new() -> Self {
        Self::starting_at(0)
    }

    /// An empty range whose first leaf will be `begin`.
    #[must_use]
    pub const fn starting_at(begin: u64) -> Self {
        Self {
            begin,
            end: begin,
            len: 0,
            hashes: [Hash([0; HASH_LEN]); MAX_RANGE_HASHES],
        }
    }

    /// The first leaf covered.
    #[must_use]
    pub const fn begin(&self) -> u64 {
        self.begin
    }

    /// One past the last leaf covered (the tree size, for a prefix).
    #[must_use]
    pub const fn end(&self) -> u64 {
        self.end
    }

    /// Whether the range covers no leaves.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.begin == self.end
    }

    /// The hashes, left to right.
    #[must_use]
    pub fn hashes(&self) -> &[Hash] {
        &self.hashes[..self.len]
    }

    /// The ids of the nodes whose hashes [`hashes`](Self::hashes) holds, left
    /// to right.
    pub fn node_ids(&self) -> impl Iterator<Item = NodeId> + '_ {
        let (left, right) = decompose(self.begin, self.end);
        let mut pos = self.begin;
        let ascending = BitIter {
            bits: left,
            descending: false,
        };
        let descending = BitIter {
            bits: right,
            descending: true,
        };
        ascending.chain(descending).map(move |level| {
            let id = NodeId::new(level as u8, pos >> level);
            pos = pos.wrapping_add(1u64 << level);
            id
        })
    }

    /// Appends one leaf hash.
    ///
    /// # Errors
    /// [`RangeError::Full`] when the range already ends at `u64::MAX`.
    pub fn append(&mut self, leaf_hash: Hash) -> Result<(), RangeError> {
        self.append_with(leaf_hash, |_, _| {})
    }

    /// Appends one leaf hash and calls `visit` for every perfect node this
    /// completes: the leaf itself, then each parent formed by the append.
    ///
    /// # Errors
    /// [`RangeError::Full`] when the range already ends at `u64::MAX`.
    pub fn append_with(
        &mut self,
        leaf_hash: Hash,
        visit: impl FnMut(NodeId, &Hash),
    ) -> Result<(), RangeError> {
        self.push_node(0, leaf_hash, visit)
    }

    /// Appends `other`, which must begin where this range ends.
    ///
    /// # Errors
    /// [`RangeError::NotAdjacent`], or [`RangeError::Full`] (only for ranges
    /// that end at `u64::MAX`).
    pub fn merge(&mut self, other: &Self) -> Result<(), RangeError> {
        self.merge_with(other, |_, _| {})
    }

    /// [`merge`](Self::merge), calling `visit` for every node formed.
    ///
    /// # Errors
    /// As [`merge`](Self::merge).
    pub fn merge_with(
        &mut self,
        other: &Self,
        mut visit: impl FnMut(NodeId, &Hash),
    ) -> Result<(), RangeError> {
        if other.begin != self.end {
            return Err(RangeError::NotAdjacent {
                end: self.end,
                other_begin: other.begin,
            });
        }
        for (id, hash) in other.node_ids().zip(other.hashes()) {
            self.push_node(u32::from(id.level), *hash, &mut visit)?;
        }
        Ok(())
    }

    /// Adds a perfect node of `level` that starts at `self.end` (which is
    /// aligned to `level`), then merges it with its left siblings for as long
    /// as they lie inside the range.
    fn push_node(
        &mut self,
        level: u32,
        hash: Hash,
        mut visit: impl FnMut(NodeId, &Hash),
    ) -> Result<(), RangeError> {
        let width = 1u64.checked_shl(level).ok_or(RangeError::Full)?;
        let new_end = self.end.checked_add(width).ok_or(RangeError::Full)?;
        let mut level = level;
        let mut index = self.end >> level;
        let mut hash = hash;
        self.end = new_end;
        visit(NodeId::new(level as u8, index), &hash);
        // A right child whose left sibling starts inside the range: that
        // sibling is the last hash held (the decomposition is minimal).
        while index & 1 == 1 && ((index - 1) << level) >= self.begin && self.len > 0 {
            self.len -= 1;
            hash = node_hash(&self.hashes[self.len], &hash);
            index >>= 1;
            level += 1;
            visit(NodeId::new(level as u8, index), &hash);
        }
        if let Some(slot) = self.hashes.get_mut(self.len) {
            *slot = hash;
            self.len += 1;
        }
        Ok(())
    }

    /// The root of the tree of `end()` leaves ([`EMPTY_ROOT`](crate::EMPTY_ROOT)
    /// when empty). Costs `hashes().len() - 1` node hashes.
    ///
    /// # Errors
    /// [`RangeError::NotAPrefix`] when the range does not start at leaf 0.
    pub fn root(&self) -> Result<Hash, RangeError> {
        if self.begin != 0 {
            return Err(RangeError::NotAPrefix { begin: self.begin });
        }
        Ok(fold_right(self.hashes()))
    }

    /// Length of the serialized form: 16 + 32 × number of hashes.
    #[must_use]
    pub fn encoded_len(&self) -> usize {
        16 + HASH_LEN * self.len
    }

    /// Writes the serialized form — `begin` and `end` as big-endian `u64`,
    /// then the hashes left to right — into the start of `out` and returns
    /// the number of bytes written, or `None` if `out` is too short.
    pub fn encode_into(&self, out: &mut [u8]) -> Option<usize> {
        let n = self.encoded_len();
        let out = out.get_mut(..n)?;
        out[..8].copy_from_slice(&self.begin.to_be_bytes());
        out[8..16].copy_from_slice(&self.end.to_be_bytes());
        for (chunk, h) in out[16..].chunks_exact_mut(HASH_LEN).zip(self.hashes()) {
            chunk.copy_from_slice(&h.0);
        }
        Some(n)
    }

    /// The serialized form (see [`encode_into`](Self::encode_into)).
    #[cfg(feature = "alloc")]
    #[must_use]
    pub fn to_bytes(&self) -> alloc::vec::Vec<u8> {
        let mut v = alloc::vec![0u8; self.encoded_len()];
        let _ = self.encode_into(&mut v);
        v
    }

    /// Parses the serialized form; the number of hashes must be exactly the
    /// one the bounds determine.
    ///
    /// # Errors
    /// [`RangeError::WrongEncodedLength`] or [`RangeError::InvalidBounds`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, RangeError> {
        let (Some(&b), Some(&e)) = (
            bytes.first_chunk::<8>(),
            bytes.get(8..).and_then(<[u8]>::first_chunk::<8>),
        ) else {
            return Err(RangeError::WrongEncodedLength {
                expected: 16,
                got: bytes.len(),
            });
        };
        let begin = u64::from_be_bytes(b);
        let end = u64::from_be_bytes(e);
        if begin > end {
            return Err(RangeError::InvalidBounds { begin, end });
        }
        let count = node_count(begin, end);
        let expected = 16 + HASH_LEN * count;
        if bytes.len() != expected {
            return Err(RangeError::WrongEncodedLength {
                expected,
                got: bytes.len(),
            });
        }
        let mut range = Self::starting_at(begin);
        range.end = end;
        range.len = count;
        for (slot, chunk) in range
            .hashes
            .iter_mut()
            .zip(bytes[16..].chunks_exact(HASH_LEN))
        {
            slot.0.copy_from_slice(chunk);
        }
        Ok(range)
    }
}

/// Iterates over the set bit positions of a word.
struct BitIter {
    bits: u64,
    descending: bool,
}

impl Iterator for BitIter {
    type Item = u32;
    fn next(&mut self) -> Option<u32> {
        if self.bits == 0 {
            return None;
        }
        let bit = if self.descending {
            63 - self.bits.leading_zeros()
        } else {
            self.bits.trailing_zeros()
        };
        self.bits &= !(1u64 << bit);
        Some(bit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_counts_are_bounded() {
        assert_eq!(node_count(0, u64::MAX), 64);
        assert_eq!(node_count(1, u64::MAX), 126);
        assert_eq!(node_count(7, 7), 0);
        assert!(node_count(1, (1 << 63) + (1 << 62) - 1) <= MAX_RANGE_HASHES);
    }

    #[test]
    fn full_range_refuses_to_grow() {
        let mut bytes = [0u8; 16 + 32 * 64];
        bytes[8..16].copy_from_slice(&u64::MAX.to_be_bytes());
        let mut r = CompactRange::from_bytes(&bytes).unwrap();
        assert_eq!(r.append(Hash::default()), Err(RangeError::Full));
        assert_eq!(r.end(), u64::MAX);
    }

    #[test]
    fn decoding_rejects_bad_shapes() {
        assert!(matches!(
            CompactRange::from_bytes(&[0; 15]),
            Err(RangeError::WrongEncodedLength { .. })
        ));
        let mut bytes = [0u8; 16];
        bytes[7] = 2;
        bytes[15] = 1;
        assert_eq!(
            CompactRange::from_bytes(&bytes),
            Err(RangeError::InvalidBounds { begin: 2, end: 1 })
        );
        bytes[7] = 0;
        assert_eq!(
            CompactRange::from_bytes(&bytes),
            Err(RangeError::WrongEncodedLength {
                expected: 48,
                got: 16
            })
        );
    }
}
