//! Load shedding and deadlines: goodput against offered load.
//!
//! A server with a plain, unbounded FIFO queue works on everything it is
//! given. Past its capacity the queue grows, every answer comes after the
//! caller's timeout, the caller retries, and the server spends all of its
//! capacity on answers nobody waits for: goodput collapses to nothing
//! while the server is 100 % busy. Three remedies, all on the server side:
//!
//! * **a queue limit**: refuse at once what cannot be served soon;
//! * **deadlines passed along**: each request carries the time its caller
//!   stops waiting, and the server drops expired requests unserved;
//! * **deadlines and LIFO**: also serve the newest request first, whose
//!   caller is surely still waiting.
//!
//! The ideal is `min(offered, capacity)`: no server does more.

use super::storm::StormParams;
use crate::error::{check_count, Error, Result};
use crate::measure::stats::{mean_ci, MeanCi};
use crate::plot::{fmt_num, line_chart, Figure, Opts, Series, SeriesStyle, Table};
use crate::service::protect::Protection;
use crate::service::server::{Discipline, Shedding};
use crate::sim::sweep::Sweep;
use crate::sim::time::{secs, SimDuration};
use serde::Serialize;

/// How the server guards itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Guarding {
    /// Name for legends.
    pub name: &'static str,
    /// Queue limit (jobs waiting).
    pub queue_limit: Option<usize>,
    /// Clients pass their deadline; the server drops expired requests.
    pub deadline: bool,
    /// Queue discipline.
    pub discipline: Discipline,
}

impl Guarding {
    /// No guard: an unbounded FIFO queue.
    pub const NONE: Guarding = Guarding {
        name: "no shedding",
        queue_limit: None,
        deadline: false,
        discipline: Discipline::Fifo,
    };
    /// A queue limit of `n` jobs.
    pub const fn queue_limit(n: usize) -> Guarding {
        Guarding {
            name: "queue limit",
            queue_limit: Some(n),
            deadline: false,
            discipline: Discipline::Fifo,
        }
    }
    /// Deadlines passed along, expired requests dropped.
    pub const DEADLINES: Guarding = Guarding {
        name: "deadlines passed along",
        queue_limit: None,
        deadline: true,
        discipline: Discipline::Fifo,
    };
    /// Deadlines and newest first.
    pub const DEADLINES_LIFO: Guarding = Guarding {
        name: "deadlines + LIFO",
        queue_limit: None,
        deadline: true,
        discipline: Discipline::Lifo,
    };
}

/// Parameters: the storm's server and clients (no trigger), run at several
/// offered loads.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SheddingParams {
    /// Server, clients and seeds (its `load`, `duration` and trigger are
    /// not used).
    pub base: StormParams,
    /// Length of each run.
    pub duration: SimDuration,
    /// Goodput is measured after this (the queue has built up).
    pub measure_from: SimDuration,
}

impl Default for SheddingParams {
    /// The storm's server and clients, 3 seeds, 15 s runs measured from 5 s.
    fn default() -> Self {
        SheddingParams {
            base: StormParams {
                seeds: 3,
                ..StormParams::default()
            },
            duration: secs(15),
            measure_from: secs(5),
        }
    }
}

/// One guard's goodput curve.
#[derive(Debug, Clone, Serialize)]
pub struct GoodputCurve {
    /// The guard.
    pub guard: Guarding,
    /// Per offered load (over capacity): goodput over capacity, mean and
    /// 95 % interval over seeds.
    pub goodput: Vec<(f64, MeanCi)>,
    /// Per offered load: share of the server's completed work that was
    /// answered in time.
    pub useful: Vec<(f64, MeanCi)>,
}

/// [`goodput_vs_load`]'s result.
#[derive(Debug, Clone, Serialize)]
pub struct Goodput {
    /// The parameters.
    pub params: SheddingParams,
    /// One curve per guard.
    pub curves: Vec<GoodputCurve>,
}

