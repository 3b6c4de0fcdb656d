//! Pre-Authentication Encoding, the exact bytes a DSSE signature covers.
//!
//! `PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, where
//! `LEN` is the decimal **byte** length (a non-ASCII payload type has more
//! bytes than characters, and the byte count is what is signed).

use sha2::{Digest, Sha256};

/// The PAE of `payload_type` and `payload`.
#[must_use]
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = pae_prefix(payload_type, payload.len() as u64);
    out.extend_from_slice(payload);
    out
}

/// Everything of the PAE that precedes the payload bytes.
#[must_use]
pub fn pae_prefix(payload_type: &str, payload_len: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload_type.len() + 32);
    out.extend_from_slice(b"DSSEv1 ");
    out.extend_from_slice(payload_type.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload_type.as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload_len.to_string().as_bytes());
    out.push(b' ');
    out
}

/// SHA-256 of a PAE computed from the payload in pieces, without holding a
/// second copy of a large payload (the digest Rekor v2 logs for DSSE, and the
/// message digest of an ECDSA P-256 signature).
///
/// ```
/// use attest_dsse::{pae, PaeSha256};
/// use sha2::{Digest, Sha256};
///
/// let mut h = PaeSha256::new("text/plain", 11);
/// h.update(b"hello ");
/// h.update(b"world");
/// assert_eq!(h.finalize().unwrap(), <[u8; 32]>::from(Sha256::digest(pae("text/plain", b"hello world"))));
/// ```
#[derive(Clone)]
pub struct PaeSha256 {
    hasher: Sha256,
    declared: u64,
    seen: u64,
}

impl PaeSha256 {
    /// Starts a PAE digest for a payload of exactly `payload_len` bytes.
    #[must_use]
    pub fn new(payload_type: &str, payload_len: u64) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(pae_prefix(payload_type, payload_len));
        Self {
            hasher,
            declared: payload_len,
            seen: 0,
        }
    }

    /// Feeds the next piece of the payload.
    pub fn update(&mut self, chunk: &[u8]) {
        self.seen = self.seen.saturating_add(chunk.len() as u64);
        self.hasher.update(chunk);
    }

    /// The digest, or `None` when the pieces did not add up to the declared
    /// length (the PAE would have signed a different length).
    #[must_use]
    pub fn finalize(self) -> Option<[u8; 32]> {
        (self.seen == self.declared).then(|| self.hasher.finalize().into())
    }
}
