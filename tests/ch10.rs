//! Chapter 10: the election-time experiment of the Raft paper (Figure 16).

use thinkdist::ch10::ElectionTimeParams;
use thinkdist::prelude::*;

fn small() -> ElectionTimeParams {
    ElectionTimeParams {
        ranges: vec![(150, 150), (150, 155), (150, 300), (12, 24)],
        trials: 200,
        ..ElectionTimeParams::default()
    }
}

#[test]
fn election_times_follow_the_papers_shape() -> Result<()> {
    let p = small();
    let t = p.run()?;
    for (i, &(lo, hi)) in t.ranges.iter().enumerate() {
        let (p50, p90, p99) = (
            t.percentile(i, 0.5),
            t.percentile(i, 0.9),
            t.percentile(i, 0.99),
        );
        println!("{lo}–{hi} ms: p50 {p50:.1}  p90 {p90:.1}  p99 {p99:.1}");
        // A follower last heard the leader at most one heartbeat (lo / 2)
        // before the crash, and waits at least lo: nobody can be elected
        // sooner than lo / 2 after the crash, plus one vote's round trip.
        let least = t.samples[i].iter().cloned().fold(f64::INFINITY, f64::min);
        assert!(least >= lo as f64 / 2.0 + 12.0, "{lo}–{hi}: {least}");
    }
    // No randomness (150–150): split votes repeat, a long tail. A wide
    // range (150–300) settles it in about one timeout: its p99 is far
    // below.
    assert!(t.percentile(0, 0.99) > 2.0 * t.percentile(2, 0.99));
    // The scaled range elects faster than the paper's 150–300 ms.
    assert!(t.percentile(3, 0.5) < t.percentile(2, 0.5));
    Ok(())
}

#[test]
fn election_times_are_deterministic_and_checked() -> Result<()> {
    let p = ElectionTimeParams {
        trials: 20,
        ..small()
    };
    assert_eq!(p.run()?.samples, p.run()?.samples);
    let bad = ElectionTimeParams {
        ranges: vec![(300, 150)],
        ..small()
    };
    assert!(bad.run().unwrap_err().to_string().contains("ranges"));
    let chart = p.run()?.chart()?;
    assert!(chart.to_svg()?.contains("150–300 ms"));
    Ok(())
}
