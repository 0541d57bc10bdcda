//! Chapter 3: transient, intermittent and permanent failures, and what
//! retrying does against each.
//!
//! The same share of first attempts fails in all three models; what
//! differs is how a failure relates to the *next* attempt:
//!
//! | [`FailureKind`] | a failure is | requests still failing after `r` retries |
//! |---|---|---|
//! | `Transient { p }` | independent of every other attempt (a dropped packet, a lost race) | `p^(r+1)` |
//! | `Intermittent { mean_up, mean_down }` | one of a run of failures: the dependency is down for a while (a flapping link, a restarting process) | `π_d · P_dd(s)^r` |
//! | `Permanent { fraction }` | a property of the request (bad input, a missing permission, a bug) | `fraction`, for every `r` |
//!
//! For the intermittent model the dependency alternates between up and down
//! periods, exponential with means `mean_up` and `mean_down` (a two-state
//! Markov chain). A request arrives at a random moment, so its first attempt
//! finds the dependency down with probability `π_d = mean_down / (mean_up +
//! mean_down)`; retries come `s` apart (the retry delay), and each finds it
//! still (or again) down with probability `P_dd(s) = π_d + (1 − π_d)
//! e^(−s (1/mean_up + 1/mean_down))`. The Markov property makes the
//! attempts a chain, so all `r + 1` fail with probability `π_d · P_dd(s)^r`.
//! Retries help a transient failure geometrically, an intermittent one only
//! as fast as the outage ends (a longer retry delay helps more than more
//! retries), and a permanent one not at all: they only add load.
//!
//! A request-level model: no network, one attempt is one look at the
//! dependency's state at the moment of the attempt (the attempt's own
//! duration is folded into the retry delay).

use crate::error::{check_probability, Error, Result};
use crate::measure::stats::{mean_ci, MeanCi};
use crate::measure::theory;
use crate::plot::{line_chart, Figure, Opts, Series, SeriesStyle, Table};
use crate::sim::rng::{self, derive_seed, domain};
use crate::sim::sweep::Sweep;
use crate::sim::time::{ms, SimDuration};
use serde::Serialize;

/// `100 ms`, `1.5 ms`: a duration for labels.
fn fmt_ms(d: SimDuration) -> String {
    format!("{} ms", crate::plot::fmt_num(d.as_ms()))
}

/// How a dependency fails; see the [module table](self).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum FailureKind {
    /// Every attempt fails independently with probability `p`.
    Transient {
        /// Probability that one attempt fails.
        p: f64,
    },
    /// Down for exponential periods of mean `mean_down`, up for periods of
    /// mean `mean_up` in between; an attempt fails while it is down.
    Intermittent {
        /// Mean length of an up period.
        mean_up: SimDuration,
        /// Mean length of a down period.
        mean_down: SimDuration,
    },
    /// A fraction of the requests fails on every attempt; the others never
    /// fail.
    Permanent {
        /// Fraction of requests that can never succeed.
        fraction: f64,
    },
}

impl FailureKind {
    /// The three kinds with the same first-attempt failure probability
    /// `p`: transient `p`; intermittent with mean outages of `outage` (and
    /// up periods long enough that the dependency is down a fraction `p` of
    /// the time); permanent for a fraction `p` of the requests. Errors on
    /// `p` outside (0, 1) or a zero outage.
    pub fn same_first_failure(p: f64, outage: SimDuration) -> Result<[FailureKind; 3]> {
        check_probability("p", p)?;
        if p <= 0.0 || p >= 1.0 {
            return Err(Error::invalid(
                "p",
                p,
                "a probability strictly between 0 and 1",
            ));
        }
        if outage.0 == 0 {
            return Err(Error::invalid("outage", outage, "a duration > 0"));
        }
        let up = SimDuration::from_ms_f64(outage.as_ms() * (1.0 - p) / p)?;
        Ok([
            FailureKind::Transient { p },
            FailureKind::Intermittent {
                mean_up: up,
                mean_down: outage,
            },
            FailureKind::Permanent { fraction: p },
        ])
    }

