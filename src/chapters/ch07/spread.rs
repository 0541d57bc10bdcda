//! Load spread against the number of virtual nodes.
//!
//! With consistent hashing a node's share of the keys is the total length
//! of the arcs its `V` points end: a Beta(V, nV−V) variable with mean `1/n`
//! and coefficient of variation `√((n−1)/(nV+1)) ≈ 1/√V`
//! ([`crate::partition::consistent::share_cv_theory`]). Counting `K` keys
//! adds multinomial noise: the squared coefficient of variation of the key
//! counts across nodes is, in expectation,
//! `(n−1)/(nV+1) · (K−1)/K + (n−1)/K` ([`count_cv2_theory`]); modulo,
//! rendezvous and jump hashing give each node an exact `1/n` of the hash
//! space, so only the second term is left: `(n−1)/K`.
//!
//! The spread of one run is the population standard deviation of the key
//! counts over their mean (std / mean across nodes); its square is averaged
//! over seeds (mean with a 95 % interval) and the chart shows the root of
//! that mean square, theory overlaid.

use super::seeds_from;
use crate::error::Result;
use crate::measure::stats::{mean_ci, MeanCi};
use crate::partition::{loads, NodeName, Scheme};
use crate::plot::{line_chart, Figure, Opts, Series, SeriesStyle, Table};
use serde::Serialize;

/// Parameters of the spread experiment.
#[derive(Debug, Clone, Serialize)]
pub struct SpreadParams {
    /// First seed (placements use `seed, seed + 1, …`).
    pub seed: u64,
    /// Replications (hash seeds), >= 2.
    pub seeds: u64,
    /// Nodes, >= 2.
    pub nodes: usize,
    /// Keys `0..keys` placed per run.
    pub keys: u64,
}

impl Default for SpreadParams {
    /// 10 nodes, 100,000 keys, 20 seeds.
    fn default() -> Self {
        SpreadParams {
            seed: 1,
            seeds: 20,
            nodes: 10,
            keys: 100_000,
        }
    }
}

impl SpreadParams {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        crate::measure::stats::check_replications(self.seeds)?;
        crate::error::check_count("nodes", self.nodes, 2, 10_000, "nodes")?;
        crate::error::check_count(
            "keys",
            self.keys as usize,
            self.nodes,
            crate::error::limits::ITEMS,
            "keys (at least one per node)",
        )?;
        Ok(())
    }
    fn node_names(&self) -> Vec<NodeName> {
        (0..self.nodes).collect()
    }
}

/// Std / mean and max / mean of the key counts of one placement.
pub fn count_spread(counts: &[u64]) -> (f64, f64) {
    let n = counts.len().max(1) as f64;
    // Summed in u128: counts near u64::MAX must not overflow.
    let mean = counts.iter().map(|&c| c as u128).sum::<u128>() as f64 / n;
    if mean == 0.0 {
        return (0.0, 0.0);
    }
    let var = counts
        .iter()
        .map(|&c| (c as f64 - mean).powi(2))
        .sum::<f64>()
        / n;
    let max = counts.iter().copied().max().unwrap_or(0) as f64;
    (var.sqrt() / mean, max / mean)
}

/// Theory: expected squared coefficient of variation of the key counts of
/// `nodes` nodes holding `keys` keys, with `vnodes` points per node
/// (`None`: a scheme with exact `1/n` shares, i.e. modulo, rendezvous, jump).
pub fn count_cv2_theory(nodes: usize, vnodes: Option<usize>, keys: u64) -> Result<f64> {
    crate::error::check_count("nodes", nodes, 1, crate::error::limits::NODES, "nodes")?;
    crate::error::check_count(
        "keys",
        keys as usize,
        1,
        crate::error::limits::ITEMS,
        "keys",
    )?;
    let (n, k) = (nodes as f64, keys as f64);
    let share = match vnodes {
        Some(v) => crate::partition::consistent::share_cv_theory(nodes, v)?.powi(2),
        None => 0.0,
    };
    Ok(share * (k - 1.0) / k + (n - 1.0) / k)
}

/// One scheme at one setting, over seeds.
#[derive(Debug, Clone, Serialize)]
pub struct SpreadPoint {
    /// The scheme.
    pub scheme: Scheme,
    /// Squared std / mean of the key counts, over seeds.
    pub cv2: MeanCi,
    /// Max / mean of the key counts, over seeds.
    pub max_over_mean: MeanCi,
    /// Theory: expected squared std / mean ([`count_cv2_theory`]).
    pub cv2_theory: f64,
}

impl SpreadPoint {
    /// Root mean square of std / mean over seeds.
    pub fn cv(&self) -> f64 {
        self.cv2.mean.max(0.0).sqrt()
    }
    /// 95 % interval of [`cv`](Self::cv) (the root of the interval of the mean square).
    pub fn cv_interval(&self) -> (f64, f64) {
        let (lo, hi) = self.cv2.interval();
        (lo.max(0.0).sqrt(), hi.max(0.0).sqrt())
    }
}

