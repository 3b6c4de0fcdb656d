//! RFC 3161 responses and tokens: verification of arbitrary bytes never
//! panics and never succeeds without a trusted authority's signature.
#![no_main]

use attest_rekor::TrustedRoot;
use attest_rekor::tsp::verify_timestamp;
use libfuzzer_sys::fuzz_target;

const ROOT: &[u8] = include_bytes!("../../crates/attestlog-testkit/vectors/trusted_root.json");

fuzz_target!(|data: &[u8]| {
    let Ok(auth) = TrustedRoot::from_json(ROOT).map(TrustedRoot::into_authorities) else {
        return;
    };
    let (sig, token) = data.split_at(data.len().min(8));
    let _ = verify_timestamp(token, sig, &auth.timestamp_authorities);
});
