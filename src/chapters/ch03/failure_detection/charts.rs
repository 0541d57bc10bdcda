//! The charts and tables of failure detection (the detectors' tradeoff,
//! one run's timeline and φ over time) and of the failure-models demo.

use super::failure_models::{answered_share, FailureModels, Role, GRAY_PHASE};
use super::heartbeat::FdRun;
use super::sweep::{Tradeoff, TradeoffPoint};
use crate::detect::{Detector, Status};
use crate::error::{Error, Result};
use crate::plot::{
    availability_timeline, line_chart, sequence_diagram, time_series, Figure, Lane, Opts,
    SequenceDiagram, Series, SeriesStyle, Table, Window,
};
use crate::sim::time::{SimDuration, SimTime};

impl Tradeoff {
    /// Detection time (x) against wrong suspicions per hour (y, log), one
    /// curve per detector, one point per setting, each point labelled with
    /// its timeout or threshold; the band is the 95 % interval of the wrong
    /// suspicions per hour over the seeds (the detection time's interval is
    /// in [`Tradeoff::table`]). Settings that made no wrong suspicion at all
    /// cannot sit on a log axis: they are drawn at the measurement floor
    /// (half a suspicion over all observed hours) as a separate "none seen"
    /// series.
    pub fn chart(&self) -> Result<Figure> {
        self.curves_chart(
            &[
                ("heartbeat timeout", &self.heartbeat, " ms"),
                ("φ accrual, normal model", &self.phi, "φ"),
                ("φ accrual, exponential model", &self.phi_exp, "φ"),
            ],
            "Detect faster, suspect wrongly more often",
        )
    }

    /// The tradeoff chart of `curves`: (legend, points, unit), a unit "φ"
    /// put before the setting ("φ 8"), any other after it ("500 ms").
    pub(super) fn curves_chart(
        &self,
        curves: &[(&str, &Vec<TradeoffPoint>, &str)],
        title: &str,
    ) -> Result<Figure> {
        let total_hours = self.hours_per_seed * self.seeds as f64;
        let floor = 0.5 / total_hours;
        let mut series = Vec::new();
        let mut none_seen = Vec::new();
        let mut none_labels = Vec::new();
        for &(label, pts, unit) in curves {
            let tag = |p: &TradeoffPoint| {
                if unit == "φ" {
                    format!("φ {}", p.param)
                } else {
                    format!("{}{unit}", p.param)
                }
            };
            let ok: Vec<&TradeoffPoint> = pts
                .iter()
                .filter(|p| p.detection_ms.mean.is_finite())
                .collect();
            let seen: Vec<&&TradeoffPoint> = ok.iter().filter(|p| p.wrong_total > 0).collect();
            let line: Vec<(f64, f64)> = seen
                .iter()
                .map(|p| (p.detection_ms.mean, p.wrong_per_hour))
                .collect();
            let band: Vec<(f64, f64)> = seen
                .iter()
                .map(|p| {
                    let c = p.wrong_per_hour_ci;
                    if c.half_width.is_finite() {
                        ((c.mean - c.half_width).max(floor), c.mean + c.half_width)
                    } else {
                        (p.wrong_per_hour, p.wrong_per_hour)
                    }
                })
                .collect();
            for p in ok.iter().filter(|p| p.wrong_total == 0) {
                none_seen.push((p.detection_ms.mean, floor));
                none_labels.push(tag(p));
            }
            if !line.is_empty() {
                let labels = seen.iter().map(|p| tag(p)).collect();
                series.push(point_labels(
                    Series::new(label, line)
                        .with_band(band)
                        .with_style(SeriesStyle::LinePoints),
                    labels,
                ));
            }
        }
        if !none_seen.is_empty() {
            let mut idx: Vec<usize> = (0..none_seen.len()).collect();
            idx.sort_by(|&a, &b| none_seen[a].0.total_cmp(&none_seen[b].0));
            let pts = idx.iter().map(|&i| none_seen[i]).collect();
            let labels = idx.iter().map(|&i| none_labels[i].clone()).collect();
            series.push(point_labels(
                Series::new(
                    format!("no wrong suspicion in {total_hours:.0} h (drawn at floor)"),
                    pts,
                )
                .with_style(SeriesStyle::Points),
                labels,
            ));
        }
        line_chart(
            &series,
            &[],
            Opts::new(title)
                .x_label("mean detection time after the crash (ms)")
                .y_label("wrong suspicions per hour")
                .log_x()
                .log_y(),
        )
    }

    /// Every setting with its numbers.
    pub fn table(&self) -> Table {
        let mut t = Table::new(&HEADER).caption(format!(
            "{} seeds × {:.1} h of heartbeats before the crash",
            self.seeds, self.hours_per_seed
        ));
        for (name, pts, unit) in [
            ("heartbeat", &self.heartbeat, " ms"),
            ("φ accrual, normal", &self.phi, ""),
            ("φ accrual, exponential", &self.phi_exp, ""),
        ] {
            for p in pts {
                t.push_row(row(name, &format!("{}{unit}", p.param), p));
            }
        }
        t
    }
}

