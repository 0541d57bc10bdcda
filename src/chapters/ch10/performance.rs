//! What a commit costs: the time from a client's request to its reply,
//! against the cluster's size, the network's delay, and one slow link,
//! with the order statistic of [`crate::measure::theory::consensus`]
//! drawn over it.
//!
//! One closed-loop client talks to a stable leader: it sends a command,
//! waits for the reply (sent once the entry is committed and applied),
//! then waits a little longer than the slowest round trip before the next
//! one, so every follower has acknowledged the last entry and each command
//! starts from the same state (the theory's independent round trips). No
//! message is lost. The latency of a command is the time from the client's
//! send to the reply's arrival; each seed gives the mean over `ops`
//! commands, and the seeds give the interval.
//!
//! Throughput has no ceiling of its own in this model: a server handles a
//! message in no time, links have no bandwidth limit and disks sync
//! instantly, so `c` closed-loop clients commit about `c / latency`
//! commands per second, however many they are (the leader batches what
//! arrives while a round trip is under way). A throughput curve would
//! show only that arithmetic; the notebook says so instead of drawing it.

use crate::error::{check_count, Error, Result};
use crate::measure::stats::{check_replications, mean_ci, MeanCi};
use crate::measure::theory::raft_commit_mean;
use crate::plot::{bar_chart, fmt_num, line_chart, BarSeries, Figure, Opts, Series, Table};
use crate::raft::{Raft, RaftConfig, RaftWorkload};
use crate::sim::time::{ms, secs, SimDuration};
use crate::sim::{Latency, LinkConfig, OpStatus, Sim};
use serde::Serialize;

/// A one-way delay range `(lo, hi)` in ms.
pub type DelayMs = (f64, f64);

/// Which server sits behind the slow link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SlowNode {
    /// Every link to and from one follower is slow.
    Follower,
    /// Every link between the leader and the other servers is slow (the
    /// clients still reach it quickly).
    Leader,
}

/// One setting measured: servers, delays, and maybe one slow server.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Setting {
    /// Servers.
    pub nodes: usize,
    /// Every message's one-way delay, uniform in this range (ms).
    pub delay_ms: DelayMs,
    /// One server's links slowed to this range (ms).
    pub slow: Option<(SlowNode, DelayMs)>,
    /// The protocol's settings (timeouts, heartbeat).
    pub cfg: RaftConfig,
}

fn check_delay(what: &str, delay: DelayMs) -> Result<()> {
    super::check_delay_range(
        what,
        delay,
        (0.0, 1_000.0),
        "a one-way delay range 0 <= lo <= hi <= 1,000 ms",
    )
}

/// Bounds a run's work: at most 100,000 commands in all (the default
/// sweeps run 8,000), so no cell runs for minutes.
fn check_work(ops: usize, seeds: u64, points: usize) -> Result<()> {
    let total = ops as u64 * seeds * points as u64;
    if total > 100_000 {
        return Err(Error::too_big(
            "ops × seeds × points",
            total,
            "commands in one run",
            100_000,
        ));
    }
    Ok(())
}

fn latency((lo, hi): DelayMs) -> Result<Latency> {
    Latency::uniform(SimDuration::from_ms_f64(lo)?, SimDuration::from_ms_f64(hi)?)
}

impl Setting {
    /// Checks the sizes and ranges.
    pub fn validate(&self) -> Result<()> {
        check_count("nodes", self.nodes, 3, 9, "servers")?;
        self.cfg.validate()?;
        check_delay("delay_ms", self.delay_ms)?;
        if let Some((_, d)) = self.slow {
            check_delay("slow delay_ms", d)?;
        }
        Ok(())
    }

    /// The one-way delay ranges of the leader's links to its followers, and
    /// the theory's mean latency (ms): the client's two legs plus the
    /// wait for the fastest majority.
    pub fn theory(&self) -> Result<f64> {
        self.validate()?;
        let mut legs = vec![self.delay_ms; self.nodes - 1];
        match self.slow {
            Some((SlowNode::Leader, d)) => legs.iter_mut().for_each(|l| *l = d),
            Some((SlowNode::Follower, d)) => legs[0] = d,
            None => {}
        }
        raft_commit_mean(self.delay_ms, &legs)
    }

