//! Many fixed partitions per node (Riak's ring of partitions, Cassandra's
//! token ranges with vnodes, Elasticsearch's shards): the key space is cut
//! once into `P` partitions, `P` much larger than the number of nodes; a key
//! belongs to partition `h(key) mod P` forever, and only the map from
//! partitions to nodes changes.
//!
//! A joining node takes whole partitions, one at a time from the node that
//! holds the most (the highest-numbered of its partitions), until it holds
//! `⌊P/(n+1)⌋`; a leaving node hands its partitions one at a time to the node
//! that holds the fewest. Nothing moves between the other nodes, and a join
//! moves `⌊P/(n+1)⌋` of `P` equal partitions: about `1/(n+1)` of the keys, in
//! steps of `1/P` ([`moved_on_join_theory`]). Each node holds `⌊P/n⌋` or
//! `⌈P/n⌉` partitions, so the fullest holds `⌈P/n⌉·n/P` of the mean
//! ([`max_over_mean_theory`]): the finer the partitions, the more even.
//!
//! ```
//! use thinkdist::partition::{FixedPartitions, Partitioner};
//! let mut p = FixedPartitions::new(&[0, 1, 2], 12, 1)?;
//! assert_eq!(p.partitions_per_node(), vec![4, 4, 4]);
//! p.add_node(3)?;
//! assert_eq!(p.partitions_per_node(), vec![3, 3, 3, 3]);
//! # Ok::<(), thinkdist::Error>(())
//! ```

use super::{already_member, check_nodes, hash_key, remove_member, NodeName, Partitioner};
use crate::error::{Error, Result};

/// `P` fixed partitions, each held by one node.
#[derive(Debug, Clone)]
pub struct FixedPartitions {
    /// `owner[i]`: the node holding partition `i`.
    owner: Vec<NodeName>,
    nodes: Vec<NodeName>,
    seed: u64,
}

impl FixedPartitions {
    /// `partitions` partitions (at least one per node) dealt round robin
    /// over `nodes`, hash seed `seed`.
    pub fn new(nodes: &[NodeName], partitions: usize, seed: u64) -> Result<FixedPartitions> {
        let nodes = check_nodes(nodes)?;
        crate::error::check_count(
            "partitions",
            partitions,
            nodes.len(),
            crate::error::limits::ITEMS,
            "partitions (at least one per node)",
        )?;
        let owner = (0..partitions).map(|i| nodes[i % nodes.len()]).collect();
        Ok(FixedPartitions { owner, nodes, seed })
    }

    /// The number of partitions `P`.
    pub fn partitions(&self) -> usize {
        self.owner.len()
    }

    /// The partition of `key`: `h(key) mod P`, fixed for ever.
    pub fn partition_of(&self, key: u64) -> usize {
        (hash_key(key, self.seed) % self.owner.len() as u64) as usize
    }

    /// Partitions held by each node, in the order of `nodes()`.
    pub fn partitions_per_node(&self) -> Vec<usize> {
        let mut c = vec![0; self.nodes.len()];
        for o in &self.owner {
            if let Ok(i) = self.nodes.binary_search(o) {
                c[i] += 1;
            }
        }
        c
    }

    /// The partitions of each node, ascending, in the order of `nodes()`.
    fn held(&self) -> Vec<Vec<usize>> {
        let mut h = vec![Vec::new(); self.nodes.len()];
        for (p, o) in self.owner.iter().enumerate() {
            if let Ok(i) = self.nodes.binary_search(o) {
                h[i].push(p);
            }
        }
        h
    }
}

/// The index of the longest (`most`) or shortest list, skipping `skip`;
/// ties go to the lowest index (the lowest node name).
fn extreme(held: &[Vec<usize>], most: bool, skip: usize) -> usize {
    let mut best: Option<usize> = None;
    for (i, h) in held.iter().enumerate() {
        if i == skip {
            continue;
        }
        best = match best {
            Some(b)
                if (most && h.len() <= held[b].len()) || (!most && h.len() >= held[b].len()) =>
            {
                Some(b)
            }
            _ => Some(i),
        };
    }
    best.unwrap_or(0)
}

impl Partitioner for FixedPartitions {
    fn name(&self) -> String {
        format!("fixed (P={})", self.owner.len())
    }
    fn node_for(&self, key: u64) -> NodeName {
        self.owner[self.partition_of(key)]
    }
    fn nodes(&self) -> Vec<NodeName> {
        self.nodes.clone()
    }
    fn add_node(&mut self, node: NodeName) -> Result<()> {
        let i = match self.nodes.binary_search(&node) {
            Ok(_) => return Err(already_member(node)),
            Err(i) => i,
        };
        if self.nodes.len() + 1 > self.owner.len() {
            return Err(Error::invalid(
                "node",
                node,
                &format!(
                    "at most P = {} nodes (one partition each): create more partitions",
                    self.owner.len()
                ),
            ));
        }
        self.nodes.insert(i, node);
        let mut held = self.held();
        let want = self.owner.len() / self.nodes.len();
        for _ in 0..want {
            // The highest-numbered partition of the fullest other node.
            let from = extreme(&held, true, i);
            if let Some(p) = held[from].pop() {
                self.owner[p] = node;
                held[i].push(p);
            }
        }
        Ok(())
    }
    fn remove_node(&mut self, node: NodeName) -> Result<()> {
        remove_member(&mut self.nodes, node)?;
        let mut held = self.held();
        for p in 0..self.owner.len() {
            if self.owner[p] == node {
                // To the node holding the fewest.
                let to = extreme(&held, false, usize::MAX);
                self.owner[p] = self.nodes[to];
                held[to].push(p);
            }
        }
        Ok(())
    }
}

/// Theory: the fraction of keys a join moves to the `(n+1)`-th node,
/// `⌊P/(n+1)⌋/P` (whole partitions of expected size `1/P`).
pub fn moved_on_join_theory(partitions: usize, n: usize) -> f64 {
    (partitions / (n + 1)) as f64 / partitions.max(1) as f64
}

/// Theory: the fullest of `n` nodes over the mean, counting partitions of
/// equal size: `⌈P/n⌉·n/P`.
pub fn max_over_mean_theory(partitions: usize, n: usize) -> f64 {
    partitions.div_ceil(n.max(1)) as f64 * n as f64 / partitions.max(1) as f64
}
