//! The 32-byte SHA-256 hash and the RFC 6962 domain-separated hash functions.

use core::fmt;
use core::str::FromStr;

use base64ct::{Base64, Encoding};
use sha2::{Digest, Sha256};

/// Length in bytes of a [`Hash`](struct@crate::Hash).
pub const HASH_LEN: usize = 32;

/// Length of a [`Hash`](struct@crate::Hash) written as lowercase hex.
pub const HEX_LEN: usize = 64;

/// Length of a [`Hash`](struct@crate::Hash) written as padded standard base64.
pub const BASE64_LEN: usize = 44;

/// A SHA-256 hash of a leaf, an interior node or a whole tree.
///
/// `Display` and `Debug` print lowercase hex. [`Hash::parse`] accepts either
/// 64 hex digits (the Rekor REST API form) or 44 characters of padded standard
/// base64 (the form of checkpoints and Sigstore bundles).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Hash(pub [u8; HASH_LEN]);

/// The root of the empty tree: `SHA-256("")` (RFC 6962 §2.1).
pub const EMPTY_ROOT: Hash = Hash([
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
]);

/// Hashes leaf data: `SHA-256(0x00 || data)`.
#[must_use]
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(data);
    Hash(h.finalize().into())
}

/// Hashes two children into their parent: `SHA-256(0x01 || left || right)`.
#[must_use]
#[inline]
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    // One contiguous 65-byte message: two compression-function calls and no
    // intermediate buffering inside the hasher.
    let mut buf = [0u8; 1 + 2 * HASH_LEN];
    buf[0] = 0x01;
    buf[1..1 + HASH_LEN].copy_from_slice(&left.0);
    buf[1 + HASH_LEN..].copy_from_slice(&right.0);
    Hash(Sha256::digest(buf).into())
}

/// Why a string is not a [`Hash`](struct@crate::Hash).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HashParseError {
    /// The input is neither 64 characters (hex) nor 44 characters (base64).
    WrongLength {
        /// Length of the input in bytes.
        len: usize,
    },
    /// A character that is not a hex digit, at this byte offset.
    InvalidHex {
        /// Byte offset of the first bad character.
        offset: usize,
    },
    /// Not canonical padded standard base64 of exactly 32 bytes.
    InvalidBase64,
}

impl fmt::Display for HashParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WrongLength { len } => write!(
                f,
                "a hash is 64 hex digits or 44 base64 characters, got {len} characters"
            ),
            Self::InvalidHex { offset } => write!(f, "invalid hex digit at offset {offset}"),
            Self::InvalidBase64 => f.write_str("invalid base64 for a 32-byte hash"),
        }
    }
}

impl core::error::Error for HashParseError {}

impl Hash {
    /// Wraps 32 bytes.
    #[must_use]
    pub const fn new(bytes: [u8; HASH_LEN]) -> Self {
        Self(bytes)
    }