    /// A short name for legends and tables.
    pub fn name(&self) -> String {
        match self {
            FailureKind::Transient { p } => format!("transient ({:.0} % of attempts)", 100.0 * p),
            FailureKind::Intermittent { mean_down, .. } => {
                format!(
                    "intermittent (outages of {} on average)",
                    fmt_ms(*mean_down)
                )
            }
            FailureKind::Permanent { fraction } => {
                format!("permanent ({:.0} % of requests)", 100.0 * fraction)
            }
        }
    }

    /// The overlay label: the closed form in short.
    fn theory_label(&self) -> String {
        match self {
            FailureKind::Transient { p } => format!("theory: {p}^(r+1)"),
            FailureKind::Intermittent { .. } => "theory: π_d · P_dd(s)^r".to_string(),
            FailureKind::Permanent { fraction } => {
                format!("theory: {:.0} % whatever r", 100.0 * fraction)
            }
        }
    }

    fn validate(&self) -> Result<()> {
        match *self {
            FailureKind::Transient { p } => check_probability("p", p).map(|_| ()),
            FailureKind::Permanent { fraction } => {
                check_probability("fraction", fraction).map(|_| ())
            }
            FailureKind::Intermittent { mean_up, mean_down } => {
                if mean_up.0 == 0 || mean_down.0 == 0 {
                    return Err(Error::invalid(
                        "mean_up / mean_down",
                        format!("{mean_up} / {mean_down}"),
                        "durations > 0",
                    ));
                }
                Ok(())
            }
        }
    }

    /// The closed form: the probability that a request still fails after
    /// `retries` retries spaced `delay` apart
    /// ([`theory::transient_still_failing`],
    /// [`theory::intermittent_still_failing`]); NaN for a kind that does not
    /// validate.
    pub fn theory_failed(&self, retries: u32, delay: SimDuration) -> f64 {
        let failed = match *self {
            FailureKind::Transient { p } => theory::transient_still_failing(p, retries),
            FailureKind::Permanent { fraction } => Ok(fraction),
            FailureKind::Intermittent { mean_up, mean_down } => theory::intermittent_still_failing(
                mean_up.as_ms(),
                mean_down.as_ms(),
                delay.as_ms(),
                retries,
            ),
        };
        failed.unwrap_or(f64::NAN)
    }
}

/// The experiment: `requests` requests, each retried up to `max_retries`
/// times, `delay` apart, against one dependency of each kind.
#[derive(Debug, Clone, Serialize)]
pub struct FailureKinds {
    /// Seed of the first replication.
    pub seed: u64,
    /// Requests per replication.
    pub requests: usize,
    /// Time between two attempts of one request.
    pub delay: SimDuration,
    /// Most retries measured (the curve runs from 0 to this).
    pub max_retries: u32,
    /// Replications (seeds) per kind.
    pub seeds: usize,
    /// Arrivals are spread uniformly over this long (much longer than the
    /// outages, so requests see many up and down periods).
    pub horizon: SimDuration,
}

impl Default for FailureKinds {
    /// 5,000 requests per seed over 10 minutes, 10 seeds, up to 6 retries
    /// 100 ms apart.
    fn default() -> Self {
        FailureKinds {
            seed: 1,
            requests: 5000,
            delay: ms(100),
            max_retries: 6,
            seeds: 10,
            horizon: ms(600_000),
        }
    }
}

/// One kind's curve: requests failing after `r` retries, `r = 0..`.
#[derive(Debug, Clone, Serialize)]
pub struct KindCurve {
    /// The failure kind.
    pub kind: FailureKind,
    /// `failed[r]`: fraction of requests with no success in `r + 1`
    /// attempts, over seeds.
    pub failed: Vec<MeanCi>,
    /// The closed form, per `r`.
    pub theory: Vec<f64>,
    /// Mean attempts per request with `max_retries` retries (the load
    /// retrying puts on the dependency).
    pub attempts: MeanCi,
}

impl FailureKinds {
    /// Checks every parameter.
    pub fn validate(&self) -> Result<()> {
        crate::error::check_count("requests", self.requests, 1, 1_000_000, "requests")?;
        crate::measure::stats::check_replications(self.seeds as u64)?;
        crate::error::check_count("max_retries", self.max_retries as usize, 0, 100, "retries")?;
        if self.horizon.0 == 0 {
            return Err(Error::invalid("horizon", self.horizon, "a duration > 0"));
        }
        crate::error::check_work(
            "requests × seeds × (max_retries + 1)",
            self.requests as f64 * self.seeds as f64 * (f64::from(self.max_retries) + 1.0),
        )
    }

