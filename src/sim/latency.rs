//! Latency distributions: how long a message, a service or a think time
//! takes. A [`Latency`] is a value (plain data): print it, edit it,
//! serialize it; draw from it with [`Latency::sample`] and a [`SimRng`].

use super::rng::{self, SimRng};
use super::special::normal_cdf;
use super::time::SimDuration;
use crate::error::{check_non_negative, check_positive, Error, Result};

/// Largest mean, scale or bound a [`Latency`] may have, in nanoseconds:
/// 1e18 ns, about 31.7 years. Beyond it draws would saturate at the end of
/// virtual time (584 years) and every number computed from them would be
/// meaningless.
pub const MAX_NS: f64 = 1e18;

/// Checks a duration parameter in nanoseconds: finite, >= 0 (or > 0 when
/// `positive`), at most [`MAX_NS`].
fn check_ns(param: &str, x: f64, positive: bool) -> Result<f64> {
    if positive {
        check_positive(param, x)?;
    } else {
        check_non_negative(param, x)?;
    }
    if x > MAX_NS {
        return Err(Error::invalid(
            param,
            x,
            "at most 1e18 ns (about 31.7 years): longer durations saturate virtual time",
        ));
    }
    Ok(x)
}
use serde::{Deserialize, Serialize};

/// A distribution of durations, in nanoseconds: network latency, service
/// time, think time. A value (plain data): print it, edit it, serialize it.
///
/// Build it with the validating constructors ([`Latency::exponential`] etc.),
/// which reject negative, NaN and infinite parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Latency {
    /// Always the same duration.
    Constant {
        /// Nanoseconds.
        ns: f64,
    },
    /// Uniform between `lo` and `hi` nanoseconds.
    Uniform {
        /// Lower bound (ns).
        lo: f64,
        /// Upper bound (ns).
        hi: f64,
    },
    /// Exponential with the given mean (memoryless: the M in M/M/1).
    Exponential {
        /// Mean (ns).
        mean: f64,
    },
    /// Normal, truncated at zero: a negative draw is drawn again. Only
    /// parameters that put at most [`NORMAL_MAX_BELOW_ZERO`] of the mass
    /// below zero are accepted, so truncation changes the shape little; use
    /// [`Latency::log_normal`] for a latency whose spread is close to its
    /// mean.
    Normal {
        /// Mean (ns).
        mean: f64,
        /// Standard deviation (ns).
        sd: f64,
    },
    /// Log-normal: `exp(mu + sigma Z)` with `exp(mu)` the median in ns.
    LogNormal {
        /// Log of the median (log ns).
        mu: f64,
        /// Shape.
        sigma: f64,
    },
    /// Pareto (heavy tail): `scale * U^(-1/shape)`, never below `scale`.
    Pareto {
        /// Minimum (ns).
        scale: f64,
        /// Tail index; the mean is finite only for shape > 1.
        shape: f64,
    },
    /// A mixture: with probability `weights[i] / sum` draw from `parts[i]`.
    /// The classic use: 99 % fast, 1 % slow.
    ///
    /// Weights are relative: `[99.0, 1.0]` and `[0.99, 0.01]` are the same
    /// mixture. [`Latency::mixture`] stores them divided by their sum; a
    /// value written by hand may leave them as they are, and sampling, the
    /// mean and the variance all divide by the sum, so theory and
    /// simulation agree either way.
    Mixture {
        /// Weights (>= 0, sum > 0), relative to their sum.
        weights: Vec<f64>,
        /// Component distributions.
        parts: Vec<Latency>,
    },
}

/// A standard exponential draw (mean 1), by ziggurat sampling: no logarithm
/// on the common path. Inlined whole into the engine's hot path.
#[inline(always)]
fn exp1(rng: &mut SimRng) -> f64 {
    rng::exp1(rng)
}