/// The columns of a tradeoff table.
pub(super) const HEADER: [&str; 5] = [
    "detector",
    "setting",
    "detection time (ms, mean ± 95 %)",
    "wrong suspicions / h",
    "missed crashes",
];

/// One table row: detector, setting, detection time, wrong suspicions,
/// missed crashes.
pub(super) fn row(name: &str, setting: &str, p: &TradeoffPoint) -> Vec<String> {
    vec![
        name.into(),
        setting.into(),
        if p.detection_ms.n > 1 {
            format!(
                "{:.0} ± {:.0}",
                p.detection_ms.mean, p.detection_ms.half_width
            )
        } else {
            format!("{:.0}", p.detection_ms.mean)
        },
        format!("{:.2}", p.wrong_per_hour),
        p.missed.to_string(),
    ]
}

/// Labels each point of `s` with its setting.
fn point_labels(s: Series, labels: Vec<String>) -> Series {
    s.with_labels(labels)
}

fn suspicion_intervals(tr: &[(SimTime, Status)], horizon: SimTime) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    let mut open: Option<SimTime> = None;
    for &(t, s) in tr {
        match (s, open) {
            (Status::Suspect, None) => open = Some(t),
            (Status::Trust, Some(o)) => {
                out.push((o.as_secs_f64(), t.as_secs_f64()));
                open = None;
            }
            _ => {}
        }
    }
    if let Some(o) = open {
        out.push((o.as_secs_f64(), horizon.as_secs_f64()));
    }
    out
}

impl FdRun {
    /// Four lanes around the crash: the node's real state, and when each
    /// detector (timeout, φ normal, φ exponential) suspected it (orange =
    /// down or suspected). The window starts `before` the crash and ends
    /// `after` it (clipped to the run); time is counted from the window's
    /// start.
    pub fn timeline_around_crash(&self, before: SimDuration, after: SimDuration) -> Result<Figure> {
        let crash = self.params.crash_at.as_secs_f64();
        let h = self.params.horizon().as_secs_f64();
        let from = (crash - before.as_secs_f64()).max(0.0);
        let to = (crash + after.as_secs_f64()).min(h);
        if to <= from {
            return Err(Error::invalid(
                "before + after",
                before + after,
                "a window > 0 around the crash",
            ));
        }
        let hz = self.params.horizon();
        let shift = |v: Vec<(f64, f64)>| -> Vec<(f64, f64)> {
            v.into_iter()
                .filter(|&(a, b)| b > from && a < to)
                .map(|(a, b)| (a.max(from) - from, b.min(to) - from))
                .collect()
        };
        let lanes = vec![
            Lane::new("node (real)", shift(vec![(crash, h)])),
            Lane::new(
                format!("timeout {} ms", self.params.timeout.as_ms()),
                shift(suspicion_intervals(self.heartbeat.transitions(), hz)),
            ),
            Lane::new(
                format!("φ normal ≥ {}", self.params.phi_threshold),
                shift(suspicion_intervals(self.phi.transitions(), hz)),
            ),
            Lane::new(
                format!("φ exponential ≥ {}", self.params.phi_threshold),
                shift(suspicion_intervals(self.phi_exp.transitions(), hz)),
            ),
        ];
        availability_timeline(
            &lanes,
            to - from,
            Opts::new("Who noticed the crash, and when")
                .x_label(format!(
                    "time (s) from {} s; the crash at {} s",
                    crate::plot::fmt_num(from),
                    crate::plot::fmt_num(crash - from)
                ))
                .states("trusted", "suspected"),
        )
    }

    /// The whole run as lanes (see [`FdRun::timeline_around_crash`] for the
    /// zoom the notebook shows).
    pub fn timeline(&self) -> Result<Figure> {
        let h = self.params.horizon().as_secs_f64();
        self.timeline_around_crash(self.params.crash_at, SimDuration::from_secs_f64(h)?)
    }

    /// Both φ models over time from `from_s` (log y, so thresholds from 1 to
    /// 128 are all on the chart), the live threshold as a line, heartbeat
    /// arrivals as a rug along the bottom, the crash shaded. φ below 0.01 is
    /// drawn at 0.01; above 10,000 at 10,000.
    pub fn phi_chart(&self, from_s: f64) -> Result<Figure> {
        let (lo, hi) = (0.01, 1e4);
        let clamp = |v: f64| v.clamp(lo, hi);
        let tr: Vec<&(f64, f64, f64)> = self.phi_trace.iter().filter(|p| p.0 >= from_s).collect();
        if tr.is_empty() {
            return Err(Error::empty("φ trace (run with live: true)"));
        }
        let (t0, t1) = (tr[0].0, tr[tr.len() - 1].0);
        let normal = Series::new(
            "φ, normal model",
            tr.iter().map(|p| (p.0, clamp(p.1))).collect(),
        );
        let expo = Series::new(
            "φ, exponential model",
            tr.iter().map(|p| (p.0, clamp(p.2))).collect(),
        );
        let thr = Series::new(
            format!("threshold {}", self.params.phi_threshold),
            vec![
                (t0, self.params.phi_threshold),
                (t1, self.params.phi_threshold),
            ],
        );
        let rug: Vec<(f64, f64)> = self
            .arrivals
            .iter()
            .map(|a| a.as_secs_f64())
            .filter(|&t| t >= t0 && t <= t1)
            .map(|t| (t, lo * 0.4))
            .collect();
        let mut series = vec![normal, expo, thr];
        if !rug.is_empty() {
            series.push(Series::new("heartbeat arrives", rug).with_style(SeriesStyle::Points));
        }
        let crash = self.params.crash_at.as_secs_f64();
        time_series(
            &series,
            &[Window::new(crash.max(t0), t1.max(crash + 1e-3), "crashed")],
            Opts::new("φ accrual: suspicion grows with the silence")
                .x_label("time (s)")
                .y_label("φ = −log10 P(a gap this long | node alive)")
                .log_y(),
        )
    }
}

