//! Inclusion and consistency proof verification (RFC 9162 §2.1.3.2, §2.1.4.2).
//!
//! Every function here is total: any combination of sizes, indices and proof
//! lengths yields `Ok` or a [`ProofError`], never a panic, and nothing is
//! allocated. The exact proof length is derived from the sizes and checked
//! before the first hash is computed, so a wrong-length proof costs no hashing.
//!
//! # Edge policy
//! - Inclusion: `index < size` is required, so the empty tree proves nothing.
//! - Consistency with `size1 == size2 > 0`: the proof must be empty and the two
//!   roots equal.
//! - Consistency from `size1 == 0` is not defined by RFC 9162 and is rejected
//!   with [`ProofError::EmptyOldTree`] by [`verify_consistency`]. Witnesses
//!   (C2SP tlog-witness) treat it as trivially consistent: opt into that with
//!   [`verify_consistency_with`] and [`EmptyTreePolicy::AllowEmptyRoot`], which
//!   requires an empty proof and `root1 == EMPTY_ROOT`.
//! - `size2 < size1` is [`ProofError::SizeDecreased`].

use crate::{EMPTY_ROOT, Hash, ProofError, node_hash};

/// How consistency from an empty old tree (`size1 == 0`) is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum EmptyTreePolicy {
    /// RFC 9162 strict: a consistency proof needs `size1 > 0`.
    #[default]
    Reject,
    /// Witness style: from size 0 the proof must be empty and the old root must
    /// be [`EMPTY_ROOT`]; any later tree is consistent with it.
    AllowEmptyRoot,
}

/// Number of significant bits of `x` (0 for 0).
#[inline]
const fn bit_len(x: u64) -> u32 {
    u64::BITS - x.leading_zeros()
}

/// Splits an inclusion proof for `index` in a tree of `size` leaves
/// (`index < size`) into its inner part (siblings below the point where the
/// paths to `index` and to the last leaf meet) and its border part (left
/// siblings above it).
#[inline]
pub(crate) const fn decompose_inclusion(index: u64, size: u64) -> (u32, u32) {
    let inner = bit_len(index ^ (size - 1));
    let border = match index.checked_shr(inner) {
        Some(v) => v.count_ones(),
        None => 0,
    };
    (inner, border)
}

/// The exact length of an inclusion proof for leaf `index` in a tree of `size`.
///
/// # Errors
/// [`ProofError::IndexOutOfRange`] when `index >= size`.
pub const fn inclusion_proof_len(index: u64, size: u64) -> Result<usize, ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let (inner, border) = decompose_inclusion(index, size);
    Ok((inner + border) as usize)
}

/// Computes the root that an inclusion proof leads to.
///
/// Requires `index < size` and `proof.len() == inclusion_proof_len(index, size)`.
///
/// # Errors
/// [`ProofError::IndexOutOfRange`] or [`ProofError::WrongProofLength`].
pub fn root_from_inclusion(
    index: u64,
    size: u64,
    leaf_hash: &Hash,
    proof: &[Hash],
) -> Result<Hash, ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let (inner, border) = decompose_inclusion(index, size);
    let expected = (inner + border) as usize;
    if proof.len() != expected {
        return Err(ProofError::WrongProofLength {
            expected,
            got: proof.len(),
        });
    }
    let (inner_part, border_part) = proof.split_at(inner as usize);
    let h = chain_inner(*leaf_hash, inner_part, index);
    Ok(chain_border_right(h, border_part))
}

/// Verifies that `leaf_hash` is the leaf at `index` of the tree of `size`
/// leaves whose root is `root`.
///
/// # Errors
/// [`ProofError::IndexOutOfRange`], [`ProofError::WrongProofLength`] or
/// [`ProofError::RootMismatch`].
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf_hash: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    let calculated = root_from_inclusion(index, size, leaf_hash, proof)?;
    if calculated == *root {
        Ok(())
    } else {
        Err(ProofError::RootMismatch { calculated })
    }
}

/// Shape of a consistency proof for `0 < size1 < size2`.
struct ConsistencyShape {
    /// 1 when the proof starts with the hash of the old tree's rightmost
    /// perfect subtree, 0 when that subtree is the whole old tree.
    start: usize,
    inner: usize,
    border: usize,
    /// Bits that choose left/right along the inner path.
    mask: u64,
}

