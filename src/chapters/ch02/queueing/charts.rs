//! Chapter 2's queueing charts and tables: latency against load (log and
//! linear), pooling, Little's law, and one run's tail against M/M/c theory.

use super::{LoadPoint, QueueRun};
use crate::error::{Error, Result};
use crate::measure::stats::MeanCi;
use crate::plot::{line_chart, Figure, Opts, Series, SeriesStyle, Table};

/// Mean time in system against load for several curves (label, points),
/// simulated with 95 % bands, each with its theory curve dashed, on a log
/// y axis (every decade of latency visible). See [`load_chart_linear`] for
/// the knee.
pub fn load_chart(curves: &[(String, Vec<LoadPoint>)]) -> Result<Figure> {
    load_chart_with(
        curves,
        Opts::new("Latency against load: simulation and M/M/c theory")
            .x_label("offered load per worker ρ")
            .y_label("mean time in system (ms)")
            .log_y(),
    )
}

/// [`load_chart`] on a linear y axis: flat, then a knee, then a wall as ρ
/// nears 1 — the shape a log axis hides.
pub fn load_chart_linear(curves: &[(String, Vec<LoadPoint>)]) -> Result<Figure> {
    load_chart_with(
        curves,
        Opts::new("The knee: latency is flat, then explodes near ρ = 1")
            .x_label("offered load per worker ρ")
            .y_label("mean time in system (ms)"),
    )
}

fn load_chart_with(curves: &[(String, Vec<LoadPoint>)], opts: Opts) -> Result<Figure> {
    let mut sims = Vec::new();
    let mut theory = Vec::new();
    for (label, pts) in curves {
        sims.push(
            Series::new(
                format!("{label}: simulated"),
                pts.iter().map(|p| (p.load, p.mean_ms.mean)).collect(),
            )
            .with_band(pts.iter().map(|p| p.mean_ms.interval()).collect())
            .with_style(SeriesStyle::LinePoints),
        );
        theory.push(Series::new(
            format!("{label}: theory"),
            pts.iter().map(|p| (p.load, p.theory_mean_ms)).collect(),
        ));
    }
    line_chart(&sims, &theory, opts)
}

/// Pooling: the mean and the p99 of the time in system against the load
/// per worker, for `separate` (each worker with its own queue: c × M/M/1,
/// the points of `load_curve(1, ..)`) and `pooled` (one queue for all: M/M/c,
/// the points of `load_curve(c, ..)`) at the same total load. Simulated
/// with 95 % bands over seeds; M/M/1 and Erlang C theory dashed. Log y.
///
/// Splitting a Poisson stream at random gives independent Poisson streams,
/// so c separate queues at total rate cλ are c independent M/M/1 queues
/// at rate λ: one of them, simulated, has the latency distribution of all.
pub fn pooling_chart(separate: &[LoadPoint], pooled: &[LoadPoint]) -> Result<Figure> {
    let mut sims = Vec::new();
    let mut theory = Vec::new();
    for (label, pts) in [("separate queues", separate), ("one pooled queue", pooled)] {
        for (stat, p99) in [("mean", false), ("p99", true)] {
            let pick = |p: &LoadPoint| if p99 { p.p99_ms } else { p.mean_ms };
            sims.push(
                Series::new(
                    format!("{label}: {stat}"),
                    pts.iter().map(|p| (p.load, pick(p).mean)).collect(),
                )
                .with_band(pts.iter().map(|p| pick(p).interval()).collect())
                .with_style(SeriesStyle::LinePoints),
            );
            theory.push(Series::new(
                format!("{label}: {stat} (theory)"),
                pts.iter()
                    .map(|p| {
                        (
                            p.load,
                            if p99 {
                                p.theory_p99_ms
                            } else {
                                p.theory_mean_ms
                            },
                        )
                    })
                    .collect(),
            ));
        }
    }
    line_chart(
        &sims,
        &theory,
        Opts::new("One shared queue beats separate queues at the same load")
            .x_label("offered load per worker ρ")
            .y_label("time in system (ms)")
            .log_y(),
    )
}

