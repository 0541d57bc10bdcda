//! Chapter 3: backward against forward recovery of a multi-step operation.
//!
//! An operation of `steps` steps (reserve a seat, charge a card, send a
//! ticket: a saga) fails midway when one step fails. Two ways out:
//!
//! * **backward recovery**: undo. Run the compensation of every step that
//!   already succeeded, in reverse order, and report the operation as
//!   aborted. Consistent, quick to decide, but the operation did not
//!   happen.
//! * **forward recovery**: push through. Retry the failed step (up to
//!   `max_retries` times, `delay` apart) and continue; only if a step is
//!   still failing after its retries, compensate as above.
//!
//! Each step attempt takes a time drawn from `latency` and fails with
//! probability `p` independently (a transient failure); with probability
//! `permanent` one step of the operation (chosen at random) can never
//! succeed (e.g. a card that is declined). Compensations always succeed
//! (in practice they are retried until they do) and take a `latency` draw
//! each.
//!
//! Closed forms, for `n` steps and `m` retries per step:
//!
//! | | completed | mean duration of a completed operation |
//! |---|---|---|
//! | backward | `(1 − permanent) (1 − p)^n` | `n · L` |
//! | forward | `(1 − permanent) (1 − p^(m+1))^n` | `n · (E[A] · L + (E[A] − 1) · delay)` |
//!
//! with `L` the mean step latency and `A` the attempts of a step that
//! succeeds within `m + 1` (geometric, truncated): `E[A] = Σ a pᵃ⁻¹ (1−p) /
//! (1 − p^(m+1))`. Forward recovery completes far more operations while
//! failures are transient; it pays in latency, and against a permanent
//! failure its retries are pure waste before the same compensation.

use crate::error::{check_probability, Error, Result};
use crate::measure::stats::{mean_ci, MeanCi};
use crate::measure::theory;
use crate::plot::{line_chart, Figure, Opts, Series, SeriesStyle, Table};
use crate::sim::net::Latency;
use crate::sim::rng::{self, derive_seed, domain, SimRng};
use crate::sim::sweep::Sweep;
use crate::sim::time::{ms, SimDuration};
use serde::Serialize;

/// The two strategies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Strategy {
    /// Compensate the completed steps at the first failure.
    Backward,
    /// Retry the failed step; compensate only if its retries run out.
    Forward,
}

impl Strategy {
    /// Both, backward first.
    pub const ALL: [Strategy; 2] = [Strategy::Backward, Strategy::Forward];

    /// A short name for legends and tables.
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Backward => "backward (compensate)",
            Strategy::Forward => "forward (retry, then compensate)",
        }
    }
}

/// The experiment's parameters.
#[derive(Debug, Clone, Serialize)]
pub struct Recovery {
    /// Seed of the first replication.
    pub seed: u64,
    /// Steps per operation.
    pub steps: u32,
    /// Duration of one step attempt or compensation.
    pub latency: Latency,
    /// Retries of a failed step (forward recovery).
    pub max_retries: u32,
    /// Wait before retrying a step.
    pub delay: SimDuration,
    /// Probability that an operation has a step that always fails.
    pub permanent: f64,
    /// Operations per replication.
    pub operations: usize,
    /// Replications (seeds).
    pub seeds: usize,
}

impl Default for Recovery {
    /// 5 steps of 20 ms on average (exponential), up to 3 retries 50 ms
    /// apart, no permanent failures; 2,000 operations per seed, 10 seeds.
    fn default() -> Self {
        Recovery {
            seed: 1,
            steps: 5,
            latency: Latency::Exponential { mean: 20e6 },
            max_retries: 3,
            delay: ms(50),
            permanent: 0.0,
            operations: 2000,
            seeds: 10,
        }
    }
}

