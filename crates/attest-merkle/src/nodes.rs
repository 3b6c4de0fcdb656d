//! Storage-independent proof generation.
//!
//! Which node hashes a proof needs is pure arithmetic on (index, size) or
//! (size1, size2); where the hashes come from is a [`NodeReader`]. A log keeps
//! only the *perfect* subtrees (nodes whose leaves are all present); the one
//! non-perfect proof element that a tree whose size is not a power of two can
//! need (the "ephemeral" node on the right border) is folded from the perfect
//! nodes that cover the same leaves.
//!
//! ```
//! use attest_merkle::{inclusion_plan, leaf_hash, verify_inclusion, MerkleTree};
//!
//! let mut tree = MerkleTree::new();
//! for i in 0u32..21 {
//!     tree.push(&i.to_be_bytes());
//! }
//! let plan = inclusion_plan(7, 21).unwrap();
//! // Any storage that can hand out perfect nodes by id can build the proof.
//! let proof = plan.read_proof(&tree).unwrap();
//! let leaf = leaf_hash(&7u32.to_be_bytes());
//! verify_inclusion(7, 21, &leaf, &proof, &tree.root()).unwrap();
//! ```

use core::ops::{Deref, Range};

use crate::verify::{consistency_proof_len, inclusion_proof_len};
use crate::{EMPTY_ROOT, Hash, ProofError, node_hash};

/// Longest possible proof: an inclusion proof has at most 64 hashes; a
/// consistency proof near `u64::MAX` leaves can need one more.
pub const MAX_PROOF_LEN: usize = 65;

/// Most node ids a [`ProofPlan`] can list (proof elements plus the perfect
/// nodes an ephemeral element expands into).
pub const MAX_PLAN_NODES: usize = 2 * MAX_PROOF_LEN;

/// A perfect subtree: `2^level` leaves starting at leaf `index << level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct NodeId {
    /// Height above the leaves (0 = a leaf).
    pub level: u8,
    /// Position among the nodes of this level, from the left.
    pub index: u64,
}

impl NodeId {
    /// The node at `level`, `index`.
    #[must_use]
    pub const fn new(level: u8, index: u64) -> Self {
        Self { level, index }
    }

    /// The leaf at `index`.
    #[must_use]
    pub const fn leaf(index: u64) -> Self {
        Self { level: 0, index }
    }

    /// The first leaf the node covers, or `None` if that is beyond `u64`.
    #[must_use]
    pub const fn first_leaf(&self) -> Option<u64> {
        let shifted = match self.index.checked_shl(self.level as u32) {
            Some(v) => v,
            None => return None,
        };
        // checked_shl only checks the shift amount; make sure no bits fell off.
        if self.level > 0 && self.index >> (64 - self.level as u32) != 0 {
            return None;
        }
        Some(shifted)
    }
}

/// Source of perfect-subtree hashes: a database table, files, remote tiles or
/// an in-memory tree.
pub trait NodeReader {
    /// Why a node could not be read (missing, I/O, corruption…).
    type Error;

    /// The hash of one perfect subtree.
    ///
    /// # Errors
    /// Whatever the storage reports.
    fn read_node(&self, id: NodeId) -> Result<Hash, Self::Error>;

    /// The hashes of several nodes, in order, into `out` (same length as
    /// `ids`). Override to batch the reads; the default calls
    /// [`read_node`](Self::read_node) for each id.
    ///
    /// # Errors
    /// Whatever the storage reports.
    fn read_nodes(&self, ids: &[NodeId], out: &mut [Hash]) -> Result<(), Self::Error> {
        for (id, slot) in ids.iter().zip(out.iter_mut()) {
            *slot = self.read_node(*id)?;
        }
        Ok(())
    }
}

impl<R: NodeReader + ?Sized> NodeReader for &R {
    type Error = R::Error;
    fn read_node(&self, id: NodeId) -> Result<Hash, Self::Error> {
        (**self).read_node(id)
    }
    fn read_nodes(&self, ids: &[NodeId], out: &mut [Hash]) -> Result<(), Self::Error> {
        (**self).read_nodes(ids, out)
    }
}

/// A proof: a fixed-capacity list of at most [`MAX_PROOF_LEN`] hashes that
/// lives on the stack and dereferences to `&[Hash]`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Proof {
    len: usize,
    hashes: [Hash; MAX_PROOF_LEN],
}

impl Proof {
    const fn empty() -> Self {
        Self {
            len: 0,
            hashes: [EMPTY_ROOT; MAX_PROOF_LEN],
        }
    }

    /// The proof hashes, from the leaf side up.
    #[must_use]
    pub fn as_slice(&self) -> &[Hash] {
        &self.hashes[..self.len]
    }

