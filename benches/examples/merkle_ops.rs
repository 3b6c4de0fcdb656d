//! One verification operation, repeated: the driver for the instruction-count
//! comparison in `benches/callgrind-merkle.sh` (criterion's wall-clock numbers
//! swing by tens of percent on a shared VM; instruction counts do not).
//!
//! `merkle_ops gen` writes the 1M-leaf proofs to a file; `merkle_ops MODE N`
//! loads them and runs MODE N times.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)] // bench code

use std::hint::black_box;

use attest_merkle::{Hash, MerkleTree, leaf_hash, node_hash, verify_consistency, verify_inclusion};
use ct_merkle::{ConsistencyProof, InclusionProof, RootHash};
use sha2::Sha256;

const N: u64 = 1_000_000;
const INDEX: u64 = 777_777;
const OLD: u64 = 600_000;

fn data(i: u64) -> [u8; 32] {
    let mut d = [0u8; 32];
    d[..8].copy_from_slice(&i.to_be_bytes());
    d
}

fn hashes(b: &[u8]) -> Vec<Hash> {
    b.chunks(32).map(|c| Hash::from_slice(c).unwrap()).collect()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().expect("mode");
    let file = std::env::temp_dir().join("attestlog-merkle-ops.bin");
    if mode == "gen" {
        let mut t = MerkleTree::with_capacity(N as usize);
        for i in 0..N {
            t.push(&data(i));
        }
        let mut out = Vec::new();
        out.extend(t.root().0);
        out.extend(t.root_at(OLD).unwrap().0);
        for p in [
            t.inclusion_proof(INDEX, N).unwrap(),
            t.consistency_proof(OLD, N).unwrap(),
        ] {
            out.push(p.len() as u8);
            p.iter().for_each(|h| out.extend(h.0));
        }
        std::fs::write(&file, out).unwrap();
        return;
    }
    let iters: u32 = args.next().expect("iterations").parse().unwrap();
    let b = std::fs::read(&file).expect("run `merkle_ops gen` first");
    let (root, old) = (
        Hash::from_slice(&b[..32]).unwrap(),
        Hash::from_slice(&b[32..64]).unwrap(),
    );
    let n1 = usize::from(b[64]);
    let incl = hashes(&b[65..65 + 32 * n1]);
    let o = 65 + 32 * n1;
    let cons = hashes(&b[o + 1..o + 1 + 32 * usize::from(b[o])]);
    let leaf = leaf_hash(&data(INDEX));
    // ct-merkle takes the same RFC proofs as bytes.
    let ct_root = RootHash::<Sha256>::new(root.0.into(), N);
    let ct_old = RootHash::<Sha256>::new(old.0.into(), OLD);
    let ct_incl = InclusionProof::<Sha256>::from_bytes(incl.iter().flat_map(|h| h.0).collect());
    let ct_cons =
        ConsistencyProof::<Sha256>::try_from_bytes(cons.iter().flat_map(|h| h.0).collect())
            .unwrap();
    for _ in 0..iters {
        match mode.as_str() {
            "attest_inclusion" => {
                verify_inclusion(black_box(INDEX), N, black_box(&leaf), &incl, &root).unwrap()
            }
            "ct_merkle_inclusion" => ct_root
                .verify_inclusion(black_box(&data(INDEX)), INDEX, &ct_incl)
                .unwrap(),
            "attest_consistency" => {
                verify_consistency(black_box(OLD), N, &cons, &old, &root).unwrap()
            }
            "ct_merkle_consistency" => black_box(&ct_root)
                .verify_consistency(&ct_old, &ct_cons)
                .unwrap(),
            "node_hash" => {
                black_box(node_hash(black_box(&root), black_box(&old)));
            }
            "leaf_hash" => {
                black_box(leaf_hash(black_box(&data(INDEX))));
            }
            other => panic!("unknown mode {other}"),
        }
    }
}
