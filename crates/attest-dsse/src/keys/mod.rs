//! Public and private keys: Ed25519 and ECDSA P-256 (SHA-256) sign and
//! verify; ECDSA P-384 (SHA-384) and P-521 (SHA-512) verify (Sigstore
//! certificate authorities and some signers use them).

use std::fmt;

use base64ct::{Base64UrlUnpadded, Encoding};
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use p256::ecdsa::signature::Signer as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Why a key could not be loaded or used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// Not PEM.
    #[error("not PEM")]
    Pem(#[source] pem_rfc7468::Error),
    /// PEM with another label than the one expected.
    #[error("expected a PEM {expected}, found {found:?}")]
    PemLabel {
        /// The label read here (`PUBLIC KEY`, `PRIVATE KEY`).
        expected: &'static str,
        /// The label found.
        found: String,
    },
    /// DER that is not an Ed25519, P-256, P-384 or P-521 SubjectPublicKeyInfo.
    #[error(
        "unsupported or malformed public key (Ed25519 and ECDSA P-256, P-384, P-521 are supported)"
    )]
    UnsupportedPublicKey,
    /// DER that is not an Ed25519 or P-256 PKCS#8 private key.
    #[error("unsupported or malformed PKCS#8 private key (Ed25519 and ECDSA P-256 are supported)")]
    UnsupportedPrivateKey,
    /// An Ed25519 key of small order: it would "verify" forged signatures.
    #[error("Ed25519 public key has small order (weak key), refusing it")]
    WeakKey,
    /// A JWK with a missing member.
    #[error("invalid JWK: missing `{0}`")]
    JwkMissing(&'static str),
    /// A JWK member that is not unpadded base64url of the right length.
    #[error("invalid JWK: `{0}` is not unpadded base64url of the key's size")]
    JwkMember(&'static str),
    /// A JWK key type or curve this crate does not read.
    #[error("unsupported JWK kty/crv {kty}/{crv} (OKP/Ed25519 and EC/P-256 are)")]
    JwkUnsupported {
        /// `kty`.
        kty: String,
        /// `crv`.
        crv: String,
    },
    /// An algorithm this crate verifies but does not sign with.
    #[error("signing with {0:?} is not supported (verification is)")]
    SigningUnsupported(Algorithm),
    /// The operating system's random source failed.
    #[error("no randomness available for key generation")]
    Random,
    /// Encoding a key failed.
    #[error("could not encode the key")]
    Encode,
    /// An encrypted private key (`ENCRYPTED PRIVATE KEY`) read without a
    /// passphrase.
    #[error("the private key is encrypted: a passphrase is needed")]
    Encrypted,
    /// An encrypted private key that did not decrypt with the passphrase
    /// (a wrong passphrase, or an encryption scheme not supported: PBES2
    /// with PBKDF2 or scrypt and AES-CBC are).
    #[error(
        "the encrypted private key did not decrypt (wrong passphrase, or an unsupported scheme)"
    )]
    Decrypt,
    /// An encrypted private key whose file asks for more key-derivation
    /// work than any honest one (over 10,000,000 PBKDF2 iterations; scrypt
    /// over 64 MiB or with p > 16): refused before any is done.
    #[error("the encrypted private key asks for too costly a key derivation")]
    KdfTooCostly,
    /// Reading encrypted private keys is not compiled in.
    #[error("this build reads no encrypted private keys (attest-dsse feature `encrypted-keys`)")]
    EncryptionDisabled,
}

/// Signature algorithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Algorithm {
    /// Ed25519 (RFC 8032), verified strictly.
    #[serde(rename = "ed25519")]
    Ed25519,
    /// ECDSA over P-256 with SHA-256.
    #[serde(rename = "ecdsa-p256-sha256")]
    EcdsaP256Sha256,
    /// ECDSA over P-384 with SHA-384 (verification only).
    #[serde(rename = "ecdsa-p384-sha384")]
    EcdsaP384Sha384,
    /// ECDSA over P-521 with SHA-512 (verification only).
    #[serde(rename = "ecdsa-p521-sha512")]
    EcdsaP521Sha512,
}