    fn push(&mut self, h: Hash) {
        if let Some(slot) = self.hashes.get_mut(self.len) {
            *slot = h;
            self.len += 1;
        }
    }
}

impl Deref for Proof {
    type Target = [Hash];
    fn deref(&self) -> &[Hash] {
        self.as_slice()
    }
}

impl core::fmt::Debug for Proof {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

/// The node ids a proof needs, in proof order.
///
/// Each id is one proof hash, except the ids in [`ephemeral`](Self::ephemeral),
/// which together make one proof hash: they are folded right to left
/// (`H(a, H(b, c))`).
#[derive(Clone, Copy)]
pub struct ProofPlan {
    ids: [NodeId; MAX_PLAN_NODES],
    len: usize,
    ephemeral: (usize, usize),
}

impl core::fmt::Debug for ProofPlan {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ProofPlan")
            .field("nodes", &self.nodes())
            .field("ephemeral", &self.ephemeral())
            .finish()
    }
}

impl ProofPlan {
    const fn empty() -> Self {
        Self {
            ids: [NodeId::new(0, 0); MAX_PLAN_NODES],
            len: 0,
            ephemeral: (0, 0),
        }
    }

    /// Every node to read, in order.
    #[must_use]
    pub fn nodes(&self) -> &[NodeId] {
        &self.ids[..self.len]
    }

    /// The positions in [`nodes`](Self::nodes) that fold into a single proof
    /// hash (empty when the proof needs no ephemeral node).
    #[must_use]
    pub const fn ephemeral(&self) -> Range<usize> {
        self.ephemeral.0..self.ephemeral.1
    }

    /// Number of hashes in the finished proof.
    #[must_use]
    pub const fn proof_len(&self) -> usize {
        let (a, b) = self.ephemeral;
        if b > a {
            self.len - (b - a) + 1
        } else {
            self.len
        }
    }

    fn push(&mut self, id: NodeId) {
        if let Some(slot) = self.ids.get_mut(self.len) {
            *slot = id;
            self.len += 1;
        }
    }

    /// Builds the proof from the hashes of [`nodes`](Self::nodes), given in
    /// the same order. `None` when `hashes` has the wrong length.
    #[must_use]
    pub fn assemble(&self, hashes: &[Hash]) -> Option<Proof> {
        if hashes.len() != self.len {
            return None;
        }
        let (a, b) = self.ephemeral;
        let mut proof = Proof::empty();
        let mut i = 0;
        while i < hashes.len() {
            if i == a && b > a {
                proof.push(fold_right(&hashes[a..b]));
                i = b;
            } else {
                proof.push(hashes[i]);
                i += 1;
            }
        }
        Some(proof)
    }

    /// Reads the nodes from `reader` and builds the proof.
    ///
    /// # Errors
    /// The reader's error.
    pub fn read_proof<R: NodeReader + ?Sized>(&self, reader: &R) -> Result<Proof, R::Error> {
        let mut buf = [EMPTY_ROOT; MAX_PLAN_NODES];
        let hashes = &mut buf[..self.len];
        reader.read_nodes(self.nodes(), hashes)?;
        // The buffer has exactly `self.len` hashes, so assembly cannot fail.
        Ok(self.assemble(hashes).unwrap_or_else(Proof::empty))
    }

    /// Appends the proof path of the perfect node (`level`, `index`) inside a
    /// tree of `size` leaves: its siblings from the bottom up, where a right
    /// sibling that is cut off by `size` becomes the ephemeral range.
    fn push_path(&mut self, level: u32, index: u64, size: u64) {
        let size = u128::from(size);
        let mut level = level;
        let mut index = u128::from(index);
        // Stop when the node covers the whole tree: index 0 and 2^level >= size.
        while level < 64 && !(index == 0 && (1u128 << level) >= size) {
            if index & 1 == 1 {
                self.push(node_id(level, index - 1));
            } else {
                let sibling_begin = (index + 1) << level;
                let sibling_end = (index + 2) << level;
                if sibling_end <= size {
                    self.push(node_id(level, index + 1));
                } else if sibling_begin < size {
                    let start = self.len;
                    push_range(self, sibling_begin, size);
                    self.ephemeral = (start, self.len);
                }
                // else: no right sibling in this tree; the node is promoted.
            }
            index >>= 1;
            level += 1;
        }
    }
}

fn node_id(level: u32, index: u128) -> NodeId {
    // Callers keep level < 64 and index < 2^64 (indices of nodes inside a tree
    // of at most u64::MAX leaves).
    NodeId::new(level as u8, index as u64)
}

