//! Chapter 6, three-phase commit: it does not block when the coordinator
//! crashes, and it is not atomic when the network partitions.
//!
//! The protocol is [`crate::txn::three_phase`]. Two experiments:
//! - [`ThreePhaseParams::coordinator_crashes`]: one transaction, the
//!   coordinator crashes for good at each of its crash points; two-phase
//!   commit leaves the participants in doubt at some of them, three-phase
//!   commit's termination rule decides every time, the same way
//!   everywhere.
//! - [`ThreePhaseParams::explore`]: random fault schedules, with the
//!   coordinator's outages only (atomic), or with a partition (the
//!   explorer finds a violation and shrinks it to the partition alone).

use crate::check::{Exploration, Explore, FaultSpace, Trial};
use crate::error::{Error, Result};
use crate::plot::Table;
use crate::sim::points::PointKind;
use crate::sim::time::{ms, secs, SimDuration};
use crate::sim::{CrashPoints, FaultPlan, Latency, LinkConfig, Node, Sim};
use crate::txn::three_phase::{self, ThreePc, ThreePhase};
use crate::txn::two_phase::{self, Outcome, TwoPc, TwoPhase};
use serde::Serialize;

/// Parameters of the three-phase commit experiments.
#[derive(Debug, Clone, Serialize)]
pub struct ThreePhaseParams {
    /// Seed of the single runs; explored seeds start here too.
    pub seed: u64,
    /// Participants (the coordinator is one more node).
    pub participants: usize,
    /// Concurrent clients of the explored runs.
    pub clients: usize,
    /// Transactions per client of the explored runs.
    pub txns: u64,
    /// How long each explored run lasts.
    pub horizon: SimDuration,
}

impl Default for ThreePhaseParams {
    /// 3 participants; explored runs: 2 clients of 10 transactions, 1.5 s.
    fn default() -> Self {
        ThreePhaseParams {
            seed: 1,
            participants: 3,
            clients: 2,
            txns: 10,
            horizon: ms(1500),
        }
    }
}

/// One coordinator crash of [`ThreePhaseParams::coordinator_crashes`].
#[derive(Debug, Clone, Serialize)]
pub struct CoordinatorCrash {
    /// "two-phase commit" or "three-phase commit".
    pub protocol: &'static str,
    /// The crash point's number in the run.
    pub point: u64,
    /// What the coordinator was about to do ("send prepare T0", "sync
    /// commit").
    pub what: String,
    /// Participants.
    pub participants: usize,
    /// Participants that know the outcome 2 s after the crash.
    pub decided: usize,
    /// Participants that voted yes and still do not know it then.
    pub in_doubt: usize,
    /// When the last of them learnt it, after the crash (ms); `None` if
    /// some participant is still in doubt.
    pub after_ms: Option<f64>,
    /// The outcomes the participants hold (one if atomic).
    pub outcomes: Vec<Outcome>,
}

/// How long the single runs wait for the participants after the crash.
const WAIT: SimDuration = secs(2);

fn link() -> Result<LinkConfig> {
    Ok(LinkConfig::new(Latency::uniform(ms(1), ms(5))?))
}

