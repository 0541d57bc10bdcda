//! Metrics checked against values worked out by hand in the comments.

use rand::SeedableRng;
use rand_distr::{Distribution, Exp};
use rand_xoshiro::Xoshiro256PlusPlus;
use thinkdist::measure::TimeAverage;
use thinkdist::sim::metrics::{Counters, LatencyRecorder, UpDownLog};
use thinkdist::sim::time::{ms, secs, SimDuration, SimTime};
use thinkdist::Result;

fn at(s: u64) -> SimTime {
    SimTime::from_start(secs(s))
}

// ---------------------------------------------------------------- latency

fn one_to_hundred_ms(mut rec: LatencyRecorder) -> LatencyRecorder {
    // Recorded in reverse so the exact mode has to sort.
    for i in (1..=100).rev() {
        rec.record(ms(i));
    }
    rec
}

#[test]
fn exact_nearest_rank_on_1_to_100() -> Result<()> {
    // Nearest rank r = ⌈q · n⌉ with n = 100 is r = 100 q, and x_r = r ms.
    // Percentiles are fractions of 1 (p99 is 0.99).
    let rec = one_to_hundred_ms(LatencyRecorder::exact());
    assert_eq!(rec.count(), 100);
    assert_eq!(rec.percentile(0.5)?, ms(50));
    assert_eq!(rec.percentile(0.9)?, ms(90));
    assert_eq!(rec.percentile(0.99)?, ms(99));
    assert_eq!(rec.percentile(1.0)?, ms(100));
    // q = 0 is defined as the smallest sample (rank 1).
    assert_eq!(rec.percentile(0.0)?, ms(1));
    assert_eq!(rec.percentile(0.07)?, ms(7));
    // 99.9 % of 100 = 99.9 → rank 100.
    assert_eq!(rec.percentile(0.999)?, ms(100));
    // 0.505 → rank 51.
    assert_eq!(rec.percentile(0.505)?, ms(51));
    // Mean of 1..=100 is 50.5 ms.
    assert_eq!(rec.mean()?, SimDuration(50_500_000));
    assert_eq!((rec.min()?, rec.max()?), (ms(1), ms(100)));

    let s = rec.summary()?;
    assert_eq!(s.count, 100);
    assert_eq!(
        (s.mean, s.min, s.p50, s.p90, s.p99, s.p999, s.max),
        (50.5, 1.0, 50.0, 90.0, 99.0, 100.0, 100.0)
    );
    assert_eq!(
        rec.percentiles(&[0.5, 0.99, 1.0])?,
        vec![ms(50), ms(99), ms(100)]
    );
    Ok(())
}

#[test]
fn exact_nearest_rank_is_not_fooled_by_rounding() -> Result<()> {
    // With n = 250, p64.4 is rank 0.644 · 250 = 161 exactly, but the
    // floating-point product is 161.00000000000003; a bare ceil would give 162.
    let mut rec = LatencyRecorder::exact();
    for i in 1..=250 {
        rec.record(ms(i));
    }
    assert_eq!(rec.percentile(0.644)?, ms(161));
    assert_eq!(rec.percentiles(&[0.644])?, vec![ms(161)]);
    Ok(())
}

#[test]
fn exact_nearest_rank_textbook_example() -> Result<()> {
    // The classic nearest-rank example {15, 20, 35, 40, 50}: n = 5.
    // p30: ⌈1.5⌉ = 2 → 20; p40: ⌈2⌉ = 2 → 20; p50: ⌈2.5⌉ = 3 → 35;
    // p5: ⌈0.25⌉ = 1 → 15; p100: 5 → 50.
    let mut rec = LatencyRecorder::with_capacity(5);
    for v in [50, 15, 40, 20, 35] {
        rec.record(ms(v));
    }
    for (q, v) in [(0.05, 15), (0.3, 20), (0.4, 20), (0.5, 35), (1.0, 50)] {
        assert_eq!(rec.percentile(q)?, ms(v), "p{q}");
    }
    Ok(())
}

