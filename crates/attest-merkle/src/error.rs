//! Errors of proof verification and proof planning.

use core::fmt;

use crate::Hash;

/// Why an inclusion or consistency proof was rejected.
///
/// Every variant is structured; `Display` is written for humans and
/// [`ProofError::kind`] gives a stable kebab-case name for machines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProofError {
    /// The leaf index is not inside the tree (`index >= size`).
    IndexOutOfRange {
        /// The claimed leaf index.
        index: u64,
        /// The claimed tree size.
        size: u64,
    },
    /// The proof does not have the exact length that (index, size) or
    /// (size1, size2) determine. Checked before any hashing.
    WrongProofLength {
        /// The only length a valid proof can have.
        expected: usize,
        /// The length that was given.
        got: usize,
    },
    /// The root computed from the proof differs from the expected root.
    RootMismatch {
        /// The root the proof leads to.
        calculated: Hash,
    },
    /// Consistency only: the proof does not reproduce the old root.
    OldRootMismatch {
        /// The old root the proof leads to.
        calculated: Hash,
    },
    /// Consistency only: the new tree is smaller than the old one.
    SizeDecreased {
        /// The old tree size.
        size1: u64,
        /// The new tree size.
        size2: u64,
    },
    /// Consistency only: the old tree is empty, which RFC 9162 leaves
    /// undefined. See [`EmptyTreePolicy`](crate::EmptyTreePolicy).
    EmptyOldTree,
    /// The tree size is larger than the tree the proof is requested from
    /// (proof generation only).
    SizeBeyondTree {
        /// The requested size.
        size: u64,
        /// The number of leaves the tree holds.
        tree_size: u64,
    },
}

impl ProofError {
    /// A stable, kebab-case name of the failure, for JSON output and logs.
    #[must_use]
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::IndexOutOfRange { .. } => "index-out-of-range",
            Self::WrongProofLength { .. } => "wrong-proof-length",
            Self::RootMismatch { .. } => "root-mismatch",
            Self::OldRootMismatch { .. } => "old-root-mismatch",
            Self::SizeDecreased { .. } => "size-decreased",
            Self::EmptyOldTree => "empty-old-tree",
            Self::SizeBeyondTree { .. } => "size-beyond-tree",
        }
    }
}

impl fmt::Display for ProofError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::IndexOutOfRange { index, size } => {
                write!(f, "leaf index {index} is not in a tree of size {size}")
            }
            Self::WrongProofLength { expected, got } => {
                write!(f, "proof has {got} hashes, expected exactly {expected}")
            }
            Self::RootMismatch { calculated } => {
                write!(f, "proof leads to root {calculated}, not the expected root")
            }
            Self::OldRootMismatch { calculated } => {
                write!(f, "proof leads to old root {calculated}, not the expected old root")
            }
            Self::SizeDecreased { size1, size2 } => {
                write!(f, "new tree size {size2} is smaller than old tree size {size1}")
            }
            Self::EmptyOldTree => f.write_str(
                "consistency from an empty tree is not defined by RFC 9162 (use EmptyTreePolicy::AllowEmptyRoot)",
            ),
            Self::SizeBeyondTree { size, tree_size } => {
                write!(f, "size {size} is beyond the {tree_size} leaves of the tree")
            }
        }
    }
}

impl core::error::Error for ProofError {}
