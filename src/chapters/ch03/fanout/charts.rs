//! Charts and tables of fan-out and hedging: simulated points with their
//! intervals, the closed forms drawn over them.

use super::hedging::HedgePoint;
use super::wait_for_all::FanoutPoint;
use crate::error::{check_probability, Error, Result};
use crate::measure::stats::MeanCi;
use crate::measure::theory;
use crate::plot::{line_chart, Figure, Opts, Series, SeriesStyle, Table};
use crate::sim::time::SimDuration;

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
    let mut formulas = Vec::new();
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
                Ok((n, pct(theory::fanout_slow_fraction(*q, n)?)))
            })
            .collect::<Result<_>>()?;
        formulas.push(Series::new(format!("{name}, 1 − (1 − q)ⁿ"), smooth));
    }
    line_chart(
        &sims,
        &formulas,
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
