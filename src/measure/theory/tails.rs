//! Tails: the probability `P(X > x)` that a latency exceeds `x`, for the
//! distributions the experiments draw from, and what fan-out (wait for all:
//! [`fanout_slow_probability`], [`SlowestRoundTrip`]) and hedging (take the
//! first of two: [`hedged_tail`]) make of it.
//!
//! Unlike the rest of [`theory`](super), the survival functions here return
//! a plain `f64` where their inputs cannot be wrong (a [`Latency`] is
//! checked when it is built), so they can be called point by point when a
//! chart draws a curve.

use crate::error::{check_probability, Error, Result};
use crate::sim::net::Latency;
use crate::sim::special::normal_cdf;
use serde::Serialize;

/// Probability that a request fanned out to `n` backends is slow when each
/// backend is independently slow with probability `p`: `1 − (1 − p)^n`.
///
/// Why: at fan-out 100, a 1-in-100 slow backend makes 63 % of requests slow —
/// the "tail at scale" effect. Computed as `−expm1(n · ln1p(−p))` to stay
/// accurate for tiny `p`. `n = 0` gives 0. Errors if `p` is outside [0, 1].
///
/// ```
/// let s = thinkdist::measure::theory::fanout_slow_probability(0.01, 100)?;
/// assert!((s - 0.634).abs() < 1e-3);
/// # Ok::<(), thinkdist::Error>(())
/// ```
pub fn fanout_slow_probability(p: f64, n: usize) -> Result<f64> {
    fanout_slow_fraction(p, n as f64)
}

/// [`fanout_slow_probability`] for a real-valued width `n >= 0`, for
/// drawing the formula as a smooth curve over a log axis of widths.
/// Errors if `p` is outside [0, 1] or `n` is negative or not finite.
pub fn fanout_slow_fraction(p: f64, n: f64) -> Result<f64> {
    check_probability("p", p)?;
    if !(n.is_finite() && n >= 0.0) {
        return Err(Error::invalid("n", n, "a finite number of servers >= 0"));
    }
    if n == 0.0 || p == 0.0 {
        return Ok(0.0);
    }
    if p == 1.0 {
        return Ok(1.0);
    }
    Ok(-(n * (-p).ln_1p()).exp_m1())
}

/// Checks a mean (any unit) of a tail formula.
fn check_mean(what: &str, mean: f64) -> Result<()> {
    if mean.is_finite() && mean > 0.0 {
        Ok(())
    } else {
        Err(Error::invalid(what, mean, "a finite number > 0"))
    }
}

/// Tail of the Erlang(k, mean) distribution, the sum of `k` independent
/// exponential delays of mean `mean` each:
/// `P(X > x) = e^(−x/m) Σ_{j<k} (x/m)^j / j!` (1 for `x <= 0`; `k = 1` is
/// the exponential tail `e^(−x/m)`).
///
/// Why: a chain of `k` message delays (a saga's bookings one after the
/// other, a round trip) takes an Erlang time when each delay is
/// exponential; it is the line a simulated chain's tail should follow.
///
/// Errors: `k` = 0 or above 1,000; `mean` not a finite number > 0; `x` NaN.
///
/// ```
/// use thinkdist::measure::theory::erlang_tail;
/// // Two delays of mean 1: P(X > 1) = e^(−1) (1 + 1) = 0.7358.
/// assert!((erlang_tail(2, 1.0, 1.0)? - 2.0 * (-1.0f64).exp()).abs() < 1e-15);
/// assert_eq!(erlang_tail(1, 10.0, 20.0)?, (-2.0f64).exp());
/// # Ok::<(), thinkdist::Error>(())
/// ```
pub fn erlang_tail(k: usize, mean: f64, x: f64) -> Result<f64> {
    crate::error::check_count("k", k, 1, 1_000, "delays")?;
    check_mean("mean", mean)?;
    if x.is_nan() {
        return Err(Error::invalid("x", x, "a number (not NaN)"));
    }
    if x <= 0.0 {
        return Ok(1.0);
    }
    let y = x / mean;
    let mut term = 1.0;
    let mut sum = 1.0;
    for j in 1..k {
        term *= y / j as f64;
        sum += term;
    }
    Ok(((-y).exp() * sum).min(1.0))
}