    /// Mean latency (ms) of `ops` commands of one closed-loop client with
    /// seed `seed`; see the [module docs](self).
    pub fn mean_latency(&self, ops: usize, seed: u64) -> Result<f64> {
        self.validate()?;
        check_count("ops", ops, 1, 1_000, "commands per seed")?;
        let mut sim = Sim::builder()
            .seed(seed)
            .link(LinkConfig::new(latency(self.delay_ms)?))
            .build(vec![Raft::new(self.cfg); self.nodes])?;
        let leader = |sim: &Sim<Raft>| (0..sim.nodes().len()).find(|&i| sim.nodes()[i].is_leader());
        let mut first = None;
        for _ in 0..100 {
            sim.run_for(ms(100))?;
            first = leader(&sim);
            if first.is_some() {
                break;
            }
        }
        let Some(l) = first else {
            return Err(Error::invalid(
                "delay_ms",
                format!(
                    "{}–{} ms",
                    fmt_num(self.delay_ms.0),
                    fmt_num(self.delay_ms.1)
                ),
                "delays short enough to elect a leader within 10 s (under 50 ms)",
            ));
        };
        let mut slowest = self.delay_ms.1;
        if let Some((who, d)) = self.slow {
            let x = match who {
                SlowNode::Leader => l,
                SlowNode::Follower => (l + 1) % self.nodes,
            };
            let cfg = LinkConfig::new(latency(d)?);
            for j in (0..self.nodes).filter(|&j| j != x) {
                sim.set_link(x, j, cfg.clone())?;
                sim.set_link(j, x, cfg.clone())?;
            }
            slowest = slowest.max(d.1);
        }
        let mut w = RaftWorkload::new(self.nodes, 1, ops, secs(10));
        w.think = SimDuration::from_ms_f64(2.0 * slowest + 1.0)?;
        sim.set_workload(1, w)?;
        let start = sim.now();
        let done = |sim: &Sim<Raft>| {
            let h = sim.history();
            h.ops()
                .iter()
                .filter(|o| o.invoked >= start && o.status == OpStatus::Ok)
                .count()
        };
        let budget = ops as f64 * (6.0 * slowest + 10.0) + 1_000.0;
        while done(&sim) < ops && sim.now().since(start).as_ms() < budget {
            sim.run_for(secs(1))?;
        }
        let lat: Vec<f64> = sim
            .history()
            .ops()
            .iter()
            .filter(|o| o.invoked >= start && o.status == OpStatus::Ok)
            .filter_map(|o| o.completed.map(|c| c.since(o.invoked).as_ms()))
            .collect();
        if lat.len() < ops {
            return Err(Error::invalid(
                "seed",
                seed,
                "a run whose leader stays (the client's commands did not all commit)",
            ));
        }
        Ok(lat.iter().sum::<f64>() / lat.len() as f64)
    }

    /// Per-seed mean latencies for seeds `seed .. seed + seeds`, their mean
    /// and interval, and the theory.
    pub fn measure(&self, ops: usize, seeds: u64, seed: u64) -> Result<Point> {
        check_replications(seeds)?;
        check_count("ops", ops, 1, 1_000, "commands per seed")?;
        check_work(ops, seeds, 1)?;
        let means = (0..seeds)
            .map(|i| self.mean_latency(ops, seed.wrapping_add(i)))
            .collect::<Result<Vec<f64>>>()?;
        Ok(Point {
            setting: *self,
            ci: mean_ci(&means)?,
            means,
            theory: self.theory()?,
        })
    }
}

/// One setting's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Point {
    /// What was measured.
    pub setting: Setting,
    /// Mean latency per seed (ms).
    pub means: Vec<f64>,
    /// Their mean and 95 % interval.
    pub ci: MeanCi,
    /// The order statistic's mean (ms).
    pub theory: f64,
}

impl Point {
    /// "11.2 [10.9, 11.5]": the mean and its interval, ms.
    pub fn cell(&self) -> String {
        let (lo, hi) = self.ci.interval();
        format!("{:.1} [{:.1}, {:.1}]", self.ci.mean, lo, hi)
    }
}

