//! Closed forms for replication (chapter 8): how long a write or a read
//! waits for k of n replicas, how likely a partial quorum reads a stale
//! value (Probabilistically Bounded Staleness), what asynchronous shipping
//! and last-writer-wins lose.
//!
//! **Waiting for k of n.** A leader (or a coordinator) sends to n replicas
//! at once and waits for the k-th answer. With independent round trips of
//! CDF F, the k-th smallest of n has
//! `P(T_(k) ≤ t) = Σ_{j=k..n} C(n, j) F(t)^j (1 − F(t))^(n − j)`:
//! synchronous replication waits for all (k = n, `F(t)^n`, the slowest),
//! semi-synchronous for one (k = 1, `1 − (1 − F(t))^n`, the fastest), a
//! quorum write for W. [`KOfN`] does this for round trips of two
//! exponential messages of mean m, `F(t) = 1 − e^(−t/m) (1 + t/m)`.
//!
//! **Probabilistically Bounded Staleness** (Bailis, Venkataraman, Franklin,
//! Hellerstein and Stoica, VLDB 2012). With N replicas, writes acknowledged
//! by W and reads answered by R, a read quorum chosen independently of the
//! write quorum misses it with probability `p_s = C(N − W, R) / C(N, R)`
//! ([`pbs_miss`]); a read then sees one of the last k versions with
//! probability at least `1 − p_s^k` ([`pbs_k_staleness`]). Writes keep
//! spreading after their commit, so the chance of a fresh read grows with
//! the time t since the commit: the *t-visibility* of the WARS model
//! ([`pbs_t_visibility`], by Monte Carlo; exactly 1 when R + W > N).
//!
//! ```
//! use thinkdist::measure::theory;
//! // N = 3, R = W = 1: a read misses the one replica that acknowledged
//! // with probability 2/3.
//! assert!((theory::pbs_miss(3, 1, 1)? - 2.0 / 3.0).abs() < 1e-12);
//! assert_eq!(theory::pbs_miss(3, 2, 2)?, 0.0); // R + W > N: always overlap
//! // Synchronous replication to 3 followers waits for the slowest.
//! let sync = theory::KOfN::new(3, 3, 5.0)?;
//! let semi = theory::KOfN::new(1, 3, 5.0)?;
//! assert!(sync.mean() > 2.0 * semi.mean());
//! # Ok::<(), thinkdist::Error>(())
//! ```

use super::tails::simpson;
use crate::error::{check_count, check_non_negative, check_positive, Error, Result};
use crate::sim::latency::Latency;
use crate::sim::rng::{self, domain};
use serde::Serialize;

/// Most replicas the quorum formulas accept (the binomial sums are exact
/// far beyond it; this guards a typo).
pub const MAX_REPLICAS: usize = 1_000;

/// `C(n, k)` as a float (0 when `k > n`), exact for the sizes accepted here
/// up to rounding.
fn choose(n: usize, k: usize) -> f64 {
    if k > n {
        return 0.0;
    }
    let k = k.min(n - k);
    let mut c = 1.0f64;
    for i in 0..k {
        c = c * (n - i) as f64 / (i + 1) as f64;
    }
    c
}

/// Checks `1 <= k <= n <= MAX_REPLICAS`, naming `what` for k.
fn check_k_n(k_name: &str, k: usize, n: usize) -> Result<()> {
    check_count("n (replicas)", n, 1, MAX_REPLICAS, "replicas")?;
    if k == 0 || k > n {
        return Err(Error::invalid(
            k_name,
            k,
            &format!("a number of replicas from 1 to n = {n}"),
        ));
    }
    Ok(())
}

/// `P(T_(k) ≤ t)` for the k-th smallest of n independent times of CDF
/// value `p = F(t)`: `Σ_{j=k..n} C(n, j) p^j (1 − p)^(n − j)`.
///
/// Errors: `k` outside `1..=n`, `n` outside `1..=1000`, `p` not a
/// probability.
pub fn k_of_n_cdf(k: usize, n: usize, p: f64) -> Result<f64> {
    check_k_n("k", k, n)?;
    crate::error::check_probability("p", p)?;
    Ok(k_of_n(k, n, p))
}

fn k_of_n(k: usize, n: usize, p: f64) -> f64 {
    if p <= 0.0 {
        return 0.0;
    }
    if p >= 1.0 {
        return 1.0;
    }
    let s: f64 = (k..=n)
        .map(|j| choose(n, j) * p.powi(j as i32) * (1.0 - p).powi((n - j) as i32))
        .sum();
    s.clamp(0.0, 1.0)
}

/// The wait for the k-th of n round trips, each two independent
/// exponential messages of mean `mean_ms`; see the [module docs](self).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct KOfN {
    /// Answers waited for.
    pub k: usize,
    /// Round trips started.
    pub n: usize,
    /// Mean of one message (ms).
    pub mean_ms: f64,
}

