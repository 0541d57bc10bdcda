//! Workloads: when requests arrive.
//!
//! An **open-loop** workload sends requests on its own schedule, whatever the
//! system does (Poisson arrivals: the M in M/M/1); it is how a public service
//! sees the internet, and it is what makes queues grow without bound when the
//! load passes capacity. A **closed-loop** workload has a fixed number of
//! clients, each sending its next request only after the previous answer and
//! a think time; it can never overload the system, which is why closed-loop
//! benchmarks hide tail latency (coordinated omission).

use crate::error::{Error, Result};
use crate::sim::net::Latency;
use crate::sim::rng::{self, SimRng};
use crate::sim::time::SimDuration;
use serde::{Deserialize, Serialize};

/// Inter-arrival times of an open-loop workload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Arrivals {
    /// A Poisson process: exponential gaps with mean `1 / rate`.
    Poisson {
        /// Requests per second.
        rate: f64,
    },
    /// One request every `interval`.
    Periodic {
        /// The gap between requests.
        interval: SimDuration,
    },
}

impl Arrivals {
    /// Poisson arrivals at `rate` requests per second (> 0).
    pub fn poisson(rate: f64) -> Result<Arrivals> {
        // The same bound as an exponential latency's: a mean gap of at most
        // 1e18 ns.
        crate::sim::Latency::exponential_rate_named("arrival rate (requests/s)", rate)?;
        Ok(Arrivals::Poisson { rate })
    }
    /// One request every `interval` (> 0).
    pub fn periodic(interval: SimDuration) -> Result<Arrivals> {
        if interval.0 == 0 {
            return Err(Error::invalid(
                "arrival interval",
                interval,
                "a duration > 0",
            ));
        }
        Ok(Arrivals::Periodic { interval })
    }
    /// The mean rate in requests per second.
    pub fn rate(&self) -> f64 {
        match self {
            Arrivals::Poisson { rate } => *rate,
            Arrivals::Periodic { interval } => 1e9 / interval.0 as f64,
        }
    }
    /// Draws the gap to the next request.
    #[inline]
    pub fn next_gap(&self, rng: &mut SimRng) -> SimDuration {
        match self {
            Arrivals::Poisson { rate } => {
                let e = crate::sim::rng::exp1(rng);
                SimDuration::from_nanos_f64_saturating(e * 1e9 / rate)
            }
            Arrivals::Periodic { interval } => *interval,
        }
    }
}

/// A closed-loop workload: `clients` clients, each waiting `think` between
/// an answer and its next request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClosedLoop {
    /// Number of concurrent clients (>= 1).
    pub clients: usize,
    /// Think time between an answer and the next request.
    pub think: Latency,
}

impl ClosedLoop {
    /// `clients` clients (>= 1) with the given think time.
    pub fn new(clients: usize, think: Latency) -> Result<ClosedLoop> {
        if clients == 0 {
            return Err(Error::invalid("clients", 0, "at least 1"));
        }
        think.validate()?;
        Ok(ClosedLoop { clients, think })
    }
}

/// Keys drawn from a Zipf distribution over `0..n` with exponent `s`
/// (s = 0 is uniform; s around 1 is typical of real key popularity).
#[derive(Debug, Clone)]
pub struct ZipfKeys {
    cdf: Vec<f64>,
}

impl ZipfKeys {
    /// A Zipf key generator over `n` keys (n >= 1) with exponent `s` (>= 0).
    pub fn new(n: usize, s: f64) -> Result<ZipfKeys> {
        crate::error::check_count("number of keys", n, 1, crate::error::limits::ITEMS, "keys")?;
        if !(s.is_finite() && s >= 0.0) {
            return Err(Error::invalid("zipf exponent", s, "a finite number >= 0"));
        }
        let mut acc = 0.0;
        let mut cdf: Vec<f64> = (1..=n)
            .map(|k| {
                acc += 1.0 / (k as f64).powf(s);
                acc
            })
            .collect();
        for c in &mut cdf {
            *c /= acc;
        }
        Ok(ZipfKeys { cdf })
    }
    /// Draws one key (0 is the most popular).
    pub fn sample(&self, rng: &mut SimRng) -> usize {
        let u = rng::unit_f64(rng);
        self.cdf
            .partition_point(|&c| c <= u)
            .min(self.cdf.len() - 1)
    }
}
