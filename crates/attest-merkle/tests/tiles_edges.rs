//! The tile reader at every size edge (0, 1, 2, 255, 256, 257, 65,536 ± 1),
//! differentially against the plain in-memory tree: with honest tiles it
//! returns every node the tree has, and with a lie in any one tile it never
//! returns a hash, an entry, an inclusion or a consistency proof that the
//! tree does not have. Includes the fuzzer's one-entry-tree reproducer.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::cell::RefCell;
use std::collections::BTreeSet;

use attest_merkle::tiles::{MemoryTiles, NotFound, TileError, TileId, TileReader, TileSource};
use attest_merkle::{
    EMPTY_ROOT, Hash, MerkleTree, NodeId, consistency_plan, inclusion_plan, leaf_hash, read_root,
    verify_inclusion,
};

const EDGES: [u64; 11] = [1, 2, 3, 255, 256, 257, 511, 513, 65_535, 65_536, 65_537];

fn leaf(i: u64) -> Vec<u8> {
    format!("leaf {i}").into_bytes()
}

fn tree_of(n: u64) -> (MerkleTree, MemoryTiles) {
    let entries: Vec<Vec<u8>> = (0..n).map(leaf).collect();
    let mut tree = MerkleTree::new();
    for e in &entries {
        tree.push(e);
    }
    (tree, MemoryTiles::with_entries(entries))
}

/// The nodes to compare: every node for small trees; for large ones every
/// node at level ≥ 16, the first and last two at levels 8 to 15, and every
/// node over the first and last 40 leaves.
fn nodes_of(n: u64) -> Vec<NodeId> {
    let mut out = Vec::new();
    for level in 0..64u8 {
        let count = n >> level;
        for index in 0..count {
            let first = index << level;
            let last = first + (1u64 << level) - 1;
            let edge_of_level = index < 2 || index + 2 >= count;
            if n <= 1024
                || level >= 16
                || (level >= 8 && edge_of_level)
                || last < 40
                || first + 40 >= n
            {
                out.push(NodeId::new(level, index));
            }
        }
    }
    out
}

/// Records which tiles a reader asks for.
struct Recording<'a>(&'a MemoryTiles, &'a RefCell<BTreeSet<TileId>>);

impl TileSource for Recording<'_> {
    type Error = NotFound;
    fn read_tile(&self, tile: TileId, fresh: bool) -> Result<Vec<u8>, NotFound> {
        self.1.borrow_mut().insert(tile);
        self.0.read_tile(tile, fresh)
    }
    fn read_entry_bundle(&self, tile: TileId, fresh: bool) -> Result<Vec<u8>, NotFound> {
        self.0.read_entry_bundle(tile, fresh)
    }
}

#[derive(Clone, Copy, Debug)]
enum Lie {
    FlipFirst,
    FlipLast,
    Zero,
    Short,
    Long,
    OtherTree,
}

/// Honest but for one tile (at every width it is asked for), which it
/// answers with `lie`, fresh or not.
struct Lying<'a> {
    honest: &'a MemoryTiles,
    other: &'a MemoryTiles,
    target: (u8, u64),
    lie: Lie,
}

impl TileSource for Lying<'_> {
    type Error = NotFound;
    fn read_tile(&self, tile: TileId, fresh: bool) -> Result<Vec<u8>, NotFound> {
        let mut b = self.honest.read_tile(tile, fresh)?;
        if (tile.level, tile.index) != self.target {
            return Ok(b);
        }
        let last = b.len() - 1;
        match self.lie {
            Lie::FlipFirst => b[0] ^= 0x80,
            Lie::FlipLast => b[last] ^= 1,
            Lie::Zero => b.iter_mut().for_each(|x| *x = 0),
            Lie::Short => b.truncate(b.len() - 32),
            Lie::Long => b.extend_from_slice(&[0; 32]),
            Lie::OtherTree => b = self.other.read_tile(tile, fresh).unwrap_or(b),
        }
        Ok(b)
    }
    fn read_entry_bundle(&self, tile: TileId, fresh: bool) -> Result<Vec<u8>, NotFound> {
        self.honest.read_entry_bundle(tile, fresh)
    }
}

#[test]
fn an_empty_tree_has_no_node_and_no_entry() {
    let tiles = MemoryTiles::default();
    let r = TileReader::new(&tiles, 0, EMPTY_ROOT);
    assert_eq!(read_root(&r, 0).unwrap(), EMPTY_ROOT);
    assert!(matches!(r.node(NodeId::leaf(0)), Err(TileError::OutOfTree)));
    assert!(matches!(r.entry(0), Err(TileError::OutOfTree)));
    assert!(inclusion_plan(0, 0).is_err());
    assert_eq!(r.source_reads(), 0);
}

#[test]
fn honest_tiles_give_every_node_of_the_tree_at_every_edge() {
    for n in EDGES {
        let (tree, tiles) = tree_of(n);
        let r = TileReader::new(&tiles, n, tree.root());
        for id in nodes_of(n) {
            assert_eq!(r.node(id).ok(), tree.node(id), "{id:?} in {n}");
        }
        // Nothing outside the tree.
        for id in [
            NodeId::leaf(n),
            NodeId::new(1, n / 2),
            NodeId::new(63, 1),
            NodeId::new(8, n >> 8),
        ] {
            if tree.node(id).is_none() {
                assert!(r.node(id).is_err(), "{id:?} in {n}");
            }
        }
        for i in [0, n / 2, n - 1] {
            assert_eq!(r.entry(i).unwrap(), leaf(i), "entry {i} of {n}");
        }
        assert!(matches!(r.entry(n), Err(TileError::OutOfTree)));
    }
}

