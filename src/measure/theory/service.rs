//! Closed forms for chapter 12's services: load balancing (the supermarket
//! model of power of d choices, round robin as a GI/M/1 queue), retry
//! storms, adaptive throttling, and the availability of composed services.
//!
//! Units as in [`crate::measure::theory`]: rates per second, times in
//! seconds.
//!
//! ```
//! use thinkdist::measure::theory::service as th;
//!
//! // Power of two choices at 90 % load: in the limit of many servers a share
//! // λ^(2²−1) = 0.9³ of the queues hold at least 2 jobs (0.9² at random).
//! assert!((th::supermarket_fraction(0.9, 2, 2)? - 0.9f64.powi(3)).abs() < 1e-12);
//! let m = th::supermarket(0.9, 100.0, 2)?;
//! assert!(m.mean < th::supermarket(0.9, 100.0, 1)?.mean); // two choices beat one
//! // Two services in series, each up 99 %: 98.01 %.
//! assert!((th::series(&[0.99, 0.99])? - 0.9801).abs() < 1e-12);
//! # Ok::<(), thinkdist::Error>(())
//! ```

use crate::error::{check_count, check_positive, check_probability, Error, Result};
use crate::sim::metrics::latency::check_fraction;
use serde::Serialize;
use std::collections::BTreeMap;

/// Most choices `d` the supermarket functions accept.
pub const MAX_CHOICES: usize = 1_000;

fn check_load(rho: f64) -> Result<f64> {
    if rho.is_finite() && rho > 0.0 && rho < 1.0 {
        Ok(rho)
    } else {
        Err(Error::invalid(
            "load",
            rho,
            "a load per server in (0, 1) (at 1 or more the queues grow without bound)",
        ))
    }
}

/// The supermarket model (Mitzenmacher, *The Power of Two Choices in
/// Randomized Load Balancing*, 1996/2001; Vvedenskaya, Dobrushin and
/// Karpelevich, 1996): `n` FIFO servers with exponential service, Poisson
/// arrivals at rate `λn`, each arrival joins the shortest of `d` servers
/// drawn at random. As `n → ∞` the fraction of servers with at least `i`
/// jobs tends to `λ^((dⁱ − 1)/(d − 1))` (`λⁱ` for `d = 1`, M/M/1): doubly
/// exponential in `i` for `d ≥ 2`, which is why two choices do so much
/// better than one.
pub fn supermarket_fraction(rho: f64, d: usize, i: u32) -> Result<f64> {
    check_load(rho)?;
    check_count("choices d", d, 1, MAX_CHOICES, "choices")?;
    Ok(rho.powf(exponent(d, i)))
}

/// `(dⁱ − 1)/(d − 1)`, or `i` for `d = 1`.
fn exponent(d: usize, i: u32) -> f64 {
    if d == 1 {
        f64::from(i)
    } else {
        let d = d as f64;
        (d.powf(f64::from(i)) - 1.0) / (d - 1.0)
    }
}

/// The limit `n → ∞` of the supermarket model at load `rho` per server,
/// service rate `mu`, `d` choices: the time in system.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Supermarket {
    /// Load per server λ.
    pub rho: f64,
    /// Service rate μ of a server (per second).
    pub mu: f64,
    /// Choices per arrival.
    pub d: usize,
    /// Mean time in system (s): `Σ_{i≥1} λ^((dⁱ − d)/(d − 1)) / μ`.
    pub mean: f64,
}

/// The supermarket model's time in system; see [`supermarket_fraction`].
/// `d = 1` is random assignment, M/M/1 at load `rho`.
pub fn supermarket(rho: f64, mu: f64, d: usize) -> Result<Supermarket> {
    check_load(rho)?;
    check_positive("mu (service rate, per second)", mu)?;
    check_count("choices d", d, 1, MAX_CHOICES, "choices")?;
    let mut mean = 0.0;
    for k in 0..100_000u32 {
        // P(the shortest of d has >= k jobs) = s_k^d.
        let term = rho.powf(d as f64 * exponent(d, k));
        mean += term;
        if term < 1e-17 {
            break;
        }
    }
    Ok(Supermarket {
        rho,
        mu,
        d,
        mean: mean / mu,
    })
}