/// Tail of a round trip made of two exponential network delays (rate
/// `lambda` each) and an exponential processing time (rate `mu`), all
/// independent: the network's two trips are an Erlang-2, and with
/// `c = λ − μ`,
/// `P(R > t) = e^(−λt)(1 + λt) + λ² e^(−μt) (1 − e^(−ct)(1 + ct)) / c²`
/// (`λ² t² e^(−μt) / 2` for the second term when `c = 0`). Rates and `t`
/// in any one unit (per ms and ms, say). 1 for `t <= 0`.
///
/// Errors: a rate that is not a finite number > 0.
///
/// ```
/// use thinkdist::measure::theory::{erlang_tail, round_trip_tail};
/// // A very fast server: the round trip is the network's Erlang-2.
/// let r = round_trip_tail(1.0, 1e9, 1.5)?;
/// assert!((r - erlang_tail(2, 1.0, 1.5)?).abs() < 1e-6);
/// # Ok::<(), thinkdist::Error>(())
/// ```
pub fn round_trip_tail(lambda: f64, mu: f64, t: f64) -> Result<f64> {
    check_mean("lambda", lambda)?;
    check_mean("mu", mu)?;
    if t <= 0.0 {
        return Ok(1.0);
    }
    let (l, m) = (lambda, mu);
    let c = l - m;
    let x = c * t;
    // λ² e^(−μt)(1 − e^(−ct)(1 + ct)) / c² = λ² t² e^(−λt) g(ct), with
    // g(x) = (e^x − 1 − x) / x²: no cancellation near c = 0 (and g(0) = 1/2
    // is the c = 0 case). For ct > 1 the first form, whose exponentials
    // cannot overflow when λ is far above μ.
    let second = if x > 1.0 {
        l * l * ((-m * t).exp() - (-l * t).exp() * (1.0 + x)) / (c * c)
    } else {
        let g = if x.abs() < 1e-4 {
            0.5 * (1.0 + x / 3.0 * (1.0 + x / 4.0))
        } else {
            (x.exp_m1() - x) / (x * x)
        };
        l * l * t * t * (-l * t).exp() * g
    };
    Ok((-l * t).exp() * (1.0 + l * t) + second)
}

/// Tail of a mixture of exponentials (a hyperexponential): `parts` are
/// `(weight, mean)` pairs, and `P(T > x) = Σ w e^(−x/mean)` (1 for
/// `x <= 0`).
///
/// Why: "fast most of the time, 100× slower now and then" is the simplest
/// server whose tail is dominated by its rare slow mode.
///
/// Errors: a weight outside [0, 1] or a mean that is not a finite number
/// > 0.
pub fn exponential_mixture_tail(parts: &[(f64, f64)], x: f64) -> Result<f64> {
    for &(w, mean) in parts {
        check_probability("weight", w)?;
        check_mean("mean", mean)?;
    }
    if x <= 0.0 {
        return Ok(1.0);
    }
    Ok(parts.iter().map(|&(w, mean)| w * (-x / mean).exp()).sum())
}

