//! Chapter 6, atomicity of two-phase commit: every crash point of a small
//! workload, thousands of explored seeds with crashes, partitions and
//! loss, and a broken variant's shrunk counterexample.
//!
//! The protocol is [`crate::txn::two_phase`]; its [`atomicity`] property
//! is checked after every event on what the participants' disks hold.

use crate::check::crash_points::{every_point, CrashPointReport, CrashPointRun};
use crate::check::{Exploration, Explore, FaultSpace, Trial};
use crate::error::{Error, Result};
use crate::plot::{counterexample_steps, Figure, Table};
use crate::sim::time::{ms, SimDuration};
use crate::sim::{CrashPoints, FaultPlan, Latency, LinkConfig, Sim};
use crate::txn::decision::{Decide, DecisionRule};
use crate::txn::two_phase::{atomicity, clients, TwoPhase, Variant};
use serde::Serialize;

/// Parameters of the atomicity checks.
#[derive(Debug, Clone, Serialize)]
pub struct AtomicityParams {
    /// Seed of the crash-point runs; explored seeds start here too.
    pub seed: u64,
    /// Participants (the coordinator is one more node).
    pub participants: usize,
    /// Concurrent clients.
    pub clients: usize,
    /// Transactions per client.
    pub txns: u64,
    /// Cooperative termination among participants.
    pub termination: bool,
    /// How long a node crashed at a crash point stays down.
    pub restart_after: SimDuration,
    /// How long each explored run lasts.
    pub horizon: SimDuration,
}

impl Default for AtomicityParams {
    /// 3 participants, 2 clients of 4 transactions, no termination
    /// protocol, restart 30 ms after a crash, 1.5 s per explored run.
    fn default() -> Self {
        AtomicityParams {
            seed: 1,
            participants: 3,
            clients: 2,
            txns: 4,
            termination: false,
            restart_after: ms(30),
            horizon: ms(1500),
        }
    }
}

/// Network of the crash-point and explored runs: 1 to 5 ms per message.
fn link() -> Result<LinkConfig> {
    Ok(LinkConfig::new(Latency::uniform(ms(1), ms(5))?))
}

impl AtomicityParams {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        crate::error::check_count("participants", self.participants, 1, 20, "participants")?;
        crate::error::check_count("clients", self.clients, 1, 20, "clients")?;
        if !(1..=100).contains(&self.txns) {
            return Err(Error::invalid(
                "txns",
                self.txns,
                "1 to 100 transactions per client",
            ));
        }
        if self.restart_after.0 == 0 || self.restart_after > crate::sim::time::secs(60) {
            return Err(Error::invalid(
                "restart_after",
                self.restart_after,
                "a duration from 1 ns to 60 s",
            ));
        }
        if self.horizon < ms(100) || self.horizon > crate::sim::time::secs(60) {
            return Err(Error::invalid("horizon", self.horizon, "100 ms to 60 s"));
        }
        Ok(())
    }

    /// The protocol under test.
    pub fn protocol(&self, variant: Variant) -> TwoPhase {
        TwoPhase {
            participants: self.participants,
            variant,
            termination: self.termination,
            ..TwoPhase::default()
        }
    }

    /// One run of the workload with `plan` (`record` keeps its crash
    /// points); the verdict is atomicity's.
    fn crash_run(&self, p: &TwoPhase, plan: &FaultPlan, record: bool) -> Result<CrashPointRun> {
        let mut sim = Sim::builder()
            .seed(self.seed)
            .link(link()?)
            .faults(plan.clone())
            .crash_points(CrashPoints::SyncsAndSends)
            .record_crash_points(record)
            .trace(0)
            .build(p.nodes()?)?;
        sim.check(atomicity());
        sim.set_workload(self.clients, clients(self.txns, ms(5)))?;
        // Long enough for every transaction, a restart, and the in-doubt
        // participants' questions.
        sim.run_for(ms(400) + self.restart_after)?;
        let verdicts = crate::check::verdicts(&mut sim);
        Ok(CrashPointRun::new(&sim, verdicts))
    }

    /// Crashes the node reaching each crash point (every sync and every
    /// send of the run without faults), restarts it `restart_after` later,
    /// and judges atomicity at each (see [`crate::check::crash_points`]).
    pub fn every_crash_point(&self, variant: Variant) -> Result<CrashPointReport> {
        self.crash_points_of(&self.protocol(variant))
    }

    /// [`AtomicityParams::every_crash_point`] for the correct protocol
    /// with the coordinator deciding by `rule` (see
    /// [`crate::txn::decision`]): a rule written in a notebook cell, judged
    /// as experiment 1 judges the crate's.
    pub fn every_crash_point_with(&self, rule: impl Decide) -> Result<CrashPointReport> {
        self.crash_points_of(&self.with_rule(rule))
    }

    /// The correct protocol, its coordinator deciding by `rule`.
    fn with_rule(&self, rule: impl Decide) -> TwoPhase {
        TwoPhase {
            rule: DecisionRule::new(rule),
            ..self.protocol(Variant::Correct)
        }
    }

    fn crash_points_of(&self, p: &TwoPhase) -> Result<CrashPointReport> {
        self.validate()?;
        let t = self.clients as f64 * self.txns as f64 * (self.participants as f64 + 1.0);
        crate::error::check_work(
            "(clients × txns × participants)²: one run per crash point",
            400.0 * t * t,
        )?;
        every_point(
            |plan: &FaultPlan, record: bool| self.crash_run(p, plan, record),
            self.restart_after,
        )
    }

    /// The fault space of the explored runs: up to 2 node outages (10 to
    /// 200 ms), a partition, a lossy window (up to 30 % loss), and in half
    /// the runs a crash at one of the first 300 crash points.
    pub fn space(&self) -> Result<FaultSpace> {
        self.validate()?;
        let mut s = FaultSpace::new(self.participants + 1, self.horizon)?;
        s.crash_points = Some((300, self.restart_after));
        Ok(s)
    }

    /// Explores `seeds` seeds (the seed of trial `i` is `seed + i`), each
    /// with the fault plan [`AtomicityParams::space`] draws for it; shrinks
    /// the first failure and keeps its trace for the diagram. Results do
    /// not depend on the number of threads.
    pub fn explore(&self, variant: Variant, seeds: usize) -> Result<Exploration> {
        self.explore_protocol(self.protocol(variant), seeds)
    }

    /// [`AtomicityParams::explore`] for the correct protocol with the
    /// coordinator deciding by `rule`: a rule written in a notebook cell,
    /// explored (and its first failure shrunk) as experiments 2 and 3
    /// explore the crate's.
    pub fn explore_with(&self, rule: impl Decide, seeds: usize) -> Result<Exploration> {
        self.explore_protocol(self.with_rule(rule), seeds)
    }

    fn explore_protocol(&self, p: TwoPhase, seeds: usize) -> Result<Exploration> {
        self.validate()?;
        let (clients, txns, horizon) = (self.clients, self.txns, self.horizon);
        Explore::new(seeds)
            .base_seed(self.seed)
            .progress(false)
            .run(&self.space()?, |t: &Trial| {
                p.trial(t, clients, txns, ms(5), horizon)
            })
    }
}

