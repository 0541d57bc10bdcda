//! Chapter 7: partitioners and their theory.
//!
//! Tolerances: every statistical check compares a mean over independent
//! replications (hash seeds: each seed is an independent placement) with
//! its theory within 4 standard errors, sd / √seeds of the replications (a
//! false failure about once in 16,000 checks for a normal mean).

use thinkdist::ch07::hotspots::{
    expected_shares, hot_key_replicas, hot_vs_skew, range_splits, zipf_probabilities, HotParams,
};
use thinkdist::ch07::moved::{moved_once, moved_vs_nodes, MovedParams};
use thinkdist::ch07::spread::{count_cv2_theory, spread_point, spread_vs_vnodes, SpreadParams};
use thinkdist::partition::consistent::share_cv_theory;
use thinkdist::partition::jump::jump_bucket;
use thinkdist::partition::*;
use thinkdist::prelude::*;

mod prose;

/// True if `theory` lies within 4 standard errors of the replications' mean.
fn within_4se(m: &MeanCi, theory: f64) -> bool {
    (m.mean - theory).abs() <= 4.0 * m.sd / (m.n as f64).sqrt()
}

// ---------- the partitioners ----------

fn all(nodes: &[usize], seed: u64) -> Vec<Box<dyn Partitioner>> {
    [
        Scheme::Modulo,
        Scheme::Consistent { vnodes: 50 },
        Scheme::Rendezvous,
        Scheme::Jump,
        Scheme::Range { key_space: 10_000 },
    ]
    .iter()
    .map(|s| s.build(nodes, seed).expect("valid"))
    .collect()
}

#[test]
fn bad_input_is_an_error_that_says_what_to_change() {
    for s in [
        Scheme::Modulo,
        Scheme::Consistent { vnodes: 10 },
        Scheme::Rendezvous,
        Scheme::Jump,
        Scheme::Range { key_space: 100 },
    ] {
        let e = s.build(&[], 1).err().expect("0 nodes refused");
        assert!(e.message().contains("at least one node"), "{}", e.message());
        assert!(s.build(&[1, 1], 1).is_err(), "duplicate names refused");
        let mut p = s.build(&[0, 1], 1).expect("valid");
        let e = p.remove_node(7).expect_err("unknown node");
        assert!(e.message().contains("member"), "{}", e.message());
        assert!(p.add_node(1).is_err(), "already a member");
        p.remove_node(1).expect("a member");
        let e = p.remove_node(0).expect_err("the last node");
        assert!(e.message().contains("at least one node"), "{}", e.message());
    }
    let e = ConsistentHash::new(&[0, 1], 0, 1).expect_err("0 vnodes");
    assert!(e.message().contains("vnodes"));
    assert!(ConsistentHash::new(&[0, 1], 10_000_000, 1).is_err());
    let mut j = JumpHash::new(&[0, 1, 2], 1).expect("valid");
    let e = j
        .remove_node(0)
        .expect_err("only the last bucket can leave");
    assert!(
        e.message().contains("last node added (2)"),
        "{}",
        e.message()
    );
    assert!(RangePartition::new(&[0, 1, 2], 2).is_err());
    let mut r = RangePartition::new(&[0, 1], 100).expect("valid");
    assert!(r.split(50, 0).is_err(), "50 is already a boundary");
    assert!(r.split(100, 0).is_err(), "past the key space");
    assert!(r.split(10, 9).is_err(), "not a member");
    r.split(10, 1).expect("inside a range");
    assert_eq!(r.ranges(), vec![(0, 10, 0), (10, 50, 1), (50, 100, 1)]);
}

#[test]
fn every_key_goes_to_a_member_and_placement_is_deterministic() {
    let a = all(&[3, 5, 8, 13], 9);
    let b = all(&[3, 5, 8, 13], 9);
    for (p, q) in a.iter().zip(&b) {
        assert_eq!(p.nodes(), vec![3, 5, 8, 13]);
        for k in 0..2_000 {
            let n = p.node_for(k);
            assert!([3, 5, 8, 13].contains(&n), "{}: key {k} on {n}", p.name());
            assert_eq!(n, q.node_for(k));
        }
    }
}

#[test]
fn jump_moves_a_key_only_to_the_new_bucket() {
    for k in 0..5_000u64 {
        let h = hash_key(k, 3);
        for n in 1..40 {
            let (a, b) = (jump_bucket(h, n), jump_bucket(h, n + 1));
            assert!(a < n && (b == a || b == n), "key {k}: {a} -> {b} at n={n}");
        }
    }
}

