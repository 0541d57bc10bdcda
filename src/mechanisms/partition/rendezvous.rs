//! Rendezvous hashing, or highest random weight (Thaler & Ravishankar,
//! "Using name-based mappings to increase hit rates", IEEE/ACM ToN 1998):
//! every node scores the key with `h(key, node)` and the highest score wins.
//! When a node joins, a key moves only if the newcomer outscores the old
//! winner, which happens for `1/(n+1)` of the keys; when one leaves, only its
//! keys move, each to its runner-up. No ring and no virtual nodes, at the
//! cost of `n` hashes per lookup.

use super::{check_nodes, hash_pair, insert_member, remove_member, NodeName, Partitioner};
use crate::error::Result;

/// Rendezvous (highest random weight) hashing.
#[derive(Debug, Clone)]
pub struct Rendezvous {
    nodes: Vec<NodeName>,
    seed: u64,
}

impl Rendezvous {
    /// Rendezvous hashing over `nodes` (at least one, distinct), hash seed `seed`.
    pub fn new(nodes: &[NodeName], seed: u64) -> Result<Rendezvous> {
        Ok(Rendezvous {
            nodes: check_nodes(nodes)?,
            seed,
        })
    }

    /// The nodes in decreasing order of their score for `key`: the first
    /// holds it, the next ones are where replicas (or the key, after the
    /// first leaves) go.
    pub fn ranked(&self, key: u64) -> Vec<NodeName> {
        let mut v: Vec<(u64, NodeName)> = self
            .nodes
            .iter()
            .map(|&n| (hash_pair(key, n as u64, self.seed), n))
            .collect();
        v.sort_unstable_by(|a, b| b.cmp(a));
        v.into_iter().map(|(_, n)| n).collect()
    }
}

impl Partitioner for Rendezvous {
    fn name(&self) -> String {
        "rendezvous".into()
    }
    fn node_for(&self, key: u64) -> NodeName {
        let mut best = (0u64, self.nodes[0]);
        for (i, &n) in self.nodes.iter().enumerate() {
            let s = (hash_pair(key, n as u64, self.seed), n);
            if i == 0 || s > best {
                best = s;
            }
        }
        best.1
    }
    fn nodes(&self) -> Vec<NodeName> {
        self.nodes.clone()
    }
    fn lookup_cost(&self) -> f64 {
        self.nodes.len() as f64
    }
    fn add_node(&mut self, node: NodeName) -> Result<()> {
        insert_member(&mut self.nodes, node)
    }
    fn remove_node(&mut self, node: NodeName) -> Result<()> {
        remove_member(&mut self.nodes, node)
    }
}
