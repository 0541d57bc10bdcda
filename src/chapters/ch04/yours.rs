//! Change the protocol: the consumer's handling of a copy, written in a
//! notebook cell as a [`ConsumerRule`], judged by the chapter's own two
//! checks: every crash point of experiment 5 (a small lossless run, the
//! consumer crashed at each sync in turn and restarted) and the seed check
//! of experiment 4 (many runs with loss, no crashes). Both run the crate's
//! producer, network and receiver; the rule's function only chooses the
//! steps, so it is the only code compiled in the cell.

use super::atomicity::KeyWriteReport;
use super::delivery::{DeliveryParams, Scenario, SeedCheck};
use crate::check::crash_points::CrashPointReport;
use crate::delivery::{ConsumerRule, DedupStore, KeyWrite, Semantics};
use crate::error::{Error, Result};
use crate::plot::{crash_point_chart, Figure, Table};
use crate::sim::fault::FaultPlan;
use crate::sim::time::SimDuration;
use serde::Serialize;

/// What the two checks found of a reader's consumer.
#[derive(Debug, Clone, Serialize)]
pub struct ConsumerReport {
    /// The rule's name.
    pub name: String,
    /// Every crash point of the small run (experiment 5's check).
    pub crash_points: CrashPointReport,
    /// Exactly-once over seeds with loss (experiment 4's check).
    pub seeds: SeedCheck,
    /// The messages of the small run and of each seeded run.
    pub messages: (usize, usize),
}

/// Judges `rule`: every crash point of `small` (at-least-once, durable
/// store; keep it small and lossless), restarting the consumer
/// `restart_after` later, and exactly-once processing on `seeds` runs of
/// `check` with the consumer crashing on `check`'s schedule (experiment 4's
/// "durable dedup, crashes" scenario). Errors: bad parameters, too much work, or a
/// `small` run that fails exactly-once before any crash.
pub fn judge(
    small: &DeliveryParams,
    check: &DeliveryParams,
    seeds: usize,
    restart_after: SimDuration,
    rule: &ConsumerRule,
) -> Result<ConsumerReport> {
    // A rule that fails with no crash at all is told so, in its own words
    // (the crash-point explorer would blame its scenario).
    let calm = Scenario::new(Semantics::AtLeastOnce, DedupStore::Durable, false);
    let (run, _) = small.run_inner(
        &calm,
        false,
        KeyWrite::Atomic,
        Some(rule),
        &FaultPlan::new(),
        false,
    )?;
    if let Some(v) = run.exactly_once().into_iter().find(|v| !v.holds) {
        return Err(Error::invalid(
            "consumer rule",
            rule.name(),
            &format!(
                "a consumer that processes every message exactly once when nothing crashes (this one breaks '{}': {})",
                v.name,
                v.counterexample.unwrap_or_default()
            ),
        ));
    }
    let points =
        super::atomicity::every_crash_point_of(small, KeyWrite::Atomic, Some(rule), restart_after)?;
    let sc = Scenario::new(Semantics::AtLeastOnce, DedupStore::Durable, true);
    let seeds = super::delivery::exactly_once_over_seeds_of(check, &sc, seeds, Some(rule))?;
    Ok(ConsumerReport {
        name: rule.name().to_string(),
        crash_points: points.report,
        seeds,
        messages: (small.messages, check.messages),
    })
}

impl ConsumerReport {
    /// Crash points where a message was processed twice after recovery.
    pub fn processed_twice(&self) -> usize {
        self.as_key_write().processed_twice()
    }
    /// Crash points where a message was never processed after recovery.
    pub fn never_processed(&self) -> usize {
        self.as_key_write().never_processed()
    }
    fn as_key_write(&self) -> KeyWriteReport {
        KeyWriteReport {
            key_write: KeyWrite::Atomic,
            report: self.crash_points.clone(),
        }
    }

    /// Both checks, one measure per row.
    pub fn table(&self) -> Table {
        let c = &self.crash_points;
        let s = &self.seeds;
        let first = super::atomicity::first_failure(c)
            .or_else(|| {
                s.first_counterexample
                    .as_ref()
                    .map(|(i, e)| format!("run {i} with loss and crashes: {e}"))
            })
            .unwrap_or_else(|| "—".into());
        let mut t = Table::new(&["check", &self.name]).caption(format!(
            "crash points: {} messages, no loss, restart after {:.0} ms; runs: {} messages each, with loss and crashes",
            self.messages.0,
            c.restart_after.as_ms(),
            self.messages.1
        ));
        for (what, v) in [
            ("crash points", c.points().len().to_string()),
            ("exactly once after recovery", c.recovered().to_string()),
            (
                "a message processed twice",
                self.processed_twice().to_string(),
            ),
            (
                "a message never processed",
                self.never_processed().to_string(),
            ),
            ("runs with loss and crashes", s.seeds.to_string()),
            (
                "runs with a message processed twice",
                s.safety_violations.to_string(),
            ),
            (
                "runs with a message never processed",
                s.liveness_violations.to_string(),
            ),
            ("first failure", first),
        ] {
            t.push_row(vec![what.to_string(), v]);
        }
        t
    }

    /// Which properties held after a crash at each point.
    pub fn chart(&self) -> Result<Figure> {
        crash_point_chart(
            &self.crash_points,
            &format!("Crash at every sync: {}", self.name),
        )
    }
}
