//! Chapter 4: a deduplication window that expires.
//!
//! Real deduplication stores do not keep every key forever: a message
//! broker remembers message ids for a fixed window (minutes, not years), a
//! cache of keys evicts. A [`DedupStore::Expiring`] store forgets a key a
//! time `W` after the copy that wrote it was processed. A copy that arrives
//! later is processed again.
//!
//! Here the copies are the at-least-once sender's resends after a lost ack,
//! one every resend interval `R` (the *redelivery delay*). With a constant
//! latency, copies of one message arrive a whole number of intervals apart,
//! so a window shorter than `R` forgets every key in time for the next
//! copy (as bad as no dedup), one longer than `(k − 1)·R` catches every
//! copy (as good as a durable store), and in between the fraction processed
//! twice falls in steps at each multiple of `R`
//! ([`crate::delivery::theory::expiring_more_than_once`]). The rule: the
//! window must outlast the longest redelivery delay, resends included.

use super::delivery::{replication_seeds, DeliveryParams, Outcome, Scenario};
use crate::delivery::{theory, DedupStore, Resend, Semantics};
use crate::error::{Error, Result};
use crate::measure::stats::MeanCi;
use crate::measure::SweepCi;
use crate::plot::{line_chart, Figure, Opts, Series, SeriesStyle, Table};
use crate::sim::net::Latency;
use crate::sim::sweep::Sweep;
use crate::sim::time::SimDuration;
use serde::Serialize;

/// One point: a redelivery delay and a window, over seeds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct WindowPoint {
    /// The resend interval `R` (ms).
    pub interval_ms: f64,
    /// The window `W` (ms).
    pub window_ms: f64,
    /// Fraction of messages processed more than once.
    pub more_than_once: MeanCi,
    /// The closed form, if it applies (constant latency, no duplication).
    pub theory: Option<f64>,
}

/// Every window for every redelivery delay.
#[derive(Debug, Clone, Serialize)]
pub struct WindowSweep {
    /// The base parameters (the resend interval is replaced per curve).
    pub params: DeliveryParams,
    /// `points[r][w]`: interval `r`, window `w`.
    pub points: Vec<Vec<WindowPoint>>,
    /// Seeds per point.
    pub seeds: usize,
}

/// The closed form for one point, if `params` meet its conditions
/// (constant latency `L` with `2L` shorter than the interval, no network
/// duplication).
fn theory_for(params: &DeliveryParams, interval: SimDuration, window: SimDuration) -> Option<f64> {
    let Latency::Constant { ns } = params.latency else {
        return None;
    };
    if params.duplicate != 0.0 || 2.0 * ns >= interval.0 as f64 {
        return None;
    }
    theory::expiring_more_than_once(
        params.loss,
        params.resend.max_attempts,
        window.0 as f64 / interval.0 as f64,
    )
    .ok()
}

/// Runs at-least-once delivery (no crashes) with an expiring dedup store
/// for every resend interval in `intervals` and every window in `windows`,
/// `seeds` seeds each (the same seeds everywhere). Errors on empty lists, a
/// zero interval, fewer than 2 seeds, or bad parameters.
///
/// ```
/// use thinkdist::ch04::window::sweep_window;
/// use thinkdist::ch04::delivery::DeliveryParams;
/// use thinkdist::prelude::*;
/// let p = DeliveryParams { messages: 200, loss: 0.3, duplicate: 0.0,
///     latency: Latency::constant(ms(5)), ..Default::default() };
/// let s = sweep_window(&p, &[ms(100)], &[ms(50), ms(450)], 2)?;
/// assert!(s.points[0][0].more_than_once.mean > 0.1); // window < interval: resends processed again
/// assert_eq!(s.points[0][1].more_than_once.mean, 0.0); // window > 4 intervals: never
/// # Ok::<(), thinkdist::Error>(())
/// ```
pub fn sweep_window(
    params: &DeliveryParams,
    intervals: &[SimDuration],
    windows: &[SimDuration],
    seeds: usize,
) -> Result<WindowSweep> {
    params.validate()?;
    if intervals.is_empty() {
        return Err(Error::empty("resend intervals"));
    }
    if windows.is_empty() {
        return Err(Error::empty("windows"));
    }
    for &r in intervals {
        Resend::new(r, params.resend.max_attempts)?;
    }
    crate::measure::stats::check_replications(seeds as u64)?;
    crate::error::check_work(
        "intervals × windows × seeds × messages × max_attempts",
        intervals.len() as f64 * windows.len() as f64 * seeds as f64 * params.work(),
    )?;
    let list = replication_seeds(params.seed, seeds)?;
    let grid: Vec<(SimDuration, SimDuration)> = intervals
        .iter()
        .flat_map(|&r| windows.iter().map(move |&w| (r, w)))
        .collect();
    let base = DeliveryParams {
        trace_cap: 0,
        ..params.clone()
    };
    let results = Sweep::new(grid).seed_list(list).run(|&(r, w), seed| {
        let p = DeliveryParams {
            seed,
            resend: Resend {
                interval: r,
                max_attempts: base.resend.max_attempts,
            },
            ..base.clone()
        };
        let sc = Scenario::new(Semantics::AtLeastOnce, DedupStore::Expiring(w), false);
        Ok(p.run(&sc)?.outcome)
    })?;
    let mut points = vec![Vec::with_capacity(windows.len()); intervals.len()];
    for (i, r) in results.into_iter().enumerate() {
        let (interval, window) = r.point;
        points[i / windows.len()].push(WindowPoint {
            interval_ms: interval.as_ms(),
            window_ms: window.as_ms(),
            more_than_once: r.mean_ci(Outcome::more_than_once_fraction)?,
            theory: theory_for(params, interval, window),
        });
    }
    Ok(WindowSweep {
        params: params.clone(),
        points,
        seeds,
    })
}

