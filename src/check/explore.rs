//! Exploration: many seeds, each with its own random fault schedule, on all
//! cores; for a failing seed, the smallest fault schedule that still fails.
//!
//! A [`FaultSpace`] says what may go wrong (how many outages, partitions and
//! lossy windows, how long, over which horizon); [`FaultSpace::draw`] turns
//! a seed into a [`FaultPlan`]. [`Explore::run`] calls a scenario once per
//! seed with its plan (a [`Trial`]) and collects the violations. It then
//! *shrinks* the first failing seed's plan: it removes faults one at a time
//! and shortens the rest (halving outages, partitions and loss), keeping
//! each change that still violates the same property, until no change
//! does. What is left is usually one or two faults: a counterexample a
//! reader can follow on a message diagram
//! (`plot::counterexample_diagram`).
//!
//! Trial `i` runs seed `base + i`, trials run on all cores through [`crate::sim::sweep::Sweep`], and shrinking is
//! sequential: the result is the same for any number of threads.
//!
//! ```
//! use thinkdist::prelude::*;
//! use thinkdist::check::{Explore, FaultSpace, Trial, TrialRun};
//!
//! /// Node 0 sends a message to node 1 every 10 ms; node 1 must have
//! /// received at least half of them by the end (false under long outages).
//! #[derive(Clone, Default)]
//! struct P { got: u32 }
//! impl Node for P {
//!     type Msg = ();
//!     type Timer = ();
//!     type Disk = ();
//!     fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
//!         if ctx.id() == 0 { ctx.set_timer(ms(10), ()); }
//!     }
//!     fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _: ()) {
//!         ctx.send(1, ());
//!         ctx.set_timer(ms(10), ());
//!     }
//!     fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: ()) { self.got += 1; }
//! }
//! let scenario = |t: &Trial| -> Result<TrialRun> {
//!     let mut sim = Sim::builder().seed(t.seed).faults(t.plan.clone()).trace(t.trace_cap).build(vec![P::default(); 2])?;
//!     sim.check(check::eventually("half arrive", ms(1000),
//!         |e: &SimEvent<P>, _: &World<P>| matches!(e, SimEvent::Start { node: 1 }).then_some("half of 100"),
//!         |_: &SimEvent<P>, w: &World<P>| (w.nodes[1].got >= 50).then_some("half of 100")));
//!     sim.run_for(ms(1000))?;
//!     Ok(TrialRun::new(&mut sim, vec!["sender".into(), "receiver".into()]))
//! };
//! let space = FaultSpace::new(2, ms(1000))?;
//! let found = Explore::new(20).progress(false).run(&space, scenario)?;
//! assert!(found.failed() > 0);
//! let cx = found.counterexample.as_ref().unwrap();
//! assert!(cx.plan.len() <= cx.original.len());
//! # Ok::<(), thinkdist::Error>(())
//! ```

use crate::error::{check_probability, Error, Result};
use crate::sim::rng::{self, domain, SimRng};
use crate::sim::sweep::Sweep;
use crate::sim::time::{ms, SimDuration, SimTime};
use crate::sim::trace::Trace;
use crate::sim::{Fault, FaultPlan, Node, NodeId, Sim, Violation};
use serde::Serialize;
use std::collections::BTreeMap;