#[test]
fn streaming_on_small_set_is_close_and_ends_exact() -> Result<()> {
    let rec = one_to_hundred_ms(LatencyRecorder::streaming());
    assert!(!rec.is_exact());
    assert_eq!(rec.count(), 100);
    // Count, mean, min, max are tracked exactly in both modes.
    assert_eq!(rec.mean()?, SimDuration(50_500_000));
    assert_eq!(rec.percentile(0.0)?, ms(1));
    assert_eq!(rec.percentile(1.0)?, ms(100));
    let p50 = rec.percentile(0.5)?.as_nanos() as f64;
    assert!((p50 / 50e6 - 1.0).abs() <= 1e-3, "p50 = {p50}");
    assert!(rec.samples_ms().is_none());
    Ok(())
}

#[test]
fn streaming_within_relative_error_of_exact() -> Result<()> {
    // 100k draws from Exp(mean 10 ms), seeded. HdrHistogram with 3
    // significant digits keeps 2048 sub-buckets per power of two, so any
    // reported value is within 1/1024 < 0.1 % of a sample with the same rank.
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(42);
    let exp = Exp::new(1.0 / 10.0).unwrap();
    let mut exact = LatencyRecorder::with_capacity(100_000);
    let mut stream = LatencyRecorder::streaming();
    for _ in 0..100_000 {
        let d = SimDuration::from_ms_f64(exp.sample(&mut rng))?;
        exact.record(d);
        stream.record(d);
    }
    for q in [0.1, 0.5, 0.9, 0.99, 0.999, 0.9999] {
        let e = exact.percentile(q)?.as_nanos() as f64;
        let s = stream.percentile(q)?.as_nanos() as f64;
        assert!((s - e).abs() <= e * 1e-3, "p{q}: stream {s} vs exact {e}");
    }
    // Sanity check on the sample itself: median of Exp(mean 10) is 10 ln 2.
    let med = exact.percentile(0.5)?.as_ms();
    assert!((med - 10.0 * 2f64.ln()).abs() < 0.2, "median {med}");
    assert_eq!(exact.mean()?, stream.mean()?);
    assert_eq!(exact.max()?, stream.max()?);
    assert_eq!(exact.min()?, stream.min()?);
    Ok(())
}

#[test]
fn an_exact_recorder_switches_to_the_histogram_past_its_limit() -> Result<()> {
    use thinkdist::sim::metrics::latency::EXACT_LIMIT;
    let mut r = LatencyRecorder::exact();
    let n = EXACT_LIMIT as u64 + 1000;
    for i in 1..=n {
        r.record(SimDuration(i * 1_000));
    }
    assert!(!r.is_exact());
    assert_eq!(r.switched_at(), Some(EXACT_LIMIT as u64));
    assert_eq!(r.count(), n);
    assert!(r.samples_ms().is_none());
    // Percentiles keep 3 significant digits: within 0.1 % of the exact rank.
    let p50 = r.percentile(0.5)?.0 as f64;
    let exact = (n as f64 / 2.0).ceil() * 1_000.0;
    assert!((p50 / exact - 1.0).abs() <= 1e-3, "{p50} vs {exact}");
    // A huge capacity hint reserves no more than the limit.
    let big = LatencyRecorder::with_capacity(usize::MAX);
    assert!(big.is_exact());
    Ok(())
}

