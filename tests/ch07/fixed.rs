//! Chapter 7, many fixed partitions per node against the ring: whole
//! partitions move, only to the newcomer, ⌊P/(n+1)⌋/P of the keys; the
//! busiest node against whole equal partitions; and the notebook's figures.

use thinkdist::ch07::fixed::*;
use thinkdist::ch07::moved::moved_with;
use thinkdist::partition::{FixedPartitions, NodeName, Partitioner};
use thinkdist::prelude::*;

/// Pieces per node of the notebook's cell.
pub const PER_NODE: [usize; 7] = [2, 4, 8, 16, 32, 64, 128];

#[test]
fn a_join_takes_whole_partitions_from_the_fullest_and_a_leave_gives_them_back() -> Result<()> {
    let mut p = FixedPartitions::new(&[0, 1, 2], 10, 1)?;
    assert_eq!(p.partitions_per_node(), vec![4, 3, 3]);
    // Node 3 wants ⌊10/4⌋ = 2: one from node 0 (4), then from node 0 again
    // (ties go to the lowest name).
    p.add_node(3)?;
    assert_eq!(p.partitions_per_node(), vec![2, 3, 3, 2]);
    p.add_node(9)?;
    assert_eq!(p.partitions_per_node(), vec![2, 2, 2, 2, 2]);
    // Node 1's two partitions go to the fewest: node 0, then node 2.
    p.remove_node(1)?;
    assert_eq!(p.partitions_per_node(), vec![3, 3, 2, 2]);
    let e = FixedPartitions::new(&[0, 1, 2], 2, 1).expect_err("fewer partitions than nodes");
    assert!(e.message().contains("partitions"), "{}", e.message());
    let mut q = FixedPartitions::new(&[0, 1], 2, 1)?;
    let e = q.add_node(2).expect_err("more nodes than partitions");
    assert!(e.message().contains("more partitions"), "{}", e.message());
    Ok(())
}

#[test]
fn moved_keys_and_the_busiest_node_match_whole_partition_theory() -> Result<()> {
    let p = FixedParams::default();
    let (fixed, ring) = fixed_vs_ring(&p, &PER_NODE)?;
    // One node's keys: Binomial(K, q/P), relative sd about √((n+1)/K).
    let sd = ((p.nodes + 1) as f64 / p.keys as f64).sqrt();
    for q in &fixed {
        assert!(q.only_to_newcomer, "{q:?}");
        assert!(super::within_4se(&q.moved, q.moved_theory), "{q:?}");
        // The busiest node's keys are at least those of the node with the
        // most partitions (mean: the theory), and the max of n + 1 counts
        // lies within 4 sd above it.
        let t = q.busiest_theory.expect("fixed has a theory");
        assert!(
            q.busiest.mean >= t - 4.0 * q.busiest.sd / (q.busiest.n as f64).sqrt(),
            "{q:?}"
        );
        assert!(q.busiest.mean <= t + 4.0 * sd, "{q:?}");
    }
    for q in &ring {
        assert!(q.only_to_newcomer, "{q:?}");
        assert!(super::within_4se(&q.moved, q.moved_theory), "{q:?}");
    }
    Ok(())
}

/// A broken rebalance: after a join, deal every partition round robin
/// again (modulo over partitions). The moved-keys check catches it.
struct Redeal {
    parts: usize,
    nodes: Vec<NodeName>,
    seed: u64,
}

impl Partitioner for Redeal {
    fn name(&self) -> String {
        "redeal".into()
    }
    fn node_for(&self, key: u64) -> NodeName {
        let part = thinkdist::partition::hash_key(key, self.seed) as usize % self.parts;
        self.nodes[part % self.nodes.len()]
    }
    fn nodes(&self) -> Vec<NodeName> {
        self.nodes.clone()
    }
    fn add_node(&mut self, n: NodeName) -> Result<()> {
        self.nodes.push(n);
        Ok(())
    }
    fn remove_node(&mut self, n: NodeName) -> Result<()> {
        self.nodes.retain(|&m| m != n);
        Ok(())
    }
}

#[test]
fn a_rebalance_that_redeals_all_partitions_fails_the_check() -> Result<()> {
    let nodes: Vec<NodeName> = (0..10).collect();
    let good = moved_with(
        Box::new(FixedPartitions::new(&nodes, 160, 1)?),
        10,
        true,
        100_000,
    )?;
    assert!(good.only_to_changed && good.fraction < 0.1, "{good:?}");
    let bad = Redeal {
        parts: 160,
        nodes,
        seed: 1,
    };
    let m = moved_with(Box::new(bad), 10, true, 100_000)?;
    assert!(!m.only_to_changed && m.fraction > 0.5, "{m:?}");
    Ok(())
}

/// The notebook's paragraph quotes the table of the notebook's parameters.
#[test]
fn fixed_prose_quotes_the_table() -> Result<()> {
    let (fixed, ring) = fixed_vs_ring(&FixedParams::default(), &PER_NODE)?;
    let nb = "07-partitioning";
    let f3 = |x: f64| format!("{x:.3}");
    let (f2, f128) = (&fixed[0], &fixed[6]);
    let (r2, r128) = (&ring[0], &ring[6]);
    crate::prose::says(nb, &format!("with 2 partitions per node (P = 20) the newcomer gets one partition: {} of the keys move (theory {})", f3(f2.moved.mean), f3(f2.moved_theory)));
    crate::prose::says(
        nb,
        &format!(
            "at P = 1280, {} (theory {})",
            f3(f128.moved.mean),
            f3(f128.moved_theory)
        ),
    );
    crate::prose::says(nb, &format!("the busiest node carries {} × the mean at P = 20 (theory {}) and {} at P = 1280 (theory {})", f3(f2.busiest.mean), f3(f2.busiest_theory.unwrap_or(0.0)), f3(f128.busiest.mean), f3(f128.busiest_theory.unwrap_or(0.0))));
    crate::prose::says(
        nb,
        &format!(
            "ring with as many points per node has {} at V = 2 and {} at V = 128",
            f3(r2.busiest.mean),
            f3(r128.busiest.mean)
        ),
    );
    // Try this: 30 nodes.
    let (f30, _) = fixed_vs_ring(
        &FixedParams {
            nodes: 30,
            ..FixedParams::default()
        },
        &[2, 128],
    )?;
    crate::prose::says(nb, &format!("(P = 60) the 31st node gets one: {} of the keys move, about half its fair share 1/31 = {}", f3(f30[0].moved.mean), f3(1.0 / 31.0)));
    crate::prose::says(nb, &format!("At P = 3840 the partitions are dealt within 0.1 % (theory {}), yet the busiest node carries {} × the mean", f3(f30[1].busiest_theory.unwrap_or(0.0)), f3(f30[1].busiest.mean)));
    crate::prose::says(
        nb,
        &format!(
            "its moved fraction scatters (± {} at V = 2, ± {} at V = 128)",
            f3(r2.moved.half_width),
            f3(r128.moved.half_width)
        ),
    );
    Ok(())
}
