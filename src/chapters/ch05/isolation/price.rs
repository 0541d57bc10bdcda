//! The price of isolation: throughput and abort rate against contention,
//! per level.

use super::anomalies::seeds_for;
use crate::error::{Error, Result};
use crate::measure::stats::{check_replications, MeanCi};
use crate::measure::SweepCi;
use crate::sim::sweep::Sweep;
use crate::txn::isolation::{IsolationParams, Level};
use serde::Serialize;

/// Throughput and abort rate at one contention level.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PricePoint {
    /// Accounts (fewer: more contention).
    pub accounts: usize,
    /// Commits per simulated second, over seeds.
    pub throughput: MeanCi,
    /// Fraction of transactions the database aborted, over seeds.
    pub abort_rate: MeanCi,
}

/// Throughput and aborts against contention, per level (see
/// [`price_of_isolation`]).
#[derive(Debug, Clone, Serialize)]
pub struct PriceOfIsolation {
    /// The base parameters.
    pub params: IsolationParams,
    /// The levels, in chart order.
    pub levels: Vec<Level>,
    /// `points[i][j]`: `levels[i]` at the `j`-th number of accounts.
    pub points: Vec<Vec<PricePoint>>,
    /// Seeds per point (the same everywhere).
    pub seeds: Vec<u64>,
}

/// Runs every level of [`Level::ALL`] at each number of `accounts` with
/// `seeds` seeds each; audits read at most as many accounts as there are.
/// Errors on no account counts, fewer than 2 seeds (no interval), or bad
/// parameters (fewer than 2 accounts, ...).
pub fn price_of_isolation(
    base: &IsolationParams,
    accounts: &[usize],
    seeds: usize,
) -> Result<PriceOfIsolation> {
    base.validate()?;
    if accounts.is_empty() {
        return Err(Error::empty("accounts"));
    }
    check_replications(seeds as u64)?;
    let at = |level: Level, n: usize, seed: u64| IsolationParams {
        seed,
        level,
        accounts: n,
        audit_size: base.audit_size.min(n),
        ..base.clone()
    };
    for &n in accounts {
        at(base.level, n, base.seed).validate()?;
    }
    crate::error::check_work(
        "4 levels × account counts × seeds × the run's clients and programs",
        4.0 * accounts.len() as f64 * seeds as f64 * base.work(),
    )?;
    let grid: Vec<(Level, usize)> = Level::ALL
        .iter()
        .flat_map(|&l| accounts.iter().map(move |&n| (l, n)))
        .collect();
    let list = seeds_for(base.seed, seeds);
    let results = Sweep::new(grid)
        .seed_list(list.clone())
        .run(|&(level, n), seed| {
            let r = at(level, n, seed).run()?;
            Ok((r.throughput(), r.abort_rate()))
        })?;
    let mut points = vec![Vec::with_capacity(accounts.len()); Level::ALL.len()];
    for (k, r) in results.iter().enumerate() {
        points[k / accounts.len()].push(PricePoint {
            accounts: r.point.1,
            throughput: r.mean_ci(|v| v.0)?,
            abort_rate: r.mean_ci(|v| v.1)?,
        });
    }
    Ok(PriceOfIsolation {
        params: base.clone(),
        levels: Level::ALL.to_vec(),
        points,
        seeds: list,
    })
}