#[test]
fn a_lie_in_any_tile_never_yields_what_the_tree_does_not_have() {
    for n in EDGES {
        let (tree, tiles) = tree_of(n);
        let other = MemoryTiles::with_entries((0..n).map(|i| leaf(i + n)).collect());
        let nodes = nodes_of(n);
        // Every tile an honest reader of all those nodes reads.
        let seen = RefCell::new(BTreeSet::new());
        {
            let r = TileReader::new(Recording(&tiles, &seen), n, tree.root());
            for id in &nodes {
                r.node(*id).unwrap();
            }
        }
        let targets: BTreeSet<(u8, u64)> = seen
            .into_inner()
            .iter()
            .map(|t| (t.level, t.index))
            .collect();
        let olds = [1, n / 2, n - 1, 255, 256, 257];
        for target in targets {
            for lie in [
                Lie::FlipFirst,
                Lie::FlipLast,
                Lie::Zero,
                Lie::Short,
                Lie::Long,
                Lie::OtherTree,
            ] {
                let src = Lying {
                    honest: &tiles,
                    other: &other,
                    target,
                    lie,
                };
                let r = TileReader::new(&src, n, tree.root());
                let mut refused = 0;
                for id in &nodes {
                    match r.node(*id) {
                        Ok(h) => {
                            assert_eq!(Some(h), tree.node(*id), "{lie:?} {target:?} {id:?} {n}")
                        }
                        Err(_) => refused += 1,
                    }
                }
                assert!(refused > 0, "{lie:?} at {target:?} in {n} went unnoticed");
                for i in [0, n - 1] {
                    if let Ok(p) = inclusion_plan(i, n).unwrap().read_proof(&r) {
                        assert_eq!(p, tree.inclusion_proof(i, n).unwrap());
                    }
                    if let Ok(e) = r.entry(i) {
                        assert_eq!(e, leaf(i));
                    }
                }
                for old in olds.into_iter().filter(|o| (1..n).contains(o)) {
                    if let Ok(p) = consistency_plan(old, n).unwrap().read_proof(&r) {
                        assert_eq!(p, tree.consistency_proof(old, n).unwrap(), "{old}->{n}");
                    }
                }
            }
        }
    }
}

/// A one-entry tree: its only node is the root, and a reader must not
/// hand out a leaf that is not it, although an inclusion proof for it
/// reads no tile at all.
#[test]
fn a_one_entry_tree_gives_only_its_root() {
    let (tree, tiles) = tree_of(1);
    let r = TileReader::new(&tiles, 1, tree.root());
    assert!(
        inclusion_plan(0, 1)
            .unwrap()
            .read_proof(&r)
            .unwrap()
            .is_empty()
    );
    assert_eq!(r.node(NodeId::leaf(0)).unwrap(), tree.root());
    // The same tiles against another root: refused, however often asked.
    let r = TileReader::new(&tiles, 1, Hash([9; 32]));
    assert!(
        inclusion_plan(0, 1)
            .unwrap()
            .read_proof(&r)
            .unwrap()
            .is_empty()
    );
    for _ in 0..2 {
        assert!(matches!(
            r.node(NodeId::leaf(0)),
            Err(TileError::RootMismatch)
        ));
    }
    assert!(r.entry(0).is_err());
}

/// The fuzzer's reproducer (`fuzz/regressions/tiles_v2/one-entry-tree.bin`),
/// read as the `tiles_v2` target reads it: whatever leaf the reader hands
/// out proves against the root.
#[test]
fn the_one_entry_tree_reproducer() {
    let data = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fuzz/regressions/tiles_v2/one-entry-tree.bin"
    ))
    .unwrap();
    struct Bytes<'a>(&'a [u8]);
    impl TileSource for Bytes<'_> {
        type Error = ();
        fn read_tile(&self, tile: TileId, _fresh: bool) -> Result<Vec<u8>, ()> {
            let n = usize::from(tile.width) * 32;
            let start = (tile.index as usize)
                .wrapping_mul(31)
                .wrapping_add(usize::from(tile.level))
                % self.0.len().max(1);
            Ok(self.0.iter().cycle().skip(start).take(n).copied().collect())
        }
        fn read_entry_bundle(&self, _tile: TileId, _fresh: bool) -> Result<Vec<u8>, ()> {
            Ok(self.0.to_vec())
        }
    }
    let size = u64::from(u16::from_be_bytes([data[0], data[1]])) + 1;
    assert_eq!(size, 1);
    let root = Hash::from_slice(&data[2..34]).unwrap();
    let index = u64::from(data[34]) % size;
    let r = TileReader::new(Bytes(&data[35..]), size, root);
    let proof = inclusion_plan(index, size).unwrap().read_proof(&r).unwrap();
    // The tiles are not this root's: the reader refuses the leaf rather
    // than hand out an unverified one.
    assert!(matches!(
        r.node(NodeId::leaf(index)),
        Err(TileError::RootMismatch)
    ));
    assert!(r.entry(index).is_err());
    // And a leaf that does verify would prove.
    assert!(verify_inclusion(index, size, &root, &proof, &root).is_ok());
    assert!(verify_inclusion(index, size, &leaf_hash(b"x"), &proof, &root).is_err());
}
