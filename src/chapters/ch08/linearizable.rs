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
    check_linearizable, Budget, KvMap, KvOp, KvRet, LinHistory, LinVerdict,
};
use crate::check::{Exploration, Explore, FaultSpace, Trial, TrialRun};
use crate::error::{check_probability, Error, Result};
use crate::plot::{linearizability_chart, Figure, Opts, Table};
use crate::replication::{
    kv_history, Ack, LeaderFollower, LfMsg, LinMap, QMsg, Quorum, ReadRepair, ReadRule, Reads,
    Versioning,
};
use crate::sim::time::{ms, secs, SimDuration};
use crate::sim::{Latency, Node, PropertyKind, Sim, SimTime, Violation};

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
    /// Operations in its history (attempts that failed left out).
    pub ops: usize,
    /// The checker's verdict on its history.
    pub verdict: LinVerdict,
    /// For a violation: a smallest set of its operations whose results
    /// contradict each other (every other operation left out), and the
    /// checker's verdict on them alone.
    /// (Its times in the unit named third: `"µs"`, microseconds since its
    /// first operation; `"ns"`, nanoseconds since the run began, where
    /// rounding to microseconds would hide the contradiction.)
    pub witness: Option<(LinHistory<KvOp, KvRet>, LinVerdict, &'static str)>,
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
            return Err(Error::invalid(
                "ops",
                self.ops,
                "1 to 1,000 operations per client",
            ));
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
        self.judge_with(design, seed, plan, true)
    }

    fn judge_with(
        &self,
        design: Design,
        seed: u64,
        plan: crate::sim::FaultPlan,
        witness: bool,
    ) -> Result<Judged> {
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
                judged(&sim, seed, witness)
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
                judged(&sim, seed, witness)
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
                let j = self.judge_with(design, t.seed, t.plan.clone(), false)?;
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
fn judged<N: Node>(sim: &Sim<N>, seed: u64, witness: bool) -> Result<Judged>
where
    N::Msg: LinMap,
{
    let lin = kv_history(sim.history())?;
    let verdict = check_linearizable(&KvMap, &lin, Budget::default())?;
    let witness = match verdict.inconsistency() {
        Some(x) if witness => {
            let keep = smallest_witness(&lin, &x.involved)?;
            let sub = LinHistory::from_ops(keep.iter().map(|&i| lin.ops()[i].clone()))?;
            // In microseconds since the first of them, for the reader, each
            // operation widened to whole microseconds (which can only
            // remove a contradiction): kept if the contradiction stays,
            // else in nanoseconds since the run began.
            let t0 = sub.ops().iter().map(|o| o.call).min().unwrap_or(0) / 1_000 * 1_000;
            let us = LinHistory::from_ops(sub.ops().iter().map(|o| {
                let mut o = o.clone();
                o.call = (o.call - t0) / 1_000;
                o.ret = o.ret.map(|r| (r - t0).div_ceil(1_000));
                o
            }))?;
            let v = check_linearizable(&KvMap, &us, Budget::default())?;
            if v.is_inconsistent() {
                Some((us, v, "µs"))
            } else {
                let v = check_linearizable(&KvMap, &sub, Budget::default())?;
                Some((sub, v, "ns"))
            }
        }
        _ => None,
    };
    Ok(Judged {
        seed,
        ops: lin.len(),
        verdict,
        witness,
    })
}

/// A small set of operations that contradict each other on their own
/// (every other operation removed), in which every value read is written
/// by an operation of the set: starting from the operations the checker
/// names and the writes of the values they read, removes one operation at
/// a time while the rest stays inconsistent. Removing an operation is one
/// of the things an operation of unknown outcome may have done (nothing),
/// so what stays inconsistent is a real contradiction.
fn smallest_witness(h: &LinHistory<KvOp, KvRet>, involved: &[usize]) -> Result<Vec<usize>> {
    let ops = h.ops();
    let writes_of = |v: &str| -> Vec<usize> {
        (0..ops.len())
            .filter(|&i| matches!(&ops[i].op, KvOp::Put(_, w) if w == v))
            .collect()
    };
    let read_value = |i: usize| match ops[i].result() {
        Some(KvRet::Value(v)) if !v.is_empty() => Some(v.clone()),
        _ => None,
    };
    let mut set: Vec<usize> = involved.to_vec();
    for &i in involved {
        if let Some(v) = read_value(i) {
            set.extend(writes_of(&v));
        }
    }
    set.sort_by_key(|&i| (ops[i].call, i));
    set.dedup();
    // A check that runs out of steps counts as consistent: the operation
    // stays, so the witness is only larger, never wrong.
    let budget = Budget::steps(200_000).explain_steps(0);
    let broken = |set: &[usize]| -> Result<bool> {
        let sub = LinHistory::from_ops(set.iter().map(|&i| ops[i].clone()))?;
        Ok(check_linearizable(&KvMap, &sub, budget)?.is_inconsistent())
    };
    if !broken(&set)? {
        return Ok(involved.to_vec());
    }
    loop {
        let mut removed = false;
        for k in (0..set.len()).rev() {
            let i = set[k];
            // A write whose value a remaining read returned stays.
            if let KvOp::Put(_, v) = &ops[i].op {
                let read = set
                    .iter()
                    .any(|&j| read_value(j).as_deref() == Some(v.as_str()));
                let others = set
                    .iter()
                    .any(|&j| j != i && matches!(&ops[j].op, KvOp::Put(_, w) if w == v));
                if read && !others {
                    continue;
                }
            }
            let mut candidate = set.clone();
            candidate.remove(k);
            if broken(&candidate)? {
                set = candidate;
                removed = true;
            }
        }
        if !removed {
            return Ok(set);
        }
    }
}

impl Judged {
    /// The operations whose results contradict each other (the witness),
    /// as the checker's chart: the bar that cannot be placed marked "✗",
    /// the reason under the chart.
    pub fn chart(&self) -> Result<Figure> {
        let Some((h, v, unit)) = &self.witness else {
            return Err(Error::empty(
                "operations of a violation (this run is linearizable)",
            ));
        };
        linearizability_chart(
            &KvMap,
            h,
            v,
            Opts::new(format!("Not linearizable (seed {})", self.seed)).x_label(if *unit == "µs" {
                "time since the first of these operations (µs)".to_string()
            } else {
                "time since the run began (ns)".to_string()
            }),
        )
    }
    /// The checker's reason for the witness, in words.
    pub fn reason(&self) -> String {
        match &self.witness {
            Some((_, v, _)) => v.to_string(),
            None => self.verdict.to_string(),
        }
    }
}

/// A table of searches: design, seeds checked, first violation's seed and
/// the checker's reason.
pub fn search_table(searches: &[Search]) -> Table {
    let mut t = Table::new(&["design", "seeds run", "violation", "the checker says"]);
    for s in searches {
        let (seed, why) = match &s.found {
            Some(j) => (format!("seed {}", j.seed), j.reason()),
            None => ("none".into(), "linearizable in every run".into()),
        };
        t.push_row(vec![s.design.into(), s.checked.to_string(), seed, why]);
    }
    t
}

/// A table of explorations: design, seeds, violations, the first failing
/// seed.
pub fn explore_table(rows: &[(&str, &Exploration)]) -> Table {
    let mut t = Table::new(&[
        "design",
        "seeds (each its own faults)",
        "not linearizable",
        "first",
    ]);
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