impl Algorithm {
    /// The JOSE `alg` name (`EdDSA`, `ES256`).
    #[must_use]
    pub const fn jose(self) -> &'static str {
        match self {
            Self::Ed25519 => "EdDSA",
            Self::EcdsaP256Sha256 => "ES256",
            Self::EcdsaP384Sha384 => "ES384",
            Self::EcdsaP521Sha512 => "ES512",
        }
    }
}

use crate::provider::{EcdsaHash, Provider};

mod jwk;
mod signing;
#[allow(unused_imports)]
pub use jwk::*;
#[allow(unused_imports)]
pub use signing::*;

/// How an ECDSA signature is encoded in an envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum SigEncoding {
    /// ASN.1 DER `SEQUENCE { r, s }`: Sigstore, Rekor, Go and Python DSSE.
    #[default]
    Der,
    /// IEEE P1363 fixed-width `r || s` (64 bytes), used by the DSSE spec's
    /// test vector. Only where a key record says so.
    Raw,
}

/// An ECDSA signature of `$curve` in `encoding` (a macro, not a generic
/// function: the curve crates share no signature trait with DER decoding).
macro_rules! ecdsa_signature {
    ($curve:ident, $encoding:expr, $sig:expr) => {
        match $encoding {
            SigEncoding::Der => $curve::ecdsa::Signature::from_der($sig).ok(),
            SigEncoding::Raw => $curve::ecdsa::Signature::from_slice($sig).ok(),
        }
    };
}

#[derive(Clone)]
enum Verifying {
    Ed25519(ed25519_dalek::VerifyingKey),
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    P521(p521::ecdsa::VerifyingKey),
}

/// A public key that verifies DSSE signatures.
///
/// Two keys are equal when their SubjectPublicKeyInfo DER is equal; the key
/// id (`sha256:` + hex of that DER) is a name, never an authenticator.
///
/// ECDSA: both low-S and high-S signatures are accepted, as Go's
/// `crypto/ecdsa`, OpenSSL and Sigstore accept them. High-S malleability
/// cannot raise a threshold here, because thresholds count distinct keys,
/// not signatures.
#[derive(Clone)]
pub struct PublicKey {
    key: Verifying,
    spki: Vec<u8>,
    encoding: SigEncoding,
    /// Fixed-base tables, shared by clones, built on demand.
    tables: std::sync::Arc<Tables>,
}

/// How many verifications by a key come before it builds its tables: a
/// key used this often is likely to be used many more times, and the build
/// (~15 ms for P-384, ~2 ms for P-256) pays for itself after some 25–50
/// verifications. A one-shot verification never pays for it.
const TABLES_AFTER: u32 = 8;

/// A key's precomputed tables ([`Provider::FixedBase`]) and how often the
/// default path has verified with it.
#[derive(Default)]
struct Tables {
    uses: std::sync::atomic::AtomicU32,
    table: std::sync::OnceLock<KeyTable>,
}

/// The table of a P-256 or a P-384 key.
enum KeyTable {
    P256(crate::fixed_base::Table<p256::NistP256>),
    P384(crate::fixed_base::Table<p384::NistP384>),
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.spki == other.spki
    }
}

impl Eq for PublicKey {}

impl std::hash::Hash for PublicKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.spki.hash(state);
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey")
            .field("algorithm", &self.algorithm())
            .field("key_id", &self.key_id())
            .finish()
    }
}

impl PublicKey {
    /// Parses DER SubjectPublicKeyInfo (Ed25519 or P-256).
    ///
    /// # Errors
    /// [`KeyError::UnsupportedPublicKey`] or [`KeyError::WeakKey`].
    pub fn from_spki_der(der: &[u8]) -> Result<Self, KeyError> {
        if let Ok(k) = ed25519_dalek::VerifyingKey::from_public_key_der(der) {
            if k.is_weak() {
                return Err(KeyError::WeakKey);
            }
            return Ok(Self::from_verifying(Verifying::Ed25519(k)));
        }
        if let Ok(k) = p256::ecdsa::VerifyingKey::from_public_key_der(der) {
            return Ok(Self::from_verifying(Verifying::P256(k)));
        }
        if let Ok(k) = p384::ecdsa::VerifyingKey::from_public_key_der(der) {
            return Ok(Self::from_verifying(Verifying::P384(k)));
        }
        if let Ok(k) = p521::ecdsa::VerifyingKey::from_public_key_der(der) {
            return Ok(Self::from_verifying(Verifying::P521(k)));
        }
        Err(KeyError::UnsupportedPublicKey)
    }

