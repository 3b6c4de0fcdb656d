//! `verify_inclusion` never panics and agrees with the RFC 9162 loop.
#![no_main]

use attest_merkle::{Hash, verify_inclusion};
use libfuzzer_sys::fuzz_target;

#[path = "../../crates/attest-merkle/tests/reference/rfc9162.rs"]
mod reference;

fn hashes(data: &[u8]) -> Vec<Hash> {
    data.chunks_exact(32).filter_map(Hash::from_slice).collect()
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 16 + 64 {
        return;
    }
    let index = u64::from_le_bytes(data[..8].try_into().unwrap());
    // Small sizes most of the time, so that valid-looking shapes occur.
    let raw_size = u64::from_le_bytes(data[8..16].try_into().unwrap());
    let size = if raw_size & 1 == 0 {
        raw_size >> 48
    } else {
        raw_size
    };
    let leaf = Hash::from_slice(&data[16..48]).unwrap();
    let root = Hash::from_slice(&data[48..80]).unwrap();
    let proof = hashes(&data[80..]);
    let ours = verify_inclusion(index, size, &leaf, &proof, &root).is_ok();
    let rfc = reference::rfc_verify_inclusion(index, size, &leaf, &proof, &root);
    assert_eq!(ours, rfc);
});
