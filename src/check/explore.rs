//! Exploration: many seeds, each with its own random fault schedule, on all
//! cores; for a failing seed, the smallest fault schedule that still fails.
//!
//! A [`FaultSpace`] says what may go wrong (how many outages, partitions and
//! lossy windows, how long, over which horizon); [`FaultSpace::draw`] turns
//! a seed into a [`FaultPlan`]. [`Explore::run`] calls a scenario once per
//! seed with its plan (a [`Trial`]) and collects the violations. It then
//! *shrinks* the first failing seed's plan: it halves the workload (when
//! the exploration set one, [`Explore::workload`]), removes faults one at a
//! time and shortens the rest (halving outages, partitions and loss),
//! keeping each change that still violates the same property, until no
//! change does. The shrunk run is then replayed once with a trace of the
//! last events before its violation. What is left is usually one or two faults: a counterexample a
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

pub use super::fault_space::FaultSpace;
use super::verdict::Verdict;
use crate::error::{Error, Result};
use crate::sim::sweep::Sweep;
use crate::sim::time::{ms, SimDuration, SimTime};
use crate::sim::trace::{Trace, TraceCap};
use crate::sim::{DynSim, Fault, FaultPlan, Node, Sim, Violation};
use std::collections::BTreeMap;

/// One explored run: the seed, its fault plan, how much trace to keep
/// (none while exploring; the last events before the violation when
/// drawing the counterexample), and how much workload to run.
#[derive(Debug, Clone)]
pub struct Trial {
    /// The run's seed.
    pub seed: u64,
    /// The faults to apply.
    pub plan: FaultPlan,
    /// Trace events to keep: pass it to `Builder::trace`.
    pub trace_cap: TraceCap,
    /// The workload to run (operations, clients, transactions: what the
    /// scenario makes of it), when the exploration set one with
    /// [`Explore::workload`]; shrinking halves it. Read it with
    /// [`Trial::workload_or`].
    pub workload: Option<usize>,
}

impl Trial {
    /// A trial of `seed` under `plan`, with no trace and the scenario's own
    /// workload.
    pub fn new(seed: u64, plan: FaultPlan) -> Trial {
        Trial {
            seed,
            plan,
            trace_cap: TraceCap::first(0),
            workload: None,
        }
    }

    /// The workload the exploration asks for, or the scenario's `default`
    /// when it set none.
    pub fn workload_or(&self, default: usize) -> usize {
        self.workload.unwrap_or(default)
    }
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

impl TrialRun {
    /// [`TrialRun::new`] for a simulation of nodes the crate does not know
    /// ([`crate::sim::erased`]), judged by the scenario's own `verdicts`
    /// at the end of the run: the first that fails is the trial's
    /// violation.
    pub fn of_dyn(sim: &DynSim, verdicts: &[Verdict], lanes: Vec<String>) -> TrialRun {
        let violation = verdicts.iter().find(|v| !v.holds).map(|v| Violation {
            property: v.name.clone(),
            kind: v.kind,
            time: sim.now(),
            event_index: 0,
            event: "the end of the run".to_string(),
            node: None,
            reason: v.counterexample.clone().unwrap_or_default(),
        });
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
    /// The workload the shrunk run used (None: the exploration set none).
    pub workload: Option<usize>,
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
    workload: Option<usize>,
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
            workload: None,
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
    /// Trace events kept for the counterexample's diagram: the last `n`
    /// before the violation (default 2,000).
    pub fn trace_cap(mut self, n: usize) -> Self {
        self.trace_cap = n;
        self
    }
    /// The workload every trial runs (`Trial::workload`), for scenarios
    /// that read it: shrinking then also halves it (down to 1) while the
    /// same property still fails, so a counterexample has as few
    /// operations as the faults that are left need.
    pub fn workload(mut self, n: usize) -> Self {
        self.workload = Some(n);
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
        if self.workload == Some(0) {
            return Err(Error::invalid("workload", 0, "at least 1"));
        }
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
                workload: self.workload,
                ..Trial::new(seed, space.draw(seed))
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
        let mut workload = self.workload;
        let fails = |candidate: &FaultPlan,
                     workload: Option<usize>,
                     runs: &mut usize|
         -> Result<Option<Violation>> {
            *runs += 1;
            let out = scenario(&Trial {
                workload,
                ..Trial::new(seed, candidate.clone())
            })?;
            Ok(out.violation.filter(|v| v.property == first.property))
        };
        'outer: loop {
            // Halve the workload.
            if let Some(w) = workload.filter(|&w| w > 1) {
                if runs >= self.max_shrink_runs {
                    break 'outer;
                }
                if let Some(v) = fails(&plan, Some(w / 2), &mut runs)? {
                    workload = Some(w / 2);
                    violation = v;
                    continue 'outer;
                }
            }
            // Remove whole faults, last first.
            for i in (0..plan.len()).rev() {
                if runs >= self.max_shrink_runs {
                    break 'outer;
                }
                let candidate = plan.without(i);
                if let Some(v) = fails(&candidate, workload, &mut runs)? {
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
                    if let Some(v) = fails(&candidate, workload, &mut runs)? {
                        plan = candidate;
                        violation = v;
                        continue 'outer;
                    }
                }
            }
            break;
        }
        let shown = scenario(&Trial {
            trace_cap: TraceCap::last(self.trace_cap),
            workload,
            ..Trial::new(seed, plan.clone())
        })?;
        Ok(Counterexample {
            seed,
            original,
            violation: shown.violation.unwrap_or(violation),
            plan,
            shrink_runs: runs,
            trace: shown.trace,
            lanes: shown.lanes,
            workload,
        })
    }
}

/// Smaller versions of a fault: half as long (not below 1 ms), half the
/// loss (not below 1 %), a targeted crash half as long down.
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
        Fault::OneWay {
            src,
            dst,
            from,
            to: Some(to),
        } => {
            if let Some(t) = half(*from, *to) {
                out.push(Fault::OneWay {
                    src: src.clone(),
                    dst: dst.clone(),
                    from: *from,
                    to: Some(t),
                });
            }
        }
        Fault::CrashTarget {
            at,
            restart_after: Some(d),
        } if *d > ms(1) => out.push(Fault::CrashTarget {
            at: *at,
            restart_after: Some(SimDuration(d.0 / 2)),
        }),
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
