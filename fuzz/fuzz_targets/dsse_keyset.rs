//! Key-set parsing never panics; whatever parses round-trips through JSON.
#![no_main]

use attest_dsse::KeySet;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(set) = KeySet::from_json(data) else {
        return;
    };
    let again = KeySet::from_json(set.to_json_pretty().as_bytes()).unwrap();
    assert_eq!(again.keys.len(), set.keys.len());
    for (a, b) in again.keys.iter().zip(&set.keys) {
        assert_eq!(a.key, b.key);
        assert_eq!(a.status, b.status);
        assert_eq!(a.valid_until, b.valid_until);
    }
});
