//! Crash a scenario at every one of its crash points, and judge each
//! recovery.
//!
//! A scenario is a closure that builds a simulation with the
//! [`FaultPlan`] it is given, runs it, and returns the verdicts of its
//! checks ("money is conserved", "committed transfers are present"). The
//! helper runs it once with no fault to count and name its crash points
//! (every sync; every send too if the scenario asks for
//! [`crate::sim::CrashPoints::SyncsAndSends`]), then once per point with a
//! plan that crashes the node reaching that point and restarts it after
//! `restart_after`, on all cores. The report says, per point, whether
//! recovery restored every property, and which failed. Results do not
//! depend on the number of threads.
//!
//! A scenario that ignores the plan it is handed (builds its simulation
//! without it, or stops before the point) would never crash, and every
//! point would look recovered; [`every_point`] therefore checks, with
//! [`Sim::crashed_at_point`], that each run crashed exactly at its point,
//! and fails otherwise. Runs over 100 or more points print progress
//! like any [`Sweep`]: a line of counts per quarter, on stdout (a notebook's
//! headless run fails on stderr), and nothing it prints holds a time.
//!
//! ```
//! use thinkdist::prelude::*;
//! use thinkdist::check::crash_points::{every_point, CrashPointRun};
//!
//! /// Moves 1 from `a` to `b`: two writes, each synced on its own (wrong:
//! /// a crash between the syncs loses money).
//! #[derive(Clone, Default)]
//! struct Bank;
//! impl Node for Bank {
//!     type Msg = ();
//!     type Timer = ();
//!     type Disk = (i64, i64);
//!     fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
//!         if *ctx.disk() == (10, 0) {
//!             ctx.disk().0 -= 1;
//!             ctx.sync("debit a");
//!             ctx.disk().1 += 1;
//!             ctx.sync("credit b");
//!         }
//!     }
//!     fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: ()) {}
//! }
//! let scenario = |plan: &FaultPlan, record: bool| -> Result<CrashPointRun> {
//!     let mut sim = Sim::builder().faults(plan.clone()).record_crash_points(record).build(vec![Bank])?;
//!     sim.set_disk(0, (10, 0))?;
//!     sim.run_for(ms(100))?;
//!     let (a, b) = *sim.disk(0)?.synced();
//!     let conserved = check::Verdict::new("money conserved", PropertyKind::Safety,
//!         (a + b != 10).then(|| format!("a + b = {}", a + b)));
//!     Ok(CrashPointRun::new(&sim, vec![conserved]))
//! };
//! let report = every_point(scenario, ms(10))?;
//! assert_eq!(report.points().len(), 2);
//! assert!(report.points()[0].recovered());   // crash before the debit: nothing happened
//! assert!(!report.points()[1].recovered());  // crash between debit and credit
//! # Ok::<(), thinkdist::Error>(())
//! ```

use super::verdict::Verdict;
use crate::error::{Error, ErrorKind, Result};
use crate::sim::sweep::Sweep;
use crate::sim::time::SimDuration;
use crate::sim::{CrashPoint, DynSim, FaultPlan, Node, Sim};
use serde::Serialize;

/// What one run of a scenario reports.
#[derive(Debug, Clone, Serialize)]
pub struct CrashPointRun {
    /// The crash points the run reached (recorded only when asked to).
    pub points: Vec<CrashPoint>,
    /// The point it crashed at, if it did.
    pub crashed: Option<CrashPoint>,
    /// The scenario's checks, judged at the end of the run.
    pub verdicts: Vec<Verdict>,
    /// Events the run processed (with the number of points, what crashing
    /// at every point will cost).
    pub events: u64,
}

impl CrashPointRun {
    /// The report of a finished simulation: its recorded crash points, the
    /// point it crashed at, and the given verdicts.
    pub fn new<N: Node>(sim: &Sim<N>, verdicts: Vec<Verdict>) -> CrashPointRun {
        CrashPointRun {
            points: sim.crash_points().to_vec(),
            crashed: sim.crashed_at_point().cloned(),
            verdicts,
            events: sim.events_processed(),
        }
    }
    /// [`CrashPointRun::new`] for a simulation of nodes the crate does not
    /// know ([`crate::sim::erased`]): a scenario built with
    /// `Builder::build_erased` ends with this.
    pub fn of_dyn(sim: &DynSim, verdicts: Vec<Verdict>) -> CrashPointRun {
        CrashPointRun {
            points: sim.crash_points().to_vec(),
            crashed: sim.crashed_at_point().cloned(),
            verdicts,
            events: sim.events_processed(),
        }
    }
    /// True if every verdict holds.
    pub fn holds(&self) -> bool {
        self.verdicts.iter().all(|v| v.holds)
    }
}

/// The outcome at one crash point.
#[derive(Debug, Clone, Serialize)]
pub struct PointOutcome {
    /// The point.
    pub point: CrashPoint,
    /// The checks after the crash and the recovery.
    pub verdicts: Vec<Verdict>,
}