impl Supermarket {
    /// `P(T > t)` for the time in system `T` (t in seconds). An arrival
    /// joins a queue of `k` jobs with probability `s_k^d − s_{k+1}^d`, and
    /// then waits for `k + 1` exponential services (FIFO, memoryless):
    /// `P(T > t) = Σ_k (s_k^d − s_{k+1}^d) · P(Erlang(k + 1, μ) > t)`.
    pub fn tail(&self, t: f64) -> f64 {
        // A NaN time counts as no time passed.
        if t.is_nan() || t <= 0.0 {
            return 1.0;
        }
        let x = self.mu * t;
        if !x.is_finite() {
            return 0.0; // an infinite wait: every job has left
        }
        let d = self.d as f64;
        // P(Erlang(k+1, μ) > t) = Σ_{j=0..k} e^{−x} x^j / j!
        let mut poisson_term = (-x).exp();
        let mut erlang_tail = poisson_term;
        let mut total = 0.0;
        for k in 0..100_000u32 {
            let sk = self.rho.powf(d * exponent(self.d, k));
            let sk1 = self.rho.powf(d * exponent(self.d, k + 1));
            total += (sk - sk1) * erlang_tail;
            if sk1 < 1e-17 {
                break;
            }
            poisson_term *= x / f64::from(k + 1);
            erlang_tail += poisson_term;
        }
        total.clamp(0.0, 1.0)
    }

    /// The `q`-th percentile (a fraction: 0.99 for p99) of the time in system (s), by
    /// bisection on [`Supermarket::tail`].
    pub fn percentile(&self, q: f64) -> Result<f64> {
        percentile_of(q, self.mean, |t| self.tail(t))
    }
}

fn percentile_of(q: f64, mean: f64, tail: impl Fn(f64) -> f64) -> Result<f64> {
    let target = 1.0 - check_fraction("q", q, false)?;
    let mut hi = mean.max(1e-12);
    for _ in 0..2_000 {
        if tail(hi) <= target {
            break;
        }
        hi *= 2.0;
    }
    let mut lo = 0.0;
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

/// Round robin over `servers` servers fed by Poisson arrivals: each server
/// gets every `n`-th arrival, so its gaps are Erlang(`n`) and it is a GI/M/1
/// queue. Its time in system is exponential with rate `μ(1 − σ)`, where σ
/// in (0, 1) solves `σ = (nλ / (nλ + μ(1 − σ)))ⁿ` (λ = `rho`·μ per server;
/// Kleinrock, *Queueing Systems* vol. 1, §6.4).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RoundRobin {
    /// Load per server.
    pub rho: f64,
    /// Service rate (per second).
    pub mu: f64,
    /// Servers in the rotation.
    pub servers: usize,
    /// The root σ (the probability an arrival finds the server busy).
    pub sigma: f64,
    /// Mean time in system (s), `1/(μ(1 − σ))`.
    pub mean: f64,
}

/// Round robin's GI/M/1 queue; see [`RoundRobin`]. One server is M/M/1.
pub fn round_robin(rho: f64, mu: f64, servers: usize) -> Result<RoundRobin> {
    check_load(rho)?;
    check_positive("mu (service rate, per second)", mu)?;
    check_count("servers", servers, 1, 1_000_000, "servers")?;
    let n = servers as f64;
    // With Λ = nλ = nρμ, Λ / (Λ + μ(1 − σ)) = nρ / (nρ + 1 − σ): μ cancels,
    // so a huge μ cannot overflow it. The fixed point iteration from 0
    // increases to the root below 1.
    let n_rho = n * rho;
    let mut sigma = 0.0f64;
    for _ in 0..100_000 {
        let next = (n_rho / (n_rho + (1.0 - sigma))).powf(n);
        if (next - sigma).abs() < 1e-15 {
            sigma = next;
            break;
        }
        sigma = next;
    }
    Ok(RoundRobin {
        rho,
        mu,
        servers,
        sigma,
        mean: 1.0 / (mu * (1.0 - sigma)),
    })
}

impl RoundRobin {
    /// `P(T > t)`: exponential with rate `μ(1 − σ)`.
    pub fn tail(&self, t: f64) -> f64 {
        (-t.max(0.0) / self.mean).exp()
    }

    /// The `q`-th percentile (a fraction: 0.99 for p99) of the time in system (s).
    pub fn percentile(&self, q: f64) -> Result<f64> {
        Ok(-self.mean * (1.0 - check_fraction("q", q, false)?).ln())
    }
}

/// Whether a service at load `rho` (per worker, < 1) can be held down by its
/// own retries: once every attempt times out, each request is sent
/// `attempts` times, and the offered work `attempts · rho` exceeds capacity
/// when it is over 1. Returns that offered work.
pub fn storm_load(rho: f64, attempts: u32) -> Result<f64> {
    check_positive("load", rho)?;
    if attempts == 0 {
        return Err(Error::invalid("attempts", 0, "at least 1"));
    }
    Ok(rho * f64::from(attempts))
}

