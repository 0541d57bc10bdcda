//! Percentiles of the time in system over independent seeds, against
//! M/M/c theory (a percentile from one seed is an anecdote).

use super::Queue;
use crate::error::Result;
use crate::measure::stats::{mean_ci, MeanCi};
use crate::plot::Table;
use serde::Serialize;

/// One statistic of the time in system over replications, against theory.
#[derive(Debug, Clone, Serialize)]
pub struct PercentileCi {
    /// "mean", "p50", "p90", "p99" or "p99.9".
    pub statistic: String,
    /// Over seeds: mean and 95 % confidence interval (ms).
    pub simulated_ms: MeanCi,
    /// M/M/c theory (ms); `None` for a closed or overloaded queue.
    pub theory_ms: Option<f64>,
}

/// The mean and p50/p90/p99/p99.9 of the time in system of `base`, run
/// with `seeds` seeds (`base.seed`, `base.seed + 1`, …): one percentile per
/// run, then their mean and 95 % confidence interval over the runs (a
/// percentile from one seed is an anecdote).
pub fn percentile_replications(base: &Queue, seeds: u64) -> Result<Vec<PercentileCi>> {
    crate::measure::stats::check_replications(seeds)?;
    base.validate()?;
    crate::error::check_work("seeds × jobs", seeds as f64 * base.jobs as f64 * 3.0)?;
    let qs = [0.5, 0.9, 0.99, 0.999];
    let mut cols: Vec<Vec<f64>> = vec![Vec::new(); 1 + qs.len()];
    let mut theory = None;
    for s in 0..seeds {
        let run = Queue {
            seed: base.seed.wrapping_add(s),
            ..base.clone()
        }
        .run()?;
        theory = run.theory();
        cols[0].push(run.mean_ms);
        for (i, &q) in qs.iter().enumerate() {
            cols[i + 1].push(run.latency.percentile(q)?.as_ms());
        }
    }
    let mut out = Vec::new();
    for (i, xs) in cols.iter().enumerate() {
        let (name, th) = if i == 0 {
            ("mean".to_string(), theory.map(|t| t.w * 1e3))
        } else {
            let q = qs[i - 1];
            (
                crate::plot::percentile_name(q),
                match &theory {
                    Some(t) => Some(t.time_in_system_percentile(q)? * 1e3),
                    None => None,
                },
            )
        };
        out.push(PercentileCi {
            statistic: name,
            simulated_ms: mean_ci(xs)?,
            theory_ms: th,
        });
    }
    Ok(out)
}

/// A table of [`percentile_replications`]: simulated mean ± 95 % half-width
/// over seeds, theory, and whether the interval contains the theory.
pub fn percentile_ci_table(rows: &[PercentileCi]) -> Table {
    let mut t = Table::new(&[
        "statistic",
        "simulated (ms)",
        "± 95 % (seeds)",
        "theory (ms)",
        "theory inside the interval",
    ]);
    for r in rows {
        let (th, inside) = match r.theory_ms {
            Some(x) => (
                format!("{x:.1}"),
                if r.simulated_ms.covers(x, 1.0) {
                    "yes".to_string()
                } else {
                    format!(
                        "no ({:+.1} half-widths)",
                        (x - r.simulated_ms.mean) / r.simulated_ms.half_width
                    )
                },
            ),
            None => ("— (no steady state)".to_string(), "—".to_string()),
        };
        t = t.row(vec![
            r.statistic.clone(),
            format!("{:.1}", r.simulated_ms.mean),
            format!("{:.1}", r.simulated_ms.half_width),
            th,
            inside,
        ]);
    }
    t
}
