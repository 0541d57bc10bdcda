//! Chapter 6: two-phase commit keeps atomicity at every crash point and
//! over 10,000 explored seeds (with and without cooperative termination),
//! the broken variants fail; the blocking window with and without
//! termination; commit latency against the slowest-of-n theory.

use std::time::Instant;
use thinkdist::ch06::atomicity::{counterexample_chart, crash_table, explore_table, shrink_table};
use thinkdist::ch06::blocking::{blocking_table, Situation};
use thinkdist::ch06::latency::SlowestRoundTrip;
use thinkdist::ch06::{AtomicityParams, BlockingParams, LatencyParams};
use thinkdist::prelude::*;
use thinkdist::txn::two_phase::Variant;

#[test]
fn two_phase_commit_is_atomic_at_every_crash_point_and_the_broken_variants_are_not() -> Result<()> {
    let base = AtomicityParams::default();
    let term = AtomicityParams {
        termination: true,
        ..base.clone()
    };
    let ok = base.every_crash_point(Variant::Correct)?;
    let ok_t = term.every_crash_point(Variant::Correct)?;
    let forget = base.every_crash_point(Variant::ForgetVote)?;
    let early = base.every_crash_point(Variant::DecideBeforeLog)?;
    eprintln!(
        "{}",
        crash_table(&[
            ("correct".into(), ok.clone()),
            ("correct + termination".into(), ok_t.clone()),
            ("forget vote".into(), forget.clone()),
            ("decide before log".into(), early.clone()),
        ])
        .to_csv()
    );
    assert!(ok.points().len() > 100);
    assert_eq!(
        ok.recovered(),
        ok.points().len(),
        "{:?}",
        ok.first_failure()
    );
    assert_eq!(
        ok_t.recovered(),
        ok_t.points().len(),
        "{:?}",
        ok_t.first_failure()
    );
    // Forgetting the vote breaks atomicity at some crash of a participant.
    let f = forget
        .first_failure()
        .expect("ForgetVote fails at some point");
    assert_ne!(f.point.node, 0, "{:?}", f.point);
    // Deciding before logging breaks it at the coordinator's commit sync.
    // Deciding before logging breaks it when the coordinator crashes after
    // its first commit left and before the commit is synced: at a later
    // commit send or at the commit sync.
    early
        .first_failure()
        .expect("DecideBeforeLog fails at some point");
    assert!(early
        .points()
        .iter()
        .filter(|o| !o.recovered())
        .all(|o| o.point.node == 0 && o.point.label.starts_with("commit")));
    Ok(())
}

/// 10,000 seeds for the correct protocol, with and without termination;
/// prints the rate (seeds per second of wall clock: not a result of the
/// simulation, only of this machine).
#[test]
fn two_phase_commit_keeps_atomicity_over_10_000_explored_seeds() -> Result<()> {
    for termination in [false, true] {
        let p = AtomicityParams {
            termination,
            txns: 10,
            ..Default::default()
        };
        let t0 = Instant::now();
        let e = p.explore(Variant::Correct, 10_000)?;
        let secs = t0.elapsed().as_secs_f64();
        eprintln!(
            "termination {termination}: {} seeds in {secs:.1} s = {:.0} seeds/s",
            e.runs,
            e.runs as f64 / secs
        );
        assert_eq!(e.runs, 10_000);
        assert!(e.passed(), "{:?}", e.failures.first());
    }
    Ok(())
}

#[test]
fn exploration_catches_the_coordinator_that_decides_before_logging() -> Result<()> {
    let p = AtomicityParams {
        txns: 10,
        ..Default::default()
    };
    let e = p.explore(Variant::DecideBeforeLog, 1_000)?;
    eprintln!(
        "{}",
        explore_table(&[("decide before log".into(), e.clone())]).to_csv()
    );
    eprintln!("{}", shrink_table(&e)?.to_csv());
    assert!(e.failed() > 0);
    let cx = e.counterexample.as_ref().expect("shrunk");
    assert!(cx.plan.len() <= cx.original.len());
    assert!(cx
        .plan
        .faults()
        .iter()
        .any(|f| matches!(f, Fault::CrashAtPoint { .. })));
    let svg = counterexample_chart(&e, 80.0)?.to_svg()?;
    assert!(svg.contains("atomicity violated"));
    // The correct protocol passes the same seeds.
    assert!(p.explore(Variant::Correct, 1_000)?.passed());
    Ok(())
}