#[test]
fn a_ring_of_one_point_owns_everything_and_shares_sum_to_one() {
    let r = ConsistentHash::new(&[4], 1, 1).expect("valid");
    assert!((r.shares()[0] - 1.0).abs() < 1e-12);
    let r = ConsistentHash::new(&[0, 1, 2, 3], 30, 1).expect("valid");
    assert!((r.shares().iter().sum::<f64>() - 1.0).abs() < 1e-9);
    assert_eq!(r.successors(5, 3).len(), 3);
    assert_eq!(r.successors(5, 9).len(), 4, "at most the number of nodes");
    assert_eq!(r.successors(5, 1)[0], r.node_for(5));
}

#[test]
fn ring_shares_have_the_beta_variance() {
    // A node's exact share is Beta(V, nV-V): E[(n·share - 1)^2] = (n-1)/(nV+1).
    for (n, v) in [(10usize, 1usize), (10, 10), (5, 100)] {
        let mut xs = Vec::new();
        for seed in 0..200 {
            let r = ConsistentHash::new(&(0..n).collect::<Vec<_>>(), v, seed).expect("valid");
            for s in r.shares() {
                xs.push((n as f64 * s - 1.0).powi(2));
            }
        }
        // Shares of one ring are dependent; average per ring for independent replications.
        let per_ring: Vec<f64> = xs
            .chunks(n)
            .map(|c| c.iter().sum::<f64>() / n as f64)
            .collect();
        let m = mean_ci(&per_ring).expect("replications");
        let t = share_cv_theory(n, v).expect("valid").powi(2);
        assert!(within_4se(&m, t), "n={n} V={v}: {m:?} vs {t}");
    }
}

// ---------- load spread ----------

#[test]
fn spread_against_vnodes_matches_theory() -> Result<()> {
    let p = SpreadParams {
        seeds: 40,
        keys: 50_000,
        ..SpreadParams::default()
    };
    let s = spread_vs_vnodes(&p, &[1, 10, 100, 1000])?;
    for pt in s.consistent.iter().chain(&s.others) {
        assert!(
            within_4se(&pt.cv2, pt.cv2_theory),
            "{}: {:?} vs {}",
            pt.scheme.label(),
            pt.cv2,
            pt.cv2_theory
        );
    }
    // More virtual nodes, a smaller spread: 1 → 1000 divides it by about √1000.
    assert!(s.consistent[0].cv() > 10.0 * s.consistent[3].cv() / 2.0);
    Ok(())
}

#[test]
fn a_broken_ring_fails_the_spread_check() -> Result<()> {
    // Theory for 100 vnodes does not describe a ring of 1: the check fails.
    let p = SpreadParams::default();
    let one = spread_point(&p, Scheme::Consistent { vnodes: 1 })?;
    assert!(!within_4se(
        &one.cv2,
        count_cv2_theory(p.nodes, Some(100), p.keys)?
    ));
    Ok(())
}

// ---------- moved keys ----------

#[test]
fn moved_keys_match_theory() -> Result<()> {
    let p = MovedParams {
        seeds: 12,
        keys: 40_000,
        ..MovedParams::default()
    };
    for pt in moved_vs_nodes(&p, &[3, 10, 30])? {
        let label = pt.scheme.label();
        if let Scheme::Range { .. } = pt.scheme {
            // Deterministic: half of the widest range (up to rounding to whole keys).
            assert!(
                (pt.join.mean - pt.join_theory).abs() < 2.0 / p.keys as f64,
                "{label}"
            );
            assert!(
                (pt.leave.mean - pt.leave_theory).abs() < 2.0 / p.keys as f64,
                "{label}"
            );
        } else {
            assert!(
                within_4se(&pt.join, pt.join_theory),
                "{label} n={}: {:?}",
                pt.nodes,
                pt.join
            );
            assert!(
                within_4se(&pt.leave, pt.leave_theory),
                "{label} n={}: {:?}",
                pt.nodes,
                pt.leave
            );
        }
        // Consistent schemes move keys only to the joiner / from the leaver;
        // modulo hashing, the broken one, moves them between old nodes too.
        assert_eq!(
            pt.only_to_changed,
            !matches!(pt.scheme, Scheme::Modulo),
            "{label}"
        );
    }
    Ok(())
}

#[test]
fn moved_once_rejects_a_bad_change() {
    assert!(moved_once(Scheme::Jump, &[0, 1, 2], 0, false, 100, 1).is_err());
    assert!(moved_once(Scheme::Rendezvous, &[0, 1], 1, true, 100, 1).is_err());
    assert!(moved_vs_nodes(&MovedParams::default(), &[1]).is_err());
}

// ---------- hot spots ----------

