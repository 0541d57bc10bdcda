//! Chapter 7, *Partitioning* (notebook `07-partitioning`): which node holds
//! a key, with the schemes of [`crate::partition`]. How evenly keys spread
//! against the number of virtual nodes ([`spread`]); how many keys move
//! when a node joins or leaves ([`moved`]); hot spots under Zipf-skewed
//! keys and what splitting a hot range or replicating a hot key does
//! ([`hotspots`]); and a cluster that rebalances while it serves requests,
//! in the simulator ([`rebalance`]). Then what a lecturer adds: bounded-load
//! consistent hashing against the plain ring under skew ([`bounded`]); many
//! fixed partitions per node, moved whole on a join ([`fixed`]); local
//! against global secondary indexes ([`secondary`]); ranges that split
//! by size as data grows ([`splitting`]); and writes while keys move to a
//! new node, under three hand-offs ([`migration`]).

pub mod bounded;
pub mod fixed;
pub mod hotspots;
pub mod migration;
pub mod moved;
pub mod rebalance;
pub mod secondary;
pub mod splitting;
pub mod spread;
pub mod yours;

use crate::error::Result;

/// Checks the number of replications and returns the seeds
/// `seed, seed + 1, …`.
pub(crate) fn seeds_from(seed: u64, seeds: u64) -> Result<Vec<u64>> {
    crate::measure::stats::check_replications(seeds)?;
    Ok((0..seeds).map(|i| seed.wrapping_add(i)).collect())
}

/// Where keys `0..keys` go on nodes `0..nodes` under each scheme, before
/// and after node `nodes` joins: one row per key, one column per scheme,
/// `a` when the key stays on node `a`, `a → b` when it moves.
pub fn placement_table(
    schemes: &[crate::partition::Scheme],
    nodes: usize,
    keys: u64,
    seed: u64,
) -> Result<crate::plot::Table> {
    crate::error::check_count("nodes", nodes, 1, 1_000, "nodes")?;
    crate::error::check_count("keys", keys as usize, 1, 1_000, "keys (rows)")?;
    if schemes.is_empty() {
        return Err(crate::Error::empty("schemes"));
    }
    let names: Vec<usize> = (0..nodes).collect();
    let mut cols = Vec::new();
    for s in schemes {
        let mut p = s.build(&names, seed)?;
        let before = crate::partition::assign(p.as_ref(), keys)?;
        p.add_node(nodes)?;
        let after = crate::partition::assign(p.as_ref(), keys)?;
        cols.push((before, after));
    }
    let labels: Vec<String> = schemes.iter().map(|s| s.label()).collect();
    let mut headers = vec!["key".to_string()];
    headers.extend(labels);
    let h: Vec<&str> = headers.iter().map(String::as_str).collect();
    let mut t = crate::plot::Table::new(&h);
    for k in 0..keys as usize {
        let mut row = vec![k.to_string()];
        for (b, a) in &cols {
            row.push(if b[k] == a[k] {
                b[k].to_string()
            } else {
                format!("{} → {}", b[k], a[k])
            });
        }
        t = t.row(row);
    }
    Ok(t)
}