#[test]
fn termination_shortens_doubt_only_when_a_participant_knows_or_has_not_voted() -> Result<()> {
    let p = BlockingParams {
        seeds: 600,
        ..Default::default()
    };
    let a = p.run(false)?;
    let b = p.run(true)?;
    eprintln!("{}", blocking_table(&[a.clone(), b.clone()])?.to_csv());
    let stats = |r: &thinkdist::ch06::blocking::BlockingRun, s: Situation| {
        let v = r.times(Some(s));
        let m = mean_ci(&v).unwrap();
        let mut sorted = v.clone();
        sorted.sort_by(f64::total_cmp);
        (m, sorted[(0.99 * sorted.len() as f64) as usize - 1])
    };
    for s in Situation::ALL {
        let ((ma, pa), (mb, pb)) = (stats(&a, s), stats(&b, s));
        eprintln!(
            "{s:?}: (a) mean {:.1} p99 {pa:.1} n {}; (b) mean {:.1} p99 {pb:.1} n {}",
            ma.mean, ma.n, mb.mean, mb.n
        );
        assert!(ma.n > 100 && mb.n > 100, "{s:?}: too few samples");
        if s == Situation::NoneKnows {
            // Only the coordinator knows: the same wait, within 4 standard
            // errors of the difference.
            let se = (ma.sd.powi(2) / ma.n as f64 + mb.sd.powi(2) / mb.n as f64).sqrt();
            assert!((ma.mean - mb.mean).abs() < 4.0 * se, "{s:?}");
        } else {
            // A peer tells: a few asks, whatever the repair time.
            assert!(mb.mean < ma.mean / 4.0, "{s:?}");
            assert!(pb < 4.0 * p.ask_every.as_ms(), "{s:?}: p99 {pb}");
            assert!(pa > p.repair_mean.as_ms(), "{s:?}: p99 {pa}");
        }
    }
    assert!(a.doubts.iter().chain(&b.doubts).all(|d| !d.censored));
    Ok(())
}

#[test]
fn slowest_round_trip_theory_is_right_at_n_1() -> Result<()> {
    let t = SlowestRoundTrip::new(1, 5.0)?;
    assert!((t.mean() - 10.0).abs() < 1e-6, "{}", t.mean());
    for q in [0.1, 0.5, 0.99] {
        let x = t.quantile(q)?;
        assert!((t.cdf(x) - q).abs() < 1e-9);
    }
    // Max of 2: E = ∫ 1 − F² = 2·10 − E[min] ... check by the identity
    // E[max] = 2 E[X] − E[min] numerically against a direct integral.
    let t2 = SlowestRoundTrip::new(2, 5.0)?;
    assert!(t2.mean() > 10.0 && t2.mean() < 20.0);
    assert!(SlowestRoundTrip::new(0, 5.0).is_err());
    assert!(SlowestRoundTrip::new(2, f64::NAN).is_err());
    assert!(t.quantile(1.0).is_err());
    Ok(())
}

#[test]
fn commit_latency_matches_the_slowest_of_n_round_trips() -> Result<()> {
    let curve = LatencyParams::default().run()?;
    eprintln!("{}", curve.table()?.to_csv());
    for p in &curve.points {
        let n = p.samples_ms.len() as f64;
        assert!(n >= 1_900.0, "{} commits", n);
        // Mean: within 4 standard errors.
        let se = p.mean.sd / n.sqrt();
        assert!(
            (p.mean.mean - p.theory.mean()).abs() < 4.0 * se,
            "n = {}: mean {} vs {}",
            p.n,
            p.mean.mean,
            p.theory.mean()
        );
        // Quantiles: the theory CDF at the empirical q-quantile is within
        // 4 binomial standard errors sqrt(q(1−q)/N) of q.
        for (q, x) in [(0.5, p.p50), (0.99, p.p99)] {
            let tol = 4.0 * (q * (1.0 - q) / n).sqrt() + 1.0 / n;
            let f = p.theory.cdf(x);
            assert!((f - q).abs() < tol, "n = {}: F(p{q}) = {f}", p.n);
        }
    }
    // It grows with n.
    assert!(curve
        .points
        .windows(2)
        .all(|w| w[1].mean.mean > w[0].mean.mean));
    Ok(())
}

#[test]
fn chapter_6_runs_are_deterministic_and_refuse_bad_input() -> Result<()> {
    let p = BlockingParams {
        seeds: 50,
        ..Default::default()
    };
    let (x, y) = (p.run(true)?, p.run(true)?);
    assert_eq!(x.times(None), y.times(None));
    assert!(BlockingParams {
        participants: 1,
        ..p.clone()
    }
    .run(true)
    .is_err());
    assert!(BlockingParams {
        ask_every: ms(0),
        ..p.clone()
    }
    .run(true)
    .is_err());
    assert!(LatencyParams {
        participants: vec![],
        ..Default::default()
    }
    .run()
    .is_err());
    assert!(LatencyParams {
        txns: 0,
        ..Default::default()
    }
    .run()
    .is_err());
    assert!(AtomicityParams {
        participants: 0,
        ..Default::default()
    }
    .explore(Variant::Correct, 10)
    .is_err());
    assert!(AtomicityParams::default()
        .explore(Variant::Correct, 0)
        .is_err());
    Ok(())
}
