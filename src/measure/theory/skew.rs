//! Skew: Zipf popularity of keys, and the load it puts on the hottest
//! partition or node.
//!
//! Spreading keys evenly does not spread the *load* evenly when some keys are
//! far more popular than others. With key `k` (0 the most popular) drawn
//! with probability `p_k = (k+1)^−s / H`, `H = Σ_j (j+1)^−s` (Zipf, exponent
//! `s`), a bin (partition, node) expects the sum of the probabilities of the
//! keys it serves ([`expected_shares`]), and the hottest bin carries
//! [`hottest_over_mean`] times the mean load. Chapter 2 (hot keys,
//! round-robin partitions) and chapter 7 (hashing, ranges, replicas of the
//! hottest key) draw their theory lines from these three functions.

use crate::error::{Error, Result};

/// Zipf probabilities `p_k = (k+1)^−s / H` of keys `0..keys` with exponent
/// `s` (`s = 0`: uniform); they sum to 1.
///
/// Errors: `keys` = 0 or above [`limits::ITEMS`](crate::error::limits::ITEMS);
/// `s` negative or not finite.
///
/// ```
/// let p = thinkdist::measure::theory::zipf_probabilities(2, 1.0)?;
/// assert!((p[0] - 2.0 / 3.0).abs() < 1e-15 && (p[1] - 1.0 / 3.0).abs() < 1e-15);
/// # Ok::<(), thinkdist::Error>(())
/// ```
pub fn zipf_probabilities(keys: usize, s: f64) -> Result<Vec<f64>> {
    crate::error::check_count("keys", keys, 1, crate::error::limits::ITEMS, "keys")?;
    if !(s.is_finite() && s >= 0.0) {
        return Err(Error::invalid("zipf exponent", s, "a finite number >= 0"));
    }
    let w: Vec<f64> = (1..=keys).map(|k| (k as f64).powf(-s)).collect();
    let h: f64 = w.iter().sum();
    Ok(w.into_iter().map(|x| x / h).collect())
}

/// Expected share of the requests on each bin `0..bins` (they sum to 1 when
/// every key is routed to a bin in range): key `k`, requested with
/// probability `probs[k]`, is served by one of `routes[k]` chosen uniformly
/// (one entry: a partition; several: replicas that share its reads). Bins
/// out of range are skipped.
///
/// ```
/// use thinkdist::measure::theory::expected_shares;
/// // Key 0 on bin 0, key 1 on both bins: bin 0 gets 0.5 + 0.25.
/// let s = expected_shares(&[0.5, 0.5], &[vec![0], vec![0, 1]], 2);
/// assert_eq!(s, vec![0.75, 0.25]);
/// ```
pub fn expected_shares(probs: &[f64], routes: &[Vec<usize>], bins: usize) -> Vec<f64> {
    let mut share = vec![0.0; bins];
    for (p, r) in probs.iter().zip(routes) {
        for &n in r {
            if n < bins {
                share[n] += p / r.len() as f64;
            }
        }
    }
    share
}

/// The hottest bin's load over the mean load: `n · max_j share_j` for `n`
/// bins (1 when the load is even; `n` when one bin takes everything; 0 for
/// no bins).
///
/// ```
/// use thinkdist::measure::theory::{expected_shares, hottest_over_mean, zipf_probabilities};
/// // 4 keys round-robin on 2 partitions, uniform: even load.
/// let p = zipf_probabilities(4, 0.0)?;
/// let routes: Vec<Vec<usize>> = (0..4).map(|k| vec![k % 2]).collect();
/// assert!((hottest_over_mean(&expected_shares(&p, &routes, 2)) - 1.0).abs() < 1e-15);
/// # Ok::<(), thinkdist::Error>(())
/// ```
pub fn hottest_over_mean(shares: &[f64]) -> f64 {
    shares.iter().copied().fold(0.0, f64::max) * shares.len() as f64
}
