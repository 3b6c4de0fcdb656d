//! Exhaustive differential test against a naive transcription of the RFC 6962
//! §2.1 definitions (MTH, PATH, PROOF/SUBPROOF): every (index, size) and every
//! (size1, size2) up to 128 leaves.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use attest_merkle::{
    CompactRange, EMPTY_ROOT, Hash, MerkleTree, consistency_proof_len, inclusion_proof_len,
    leaf_hash, node_hash, verify_consistency, verify_inclusion,
};

const MAX: usize = 128;

/// Largest power of two strictly less than `n` (n >= 2).
fn split(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// MTH(D[n]) over leaf hashes.
fn mth(d: &[Hash]) -> Hash {
    match d.len() {
        0 => EMPTY_ROOT,
        1 => d[0],
        n => {
            let k = split(n);
            node_hash(&mth(&d[..k]), &mth(&d[k..]))
        }
    }
}

/// PATH(m, D[n]).
fn path(m: usize, d: &[Hash]) -> Vec<Hash> {
    let n = d.len();
    if n <= 1 {
        return vec![];
    }
    let k = split(n);
    if m < k {
        let mut p = path(m, &d[..k]);
        p.push(mth(&d[k..]));
        p
    } else {
        let mut p = path(m - k, &d[k..]);
        p.push(mth(&d[..k]));
        p
    }
}

/// SUBPROOF(m, D[n], b).
fn subproof(m: usize, d: &[Hash], b: bool) -> Vec<Hash> {
    let n = d.len();
    if m == n {
        return if b { vec![] } else { vec![mth(d)] };
    }
    let k = split(n);
    if m <= k {
        let mut p = subproof(m, &d[..k], b);
        p.push(mth(&d[k..]));
        p
    } else {
        let mut p = subproof(m - k, &d[k..], false);
        p.push(mth(&d[..k]));
        p
    }
}

fn leaves() -> Vec<Hash> {
    (0..MAX as u32)
        .map(|i| leaf_hash(&i.to_le_bytes()))
        .collect()
}

#[test]
fn roots_match_reference_at_every_size() {
    let d = leaves();
    let mut tree = MerkleTree::new();
    let mut range = CompactRange::new();
    for n in 0..=MAX {
        let want = mth(&d[..n]);
        assert_eq!(tree.root(), want, "tree root at {n}");
        assert_eq!(range.root().unwrap(), want, "compact root at {n}");
        if n < MAX {
            tree.push_leaf_hash(d[n]);
            range.append(d[n]).unwrap();
        }
    }
    for n in 0..=MAX {
        assert_eq!(
            tree.root_at(n as u64).unwrap(),
            mth(&d[..n]),
            "historical root at {n}"
        );
    }
}

#[test]
fn every_inclusion_proof_up_to_128() {
    let d = leaves();
    let mut tree = MerkleTree::new();
    tree.extend(d.iter().copied());
    for n in 1..=MAX {
        let root = mth(&d[..n]);
        for m in 0..n {
            let want = path(m, &d[..n]);
            let (m64, n64) = (m as u64, n as u64);
            assert_eq!(inclusion_proof_len(m64, n64), Ok(want.len()));
            let got = tree.inclusion_proof(m64, n64).unwrap();
            assert_eq!(&*got, want.as_slice(), "PATH({m}, {n})");
            verify_inclusion(m64, n64, &d[m], &got, &root).unwrap();
        }
    }
}

#[test]
fn every_consistency_proof_up_to_128() {
    let d = leaves();
    let mut tree = MerkleTree::new();
    tree.extend(d.iter().copied());
    let roots: Vec<Hash> = (0..=MAX).map(|n| mth(&d[..n])).collect();
    for n in 1..=MAX {
        for m in 1..=n {
            let want = subproof(m, &d[..n], true);
            let (m64, n64) = (m as u64, n as u64);
            assert_eq!(consistency_proof_len(m64, n64), Ok(want.len()));
            let got = tree.consistency_proof(m64, n64).unwrap();
            assert_eq!(&*got, want.as_slice(), "PROOF({m}, {n})");
            verify_consistency(m64, n64, &got, &roots[m], &roots[n]).unwrap();
        }
    }
}