impl KOfN {
    /// Errors: `k` outside `1..=n`, `n` outside `1..=1000`, a mean that is
    /// not a finite time between 1 ns and 10^9 ms.
    pub fn new(k: usize, n: usize, mean_ms: f64) -> Result<KOfN> {
        check_k_n("k", k, n)?;
        if !(mean_ms.is_finite() && (1e-6..=1e9).contains(&mean_ms)) {
            return Err(Error::invalid(
                "mean_ms",
                mean_ms,
                "a mean message time from 1e-6 to 1e9 ms",
            ));
        }
        Ok(KOfN { k, n, mean_ms })
    }

    /// CDF of one round trip: `1 − e^(−t/m) (1 + t/m)`.
    pub fn round_trip_cdf(&self, t_ms: f64) -> f64 {
        if t_ms.is_nan() || t_ms <= 0.0 {
            return 0.0;
        }
        let x = t_ms / self.mean_ms;
        (1.0 - (-x).exp() * (1.0 + x)).clamp(0.0, 1.0)
    }

    /// `P(wait ≤ t)`.
    pub fn cdf(&self, t_ms: f64) -> f64 {
        k_of_n(self.k, self.n, self.round_trip_cdf(t_ms))
    }

    /// The mean wait, `∫ (1 − cdf(t)) dt`, by Simpson's rule (relative
    /// error far below 10⁻⁶).
    pub fn mean(&self) -> f64 {
        // Past this, 1 − cdf ≤ n (1 − F) < 1e-15.
        let end = self.mean_ms * (60.0 + (self.n as f64).ln());
        simpson(|t| 1.0 - self.cdf(t), end)
    }