#[test]
fn zipf_theory_by_hand() -> Result<()> {
    let p = zipf_probabilities(3, 1.0)?;
    // 1, 1/2, 1/3 over 11/6.
    assert!((p[0] - 6.0 / 11.0).abs() < 1e-12 && (p[2] - 2.0 / 11.0).abs() < 1e-12);
    let s = expected_shares(&p, &[vec![0], vec![0, 1], vec![1]], 2);
    assert!((s[0] - (6.0 / 11.0 + 1.5 / 11.0)).abs() < 1e-12);
    assert!(zipf_probabilities(3, f64::NAN).is_err());
    Ok(())
}

#[test]
fn hot_spots_match_theory_from_key_probabilities() -> Result<()> {
    let p = HotParams::default();
    let (hash, range) = hot_vs_skew(&p, &[0.0, 0.8, 1.2])?;
    for pt in hash.iter().chain(&range) {
        assert!(
            within_4se(&pt.hot_error, 0.0),
            "s={}: {:?}",
            pt.x,
            pt.hot_error
        );
        assert!(pt.theory >= pt.floor - 1e-9);
    }
    // Uniform keys on equal ranges: perfectly even in theory.
    assert!((range[0].theory - 1.0).abs() < 1e-9);
    // Skewed keys: the range holding the popular keys is far hotter than hashing.
    assert!(range[2].theory > 2.0 * hash[2].theory);
    // Replicating the hottest key lowers the hot spot; splitting ranges too.
    let reps = hot_key_replicas(&p, 1.2, &[1, 2, 5])?;
    assert!(reps[2].theory < reps[0].theory);
    for pt in &reps {
        assert!(
            within_4se(&pt.hot_error, 0.0),
            "r={}: {:?}",
            pt.x,
            pt.hot_error
        );
    }
    let splits = range_splits(&p, 1.2, 20)?;
    let last = splits.last().expect("points");
    assert!(last.theory < splits[0].theory / 2.0);
    for pt in &splits {
        assert!(
            within_4se(&pt.hot_error, 0.0),
            "split {}: {:?}",
            pt.x,
            pt.hot_error
        );
    }
    Ok(())
}

// ---------- rebalancing in the simulator ----------

#[path = "ch07/rebalancing.rs"]
mod rebalancing;

// ---------- what a lecturer adds ----------

#[path = "ch07/bounded.rs"]
mod bounded;
#[path = "ch07/fixed.rs"]
mod fixed;
#[path = "ch07/migration.rs"]
mod migration;
#[path = "ch07/secondary.rs"]
mod secondary;
#[path = "ch07/splitting.rs"]
mod splitting;

/// The placement table's paragraph in notebook 07 (seed 1, 4 nodes + node
/// 4, 10 keys) says how many keys each scheme moves, and that the
/// consistent schemes move them only to the newcomer.
#[test]
fn placement_prose_quotes_the_table() -> Result<()> {
    use thinkdist::ch07::placement_table;
    let schemes = [
        Scheme::Modulo,
        Scheme::Consistent { vnodes: 100 },
        Scheme::Rendezvous,
        Scheme::Jump,
        Scheme::Range { key_space: 10 },
    ];
    let t = placement_table(&schemes, 4, 10, 1)?;
    // Per column: the keys that moved ("a → b"), and where to.
    let moved = |col: usize| -> Vec<(usize, String)> {
        t.rows()
            .iter()
            .enumerate()
            .filter_map(|(k, r)| r[col].split_once(" → ").map(|(_, to)| (k, to.to_string())))
            .collect()
    };
    let keys = |v: &[(usize, String)]| {
        let k: Vec<String> = v.iter().map(|(k, _)| k.to_string()).collect();
        match k.len() {
            1 => format!("key {}", k[0]),
            _ => format!("keys {}", k.join(" and ")),
        }
    };
    let (modulo, cons, rend, jump, range) = (moved(1), moved(2), moved(3), moved(4), moved(5));
    for v in [&cons, &rend, &jump, &range] {
        assert!(v.iter().all(|(_, to)| to == "4"), "{v:?}");
    }
    let to_new: Vec<_> = modulo.iter().filter(|(_, to)| to == "4").cloned().collect();
    let nb = "07-partitioning";
    prose::says(
        nb,
        &format!(
            "modulo hashing moves {} of the 10 keys, and only {} of them ({}) to the new node",
            modulo.len(),
            prose::word(to_new.len()),
            keys(&to_new)
        ),
    );
    prose::says(
        nb,
        &format!(
        "Consistent hashing moves {} of these ten ({}), rendezvous {} ({}), jump {}, range {}: \
         each of them only to node 4",
        prose::word(cons.len()), keys(&cons), prose::word(rend.len()), keys(&rend),
        prose::word(jump.len()), prose::word(range.len())
    ),
    );
    Ok(())
}