/// Little's law on runs: measured L against λ·W, and theory.
pub fn littles_law_table(runs: &[QueueRun]) -> Result<Table> {
    let mut t = Table::new(&[
        "workers c",
        "load ρ",
        "L (time average)",
        "λ (measured, /s)",
        "W (ms)",
        "λ·W",
        "L theory",
    ]);
    for r in runs {
        // An overloaded queue has no steady state, so no theory to show.
        let l_theory = crate::measure::theory::mmc(
            r.params.arrival_rate,
            r.params.service_rate,
            r.params.servers,
        )
        .map_or_else(
            |_| "— (no steady state)".to_string(),
            |th| format!("{:.4}", th.l),
        );
        t = t.row(vec![
            r.params.servers.to_string(),
            format!("{:.2}", r.params.load()),
            format!("{:.4}", r.l_time_average),
            format!("{:.2}", r.throughput),
            format!("{:.3}", r.w_all_ms),
            format!("{:.4}", r.throughput * r.w_all_ms / 1e3),
            l_theory,
        ]);
    }
    Ok(t)
}

/// A table of the load curve: simulated mean and p99 (each the mean over
/// seeds ± its 95 % half-width) against theory.
pub fn load_table(label: &str, pts: &[LoadPoint]) -> Table {
    let mut t = Table::new(&[
        "system",
        "load ρ",
        "mean (ms)",
        "theory mean (ms)",
        "p99 (ms)",
        "theory p99 (ms)",
    ]);
    for p in pts {
        t = t.row(vec![
            label.to_string(),
            format!("{:.2}", p.load),
            pm(p.mean_ms),
            format!("{:.1}", p.theory_mean_ms),
            pm(p.p99_ms),
            format!("{:.1}", p.theory_p99_ms),
        ]);
    }
    t
}

fn pm(c: MeanCi) -> String {
    format!("{:.1} ± {:.1}", c.mean, c.half_width)
}

/// Pooling side by side, one row per load: separate queues (c × M/M/1)
/// and one pooled queue (M/M/c), mean and p99 simulated (mean over seeds ±
/// 95 % half-width) and theory, and how many times lower the pooled mean is.
pub fn pooling_table(separate: &[LoadPoint], pooled: &[LoadPoint]) -> Result<Table> {
    if separate.len() != pooled.len()
        || separate
            .iter()
            .zip(pooled)
            .any(|(a, b)| (a.load - b.load).abs() > 1e-12)
    {
        return Err(Error::invalid(
            "pooled",
            format!("{} points", pooled.len()),
            "the same loads as `separate` (run both load curves with the same loads)",
        ));
    }
    let mut t = Table::new(&[
        "load ρ",
        "mean separate (ms)",
        "theory",
        "mean pooled (ms)",
        "theory",
        "p99 separate (ms)",
        "theory",
        "p99 pooled (ms)",
        "theory",
    ]);
    for (a, b) in separate.iter().zip(pooled) {
        t = t.row(vec![
            format!("{:.2}", a.load),
            pm(a.mean_ms),
            format!("{:.1}", a.theory_mean_ms),
            pm(b.mean_ms),
            format!("{:.1}", b.theory_mean_ms),
            pm(a.p99_ms),
            format!("{:.1}", a.theory_p99_ms),
            pm(b.p99_ms),
            format!("{:.1}", b.theory_p99_ms),
        ]);
    }
    Ok(t)
}

/// P(T > t) for the time in system T of a stable M/M/c queue (t in
/// seconds): exponential with rate μ − λ for c = 1; for c > 1 the mixture
/// of service and Erlang C wait documented at
/// [`QueueMetrics::time_in_system_percentile`](crate::measure::theory::QueueMetrics::time_in_system_percentile).
pub fn time_in_system_tail(th: &crate::measure::theory::QueueMetrics, t: f64) -> f64 {
    let mu = th.mu;
    if th.servers == 1 {
        return (-(mu - th.lambda) * t).exp();
    }
    let c = th.p_wait;
    let theta = th.servers as f64 * mu - th.lambda;
    let mixed = if ((theta - mu) / mu).abs() < 1e-9 {
        (1.0 + mu * t) * (-mu * t).exp()
    } else {
        (theta * (-mu * t).exp() - mu * (-theta * t).exp()) / (theta - mu)
    };
    (1.0 - c) * (-mu * t).exp() + c * mixed
}

