//! The one log-id type: 32 bytes, hex in the REST API, base64 in bundles and
//! trusted roots.

use std::fmt;

use attest_dsse::PublicKey;
use base64ct::{Base64, Encoding};
use sha2::{Digest, Sha256};

/// A transparency log's id: SHA-256 of its key's DER SPKI for Rekor v1 (and
/// C2SP ECDSA keys), the C2SP key hash for Rekor v2 Ed25519 logs. Displayed
/// as lowercase hex (the REST API's `logID`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LogId(pub [u8; 32]);

/// A string that is not a log id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LogIdError {
    /// Not 64 hex digits.
    #[error("a log id is 64 hex digits")]
    Hex,
    /// Not base64 of 32 bytes.
    #[error("a log id is base64 of 32 bytes")]
    Base64,
}

impl LogId {
    /// SHA-256 of `key`'s DER SPKI: a Rekor v1 log's id.
    #[must_use]
    pub fn of_key(key: &PublicKey) -> Self {
        Self(Sha256::digest(key.spki_der()).into())
    }

    /// Parses 64 hex digits (either case).
    ///
    /// # Errors
    /// [`LogIdError::Hex`].
    pub fn from_hex(s: &str) -> Result<Self, LogIdError> {
        let mut out = [0u8; 32];
        match base16ct::mixed::decode(s.as_bytes(), &mut out) {
            Ok(b) if b.len() == 32 => Ok(Self(out)),
            _ => Err(LogIdError::Hex),
        }
    }

    /// Parses standard base64 of 32 bytes (bundles, trusted roots).
    ///
    /// # Errors
    /// [`LogIdError::Base64`].
    pub fn from_base64(s: &str) -> Result<Self, LogIdError> {
        let v = crate::b64::decode(s).map_err(|_| LogIdError::Base64)?;
        v.try_into().map(Self).map_err(|_| LogIdError::Base64)
    }

    /// The raw bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lowercase hex.
    #[must_use]
    pub fn to_hex(&self) -> String {
        base16ct::lower::encode_string(&self.0)
    }

    /// Standard padded base64.
    #[must_use]
    pub fn to_base64(&self) -> String {
        Base64::encode_string(&self.0)
    }
}

impl fmt::Display for LogId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for LogId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LogId({self})")
    }
}

impl From<[u8; 32]> for LogId {
    fn from(b: [u8; 32]) -> Self {
        Self(b)
    }
}

impl serde::Serialize for LogId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for LogId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::from_hex(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn hex_and_base64_round_trip_and_refuse_other_lengths() {
        let hex = "c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d";
        let id = LogId::from_hex(hex).unwrap();
        assert_eq!(id.to_string(), hex);
        assert_eq!(LogId::from_hex(&hex.to_uppercase()).unwrap(), id);
        assert_eq!(LogId::from_base64(&id.to_base64()).unwrap(), id);
        assert_eq!(LogId::from_hex(&hex[2..]), Err(LogIdError::Hex));
        assert_eq!(LogId::from_hex(&format!("{hex}00")), Err(LogIdError::Hex));
        assert_eq!(
            LogId::from_hex(&format!("{}zz", &hex[2..])),
            Err(LogIdError::Hex)
        );
        assert_eq!(LogId::from_base64("AAAA"), Err(LogIdError::Base64));
    }
}
