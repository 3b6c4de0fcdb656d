//! Which implementation verifies signatures — a seam in the spirit of
//! rustls' `CryptoProvider`. RustCrypto (pure Rust) is the default and
//! always available; with the `ring` feature, ring's assembly verifies
//! Ed25519 and ECDSA P-256/P-384 (with SHA-256 or SHA-384) and becomes the
//! default. What ring does not cover (P-521, SHA-512 ECDSA, signatures over
//! a digest rather than a message) is always RustCrypto's.

use sha2::{Digest, Sha256, Sha384, Sha512};

/// A signature-verification backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Provider {
    /// RustCrypto's `ed25519-dalek`, `p256`, `p384`, `p521`: pure Rust.
    RustCrypto,
    /// ring (assembly, constant-time), for Ed25519 and ECDSA P-256/P-384.
    #[cfg(feature = "ring")]
    Ring,
    /// RustCrypto's field and point arithmetic with precomputed tables of
    /// the key and the generator, for ECDSA P-256 and P-384: no doublings,
    /// one mixed addition per window of each scalar (6 bits for P-256, 8
    /// for P-384). The generators' tables, and with the `sigstore-keys`
    /// feature those of Sigstore's public-good keys, are compiled in; any
    /// other key builds its table on first use with this provider (~2 ms
    /// and 88 KiB for P-256, ~15 ms and 588 KiB for P-384) and keeps it;
    /// the default path uses it for any key with tables. Other algorithms
    /// are RustCrypto's. Variable-time, which
    /// verification (all of it public data) allows.
    FixedBase,
}

impl Provider {
    /// The build's default: [`Provider::Ring`] with the `ring` feature,
    /// otherwise [`Provider::RustCrypto`].
    #[cfg(feature = "ring")]
    pub const DEFAULT: Self = Self::Ring;
    /// The build's default: [`Provider::Ring`] with the `ring` feature,
    /// otherwise [`Provider::RustCrypto`].
    #[cfg(not(feature = "ring"))]
    pub const DEFAULT: Self = Self::RustCrypto;

    /// Every provider compiled in.
    pub const ALL: &'static [Self] = &[
        Self::RustCrypto,
        #[cfg(feature = "ring")]
        Self::Ring,
        Self::FixedBase,
    ];
}

/// The hash an ECDSA signature is computed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EcdsaHash {
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl EcdsaHash {
    pub(crate) fn digest(self, msg: &[u8]) -> Vec<u8> {
        match self {
            Self::Sha256 => Sha256::digest(msg).to_vec(),
            Self::Sha384 => Sha384::digest(msg).to_vec(),
            Self::Sha512 => Sha512::digest(msg).to_vec(),
        }
    }
}
