//! Proofs from tiles agree with the in-memory tree, and a source that lies
//! in any one tile never yields a proof.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;

use attest_merkle::tiles::{MemoryTiles, NotFound, TileError, TileId, TileReader, TileSource};
use attest_merkle::{
    Hash, MerkleTree, consistency_plan, inclusion_plan, leaf_hash, read_root, verify_consistency,
    verify_inclusion,
};
use proptest::prelude::*;

fn leaf(i: u64) -> Vec<u8> {
    format!("entry {i}").into_bytes()
}

fn tree_of(n: u64) -> (MerkleTree, MemoryTiles) {
    let entries: Vec<Vec<u8>> = (0..n).map(leaf).collect();
    let mut tree = MerkleTree::new();
    for e in &entries {
        tree.push(e);
    }
    (tree, MemoryTiles::with_entries(entries))
}

/// A source that damages what it serves as told, and counts fresh reads.
struct Lying<'a> {
    inner: &'a MemoryTiles,
    /// Tile to damage (by level, index), and how.
    target: Option<(u8, u64)>,
    how: Damage,
    /// Lie on cached reads only (fresh reads are honest): a bad cache.
    only_cached: bool,
    fresh_reads: Cell<u32>,
    /// Another tree's tiles, for `Damage::OtherTree`.
    other: Option<&'a MemoryTiles>,
}

#[derive(Clone, Copy)]
enum Damage {
    FlipByte,
    Truncate,
    OtherTree,
    ZeroTile,
}

impl TileSource for Lying<'_> {
    type Error = NotFound;
    fn read_tile(&self, tile: TileId, fresh: bool) -> Result<Vec<u8>, NotFound> {
        if fresh {
            self.fresh_reads.set(self.fresh_reads.get() + 1);
        }
        let honest = self.inner.read_tile(tile, fresh)?;
        if self.target != Some((tile.level, tile.index)) || (self.only_cached && fresh) {
            return Ok(honest);
        }
        Ok(match self.how {
            Damage::FlipByte => {
                let mut b = honest;
                let last = b.len() - 1;
                b[last] ^= 1;
                b
            }
            Damage::Truncate => honest[..honest.len() - 32].to_vec(),
            Damage::ZeroTile => vec![0; honest.len()],
            Damage::OtherTree => self
                .other
                .and_then(|o| o.tile_bytes(tile))
                .unwrap_or(honest),
        })
    }
    fn read_entry_bundle(&self, tile: TileId, fresh: bool) -> Result<Vec<u8>, NotFound> {
        self.inner.read_entry_bundle(tile, fresh)
    }
}