/// One strategy at one step failure probability, over seeds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RecoveryPoint {
    /// Probability that one step attempt fails.
    pub p: f64,
    /// Fraction of operations completed.
    pub completed: MeanCi,
    /// Mean duration of a completed operation (ms).
    pub completed_ms: MeanCi,
    /// Mean duration of an aborted operation, compensation included (ms;
    /// NaN if none aborted).
    pub aborted_ms: f64,
    /// Mean step attempts per operation.
    pub attempts: MeanCi,
    /// Theory: fraction completed.
    pub theory_completed: f64,
    /// Theory: mean duration of a completed operation (ms), if the latency
    /// has a known mean.
    pub theory_completed_ms: Option<f64>,
}

/// Both strategies over a list of failure probabilities.
#[derive(Debug, Clone, Serialize)]
pub struct RecoveryCurves {
    /// The parameters.
    pub params: Recovery,
    /// `points[s][i]`: strategy `s` at the `i`-th probability.
    pub points: Vec<Vec<RecoveryPoint>>,
    /// The strategies, in chart order.
    pub strategies: Vec<Strategy>,
}

/// The mean of a latency model in ms, where it has a simple one.
fn mean_ms(l: &Latency) -> Option<f64> {
    match *l {
        Latency::Constant { ns } => Some(ns / 1e6),
        Latency::Uniform { lo, hi } => Some((lo + hi) / 2e6),
        Latency::Exponential { mean } => Some(mean / 1e6),
        _ => None,
    }
}

/// What happened to one operation.
struct Op {
    completed: bool,
    ms: f64,
    attempts: u32,
}

impl Recovery {
    /// Checks every parameter.
    pub fn validate(&self) -> Result<()> {
        crate::error::check_count("steps", self.steps as usize, 1, 1000, "steps")?;
        crate::error::check_count("max_retries", self.max_retries as usize, 0, 1000, "retries")?;
        crate::error::check_count("operations", self.operations, 1, 1_000_000, "operations")?;
        crate::measure::stats::check_replications(self.seeds as u64)?;
        check_probability("permanent", self.permanent)?;
        self.latency.validate()?;
        Ok(())
    }

    /// The closed forms `(completed, mean ms of a completed operation)`.
    pub fn theory(&self, strategy: Strategy, p: f64) -> (f64, Option<f64>) {
        let n = f64::from(self.steps);
        let ok = 1.0 - self.permanent;
        let l = mean_ms(&self.latency);
        match strategy {
            Strategy::Backward => (ok * (1.0 - p).powf(n), l.map(|l| n * l)),
            Strategy::Forward => {
                let tries = self.max_retries + 1;
                let within = theory::success_within(p, tries).unwrap_or(f64::NAN);
                let ea = theory::mean_attempts_to_succeed(p, tries).unwrap_or(f64::NAN);
                (
                    ok * within.powf(n),
                    l.map(|l| n * (ea * l + (ea - 1.0) * self.delay.as_ms())),
                )
            }
        }
    }

    fn one(&self, strategy: Strategy, p: f64, r: &mut SimRng) -> Op {
        let bad_step = rng::chance(r, self.permanent).then(|| rng::index(r, self.steps as usize));
        let mut t = 0.0;
        let mut attempts = 0;
        for step in 0..self.steps as usize {
            let mut tries = 0;
            loop {
                tries += 1;
                attempts += 1;
                t += self.latency.sample(r).as_ms();
                let ok = bad_step != Some(step) && !rng::chance(r, p);
                if ok {
                    break;
                }
                let may_retry = strategy == Strategy::Forward && tries <= self.max_retries;
                if !may_retry {
                    // Undo the steps that succeeded, in reverse order.
                    for _ in 0..step {
                        t += self.latency.sample(r).as_ms();
                    }
                    return Op {
                        completed: false,
                        ms: t,
                        attempts,
                    };
                }
                t += self.delay.as_ms();
            }
        }
        Op {
            completed: true,
            ms: t,
            attempts,
        }
    }

