#![doc = include_str!("../README.md")]
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(feature = "alloc")]
extern crate alloc;

mod checkpoint;
mod compact;
mod error;
mod hash;
mod nodes;
#[cfg(feature = "alloc")]
pub mod tiles;
#[cfg(feature = "alloc")]
mod tree;
mod verify;

pub use checkpoint::{Checkpoint, CheckpointError};
pub use compact::{CompactRange, MAX_RANGE_HASHES, RangeError};
pub use error::ProofError;
pub use hash::{
    BASE64_LEN, EMPTY_ROOT, HASH_LEN, HEX_LEN, Hash, HashParseError, leaf_hash, node_hash,
};
pub use nodes::{
    MAX_PLAN_NODES, MAX_PROOF_LEN, NodeId, NodeReader, Proof, ProofPlan, consistency_plan,
    inclusion_plan, read_root, root_nodes,
};
#[cfg(feature = "alloc")]
pub use tree::{MerkleTree, MissingNode};
pub use verify::{
    EmptyTreePolicy, consistency_proof_len, inclusion_proof_len, root_from_consistency,
    root_from_inclusion, verify_consistency, verify_consistency_with, verify_inclusion,
};
