//! [`FaultSpace`]: what may go wrong in an explored run, and how a seed
//! becomes a [`FaultPlan`] (see [`crate::check::explore`]).

use crate::error::{check_probability, Error, Result};
use crate::sim::rng::{self, domain, SimRng};
use crate::sim::time::{ms, SimDuration, SimTime};
use crate::sim::{Fault, FaultPlan, NodeId};
use serde::Serialize;

/// What may go wrong in an explored run; see the [module docs](self).
///
/// Defaults from [`FaultSpace::new`]: up to 2 outages of 10–200 ms on any
/// node, up to 1 partition (a random split in two) of 10–200 ms, up to 1
/// lossy window of 10–200 ms losing up to 30 % of messages, all starting in
/// the first 80 % of the horizon; no crash at a crash point (set
/// [`FaultSpace::crash_points`] to draw one in half of the runs), no
/// one-way partition and no targeted crash (set
/// [`FaultSpace::max_oneway`] and [`FaultSpace::max_target_crashes`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FaultSpace {
    /// Nodes of the cluster.
    pub nodes: usize,
    /// Faults start in `[0, 0.8 × horizon)`.
    pub horizon: SimDuration,
    /// At most this many outages (crash, then restart) per run.
    pub max_outages: usize,
    /// Nodes that may crash (default: all).
    pub crashable: Vec<NodeId>,
    /// Shortest and longest outage.
    pub downtime: (SimDuration, SimDuration),
    /// At most this many partitions per run.
    pub max_partitions: usize,
    /// Shortest and longest partition.
    pub partition_len: (SimDuration, SimDuration),
    /// At most this many lossy windows per run.
    pub max_lossy: usize,
    /// Highest extra loss probability of a lossy window.
    pub max_loss: f64,
    /// Shortest and longest lossy window.
    pub lossy_len: (SimDuration, SimDuration),
    /// In half of the runs, crash at a crash point drawn from `0..k` and
    /// restart after the given time: `Some((k, restart_after))`. Finds what
    /// a crash between two instructions breaks, which crashes at random
    /// times (between events) never do.
    pub crash_points: Option<(u64, SimDuration)>,
    /// At most this many one-way partitions per run (default 0): a random
    /// non-empty set of senders cut off from the other nodes, one way only
    /// (they still hear them).
    pub max_oneway: usize,
    /// Shortest and longest one-way partition.
    pub oneway_len: (SimDuration, SimDuration),
    /// At most this many targeted crashes per run (default 0): crash the
    /// node the run's target picks at that time (whoever leads, with
    /// `Sim::set_target`), down for a time drawn from `downtime`.
    pub max_target_crashes: usize,
    /// Crash points per run that has one (default 1; see
    /// [`FaultSpace::crash_points`]): a chain of crashes, each drawn from
    /// `0..k` with the same restart (a scenario that aims them, like
    /// Raft's `Aim`, aims each after the one before). 1 to 16.
    pub crash_point_chain: usize,
}

impl FaultSpace {
    /// The default space for `nodes` nodes over `horizon`.
    pub fn new(nodes: usize, horizon: SimDuration) -> Result<FaultSpace> {
        crate::error::check_count("nodes", nodes, 1, crate::error::limits::NODES, "nodes")?;
        let s = FaultSpace {
            nodes,
            horizon,
            max_outages: 2,
            crashable: (0..nodes).collect(),
            downtime: (ms(10), ms(200)),
            max_partitions: 1,
            partition_len: (ms(10), ms(200)),
            max_lossy: 1,
            max_loss: 0.3,
            lossy_len: (ms(10), ms(200)),
            crash_points: None,
            max_oneway: 0,
            oneway_len: (ms(10), ms(200)),
            max_target_crashes: 0,
            crash_point_chain: 1,
        };
        s.validate()?;
        Ok(s)
    }

    /// Checks the space: at least one node, a horizon, ranges with
    /// `lo <= hi`, crashable nodes that exist, a loss in [0, 1].
    pub fn validate(&self) -> Result<()> {
        crate::error::check_count("nodes", self.nodes, 1, crate::error::limits::NODES, "nodes")?;
        if self.horizon.0 == 0 {
            return Err(Error::invalid("horizon", self.horizon, "a duration > 0"));
        }
        for (name, (lo, hi)) in [
            ("downtime", self.downtime),
            ("partition_len", self.partition_len),
            ("lossy_len", self.lossy_len),
            ("oneway_len", self.oneway_len),
        ] {
            if lo > hi {
                return Err(Error::invalid(name, lo, &format!("lo <= hi (hi = {hi})")));
            }
        }
        for &n in &self.crashable {
            crate::error::check_node("crashable node", n, self.nodes)?;
        }
        check_probability("max_loss", self.max_loss)?;
        // A scenario that aims a chain runs once more per crash of it.
        crate::error::check_count(
            "crash_point_chain",
            self.crash_point_chain,
            1,
            16,
            "crash points per run that has one (no crash points: crash_points = None)",
        )?;
        for (name, k) in [
            ("max_outages", self.max_outages),
            ("max_partitions", self.max_partitions),
            ("max_lossy", self.max_lossy),
            ("max_oneway", self.max_oneway),
            ("max_target_crashes", self.max_target_crashes),
        ] {
            if k > 1000 {
                return Err(Error::invalid(name, k, "at most 1,000 faults of a kind"));
            }
        }
        Ok(())
    }

