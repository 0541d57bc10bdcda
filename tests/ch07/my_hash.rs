use thinkdist::partition::{hash_key, hash_pair, NodeName, Partitioner};
struct MyHash { nodes: Vec<NodeName>, seed: u64 }
impl Partitioner for MyHash {
    fn name(&self) -> String { "my hash".into() }
    fn node_for(&self, key: u64) -> NodeName {
        // Every node scores the key; the highest score wins.
        *self.nodes.iter().max_by_key(|&&n| hash_pair(key, n as u64, self.seed)).unwrap()
    }
    fn nodes(&self) -> Vec<NodeName> { self.nodes.clone() }
    fn add_node(&mut self, n: NodeName) -> Result<()> { self.nodes.push(n); Ok(()) }
    fn remove_node(&mut self, n: NodeName) -> Result<()> { self.nodes.retain(|&m| m != n); Ok(()) }
}