/// `P(T > x_ns)` for a draw `T` of `lat`, in closed form for every kind of
/// [`Latency`] (a mixture is the weighted sum of its parts; `Normal` is
/// truncated at zero by redrawing, so its tail is divided by `P(draw >= 0)`).
/// This is `q` of the fan-out formula for any server latency.
///
/// ```
/// use thinkdist::prelude::*;
/// use thinkdist::measure::theory::latency_tail;
/// let l = Latency::exponential(ms(10))?;
/// assert!((latency_tail(&l, 20e6) - (-2.0f64).exp()).abs() < 1e-12);
/// # Ok::<(), thinkdist::Error>(())
/// ```
pub fn latency_tail(lat: &Latency, x_ns: f64) -> f64 {
    if x_ns < 0.0 {
        return 1.0;
    }
    if x_ns == f64::INFINITY {
        return 0.0; // no draw is infinite (also for an infinite mean)
    }
    match lat {
        Latency::Constant { ns } => f64::from(u8::from(*ns > x_ns)),
        Latency::Uniform { lo, hi } => {
            if x_ns < *lo {
                1.0
            } else if x_ns >= *hi {
                0.0
            } else {
                (hi - x_ns) / (hi - lo)
            }
        }
        Latency::Exponential { mean } => (-x_ns / mean).exp(),
        Latency::Normal { mean, sd } => {
            if *sd > 0.0 {
                // Truncated at zero by redrawing: divide by P(draw >= 0).
                let kept = 1.0 - normal_cdf(-mean / sd);
                ((1.0 - normal_cdf((x_ns - mean) / sd)) / kept).min(1.0)
            } else {
                f64::from(u8::from(*mean > x_ns))
            }
        }
        Latency::LogNormal { mu, sigma } => {
            if x_ns <= 0.0 {
                1.0
            } else if *sigma > 0.0 {
                1.0 - normal_cdf((x_ns.ln() - mu) / sigma)
            } else {
                f64::from(u8::from(mu.exp() > x_ns))
            }
        }
        Latency::Pareto { scale, shape } => {
            if x_ns < *scale {
                1.0
            } else {
                (scale / x_ns).powf(*shape)
            }
        }
        Latency::Mixture { weights, parts } => {
            // Weights are relative to their sum (see `Latency::Mixture`).
            let total: f64 = weights.iter().sum();
            weights
                .iter()
                .zip(parts)
                .map(|(w, p)| w / total * latency_tail(p, x_ns))
                .sum()
        }
    }
}

/// Tail of a hedged request (Dean and Barroso, "The Tail at Scale"): send
/// to one server, and if no answer came after `delay`, send a copy to a
/// second and take the first answer. With `tail` the single server's
/// `P(T > x)`, the hedged latency `H` has `P(H > x) = tail(x)` for
/// `x <= delay` and `tail(x) · tail(x − delay)` beyond; `None` is no hedge.
pub fn hedged_tail(tail: impl Fn(f64) -> f64, delay: Option<f64>, x: f64) -> f64 {
    match delay {
        Some(d) if x > d => tail(x) * tail(x - d),
        _ => tail(x),
    }
}

/// The `q` quantile (q in (0, 1)) of a distribution given by its tail
/// function `P(X > x)` (non-increasing, on x >= 0): the `x` where the tail
/// falls to `1 − q`, by doubling an upper bracket from 1 (up to 1e12) and
/// 200 bisection steps.
///
/// Errors: `q` outside (0, 1).
///
/// ```
/// use thinkdist::measure::theory::{quantile_of_tail, erlang_tail};
/// // The median of an exponential with mean 10 is 10 ln 2.
/// let m = quantile_of_tail(|x| erlang_tail(1, 10.0, x).unwrap_or(f64::NAN), 0.5)?;
/// assert!((m - 10.0 * 2f64.ln()).abs() < 1e-9);
/// # Ok::<(), thinkdist::Error>(())
/// ```
pub fn quantile_of_tail(tail: impl Fn(f64) -> f64, q: f64) -> Result<f64> {
    if !(q > 0.0 && q < 1.0) {
        return Err(Error::invalid(
            "q",
            q,
            "a quantile strictly between 0 and 1",
        ));
    }
    let target = 1.0 - q;
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    while tail(hi) > target && hi < 1e12 {
        hi *= 2.0;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if tail(mid) > target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(0.5 * (lo + hi))
}

/// The slowest of `n` independent round trips, each the sum of two
/// exponential message delays of mean `mean_ms`: how long a coordinator
/// waits for the last of `n` votes (chapter 6). One round trip has the
/// Erlang-2 CDF `F(t) = 1 − e^(−t/m) (1 + t/m)`; the slowest of `n` has
/// `F(t)^n`, its mean is `∫ (1 − F(t)^n) dt` and its q-quantile solves
/// `F(t) = q^(1/n)`: it grows like `m ln n`.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct SlowestRoundTrip {
    /// How many round trips.
    pub n: usize,
    /// Mean of one message delay (ms).
    pub mean_ms: f64,
}

