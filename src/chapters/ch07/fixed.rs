//! Many fixed partitions per node ([`crate::partition::fixed`]) against
//! consistent hashing with as many virtual nodes per node.
//!
//! `n` nodes hold keys `0..K`; node `n` joins. For each number of pieces
//! per node `k`: fixed partitioning with `P = k·n` partitions, whose
//! newcomer takes `⌊P/(n+1)⌋` whole partitions (theory: that over `P` of
//! the keys move, a step function that reaches `1/(n+1)` only as `P` grows,
//! and is 0 for `P ≤ n`); and a ring with `V = k` points per node (theory
//! `1/(n+1)`). After the join: the busiest node's keys over the mean
//! (theory for fixed partitions of equal size, `max(⌈(P−w)/n⌉, w)·(n+1)/P`
//! with `w = ⌊P/(n+1)⌋`; the ring's pieces are random, Experiment 1).

use super::seeds_from;
use crate::error::{Error, Result};
use crate::measure::stats::{mean_ci, MeanCi};
use crate::partition::fixed::moved_on_join_theory;
use crate::partition::{assign, ConsistentHash, FixedPartitions, NodeName, Partitioner};
use crate::plot::{line_chart, Figure, Opts, Series, SeriesStyle, Table};
use serde::Serialize;

/// Parameters of the fixed-partitions experiment.
#[derive(Debug, Clone, Serialize)]
pub struct FixedParams {
    /// First seed.
    pub seed: u64,
    /// Replications (hash seeds), >= 2.
    pub seeds: u64,
    /// Nodes before the join, >= 1.
    pub nodes: usize,
    /// Keys `0..keys`.
    pub keys: u64,
}

impl Default for FixedParams {
    /// 10 nodes, 100,000 keys, 10 seeds.
    fn default() -> Self {
        FixedParams {
            seed: 1,
            seeds: 10,
            nodes: 10,
            keys: 100_000,
        }
    }
}

impl FixedParams {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        crate::measure::stats::check_replications(self.seeds)?;
        crate::error::check_count("nodes", self.nodes, 1, 1_000, "nodes")?;
        crate::error::check_count("keys", self.keys as usize, 1, 10_000_000, "keys")?;
        Ok(())
    }
}

/// Theory: the busiest of `n + 1` nodes over the mean after the join, for
/// `P` partitions of equal size: the newcomer holds `w = ⌊P/(n+1)⌋`, the
/// old nodes share `P − w` within one of each other.
pub fn busiest_after_join_theory(partitions: usize, n: usize) -> f64 {
    let w = partitions / (n + 1);
    let old = (partitions - w).div_ceil(n.max(1));
    old.max(w) as f64 * (n + 1) as f64 / partitions as f64
}

/// One scheme at one number of pieces per node, over seeds.
#[derive(Debug, Clone, Serialize)]
pub struct FixedPoint {
    /// Pieces per node before the join: `P/n` partitions, or `V` points.
    pub per_node: usize,
    /// Pieces in all before the join: `P`, or `n·V` ring points.
    pub total: usize,
    /// Fraction of the keys that moved on the join.
    pub moved: MeanCi,
    /// Theory of `moved`.
    pub moved_theory: f64,
    /// The busiest node's keys over the mean, after the join.
    pub busiest: MeanCi,
    /// Theory of `busiest` (fixed partitions only).
    pub busiest_theory: Option<f64>,
    /// True if in every seed every moved key went to the newcomer.
    pub only_to_newcomer: bool,
}

/// Builds a partitioner over the nodes with a hash seed.
type Build<'a> = &'a dyn Fn(&[NodeName], u64) -> Result<Box<dyn Partitioner>>;

fn measure(p: &FixedParams, build: Build<'_>) -> Result<(MeanCi, MeanCi, bool)> {
    let names: Vec<NodeName> = (0..p.nodes).collect();
    let (mut moved, mut busiest, mut only) = (Vec::new(), Vec::new(), true);
    for seed in seeds_from(p.seed, p.seeds)? {
        let mut part = build(&names, seed)?;
        let before = assign(part.as_ref(), p.keys)?;
        part.add_node(p.nodes)?;
        let after = assign(part.as_ref(), p.keys)?;
        let mut count = vec![0u64; p.nodes + 1];
        let mut m = 0usize;
        for (b, a) in before.iter().zip(&after) {
            count[*a] += 1;
            if a != b {
                m += 1;
                only &= *a == p.nodes;
            }
        }
        moved.push(m as f64 / p.keys as f64);
        let mean = p.keys as f64 / (p.nodes + 1) as f64;
        busiest.push(count.iter().copied().max().unwrap_or(0) as f64 / mean);
    }
    Ok((mean_ci(&moved)?, mean_ci(&busiest)?, only))
}

