//! Chapter 3, failure detection: a heartbeat timeout against φ accrual on the
//! same heartbeat stream (φ with the normal model of the paper and the
//! exponential model of Cassandra), and the failure models side by side.
//!
//! A **sender** sends a numbered heartbeat every `interval` over a network
//! with variable latency and some loss. Now and then the sender stalls (a
//! garbage-collection pause, a busy scheduler) and its next heartbeat leaves
//! late: the main cause of wrong suspicions in practice. At `crash_at` it
//! crashes for good. A **monitor** feeds every heartbeat that is newer than
//! the newest it has seen into two detectors, a [`HeartbeatDetector`] and a
//! [`PhiAccrual`] (Hayashibara et al., SRDS 2004), and checks both every
//! `check_every`.
//!
//! Two numbers judge a detector: **detection time**, from the real crash to
//! the suspicion that is never withdrawn, and **wrong suspicions per hour**
//! while the sender was up. A shorter timeout (or lower φ threshold) detects
//! faster and suspects wrongly more often.
//!
//! Detectors are passive (they only see `heartbeat(now)` and `check(now)`), so
//! the sweep over timeouts and thresholds runs the network once per seed,
//! records the monitor's heartbeat arrival times, and [`replay`]s
//! ([`crate::detect::replay`], re-exported here) every
//! detector setting over the *same* arrivals on the same check grid; a test
//! checks that replaying gives exactly the transitions of the live run.
//!
//! [`failure_modes`] shows the failure models of [`crate::failure`] on one
//! server: crash, omission, slow and gray failure in turn, seen by a client
//! that sends requests and health checks.

pub use crate::detect::replay;
use crate::detect::{Detector, HeartbeatDetector, PhiAccrual, Status};
use crate::error::{check_probability, Error, Result};
use crate::failure::{FailureInjector, FailureMode, Faulty, Outbox, Service};
use crate::measure::stats::{mean_ci, MeanCi};
use crate::plot::{
    availability_timeline, line_chart, sequence_diagram, time_series, Figure, Lane, Opts,
    SequenceDiagram, Series, SeriesStyle, Table, Window,
};
use crate::sim::fault::FaultPlan;
use crate::sim::net::{Latency, LinkConfig, NodeId};
use crate::sim::node::Node;
use crate::sim::rng;
use crate::sim::time::{ms, secs, SimDuration, SimTime};
use crate::sim::{Ctx, Sim};
use serde::Serialize;

/// Parameters of the heartbeat experiment.
#[derive(Debug, Clone, Serialize)]
pub struct FailureDetection {
    /// Seed.
    pub seed: u64,
    /// Time between two heartbeats.
    pub interval: SimDuration,
    /// One-way network latency.
    pub latency: Latency,
    /// Probability the network loses a heartbeat.
    pub loss: f64,
    /// Probability that the sender stalls before a heartbeat.
    pub pause_prob: f64,
    /// Mean length of a stall (exponentially distributed).
    pub pause_mean: SimDuration,
    /// When the sender crashes (for good).
    pub crash_at: SimDuration,
    /// How long to keep watching after the crash.
    pub after_crash: SimDuration,
    /// How often the monitor checks its detectors.
    pub check_every: SimDuration,
    /// Timeout of the live heartbeat detector.
    pub timeout: SimDuration,
    /// Threshold of the live φ accrual detector.
    pub phi_threshold: f64,
    /// Inter-arrival times φ accrual learns from.
    pub phi_window: usize,
    /// Floor of φ accrual's standard deviation.
    pub phi_min_sd: SimDuration,
    /// The exponential φ detector (Cassandra's model) leaves gaps longer than
    /// this many heartbeat intervals out of its window (Cassandra: 2).
    pub phi_exp_max_gap: f64,
    /// Check the detectors on a timer during the run (off for sweeps, which
    /// replay the arrivals instead; much faster).
    pub live: bool,
}

