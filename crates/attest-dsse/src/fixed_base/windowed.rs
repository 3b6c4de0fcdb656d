//! ECDSA verification for a key with no table of its own (a keyless
//! signer's certificate key, verified once): `u2·Q` by a signed 5-bit
//! window ladder in Jacobian coordinates, `u1·G` from the generator's
//! compiled table, and `x(R) ≡ r (mod n)` checked without an inversion.
//!
//! The curve crates compute `u1·G + u2·Q` with complete projective formulas
//! (constant-time by design, ~12 multiplications a doubling) and invert at
//! the end. For public inputs the classic formulas for `a = -3` are cheaper
//! (a doubling 3M + 5S, dbl-2001-b; additions add-2007-bl and madd-2007-bl
//! from the Explicit-Formulas Database), and the generator's half costs no
//! doubling at all. The exceptional cases those formulas leave to the
//! caller — the identity, adding a point to itself or to its negation — are
//! each handled below, and tests compare every path with the curve crate's
//! arithmetic, on edge scalars and at random, and the verdicts with
//! RustCrypto's `verify_prehash` on valid, high-S and mutated signatures.
//!
//! Variable-time: every input is public (a key, a digest, a signature).

use p256::elliptic_curve::{
    self, CurveArithmetic, Field, FieldBytes, PrimeField, hazmat::FieldArithmetic, ops::Reduce,
    point::AffineCoordinates,
};

use super::{Curve, Fe, signed_digits};

/// The window width of the ladder over `Q`: 16 precomputed multiples.
const WINDOW: usize = 5;
const HALF: usize = 1 << (WINDOW - 1);

/// A point in Jacobian coordinates, `(X/Z², Y/Z³)`; `Z = 0` is the identity.
#[derive(Clone, Copy)]
pub(super) struct Jacobian<C: FieldArithmetic> {
    x: Fe<C>,
    y: Fe<C>,
    z: Fe<C>,
}

impl<C: FieldArithmetic> Jacobian<C> {
    pub(super) fn identity() -> Self {
        Self {
            x: Fe::<C>::ONE,
            y: Fe::<C>::ONE,
            z: Fe::<C>::ZERO,
        }
    }

    pub(super) fn is_identity(&self) -> bool {
        self.z.is_zero().into()
    }

    fn from_affine(x: Fe<C>, y: Fe<C>) -> Self {
        Self {
            x,
            y,
            z: Fe::<C>::ONE,
        }
    }

    fn neg(self) -> Self {
        Self { y: -self.y, ..self }
    }

