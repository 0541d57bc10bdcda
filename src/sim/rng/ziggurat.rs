//! Exponential and normal variates by the ziggurat method (Marsaglia & Tsang,
//! 2000), ported from `rand_distr` 0.5.1 (MIT or Apache-2.0, the Rand project
//! developers) so that the crate does not depend on `rand`/`rand_distr`.
//!
//! Why a port and not the crate: in a notebook, evcxr's embedded
//! rust-analyzer analyses every crate the notebook's dependency pulls in, on
//! the `:dep` cell and again on the first cell that stores a variable. `rand`
//! alone cost about 3 s of that per notebook run (measured: 1.3 s on `:dep`,
//! 1.5 to 1.8 s on the first variable), a tenth of a notebook's time budget.
//!
//! The port consumes random bits exactly as `rand_distr` does (same tables,
//! same bit layout, same fallbacks), so every stream draws the same values as
//! before: `tests/rng.rs` compares both samplers with `rand_distr`'s bit for
//! bit over millions of draws, tails included.

use super::ziggurat_tables as tables;
use rand_core::RngCore;

/// `(0, 1)` from the 52 high bits, as `rand`'s `Open01` for `f64`.
#[inline]
fn open01<R: RngCore + ?Sized>(rng: &mut R) -> f64 {
    let bits = rng.next_u64() >> 12;
    f64::from_bits(bits | (1023u64 << 52)) - (1.0 - f64::EPSILON / 2.0)
}

/// `[0, 1)` from the 53 high bits, as `rand`'s `StandardUniform` for `f64`.
#[inline]
fn unit<R: RngCore + ?Sized>(rng: &mut R) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// One ziggurat draw. `symmetric` picks a sign from the same random bits.
#[inline(always)]
fn ziggurat<R: RngCore + ?Sized>(
    rng: &mut R,
    symmetric: bool,
    x_tab: tables::ZigTable,
    f_tab: tables::ZigTable,
    pdf: impl Fn(f64) -> f64,
    zero_case: impl Fn(&mut R, f64) -> f64,
) -> f64 {
    loop {
        // The low 8 bits pick the layer; the high 52 bits make the float.
        let bits = rng.next_u64();
        let i = bits as usize & 0xff;
        let u = if symmetric {
            // [2, 4) minus 3: [-1, 1)
            f64::from_bits((bits >> 12) | (1024u64 << 52)) - 3.0
        } else {
            // [1, 2) minus (1 - eps/2): (0, 1)
            f64::from_bits((bits >> 12) | (1023u64 << 52)) - (1.0 - f64::EPSILON / 2.0)
        };
        let x = u * x_tab[i];
        let test_x = if symmetric { x.abs() } else { x };
        // Inside the layer's rectangle: accept at once (about 98 % of draws).
        if test_x < x_tab[i + 1] {
            return x;
        }
        if i == 0 {
            return zero_case(rng, u);
        }
        // In the wedge: accept under the density.
        if f_tab[i + 1] + (f_tab[i] - f_tab[i + 1]) * unit(rng) < pdf(x) {
            return x;
        }
    }
}

/// An Exp(1) variate (mean 1): multiply by the mean for any other rate.
///
/// ```
/// use thinkdist::sim::rng::{exp1, stream, domain};
/// let mut rng = stream(7, domain::EXPERIMENT, 0, 0);
/// let n = 100_000;
/// let mean = (0..n).map(|_| exp1(&mut rng)).sum::<f64>() / n as f64;
/// assert!((mean - 1.0).abs() < 0.02); // 5 standard errors: 5 / sqrt(n) ≈ 0.016
/// ```
#[inline]
pub fn exp1<R: RngCore + ?Sized>(rng: &mut R) -> f64 {
    ziggurat(
        rng,
        false,
        &tables::ZIG_EXP_X,
        &tables::ZIG_EXP_F,
        |x| (-x).exp(),
        |rng, _u| tables::ZIG_EXP_R - unit(rng).ln(),
    )
}

/// A standard normal variate N(0, 1).
///
/// ```
/// use thinkdist::sim::rng::{standard_normal, stream, domain};
/// let mut rng = stream(7, domain::EXPERIMENT, 0, 0);
/// let n = 100_000;
/// let mean = (0..n).map(|_| standard_normal(&mut rng)).sum::<f64>() / n as f64;
/// assert!(mean.abs() < 0.016); // 5 standard errors
/// ```
#[inline]
pub fn standard_normal<R: RngCore + ?Sized>(rng: &mut R) -> f64 {
    ziggurat(
        rng,
        true,
        &tables::ZIG_NORM_X,
        &tables::ZIG_NORM_F,
        |x| (-x * x / 2.0).exp(),
        |rng, u| {
            // The tail beyond R, by Marsaglia's method.
            let mut x = 1.0f64;
            let mut y = 0.0f64;
            while -2.0 * y < x * x {
                x = open01(rng).ln() / tables::ZIG_NORM_R;
                y = open01(rng).ln();
            }
            if u < 0.0 {
                x - tables::ZIG_NORM_R
            } else {
                tables::ZIG_NORM_R - x
            }
        },
    )
}