    /// Runs both strategies at every step failure probability in `ps`
    /// (the same seeds for all). Errors on bad parameters or an empty list.
    ///
    /// ```
    /// use thinkdist::ch03::recovery::Recovery;
    /// let c = Recovery { operations: 500, seeds: 3, ..Default::default() }.run(&[0.2])?;
    /// let (back, fwd) = (&c.points[0][0], &c.points[1][0]);
    /// assert!(fwd.completed.mean > 0.95 && back.completed.mean < 0.4);
    /// assert!(fwd.completed_ms.mean > back.completed_ms.mean); // paid in latency
    /// # Ok::<(), thinkdist::Error>(())
    /// ```
    pub fn run(&self, ps: &[f64]) -> Result<RecoveryCurves> {
        self.validate()?;
        if ps.is_empty() {
            return Err(Error::empty("failure probabilities"));
        }
        for &p in ps {
            check_probability("p", p)?;
        }
        crate::error::check_work(
            "probabilities × seeds × operations × steps × (max_retries + 1)",
            2.0 * ps.len() as f64
                * self.seeds as f64
                * self.operations as f64
                * f64::from(self.steps)
                * (f64::from(self.max_retries) + 1.0),
        )?;
        let seeds: Vec<u64> = (0..self.seeds as u64)
            .map(|j| derive_seed(self.seed, domain::EXPERIMENT, j, 0))
            .collect();
        let grid: Vec<(Strategy, usize)> = Strategy::ALL
            .iter()
            .flat_map(|&s| (0..ps.len()).map(move |i| (s, i)))
            .collect();
        let results = Sweep::new(grid)
            .seed_list(seeds)
            .progress(false)
            .run(|&(s, i), seed| {
                let mut r = rng::stream(seed, domain::EXPERIMENT, 0x5A6A, i as u64);
                let ops: Vec<Op> = (0..self.operations)
                    .map(|_| self.one(s, ps[i], &mut r))
                    .collect();
                let done: Vec<&Op> = ops.iter().filter(|o| o.completed).collect();
                let n = ops.len() as f64;
                let aborted: Vec<&Op> = ops.iter().filter(|o| !o.completed).collect();
                Ok((
                    done.len() as f64 / n,
                    // No completed operation: no duration (NaN, left out).
                    done.iter().map(|o| o.ms).sum::<f64>() / done.len() as f64,
                    aborted.iter().map(|o| o.ms).sum::<f64>(),
                    aborted.len(),
                    ops.iter().map(|o| f64::from(o.attempts)).sum::<f64>() / n,
                ))
            })?;
        let mut points: Vec<Vec<RecoveryPoint>> = vec![Vec::new(), Vec::new()];
        for res in results {
            let (s, i) = res.point;
            let v = &res.values;
            let durations: Vec<f64> = v.iter().map(|x| x.1).filter(|x| x.is_finite()).collect();
            let completed_ms = if durations.is_empty() {
                MeanCi {
                    mean: f64::NAN,
                    half_width: f64::NAN,
                    sd: f64::NAN,
                    n: 0,
                }
            } else {
                mean_ci(&durations)?
            };
            let aborted: usize = v.iter().map(|x| x.3).sum();
            let (tc, tms) = self.theory(s, ps[i]);
            points[if s == Strategy::Backward { 0 } else { 1 }].push(RecoveryPoint {
                p: ps[i],
                completed: mean_ci(&v.iter().map(|x| x.0).collect::<Vec<_>>())?,
                completed_ms,
                aborted_ms: v.iter().map(|x| x.2).sum::<f64>() / aborted as f64,
                attempts: mean_ci(&v.iter().map(|x| x.4).collect::<Vec<_>>())?,
                theory_completed: tc,
                theory_completed_ms: tms,
            });
        }
        Ok(RecoveryCurves {
            params: self.clone(),
            points,
            strategies: Strategy::ALL.to_vec(),
        })
    }
}