impl WindowSweep {
    /// Percent of messages processed more than once against the window,
    /// one curve per resend interval, with the closed form (a staircase
    /// with a step at each multiple of the interval) where it applies.
    pub fn chart(&self) -> Result<Figure> {
        let mut series = Vec::new();
        let mut overlays = Vec::new();
        for pts in &self.points {
            let Some(first) = pts.first() else { continue };
            let r = first.interval_ms;
            series.push(
                Series::new(
                    format!("resend every {} ms", crate::plot::fmt_num(r)),
                    pts.iter()
                        .map(|p| (p.window_ms, 100.0 * p.more_than_once.mean))
                        .collect(),
                )
                .with_band(
                    pts.iter()
                        .map(|p| {
                            let (lo, hi) = p.more_than_once.interval();
                            (100.0 * lo.max(0.0), 100.0 * hi.min(1.0))
                        })
                        .collect(),
                )
                .with_style(SeriesStyle::Points),
            );
            // The staircase, evaluated finely between the measured windows.
            let hi = pts.iter().map(|p| p.window_ms).fold(0.0, f64::max);
            let steps = 400;
            let line: Option<Vec<(f64, f64)>> = (0..=steps)
                .map(|i| {
                    let w = hi * i as f64 / steps as f64;
                    let th = theory_for(
                        &self.params,
                        SimDuration::from_ms_f64(r).ok()?,
                        SimDuration::from_ms_f64(w).ok()?,
                    )?;
                    Some((w, 100.0 * th))
                })
                .collect();
            if let Some(l) = line {
                overlays.push(Series::new(
                    format!("resend every {} ms (theory)", crate::plot::fmt_num(r)),
                    l,
                ));
            }
        }
        line_chart(
            &series,
            &overlays,
            Opts::new(format!(
                "Dedup window that expires: processed twice ({:.0} % loss, up to {} sends)",
                100.0 * self.params.loss,
                self.params.resend.max_attempts
            ))
            .x_label("dedup window W (ms): a key is forgotten W after processing")
            .y_label("messages processed twice or more (%)"),
        )
    }

    /// One row per point: interval, window, window / interval, measured
    /// (± 95 % half-width) and theory.
    pub fn table(&self) -> Table {
        let mut t = Table::new(&[
            "resend interval",
            "window",
            "window / interval",
            "processed >1 %",
            "processed >1 % (theory)",
        ]);
        for p in self.points.iter().flatten() {
            t.push_row(vec![
                format!("{} ms", crate::plot::fmt_num(p.interval_ms)),
                format!("{} ms", crate::plot::fmt_num(p.window_ms)),
                format!("{:.2}", p.window_ms / p.interval_ms),
                format!(
                    "{:.2} ± {:.2}",
                    100.0 * p.more_than_once.mean,
                    100.0 * p.more_than_once.half_width
                ),
                p.theory
                    .map_or("—".to_string(), |v| format!("{:.2}", 100.0 * v)),
            ]);
        }
        t.caption(format!(
            "{} messages per run, {} seeds, {:.0} % loss, up to {} sends; ± is the 95 % interval over seeds",
            self.params.messages,
            self.seeds,
            100.0 * self.params.loss,
            self.params.resend.max_attempts
        ))
    }
}
