//! Chapter 3, tail latency: fan-out amplification and hedged requests.
//!
//! Dean and Barroso, "The Tail at Scale" (CACM, 2013). A request that must
//! wait for **all** `n` servers is as slow as the slowest one: if each server
//! misses the deadline with probability `q`, the request misses it with
//! probability `1 − (1 − q)^n` ([`crate::measure::theory::fanout_slow_probability`]).
//! With `q` = 1 % and 100 servers, 63 % of requests are slow.
//!
//! **Hedged requests** cut the tail: send to one server; if no answer came
//! after `d`, send a copy to a second and use the first answer
//! ([`crate::retry::Hedge`]). The extra load is the fraction of requests
//! still unanswered at `d`, `P(T > d)`, and the hedged latency `H` has
//! `P(H > x) = S(x)` for `x ≤ d` and `S(x) · S(x − d)` beyond, with `S` the
//! single-server survival function; for a mixture of exponentials both are
//! closed forms, drawn over the simulation.
//!
//! Servers here have no queues (their latency does not depend on the load),
//! as in the paper's measurements; each request's latency is then a function
//! of its random draws alone, so the experiments draw them directly from one
//! seeded stream per point instead of routing millions of messages through
//! the engine (same distribution, about 100× faster). The extra load that
//! hedging adds to real servers, and the queueing it causes, is what the
//! "extra load" axis counts.

use crate::error::{check_probability, Error, Result};
use crate::measure::stats::{mean_ci, MeanCi};
use crate::plot::{line_chart, Figure, Opts, Series, SeriesStyle, Table};
use crate::retry::Hedge;
use crate::sim::net::Latency;
use crate::sim::rng::{self, domain};
use crate::sim::time::{ms, SimDuration};
use serde::Serialize;

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
    /// `P(T > x_ms)`: `(1 − p) e^(−x/fast) + p e^(−x/slow)`.
    pub fn survival(&self, x_ms: f64) -> f64 {
        if x_ms <= 0.0 {
            return 1.0;
        }
        (1.0 - self.p_slow) * (-x_ms / self.fast_mean.as_ms()).exp()
            + self.p_slow * (-x_ms / self.slow_mean.as_ms()).exp()
    }
    /// The `q` quantile (q in (0, 1)) of the hedged latency with delay `d_ms`
    /// (`None`: no hedge), by bisection on the closed-form survival.
    pub fn hedged_quantile(&self, q: f64, d_ms: Option<f64>) -> f64 {
        let surv = |x: f64| match d_ms {
            Some(d) if x > d => self.survival(x) * self.survival(x - d),
            _ => self.survival(x),
        };
        let target = 1.0 - q;
        let (mut lo, mut hi) = (0.0f64, 1.0f64);
        while surv(hi) > target && hi < 1e12 {
            hi *= 2.0;
        }
        for _ in 0..200 {
            let mid = 0.5 * (lo + hi);
            if surv(mid) > target {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        0.5 * (lo + hi)
    }
}

/// `P(T > x_ns)` for a draw `T` of `lat`, in closed form for every kind of
/// [`Latency`] (a mixture is the weighted sum of its parts; `Normal` is
/// truncated at zero by redrawing, so its tail is divided by `P(draw >= 0)`). This is
/// `q` of the fan-out formula for any server latency.
///
/// ```
/// use thinkdist::prelude::*;
/// use thinkdist::ch03::fanout::survival;
/// let l = Latency::exponential(ms(10))?;
/// assert!((survival(&l, 20e6) - (-2.0f64).exp()).abs() < 1e-12);
/// # Ok::<(), thinkdist::Error>(())
/// ```
pub fn survival(lat: &Latency, x_ns: f64) -> f64 {
    use crate::sim::special::normal_cdf;
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
                .map(|(w, p)| w / total * survival(p, x_ns))
                .sum()
        }
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
    /// Server latency: any [`Latency`] (e.g. [`ServerLatency::latency`], or
    /// [`two_speed`] for a chosen `q`).
    pub latency: Latency,
    /// A request slower than this is slow.
    pub deadline: SimDuration,
    /// Requests per fan-out width.
    pub requests: u64,
}

