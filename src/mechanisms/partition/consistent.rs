//! Consistent hashing (Karger et al., "Consistent hashing and random
//! trees", STOC 1997): nodes and keys hash onto one circle of `2^64`
//! positions; a key belongs to the first node point clockwise from it.
//! Each node places `V` points (virtual nodes): with `N = nV` random points
//! the arcs are the spacings of uniform points, so a node's share is the sum
//! of `V` of `N` spacings, a Beta(V, N−V) variable with mean `1/n` and
//! coefficient of variation `√((n−1)/(nV+1)) ≈ 1/√V`
//! ([`share_cv_theory`]). A joining node takes keys only from the arcs its
//! own points cut; nothing moves between old nodes.

use super::{
    already_member, check_nodes, hash_key, hash_pair, remove_member, NodeName, Partitioner,
};
use crate::error::{Error, Result};
use std::collections::BTreeMap;

/// Salt that separates the ring's point hashes from key hashes.
const POINT_SALT: u64 = 0x9e37_79b9_7f4a_7c15;

/// Consistent hashing with virtual nodes: a sorted ring of points.
///
/// The ring is an ordered map, not a sorted `Vec`: a node joining one at a
/// time then costs `V log N`, not a re-sort of all `N` points (adding
/// 10,000 nodes of 100 points one by one took minutes as a `Vec`).
#[derive(Debug, Clone)]
pub struct ConsistentHash {
    /// Position -> node, in ring order. (Two points on one position of
    /// 2^64 are astronomically rare; the later one would take it.)
    ring: BTreeMap<u64, NodeName>,
    nodes: Vec<NodeName>,
    vnodes: usize,
    seed: u64,
}

impl ConsistentHash {
    /// A ring over `nodes` (at least one, distinct) with `vnodes` points
    /// per node (at least 1), hash seed `seed`.
    pub fn new(nodes: &[NodeName], vnodes: usize, seed: u64) -> Result<ConsistentHash> {
        let nodes = check_nodes(nodes)?;
        if vnodes == 0 {
            return Err(Error::invalid(
                "vnodes",
                0,
                "at least 1 virtual node per node (1 is plain consistent hashing; 100 to 200 is common)",
            ));
        }
        check_points(nodes.len(), vnodes)?;
        let mut ring = ConsistentHash {
            ring: BTreeMap::new(),
            nodes: Vec::new(),
            vnodes,
            seed,
        };
        for n in nodes {
            ring.place(n);
        }
        Ok(ring)
    }

    fn place(&mut self, node: NodeName) {
        for i in 0..self.vnodes {
            let pos = hash_pair(node as u64, i as u64, self.seed ^ POINT_SALT);
            self.ring.insert(pos, node);
        }
        if let Err(i) = self.nodes.binary_search(&node) {
            self.nodes.insert(i, node);
        }
    }

    /// Virtual nodes per node.
    pub fn vnodes(&self) -> usize {
        self.vnodes
    }

    /// The ring's points clockwise from position `h` (inclusive), once
    /// around.
    fn clockwise(&self, h: u64) -> impl Iterator<Item = (&u64, &NodeName)> {
        self.ring.range(h..).chain(self.ring.range(..h))
    }

    /// The nodes of the ring's points clockwise from `key`'s position, once
    /// around (a node appears once per virtual node): the order in which
    /// bounded-load hashing ([`super::bounded`]) tries nodes.
    pub fn clockwise_nodes(&self, key: u64) -> impl Iterator<Item = NodeName> + '_ {
        self.clockwise(hash_key(key, self.seed)).map(|(_, &n)| n)
    }

    /// The first `r` distinct nodes clockwise from `key` (fewer if there
    /// are fewer nodes): the key's owner, then where its replicas go.
    pub fn successors(&self, key: u64, r: usize) -> Vec<NodeName> {
        let r = r.min(self.nodes.len());
        let mut out = Vec::with_capacity(r);
        for (_, &n) in self.clockwise(hash_key(key, self.seed)) {
            if out.len() == r {
                break;
            }
            if !out.contains(&n) {
                out.push(n);
            }
        }
        out
    }

    /// Each node's exact share of the hash space (the total length of the
    /// arcs ending at its points, over `2^64`), in the order of `nodes()`.
    pub fn shares(&self) -> Vec<f64> {
        let mut share = vec![0.0; self.nodes.len()];
        let m = self.ring.len();
        let Some((&last, _)) = self.ring.last_key_value() else {
            return share;
        };
        let mut prev = last;
        for (&pos, node) in &self.ring {
            let arc = pos.wrapping_sub(prev);
            prev = pos;
            // One point alone owns the whole circle.
            let arc = if m == 1 { u64::MAX } else { arc };
            if let Ok(j) = self.nodes.binary_search(node) {
                share[j] += arc as f64 / 2f64.powi(64);
            }
        }
        share
    }
}

fn check_points(nodes: usize, vnodes: usize) -> Result<()> {
    let points = nodes.saturating_mul(vnodes);
    if points > crate::error::limits::ITEMS {
        return Err(Error::too_big(
            "nodes × vnodes",
            points,
            "ring points",
            crate::error::limits::ITEMS,
        ));
    }
    Ok(())
}

/// Theory: the coefficient of variation (std / mean) of one node's share
/// with `vnodes` points per node among `nodes` nodes and random point
/// positions: `√((n−1)/(nV+1))`, about `1/√V` for many nodes.
pub fn share_cv_theory(nodes: usize, vnodes: usize) -> Result<f64> {
    crate::error::check_count("nodes", nodes, 1, crate::error::limits::NODES, "nodes")?;
    crate::error::check_count(
        "vnodes",
        vnodes,
        1,
        crate::error::limits::ITEMS,
        "virtual nodes",
    )?;
    let (n, v) = (nodes as f64, vnodes as f64);
    Ok(((n - 1.0) / (n * v + 1.0)).sqrt())
}

impl Partitioner for ConsistentHash {
    fn name(&self) -> String {
        format!("consistent (V={})", self.vnodes)
    }
    fn node_for(&self, key: u64) -> NodeName {
        // A ring always has a point (at least one node, one vnode each).
        self.clockwise(hash_key(key, self.seed))
            .next()
            .map_or(0, |(_, &node)| node)
    }
    fn nodes(&self) -> Vec<NodeName> {
        self.nodes.clone()
    }
    fn add_node(&mut self, node: NodeName) -> Result<()> {
        if self.nodes.binary_search(&node).is_ok() {
            return Err(already_member(node));
        }
        crate::error::check_count(
            "nodes",
            self.nodes.len() + 1,
            1,
            crate::error::limits::NODES,
            "nodes",
        )?;
        check_points(self.nodes.len() + 1, self.vnodes)?;
        self.place(node);
        Ok(())
    }
    fn remove_node(&mut self, node: NodeName) -> Result<()> {
        remove_member(&mut self.nodes, node)?;
        for i in 0..self.vnodes {
            let pos = hash_pair(node as u64, i as u64, self.seed ^ POINT_SALT);
            if self.ring.get(&pos) == Some(&node) {
                self.ring.remove(&pos);
            }
        }
        Ok(())
    }
}