#[test]
fn merge_recorders() -> Result<()> {
    let mut a = LatencyRecorder::exact();
    let mut b = LatencyRecorder::exact();
    for i in 1..=50 {
        a.record(ms(i));
        b.record(ms(i + 50));
    }
    a.merge(&b)?;
    // The union is 1..=100 ms again.
    assert_eq!(a.count(), 100);
    assert_eq!(a.percentile(0.5)?, ms(50));
    assert_eq!(a.max()?, ms(100));
    assert_eq!(a.mean()?, SimDuration(50_500_000));

    let mut s1 = LatencyRecorder::streaming();
    let mut s2 = LatencyRecorder::streaming();
    s1.record(ms(1));
    s2.record(ms(3));
    s1.merge(&s2)?;
    assert_eq!((s1.count(), s1.mean()?, s1.max()?), (2, ms(2), ms(3)));

    // Exact into streaming works; the other way round is refused.
    s1.merge(&b)?;
    assert_eq!(s1.count(), 52);
    assert_eq!(s1.max()?, ms(100));
    let err = a.merge(&s1).unwrap_err();
    assert!(err.is_invalid_parameter(), "{err}");
    assert_eq!(
        a.count(),
        100,
        "a failed merge leaves the recorder unchanged"
    );

    // Merging an empty recorder changes nothing.
    a.merge(&LatencyRecorder::exact())?;
    assert_eq!((a.count(), a.min()?), (100, ms(1)));
    Ok(())
}

#[test]
fn empty_and_out_of_range() {
    for rec in [LatencyRecorder::exact(), LatencyRecorder::streaming()] {
        assert!(rec.is_empty());
        assert!(rec.percentile(0.5).unwrap_err().is_empty_data());
        assert!(rec.summary().unwrap_err().is_empty_data());
        assert!(rec.mean().unwrap_err().is_empty_data());
        assert!(rec.min().unwrap_err().is_empty_data());
        assert!(rec.max().unwrap_err().is_empty_data());
        assert!(rec.cdf_ms().unwrap_err().is_empty_data());
    }
    let rec = one_to_hundred_ms(LatencyRecorder::exact());
    for q in [-0.1, 1.01, 100.1, f64::NAN, f64::INFINITY] {
        let e = rec.percentile(q).unwrap_err();
        assert!(
            e.is_invalid_parameter() && e.message().contains("[0, 1]"),
            "{e}"
        );
        assert!(rec
            .percentiles(&[0.5, q])
            .unwrap_err()
            .is_invalid_parameter());
    }
}

#[test]
fn coordinated_omission_correction() -> Result<()> {
    // A 100 ms stall seen by a client that sends every 10 ms stands for
    // requests that would have waited 100, 90, …, 10 ms: 10 samples,
    // mean (100 + 10)/2 = 55 ms, min 10 ms.
    for mut rec in [LatencyRecorder::exact(), LatencyRecorder::streaming()] {
        rec.record_correct(ms(100), ms(10))?;
        assert_eq!(rec.count(), 10);
        assert_eq!(rec.mean()?, ms(55));
        assert_eq!(rec.min()?, ms(10));
        assert_eq!(rec.max()?, ms(100));
        // {10, 20, …, 100} ms: p50 nearest rank ⌈5⌉ = 5 → 50 ms (within the
        // histogram's 0.1 % in streaming mode, which also checks that the
        // histogram holds the same 10 samples).
        let p50 = rec.percentile(0.5)?.as_nanos() as f64;
        assert!((p50 / 50e6 - 1.0).abs() <= 1e-3, "p50 = {p50}");
        // Latency below the interval: no synthetic samples.
        rec.record_correct(ms(5), ms(10))?;
        assert_eq!(rec.count(), 11);
        let err = rec.record_correct(ms(5), SimDuration::ZERO).unwrap_err();
        assert!(err.is_invalid_parameter(), "{err}");
    }
    // Exact mode: {10, …, 100} ms, p50 nearest rank ⌈5⌉ = 5 → 50 ms.
    let mut rec = LatencyRecorder::exact();
    rec.record_correct(ms(100), ms(10))?;
    assert_eq!(rec.percentile(0.5)?, ms(50));
    // A stall that would add more than 10 million samples (100 s at 1 µs:
    // 1e8 − 1) is refused in both modes, and nothing is recorded.
    for mut r in [rec, LatencyRecorder::streaming()] {
        let before = r.count();
        let err = r.record_correct(secs(100), SimDuration(1_000)).unwrap_err();
        assert!(err.is_invalid_parameter(), "{err}");
        assert_eq!(r.count(), before);
    }
    Ok(())
}