impl QueueRun {
    /// The theory of this run, if it has one (an open, stable queue).
    pub(super) fn theory(&self) -> Option<crate::measure::theory::QueueMetrics> {
        let p = &self.params;
        if p.closed.is_none() && p.arrival_rate < p.servers as f64 * p.service_rate {
            crate::measure::theory::mmc(p.arrival_rate, p.service_rate, p.servers).ok()
        } else {
            None
        }
    }

    /// The tail of the measured time in system, P(T > t) on a log axis,
    /// with p50/p90/p99/p99.9 and the mean marked, and the M/M/c theory
    /// (for one worker the exponential `exp(−(μ − λ) t)`, a straight line)
    /// dashed over it. An overloaded or closed queue has no theory line.
    pub fn latency_tail_chart(&self) -> Result<Figure> {
        let xs = self
            .latency
            .samples_ms()
            .ok_or_else(|| Error::empty("exact latency samples"))?;
        let p = &self.params;
        let x_max = xs.iter().copied().fold(0.0, f64::max).max(1e-9);
        let mut theory = Vec::new();
        let title = match self.theory() {
            Some(th) => {
                let name = if p.servers == 1 {
                    "M/M/1: exp(−(μ−λ)t)".to_string()
                } else {
                    format!("M/M/{}: Erlang C", p.servers)
                };
                let pts = (0..=300)
                    .map(|i| {
                        let t = x_max * f64::from(i) / 300.0;
                        (t, time_in_system_tail(&th, t / 1e3))
                    })
                    .collect();
                theory.push(Series::new(name, pts));
                if p.servers == 1 {
                    "Time in system of one run, against the M/M/1 tail"
                } else {
                    "Time in system of one run, against the M/M/c tail"
                }
            }
            None => "Time in system of one run: the tail",
        };
        crate::plot::tail_cdf(
            &[(
                format!("simulated, c = {}, ρ = {:.2}", p.servers, p.load()),
                xs,
            )],
            &theory,
            Opts::new(title)
                .x_label("time in system t (ms)")
                .y_label("fraction of jobs with T > t"),
        )
    }

    /// The plain CDF of the measured time in system (linear axes), with
    /// p50/p90/p99/p99.9 marked. For the tail, see [`Self::latency_tail_chart`].
    pub fn latency_cdf(&self) -> Result<Figure> {
        let xs = self
            .latency
            .samples_ms()
            .ok_or_else(|| Error::empty("exact latency samples"))?;
        crate::plot::cdf(
            &[(
                format!("c = {}, ρ = {:.2}", self.params.servers, self.params.load()),
                xs,
            )],
            Opts::new("Time in system: distribution of one run")
                .x_label("time in system (ms)")
                .y_label("fraction of jobs ≤ x"),
        )
    }

    /// Simulated percentiles of the time in system against the M/M/c formula.
    pub fn percentile_table(&self) -> Result<Table> {
        let p = &self.params;
        // An overloaded open queue (arrival_rate ≥ servers × service_rate)
        // has no steady state: the simulated column stands alone.
        let th = if p.closed.is_none() && p.arrival_rate < p.servers as f64 * p.service_rate {
            crate::measure::theory::mmc(p.arrival_rate, p.service_rate, p.servers).ok()
        } else {
            None
        };
        let dash = || "— (no steady state)".to_string();
        let mut t = Table::new(&["percentile", "simulated (ms)", "theory (ms)"]);
        let mean = self.latency.mean()?.as_ms();
        t = t.row(vec![
            "mean".into(),
            format!("{mean:.3}"),
            th.map_or_else(dash, |th| format!("{:.3}", th.w * 1e3)),
        ]);
        for q in [0.5, 0.9, 0.99, 0.999] {
            let theory = match &th {
                Some(th) => format!("{:.3}", th.time_in_system_percentile(q)? * 1e3),
                None => dash(),
            };
            t = t.row(vec![
                crate::plot::percentile_name(q),
                format!("{:.3}", self.latency.percentile(q)?.as_ms()),
                theory,
            ]);
        }
        Ok(t)
    }
}
