//! Chapter 9, Paxos is safe: many random fault schedules (crashes, loss,
//! duplication, partitions) and every schedule of a small configuration,
//! with no two values chosen; and the planted flaws of
//! [`crate::consensus::Flaw`] caught, each on a shortest path drawn as a
//! message diagram.
//!
//! Two ways to look. **Explored seeds** ([`ExploreParams`]) run Paxos with
//! retries under a random fault plan per seed: cheap, many, but each a
//! sample. **Exhaustive search** ([`SearchParams`]) takes three nodes and
//! two proposers with one ballot each and tries every order of every
//! message (and, with a budget, every crash): all of a small world, with
//! the state counts to show for it. Breadth first, so the first violation
//! found is on a shortest path.

use crate::check::{invariant, Exhaustive, Explore, FaultSpace, Found, SearchReport};
use crate::check::{Trial, TrialRun};
use crate::consensus::{chosen_by, cluster, quorum_cluster, Flaw, Paxos, PromiseRule};
use crate::error::{check_count, Error, Result};
use crate::plot::{sequence_diagram, Figure, Opts, SequenceDiagram, Table};
use crate::sim::time::{ms, SimTime};
use crate::sim::{Latency, LinkConfig, Sim, World};
use serde::Serialize;

/// Parameters of the explored runs.
#[derive(Debug, Clone, Serialize)]
pub struct ExploreParams {
    /// The first seed (seeds `seed..seed + seeds`).
    pub seed: u64,
    /// Fault schedules to run (1..=100,000).
    pub seeds: usize,
    /// The bug to plant.
    #[serde(skip)]
    pub flaw: Flaw,
}

impl Default for ExploreParams {
    /// Seeds 0..10,000, correct Paxos.
    fn default() -> Self {
        ExploreParams {
            seed: 0,
            seeds: 10_000,
            flaw: Flaw::None,
        }
    }
}

/// What the explored runs found.
#[derive(Debug, Clone, Serialize)]
pub struct Explored {
    /// Runs.
    pub runs: usize,
    /// Runs where two values were chosen.
    pub violations: usize,
    /// Runs where every node decided by the end (1 s).
    pub decided: usize,
}

impl ExploreParams {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        check_count("seeds", self.seeds, 1, 100_000, "fault schedules")?;
        Ok(())
    }

    /// Three nodes, three proposers (values 1, 2, 3) retrying every 10 ms
    /// plus up to 10 ms of jitter (20 ballots at most), links of 1–5 ms
    /// duplicating 5 % of messages, for 1 s under the seed's fault plan: up
    /// to 2 outages, a partition and a lossy window. Checks "one value
    /// chosen" after every event.
    pub fn run(&self) -> Result<Explored> {
        self.validate()?;
        let flaw = self.flaw;
        let decided = std::sync::atomic::AtomicUsize::new(0);
        let scenario = |t: &Trial| -> Result<TrialRun> {
            let link = LinkConfig::new(Latency::uniform(ms(1), ms(5))?).duplicate(0.05);
            let nodes = cluster(3, &[1, 2, 3], Some((10_000_000, 10_000_000)), 20, flaw);
            let mut sim = Sim::builder()
                .seed(t.seed)
                .link(link)
                .faults(t.plan.clone())
                .trace(t.trace_cap)
                .build(nodes)?;
            sim.check(invariant("one value chosen", |w: &World<Paxos>| {
                let disks: Vec<_> = w.disks.iter().map(|d| d.synced()).collect();
                let c = chosen_by(&disks, 2);
                if c.len() <= 1 {
                    Ok(())
                } else {
                    Err(format!("chosen: {c:?}"))
                }
            }));
            sim.run_for(ms(1_000))?;
            if (0..3).all(|i| sim.disk(i).is_ok_and(|d| d.synced().decided.is_some())) {
                decided.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            Ok(TrialRun::new(
                &mut sim,
                (0..3).map(|i| format!("node {i}")).collect(),
            ))
        };
        let space = FaultSpace::new(3, ms(1_000))?;
        let found = Explore::new(self.seeds)
            .base_seed(self.seed)
            .progress(false)
            .shrink(false)
            .run(&space, scenario)?;
        Ok(Explored {
            runs: found.runs,
            violations: found.failed(),
            decided: decided.into_inner(),
        })
    }
}

