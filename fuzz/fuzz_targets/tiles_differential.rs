//! The tile reader against the plain in-memory tree over the same leaves:
//! with honest tiles it returns every node the tree has; with one tile
//! damaged as the fuzzer says, it never returns a hash, an entry, an
//! inclusion or a consistency proof that the tree does not have.
//!
//! Input: `[size: u16][damage level][damage index][damage byte][how][queries…]`.
#![no_main]

use attest_merkle::tiles::{MemoryTiles, NotFound, TileId, TileReader, TileSource};
use attest_merkle::{MerkleTree, NodeId, consistency_plan, inclusion_plan};
use libfuzzer_sys::fuzz_target;

/// Honest tiles but for one, which is damaged.
struct Damaged<'a> {
    tiles: &'a MemoryTiles,
    target: (u8, u64),
    byte: usize,
    how: u8,
}

impl TileSource for Damaged<'_> {
    type Error = NotFound;
    fn read_tile(&self, tile: TileId, fresh: bool) -> Result<Vec<u8>, NotFound> {
        let mut b = self.tiles.read_tile(tile, fresh)?;
        if (tile.level, tile.index) == self.target && !b.is_empty() {
            let i = self.byte % b.len();
            match self.how % 4 {
                0 => b[i] ^= 1,
                1 => b.truncate(i),
                2 => b.extend_from_slice(&[0; 32]),
                _ => b.iter_mut().for_each(|x| *x = 0),
            }
        }
        Ok(b)
    }
    fn read_entry_bundle(&self, tile: TileId, fresh: bool) -> Result<Vec<u8>, NotFound> {
        let mut b = self.tiles.read_entry_bundle(tile, fresh)?;
        if self.target == (u8::MAX, tile.index) && !b.is_empty() {
            let i = self.byte % b.len();
            b[i] ^= 1;
        }
        Ok(b)
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 6 {
        return;
    }
    let size = u64::from(u16::from_be_bytes([data[0], data[1]])) % 1200 + 1;
    let leaves: Vec<Vec<u8>> = (0..size).map(|i| i.to_be_bytes().to_vec()).collect();
    let mut tree = MerkleTree::new();
    for l in &leaves {
        tree.push(l);
    }
    let tiles = MemoryTiles::with_entries(leaves.clone());
    let level = if data[2] == u8::MAX {
        u8::MAX
    } else {
        data[2] % 3
    };
    let src = Damaged {
        tiles: &tiles,
        target: (level, u64::from(data[3]) % 8),
        byte: usize::from(data[4]),
        how: data[5],
    };
    let honest = TileReader::new(&tiles, size, tree.root());
    let damaged = TileReader::new(&src, size, tree.root());
    for q in data[6..].chunks(3) {
        let node_level = q[0] % 12;
        let index =
            u64::from(u16::from_be_bytes([q[0], *q.get(1).unwrap_or(&0)])) % (size.max(1) + 2);
        let id = NodeId::new(node_level, index >> node_level);
        // Honest: exactly the tree's nodes.
        assert_eq!(honest.node(id).ok(), tree.node(id), "{id:?} of {size}");
        // Damaged: never a node the tree does not have.
        if let Ok(h) = damaged.node(id) {
            assert_eq!(Some(h), tree.node(id), "{id:?} of {size}");
        }
        let leaf = index % size;
        if let Ok(e) = damaged.entry(leaf) {
            assert_eq!(e, leaves[leaf as usize]);
        }
        if let Ok(p) = inclusion_plan(leaf, size).unwrap().read_proof(&damaged) {
            assert_eq!(p, tree.inclusion_proof(leaf, size).unwrap());
        }
        let old = u64::from(*q.get(2).unwrap_or(&1)) % size + 1;
        if old < size
            && let Ok(p) = consistency_plan(old, size).unwrap().read_proof(&damaged)
        {
            assert_eq!(p, tree.consistency_proof(old, size).unwrap());
        }
    }
});