impl ThreePhaseParams {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        crate::error::check_count("participants", self.participants, 2, 10, "participants")?;
        crate::error::check_count("clients", self.clients, 1, 10, "clients")?;
        if !(1..=100).contains(&self.txns) {
            return Err(Error::invalid(
                "txns",
                self.txns,
                "1 to 100 transactions per client",
            ));
        }
        if self.horizon < ms(100) || self.horizon > secs(60) {
            return Err(Error::invalid("horizon", self.horizon, "100 ms to 60 s"));
        }
        Ok(())
    }

    /// The protocol: every vote yes in the single runs, 10 % no in the
    /// explored ones.
    pub fn protocol(&self, no_vote: f64) -> ThreePhase {
        ThreePhase {
            participants: self.participants,
            no_vote,
            ..ThreePhase::default()
        }
    }

    fn two_phase(&self) -> TwoPhase {
        TwoPhase {
            participants: self.participants,
            no_vote: 0.0,
            ..TwoPhase::default()
        }
    }

    /// One transaction, every vote yes; the coordinator crashes for good
    /// at each of its crash points (every send and sync, from its first
    /// prepare to its answer to the client), under two-phase commit and
    /// under three-phase commit. For each: how many participants know the
    /// outcome 2 s later, when the last learnt it, and what they hold.
    pub fn coordinator_crashes(&self) -> Result<Vec<CoordinatorCrash>> {
        self.validate()?;
        let mut rows = crashes::<TwoPc>(
            "two-phase commit",
            self.seed,
            || self.two_phase().nodes(),
            |s| s.set_workload(1, two_phase::clients(1, ms(1))).map(|_| ()),
            |d: &two_phase::Log| d.decided.get(&0).copied(),
            |d: &two_phase::Log| d.prepared.contains(&0),
        )?;
        rows.extend(crashes::<ThreePc>(
            "three-phase commit",
            self.seed,
            || self.protocol(0.0).nodes(),
            |s| {
                s.set_workload(1, three_phase::clients_workload(1, ms(1)))
                    .map(|_| ())
            },
            |d: &three_phase::Log| d.decided.get(&0).copied(),
            |d: &three_phase::Log| d.prepared.contains(&0),
        )?);
        Ok(rows)
    }

    /// The fault space: the coordinator's outages only (up to 2, 10 to
    /// 200 ms), or one partition (a random split in two, 10 to 200 ms)
    /// and nothing else.
    pub fn space(&self, partition: bool) -> Result<FaultSpace> {
        self.validate()?;
        let mut s = FaultSpace::new(self.participants + 1, self.horizon)?;
        s.max_lossy = 0;
        if partition {
            s.max_outages = 0;
        } else {
            s.max_partitions = 0;
            s.crashable = vec![0];
        }
        s.validate()?;
        Ok(s)
    }

    /// Explores `seeds` seeds of three-phase commit (10 % no votes) in the
    /// space [`ThreePhaseParams::space`]; shrinks the first failure.
    pub fn explore(&self, partition: bool, seeds: usize) -> Result<Exploration> {
        self.validate()?;
        let p = self.protocol(0.1);
        let (clients, txns, horizon) = (self.clients, self.txns, self.horizon);
        Explore::new(seeds)
            .base_seed(self.seed)
            .progress(false)
            .run(&self.space(partition)?, |t: &Trial| {
                p.trial(t, clients, txns, ms(5), horizon)
            })
    }
}

/// One explored seed run again under a plan of the caller's: what the
/// participants hold at the end.
#[derive(Debug, Clone, Serialize)]
pub struct Replay {
    /// The faults, described ("none" for an empty plan).
    pub faults: String,
    /// The first atomicity violation, if any.
    pub violation: Option<String>,
    /// Transactions committed at every participant.
    pub committed: usize,
    /// Transactions aborted at every participant (or at every one that
    /// heard of them).
    pub aborted: usize,
    /// Transactions some participant voted yes for and does not know the
    /// outcome of at the end.
    pub in_doubt: usize,
}

impl ThreePhaseParams {
    /// Runs seed `seed` of [`ThreePhaseParams::explore`] again with `plan`
    /// in place of its drawn faults (the shrunk counterexample's plan, or
    /// none), for the same horizon, and reads the participants' disks at
    /// the end.
    pub fn replay(&self, seed: u64, plan: FaultPlan) -> Result<Replay> {
        self.validate()?;
        let faults = if plan.is_empty() {
            "none".to_string()
        } else {
            plan.faults()
                .iter()
                .map(|f| f.describe())
                .collect::<Vec<_>>()
                .join("; ")
        };
        let mut sim = self.protocol(0.1).sim(
            seed,
            plan,
            crate::sim::trace::TraceCap::first(0),
            self.clients,
            self.txns,
            ms(5),
        )?;
        sim.run_for(self.horizon)?;
        let n = self.participants;
        let mut per: std::collections::BTreeMap<u64, Vec<Option<Outcome>>> = Default::default();
        for i in 1..=n {
            let d = sim.disk(i)?.synced();
            let txns = d.prepared.iter().chain(d.decided.keys()).copied();
            for t in txns.collect::<std::collections::BTreeSet<_>>() {
                let o = d.decided.get(&t).copied();
                // A participant that only prepared is in doubt.
                per.entry(t).or_default().push(o);
            }
        }
        let (mut committed, mut aborted, mut in_doubt) = (0, 0, 0);
        for v in per.values() {
            if v.iter().any(Option::is_none) {
                in_doubt += 1;
            } else if v.len() == n && v.iter().all(|o| *o == Some(Outcome::Committed)) {
                committed += 1;
            } else if v.iter().all(|o| *o == Some(Outcome::Aborted)) {
                aborted += 1;
            }
        }
        Ok(Replay {
            faults,
            violation: sim.violation().map(|v| v.reason.clone()),
            committed,
            aborted,
            in_doubt,
        })
    }
}