    /// The q-quantile of the wait, by bisection. Errors: `q` outside (0, 1).
    pub fn quantile(&self, q: f64) -> Result<f64> {
        if !(q > 0.0 && q < 1.0) {
            return Err(Error::invalid(
                "q",
                q,
                "a quantile strictly between 0 and 1",
            ));
        }
        let (mut lo, mut hi) = (0.0, self.mean_ms);
        let mut doublings = 0;
        while self.cdf(hi) < q {
            hi *= 2.0;
            doublings += 1;
            if doublings > 200 {
                return Err(Error::invalid(
                    "q",
                    q,
                    "a quantile the wait reaches (q too close to 1)",
                ));
            }
        }
        for _ in 0..200 {
            let mid = 0.5 * (lo + hi);
            if self.cdf(mid) < q {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        Ok(0.5 * (lo + hi))
    }
}

/// Checks an (N, R, W) configuration: `1 <= R, W <= N <= 1000`.
pub fn check_nrw(n: usize, r: usize, w: usize) -> Result<()> {
    check_count("N (replicas)", n, 1, MAX_REPLICAS, "replicas")?;
    check_k_n("R (read quorum)", r, n)?;
    check_k_n("W (write quorum)", w, n)
}

/// PBS: the probability that a read quorum of R replicas, drawn uniformly
/// and independently of the write quorum, misses all W replicas that
/// acknowledged a write: `C(N − W, R) / C(N, R)` (0 when R + W > N).
///
/// Why: with R + W ≤ N the quorums need not overlap; this is the chance
/// that they do not, if the write had reached only its W replicas. Writes
/// spread further after their commit, so it bounds the stale-read
/// probability of any read after the commit from above.
pub fn pbs_miss(n: usize, r: usize, w: usize) -> Result<f64> {
    check_nrw(n, r, w)?;
    if r + w > n {
        return Ok(0.0);
    }
    Ok(choose(n - w, r) / choose(n, r))
}

/// PBS k-staleness: the probability that a read returns one of the last
/// `k` versions when every version was written to W replicas and the read
/// asks R, `1 − p_s^k` with `p_s` = [`pbs_miss`] (Bailis et al. 2012,
/// section 3). `k = 1`: the probability of reading the latest write, a
/// lower bound for reads after its commit.
///
/// Errors: as [`pbs_miss`], or `k` outside `1..=1,000,000`.
pub fn pbs_k_staleness(n: usize, r: usize, w: usize, k: usize) -> Result<f64> {
    check_count("k (versions)", k, 1, 1_000_000, "versions")?;
    let ps = pbs_miss(n, r, w)?;
    Ok(1.0 - ps.powi(k as i32))
}

/// The four one-way delays of the WARS model: the write to a replica (W),
/// its acknowledgement (A), the read request (R) and the response (S).
/// Each replica draws its own, independently.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Wars {
    /// Coordinator → replica, for the write.
    pub write: Latency,
    /// Replica → coordinator, the write's acknowledgement.
    pub ack: Latency,
    /// Coordinator → replica, the read request.
    pub read: Latency,
    /// Replica → coordinator, the read's response.
    pub response: Latency,
}

impl Wars {
    /// The same delay distribution on all four legs.
    pub fn uniform_legs(l: Latency) -> Wars {
        Wars {
            write: l.clone(),
            ack: l.clone(),
            read: l.clone(),
            response: l,
        }
    }
}

/// PBS t-visibility by Monte Carlo of the WARS model (Bailis et al. 2012,
/// section 4): the probability that a read issued `t` ms after a write's
/// commit returns it, for each `t` in `t_ms`, from `trials` simulated
/// write-then-read pairs (the same draws at every `t`).
///
/// One trial: replica i receives the write at `W_i` and its ack returns at
/// `W_i + A_i`; the write commits at the W-th smallest ack. A read starts
/// `t` later, reaches replica i at `commit + t + R_i` and its answer returns
/// `S_i` after that; the read takes the first R answers and is fresh if one
/// of those replicas had the write when the read reached it
/// (`W_i ≤ commit + t + R_i`). Exactly 1 when R + W > N (no trial is run).
/// The standard error of each value is at most `0.5 / √trials`.
///
/// Errors: an invalid (N, R, W) ([`check_nrw`]), invalid latencies, a
/// negative or non-finite `t`, more than 1,000 values of `t`, `trials`
/// outside `1..=10^7`, or more than 10^8 replica draws in all.
pub fn pbs_t_visibility(
    n: usize,
    r: usize,
    w: usize,
    legs: &Wars,
    t_ms: &[f64],
    trials: usize,
    seed: u64,
) -> Result<Vec<f64>> {
    check_nrw(n, r, w)?;
    for l in [&legs.write, &legs.ack, &legs.read, &legs.response] {
        l.validate()?;
    }
    check_count("t values", t_ms.len(), 1, 1_000, "values of t")?;
    for &t in t_ms {
        check_non_negative("t (ms)", t)?;
    }
    check_count("trials", trials, 1, 10_000_000, "trials")?;
    let work = trials as f64 * n as f64 * (4.0 + t_ms.len() as f64);
    crate::error::check_work("trials × N × values of t", work)?;
    if r + w > n {
        return Ok(vec![1.0; t_ms.len()]);
    }
    let mut rng = rng::stream(seed, domain::EXPERIMENT, 0x9b5, 0);
    let ms = |l: &Latency, rng: &mut crate::sim::rng::SimRng| l.sample(rng).as_ms();
    let mut fresh = vec![0u64; t_ms.len()];
    let (mut wi, mut acks, mut ri, mut answer) =
        (vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    let mut order: Vec<usize> = (0..n).collect();
    for _ in 0..trials {
        for i in 0..n {
            wi[i] = ms(&legs.write, &mut rng);
            acks[i] = wi[i] + ms(&legs.ack, &mut rng);
            ri[i] = ms(&legs.read, &mut rng);
            answer[i] = ri[i] + ms(&legs.response, &mut rng);
        }
        let mut sorted = acks.clone();
        sorted.sort_by(f64::total_cmp);
        let commit = sorted[w - 1];
        // The first R answers do not depend on t.
        order.sort_by(|&a, &b| answer[a].total_cmp(&answer[b]).then(a.cmp(&b)));
        for (k, &t) in t_ms.iter().enumerate() {
            if order[..r].iter().any(|&i| wi[i] <= commit + t + ri[i]) {
                fresh[k] += 1;
            }
        }
    }
    Ok(fresh.iter().map(|&f| f as f64 / trials as f64).collect())
}

/// Asynchronous shipping in batches every `batch_ms`: a leader that crashes
/// at a uniformly random time loses the writes it acknowledged since its
/// last shipment, on average `rate × batch / 2` (writes per ms × ms).
///
/// Errors: a negative or non-finite rate or batch.
pub fn async_batch_loss(rate_per_ms: f64, batch_ms: f64) -> Result<f64> {
    check_non_negative("rate (writes per ms)", rate_per_ms)?;
    check_non_negative("batch (ms)", batch_ms)?;
    Ok(rate_per_ms * batch_ms / 2.0)
}

/// Last-writer-wins under clock skew: the probability that a write stamped
/// by a clock `skew_ms` behind the previous writer's is discarded, when it
/// reaches its coordinator `fixed_ms` plus an exponential think time of mean
/// `think_ms` after the previous one (`1 − e^(−(skew − fixed)/think)` when
/// skew > fixed, else 0). The later write loses whenever it arrives within
/// the skew: its timestamp is then smaller although it came after.
///
/// Errors: negative or non-finite values, or `think_ms = 0`.
pub fn lww_loss_probability(skew_ms: f64, fixed_ms: f64, think_ms: f64) -> Result<f64> {
    check_non_negative("skew (ms)", skew_ms)?;
    check_non_negative("fixed delay (ms)", fixed_ms)?;
    check_positive("think time (ms)", think_ms)?;
    if skew_ms <= fixed_ms {
        return Ok(0.0);
    }
    Ok(-(-(skew_ms - fixed_ms) / think_ms).exp_m1())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn k_of_n_ends_are_max_and_min() {
        let p = 0.3;
        assert!((k_of_n(3, 3, p) - p.powi(3)).abs() < 1e-15);
        assert!((k_of_n(1, 3, p) - (1.0 - (1.0 - p).powi(3))).abs() < 1e-15);
    }

    #[test]
    fn pbs_miss_matches_counting() {
        // N = 5, R = 2, W = 2: of C(5,2) = 10 read pairs, C(3,2) = 3 miss.
        assert!((pbs_miss(5, 2, 2).unwrap() - 0.3).abs() < 1e-12);
        assert!(pbs_miss(3, 0, 1).is_err());
        assert!(pbs_miss(3, 1, 4).is_err());
    }
}
