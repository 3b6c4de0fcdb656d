//! ECDSA verification with precomputed tables for a key that verifies many
//! signatures (a certificate authority, a CT log, a transparency log, a
//! signer audited row after row).
//!
//! Verification computes `u1·G + u2·Q`. The curve crates do it with one
//! interleaved wNAF ladder: every bit of the scalars costs a doubling. When
//! `Q` is fixed, both terms are fixed-base multiplications, and with a table
//! of `d·2^(w·i)·P` for every window position `i` and digit `d`, a
//! multiplication is one mixed addition per window and no doubling at all.
//! For P-384 (8-bit windows) that is 2 × 49 additions instead of ~384
//! doublings and ~150 additions. The tables cost time to build (~15 ms for
//! P-384, ~2 ms for P-256) and memory (588 KiB for P-384, 88 KiB for
//! P-256), so a key builds them lazily, once it has verified a few times
//! (see `PublicKey::verifies`) — except the generators' tables and, with
//! the `sigstore-keys` feature, those of the keys that sign what every
//! Sigstore bundle carries (`sigstore-keys.txt`), which the build script
//! computes ([`layout`] is shared with it) and the binary carries: a
//! command-line process, which verifies once with each key, gets them on
//! its first verification.
//!
//! Hand-written because no RustCrypto crate offers fixed-base tables for a
//! point other than the generator (`primeorder`'s basepoint table is for `G`
//! only and is projective). All arithmetic is the curve crate's own
//! (complete addition formulas, field and scalar types); this module only
//! decides which table entries to add. Every input here is public (a public
//! key, a digest, a signature), so the table lookups are variable-time by
//! design and must never be used with a secret scalar.

use p256::elliptic_curve::{
    self, CurveArithmetic, FieldBytes, PrimeField, group::Curve as _, hazmat::FieldArithmetic,
    ops::Reduce,
};

use windowed::Jacobian;

/// A field element of the curve `C`.
type Fe<C> = <C as FieldArithmetic>::FieldElement;

mod layout;
pub(crate) mod windowed;

include!(concat!(env!("OUT_DIR"), "/tables.rs"));

/// `d · 2^(W·i) · P` for every position `i` and `d` in `1..=2^(W-1)`
/// (see [`layout`]), affine (a mixed addition is cheaper than a general
/// one), with the window width `W` of the curve ([`Curve::WINDOW`]).
pub(crate) struct Table<C: Curve> {
    points: Points<C>,
}

/// Where a table's points are.
enum Points<C: Curve> {
    /// Built at run time ([`Table::new`]): each point's coordinates.
    Built(Vec<(Fe<C>, Fe<C>)>),
    /// Compiled in by the build script: every point's x ‖ y, big endian,
    /// read as a multiplication needs it, so that an unused table costs
    /// nothing but read-only pages. Not checked to be on the curve when
    /// read: the tests hold every compiled table equal to one built here.
    Compiled(&'static [u8]),
}

impl<C: Curve> Table<C> {
    const HALF: usize = 1 << (C::WINDOW - 1);

    /// Builds the table of `base` (one projective addition per entry, one
    /// doubling per position, one shared inversion).
    pub(crate) fn new(base: C::ProjectivePoint) -> Self {
        let bits = C::Scalar::NUM_BITS as usize;
        let projective = layout::projective_points(base, bits, C::WINDOW);
        let mut affine = vec![C::AffinePoint::default(); projective.len()];
        C::ProjectivePoint::batch_normalize(&projective, &mut affine);
        // Every entry is a multiple of a point of prime order by a number
        // below the order: never the identity, so its coordinates exist.
        // Were one missing, the table is left empty rather than shifted:
        // every lookup then fails and so does every verification.
        let points = affine
            .iter()
            .map(windowed::coordinates::<C>)
            .collect::<Option<Vec<_>>>()
            .unwrap_or_default();
        Self {
            points: Points::Built(points),
        }
    }

    /// A table the build script computed.
    const fn compiled(bytes: &'static [u8]) -> Self {
        Self {
            points: Points::Compiled(bytes),
        }
    }

    /// The table of a well-known key (`sigstore-keys.txt`, with the
    /// `sigstore-keys` feature), by its SEC1 uncompressed point.
    pub(crate) fn known(sec1: &[u8]) -> Option<Self> {
        known_keys::<C>()
            .find(|(_, point, _)| *point == sec1)
            .map(|(_, _, bytes)| Self::compiled(bytes))
    }