impl Default for FailureDetection {
    /// Heartbeat every 100 ms; log-normal latency (median 10 ms, σ 0.5);
    /// 1 % loss; a stall before 0.5 % of heartbeats (mean 300 ms); crash at
    /// 60 s, 10 s watched after; checks every 10 ms; timeout 500 ms;
    /// φ threshold 8 over a window of 100 with σ ≥ 20 ms (normal model); the
    /// exponential model ignores gaps over 2 intervals.
    fn default() -> Self {
        FailureDetection {
            seed: 1,
            interval: ms(100),
            latency: Latency::LogNormal {
                mu: 1e7f64.ln(),
                sigma: 0.5,
            },
            loss: 0.01,
            pause_prob: 0.005,
            pause_mean: ms(300),
            crash_at: secs(60),
            after_crash: secs(10),
            check_every: ms(10),
            timeout: ms(500),
            phi_threshold: 8.0,
            phi_window: 100,
            phi_min_sd: ms(20),
            phi_exp_max_gap: 2.0,
            live: true,
        }
    }
}

/// Heartbeat messages carry a sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heartbeat(pub u64);

/// The two roles of the experiment.
#[derive(Debug, Clone)]
pub enum FdNode {
    /// Sends heartbeats to node 1.
    Sender {
        /// Next sequence number.
        seq: u64,
        /// Heartbeat interval.
        interval: SimDuration,
        /// Stall probability per heartbeat.
        pause_prob: f64,
        /// Mean stall (ns).
        pause_mean_ns: f64,
    },
    /// Runs both detectors on what arrives.
    Monitor(Box<Monitor>),
}

/// The monitor's state.
#[derive(Debug, Clone)]
pub struct Monitor {
    /// Fixed-timeout detector.
    pub heartbeat: HeartbeatDetector,
    /// φ accrual detector, normal model.
    pub phi: PhiAccrual,
    /// φ accrual detector, exponential model (Cassandra's).
    pub phi_exp: PhiAccrual,
    /// Arrival time of every fresh heartbeat.
    pub arrivals: Vec<SimTime>,
    /// `(time s, φ normal, φ exponential)` at every check (live runs only).
    pub phi_trace: Vec<(f64, f64, f64)>,
    newest: Option<u64>,
    check_every: SimDuration,
    live: bool,
}

/// The timers of the experiment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FdTimer {
    /// The sender's next heartbeat.
    Beat,
    /// The monitor's periodic check of its detectors.
    Check,
}

impl Node for FdNode {
    type Msg = Heartbeat;
    type Timer = FdTimer;
    type Disk = ();
    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        match self {
            FdNode::Sender { interval, .. } => {
                ctx.set_timer(*interval, FdTimer::Beat);
            }
            FdNode::Monitor(m) => {
                if m.live {
                    ctx.set_timer(m.check_every, FdTimer::Check);
                }
            }
        }
    }
    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, _from: NodeId, msg: Heartbeat) {
        if let FdNode::Monitor(m) = self {
            if m.newest.is_some_and(|n| msg.0 <= n) {
                return; // overtaken by a newer heartbeat: stale
            }
            m.newest = Some(msg.0);
            let now = ctx.now();
            m.arrivals.push(now);
            m.heartbeat.heartbeat(now);
            m.phi.heartbeat(now);
            m.phi_exp.heartbeat(now);
        }
    }
    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _: FdTimer) {
        match self {
            FdNode::Sender {
                seq,
                interval,
                pause_prob,
                pause_mean_ns,
            } => {
                ctx.send(1, Heartbeat(*seq));
                *seq += 1;
                let mut next = *interval;
                if rng::chance(ctx.rng(), *pause_prob) {
                    let e = -rng::open_unit_f64(ctx.rng()).ln();
                    next += SimDuration((*pause_mean_ns * e) as u64);
                }
                ctx.set_timer(next, FdTimer::Beat);
            }
            FdNode::Monitor(m) => {
                let now = ctx.now();
                m.heartbeat.check(now);
                m.phi.check(now);
                m.phi_exp.check(now);
                m.phi_trace
                    .push((now.as_secs_f64(), m.phi.phi(now), m.phi_exp.phi(now)));
                ctx.set_timer(m.check_every, FdTimer::Check);
            }
        }
    }
    fn label(msg: &Heartbeat) -> String {
        format!("hb {}", msg.0)
    }
    fn timer_label(t: &FdTimer) -> String {
        match t {
            FdTimer::Beat => "beat",
            FdTimer::Check => "check",
        }
        .into()
    }
}

