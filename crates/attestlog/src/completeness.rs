//! Completeness: which entries of a log were made with a service's keys, so
//! an auditor can demand a row for each. The store is the auditor's only
//! index otherwise: a row deleted from the database, or an attestation
//! published behind its back, would be invisible to every other check.
//!
//! A [`Scan`] walks a log's entries in index order and folds each body's
//! leaf hash into a compact range: when it reaches the checkpoint's size
//! the range's root must be the verified checkpoint's root, which
//! authenticates every body scanned (a log cannot hide, add or change an
//! entry without that root changing) with one hash per entry and no proof
//! per entry. Bodies whose signing key is one of the watched ones are kept as
//! [`Found`] (index and leaf hash). The scan's state — the compact range at
//! the size reached, the entries found, a fingerprint of the keys — is
//! small and is kept in the auditor's baseline, so the next scan starts
//! where this one stopped, and a row deleted after its entry was scanned is
//! still noticed (the found entries are checked against the store on every
//! run).
//!
//! An entry counts as signed by a watched key when the verifier its body
//! names (the key the log checked the signature with) is that key; the
//! signature is not checked again (a `dsse` body holds hashes, not the
//! payload it would need). A log that invented entries naming our key
//! would only raise false alarms — an entry reported without a row — never
//! hide one.

use std::collections::HashMap;

use attest_dsse::PublicKey;
use attest_merkle::{CompactRange, Hash, leaf_hash};
use attest_rekor::EntryBody;
use base64ct::{Base64, Encoding};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Most distinct verifier encodings remembered between entries (a log full
/// of distinct keys cannot grow the cache without bound).
const MAX_CACHED_VERIFIERS: usize = 4096;

/// Which keys are watched, matched against the verifier each
/// entry body names (DSSE and hashedrekord, Rekor v1 and v2), by the
/// key's SubjectPublicKeyInfo DER.
#[derive(Debug)]
pub struct KeyMatcher {
    /// SPKI DER → the key's id.
    keys: HashMap<Vec<u8>, String>,
    /// A verifier as the body encodes it → the key id it decodes to.
    cache: HashMap<Box<str>, Option<String>>,
    fingerprint: String,
}

impl KeyMatcher {
    /// Matches `keys`.
    #[must_use]
    pub fn new<'a>(keys: impl IntoIterator<Item = &'a PublicKey>) -> Self {
        let mut map: HashMap<Vec<u8>, String> = keys
            .into_iter()
            .map(|k| (k.spki_der().to_vec(), k.key_id()))
            .collect();
        map.shrink_to_fit();
        let mut ders: Vec<&Vec<u8>> = map.keys().collect();
        ders.sort();
        let mut h = Sha256::new();
        for d in ders {
            h.update((d.len() as u64).to_be_bytes());
            h.update(d);
        }
        Self {
            keys: map,
            cache: HashMap::new(),
            fingerprint: base16ct::lower::encode_string(&h.finalize()),
        }
    }

    /// A digest of the key set: a scan kept for other keys starts over.
    #[must_use]
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The id of the watched key that signed the entry `body`, if any.
    /// A body of a kind this does not read is no one's.
    pub fn signer_of(&mut self, body: &[u8]) -> Option<String> {
        let parsed = EntryBody::parse(body).ok()?;
        let verifiers: Vec<(&str, Encoding_)> = match &parsed {
            EntryBody::DsseV001(d) => d
                .signatures
                .iter()
                .map(|s| (s.verifier.as_str(), Encoding_::Base64Pem))
                .collect(),
            EntryBody::HashedRekordV001(h) => vec![(
                h.signature.public_key.content.as_str(),
                Encoding_::Base64Pem,
            )],
            EntryBody::HashedRekordV002(h) => h
                .hashed_rekord_v0_0_2
                .signature
                .verifier
                .as_ref()
                .and_then(|v| v.public_key.as_ref())
                .map(|k| vec![(k.raw_bytes.as_str(), Encoding_::Base64Der)])
                .unwrap_or_default(),
            // intoto 0.0.2 and kinds added later: not read here.
            _ => Vec::new(),
        };
        for (text, enc) in verifiers {
            if let Some(hit) = self.cache.get(text) {
                if hit.is_some() {
                    return hit.clone();
                }
                continue;
            }
            let id = self.decode(text, enc);
            if self.cache.len() >= MAX_CACHED_VERIFIERS {
                self.cache.clear();
            }
            self.cache.insert(text.into(), id.clone());
            if id.is_some() {
                return id;
            }
        }
        None
    }

    fn decode(&self, text: &str, enc: Encoding_) -> Option<String> {
        let raw = Base64::decode_vec(text).ok()?;
        let der = match enc {
            Encoding_::Base64Der => raw,
            Encoding_::Base64Pem => {
                let pem = std::str::from_utf8(&raw).ok()?;
                PublicKey::from_pem(pem).ok()?.spki_der().to_vec()
            }
        };
        self.keys.get(&der).cloned()
    }
}

#[derive(Clone, Copy)]
enum Encoding_ {
    Base64Pem,
    Base64Der,
}

/// An entry signed with one of the watched keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Found {
    /// Its index in the log.
    pub index: u64,
    /// Its leaf hash (Rekor v1: the entry UUID).
    pub leaf: Hash,
    /// Its entry id as a row records it (Rekor v1: tree id and UUID, 80
    /// hex; v2: the leaf hash, 64 hex).
    pub entry_id: String,
    /// The id of the key that signed it.
    pub key: String,
}

