//! Dynamic splitting by size (HBase regions, Bigtable tablets, MongoDB
//! chunks): the key space starts as one range; a range that grows past
//! `max_keys` splits at its median key, and the upper half goes to the
//! node holding the fewest ranges. No one has to guess the key
//! distribution up front: ranges follow the data.
//!
//! What it does not fix: load. Keys that arrive in order (timestamps,
//! counters) all land in the last range, so one node takes every write
//! whatever the number of ranges, and every split leaves a half-full range
//! behind that never grows again.

use super::NodeName;
use crate::error::{check_count, Result};
use std::collections::{BTreeMap, BTreeSet};

/// One range: its keys and the node holding it.
#[derive(Debug, Clone)]
struct Range {
    keys: BTreeSet<u64>,
    node: NodeName,
}

/// What an insert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inserted {
    /// The node that took the write.
    pub node: NodeName,
    /// `Some((at, to))` if the range split: keys from `at` on went to `to`.
    pub split: Option<(u64, NodeName)>,
}

/// Range partitioning that splits ranges by size.
#[derive(Debug, Clone)]
pub struct SplittingRanges {
    max_keys: usize,
    /// First key of a range -> the range (the first range starts at 0).
    ranges: BTreeMap<u64, Range>,
    /// Node -> ranges it holds.
    held: BTreeMap<NodeName, usize>,
}

impl SplittingRanges {
    /// One range over all keys on the first of `nodes` (at least one node,
    /// distinct); a range splits when it holds more than `max_keys` keys
    /// (2 to 10,000,000).
    pub fn new(nodes: &[NodeName], max_keys: usize) -> Result<SplittingRanges> {
        let nodes = super::check_nodes(nodes)?;
        check_count("max_keys", max_keys, 2, 10_000_000, "keys per range")?;
        let held = nodes.iter().map(|&n| (n, 0)).collect();
        let mut s = SplittingRanges {
            max_keys,
            ranges: BTreeMap::new(),
            held,
        };
        s.put(0, BTreeSet::new(), nodes[0]);
        Ok(s)
    }

    fn put(&mut self, start: u64, keys: BTreeSet<u64>, node: NodeName) {
        *self.held.entry(node).or_default() += 1;
        self.ranges.insert(start, Range { keys, node });
    }

    /// The first key of the range holding `key`.
    fn start_of(&self, key: u64) -> u64 {
        *self
            .ranges
            .range(..=key)
            .next_back()
            .expect("a range starts at 0")
            .0
    }

    /// The node holding `key`.
    pub fn node_for(&self, key: u64) -> NodeName {
        self.ranges[&self.start_of(key)].node
    }

    /// Stores `key` (again: no change) and splits its range at the median
    /// if it now holds more than `max_keys` keys.
    pub fn insert(&mut self, key: u64) -> Inserted {
        let start = self.start_of(key);
        let range = self.ranges.get_mut(&start).expect("start_of finds a range");
        let node = range.node;
        range.keys.insert(key);
        if range.keys.len() <= self.max_keys {
            return Inserted { node, split: None };
        }
        let median = *range
            .keys
            .iter()
            .nth(range.keys.len() / 2)
            .expect("more than max_keys >= 2 keys");
        let upper = range.keys.split_off(&median);
        // The upper half goes to the node with the fewest ranges (the
        // lowest name among equals).
        let to = self
            .held
            .iter()
            .min_by_key(|&(&n, &count)| (count, n))
            .map(|(&n, _)| n)
            .expect("at least one node");
        self.put(median, upper, to);
        Inserted {
            node,
            split: Some((median, to)),
        }
    }

    /// Number of ranges.
    pub fn partitions(&self) -> usize {
        self.ranges.len()
    }

    /// Keys stored.
    pub fn keys(&self) -> usize {
        self.ranges.values().map(|r| r.keys.len()).sum()
    }

    /// The split threshold.
    pub fn max_keys(&self) -> usize {
        self.max_keys
    }

    /// `(first key, keys held, node)` of every range, in key order.
    pub fn ranges(&self) -> Vec<(u64, usize, NodeName)> {
        self.ranges
            .iter()
            .map(|(&s, r)| (s, r.keys.len(), r.node))
            .collect()
    }
}