    /// Entry `i`'s coordinates, or `None` past the end (or, for compiled
    /// bytes, a coordinate not below `p`: never the build script's).
    fn entry(&self, i: usize) -> Option<(Fe<C>, Fe<C>)> {
        match &self.points {
            Points::Built(points) => points.get(i).copied(),
            Points::Compiled(bytes) => {
                let f = FieldBytes::<C>::default().len();
                let at = i.checked_mul(2 * f)?;
                let x = FieldBytes::<C>::try_from(bytes.get(at..at + f)?).ok()?;
                let y = FieldBytes::<C>::try_from(bytes.get(at + f..at + 2 * f)?).ok()?;
                Option::zip(Fe::<C>::from_repr(x).into(), Fe::<C>::from_repr(y).into())
            }
        }
    }

    /// How many entries the table has.
    #[cfg(test)]
    fn len(&self) -> usize {
        match &self.points {
            Points::Built(points) => points.len(),
            Points::Compiled(bytes) => bytes.len() / (2 * FieldBytes::<C>::default().len()),
        }
    }

    /// `acc + k · base`, variable-time (public scalars only): one mixed
    /// addition per non-zero window, no doubling.
    fn add_mul(&self, mut acc: Jacobian<C>, k: &C::Scalar) -> Option<Jacobian<C>> {
        for (i, d) in signed_digits(k.to_repr().as_ref(), C::WINDOW).enumerate() {
            if d == 0 {
                continue;
            }
            // |d| is in 1..=HALF and i below the positions: always in the
            // table.
            let (x, y) = self.entry(i * Self::HALF + d.unsigned_abs() as usize - 1)?;
            acc = acc.add_affine(x, if d > 0 { y } else { -y });
        }
        Some(acc)
    }
}

/// The signed base-2^w digits of a big-endian scalar, least significant
/// first: each in `-2^(w-1) ..= 2^(w-1)`, their weighted sum the scalar.
/// `w` is at most 16.
fn signed_digits(be: &[u8], w: usize) -> impl Iterator<Item = i32> + '_ {
    let half = 1u32 << (w - 1);
    let bits = be.len() * 8;
    let bit = move |i: usize| -> u32 {
        if i >= bits {
            return 0;
        }
        let byte = be[be.len() - 1 - i / 8];
        u32::from((byte >> (i % 8)) & 1)
    };
    let positions = bits.div_ceil(w) + 1;
    let mut carry = 0u32;
    (0..positions).map(move |p| {
        let mut v = carry;
        for j in 0..w {
            v += bit(p * w + j) << j;
        }
        // v is in 0 ..= 2^w; fold the upper half into a negative digit.
        if v > half {
            carry = 1;
            v as i32 - (1 << w)
        } else {
            carry = 0;
            v as i32
        }
    })
}

/// The curves with tables: a window width, a generator table compiled in,
/// and the well-known keys' tables. Only curves with `a = -3` (P-256,
/// P-384) may implement it: `windowed::Jacobian::double` assumes it (a
/// curve added here goes into `windowed`'s `lincomb_matches` test too).
pub(crate) trait Curve: CurveArithmetic + FieldArithmetic + Sized {
    /// The window width: fewer additions for a wider window, at twice the
    /// memory per extra bit. P-384 at 8 bits: 49 positions × 128 points ×
    /// 96 bytes = 588 KiB per key, 98 additions per verification (7 bits:
    /// 344 KiB, 112 additions, measurably slower); P-256 at 6 bits: 44 × 32
    /// × 64 bytes = 88 KiB, 88 additions (only used without ring, whose
    /// P-256 is faster still).
    const WINDOW: usize;
    /// The generator's table (compiled in).
    fn generator_table() -> &'static Table<Self>;
    /// The well-known keys compiled in: what each is and its table's bytes.
    fn known_tables() -> &'static [(&'static str, &'static [u8])];
    /// Their SEC1 points, back to back in the same order (see
    /// [`known_keys`]).
    fn known_points() -> &'static [u8];
    /// `p - n` (big endian, the field's length): an `r` below it may also
    /// stand for `x(R) = r + n` (see [`windowed::x_is_r`]).
    const P_MINUS_N: &'static [u8];
}

impl Curve for p256::NistP256 {
    const WINDOW: usize = 6;
    const P_MINUS_N: &'static [u8] = &[
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x43, 0x19, 0x05, 0x53, 0x58, 0xe8, 0x61,
        0x7b, 0x0c, 0x46, 0x35, 0x3d, 0x03, 0x9c, 0xda, 0xae,
    ];
    fn generator_table() -> &'static Table<Self> {
        static T: Table<p256::NistP256> = Table::compiled(P256_GENERATOR);
        &T
    }
    fn known_tables() -> &'static [(&'static str, &'static [u8])] {
        KNOWN_P256
    }
    fn known_points() -> &'static [u8] {
        KNOWN_P256_POINTS
    }
}