#[test]
fn samples_and_cdf() -> Result<()> {
    let mut rec = LatencyRecorder::exact();
    for v in [2, 1, 3, 2] {
        rec.record(ms(v));
    }
    assert_eq!(rec.samples_ms(), Some(vec![2.0, 1.0, 3.0, 2.0]));
    // Sorted {1, 2, 2, 3}: F(1) = 1/4, F(2) = 3/4, F(3) = 1.
    assert_eq!(rec.cdf_ms()?, vec![(1.0, 0.25), (2.0, 0.75), (3.0, 1.0)]);
    let s = rec.summary()?;
    let json = serde_json::to_string(&s).unwrap();
    assert!(
        json.contains("\"p50\":2.0") && json.contains("\"count\":4"),
        "{json}"
    );
    Ok(())
}

// ----------------------------------------------------------- availability

/// 3 nodes over [0, 100] s:
/// node 0 down [10, 30); node 1 down [20, 45); node 2 down [50, 60) and from
/// 90 s to the end. Number up:
///   0–10: 3 | 10–20: 2 | 20–30: 1 | 30–45: 2 | 45–50: 3 | 50–60: 2 |
///   60–90: 3 | 90–100: 2
fn schedule() -> Result<UpDownLog> {
    let mut log = UpDownLog::new(3, SimTime::ZERO)?;
    log.set_down(0, at(10))?;
    log.set_down(0, at(15))?; // already down: ignored
    log.set_down(1, at(20))?;
    log.set_up(0, at(30))?;
    log.set_up(0, at(35))?; // already up: ignored
    log.set_up(1, at(45))?;
    log.set_down(2, at(50))?;
    log.set_up(2, at(60))?;
    log.set_down(2, at(90))?;
    Ok(log)
}

#[test]
fn availability_report_by_hand() -> Result<()> {
    let log = schedule()?;
    assert_eq!(log.up_count(), 2);
    assert!(!log.is_up(2)?);
    let r = log.finish(at(100))?;
    assert_eq!(r.nodes(), 3);
    assert_eq!(r.down_intervals(0)?, &[(at(10), at(30))]);
    assert_eq!(r.down_intervals(1)?, &[(at(20), at(45))]);
    assert_eq!(r.down_intervals(2)?, &[(at(50), at(60)), (at(90), at(100))]);
    // Down 20 s, 25 s and 10 + 10 = 20 s out of 100 s.
    assert_eq!(r.node_availabilities(), vec![0.8, 0.75, 0.8]);
    assert_eq!(r.node_downtime(1)?, secs(25));
    // k = 1: never fewer than 1 up → 1.
    assert_eq!(r.system_availability(1)?, 1.0);
    // k = 2: only 20–30 has fewer than 2 up → 90/100.
    assert_eq!(r.system_availability(2)?, 0.9);
    // k = 3: 0–10, 45–50, 60–90 → 10 + 5 + 30 = 45 s → 0.45.
    assert_eq!(r.system_availability(3)?, 0.45);
    assert_eq!(r.up_time(3)?, secs(45));
    // Fewer than 2 up: 20–30. Fewer than 3 up: 10–45 (10–20, 20–30, 30–45
    // merged), 50–60, 90–100. Fewer than 1 up: never.
    assert_eq!(r.system_down_intervals(2)?, vec![(at(20), at(30))]);
    assert_eq!(
        r.system_down_intervals(3)?,
        vec![(at(10), at(45)), (at(50), at(60)), (at(90), at(100))]
    );
    assert_eq!(r.system_down_intervals(1)?, vec![]);
    assert!(r
        .system_down_intervals(4)
        .unwrap_err()
        .is_invalid_parameter());
    assert_eq!(
        r.intervals_for_chart(),
        vec![
            vec![(10.0, 30.0)],
            vec![(20.0, 45.0)],
            vec![(50.0, 60.0), (90.0, 100.0)]
        ]
    );
    // The log can still be extended after a mid-run report.
    let mut log = log;
    log.set_up(2, at(95))?;
    assert_eq!(log.finish(at(100))?.node_availability(2)?, 0.85);
    Ok(())
}