/// Why a scan could not go on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScanError {
    /// The bodies scanned do not make the checkpoint's tree: the log
    /// served other entries than the ones its checkpoint commits to (or
    /// too few or too many).
    #[error(
        "the log's entries {from}..{to} do not make the tree of its checkpoint (size {size}): a log hiding, adding or changing entries"
    )]
    RootMismatch {
        /// Where this scan started.
        from: u64,
        /// Where it ended.
        to: u64,
        /// The checkpoint's size.
        size: u64,
    },
    /// The checkpoint is smaller than what was already scanned.
    #[error("the log's checkpoint ({size} entries) is behind the scan ({scanned})")]
    Shrank {
        /// The checkpoint's size.
        size: u64,
        /// Entries already scanned.
        scanned: u64,
    },
    /// The kept state does not parse.
    #[error("the kept scan state does not parse: {0}")]
    State(String),
}

/// A scan's progress through one log for one key set (see the module).
#[derive(Debug, Clone)]
pub struct Scan {
    range: CompactRange,
    /// Where this run started.
    from: u64,
    found: Vec<Found>,
    fingerprint: String,
}

#[derive(Serialize, Deserialize)]
struct Kept {
    format: u32,
    keys: String,
    range: String,
    found: Vec<Found>,
}

impl Scan {
    /// A scan from the log's first entry.
    #[must_use]
    pub fn new(keys: &KeyMatcher) -> Self {
        Self {
            range: CompactRange::new(),
            from: 0,
            found: Vec::new(),
            fingerprint: keys.fingerprint.clone(),
        }
    }

    /// The scan kept as `text` ([`to_text`](Self::to_text)), or a new one
    /// when it was kept for other keys (`Ok((scan, true))`: started over).
    ///
    /// # Errors
    /// [`ScanError::State`].
    pub fn resume(text: &str, keys: &KeyMatcher) -> Result<(Self, bool), ScanError> {
        let bad = |e: &dyn std::fmt::Display| ScanError::State(e.to_string());
        let kept: Kept = serde_json::from_str(text).map_err(|e| bad(&e))?;
        if kept.format != 1 {
            return Err(bad(&format_args!("format {}", kept.format)));
        }
        if kept.keys != keys.fingerprint {
            return Ok((Self::new(keys), true));
        }
        let range =
            CompactRange::from_bytes(&Base64::decode_vec(&kept.range).map_err(|e| bad(&e))?)
                .map_err(|e| bad(&e))?;
        if range.begin() != 0 {
            return Err(bad(&"the kept range does not start at entry 0"));
        }
        Ok((
            Self {
                from: range.end(),
                range,
                found: kept.found,
                fingerprint: kept.keys,
            },
            false,
        ))
    }

    /// The state to keep.
    #[must_use]
    pub fn to_text(&self) -> String {
        serde_json::json!({
            "format": 1,
            "keys": self.fingerprint,
            "range": Base64::encode_string(&self.range.to_bytes()),
            "found": self.found,
        })
        .to_string()
    }

    /// Entries scanned so far (the next index to scan).
    #[must_use]
    pub const fn size(&self) -> u64 {
        self.range.end()
    }

    /// Where this run started.
    #[must_use]
    pub const fn started_at(&self) -> u64 {
        self.from
    }

    /// The watched keys' entries found, from the first scan on.
    #[must_use]
    pub fn found(&self) -> &[Found] {
        &self.found
    }

    /// Drops the entries found so far; what is scanned next is still
    /// authenticated against the whole range (a monitor keeps only each
    /// look's finds).
    pub fn forget_found(&mut self) {
        self.found = Vec::new();
    }

    /// Scans the next entry's `body` (its index is [`size`](Self::size)),
    /// known to rows as `entry_id` (empty: its leaf hash, as Rekor v2).
    pub fn push(&mut self, body: &[u8], entry_id: &str, keys: &mut KeyMatcher) {
        let index = self.range.end();
        let leaf = leaf_hash(body);
        // A range ending at u64::MAX cannot be reached by a real log.
        let _ = self.range.append(leaf);
        if let Some(key) = keys.signer_of(body) {
            let entry_id = if entry_id.is_empty() {
                leaf.to_string()
            } else {
                entry_id.to_owned()
            };
            self.found.push(Found {
                index,
                leaf,
                entry_id,
                key,
            });
        }
    }

    /// Checks that the entries scanned make the tree of the verified
    /// checkpoint of `size` entries and `root`.
    ///
    /// # Errors
    /// [`ScanError::RootMismatch`].
    pub fn check(&self, size: u64, root: &Hash) -> Result<(), ScanError> {
        let mismatch = ScanError::RootMismatch {
            from: self.from,
            to: self.range.end(),
            size,
        };
        if self.range.end() != size {
            return Err(mismatch);
        }
        match self.range.root() {
            Ok(r) if r == *root => Ok(()),
            _ => Err(mismatch),
        }
    }

    /// Checks that a checkpoint of `size` entries does not go back on what
    /// was scanned.
    ///
    /// # Errors
    /// [`ScanError::Shrank`].
    pub const fn check_not_behind(&self, size: u64) -> Result<(), ScanError> {
        if size < self.range.end() {
            return Err(ScanError::Shrank {
                size,
                scanned: self.range.end(),
            });
        }
        Ok(())
    }
}