impl RecoveryCurves {
    fn chart(
        &self,
        pick: fn(&RecoveryPoint) -> (MeanCi, Option<f64>),
        scale: f64,
        opts: Opts,
    ) -> Result<Figure> {
        let mut series = Vec::new();
        let mut overlays = Vec::new();
        for (s, pts) in self.strategies.iter().zip(&self.points) {
            let pts: Vec<&RecoveryPoint> =
                pts.iter().filter(|p| pick(p).0.mean.is_finite()).collect();
            if pts.is_empty() {
                continue;
            }
            series.push(
                Series::new(
                    s.name(),
                    pts.iter()
                        .map(|p| (100.0 * p.p, scale * pick(p).0.mean))
                        .collect(),
                )
                .with_band(
                    pts.iter()
                        .map(|p| {
                            let (lo, hi) = pick(p).0.interval();
                            let (lo, hi) = if lo.is_finite() {
                                (lo, hi)
                            } else {
                                (pick(p).0.mean, pick(p).0.mean)
                            };
                            ((scale * lo).max(0.0), scale * hi)
                        })
                        .collect(),
                )
                .with_style(SeriesStyle::Points),
            );
            let th: Option<Vec<(f64, f64)>> = pts
                .iter()
                .map(|p| pick(p).1.map(|y| (100.0 * p.p, scale * y)))
                .collect();
            if let Some(th) = th {
                overlays.push(Series::new(format!("{} (theory)", s.name()), th));
            }
        }
        line_chart(&series, &overlays, opts)
    }

    /// Percent of operations completed against the step failure
    /// probability, with the closed forms.
    pub fn completion_chart(&self) -> Result<Figure> {
        self.chart(
            |p| (p.completed, Some(p.theory_completed)),
            100.0,
            Opts::new(format!(
                "Operations of {} steps completed (forward: up to {} retries per step)",
                self.params.steps, self.params.max_retries
            ))
            .x_label("probability that a step attempt fails (%)")
            .y_label("operations completed (%)"),
        )
    }

    /// Mean duration of a completed operation against the step failure
    /// probability, with the closed forms.
    pub fn latency_chart(&self) -> Result<Figure> {
        self.chart(
            |p| (p.completed_ms, p.theory_completed_ms),
            1.0,
            Opts::new("What forward recovery costs: duration of a completed operation")
                .x_label("probability that a step attempt fails (%)")
                .y_label("mean duration of a completed operation (ms)"),
        )
    }

    /// One row per strategy and probability.
    pub fn table(&self) -> Table {
        let mut t = Table::new(&[
            "strategy",
            "step failure %",
            "completed %",
            "completed % (theory)",
            "completed: mean ms",
            "theory ms",
            "aborted: mean ms",
            "step attempts / operation",
        ]);
        for (s, pts) in self.strategies.iter().zip(&self.points) {
            for p in pts {
                let f = |x: f64| {
                    if x.is_finite() {
                        format!("{x:.1}")
                    } else {
                        "—".into()
                    }
                };
                t.push_row(vec![
                    s.name().to_string(),
                    format!("{:.0}", 100.0 * p.p),
                    format!(
                        "{:.1} ± {:.1}",
                        100.0 * p.completed.mean,
                        100.0 * p.completed.half_width
                    ),
                    format!("{:.1}", 100.0 * p.theory_completed),
                    if p.completed_ms.mean.is_finite() {
                        format!(
                            "{:.1} ± {:.1}",
                            p.completed_ms.mean, p.completed_ms.half_width
                        )
                    } else {
                        "—".into()
                    },
                    p.theory_completed_ms.map_or("—".into(), f),
                    f(p.aborted_ms),
                    format!("{:.2}", p.attempts.mean),
                ]);
            }
        }
        t.caption(format!(
            "{} operations per seed, {} seeds, {} steps, {} % with a permanently failing step; ± is the 95 % interval over seeds",
            self.params.operations,
            self.params.seeds,
            self.params.steps,
            100.0 * self.params.permanent
        ))
    }
}
