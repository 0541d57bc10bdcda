//! The three ways compared over crash rates: orders completed (and stuck
//! half-way), duplicate effects, latency; replicated over seeds with 95 %
//! intervals, with the theory of a job restarted from scratch.
//!
//! ## Theory
//! A call is tried until an attempt's request and answer both arrive
//! (probability `q = (1 − p)²` per attempt, `p` the loss); each failed
//! attempt costs the timeout `τ`, the successful one a round trip of two
//! exponential latencies of mean `L`. With the worker's up-times
//! exponential of rate `λ`, the chance that a call finishes before the next
//! crash is `c(λ) = q (1 + λL)⁻² / (1 − (1 − q) e^(−λτ))`, and that an
//! order of `k` calls and a wait `W` runs without a crash is
//! `s(λ) = e^(−λW) c(λ)^k`:
//! - **plain code** completes an order only if no crash hits it: a
//!   fraction `s(λ)`;
//! - **restart** needs one crash-free attempt; attempts are independent,
//!   each failed one costs its time until the crash plus the downtime `D`,
//!   so an order takes `(1/λ + D)(1/s(λ) − 1)` on average (the classic
//!   result for jobs restarted from scratch), plus `D/2` for the share
//!   `λD/(1 + λD)` of orders that arrive while the worker is down;
//! - without crashes an order takes `W + k (2L + τ (1 − q)/q)`.

use super::run::{ShopParams, ShopRun};
use super::shop::{Flow, Way};
use crate::error::{Error, Result};
use crate::measure::stats::check_replications;
use crate::measure::{mean_ci, MeanCi};
use crate::plot::{fmt_num, line_chart, Figure, Opts, Series, SeriesStyle, Table};
use crate::sim::rng::{derive_seed, domain};
use crate::sim::sweep::Sweep;
use crate::sim::time::{secs, SimDuration};
use serde::Serialize;

/// What the theory needs to know of a flow: how many calls it makes and
/// how long it waits in all.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Shape {
    /// Service calls per order.
    pub calls: u32,
    /// Time spent waiting (sleeps).
    pub wait: SimDuration,
}

impl Shape {
    /// The shape of [`super::shop::standard_order`]: four calls, one wait
    /// of a second.
    pub const STANDARD: Shape = Shape {
        calls: 4,
        wait: secs(1),
    };

    /// The chance that one call finishes before a crash, at `rate` crashes
    /// per second of up-time (1 at rate 0).
    pub fn call_survives(&self, p: &ShopParams, rate: f64) -> f64 {
        let q = (1.0 - p.loss).powi(2);
        let (l, tau) = (p.latency.as_secs_f64(), p.timeout.as_secs_f64());
        q * (1.0 + rate * l).powi(-2) / (1.0 - (1.0 - q) * (-rate * tau).exp())
    }
    /// The chance that a whole order runs without a crash.
    pub fn survives(&self, p: &ShopParams, rate: f64) -> f64 {
        (-rate * self.wait.as_secs_f64()).exp()
            * self.call_survives(p, rate).powi(self.calls as i32)
    }
    /// An order's mean duration without crashes, in seconds.
    pub fn crash_free_s(&self, p: &ShopParams) -> f64 {
        let q = (1.0 - p.loss).powi(2);
        let call = 2.0 * p.latency.as_secs_f64() + p.timeout.as_secs_f64() * (1.0 - q) / q;
        self.wait.as_secs_f64() + f64::from(self.calls) * call
    }
    /// An order's mean latency when every crash restarts it from scratch,
    /// in seconds.
    pub fn restart_latency_s(&self, p: &ShopParams, rate: f64) -> f64 {
        if rate <= 0.0 {
            return self.crash_free_s(p);
        }
        let d = p.downtime.as_secs_f64();
        let down_at_arrival = rate * d / (1.0 + rate * d);
        down_at_arrival * d / 2.0 + (1.0 / rate + d) * (1.0 / self.survives(p, rate) - 1.0)
    }
}

/// One way at one crash rate, over seeds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WayPoint {
    /// Worker crashes per second of up-time.
    pub rate: f64,
    /// Fraction of orders completed.
    pub completed: MeanCi,
    /// Fraction stuck half-way.
    pub stuck: MeanCi,
    /// Duplicate effects per 100 orders.
    pub duplicates: MeanCi,
    /// Duplicate charges per 100 orders.
    pub duplicate_charges: MeanCi,
    /// Mean latency of completed orders (s), over the seeds that completed
    /// any (`None` if fewer than two did).
    pub latency: Option<MeanCi>,
    /// Messages per order.
    pub messages: MeanCi,
    /// Mean crashes per run.
    pub crashes: f64,
}

/// Every way at every crash rate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// The parameters.
    pub params: ShopParams,
    /// Seeds per point.
    pub seeds: usize,
    /// Per way, one point per rate.
    pub ways: Vec<(Way, Vec<WayPoint>)>,
}

