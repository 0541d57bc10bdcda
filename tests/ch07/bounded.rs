//! Chapter 7, bounded-load consistent hashing against the plain ring: the
//! cap is hard, the overflow is a floor for the displaced requests, the
//! plain ring's join moves 1/(n+1); and the figures the notebook quotes.

use thinkdist::ch07::bounded::*;
use thinkdist::partition::bounded::{capacity, place_bounded};
use thinkdist::partition::ConsistentHash;
use thinkdist::prelude::*;

/// The ε values of the notebook's bounded-load cell.
pub const EPS: [f64; 8] = [0.0, 0.1, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5];

fn small(seed: u64, skew: f64) -> BoundedParams {
    BoundedParams {
        seed,
        keys: 2_000,
        requests: 3_000,
        vnodes: 20,
        skew,
        ..BoundedParams::default()
    }
}

#[test]
fn no_node_ever_exceeds_the_cap_and_the_overflow_is_a_floor() -> Result<()> {
    let mut plain_over = 0;
    for seed in 1..=30u64 {
        for skew in [0.0, 1.0, 1.4] {
            for eps in [0.0, 0.05, 0.3, 1.0] {
                let p = small(seed, skew);
                let r = run_once(&p, eps, seed)?;
                assert_eq!(r.cap, capacity(p.requests, p.nodes, eps)?);
                assert!(r.bounded.iter().all(|&l| l <= r.cap), "{eps} {seed}: {r:?}");
                assert_eq!(r.bounded.iter().sum::<usize>(), p.requests);
                assert!(r.off_owner >= r.floor, "{eps} {seed}: {r:?}");
                // The check has teeth: the plain ring (no cap) breaks it.
                plain_over += usize::from(r.plain.iter().any(|&l| l > r.cap));
            }
        }
    }
    assert!(
        plain_over > 100,
        "the plain ring exceeds the cap: {plain_over} of 360"
    );
    Ok(())
}

#[test]
fn with_room_for_the_plain_maximum_bounded_loads_are_the_plain_ring() -> Result<()> {
    for seed in 1..=10u64 {
        let p = small(seed, 1.0);
        let r = run_once(&p, 0.0, seed)?;
        let max = *r.plain.iter().max().expect("nodes");
        let eps = max as f64 * p.nodes as f64 / p.requests as f64 - 1.0;
        let r = run_once(&p, eps, seed)?;
        assert!(r.cap >= max);
        assert_eq!((r.off_owner, r.floor), (0, 0));
        assert_eq!(r.bounded, r.plain);
    }
    Ok(())
}

#[test]
fn one_hot_key_spills_clockwise_and_bad_eps_is_an_error() -> Result<()> {
    let ring = ConsistentHash::new(&[0, 1, 2, 3], 10, 7)?;
    let at = place_bounded(&ring, &[5; 100], 0.0)?;
    // 25 each: the owner first, then the next nodes clockwise.
    let order: Vec<usize> = ring.successors(5, 4);
    assert!(at[..25].iter().all(|&n| n == order[0]));
    assert!(at[25..50].iter().all(|&n| n == order[1]));
    assert!(at[75..].iter().all(|&n| n == order[3]));
    for bad in [-0.1, f64::NAN, 1e9] {
        let e = place_bounded(&ring, &[1], bad).expect_err("bad ε");
        assert!(e.message().contains("slack"), "{}", e.message());
    }
    Ok(())
}

#[test]
fn the_plain_ring_moves_one_in_n_plus_one_of_the_requests() -> Result<()> {
    // The newcomer's (request-weighted) share is exchangeable with the
    // others': its expectation over ring placements is exactly 1/(n+1).
    let p = BoundedParams {
        seeds: 30,
        ..small(1, 1.0)
    };
    let pts = bounded_vs_eps(&p, &[0.5])?;
    let t = 1.0 / (p.nodes as f64 + 1.0);
    assert!(
        super::within_4se(&pts[0].moved_plain, t),
        "{:?}",
        pts[0].moved_plain
    );
    Ok(())
}

/// The notebook's bounded-load paragraph quotes the table of the notebook's
/// parameters (seed 1, the defaults, [`EPS`]).
#[test]
fn bounded_prose_quotes_the_table() -> Result<()> {
    let pts = bounded_vs_eps(&BoundedParams::default(), &EPS)?;
    let at = |e: f64| pts.iter().find(|q| q.eps == e).expect("an ε of the cell");
    let nb = "07-partitioning";
    let f2 = |x: f64| format!("{x:.2}");
    let pct = |x: f64| format!("{:.1} %", 100.0 * x);
    let (z, q, one) = (at(0.0), at(0.25), at(1.0));
    crate::prose::says(
        nb,
        &format!(
            "the plain ring's busiest node carries {} × the mean (theory {}, from",
            f2(z.plain.mean),
            f2(z.plain_theory)
        ),
    );
    crate::prose::says(
        nb,
        &format!(
            "at ε = 0.25 the busiest node carries {}",
            f2(q.bounded.mean)
        ),
    );
    crate::prose::says(
        nb,
        &format!(
            "{} of the requests leave their owner at ε = 0.25 (floor {})",
            pct(q.off_owner.mean),
            pct(q.floor.mean)
        ),
    );
    crate::prose::says(
        nb,
        &format!(
            "{} at ε = 0 (floor {})",
            pct(z.off_owner.mean),
            pct(z.floor.mean)
        ),
    );
    crate::prose::says(nb, &format!("a join moves {} of the requests at ε = 0 and {} at ε = 0.25, against {} for the plain ring", pct(z.moved_bounded.mean), pct(q.moved_bounded.mean), pct(z.moved_plain.mean)));
    crate::prose::says(
        nb,
        &format!(
            "at ε = 1 only {} leave their owner",
            pct(one.off_owner.mean)
        ),
    );
    crate::prose::says(
        nb,
        "from ε = 0.5 on the measured fraction is within 0.1 points of the overflow floor",
    );
    for q in &pts {
        assert!(q.worst_over_cap <= 1.0, "{q:?}");
        if q.eps >= 0.5 {
            assert!(q.off_owner.mean - q.floor.mean < 0.001, "{q:?}");
        }
    }
    // Try this: skew 1.4.
    let p = BoundedParams {
        skew: 1.4,
        ..BoundedParams::default()
    };
    let hot = bounded_vs_eps(&p, &[0.25])?;
    crate::prose::says(
        nb,
        &format!(
            "The plain ring's busiest node climbs to {} × the mean",
            f2(hot[0].plain.mean)
        ),
    );
    crate::prose::says(nb, &format!("bounded loads still hold exactly 1 + ε, but now {} of the requests leave their owner at ε = 0.25", pct(hot[0].off_owner.mean)));
    assert_eq!(hot[0].bounded.mean, 1.25, "exactly the cap: {hot:?}");
    let p0 = thinkdist::measure::theory::zipf_probabilities(p.keys, 1.4)?[0];
    crate::prose::says(
        nb,
        &format!(
            "key 0 alone brings {} × a node's share",
            f2(p.nodes as f64 * p0)
        ),
    );
    Ok(())
}
