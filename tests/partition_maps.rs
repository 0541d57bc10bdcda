//! The range partitioner and the consistent-hash ring keep their ranges
//! and points in ordered maps (so joins one at a time are not quadratic).
//! Checked here against the plain sorted-`Vec` algorithms they replaced,
//! over random joins, leaves and splits.

use thinkdist::partition::{ConsistentHash, Partitioner, RangePartition};
use thinkdist::prelude::*;

/// The old range partitioner: a sorted `Vec` of `(start, node)`, the
/// widest range found by a scan (the first on ties).
struct Reference {
    ranges: Vec<(u64, usize)>,
    key_space: u64,
}

impl Reference {
    fn end(&self, i: usize) -> u64 {
        self.ranges.get(i + 1).map_or(self.key_space, |r| r.0)
    }
    fn nodes(&self) -> Vec<usize> {
        let mut v: Vec<usize> = self.ranges.iter().map(|r| r.1).collect();
        v.sort_unstable();
        v.dedup();
        v
    }
    fn add(&mut self, node: usize) -> bool {
        let mut best = 0;
        for i in 0..self.ranges.len() {
            if self.end(i) - self.ranges[i].0 > self.end(best) - self.ranges[best].0 {
                best = i;
            }
        }
        let (start, end) = (self.ranges[best].0, self.end(best));
        if end - start < 2 {
            return false;
        }
        self.ranges
            .insert(best + 1, (start + (end - start) / 2, node));
        true
    }
    fn coalesce(&mut self) {
        self.ranges.dedup_by(|b, a| a.1 == b.1);
    }
    fn remove(&mut self, node: usize) {
        self.coalesce();
        for i in 0..self.ranges.len() {
            if self.ranges[i].1 == node {
                let heir = if i > 0 {
                    self.ranges[i - 1].1
                } else {
                    self.ranges[i + 1].1
                };
                self.ranges[i].1 = heir;
            }
        }
        self.coalesce();
    }
    fn owner(&self, key: u64) -> usize {
        let i = self
            .ranges
            .partition_point(|r| r.0 <= key)
            .saturating_sub(1);
        self.ranges[i].1
    }
}

#[test]
fn range_partition_matches_the_sorted_vec_it_replaced() -> Result<()> {
    for seed in 0..20u64 {
        let mut rng = thinkdist::sim::rng::stream(seed, 1, 0, 0);
        let key_space = 1_000 + seed * 37;
        let start: Vec<usize> = (0..3).collect();
        let mut p = RangePartition::new(&start, key_space)?;
        let mut r = Reference {
            ranges: p.ranges().iter().map(|&(s, _, n)| (s, n)).collect(),
            key_space,
        };
        let mut next = 3;
        for _ in 0..300 {
            let members = r.nodes();
            match rng.random_range(0..3) {
                0 | 1 => {
                    let ok = r.add(next);
                    assert_eq!(p.add_node(next).is_ok(), ok, "seed {seed}: join {next}");
                    next += 1;
                }
                _ if members.len() > 1 => {
                    let gone = members[rng.random_range(0..members.len())];
                    r.remove(gone);
                    p.remove_node(gone)?;
                }
                _ => {}
            }
            let got: Vec<(u64, usize)> = p.ranges().iter().map(|&(s, _, n)| (s, n)).collect();
            assert_eq!(got, r.ranges, "seed {seed}");
            assert_eq!(p.nodes(), r.nodes());
            for _ in 0..20 {
                let k = rng.random_range(0..key_space + 10);
                assert_eq!(p.node_for(k), r.owner(k), "seed {seed}, key {k}");
            }
        }
    }
    Ok(())
}

#[test]
fn consistent_hash_joined_one_by_one_equals_one_built_at_once() -> Result<()> {
    let all: Vec<usize> = (0..60).collect();
    let at_once = ConsistentHash::new(&all, 20, 9)?;
    let mut one_by_one = ConsistentHash::new(&all[..1], 20, 9)?;
    for &n in &all[1..] {
        one_by_one.add_node(n)?;
    }
    // Leaving and rejoining restores the same ring.
    one_by_one.remove_node(17)?;
    assert!(!one_by_one.nodes().contains(&17));
    one_by_one.add_node(17)?;
    assert_eq!(at_once.shares(), one_by_one.shares());
    for key in 0..5_000u64 {
        assert_eq!(at_once.node_for(key), one_by_one.node_for(key));
        assert_eq!(at_once.successors(key, 3), one_by_one.successors(key, 3));
    }
    let s: f64 = at_once.shares().iter().sum();
    assert!((s - 1.0).abs() < 1e-9);
    Ok(())
}
