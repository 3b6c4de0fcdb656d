//! Deduplication: an entry identical to one of the most recent entries is
//! answered with the existing index instead of being logged again (as Rekor
//! v2 over Tessera's antispam does).
//!
//! The index covers a window of the most recent entries, so its memory is
//! bounded whatever the log's size: duplicates come from retries (a client
//! that timed out and sent the same request again), which arrive within
//! seconds or minutes, not after millions of other entries. It maps the
//! first 8 bytes of each leaf hash to its index (about 20 bytes an entry);
//! a hit is confirmed against the full leaf hash in the tree, so a prefix
//! collision can only cost a missed duplicate, never a wrong answer. It is
//! rebuilt from the journal's tree on open, so it holds across restarts.

use std::collections::HashMap;

use attest_merkle::{Hash, MerkleTree};

fn prefix(leaf: &Hash) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&leaf.0[..8]);
    u64::from_le_bytes(b)
}

/// The leaf hashes of the last `window` entries, by prefix.
pub(crate) struct Recent {
    window: u64,
    by_prefix: HashMap<u64, u64>,
}

impl Recent {
    /// The index of the last `window` entries of `tree`.
    pub(crate) fn new(window: u64, tree: &MerkleTree) -> Self {
        let mut r = Self {
            window,
            by_prefix: HashMap::new(),
        };
        let size = tree.size();
        for index in size.saturating_sub(window)..size {
            if let Some(leaf) = tree.leaf_hash(index) {
                r.by_prefix.insert(prefix(&leaf), index);
            }
        }
        r
    }

    /// The index of an entry in the window whose leaf hash is `leaf`.
    pub(crate) fn find(&self, leaf: &Hash, tree: &MerkleTree) -> Option<u64> {
        let index = *self.by_prefix.get(&prefix(leaf))?;
        (tree.leaf_hash(index).as_ref() == Some(leaf)).then_some(index)
    }

    /// Records entries `from..tree.size()` (just integrated) and forgets
    /// those that left the window.
    pub(crate) fn extend(&mut self, from: u64, tree: &MerkleTree) {
        if self.window == 0 {
            return;
        }
        let size = tree.size();
        for index in from..size {
            if let Some(leaf) = tree.leaf_hash(index) {
                self.by_prefix.insert(prefix(&leaf), index);
            }
            if let Some(old) = index.checked_sub(self.window)
                && let Some(leaf) = tree.leaf_hash(old)
            {
                let p = prefix(&leaf);
                if self.by_prefix.get(&p) == Some(&old) {
                    self.by_prefix.remove(&p);
                }
            }
        }
    }

    /// Entries indexed now.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.by_prefix.len()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use attest_merkle::leaf_hash;

    #[test]
    fn the_window_is_bounded_and_hits_are_exact() {
        let mut tree = MerkleTree::new();
        let mut r = Recent::new(100, &tree);
        for i in 0..1000u32 {
            tree.push(&i.to_be_bytes());
            r.extend(u64::from(i), &tree);
        }
        assert_eq!(r.len(), 100);
        assert_eq!(r.find(&leaf_hash(&999u32.to_be_bytes()), &tree), Some(999));
        assert_eq!(r.find(&leaf_hash(&900u32.to_be_bytes()), &tree), Some(900));
        assert_eq!(r.find(&leaf_hash(&899u32.to_be_bytes()), &tree), None);
        assert_eq!(r.find(&leaf_hash(b"never"), &tree), None);
        // Rebuilt from the tree: the same window.
        let again = Recent::new(100, &tree);
        assert_eq!(again.len(), 100);
        assert_eq!(
            again.find(&leaf_hash(&950u32.to_be_bytes()), &tree),
            Some(950)
        );
        // A window of 0 keeps nothing.
        let mut none = Recent::new(0, &tree);
        none.extend(0, &tree);
        assert_eq!(none.len(), 0);
    }
}
