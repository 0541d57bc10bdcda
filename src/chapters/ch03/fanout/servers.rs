//! The servers of the tail-latency experiments: a fast mode with a rare
//! slow one, and a two-speed server for a chosen share of slow answers.

use crate::error::{check_probability, Error, Result};
use crate::measure::theory;
use crate::sim::net::Latency;
use crate::sim::time::{ms, SimDuration};
use serde::Serialize;

/// `P(T > x_ns)` for a draw `T` of any [`Latency`]: the closed form
/// [`theory::latency_tail`], under the name the chapter uses.
pub use crate::measure::theory::latency_tail as survival;

/// Server latency: exponential, fast with probability `1 − p_slow`, slow
/// (mean `slow_mean`) with probability `p_slow`.
#[derive(Debug, Clone, Serialize)]
pub struct ServerLatency {
    /// Probability a response comes from the slow mode.
    pub p_slow: f64,
    /// Mean of the fast mode.
    pub fast_mean: SimDuration,
    /// Mean of the slow mode.
    pub slow_mean: SimDuration,
}

impl Default for ServerLatency {
    /// 99 % with mean 10 ms, 1 % with mean 1 s (100× slower).
    fn default() -> Self {
        ServerLatency {
            p_slow: 0.01,
            fast_mean: ms(10),
            slow_mean: ms(1000),
        }
    }
}

impl ServerLatency {
    /// The distribution to draw from.
    pub fn latency(&self) -> Result<Latency> {
        check_probability("p_slow", self.p_slow)?;
        let mode = |name: &str, mean: SimDuration| {
            Latency::exponential(mean).map_err(|_| {
                Error::invalid(
                    name,
                    mean,
                    "a mean > 0 and at most 1e18 ns (about 31.7 years)",
                )
            })
        };
        Latency::mixture(vec![
            (1.0 - self.p_slow, mode("fast_mean", self.fast_mean)?),
            (self.p_slow, mode("slow_mean", self.slow_mean)?),
        ])
    }
    /// `P(T > x_ms)`: `(1 − p) e^(−x/fast) + p e^(−x/slow)`
    /// ([`theory::exponential_mixture_tail`]); NaN if `p_slow` is not a
    /// probability or a mean is zero.
    pub fn survival(&self, x_ms: f64) -> f64 {
        theory::exponential_mixture_tail(&self.modes_ms(), x_ms).unwrap_or(f64::NAN)
    }
    /// The `q` quantile (q in (0, 1)) of the hedged latency with delay `d_ms`
    /// (`None`: no hedge), by bisection on the closed-form survival
    /// ([`theory::hedged_tail`], [`theory::quantile_of_tail`]); NaN for a `q`
    /// outside (0, 1).
    pub fn hedged_quantile(&self, q: f64, d_ms: Option<f64>) -> f64 {
        theory::quantile_of_tail(|x| theory::hedged_tail(|t| self.survival(t), d_ms, x), q)
            .unwrap_or(f64::NAN)
    }
    /// The two modes as `(weight, mean in ms)`.
    fn modes_ms(&self) -> [(f64, f64); 2] {
        [
            (1.0 - self.p_slow, self.fast_mean.as_ms()),
            (self.p_slow, self.slow_mean.as_ms()),
        ]
    }
}

/// A server that answers in `fast` with probability `1 − q` and in `slow`
/// otherwise (both constant): exactly a share `q` of its answers miss any
/// deadline between the two. The cleanest way to draw fan-out curves for a
/// chosen `q`.
pub fn two_speed(q: f64, fast: SimDuration, slow: SimDuration) -> Result<Latency> {
    check_probability("q", q)?;
    Latency::mixture(vec![
        (1.0 - q, Latency::constant(fast)),
        (q, Latency::constant(slow)),
    ])
}