impl Latency {
    /// A constant duration.
    pub fn constant(d: SimDuration) -> Latency {
        Latency::Constant { ns: d.0 as f64 }
    }
    /// No delay at all.
    pub fn zero() -> Latency {
        Latency::Constant { ns: 0.0 }
    }
    /// Uniform on `[lo, hi]`; errors if `lo > hi`.
    pub fn uniform(lo: SimDuration, hi: SimDuration) -> Result<Latency> {
        if lo > hi {
            return Err(Error::invalid(
                "uniform latency lo",
                lo,
                &format!("lo <= hi (hi = {hi})"),
            ));
        }
        Latency::Uniform {
            lo: lo.0 as f64,
            hi: hi.0 as f64,
        }
        .checked()
    }
    /// Exponential with the given mean; errors on a zero mean or one over
    /// [`MAX_NS`].
    pub fn exponential(mean: SimDuration) -> Result<Latency> {
        Latency::Exponential {
            mean: mean.0 as f64,
        }
        .checked()
    }
    /// The value if [`Latency::validate`] accepts it.
    fn checked(self) -> Result<Latency> {
        self.validate()?;
        Ok(self)
    }
    /// Exponential with a rate in events per second (service rate μ, say);
    /// errors unless the rate is finite, > 0 and its mean `1/rate` at most
    /// [`MAX_NS`].
    pub fn exponential_rate(per_sec: f64) -> Result<Latency> {
        Self::exponential_rate_named("exponential rate (per second)", per_sec)
    }
    /// [`Latency::exponential_rate`] with the error naming the parameter as
    /// the reader wrote it (`service_rate`).
    pub fn exponential_rate_named(param: &str, per_sec: f64) -> Result<Latency> {
        check_positive(param, per_sec)?;
        let mean = 1e9 / per_sec;
        if mean > MAX_NS {
            return Err(Error::invalid(
                param,
                per_sec,
                "a rate of at least 1e-9 per second (a mean of at most 1e18 ns, about \
                 31.7 years)",
            ));
        }
        Ok(Latency::Exponential { mean })
    }
    /// Normal with mean and standard deviation, truncated at zero (negative
    /// draws are redrawn). Errors when more than 1 % of the normal lies
    /// below zero (`mean < 2.33 sd`): clipping or redrawing that much would
    /// give a different distribution from the one asked for; the error says
    /// to lower `sd` or use [`Latency::log_normal`].
    ///
    /// ```
    /// use thinkdist::sim::latency::Latency;
    /// use thinkdist::sim::time::ms;
    /// assert!(Latency::normal(ms(50), ms(5)).is_ok());
    /// let err = Latency::normal(ms(10), ms(10)).unwrap_err();
    /// assert!(err.to_string().contains("16 % of draws below zero"));
    /// ```
    pub fn normal(mean: SimDuration, sd: SimDuration) -> Result<Latency> {
        Latency::Normal {
            mean: mean.0 as f64,
            sd: sd.0 as f64,
        }
        .checked()
    }
    /// Log-normal with the given median and shape `sigma` (> 0).
    pub fn log_normal(median: SimDuration, sigma: f64) -> Result<Latency> {
        check_ns("log-normal median (ns)", median.0 as f64, true)?;
        Latency::LogNormal {
            mu: (median.0 as f64).ln(),
            sigma,
        }
        .checked()
    }
    /// Pareto with minimum `scale` and tail index `shape` (> 0).
    pub fn pareto(scale: SimDuration, shape: f64) -> Result<Latency> {
        Latency::Pareto {
            scale: scale.0 as f64,
            shape,
        }
        .checked()
    }
    /// A mixture of `(weight, distribution)` pairs; weights must be >= 0 and
    /// not all zero.
    pub fn mixture(parts: Vec<(f64, Latency)>) -> Result<Latency> {
        if parts.is_empty() {
            return Err(Error::invalid(
                "mixture parts",
                "[]",
                "at least one (weight, latency) pair",
            ));
        }
        let mut total = 0.0;
        for (w, l) in &parts {
            check_non_negative("mixture weight", *w)?;
            l.validate()?;
            total += w;
        }
        if !(total > 0.0 && total.is_finite()) {
            return Err(Error::invalid(
                "mixture weights",
                total,
                "weights whose sum is finite and > 0",
            ));
        }
        let (weights, parts): (Vec<f64>, Vec<Latency>) =
            parts.into_iter().map(|(w, l)| (w / total, l)).unzip();
        Ok(Latency::Mixture { weights, parts })
    }