/// A row per replay: the faults, the violation, transactions committed,
/// aborted, in doubt at the end.
pub fn replay_table(rows: &[Replay]) -> Result<Table> {
    if rows.is_empty() {
        return Err(Error::empty("replays"));
    }
    let mut t = Table::new(&["faults", "atomicity", "committed", "aborted", "in doubt"]);
    for r in rows {
        t.push_row(vec![
            r.faults.clone(),
            r.violation
                .as_ref()
                .map_or_else(|| "kept".to_string(), |v| format!("violated: {v}")),
            r.committed.to_string(),
            r.aborted.to_string(),
            r.in_doubt.to_string(),
        ]);
    }
    Ok(t.caption("The same seed (clients, votes, message delays) with and without the faults, read from the participants' disks at the end."))
}

/// The single-transaction crash runs of one protocol.
fn crashes<N: Node>(
    protocol: &'static str,
    seed: u64,
    nodes: impl Fn() -> Result<Vec<N>>,
    start: impl Fn(&mut Sim<N>) -> Result<()>,
    outcome: impl Fn(&N::Disk) -> Option<Outcome>,
    prepared: impl Fn(&N::Disk) -> bool,
) -> Result<Vec<CoordinatorCrash>> {
    let build = |plan: FaultPlan, record: bool| -> Result<Sim<N>> {
        let mut sim = Sim::builder()
            .seed(seed)
            .link(link()?)
            .trace(0)
            .faults(plan)
            .crash_points(CrashPoints::SyncsAndSends)
            .record_crash_points(record)
            .build(nodes()?)?;
        start(&mut sim)?;
        Ok(sim)
    };
    let mut calm = build(FaultPlan::new(), true)?;
    calm.run_for(WAIT)?;
    let points: Vec<_> = calm
        .crash_points()
        .iter()
        .filter(|p| p.node == 0)
        .cloned()
        .collect();
    let mut rows = Vec::new();
    for p in points {
        let mut sim = build(FaultPlan::new().crash_at_point(p.index, None), false)?;
        let n = sim.nodes().len();
        let decided = |s: &Sim<N>| {
            (1..n)
                .filter_map(|i| s.disk(i).ok().and_then(|d| outcome(d.synced())))
                .count()
        };
        // Up to the crash, then until every participant knows or 2 s pass.
        sim.run_until(WAIT, |s| s.crashed_at_point().is_some())?;
        let crashed = sim
            .crashed_at_point()
            .map(|c| c.time)
            .ok_or_else(|| Error::empty("crash (the run did not reach its crash point)"))?;
        let all = sim.run_until(WAIT, |s| decided(s) == n - 1)?;
        let mut outcomes: Vec<Outcome> = (1..n)
            .filter_map(|i| sim.disk(i).ok().and_then(|d| outcome(d.synced())))
            .collect();
        outcomes.sort_by_key(|o| *o == Outcome::Aborted);
        outcomes.dedup();
        rows.push(CoordinatorCrash {
            protocol,
            point: p.index,
            what: format!(
                "{} {}",
                match p.kind {
                    PointKind::Sync => "sync",
                    PointKind::Send => "send",
                    PointKind::Reply => "answer",
                },
                p.label
            ),
            participants: n - 1,
            decided: decided(&sim),
            in_doubt: (1..n)
                .filter_map(|i| sim.disk(i).ok())
                .filter(|d| prepared(d.synced()) && outcome(d.synced()).is_none())
                .count(),
            after_ms: all.then(|| sim.now().since(crashed).as_ms()),
            outcomes,
        });
    }
    Ok(rows)
}

/// A row per coordinator crash: the protocol, where it crashed, how many
/// participants know the outcome, when the last learnt it (or how many
/// are blocked in doubt), what they hold.
pub fn crashes_table(rows: &[CoordinatorCrash]) -> Result<Table> {
    if rows.is_empty() {
        return Err(Error::empty("coordinator crashes"));
    }
    let mut t = Table::new(&[
        "protocol",
        "coordinator crashes before it would",
        "participants that know",
        "last knew after (ms)",
        "outcome",
    ]);
    for r in rows {
        t.push_row(vec![
            r.protocol.to_string(),
            r.what.clone(),
            format!("{} of {}", r.decided, r.participants),
            match (r.after_ms, r.in_doubt) {
                (Some(x), _) => format!("{x:.0}"),
                (None, 0) => "— (nobody voted)".to_string(),
                (None, k) => format!("never: {k} in doubt (blocked)"),
            },
            match r.outcomes.as_slice() {
                [] => "—".to_string(),
                [o] => format!("{o:?}").to_lowercase(),
                _ => "NOT ATOMIC".to_string(),
            },
        ]);
    }
    Ok(t.caption("One transaction, every vote yes; the coordinator crashes for good at one of its sends or syncs; we wait 2 s."))
}