/// How fast the queue grows once every attempt times out (jobs per
/// second): `attempts · λ − capacity` (negative: it drains).
pub fn storm_queue_growth(arrival_rate: f64, attempts: u32, capacity: f64) -> Result<f64> {
    check_positive("arrival_rate", arrival_rate)?;
    check_positive("capacity", capacity)?;
    Ok(storm_load(arrival_rate, attempts)? - capacity)
}

/// Adaptive throttling in steady state: with `demand` requests per second
/// and `accepted` of them accepted by the backend, the client sends
/// `min(demand, K · accepted)` (the probability `max(0, (R − K·A)/(R + 1))`
/// makes sends ≈ K·A once demand exceeds it).
pub fn throttled_send_rate(demand: f64, accepted: f64, k: f64) -> Result<f64> {
    check_positive("demand", demand)?;
    crate::error::check_non_negative("accepted", accepted)?;
    check_positive("K", k)?;
    Ok(demand.min(k * accepted))
}

/// Adaptive throttling after an outage: how long (s) a client whose window
/// holds no accepts takes to send a share `share` of its requests again,
/// once the backend is healthy. With `R = λW` requests in the window and
/// `A` accepts, a request is sent with probability `(1 + K·A)/(R + 1)`, and
/// every sent request is accepted while accepts older than `W` leave the
/// window: `dA/dt ≈ (1 + (K − 1)·A)/W`, so `A` grows exponentially with time
/// constant `W/(K − 1)` (linearly for `K = 1`), and the send probability
/// reaches `share` at `A = (share·(R + 1) − 1)/K`:
/// `t = W/(K − 1) · ln(1 + (K − 1)·A)`. The client's own rejections starve
/// it of the accepts it needs to open up again.
pub fn throttle_recovery(rate: f64, window: f64, k: f64, share: f64) -> Result<f64> {
    check_positive("rate", rate)?;
    check_positive("window (s)", window)?;
    if !(k.is_finite() && k >= 1.0) {
        return Err(Error::invalid("K", k, "a multiplier >= 1"));
    }
    if !(share.is_finite() && share > 0.0 && share <= 1.0) {
        return Err(Error::invalid(
            "share",
            share,
            "a share of requests sent in (0, 1]",
        ));
    }
    let r = rate * window;
    if !r.is_finite() {
        return Err(Error::invalid(
            "rate × window",
            crate::error::num(r),
            "a finite number of requests in the window: lower the rate or the window",
        ));
    }
    let a = ((share * (r + 1.0) - 1.0) / k).max(0.0);
    Ok(if k == 1.0 {
        window * a
    } else {
        window / (k - 1.0) * (1.0 + (k - 1.0) * a).ln()
    })
}

/// Availability of services in series (all must be up): `Π aᵢ`.
pub fn series(a: &[f64]) -> Result<f64> {
    check_parts(a)?;
    Ok(a.iter().product())
}

/// Availability of replicas in parallel (any one suffices): `1 − Π (1 − aᵢ)`.
pub fn parallel(a: &[f64]) -> Result<f64> {
    check_parts(a)?;
    Ok(1.0 - a.iter().map(|x| 1.0 - x).product::<f64>())
}

fn check_parts(a: &[f64]) -> Result<()> {
    if a.is_empty() {
        return Err(Error::empty("availabilities"));
    }
    for &x in a {
        check_probability("availability", x)?;
    }
    Ok(())
}

/// The chance that a request succeeds when it tries up to `attempts`
/// distinct replicas of `replicas`, each up with probability `a`
/// independently and staying as it is for the request's duration:
/// `1 − (1 − a)^min(attempts, replicas)`.
pub fn retry_across_replicas(a: f64, attempts: u32, replicas: usize) -> Result<f64> {
    check_probability("availability", a)?;
    if attempts == 0 || replicas == 0 {
        return Err(Error::invalid(
            "attempts and replicas",
            format!("{attempts} and {replicas}"),
            "at least 1 each",
        ));
    }
    let k = (attempts as usize).min(replicas) as i32;
    Ok(1.0 - (1.0 - a).powi(k))
}

/// Most parts a [`Block`] may share between branches (its availability is
/// computed over every up/down combination of the shared parts).
pub const MAX_SHARED: usize = 20;

