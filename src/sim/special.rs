//! Special functions the simulator's theory needs: the error function and
//! the normal distribution's CDF and tail (φ accrual failure detection, the
//! truncated normal latency). Kept in the kernel so that every layer above
//! can use them; [`crate::detect`] re-exports them where readers of
//! chapter 3 look for them.

/// `ln erfc(x)` for `x >= 0`, from the Chebyshev fit of Numerical Recipes
/// (`erfcc`, fractional error below 1.2e-7 everywhere), evaluated in log
/// space so it never underflows.
fn ln_erfc_nonneg(x: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.5 * x);
    let poly = -1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    t.ln() - x * x + poly
}

/// The complementary error function `erfc(x) = 1 − erf(x)`, to a relative
/// error below 1.2e-7 (Numerical Recipes `erfcc`).
pub fn erfc(x: f64) -> f64 {
    if x >= 0.0 {
        ln_erfc_nonneg(x).exp()
    } else {
        2.0 - ln_erfc_nonneg(-x).exp()
    }
}

/// The standard normal CDF, `Φ(z) = erfc(−z/√2) / 2`. `Φ(1) ≈ 0.841344746`.
pub fn normal_cdf(z: f64) -> f64 {
    0.5 * erfc(-z / std::f64::consts::SQRT_2)
}

/// `log10(1 − Φ(z))`, the log of the standard normal upper tail, finite for
/// any finite `z` (for `z = 40` the tail is about 1e-350, below the smallest
/// `f64`, yet its log is fine). φ accrual's `φ` is minus this.
pub fn log10_normal_tail(z: f64) -> f64 {
    let x = z / std::f64::consts::SQRT_2;
    let ln_tail = if x >= 0.0 {
        ln_erfc_nonneg(x) - std::f64::consts::LN_2
    } else {
        (0.5 * (2.0 - ln_erfc_nonneg(-x).exp())).ln()
    };
    ln_tail / std::f64::consts::LN_10
}