    #[allow(clippy::expect_used)] // a local invariant, stated below
    fn from_verifying(key: Verifying) -> Self {
        // Re-encode so that equal keys always have equal SPKI bytes. The key
        // is already a valid point, and its SPKI has a fixed small size:
        // encoding cannot fail (a failure would be a bug, not bad input).
        let spki = match &key {
            Verifying::Ed25519(k) => k.to_public_key_der().map(|d| d.as_bytes().to_vec()),
            Verifying::P256(k) => k.to_public_key_der().map(|d| d.as_bytes().to_vec()),
            Verifying::P384(k) => k.to_public_key_der().map(|d| d.as_bytes().to_vec()),
            Verifying::P521(k) => k.to_public_key_der().map(|d| d.as_bytes().to_vec()),
        }
        .expect("a valid public key encodes as SPKI");
        let tables = Tables::default();
        // A well-known key's tables are compiled in: its first verification
        // uses them (the tail of the canonical SPKI is the SEC1 point).
        let point = |n: usize| &spki[spki.len().saturating_sub(n)..];
        let known = match &key {
            Verifying::P256(_) => crate::fixed_base::Table::known(point(65)).map(KeyTable::P256),
            Verifying::P384(_) => crate::fixed_base::Table::known(point(97)).map(KeyTable::P384),
            Verifying::Ed25519(_) | Verifying::P521(_) => None,
        };
        if let Some(table) = known {
            let _ = tables.table.set(table);
        }
        Self {
            key,
            spki,
            encoding: SigEncoding::Der,
            tables: std::sync::Arc::new(tables),
        }
    }

    /// Whether this key has fixed-base tables ([`Provider::FixedBase`]):
    /// compiled in for the keys of Sigstore's public-good instance (the
    /// `sigstore-keys` feature), or built after a few verifications.
    #[must_use]
    pub fn has_fixed_base_tables(&self) -> bool {
        self.tables.table.get().is_some()
    }

    /// A raw 32-byte Ed25519 public key.
    ///
    /// # Errors
    /// [`KeyError::UnsupportedPublicKey`] or [`KeyError::WeakKey`].
    pub fn ed25519_from_bytes(bytes: &[u8; 32]) -> Result<Self, KeyError> {
        let k = ed25519_dalek::VerifyingKey::from_bytes(bytes)
            .map_err(|_| KeyError::UnsupportedPublicKey)?;
        if k.is_weak() {
            return Err(KeyError::WeakKey);
        }
        Ok(Self::from_verifying(Verifying::Ed25519(k)))
    }

