//! Which anomalies each isolation level lets through, counted over many
//! seeds by the dependency-cycle checker.

use crate::check::isolation::Anomaly;
use crate::error::Result;
use crate::sim::rng::{derive_seed, domain};
use crate::sim::sweep::Sweep;
use crate::txn::isolation::{IsolationParams, Level};
use serde::Serialize;
use std::collections::BTreeMap;

/// The seeds of replications `0..n` under `base` (the same at every level:
/// common random numbers).
pub(super) fn seeds_for(base: u64, n: usize) -> Vec<u64> {
    (0..n as u64)
        .map(|j| derive_seed(base, domain::EXPERIMENT, j, 5))
        .collect()
}

/// What one run contributes to [`AnomalyCounts`].
#[derive(Debug, Clone)]
struct RunSummary {
    counts: BTreeMap<Anomaly, usize>,
    conserved: bool,
    kept: bool,
}

/// Anomalies per level over many seeds (see [`anomalies_by_level`]).
#[derive(Debug, Clone, Serialize)]
pub struct AnomalyCounts {
    /// The base parameters (`level` and `seed` replaced per run).
    pub params: IsolationParams,
    /// The levels, in chart order.
    pub levels: Vec<Level>,
    /// The seeds, the same at every level.
    pub seeds: Vec<u64>,
    /// `totals[i][a]`: anomalies of kind `a` at `levels[i]`, summed over
    /// the seeds.
    pub totals: Vec<BTreeMap<Anomaly, usize>>,
    /// `runs_with[i][a]`: runs at `levels[i]` with at least one.
    pub runs_with: Vec<BTreeMap<Anomaly, usize>>,
    /// Runs per level whose balances add up to the initial total.
    pub money_conserved: Vec<usize>,
    /// Runs per level in which every pair of doctors kept one on call.
    pub on_call_kept: Vec<usize>,
}

/// Runs `base` at every level of [`Level::ALL`] with `seeds` seeds
/// (derived from `base.seed`) on all cores, and counts each kind of
/// anomaly the checker finds. Errors on zero seeds or bad parameters.
///
/// ```
/// use thinkdist::ch05::isolation::anomalies_by_level;
/// use thinkdist::check::isolation::Anomaly;
/// use thinkdist::txn::isolation::{IsolationParams, Level};
/// let c = anomalies_by_level(&IsolationParams::default(), 4)?;
/// assert_eq!(c.runs(Level::Serializable, Anomaly::LostUpdate), 0);
/// assert!(c.runs(Level::ReadCommitted, Anomaly::LostUpdate) > 0);
/// # Ok::<(), thinkdist::Error>(())
/// ```
pub fn anomalies_by_level(base: &IsolationParams, seeds: usize) -> Result<AnomalyCounts> {
    base.validate()?;
    crate::error::check_count("seeds", seeds, 1, crate::error::limits::SEEDS, "seeds")?;
    crate::error::check_work(
        "4 levels × seeds × the run's clients and programs",
        4.0 * seeds as f64 * base.work(),
    )?;
    let list = seeds_for(base.seed, seeds);
    let levels = Level::ALL.to_vec();
    let results = Sweep::new(levels.clone())
        .seed_list(list.clone())
        .run(|&level, seed| {
            let run = IsolationParams {
                seed,
                level,
                ..base.clone()
            }
            .run()?;
            Ok(RunSummary {
                conserved: run.money_conserved(),
                kept: run.on_call_kept(),
                counts: run.counts,
            })
        })?;
    let mut c = AnomalyCounts {
        params: base.clone(),
        levels,
        seeds: list,
        totals: Vec::new(),
        runs_with: Vec::new(),
        money_conserved: Vec::new(),
        on_call_kept: Vec::new(),
    };
    for r in results {
        let mut totals: BTreeMap<Anomaly, usize> = Anomaly::ALL.iter().map(|&a| (a, 0)).collect();
        let mut runs = totals.clone();
        for s in &r.values {
            for (&a, &n) in &s.counts {
                *totals.entry(a).or_insert(0) += n;
                *runs.entry(a).or_insert(0) += usize::from(n > 0);
            }
        }
        c.totals.push(totals);
        c.runs_with.push(runs);
        c.money_conserved
            .push(r.values.iter().filter(|s| s.conserved).count());
        c.on_call_kept
            .push(r.values.iter().filter(|s| s.kept).count());
    }
    Ok(c)
}

impl AnomalyCounts {
    pub(super) fn index(&self, level: Level) -> Option<usize> {
        self.levels.iter().position(|&l| l == level)
    }

    /// Anomalies of kind `a` at `level`, over all seeds (0 for a level not
    /// run).
    pub fn total(&self, level: Level, a: Anomaly) -> usize {
        self.index(level)
            .and_then(|i| self.totals[i].get(&a).copied())
            .unwrap_or(0)
    }

    /// Runs at `level` whose history shows at least one anomaly of kind
    /// `a`.
    pub fn runs(&self, level: Level, a: Anomaly) -> usize {
        self.index(level)
            .and_then(|i| self.runs_with[i].get(&a).copied())
            .unwrap_or(0)
    }

    /// Runs at `level` that conserved money.
    pub fn conserved(&self, level: Level) -> usize {
        self.index(level).map_or(0, |i| self.money_conserved[i])
    }
}
