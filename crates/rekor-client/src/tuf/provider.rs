//! Our pure-Rust keys as `sigstore-crypto`'s provider, so the TUF state
//! machine of `sigstore-tuf` verifies metadata signatures without aws-lc.
//!
//! `sigstore-crypto` looks its provider up in a process-wide slot; we fill
//! it (once) before any TUF metadata is read. A program that installed its
//! own provider first keeps it: both verify the same signatures.

use attest_dsse::{EcdsaHash, PublicKey};
use sha2::Digest;
use sigstore_crypto::provider::{CryptoProvider, HashContext, install_default_provider};
use sigstore_crypto::{Error, SigningScheme};
use sigstore_types::HashAlgorithm;

/// ECDSA (P-256, P-384) and Ed25519 through [`attest_dsse::PublicKey`]; SHA-2
/// through `sha2`. RSA and ML-DSA are refused (Sigstore's repositories sign
/// with ECDSA P-256; an unsupported key only counts as a missing signature).
#[derive(Debug)]
struct RustCrypto;

static PROVIDER: RustCrypto = RustCrypto;

/// Makes our provider the process's `sigstore-crypto` provider, unless one
/// is installed already.
pub(super) fn install() {
    // An `Err` means some provider is in place already: nothing to do.
    let _ = install_default_provider(&PROVIDER);
}

enum Hasher {
    Sha256(sha2::Sha256),
    Sha384(sha2::Sha384),
    Sha512(sha2::Sha512),
}

impl HashContext for Hasher {
    fn update(&mut self, data: &[u8]) {
        match self {
            Self::Sha256(h) => h.update(data),
            Self::Sha384(h) => h.update(data),
            Self::Sha512(h) => h.update(data),
        }
    }

    fn finalize(self: Box<Self>) -> Vec<u8> {
        match *self {
            Self::Sha256(h) => h.finalize().to_vec(),
            Self::Sha384(h) => h.finalize().to_vec(),
            Self::Sha512(h) => h.finalize().to_vec(),
        }
    }
}

/// The key of `scheme` from raw `subjectPublicKey` bytes (a SEC1 point, or
/// 32 Ed25519 bytes), and the hash its ECDSA signatures use.
fn key(scheme: SigningScheme, raw: &[u8]) -> Result<(PublicKey, EcdsaHash), Error> {
    use p256::pkcs8::EncodePublicKey as _;
    let bad = |what: &str| Error::InvalidKey(what.to_owned());
    let spki = match scheme {
        SigningScheme::Ed25519 => {
            let bytes: &[u8; 32] = raw.try_into().map_err(|_| bad("Ed25519 key length"))?;
            let key = PublicKey::ed25519_from_bytes(bytes).map_err(|_| bad("Ed25519 key"))?;
            return Ok((key, EcdsaHash::Sha512));
        }
        SigningScheme::EcdsaP256Sha256 | SigningScheme::EcdsaP256Sha384 => {
            p256::ecdsa::VerifyingKey::from_sec1_bytes(raw)
                .map_err(|_| bad("P-256 point"))?
                .to_public_key_der()
        }
        SigningScheme::EcdsaP384Sha256 | SigningScheme::EcdsaP384Sha384 => {
            p384::ecdsa::VerifyingKey::from_sec1_bytes(raw)
                .map_err(|_| bad("P-384 point"))?
                .to_public_key_der()
        }
        other => {
            return Err(Error::UnsupportedAlgorithm(format!(
                "{other:?} (attestlog's TUF provider: ECDSA P-256/P-384, Ed25519)"
            )));
        }
    }
    .map_err(|_| bad("public key encoding"))?;
    let hash = match scheme {
        SigningScheme::EcdsaP256Sha384 | SigningScheme::EcdsaP384Sha384 => EcdsaHash::Sha384,
        _ => EcdsaHash::Sha256,
    };
    let key = PublicKey::from_spki_der(spki.as_bytes()).map_err(|_| bad("public key"))?;
    Ok((key, hash))
}

impl CryptoProvider for RustCrypto {
    fn hash(&self, algorithm: HashAlgorithm) -> sigstore_crypto::Result<Box<dyn HashContext>> {
        Ok(Box::new(match algorithm {
            HashAlgorithm::Sha2256 => Hasher::Sha256(sha2::Sha256::new()),
            HashAlgorithm::Sha2384 => Hasher::Sha384(sha2::Sha384::new()),
            HashAlgorithm::Sha2512 => Hasher::Sha512(sha2::Sha512::new()),
            other => {
                return Err(Error::UnsupportedAlgorithm(format!("{other:?}")));
            }
        }))
    }

    fn verify_raw(
        &self,
        scheme: SigningScheme,
        spki_pubkey_bytes: &[u8],
        data: &[u8],
        signature: &[u8],
    ) -> sigstore_crypto::Result<()> {
        let (key, hash) = key(scheme, spki_pubkey_bytes)?;
        // ECDSA signatures in TUF metadata are DER (securesystemslib).
        if key.verifies_hashed(hash, data, signature) {
            Ok(())
        } else {
            Err(Error::Verification("signature does not verify".into()))
        }
    }

    fn verify_prehashed(
        &self,
        scheme: SigningScheme,
        spki_pubkey_bytes: &[u8],
        digest: &[u8],
        signature: &[u8],
    ) -> sigstore_crypto::Result<()> {
        let (key, _) = key(scheme, spki_pubkey_bytes)?;
        if key.verifies_prehashed(digest, signature) {
            Ok(())
        } else {
            Err(Error::Verification("signature does not verify".into()))
        }
    }
}