/// The outcome of one run.
#[derive(Debug, Clone)]
pub struct FdRun {
    /// The parameters.
    pub params: FailureDetection,
    /// Arrival times of fresh heartbeats at the monitor.
    pub arrivals: Vec<SimTime>,
    /// The live heartbeat detector (its transitions).
    pub heartbeat: HeartbeatDetector,
    /// The live φ accrual detector, normal model.
    pub phi: PhiAccrual,
    /// The live φ accrual detector, exponential model.
    pub phi_exp: PhiAccrual,
    /// `(time s, φ normal, φ exponential)` at every check.
    pub phi_trace: Vec<(f64, f64, f64)>,
    /// Heartbeats sent / lost by the network.
    pub sent: u64,
    /// Heartbeats lost by the network.
    pub lost: u64,
}

impl FailureDetection {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        for (name, d) in [
            ("interval", self.interval),
            ("check_every", self.check_every),
            ("crash_at", self.crash_at),
        ] {
            if d == SimDuration::ZERO {
                return Err(Error::invalid(name, d, "a duration > 0"));
            }
        }
        check_probability("loss", self.loss)?;
        check_probability("pause_prob", self.pause_prob)?;
        if !(self.phi_exp_max_gap.is_finite() && self.phi_exp_max_gap >= 1.0) {
            return Err(Error::invalid(
                "phi_exp_max_gap",
                self.phi_exp_max_gap,
                "a number of intervals >= 1 (Cassandra: 2)",
            ));
        }
        let total = self.crash_at + self.after_crash;
        if total.0 / self.interval.0 > 20_000_000 {
            return Err(Error::invalid(
                "crash_at + after_crash",
                total,
                "at most 20 million heartbeat intervals",
            ));
        }
        if self.live && total.0 / self.check_every.0 > 20_000_000 {
            return Err(Error::invalid(
                "check_every",
                self.check_every,
                "at most 20 million checks per live run (raise it or set live: false)",
            ));
        }
        self.detectors()?;
        self.phi_exp_detector(self.phi_threshold)?;
        Ok(())
    }

    /// Fresh detectors with this run's live settings.
    pub fn detectors(&self) -> Result<(HeartbeatDetector, PhiAccrual)> {
        Ok((
            HeartbeatDetector::new(self.timeout)?,
            PhiAccrual::new(self.phi_threshold, self.phi_window, self.phi_min_sd)?,
        ))
    }

    /// A φ accrual detector with this run's window and floor and `threshold`.
    pub fn phi_detector(&self, threshold: f64) -> Result<PhiAccrual> {
        PhiAccrual::new(threshold, self.phi_window, self.phi_min_sd)
    }

    /// An exponential-model φ accrual detector (Cassandra's) with this run's
    /// window and `threshold`, ignoring gaps over `phi_exp_max_gap`
    /// intervals.
    pub fn phi_exp_detector(&self, threshold: f64) -> Result<PhiAccrual> {
        let max = SimDuration::from_ms_named(
            "phi_exp_max_gap × interval",
            self.phi_exp_max_gap * self.interval.as_ms(),
        )?;
        PhiAccrual::exponential(threshold, self.phi_window)?.ignore_gaps_over(max)
    }

    /// About how many events one run processes: two per heartbeat (its
    /// send and its arrival) and, live, one per check.
    pub fn work(&self) -> f64 {
        let total = (self.crash_at + self.after_crash).0 as f64;
        let mut w = 2.0 * total / self.interval.0.max(1) as f64;
        if self.live {
            w += total / self.check_every.0.max(1) as f64;
        }
        w
    }

    /// When the run ends.
    pub fn horizon(&self) -> SimTime {
        SimTime::from_start(self.crash_at + self.after_crash)
    }

    /// Runs the sender and the monitor.
    pub fn run(&self) -> Result<FdRun> {
        self.validate()?;
        let (hb, phi) = self.detectors()?;
        let monitor = Monitor {
            heartbeat: hb,
            phi,
            phi_exp: self.phi_exp_detector(self.phi_threshold)?,
            arrivals: Vec::new(),
            phi_trace: Vec::new(),
            newest: None,
            check_every: self.check_every,
            live: self.live,
        };
        let nodes = vec![
            FdNode::Sender {
                seq: 0,
                interval: self.interval,
                pause_prob: self.pause_prob,
                pause_mean_ns: self.pause_mean.0 as f64,
            },
            FdNode::Monitor(Box::new(monitor)),
        ];
        let mut sim = Sim::builder()
            .seed(self.seed)
            .trace(0)
            .link(LinkConfig::new(self.latency.clone()).loss(self.loss))
            .faults(FaultPlan::new().crash(self.crash_at, 0))
            .build(nodes)?;
        sim.run_until_time(self.horizon())?;
        let stats = sim.stats();
        let mut nodes = sim.into_nodes();
        let Some(FdNode::Monitor(m)) = nodes.pop() else {
            return Err(Error::empty("monitor node"));
        };
        Ok(FdRun {
            params: self.clone(),
            arrivals: m.arrivals,
            heartbeat: m.heartbeat,
            phi: m.phi,
            phi_exp: m.phi_exp,
            phi_trace: m.phi_trace,
            sent: stats.sent,
            lost: stats.lost,
        })
    }
}

