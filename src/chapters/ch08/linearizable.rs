//! Chapter 8, linearizability found and missed: clients read and write one
//! key through a retrying client, under faults; the checker
//! ([`crate::check::linearizability`]) judges each run's history.
//!
//! Weak designs give real violations: leaderless quorums with `R + W > N`
//! whose reads skip the write-back (a read concurrent with a write sees the
//! new value, a later read the old one), and leader–follower reads at any
//! node (a follower behind the leader). Strong designs pass thousands of
//! explored seeds with crashes, partitions and loss: ABD (quorum reads that
//! write back before returning) and a leader that reads under a lease. A
//! reader's own read path ([`Design::ReadRule`]) is judged the same way.

use super::common::{lf_classify, mixed, node_links, policy, q_classify};
use crate::check::linearizability::{
    check_linearizable, Budget, KvMap, KvOp, KvRet, LinHistory, LinOp, LinVerdict, Outcome,
};
use crate::check::{Exploration, Explore, FaultSpace, Trial, TrialRun};
use crate::error::{check_probability, Error, Result};
use crate::plot::{history_chart, Figure, HistoryChart, Opts, Table};
use crate::replication::{
    kv_history, Ack, LeaderFollower, LfMsg, LinMap, QMsg, Quorum, ReadRepair, ReadRule, Reads,
    Versioning,
};
use crate::sim::time::{ms, secs, SimDuration};
use crate::sim::{History, Latency, Node, OpStatus, PropertyKind, Sim, SimTime, Violation};

/// A replicated key-value store to judge.
#[derive(Debug, Clone, Copy)]
pub enum Design {
    /// Leaderless, N = 3, R = W = 2, ABD writes, reads answer with the
    /// newest of R replies and do not write back.
    QuorumOverlap,
    /// The same with ABD's reads: write the newest back to W replicas
    /// before answering.
    QuorumRepair,
    /// Leader–follower, asynchronous, reads at whichever node is asked.
    FollowerReads,
    /// Leader–follower, majority acknowledgement, reads at the leader under
    /// a lease.
    LeaderLease,
    /// Leaderless as [`Design::QuorumOverlap`] with your own read path.
    ReadRule(ReadRule),
}

impl Design {
    /// A short name for tables.
    pub fn name(&self) -> &'static str {
        match self {
            Design::QuorumOverlap => "quorum R+W>N, no read repair",
            Design::QuorumRepair => "quorum R+W>N, repair before returning (ABD)",
            Design::FollowerReads => "leader-follower, async, reads at any node",
            Design::LeaderLease => "leader-follower, majority, lease reads",
            Design::ReadRule(_) => "quorum R+W>N, your read rule",
        }
    }
}

/// Parameters of the linearizability experiments.
#[derive(Debug, Clone)]
pub struct LinParams {
    /// First seed.
    pub seed: u64,
    /// Concurrent clients.
    pub clients: usize,
    /// Operations per client.
    pub ops: u64,
    /// Keys (each checked on its own).
    pub keys: u64,
    /// Probability that an operation is a read.
    pub reads: f64,
    /// Delay of every message between nodes.
    pub link: Latency,
    /// How long each run lasts.
    pub horizon: SimDuration,
}

impl Default for LinParams {
    /// 6 clients × 30 operations on one key, 60 % reads; messages take 3 ms
    /// on average (exponential), one in ten 30 ms; 3 s per run.
    fn default() -> Self {
        LinParams {
            seed: 1,
            clients: 6,
            ops: 30,
            keys: 1,
            reads: 0.6,
            link: Latency::Mixture {
                weights: vec![0.9, 0.1],
                parts: vec![
                    Latency::Exponential { mean: 3e6 },
                    Latency::Exponential { mean: 30e6 },
                ],
            },
            horizon: secs(3),
        }
    }
}