/// A row per protocol: crash points, how many kept atomicity, the first
/// that did not.
pub fn crash_table(reports: &[(String, CrashPointReport)]) -> Table {
    let mut t = Table::new(&[
        "protocol",
        "crash points",
        "atomic",
        "broken",
        "first broken",
    ]);
    for (name, r) in reports {
        let first = r.first_failure().map_or_else(
            || "—".to_string(),
            |o| {
                let why = o
                    .verdicts
                    .iter()
                    .find_map(|v| v.counterexample.clone())
                    .unwrap_or_default();
                format!(
                    "point {} (node {}, {}): {why}",
                    o.point.index, o.point.node, o.point.label
                )
            },
        );
        t.push_row(vec![
            name.clone(),
            r.points().len().to_string(),
            r.recovered().to_string(),
            (r.points().len() - r.recovered()).to_string(),
            first,
        ]);
    }
    t.caption("Each run crashes the node that reaches one crash point (a sync or a send) and restarts it; atomicity is checked after every event.")
}

/// A row per protocol: seeds explored, failing seeds, the first failing
/// seed and its violation.
pub fn explore_table(rows: &[(String, Exploration)]) -> Table {
    let mut t = Table::new(&[
        "protocol",
        "seeds",
        "failed",
        "first failing seed",
        "violation",
    ]);
    for (name, e) in rows {
        let (seed, why) = e.failures.first().map_or_else(
            || ("—".to_string(), "—".to_string()),
            |(s, v)| (s.to_string(), v.reason.clone()),
        );
        t.push_row(vec![
            name.clone(),
            e.runs.to_string(),
            e.failed().to_string(),
            seed,
            why,
        ]);
    }
    t.caption("Every seed draws its own faults: node outages, a partition, a lossy window, and in half the runs a crash at a crash point.")
}

/// The shrunk counterexample of an exploration: the seed's fault plan
/// before and after shrinking, fault by fault.
///
/// Errors: an exploration that found no failure.
pub fn shrink_table(e: &Exploration) -> Result<Table> {
    let cx = e
        .counterexample
        .as_ref()
        .ok_or_else(|| Error::empty("counterexample (the exploration found no failing seed)"))?;
    let mut t = Table::new(&["plan", "faults"]);
    let describe = |p: &FaultPlan| {
        p.faults()
            .iter()
            .map(|f| f.describe())
            .collect::<Vec<_>>()
            .join("; ")
    };
    t.push_row(vec![
        format!("seed {} as drawn", cx.seed),
        describe(&cx.original),
    ]);
    t.push_row(vec![
        format!("shrunk ({} runs)", cx.shrink_runs),
        describe(&cx.plan),
    ]);
    Ok(t.caption(format!(
        "{} violated: {} (at {})",
        cx.violation.property, cx.violation.reason, cx.violation.time
    )))
}

/// The message diagram of the shrunk counterexample: the events of the
/// last `window_ms` before the violation, one row each in the order they
/// happened (on a time axis, 2PC's messages of one millisecond pile up).
///
/// Errors: no counterexample; a window that is not a time > 0.
pub fn counterexample_chart(e: &Exploration, window_ms: f64) -> Result<Figure> {
    let cx = e
        .counterexample
        .as_ref()
        .ok_or_else(|| Error::empty("counterexample (the exploration found no failing seed)"))?;
    counterexample_steps(cx, window_ms)
}
