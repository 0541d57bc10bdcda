//! A Raft cluster with clients under a fault plan: one explored trial, the
//! invariants checked after every event and linearizability at the end.

use super::client::{raft_history, RaftWorkload};
use super::invariants::{attach_invariants, log_matching_at_end};
use super::node::Raft;
use super::RaftConfig;
use crate::check::linearizability::{check_linearizable, Budget, KvMap, LinVerdict};
use crate::check::{Exploration, Explore, FaultSpace, Trial, TrialRun};
use crate::error::{check_count, Error, Result};
use crate::sim::time::{ms, secs, SimDuration};
use crate::sim::trace::TraceCap;
use crate::sim::{
    CrashPoints, Fault, FaultPlan, Latency, LinkConfig, PropertyKind, Sim, Violation,
};
use serde::Serialize;

/// A cluster, its clients and its network, for one run or many.
#[derive(Debug, Clone, Serialize)]
pub struct RaftCluster {
    /// Servers (3 to 9; the paper's experiment uses 5).
    pub nodes: usize,
    /// The protocol's settings.
    pub cfg: RaftConfig,
    /// Clients, each closed-loop.
    pub clients: usize,
    /// Operations per client (the explorer halves it when shrinking).
    pub ops: usize,
    /// A client's timeout.
    pub client_timeout: SimDuration,
    /// One-way network delay, uniform in `[lo, hi]`.
    pub delay: (SimDuration, SimDuration),
    /// Each message's loss probability.
    pub loss: f64,
    /// Each message's duplication probability.
    pub duplicate: f64,
    /// Simulated time of a run.
    pub horizon: SimDuration,
    /// Crash points include sends (a crash between a vote and its reply).
    pub crash_at_sends: bool,
    /// Which crash points a plan's crash at point `k` counts.
    pub aim: Aim,
}