impl Curve for p384::NistP384 {
    const WINDOW: usize = 8;
    const P_MINUS_N: &'static [u8] = &[
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x38, 0x9c, 0xb2,
        0x7e, 0x0b, 0xc8, 0xd2, 0x1f, 0xa7, 0xe5, 0xf2, 0x4c, 0xb7, 0x4f, 0x58, 0x85, 0x13, 0x13,
        0xe6, 0x96, 0x33, 0x3a, 0xd6, 0x8c,
    ];
    fn generator_table() -> &'static Table<Self> {
        static T: Table<p384::NistP384> = Table::compiled(P384_GENERATOR);
        &T
    }
    fn known_tables() -> &'static [(&'static str, &'static [u8])] {
        KNOWN_P384
    }
    fn known_points() -> &'static [u8] {
        KNOWN_P384_POINTS
    }
}

/// The well-known keys of curve `C`: what each is, its SEC1 point, its
/// table's bytes. The points are kept apart from the tables, back to back:
/// looking a key up reads one or two pages, not one beside each table.
fn known_keys<C: Curve>() -> impl Iterator<Item = (&'static str, &'static [u8], &'static [u8])> {
    let point = 1 + 2 * FieldBytes::<C>::default().len();
    C::known_points()
        .chunks_exact(point)
        .zip(C::known_tables())
        .map(|(sec1, (label, table))| (*label, sec1, *table))
}

/// The ECDSA verification equation (SEC 1 §4.1.4) for a key with a table:
/// `x(u1·G + u2·Q) ≡ r (mod n)`, where `u1 = e/s`, `u2 = r/s` and `e` is
/// the digest's leftmost bits. `r` and `s` are non-zero scalars by
/// construction of the signature type; high-S is accepted (as everywhere in
/// this crate).
pub(crate) fn verify<C>(q: &Table<C>, digest: &[u8], r: &C::Scalar, s: &C::Scalar) -> bool
where
    C: Curve + elliptic_curve::PrimeCurve,
    C::Scalar: Reduce<FieldBytes<C>>,
{
    let Some((u1, u2)) = windowed::scalars::<C>(digest, r, s) else {
        return false;
    };
    q.add_mul(Jacobian::identity(), &u2)
        .and_then(|acc| C::generator_table().add_mul(acc, &u1))
        .is_some_and(|point| windowed::x_is_r(&point, r))
}

