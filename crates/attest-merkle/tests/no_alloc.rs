//! Verification allocates nothing: measured with a counting global allocator.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use attest_merkle::{
    Checkpoint, MerkleTree, leaf_hash, root_from_consistency, verify_consistency, verify_inclusion,
};

#[test]
fn verification_and_checkpoint_parsing_do_not_allocate() {
    let mut tree = MerkleTree::new();
    for i in 0u64..1000 {
        tree.push(&i.to_be_bytes());
    }
    let (root, root600) = (tree.root(), tree.root_at(600).unwrap());
    let leaf = leaf_hash(&17u64.to_be_bytes());
    let incl = tree.inclusion_proof(17, 1000).unwrap();
    let cons = tree.consistency_proof(600, 1000).unwrap();
    let text = format!("log.example\n1000\n{}\nTimestamp: 1\n", root.base64());

    // Make sure the counter works at all.
    let sanity = allocation_counter::measure(|| {
        std::hint::black_box(vec![1u8; 10]);
    });
    assert!(sanity.count_total > 0);

    let info = allocation_counter::measure(|| {
        for _ in 0..10 {
            verify_inclusion(17, 1000, &leaf, &incl, &root).unwrap();
            verify_consistency(600, 1000, &cons, &root600, &root).unwrap();
            root_from_consistency(600, 1000, &cons, &root600).unwrap();
            // Failures allocate nothing either.
            assert!(verify_inclusion(18, 1000, &leaf, &incl, &root).is_err());
            assert!(verify_inclusion(17, 1000, &leaf, &incl[1..], &root).is_err());
            // Proof generation from the tree is stack-only too.
            let p = tree.inclusion_proof(17, 1000).unwrap();
            std::hint::black_box(p);
            let cp = Checkpoint::parse(&text).unwrap();
            std::hint::black_box(cp.size());
        }
    });
    assert_eq!(info.count_total, 0, "{info:?}");
}
