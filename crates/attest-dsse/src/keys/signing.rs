//! Signing keys: Ed25519 and ECDSA P-256, generated, from seeds or PKCS#8, with their secret bytes zeroized on drop.

#[allow(clippy::wildcard_imports)]
use super::*;

#[derive(Clone)]
pub(super) enum Signing {
    Ed25519(ed25519_dalek::SigningKey),
    P256(p256::ecdsa::SigningKey),
}

/// A private key that signs envelopes (Ed25519, or ECDSA P-256 with DER
/// signatures). Loads from and saves to PKCS#8 PEM.
#[derive(Clone)]
pub struct SigningKey {
    key: Signing,
    public: PublicKey,
    keyid: Option<String>,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("public", &self.public)
            .field("keyid", &self.keyid)
            .finish_non_exhaustive()
    }
}

/// The most PBKDF2 iterations an encrypted key may ask for (OpenSSL 3
/// writes 2,048; OWASP recommends 600,000 for PBKDF2-HMAC-SHA256).
#[cfg(feature = "encrypted-keys")]
const MAX_PBKDF2_ITERATIONS: u32 = 10_000_000;

/// The most memory scrypt may ask for (128·r·N bytes): 64 MiB (OpenSSL 3
/// writes 16 MiB and refuses more than 32 MiB by default).
#[cfg(feature = "encrypted-keys")]
const MAX_SCRYPT_BYTES: u64 = 64 << 20;

impl SigningKey {
    /// A new random key from the operating system's randomness.
    ///
    /// # Errors
    /// [`KeyError::Random`] when no randomness is available.
    pub fn generate(alg: Algorithm) -> Result<Self, KeyError> {
        let mut seed = zeroizing_seed();
        match alg {
            Algorithm::Ed25519 => {
                getrandom::fill(&mut seed.0).map_err(|_| KeyError::Random)?;
                Ok(Self::from_signing(Signing::Ed25519(
                    ed25519_dalek::SigningKey::from_bytes(&seed.0),
                )))
            }
            Algorithm::EcdsaP256Sha256 => loop {
                // A random 32-byte string is a valid scalar except with
                // probability ~2^-32; draw again in that case.
                getrandom::fill(&mut seed.0).map_err(|_| KeyError::Random)?;
                if let Ok(k) = p256::ecdsa::SigningKey::from_slice(&seed.0) {
                    return Ok(Self::from_signing(Signing::P256(k)));
                }
            },
            Algorithm::EcdsaP384Sha384 | Algorithm::EcdsaP521Sha512 => {
                Err(KeyError::SigningUnsupported(alg))
            }
        }
    }

    /// An Ed25519 key from its 32-byte seed.
    #[must_use]
    pub fn ed25519_from_seed(seed: &[u8; 32]) -> Self {
        Self::from_signing(Signing::Ed25519(ed25519_dalek::SigningKey::from_bytes(
            seed,
        )))
    }

    pub(super) fn from_signing(key: Signing) -> Self {
        let public = match &key {
            Signing::Ed25519(k) => PublicKey::from_verifying(Verifying::Ed25519(k.verifying_key())),
            Signing::P256(k) => PublicKey::from_verifying(Verifying::P256(*k.verifying_key())),
        };
        Self {
            key,
            public,
            keyid: None,
        }
    }

    /// Loads a PKCS#8 `PRIVATE KEY` PEM.
    ///
    /// # Errors
    /// [`KeyError::Pem`] or [`KeyError::UnsupportedPrivateKey`].
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, KeyError> {
        let (label, der) = pem_rfc7468::decode_vec(pem.trim().as_bytes()).map_err(KeyError::Pem)?;
        if label != "PRIVATE KEY" {
            return Err(KeyError::PemLabel {
                expected: "PRIVATE KEY",
                found: label.to_owned(),
            });
        }
        Self::from_pkcs8_der(&der)
    }