/// The spread of one scheme over seeds.
pub fn spread_point(p: &SpreadParams, scheme: Scheme) -> Result<SpreadPoint> {
    p.validate()?;
    let per_lookup = match scheme {
        Scheme::Rendezvous => p.nodes as f64,
        _ => 1.0,
    };
    crate::error::check_work(
        "seeds × keys (× nodes for rendezvous)",
        0.1 * per_lookup * p.seeds as f64 * p.keys as f64,
    )?;
    let mut cv2 = Vec::new();
    let mut mx = Vec::new();
    for s in seeds_from(p.seed, p.seeds)? {
        let part = scheme.build(&p.node_names(), s)?;
        let (cv, m) = count_spread(&loads(part.as_ref(), p.keys)?);
        cv2.push(cv * cv);
        mx.push(m);
    }
    let vnodes = match scheme {
        Scheme::Consistent { vnodes } => Some(vnodes),
        _ => None,
    };
    Ok(SpreadPoint {
        scheme,
        cv2: mean_ci(&cv2)?,
        max_over_mean: mean_ci(&mx)?,
        cv2_theory: count_cv2_theory(p.nodes, vnodes, p.keys)?,
    })
}

/// Consistent hashing at each number of virtual nodes, and the schemes
/// without virtual nodes for comparison.
#[derive(Debug, Clone, Serialize)]
pub struct SpreadSweep {
    /// The parameters.
    pub params: SpreadParams,
    /// Consistent hashing, one point per number of virtual nodes.
    pub consistent: Vec<SpreadPoint>,
    /// Modulo, rendezvous and jump hashing.
    pub others: Vec<SpreadPoint>,
}

/// The spread against the number of virtual nodes (`vnodes`, each >= 1).
pub fn spread_vs_vnodes(p: &SpreadParams, vnodes: &[usize]) -> Result<SpreadSweep> {
    p.validate()?;
    if vnodes.is_empty() {
        return Err(crate::Error::empty("vnodes"));
    }
    // Work: a lookup per key and seed, per setting (rendezvous: one hash
    // per node); a lookup costs about a tenth of a simulated event.
    crate::error::check_work(
        "vnodes settings × seeds × keys (× nodes for rendezvous)",
        0.1 * (vnodes.len() + 2 + p.nodes) as f64 * p.seeds as f64 * p.keys as f64,
    )?;
    let consistent = vnodes
        .iter()
        .map(|&v| spread_point(p, Scheme::Consistent { vnodes: v }))
        .collect::<Result<Vec<_>>>()?;
    let others = [Scheme::Modulo, Scheme::Rendezvous, Scheme::Jump]
        .iter()
        .map(|&s| spread_point(p, s))
        .collect::<Result<Vec<_>>>()?;
    Ok(SpreadSweep {
        params: p.clone(),
        consistent,
        others,
    })
}

fn vn(p: &SpreadPoint) -> f64 {
    match p.scheme {
        Scheme::Consistent { vnodes } => vnodes as f64,
        _ => 1.0,
    }
}

/// Std / mean of the keys per node against the number of virtual nodes
/// (log–log): consistent hashing over seeds with 95 % intervals, theory
/// dashed; the schemes without virtual nodes as flat lines at their
/// measured spread, with their theory `√((n−1)/K)`.
pub fn spread_chart(s: &SpreadSweep) -> Result<Figure> {
    let xs: Vec<f64> = s.consistent.iter().map(vn).collect();
    let (x0, x1) = (
        xs.iter().copied().fold(f64::INFINITY, f64::min),
        xs.iter().copied().fold(0.0, f64::max),
    );
    let ring = Series::new(
        "consistent hashing (simulated)",
        s.consistent.iter().map(|p| (vn(p), p.cv())).collect(),
    )
    .with_band(s.consistent.iter().map(|p| p.cv_interval()).collect())
    .with_style(SeriesStyle::Points);
    let mut series = vec![ring];
    let mut overlays = vec![Series::new(
        "√((n−1)/(nV+1) + (n−1)/K)",
        s.consistent
            .iter()
            .map(|p| (vn(p), p.cv2_theory.sqrt()))
            .collect(),
    )];
    for o in &s.others {
        series.push(Series::new(
            format!("{} (simulated)", o.scheme.label()),
            vec![(x0, o.cv()), (x1, o.cv())],
        ));
    }
    if let Some(o) = s.others.first() {
        overlays.push(Series::new(
            "√((n−1)/K): no virtual nodes needed",
            vec![(x0, o.cv2_theory.sqrt()), (x1, o.cv2_theory.sqrt())],
        ));
    }
    line_chart(
        &series,
        &overlays,
        Opts::new(format!(
            "Load spread: {} nodes, {} keys, {} seeds",
            s.params.nodes, s.params.keys, s.params.seeds
        ))
        .x_label("virtual nodes per node V (log scale)")
        .y_label("std / mean of keys per node (log scale)")
        .log_x()
        .log_y(),
    )
}

/// The spread as a table: std / mean (root mean square over seeds, 95 %
/// interval), theory, and max / mean.
pub fn spread_table(s: &SpreadSweep) -> Table {
    let mut t = Table::new(&[
        "scheme",
        "std / mean",
        "95 % interval",
        "theory",
        "max / mean",
        "± 95 %",
    ]);
    for p in s.consistent.iter().chain(&s.others) {
        let (lo, hi) = p.cv_interval();
        t = t.row(vec![
            p.scheme.label(),
            format!("{:.4}", p.cv()),
            format!("{lo:.4} – {hi:.4}"),
            format!("{:.4}", p.cv2_theory.sqrt()),
            format!("{:.3}", p.max_over_mean.mean),
            format!("{:.3}", p.max_over_mean.half_width),
        ]);
    }
    t
}
