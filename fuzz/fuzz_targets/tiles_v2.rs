//! Rekor v2 inputs: tile paths, entry bundles, `hashedRekordRequestV002`
//! bodies, signing configs and TSA requests — parsing arbitrary bytes never
//! panics, and what parses round-trips.
#![no_main]

use std::sync::OnceLock;

use attest_dsse::Timestamp;
use attest_issue::TimestampAuthority;
use attest_merkle::tiles::{TileId, parse_entry_bundle};
use attest_rekor::signing::SigningConfig;
use attest_rekor::v2::V2Request;
use libfuzzer_sys::fuzz_target;

fn tsa() -> &'static TimestampAuthority {
    static TSA: OnceLock<TimestampAuthority> = OnceLock::new();
    TSA.get_or_init(|| {
        TimestampAuthority::generate("fuzz", Timestamp::from_unix(1_700_000_000)).unwrap()
    })
}

/// Tiles made of the fuzzer's bytes: whatever a reader accepts from them
/// must prove against the root it was given.
struct Bytes<'a>(&'a [u8]);

impl attest_merkle::tiles::TileSource for Bytes<'_> {
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

fuzz_target!(|data: &[u8]| {
    if data.len() > 40 {
        let size = u64::from(u16::from_be_bytes([data[0], data[1]])) + 1;
        let root = attest_merkle::Hash::from_slice(&data[2..34]).unwrap();
        let index = u64::from(data[34]) % size;
        let reader = attest_merkle::tiles::TileReader::new(Bytes(&data[35..]), size, root);
        if let Ok(plan) = attest_merkle::inclusion_plan(index, size) {
            if let Ok(proof) = plan.read_proof(&reader) {
                // Whatever leaf the reader hands out was verified: it
                // proves against the root. (It may refuse the leaf: a
                // proof can read no tile at all, as in a one-entry tree.)
                if let Ok(leaf) = reader.node(attest_merkle::NodeId::leaf(index)) {
                    attest_merkle::verify_inclusion(index, size, &leaf, &proof, &root).unwrap();
                }
            }
        }
        let _ = reader.entry(index);
    }
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok((level, id)) = TileId::parse_path(s) {
            let back = if level.is_some() {
                id.path()
            } else {
                id.entries_path()
            };
            assert_eq!(back, s);
        }
    }
    let width = u16::from(data.first().copied().unwrap_or(1)).max(1);
    let _ = parse_entry_bundle::<()>(
        TileId {
            level: 0,
            index: 0,
            width,
        },
        data,
    );
    if let Ok(r) = V2Request::from_json(data) {
        assert_eq!(V2Request::from_json(&r.to_json()).unwrap(), r);
        let _ = r.canonical_body();
    }
    let _ = SigningConfig::from_json(data);
    let _ = tsa().respond(data, Timestamp::from_unix(1_750_000_000), 1);
});