#[test]
fn availability_windowed_by_hand() -> Result<()> {
    let r = schedule()?.finish(at(100))?;
    // k = 2, 25 s windows: [0,25) misses 20–25 → 20/25; [25,50) misses
    // 25–30 → 20/25; [50,75) and [75,100) always ≥ 2 up.
    assert_eq!(
        r.windowed(2, secs(25))?,
        vec![(0.0, 0.8), (25.0, 0.8), (50.0, 1.0), (75.0, 1.0)]
    );
    // k = 3, 30 s windows: [0,30) has 0–10 → 10/30; [30,60) has 45–50 →
    // 5/30; [60,90) all; the last window [90,100) is 10 s long, none of it.
    assert_eq!(
        r.windowed(3, secs(30))?,
        vec![
            (0.0, 10.0 / 30.0),
            (30.0, 5.0 / 30.0),
            (60.0, 1.0),
            (90.0, 0.0)
        ]
    );
    Ok(())
}

#[test]
fn availability_with_late_start() -> Result<()> {
    // Observed over [5, 15] s; node 0 down [7, 9) → 8/10 up.
    let mut log = UpDownLog::new(2, at(5))?;
    log.set_down(0, at(7))?;
    log.set_up(0, at(9))?;
    // Zero-length outage is dropped.
    log.set_down(1, at(9))?;
    log.set_up(1, at(9))?;
    let r = log.finish(at(15))?;
    assert_eq!(r.node_availability(0)?, 0.8);
    assert_eq!(r.down_intervals(1)?, &[]);
    assert_eq!(r.system_availability(2)?, 0.8);
    assert_eq!(r.windowed(2, secs(5))?, vec![(5.0, 0.6), (10.0, 1.0)]);
    Ok(())
}

#[test]
fn availability_errors() -> Result<()> {
    assert!(UpDownLog::new(0, SimTime::ZERO)
        .unwrap_err()
        .is_invalid_parameter());
    let mut log = schedule()?;
    let e = log.set_down(3, at(95)).unwrap_err();
    assert!(
        e.is_invalid_parameter() && e.message().contains("3 nodes"),
        "{e}"
    );
    // Going back in time, even for another node, is an error.
    let e = log.set_up(0, at(80)).unwrap_err();
    assert!(
        e.is_invalid_parameter() && e.message().contains("order"),
        "{e}"
    );
    assert!(log.finish(at(89)).unwrap_err().is_invalid_parameter());
    assert!(UpDownLog::new(1, at(5))?
        .finish(at(5))
        .unwrap_err()
        .is_invalid_parameter());
    let r = log.finish(at(100))?;
    assert!(r.system_availability(4).unwrap_err().is_invalid_parameter());
    assert!(r.system_availability(0).unwrap_err().is_invalid_parameter());
    assert!(r
        .windowed(2, SimDuration::ZERO)
        .unwrap_err()
        .is_invalid_parameter());
    assert!(r.windowed(4, secs(1)).unwrap_err().is_invalid_parameter());
    // 100 s in 1 ns windows would be 1e11 windows.
    assert!(r
        .windowed(1, SimDuration(1))
        .unwrap_err()
        .is_invalid_parameter());
    assert!(r.node_availability(3).unwrap_err().is_invalid_parameter());
    assert!(r.down_intervals(7).unwrap_err().is_invalid_parameter());
    Ok(())
}

// ------------------------------------------------------ time average, Little