/// Runs `flow` in every way at every crash rate (per second of the
/// worker's up-time), `seeds` runs each, on the same crash schedules for
/// every way (common random numbers). Errors on no rates, a bad rate, fewer
/// than 2 seeds, too much work, bad parameters, or a replay that took
/// another path ([`crate::Error::is_non_deterministic`]).
pub fn compare(params: &ShopParams, flow: Flow, rates: &[f64], seeds: usize) -> Result<Comparison> {
    params.validate()?;
    if rates.is_empty() {
        return Err(Error::empty("crash rates"));
    }
    let mut rates = rates.to_vec();
    rates.sort_by(f64::total_cmp);
    rates.dedup();
    for &r in &rates {
        params.crash_plan(params.seed, r)?;
    }
    check_replications(seeds as u64)?;
    let max_rate = rates.iter().fold(0.0f64, |a, &b| a.max(b));
    // Events per run: each order's calls (about 6 events each) once per
    // attempt, plus the crashes and restarts.
    let attempts = (1.0 / Shape::STANDARD.survives(params, max_rate)).min(1e4);
    let per_run =
        params.orders as f64 * 30.0 * attempts + params.horizon().as_secs_f64() * max_rate * 4.0;
    crate::error::check_work(
        "ways × rates × seeds × orders (× restarts at the highest crash rate)",
        3.0 * rates.len() as f64 * seeds as f64 * per_run,
    )?;
    let list: Vec<u64> = (0..seeds as u64)
        .map(|j| derive_seed(params.seed, domain::EXPERIMENT, 0x11, j))
        .collect();
    let grid: Vec<(Way, f64)> = Way::ALL
        .iter()
        .flat_map(|&w| rates.iter().map(move |&r| (w, r)))
        .collect();
    // Each run gets its share of a cell's events, so that a flow far
    // costlier than the estimate stops with an error instead of a long wait.
    let budget = (crate::error::limits::EVENTS / grid.len().max(1) as f64 / seeds.max(1) as f64)
        .max(100_000.0) as u64;
    let results = Sweep::new(grid).seed_list(list).run(|&(way, rate), seed| {
        ShopParams {
            seed,
            ..params.clone()
        }
        .run_within(way, rate, flow, budget)
    })?;
    let mut ways: Vec<(Way, Vec<WayPoint>)> = Way::ALL.iter().map(|&w| (w, Vec::new())).collect();
    for r in results {
        let (way, rate) = r.point;
        let point = summarize(rate, &r.values)?;
        if let Some(slot) = ways.iter_mut().find(|(w, _)| *w == way) {
            slot.1.push(point);
        }
    }
    Ok(Comparison {
        params: params.clone(),
        seeds,
        ways,
    })
}

fn summarize(rate: f64, runs: &[ShopRun]) -> Result<WayPoint> {
    let ci = |f: &dyn Fn(&ShopRun) -> f64| mean_ci(&runs.iter().map(f).collect::<Vec<_>>());
    let lat: Vec<f64> = runs.iter().filter_map(ShopRun::mean_latency_s).collect();
    Ok(WayPoint {
        rate,
        completed: ci(&|r| r.completed_fraction())?,
        stuck: ci(&|r| r.stuck_fraction())?,
        duplicates: ci(&|r| r.duplicates_per_100())?,
        duplicate_charges: ci(&|r| 100.0 * r.duplicate_charges as f64 / r.orders.max(1) as f64)?,
        latency: if lat.len() >= 2 {
            Some(mean_ci(&lat)?)
        } else {
            None
        },
        messages: ci(&|r| r.messages as f64 / r.orders.max(1) as f64)?,
        crashes: runs.iter().map(|r| r.crashes as f64).sum::<f64>() / runs.len().max(1) as f64,
    })
}

/// A series of one way: `f` of each point, with its interval.
fn series(
    label: String,
    pts: &[WayPoint],
    f: impl Fn(&WayPoint) -> Option<MeanCi>,
    scale: f64,
) -> Series {
    let kept: Vec<(f64, MeanCi)> = pts
        .iter()
        .filter_map(|p| f(p).map(|c| (p.rate, c)))
        .collect();
    Series::new(
        label,
        kept.iter().map(|(x, c)| (*x, scale * c.mean)).collect(),
    )
    .with_band(
        kept.iter()
            .map(|(_, c)| {
                let (lo, hi) = c.interval();
                (scale * lo, scale * hi)
            })
            .collect(),
    )
    .with_style(SeriesStyle::LinePoints)
}

impl Comparison {
    fn rates(&self) -> Vec<f64> {
        self.ways
            .first()
            .map(|(_, pts)| pts.iter().map(|p| p.rate).collect())
            .unwrap_or_default()
    }