/// The size and delay sweeps' settings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CommitLatencyParams {
    /// Cluster sizes of the first sweep (each 3 to 9).
    pub sizes: Vec<usize>,
    /// The delay of the first sweep (ms, one way).
    pub delay_ms: DelayMs,
    /// Delays of the second sweep (ms, one way).
    pub delays_ms: Vec<DelayMs>,
    /// Cluster size of the second sweep.
    pub nodes: usize,
    /// The protocol's settings (the paper's timeouts, heartbeats every
    /// 50 ms).
    pub cfg: RaftConfig,
    /// Commands per seed.
    pub ops: usize,
    /// Seeds per point.
    pub seeds: u64,
    /// First seed.
    pub seed: u64,
}

impl Default for CommitLatencyParams {
    /// 3, 5, 7 and 9 servers at 1–5 ms; 5 servers at 0.5–1.5, 1.5–4.5,
    /// 5–15 and 15–45 ms; 100 commands per seed, 10 seeds per point.
    fn default() -> Self {
        CommitLatencyParams {
            sizes: vec![3, 5, 7, 9],
            delay_ms: (1.0, 5.0),
            delays_ms: vec![(0.5, 1.5), (1.5, 4.5), (5.0, 15.0), (15.0, 45.0)],
            nodes: 5,
            cfg: RaftConfig::default(),
            ops: 100,
            seeds: 10,
            seed: 1,
        }
    }
}

impl CommitLatencyParams {
    /// Checks sizes and ranges.
    pub fn validate(&self) -> Result<()> {
        check_count("sizes", self.sizes.len(), 1, 10, "cluster sizes")?;
        check_count("delays_ms", self.delays_ms.len(), 1, 10, "delay ranges")?;
        check_replications(self.seeds)?;
        check_count("ops", self.ops, 1, 1_000, "commands per seed")?;
        check_work(
            self.ops,
            self.seeds,
            self.sizes.len() + self.delays_ms.len(),
        )?;
        for s in self.settings() {
            s.validate()?;
        }
        Ok(())
    }

    fn settings(&self) -> Vec<Setting> {
        let by_size = self.sizes.iter().map(|&nodes| Setting {
            nodes,
            delay_ms: self.delay_ms,
            slow: None,
            cfg: self.cfg,
        });
        let by_delay = self.delays_ms.iter().map(|&delay_ms| Setting {
            nodes: self.nodes,
            delay_ms,
            slow: None,
            cfg: self.cfg,
        });
        by_size.chain(by_delay).collect()
    }

    /// Runs both sweeps.
    pub fn run(&self) -> Result<CommitLatency> {
        self.validate()?;
        let mut points = self
            .settings()
            .iter()
            .map(|s| s.measure(self.ops, self.seeds, self.seed))
            .collect::<Result<Vec<_>>>()?;
        let by_delay = points.split_off(self.sizes.len());
        Ok(CommitLatency {
            by_size: points,
            by_delay,
        })
    }
}

/// Both sweeps' results.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CommitLatency {
    /// Against the cluster's size.
    pub by_size: Vec<Point>,
    /// Against the network's delay.
    pub by_delay: Vec<Point>,
}

fn sweep_chart(points: &[Point], x: impl Fn(&Setting) -> f64, opts: Opts) -> Result<Figure> {
    let xs: Vec<f64> = points.iter().map(|p| x(&p.setting)).collect();
    let sim = Series::new(
        "simulated mean (95 % CI over seeds)",
        xs.iter()
            .zip(points)
            .map(|(&x, p)| (x, p.ci.mean))
            .collect(),
    )
    .with_band(points.iter().map(|p| p.ci.interval()).collect())
    .with_style(crate::plot::SeriesStyle::LinePoints);
    let theory = Series::new(
        "round trip to the fastest majority",
        xs.iter().zip(points).map(|(&x, p)| (x, p.theory)).collect(),
    );
    line_chart(&[sim], &[theory], opts.y_from_zero())
}

impl CommitLatency {
    /// Every point: setting, simulated mean with its interval, theory.
    pub fn table(&self) -> Table {
        let mut t = Table::new(&[
            "servers",
            "one-way delay (ms)",
            "latency (ms)",
            "theory (ms)",
        ]);
        for p in self.by_size.iter().chain(&self.by_delay) {
            let (lo, hi) = p.setting.delay_ms;
            t.push_row(vec![
                p.setting.nodes.to_string(),
                format!("{}–{}", fmt_num(lo), fmt_num(hi)),
                p.cell(),
                format!("{:.1}", p.theory),
            ]);
        }
        t
    }

