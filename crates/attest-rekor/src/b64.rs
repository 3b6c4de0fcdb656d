//! Base64 decoding of public data: bundles, trusted roots, log entries,
//! checkpoints. The same language as `base64ct::Base64` (standard alphabet,
//! padding required, padding bits zero, no whitespace: a property test
//! below holds the two equal on valid, mutated and random inputs), decoded
//! by the `base64` crate's table-driven engine: base64ct is constant-time,
//! which public data does not need, and costs ~10x the instructions (4.8%
//! of a `verify-bundle` process, callgrind). Secret material (private keys)
//! is never decoded here.

use base64::Engine as _;

/// Decodes padded, canonical standard base64. The error is base64ct's, as
/// the callers' were before this module; its variant carries no more than
/// "not canonical base64".
pub(crate) fn decode(s: &str) -> Result<Vec<u8>, base64ct::Error> {
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .map_err(|_| base64ct::Error::InvalidEncoding)
}

/// The DER inside PEM text with `label`, read only in the form Rekor and
/// RFC 7468's strict profile write it — `-----BEGIN label-----`, lines of
/// 64 base64 characters (the last 1 to 64) each ending in LF, `-----END
/// label-----`, nothing around it — and `None` for anything else, which the
/// caller hands to `pem-rfc7468` (a strict subset of what it accepts, with
/// the same bytes: a property test holds that). Hand-written for speed: the
/// crate decodes with base64ct's constant-time decoder, line by line.
pub(crate) fn strict_pem(pem: &[u8], label: &str) -> Option<Vec<u8>> {
    let rest = pem
        .strip_prefix(b"-----BEGIN ")?
        .strip_prefix(label.as_bytes())?
        .strip_prefix(b"-----\n")?;
    let body = rest
        .strip_suffix(b"-----")?
        .strip_suffix(label.as_bytes())?
        .strip_suffix(b"\n-----END ")?;
    let mut b64 = Vec::with_capacity(body.len());
    let mut lines = body.split(|&b| b == b'\n').peekable();
    while let Some(line) = lines.next() {
        let last = lines.peek().is_none();
        if line.is_empty() || line.len() > 64 || (!last && line.len() != 64) {
            return None;
        }
        b64.extend_from_slice(line);
    }
    base64::engine::general_purpose::STANDARD.decode(b64).ok()
}

#[cfg(test)]
mod tests {
    use base64ct::{Base64, Encoding};
    use proptest::prelude::*;

    fn same(s: &str) {
        assert_eq!(super::decode(s).ok(), Base64::decode_vec(s).ok(), "{s:?}");
    }

    #[test]
    fn edges() {
        for s in [
            "", "=", "==", "A", "AA", "AA=", "AA==", "AB==", "AAA=", "AAB=", "AAAA", "AA==AA==",
            "AAAA====", " AAAA", "AAAA\n", "A A=", "-_==", "+/==", "AQ==", "AR==", "AQI=", "AQJ=",
        ] {
            same(s);
        }
    }

    proptest! {
        /// Encodings of random bytes, and each with one character replaced
        /// by another of the alphabet, '=' or a stray byte.
        #[test]
        fn agree_on_encodings_and_their_mutations(
            bytes in proptest::collection::vec(any::<u8>(), 0..64),
            at in any::<usize>(),
            with in prop::sample::select(b"AQgw/+=-_ \n\0".to_vec()),
        ) {
            let good = Base64::encode_string(&bytes);
            same(&good);
            if !good.is_empty() {
                let mut bad = good.into_bytes();
                let i = at % bad.len();
                bad[i] = with;
                same(std::str::from_utf8(&bad).unwrap());
            }
        }

        /// PEM as pem-rfc7468 writes it reads back the same; with a byte
        /// changed, removed or added, whatever the strict reader still
        /// takes, pem-rfc7468 takes too, with the same label and bytes.
        #[test]
        fn strict_pem_is_a_subset_of_pem_rfc7468(
            der in proptest::collection::vec(any::<u8>(), 1..200),
            certificate in any::<bool>(),
            at in any::<usize>(),
            edit in 0..3u8,
            with in prop::sample::select(b"A/=-\n\r E".to_vec()),
        ) {
            let label = if certificate { "CERTIFICATE" } else { "PUBLIC KEY" };
            let pem = der::pem::encode_string(label, der::pem::LineEnding::LF, &der).unwrap();
            let pem = pem.trim_ascii().as_bytes().to_vec();
            prop_assert_eq!(super::strict_pem(&pem, label), Some(der.clone()));
            let mut edited = pem.clone();
            let i = at % edited.len();
            match edit {
                0 => edited[i] = with,
                1 => { edited.remove(i); }
                _ => edited.insert(i, with),
            }
            if let Some(fast) = super::strict_pem(&edited, label) {
                let (l, slow) = der::pem::decode_vec(&edited).unwrap();
                prop_assert_eq!(l, label);
                prop_assert_eq!(fast, slow);
            }
        }

        /// Random strings over the alphabet, padding and a few strays.
        #[test]
        fn agree_on_random_strings(s in "[A-Za-z0-9+/=_ -]{0,24}") {
            same(&s);
        }
    }
}