/// Detection time and wrong suspicions of one detector in one run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Score {
    /// From the crash to the start of the suspicion still held at the end
    /// (0 if that suspicion started before the crash); `None` if the
    /// detector trusted the crashed node at the end.
    pub detection: Option<SimDuration>,
    /// Suspicions that started while the node was up.
    pub wrong_suspicions: usize,
}

/// Scores `transitions` against the real crash time.
pub fn score(transitions: &[(SimTime, Status)], crash_at: SimTime) -> Score {
    let wrong = transitions
        .iter()
        .filter(|(t, s)| *s == Status::Suspect && *t < crash_at)
        .count();
    let detection = match transitions.last() {
        Some((t, Status::Suspect)) => Some(t.since(crash_at)),
        _ => None,
    };
    Score {
        detection,
        wrong_suspicions: wrong,
    }
}

/// One detector setting over several seeds.
#[derive(Debug, Clone, Serialize)]
pub struct TradeoffPoint {
    /// The timeout (ms) or φ threshold.
    pub param: f64,
    /// Detection time over the seeds that detected (ms).
    pub detection_ms: MeanCi,
    /// Wrong suspicions per hour of up time, over all seeds.
    pub wrong_per_hour: f64,
    /// Wrong suspicions per hour, mean and 95 % interval over the seeds
    /// (infinite half-width for one seed).
    pub wrong_per_hour_ci: MeanCi,
    /// Wrong suspicions in total.
    pub wrong_total: usize,
    /// Seeds where the crash was never detected.
    pub missed: usize,
}

/// Both detectors' tradeoff curves.
#[derive(Debug, Clone, Serialize)]
pub struct Tradeoff {
    /// Heartbeat detector, one point per timeout.
    pub heartbeat: Vec<TradeoffPoint>,
    /// φ accrual with the normal model, one point per threshold.
    pub phi: Vec<TradeoffPoint>,
    /// φ accrual with the exponential model (Cassandra's, ignoring gaps over
    /// `phi_exp_max_gap` intervals), one point per threshold; empty if none
    /// were asked for.
    pub phi_exp: Vec<TradeoffPoint>,
    /// Up time observed per seed (hours).
    pub hours_per_seed: f64,
    /// Seeds.
    pub seeds: u64,
}

fn summarize(param: f64, scores: &[Score], hours: f64) -> Result<TradeoffPoint> {
    let per_seed_hours = hours / scores.len().max(1) as f64;
    let per_seed: Vec<f64> = scores
        .iter()
        .map(|s| s.wrong_suspicions as f64 / per_seed_hours)
        .collect();
    let det: Vec<f64> = scores
        .iter()
        .filter_map(|s| s.detection.map(|d| d.as_ms()))
        .collect();
    let wrong: usize = scores.iter().map(|s| s.wrong_suspicions).sum();
    let detection_ms = if det.is_empty() {
        MeanCi {
            mean: f64::NAN,
            half_width: f64::INFINITY,
            sd: f64::NAN,
            n: 0,
        }
    } else {
        mean_ci(&det)?
    };
    Ok(TradeoffPoint {
        param,
        detection_ms,
        wrong_per_hour: wrong as f64 / hours,
        wrong_per_hour_ci: mean_ci(&per_seed)?,
        wrong_total: wrong,
        missed: scores.len() - det.len(),
    })
}