/// A service built from parts: which parts must be up for it to be up.
/// Parts are numbered; a part may appear in several branches (a database
/// two services depend on), and [`Block::availability`] accounts for that.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Block {
    /// Part `i`.
    Part(usize),
    /// Up when all are up.
    Series(Vec<Block>),
    /// Up when any is up.
    Parallel(Vec<Block>),
    /// Up when at least `k` are up.
    AtLeast(usize, Vec<Block>),
}

impl Block {
    /// Is the service up when `up(i)` says which parts are?
    pub fn is_up(&self, up: &impl Fn(usize) -> bool) -> bool {
        match self {
            Block::Part(i) => up(*i),
            Block::Series(v) => v.iter().all(|b| b.is_up(up)),
            Block::Parallel(v) => v.iter().any(|b| b.is_up(up)),
            Block::AtLeast(k, v) => v.iter().filter(|b| b.is_up(up)).count() >= *k,
        }
    }

    /// How often each part appears, by part number.
    pub fn parts(&self) -> BTreeMap<usize, usize> {
        let mut m = BTreeMap::new();
        self.count_parts(&mut m);
        m
    }

    fn count_parts(&self, m: &mut BTreeMap<usize, usize>) {
        match self {
            Block::Part(i) => *m.entry(*i).or_insert(0) += 1,
            Block::Series(v) | Block::Parallel(v) | Block::AtLeast(_, v) => {
                v.iter().for_each(|b| b.count_parts(m))
            }
        }
    }

    /// Checks that every group is non-empty, `k` fits its group, and the
    /// parts are numbered below `n`.
    pub fn validate(&self, n: usize) -> Result<()> {
        match self {
            Block::Part(i) => crate::error::check_node("part", *i, n),
            Block::Series(v) | Block::Parallel(v) => {
                if v.is_empty() {
                    return Err(Error::empty("block group"));
                }
                v.iter().try_for_each(|b| b.validate(n))
            }
            Block::AtLeast(k, v) => {
                check_count(
                    "k of AtLeast",
                    *k,
                    1,
                    v.len().max(1),
                    "parts (its group's size)",
                )?;
                v.iter().try_for_each(|b| b.validate(n))
            }
        }
    }

    /// The exact steady-state availability when part `i` is up with
    /// probability `a[i]`, independently: the series/parallel/k-of-n
    /// formulas, conditioned on every combination of the parts that appear
    /// more than once (at most [`MAX_SHARED`] of them).
    pub fn availability(&self, a: &[f64]) -> Result<f64> {
        self.validate(a.len())?;
        for &x in a {
            check_probability("availability", x)?;
        }
        let shared: Vec<usize> = self
            .parts()
            .into_iter()
            .filter(|&(_, c)| c > 1)
            .map(|(i, _)| i)
            .collect();
        if shared.len() > MAX_SHARED {
            return Err(Error::too_big(
                "shared parts",
                shared.len(),
                "parts that appear in more than one branch",
                MAX_SHARED,
            ));
        }
        let mut fixed: Vec<Option<bool>> = vec![None; a.len()];
        let mut total = 0.0;
        for mask in 0u64..(1u64 << shared.len()) {
            let mut w = 1.0;
            for (j, &i) in shared.iter().enumerate() {
                let up = mask >> j & 1 == 1;
                fixed[i] = Some(up);
                w *= if up { a[i] } else { 1.0 - a[i] };
            }
            total += w * self.given(a, &fixed);
        }
        Ok(total)
    }

    /// Availability with some parts' states fixed; the free parts appear
    /// once each, so the branches are independent.
    fn given(&self, a: &[f64], fixed: &[Option<bool>]) -> f64 {
        match self {
            Block::Part(i) => match fixed[*i] {
                Some(true) => 1.0,
                Some(false) => 0.0,
                None => a[*i],
            },
            Block::Series(v) => v.iter().map(|b| b.given(a, fixed)).product(),
            Block::Parallel(v) => 1.0 - v.iter().map(|b| 1.0 - b.given(a, fixed)).product::<f64>(),
            Block::AtLeast(k, v) => {
                // P(exactly j of the branches up), one branch at a time.
                let mut p = vec![0.0; v.len() + 1];
                p[0] = 1.0;
                for (n, b) in v.iter().enumerate() {
                    let q = b.given(a, fixed);
                    for j in (0..=n + 1).rev() {
                        let stay = p[j] * (1.0 - q);
                        let rise = if j > 0 { p[j - 1] * q } else { 0.0 };
                        p[j] = stay + rise;
                    }
                }
                p[*k..].iter().sum()
            }
        }
    }
}