    /// For one seed: the number of failed attempts before each request's
    /// first success (`None`: none within `max_retries + 1` attempts).
    fn first_success(&self, kind: &FailureKind, seed: u64) -> Result<Vec<Option<u32>>> {
        let mut r = rng::stream(seed, domain::EXPERIMENT, 0xFA11, 0);
        let tries = self.max_retries + 1;
        let mut out = Vec::with_capacity(self.requests);
        match *kind {
            FailureKind::Transient { p } => {
                for _ in 0..self.requests {
                    out.push((0..tries).find(|_| !rng::chance(&mut r, p)));
                }
            }
            FailureKind::Permanent { fraction } => {
                for _ in 0..self.requests {
                    out.push((!rng::chance(&mut r, fraction)).then_some(0));
                }
            }
            FailureKind::Intermittent { mean_up, mean_down } => {
                // The outages over the horizon plus the last retries,
                // starting in the stationary state.
                let (u, d) = (mean_up.as_ms(), mean_down.as_ms());
                let end = self.horizon.as_ms() + f64::from(tries) * self.delay.as_ms();
                let mut downs: Vec<(f64, f64)> = Vec::new();
                let mut t = 0.0;
                let mut down = rng::chance(&mut r, d / (u + d));
                while t < end {
                    let mean = if down { d } else { u };
                    let len = -mean * rng::open_unit_f64(&mut r).ln();
                    if down {
                        downs.push((t, t + len));
                    }
                    t += len;
                    down = !down;
                }
                let is_down = |x: f64| {
                    let i = downs.partition_point(|&(s, _)| s <= x);
                    i > 0 && x < downs[i - 1].1
                };
                let h = self.horizon.as_ms();
                for _ in 0..self.requests {
                    let start = h * rng::unit_f64(&mut r);
                    out.push(
                        (0..tries).find(|&i| !is_down(start + f64::from(i) * self.delay.as_ms())),
                    );
                }
            }
        }
        Ok(out)
    }

    /// Runs every kind over the seeds. Errors on bad parameters or kinds.
    ///
    /// ```
    /// use thinkdist::ch03::failure_kinds::{FailureKind, FailureKinds};
    /// use thinkdist::prelude::*;
    /// let kinds = FailureKind::same_first_failure(0.3, ms(300))?;
    /// let curves = FailureKinds { requests: 2000, seeds: 4, ..Default::default() }.run(&kinds)?;
    /// // Retries fix transient failures, never permanent ones.
    /// assert!(curves[0].failed[4].mean < 0.01);
    /// assert!((curves[2].failed[4].mean - 0.3).abs() < 0.03);
    /// # Ok::<(), thinkdist::Error>(())
    /// ```
    pub fn run(&self, kinds: &[FailureKind]) -> Result<Vec<KindCurve>> {
        self.validate()?;
        if kinds.is_empty() {
            return Err(Error::empty("failure kinds"));
        }
        for k in kinds {
            k.validate()?;
            if let FailureKind::Intermittent { mean_up, mean_down } = *k {
                // The outage schedule has about this many periods per seed.
                let span =
                    self.horizon.as_ms() + (f64::from(self.max_retries) + 1.0) * self.delay.as_ms();
                let periods = 2.0 * span / (mean_up.as_ms() + mean_down.as_ms());
                if periods.is_nan() || periods > crate::error::limits::ITEMS as f64 {
                    return Err(Error::invalid(
                        "horizon",
                        self.horizon,
                        &format!(
                            "a shorter horizon (or longer up and down periods): about {} \
                             periods, more than {}",
                            crate::error::short_value(&format!("{periods:.0}")),
                            crate::error::limits::ITEMS
                        ),
                    ));
                }
            }
        }
        let seeds: Vec<u64> = (0..self.seeds as u64)
            .map(|j| derive_seed(self.seed, domain::EXPERIMENT, j, 0))
            .collect();
        let tries = self.max_retries + 1;
        let results = Sweep::new(kinds.to_vec())
            .seed_list(seeds)
            .progress(false)
            .run(|kind, seed| {
                let first = self.first_success(kind, seed)?;
                let n = first.len().max(1) as f64;
                let failed: Vec<f64> = (0..tries)
                    .map(|r| first.iter().filter(|f| f.is_none_or(|a| a > r)).count() as f64 / n)
                    .collect();
                let attempts = first
                    .iter()
                    .map(|f| f.map_or(f64::from(tries), |a| f64::from(a) + 1.0))
                    .sum::<f64>()
                    / n;
                Ok((failed, attempts))
            })?;
        results
            .into_iter()
            .map(|res| {
                let kind = res.point;
                let failed = (0..tries as usize)
                    .map(|r| mean_ci(&res.values.iter().map(|v| v.0[r]).collect::<Vec<_>>()))
                    .collect::<Result<Vec<_>>>()?;
                Ok(KindCurve {
                    kind,
                    failed,
                    theory: (0..tries)
                        .map(|r| kind.theory_failed(r, self.delay))
                        .collect(),
                    attempts: mean_ci(&res.values.iter().map(|v| v.1).collect::<Vec<_>>())?,
                })
            })
            .collect()
    }

