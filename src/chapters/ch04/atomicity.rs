//! Chapter 4: the dedup key must be stored atomically with the effect.
//!
//! A durable dedup store is only correct if the key of a message and the
//! message's effect reach the disk together. The consumer here writes them
//! in one of three ways ([`KeyWrite`]): both, then one sync (correct);
//! the effect synced first and the key after it; the key synced first and
//! the effect after it. Every sync is a crash point, so a small run
//! (at-least-once, no loss, a durable store) is crashed at each one in
//! turn with [`crate::check::crash_points::every_point`], the consumer
//! restarting shortly after, and exactly-once processing is checked on
//! each recovered run:
//!
//! * one sync: a crash at it loses key and effect together, the producer
//!   (no ack came) resends, and the copy is processed once;
//! * effect, then key: a crash at the key's sync keeps the effect but not
//!   the key; the resend is processed **again** (safety fails);
//! * key, then effect: a crash at the effect's sync keeps the key but not
//!   the effect; the resend is skipped and acked, and the message is
//!   **never processed** (liveness fails).

use super::delivery::{DeliveryParams, Scenario};
use crate::check::crash_points::{every_point, CrashPointReport};
use crate::delivery::{ConsumerRule, DedupStore, KeyWrite, Semantics};
use crate::error::Result;
use crate::plot::{crash_point_chart, Figure, Table};
use crate::sim::time::SimDuration;
use serde::Serialize;

/// The crash-point report of one way of writing keys.
#[derive(Debug, Clone, Serialize)]
pub struct KeyWriteReport {
    /// How the consumer wrote key and effect.
    pub key_write: KeyWrite,
    /// How recovery fared at each crash point.
    pub report: CrashPointReport,
}

/// Crashes the consumer of `params` (at-least-once sender, durable dedup
/// store, no scheduled crashes) at each of its crash points and restarts
/// it `restart_after` later; exactly-once processing is judged on every
/// run. Keep `params` small (a few messages) and lossless, or the run
/// without a crash may already lose a message (an error: fix the scenario
/// before crashing it). Errors: bad parameters; a baseline run that fails
/// exactly-once; too much work.
///
/// ```
/// use thinkdist::ch04::atomicity::every_crash_point;
/// use thinkdist::ch04::delivery::DeliveryParams;
/// use thinkdist::delivery::KeyWrite;
/// use thinkdist::prelude::*;
/// let p = DeliveryParams { messages: 3, loss: 0.0, duplicate: 0.0, ..Default::default() };
/// let atomic = every_crash_point(&p, KeyWrite::Atomic, ms(50))?;
/// assert_eq!(atomic.report.recovered(), atomic.report.points().len());
/// let split = every_crash_point(&p, KeyWrite::EffectThenKey, ms(50))?;
/// assert!(split.report.recovered() < split.report.points().len());
/// # Ok::<(), thinkdist::Error>(())
/// ```
pub fn every_crash_point(
    params: &DeliveryParams,
    key_write: KeyWrite,
    restart_after: SimDuration,
) -> Result<KeyWriteReport> {
    every_crash_point_of(params, key_write, None, restart_after)
}

/// [`every_crash_point`], the consumer following `rule` if one is given.
pub(crate) fn every_crash_point_of(
    params: &DeliveryParams,
    key_write: KeyWrite,
    rule: Option<&ConsumerRule>,
    restart_after: SimDuration,
) -> Result<KeyWriteReport> {
    params.validate()?;
    let sc = Scenario::new(Semantics::AtLeastOnce, DedupStore::Durable, false);
    let p = DeliveryParams {
        trace_cap: 0,
        ..params.clone()
    };
    let report = every_point(
        |plan, record| Ok(p.run_inner(&sc, false, key_write, rule, plan, record)?.1),
        restart_after,
    )?;
    Ok(KeyWriteReport { key_write, report })
}

impl KeyWriteReport {
    /// Crash points where a message was processed twice after recovery.
    pub fn processed_twice(&self) -> usize {
        self.failed("safety")
    }
    /// Crash points where a message was never processed after recovery.
    pub fn never_processed(&self) -> usize {
        self.failed("liveness")
    }
    fn failed(&self, which: &str) -> usize {
        self.report
            .points()
            .iter()
            .filter(|o| o.failed().iter().any(|n| n.contains(which)))
            .count()
    }
    /// Which properties held after a crash at each point (a grid: one row
    /// per property, one column per crash point).
    pub fn chart(&self) -> Result<Figure> {
        crash_point_chart(
            &self.report,
            &format!(
                "Crash at every sync: {}{}",
                self.key_write.name(),
                if self.key_write == KeyWrite::Atomic {
                    ""
                } else {
                    " (two syncs per message)"
                }
            ),
        )
    }
}

/// The first crash point that broke exactly-once, said in one line: where,
/// when, and the first violation.
pub(super) fn first_failure(report: &CrashPointReport) -> Option<String> {
    report.first_failure().map(|o| {
        format!(
            "crash at '{}' ({:.0} ms): {}",
            o.point.label,
            o.point.time.as_ms(),
            o.verdicts
                .iter()
                .find(|v| !v.holds)
                .and_then(|v| v.counterexample.clone())
                .unwrap_or_default()
        )
    })
}

/// One row per way of writing keys: crash points, how many recovered,
/// how many processed a message twice or lost one, the first failure.
pub fn key_write_table(reports: &[KeyWriteReport]) -> Table {
    let mut t = Table::new(&[
        "dedup key written",
        "crash points",
        "exactly once after recovery",
        "a message processed twice",
        "a message never processed",
        "first failure",
    ]);
    for r in reports {
        let first = first_failure(&r.report).unwrap_or_else(|| "—".into());
        t.push_row(vec![
            r.key_write.name().to_string(),
            r.report.points().len().to_string(),
            r.report.recovered().to_string(),
            r.processed_twice().to_string(),
            r.never_processed().to_string(),
            first,
        ]);
    }
    t.caption(format!(
        "at-least-once, durable dedup store; the consumer crashes at one sync per run and restarts {:.0} ms later",
        reports
            .first()
            .map_or(0.0, |r| r.report.restart_after.as_ms())
    ))
}