    /// The fault plan of one seed: a pure function of the space and `seed`.
    pub fn draw(&self, seed: u64) -> FaultPlan {
        let mut r = rng::stream(seed, domain::FAULTS, 0, 0);
        let window = self.horizon.0 - self.horizon.0 / 5;
        let start = |r: &mut SimRng| SimTime(uniform(r, 0, window.max(1) - 1));
        let len = |r: &mut SimRng, (lo, hi): (SimDuration, SimDuration)| {
            SimDuration(uniform(r, lo.0, hi.0))
        };
        let mut plan = FaultPlan::new();
        let outages = uniform(&mut r, 0, self.max_outages as u64);
        for _ in 0..outages {
            if self.crashable.is_empty() {
                break;
            }
            let node = self.crashable[rng::index(&mut r, self.crashable.len())];
            let from = start(&mut r);
            let to = from + len(&mut r, self.downtime);
            plan = plan.with(Fault::Outage { node, from, to });
        }
        if self.nodes >= 2 {
            for _ in 0..uniform(&mut r, 0, self.max_partitions as u64) {
                // A random split in two non-empty groups.
                let side: Vec<bool> = (0..self.nodes).map(|_| rng::chance(&mut r, 0.5)).collect();
                let mut a: Vec<NodeId> = (0..self.nodes).filter(|&i| side[i]).collect();
                let mut b: Vec<NodeId> = (0..self.nodes).filter(|&i| !side[i]).collect();
                if a.is_empty() {
                    a.push(b.remove(0));
                } else if b.is_empty() {
                    b.push(a.remove(0));
                }
                let from = start(&mut r);
                let to = from + len(&mut r, self.partition_len);
                plan = plan.with(Fault::Partition {
                    groups: vec![a, b],
                    from,
                    to: Some(to),
                });
            }
        }
        for _ in 0..uniform(&mut r, 0, self.max_lossy as u64) {
            let p = (rng::unit_f64(&mut r) * self.max_loss * 100.0).round() / 100.0;
            let from = start(&mut r);
            let to = from + len(&mut r, self.lossy_len);
            plan = plan.with(Fault::Lossy { p, from, to });
        }
        let mut chained = false;
        if let Some((k, restart)) = self.crash_points {
            if k > 0 && rng::chance(&mut r, 0.5) {
                plan = plan.crash_at_point(uniform(&mut r, 0, k - 1), Some(restart));
                chained = true;
            }
        }
        // Drawn last, and nothing drawn when their maximum is 0: a space
        // without them draws the plans it drew before they existed.
        if self.nodes >= 2 {
            for _ in 0..uniform(&mut r, 0, self.max_oneway as u64) {
                let cut: Vec<bool> = (0..self.nodes).map(|_| rng::chance(&mut r, 0.5)).collect();
                let mut src: Vec<NodeId> = (0..self.nodes).filter(|&i| cut[i]).collect();
                let mut dst: Vec<NodeId> = (0..self.nodes).filter(|&i| !cut[i]).collect();
                if src.is_empty() {
                    src.push(dst.remove(0));
                } else if dst.is_empty() {
                    dst.push(src.remove(0));
                }
                let from = start(&mut r);
                let to = from + len(&mut r, self.oneway_len);
                plan = plan.with(Fault::OneWay {
                    src,
                    dst,
                    from,
                    to: Some(to),
                });
            }
        }
        for _ in 0..uniform(&mut r, 0, self.max_target_crashes as u64) {
            let at = start(&mut r);
            let down = len(&mut r, self.downtime);
            plan = plan.with(Fault::CrashTarget {
                at,
                restart_after: Some(down),
            });
        }
        // The rest of a chain of crash points, drawn last for the same
        // reason (a chain of 1 draws nothing here).
        if let (true, Some((k, restart))) = (chained, self.crash_points) {
            for _ in 1..self.crash_point_chain {
                plan = plan.crash_at_point(uniform(&mut r, 0, k - 1), Some(restart));
            }
        }
        plan
    }
}

/// A uniform integer in `lo..=hi`.
fn uniform(r: &mut SimRng, lo: u64, hi: u64) -> u64 {
    if hi <= lo {
        return lo;
    }
    let span = hi - lo;
    lo + (rng::unit_f64(r) * (span as f64 + 1.0)).min(span as f64) as u64
}
