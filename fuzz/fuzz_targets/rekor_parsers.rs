//! The bundle, LogEntry and signed-note parsers never panic; what parses is
//! carried through verification without panicking.
#![no_main]

use attest_dsse::Timestamp;
use libfuzzer_sys::fuzz_target;
use attest_rekor::{Bundle, BundlePolicy, LogEntry, SignedNote, verify_bundle};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(note) = SignedNote::parse(text) {
            assert_eq!(note.to_text(), text);
            let _ = note.checkpoint();
        }
    }
    let policy = BundlePolicy::new(&[], Timestamp::from_unix(0));
    if let Ok(bundle) = Bundle::from_json(data) {
        let _ = verify_bundle(&bundle, &policy);
    }
    if let Ok(entry) = LogEntry::from_json(data) {
        let _ = entry.to_tlog_entry();
    }
});
