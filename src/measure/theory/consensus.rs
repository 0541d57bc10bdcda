//! Closed forms for consensus (chapter 10): how long a Raft leader waits to
//! commit a client's command.
//!
//! **The commit wait.** With a stable leader, a command costs one round
//! trip to the fastest majority: the leader appends it, sends it to every
//! follower, and commits once `⌊n/2⌋` followers acknowledged it (the
//! leader's own copy is the majority's last vote). With independent
//! round trips, follower `i`'s of CDF `F_i`, the wait is the k-th smallest
//! of them (k = ⌊n/2⌋), an order statistic: `P(T_(k) ≤ t)` is the
//! probability that at least k of the n − 1 round trips are done by `t`, a
//! Poisson-binomial sum (computed exactly by a small recurrence). When
//! every message takes a uniform delay in `[lo, hi]`, a round trip is the
//! sum of two of them, whose CDF is piecewise quadratic
//! ([`uniform_round_trip_cdf`]); the mean wait `∫ (1 − P(T_(k) ≤ t)) dt` is
//! then the integral of a piecewise polynomial, done by Simpson's rule on
//! each piece (error below 10⁻⁹ of the mean; the tests check it against a
//! hand-integrated case). A client sees that wait plus its own two legs
//! ([`raft_commit_mean`]); disks sync in no time in our model, so nothing
//! else is added.
//!
//! ```
//! use thinkdist::measure::theory;
//! // Three servers, every message 1–5 ms: the leader waits for the
//! // faster of two round trips of 2–10 ms, mean 6 ms each.
//! let wait = theory::kth_fastest_round_trip_mean(1, &[(1.0, 5.0); 2])?;
//! assert!(wait > 2.0 && wait < 6.0);
//! // Five servers wait for 2 of 4: a little longer.
//! assert!(theory::kth_fastest_round_trip_mean(2, &[(1.0, 5.0); 4])? > wait);
//! # Ok::<(), thinkdist::Error>(())
//! ```

use crate::error::{check_count, Error, Result};

/// Most followers the formulas accept (a Raft cluster of 64 servers).
pub const MAX_FOLLOWERS: usize = 63;

/// `P(X + Y ≤ t)` for independent `X, Y` uniform on `[lo, hi]` (ms): the
/// round trip of two messages of the same link. A trapezoid on
/// `[2 lo, 2 hi]`, a step at `2 lo` when `lo == hi`.
pub fn uniform_round_trip_cdf(lo: f64, hi: f64, t: f64) -> f64 {
    let w = hi - lo;
    if w <= 0.0 {
        return if t >= 2.0 * lo { 1.0 } else { 0.0 };
    }
    let x = (t - 2.0 * lo) / w;
    if x <= 0.0 {
        0.0
    } else if x <= 1.0 {
        x * x / 2.0
    } else if x < 2.0 {
        1.0 - (2.0 - x) * (2.0 - x) / 2.0
    } else {
        1.0
    }
}

/// Checks one-way delay ranges: finite, `0 <= lo <= hi <= 10⁶` ms.
fn check_legs(what: &str, legs: &[(f64, f64)]) -> Result<()> {
    for &(lo, hi) in legs {
        if !(lo.is_finite() && hi.is_finite() && 0.0 <= lo && lo <= hi && hi <= 1e6) {
            return Err(Error::invalid(
                what,
                format!("{lo}–{hi} ms"),
                "a one-way delay range 0 <= lo <= hi <= 1,000,000 ms",
            ));
        }
    }
    Ok(())
}

/// `P(T_(k) ≤ t)`: at least `k` of the round trips over `legs` done by `t`
/// (Poisson-binomial: `dp[j]` = probability that exactly `j` are done).
fn kth_cdf(k: usize, legs: &[(f64, f64)], t: f64) -> f64 {
    let mut dp = [0.0f64; MAX_FOLLOWERS + 1];
    dp[0] = 1.0;
    for (i, &(lo, hi)) in legs.iter().enumerate() {
        let p = uniform_round_trip_cdf(lo, hi, t);
        for j in (0..=i + 1).rev() {
            let stay = dp[j] * (1.0 - p);
            let came = if j > 0 { dp[j - 1] * p } else { 0.0 };
            dp[j] = stay + came;
        }
    }
    dp[k..=legs.len()].iter().sum::<f64>().clamp(0.0, 1.0)
}

/// The mean of the `k`-th fastest of independent round trips, round trip
/// `i` being two messages each uniform on `legs[i] = (lo, hi)` ms (out to
/// follower `i` and back): the leader's commit wait with `k = ⌊n/2⌋`.
/// See the [module docs](self).
///
/// Errors: no legs or more than [`MAX_FOLLOWERS`], `k` outside
/// `1..=legs.len()`, a range that is not `0 <= lo <= hi <= 10⁶`.
pub fn kth_fastest_round_trip_mean(k: usize, legs: &[(f64, f64)]) -> Result<f64> {
    check_count("followers", legs.len(), 1, MAX_FOLLOWERS, "followers")?;
    if k == 0 || k > legs.len() {
        return Err(Error::invalid(
            "k",
            k,
            &format!("acknowledgements from 1 to {} (the followers)", legs.len()),
        ));
    }
    check_legs("follower delay", legs)?;
    // The integrand is a polynomial between these points.
    let mut cuts: Vec<f64> = vec![0.0];
    for &(lo, hi) in legs {
        cuts.extend([2.0 * lo, lo + hi, 2.0 * hi]);
    }
    cuts.sort_by(f64::total_cmp);
    cuts.dedup();
    let survival = |t: f64| 1.0 - kth_cdf(k, legs, t);
    let mut mean = 0.0;
    for w in cuts.windows(2) {
        let (a, b) = (w[0], w[1]);
        if b > a {
            mean += simpson_on(&survival, a, b, 256);
        }
    }
    Ok(mean)
}

