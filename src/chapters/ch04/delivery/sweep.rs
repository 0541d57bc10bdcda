//! Every scenario at every loss rate, over seeds: the numbers behind the
//! chapter's charts.

use super::params::DeliveryParams;
use super::run::Outcome;
use super::scenario::Scenario;
use crate::error::{check_probability, Error, Result};
use crate::measure::stats::MeanCi;
use crate::measure::SweepCi;
use crate::sim::rng::{derive_seed, domain};
use crate::sim::sweep::Sweep;
use serde::Serialize;

/// Mean and 95 % interval over seeds at one loss rate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Point {
    /// Loss probability.
    pub loss: f64,
    /// Fraction of messages never processed.
    pub lost: MeanCi,
    /// Fraction processed more than once.
    pub more_than_once: MeanCi,
    /// Extra copies delivered per message.
    pub extra_copies: MeanCi,
    /// Sends per message.
    pub sends: MeanCi,
    /// Runs (seeds) with at least one message processed twice.
    pub runs_with_double: usize,
}

/// Every scenario at every loss rate, over several seeds.
#[derive(Debug, Clone, Serialize)]
pub struct LossSweep {
    /// The base parameters (`loss` is replaced by each point's rate).
    pub params: DeliveryParams,
    /// The scenarios, in chart order.
    pub scenarios: Vec<Scenario>,
    /// `points[s][i]`: scenario `s` at the `i`-th loss rate.
    pub points: Vec<Vec<Point>>,
    /// Seeds per point (the same seeds everywhere: common random numbers).
    pub seeds: Vec<u64>,
}

/// The seeds of replications `0..n` under `base`. Errors if `n` is above
/// [`crate::error::limits::SEEDS`].
pub fn replication_seeds(base: u64, n: usize) -> Result<Vec<u64>> {
    crate::error::check_count("seeds", n, 0, crate::error::limits::SEEDS, "seeds")?;
    Ok((0..n as u64)
        .map(|j| derive_seed(base, domain::EXPERIMENT, j, 0))
        .collect())
}

/// Runs every scenario at every loss rate with `seeds` seeds each (derived
/// from `params.seed`). Errors on no scenarios, no loss rates, a loss rate
/// outside [0, 1], fewer than 2 seeds (no interval), or bad parameters.
pub fn sweep_loss(
    params: &DeliveryParams,
    scenarios: &[Scenario],
    losses: &[f64],
    seeds: usize,
) -> Result<LossSweep> {
    params.validate()?;
    if scenarios.is_empty() {
        return Err(Error::empty("scenarios"));
    }
    if losses.is_empty() {
        return Err(Error::empty("loss rates"));
    }
    for &l in losses {
        check_probability("loss", l)?;
    }
    crate::measure::stats::check_replications(seeds as u64)?;
    crate::error::check_work(
        "scenarios × loss rates × seeds × messages × max_attempts",
        scenarios.len() as f64 * losses.len() as f64 * seeds as f64 * params.work(),
    )?;
    let list = replication_seeds(params.seed, seeds)?;
    let grid: Vec<(usize, f64)> = (0..scenarios.len())
        .flat_map(|s| losses.iter().map(move |&l| (s, l)))
        .collect();
    let base = DeliveryParams {
        trace_cap: 0,
        ..params.clone()
    };
    let results = Sweep::new(grid)
        .seed_list(list.clone())
        .run(|&(s, loss), seed| {
            let p = DeliveryParams {
                seed,
                loss,
                ..base.clone()
            };
            Ok(p.run(&scenarios[s])?.outcome)
        })?;
    let mut points = vec![Vec::with_capacity(losses.len()); scenarios.len()];
    for r in results {
        let (s, loss) = r.point;
        let ci = |f: fn(&Outcome) -> f64| r.mean_ci(f);
        points[s].push(Point {
            loss,
            lost: ci(Outcome::lost_fraction)?,
            more_than_once: ci(Outcome::more_than_once_fraction)?,
            extra_copies: ci(Outcome::extra_copies_per_message)?,
            sends: ci(Outcome::sends_per_message)?,
            runs_with_double: r.values.iter().filter(|o| o.more_than_once > 0).count(),
        });
    }
    Ok(LossSweep {
        params: params.clone(),
        scenarios: scenarios.to_vec(),
        points,
        seeds: list,
    })
}