impl ConsistencyShape {
    const fn new(size1: u64, size2: u64) -> Self {
        let shift = size1.trailing_zeros();
        let (inner, border) = decompose_inclusion(size1 - 1, size2);
        // `size1 - 1` has its low `shift` bits set and `size2 - 1 >= size1`, so
        // the paths diverge above `shift`: `inner > shift`.
        let inner = inner - shift;
        let start = if size1 == 1 << shift { 0 } else { 1 };
        Self {
            start,
            inner: inner as usize,
            border: border as usize,
            mask: (size1 - 1) >> shift,
        }
    }

    const fn len(&self) -> usize {
        self.start + self.inner + self.border
    }
}

/// The exact length of an RFC 9162 consistency proof from `size1` to `size2`.
///
/// # Errors
/// [`ProofError::SizeDecreased`] or [`ProofError::EmptyOldTree`].
pub const fn consistency_proof_len(size1: u64, size2: u64) -> Result<usize, ProofError> {
    if size2 < size1 {
        return Err(ProofError::SizeDecreased { size1, size2 });
    }
    if size1 == 0 {
        return Err(ProofError::EmptyOldTree);
    }
    if size1 == size2 {
        return Ok(0);
    }
    Ok(ConsistencyShape::new(size1, size2).len())
}

/// Checks a consistency proof against the old root and computes the new root
/// it leads to (RFC 9162 strict policy: `size1 > 0`).
///
/// # Errors
/// [`ProofError::SizeDecreased`], [`ProofError::EmptyOldTree`],
/// [`ProofError::WrongProofLength`] or [`ProofError::OldRootMismatch`].
pub fn root_from_consistency(
    size1: u64,
    size2: u64,
    proof: &[Hash],
    root1: &Hash,
) -> Result<Hash, ProofError> {
    let expected = consistency_proof_len(size1, size2)?;
    if proof.len() != expected {
        return Err(ProofError::WrongProofLength {
            expected,
            got: proof.len(),
        });
    }
    if size1 == size2 {
        return Ok(*root1);
    }
    let shape = ConsistencyShape::new(size1, size2);
    let (seed, rest) = if shape.start == 0 {
        (*root1, proof)
    } else {
        (proof[0], &proof[1..])
    };
    let (inner, border) = rest.split_at(shape.inner);

    // The old root: only the left siblings of the path count.
    let old = chain_border_right(chain_inner_right(seed, inner, shape.mask), border);
    if old != *root1 {
        return Err(ProofError::OldRootMismatch { calculated: old });
    }
    Ok(chain_border_right(
        chain_inner(seed, inner, shape.mask),
        border,
    ))
}

/// Verifies that the tree of `size2` leaves with root `root2` extends the
/// tree of `size1` leaves with root `root1` (RFC 9162 strict policy).
///
/// # Errors
/// As [`root_from_consistency`], plus [`ProofError::RootMismatch`] when the
/// proof does not lead to `root2`.
pub fn verify_consistency(
    size1: u64,
    size2: u64,
    proof: &[Hash],
    root1: &Hash,
    root2: &Hash,
) -> Result<(), ProofError> {
    verify_consistency_with(EmptyTreePolicy::Reject, size1, size2, proof, root1, root2)
}

/// [`verify_consistency`] with an explicit policy for `size1 == 0`.
///
/// # Errors
/// As [`verify_consistency`]. Under [`EmptyTreePolicy::AllowEmptyRoot`] a
/// non-empty proof from size 0 is [`ProofError::WrongProofLength`] and an old
/// root other than [`EMPTY_ROOT`] is [`ProofError::OldRootMismatch`].
pub fn verify_consistency_with(
    policy: EmptyTreePolicy,
    size1: u64,
    size2: u64,
    proof: &[Hash],
    root1: &Hash,
    root2: &Hash,
) -> Result<(), ProofError> {
    if size1 == 0 && size2 >= size1 && policy == EmptyTreePolicy::AllowEmptyRoot {
        if !proof.is_empty() {
            return Err(ProofError::WrongProofLength {
                expected: 0,
                got: proof.len(),
            });
        }
        if *root1 != EMPTY_ROOT {
            return Err(ProofError::OldRootMismatch {
                calculated: EMPTY_ROOT,
            });
        }
        if size2 == 0 && *root2 != EMPTY_ROOT {
            return Err(ProofError::RootMismatch {
                calculated: EMPTY_ROOT,
            });
        }
        return Ok(());
    }
    let calculated = root_from_consistency(size1, size2, proof, root1)?;
    if calculated == *root2 {
        Ok(())
    } else {
        Err(ProofError::RootMismatch { calculated })
    }
}