    /// Orders completed per way (and, for plain code, stuck half-way)
    /// against the crash rate; with `theory`, plain code's completions by
    /// the theory of the [module docs](self), dashed.
    pub fn completions_chart(&self, theory: Option<Shape>) -> Result<Figure> {
        let mut s = Vec::new();
        for (way, pts) in &self.ways {
            s.push(series(
                format!("{}: completed", way.name()),
                pts,
                |p| Some(p.completed),
                100.0,
            ));
            if *way == Way::Plain {
                s.push(series(
                    format!("{}: stuck half-way", way.name()),
                    pts,
                    |p| Some(p.stuck),
                    100.0,
                ));
            }
        }
        let overlays: Vec<Series> = theory
            .map(|t| {
                vec![Series::new(
                    "plain: no crash during the order (theory)",
                    self.rates()
                        .iter()
                        .map(|&r| (r, 100.0 * t.survives(&self.params, r)))
                        .collect(),
                )]
            })
            .unwrap_or_default();
        line_chart(
            &s,
            &overlays,
            Opts::new(format!(
                "Orders completed as the worker crashes ({} seeds)",
                self.seeds
            ))
            .x_label("worker crashes per second of up-time")
            .y_label("orders (%)"),
        )
    }

    /// Duplicate effects per 100 orders, per way, against the crash rate.
    pub fn duplicates_chart(&self) -> Result<Figure> {
        let s: Vec<Series> = self
            .ways
            .iter()
            .map(|(way, pts)| series(way.name().to_string(), pts, |p| Some(p.duplicates), 1.0))
            .collect();
        line_chart(
            &s,
            &[],
            Opts::new(format!(
                "Effects performed twice ({} % of messages lost)",
                fmt_num(100.0 * self.params.loss)
            ))
            .x_label("worker crashes per second of up-time")
            .y_label("duplicate effects per 100 orders"),
        )
    }

    /// Mean latency of the completed orders per way against the crash
    /// rate; with `theory`, a restart's mean latency (dashed) and the
    /// crash-free time (dotted).
    pub fn latency_chart(&self, theory: Option<Shape>) -> Result<Figure> {
        let s: Vec<Series> = self
            .ways
            .iter()
            .map(|(way, pts)| series(way.name().to_string(), pts, |p| p.latency, 1.0))
            .collect();
        let rates = self.rates();
        let overlays: Vec<Series> = theory
            .map(|t| {
                let p = &self.params;
                let fine: Vec<f64> = fine_grid(&rates);
                vec![
                    Series::new(
                        "restart (theory)",
                        fine.iter()
                            .map(|&r| (r, t.restart_latency_s(p, r)))
                            .collect(),
                    ),
                    Series::new(
                        "no crash (theory)",
                        fine.iter().map(|&r| (r, t.crash_free_s(p))).collect(),
                    ),
                ]
            })
            .unwrap_or_default();
        line_chart(
            &s,
            &overlays,
            Opts::new("Time from order to notice, completed orders")
                .x_label("worker crashes per second of up-time")
                .y_label("mean latency (s)"),
        )
    }

    /// One row per way and rate: completed and stuck (%), duplicates and
    /// duplicate charges per 100 orders, latency (s), messages per order,
    /// each mean ± the 95 % half-width over seeds; with `theory`, the
    /// theory's completion and restart latency beside them.
    pub fn table(&self, theory: Option<Shape>) -> Table {
        let mut t = Table::new(&[
            "way",
            "crashes / s",
            "completed %",
            "stuck %",
            "duplicates / 100",
            "dup. charges / 100",
            "latency (s)",
            "theory (s)",
            "messages / order",
        ]);
        let pm = |c: MeanCi, k: f64| format!("{:.1} ± {:.1}", k * c.mean, k * c.half_width);
        for (way, pts) in &self.ways {
            for p in pts {
                let th = match (theory, way) {
                    (Some(s), Way::Restart) => {
                        format!("{:.2}", s.restart_latency_s(&self.params, p.rate))
                    }
                    (Some(s), Way::Plain) => {
                        format!("{:.1} % complete", 100.0 * s.survives(&self.params, p.rate))
                    }
                    _ => String::new(),
                };
                t.push_row(vec![
                    way.name().to_string(),
                    fmt_num(p.rate),
                    pm(p.completed, 100.0),
                    pm(p.stuck, 100.0),
                    pm(p.duplicates, 1.0),
                    pm(p.duplicate_charges, 1.0),
                    p.latency.map_or_else(
                        || "–".to_string(),
                        |c| format!("{:.2} ± {:.2}", c.mean, c.half_width),
                    ),
                    th,
                    pm(p.messages, 1.0),
                ]);
            }
        }
        t.caption(format!(
            "{} orders per run, {} seeds per point (the same crash schedules for every way); ± is the 95 % interval over seeds",
            self.params.orders, self.seeds
        ))
    }
}

/// The rates, with nine steps between each two (for smooth theory curves).
fn fine_grid(rates: &[f64]) -> Vec<f64> {
    let mut v = Vec::new();
    for w in rates.windows(2) {
        for i in 0..10 {
            v.push(w[0] + (w[1] - w[0]) * f64::from(i) / 10.0);
        }
    }
    if let Some(&last) = rates.last() {
        v.push(last);
    }
    v
}