/// Pushes the perfect nodes that exactly cover `[begin, end)` when `begin` is
/// aligned to a level above every bit of `end - begin`: largest first.
fn push_range(plan: &mut ProofPlan, begin: u128, end: u128) {
    let mut pos = begin;
    let mut rem = end - begin;
    while rem != 0 {
        let level = 127 - rem.leading_zeros();
        plan.push(node_id(level, pos >> level));
        pos += 1u128 << level;
        rem &= !(1u128 << level);
    }
}

/// Folds hashes right to left: `[a, b, c]` becomes `H(a, H(b, c))`.
pub(crate) fn fold_right(hashes: &[Hash]) -> Hash {
    let mut iter = hashes.iter().rev();
    let Some(last) = iter.next() else {
        return EMPTY_ROOT;
    };
    let mut acc = *last;
    for h in iter {
        acc = node_hash(h, &acc);
    }
    acc
}

/// The nodes an inclusion proof for leaf `index` in a tree of `size` needs.
///
/// # Errors
/// [`ProofError::IndexOutOfRange`] when `index >= size`.
pub fn inclusion_plan(index: u64, size: u64) -> Result<ProofPlan, ProofError> {
    inclusion_proof_len(index, size)?;
    let mut plan = ProofPlan::empty();
    plan.push_path(0, index, size);
    Ok(plan)
}

/// The nodes an RFC 9162 consistency proof from `size1` to `size2` needs
/// (strict policy: `0 < size1 <= size2`; equal sizes need no nodes).
///
/// # Errors
/// [`ProofError::SizeDecreased`] or [`ProofError::EmptyOldTree`].
pub fn consistency_plan(size1: u64, size2: u64) -> Result<ProofPlan, ProofError> {
    consistency_proof_len(size1, size2)?;
    let mut plan = ProofPlan::empty();
    if size1 == size2 {
        return Ok(plan);
    }
    // The old tree's rightmost perfect subtree: the proof is its inclusion
    // path in the new tree, preceded by its own hash unless it is the whole
    // old tree (size1 a power of two), which the verifier already knows.
    let level = size1.trailing_zeros();
    let index = (size1 >> level) - 1;
    if index != 0 {
        plan.push(NodeId::new(level as u8, index));
    }
    plan.push_path(level, index, size2);
    Ok(plan)
}

/// The perfect nodes whose right-to-left fold is the root of a tree of `size`
/// leaves, largest (leftmost) first. Empty for `size == 0`.
pub fn root_nodes(size: u64) -> impl Iterator<Item = NodeId> {
    let mut pos = 0u64;
    let mut rem = size;
    core::iter::from_fn(move || {
        if rem == 0 {
            return None;
        }
        let level = 63 - rem.leading_zeros();
        let id = NodeId::new(level as u8, pos >> level);
        pos = pos.wrapping_add(1u64 << level);
        rem &= !(1u64 << level);
        Some(id)
    })
}

/// Reads the root of the tree of `size` leaves from `reader`
/// ([`EMPTY_ROOT`] for size 0).
///
/// # Errors
/// The reader's error.
pub fn read_root<R: NodeReader + ?Sized>(reader: &R, size: u64) -> Result<Hash, R::Error> {
    let mut ids = [NodeId::default(); 64];
    let mut n = 0;
    for (slot, id) in ids.iter_mut().zip(root_nodes(size)) {
        *slot = id;
        n += 1;
    }
    let mut hashes = [EMPTY_ROOT; 64];
    reader.read_nodes(&ids[..n], &mut hashes[..n])?;
    Ok(fold_right(&hashes[..n]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_for_ephemeral_sibling() {
        // Leaf 0 in a tree of 7: siblings leaf 1, node (1,1), and the
        // ephemeral right half [4,7) = node (1,2) + leaf 6.
        let plan = inclusion_plan(0, 7).unwrap();
        assert_eq!(
            plan.nodes(),
            &[
                NodeId::new(0, 1),
                NodeId::new(1, 1),
                NodeId::new(1, 2),
                NodeId::new(0, 6)
            ]
        );
        assert_eq!(plan.ephemeral(), 2..4);
        assert_eq!(plan.proof_len(), 3);
    }

    #[test]
    fn plans_at_the_extremes() {
        let plan = inclusion_plan(u64::MAX - 1, u64::MAX).unwrap();
        assert_eq!(plan.proof_len(), 63);
        let plan = inclusion_plan(0, u64::MAX).unwrap();
        assert_eq!(plan.proof_len(), 64);
        let plan = consistency_plan(3, 1u64 << 63 | 1).unwrap();
        assert_eq!(plan.proof_len(), 65);
        assert_eq!(root_nodes(u64::MAX).count(), 64);
        assert_eq!(NodeId::new(63, 2).first_leaf(), None);
        assert_eq!(NodeId::new(63, 1).first_leaf(), Some(1 << 63));
    }
}