    /// Parses a PEM `PUBLIC KEY` (SPKI). Certificates are X.509, which this
    /// crate does not read: `attest_rekor::x509::public_key_from_pem` takes
    /// both.
    ///
    /// # Errors
    /// [`KeyError::Pem`] or any error of the DER parsers.
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        let (label, der) = pem_rfc7468::decode_vec(pem.trim().as_bytes()).map_err(KeyError::Pem)?;
        match label {
            "PUBLIC KEY" => Self::from_spki_der(&der),
            other => Err(KeyError::PemLabel {
                expected: "PUBLIC KEY",
                found: other.to_owned(),
            }),
        }
    }

    /// Parses a JWK: `{"kty":"OKP","crv":"Ed25519","x":…}` or
    /// `{"kty":"EC","crv":"P-256","x":…,"y":…}` (base64url without padding).
    ///
    /// # Errors
    /// [`KeyError::JwkMissing`], [`KeyError::JwkMember`], [`KeyError::JwkUnsupported`],
    /// [`KeyError::UnsupportedPublicKey`] or [`KeyError::WeakKey`].
    pub fn from_jwk(jwk: &Jwk) -> Result<Self, KeyError> {
        let b64 = |name: &'static str, v: &Option<String>| -> Result<Vec<u8>, KeyError> {
            let s = v.as_deref().ok_or(KeyError::JwkMissing(name))?;
            Base64UrlUnpadded::decode_vec(s).map_err(|_| KeyError::JwkMember(name))
        };
        match (jwk.kty.as_str(), jwk.crv.as_str()) {
            ("OKP", "Ed25519") => {
                let x: [u8; 32] = b64("x", &jwk.x)?
                    .try_into()
                    .map_err(|_| KeyError::JwkMember("x"))?;
                Self::ed25519_from_bytes(&x)
            }
            ("EC", crv @ ("P-256" | "P-384" | "P-521")) => {
                let size = match crv {
                    "P-256" => 32,
                    "P-384" => 48,
                    _ => 66,
                };
                let (x, y) = (b64("x", &jwk.x)?, b64("y", &jwk.y)?);
                if x.len() != size {
                    return Err(KeyError::JwkMember("x"));
                }
                if y.len() != size {
                    return Err(KeyError::JwkMember("y"));
                }
                let mut sec1 = vec![0x04];
                sec1.extend(x);
                sec1.extend(y);
                let bad = |_| KeyError::UnsupportedPublicKey;
                let key = match crv {
                    "P-256" => Verifying::P256(
                        p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1).map_err(bad)?,
                    ),
                    "P-384" => Verifying::P384(
                        p384::ecdsa::VerifyingKey::from_sec1_bytes(&sec1).map_err(bad)?,
                    ),
                    _ => Verifying::P521(
                        p521::ecdsa::VerifyingKey::from_sec1_bytes(&sec1).map_err(bad)?,
                    ),
                };
                Ok(Self::from_verifying(key))
            }
            (kty, crv) => Err(KeyError::JwkUnsupported {
                kty: kty.to_owned(),
                crv: crv.to_owned(),
            }),
        }
    }

    /// The key as a JWK (with `kid` set to [`key_id`](Self::key_id)).
    #[must_use]
    pub fn to_jwk(&self) -> Jwk {
        let enc = |b: &[u8]| Some(Base64UrlUnpadded::encode_string(b));
        let mut jwk = match &self.key {
            Verifying::Ed25519(k) => Jwk::new("OKP", "Ed25519", enc(k.as_bytes()), None),
            Verifying::P256(k) => {
                let point = k.to_sec1_bytes();
                // Uncompressed SEC1: 0x04 || x || y.
                let (x, y) = point
                    .get(1..)
                    .map_or((&[][..], &[][..]), |xy| xy.split_at(32));
                Jwk::new("EC", "P-256", enc(x), enc(y))
            }
            Verifying::P384(k) => {
                let point = k.to_sec1_bytes();
                let (x, y) = point
                    .get(1..)
                    .map_or((&[][..], &[][..]), |xy| xy.split_at(48));
                Jwk::new("EC", "P-384", enc(x), enc(y))
            }
            Verifying::P521(k) => {
                let point = k.to_sec1_bytes();
                let (x, y) = point
                    .get(1..)
                    .map_or((&[][..], &[][..]), |xy| xy.split_at(66));
                Jwk::new("EC", "P-521", enc(x), enc(y))
            }
        };
        jwk.kid = Some(self.key_id());
        jwk.alg = Some(self.algorithm().jose().to_owned());
        jwk.use_ = Some("sig".to_owned());
        jwk
    }

    /// The algorithm of this key.
    #[must_use]
    pub const fn algorithm(&self) -> Algorithm {
        match self.key {
            Verifying::Ed25519(_) => Algorithm::Ed25519,
            Verifying::P256(_) => Algorithm::EcdsaP256Sha256,
            Verifying::P384(_) => Algorithm::EcdsaP384Sha384,
            Verifying::P521(_) => Algorithm::EcdsaP521Sha512,
        }
    }

    /// DER SubjectPublicKeyInfo.
    #[must_use]
    pub fn spki_der(&self) -> &[u8] {
        &self.spki
    }

    /// PEM `PUBLIC KEY`.
    #[must_use]
    #[allow(clippy::expect_used)] // a fixed label and a short SPKI: cannot fail
    pub fn to_pem(&self) -> String {
        pem_rfc7468::encode_string("PUBLIC KEY", pem_rfc7468::LineEnding::LF, &self.spki)
            .expect("a valid label and a short body encode as PEM")
    }

    /// The default key id: `sha256:` + lowercase hex of SHA-256 of the SPKI DER.
    #[must_use]
    pub fn key_id(&self) -> String {
        format!(
            "sha256:{}",
            base16ct::lower::encode_string(&Sha256::digest(&self.spki))
        )
    }

    /// How ECDSA signatures for this key are encoded (DER unless a key record
    /// says raw).
    #[must_use]
    pub const fn sig_encoding(&self) -> SigEncoding {
        self.encoding
    }

    /// The same key, expecting ECDSA signatures in `encoding`.
    #[must_use]
    pub fn with_sig_encoding(mut self, encoding: SigEncoding) -> Self {
        self.encoding = encoding;
        self
    }

    /// The Ed25519 key, for batch verification.
    #[cfg(feature = "batch")]
    pub(crate) fn ed25519(&self) -> Option<&ed25519_dalek::VerifyingKey> {
        match &self.key {
            Verifying::Ed25519(k) => Some(k),
            Verifying::P256(_) | Verifying::P384(_) | Verifying::P521(_) => None,
        }
    }

    /// Whether `sig` is a valid signature of `msg` by this key, by the
    /// fastest path this build has for it (the same verdicts everywhere:
    /// property tests hold every path equal to RustCrypto's curve crates):
    /// an ECDSA P-256 or P-384 key with tables — compiled in for Sigstore's
    /// public-good keys, or built once the key has verified a few times and
    /// shared with its clones — uses [`Provider::FixedBase`]; one without
    /// uses ring's P-256 (the `ring` feature) or else a variable-time
    /// window ladder in Jacobian coordinates over RustCrypto's field
    /// arithmetic; Ed25519 and P-521 use [`Provider::DEFAULT`]. Ed25519 is
    /// verified strictly; ECDSA takes the key's [`SigEncoding`].
    #[must_use]
    pub fn verifies(&self, msg: &[u8], sig: &[u8]) -> bool {
        self.verifies_hashed(self.own_hash(), msg, sig)
    }

    /// The hash a signature by this key is over unless said otherwise.
    fn own_hash(&self) -> EcdsaHash {
        match &self.key {
            Verifying::Ed25519(_) | Verifying::P256(_) => EcdsaHash::Sha256,
            Verifying::P384(_) => EcdsaHash::Sha384,
            Verifying::P521(_) => EcdsaHash::Sha512,
        }
    }

    /// [`verifies`](Self::verifies) with an explicit [`Provider`] (tests run
    /// the same vectors through each).
    #[must_use]
    pub fn verifies_with(&self, provider: Provider, msg: &[u8], sig: &[u8]) -> bool {
        self.verifies_hashed_with(provider, self.own_hash(), msg, sig)
    }

    /// Whether `sig` is this key's ECDSA signature of `msg` hashed with
    /// `hash` (X.509 names the hash separately from the key: a P-384 CA
    /// signs with SHA-384 or SHA-256), with the default [`Provider`]. For
    /// an Ed25519 key `hash` is ignored (Ed25519 hashes internally).
    #[must_use]
    pub fn verifies_hashed(&self, hash: EcdsaHash, msg: &[u8], sig: &[u8]) -> bool {
        let provider = self.adaptive_provider();
        // A P-256 or P-384 key without tables: the windowed ladder, unless
        // ring does P-256 (faster still).
        let windowed = match self.key {
            Verifying::P256(_) => provider == Provider::RustCrypto,
            Verifying::P384(_) => provider != Provider::FixedBase,
            Verifying::Ed25519(_) | Verifying::P521(_) => false,
        };
        if windowed && let Some(ok) = self.windowed_verify(&hash.digest(msg), sig) {
            return ok;
        }
        self.verifies_hashed_with(provider, hash, msg, sig)
    }

    /// The windowed ladder (`fixed_base::windowed`): `None` for a key it is
    /// not for (Ed25519, P-521), else the verdict.
    fn windowed_verify(&self, digest: &[u8], sig: &[u8]) -> Option<bool> {
        use crate::fixed_base::windowed::verify;
        Some(match &self.key {
            Verifying::P256(k) => ecdsa_signature!(p256, self.encoding, sig).is_some_and(|s| {
                let (r, s) = s.split_scalars();
                verify::<p256::NistP256>(k.as_affine(), digest, &r, &s)
            }),
            Verifying::P384(k) => ecdsa_signature!(p384, self.encoding, sig).is_some_and(|s| {
                let (r, s) = s.split_scalars();
                verify::<p384::NistP384>(k.as_affine(), digest, &r, &s)
            }),
            Verifying::Ed25519(_) | Verifying::P521(_) => return None,
        })
    }

    /// The provider of the default path: [`Provider::FixedBase`] for a
    /// P-256 or P-384 key with tables (compiled in, or built once it has
    /// verified `TABLES_AFTER` times), else [`Provider::DEFAULT`]. A key
    /// verified once (a keyless signer's certificate key) never pays for
    /// tables; a key verified again and again (a CA, a log, a key set's
    /// signer) builds them once and keeps them for all its clones. Tables
    /// beat ring too (P-256 38 vs 61 µs, P-384 100 vs 602 µs, `cargo bench
    /// --bench rekor -- ecdsa_verify`).
    fn adaptive_provider(&self) -> Provider {
        let tables_win = matches!(self.key, Verifying::P256(_) | Verifying::P384(_));
        if tables_win && self.tables_ready_or_reused() {
            Provider::FixedBase
        } else {
            Provider::DEFAULT
        }
    }

    /// Whether this key (a P-256 or P-384 one) has tables or has been used
    /// before; counts this use.
    fn tables_ready_or_reused(&self) -> bool {
        use std::sync::atomic::Ordering;
        if !matches!(self.key, Verifying::P256(_) | Verifying::P384(_)) {
            return false;
        }
        self.tables.table.get().is_some()
            || self.tables.uses.fetch_add(1, Ordering::Relaxed) >= TABLES_AFTER
    }

    /// [`Provider::FixedBase`]: `None` for a key without tables (Ed25519,
    /// P-521), else the verdict, building the key's table on first use.
    fn fixed_base_verify(&self, digest: &[u8], sig: &[u8]) -> Option<bool> {
        use crate::fixed_base::{Table, verify};
        let table = match &self.key {
            Verifying::P256(k) => self
                .tables
                .table
                .get_or_init(|| KeyTable::P256(Table::new((*k.as_affine()).into()))),
            Verifying::P384(k) => self
                .tables
                .table
                .get_or_init(|| KeyTable::P384(Table::new((*k.as_affine()).into()))),
            Verifying::Ed25519(_) | Verifying::P521(_) => return None,
        };
        Some(match table {
            KeyTable::P256(t) => ecdsa_signature!(p256, self.encoding, sig).is_some_and(|s| {
                let (r, s) = s.split_scalars();
                verify(t, digest, &r, &s)
            }),
            KeyTable::P384(t) => ecdsa_signature!(p384, self.encoding, sig).is_some_and(|s| {
                let (r, s) = s.split_scalars();
                verify(t, digest, &r, &s)
            }),
        })
    }

    /// [`verifies_hashed`](Self::verifies_hashed) with an explicit provider.
    #[must_use]
    pub fn verifies_hashed_with(
        &self,
        provider: Provider,
        hash: EcdsaHash,
        msg: &[u8],
        sig: &[u8],
    ) -> bool {
        match provider {
            #[cfg(feature = "ring")]
            Provider::Ring => {
                if let Some(ok) = ring_verify(self, hash, msg, sig) {
                    return ok;
                }
            }
            Provider::FixedBase => {
                if let Some(ok) = self.fixed_base_verify(&hash.digest(msg), sig) {
                    return ok;
                }
            }
            Provider::RustCrypto => {}
        }
        match &self.key {
            Verifying::Ed25519(k) => ed25519_dalek::Signature::from_slice(sig)
                .is_ok_and(|s| k.verify_strict(msg, &s).is_ok()),
            _ => self.verifies_prehashed_plain(&hash.digest(msg), sig),
        }
    }

    /// The key as the provider needs it: the raw Ed25519 key or the SEC1
    /// uncompressed point (the tail of the canonical SPKI).
    #[cfg(feature = "ring")]
    pub(crate) fn raw_public_key(&self) -> &[u8] {
        let n = match &self.key {
            Verifying::Ed25519(_) => 32,
            Verifying::P256(_) => 65,
            Verifying::P384(_) => 97,
            Verifying::P521(_) => 133,
        };
        &self.spki[self.spki.len().saturating_sub(n)..]
    }
}

