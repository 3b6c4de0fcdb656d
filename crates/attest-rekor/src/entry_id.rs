//! Rekor entry ids: an optional 16-hex tree id and the 64-hex entry UUID
//! (the RFC 6962 leaf hash of the canonical body).

use std::fmt;
use std::str::FromStr;

use attest_merkle::Hash;

/// A Rekor entry id.
///
/// Parses the 64-hex UUID alone or the 80-hex tree id + UUID; prints the
/// 80-hex form when the tree id is known. Two ids are equal when their UUIDs
/// (leaf hashes) are: the tree id only says which shard holds the entry.
#[derive(Clone, Copy, Eq)]
pub struct EntryId {
    tree_id: Option<u64>,
    uuid: Hash,
}

/// Why a string is not an entry id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EntryIdError {
    /// Not 64 or 80 characters.
    #[error("an entry id is 64 or 80 hex digits, got {0} characters")]
    WrongLength(usize),
    /// A character that is not a hex digit.
    #[error("entry id is not hex")]
    NotHex,
    /// The tree id part is zero.
    #[error("entry id has a zero tree id")]
    ZeroTreeId,
}

impl EntryId {
    /// An id from its parts.
    #[must_use]
    pub const fn new(tree_id: Option<u64>, uuid: Hash) -> Self {
        Self { tree_id, uuid }
    }

    /// The UUID: the leaf hash of the entry's canonical body.
    #[must_use]
    pub const fn uuid(&self) -> &Hash {
        &self.uuid
    }

    /// The tree (shard) id, when the id carried one.
    #[must_use]
    pub const fn tree_id(&self) -> Option<u64> {
        self.tree_id
    }

    /// Parses 64 or 80 hex digits.
    ///
    /// # Errors
    /// [`EntryIdError`].
    pub fn parse(s: &str) -> Result<Self, EntryIdError> {
        if !s.bytes().all(|c| c.is_ascii_hexdigit()) {
            return Err(EntryIdError::NotHex);
        }
        let (tree, uuid) = match s.len() {
            64 => (None, s),
            80 => (Some(&s[..16]), &s[16..]),
            n => return Err(EntryIdError::WrongLength(n)),
        };
        let tree_id = match tree {
            None => None,
            Some(t) => match u64::from_str_radix(t, 16).map_err(|_| EntryIdError::NotHex)? {
                0 => return Err(EntryIdError::ZeroTreeId),
                v => Some(v),
            },
        };
        let uuid = Hash::from_hex(uuid).map_err(|_| EntryIdError::NotHex)?;
        Ok(Self { tree_id, uuid })
    }
}

impl PartialEq for EntryId {
    fn eq(&self, other: &Self) -> bool {
        self.uuid == other.uuid
    }
}

impl std::hash::Hash for EntryId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.uuid.hash(state);
    }
}

impl fmt::Display for EntryId {
    /// Lowercase: 80 hex digits with a tree id, else 64.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(t) = self.tree_id {
            write!(f, "{t:016x}")?;
        }
        write!(f, "{}", self.uuid)
    }
}

impl fmt::Debug for EntryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EntryId({self})")
    }
}

impl FromStr for EntryId {
    type Err = EntryIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}