    /// Draws one duration.
    #[inline]
    pub fn sample(&self, rng: &mut SimRng) -> SimDuration {
        let ns = match self {
            // The most common latency, drawn inline on the engine's hot path
            // (the same draw as in `sample_ns`).
            Latency::Exponential { mean } => mean * exp1(rng),
            other => other.sample_ns(rng),
        };
        SimDuration::from_nanos_f64_saturating(ns)
    }

    fn sample_ns(&self, rng: &mut SimRng) -> f64 {
        match self {
            Latency::Constant { ns } => *ns,
            Latency::Uniform { lo, hi } => lo + (hi - lo) * rng::unit_f64(rng),
            Latency::Exponential { mean } => mean * exp1(rng),
            Latency::Normal { mean, sd } => {
                // Redraw below zero (at most 1 % of draws, see validate);
                // the cap only guards a hand-built variant that skipped it.
                for _ in 0..64 {
                    let x = mean + sd * rng::standard_normal(rng);
                    if x >= 0.0 {
                        return x;
                    }
                }
                0.0
            }
            Latency::LogNormal { mu, sigma } => {
                let z = rng::standard_normal(rng);
                (mu + sigma * z).exp()
            }
            Latency::Pareto { scale, shape } => scale * rng::open_unit_f64(rng).powf(-1.0 / shape),
            Latency::Mixture { weights, parts } => {
                let u = rng::unit_f64(rng) * weights.iter().sum::<f64>();
                let mut acc = 0.0;
                for (w, p) in weights.iter().zip(parts) {
                    acc += w;
                    if u < acc {
                        return p.sample_ns(rng);
                    }
                }
                parts.last().map_or(0.0, |p| p.sample_ns(rng))
            }
        }
    }

    /// The mean in nanoseconds (infinite for a Pareto with shape <= 1). For
    /// `Normal` it is the mean of the truncated distribution that is drawn.
    pub fn mean_ns(&self) -> f64 {
        match self {
            Latency::Constant { ns } => *ns,
            Latency::Uniform { lo, hi } => (lo + hi) / 2.0,
            Latency::Exponential { mean } => *mean,
            Latency::Normal { mean, sd } => {
                let (m, _) = truncated_normal_moments(*mean, *sd);
                m
            }
            Latency::LogNormal { mu, sigma } => (mu + sigma * sigma / 2.0).exp(),
            Latency::Pareto { scale, shape } => {
                if *shape <= 1.0 {
                    f64::INFINITY
                } else {
                    // Divided first: shape * scale overflows for huge shapes.
                    scale * (shape / (shape - 1.0))
                }
            }
            Latency::Mixture { weights, parts } => {
                let total: f64 = weights.iter().sum();
                weights
                    .iter()
                    .zip(parts)
                    .map(|(w, p)| w / total * p.mean_ns())
                    .sum()
            }
        }
    }

    /// The variance in ns² (infinite for a Pareto with shape <= 2). For
    /// `Normal` it is the variance of the truncated distribution.
    pub fn variance_ns2(&self) -> f64 {
        match self {
            Latency::Constant { .. } => 0.0,
            Latency::Uniform { lo, hi } => (hi - lo).powi(2) / 12.0,
            Latency::Exponential { mean } => mean * mean,
            Latency::Normal { mean, sd } => truncated_normal_moments(*mean, *sd).1,
            Latency::LogNormal { mu, sigma } => {
                let s2 = sigma * sigma;
                (s2.exp() - 1.0) * (2.0 * mu + s2).exp()
            }
            Latency::Pareto { scale, shape } => {
                if *shape <= 2.0 {
                    f64::INFINITY
                } else {
                    scale * scale * (shape / (shape - 1.0)) / ((shape - 1.0) * (shape - 2.0))
                }
            }
            Latency::Mixture { weights, parts } => {
                let m = self.mean_ns();
                let total: f64 = weights.iter().sum();
                weights
                    .iter()
                    .zip(parts)
                    .map(|(w, p)| w / total * (p.variance_ns2() + p.mean_ns().powi(2)))
                    .sum::<f64>()
                    - m * m
            }
        }
    }

