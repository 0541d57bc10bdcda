//! Exactly-once processing checked on many seeds for one scenario.

use super::params::DeliveryParams;
use super::scenario::Scenario;
use super::sweep::replication_seeds;
use crate::delivery::{ConsumerRule, KeyWrite};
use crate::error::Result;
use crate::plot::Table;
use crate::sim::fault::FaultPlan;
use crate::sim::sweep::Sweep;
use serde::Serialize;

/// Exactly-once processing checked on many seeds for one scenario.
#[derive(Debug, Clone, Serialize)]
pub struct SeedCheck {
    /// The scenario.
    pub scenario: Scenario,
    /// Seeds checked.
    pub seeds: usize,
    /// Seeds where some message was processed twice.
    pub safety_violations: usize,
    /// Seeds where some message was never processed.
    pub liveness_violations: usize,
    /// Most messages processed twice in one run.
    pub worst: u64,
    /// The first failing run: its index among the seeds (0-based), and
    /// the counterexample.
    pub first_counterexample: Option<(usize, String)>,
}

/// Runs `scenario` on `seeds` seeds (derived from `params.seed`) and checks
/// exactly-once processing on each. Errors on zero seeds or bad parameters.
pub fn exactly_once_over_seeds(
    params: &DeliveryParams,
    scenario: &Scenario,
    seeds: usize,
) -> Result<SeedCheck> {
    exactly_once_over_seeds_of(params, scenario, seeds, None)
}

/// [`exactly_once_over_seeds`], the consumer following `rule` if one is
/// given.
pub(crate) fn exactly_once_over_seeds_of(
    params: &DeliveryParams,
    scenario: &Scenario,
    seeds: usize,
    rule: Option<&ConsumerRule>,
) -> Result<SeedCheck> {
    params.validate()?;
    crate::error::check_count("seeds", seeds, 1, crate::error::limits::SEEDS, "seeds")?;
    crate::error::check_work(
        "seeds × messages × max_attempts",
        seeds as f64 * params.work(),
    )?;
    let base = DeliveryParams {
        trace_cap: 0,
        ..params.clone()
    };
    let res = Sweep::new(vec![()])
        .seed_list(replication_seeds(params.seed, seeds)?)
        .run(|_, seed| {
            let p = DeliveryParams {
                seed,
                ..base.clone()
            };
            let run = p
                .run_inner(
                    scenario,
                    false,
                    KeyWrite::Atomic,
                    rule,
                    &FaultPlan::new(),
                    false,
                )?
                .0;
            Ok((run.outcome.more_than_once, run.exactly_once()))
        })?;
    let mut c = SeedCheck {
        scenario: scenario.clone(),
        seeds,
        safety_violations: 0,
        liveness_violations: 0,
        worst: 0,
        first_counterexample: None,
    };
    for r in &res {
        for (run, (twice, verdicts)) in r.values.iter().enumerate() {
            c.worst = c.worst.max(*twice);
            let bad: Vec<&crate::check::Verdict> = verdicts.iter().filter(|v| !v.holds).collect();
            if !verdicts[0].holds {
                c.safety_violations += 1;
            }
            if !verdicts[1].holds {
                c.liveness_violations += 1;
            }
            if c.first_counterexample.is_none() {
                if let Some(v) = bad.first() {
                    c.first_counterexample =
                        Some((run, v.counterexample.clone().unwrap_or_default()));
                }
            }
        }
    }
    Ok(c)
}

/// A table of [`SeedCheck`]s: one row per scenario.
pub fn seed_check_table(checks: &[SeedCheck]) -> Table {
    let mut t = Table::new(&[
        "scenario",
        "runs",
        "runs with a message processed twice (safety)",
        "runs with a message never processed (liveness)",
        "most doubles in one run",
        "first counterexample",
    ]);
    for c in checks {
        t.push_row(vec![
            c.scenario.label.clone(),
            c.seeds.to_string(),
            c.safety_violations.to_string(),
            c.liveness_violations.to_string(),
            c.worst.to_string(),
            c.first_counterexample
                .as_ref()
                .map_or("—".into(), |(i, e)| format!("run {i}: {e}")),
        ]);
    }
    t
}