/// One judged run.
#[derive(Debug, Clone)]
pub struct Judged {
    /// Its seed.
    pub seed: u64,
    /// The checker's verdict on its history.
    pub verdict: LinVerdict,
    /// The history as a chart (all operations).
    pub chart: HistoryChart,
    /// History operation ids of the operations the verdict involves.
    pub involved: Vec<usize>,
}

/// What the search for a violation found.
#[derive(Debug, Clone)]
pub struct Search {
    /// The design.
    pub design: &'static str,
    /// Seeds checked (up to and including the first violation).
    pub checked: usize,
    /// The first violating run, if any.
    pub found: Option<Judged>,
}

impl LinParams {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        crate::error::check_count("clients", self.clients, 1, 100, "clients")?;
        if !(1..=1_000).contains(&self.ops) {
            return Err(Error::invalid("ops", self.ops, "1 to 1,000 operations per client"));
        }
        if !(1..=1_000).contains(&self.keys) {
            return Err(Error::invalid("keys", self.keys, "1 to 1,000 keys"));
        }
        check_probability("reads", self.reads)?;
        self.link.validate()?;
        if self.horizon < ms(10) || self.horizon > secs(600) {
            return Err(Error::invalid("horizon", self.horizon, "10 ms to 600 s"));
        }
        Ok(())
    }

    fn work(&self, seeds: usize) -> Result<()> {
        let per_run = self.clients as f64 * self.ops as f64 * 40.0 + self.horizon.as_ms() * 0.5;
        crate::error::check_work("seeds × clients × ops", per_run * seeds as f64)
    }

    /// Runs `design` once with `seed` under `plan` and judges its history.
    pub fn judge(&self, design: Design, seed: u64, plan: crate::sim::FaultPlan) -> Result<Judged> {
        self.validate()?;
        match design {
            Design::FollowerReads | Design::LeaderLease => {
                let lf = LeaderFollower {
                    ack: if matches!(design, Design::LeaderLease) {
                        Ack::Majority
                    } else {
                        Ack::Async
                    },
                    reads: if matches!(design, Design::LeaderLease) {
                        Reads::Lease
                    } else {
                        Reads::Any
                    },
                    ..LeaderFollower::default()
                };
                let c = mixed(
                    policy()?,
                    lf.nodes,
                    lf_classify,
                    self.ops,
                    self.keys,
                    self.reads,
                    ms(10),
                    LfMsg::get,
                    LfMsg::put,
                )?;
                let sim = self.run(lf.nodes()?, seed, plan, c)?;
                judged(&sim, seed)
            }
            _ => {
                let q = Quorum {
                    versions: Versioning::ReadFirst,
                    repair: if matches!(design, Design::QuorumRepair) {
                        ReadRepair::Blocking
                    } else {
                        ReadRepair::Off
                    },
                    read_rule: match design {
                        Design::ReadRule(r) => Some(r),
                        _ => None,
                    },
                    ..Quorum::default()
                };
                let c = mixed(
                    policy()?,
                    q.nodes,
                    q_classify,
                    self.ops,
                    self.keys,
                    self.reads,
                    ms(10),
                    QMsg::get,
                    QMsg::put,
                )?;
                let sim = self.run(q.nodes()?, seed, plan, c)?;
                judged(&sim, seed)
            }
        }
    }

    fn run<N: Node>(
        &self,
        nodes: Vec<N>,
        seed: u64,
        plan: crate::sim::FaultPlan,
        clients: impl crate::sim::Workload<N::Msg> + 'static,
    ) -> Result<Sim<N>> {
        let mut sim = Sim::builder()
            .seed(seed)
            .trace(0)
            .faults(plan)
            .build(nodes)?;
        node_links(&mut sim, &self.link, 0.0)?;
        sim.set_workload(self.clients, clients)?;
        sim.run_for(self.horizon)?;
        Ok(sim)
    }

    /// Runs seeds `seed, seed + 1, …` without faults until the checker
    /// finds a violation (at most `seeds` runs).
    pub fn find_violation(&self, design: Design, seeds: usize) -> Result<Search> {
        crate::error::check_count("seeds", seeds, 1, crate::error::limits::SEEDS, "seeds")?;
        self.work(seeds)?;
        for i in 0..seeds {
            let seed = self.seed.wrapping_add(i as u64);
            let j = self.judge(design, seed, crate::sim::FaultPlan::new())?;
            if !j.verdict.is_consistent() {
                return Ok(Search {
                    design: design.name(),
                    checked: i + 1,
                    found: Some(j),
                });
            }
        }
        Ok(Search {
            design: design.name(),
            checked: seeds,
            found: None,
        })
    }

    /// The fault space explored: up to two outages of 10–200 ms of any
    /// node, a partition, a lossy window, over the run's first 80 %.
    pub fn faults(&self) -> Result<FaultSpace> {
        FaultSpace::new(3, self.horizon)
    }

    /// Explores `seeds` seeds, each with its own random fault schedule
    /// ([`LinParams::faults`]); a run whose history is not linearizable
    /// (or that the checker cannot decide) is a violation.
    pub fn explore(&self, design: Design, seeds: usize) -> Result<Exploration> {
        self.validate()?;
        crate::error::check_count("seeds", seeds, 1, crate::error::limits::SEEDS, "seeds")?;
        self.work(seeds)?;
        let space = self.faults()?;
        Explore::new(seeds)
            .base_seed(self.seed)
            .progress(false)
            .shrink(false)
            .run(&space, |t: &Trial| {
                let j = self.judge(design, t.seed, t.plan.clone())?;
                let violation = (!j.verdict.is_consistent()).then(|| Violation {
                    property: "linearizable".into(),
                    kind: PropertyKind::Safety,
                    time: SimTime::from_start(self.horizon),
                    event_index: 0,
                    event: "the end of the run".into(),
                    node: None,
                    reason: j.verdict.to_string(),
                });
                Ok(TrialRun {
                    violation,
                    trace: crate::sim::trace::Trace::with_cap(0),
                    lanes: vec![],
                    end: SimTime::from_start(self.horizon),
                })
            })
    }
}

