//! Chapter 7, dynamic splitting by size: ranges never exceed the threshold
//! and cover the keys they hold; keys in order give exactly the predicted
//! number of ranges and one node takes every write; random keys fill ranges
//! to about ln 2 and spread the writes; the notebook's figures.

use thinkdist::ch07::splitting::*;
use thinkdist::partition::splitting::SplittingRanges;
use thinkdist::prelude::*;

/// Every range holds at most `max_keys` keys, and every key the node of
/// its range; the ranges start at 0 in increasing order.
fn check(s: &SplittingRanges, inserted: &[u64]) {
    let r = s.ranges();
    assert_eq!(r[0].0, 0);
    assert!(r.windows(2).all(|w| w[0].0 < w[1].0));
    assert!(r.iter().all(|&(_, n, _)| n <= s.max_keys()), "{r:?}");
    let mut distinct = inserted.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(s.keys(), distinct.len());
    for &k in inserted {
        let i = r.partition_point(|&(start, _, _)| start <= k) - 1;
        assert_eq!(s.node_for(k), r[i].2, "key {k}");
    }
}

#[test]
fn a_range_splits_at_its_median_and_the_upper_half_goes_to_the_emptiest_node() -> Result<()> {
    let mut s = SplittingRanges::new(&[0, 1, 2], 4)?;
    for k in [10, 20, 30, 40] {
        assert_eq!(s.insert(k).split, None);
    }
    // The fifth key overflows: split at the median 30; node 1 (0 ranges).
    let i = s.insert(50);
    assert_eq!(i.node, 0);
    assert_eq!(i.split, Some((30, 1)));
    assert_eq!(s.ranges(), vec![(0, 2, 0), (30, 3, 1)]);
    assert_eq!(s.node_for(29), 0);
    assert_eq!(s.node_for(31), 1);
    s.insert(50); // again: nothing changes
    assert_eq!(s.keys(), 5);
    check(&s, &[10, 20, 30, 40, 50]);
    assert!(SplittingRanges::new(&[], 4).is_err());
    assert!(SplittingRanges::new(&[0], 1).is_err());
    Ok(())
}

#[test]
fn ranges_stay_within_the_threshold_and_cover_their_keys() -> Result<()> {
    let mut rng = thinkdist::sim::rng::stream(5, 4, 0, 0);
    let keys: Vec<u64> = (0..5_000).map(|_| rng.next_u64() % 20_000).collect();
    let mut s = SplittingRanges::new(&[0, 1, 2, 3], 50)?;
    for &k in &keys {
        s.insert(k);
    }
    check(&s, &keys);
    Ok(())
}

#[test]
fn keys_in_order_split_exactly_as_predicted_and_load_one_node() -> Result<()> {
    let p = SplittingParams::default();
    let r = split_by_size(&p)?;
    for q in &r.sequential {
        assert_eq!(q.partitions.mean, q.partitions_theory, "{q:?}");
        // One node takes every write but across a split: a window of 20
        // holds at most one split (one every 500 keys), so the busiest
        // node takes at least half of every window and all of most.
        assert!(q.busiest_share.mean >= 0.9, "{q:?}");
    }
    // Brute force for small thresholds: count ranges after each insert.
    for s in [2, 3, 7, 10] {
        let mut ranges = SplittingRanges::new(&[0, 1], s)?;
        for n in 1..=200u64 {
            ranges.insert(n - 1);
            assert_eq!(
                ranges.partitions() as u64,
                sequential_partitions(n, s),
                "S = {s}, N = {n}"
            );
        }
    }
    Ok(())
}

#[test]
fn the_busiest_of_n_by_chance_matches_enumeration() {
    // All n^w ways to send w writes to n nodes, for small n and w.
    for (n, w) in [(2usize, 2u64), (3, 3), (3, 5), (4, 4), (10, 3)] {
        let total = (n as u64).pow(w as u32);
        let mut sum = 0u64;
        for code in 0..total {
            let mut c = vec![0u64; n];
            let mut x = code;
            for _ in 0..w {
                c[(x % n as u64) as usize] += 1;
                x /= n as u64;
            }
            sum += c.iter().max().copied().unwrap_or(0);
        }
        let exact = sum as f64 / total as f64 / w as f64;
        assert!(
            (even_busiest_share(n, w) - exact).abs() < 1e-12,
            "n = {n}, w = {w}"
        );
    }
    assert_eq!(even_busiest_share(1, 100), 1.0);
}

