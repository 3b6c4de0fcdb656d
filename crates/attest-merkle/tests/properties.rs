//! Property tests: round trips, single-bit tampering, parameter tampering,
//! compact ranges against the tree, merge against append, encodings.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use attest_merkle::{
    Checkpoint, CompactRange, Hash, MerkleTree, leaf_hash, verify_consistency, verify_inclusion,
};
use proptest::prelude::*;

#[path = "reference/rfc9162.rs"]
mod rfc9162_reference;
use rfc9162_reference::{rfc_verify_consistency, rfc_verify_inclusion};

fn tree_of(n: u64) -> MerkleTree {
    let mut t = MerkleTree::with_capacity(n as usize);
    for i in 0..n {
        t.push(&i.to_be_bytes());
    }
    t
}

fn flip(h: &Hash, bit: usize) -> Hash {
    let mut out = *h;
    out.0[bit / 8 % 32] ^= 1 << (bit % 8);
    out
}

/// The side of each sibling on the RFC 6962 PATH of leaf `m` in a tree of `n`
/// leaves, bottom up (true = the sibling is on the left). An inclusion proof
/// binds (index, size) only through this sequence, so changed parameters
/// verify exactly when the sequence is unchanged.
fn sides(m: u64, n: u64) -> Vec<bool> {
    if n <= 1 {
        return vec![];
    }
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    let mut s = if m < k {
        sides(m, k)
    } else {
        sides(m - k, n - k)
    };
    s.push(m >= k);
    s
}