impl PublicKey {
    /// Whether `sig` is a signature over a message whose SHA-256 is `digest`
    /// (how `hashedrekord` entries and Sigstore message signatures are
    /// checked without the artifact). ECDSA only: Ed25519 signs the message
    /// itself, so a digest cannot verify it and this returns false.
    #[must_use]
    pub fn verifies_prehashed_sha256(&self, digest: &[u8], sig: &[u8]) -> bool {
        digest.len() == 32 && self.verifies_prehashed(digest, sig)
    }

    /// Whether `sig` is an ECDSA signature over a message whose digest is
    /// `digest` (any digest the curve accepts: SHA-256 for P-256; SHA-256
    /// or SHA-384 for P-384; …). False for Ed25519.
    #[must_use]
    pub fn verifies_prehashed(&self, digest: &[u8], sig: &[u8]) -> bool {
        // No provider but RustCrypto takes a bare digest, so tables win
        // here for every curve that has them, from a key's second use on.
        if self.tables_ready_or_reused()
            && let Some(ok) = self.fixed_base_verify(digest, sig)
        {
            return ok;
        }
        self.windowed_verify(digest, sig)
            .unwrap_or_else(|| self.verifies_prehashed_plain(digest, sig))
    }

    /// [`verifies_prehashed`](Self::verifies_prehashed) by the curve crates
    /// alone (no tables).
    fn verifies_prehashed_plain(&self, digest: &[u8], sig: &[u8]) -> bool {
        use p256::ecdsa::signature::hazmat::PrehashVerifier;
        match &self.key {
            Verifying::Ed25519(_) => false,
            Verifying::P256(k) => ecdsa_signature!(p256, self.encoding, sig)
                .is_some_and(|s| k.verify_prehash(digest, &s).is_ok()),
            Verifying::P384(k) => ecdsa_signature!(p384, self.encoding, sig)
                .is_some_and(|s| k.verify_prehash(digest, &s).is_ok()),
            Verifying::P521(k) => ecdsa_signature!(p521, self.encoding, sig)
                .is_some_and(|s| k.verify_prehash(digest, &s).is_ok()),
        }
    }
}