/// Fixed partitions (`.0`, `P = k·n`) and a ring with `V = k` (`.1`) for
/// each `k` in `per_node`.
pub fn fixed_vs_ring(
    p: &FixedParams,
    per_node: &[usize],
) -> Result<(Vec<FixedPoint>, Vec<FixedPoint>)> {
    p.validate()?;
    if per_node.is_empty() {
        return Err(Error::empty("per_node"));
    }
    for &k in per_node {
        crate::error::check_count("per_node", k, 1, 10_000, "pieces per node")?;
    }
    crate::error::check_work(
        "settings × seeds × keys",
        0.4 * per_node.len() as f64 * p.seeds as f64 * p.keys as f64,
    )?;
    let join = 1.0 / (p.nodes as f64 + 1.0);
    let (mut fixed, mut ring) = (Vec::new(), Vec::new());
    for &k in per_node {
        let parts = k * p.nodes;
        let (moved, busiest, only) = measure(p, &|names, seed| {
            Ok(Box::new(FixedPartitions::new(names, parts, seed)?))
        })?;
        fixed.push(FixedPoint {
            per_node: k,
            total: parts,
            moved,
            moved_theory: moved_on_join_theory(parts, p.nodes),
            busiest,
            busiest_theory: Some(busiest_after_join_theory(parts, p.nodes)),
            only_to_newcomer: only,
        });
        let (moved, busiest, only) = measure(p, &|names, seed| {
            Ok(Box::new(ConsistentHash::new(names, k, seed)?))
        })?;
        ring.push(FixedPoint {
            per_node: k,
            total: parts,
            moved,
            moved_theory: join,
            busiest,
            busiest_theory: None,
            only_to_newcomer: only,
        });
    }
    Ok((fixed, ring))
}

fn sim(label: &str, pts: &[FixedPoint], f: impl Fn(&FixedPoint) -> MeanCi) -> Series {
    Series::new(
        label,
        pts.iter().map(|q| (q.per_node as f64, f(q).mean)).collect(),
    )
    .with_band(pts.iter().map(|q| f(q).interval()).collect())
    .with_style(SeriesStyle::Points)
}

/// Keys moved by the join against pieces per node, with both theories.
pub fn fixed_moved_chart(
    p: &FixedParams,
    fixed: &[FixedPoint],
    ring: &[FixedPoint],
) -> Result<Figure> {
    line_chart(
        &[
            sim("fixed partitions, P = k·n", fixed, |q| q.moved),
            sim("ring, V = k", ring, |q| q.moved),
        ],
        &[
            Series::new(
                "fixed: ⌊P/(n+1)⌋/P",
                fixed
                    .iter()
                    .map(|q| (q.per_node as f64, q.moved_theory))
                    .collect(),
            ),
            Series::new(
                "ring: 1/(n+1)",
                ring.iter()
                    .map(|q| (q.per_node as f64, q.moved_theory))
                    .collect(),
            ),
        ],
        Opts::new(format!(
            "Whole partitions or ring arcs: node {} joins {} nodes",
            p.nodes, p.nodes
        ))
        .x_label("pieces per node k (partitions P/n, or points V)")
        .y_label("fraction of keys moved")
        .log_x()
        .y_from_zero(),
    )
}

/// The busiest node after the join against pieces per node.
pub fn fixed_balance_chart(
    p: &FixedParams,
    fixed: &[FixedPoint],
    ring: &[FixedPoint],
) -> Result<Figure> {
    line_chart(
        &[
            sim("fixed partitions, P = k·n", fixed, |q| q.busiest),
            sim("ring, V = k", ring, |q| q.busiest),
        ],
        &[Series::new(
            "fixed: whole partitions of equal size",
            fixed
                .iter()
                .filter_map(|q| Some((q.per_node as f64, q.busiest_theory?)))
                .collect(),
        )],
        Opts::new(format!("Busiest of {} nodes after the join", p.nodes + 1))
            .x_label("pieces per node k (partitions P/n, or points V)")
            .y_label("busiest node keys / mean")
            .log_x()
            .log_y(),
    )
}

/// Both schemes as a table.
pub fn fixed_table(fixed: &[FixedPoint], ring: &[FixedPoint]) -> Table {
    let mut t = Table::new(&[
        "scheme",
        "moved (sim)",
        "theory",
        "busiest / mean after (sim)",
        "theory",
        "only to newcomer",
    ]);
    let ci = |m: &MeanCi| format!("{:.3} ± {:.3}", m.mean, m.half_width);
    for (q, name) in fixed
        .iter()
        .map(|q| (q, format!("fixed, P = {} (k = {})", q.total, q.per_node)))
        .chain(
            ring.iter()
                .map(|q| (q, format!("ring, V = {}", q.per_node))),
        )
    {
        t = t.row(vec![
            name,
            ci(&q.moved),
            format!("{:.3}", q.moved_theory),
            ci(&q.busiest),
            q.busiest_theory.map_or("—".into(), |b| format!("{b:.3}")),
            if q.only_to_newcomer { "yes" } else { "no" }.into(),
        ]);
    }
    t
}
