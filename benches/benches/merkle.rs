//! attest-merkle against ct-merkle 0.3 and against the bare hash chain.
//!
//! `cargo bench -p attestlog-benches --bench merkle`
//!
//! Every group measures the peers side by side in the same run. Both crates use
//! the same `sha2` 0.11, so the differences are in the algorithms and data
//! structures, not the hash implementation.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)] // bench code

use std::hint::black_box;
use std::time::Duration;

use attest_merkle::{
    CompactRange, Hash, MerkleTree, consistency_proof_len, leaf_hash, node_hash,
    verify_consistency, verify_inclusion,
};
use criterion::{Criterion, criterion_group, criterion_main};
use ct_merkle::mem_backed_tree::MemoryBackedTree;
use sha2::Sha256;

const N: u64 = 1_000_000;
/// A leaf whose proof in a 1M tree has the full 20 hashes.
const INDEX: u64 = 777_777;
/// Old size for consistency: not a power of two, so the proof has a seed.
const OLD: u64 = 600_000;

type CtTree = MemoryBackedTree<Sha256, [u8; 32]>;

fn leaf_data(i: u64) -> [u8; 32] {
    let mut d = [0u8; 32];
    d[..8].copy_from_slice(&i.to_be_bytes());
    d
}

fn our_tree(n: u64) -> MerkleTree {
    let mut t = MerkleTree::with_capacity(n as usize);
    for i in 0..n {
        t.push(&leaf_data(i));
    }
    t
}

fn ct_tree(n: u64) -> CtTree {
    let mut t = CtTree::new();
    for i in 0..n {
        t.push(leaf_data(i));
    }
    t
}

fn append(c: &mut Criterion) {
    let mut g = c.benchmark_group("append_1m");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.bench_function("attest", |b| {
        b.iter(|| {
            let t = our_tree(N);
            black_box(t.root())
        })
    });
    g.bench_function("attest_compact", |b| {
        b.iter(|| {
            let mut r = CompactRange::new();
            for i in 0..N {
                r.append(leaf_hash(&leaf_data(i))).unwrap();
            }
            black_box(r.root().unwrap())
        })
    });
    g.bench_function("ct_merkle", |b| {
        b.iter(|| {
            let t = ct_tree(N);
            black_box(t.root())
        })
    });
    g.finish();
}

/// Node hashes our inclusion verifier computes: one per proof element.
fn raw_chain(seed: Hash, proof: &[Hash], index: u64) -> Hash {
    let mut h = seed;
    for (i, p) in proof.iter().enumerate() {
        h = if (index >> i) & 1 == 0 {
            node_hash(&h, p)
        } else {
            node_hash(p, &h)
        };
    }
    h
}

fn inclusion(c: &mut Criterion, ours: &MerkleTree, ct: &CtTree) {
    let root = ours.root();
    let leaf = leaf_hash(&leaf_data(INDEX));
    let proof = ours.inclusion_proof(INDEX, N).unwrap();
    assert_eq!(proof.len(), 20);
    let ct_root = ct.root();
    let ct_proof = ct.prove_inclusion(INDEX as usize);
    assert_eq!(ct_root.as_bytes().as_slice(), root.as_bytes());
    assert_eq!(ct_proof.as_bytes().len(), 20 * 32);

    let mut g = c.benchmark_group("inclusion_verify_1m");
    g.bench_function("attest", |b| {
        b.iter(|| verify_inclusion(black_box(INDEX), N, black_box(&leaf), &proof, &root).unwrap())
    });
    g.bench_function("ct_merkle", |b| {
        b.iter(|| {
            ct_root
                .verify_inclusion(black_box(&leaf_data(INDEX)), INDEX, &ct_proof)
                .unwrap()
        })
    });
    g.bench_function("raw_hash_chain", |b| {
        b.iter(|| raw_chain(black_box(leaf), black_box(&proof), black_box(INDEX)))
    });
    g.finish();

    let mut g = c.benchmark_group("inclusion_prove_1m");
    g.bench_function("attest", |b| {
        b.iter(|| ours.inclusion_proof(black_box(INDEX), N).unwrap())
    });
    g.bench_function("ct_merkle", |b| {
        b.iter(|| ct.prove_inclusion(black_box(INDEX as usize)))
    });
    g.finish();
}

fn consistency(c: &mut Criterion, ours: &MerkleTree) {
    let (old_root, root) = (ours.root_at(OLD).unwrap(), ours.root());
    let proof = ours.consistency_proof(OLD, N).unwrap();
    assert_eq!(proof.len(), consistency_proof_len(OLD, N).unwrap());

    // ct-merkle proves only from a prefix to its current size: a tree of N.
    let ct = ct_tree(N);
    let ct_proof = ct.prove_consistency((N - OLD) as usize);
    let ct_old = ct_merkle::RootHash::<Sha256>::new(old_root.0.into(), OLD);
    let ct_new = ct.root();
    ct_new.verify_consistency(&ct_old, &ct_proof).unwrap();
    drop(ct);

    // The floor: the node hashes the RFC 9162 algorithm must compute, done
    // directly. OLD = 9375 * 2^6: the seed is node (6, 9374); the old root
    // needs the left siblings (set bits of 9374 on the inner path) plus the
    // border, the new root every element after the seed.
    let shift = OLD.trailing_zeros();
    let inner = (64 - ((OLD - 1) ^ (N - 1)).leading_zeros()) - shift;
    let mask = (OLD - 1) >> shift;
    let border = proof.len() - 1 - inner as usize;
    let old_path_hashes = (mask & ((1 << inner) - 1)).count_ones() as usize + border;
    let new_path_hashes = proof.len() - 1;
    let total = old_path_hashes + new_path_hashes;

    let mut g = c.benchmark_group("consistency_verify_1m");
    g.bench_function("attest", |b| {
        b.iter(|| verify_consistency(black_box(OLD), N, &proof, &old_root, &root).unwrap())
    });
    g.bench_function("ct_merkle", |b| {
        b.iter(|| {
            black_box(&ct_new)
                .verify_consistency(&ct_old, &ct_proof)
                .unwrap()
        })
    });
    g.bench_function("raw_hash_chain", |b| {
        b.iter(|| {
            let mut h = black_box(proof[0]);
            for p in proof.iter().cycle().skip(1).take(total) {
                h = node_hash(p, &h);
            }
            h
        })
    });
    g.finish();
}

fn merkle(c: &mut Criterion) {
    append(c);
    let ours = our_tree(N);
    let ct = ct_tree(N);
    inclusion(c, &ours, &ct);
    drop(ct);
    consistency(c, &ours);
}

criterion_group!(benches, merkle);
criterion_main!(benches);