#[test]
fn time_average_step_function() -> Result<()> {
    // value: 0 on [0,1), 2 on [1,3), 5 on [3,6), 0 on [6,8), 4 on [8,10].
    // Integral = 0 + 2·2 + 5·3 + 0·2 + 4·2 = 27 → mean over 10 s = 2.7.
    let mut n = TimeAverage::new(SimTime::ZERO);
    n.set(at(1), 2)?;
    n.add(at(3), 3)?;
    n.add(at(6), -5)?;
    n.set(at(8), 4)?;
    assert_eq!(n.mean(at(10))?, 2.7);
    assert_eq!((n.value(), n.max()), (4, 5));
    // Reading mid-run: over [0, 5]: 2·2 + 5·2 = 14 would need end ≥ last update.
    assert!(n.mean(at(7)).unwrap_err().is_invalid_parameter());
    assert!(n.set(at(7), 1).unwrap_err().is_invalid_parameter());
    assert!(TimeAverage::new(at(3))
        .mean(at(3))
        .unwrap_err()
        .is_invalid_parameter());
    Ok(())
}

#[test]
fn littles_law_on_a_deterministic_run() -> Result<()> {
    // Arrivals at t = 0, 1, …, 99 s, each stays exactly 3 s. Over [0, 102] s:
    // ∫N dt = 100 · 3 = 300, so L = 300/102; λ = 100/102 per s and W = 3 s,
    // so λW = 300/102 = L exactly.
    let mut n = TimeAverage::new(SimTime::ZERO);
    for t in 0..=102u64 {
        if t >= 3 && t - 3 < 100 {
            n.add(at(t), -1)?;
        }
        if t < 100 {
            n.add(at(t), 1)?;
        }
    }
    let l = n.mean(at(102))?;
    let lw = thinkdist::measure::theory::littles_law_l(100.0 / 102.0, 3.0)?;
    assert!((l - lw).abs() < 1e-12, "L = {l}, λW = {lw}");
    assert_eq!(n.max(), 3);
    Ok(())
}

// ---------------------------------------------------------------- counters

#[test]
fn counters_are_ordered_by_name() {
    let mut c = Counters::new();
    c.incr("zeta");
    c.add("alpha", 2);
    c.incr("mid");
    c.incr("alpha");
    assert_eq!(c.get("alpha"), 3);
    assert_eq!(c.get("missing"), 0);
    assert_eq!(c.len(), 3);
    let names: Vec<_> = c.iter().collect();
    assert_eq!(names, vec![("alpha", 3), ("mid", 1), ("zeta", 1)]);
    assert_eq!(
        serde_json::to_string(&c).unwrap(),
        r#"{"alpha":3,"mid":1,"zeta":1}"#
    );
    let mut total = Counters::new();
    total.merge(&c);
    total.merge(&c);
    assert_eq!(total.get("alpha"), 6);
    c.add("zeta", u64::MAX);
    assert_eq!(c.get("zeta"), u64::MAX);
}

/// Item 5 of issue 17: percentiles are fractions of 1 everywhere, as in
/// `plot::MARKED_PERCENTILES` and `percentile_name`; `percentile(0.99)` is
/// p99 (it was p0.99), and a percentile written in per cent is refused
/// with an error that says how to write it.
#[test]
fn percentiles_are_fractions_and_per_cent_is_refused() -> Result<()> {
    use thinkdist::plot::{percentile_name, MARKED_PERCENTILES};
    let rec = one_to_hundred_ms(LatencyRecorder::exact());
    assert_eq!(rec.percentile(0.99)?, ms(99));
    let marked = rec.percentiles(&MARKED_PERCENTILES)?;
    assert_eq!(marked, vec![ms(50), ms(90), ms(99), ms(100)]);
    assert_eq!(percentile_name(MARKED_PERCENTILES[2]), "p99");
    for (q, fraction) in [
        (99.0, "p99 is 0.99"),
        (50.0, "p50 is 0.5"),
        (99.9, "p99.9 is 0.999"),
    ] {
        let e = rec.percentile(q).unwrap_err().to_string();
        assert!(e.contains(fraction), "{e}");
    }
    let q = thinkdist::measure::theory::mm1(0.5, 1.0)?;
    assert!((q.time_in_system_percentile(0.99)? - 2.0 * 100f64.ln()).abs() < 1e-9);
    let e = q.time_in_system_percentile(99.0).unwrap_err().to_string();
    assert!(e.contains("0.99"), "{e}");
    Ok(())
}
