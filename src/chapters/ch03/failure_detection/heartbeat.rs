//! The heartbeat experiment: a sender that stalls now and then and crashes
//! for good, a monitor that runs a timeout and two φ accrual detectors on
//! what arrives.

use crate::detect::{Detector, HeartbeatDetector, PhiAccrual};
use crate::error::{check_probability, Error, Result};
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