impl FailureModels {
    /// What the client saw in each phase.
    pub fn table(&self) -> Table {
        let mut t = Table::new(&[
            "failure model",
            "requests answered",
            "health checks answered",
            "mean round trip (ms)",
        ]);
        for p in &self.phases {
            t.push_row(vec![
                p.model.clone(),
                format!("{:.0} %", p.requests_answered * 100.0),
                format!("{:.0} %", p.health_answered * 100.0),
                if p.mean_rtt_ms.is_finite() {
                    format!("{:.1}", p.mean_rtt_ms)
                } else {
                    "—".into()
                },
            ]);
        }
        t
    }

    /// Success rate over time, for requests and for health checks: the
    /// share answered of those sent in each tenth of a phase, with each
    /// phase shaded and named. Under gray failure the two lines part: health
    /// checks at 100 %, requests at 0.
    pub fn success_chart(&self) -> Result<Figure> {
        let Role::Client {
            sent,
            answered,
            health_sent,
            health_answered,
            ..
        } = self.sim.node(0)?.inner()
        else {
            return Err(Error::empty("client"));
        };
        let bucket = SimDuration((self.phase.0 / 10).max(1));
        let end = SimTime::from_start(self.phase * (GRAY_PHASE + 1));
        // Leave out the last messages, whose answers the run did not wait for.
        let last = SimTime(end.0.saturating_sub(self.slow.0 + bucket.0));
        let curve = |s: &[SimTime], ans: &[Option<SimTime>]| -> Vec<(f64, f64)> {
            let mut pts = Vec::new();
            let mut a = SimTime::ZERO;
            while a < last {
                let b = (a + bucket).min(last);
                let (share, _) = answered_share(s, ans, a, b);
                if s.iter().any(|&t| t >= a && t < b) {
                    pts.push((0.5 * (a.as_secs_f64() + b.as_secs_f64()), 100.0 * share));
                }
                a = b;
            }
            pts
        };
        let short = ["", "lossy network", "crash", "omission", "slow", "gray"];
        let windows: Vec<Window> = (1..=GRAY_PHASE)
            .map(|k| {
                Window::new(
                    (self.phase * k).as_secs_f64(),
                    (self.phase * (k + 1)).as_secs_f64(),
                    short[k as usize],
                )
            })
            .collect();
        time_series(
            &[
                Series::new("requests", curve(sent, answered)).with_style(SeriesStyle::LinePoints),
                Series::new("health checks", curve(health_sent, health_answered))
                    .with_style(SeriesStyle::LinePoints),
            ],
            &windows,
            Opts::new("What the client sees: share of calls answered")
                .x_label("time (s)")
                .y_label("answered (%)"),
        )
    }

    /// A message diagram around the switch to gray failure: health checks
    /// keep getting answers, requests get none.
    pub fn gray_diagram(&self) -> Result<Figure> {
        let gray = self.phase * GRAY_PHASE;
        let start = SimTime::from_start(SimDuration(gray.0 - self.phase.0 / 16));
        let end = SimTime::from_start(gray + SimDuration(self.phase.0 / 8));
        let lanes = ["client".to_string(), "server".to_string()];
        let mut d = SequenceDiagram::from_trace(self.sim.trace(), &lanes, end);
        let s = start.as_ms();
        d.arrows.retain(|a| a.sent >= s);
        d.marks
            .retain(|m| m.at >= s && m.kind != crate::plot::MarkKind::Timer);
        d.marks.push(crate::plot::Mark::new(
            1,
            gray.as_ms(),
            crate::plot::MarkKind::Note,
            "turns gray",
        ));
        for a in &mut d.arrows {
            a.sent -= s;
            if let Some(r) = a.received.as_mut() {
                *r -= s;
            }
        }
        for m in &mut d.marks {
            m.at -= s;
        }
        sequence_diagram(
            &d,
            Opts::new("Gray failure: health checks answered, requests ignored")
                .y_label(format!("time (ms) from {:.0} ms", s)),
        )
    }
}
