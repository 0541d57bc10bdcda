//! Consistent hashing with bounded loads (Mirrokni, Thorup and
//! Zadimoghaddam, "Consistent Hashing with Bounded Loads", SODA 2018; used
//! by Google's cloud Pub/Sub and by Vimeo's HAProxy balancer).
//!
//! A plain ring sends every request for a key to the key's owner, so a node
//! whose arcs hold popular keys runs hot. With bounded loads every node has
//! a capacity of `⌈(1+ε)·m/n⌉` of the `m` balls (requests, connections,
//! keys) placed: a ball goes to the first node clockwise from its key that
//! is below capacity. No node can ever exceed the capacity, by
//! construction, and since `n` capacities add up to at least `(1+ε)·m ≥ m`
//! there is always room somewhere. The price: balls that do not land on
//! their key's owner (a cache there misses), and more balls that change node
//! when a node joins, since one displaced ball can push others along.
//!
//! ```
//! use thinkdist::partition::bounded::{capacity, place_bounded};
//! use thinkdist::partition::ConsistentHash;
//! let ring = ConsistentHash::new(&[0, 1, 2, 3], 10, 7)?;
//! let balls: Vec<u64> = vec![5; 100]; // one very hot key, 100 requests
//! let at = place_bounded(&ring, &balls, 0.25)?;
//! let cap = capacity(100, 4, 0.25)?; // ⌈1.25 · 25⌉ = 32
//! for n in 0..4 {
//!     assert!(at.iter().filter(|&&m| m == n).count() <= cap);
//! }
//! # Ok::<(), thinkdist::Error>(())
//! ```

use super::{ConsistentHash, NodeName, Partitioner};
use crate::error::{Error, Result};

/// Checks an ε: finite, from 0 to 100.
pub fn check_eps(eps: f64) -> Result<f64> {
    if eps.is_finite() && (0.0..=100.0).contains(&eps) {
        Ok(eps)
    } else {
        Err(Error::invalid(
            "eps",
            eps,
            "a slack ε from 0 to 100 (capacity ⌈(1+ε)·mean⌉; 0.25 is common)",
        ))
    }
}

/// The capacity of each of `nodes` nodes for `balls` balls with slack
/// `eps`: `⌈(1+ε)·balls/nodes⌉`, never below `⌈balls/nodes⌉`, so the
/// capacities always hold every ball.
pub fn capacity(balls: usize, nodes: usize, eps: f64) -> Result<usize> {
    crate::error::check_count("nodes", nodes, 1, crate::error::limits::NODES, "nodes")?;
    let eps = check_eps(eps)?;
    let even = balls.div_ceil(nodes);
    let cap = ((1.0 + eps) * balls as f64 / nodes as f64).ceil() as usize;
    Ok(cap.max(even))
}

/// Places the balls `keys` (a key per ball, repeats allowed: each request
/// is a ball) in order on the ring with bounded loads: each goes to the
/// first node clockwise from its key with fewer than
/// [`capacity`]`(keys.len(), n, eps)` balls. Returns the node of each ball.
pub fn place_bounded(ring: &ConsistentHash, keys: &[u64], eps: f64) -> Result<Vec<NodeName>> {
    crate::error::check_count(
        "balls",
        keys.len(),
        0,
        crate::error::limits::ITEMS,
        "balls (keys or requests)",
    )?;
    let nodes = ring.nodes();
    let cap = capacity(keys.len(), nodes.len(), eps)?;
    // A ball walks at most once around the ring.
    crate::error::check_work(
        "balls × ring points",
        0.01 * keys.len() as f64 * (nodes.len() * ring.vnodes()) as f64,
    )?;
    let mut load = vec![0usize; nodes.len()];
    let mut out = Vec::with_capacity(keys.len());
    for &k in keys {
        // Capacities hold every ball, so some node has room; the fallback
        // (the owner) is never taken.
        let mut at = ring.node_for(k);
        for n in ring.clockwise_nodes(k) {
            let i = nodes.binary_search(&n).unwrap_or(0);
            if load[i] < cap {
                at = n;
                break;
            }
        }
        if let Ok(i) = nodes.binary_search(&at) {
            load[i] += 1;
        }
        out.push(at);
    }
    Ok(out)
}

/// Balls per node of a placement, in the order of `nodes` (nodes not in
/// the list are not counted).
pub fn loads_of(placed: &[NodeName], nodes: &[NodeName]) -> Vec<usize> {
    let mut load = vec![0usize; nodes.len()];
    for n in placed {
        if let Some(i) = nodes.iter().position(|m| m == n) {
            load[i] += 1;
        }
    }
    load
}

/// Theory: a lower bound on the balls that cannot stay on their key's
/// owner: `Σ_j max(0, owned_j − cap)`, since node `j` holds at most `cap`
/// of the `owned_j` balls whose keys it owns. Displaced balls can displace
/// others further along, so the measured number is at least this.
pub fn displaced_floor(owned: &[usize], cap: usize) -> usize {
    owned.iter().map(|&o| o.saturating_sub(cap)).sum()
}
