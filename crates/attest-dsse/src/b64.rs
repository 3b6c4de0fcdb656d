//! Base64 as DSSE uses it: standard or URL-safe alphabet on input, always
//! padded and canonical (zero padding bits, no whitespace); standard padded on
//! output.

use base64ct::{Base64, Base64Url, Encoding};

/// Decodes padded, canonical standard or URL-safe base64.
///
/// Mixed alphabets, missing padding, non-zero padding bits and whitespace are
/// rejected: each would let two different envelope texts carry the same
/// signed bytes.
pub(crate) fn decode(s: &str) -> Option<Vec<u8>> {
    Base64::decode_vec(s)
        .ok()
        .or_else(|| Base64Url::decode_vec(s).ok())
}

/// The length `s` decodes to if it is valid padded base64 (checked before
/// decoding, so that an oversized payload is refused without decoding it).
pub(crate) fn decoded_len(s: &str) -> usize {
    let padding = s.bytes().rev().take(2).filter(|&b| b == b'=').count();
    (s.len() / 4 * 3).saturating_sub(padding)
}

/// Standard padded base64.
pub(crate) fn encode(bytes: &[u8]) -> String {
    Base64::encode_string(bytes)
}
