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
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

/// Range partitioning of `0..key_space` (keys at or above `key_space` fall
/// into the last range).
///
/// The ranges are an ordered map from start to node, with the widest range
/// kept in a heap and the members in a map of range counts: a join, a
/// lookup and a split each cost `log n`, so nodes can join one at a time by
/// the hundred thousand (a sorted `Vec` scanned for the widest range made
/// that quadratic: minutes for 100,000 joins).
#[derive(Debug, Clone)]
pub struct RangePartition {
    /// Start -> node; the first start is 0.
    ranges: BTreeMap<u64, NodeName>,
    key_space: u64,
    /// Node -> how many ranges it owns.
    members: BTreeMap<NodeName, usize>,
    /// `(width, Reverse(start))` of ranges, widest first, then lowest start;
    /// an entry whose range has since changed is skipped when popped.
    widest: BinaryHeap<(u64, Reverse<u64>)>,
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
        let mut p = RangePartition {
            ranges: BTreeMap::new(),
            key_space,
            members: BTreeMap::new(),
            widest: BinaryHeap::new(),
        };
        for (i, &node) in nodes.iter().enumerate() {
            p.put((i as u128 * key_space as u128 / n) as u64, node);
        }
        p.rebuild_widest();
        Ok(p)
    }

    /// The ranges as `(start, end, node)`, `end` exclusive, in key order.
    pub fn ranges(&self) -> Vec<(u64, u64, NodeName)> {
        self.ranges
            .iter()
            .map(|(&start, &node)| (start, self.end(start), node))
            .collect()
    }

    /// The end (exclusive) of the range starting at `start`.
    fn end(&self, start: u64) -> u64 {
        self.ranges
            .range(start.saturating_add(1)..)
            .next()
            .map_or(self.key_space, |(&s, _)| s)
            .max(start)
    }

    /// The range holding `key`: its start and node.
    fn holding(&self, key: u64) -> (u64, NodeName) {
        self.ranges
            .range(..=key)
            .next_back()
            .or_else(|| self.ranges.iter().next())
            .map_or((0, 0), |(&s, &n)| (s, n))
    }

    /// Sets the range starting at `start` to `node`, keeping the counts.
    fn put(&mut self, start: u64, node: NodeName) {
        if let Some(old) = self.ranges.insert(start, node) {
            self.forget(old);
        }
        *self.members.entry(node).or_insert(0) += 1;
    }

    fn forget(&mut self, node: NodeName) {
        if let Some(c) = self.members.get_mut(&node) {
            *c -= 1;
            if *c == 0 {
                self.members.remove(&node);
            }
        }
    }

    fn note_width(&mut self, start: u64) {
        let w = self.end(start) - start;
        self.widest.push((w, Reverse(start)));
    }

    fn rebuild_widest(&mut self) {
        let starts: Vec<u64> = self.ranges.keys().copied().collect();
        self.widest.clear();
        for s in starts {
            self.note_width(s);
        }
    }

    /// The widest range's start (the lowest start on ties).
    fn widest_start(&mut self) -> u64 {
        while let Some(&(w, Reverse(start))) = self.widest.peek() {
            if self.ranges.contains_key(&start) && self.end(start) - start == w {
                return start;
            }
            self.widest.pop();
        }
        self.rebuild_widest();
        self.widest.peek().map_or(0, |&(_, Reverse(s))| s)
    }

    /// Splits the range holding key `at` at `at`: keys `at..end` go to
    /// node `to` (a member; it may be the same node). `at` must not be
    /// the start of its range, nor at or past the key space.
    pub fn split(&mut self, at: u64, to: NodeName) -> Result<()> {
        if !self.members.contains_key(&to) {
            return Err(not_member(to, &self.nodes()));
        }
        if at >= self.key_space {
            return Err(Error::invalid(
                "at",
                at,
                &format!("a key below the key space ({})", self.key_space),
            ));
        }
        let (start, _) = self.holding(at);
        if start == at {
            return Err(Error::invalid(
                "at",
                at,
                "a key inside a range, not the first key of one (that boundary exists already)",
            ));
        }
        self.put(at, to);
        self.note_width(start);
        self.note_width(at);
        Ok(())
    }

    /// Merges neighbouring ranges that have the same node.
    fn coalesce(&mut self) {
        let mut prev: Option<NodeName> = None;
        let mut gone = Vec::new();
        for (&s, &n) in &self.ranges {
            if prev == Some(n) {
                gone.push(s);
            }
            prev = Some(n);
        }
        for s in gone {
            if let Some(n) = self.ranges.remove(&s) {
                self.forget(n);
            }
        }
    }
}

impl Partitioner for RangePartition {
    fn name(&self) -> String {
        "range".into()
    }
    fn node_for(&self, key: u64) -> NodeName {
        self.holding(key).1
    }
    fn nodes(&self) -> Vec<NodeName> {
        self.members.keys().copied().collect()
    }
    fn add_node(&mut self, node: NodeName) -> Result<()> {
        if self.members.contains_key(&node) {
            return Err(already_member(node));
        }
        crate::error::check_count(
            "nodes",
            self.members.len() + 1,
            1,
            crate::error::limits::NODES,
            "nodes",
        )?;
        // The widest range; the first one on ties.
        let start = self.widest_start();
        let end = self.end(start);
        if end - start < 2 {
            return Err(Error::invalid(
                "node",
                node,
                "room for it: every range holds one key; use a larger key_space",
            ));
        }
        let mid = start + (end - start) / 2;
        self.put(mid, node);
        self.note_width(start);
        self.note_width(mid);
        Ok(())
    }
    fn remove_node(&mut self, node: NodeName) -> Result<()> {
        if !self.members.contains_key(&node) {
            return Err(not_member(node, &self.nodes()));
        }
        if self.members.len() == 1 {
            return Err(last_node(node));
        }
        self.coalesce();
        let owned: Vec<u64> = self
            .ranges
            .iter()
            .filter(|(_, &n)| n == node)
            .map(|(&s, _)| s)
            .collect();
        for s in owned {
            // After coalescing, a neighbour always has another node: the
            // range below, or above for the first range.
            let below = self.ranges.range(..s).next_back().map(|(_, &n)| n);
            let above = self.ranges.range(s + 1..).next().map(|(_, &n)| n);
            if let Some(heir) = below.or(above) {
                self.put(s, heir);
            }
        }
        self.coalesce();
        self.rebuild_widest();
        Ok(())
    }
}