#[test]
fn random_keys_stay_between_half_and_full_and_spread_the_writes() -> Result<()> {
    let p = SplittingParams::default();
    let r = split_by_size(&p)?;
    let s = p.max_keys as f64;
    for q in &r.random {
        // Every range holds between S/2 and S keys once the first split
        // happened: N/S <= ranges <= 2N/S (+1 for the range still growing).
        let n = q.keys as f64;
        assert!(
            q.partitions.mean >= n / s && q.partitions.mean <= 2.0 * n / s + 1.0,
            "{q:?}"
        );
        assert!(q.fill.mean >= 0.5 && q.fill.mean <= 1.0, "{q:?}");
    }
    // With 12 or 13 ranges per node at the end, the busiest node of a
    // window of 20 writes is about as busy as if writes went to uniformly
    // random nodes (ranges differ in size up to 2x: a little more).
    let last = r.random.last().expect("steps");
    assert!(
        last.busiest_share.mean
            >= last.busiest_theory
                - 4.0 * last.busiest_share.sd / (last.busiest_share.n as f64).sqrt(),
        "{last:?}"
    );
    assert!(
        last.busiest_share.mean < last.busiest_theory + 0.03,
        "{last:?}"
    );
    // Small ranges split out of step quickly: after 10,000 generations'
    // worth of keys the fill is Yao's ln 2 (within 0.02: the finite-S
    // correction and the last generation's swing).
    let small = split_by_size(&SplittingParams {
        max_keys: 10,
        seeds: 4,
        ..p
    })?;
    let f = small.random.last().expect("steps").fill.mean;
    assert!((f - std::f64::consts::LN_2).abs() < 0.02, "fill {f}");
    Ok(())
}

#[test]
fn splitting_same_seed_same_result_and_bad_input_is_an_error() -> Result<()> {
    let p = SplittingParams {
        keys: 5_000,
        max_keys: 100,
        seeds: 3,
        ..SplittingParams::default()
    };
    let a = serde_json::to_string(&split_by_size(&p)?).expect("json");
    assert_eq!(a, serde_json::to_string(&split_by_size(&p)?).expect("json"));
    let d = SplittingParams::default;
    for (bad, word) in [
        (SplittingParams { nodes: 0, ..d() }, "nodes"),
        (SplittingParams { max_keys: 1, ..d() }, "max_keys"),
        (SplittingParams { steps: 1, ..d() }, "steps"),
        (
            SplittingParams {
                keys: 5,
                steps: 10,
                ..d()
            },
            "steps",
        ),
        (SplittingParams { seeds: 1, ..d() }, "seeds"),
        (SplittingParams { window: 0, ..d() }, "window"),
        (
            SplittingParams {
                window: 6_000,
                ..d()
            },
            "window",
        ),
    ] {
        let e = split_by_size(&bad).expect_err("bad input");
        assert!(e.message().contains(word), "{}", e.message());
    }
    Ok(())
}

/// The notebook's paragraph quotes the table of the notebook's parameters
/// (seed 1, 10 nodes) and its "Try this".
#[test]
fn splitting_prose_quotes_the_table() -> Result<()> {
    let nb = "07-partitioning";
    let p = SplittingParams::default();
    let r = split_by_size(&p)?;
    let at = |v: &[SplitPoint], n: u64| v.iter().find(|q| q.keys == n).expect("a step").clone();
    let (s10, s100) = (at(&r.sequential, 10_000), at(&r.sequential, 100_000));
    crate::prose::says(nb, &format!("{} ranges at 10,000 keys, {} at 100,000, all but the last half full (fill {:.3}), and the busiest node takes {:.1} % of every window of 20 writes", s10.partitions.mean, s100.partitions.mean, s100.fill.mean, 100.0 * s100.busiest_share.mean));
    let ranges = |n: u64| at(&r.random, n).partitions.mean;
    crate::prose::says(
        nb,
        &format!(
            "({} at 10,000 keys, {} at 20,000, {} at 40,000, {} at 80,000 to 100,000)",
            ranges(10_000),
            ranges(20_000),
            ranges(40_000),
            ranges(80_000)
        ),
    );
    assert_eq!(ranges(90_000), ranges(80_000));
    assert_eq!(ranges(100_000), ranges(80_000));
    let last = at(&r.random, 100_000);
    crate::prose::says(nb, &format!("({:.3} at 100,000)", last.fill.mean));
    crate::prose::says(nb, &format!("the busiest node takes {:.1} % of a window of 20 (theory for writes sent to nodes at random: {:.1} %; the fair share is 10 %", 100.0 * last.busiest_share.mean, 100.0 * last.busiest_theory));
    let small = split_by_size(&SplittingParams { max_keys: 10, ..p })?;
    let s = small.random.last().expect("steps");
    crate::prose::says(
        nb,
        &format!(
            "({} ranges at 100,000 keys) and the fill settles at {:.3}",
            crate::prose::thousands(s.partitions.mean.round() as usize),
            s.fill.mean
        ),
    );
    assert!(s.fill.mean > std::f64::consts::LN_2);
    Ok(())
}