/// Which crash points a plan's crash at point `k` (a
/// [`Fault::CrashAtPoint`]) counts: all of them, or only those of one kind,
/// so that an exploration crashes servers exactly where a bug would show
/// instead of at one point in hundreds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Aim {
    /// Every point: `k` is the point's number in the run.
    Every,
    /// Only the points whose label starts with this (with
    /// `crash_at_sends`, `"no t"` is a vote denied: a server that already
    /// voted in the term, crashed before it answers): `k` is the `k`-th
    /// such point (modulo their number) of the same run without crash
    /// points. A run without such a point crashes nowhere.
    Labelled(&'static str),
    /// The point that follows, on the same server, each point whose label
    /// starts with this (`"yes t"`: the first thing a server does after it
    /// granted a vote, typically denying the next candidate): `k` counts
    /// them as for [`Aim::Labelled`].
    NextAfter(&'static str),
    /// As [`Aim::NextAfter`] with the first prefix, counting only the
    /// points whose own label starts with the second: `("log", "append")`
    /// is a leader that has just synced a client's entry, crashed before
    /// it sends the entry to anyone (a follower's next point after its
    /// sync is an "ack").
    Then(&'static str, &'static str),
}

impl Default for RaftCluster {
    /// 5 servers with the paper's timeouts, 3 clients of 40 operations,
    /// 1–5 ms delays, 1 % loss and 1 % duplication, 10 s.
    fn default() -> Self {
        RaftCluster {
            nodes: 5,
            cfg: RaftConfig::default(),
            clients: 3,
            ops: 40,
            client_timeout: ms(500),
            delay: (ms(1), ms(5)),
            loss: 0.01,
            duplicate: 0.01,
            horizon: secs(10),
            crash_at_sends: false,
            aim: Aim::Every,
        }
    }
}

impl RaftCluster {
    /// The fault space Raft is explored under (tests/raft.rs, chapter 10):
    /// up to two outages of 10 ms to 1 s, two crashes of whoever leads, two
    /// partitions and a one-way cut of 50 ms to 2 s, a lossy window (the
    /// space's default), and in half the runs a crash at one of the first
    /// 300 sync points, back 100 ms later.
    pub fn fault_space(&self) -> Result<FaultSpace> {
        let mut s = FaultSpace::new(self.nodes, self.horizon)?;
        s.max_outages = 2;
        s.downtime = (ms(10), ms(1_000));
        s.max_partitions = 2;
        s.partition_len = (ms(50), ms(2_000));
        s.max_oneway = 1;
        s.oneway_len = (ms(50), ms(2_000));
        s.max_target_crashes = 2;
        s.crash_points = Some((300, ms(100)));
        Ok(s)
    }

    /// This cluster aimed at the paper's Figure 8, and the fault space
    /// that builds it: no fault but, in half the runs, a chain of four
    /// crashes, each of the next leader that has just synced a client's
    /// entry, crashed before it sends the entry to anyone (crash points at
    /// sends, [`Aim::Then`]`("log", "append")`), each back 1 s later. The
    /// chain makes the figure's ingredients: an entry on the old leader
    /// alone, a leader of a higher term with its own entry at that index,
    /// the old leader back and elected again, copying its old entry to a
    /// majority, and crashed again before its new term's entries spread,
    /// so that the second leader, back, can win with a log that lacks it.
    pub fn figure8(&self) -> Result<(RaftCluster, FaultSpace)> {
        let mut c = self.clone();
        c.crash_at_sends = true;
        c.aim = Aim::Then("log", "append");
        let mut s = FaultSpace::new(c.nodes, c.horizon)?;
        s.max_outages = 0;
        s.max_partitions = 0;
        s.max_lossy = 0;
        s.crash_points = Some((1, secs(1)));
        s.crash_point_chain = 4;
        Ok((c, s))
    }

    /// Checks the sizes and the protocol's settings.
    pub fn validate(&self) -> Result<()> {
        check_count(
            "nodes",
            self.nodes,
            1,
            64,
            "servers (a vote is one bit of a u64)",
        )?;
        check_count("clients", self.clients, 1, 1_000, "clients")?;
        check_count("ops", self.ops, 1, 100_000, "operations per client")?;
        self.cfg.validate()?;
        if self.horizon.0 == 0 || self.horizon > secs(3_600) {
            return Err(Error::invalid(
                "horizon",
                self.horizon,
                "0 < horizon <= 1 h",
            ));
        }
        self.link()?.validate()
    }

    fn link(&self) -> Result<LinkConfig> {
        Ok(
            LinkConfig::new(Latency::uniform(self.delay.0, self.delay.1)?)
                .loss(self.loss)
                .duplicate(self.duplicate),
        )
    }

    /// A simulation of this cluster under `trial`'s faults, with the
    /// invariants attached and the clients set up (not yet run).
    /// With [`Aim::Labelled`], the crash points are first mapped to the
    /// points of that kind (one more run, without them, to find where).
    pub fn build(&self, trial: &Trial) -> Result<Sim<Raft>> {
        self.validate()?;
        let plan = self.aimed(trial)?;
        self.sim(trial, plan, trial.trace_cap, false)
    }

    fn sim(
        &self,
        trial: &Trial,
        plan: FaultPlan,
        cap: TraceCap,
        record: bool,
    ) -> Result<Sim<Raft>> {
        let points = if self.crash_at_sends {
            CrashPoints::SyncsAndSends
        } else {
            CrashPoints::Syncs
        };
        let mut sim = Sim::builder()
            .seed(trial.seed)
            .link(self.link()?)
            .faults(plan)
            .crash_points(points)
            .record_crash_points(record)
            .trace(cap)
            .build(vec![Raft::new(self.cfg); self.nodes])?;
        sim.set_target(Raft::is_leader);
        attach_invariants(&mut sim);
        let ops = trial.workload_or(self.ops);
        let w = RaftWorkload::new(self.nodes, self.clients, ops, self.client_timeout);
        sim.set_workload(self.clients, w)?;
        Ok(sim)
    }

    /// `trial`'s plan with its crash points aimed (see [`Aim`]), one after
    /// the other: the first among the points of the run without crash
    /// points, each next one among the points that follow the one before
    /// in the run with the earlier ones in place (one more run per crash
    /// point, to find where). A crash point with no such point left is
    /// dropped, with those after it.
    fn aimed(&self, trial: &Trial) -> Result<FaultPlan> {
        let (prefix, then, next) = match self.aim {
            Aim::Every => return Ok(trial.plan.clone()),
            Aim::Labelled(p) => (p, None, false),
            Aim::NextAfter(p) => (p, None, true),
            Aim::Then(p, q) => (p, Some(q), true),
        };
        let wanted = trial.plan.crash_points();
        if wanted.is_empty() {
            return Ok(trial.plan.clone());
        }
        // The plan with its first `aimed.len()` crash points replaced by
        // `aimed`, in place, and the others left out.
        let plan = |aimed: &[Fault]| {
            let mut k = 0;
            let faults = trial.plan.faults().iter().filter_map(|f| match f {
                Fault::CrashAtPoint { .. } => {
                    k += 1;
                    aimed.get(k - 1).cloned()
                }
                _ => Some(f.clone()),
            });
            FaultPlan::from_faults(faults.collect())
        };
        let mut aimed: Vec<Fault> = Vec::new();
        let mut after: Option<u64> = None;
        for (point, restart_after) in wanted {
            let mut sim = self.sim(trial, plan(&aimed), TraceCap::first(0), true)?;
            sim.run_for(self.horizon)?;
            let points = sim.crash_points();
            let hits: Vec<u64> = (0..points.len())
                .filter(|&j| points[j].label.starts_with(prefix))
                .filter_map(|j| match next {
                    false => Some(points[j].index),
                    true => points[j + 1..]
                        .iter()
                        .find(|q| q.node == points[j].node)
                        .filter(|q| then.is_none_or(|t| q.label.starts_with(t)))
                        .map(|q| q.index),
                })
                .filter(|&i| after.is_none_or(|a| i > a))
                .collect();
            if hits.is_empty() {
                break;
            }
            let at = hits[(point % hits.len() as u64) as usize];
            after = Some(at);
            aimed.push(Fault::CrashAtPoint {
                point: at,
                restart_after,
            });
        }
        Ok(plan(&aimed))
    }
}

/// One explored trial: runs the cluster for its horizon under the trial's
/// plan; the first invariant violated, else whole-log matching, else a
/// client history that is not linearizable, is the trial's violation.
pub fn raft_trial(cluster: &RaftCluster, trial: &Trial) -> Result<TrialRun> {
    let mut sim = cluster.build(trial)?;
    sim.run_for(cluster.horizon)?;
    let lanes = (0..cluster.nodes).map(|i| format!("S{}", i + 1)).collect();
    let mut run = TrialRun::new(&mut sim, lanes);
    if run.violation.is_none() {
        let logs: Vec<_> = (0..cluster.nodes)
            .map(|i| sim.disk(i).map(|d| d.working().log.to_vec()))
            .collect::<Result<_>>()?;
        let end = |property: &str, reason: String| Violation {
            property: property.into(),
            kind: PropertyKind::Safety,
            time: sim.now(),
            event_index: 0,
            event: "the end of the run".into(),
            node: None,
            reason,
        };
        if let Err(reason) = log_matching_at_end(&logs) {
            run.violation = Some(end("log matching", reason));
        } else {
            let h = raft_history(sim.history())?;
            if let LinVerdict::Inconsistent(why) =
                check_linearizable(&KvMap, &h, Budget::default())?
            {
                run.violation = Some(end("linearizable", format!("{why:?}")));
            }
        }
    }
    Ok(run)
}

/// Explores `seeds` seeds of `cluster` under `space` (see
/// [`crate::check::Explore`]); the first failure is shrunk.
pub fn explore_raft(
    cluster: &RaftCluster,
    space: &FaultSpace,
    seeds: usize,
) -> Result<Exploration> {
    cluster.validate()?;
    Explore::new(seeds)
        .progress(false)
        .workload(cluster.ops)
        .run(space, |t| raft_trial(cluster, t))
}