    /// `2·P` for a curve with `a = -3` (dbl-2001-b). The identity doubles
    /// to itself (`Z3 = 2·Y·Z = 0`); a prime-order curve has no point with
    /// `Y = 0`.
    fn double(&self) -> Self {
        let delta = self.z.square();
        let gamma = self.y.square();
        let beta = self.x * gamma;
        let alpha = (self.x - delta) * (self.x + delta);
        let alpha = alpha.double() + alpha;
        let beta4 = beta.double().double();
        let x3 = alpha.square() - beta4.double();
        let z3 = (self.y + self.z).square() - gamma - delta;
        let gamma2 = gamma.square();
        let y3 = alpha * (beta4 - x3) - gamma2.double().double().double();
        Self {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    /// `P + (x2, y2)` with an affine point that is not the identity
    /// (madd-2007-bl).
    pub(super) fn add_affine(&self, x2: Fe<C>, y2: Fe<C>) -> Self {
        if self.is_identity() {
            return Self::from_affine(x2, y2);
        }
        let z1z1 = self.z.square();
        let u2 = x2 * z1z1;
        let s2 = y2 * self.z * z1z1;
        let h = u2 - self.x;
        let r = (s2 - self.y).double();
        if bool::from(h.is_zero()) {
            // Same x: the same point (double it) or its negation.
            return if bool::from(r.is_zero()) {
                self.double()
            } else {
                Self::identity()
            };
        }
        let hh = h.square();
        let i = hh.double().double();
        let j = h * i;
        let v = self.x * i;
        let x3 = r.square() - j - v.double();
        let y3 = r * (v - x3) - (self.y * j).double();
        let z3 = (self.z + h).square() - z1z1 - hh;
        Self {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    /// `P + Q` (add-2007-bl).
    fn add(&self, other: &Self) -> Self {
        if self.is_identity() {
            return *other;
        }
        if other.is_identity() {
            return *self;
        }
        let z1z1 = self.z.square();
        let z2z2 = other.z.square();
        let u1 = self.x * z2z2;
        let u2 = other.x * z1z1;
        let s1 = self.y * other.z * z2z2;
        let s2 = other.y * self.z * z1z1;
        let h = u2 - u1;
        let r = (s2 - s1).double();
        if bool::from(h.is_zero()) {
            return if bool::from(r.is_zero()) {
                self.double()
            } else {
                Self::identity()
            };
        }
        let i = h.double().square();
        let j = h * i;
        let v = u1 * i;
        let x3 = r.square() - j - v.double();
        let y3 = r * (v - x3) - (s1 * j).double();
        let z3 = ((self.z + other.z).square() - z1z1 - z2z2) * h;
        Self {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    /// The affine coordinates (test support: one inversion).
    #[cfg(test)]
    pub(super) fn to_affine(self) -> Option<(Fe<C>, Fe<C>)> {
        let zinv = Option::<Fe<C>>::from(self.z.invert())?;
        let zinv2 = zinv.square();
        Some((self.x * zinv2, self.y * zinv2 * zinv))
    }
}

/// An affine point's coordinates as field elements.
pub(super) fn coordinates<C: FieldArithmetic>(p: &C::AffinePoint) -> Option<(Fe<C>, Fe<C>)> {
    let x = Option::from(Fe::<C>::from_repr(p.x()))?;
    let y = Option::from(Fe::<C>::from_repr(p.y()))?;
    Some((x, y))
}

/// `k·Q` by signed 5-bit windows (Horner from the top window down). `Q`
/// is a public key's point, never the identity (a `VerifyingKey` cannot
/// hold it).
pub(super) fn mul<C: Curve>(q: &C::AffinePoint, k: &C::Scalar) -> Option<Jacobian<C>> {
    let (qx, qy) = coordinates::<C>(q)?;
    // multiples[i] = (i + 1)·Q.
    let base = Jacobian::<C>::from_affine(qx, qy);
    let mut multiples = [base; HALF];
    for i in 1..HALF {
        multiples[i] = multiples[i - 1].add_affine(qx, qy);
    }
    let digits: Vec<i32> = signed_digits(k.to_repr().as_ref(), WINDOW).collect();
    let mut acc = Jacobian::<C>::identity();
    for &d in digits.iter().rev() {
        for _ in 0..WINDOW {
            acc = acc.double();
        }
        if d != 0 {
            let m = multiples.get(d.unsigned_abs() as usize - 1)?;
            acc = acc.add(&if d > 0 { *m } else { m.neg() });
        }
    }
    Some(acc)
}

/// `u1 = e/s` and `u2 = r/s` for a digest and a signature's scalars, or
/// `None` for an empty digest.
pub(super) fn scalars<C>(
    digest: &[u8],
    r: &C::Scalar,
    s: &C::Scalar,
) -> Option<(C::Scalar, C::Scalar)>
where
    C: CurveArithmetic,
    C::Scalar: Reduce<FieldBytes<C>>,
{
    let e = super::digest_scalar::<C>(digest)?;
    // Variable-time inversion: `s` is public.
    let s_inv = Option::<C::Scalar>::from(elliptic_curve::ops::Invert::invert_vartime(s))?;
    Some((e * s_inv, *r * s_inv))
}

/// Whether `x(point) ≡ r (mod n)`, without an inversion: `X = r'·Z²` for
/// the field element `r' = r`, or `r' = r + n` when `r < p - n` (an `x(R)`
/// in `[n, p)`). False for the identity.
pub(super) fn x_is_r<C: Curve>(point: &Jacobian<C>, r: &C::Scalar) -> bool {
    if point.is_identity() {
        return false;
    }
    let r_bytes = r.to_repr();
    let Some(r_fe) = Option::<Fe<C>>::from(Fe::<C>::from_repr(r_bytes)) else {
        return false;
    };
    let z2 = point.z.square();
    if point.x == r_fe * z2 {
        return true;
    }
    r_bytes.as_slice() < C::P_MINUS_N && point.x == (r_fe + order::<C>()) * z2
}

/// The ECDSA verification equation (SEC 1 §4.1.4) for a key without a
/// table: `x(u1·G + u2·Q) ≡ r (mod n)`, checked as `X = r'·Z²` for the
/// field element `r' = r` and, when `r < p - n`, `r' = r + n`.
pub(crate) fn verify<C>(q: &C::AffinePoint, digest: &[u8], r: &C::Scalar, s: &C::Scalar) -> bool
where
    C: Curve + elliptic_curve::PrimeCurve,
    C::Scalar: Reduce<FieldBytes<C>>,
{
    let Some((u1, u2)) = scalars::<C>(digest, r, s) else {
        return false;
    };
    mul::<C>(q, &u2)
        .and_then(|acc| C::generator_table().add_mul(acc, &u1))
        .is_some_and(|point| x_is_r(&point, r))
}

/// `n` as a field element (`n < p` for both curves): `(n - 1) + 1`.
fn order<C: FieldArithmetic>() -> Fe<C> {
    let n_minus_1 = (-<C as CurveArithmetic>::Scalar::ONE).to_repr();
    Option::<Fe<C>>::from(Fe::<C>::from_repr(n_minus_1)).unwrap_or(Fe::<C>::ZERO) + Fe::<C>::ONE
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::elliptic_curve::group::{Curve as _, Group as _};

    /// `p - n` as listed: `(p - n) + n = p ≡ 0` and `(p - n - 1) + n = p - 1`.
    fn check_p_minus_n<C: Curve>() {
        let pmn = Option::<Fe<C>>::from(Fe::<C>::from_repr(
            FieldBytes::<C>::try_from(C::P_MINUS_N).unwrap(),
        ))
        .unwrap();
        assert!(bool::from((pmn + order::<C>()).is_zero()));
        assert_eq!(pmn - Fe::<C>::ONE + order::<C>(), -Fe::<C>::ONE);
    }

    #[test]
    fn p_minus_n_constants() {
        check_p_minus_n::<p256::NistP256>();
        check_p_minus_n::<p384::NistP384>();
    }

    /// `u1·G + u2·Q` by this module equals the curve crate's, for edge
    /// scalars (0, 1, n - 1, each other's negation) and points (Q = G,
    /// Q = -G), and a spread of others.
    fn lincomb_matches<C: Curve>()
    where
        C::ProjectivePoint: Into<C::AffinePoint>,
    {
        let g = C::ProjectivePoint::generator();
        let mut scalars = vec![
            C::Scalar::ZERO,
            C::Scalar::ONE,
            -C::Scalar::ONE,
            C::Scalar::from(16u64),
            C::Scalar::from(17u64),
            -C::Scalar::from(16u64),
        ];
        let mut k = C::Scalar::from(0x1234_5678_9abc_def0u64);
        for i in 0..12u64 {
            scalars.push(k);
            k = k.square() + C::Scalar::from(i);
        }
        let points = [
            g,
            -g,
            g * C::Scalar::from(5u64),
            g * scalars[scalars.len() - 1],
        ];
        for q in points {
            let q_affine: C::AffinePoint = q.to_affine();
            for u1 in &scalars {
                for u2 in [*u1, -*u1, scalars[7], C::Scalar::ZERO] {
                    let expected = g * u1 + q * u2;
                    let ours = mul::<C>(&q_affine, &u2)
                        .and_then(|a| C::generator_table().add_mul(a, u1))
                        .unwrap();
                    if bool::from(expected.is_identity()) {
                        assert!(ours.is_identity());
                        continue;
                    }
                    let (x, y) = ours.to_affine().unwrap();
                    let e: C::AffinePoint = expected.to_affine();
                    assert_eq!(x.to_repr(), e.x());
                    assert_eq!(y.to_repr(), e.y());
                }
            }
        }
    }

    #[test]
    fn lincomb_matches_the_curve_crates() {
        lincomb_matches::<p256::NistP256>();
        lincomb_matches::<p384::NistP384>();
    }

    /// The exceptional additions: P + P, P + (-P), and sums through the
    /// identity.
    #[test]
    fn exceptional_additions() {
        type J = Jacobian<p256::NistP256>;
        let g = p256::AffinePoint::GENERATOR;
        let (gx, gy) = coordinates::<p256::NistP256>(&g).unwrap();
        let p = J::from_affine(gx, gy);
        let doubled = p.double().to_affine().unwrap();
        assert_eq!(p.add(&p).to_affine().unwrap(), doubled);
        assert_eq!(p.add_affine(gx, gy).to_affine().unwrap(), doubled);
        assert!(p.add(&p.neg()).is_identity());
        assert!(p.add_affine(gx, -gy).is_identity());
        assert!(J::identity().double().is_identity());
        assert_eq!(J::identity().add(&p).to_affine(), p.to_affine());
        assert_eq!(p.add(&J::identity()).to_affine(), p.to_affine());
        assert_eq!(J::identity().add_affine(gx, gy).to_affine(), p.to_affine());
    }
}