    /// Percent of requests still failing against the number of retries,
    /// log scale, with the closed forms. Points where no request failed in
    /// any seed are left out (a log axis has no 0); band ends below half
    /// the resolution (one request in all seeds) are clipped to it.
    pub fn chart(&self, curves: &[KindCurve]) -> Result<Figure> {
        let floor = 50.0 / (self.requests as f64 * self.seeds as f64);
        let mut series = Vec::new();
        let mut overlays = Vec::new();
        for c in curves {
            let pts: Vec<(usize, &MeanCi)> = c
                .failed
                .iter()
                .enumerate()
                .filter(|(_, m)| m.mean > 0.0)
                .collect();
            if pts.is_empty() {
                continue;
            }
            series.push(
                Series::new(
                    c.kind.name(),
                    pts.iter()
                        .map(|&(r, m)| (r as f64, 100.0 * m.mean))
                        .collect(),
                )
                .with_band(
                    pts.iter()
                        .map(|&(_, m)| {
                            let (lo, hi) = m.interval();
                            ((100.0 * lo).max(floor), (100.0 * hi).min(100.0))
                        })
                        .collect(),
                )
                .with_style(SeriesStyle::Points),
            );
            overlays.push(Series::new(
                c.kind.theory_label(),
                c.theory
                    .iter()
                    .enumerate()
                    .filter(|(_, &t)| t > 0.0)
                    .map(|(r, &t)| (r as f64, 100.0 * t))
                    .collect(),
            ));
        }
        line_chart(
            &series,
            &overlays,
            Opts::new(format!(
                "Retries against three kinds of failure (retries {} apart)",
                fmt_ms(self.delay)
            ))
            .x_label("retries")
            .y_label("requests still failing (%)")
            .log_y(),
        )
    }

    /// One row per kind: failing after 0, 1, 2 and `max_retries` retries
    /// (measured ± 95 % half-width, and theory), and the attempts spent.
    pub fn table(&self, curves: &[KindCurve]) -> Table {
        let m = self.max_retries as usize;
        let mut cols: Vec<usize> = vec![0, 1, 2, m];
        cols.retain(|&r| r <= m);
        cols.dedup();
        let mut headers = vec!["failure kind".to_string()];
        for &r in &cols {
            headers.push(format!("failing after {r} retries %"));
            headers.push(format!("theory (r = {r}) %"));
        }
        headers.push(format!("attempts per request (up to {m} retries)"));
        let refs: Vec<&str> = headers.iter().map(String::as_str).collect();
        let mut t = Table::new(&refs);
        for c in curves {
            let mut row = vec![c.kind.name()];
            for &r in &cols {
                row.push(format!(
                    "{:.3} ± {:.3}",
                    100.0 * c.failed[r].mean,
                    100.0 * c.failed[r].half_width
                ));
                row.push(format!("{:.3}", 100.0 * c.theory[r]));
            }
            row.push(format!("{:.2}", c.attempts.mean));
            t.push_row(row);
        }
        t.caption(format!(
            "{} requests per seed, {} seeds; retries {} apart; ± is the 95 % interval over seeds",
            self.requests,
            self.seeds,
            fmt_ms(self.delay)
        ))
    }
}
