//! Range partitioning: the key space `0..K` is cut into contiguous ranges,
//! each owned by a node. Keys that are close stay together (range scans
//! touch few nodes), but so do *popular* keys: under a skewed workload the
//! range holding them is a hot spot. The remedy is to **split** a hot range
//! and hand a part to another node ([`RangePartition::split`]). A join
//! splits the widest range in half and gives the upper half to the new node;
//! a leave hands each of the node's ranges to the owner of the range below
//! it (above it, for the first range).

use super::{already_member, check_nodes, last_node, not_member, NodeName, Partitioner};
use crate::error::{Error, Result};

/// Range partitioning of `0..key_space` (keys at or above `key_space` fall
/// into the last range).
#[derive(Debug, Clone)]
pub struct RangePartition {
    /// `(start, node)`, sorted by start; the first start is 0.
    ranges: Vec<(u64, NodeName)>,
    key_space: u64,
}

impl RangePartition {
    /// `nodes.len()` equal ranges of `0..key_space`, in node order
    /// (`key_space` at least the number of nodes).
    pub fn new(nodes: &[NodeName], key_space: u64) -> Result<RangePartition> {
        let nodes = check_nodes(nodes)?;
        if key_space < nodes.len() as u64 {
            return Err(Error::invalid(
                "key_space",
                key_space,
                &format!(
                    "at least the number of nodes ({}): every node needs a non-empty range",
                    nodes.len()
                ),
            ));
        }
        let n = nodes.len() as u128;
        let ranges = nodes
            .iter()
            .enumerate()
            .map(|(i, &node)| ((i as u128 * key_space as u128 / n) as u64, node))
            .collect();
        Ok(RangePartition { ranges, key_space })
    }

    /// The ranges as `(start, end, node)`, `end` exclusive, in key order.
    pub fn ranges(&self) -> Vec<(u64, u64, NodeName)> {
        (0..self.ranges.len())
            .map(|i| (self.ranges[i].0, self.end(i), self.ranges[i].1))
            .collect()
    }

    fn end(&self, i: usize) -> u64 {
        self.ranges
            .get(i + 1)
            .map(|r| r.0)
            .unwrap_or(self.key_space)
    }

    fn index_of(&self, key: u64) -> usize {
        self.ranges
            .partition_point(|r| r.0 <= key)
            .saturating_sub(1)
    }

    /// Splits the range holding key `at` at `at`: keys `at..end` go to
    /// node `to` (a member; it may be the same node). `at` must not be
    /// the start of its range, nor at or past the key space.
    pub fn split(&mut self, at: u64, to: NodeName) -> Result<()> {
        if !self.ranges.iter().any(|r| r.1 == to) {
            return Err(not_member(to, &self.nodes()));
        }
        if at >= self.key_space {
            return Err(Error::invalid(
                "at",
                at,
                &format!("a key below the key space ({})", self.key_space),
            ));
        }
        let i = self.index_of(at);
        if self.ranges[i].0 == at {
            return Err(Error::invalid(
                "at",
                at,
                "a key inside a range, not the first key of one (that boundary exists already)",
            ));
        }
        self.ranges.insert(i + 1, (at, to));
        Ok(())
    }

    /// Merges neighbouring ranges that have the same node.
    fn coalesce(&mut self) {
        self.ranges.dedup_by(|b, a| a.1 == b.1);
    }
}

impl Partitioner for RangePartition {
    fn name(&self) -> String {
        "range".into()
    }
    fn node_for(&self, key: u64) -> NodeName {
        self.ranges[self.index_of(key)].1
    }
    fn nodes(&self) -> Vec<NodeName> {
        let mut v: Vec<NodeName> = self.ranges.iter().map(|r| r.1).collect();
        v.sort_unstable();
        v.dedup();
        v
    }
    fn add_node(&mut self, node: NodeName) -> Result<()> {
        let nodes = self.nodes();
        if nodes.binary_search(&node).is_ok() {
            return Err(already_member(node));
        }
        check_nodes(&[&nodes[..], &[node]].concat())?;
        // The widest range; the first one on ties.
        let mut best = 0;
        for i in 0..self.ranges.len() {
            if self.end(i) - self.ranges[i].0 > self.end(best) - self.ranges[best].0 {
                best = i;
            }
        }
        let (start, end) = (self.ranges[best].0, self.end(best));
        if end - start < 2 {
            return Err(Error::invalid(
                "node",
                node,
                "room for it: every range holds one key; use a larger key_space",
            ));
        }
        self.ranges
            .insert(best + 1, (start + (end - start) / 2, node));
        Ok(())
    }
    fn remove_node(&mut self, node: NodeName) -> Result<()> {
        let nodes = self.nodes();
        if nodes.binary_search(&node).is_err() {
            return Err(not_member(node, &nodes));
        }
        if nodes.len() == 1 {
            return Err(last_node(node));
        }
        self.coalesce();
        for i in 0..self.ranges.len() {
            if self.ranges[i].1 == node {
                // After coalescing, a neighbour always has another node.
                let heir = if i > 0 {
                    self.ranges[i - 1].1
                } else {
                    self.ranges[i + 1].1
                };
                self.ranges[i].1 = heir;
            }
        }
        self.coalesce();
        Ok(())
    }
}