/// Runs `seeds` seeds (seed, seed+1, ...) of `base` and replays every
/// heartbeat timeout in `timeouts` and φ threshold (normal model) in
/// `thresholds` over each seed's arrivals. [`tradeoff_models`] adds the
/// exponential model.
pub fn tradeoff(
    base: &FailureDetection,
    timeouts: &[SimDuration],
    thresholds: &[f64],
    seeds: u64,
) -> Result<Tradeoff> {
    tradeoff_models(base, timeouts, thresholds, &[], seeds)
}

/// Like [`tradeoff`], and also replays the exponential φ model
/// ([`FailureDetection::phi_exp_detector`]) at every threshold in
/// `exp_thresholds`. Its φ is `t / (mean · ln 10)`, so threshold `x`
/// suspects after a silence of `x · ln 10 ≈ 2.3 x` mean intervals: useful
/// thresholds are lower than the normal model's.
pub fn tradeoff_models(
    base: &FailureDetection,
    timeouts: &[SimDuration],
    thresholds: &[f64],
    exp_thresholds: &[f64],
    seeds: u64,
) -> Result<Tradeoff> {
    base.validate()?;
    if seeds == 0 {
        return Err(Error::invalid("seeds", 0, "at least 1"));
    }
    if seeds > crate::error::limits::SEEDS as u64 {
        return Err(Error::too_big(
            "seeds",
            seeds,
            "seeds",
            crate::error::limits::SEEDS,
        ));
    }
    // Each seed: its run without live checks, then a replay of its
    // heartbeats per detector.
    let replays = (timeouts.len() + thresholds.len() + exp_thresholds.len()) as f64;
    let run = FailureDetection {
        live: false,
        ..base.clone()
    }
    .work();
    crate::error::check_work(
        "seeds × (timeouts + thresholds + exp_thresholds) × heartbeats per run",
        seeds as f64 * run * (1.0 + replays),
    )?;
    let mut hb: Vec<HeartbeatDetector> = timeouts
        .iter()
        .map(|&t| HeartbeatDetector::new(t))
        .collect::<Result<_>>()?;
    let phis: Vec<PhiAccrual> = thresholds
        .iter()
        .map(|&x| base.phi_detector(x))
        .collect::<Result<_>>()?;
    let exps: Vec<PhiAccrual> = exp_thresholds
        .iter()
        .map(|&x| base.phi_exp_detector(x))
        .collect::<Result<_>>()?;
    let crash = SimTime::from_start(base.crash_at);
    let mut hb_scores = vec![Vec::new(); timeouts.len()];
    let mut phi_scores = vec![Vec::new(); thresholds.len()];
    let mut exp_scores = vec![Vec::new(); exp_thresholds.len()];
    for s in 0..seeds {
        let p = FailureDetection {
            seed: base.seed.wrapping_add(s),
            live: false,
            ..base.clone()
        };
        let run = p.run()?;
        for (i, d) in hb.iter_mut().enumerate() {
            let mut d = HeartbeatDetector::new(d.timeout())?;
            replay(&mut d, &run.arrivals, p.check_every, p.horizon())?;
            hb_scores[i].push(score(d.transitions(), crash));
        }
        for (i, proto) in phis.iter().enumerate() {
            let mut d = proto.clone();
            replay(&mut d, &run.arrivals, p.check_every, p.horizon())?;
            phi_scores[i].push(score(d.transitions(), crash));
        }
        for (i, proto) in exps.iter().enumerate() {
            let mut d = proto.clone();
            replay(&mut d, &run.arrivals, p.check_every, p.horizon())?;
            exp_scores[i].push(score(d.transitions(), crash));
        }
    }
    let hours = base.crash_at.as_secs_f64() / 3600.0;
    let total_hours = hours * seeds as f64;
    Ok(Tradeoff {
        heartbeat: timeouts
            .iter()
            .zip(&hb_scores)
            .map(|(t, sc)| summarize(t.as_ms(), sc, total_hours))
            .collect::<Result<_>>()?,
        phi: thresholds
            .iter()
            .zip(&phi_scores)
            .map(|(x, sc)| summarize(*x, sc, total_hours))
            .collect::<Result<_>>()?,
        phi_exp: exp_thresholds
            .iter()
            .zip(&exp_scores)
            .map(|(x, sc)| summarize(*x, sc, total_hours))
            .collect::<Result<_>>()?,
        hours_per_seed: hours,
        seeds,
    })
}

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
        let total_hours = self.hours_per_seed * self.seeds as f64;
        let floor = 0.5 / total_hours;
        let mut series = Vec::new();
        let mut none_seen = Vec::new();
        let mut none_labels = Vec::new();
        for (label, pts, unit) in [
            ("heartbeat timeout", &self.heartbeat, " ms"),
            ("φ accrual, normal model", &self.phi, ""),
            ("φ accrual, exponential model", &self.phi_exp, ""),
        ] {
            let tag = |p: &TradeoffPoint| {
                if unit.is_empty() {
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
            Opts::new("Detect faster, suspect wrongly more often")
                .x_label("mean detection time after the crash (ms)")
                .y_label("wrong suspicions per hour")
                .log_x()
                .log_y(),
        )
    }

    /// Every setting with its numbers.
    pub fn table(&self) -> Table {
        let mut t = Table::new(&[
            "detector",
            "setting",
            "detection time (ms, mean ± 95 %)",
            "wrong suspicions / h",
            "missed crashes",
        ])
        .caption(format!(
            "{} seeds × {:.1} h of heartbeats before the crash",
            self.seeds, self.hours_per_seed
        ));
        for (name, pts, unit) in [
            ("heartbeat", &self.heartbeat, " ms"),
            ("φ accrual, normal", &self.phi, ""),
            ("φ accrual, exponential", &self.phi_exp, ""),
        ] {
            for p in pts {
                t.push_row(vec![
                    name.into(),
                    format!("{}{unit}", p.param),
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
                ]);
            }
        }
        t
    }
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
    /// Scores of the live detectors: (heartbeat, φ accrual normal); see
    /// [`FdRun::score_exp`] for the exponential model.
    pub fn scores(&self) -> (Score, Score) {
        let c = SimTime::from_start(self.params.crash_at);
        (
            score(self.heartbeat.transitions(), c),
            score(self.phi.transitions(), c),
        )
    }

    /// Score of the live exponential-model φ detector.
    pub fn score_exp(&self) -> Score {
        score(
            self.phi_exp.transitions(),
            SimTime::from_start(self.params.crash_at),
        )
    }

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

// ---------------------------------------------------------------------
// Failure models on one server
// ---------------------------------------------------------------------

/// Messages of the failure-models demo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ask {
    /// A request with its id.
    Request(u64),
    /// The answer to a request.
    Reply(u64),
    /// A health check with its id.
    Health(u64),
    /// The answer to a health check.
    HealthOk(u64),
}

