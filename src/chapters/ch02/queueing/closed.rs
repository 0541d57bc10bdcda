//! Closed loop: `N` clients that each wait for their answer and think
//! before the next job, against mean value analysis and the asymptotes of
//! operational analysis.

use super::Queue;
use crate::error::{Error, Result};
use crate::measure::stats::{mean_ci, MeanCi};
use crate::measure::workload::ClosedLoop;
use crate::plot::{line_chart, Figure, Opts, Series, SeriesStyle};
use crate::sim::net::Latency;
use crate::sim::time::SimDuration;
use serde::Serialize;

/// One point of a closed-loop curve: `clients` clients against one worker.
#[derive(Debug, Clone, Serialize)]
pub struct ClosedPoint {
    /// Number of clients.
    pub clients: usize,
    /// Mean time in system (ms), mean and 95 % CI over seeds.
    pub mean_ms: MeanCi,
    /// Throughput (jobs/s), mean and 95 % CI over seeds.
    pub throughput: MeanCi,
    /// Mean value analysis: time in system (ms).
    pub theory_mean_ms: f64,
    /// Mean value analysis: throughput (jobs/s).
    pub theory_throughput: f64,
    /// Mean service time S (ms), for the asymptotes.
    pub service_ms: f64,
    /// Mean think time Z (ms), for the asymptotes.
    pub think_ms: f64,
}

impl ClosedPoint {
    /// The knee of the asymptotes, `N* = (S + Z) / S`: below it clients
    /// rarely meet (R ≈ S), above it the server is saturated (R ≈ N·S − Z).
    pub fn knee(&self) -> f64 {
        (self.service_ms + self.think_ms) / self.service_ms
    }
}

/// Closed loop: for each number of clients, one worker with exponential
/// service at `service_rate` and exponential think time `think`, simulated
/// over `seeds` seeds and compared with exact mean value analysis.
pub fn closed_curve(
    clients: &[usize],
    service_rate: f64,
    think: SimDuration,
    jobs: usize,
    seeds: u64,
) -> Result<Vec<ClosedPoint>> {
    crate::measure::stats::check_replications(seeds)?;
    crate::error::check_work(
        "clients × seeds × jobs",
        clients.len() as f64 * seeds as f64 * jobs as f64 * 3.0,
    )?;
    let think_dist = if think.0 == 0 {
        Latency::zero()
    } else {
        Latency::exponential(think)?
    };
    let mut out = Vec::with_capacity(clients.len());
    for &n in clients {
        let mut means = Vec::new();
        let mut xs = Vec::new();
        for seed in 0..seeds {
            let run = Queue {
                seed,
                servers: 1,
                arrival_rate: 0.0,
                service_rate,
                jobs,
                warmup: jobs / 10,
                closed: Some(ClosedLoop::new(n, think_dist.clone())?),
            }
            .run()?;
            means.push(run.mean_ms);
            xs.push(run.throughput);
        }
        let th = crate::measure::theory::mva(n, 1.0 / service_rate, think.as_secs_f64())?;
        out.push(ClosedPoint {
            clients: n,
            mean_ms: mean_ci(&means)?,
            throughput: mean_ci(&xs)?,
            theory_mean_ms: th.response_time * 1e3,
            theory_throughput: th.throughput,
            service_ms: 1e3 / service_rate,
            think_ms: think.as_secs_f64() * 1e3,
        });
    }
    Ok(out)
}

fn closed_range(points: &[ClosedPoint]) -> Result<(f64, f64, f64, f64)> {
    let first = points
        .first()
        .ok_or_else(|| Error::empty("closed-loop points"))?;
    let n_max = points.iter().map(|p| p.clients as f64).fold(1.0, f64::max);
    let n_min = points
        .iter()
        .map(|p| p.clients as f64)
        .fold(f64::INFINITY, f64::min);
    Ok((first.service_ms, first.think_ms, n_min, n_max))
}

/// Time in system against the number of closed-loop clients N: simulated
/// (95 % band), mean value analysis, and the two asymptotes of
/// operational analysis — `R ≥ S` (no queueing) and `R ≥ N·S − Z` (a
/// saturated server) — which cross at the knee `N* = (S + Z) / S`, drawn
/// as a vertical line.
pub fn closed_chart(points: &[ClosedPoint]) -> Result<Figure> {
    let (s, z, n_min, n_max) = closed_range(points)?;
    let sim = Series::new(
        "simulated",
        points
            .iter()
            .map(|p| (p.clients as f64, p.mean_ms.mean))
            .collect(),
    )
    .with_band(points.iter().map(|p| p.mean_ms.interval()).collect())
    .with_style(SeriesStyle::LinePoints);
    let mva = Series::new(
        "mean value analysis",
        points
            .iter()
            .map(|p| (p.clients as f64, p.theory_mean_ms))
            .collect(),
    );
    let knee = (s + z) / s;
    let top = points
        .iter()
        .map(|p| p.mean_ms.interval().1.max(p.theory_mean_ms))
        .fold(n_max * s - z, f64::max);
    let flat = Series::new("asymptote R = S", vec![(n_min, s), (n_max, s)]);
    let n0 = (z / s).max(n_min);
    let steep = Series::new(
        "asymptote R = N·S − Z",
        vec![(n0, n0 * s - z), (n_max, n_max * s - z)],
    );
    let mut overlays = vec![mva, flat, steep];
    if knee <= n_max {
        overlays.push(Series::new(
            format!("knee N* = (S+Z)/S = {}", crate::plot::fmt_num(knee)),
            vec![(knee, 0.0), (knee, top)],
        ));
    }
    line_chart(
        &[sim],
        &overlays,
        Opts::new("Closed loop: latency grows linearly past the knee, never explodes")
            .x_label("clients N (each waits for its answer, then thinks)")
            .y_label("mean time in system R (ms)"),
    )
}

/// Throughput against the number of closed-loop clients N: simulated (95 %
/// band), mean value analysis, and the bounds `X ≤ N / (S + Z)` (clients
/// never wait) and `X ≤ 1 / S` (the server is always busy), which meet at
/// the knee N*.
pub fn closed_throughput_chart(points: &[ClosedPoint]) -> Result<Figure> {
    let (s, z, n_min, n_max) = closed_range(points)?;
    let sim = Series::new(
        "simulated",
        points
            .iter()
            .map(|p| (p.clients as f64, p.throughput.mean))
            .collect(),
    )
    .with_band(points.iter().map(|p| p.throughput.interval()).collect())
    .with_style(SeriesStyle::LinePoints);
    let mva = Series::new(
        "mean value analysis",
        points
            .iter()
            .map(|p| (p.clients as f64, p.theory_throughput))
            .collect(),
    );
    let cap = 1e3 / s;
    let knee = (s + z) / s;
    let rising_end = knee.min(n_max);
    let rising = Series::new(
        "bound X ≤ N/(S+Z)",
        vec![
            (n_min, n_min * 1e3 / (s + z)),
            (rising_end, rising_end * 1e3 / (s + z)),
        ],
    );
    let flat = Series::new("bound X ≤ 1/S", vec![(n_min, cap), (n_max, cap)]);
    line_chart(
        &[sim],
        &[mva, rising, flat],
        Opts::new("Closed loop: throughput rises with N until the server saturates")
            .x_label("clients N")
            .y_label("throughput X (jobs/s)"),
    )
}
