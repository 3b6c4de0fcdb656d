//! Base64 as DSSE uses it: standard or URL-safe alphabet on input, always
//! padded and canonical (zero padding bits, no whitespace); standard padded on
//! output.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use base64ct::{Base64, Encoding};

/// Decodes padded, canonical standard or URL-safe base64.
///
/// Mixed alphabets, missing padding, non-zero padding bits and whitespace are
/// rejected: each would let two different envelope texts carry the same
/// signed bytes. Envelopes are public, so the `base64` crate's
/// variable-time engine decodes them (~10x fewer instructions than
/// base64ct's constant-time one; a property test holds the two equal).
pub(crate) fn decode(s: &str) -> Option<Vec<u8>> {
    STANDARD.decode(s).ok().or_else(|| URL_SAFE.decode(s).ok())
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

#[cfg(test)]
mod tests {
    use base64ct::{Base64, Base64Url, Encoding};
    use proptest::prelude::*;

    /// base64ct's reading of the same language: standard, else URL-safe.
    fn reference(s: &str) -> Option<Vec<u8>> {
        Base64::decode_vec(s)
            .ok()
            .or_else(|| Base64Url::decode_vec(s).ok())
    }

    proptest! {
        /// Encodings (both alphabets) of random bytes, each with one
        /// character replaced, and random strings: the same verdicts and
        /// bytes as base64ct.
        #[test]
        fn agrees_with_base64ct(
            bytes in proptest::collection::vec(any::<u8>(), 0..48),
            url in any::<bool>(),
            at in any::<usize>(),
            with in prop::sample::select(b"AQgw/+=-_ \n\0".to_vec()),
            random in "[A-Za-z0-9+/=_ -]{0,20}",
        ) {
            let good = if url { Base64Url::encode_string(&bytes) } else { Base64::encode_string(&bytes) };
            prop_assert_eq!(super::decode(&good), reference(&good));
            if !good.is_empty() {
                let mut bad = good.into_bytes();
                let i = at % bad.len();
                bad[i] = with;
                let bad = String::from_utf8(bad).unwrap();
                prop_assert_eq!(super::decode(&bad), reference(&bad));
            }
            prop_assert_eq!(super::decode(&random), reference(&random));
        }
    }
}
