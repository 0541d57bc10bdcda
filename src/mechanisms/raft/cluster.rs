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
use crate::sim::{CrashPoints, Latency, LinkConfig, PropertyKind, Sim, Violation};
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
        }
    }
}

impl RaftCluster {
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
    pub fn build(&self, trial: &Trial) -> Result<Sim<Raft>> {
        self.validate()?;
        let points = if self.crash_at_sends {
            CrashPoints::SyncsAndSends
        } else {
            CrashPoints::Syncs
        };
        let mut sim = Sim::builder()
            .seed(trial.seed)
            .link(self.link()?)
            .faults(trial.plan.clone())
            .crash_points(points)
            .trace(trial.trace_cap)
            .build(vec![Raft::new(self.cfg); self.nodes])?;
        sim.set_target(Raft::is_leader);
        attach_invariants(&mut sim);
        let ops = trial.workload_or(self.ops);
        let w = RaftWorkload::new(self.nodes, self.clients, ops, self.client_timeout);
        sim.set_workload(self.clients, w)?;
        Ok(sim)
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
