//! The bundle, LogEntry and signed-note parsers never panic; what parses is
//! carried through verification without panicking.
#![no_main]

use attest_dsse::{SigningKey, Timestamp};
use attest_rekor::{
    Artifact, Bundle, LogEntry, Policy, SignedNote, SignerPolicy, TrustedRoot, Verifier,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(note) = SignedNote::parse(text) {
            assert_eq!(note.to_text(), text);
            let _ = note.checkpoint();
        }
    }
    let key = SigningKey::ed25519_from_seed(&[7; 32]).public_key().clone();
    let policy = Policy::new(SignerPolicy::Key(key), Timestamp::from_unix(0));
    if let Ok(bundle) = Bundle::from_json(data) {
        let verifier = Verifier::new(TrustedRoot::new());
        let _ = verifier.verify(&bundle, &Artifact::of_bytes(data), &policy);
        let _ = verifier.verify_envelope(&bundle, &policy);
    }
    if let Ok(entry) = LogEntry::from_json(data) {
        let _ = entry.to_tlog_entry();
    }
});