    /// Checks parameters of a value built by hand (not by a constructor).
    pub fn validate(&self) -> Result<()> {
        let ok = |name: &str, x: f64| check_ns(name, x, false).map(|_| ());
        match self {
            // Any duration is a valid constant (what `Latency::constant`
            // takes): one past the end of virtual time saturates there,
            // the message never arrives within a run.
            Latency::Constant { ns } => {
                check_non_negative("constant latency (ns)", *ns)?;
                if *ns > u64::MAX as f64 {
                    return Err(Error::invalid(
                        "constant latency (ns)",
                        ns,
                        "at most u64::MAX ns (the end of virtual time)",
                    ));
                }
                Ok(())
            }
            Latency::Uniform { lo, hi } => {
                ok("uniform lo (ns)", *lo)?;
                ok("uniform hi (ns)", *hi)?;
                if lo > hi {
                    return Err(Error::invalid("uniform lo (ns)", lo, "lo <= hi"));
                }
                Ok(())
            }
            Latency::Exponential { mean } => {
                check_ns("exponential mean (ns)", *mean, true).map(|_| ())
            }
            Latency::Normal { mean, sd } => {
                ok("normal mean (ns)", *mean)?;
                ok("normal sd (ns)", *sd)?;
                let below = if *sd > 0.0 {
                    normal_cdf(-mean / sd)
                } else {
                    0.0
                };
                if below > NORMAL_MAX_BELOW_ZERO {
                    return Err(Error::invalid(
                        "normal sd (ns)",
                        sd,
                        &format!(
                            "at most mean / 2.33 = {:.0} ns: with mean {mean:.0} ns it puts \
                             {:.0} % of draws below zero, which a latency cannot be; use a \
                             smaller sd, or Latency::log_normal for a spread close to the mean",
                            mean / 2.326_347_874,
                            below * 100.0
                        ),
                    ));
                }
                Ok(())
            }
            Latency::LogNormal { mu, sigma } => {
                if !(mu.is_finite() && *mu <= MAX_NS.ln()) {
                    return Err(Error::invalid(
                        "log-normal mu",
                        mu,
                        "a finite number at most ln(1e18 ns), about 41.4",
                    ));
                }
                check_positive("log-normal sigma", *sigma)?;
                if *sigma > 10.0 {
                    return Err(Error::invalid(
                        "log-normal sigma",
                        sigma,
                        "at most 10 (a wider spread saturates virtual time)",
                    ));
                }
                Ok(())
            }
            Latency::Pareto { scale, shape } => {
                check_ns("pareto scale (ns)", *scale, true)?;
                check_positive("pareto shape", *shape).map(|_| ())
            }
            Latency::Mixture { weights, parts } => {
                if weights.len() != parts.len() || parts.is_empty() {
                    return Err(Error::invalid(
                        "mixture",
                        format!("{} weights, {} parts", weights.len(), parts.len()),
                        "as many weights as parts, at least one",
                    ));
                }
                for w in weights {
                    check_non_negative("mixture weight", *w)?;
                }
                let total: f64 = weights.iter().sum();
                if !(total > 0.0 && total.is_finite()) {
                    return Err(Error::invalid(
                        "mixture weights",
                        total,
                        "weights whose sum is finite and > 0",
                    ));
                }
                parts.iter().try_for_each(Latency::validate)
            }
        }
    }
}

/// The largest share of a [`Latency::Normal`] below zero that is accepted
/// (1 %): the truncated distribution then keeps its mean within 0.03 sd.
pub const NORMAL_MAX_BELOW_ZERO: f64 = 0.01;

/// Mean and variance of a normal(`mean`, `sd`) truncated to `[0, ∞)`:
/// with `α = −mean/sd` and `λ = φ(α) / (1 − Φ(α))`, the mean is
/// `mean + sd λ` and the variance `sd² (1 + α λ − λ²)`.
fn truncated_normal_moments(mean: f64, sd: f64) -> (f64, f64) {
    if sd <= 0.0 {
        return (mean.max(0.0), 0.0);
    }
    let a = -mean / sd;
    let tail = 1.0 - normal_cdf(a);
    if tail <= 0.0 {
        return (mean.max(0.0), 0.0);
    }
    let pdf = (-0.5 * a * a).exp() / (2.0 * std::f64::consts::PI).sqrt();
    let l = pdf / tail;
    (mean + sd * l, sd * sd * (1.0 + a * l - l * l))
}
