//! Right values at the edges (issue 17 §3–4): quantiles past the table,
//! sums that used to overflow, rates too small to compute with, thread
//! counts no machine has. Each case failed (a wrong value or a panic)
//! before its fix.

use thinkdist::measure::stats::{mean_ci, t975};
use thinkdist::measure::theory;
use thinkdist::prelude::*;
use thinkdist::sim::sweep::Sweep;

#[test]
fn student_t_past_thirty_degrees_of_freedom_matches_published_quantiles() {
    // 97.5 % quantiles of Student's t (Abramowitz & Stegun table 26.10;
    // NIST/SEMATECH e-Handbook 1.3.6.7.2), to the 6 digits they give.
    for (df, t) in [
        (31, 2.039513),
        (40, 2.021075),
        (60, 2.000298),
        (100, 1.983972),
        (120, 1.979930),
        (1000, 1.962339),
    ] {
        assert!(
            (t975(df) - t).abs() < 2e-6,
            "t975({df}) = {}, published {t}",
            t975(df)
        );
    }
    // The table and the expansion meet without a jump, and shrink towards z.
    assert!(t975(30) > t975(31) && t975(31) - t975(30) > -0.004);
    assert!((t975(1_000_000) - 1.959964).abs() < 1e-5);
}

#[test]
fn huge_values_keep_a_finite_mean_and_availability() -> Result<()> {
    let ci = mean_ci(&[1e308, 1e308])?;
    assert_eq!(ci.mean, 1e308);
    assert_eq!(ci.sd, 0.0);
    let ci = mean_ci(&[1e308, -1e308, 1e308, -1e308])?;
    assert_eq!(ci.mean, 0.0);
    assert!(ci.sd.is_finite() && ci.sd > 1e308);
    let a = theory::availability_from_mttf_mttr(f64::MAX, 1e300)?;
    assert!(a > 0.999_999 && a <= 1.0, "{a}");
    Ok(())
}

#[test]
fn rates_too_small_to_compute_with_are_refused() {
    let tiny = 1e-320; // subnormal
    assert!(theory::mmc(tiny, tiny, 2).is_err());
    assert!(theory::mm1(tiny, 2.0 * tiny).is_err());
    // The smallest normal rates still work and give the textbook answer.
    let q = theory::mm1(1e-300, 2e-300).expect("normal rates");
    assert!((q.l - 1.0).abs() < 1e-12, "L = ρ/(1-ρ) = 1, got {}", q.l);
}

#[test]
fn counts_and_balances_near_the_integer_limits_do_not_overflow() -> Result<()> {
    let (cv, max_over_mean) = thinkdist::ch07::spread::count_spread(&[u64::MAX, u64::MAX]);
    assert_eq!((cv, max_over_mean), (0.0, 1.0));
    // A bank's disk with balances at i64::MAX: the checks sum without
    // overflow (the sum wrapped, or panicked in a debug build), and money
    // is conserved.
    let store = thinkdist::txn::logging::Store::new(3, i64::MAX)?;
    let empty = thinkdist::sim::History::default();
    let verdicts = thinkdist::txn::logging::check_store(&store, i64::MAX, &empty)?;
    assert!(verdicts.iter().all(|v| v.holds), "{verdicts:?}");
    Ok(())
}

#[test]
fn more_threads_than_any_machine_has_are_not_all_started() -> Result<()> {
    // 1,000 jobs: without the cap, 1,000 threads (and 100,000 would fail
    // to spawn and panic).
    let points: Vec<u64> = (0..1_000).collect();
    let out = Sweep::new(points.clone())
        .seed_list(vec![7])
        .threads(100_000)
        .progress(false)
        .run(|&p, s| Ok(p * 10 + s))?;
    let values: Vec<u64> = out.iter().map(|r| r.values[0]).collect();
    let want: Vec<u64> = points.iter().map(|p| p * 10 + 7).collect();
    assert_eq!(values, want);
    Ok(())
}

#[test]
fn the_round_trip_cdf_stays_a_probability_far_in_the_tail() {
    // Default: exponential network (mean 5 ms each way) and processing
    // (3 ms). NaN from about 5,400 ms before the tail was computed stably.
    let p = thinkdist::ch01::ClientServer::default();
    let mut last = 0.0;
    for t in [1.0, 10.0, 100.0, 1_000.0, 5_400.0, 10_000.0, 1e6] {
        let f = thinkdist::ch02::correctness::round_trip_cdf(&p, t);
        assert!(f.is_finite() && (0.0..=1.0).contains(&f), "F({t}) = {f}");
        assert!(f >= last, "F is non-decreasing: F({t}) = {f} < {last}");
        last = f;
    }
    assert_eq!(last, 1.0);
}
