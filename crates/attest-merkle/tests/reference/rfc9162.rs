//! Naive transcriptions of the RFC 9162 verification algorithms (§2.1.3.2 and
//! §2.1.4.2), step by step as the RFC words them, used as the reference in
//! differential tests and fuzz targets. Not an integration test by itself: it
//! is included as a module by `properties.rs` and by `fuzz/`.

#![allow(dead_code)]

use attest_merkle::{Hash, node_hash};

/// RFC 9162 §2.1.3.2: true when the inclusion proof verifies.
pub(crate) fn rfc_verify_inclusion(
    leaf_index: u64,
    tree_size: u64,
    hash: &Hash,
    path: &[Hash],
    root: &Hash,
) -> bool {
    if leaf_index >= tree_size {
        return false;
    }
    let (mut fn_, mut sn) = (leaf_index, tree_size - 1);
    let mut r = *hash;
    for p in path {
        if sn == 0 {
            return false;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    sn == 0 && r == *root
}

/// RFC 9162 §2.1.4.2 for `0 < first < second`: true when the proof verifies.
pub(crate) fn rfc_verify_consistency(
    first: u64,
    second: u64,
    first_hash: &Hash,
    second_hash: &Hash,
    consistency_path: &[Hash],
) -> bool {
    assert!(
        0 < first && first < second,
        "the RFC algorithm is for 0 < first < second"
    );
    if consistency_path.is_empty() {
        return false;
    }
    let mut path = Vec::with_capacity(consistency_path.len() + 1);
    if first.is_power_of_two() {
        path.push(*first_hash);
    }
    path.extend_from_slice(consistency_path);
    let (mut fn_, mut sn) = (first - 1, second - 1);
    if fn_ & 1 == 1 {
        while fn_ & 1 == 1 {
            fn_ >>= 1;
            sn >>= 1;
        }
    }
    let (mut fr, mut sr) = (path[0], path[0]);
    for c in &path[1..] {
        if sn == 0 {
            return false;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    fr == *first_hash && sr == *second_hash && sn == 0
}
