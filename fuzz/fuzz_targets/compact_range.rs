//! Compact-range decoding never panics; decoded ranges re-encode identically
//! and accept appends and merges without panicking.
#![no_main]

use attest_merkle::{CompactRange, leaf_hash};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(mut range) = CompactRange::from_bytes(data) else {
        return;
    };
    assert_eq!(range.to_bytes(), data);
    let end = range.end();
    let _ = range.append(leaf_hash(data));
    let mut next = CompactRange::starting_at(range.end());
    let _ = next.append(leaf_hash(b"x"));
    let _ = range.merge(&next);
    let _ = range.root();
    assert!(range.end() >= end);
});
