//! Keys moved when a node joins or leaves, against the number of nodes.
//!
//! Keys `0..K` are placed on `n` nodes; one node joins (or the most recent
//! one leaves) and the keys whose node changed are counted. Theory
//! ([`Scheme::moved_on_join`], [`Scheme::moved_on_leave`]): about `1/(n+1)`
//! on a join and `1/n` on a leave for consistent, rendezvous and jump
//! hashing (only the newcomer's fair share moves, or the leaver's keys);
//! `n/(n+1)` and `(n−1)/n` for modulo hashing (almost everything); `1/(2n)`
//! on a join for range partitioning (half of one range).
//!
//! Each run also checks the property that makes the first three
//! *consistent*: every key that moves, moves to the joining node (or from
//! the leaving one). Modulo hashing breaks it.

use super::seeds_from;
use crate::error::Result;
use crate::measure::stats::{mean_ci, MeanCi};
use crate::partition::{assign, NodeName, Scheme};
use crate::plot::{line_chart, Figure, Opts, Series, SeriesStyle, Table};
use serde::Serialize;

/// Parameters of the moved-keys experiment.
#[derive(Debug, Clone, Serialize)]
pub struct MovedParams {
    /// First seed.
    pub seed: u64,
    /// Replications (hash seeds), >= 2.
    pub seeds: u64,
    /// Keys `0..keys` (also the key space of range partitioning).
    pub keys: u64,
    /// Virtual nodes per node for consistent hashing.
    pub vnodes: usize,
}

impl Default for MovedParams {
    /// 100,000 keys, 10 seeds, 100 virtual nodes.
    fn default() -> Self {
        MovedParams {
            seed: 1,
            seeds: 10,
            keys: 100_000,
            vnodes: 100,
        }
    }
}

impl MovedParams {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        crate::measure::stats::check_replications(self.seeds)?;
        crate::error::check_count(
            "keys",
            self.keys as usize,
            1,
            crate::error::limits::ITEMS,
            "keys",
        )?;
        crate::error::check_count("vnodes", self.vnodes, 1, 100_000, "virtual nodes per node")?;
        Ok(())
    }
    /// The five schemes compared.
    pub fn schemes(&self) -> Vec<Scheme> {
        vec![
            Scheme::Modulo,
            Scheme::Consistent {
                vnodes: self.vnodes,
            },
            Scheme::Rendezvous,
            Scheme::Jump,
            Scheme::Range {
                key_space: self.keys,
            },
        ]
    }
}

/// What one change of membership did to the keys.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Moved {
    /// Fraction of the keys whose node changed.
    pub fraction: f64,
    /// True if every moved key moved to the joining node (or from the
    /// leaving one): nothing moved between the other nodes.
    pub only_to_changed: bool,
}

/// Keys moved when `node` joins (`join`) or leaves a partitioner over
/// `nodes`, placing keys `0..keys` with hash seed `seed`.
pub fn moved_once(
    scheme: Scheme,
    nodes: &[NodeName],
    node: NodeName,
    join: bool,
    keys: u64,
    seed: u64,
) -> Result<Moved> {
    moved_with(scheme.build(nodes, seed)?, node, join, keys)
}

/// Keys moved when `node` joins (`join`) or leaves the partitioner `p`,
/// placing keys `0..keys`: what [`moved_once`] measures, for any
/// partitioner (a reader's too, see [`super::yours`]).
pub fn moved_with(
    mut p: Box<dyn crate::partition::Partitioner>,
    node: NodeName,
    join: bool,
    keys: u64,
) -> Result<Moved> {
    let before = assign(p.as_ref(), keys)?;
    if join {
        p.add_node(node)?;
    } else {
        p.remove_node(node)?;
    }
    let after = assign(p.as_ref(), keys)?;
    let mut moved = 0usize;
    let mut only = true;
    for (b, a) in before.iter().zip(&after) {
        if a != b {
            moved += 1;
            only &= if join { *a == node } else { *b == node };
        }
    }
    Ok(Moved {
        fraction: moved as f64 / keys as f64,
        only_to_changed: only,
    })
}

/// One scheme at one cluster size, over seeds.
#[derive(Debug, Clone, Serialize)]
pub struct MovedPoint {
    /// The scheme.
    pub scheme: Scheme,
    /// Nodes before the change.
    pub nodes: usize,
    /// Fraction moved when node `n` joins nodes `0..n`.
    pub join: MeanCi,
    /// Fraction moved when node `n−1` leaves nodes `0..n`.
    pub leave: MeanCi,
    /// Theory for the join.
    pub join_theory: f64,
    /// Theory for the leave.
    pub leave_theory: f64,
    /// True if in every run every moved key moved to the joiner or from the leaver.
    pub only_to_changed: bool,
}