/// Notebook 07's "Change the protocol" section: the reader's starting code
/// (copied here from the notebook's cell, and checked to be the same text)
/// is rendezvous hashing and gives exactly the crate's rendezvous results;
/// the "try this" (modulo in `node_for`) moves about n/(n+1) of the keys.
#[allow(unused_imports)] // hash_key: the "try this" uses it
mod change_the_protocol {
    use super::*;
    use thinkdist::ch07::moved::{moved_once, MovedParams};
    use thinkdist::ch07::yours::judge;

    // The reader's starting code, as notebook 07's cell has it (a file
    // of its own, which rustfmt leaves as the reader sees it).
    include!("ch07/my_hash.rs");

    struct Modulo(Vec<NodeName>, u64);
    impl Partitioner for Modulo {
        fn name(&self) -> String {
            "my hash".into()
        }
        fn node_for(&self, key: u64) -> NodeName {
            self.0[(hash_key(key, self.1) % self.0.len() as u64) as usize]
        }
        fn nodes(&self) -> Vec<NodeName> {
            self.0.clone()
        }
        fn add_node(&mut self, n: NodeName) -> Result<()> {
            self.0.push(n);
            Ok(())
        }
        fn remove_node(&mut self, n: NodeName) -> Result<()> {
            self.0.retain(|&m| m != n);
            Ok(())
        }
    }

    #[test]
    fn the_readers_starting_code_is_rendezvous_hashing() -> Result<()> {
        let p = MovedParams {
            seed: 1,
            ..Default::default()
        };
        let mine = judge(&p, 8, |nodes, seed| {
            Ok(Box::new(MyHash {
                nodes: nodes.to_vec(),
                seed,
            }))
        })?;
        let t = mine.table();
        eprintln!("{t}");
        // The crate's rendezvous hashing, seed by seed, moves the same keys.
        let names: Vec<NodeName> = (0..8).collect();
        let crate_moved: Vec<f64> = (1..=10)
            .map(|s| moved_once(Scheme::Rendezvous, &names, 8, true, p.keys, s).map(|m| m.fraction))
            .collect::<Result<_>>()?;
        let m = mean_ci(&crate_moved)?;
        assert!(
            (mine.moved.mean - m.mean).abs() < 1e-12,
            "{:?} vs {m:?}",
            mine.moved
        );
        assert_eq!(mine.only_to_newcomer, 10);
        // Within 4 standard errors of 1/(n+1) and of the exact-share spread.
        let se = |c: &MeanCi| c.sd / (c.n as f64).sqrt();
        assert!((mine.moved.mean - 1.0 / 9.0).abs() < 4.0 * se(&mine.moved));
        assert!((mine.spread.mean - mine.spread_theory).abs() < 4.0 * se(&mine.spread) + 0.002);
        // The notebook's cell is this code, word for word.
        prose::cell_is(
            "07-partitioning",
            "struct MyHash",
            include_str!("ch07/my_hash.rs"),
            "tests/ch07/my_hash.rs",
        );
        Ok(())
    }

    #[test]
    fn try_this_modulo_moves_almost_everything() -> Result<()> {
        let p = MovedParams {
            seed: 1,
            ..Default::default()
        };
        let m = judge(&p, 8, |nodes, seed| {
            Ok(Box::new(Modulo(nodes.to_vec(), seed)))
        })?;
        eprintln!("{}", m.table());
        assert!((m.moved.mean - 8.0 / 9.0).abs() < 0.01, "{:?}", m.moved);
        assert_eq!(m.only_to_newcomer, 0);
        assert!((m.spread.mean - m.spread_theory).abs() < 0.01);
        // A partitioner that places keys on nodes it does not have is refused.
        struct Off;
        impl Partitioner for Off {
            fn name(&self) -> String {
                "off".into()
            }
            fn node_for(&self, _: u64) -> NodeName {
                999
            }
            fn nodes(&self) -> Vec<NodeName> {
                vec![0, 1]
            }
            fn add_node(&mut self, _: NodeName) -> Result<()> {
                Ok(())
            }
            fn remove_node(&mut self, _: NodeName) -> Result<()> {
                Ok(())
            }
        }
        let e = judge(&p, 2, |_, _| Ok(Box::new(Off)))
            .unwrap_err()
            .to_string();
        assert!(e.contains("node_for"), "{e}");
        Ok(())
    }
}