/// Judges a finished run's history.
fn judged<N: Node>(sim: &Sim<N>, seed: u64) -> Result<Judged>
where
    N::Msg: LinMap + Label,
{
    let h = sim.history();
    let lin = kv_history(h)?;
    let verdict = check_linearizable(&KvMap, &lin, Budget::default())?;
    // `from_run` leaves out the operations that failed: the checker's
    // operation i is the i-th one that did not.
    let ids: Vec<usize> = h
        .ops()
        .iter()
        .filter(|o| o.status != OpStatus::Failed)
        .map(|o| o.id)
        .collect();
    let involved = match verdict.inconsistency() {
        Some(x) => smallest_witness(&lin, &x.involved)?
            .iter()
            .filter_map(|&i| ids.get(i).copied())
            .collect(),
        None => Vec::new(),
    };
    let until = sim.now().as_ms();
    Ok(Judged {
        seed,
        verdict,
        chart: HistoryChart::from_history(h, until, |req, reply| N::Msg::label(req, reply)),
        involved,
    })
}

/// A smaller set of operations whose results alone contradict each other:
/// starting from `involved` (with every other operation's result taken as
/// unknown), drops each operation whose result is not needed for the
/// contradiction, one at a time. Every operation left is needed.
fn smallest_witness(h: &LinHistory<KvOp, KvRet>, involved: &[usize]) -> Result<Vec<usize>> {
    let mut ops: Vec<LinOp<KvOp, KvRet>> = h.ops().to_vec();
    for (i, o) in ops.iter_mut().enumerate() {
        if !involved.contains(&i) {
            o.outcome = Outcome::Unknown;
        }
    }
    let broken = |ops: &[LinOp<KvOp, KvRet>]| -> Result<bool> {
        let h = LinHistory::from_ops(ops.iter().cloned())?;
        Ok(check_linearizable(&KvMap, &h, Budget::default())?.is_inconsistent())
    };
    if !broken(&ops)? {
        return Ok(involved.to_vec());
    }
    let mut keep = involved.to_vec();
    for &i in involved.iter().rev() {
        let saved = std::mem::replace(&mut ops[i].outcome, Outcome::Unknown);
        if broken(&ops)? {
            keep.retain(|&k| k != i);
        } else {
            ops[i].outcome = saved;
        }
    }
    keep.sort_by_key(|&i| h.ops()[i].call);
    Ok(keep)
}

