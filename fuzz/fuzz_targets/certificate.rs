//! Certificate parsing, path validation and SCT verification never panic on
//! arbitrary DER, whatever the trusted root.
#![no_main]

use attest_dsse::Timestamp;
use attest_rekor::TrustedRoot;
use attest_rekor::pki::{certificate_identity, verify_certificate};
use libfuzzer_sys::fuzz_target;

const ROOT: &[u8] = include_bytes!("../../crates/attestlog-testkit/vectors/trusted_root.json");

fuzz_target!(|data: &[u8]| {
    let Ok(auth) = TrustedRoot::from_json(ROOT).map(TrustedRoot::into_authorities) else {
        return;
    };
    let _ = certificate_identity(data);
    let _ = verify_certificate(data, &auth, &[Timestamp::from_unix(1_750_000_000)]);
    // The same bytes as a trusted root: never a panic either.
    let _ = TrustedRoot::from_json(data).map(TrustedRoot::into_authorities);
});
