//! `verify_consistency` never panics and agrees with the RFC 9162 loop.
#![no_main]

use attest_merkle::{Hash, verify_consistency};
use libfuzzer_sys::fuzz_target;

#[path = "../../crates/attest-merkle/tests/reference/rfc9162.rs"]
mod reference;

fuzz_target!(|data: &[u8]| {
    if data.len() < 16 + 64 {
        return;
    }
    let raw1 = u64::from_le_bytes(data[..8].try_into().unwrap());
    let raw2 = u64::from_le_bytes(data[8..16].try_into().unwrap());
    let (size1, size2) = if raw1 & 1 == 0 {
        (raw1 >> 48, raw2 >> 48)
    } else {
        (raw1, raw2)
    };
    let root1 = Hash::from_slice(&data[16..48]).unwrap();
    let root2 = Hash::from_slice(&data[48..80]).unwrap();
    let proof: Vec<Hash> = data[80..]
        .chunks_exact(32)
        .filter_map(Hash::from_slice)
        .collect();
    let ours = verify_consistency(size1, size2, &proof, &root1, &root2);
    if 0 < size1 && size1 < size2 {
        let rfc = reference::rfc_verify_consistency(size1, size2, &root1, &root2, &proof);
        assert_eq!(ours.is_ok(), rfc);
    } else if size1 == size2 && size1 > 0 {
        assert_eq!(ours.is_ok(), proof.is_empty() && root1 == root2);
    } else {
        assert!(ours.is_err());
    }
});