impl Default for Fanout {
    /// Default servers ([`ServerLatency::default`]), 100 ms deadline,
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

/// Share of slow requests against the fan-out width (log x), one curve per
/// per-server probability `q` of missing the deadline (e.g. 1/100, 1/1000,
/// 1/10000 as in The Tail at Scale): simulated points with a 95 % binomial
/// band, and the formula `1 − (1 − q)^n` drawn over them as a smooth curve.
/// `curves` pairs each `q` with its simulated points.
pub fn fanout_curves_chart(
    curves: &[(f64, Vec<FanoutPoint>)],
    deadline: SimDuration,
) -> Result<Figure> {
    if curves.iter().all(|c| c.1.is_empty()) {
        return Err(Error::empty("fan-out points"));
    }
    let pct = |x: f64| 100.0 * x;
    let mut sims = Vec::new();
    let mut theory = Vec::new();
    for (q, points) in curves.iter().filter(|c| !c.1.is_empty()) {
        check_probability("q", *q)?;
        let name = if *q > 0.0 && (1.0 / q - (1.0 / q).round()).abs() < 1e-6 {
            format!("q = 1/{}", crate::plot::fmt_num((1.0 / q).round()))
        } else {
            format!("q = {q}")
        };
        sims.push(
            Series::new(
                format!("{name} simulated"),
                points
                    .iter()
                    .map(|p| (p.n as f64, pct(p.fraction())))
                    .collect(),
            )
            .with_band(
                points
                    .iter()
                    .map(|p| {
                        let (a, b) = p.interval();
                        (pct(a), pct(b))
                    })
                    .collect(),
            )
            .with_style(SeriesStyle::Points),
        );
        let (lo, hi) = points.iter().fold((f64::INFINITY, 0.0f64), |(a, b), p| {
            (a.min(p.n as f64), b.max(p.n as f64))
        });
        let steps = 60;
        let smooth = (0..=steps)
            .map(|i| {
                let n = lo * (hi / lo).powf(i as f64 / steps as f64);
                (n, pct(1.0 - (1.0 - q).powf(n)))
            })
            .collect();
        theory.push(Series::new(format!("{name}, 1 − (1 − q)ⁿ"), smooth));
    }
    line_chart(
        &sims,
        &theory,
        Opts::new(format!(
            "Fan-out: waiting for all n servers, requests over {} ms",
            deadline.as_ms()
        ))
        .x_label("servers per request n")
        .y_label("slow requests (%)")
        .log_x(),
    )
}

/// Share of slow requests against the fan-out width (log x), simulated with
/// a 95 % binomial band and the formula dashed.
pub fn fanout_chart(points: &[FanoutPoint], deadline: SimDuration) -> Result<Figure> {
    let pct = |x: f64| 100.0 * x;
    let sim = Series::new(
        "simulated",
        points
            .iter()
            .map(|p| (p.n as f64, pct(p.fraction())))
            .collect(),
    )
    .with_band(
        points
            .iter()
            .map(|p| {
                let (a, b) = p.interval();
                (pct(a), pct(b))
            })
            .collect(),
    )
    .with_style(SeriesStyle::LinePoints);
    let theory = Series::new(
        "1 − (1 − q)^n",
        points.iter().map(|p| (p.n as f64, pct(p.theory))).collect(),
    );
    line_chart(
        &[sim],
        &[theory],
        Opts::new(format!(
            "Fan-out: waiting for all n servers, requests over {} ms",
            deadline.as_ms()
        ))
        .x_label("servers per request n")
        .y_label("slow requests (%)")
        .log_x(),
    )
}

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

/// Tail latency (log y) against extra load (%), one point per delay
/// (labelled with the delay on the p99.9): simulated p99 and p99.9 (mean
/// over the replications, 95 % band), closed forms dashed. The leftmost point (0 %)
/// is no hedging.
pub fn hedge_chart(points: &[HedgePoint]) -> Result<Figure> {
    let x = |p: &HedgePoint| 100.0 * p.extra();
    let xt = |p: &HedgePoint| 100.0 * p.extra_theory;
    let mut pts: Vec<&HedgePoint> = points.iter().collect();
    pts.sort_by(|a, b| a.extra().total_cmp(&b.extra()));
    let band = |c: fn(&HedgePoint) -> MeanCi| -> Vec<(f64, f64)> {
        pts.iter()
            .map(|p| {
                let m = c(p);
                let h = if m.half_width.is_finite() {
                    m.half_width
                } else {
                    0.0
                };
                ((m.mean - h).max(m.mean * 0.5), m.mean + h)
            })
            .collect()
    };
    let labels: Vec<String> = pts
        .iter()
        .map(|p| {
            p.delay_ms.map_or("never".into(), |d| {
                format!("{} ms", crate::plot::fmt_num(d))
            })
        })
        .collect();
    let sim = vec![
        // The p99 points sit below the p99.9 points of the same delay: one
        // set of delay labels (on the p99.9) names both.
        Series::new("p99", pts.iter().map(|p| (x(p), p.p99)).collect())
            .with_band(band(|p| p.p99_ci))
            .with_style(SeriesStyle::LinePoints),
        delay_labels(
            Series::new("p99.9", pts.iter().map(|p| (x(p), p.p999)).collect())
                .with_band(band(|p| p.p999_ci))
                .with_style(SeriesStyle::LinePoints),
            labels,
        ),
    ];
    let theory = vec![
        Series::new("p99", pts.iter().map(|p| (xt(p), p.p99_theory)).collect()),
        Series::new(
            "p99.9",
            pts.iter().map(|p| (xt(p), p.p999_theory)).collect(),
        ),
    ];
    line_chart(
        &sim,
        &theory,
        Opts::new("Hedged requests: a few % extra load cuts the tail")
            .x_label("extra load: requests that sent a second copy (%)")
            .y_label("latency (ms)")
            .log_y(),
    )
}

/// Labels each point with its hedge delay.
fn delay_labels(s: Series, labels: Vec<String>) -> Series {
    s.with_labels(labels)
}

/// Extra load against the hedge delay: simulated (95 % band) and `P(T > d)`.
pub fn extra_load_chart(points: &[HedgePoint]) -> Result<Figure> {
    let pts: Vec<&HedgePoint> = points.iter().filter(|p| p.delay_ms.is_some()).collect();
    if pts.is_empty() {
        return Err(Error::empty("hedge delays"));
    }
    let d = |p: &HedgePoint| p.delay_ms.unwrap_or(0.0);
    let sim = Series::new(
        "simulated",
        pts.iter().map(|p| (d(p), 100.0 * p.extra())).collect(),
    )
    .with_band(
        pts.iter()
            .map(|p| {
                let e = p.extra();
                let h = 1.96 * (e * (1.0 - e) / p.requests as f64).sqrt();
                (100.0 * (e - h).max(0.0), 100.0 * (e + h))
            })
            .collect(),
    )
    .with_style(SeriesStyle::Points);
    let theory = Series::new(
        "P(T > d)",
        pts.iter().map(|p| (d(p), 100.0 * p.extra_theory)).collect(),
    );
    line_chart(
        &[sim],
        &[theory],
        Opts::new("Extra load of hedging = share still unanswered at the delay")
            .x_label("hedge delay d (ms)")
            .y_label("extra load (%)")
            .log_x(),
    )
}

/// Delay, extra load and tail latencies, simulated and closed form.
pub fn hedge_table(points: &[HedgePoint]) -> Table {
    let mut t = Table::new(&[
        "hedge after",
        "extra load (sim / formula)",
        "p99 ms (sim ± 95 % / formula)",
        "p99.9 ms (sim ± 95 % / formula)",
    ]);
    for p in points {
        t.push_row(vec![
            p.delay_ms.map_or("never".into(), |d| format!("{d} ms")),
            format!(
                "{:.2} % / {:.2} %",
                100.0 * p.extra(),
                100.0 * p.extra_theory
            ),
            format!("{} / {:.1}", ci_text(&p.p99_ci), p.p99_theory),
            format!("{} / {:.1}", ci_text(&p.p999_ci), p.p999_theory),
        ]);
    }
    t
}

fn ci_text(c: &MeanCi) -> String {
    if c.half_width.is_finite() {
        format!("{:.1} ± {:.1}", c.mean, c.half_width)
    } else {
        format!("{:.1}", c.mean)
    }
}
