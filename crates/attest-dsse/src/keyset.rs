//! The published key set: a JWKS (RFC 7517) served at
//! `/.well-known/<app>/attestation-keys.json`, whose keys carry a validity
//! window and a status as extra members.
//!
//! ```json
//! {"version": 3, "keys": [
//!   {"kty": "OKP", "crv": "Ed25519", "x": "…", "kid": "sha256:…", "use": "sig", "alg": "EdDSA",
//!    "valid_from": "2026-01-01T00:00:00Z", "valid_until": "2026-07-01T00:00:00Z", "status": "retired"}
//! ]}
//! ```
//!
//! A key verifies signatures made at time `t` when its status is not
//! `revoked` and `valid_from <= t <= valid_until` (both ends inclusive; no
//! `valid_until` means open-ended). A retired key still verifies what it
//! signed inside its window; a revoked key verifies nothing.

use serde::{Deserialize, Serialize};

use crate::{Jwk, KeyError, PublicKey, Timestamp};

/// The life-cycle state of a key in a key set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum KeyStatus {
    /// In use for new signatures.
    #[default]
    Active,
    /// No longer signs; still verifies what it signed inside its window.
    Retired,
    /// Compromised or withdrawn: verifies nothing.
    Revoked,
}

/// A key and the rules for when it verifies.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TrustedKey {
    /// The public key.
    pub key: PublicKey,
    /// The name reported when it verifies (the key set's `kid`, or the
    /// default [`PublicKey::key_id`]).
    pub id: String,
    /// First instant it verifies (inclusive); `None` = always.
    pub valid_from: Option<Timestamp>,
    /// Last instant it verifies (inclusive); `None` = open-ended.
    pub valid_until: Option<Timestamp>,
    /// Its status.
    pub status: KeyStatus,
}

impl TrustedKey {
    /// Valid from `from` (inclusive), open-ended unless
    /// [`until`](Self::until) is set.
    #[must_use]
    pub const fn from(mut self, from: Timestamp) -> Self {
        self.valid_from = Some(from);
        self
    }

    /// Valid until `until` (inclusive).
    #[must_use]
    pub const fn until(mut self, until: Timestamp) -> Self {
        self.valid_until = Some(until);
        self
    }

    /// With this status.
    #[must_use]
    pub const fn with_status(mut self, status: KeyStatus) -> Self {
        self.status = status;
        self
    }

    /// Named `id` (the key set's `kid`).
    #[must_use]
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = id.into();
        self
    }

    /// A key that is valid at all times, named by its default key id.
    #[must_use]
    pub fn always(key: PublicKey) -> Self {
        let id = key.key_id();
        Self {
            key,
            id,
            valid_from: None,
            valid_until: None,
            status: KeyStatus::Active,
        }
    }

    /// Whether the key verifies signatures made at `at`.
    #[must_use]
    pub fn valid_at(&self, at: Timestamp) -> bool {
        self.status != KeyStatus::Revoked
            && self.valid_from.is_none_or(|f| f <= at)
            && self.valid_until.is_none_or(|u| at <= u)
    }
}

/// Why a key set could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeySetError {
    /// Not a key-set document.
    #[error("not a key-set document")]
    Json(#[source] serde_json::Error),
    /// A key entry is not a usable public key.
    #[error("key {index}")]
    Key {
        /// Position in `keys`.
        index: usize,
        /// What is wrong with it.
        source: KeyError,
    },
    /// A key entry's window ends before it starts.
    #[error("key {index}: valid_until is before valid_from")]
    InvertedWindow {
        /// Position in `keys`.
        index: usize,
    },
    /// The same public key appears twice.
    #[error("keys {first} and {second} are the same public key")]
    DuplicateKey {
        /// First position.
        first: usize,
        /// Second position.
        second: usize,
    },
}

#[derive(Serialize, Deserialize)]
struct KeyEntryJson {
    #[serde(flatten)]
    jwk: Jwk,
    valid_from: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    valid_until: Option<Timestamp>,
    #[serde(default)]
    status: KeyStatus,
}

#[derive(Serialize, Deserialize)]
struct KeySetJson {
    version: u64,
    keys: Vec<KeyEntryJson>,
}

/// A versioned set of signing keys with validity windows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct KeySet {
    /// Document version; publishers increase it on every change.
    pub version: u64,
    /// The keys.
    pub keys: Vec<TrustedKey>,
}

impl KeySet {
    /// A key set of `version` holding `keys`.
    #[must_use]
    pub const fn new(version: u64, keys: Vec<TrustedKey>) -> Self {
        Self { version, keys }
    }

    /// Parses a key-set document.
    ///
    /// # Errors
    /// [`KeySetError`]; a duplicate key or an inverted window is an error.
    pub fn from_json(bytes: &[u8]) -> Result<Self, KeySetError> {
        let doc: KeySetJson = serde_json::from_slice(bytes).map_err(KeySetError::Json)?;
        let mut keys: Vec<TrustedKey> = Vec::with_capacity(doc.keys.len());
        for (index, e) in doc.keys.into_iter().enumerate() {
            let key =
                PublicKey::from_jwk(&e.jwk).map_err(|source| KeySetError::Key { index, source })?;
            if e.valid_until.is_some_and(|u| u < e.valid_from) {
                return Err(KeySetError::InvertedWindow { index });
            }
            if let Some(first) = keys.iter().position(|k| k.key == key) {
                return Err(KeySetError::DuplicateKey {
                    first,
                    second: index,
                });
            }
            let id = e.jwk.kid.clone().unwrap_or_else(|| key.key_id());
            keys.push(TrustedKey {
                key,
                id,
                valid_from: Some(e.valid_from),
                valid_until: e.valid_until,
                status: e.status,
            });
        }
        Ok(Self {
            version: doc.version,
            keys,
        })
    }

    /// The document as JSON. Keys without a `valid_from` are written as valid
    /// from the Unix epoch.
    #[must_use]
    pub fn to_json_pretty(&self) -> String {
        let doc = KeySetJson {
            version: self.version,
            keys: self
                .keys
                .iter()
                .map(|k| {
                    let mut jwk = k.key.to_jwk();
                    jwk.kid = Some(k.id.clone());
                    KeyEntryJson {
                        jwk,
                        valid_from: k.valid_from.unwrap_or(Timestamp::from_unix(0)),
                        valid_until: k.valid_until,
                        status: k.status,
                    }
                })
                .collect(),
        };
        // Plain structs with string keys: serialization cannot fail.
        #[allow(clippy::expect_used)]
        serde_json::to_string_pretty(&doc).expect("a key-set document serializes")
    }

    /// The keys that verify signatures made at `at`.
    pub fn valid_at(&self, at: Timestamp) -> impl Iterator<Item = &TrustedKey> {
        self.keys.iter().filter(move |k| k.valid_at(at))
    }
}