/// Joins and leaves for every scheme at every cluster size in `ns` (each >= 2).
pub fn moved_vs_nodes(p: &MovedParams, ns: &[usize]) -> Result<Vec<MovedPoint>> {
    p.validate()?;
    if ns.is_empty() {
        return Err(crate::Error::empty("ns (cluster sizes)"));
    }
    for &n in ns {
        crate::error::check_count("n", n, 2, 10_000, "nodes")?;
    }
    let total_nodes: f64 = ns.iter().map(|&n| n as f64).sum();
    // Four placements per run; rendezvous hashes once per node. A lookup
    // costs about a tenth of a simulated event (10 ns against 100 ns).
    crate::error::check_work(
        "cluster sizes × seeds × keys (× nodes for rendezvous)",
        0.4 * (ns.len() as f64 * 4.0 + total_nodes) * p.seeds as f64 * p.keys as f64,
    )?;
    let mut out = Vec::new();
    for scheme in p.schemes() {
        for &n in ns {
            let nodes: Vec<NodeName> = (0..n).collect();
            let (mut join, mut leave, mut only) = (Vec::new(), Vec::new(), true);
            for s in seeds_from(p.seed, p.seeds)? {
                let j = moved_once(scheme, &nodes, n, true, p.keys, s)?;
                let l = moved_once(scheme, &nodes, n - 1, false, p.keys, s)?;
                join.push(j.fraction);
                leave.push(l.fraction);
                only &= j.only_to_changed && l.only_to_changed;
            }
            out.push(MovedPoint {
                scheme,
                nodes: n,
                join: mean_ci(&join)?,
                leave: mean_ci(&leave)?,
                join_theory: scheme.moved_on_join(n)?,
                leave_theory: scheme.moved_on_leave(n)?,
                only_to_changed: only,
            });
        }
    }
    Ok(out)
}

/// Fraction of keys moved when a node joins, against the number of nodes
/// (log–log), every scheme over seeds with 95 % intervals, theory dashed.
/// Consistent hashing is drawn 4 % left of its `n` and jump hashing 4 %
/// right, since the three consistent schemes coincide.
pub fn moved_chart(points: &[MovedPoint]) -> Result<Figure> {
    let mut labels: Vec<String> = points.iter().map(|p| p.scheme.label()).collect();
    labels.dedup();
    let mut series = Vec::new();
    for l in &labels {
        let pts: Vec<&MovedPoint> = points.iter().filter(|p| &p.scheme.label() == l).collect();
        // The three consistent schemes coincide: draw them 4 % apart on the
        // log axis so that all stay visible.
        let shift = match pts.first().map(|p| p.scheme) {
            Some(Scheme::Consistent { .. }) => 0.96,
            Some(Scheme::Jump) => 1.04,
            _ => 1.0,
        };
        series.push(
            Series::new(
                l.clone(),
                pts.iter()
                    .map(|p| (p.nodes as f64 * shift, p.join.mean))
                    .collect(),
            )
            .with_band(pts.iter().map(|p| p.join.interval()).collect())
            .with_style(SeriesStyle::Points),
        );
    }
    // One theory line per formula (modulo, the consistent three, range).
    let theory = |pick: fn(&Scheme) -> bool, label: &str| {
        let mut pts: Vec<(f64, f64)> = points
            .iter()
            .filter(|p| pick(&p.scheme))
            .map(|p| (p.nodes as f64, p.join_theory))
            .collect();
        pts.dedup();
        Series::new(label, pts)
    };
    let overlays = vec![
        theory(|s| matches!(s, Scheme::Modulo), "n/(n+1)"),
        theory(|s| matches!(s, Scheme::Consistent { .. }), "1/(n+1)"),
        theory(
            |s| matches!(s, Scheme::Range { .. }),
            "1/(2n): half a range",
        ),
    ];
    let overlays: Vec<Series> = overlays
        .into_iter()
        .filter(|s| !s.points.is_empty())
        .collect();
    line_chart(
        &series,
        &overlays,
        Opts::new("Keys moved when one node joins n nodes")
            .x_label("nodes before the join, n (log scale)")
            .y_label("fraction of keys moved (log scale)")
            .log_x()
            .log_y(),
    )
}

/// Joins and leaves as a table, against theory.
pub fn moved_table(points: &[MovedPoint]) -> Table {
    let mut t = Table::new(&[
        "scheme",
        "n",
        "join: moved",
        "± 95 %",
        "theory",
        "leave: moved",
        "± 95 %",
        "theory",
        "only to/from the changed node",
    ]);
    for p in points {
        t = t.row(vec![
            p.scheme.label(),
            p.nodes.to_string(),
            format!("{:.4}", p.join.mean),
            format!("{:.4}", p.join.half_width),
            format!("{:.4}", p.join_theory),
            format!("{:.4}", p.leave.mean),
            format!("{:.4}", p.leave.half_width),
            format!("{:.4}", p.leave_theory),
            if p.only_to_changed { "yes" } else { "no" }.into(),
        ]);
    }
    t
}