impl SlowestRoundTrip {
    /// Errors: `n` outside 1..=100,000, or a mean that is not a finite
    /// time > 0.
    pub fn new(n: usize, mean_ms: f64) -> Result<SlowestRoundTrip> {
        crate::error::check_count("n", n, 1, 100_000, "round trips")?;
        if !(mean_ms.is_finite() && mean_ms > 0.0 && mean_ms < 1e9) {
            return Err(Error::invalid("mean_ms", mean_ms, "a finite time > 0 (ms)"));
        }
        Ok(SlowestRoundTrip { n, mean_ms })
    }

    /// CDF of one round trip: `1 − e^(−t/m)(1 + t/m)`.
    pub fn round_trip_cdf(&self, t: f64) -> f64 {
        if t <= 0.0 {
            return 0.0;
        }
        // Two exponential delays: an Erlang-2 (NaN for a mean that is not
        // a finite time > 0).
        1.0 - erlang_tail(2, self.mean_ms, t).unwrap_or(f64::NAN)
    }

    /// `P(max ≤ t) = F(t)^n`.
    pub fn cdf(&self, t: f64) -> f64 {
        self.round_trip_cdf(t).powi(self.n as i32)
    }

    /// The mean, `∫ (1 − F(t)^n) dt`, by Simpson's rule (relative error
    /// far below 10⁻⁶).
    pub fn mean(&self) -> f64 {
        // 1 − F^n ≤ n (1 − F) < 1e-15 beyond this.
        let end = self.mean_ms * (60.0 + (self.n as f64).ln());
        simpson(|t| 1.0 - self.cdf(t), end)
    }

    /// The q-quantile: solves `F(t) = q^(1/n)` by bisection.
    ///
    /// Errors: `q` outside (0, 1).
    pub fn quantile(&self, q: f64) -> Result<f64> {
        if !(q > 0.0 && q < 1.0) {
            return Err(Error::invalid(
                "q",
                q,
                "a quantile strictly between 0 and 1",
            ));
        }
        let target = q.powf(1.0 / self.n as f64);
        let (mut lo, mut hi) = (0.0, self.mean_ms);
        let mut doublings = 0;
        while self.round_trip_cdf(hi) < target {
            hi *= 2.0;
            doublings += 1;
            if doublings > 200 || !hi.is_finite() {
                return Err(Error::invalid(
                    "q",
                    q,
                    &format!(
                        "a quantile that F(t)^{} reaches below 1 (q too close to 1)",
                        self.n
                    ),
                ));
            }
        }
        for _ in 0..200 {
            let mid = 0.5 * (lo + hi);
            if self.round_trip_cdf(mid) < target {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        Ok(0.5 * (lo + hi))
    }
}

/// `∫₀^end f` by Simpson's rule on 20,000 steps: the mean of a wait from
/// its tail `1 − F`, shared by every slowest-of and k-of-n wait here.
pub(crate) fn simpson(f: impl Fn(f64) -> f64, end: f64) -> f64 {
    let steps = 20_000;
    let h = end / steps as f64;
    let mut s = f(0.0) + f(end);
    for i in 1..steps {
        s += f(i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
    }
    s * h / 3.0
}
