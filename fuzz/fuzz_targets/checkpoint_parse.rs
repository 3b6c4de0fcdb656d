//! The checkpoint parser never panics; whatever parses formats back exactly.
#![no_main]

use attest_merkle::Checkpoint;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(cp) = Checkpoint::parse_bytes(data) {
        assert_eq!(cp.to_string().as_bytes(), data);
        let _ = cp.extensions().count();
    }
});