    /// Latency against the number of servers.
    pub fn size_chart(&self) -> Result<Figure> {
        sweep_chart(
            &self.by_size,
            |s| s.nodes as f64,
            Opts::new("Commit latency against cluster size")
                .x_label("servers")
                .y_label("request to reply (ms)"),
        )
    }

    /// Latency against the mean one-way delay.
    pub fn delay_chart(&self) -> Result<Figure> {
        sweep_chart(
            &self.by_delay,
            |s| (s.delay_ms.0 + s.delay_ms.1) / 2.0,
            Opts::new("Commit latency against network delay")
                .x_label("mean one-way delay (ms)")
                .y_label("request to reply (ms)"),
        )
    }
}

/// One slow server: a follower's links, or the leader's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SlowLinkParams {
    /// Servers.
    pub nodes: usize,
    /// Every other message's one-way delay (ms).
    pub delay_ms: DelayMs,
    /// The slow server's links (ms, one way).
    pub slow_ms: DelayMs,
    /// The protocol's settings.
    pub cfg: RaftConfig,
    /// Commands per seed.
    pub ops: usize,
    /// Seeds per case.
    pub seeds: u64,
    /// First seed.
    pub seed: u64,
}

impl Default for SlowLinkParams {
    /// Five servers at 1–5 ms, the slow one at 20–30 ms; 100 commands per
    /// seed, 10 seeds.
    fn default() -> Self {
        SlowLinkParams {
            nodes: 5,
            delay_ms: (1.0, 5.0),
            slow_ms: (20.0, 30.0),
            cfg: RaftConfig::default(),
            ops: 100,
            seeds: 10,
            seed: 1,
        }
    }
}

impl SlowLinkParams {
    fn cases(&self) -> [Setting; 3] {
        let s = |slow| Setting {
            nodes: self.nodes,
            delay_ms: self.delay_ms,
            slow,
            cfg: self.cfg,
        };
        [
            s(None),
            s(Some((SlowNode::Follower, self.slow_ms))),
            s(Some((SlowNode::Leader, self.slow_ms))),
        ]
    }

    /// Checks sizes and ranges.
    pub fn validate(&self) -> Result<()> {
        check_replications(self.seeds)?;
        check_count("ops", self.ops, 1, 1_000, "commands per seed")?;
        check_work(self.ops, self.seeds, 3)?;
        self.cases().iter().try_for_each(Setting::validate)
    }

    /// Runs the three cases: no slow link, a slow follower, a slow leader.
    pub fn run(&self) -> Result<SlowLink> {
        self.validate()?;
        let cases = self
            .cases()
            .iter()
            .map(|s| s.measure(self.ops, self.seeds, self.seed))
            .collect::<Result<Vec<_>>>()?;
        Ok(SlowLink { cases })
    }
}

/// The three cases' results: all fast, a slow follower, a slow leader.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SlowLink {
    /// In that order.
    pub cases: Vec<Point>,
}

impl SlowLink {
    /// The cases' names.
    pub fn names() -> [&'static str; 3] {
        ["all links fast", "one follower slow", "the leader slow"]
    }

    /// Each case: simulated mean with its interval, theory.
    pub fn table(&self) -> Table {
        let mut t = Table::new(&["case", "latency (ms)", "theory (ms)"]);
        for (name, p) in Self::names().iter().zip(&self.cases) {
            t.push_row(vec![name.to_string(), p.cell(), format!("{:.1}", p.theory)]);
        }
        t
    }

    /// Simulated and theoretical means side by side, per case.
    pub fn chart(&self) -> Result<Figure> {
        let cats: Vec<String> = Self::names().iter().map(|s| s.to_string()).collect();
        let cis: Vec<MeanCi> = self.cases.iter().map(|p| p.ci).collect();
        let sim = BarSeries::from_means("simulated (95 % CI)", &cis)?;
        let theory = BarSeries::new(
            "fastest majority (theory)",
            self.cases.iter().map(|p| p.theory).collect(),
        );
        bar_chart(
            &cats,
            &[sim, theory],
            Opts::new("Commit latency with one slow server").y_label("request to reply (ms)"),
        )
    }
}