/// The mean time from a client's request to its reply for a command
/// committed by a stable leader: the client's two legs (each uniform on
/// `client = (lo, hi)` ms) plus the wait for `⌊n/2⌋` of the `n − 1`
/// followers, follower `i`'s messages uniform on `followers[i]`.
///
/// Errors: as [`kth_fastest_round_trip_mean`], or a bad client range.
pub fn raft_commit_mean(client: (f64, f64), followers: &[(f64, f64)]) -> Result<f64> {
    check_legs("client delay", &[client])?;
    let n = followers.len() + 1;
    let wait = kth_fastest_round_trip_mean(n / 2, followers)?;
    Ok(client.0 + client.1 + wait)
}

/// Simpson's rule for `∫_a^b f` with `steps` (even) panels. The ends are
/// taken just inside the interval: `f` is a polynomial on `(a, b)` but may
/// jump at a cut (a constant delay's round trip is a step).
fn simpson_on(f: &impl Fn(f64) -> f64, a: f64, b: f64, steps: usize) -> f64 {
    let h = (b - a) / steps as f64;
    let inside = (b - a) * 1e-12;
    let mut s = f(a + inside) + f(b - inside);
    for i in 1..steps {
        s += f(a + i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
    }
    s * h / 3.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::{stream, unit_f64};

    #[test]
    fn one_round_trip_has_the_mean_of_two_legs() -> Result<()> {
        let m = kth_fastest_round_trip_mean(1, &[(1.0, 5.0)])?;
        assert!((m - 6.0).abs() < 1e-9, "{m}");
        // A constant delay: a step.
        let c = kth_fastest_round_trip_mean(1, &[(2.0, 2.0)])?;
        assert!((c - 4.0).abs() < 1e-9, "{c}");
        Ok(())
    }

    #[test]
    fn faster_of_two_matches_the_integral_by_hand() -> Result<()> {
        // X, Y triangular on [0, 2]: E[min] = ∫_0^1 (1 − x²/2)² dx +
        // ∫_1^2 ((2 − x)²/2)² dx = (1 − 1/3 + 1/20) + 1/20 = 23/30.
        let m = kth_fastest_round_trip_mean(1, &[(0.0, 1.0); 2])?;
        assert!((m - 23.0 / 30.0).abs() < 1e-9, "{m}");
        // And the slower of the two: E[X] + E[Y] − E[min] = 2 − 23/30.
        let s = kth_fastest_round_trip_mean(2, &[(0.0, 1.0); 2])?;
        assert!((s - (2.0 - 23.0 / 30.0)).abs() < 1e-9, "{s}");
        Ok(())
    }

    #[test]
    fn kth_fastest_agrees_with_sampling() -> Result<()> {
        // 2nd fastest of 4 round trips, one follower far slower: sampled
        // 200,000 times; tolerance 4 standard errors of the sample mean.
        let legs = [(1.0, 5.0), (1.0, 5.0), (1.0, 5.0), (20.0, 30.0)];
        let exact = kth_fastest_round_trip_mean(2, &legs)?;
        let mut r = stream(7, 0x6b74, 0, 0);
        let n = 200_000;
        let (mut sum, mut sq) = (0.0, 0.0);
        for _ in 0..n {
            let mut rt: Vec<f64> = legs
                .iter()
                .map(|&(lo, hi)| 2.0 * lo + (hi - lo) * (unit_f64(&mut r) + unit_f64(&mut r)))
                .collect();
            rt.sort_by(f64::total_cmp);
            sum += rt[1];
            sq += rt[1] * rt[1];
        }
        let mean = sum / n as f64;
        let se = ((sq / n as f64 - mean * mean) / n as f64).sqrt();
        assert!((mean - exact).abs() < 4.0 * se, "{mean} vs {exact} ± {se}");
        Ok(())
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(kth_fastest_round_trip_mean(0, &[(1.0, 2.0)]).is_err());
        assert!(kth_fastest_round_trip_mean(2, &[(1.0, 2.0)]).is_err());
        assert!(kth_fastest_round_trip_mean(1, &[]).is_err());
        assert!(kth_fastest_round_trip_mean(1, &[(3.0, 2.0)]).is_err());
        assert!(kth_fastest_round_trip_mean(1, &[(-1.0, 2.0)]).is_err());
        assert!(raft_commit_mean((f64::NAN, 1.0), &[(1.0, 2.0); 2]).is_err());
        assert!(kth_fastest_round_trip_mean(1, &vec![(1.0, 2.0); 64]).is_err());
    }
}
