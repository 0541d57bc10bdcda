//! Chapter 8, replication lag over time: how far each follower is behind
//! the leader, in time, while clients write, and what a partition between
//! the leader and one follower does to it.
//!
//! A follower's lag at time t is the age of the oldest write the leader had
//! by t that the follower had not received by t (0 when it has them all).
//! With streaming replication it is about one message delay; cut off by a
//! partition it grows one second per second, and it falls back to a
//! message delay within a heartbeat of the partition's end, when the
//! leader ships the whole backlog at once. This run has no failover (the
//! follower alone cannot elect itself anyway).

use super::common::{lf_classify, mixed, node_links, policy};
use crate::error::{Error, Result};
use crate::plot::{time_series, Figure, Opts, Series, Window};
use crate::replication::{Ack, LeaderFollower, LfMsg};
use crate::sim::time::{ms, secs, SimDuration};
use crate::sim::{FaultPlan, Latency, Sim, SimTime};
use serde::Serialize;

/// Parameters of the lag-over-time run.
#[derive(Debug, Clone, Serialize)]
pub struct LagParams {
    /// Seed.
    pub seed: u64,
    /// Followers.
    pub followers: usize,
    /// Clients writing.
    pub clients: usize,
    /// Mean of an exponential message delay between nodes.
    pub link_mean: SimDuration,
    /// The last follower is cut off from the leader over this window.
    pub partition: (SimDuration, SimDuration),
    /// How long the run lasts.
    pub horizon: SimDuration,
    /// How often the lag is sampled.
    pub sample: SimDuration,
}

impl Default for LagParams {
    /// Two followers, 4 clients, 2 ms messages, follower 2 cut off from
    /// 1 s to 2 s of a 3 s run, sampled every 5 ms.
    fn default() -> Self {
        LagParams {
            seed: 1,
            followers: 2,
            clients: 4,
            link_mean: ms(2),
            partition: (secs(1), secs(2)),
            horizon: secs(3),
            sample: ms(5),
        }
    }
}

/// The lag of each follower over time.
#[derive(Debug, Clone, Serialize)]
pub struct Lag {
    /// Sample times (ms).
    pub times_ms: Vec<f64>,
    /// Per follower (node 1, 2, …): its lag at each sample (ms).
    pub lag_ms: Vec<Vec<f64>>,
    /// The partition window (ms).
    pub partition_ms: (f64, f64),
    /// The heartbeat (ms).
    pub heartbeat_ms: f64,
}

impl LagParams {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        crate::error::check_count("followers", self.followers, 1, 10, "followers")?;
        crate::error::check_count("clients", self.clients, 1, 100, "clients")?;
        if self.link_mean < crate::sim::time::us(1) || self.link_mean > secs(1) {
            return Err(Error::invalid("link_mean", self.link_mean, "1 µs to 1 s"));
        }
        if self.horizon > secs(60) || self.horizon < ms(10) {
            return Err(Error::invalid("horizon", self.horizon, "10 ms to 60 s"));
        }
        let (a, b) = self.partition;
        if a >= b || b > self.horizon {
            return Err(Error::invalid(
                "partition",
                format!("{a} to {b}"),
                "a window with start < end <= horizon",
            ));
        }
        if self.sample < ms(1) || self.horizon.0 / self.sample.0 > 100_000 {
            return Err(Error::invalid(
                "sample",
                self.sample,
                "at least 1 ms and 100,000 samples at most",
            ));
        }
        crate::error::check_work(
            "clients × horizon",
            self.clients as f64 * self.horizon.as_ms() * 5.0,
        )
    }

    /// Runs it.
    pub fn run(&self) -> Result<Lag> {
        self.validate()?;
        let nodes = self.followers + 1;
        let lf = LeaderFollower {
            nodes,
            ack: Ack::Async,
            failover_after: None,
            ..LeaderFollower::default()
        };
        let cut = self.followers;
        let others: Vec<usize> = (0..nodes).filter(|&i| i != cut).collect();
        let plan =
            FaultPlan::new().partition(self.partition.0, self.partition.1, vec![others, vec![cut]]);
        let mut sim = Sim::builder()
            .seed(self.seed)
            .trace(0)
            .faults(plan)
            .build(lf.nodes()?)?;
        node_links(&mut sim, &Latency::exponential(self.link_mean)?, 0.0)?;
        let client = mixed(
            policy()?,
            nodes,
            lf_classify,
            1_000_000,
            10,
            0.0,
            ms(10),
            LfMsg::get,
            LfMsg::put,
        )?
        .start_at(|_| 0);
        sim.set_workload(self.clients, client)?;
        sim.run_for(self.horizon)?;
        let at: Vec<SimTime> = sim.disk(0)?.working().log.iter().map(|e| e.at).collect();
        let n = (self.horizon.0 / self.sample.0) as usize;
        let times: Vec<SimTime> = (0..=n).map(|i| SimTime(i as u64 * self.sample.0)).collect();
        let mut lag_ms = Vec::new();
        for f in 1..nodes {
            let got = sim.node(f)?.received().to_vec();
            lag_ms.push(times.iter().map(|&t| lag_at(&at, &got, t)).collect());
        }
        Ok(Lag {
            times_ms: times.iter().map(|t| t.as_ms()).collect(),
            lag_ms,
            partition_ms: (self.partition.0.as_ms(), self.partition.1.as_ms()),
            heartbeat_ms: lf.heartbeat.as_ms(),
        })
    }
}

/// The age at `t` of the oldest entry appended by `t` (times `at`) and not
/// received by `t` (times `got`, in log order), in ms.
fn lag_at(at: &[SimTime], got: &[SimTime], t: SimTime) -> f64 {
    // Entries arrive in log order, so the received ones by t are a prefix.
    let have = got.partition_point(|&g| g <= t);
    match at.get(have) {
        Some(&a) if a <= t => t.since(a).as_ms(),
        _ => 0.0,
    }
}

impl Lag {
    /// The most a follower lagged (ms).
    pub fn max_ms(&self, follower: usize) -> f64 {
        self.lag_ms
            .get(follower)
            .map_or(0.0, |l| l.iter().copied().fold(0.0, f64::max))
    }
    /// A follower's mean lag over samples in `[from, to)` ms.
    pub fn mean_ms(&self, follower: usize, from: f64, to: f64) -> f64 {
        let Some(l) = self.lag_ms.get(follower) else {
            return f64::NAN;
        };
        let v: Vec<f64> = self
            .times_ms
            .iter()
            .zip(l)
            .filter(|(t, _)| **t >= from && **t < to)
            .map(|(_, x)| *x)
            .collect();
        v.iter().sum::<f64>() / v.len().max(1) as f64
    }

    /// Each follower's lag over time, the partition shaded.
    pub fn chart(&self) -> Result<Figure> {
        let n = self.lag_ms.len();
        let series: Vec<Series> = self
            .lag_ms
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let name = if i + 1 == n {
                    format!("follower {} (cut off)", i + 1)
                } else {
                    format!("follower {}", i + 1)
                };
                Series::new(
                    name,
                    self.times_ms
                        .iter()
                        .copied()
                        .zip(l.iter().copied())
                        .collect(),
                )
            })
            .collect();
        let (a, b) = self.partition_ms;
        time_series(
            &series,
            &[Window::new(a, b, "partition")],
            Opts::new("Replication lag: a follower cut off falls behind")
                .x_label("time (ms)")
                .y_label("lag behind the leader (ms)"),
        )
    }
}
