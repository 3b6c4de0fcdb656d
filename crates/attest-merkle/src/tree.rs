//! An in-memory Merkle tree that answers for every historical size.

use alloc::vec::Vec;
use core::fmt;

use crate::nodes::{consistency_plan, inclusion_plan, read_root};
use crate::{Hash, NodeId, NodeReader, Proof, ProofError, leaf_hash, node_hash};

/// An append-only RFC 6962 tree held in memory.
///
/// It stores every perfect subtree hash: the leaf hashes and, level by level,
/// their parents — two hashes (64 bytes) per leaf in all. Proofs for any
/// historical size are planned with [`inclusion_plan`] / [`consistency_plan`]
/// and read through this tree's [`NodeReader`] implementation, the same path
/// any other storage uses.
///
/// ```
/// use attest_merkle::{leaf_hash, verify_consistency, verify_inclusion, MerkleTree};
///
/// let mut tree = MerkleTree::new();
/// for entry in ["a", "b", "c", "d", "e"] {
///     tree.push(entry.as_bytes());
/// }
/// let root3 = tree.root_at(3).unwrap();
/// let proof = tree.inclusion_proof(2, 3).unwrap();
/// verify_inclusion(2, 3, &leaf_hash(b"c"), &proof, &root3).unwrap();
///
/// let proof = tree.consistency_proof(3, 5).unwrap();
/// verify_consistency(3, 5, &proof, &root3, &tree.root()).unwrap();
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MerkleTree {
    /// `levels[l][i]` is the hash of node (l, i); only perfect nodes.
    levels: Vec<Vec<Hash>>,
}

impl MerkleTree {
    /// An empty tree.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty tree with room for `leaves` leaves without reallocating.
    #[must_use]
    pub fn with_capacity(leaves: usize) -> Self {
        let mut levels = Vec::new();
        let mut n = leaves;
        while n > 0 {
            levels.push(Vec::with_capacity(n));
            n /= 2;
        }
        Self { levels }
    }

    /// Number of leaves.
    #[must_use]
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    /// Whether the tree has no leaves.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.size() == 0
    }

    /// Appends leaf data (hashed with [`leaf_hash`]) and returns its index.
    pub fn push(&mut self, data: &[u8]) -> u64 {
        self.push_leaf_hash(leaf_hash(data))
    }

    /// Appends an already computed leaf hash and returns its index.
    pub fn push_leaf_hash(&mut self, hash: Hash) -> u64 {
        let index = self.size();
        let mut hash = hash;
        let mut level = 0;
        loop {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            let nodes = &mut self.levels[level];
            nodes.push(hash);
            let n = nodes.len();
            if n % 2 == 1 {
                break;
            }
            hash = node_hash(&nodes[n - 2], &nodes[n - 1]);
            level += 1;
        }
        index
    }

    /// The leaf hash at `index`, if present.
    #[must_use]
    pub fn leaf_hash(&self, index: u64) -> Option<Hash> {
        self.node(NodeId::leaf(index))
    }

    /// The hash of a perfect node, if the tree has it.
    #[must_use]
    pub fn node(&self, id: NodeId) -> Option<Hash> {
        let level = self.levels.get(usize::from(id.level))?;
        level.get(usize::try_from(id.index).ok()?).copied()
    }

    /// The current root.
    #[must_use]
    #[allow(clippy::expect_used)] // a local invariant, stated below
    pub fn root(&self) -> Hash {
        // Every node of the current size is present: `push` completes each
        // perfect subtree as its last leaf arrives, so reading them cannot
        // fail (a failure would be a bug here, never bad input).
        read_root(self, self.size()).expect("every node of the current size is stored")
    }

    /// The root the tree had when it held `size` leaves.
    ///
    /// # Errors
    /// [`ProofError::SizeBeyondTree`] when `size` exceeds the tree.
    pub fn root_at(&self, size: u64) -> Result<Hash, ProofError> {
        self.check_size(size)?;
        read_root(self, size).map_err(|_| self.beyond(size))
    }

    /// The inclusion proof for leaf `index` in the tree of `size` leaves.
    ///
    /// # Errors
    /// [`ProofError::SizeBeyondTree`] or [`ProofError::IndexOutOfRange`].
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Proof, ProofError> {
        self.check_size(size)?;
        let plan = inclusion_plan(index, size)?;
        plan.read_proof(self).map_err(|_| self.beyond(size))
    }

    /// The consistency proof from `size1` to `size2` leaves.
    ///
    /// # Errors
    /// [`ProofError::SizeBeyondTree`], [`ProofError::SizeDecreased`] or
    /// [`ProofError::EmptyOldTree`].
    pub fn consistency_proof(&self, size1: u64, size2: u64) -> Result<Proof, ProofError> {
        self.check_size(size2)?;
        let plan = consistency_plan(size1, size2)?;
        plan.read_proof(self).map_err(|_| self.beyond(size2))
    }

    fn beyond(&self, size: u64) -> ProofError {
        ProofError::SizeBeyondTree {
            size,
            tree_size: self.size(),
        }
    }

    fn check_size(&self, size: u64) -> Result<(), ProofError> {
        let tree_size = self.size();
        if size > tree_size {
            return Err(ProofError::SizeBeyondTree { size, tree_size });
        }
        Ok(())
    }
}

/// A node that a [`MerkleTree`] does not (yet) hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MissingNode(pub NodeId);

impl fmt::Display for MissingNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "node (level {}, index {}) is not in the tree",
            self.0.level, self.0.index
        )
    }
}

impl core::error::Error for MissingNode {}

impl NodeReader for MerkleTree {
    type Error = MissingNode;

    fn read_node(&self, id: NodeId) -> Result<Hash, MissingNode> {
        self.node(id).ok_or(MissingNode(id))
    }
}

impl Extend<Hash> for MerkleTree {
    fn extend<I: IntoIterator<Item = Hash>>(&mut self, iter: I) {
        for h in iter {
            self.push_leaf_hash(h);
        }
    }
}