/// Parameters of an exhaustive search over three nodes, two proposers
/// (values 1 and 2, one ballot each, at start).
#[derive(Debug, Clone, Serialize)]
pub struct SearchParams {
    /// Acceptors (2..=5).
    pub n: usize,
    /// Phase-1 and phase-2 quorum sizes (each 1..=n).
    pub quorums: (usize, usize),
    /// The bug to plant.
    #[serde(skip)]
    pub flaw: Flaw,
    /// Crashes (each followed, when chosen, by a restart) per path (0..=2).
    pub crashes: u32,
    /// Longest path searched (1..=40 choices).
    pub depth: usize,
    /// The acceptors' promise rule.
    #[serde(skip)]
    pub rule: PromiseRule,
}

impl Default for SearchParams {
    /// Three acceptors, majorities, correct Paxos, no crash, depth 10.
    fn default() -> Self {
        SearchParams {
            n: 3,
            quorums: (2, 2),
            flaw: Flaw::None,
            crashes: 0,
            depth: 10,
            rule: PromiseRule::default(),
        }
    }
}

impl SearchParams {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        check_count("n", self.n, 2, 5, "acceptors")?;
        check_count("crashes", self.crashes as usize, 0, 2, "crashes per path")?;
        check_count("depth", self.depth, 1, 40, "choices per path")?;
        quorum_cluster(self.n, &[1, 2], self.quorums, self.flaw).map(|_| ())
    }

    /// Searches every schedule up to the depth (at most 2,000,000 states),
    /// checking after every step that at most one value is chosen (by
    /// phase-2 quorums).
    pub fn run(&self) -> Result<SearchReport> {
        self.validate()?;
        let (n, q, flaw, rule) = (self.n, self.quorums, self.flaw, self.rule);
        Exhaustive::new(move || {
            let mut nodes = quorum_cluster(n, &[1, 2], q, flaw)?;
            for p in &mut nodes {
                p.cfg.promise_rule = rule;
            }
            Sim::builder().build(nodes)
        })
        .crashes(self.crashes)?
        .max_depth(self.depth)?
        .max_states(2_000_000)?
        .always("one value chosen", move |s: &Sim<Paxos>| {
            let disks: Vec<_> = (0..s.len())
                .filter_map(|i| s.disk(i).ok().map(|d| d.synced()))
                .collect();
            chosen_by(&disks, q.1).len() <= 1
        })
        .run()
    }
}

/// One row per search: what it was, states explored and unique, the depth
/// reached, and what it found (a violation with its path length, or "safe").
pub fn search_table(rows: &[(&str, &SearchReport)]) -> Table {
    let mut t = Table::new(&[
        "search",
        "states explored",
        "unique states",
        "depth",
        "verdict",
    ]);
    for (name, r) in rows {
        let verdict = match &r.violation {
            Some(f) => format!("\"{}\" fails in {} steps", f.property, f.path.len()),
            None if r.complete && !r.depth_bounded => "safe: whole space".to_string(),
            None => "safe to this depth".to_string(),
        };
        t.push_row(vec![
            name.to_string(),
            thousands(r.states_explored),
            thousands(r.unique_states),
            r.depth_reached.to_string(),
            verdict,
        ]);
    }
    t
}

/// `12906` as `12,906`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The shortest counterexample a search found. Errors if it found none.
pub fn shortest(report: &SearchReport) -> Result<&Found> {
    report.violation.as_ref().ok_or_else(|| {
        Error::invalid(
            "search report",
            "no violation",
            "a search that found one (a flawed variant, or a deeper search)",
        )
    })
}

/// A search's shortest counterexample as a message diagram: one row per
/// event run (the search takes one millisecond per event; a crash and its
/// restart happen between two events, on one row), crashes and restarts
/// marked. Errors if the search found none.
pub fn counterexample_chart(report: &SearchReport, title: &str) -> Result<Figure> {
    let found = shortest(report)?;
    let until = SimTime::ZERO + ms(found.path.len() as u64 + 1);
    let d = SequenceDiagram::from_trace(&found.trace, &found.lanes, until);
    sequence_diagram(&d, Opts::new(title).y_label("step").size(1200, 820))
}

/// The steps of a search's shortest counterexample, numbered. Errors if
/// the search found none.
pub fn steps_table(report: &SearchReport) -> Result<Table> {
    let found = shortest(report)?;
    let mut t = Table::new(&["step", "what happens"]);
    for (i, s) in found.steps.iter().enumerate() {
        t.push_row(vec![(i + 1).to_string(), s.clone()]);
    }
    Ok(t)
}
