//! Change the protocol: a partitioner written in a notebook cell, judged by
//! the chapter's own measures. The reader implements
//! [`Partitioner`] (the trait every scheme of
//! the chapter implements) and hands [`judge`] a function that builds it over
//! a list of nodes with a hash seed; the judge places the keys, adds a node,
//! and reports what experiments 1 and 2 measure: the spread of keys per node
//! against an exact `1/n` share, the fraction of keys that moved against the
//! `1/(n+1)` of a consistent scheme, and whether every moved key went to the
//! newcomer. Only the reader's `node_for` is compiled in the cell: the judge
//! is compiled with the crate and calls it through `dyn Partitioner`.

use super::moved::{moved_with, MovedParams};
use super::seeds_from;
use super::spread::{count_cv2_theory, count_spread};
use crate::error::{Error, Result};
use crate::measure::stats::{mean_ci, MeanCi};
use crate::partition::{loads, NodeName, Partitioner};
use crate::plot::Table;
use serde::Serialize;

/// What [`judge`] measured of a reader's partitioner.
#[derive(Debug, Clone, Serialize)]
pub struct Judged {
    /// The partitioner's name.
    pub name: String,
    /// Nodes before the join.
    pub nodes: usize,
    /// Keys placed.
    pub keys: u64,
    /// Std / mean of the keys per node, over seeds.
    pub spread: MeanCi,
    /// The spread of a scheme with exact `1/n` shares: `√((n − 1)/K)`.
    pub spread_theory: f64,
    /// Fraction of the keys that moved when node `n` joined, over seeds.
    pub moved: MeanCi,
    /// What a consistent scheme moves: `1/(n + 1)`.
    pub moved_theory: f64,
    /// Seeds in which every moved key went to the newcomer.
    pub only_to_newcomer: usize,
    /// Seeds run.
    pub seeds: usize,
}

/// Judges the partitioner `build` makes: over `nodes` nodes (`0..nodes`)
/// and `p.keys` keys, for each of `p.seeds` hash seeds, the spread of keys
/// per node, then the keys moved when node `nodes` joins.
///
/// Errors: bad parameters, fewer than 2 nodes, or a partitioner that
/// `build` refuses, that places a key on a node it was not given, or whose
/// `nodes()` does not list the newcomer after `add_node`.
pub fn judge(
    p: &MovedParams,
    nodes: usize,
    build: impl Fn(&[NodeName], u64) -> Result<Box<dyn Partitioner>>,
) -> Result<Judged> {
    p.validate()?;
    crate::error::check_count("nodes", nodes, 2, 10_000, "nodes")?;
    crate::error::check_work(
        "seeds × keys × 3 placements",
        0.3 * p.seeds as f64 * p.keys as f64,
    )?;
    let names: Vec<NodeName> = (0..nodes).collect();
    let (mut spread, mut moved, mut only, mut name) = (Vec::new(), Vec::new(), 0, String::new());
    for seed in seeds_from(p.seed, p.seeds)? {
        let part = build(&names, seed)?;
        name = part.name();
        let counts = loads(part.as_ref(), p.keys)?;
        let placed: u64 = counts.iter().sum();
        if placed != p.keys {
            return Err(Error::invalid(
                "partitioner",
                &name,
                &format!(
                    "a node_for that returns one of the nodes it was built with ({} of {} keys went elsewhere)",
                    p.keys - placed,
                    p.keys
                ),
            ));
        }
        spread.push(count_spread(&counts).0);
        let m = moved_with(build(&names, seed)?, nodes, true, p.keys)?;
        moved.push(m.fraction);
        only += usize::from(m.only_to_changed);
    }
    Ok(Judged {
        name,
        nodes,
        keys: p.keys,
        spread: mean_ci(&spread)?,
        spread_theory: count_cv2_theory(nodes, None, p.keys)?.sqrt(),
        moved: mean_ci(&moved)?,
        moved_theory: 1.0 / (nodes as f64 + 1.0),
        only_to_newcomer: only,
        seeds: p.seeds as usize,
    })
}

impl Judged {
    /// The verdict as a table: measure, yours (95 % interval over seeds),
    /// and what an even, consistent scheme gives.
    pub fn table(&self) -> Table {
        let mut t = Table::new(&["measure", "yours", "even and consistent"]);
        t.push_row(vec![
            "spread: std / mean of keys per node".into(),
            format!("{:.4} ± {:.4}", self.spread.mean, self.spread.half_width),
            format!("{:.4} (exact 1/n shares)", self.spread_theory),
        ]);
        t.push_row(vec![
            format!("keys moved when node {} joins", self.nodes),
            format!("{:.4} ± {:.4}", self.moved.mean, self.moved.half_width),
            format!("{:.4} = 1/(n + 1)", self.moved_theory),
        ]);
        t.push_row(vec![
            "seeds where every moved key went to the newcomer".into(),
            format!("{} of {}", self.only_to_newcomer, self.seeds),
            format!("{} of {}", self.seeds, self.seeds),
        ]);
        t.caption(format!(
            "{}: {} nodes, {} keys, {} hash seeds",
            self.name, self.nodes, self.keys, self.seeds
        ))
    }
}
