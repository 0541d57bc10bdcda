//! Modulo hashing: key → `nodes[h(key) mod n]`. Perfectly even for many
//! keys, and simple; but changing `n` changes `h mod n` for almost every
//! key, so a join or a leave moves about `n/(n+1)` of the data.

use super::{check_nodes, hash_key, insert_member, remove_member, NodeName, Partitioner};
use crate::error::Result;

/// Modulo hashing over a list of nodes (kept sorted).
#[derive(Debug, Clone)]
pub struct ModuloHash {
    nodes: Vec<NodeName>,
    seed: u64,
}

impl ModuloHash {
    /// Modulo hashing over `nodes` (at least one, distinct), hash seed `seed`.
    pub fn new(nodes: &[NodeName], seed: u64) -> Result<ModuloHash> {
        Ok(ModuloHash {
            nodes: check_nodes(nodes)?,
            seed,
        })
    }
}

impl Partitioner for ModuloHash {
    fn name(&self) -> String {
        "modulo".into()
    }
    fn node_for(&self, key: u64) -> NodeName {
        self.nodes[(hash_key(key, self.seed) % self.nodes.len() as u64) as usize]
    }
    fn nodes(&self) -> Vec<NodeName> {
        self.nodes.clone()
    }
    fn add_node(&mut self, node: NodeName) -> Result<()> {
        insert_member(&mut self.nodes, node)
    }
    fn remove_node(&mut self, node: NodeName) -> Result<()> {
        remove_member(&mut self.nodes, node)
    }
}