/// Hashes `seed` up the inner path: bit `i` of `index` says whether the
/// `i`-th proof hash is the left (1) or right (0) sibling.
#[inline]
fn chain_inner(mut seed: Hash, proof: &[Hash], index: u64) -> Hash {
    for (i, p) in proof.iter().enumerate() {
        seed = if (index >> i) & 1 == 0 {
            node_hash(&seed, p)
        } else {
            node_hash(p, &seed)
        };
    }
    seed
}

/// Like [`chain_inner`] but keeps only the left siblings: the path of the
/// old tree, whose right siblings did not exist yet.
#[inline]
fn chain_inner_right(mut seed: Hash, proof: &[Hash], index: u64) -> Hash {
    for (i, p) in proof.iter().enumerate() {
        if (index >> i) & 1 == 1 {
            seed = node_hash(p, &seed);
        }
    }
    seed
}

/// Hashes `seed` with left siblings only (the border of the tree).
#[inline]
fn chain_border_right(mut seed: Hash, proof: &[Hash]) -> Hash {
    for p in proof {
        seed = node_hash(p, &seed);
    }
    seed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_at_the_extremes_do_not_panic() {
        assert_eq!(inclusion_proof_len(u64::MAX - 1, u64::MAX), Ok(63));
        assert_eq!(inclusion_proof_len(0, u64::MAX), Ok(64));
        assert!(inclusion_proof_len(u64::MAX, u64::MAX).is_err());
        assert_eq!(consistency_proof_len(1, u64::MAX), Ok(64));
        assert_eq!(
            consistency_proof_len(u64::MAX - 1, u64::MAX).map(|l| l > 0),
            Ok(true)
        );
        assert_eq!(consistency_proof_len(3, 1u64 << 63 | 1), Ok(65));
        let proof = [EMPTY_ROOT; 64];
        assert!(root_from_inclusion(0, u64::MAX, &EMPTY_ROOT, &proof).is_ok());
        assert!(root_from_inclusion(u64::MAX - 1, u64::MAX, &EMPTY_ROOT, &proof[..63]).is_ok());
        // From size 1 the old root is the seed itself, so any path "verifies" it.
        assert!(root_from_consistency(1, u64::MAX, &proof, &EMPTY_ROOT).is_ok());
        assert!(root_from_consistency(u64::MAX - 1, u64::MAX, &proof, &EMPTY_ROOT).is_err());
    }

    #[test]
    fn empty_tree_policy() {
        let r = EMPTY_ROOT;
        let other = crate::leaf_hash(b"x");
        assert_eq!(
            verify_consistency(0, 0, &[], &r, &r),
            Err(ProofError::EmptyOldTree)
        );
        assert_eq!(
            verify_consistency(0, 5, &[], &r, &other),
            Err(ProofError::EmptyOldTree)
        );
        let w = EmptyTreePolicy::AllowEmptyRoot;
        assert_eq!(verify_consistency_with(w, 0, 0, &[], &r, &r), Ok(()));
        assert_eq!(verify_consistency_with(w, 0, 5, &[], &r, &other), Ok(()));
        assert!(matches!(
            verify_consistency_with(w, 0, 5, &[other], &r, &other),
            Err(ProofError::WrongProofLength {
                expected: 0,
                got: 1
            })
        ));
        assert!(matches!(
            verify_consistency_with(w, 0, 5, &[], &other, &other),
            Err(ProofError::OldRootMismatch { .. })
        ));
        assert!(matches!(
            verify_consistency_with(w, 0, 0, &[], &r, &other),
            Err(ProofError::RootMismatch { .. })
        ));
        assert!(matches!(
            verify_consistency_with(w, 1, 0, &[], &r, &r),
            Err(ProofError::SizeDecreased { .. })
        ));
    }
}