impl PointOutcome {
    /// True if recovery restored every property.
    pub fn recovered(&self) -> bool {
        self.verdicts.iter().all(|v| v.holds)
    }
    /// The names of the properties that failed.
    pub fn failed(&self) -> Vec<&str> {
        self.verdicts
            .iter()
            .filter(|v| !v.holds)
            .map(|v| v.name.as_str())
            .collect()
    }
}

/// Every crash point of a scenario and how recovery fared at each.
#[derive(Debug, Clone, Serialize)]
pub struct CrashPointReport {
    /// The run without a crash.
    pub baseline: Vec<Verdict>,
    outcomes: Vec<PointOutcome>,
    /// How long a crashed node stayed down.
    pub restart_after: SimDuration,
}

impl CrashPointReport {
    /// One outcome per crash point, in point order.
    pub fn points(&self) -> &[PointOutcome] {
        &self.outcomes
    }
    /// How many points recovery got right.
    pub fn recovered(&self) -> usize {
        self.outcomes.iter().filter(|o| o.recovered()).count()
    }
    /// The first point where recovery failed.
    pub fn first_failure(&self) -> Option<&PointOutcome> {
        self.outcomes.iter().find(|o| !o.recovered())
    }
    /// The property names, in the order the scenario judges them.
    pub fn properties(&self) -> Vec<String> {
        self.baseline.iter().map(|v| v.name.clone()).collect()
    }
    /// The fault plan that crashes at point `k` (to rerun it with a trace).
    pub fn plan_for(&self, k: u64) -> FaultPlan {
        FaultPlan::new().crash_at_point(k, Some(self.restart_after))
    }
}

/// Most crash points a scenario may have (a scenario with more would take
/// minutes; shorten it).
pub const MAX_POINTS: usize = 100_000;

/// Runs `scenario` once without faults (recording its crash points), then
/// once per point with a crash there and a restart `restart_after` later;
/// see the [module docs](self). `scenario(plan, record)` must build its
/// simulation with `.faults(plan.clone()).record_crash_points(record)`.
///
/// Errors: the scenario's own errors; a baseline run that already violates
/// a property (fix the protocol before crashing it) or that crashed; a run
/// that reaches no crash point; more than [`MAX_POINTS`] points; a run
/// that did not crash at the point its plan names (the scenario ignores
/// its plan).
pub fn every_point<F>(scenario: F, restart_after: SimDuration) -> Result<CrashPointReport>
where
    F: Fn(&FaultPlan, bool) -> Result<CrashPointRun> + Sync,
{
    let base = scenario(&FaultPlan::new(), true)?;
    if let Some(p) = &base.crashed {
        return Err(ignores_plan(format!(
            "the scenario crashed at point {} ('{}') in its run without faults",
            p.index, p.label
        )));
    }
    if let Some(v) = base.verdicts.iter().find(|v| !v.holds) {
        return Err(Error::invalid(
            "scenario",
            format!(
                "'{}' fails without any crash: {}",
                v.name,
                v.counterexample.clone().unwrap_or_default()
            ),
            "a scenario whose checks hold when nothing crashes",
        ));
    }
    if base.points.is_empty() {
        return Err(Error::invalid(
            "scenario",
            "no crash point reached",
            "a scenario that syncs at least once, built with .record_crash_points(record)",
        ));
    }
    if base.points.len() > MAX_POINTS {
        return Err(Error::invalid(
            "crash points",
            base.points.len(),
            &format!("at most {MAX_POINTS}: shorten the scenario"),
        ));
    }
    crate::error::check_work(
        "the scenario's crash points × the events of its run: shorten the scenario",
        base.points.len() as f64 * base.events.max(1) as f64,
    )?;
    let runs = Sweep::new(base.points.clone())
        .seed_list(vec![0])
        .name("crash points")
        .run(|p, _| {
            let plan = FaultPlan::new().crash_at_point(p.index, Some(restart_after));
            scenario(&plan, false)
        });
    let mut outcomes = Vec::with_capacity(base.points.len());
    for r in runs? {
        let k = r.point.index;
        let Some(run) = r.values.into_iter().next() else {
            return Err(ignores_plan(format!("no run for point {k}")));
        };
        match &run.crashed {
            Some(hit) if hit.index == k => {}
            Some(hit) => {
                return Err(ignores_plan(format!(
                    "the scenario crashed at point {}, not at point {k} ('{}')",
                    hit.index, r.point.label
                )));
            }
            None => {
                return Err(ignores_plan(format!(
                    "the scenario never crashed at point {k} ('{}')",
                    r.point.label
                )));
            }
        }
        outcomes.push(PointOutcome {
            point: r.point,
            verdicts: run.verdicts,
        });
    }
    Ok(CrashPointReport {
        baseline: base.verdicts,
        outcomes,
        restart_after,
    })
}

/// The error for a scenario whose runs do not follow their plans.
fn ignores_plan(what: String) -> Error {
    Error::new(
        ErrorKind::InvalidParameter,
        format!(
            "{what}: build its Sim with the plan you are given \
             (`.faults(plan.clone()).record_crash_points(record)`), run it past the point, \
             and report with `CrashPointRun::new(&sim, verdicts)`"
        ),
    )
}