/// The digest's leftmost `n`-bit integer reduced mod `n` (bits2int, for the
/// curves here whose order is a whole number of bytes); a shorter digest is
/// the same integer, zero-extended on the left.
fn digest_scalar<C>(digest: &[u8]) -> Option<C::Scalar>
where
    C: CurveArithmetic,
    C::Scalar: Reduce<FieldBytes<C>>,
{
    let mut bytes = FieldBytes::<C>::default();
    let len = bytes.len();
    if digest.is_empty() {
        return None;
    }
    let take = digest.len().min(len);
    bytes[len - take..].copy_from_slice(&digest[..take]);
    Some(<C::Scalar as Reduce<FieldBytes<C>>>::reduce(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::elliptic_curve::point::AffineCoordinates;

    /// The digits recombine to the scalar, for the edge values and a spread.
    #[test]
    fn signed_digits_recombine() {
        let cases = [
            p256::Scalar::ZERO,
            p256::Scalar::ONE,
            -p256::Scalar::ONE,
            p256::Scalar::from(32u64),
            p256::Scalar::from(33u64),
            p256::Scalar::from(u64::MAX),
        ];
        for k in cases {
            for w in [4, 6, 7, 8] {
                let mut acc = p256::Scalar::ZERO;
                let mut weight = p256::Scalar::ONE;
                let radix = p256::Scalar::from(1u64 << w);
                for d in signed_digits(k.to_repr().as_ref(), w) {
                    assert!(d.unsigned_abs() <= 1 << (w - 1));
                    let m = p256::Scalar::from(u64::from(d.unsigned_abs())) * weight;
                    acc += if d < 0 { -m } else { m };
                    weight *= radix;
                }
                assert_eq!(acc, k, "w = {w}");
            }
        }
    }

    /// `k·P` from `P`'s table, affine.
    fn table_mul<C: Curve>(t: &Table<C>, k: &C::Scalar) -> Option<(Fe<C>, Fe<C>)> {
        t.add_mul(Jacobian::identity(), k).unwrap().to_affine()
    }

    fn affine<C: Curve>(p: C::ProjectivePoint) -> (Fe<C>, Fe<C>) {
        let a: C::AffinePoint = p.to_affine();
        (
            Fe::<C>::from_repr(a.x()).unwrap(),
            Fe::<C>::from_repr(a.y()).unwrap(),
        )
    }

    /// Table multiplication equals the curve crate's own, for G and for
    /// another point, at the edges and for large scalars.
    #[test]
    fn table_mul_matches_the_curve_crate() {
        type C = p384::NistP384;
        let q = p384::ProjectivePoint::GENERATOR * p384::Scalar::from(0x1234_5678u64);
        let table = Table::<C>::new(q);
        let mut k = -p384::Scalar::from(7u64);
        for i in 0..20u64 {
            assert_eq!(
                table_mul(&table, &k),
                Some(affine::<C>(q * k)),
                "scalar {i}"
            );
            k = k.square() + p384::Scalar::from(i);
        }
        assert_eq!(table_mul(&table, &p384::Scalar::ZERO), None, "the identity");
        assert_eq!(
            table_mul(C::generator_table(), &p384::Scalar::ONE),
            Some(affine::<C>(p384::ProjectivePoint::GENERATOR))
        );
    }

    /// Every point of a compiled table equals the one a table built now
    /// holds at the same index, and the sizes agree.
    fn same_points<C: Curve>(compiled: &Table<C>, built: &Table<C>, what: &str) {
        assert_eq!(compiled.len(), built.len(), "{what}: size");
        for i in 0..built.len() {
            assert!(compiled.entry(i) == built.entry(i), "{what}: entry {i}");
        }
        assert!(
            compiled.entry(built.len()).is_none(),
            "{what}: past the end"
        );
    }

    /// The build script's generator tables are the generators' tables.
    #[test]
    fn compiled_generator_tables_match_built_ones() {
        same_points(
            p256::NistP256::generator_table(),
            &Table::new(p256::ProjectivePoint::GENERATOR),
            "P-256 generator",
        );
        same_points(
            p384::NistP384::generator_table(),
            &Table::new(p384::ProjectivePoint::GENERATOR),
            "P-384 generator",
        );
    }

    /// Each well-known key's compiled table is that key's table (the point
    /// decoded from the list, its table built here).
    #[test]
    fn compiled_key_tables_match_built_ones() {
        fn check<C: Curve>(expected: usize) {
            assert_eq!(C::known_tables().len(), expected, "keys listed");
            let field = FieldBytes::<C>::default().len();
            assert_eq!(
                C::known_points().len(),
                expected * (1 + 2 * field),
                "one point per listed key, nothing more"
            );
            assert_eq!(known_keys::<C>().count(), expected);
            for (label, sec1, _) in known_keys::<C>() {
                let x = FieldBytes::<C>::try_from(&sec1[1..=field]).unwrap();
                let y = FieldBytes::<C>::try_from(&sec1[1 + field..]).unwrap();
                let q: Option<C::AffinePoint> = C::AffinePoint::from_coordinates(&x, &y).into();
                let built = Table::<C>::new(q.unwrap().into());
                same_points(&Table::<C>::known(sec1).unwrap(), &built, label);
            }
        }
        let (p256_keys, p384_keys) = if cfg!(feature = "sigstore-keys") {
            (7, 5)
        } else {
            (0, 0)
        };
        check::<p256::NistP256>(p256_keys);
        check::<p384::NistP384>(p384_keys);
    }

    /// A compiled table read past its end, or with a coordinate not below
    /// `p`, yields no point. (A coordinate changed to another field element
    /// is not detected when read — the tables above are held equal to
    /// built ones instead.)
    #[test]
    fn compiled_bytes_out_of_range_are_not_points() {
        let good = Table::<p256::NistP256>::compiled(P256_GENERATOR);
        assert!(good.entry(0).is_some());
        let mut over = P256_GENERATOR[..64].to_vec();
        over[..32].fill(0xff);
        let over: &'static [u8] = Box::leak(over.into_boxed_slice());
        assert!(Table::<p256::NistP256>::compiled(over).entry(0).is_none());
        let short = Table::<p256::NistP256>::compiled(&P256_GENERATOR[..63]);
        assert!(short.entry(0).is_none());
    }
}
