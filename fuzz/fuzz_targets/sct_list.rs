//! The SCT-list parser (an extension value: OCTET STRING around a TLS
//! vector of SCTs) never panics on arbitrary bytes.
#![no_main]

use attest_rekor::pki::parse_sct_list_len;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse_sct_list_len(data);
});