/// What may go wrong in an explored run; see the [module docs](self).
///
/// Defaults from [`FaultSpace::new`]: up to 2 outages of 10–200 ms on any
/// node, up to 1 partition (a random split in two) of 10–200 ms, up to 1
/// lossy window of 10–200 ms losing up to 30 % of messages, all starting in
/// the first 80 % of the horizon; no crash at a crash point (set
/// [`FaultSpace::crash_points`] to draw one in half of the runs).
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
        ] {
            if lo > hi {
                return Err(Error::invalid(name, lo, &format!("lo <= hi (hi = {hi})")));
            }
        }
        for &n in &self.crashable {
            crate::error::check_node("crashable node", n, self.nodes)?;
        }
        check_probability("max_loss", self.max_loss)?;
        for (name, k) in [
            ("max_outages", self.max_outages),
            ("max_partitions", self.max_partitions),
            ("max_lossy", self.max_lossy),
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
        if let Some((k, restart)) = self.crash_points {
            if k > 0 && rng::chance(&mut r, 0.5) {
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

/// One explored run: the seed, its fault plan, and how much trace to keep
/// (0 while exploring, more when drawing the counterexample).
#[derive(Debug, Clone)]
pub struct Trial {
    /// The run's seed.
    pub seed: u64,
    /// The faults to apply.
    pub plan: FaultPlan,
    /// Trace events to keep (`Builder::trace`).
    pub trace_cap: usize,
}

/// What a scenario reports for one trial.
#[derive(Debug, Clone)]
pub struct TrialRun {
    /// The first violation, if any.
    pub violation: Option<Violation>,
    /// The trace (empty unless the trial asked for one).
    pub trace: Trace,
    /// Lane names for message diagrams, one per node.
    pub lanes: Vec<String>,
    /// When the run ended.
    pub end: SimTime,
}

impl TrialRun {
    /// The report of a finished simulation: judges its properties
    /// ([`Sim::finish_checks`]) and keeps the first violation and the
    /// trace.
    pub fn new<N: Node>(sim: &mut Sim<N>, lanes: Vec<String>) -> TrialRun {
        let violation = sim.finish_checks().first().cloned();
        TrialRun {
            violation,
            trace: sim.trace().clone(),
            lanes,
            end: sim.now(),
        }
    }
}

/// The smallest failing schedule found for one seed.
#[derive(Debug, Clone)]
pub struct Counterexample {
    /// The seed.
    pub seed: u64,
    /// The plan the seed drew.
    pub original: FaultPlan,
    /// The plan after shrinking: every fault left is needed.
    pub plan: FaultPlan,
    /// The violation under the shrunk plan.
    pub violation: Violation,
    /// Runs spent shrinking.
    pub shrink_runs: usize,
    /// The shrunk run's trace.
    pub trace: Trace,
    /// Lane names.
    pub lanes: Vec<String>,
}

/// What an exploration found.
#[derive(Debug, Clone)]
pub struct Exploration {
    /// Seeds run.
    pub runs: usize,
    /// The failing seeds and their violations, in seed order.
    pub failures: Vec<(u64, Violation)>,
    /// Failing runs per violated property, by name.
    pub by_property: BTreeMap<String, usize>,
    /// The first failing seed, shrunk (if shrinking is on).
    pub counterexample: Option<Counterexample>,
}

impl Exploration {
    /// How many seeds failed.
    pub fn failed(&self) -> usize {
        self.failures.len()
    }
    /// True if no seed failed.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// How to explore; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct Explore {
    seeds: usize,
    base_seed: u64,
    threads: Option<usize>,
    shrink: bool,
    progress: bool,
    max_shrink_runs: usize,
    trace_cap: usize,
}

/// Most seeds one exploration may run.
pub const MAX_SEEDS: usize = crate::error::limits::RUNS;

impl Explore {
    /// Explore `seeds` seeds (derived from base seed 0), shrink the first
    /// failure, all cores, progress on.
    pub fn new(seeds: usize) -> Explore {
        Explore {
            seeds,
            base_seed: 0,
            threads: None,
            shrink: true,
            progress: true,
            max_shrink_runs: 500,
            trace_cap: 2_000,
        }
    }
    /// The seed the trials' seeds are derived from.
    pub fn base_seed(mut self, seed: u64) -> Self {
        self.base_seed = seed;
        self
    }
    /// Worker threads (default: all cores); results do not depend on it.
    pub fn threads(mut self, k: usize) -> Self {
        self.threads = Some(k);
        self
    }
    /// Shrink the first failure (default on).
    pub fn shrink(mut self, on: bool) -> Self {
        self.shrink = on;
        self
    }
    /// Progress lines on stdout, one per quarter of the seeds, for
    /// explorations of at least [`crate::sim::sweep::PROGRESS_MIN_RUNS`]
    /// seeds (default on; counts only, so a notebook's output is the same
    /// on every run).
    pub fn progress(mut self, on: bool) -> Self {
        self.progress = on;
        self
    }
    /// Most runs spent shrinking (default 500).
    pub fn max_shrink_runs(mut self, n: usize) -> Self {
        self.max_shrink_runs = n;
        self
    }
    /// Trace events kept for the counterexample's diagram (default 2,000).
    pub fn trace_cap(mut self, n: usize) -> Self {
        self.trace_cap = n;
        self
    }

    /// The seed of trial `i`: the base seed plus `i` (seeds a reader can
    /// type: "seed 4217 fails").
    pub fn seed_of(&self, i: usize) -> u64 {
        self.base_seed.wrapping_add(i as u64)
    }

    /// Runs `scenario` on every seed with the plan `space` draws for it.
    pub fn run<F>(&self, space: &FaultSpace, scenario: F) -> Result<Exploration>
    where
        F: Fn(&Trial) -> Result<TrialRun> + Sync,
    {
        space.validate()?;
        if self.seeds == 0 || self.seeds > MAX_SEEDS {
            return Err(Error::invalid(
                "seeds",
                self.seeds,
                &format!("1 to {MAX_SEEDS} seeds"),
            ));
        }
        let seeds: Vec<u64> = (0..self.seeds).map(|i| self.seed_of(i)).collect();
        let mut sweep = Sweep::new(seeds)
            .seed_list(vec![0])
            .name("explore")
            .progress(self.progress);
        if let Some(k) = self.threads {
            sweep = sweep.threads(k);
        }
        let results = sweep.run(|&seed, _| {
            let trial = Trial {
                seed,
                plan: space.draw(seed),
                trace_cap: 0,
            };
            Ok(scenario(&trial)?.violation)
        })?;
        let mut failures = Vec::new();
        let mut by_property = BTreeMap::new();
        for r in results {
            if let Some(Some(v)) = r.values.into_iter().next() {
                *by_property.entry(v.property.clone()).or_insert(0) += 1;
                failures.push((r.point, v));
            }
        }
        let counterexample = match failures.first() {
            Some((seed, v)) if self.shrink => Some(self.shrink_seed(space, *seed, v, &scenario)?),
            _ => None,
        };
        Ok(Exploration {
            runs: self.seeds,
            failures,
            by_property,
            counterexample,
        })
    }

    /// Shrinks the plan of a failing `seed` (see the [module docs](self)).
    fn shrink_seed<F>(
        &self,
        space: &FaultSpace,
        seed: u64,
        first: &Violation,
        scenario: &F,
    ) -> Result<Counterexample>
    where
        F: Fn(&Trial) -> Result<TrialRun> + Sync,
    {
        let original = space.draw(seed);
        let mut plan = original.clone();
        let mut violation = first.clone();
        let mut runs = 0;
        let fails = |candidate: &FaultPlan, runs: &mut usize| -> Result<Option<Violation>> {
            *runs += 1;
            let out = scenario(&Trial {
                seed,
                plan: candidate.clone(),
                trace_cap: 0,
            })?;
            Ok(out.violation.filter(|v| v.property == first.property))
        };
        'outer: loop {
            // Remove whole faults, last first.
            for i in (0..plan.len()).rev() {
                if runs >= self.max_shrink_runs {
                    break 'outer;
                }
                let candidate = plan.without(i);
                if let Some(v) = fails(&candidate, &mut runs)? {
                    plan = candidate;
                    violation = v;
                    continue 'outer;
                }
            }
            // Make the remaining ones smaller.
            for i in 0..plan.len() {
                for smaller in simpler(&plan.faults()[i]) {
                    if runs >= self.max_shrink_runs {
                        break 'outer;
                    }
                    let candidate = plan.replaced(i, smaller);
                    if let Some(v) = fails(&candidate, &mut runs)? {
                        plan = candidate;
                        violation = v;
                        continue 'outer;
                    }
                }
            }
            break;
        }
        let shown = scenario(&Trial {
            seed,
            plan: plan.clone(),
            trace_cap: self.trace_cap,
        })?;
        Ok(Counterexample {
            seed,
            original,
            violation: shown.violation.unwrap_or(violation),
            plan,
            shrink_runs: runs,
            trace: shown.trace,
            lanes: shown.lanes,
        })
    }
}

/// Smaller versions of a fault: half as long (not below 1 ms), half the
/// loss (not below 1 %).
fn simpler(f: &Fault) -> Vec<Fault> {
    let half = |from: SimTime, to: SimTime| {
        let d = to.since(from);
        (d > ms(1)).then(|| from + SimDuration(d.0 / 2))
    };
    let mut out = Vec::new();
    match f {
        Fault::Outage { node, from, to } => {
            if let Some(t) = half(*from, *to) {
                out.push(Fault::Outage {
                    node: *node,
                    from: *from,
                    to: t,
                });
            }
        }
        Fault::Partition {
            groups,
            from,
            to: Some(to),
        } => {
            if let Some(t) = half(*from, *to) {
                out.push(Fault::Partition {
                    groups: groups.clone(),
                    from: *from,
                    to: Some(t),
                });
            }
        }
        Fault::Lossy { p, from, to } => {
            if *p > 0.01 {
                out.push(Fault::Lossy {
                    p: (p / 2.0 * 100.0).round() / 100.0,
                    from: *from,
                    to: *to,
                });
            }
            if let Some(t) = half(*from, *to) {
                out.push(Fault::Lossy {
                    p: *p,
                    from: *from,
                    to: t,
                });
            }
        }
        _ => {}
    }
    out
}