/// ring's verdict, or `None` where ring has no algorithm for the pair.
#[cfg(feature = "ring")]
fn ring_verify(key: &PublicKey, hash: EcdsaHash, msg: &[u8], sig: &[u8]) -> Option<bool> {
    use ring::signature as r;
    let der = key.sig_encoding() == SigEncoding::Der;
    let alg: &'static dyn r::VerificationAlgorithm = match (key.algorithm(), hash, der) {
        (Algorithm::Ed25519, _, _) => &r::ED25519,
        (Algorithm::EcdsaP256Sha256, EcdsaHash::Sha256, true) => &r::ECDSA_P256_SHA256_ASN1,
        (Algorithm::EcdsaP256Sha256, EcdsaHash::Sha256, false) => &r::ECDSA_P256_SHA256_FIXED,
        (Algorithm::EcdsaP256Sha256, EcdsaHash::Sha384, true) => &r::ECDSA_P256_SHA384_ASN1,
        (Algorithm::EcdsaP384Sha384, EcdsaHash::Sha384, true) => &r::ECDSA_P384_SHA384_ASN1,
        (Algorithm::EcdsaP384Sha384, EcdsaHash::Sha384, false) => &r::ECDSA_P384_SHA384_FIXED,
        (Algorithm::EcdsaP384Sha384, EcdsaHash::Sha256, true) => &r::ECDSA_P384_SHA256_ASN1,
        _ => return None,
    };
    Some(
        r::UnparsedPublicKey::new(alg, key.raw_public_key())
            .verify(msg, sig)
            .is_ok(),
    )
}