    /// Loads a private key PEM in any form OpenSSL writes by default:
    /// PKCS#8 `PRIVATE KEY` (Ed25519 or ECDSA P-256) or SEC1 `EC PRIVATE
    /// KEY` (P-256; `openssl ecparam -genkey`). An `ENCRYPTED PRIVATE KEY`
    /// is [`KeyError::Encrypted`]: read it with
    /// [`from_encrypted_pkcs8_pem`](Self::from_encrypted_pkcs8_pem).
    ///
    /// # Errors
    /// [`KeyError::Pem`], [`KeyError::PemLabel`], [`KeyError::Encrypted`]
    /// or [`KeyError::UnsupportedPrivateKey`].
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        let (label, der) = pem_rfc7468::decode_vec(pem.trim().as_bytes()).map_err(KeyError::Pem)?;
        match label {
            "PRIVATE KEY" => Self::from_pkcs8_der(&der),
            "EC PRIVATE KEY" => Self::from_sec1_der(&der),
            "ENCRYPTED PRIVATE KEY" => Err(KeyError::Encrypted),
            other => Err(KeyError::PemLabel {
                expected: "PRIVATE KEY, EC PRIVATE KEY or ENCRYPTED PRIVATE KEY",
                found: other.to_owned(),
            }),
        }
    }

    /// Loads a SEC1 `ECPrivateKey` (RFC 5915) of curve P-256 (DER). A key
    /// that names another curve is refused.
    ///
    /// # Errors
    /// [`KeyError::UnsupportedPrivateKey`].
    pub fn from_sec1_der(der: &[u8]) -> Result<Self, KeyError> {
        let secret =
            p256::SecretKey::from_sec1_der(der).map_err(|_| KeyError::UnsupportedPrivateKey)?;
        Ok(Self::from_signing(Signing::P256(secret.into())))
    }

    /// Loads an encrypted PKCS#8 `ENCRYPTED PRIVATE KEY` PEM (RFC 5958,
    /// PBES2: PBKDF2 or scrypt with AES-CBC, as `openssl genpkey -aes256`
    /// or `openssl pkcs8 -topk8` write) with its passphrase. An unencrypted
    /// key is read as by [`from_pem`](Self::from_pem).
    ///
    /// # Errors
    /// [`KeyError::Decrypt`] for a wrong passphrase or a scheme not
    /// supported, [`KeyError::KdfTooCostly`], [`KeyError::EncryptionDisabled`] without the
    /// `encrypted-keys` feature, or as [`from_pem`](Self::from_pem).
    pub fn from_encrypted_pkcs8_pem(pem: &str, passphrase: &[u8]) -> Result<Self, KeyError> {
        let (label, der) = pem_rfc7468::decode_vec(pem.trim().as_bytes()).map_err(KeyError::Pem)?;
        if label != "ENCRYPTED PRIVATE KEY" {
            return Self::from_pem(pem);
        }
        Self::decrypt_pkcs8(&der, passphrase)
    }

    #[cfg(feature = "encrypted-keys")]
    fn decrypt_pkcs8(der: &[u8], passphrase: &[u8]) -> Result<Self, KeyError> {
        use pkcs8::pkcs5::{EncryptionScheme, pbes2::Kdf};
        let info = pkcs8::EncryptedPrivateKeyInfoRef::try_from(der)
            .map_err(|_| KeyError::UnsupportedPrivateKey)?;
        // The key file names its own cost: bounded, so that a crafted file
        // cannot take minutes or gigabytes (OpenSSL 3 writes PBKDF2 with
        // 2,048 iterations and scrypt with N = 2^14, r = 8).
        if let EncryptionScheme::Pbes2(p) = &info.encryption_algorithm {
            let too_costly = match &p.kdf {
                Kdf::Pbkdf2(k) => k.iteration_count > MAX_PBKDF2_ITERATIONS,
                Kdf::Scrypt(k) => {
                    let memory = 128u64
                        .saturating_mul(u64::from(k.block_size))
                        .saturating_mul(k.cost_parameter);
                    memory > MAX_SCRYPT_BYTES || k.parallelization > 16
                }
                // Any other KDF is not supported: decryption refuses it.
                _ => false,
            };
            if too_costly {
                return Err(KeyError::KdfTooCostly);
            }
        }
        let plain = info.decrypt(passphrase).map_err(|_| KeyError::Decrypt)?;
        Self::from_pkcs8_der(plain.as_bytes())
    }

    #[cfg(not(feature = "encrypted-keys"))]
    #[allow(clippy::unnecessary_wraps)]
    fn decrypt_pkcs8(_der: &[u8], _passphrase: &[u8]) -> Result<Self, KeyError> {
        Err(KeyError::EncryptionDisabled)
    }

    /// Loads PKCS#8 DER.
    ///
    /// # Errors
    /// [`KeyError::UnsupportedPrivateKey`].
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, KeyError> {
        if let Ok(k) = ed25519_dalek::SigningKey::from_pkcs8_der(der) {
            return Ok(Self::from_signing(Signing::Ed25519(k)));
        }
        if let Ok(k) = p256::ecdsa::SigningKey::from_pkcs8_der(der) {
            return Ok(Self::from_signing(Signing::P256(k)));
        }
        Err(KeyError::UnsupportedPrivateKey)
    }

    /// PKCS#8 `PRIVATE KEY` PEM. Handle the result as a secret.
    ///
    /// # Errors
    /// [`KeyError::Encode`].
    pub fn to_pkcs8_pem(&self) -> Result<String, KeyError> {
        let doc = match &self.key {
            // PKCS#8 v1 (RFC 8410 §7: the seed only): v2 with the public
            // key is refused by OpenSSL 3.0 and Python `cryptography`.
            Signing::Ed25519(k) => ed25519_dalek::pkcs8::KeypairBytes {
                secret_key: k.to_bytes(),
                public_key: None,
            }
            .to_pkcs8_der(),
            Signing::P256(k) => k.to_pkcs8_der(),
        }
        .map_err(|_| KeyError::Encode)?;
        pem_rfc7468::encode_string("PRIVATE KEY", pem_rfc7468::LineEnding::LF, doc.as_bytes())
            .map_err(|_| KeyError::Encode)
    }

    /// The matching public key.
    #[must_use]
    pub const fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// Sets the keyid hint written next to this key's signatures.
    #[must_use]
    pub fn with_keyid(mut self, keyid: impl Into<String>) -> Self {
        self.keyid = Some(keyid.into());
        self
    }

    pub(crate) fn keyid_hint(&self) -> Option<&str> {
        self.keyid.as_deref()
    }

    /// Signs `msg` (Ed25519, or ECDSA P-256/SHA-256 with a DER signature).
    #[must_use]
    pub fn sign(&self, msg: &[u8]) -> Vec<u8> {
        match &self.key {
            Signing::Ed25519(k) => k.sign(msg).to_bytes().to_vec(),
            Signing::P256(k) => {
                let sig: p256::ecdsa::Signature = k.sign(msg);
                sig.to_der().as_bytes().to_vec()
            }
        }
    }
}

/// A 32-byte seed buffer that is wiped when dropped.
pub(super) struct Seed([u8; 32]);

impl Drop for Seed {
    fn drop(&mut self) {
        for b in &mut self.0 {
            // Volatile-free best effort; the dalek and p256 key types zeroize
            // their own copies.
            *b = 0;
        }
        std::hint::black_box(&self.0);
    }
}

pub(super) const fn zeroizing_seed() -> Seed {
    Seed([0; 32])
}