#[test]
fn proofs_from_tiles_match_the_tree_at_tile_borders() {
    for n in [
        1u64, 2, 255, 256, 257, 511, 512, 65535, 65536, 65537, 70_000,
    ] {
        let (tree, tiles) = tree_of(n);
        let reader = TileReader::new(&tiles, n, tree.root());
        assert_eq!(read_root(&reader, n).unwrap(), tree.root(), "root of {n}");
        for index in [0, n / 3, n / 2, n - 1] {
            let plan = inclusion_plan(index, n).unwrap();
            let proof = plan.read_proof(&reader).unwrap();
            assert_eq!(
                proof,
                tree.inclusion_proof(index, n).unwrap(),
                "{index} in {n}"
            );
            verify_inclusion(index, n, &leaf_hash(&leaf(index)), &proof, &tree.root()).unwrap();
            assert_eq!(reader.entry(index).unwrap(), leaf(index));
        }
        for old in [1, n / 2, n - 1] {
            if old == 0 {
                continue;
            }
            let proof = consistency_plan(old, n)
                .unwrap()
                .read_proof(&reader)
                .unwrap();
            assert_eq!(proof, tree.consistency_proof(old, n).unwrap());
            verify_consistency(old, n, &proof, &tree.root_at(old).unwrap(), &tree.root()).unwrap();
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn inclusion_from_tiles_is_the_trees(n in 1u64..5000, i in any::<u64>(), old in any::<u64>()) {
        let (tree, tiles) = tree_of(n);
        let index = i % n;
        let reader = TileReader::new(&tiles, n, tree.root());
        let proof = inclusion_plan(index, n).unwrap().read_proof(&reader).unwrap();
        prop_assert_eq!(proof, tree.inclusion_proof(index, n).unwrap());
        let old = 1 + old % n;
        let proof = consistency_plan(old, n).unwrap().read_proof(&reader).unwrap();
        prop_assert_eq!(proof, tree.consistency_proof(old, n).unwrap());
    }
}

proptest! {
    #[test]
    fn tile_paths_round_trip(level in 0u8..=7, index in any::<u64>(), width in 1u16..=256) {
        let id = TileId { level, index, width };
        prop_assert_eq!(TileId::parse_path(&id.path()), Ok((Some(level), id)));
        let bundle = TileId { level: 0, ..id };
        prop_assert_eq!(TileId::parse_path(&bundle.entries_path()), Ok((None, bundle)));
    }
}

/// Every tile an inclusion proof for `index` reads, damaged in every way,
/// never yields a proof.
#[test]
fn a_lie_in_any_tile_is_refused() {
    let n = 65_536 + 256 * 5 + 9;
    let (tree, tiles) = tree_of(n);
    // Another log's tiles of the same shape (different entries).
    let other = MemoryTiles::with_entries((0..n).map(|i| leaf(i + 1)).collect());
    // Collect every tile a few proofs need, from an honest run.
    let seen = RefCell::new(BTreeMap::new());
    struct Recording<'a>(&'a MemoryTiles, &'a RefCell<BTreeMap<(u8, u64), TileId>>);
    impl TileSource for Recording<'_> {
        type Error = NotFound;
        fn read_tile(&self, tile: TileId, fresh: bool) -> Result<Vec<u8>, NotFound> {
            self.1.borrow_mut().insert((tile.level, tile.index), tile);
            self.0.read_tile(tile, fresh)
        }
        fn read_entry_bundle(&self, tile: TileId, fresh: bool) -> Result<Vec<u8>, NotFound> {
            self.0.read_entry_bundle(tile, fresh)
        }
    }
    let indices = [0, 300, 40_000, n - 1];
    {
        let r = TileReader::new(Recording(&tiles, &seen), n, tree.root());
        for i in indices {
            inclusion_plan(i, n).unwrap().read_proof(&r).unwrap();
        }
    }
    let seen = seen.into_inner();
    assert!(seen.len() >= 6, "{seen:?}");
    for (&target, tile) in &seen {
        for how in [
            Damage::FlipByte,
            Damage::Truncate,
            Damage::OtherTree,
            Damage::ZeroTile,
        ] {
            let src = Lying {
                inner: &tiles,
                target: Some(target),
                how,
                only_cached: false,
                fresh_reads: Cell::new(0),
                other: Some(&other),
            };
            let r = TileReader::new(&src, n, tree.root());
            let mut refused = 0;
            for i in indices {
                match inclusion_plan(i, n).unwrap().read_proof(&r) {
                    Ok(proof) => {
                        // A proof is only ever the true one.
                        assert_eq!(proof, tree.inclusion_proof(i, n).unwrap());
                    }
                    Err(
                        TileError::BadLength { .. }
                        | TileError::ParentMismatch { .. }
                        | TileError::RootMismatch,
                    ) => refused += 1,
                    Err(e) => panic!("{tile}: unexpected {e}"),
                }
            }
            assert!(refused > 0, "{tile}: damage went unnoticed");
        }
    }
}

#[test]
fn a_root_from_another_tree_verifies_nothing() {
    let n = 1000;
    let (_, tiles) = tree_of(n);
    let (other, _) = tree_of(n + 1);
    // The tiles are honest for size n, but the checkpoint claims other's root.
    let r = TileReader::new(&tiles, n, other.root());
    let err = inclusion_plan(5, n).unwrap().read_proof(&r).unwrap_err();
    assert!(matches!(
        err,
        TileError::RootMismatch | TileError::ParentMismatch { .. }
    ));
    let bad = Hash([7; 32]);
    let r = TileReader::new(&tiles, n, bad);
    assert!(r.entry(3).is_err());
}

#[test]
fn a_bad_cache_is_bypassed_once() {
    let n = 700;
    let (tree, tiles) = tree_of(n);
    for target in [(0u8, 0u64), (0, 2), (1, 0)] {
        let src = Lying {
            inner: &tiles,
            target: Some(target),
            how: Damage::FlipByte,
            only_cached: true,
            fresh_reads: Cell::new(0),
            other: None,
        };
        let r = TileReader::new(&src, n, tree.root());
        for i in [0, 600] {
            let proof = inclusion_plan(i, n).unwrap().read_proof(&r).unwrap();
            assert_eq!(proof, tree.inclusion_proof(i, n).unwrap());
        }
        assert!(src.fresh_reads.get() >= 1, "{target:?}");
    }
}

#[test]
fn damaged_entry_bundles_are_refused() {
    struct BadBundle<'a>(&'a MemoryTiles, fn(Vec<u8>) -> Vec<u8>);
    impl TileSource for BadBundle<'_> {
        type Error = NotFound;
        fn read_tile(&self, tile: TileId, fresh: bool) -> Result<Vec<u8>, NotFound> {
            self.0.read_tile(tile, fresh)
        }
        fn read_entry_bundle(&self, tile: TileId, fresh: bool) -> Result<Vec<u8>, NotFound> {
            Ok((self.1)(self.0.read_entry_bundle(tile, fresh)?))
        }
    }
    let n = 300;
    let (tree, tiles) = tree_of(n);
    let damages: [fn(Vec<u8>) -> Vec<u8>; 4] = [
        |mut b| {
            let l = b.len();
            b[l - 1] ^= 1;
            b
        },
        |b| b[..b.len() - 1].to_vec(),
        |mut b| {
            b.extend_from_slice(&[0, 1, b'x']);
            b
        },
        |_| Vec::new(),
    ];
    for d in damages {
        let r = TileReader::new(BadBundle(&tiles, d), n, tree.root());
        assert!(matches!(r.entry(299), Err(TileError::BadBundle { .. })));
        assert!(matches!(r.entry(3), Err(TileError::BadBundle { .. })));
    }
    let r = TileReader::new(&tiles, n, tree.root());
    assert!(matches!(r.entry(n), Err(TileError::OutOfTree)));
}
