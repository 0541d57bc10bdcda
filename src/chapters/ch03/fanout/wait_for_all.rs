//! Fan-out: a request waits for all `n` servers, so it is as slow as the
//! slowest.

use super::servers::survival;
use crate::error::{Error, Result};
use crate::sim::net::Latency;
use crate::sim::rng::{self, domain};
use crate::sim::time::{ms, SimDuration};
use serde::Serialize;

/// One fan-out width: simulated and theoretical share of slow requests.
#[derive(Debug, Clone, Serialize)]
pub struct FanoutPoint {
    /// Servers per request.
    pub n: usize,
    /// Requests simulated.
    pub requests: u64,
    /// Requests slower than the deadline.
    pub slow: u64,
    /// `1 − (1 − q)^n`.
    pub theory: f64,
}

impl FanoutPoint {
    /// The simulated fraction.
    pub fn fraction(&self) -> f64 {
        self.slow as f64 / self.requests as f64
    }
    /// 95 % binomial (normal approximation) interval of the fraction.
    pub fn interval(&self) -> (f64, f64) {
        let p = self.fraction();
        let h = 1.96 * (p * (1.0 - p) / self.requests as f64).sqrt();
        ((p - h).max(0.0), (p + h).min(1.0))
    }
}

/// Fan-out experiment: each request waits for all `n` servers; it is slow
/// if the slowest answer takes longer than `deadline`.
#[derive(Debug, Clone, Serialize)]
pub struct Fanout {
    /// Seed.
    pub seed: u64,
    /// Server latency: any [`Latency`] (e.g. [`ServerLatency::latency`](super::ServerLatency::latency), or
    /// [`two_speed`](super::two_speed) for a chosen `q`).
    pub latency: Latency,
    /// A request slower than this is slow.
    pub deadline: SimDuration,
    /// Requests per fan-out width.
    pub requests: u64,
}

impl Default for Fanout {
    /// Default servers ([`ServerLatency::default`](super::ServerLatency::default)), 100 ms deadline,
    /// 20,000 requests per point.
    fn default() -> Self {
        Fanout {
            seed: 1,
            latency: Latency::Mixture {
                weights: vec![0.99, 0.01],
                parts: vec![
                    Latency::Exponential { mean: 1e7 },
                    Latency::Exponential { mean: 1e9 },
                ],
            },
            deadline: ms(100),
            requests: 20_000,
        }
    }
}

impl Fanout {
    /// Probability that one server misses the deadline, `P(T > deadline)`
    /// ([`survival`]).
    pub fn q(&self) -> f64 {
        survival(&self.latency, self.deadline.0 as f64)
    }
    /// Simulates every width in `ns`.
    pub fn run(&self, ns: &[usize]) -> Result<Vec<FanoutPoint>> {
        if self.requests == 0 {
            return Err(Error::invalid("requests", 0, "at least 1"));
        }
        // In floats: a sum of huge widths must not wrap past the guard.
        let work: f64 = ns.iter().map(|&n| n as f64).sum::<f64>() * self.requests as f64;
        if work > 2e8 {
            return Err(Error::invalid(
                "requests × servers",
                format!("{work:.0}"),
                "at most 200 million server draws",
            ));
        }
        self.latency.validate()?;
        let lat = &self.latency;
        ns.iter()
            .map(|&n| {
                if n == 0 {
                    return Err(Error::invalid("n (servers)", 0, "at least 1"));
                }
                let mut r = rng::stream(self.seed, domain::EXPERIMENT, 300, n as u64);
                let mut slow = 0;
                for _ in 0..self.requests {
                    let mut worst = SimDuration::ZERO;
                    for _ in 0..n {
                        worst = worst.max(lat.sample(&mut r));
                    }
                    slow += (worst > self.deadline) as u64;
                }
                Ok(FanoutPoint {
                    n,
                    requests: self.requests,
                    slow,
                    theory: crate::measure::theory::fanout_slow_probability(self.q(), n)?,
                })
            })
            .collect()
    }
}
