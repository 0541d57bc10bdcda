//! The charts and table of a [`LossSweep`]: one series per scenario with
//! its 95 % band, the closed forms drawn over them.

use super::params::DeliveryParams;
use super::scenario::Scenario;
use super::sweep::{LossSweep, Point};
use crate::error::Result;
use crate::measure::stats::MeanCi;
use crate::plot::{line_chart, Figure, Opts, Series, SeriesStyle, Table};

impl LossSweep {
    /// The chart of one measure: a series per scenario (mean and 95 %
    /// band), the closed forms as overlays. A series whose points equal an
    /// earlier one's would be drawn exactly on top of it and hidden: it is
    /// shifted right by 1 % of the x range per earlier twin, and its label
    /// says so. On a log y axis, points with a mean of 0 are left out (the
    /// caption of [`LossSweep::table`] gives the resolution: one message
    /// in all runs), and band ends below half that resolution are clipped
    /// to it.
    fn chart(
        &self,
        pick: fn(&Point) -> MeanCi,
        theory: fn(&Scenario, &DeliveryParams) -> Option<f64>,
        opts: Opts,
        log_y: bool,
    ) -> Result<Figure> {
        let pct = |x: f64| 100.0 * x;
        let floor = 50.0 / (self.params.messages as f64 * self.seeds.len().max(1) as f64);
        let span = self
            .points
            .iter()
            .flatten()
            .map(|p| pct(p.loss))
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
                (lo.min(x), hi.max(x))
            });
        let dx = if span.1 > span.0 {
            0.01 * (span.1 - span.0)
        } else {
            0.5
        };
        let mut raw: Vec<Vec<(f64, f64)>> = Vec::new();
        let mut series: Vec<Series> = Vec::new();
        for (sc, pts) in self.scenarios.iter().zip(&self.points) {
            let ys: Vec<(f64, f64)> = pts
                .iter()
                .map(|p| (pct(p.loss), pct(pick(p).mean)))
                .collect();
            let twins: Vec<usize> = (0..raw.len()).filter(|&j| raw[j] == ys).collect();
            raw.push(ys);
            let shift = dx * twins.len() as f64;
            let label = if twins.is_empty() {
                sc.label.clone()
            } else {
                format!("{} (same values as above: shifted right)", sc.label)
            };
            let kept: Vec<&Point> = pts
                .iter()
                .filter(|p| !log_y || pick(p).mean > 0.0)
                .collect();
            if kept.is_empty() {
                continue;
            }
            let lo_clip = if log_y { floor } else { 0.0 };
            series.push(
                Series::new(
                    label,
                    kept.iter()
                        .map(|p| (pct(p.loss) + shift, pct(pick(p).mean)))
                        .collect(),
                )
                .with_band(
                    kept.iter()
                        .map(|p| {
                            let (lo, hi) = pick(p).interval();
                            (pct(lo).max(lo_clip), pct(hi.min(1.0)))
                        })
                        .collect(),
                )
                .with_style(SeriesStyle::LinePoints),
            );
        }
        // Overlay `i` takes series `i`'s colour, so theory lines are drawn
        // for the leading scenarios that have a closed form.
        let mut overlays = Vec::new();
        for (sc, pts) in self.scenarios.iter().zip(&self.points) {
            let line: Option<Vec<(f64, f64)>> = pts
                .iter()
                .map(|p| {
                    let q = DeliveryParams {
                        loss: p.loss,
                        ..self.params.clone()
                    };
                    theory(sc, &q).map(|y| (100.0 * p.loss, 100.0 * y))
                })
                .collect();
            match line {
                Some(mut l) => {
                    if log_y {
                        l.retain(|&(_, y)| y > 0.0);
                    }
                    if !l.is_empty() {
                        overlays.push(Series::new(format!("{} (theory)", sc.label), l));
                    }
                }
                None => break,
            }
        }
        let opts = if log_y { opts.log_y() } else { opts };
        line_chart(&series, &overlays, opts)
    }

    /// Percent of messages never processed against the loss rate, on a
    /// log axis (the losses span orders of magnitude), with the closed
    /// forms (`p` for at-most-once, `p^k` for at-least-once). Points where
    /// no run lost a message are left out; the two dedup scenarios lose the
    /// same messages (the store does not change what the network and the
    /// crashes do), so the second is drawn shifted right.
    pub fn lost_chart(&self) -> Result<Figure> {
        self.chart(
            |p| p.lost,
            Scenario::theory_lost,
            Opts::new(format!(
                "Messages never processed (at-least-once: up to {} sends)",
                self.params.resend.max_attempts
            ))
            .x_label("network loss rate (%)")
            .y_label("messages lost (%)"),
            true,
        )
    }

    /// Percent of messages processed more than once against the loss rate.
    pub fn more_than_once_chart(&self) -> Result<Figure> {
        self.chart(
            |p| p.more_than_once,
            Scenario::theory_more_than_once,
            Opts::new(format!(
                "Messages processed more than once ({:.0} % network duplication)",
                100.0 * self.params.duplicate
            ))
            .x_label("network loss rate (%)")
            .y_label("messages processed twice or more (%)"),
            false,
        )
    }

    /// One row per scenario at the loss rate closest to `loss`: measured
    /// means (± 95 % half-width) and the closed forms where they apply.
    pub fn table(&self, loss: f64) -> Table {
        let mut t = Table::new(&[
            "scenario",
            "loss",
            "lost %",
            "lost % (theory)",
            "extra copies / msg",
            "processed >1 %",
            "processed >1 % (theory)",
            "sends / msg",
            "runs with a double",
        ]);
        for (sc, pts) in self.scenarios.iter().zip(&self.points) {
            let Some(p) = pts.iter().min_by(|a, b| {
                (a.loss - loss)
                    .abs()
                    .partial_cmp(&(b.loss - loss).abs())
                    .unwrap_or(std::cmp::Ordering::Equal)
            }) else {
                continue;
            };
            let q = DeliveryParams {
                loss: p.loss,
                ..self.params.clone()
            };
            let pm = |c: MeanCi| format!("{:.2} ± {:.2}", 100.0 * c.mean, 100.0 * c.half_width);
            let th = |x: Option<f64>| x.map_or("—".to_string(), |v| format!("{:.2}", 100.0 * v));
            t.push_row(vec![
                sc.label.clone(),
                format!("{:.0} %", 100.0 * p.loss),
                pm(p.lost),
                th(sc.theory_lost(&q)),
                format!("{:.3}", p.extra_copies.mean),
                pm(p.more_than_once),
                th(sc.theory_more_than_once(&q)),
                format!("{:.2}", p.sends.mean),
                format!("{} of {}", p.runs_with_double, self.seeds.len()),
            ]);
        }
        t.caption(format!(
            "{} messages per run, {} seeds, {:.0} % duplication; ± is the 95 % interval over seeds; \
             resolution: one message in all runs = {:.3} %",
            self.params.messages,
            self.seeds.len(),
            100.0 * self.params.duplicate,
            100.0 / (self.params.messages as f64 * self.seeds.len().max(1) as f64)
        ))
    }
}