    /// Copies a hash out of a slice, or `None` when it is not exactly 32 bytes.
    #[must_use]
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        <[u8; HASH_LEN]>::try_from(bytes).ok().map(Self)
    }

    /// The raw bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; HASH_LEN] {
        &self.0
    }

    /// Parses 64 hex digits (either case) or 44 characters of padded standard
    /// base64, chosen by length.
    ///
    /// # Errors
    /// [`HashParseError`] when the input is neither.
    pub fn parse(s: &str) -> Result<Self, HashParseError> {
        match s.len() {
            HEX_LEN => Self::from_hex(s),
            BASE64_LEN => Self::from_base64(s),
            len => Err(HashParseError::WrongLength { len }),
        }
    }

    /// Parses exactly 64 hex digits (either case).
    ///
    /// # Errors
    /// [`HashParseError`] on a wrong length or a non-hex character.
    pub fn from_hex(s: &str) -> Result<Self, HashParseError> {
        let b = s.as_bytes();
        if b.len() != HEX_LEN {
            return Err(HashParseError::WrongLength { len: b.len() });
        }
        if let Some(offset) = b.iter().position(|c| !c.is_ascii_hexdigit()) {
            return Err(HashParseError::InvalidHex { offset });
        }
        let mut out = [0u8; HASH_LEN];
        // 64 hex digits of either case decode to exactly 32 bytes.
        base16ct::mixed::decode(b, &mut out)
            .map_err(|_| HashParseError::InvalidHex { offset: 0 })?;
        Ok(Self(out))
    }

    /// Parses canonical padded standard base64 (RFC 4648 §4) of 32 bytes.
    ///
    /// # Errors
    /// [`HashParseError`] on a wrong length, a bad alphabet, bad padding or
    /// non-zero padding bits.
    pub fn from_base64(s: &str) -> Result<Self, HashParseError> {
        if s.len() != BASE64_LEN {
            return Err(HashParseError::WrongLength { len: s.len() });
        }
        let mut out = [0u8; HASH_LEN];
        let decoded =
            Base64::decode(s.as_bytes(), &mut out).map_err(|_| HashParseError::InvalidBase64)?;
        if decoded.len() != HASH_LEN {
            return Err(HashParseError::InvalidBase64);
        }
        Ok(Self(out))
    }

    /// Writes the lowercase hex form into `buf` and returns it as a `&str`.
    pub fn encode_hex<'a>(&self, buf: &'a mut [u8; HEX_LEN]) -> &'a str {
        // The buffer is exactly twice the hash: encoding cannot fail, and the
        // empty string would only ever show a bug, never hide bad data.
        base16ct::lower::encode_str(&self.0, buf).unwrap_or("")
    }

    /// Writes the padded standard base64 form into `buf` and returns it.
    pub fn encode_base64<'a>(&self, buf: &'a mut [u8; BASE64_LEN]) -> &'a str {
        // 32 bytes always encode to exactly 44 characters, so this cannot fail.
        Base64::encode(&self.0, buf).unwrap_or("")
    }

    /// The padded standard base64 form, as a value that implements `Display`.
    #[must_use]
    pub fn base64(&self) -> impl fmt::Display + '_ {
        struct B64<'a>(&'a Hash);
        impl fmt::Display for B64<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let mut buf = [0u8; BASE64_LEN];
                f.write_str(self.0.encode_base64(&mut buf))
            }
        }
        B64(self)
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; HEX_LEN];
        f.write_str(self.encode_hex(&mut buf))
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({self})")
    }
}

impl FromStr for Hash {
    type Err = HashParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl From<[u8; HASH_LEN]> for Hash {
    fn from(b: [u8; HASH_LEN]) -> Self {
        Self(b)
    }
}

impl From<Hash> for [u8; HASH_LEN] {
    fn from(h: Hash) -> Self {
        h.0
    }
}

impl AsRef<[u8]> for Hash {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

#[cfg(feature = "serde")]
mod serde_impl {
    use super::{BASE64_LEN, HEX_LEN, Hash};
    use core::fmt;

    /// Serializes as lowercase hex; deserializes hex or base64 (by length).
    impl serde::Serialize for Hash {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut buf = [0u8; HEX_LEN];
            s.serialize_str(self.encode_hex(&mut buf))
        }
    }

    impl<'de> serde::Deserialize<'de> for Hash {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl serde::de::Visitor<'_> for V {
                type Value = Hash;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    write!(
                        f,
                        "a hash as {HEX_LEN} hex digits or {BASE64_LEN} base64 characters"
                    )
                }
                fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Hash, E> {
                    Hash::parse(v).map_err(E::custom)
                }
            }
            d.deserialize_str(V)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_root_is_sha256_of_nothing() {
        assert_eq!(EMPTY_ROOT, Hash(Sha256::digest([]).into()));
    }

    #[test]
    fn parse_round_trips_both_encodings() {
        let h = leaf_hash(b"L123456");
        let hex = alloc_free_hex(&h);
        assert_eq!(Hash::parse(&hex).unwrap(), h);
        assert_eq!(Hash::parse(&hex.to_uppercase()).unwrap(), h);
        let mut b = [0u8; BASE64_LEN];
        assert_eq!(Hash::parse(h.encode_base64(&mut b)).unwrap(), h);
    }

    fn alloc_free_hex(h: &Hash) -> std::string::String {
        let mut b = [0u8; HEX_LEN];
        std::string::String::from(h.encode_hex(&mut b))
    }

    #[test]
    fn parse_rejects_bad_input() {
        assert_eq!(Hash::parse(""), Err(HashParseError::WrongLength { len: 0 }));
        let mut bad = "0".repeat(64);
        bad.replace_range(10..11, "g");
        assert_eq!(
            Hash::parse(&bad),
            Err(HashParseError::InvalidHex { offset: 10 })
        );
        // Non-zero padding bits: the last character before '=' must have its
        // low two bits clear for a 32-byte value.
        let canonical = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
        assert_eq!(Hash::parse(canonical).unwrap(), EMPTY_ROOT);
        let noncanonical = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFV=";
        assert_eq!(
            Hash::parse(noncanonical),
            Err(HashParseError::InvalidBase64)
        );
        let urlsafe = "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU=";
        assert_eq!(Hash::parse(urlsafe), Err(HashParseError::InvalidBase64));
    }
}