/// What a consistency proof from `m` to `n` (0 < m < n) computes: whether
/// it starts with the old tree's last perfect subtree (m not a power of two),
/// and the sibling sides on the path of that subtree, node (level, idx), up
/// the new tree. Above `level` a tree of `n` leaves has the shape of a tree of
/// ceil(n / 2^level) leaves, so the path is that of leaf `idx` there.
fn consistency_shape(m: u64, n: u64) -> Option<(bool, Vec<bool>)> {
    if m == 0 || m >= n {
        return None;
    }
    let level = m.trailing_zeros();
    let idx = (m >> level) - 1;
    let n_at_level = n.div_ceil(1 << level);
    Some((!m.is_power_of_two(), sides(idx, n_at_level)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn inclusion_round_trip_and_tampering(
        n in 1u64..1500, i_seed in any::<u64>(), which in any::<usize>(), bit in 0usize..256,
    ) {
        let tree = tree_of(n);
        let i = i_seed % n;
        let root = tree.root();
        let leaf = leaf_hash(&i.to_be_bytes());
        let proof = tree.inclusion_proof(i, n).unwrap();
        prop_assert!(verify_inclusion(i, n, &leaf, &proof, &root).is_ok());

        // Any single flipped bit, in a proof hash, the root or the leaf.
        if !proof.is_empty() {
            let mut bad = proof.to_vec();
            let k = which % bad.len();
            bad[k] = flip(&bad[k], bit);
            prop_assert!(verify_inclusion(i, n, &leaf, &bad, &root).is_err());
        }
        prop_assert!(verify_inclusion(i, n, &leaf, &proof, &flip(&root, bit)).is_err());
        prop_assert!(verify_inclusion(i, n, &flip(&leaf, bit), &proof, &root).is_err());

        // index ± 1 and size ± 1: rejected unless the path shape is identical.
        let base = sides(i, n);
        let mut variants = vec![(i.wrapping_add(1), n), (i, n + 1)];
        if i > 0 { variants.push((i - 1, n)); }
        variants.push((i, n - 1));
        for (i2, n2) in variants {
            let ok = verify_inclusion(i2, n2, &leaf, &proof, &root).is_ok();
            let same_shape = i2 < n2 && sides(i2, n2) == base;
            prop_assert_eq!(ok, same_shape, "index {} size {} -> {} {}", i, n, i2, n2);
        }
    }

    #[test]
    fn consistency_round_trip_and_tampering(
        n2 in 2u64..1500, s1 in any::<u64>(), which in any::<usize>(), bit in 0usize..256,
    ) {
        let tree = tree_of(n2);
        let n1 = 1 + s1 % (n2 - 1);
        let (r1, r2) = (tree.root_at(n1).unwrap(), tree.root());
        let proof = tree.consistency_proof(n1, n2).unwrap();
        prop_assert!(verify_consistency(n1, n2, &proof, &r1, &r2).is_ok());

        let mut bad = proof.to_vec();
        let k = which % bad.len();
        bad[k] = flip(&bad[k], bit);
        prop_assert!(verify_consistency(n1, n2, &bad, &r1, &r2).is_err());
        prop_assert!(verify_consistency(n1, n2, &proof, &flip(&r1, bit), &r2).is_err());
        prop_assert!(verify_consistency(n1, n2, &proof, &r1, &flip(&r2, bit)).is_err());
        // size1 ± 1 and size2 ± 1: rejected unless the computation is identical.
        let base = consistency_shape(n1, n2);
        for (a, b) in [(n1 + 1, n2), (n1 - 1, n2), (n1, n2 + 1), (n1, n2 - 1)] {
            let ok = verify_consistency(a, b, &proof, &r1, &r2).is_ok();
            let same_shape = consistency_shape(a, b).is_some() && consistency_shape(a, b) == base;
            prop_assert_eq!(ok, same_shape, "{} {} -> {} {}", n1, n2, a, b);
        }
    }

    #[test]
    fn compact_range_root_equals_tree_root(n in 0u64..2000) {
        let mut tree = MerkleTree::new();
        let mut range = CompactRange::new();
        for i in 0..n {
            let h = leaf_hash(&i.to_be_bytes());
            tree.push_leaf_hash(h);
            range.append(h).unwrap();
            prop_assert_eq!(range.root().unwrap(), tree.root());
        }
        prop_assert!(range.hashes().len() <= 64);
        prop_assert_eq!(range.hashes().len() as u32, n.count_ones());
    }

    #[test]
    fn merging_adjacent_ranges_equals_appending(
        a in 0u64..1_000_000_000, len1 in 0u64..300, len2 in 0u64..300,
    ) {
        let leaf = |i: u64| leaf_hash(&i.to_be_bytes());
        let b = a + len1;
        let c = b + len2;
        let mut left = CompactRange::starting_at(a);
        let mut right = CompactRange::starting_at(b);
        let mut whole = CompactRange::starting_at(a);
        for i in a..b { left.append(leaf(i)).unwrap(); }
        for i in b..c { right.append(leaf(i)).unwrap(); }
        for i in a..c { whole.append(leaf(i)).unwrap(); }
        let mut created = Vec::new();
        left.merge_with(&right, |id, h| created.push((id, *h))).unwrap();
        prop_assert_eq!(&left, &whole);
        // Every node the merge reports is a real perfect node of that range.
        for (id, h) in created {
            let first = id.first_leaf().unwrap();
            let mut sub = CompactRange::starting_at(first);
            for i in first..first + (1 << id.level) { sub.append(leaf(i)).unwrap(); }
            prop_assert_eq!(sub.hashes(), &[h][..]);
        }
        // Serialization round trip.
        let bytes = whole.to_bytes();
        prop_assert_eq!(CompactRange::from_bytes(&bytes).unwrap(), whole);
        if !bytes.is_empty() {
            prop_assert!(CompactRange::from_bytes(&bytes[..bytes.len() - 1]).is_err());
        }
    }

    #[test]
    fn hash_encodings_round_trip(bytes in any::<[u8; 32]>()) {
        let h = Hash(bytes);
        prop_assert_eq!(Hash::parse(&h.to_string()).unwrap(), h);
        prop_assert_eq!(Hash::parse(&h.base64().to_string()).unwrap(), h);
    }

    #[test]
    fn checkpoint_format_parse_round_trip(
        origin in "[a-z0-9./ -]{1,40}", size in any::<u64>(), root in any::<[u8; 32]>(),
        ext in proptest::collection::vec("[A-Za-z0-9: ]{1,20}", 0..4),
    ) {
        let ext: String = ext.iter().map(|l| format!("{l}\n")).collect();
        let cp = Checkpoint::new(&origin, size, Hash(root)).unwrap().with_extensions(&ext).unwrap();
        let text = cp.to_string();
        let parsed = Checkpoint::parse(&text).unwrap();
        prop_assert_eq!(parsed, cp);
        prop_assert_eq!(parsed.to_string(), text);
    }

    #[test]
    fn checkpoint_parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(cp) = Checkpoint::parse_bytes(&bytes) {
            // Whatever parses formats back to the same bytes.
            let text = cp.to_string();
            prop_assert_eq!(text.as_bytes(), &bytes[..]);
        }
    }

    #[test]
    fn verifiers_never_panic(
        index in any::<u64>(), size in any::<u64>(), n in 0usize..70,
        size1 in any::<u64>(),
    ) {
        let proof = vec![Hash::default(); n];
        let _ = verify_inclusion(index, size, &Hash::default(), &proof, &Hash::default());
        let _ = verify_consistency(size1, size, &proof, &Hash::default(), &Hash::default());
    }

    /// Differential against the RFC's own loop: valid proofs, proofs with a
    /// dropped, duplicated or replaced element, and shifted parameters all get
    /// the same accept/reject answer from both.
    #[test]
    fn agrees_with_rfc9162_loops(
        n in 1u64..600, a in any::<u64>(), b in any::<u64>(), mutation in 0u8..6, k in any::<usize>(),
    ) {
        let tree = tree_of(n + 1);
        let size = n + 1;
        let index = a % size;
        let mut proof = tree.inclusion_proof(index, size).unwrap().to_vec();
        let (mut i2, mut s2) = (index, size);
        mutate(&mut proof, &mut i2, &mut s2, mutation, k);
        let leaf = leaf_hash(&index.to_be_bytes());
        let root = tree.root_at(size).unwrap();
        prop_assert_eq!(
            verify_inclusion(i2, s2, &leaf, &proof, &root).is_ok(),
            rfc_verify_inclusion(i2, s2, &leaf, &proof, &root)
        );

        let first = 1 + b % n;
        let mut proof = tree.consistency_proof(first, size).unwrap().to_vec();
        let (mut f2, mut s2) = (first, size);
        mutate(&mut proof, &mut f2, &mut s2, mutation, k);
        let (r1, r2) = (tree.root_at(first).unwrap(), tree.root_at(size).unwrap());
        if 0 < f2 && f2 < s2 {
            prop_assert_eq!(
                verify_consistency(f2, s2, &proof, &r1, &r2).is_ok(),
                rfc_verify_consistency(f2, s2, &r1, &r2, &proof)
            );
        }
    }
}

fn mutate(proof: &mut Vec<Hash>, a: &mut u64, b: &mut u64, mutation: u8, k: usize) {
    match mutation {
        0 => {}
        1 if !proof.is_empty() => {
            proof.remove(k % proof.len());
        }
        2 if !proof.is_empty() => {
            let i = k % proof.len();
            proof.insert(i, proof[i]);
        }
        3 if !proof.is_empty() => {
            let i = k % proof.len();
            proof[i] = leaf_hash(b"other");
        }
        4 => *a = a.wrapping_add(1),
        5 => *b += 1,
        _ => {}
    }
}
