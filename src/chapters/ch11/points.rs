//! One order crashed at every crash point of its run, for each way: the
//! worker's syncs (taking the order, journal entries, finishing it) and
//! sends, and the services' syncs and answers. The node that reaches the
//! point dies there and restarts after the downtime; then three checks: the
//! order completed, no effect happened twice, and no replay took another
//! path than the journal (the non-determinism check of
//! [`crate::durable::Workflow`]).

use super::run::ShopParams;
use super::shop::{Flow, Service, Way};
use crate::check::crash_points::{every_point, CrashPointReport, CrashPointRun};
use crate::check::Verdict;
use crate::error::{Error, Result};
use crate::plot::{grid_chart, Figure, Grid, Opts, Table};
use crate::sim::{CrashPoints, FaultPlan, PropertyKind};

/// The names of the three checks, in grid order.
pub const CHECKS: [&str; 3] = [
    "order completed",
    "each effect at most once",
    "replay follows the journal",
];

impl ShopParams {
    /// One order (the first of `self`, with no message loss, so that only
    /// the crash matters) crashed at every crash point of its run in `way`;
    /// the report says at each point which checks held. Errors: bad
    /// parameters; a run that fails a check without any crash.
    pub fn every_crash_point(&self, way: Way, flow: Flow) -> Result<CrashPointReport> {
        self.validate()?;
        let one = ShopParams {
            orders: 1,
            loss: 0.0,
            drain: self.drain.min(crate::sim::time::secs(60)),
            ..self.clone()
        };
        let scenario = |plan: &FaultPlan, record: bool| one.judge(way, flow, plan, record);
        every_point(scenario, self.downtime)
    }

    fn judge(&self, way: Way, flow: Flow, plan: &FaultPlan, record: bool) -> Result<CrashPointRun> {
        let (sim, done) =
            self.simulate(way, flow, plan.clone(), CrashPoints::SyncsAndSends, record)?;
        let halted = sim
            .node(0)?
            .process()
            .and_then(|p| p.halted())
            .map(str::to_string);
        let mut effects = Vec::new();
        for s in Service::ALL {
            for ((_, step), p) in sim.disk(s.node())?.synced().effects.performed.iter() {
                effects.push((step.clone(), p.times));
            }
        }
        let completed = done.borrow().contains_key(&0);
        let twice: Vec<String> = effects
            .iter()
            .filter(|(_, n)| *n > 1)
            .map(|(s, n)| format!("{s} × {n}"))
            .collect();
        let verdicts = vec![
            Verdict::new(
                CHECKS[0],
                PropertyKind::Liveness,
                (!completed).then(|| {
                    let done: Vec<&str> = effects.iter().map(|(s, _)| s.as_str()).collect();
                    if done.is_empty() {
                        "lost before any effect".to_string()
                    } else {
                        format!("stuck after {}", done.join(", "))
                    }
                }),
            ),
            Verdict::new(
                CHECKS[1],
                PropertyKind::Safety,
                (!twice.is_empty()).then(|| twice.join(", ")),
            ),
            Verdict::new(CHECKS[2], PropertyKind::Safety, halted),
        ];
        Ok(CrashPointRun::new(&sim, verdicts))
    }
}

/// One row per labelled report: did recovery pass every check at each crash
/// point (columns past a report's last point are grey).
///
/// Errors: no reports.
pub fn points_chart(reports: &[(String, CrashPointReport)]) -> Result<Figure> {
    if reports.is_empty() {
        return Err(Error::empty("crash-point reports"));
    }
    let width = reports
        .iter()
        .map(|(_, r)| r.points().len())
        .max()
        .unwrap_or(0);
    let grid = Grid {
        rows: reports.iter().map(|(l, _)| l.clone()).collect(),
        cells: reports
            .iter()
            .map(|(_, r)| {
                (0..width)
                    .map(|i| r.points().get(i).map(|o| o.recovered()))
                    .collect()
            })
            .collect(),
        groups: Vec::new(),
        group_title: String::new(),
    };
    grid_chart(
        &grid,
        Opts::new("One order, a crash at each crash point: all checks pass?")
            .x_label("crash point (a sync or a send of any node, in the order reached)"),
    )
}

/// One row per labelled report: crash points, how many passed every check,
/// how many failed each check, and the first failure.
pub fn points_table(reports: &[(String, CrashPointReport)]) -> Table {
    let mut t = Table::new(&[
        "way",
        "crash points",
        "all checks pass",
        "not completed",
        "effect twice",
        "replay error",
        "first failure",
    ]);
    for (name, r) in reports {
        let failing = |check: &str| {
            r.points()
                .iter()
                .filter(|o| o.failed().contains(&check))
                .count()
                .to_string()
        };
        let first = r.first_failure().map_or_else(
            || "—".to_string(),
            |o| {
                let why = o
                    .verdicts
                    .iter()
                    .find_map(|v| v.counterexample.clone())
                    .unwrap_or_default();
                format!(
                    "point {} ({}, node {}): {why}",
                    o.point.index, o.point.label, o.point.node
                )
            },
        );
        t.push_row(vec![
            name.clone(),
            r.points().len().to_string(),
            r.recovered().to_string(),
            failing(CHECKS[0]),
            failing(CHECKS[1]),
            failing(CHECKS[2]),
            first,
        ]);
    }
    t.caption(
        "One order, no message loss; the node reaching the crash point dies there (the sync or send \
         does not happen) and restarts after the downtime. Node 0 is the worker, 1 to 4 the services.",
    )
}

/// Every crash point of one report, one row each: its number, the node
/// that reached it, what it is (a sync and what it synced, or a send and
/// what it carried), and the checks that failed after a crash there.
pub fn crash_point_list(report: &CrashPointReport) -> Table {
    let mut t = Table::new(&["point", "node", "kind", "what", "after a crash here"]);
    for o in report.points() {
        let failed: Vec<String> = o
            .verdicts
            .iter()
            .filter(|v| !v.holds)
            .map(|v| {
                format!(
                    "{}: {}",
                    v.name,
                    v.counterexample.clone().unwrap_or_default()
                )
            })
            .collect();
        t.push_row(vec![
            o.point.index.to_string(),
            match o.point.node {
                0 => "worker".to_string(),
                n => Service::ALL
                    .get(n - 1)
                    .map_or_else(|| n.to_string(), |s| s.name().to_string()),
            },
            format!("{:?}", o.point.kind).to_lowercase(),
            o.point.label.clone(),
            if failed.is_empty() {
                "—".to_string()
            } else {
                failed.join(", ")
            },
        ]);
    }
    t.caption("In the order the run without a crash reached them; a service's sync makes its effect durable, its send is the answer.")
}