/// Goodput (answers in time per second, over capacity) of each guard at
/// each offered load (`loads`: arrivals over capacity, e.g. 0.5 to 3).
pub fn goodput_vs_load(
    params: &SheddingParams,
    guards: &[Guarding],
    loads: &[f64],
) -> Result<Goodput> {
    if guards.is_empty() || loads.is_empty() {
        return Err(Error::empty("guards and loads"));
    }
    params.base.validate()?;
    if params.measure_from >= params.duration {
        return Err(Error::invalid(
            "measure_from",
            params.measure_from,
            &format!("before the end of the run ({})", params.duration),
        ));
    }
    check_count("loads", loads.len(), 1, 1000, "loads")?;
    let mut jobs = Vec::new();
    let mut work = 0.0;
    for &g in guards {
        for &l in loads {
            if !(l.is_finite() && l > 0.0 && l <= 20.0) {
                return Err(Error::invalid(
                    "loads",
                    l,
                    "offered loads in (0, 20] (1 = capacity)",
                ));
            }
            let c = cluster(params, g, l, 0)?;
            c.validate()?;
            work += c.work();
            jobs.push((g, l));
        }
    }
    crate::error::check_work(
        "guards × loads × seeds × requests",
        work * params.base.seeds as f64,
    )?;
    let seeds: Vec<u64> = (0..params.base.seeds)
        .map(|i| params.base.seed.wrapping_add(i))
        .collect();
    let res = Sweep::new(jobs)
        .seed_list(seeds)
        .progress(false)
        .run(|&(g, l), seed| {
            let r = cluster(params, g, l, seed)?.run()?;
            let b = r.params.bin.as_secs_f64();
            let from = (params.measure_from.as_secs_f64() / b) as usize;
            let bins = &r.bins[from.min(r.bins.len())..];
            let good: u64 = bins.iter().map(|x| u64::from(x.goodput)).sum();
            let late: u64 = bins.iter().map(|x| u64::from(x.late)).sum();
            let secs = bins.len() as f64 * b;
            Ok((
                good as f64 / secs / params.base.capacity(),
                good as f64 / (good + late).max(1) as f64,
            ))
        })?;
    let mut curves = Vec::new();
    for (i, &g) in guards.iter().enumerate() {
        let mut goodput = Vec::new();
        let mut useful = Vec::new();
        for (j, &l) in loads.iter().enumerate() {
            let r = &res[i * loads.len() + j];
            goodput.push((
                l,
                mean_ci(&r.values.iter().map(|v| v.0).collect::<Vec<_>>())?,
            ));
            useful.push((
                l,
                mean_ci(&r.values.iter().map(|v| v.1).collect::<Vec<_>>())?,
            ));
        }
        curves.push(GoodputCurve {
            guard: g,
            goodput,
            useful,
        });
    }
    Ok(Goodput {
        params: params.clone(),
        curves,
    })
}

fn cluster(
    p: &SheddingParams,
    g: Guarding,
    load: f64,
    seed: u64,
) -> Result<crate::service::cluster::Cluster> {
    let base = StormParams {
        load,
        duration: p.duration,
        ..p.base.clone()
    };
    let mut c = base.cluster(Protection::None, SimDuration::ZERO, seed)?;
    c.server.queue_limit = g.queue_limit;
    c.server.discipline = g.discipline;
    c.deadline = g.deadline;
    c.server.shedding = if g.deadline {
        Shedding::Expired
    } else {
        Shedding::None
    };
    Ok(c)
}

impl Goodput {
    /// The curve of the guard named `name`.
    pub fn curve(&self, name: &str) -> Option<&GoodputCurve> {
        self.curves.iter().find(|c| c.guard.name == name)
    }

    /// Goodput over capacity against offered load over capacity, a 95 %
    /// band over seeds, and the ideal `min(offered, 1)` dashed.
    pub fn chart(&self) -> Result<Figure> {
        let series: Vec<Series> = self
            .curves
            .iter()
            .map(|c| {
                let name = match c.guard.queue_limit {
                    Some(n) => format!("{} ({n} jobs)", c.guard.name),
                    None => c.guard.name.to_string(),
                };
                Series::new(name, c.goodput.iter().map(|(l, m)| (*l, m.mean)).collect())
                    .with_band(c.goodput.iter().map(|(_, m)| m.interval()).collect())
                    .with_style(SeriesStyle::LinePoints)
            })
            .collect();
        let xs: Vec<f64> = self.curves[0].goodput.iter().map(|p| p.0).collect();
        let lo = xs.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = xs.iter().copied().fold(0.0, f64::max);
        let mut ideal = vec![(lo, lo.min(1.0))];
        if lo < 1.0 && hi > 1.0 {
            ideal.push((1.0, 1.0));
        }
        ideal.push((hi, hi.min(1.0)));
        line_chart(
            &series,
            &[Series::new("ideal: min(offered, capacity)", ideal)],
            Opts::new("Goodput under overload: shed, or collapse")
                .x_label("offered load (requests over capacity)")
                .y_label("goodput (answers in time over capacity)"),
        )
    }

    /// Goodput and useful share of the work per guard and load.
    pub fn table(&self) -> Table {
        let mut t = Table::new(&[
            "guard",
            "offered load",
            "goodput / capacity",
            "useful share of work",
        ]);
        for c in &self.curves {
            for ((l, g), (_, u)) in c.goodput.iter().zip(&c.useful) {
                t = t.row(vec![
                    c.guard.name.to_string(),
                    fmt_num(*l),
                    format!("{:.3} ± {:.3}", g.mean, g.half_width),
                    format!("{:.3}", u.mean),
                ]);
            }
        }
        t
    }
}
