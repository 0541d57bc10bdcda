//! Hedged requests: a second copy after a delay, the first answer wins.

use super::servers::ServerLatency;
use crate::error::{Error, Result};
use crate::measure::stats::{mean_ci, MeanCi};
use crate::retry::Hedge;
use crate::sim::rng::{self, domain};
use serde::Serialize;

/// One hedge delay: extra load and tail latency.
#[derive(Debug, Clone, Serialize)]
pub struct HedgePoint {
    /// The hedge delay in ms (`None`: no hedging).
    pub delay_ms: Option<f64>,
    /// Requests simulated, all replications together.
    pub requests: u64,
    /// Requests that sent a second copy.
    pub hedged: u64,
    /// `P(T > d)`.
    pub extra_theory: f64,
    /// Simulated p99 (ms): the mean of the replications' p99.
    pub p99: f64,
    /// Simulated p99.9 (ms): the mean of the replications' p99.9.
    pub p999: f64,
    /// The p99 over the replications: mean and 95 % interval (ms).
    pub p99_ci: MeanCi,
    /// The p99.9 over the replications: mean and 95 % interval (ms).
    pub p999_ci: MeanCi,
    /// p99 from the closed form (ms).
    pub p99_theory: f64,
    /// p99.9 from the closed form (ms).
    pub p999_theory: f64,
}

impl HedgePoint {
    /// Simulated extra load (fraction of requests hedged).
    pub fn extra(&self) -> f64 {
        self.hedged as f64 / self.requests as f64
    }
}

/// Hedged requests against a baseline without hedging.
#[derive(Debug, Clone, Serialize)]
pub struct Hedging {
    /// Seed.
    pub seed: u64,
    /// Server latency.
    pub server: ServerLatency,
    /// Requests per delay in each replication.
    pub requests: u64,
    /// Independent replications per delay (seeds `seed`, `seed + 1`, ...):
    /// a percentile from one run is an anecdote; the spread of the
    /// replications' percentiles gives its interval.
    pub replications: u64,
}

impl Default for Hedging {
    /// Default servers, 10 replications of 100,000 requests per delay.
    fn default() -> Self {
        Hedging {
            seed: 1,
            server: ServerLatency::default(),
            requests: 100_000,
            replications: 10,
        }
    }
}

fn quantile(sorted: &[u64], q: f64) -> f64 {
    let i = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i] as f64 / 1e6
}

impl Hedging {
    /// Simulates no hedging, then each delay in `delays_ms`.
    pub fn run(&self, delays_ms: &[f64]) -> Result<Vec<HedgePoint>> {
        if self.requests < 1000 || self.requests > 10_000_000 {
            return Err(Error::invalid(
                "requests",
                self.requests,
                "1,000 to 10 million (p99.9 needs at least 1,000)",
            ));
        }
        if let Some(d) = delays_ms.iter().find(|d| !(d.is_finite() && **d > 0.0)) {
            return Err(Error::invalid(
                "delays_ms",
                d,
                "delays > 0 ms (the chart's delay axis is logarithmic)",
            ));
        }
        crate::measure::stats::check_replications(self.replications)?;
        if self.requests as f64 * self.replications as f64 * (delays_ms.len() + 1) as f64 > 2e8 {
            return Err(Error::invalid(
                "requests × replications × delays",
                format!(
                    "{:.0}",
                    self.requests as f64 * self.replications as f64 * (delays_ms.len() + 1) as f64
                ),
                "at most 200 million requests",
            ));
        }
        let lat = self.server.latency()?;
        let mut plan: Vec<Option<f64>> = vec![None];
        plan.extend(delays_ms.iter().map(|&d| Some(d)));
        plan.iter()
            .enumerate()
            .map(|(k, &d)| {
                let hedge = match d {
                    Some(d) => Some(Hedge::from_ms(d)?),
                    None => None,
                };
                let mut hedged = 0;
                let (mut p99s, mut p999s) = (Vec::new(), Vec::new());
                let mut lats = Vec::with_capacity(self.requests as usize);
                for rep in 0..self.replications {
                    let seed = self.seed.wrapping_add(rep);
                    let mut r = rng::stream(seed, domain::EXPERIMENT, 310, k as u64);
                    lats.clear();
                    for _ in 0..self.requests {
                        let primary = lat.sample(&mut r);
                        let l = match &hedge {
                            Some(h) => {
                                let o = h.resolve(primary, || lat.sample(&mut r));
                                hedged += o.hedged as u64;
                                o.latency
                            }
                            None => primary,
                        };
                        lats.push(l.0);
                    }
                    lats.sort_unstable();
                    p99s.push(quantile(&lats, 0.99));
                    p999s.push(quantile(&lats, 0.999));
                }
                let p99_ci = mean_ci(&p99s)?;
                let p999_ci = mean_ci(&p999s)?;
                Ok(HedgePoint {
                    delay_ms: d,
                    requests: self.requests * self.replications,
                    hedged,
                    extra_theory: d.map_or(0.0, |d| self.server.survival(d)),
                    p99: p99_ci.mean,
                    p999: p999_ci.mean,
                    p99_ci,
                    p999_ci,
                    p99_theory: self.server.hedged_quantile(0.99, d),
                    p999_theory: self.server.hedged_quantile(0.999, d),
                })
            })
            .collect()
    }
}
