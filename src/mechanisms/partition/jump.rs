//! Jump consistent hash (Lamping & Veach, "A Fast, Minimal Memory,
//! Consistent Hash Algorithm", 2014): maps a 64-bit hash to a bucket in
//! `0..n` with no table at all, in `O(ln n)` steps of a linear congruential
//! generator. Going from `n` to `n+1` buckets moves exactly the keys that
//! jump to the new bucket, `1/(n+1)` of them in expectation, and nothing
//! else.
//!
//! Its limit: buckets are numbered `0..n`, so only the *last* bucket can
//! leave. [`JumpHash::remove_node`](super::Partitioner::remove_node) of any
//! other node is an error (a real system maps buckets to nodes and replaces
//! a failed node in its bucket instead).

use super::{already_member, hash_key, last_node, not_member, NodeName, Partitioner};
use crate::error::{Error, Result};

/// The bucket in `0..buckets` of a 64-bit `key` (the paper's algorithm,
/// verbatim). `buckets` must be at least 1.
pub fn jump_bucket(mut key: u64, buckets: u32) -> u32 {
    let (mut b, mut j): (i64, i64) = (-1, 0);
    while j < buckets as i64 {
        b = j;
        key = key.wrapping_mul(2_862_933_555_777_941_757).wrapping_add(1);
        j = ((b + 1) as f64 * ((1u64 << 31) as f64 / ((key >> 33) + 1) as f64)) as i64;
    }
    b.max(0) as u32
}

/// Jump consistent hash; bucket `i` is the `i`-th node added.
#[derive(Debug, Clone)]
pub struct JumpHash {
    /// Node of each bucket, in the order they were added.
    buckets: Vec<NodeName>,
    seed: u64,
}

impl JumpHash {
    /// Jump hash over `nodes` (at least one, distinct): bucket `i` is
    /// `nodes[i]`. Hash seed `seed`.
    pub fn new(nodes: &[NodeName], seed: u64) -> Result<JumpHash> {
        super::check_nodes(nodes)?;
        if nodes.len() > u32::MAX as usize {
            return Err(Error::too_big("nodes", nodes.len(), "nodes", u32::MAX));
        }
        Ok(JumpHash {
            buckets: nodes.to_vec(),
            seed,
        })
    }
}

impl Partitioner for JumpHash {
    fn name(&self) -> String {
        "jump".into()
    }
    fn node_for(&self, key: u64) -> NodeName {
        let b = jump_bucket(hash_key(key, self.seed), self.buckets.len() as u32);
        self.buckets[b as usize]
    }
    fn nodes(&self) -> Vec<NodeName> {
        let mut v = self.buckets.clone();
        v.sort_unstable();
        v
    }
    fn add_node(&mut self, node: NodeName) -> Result<()> {
        if self.buckets.contains(&node) {
            return Err(already_member(node));
        }
        super::check_nodes(&[&self.buckets[..], &[node]].concat())?;
        self.buckets.push(node);
        Ok(())
    }
    fn remove_node(&mut self, node: NodeName) -> Result<()> {
        let Some(i) = self.buckets.iter().position(|&n| n == node) else {
            return Err(not_member(node, &self.nodes()));
        };
        if self.buckets.len() == 1 {
            return Err(last_node(node));
        }
        if i + 1 != self.buckets.len() {
            return Err(Error::invalid(
                "node",
                node,
                &format!(
                    "the last node added ({}): jump hash numbers its buckets 0..n, so only \
                     the last bucket can leave",
                    self.buckets[self.buckets.len() - 1]
                ),
            ));
        }
        self.buckets.pop();
        Ok(())
    }
}
