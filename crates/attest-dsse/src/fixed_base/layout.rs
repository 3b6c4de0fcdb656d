//! The layout of a fixed-base table, shared by the crate (tables built at
//! run time) and its build script (tables of the generators and of the
//! well-known keys, built at compile time): both must put the same point
//! at the same index, and a test holds them equal.
//!
//! Entry `i · 2^(W-1) + (d - 1)` is `d · 2^(W·i) · P` for every window
//! position `i` and digit `d` in `1..=2^(W-1)`.

use p256::elliptic_curve::group::Group;

/// The window positions for a scalar of `bits` bits and `window`-bit
/// signed digits: ⌈bits / W⌉ plus one for the last carry.
pub(crate) fn positions(bits: usize, window: usize) -> usize {
    bits.div_ceil(window) + 1
}

/// Every entry of `base`'s table, projective, in table order (one addition
/// per entry, one doubling per position).
pub(crate) fn projective_points<P: Group>(base: P, bits: usize, window: usize) -> Vec<P> {
    let half = 1usize << (window - 1);
    let n = positions(bits, window);
    let mut points = Vec::with_capacity(n * half);
    let mut b = base;
    for _ in 0..n {
        let mut m = b;
        points.push(m);
        for _ in 1..half {
            m += b;
            points.push(m);
        }
        // m = 2^(W-1)·b, so its double is the next position's base.
        b = m.double();
    }
    points
}