fn is_health(m: &Ask) -> bool {
    matches!(m, Ask::Health(_) | Ask::HealthOk(_))
}

/// Roles of the failure-models demo.
#[derive(Debug, Clone)]
pub enum Role {
    /// Sends requests and health checks to node 1, records answers.
    Client {
        /// Gap between requests.
        request_every: SimDuration,
        /// Gap between health checks.
        health_every: SimDuration,
        /// Send time of request i.
        sent: Vec<SimTime>,
        /// Answer time of request i (first answer).
        answered: Vec<Option<SimTime>>,
        /// Send time of health check i.
        health_sent: Vec<SimTime>,
        /// Answer time of health check i.
        health_answered: Vec<Option<SimTime>>,
    },
    /// Answers whatever reaches it.
    Server,
}

/// The client's timers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AskTimer {
    /// Send the next request.
    Request,
    /// Send the next health check.
    Health,
}

impl Service for Role {
    type Msg = Ask;
    type Timer = AskTimer;
    fn start<N: Node<Msg = Ask>>(&mut self, ctx: &mut Ctx<'_, N>)
    where
        N::Timer: From<AskTimer>,
    {
        if let Role::Client {
            request_every,
            health_every,
            ..
        } = self
        {
            ctx.set_timer(*request_every, AskTimer::Request.into());
            ctx.set_timer(*health_every, AskTimer::Health.into());
        }
    }
    fn handle<N: Node<Msg = Ask>>(&mut self, ctx: &mut Ctx<'_, N>, from: NodeId, msg: Ask)
    where
        N::Timer: From<AskTimer>,
    {
        let now = ctx.now();
        match self {
            Role::Server => match msg {
                Ask::Request(i) => ctx.send(from, Ask::Reply(i)),
                Ask::Health(i) => ctx.send(from, Ask::HealthOk(i)),
                _ => {}
            },
            Role::Client {
                answered,
                health_answered,
                ..
            } => match msg {
                Ask::Reply(i) => {
                    if let Some(slot @ None) = answered.get_mut(i as usize) {
                        *slot = Some(now);
                    }
                }
                Ask::HealthOk(i) => {
                    if let Some(slot @ None) = health_answered.get_mut(i as usize) {
                        *slot = Some(now);
                    }
                }
                _ => {}
            },
        }
    }
    fn handle_with<N: Node<Msg = Ask>>(
        &mut self,
        out: &mut Outbox<'_, '_, N>,
        from: NodeId,
        msg: Ask,
    ) where
        N::Timer: From<AskTimer>,
    {
        // The server's answers go through the injector (send omission).
        if let Role::Server = self {
            let reply = match msg {
                Ask::Request(i) => Ask::Reply(i),
                Ask::Health(i) => Ask::HealthOk(i),
                _ => return,
            };
            out.send(from, reply);
        } else {
            self.handle(out.ctx, from, msg);
        }
    }
    fn timer<N: Node<Msg = Ask>>(&mut self, ctx: &mut Ctx<'_, N>, timer: AskTimer)
    where
        N::Timer: From<AskTimer>,
    {
        if let Role::Client {
            request_every,
            health_every,
            sent,
            answered,
            health_sent,
            health_answered,
        } = self
        {
            let now = ctx.now();
            if timer == AskTimer::Request {
                ctx.send(1, Ask::Request(sent.len() as u64));
                sent.push(now);
                answered.push(None);
                ctx.set_timer(*request_every, AskTimer::Request.into());
            } else {
                ctx.send(1, Ask::Health(health_sent.len() as u64));
                health_sent.push(now);
                health_answered.push(None);
                ctx.set_timer(*health_every, AskTimer::Health.into());
            }
        }
    }
    fn label(msg: &Ask) -> String {
        match msg {
            Ask::Request(i) => format!("req {i}"),
            Ask::Reply(i) => format!("reply {i}"),
            Ask::Health(i) => format!("health {i}"),
            Ask::HealthOk(i) => format!("ok {i}"),
        }
    }
}

/// One phase of the failure-models demo and what the client saw.
#[derive(Debug, Clone, Serialize)]
pub struct Phase {
    /// The failure model in force.
    pub model: String,
    /// Start (s).
    pub start_s: f64,
    /// End (s).
    pub end_s: f64,
    /// Fraction of requests answered.
    pub requests_answered: f64,
    /// Fraction of health checks answered.
    pub health_answered: f64,
    /// Mean round trip of answered requests (ms).
    pub mean_rtt_ms: f64,
}

/// The failure-models demo: one client, one server that is correct, then
/// correct behind a lossy network, then crashed (crash-recovery), then
/// omitting, then slow, then gray, each for `phase` of simulated time.
pub struct FailureModels {
    /// The phases in order.
    pub phases: Vec<Phase>,
    sim: Sim<Faulty<Role>>,
    phase: SimDuration,
    slow: SimDuration,
}

/// The phase in which the server turns gray (the last of six).
const GRAY_PHASE: u64 = 5;

/// Runs the failure-models demo; `phase` is each phase's length, `omission`
/// the server's send and receive loss probability in the omission phase,
/// `slow` the extra delay in the slow phase, and `network_loss` the
/// probability that the *network* loses a message (each way) in the
/// lossy-network phase, while the server is correct. With `omission ==
/// network_loss` the two phases look the same to the client.
pub fn failure_modes(
    seed: u64,
    phase: SimDuration,
    omission: f64,
    slow: SimDuration,
    network_loss: f64,
) -> Result<FailureModels> {
    if phase < ms(10) || phase > crate::sim::time::hours(1000) {
        return Err(Error::invalid("phase", phase, "10 ms to 1,000 hours"));
    }
    if slow > phase {
        return Err(Error::invalid(
            "slow",
            slow,
            &format!("an extra delay of at most one phase ({phase})"),
        ));
    }
    check_probability("omission", omission)?;
    check_probability("network_loss", network_loss)?;
    let p = |k: u64| phase * k;
    let injector = FailureInjector::new(is_health as fn(&Ask) -> bool)
        .window(
            p(3),
            p(4),
            FailureMode::Omission {
                send: omission,
                receive: omission,
            },
        )?
        .window(p(4), p(5), FailureMode::Slow { extra: slow })?
        .from(p(GRAY_PHASE), FailureMode::Gray)?;
    // 500 requests and 200 health checks per phase: enough that a share
    // answered is known to a few percent.
    let request_every = SimDuration((phase.0 / 500).max(1));
    let client = Role::Client {
        request_every,
        health_every: SimDuration(request_every.0 * 5 / 2),
        sent: vec![],
        answered: vec![],
        health_sent: vec![],
        health_answered: vec![],
    };
    let mut faults = FaultPlan::new().outage(p(2), p(3), 1);
    if network_loss > 0.0 {
        faults = faults.lossy(p(1), p(2), network_loss);
    }
    let mut sim = Sim::builder()
        .seed(seed)
        .trace(20_000)
        .link(LinkConfig::new(Latency::uniform(
            SimDuration(phase.0 / 200),
            SimDuration(phase.0 / 100),
        )?))
        .faults(faults)
        .build(vec![
            Faulty::new(client, FailureInjector::new(is_health as fn(&Ask) -> bool)),
            Faulty::new(Role::Server, injector),
        ])?;
    sim.run_for(p(GRAY_PHASE + 1))?;
    let names = [
        "correct".to_string(),
        format!("lossy network ({:.0} % each way)", network_loss * 100.0),
        "crash (then recovery)".to_string(),
        format!("omission ({:.0} % each way)", omission * 100.0),
        format!("slow (+{} ms)", slow.as_ms()),
        "gray (health checks only)".to_string(),
    ];
    let Role::Client {
        sent,
        answered,
        health_sent,
        health_answered,
        ..
    } = sim.node(0)?.inner()
    else {
        return Err(Error::empty("client"));
    };
    let mut phases = Vec::new();
    for (k, name) in names.iter().enumerate() {
        let (a, b) = (
            SimTime::from_start(p(k as u64)),
            SimTime::from_start(p(k as u64 + 1)),
        );
        // Only requests sent early enough to be answered within the phase.
        let b_req = SimTime(b.0.saturating_sub(slow.0 + 2 * (phase.0 / 100)));
        let (req, rtt) = answered_share(sent, answered, a, b_req);
        let (hc, _) = answered_share(health_sent, health_answered, a, b_req);
        phases.push(Phase {
            model: name.clone(),
            start_s: a.as_secs_f64(),
            end_s: b.as_secs_f64(),
            requests_answered: req,
            health_answered: hc,
            mean_rtt_ms: rtt,
        });
    }
    Ok(FailureModels {
        phases,
        sim,
        phase,
        slow,
    })
}

/// Share of the messages sent in `[a, end)` that were answered, and the
/// mean round trip of those answered (ms; NaN if none).
fn answered_share(s: &[SimTime], ans: &[Option<SimTime>], a: SimTime, end: SimTime) -> (f64, f64) {
    let idx: Vec<usize> = (0..s.len()).filter(|&i| s[i] >= a && s[i] < end).collect();
    let ok = idx.iter().filter(|&&i| ans[i].is_some()).count();
    let rtt: Vec<f64> = idx
        .iter()
        .filter_map(|&i| ans[i].map(|t| t.since(s[i]).as_ms()))
        .collect();
    let mean = if rtt.is_empty() {
        f64::NAN
    } else {
        rtt.iter().sum::<f64>() / rtt.len() as f64
    };
    (ok as f64 / idx.len().max(1) as f64, mean)
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
