//! Change the protocol: a suspicion rule written in a notebook cell, judged
//! by the chapter's own measures.
//!
//! The reader implements [`SuspicionRule`] and hands [`judge_rule`] a
//! function that builds the rule for one value of a knob (a timeout, a
//! multiplier: whatever the rule has). The judge runs the same seeds of the
//! same heartbeat stream as [`tradeoff_models`](super::tradeoff_models),
//! replays the rule over each seed's arrivals, and scores it exactly as it
//! scores the crate's detectors: mean detection time after the crash
//! against wrong suspicions per hour. [`Tradeoff::chart_with`] draws the
//! reader's curve over the fixed timeout's. The replay and the scoring are
//! compiled with the crate; only the rule's two methods are compiled in
//! the cell (the judge holds the rule as `Box<dyn SuspicionRule>`).

use super::charts::{row, HEADER};
use super::heartbeat::FailureDetection;
use super::sweep::{each_seed, replayed, summarize, Tradeoff, TradeoffPoint};
use crate::detect::{RuleDetector, SuspicionRule};
use crate::error::{Error, Result};
use crate::plot::{Figure, Table};
use serde::Serialize;

/// A reader's rule scored at each knob value.
#[derive(Debug, Clone, Serialize)]
pub struct RuleTradeoff {
    /// The rule's name, for the legend.
    pub name: String,
    /// One point per knob value, in the order given (`param` is the knob).
    pub points: Vec<TradeoffPoint>,
    /// The heartbeat stream judged (the base parameters' first seed).
    pub seed: u64,
    /// Seeds run.
    pub seeds: u64,
    /// Up time observed per seed (hours).
    pub hours_per_seed: f64,
}

/// Scores the rule `build(knob)` makes for each value in `knobs` over
/// `seeds` seeds of `base` (seed, seed+1, ...), exactly as
/// [`tradeoff_models`](super::tradeoff_models) scores the crate's
/// detectors. A new rule is built for every seed and knob.
///
/// Errors: bad parameters, no knob or a knob that is not finite, too many
/// seeds or too much work.
pub fn judge_rule<R: SuspicionRule + 'static>(
    name: &str,
    base: &FailureDetection,
    knobs: &[f64],
    seeds: u64,
    build: impl Fn(f64) -> R,
) -> Result<RuleTradeoff> {
    judge_boxed(name, base, knobs, seeds, &|k| Box::new(build(k)))
}

/// [`judge_rule`] without generics, so that it is compiled with the crate.
pub fn judge_boxed(
    name: &str,
    base: &FailureDetection,
    knobs: &[f64],
    seeds: u64,
    build: &dyn Fn(f64) -> Box<dyn SuspicionRule>,
) -> Result<RuleTradeoff> {
    base.validate()?;
    if knobs.is_empty() {
        return Err(Error::invalid("knobs", "[]", "at least one knob value"));
    }
    if let Some(k) = knobs.iter().find(|k| !k.is_finite()) {
        return Err(Error::invalid("knobs", k, "finite numbers"));
    }
    crate::error::check_count(
        "seeds",
        seeds as usize,
        1,
        crate::error::limits::SEEDS,
        "seeds",
    )?;
    crate::error::check_count("knobs", knobs.len(), 1, 1_000, "knob values")?;
    let run = FailureDetection {
        live: false,
        ..base.clone()
    }
    .work();
    crate::error::check_work(
        "seeds × (knobs + 1) × heartbeats per run",
        seeds as f64 * run * (1.0 + knobs.len() as f64),
    )?;
    let mut scores = vec![Vec::new(); knobs.len()];
    each_seed(base, seeds, |p, run| {
        for (i, &k) in knobs.iter().enumerate() {
            scores[i].push(replayed(&mut RuleDetector::boxed(build(k)), p, run)?);
        }
        Ok(())
    })?;
    let hours = base.crash_at.as_secs_f64() / 3600.0;
    Ok(RuleTradeoff {
        name: name.to_string(),
        points: knobs
            .iter()
            .zip(&scores)
            .map(|(k, sc)| summarize(*k, sc, hours * seeds as f64))
            .collect::<Result<_>>()?,
        seed: base.seed,
        seeds,
        hours_per_seed: hours,
    })
}

impl RuleTradeoff {
    /// Every knob value with its numbers, as [`Tradeoff::table`] shows the
    /// crate's detectors.
    pub fn table(&self) -> Table {
        let mut t = Table::new(&HEADER).caption(format!(
            "{}: {} seeds × {:.1} h of heartbeats before the crash",
            self.name, self.seeds, self.hours_per_seed
        ));
        for p in &self.points {
            t.push_row(row(&self.name, &p.param.to_string(), p));
        }
        t
    }
}

impl Tradeoff {
    /// The reader's rule (each point labelled with its knob) over the
    /// fixed timeout's curve of this sweep. Errors if `rule` was judged on
    /// other seeds or another length of run than this sweep.
    pub fn chart_with(&self, rule: &RuleTradeoff) -> Result<Figure> {
        if rule.seeds != self.seeds || rule.hours_per_seed != self.hours_per_seed {
            return Err(Error::invalid(
                "rule",
                &rule.name,
                "a rule judged with the sweep's parameters and seeds (the same `long` and `seeds`)",
            ));
        }
        self.curves_chart(
            &[
                ("heartbeat timeout", &self.heartbeat, " ms"),
                (&rule.name, &rule.points, ""),
            ],
            &format!("{} against the fixed timeout", capitalized(&rule.name)),
        )
    }
}

/// `name` with its first letter upper-case, for a title.
fn capitalized(name: &str) -> String {
    let mut c = name.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}