/// Labels for history charts.
pub trait Label {
    /// `request → reply`, short.
    fn label(request: &Self, reply: Option<&Self>) -> String;
}

impl Label for LfMsg {
    fn label(request: &Self, reply: Option<&Self>) -> String {
        match reply {
            Some(r) => format!("{} → {}", request.short(), r.short()),
            None => request.short(),
        }
    }
}

impl Label for QMsg {
    fn label(request: &Self, reply: Option<&Self>) -> String {
        match reply {
            Some(r) => format!("{} → {}", request.short(), r.short()),
            None => request.short(),
        }
    }
}

impl Judged {
    /// The operations whose results contradict each other, as a history
    /// chart (a smallest such set: every other operation is left out, its
    /// result taken as unknown), `margin_ms` of time either side.
    pub fn chart(&self, margin_ms: f64) -> Result<Figure> {
        let ops: Vec<_> = self
            .involved
            .iter()
            .filter_map(|&i| self.chart.ops.get(i).cloned())
            .collect();
        if ops.is_empty() {
            return Err(Error::empty("operations involved in a violation"));
        }
        let lo = ops.iter().map(|o| o.start).fold(f64::INFINITY, f64::min) - margin_ms;
        let hi = ops
            .iter()
            .map(|o| o.end.unwrap_or(self.chart.until))
            .fold(0.0, f64::max)
            + margin_ms;
        let mut lanes: Vec<usize> = ops.iter().map(|o| o.lane).collect();
        lanes.sort_unstable();
        lanes.dedup();
        let ops = ops
            .into_iter()
            .map(|mut o| {
                o.lane = lanes.iter().position(|&l| l == o.lane).unwrap_or(0);
                o.start -= lo;
                o.end = o.end.map(|e| e.min(hi) - lo);
                o
            })
            .collect();
        let chart = HistoryChart {
            lanes: lanes.iter().map(|&l| self.chart.lanes[l].clone()).collect(),
            ops,
            until: hi - lo,
        };
        history_chart(
            &chart,
            Opts::new(format!("Not linearizable (seed {}): the operations that contradict", self.seed))
                .x_label(format!("time since {lo:.1} ms (ms)")),
        )
    }
}

/// A table of searches: design, seeds checked, first violation's seed and
/// the checker's reason.
pub fn search_table(searches: &[Search]) -> Table {
    let mut t = Table::new(&["design", "seeds run", "violation", "the checker says"]);
    for s in searches {
        let (seed, why) = match &s.found {
            Some(j) => (format!("seed {}", j.seed), j.verdict.to_string()),
            None => ("none".into(), "linearizable in every run".into()),
        };
        t.push_row(vec![s.design.into(), s.checked.to_string(), seed, why]);
    }
    t
}

/// A table of explorations: design, seeds, violations, the first failing
/// seed.
pub fn explore_table(rows: &[(&str, &Exploration)]) -> Table {
    let mut t = Table::new(&["design", "seeds (each its own faults)", "not linearizable", "first"]);
    for (name, e) in rows {
        let first = e
            .failures
            .first()
            .map_or("none".to_string(), |(s, _)| format!("seed {s}"));
        t.push_row(vec![
            name.to_string(),
            e.runs.to_string(),
            e.failed().to_string(),
            first,
        ]);
    }
    t
}

/// The history of a run as a chart, for any cluster (used by tests).
pub fn history_of<M: Label>(h: &History<M>, until_ms: f64) -> HistoryChart {
    HistoryChart::from_history(h, until_ms, |req, reply| M::label(req, reply))
}
