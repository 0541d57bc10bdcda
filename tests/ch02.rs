//! Chapter 2 (notebook 02): the tail chart, latency against load to ρ =
//! 0.98, percentiles over seeds, pooling, the closed-loop bounds, the
//! unavailability chart and table, how many requests retries answer, and
//! hot keys — each against its closed form.
//!
//! Tolerances: a mean over R independent replications is checked within 4
//! standard errors `sd / sqrt(R)` of theory (sd: the replications' sample
//! standard deviation, or the binomial one where the count is binomial);
//! a one-sided bound is checked exactly.

use thinkdist::ch02::correctness::answered_curve;
use thinkdist::ch02::hotkeys::{self, HotKeys};
use thinkdist::ch02::queueing::{self, time_in_system_tail};
use thinkdist::ch02::replicas::{self, short_duration};
use thinkdist::measure::stats::MeanCi;
use thinkdist::measure::theory;
use thinkdist::plot::{exponential_tail, tail_cdf, Opts, Series};
use thinkdist::prelude::*;

mod prose;

/// |mean − theory| ≤ k standard errors of the replications.
fn within_se(c: &MeanCi, theory: f64, k: f64) -> bool {
    (c.mean - theory).abs() <= k * c.sd / (c.n as f64).sqrt()
}

// ------------------------------------------------------------ tail chart

#[test]
fn tail_cdf_marks_the_mean_and_draws_theory() -> Result<()> {
    // Exponential samples with mean 10 by the inverse CDF at evenly spaced
    // quantiles: their mean is 9.9993, printed "10".
    let xs: Vec<f64> = (0..5000)
        .map(|i| -10.0 * (1.0 - (f64::from(i) + 0.5) / 5000.0).ln())
        .collect();
    let th = exponential_tail("exponential", 10.0, 100.0)?;
    assert_eq!(th.points.len(), 201);
    // P(X > 10) = e^-1 on the overlay.
    let p = th
        .points
        .iter()
        .find(|p| (p.0 - 10.0).abs() < 1e-9)
        .unwrap();
    assert!((p.1 - (-1f64).exp()).abs() < 1e-12);
    let fig = tail_cdf(
        &[("sim".to_string(), xs.clone())],
        &[th],
        Opts::new("tail").x_label("ms"),
    )?;
    let svg = fig.to_svg()?;
    assert!(svg.contains("mean 10\n"), "mean label missing");
    assert!(svg.contains("exponential (theory)"));
    assert!(svg.contains("fraction of samples &gt; x") || svg.contains("fraction of samples > x"));
    // Same inputs, same bytes.
    let again = tail_cdf(
        &[("sim".to_string(), xs.clone())],
        &[exponential_tail("exponential", 10.0, 100.0)?],
        Opts::new("tail").x_label("ms"),
    )?;
    assert_eq!(svg, again.to_svg()?);
    // The plain CDF stays available and has no mean line.
    let plain = cdf(&[("sim".to_string(), xs.clone())], Opts::new("plain"))?.to_svg()?;
    assert!(!plain.contains("mean 10\n"));
    // Bad overlays are refused with a message naming them.
    let e = tail_cdf(
        &[("sim".to_string(), xs.clone())],
        &[Series::new("empty", vec![])],
        Opts::new("t"),
    )
    .unwrap_err();
    assert!(e.is_invalid_parameter() && e.to_string().contains("empty"));
    let e = tail_cdf(
        &[("sim".to_string(), xs)],
        &[Series::new("nan", vec![(1.0, f64::NAN)])],
        Opts::new("t"),
    )
    .unwrap_err();
    assert!(e.is_invalid_parameter());
    assert!(exponential_tail("x", 0.0, 1.0).is_err());
    assert!(exponential_tail("x", 1.0, f64::INFINITY).is_err());
    Ok(())
}

#[test]
fn mmc_tail_inverts_the_percentile() -> Result<()> {
    // time_in_system_tail is the survival function whose inverse
    // time_in_system_percentile computes: P(T > t_q) = 1 − q.
    for (lambda, c) in [(80.0, 1), (320.0, 4), (390.0, 4), (150.0, 2)] {
        let th = theory::mmc(lambda, 100.0, c)?;
        for q in [0.5, 0.9, 0.99, 0.999] {
            let t = th.time_in_system_percentile(q)?;
            let tail = time_in_system_tail(&th, t);
            assert!((tail - (1.0 - q)).abs() < 1e-9, "c={c} q={q}: {tail}");
        }
        assert!((time_in_system_tail(&th, 0.0) - 1.0).abs() < 1e-12);
    }
    Ok(())
}

#[test]
fn latency_tail_chart_draws_mm1_theory() -> Result<()> {
    let run = Queue {
        jobs: 20_000,
        warmup: 2_000,
        ..Queue::default()
    }
    .run()?;
    let svg = run.latency_tail_chart()?.to_svg()?;
    assert!(svg.contains("M/M/1"));
    assert!(svg.contains("(theory)"));
    assert!(svg.contains("mean "));
    Ok(())
}

// ------------------------------------------------- percentiles over seeds

#[test]
fn replicated_percentiles_cover_mm1_theory() -> Result<()> {
    // ρ = 0.8, 8 seeds of 100,000 jobs (as the notebook): mean and every
    // percentile within 4 standard errors of the exponential's quantiles.
    let base = Queue {
        seed: 1,
        jobs: 100_000,
        warmup: 10_000,
        ..Queue::default()
    };
    let rows = queueing::percentile_replications(&base, 8)?;
    assert_eq!(rows.len(), 5);
    for r in &rows {
        let th = r.theory_ms.expect("a stable open queue has theory");
        assert!(
            within_se(&r.simulated_ms, th, 4.0),
            "{}: {:?} against {th}",
            r.statistic,
            r.simulated_ms
        );
    }
    // W = 1/(μ−λ) = 50 ms; p99 = 50 ln 100 = 230.3 ms.
    assert!((rows[0].theory_ms.unwrap() - 50.0).abs() < 1e-9);
    assert!((rows[3].theory_ms.unwrap() - 50.0 * 100f64.ln()).abs() < 1e-9);
    let t = queueing::percentile_ci_table(&rows);
    assert_eq!(t.rows().len(), 5);
    assert!(queueing::percentile_replications(&base, 1).is_err());
    // What the notebook's prose says of them, and of one run's tail.
    let nb = "02-distributed-systems-at-a-glance";
    let (p99, th) = (rows[3].simulated_ms, rows[3].theory_ms.unwrap());
    prose::says(
        nb,
        &format!(
            "the p99 averages {:.1} ± {:.1} ms over the seeds against {th:.1} ms from the formula",
            p99.mean, p99.half_width
        ),
    );
    let one = base.run()?.latency.percentile(0.99)?.as_ms();
    prose::says(
        nb,
        &format!("its p99 is {one:.0} ms against {th:.0} ms from theory"),
    );
    Ok(())
}

// ---------------------------------------------------- load, to ρ = 0.98

#[test]
fn load_curve_near_saturation_matches_theory() -> Result<()> {
    // The notebook's highest loads, 8 seeds of 200,000 jobs: the means and
    // p99s within 4 standard errors of M/M/1 and M/M/4 theory.
    let loads = [0.95, 0.98];
    for c in [1, 4] {
        let pts = queueing::load_curve(c, 100.0, &loads, 200_000, 8)?;
        for p in &pts {
            assert!(
                within_se(&p.mean_ms, p.theory_mean_ms, 4.0),
                "c={c} ρ={}: mean {:?} against {}",
                p.load,
                p.mean_ms,
                p.theory_mean_ms
            );
            assert!(
                within_se(&p.p99_ms, p.theory_p99_ms, 4.0),
                "c={c} ρ={}: p99 {:?} against {}",
                p.load,
                p.p99_ms,
                p.theory_p99_ms
            );
        }
        if c == 1 {
            // W = S / (1 − ρ): 50 × 10 ms at ρ = 0.98.
            assert!((pts[1].theory_mean_ms - 500.0).abs() < 1e-6);
        }
    }
    Ok(())
}

#[test]
fn pooling_beats_separate_queues_in_theory_and_simulation() -> Result<()> {
    let loads = [0.5, 0.8, 0.9];
    let sep = queueing::load_curve(1, 100.0, &loads, 50_000, 6)?;
    let pool = queueing::load_curve(4, 100.0, &loads, 50_000, 6)?;
    for (a, b) in sep.iter().zip(&pool) {
        // Theory: Erlang C against M/M/1 at the same load per worker.
        let mm4 = theory::mmc(b.load * 400.0, 100.0, 4)?;
        assert!((b.theory_mean_ms - mm4.w * 1e3).abs() < 1e-9);
        assert!(b.theory_mean_ms < a.theory_mean_ms);
        assert!(b.theory_p99_ms < a.theory_p99_ms);
        // Simulated: the pooled interval lies wholly below the separate one.
        assert!(
            b.mean_ms.interval().1 < a.mean_ms.interval().0,
            "ρ={}",
            a.load
        );
        assert!(
            b.p99_ms.interval().1 < a.p99_ms.interval().0,
            "ρ={}",
            a.load
        );
    }
    let t = queueing::pooling_table(&sep, &pool)?;
    assert_eq!(t.rows().len(), 3);
    queueing::pooling_chart(&sep, &pool)?.to_svg()?;
    queueing::load_chart_linear(&[("x".into(), sep.clone())])?.to_svg()?;
    // Curves at different loads cannot be paired.
    assert!(queueing::pooling_table(&sep, &pool[..2]).is_err());
    Ok(())
}

// ------------------------------------------------------------ closed loop

#[test]
fn closed_loop_obeys_operational_bounds() -> Result<()> {
    let s = 10.0; // ms
    let z = 50.0; // ms
    let pts = queueing::closed_curve(&[1, 3, 6, 10, 16], 100.0, ms(50), 20_000, 6)?;
    for p in &pts {
        let n = p.clients as f64;
        assert!((p.knee() - (s + z) / s).abs() < 1e-9);
        // MVA lies on the right side of both asymptotes and both bounds.
        assert!(p.theory_mean_ms >= s - 1e-9);
        assert!(p.theory_mean_ms >= n * s - z - 1e-9);
        assert!(p.theory_throughput <= n * 1e3 / (s + z) + 1e-9);
        assert!(p.theory_throughput <= 1e3 / s + 1e-9);
        // The simulation agrees with MVA (4 standard errors).
        assert!(within_se(&p.throughput, p.theory_throughput, 4.0), "{p:?}");
        assert!(within_se(&p.mean_ms, p.theory_mean_ms, 4.0), "{p:?}");
    }
    let svg = queueing::closed_chart(&pts)?.to_svg()?;
    assert!(svg.contains("knee N*"));
    assert!(svg.contains("N·S − Z"));
    let svg = queueing::closed_throughput_chart(&pts)?.to_svg()?;
    assert!(svg.contains("1/S"));
    assert!(queueing::closed_chart(&[]).is_err());
    Ok(())
}

// ------------------------------------------------------------ replicas

#[test]
fn unavailability_chart_and_table() -> Result<()> {
    let base = Replicas {
        seed: 1,
        n: 1,
        mttf: secs(100 * 3600),
        mttr: secs(10 * 3600),
        horizon: secs(200_000 * 3600),
    };
    let pts = replicas::availability_curve(&base, &[1, 3, 5], 8)?;
    for p in &pts {
        if p.n <= 3 {
            // Frequent outages: the simulated unavailability matches the
            // binomial within 4 standard errors.
            assert!(within_se(&p.simulated, p.theory, 4.0), "{p:?}");
        }
    }
    let svg = replicas::availability_chart(&pts)?.to_svg()?;
    assert!(svg.contains("unavailability"));
    let t = replicas::nines_table(&pts)?;
    let text = format!("{t}");
    assert!(!text.contains("0.0 h"), "{text}");
    assert!(!text.contains("1.00000"), "{text}");
    Ok(())
}

#[test]
fn short_durations_pick_their_unit() {
    assert_eq!(short_duration(10.0 * 3600.0), "10.0 h");
    assert_eq!(short_duration(30.0 * 60.0), "30 min");
    assert_eq!(short_duration(45.0), "45 s");
    assert_eq!(short_duration(3.3), "3.3 s");
    assert_eq!(short_duration(0.02), "20 ms");
    assert_eq!(short_duration(3e-7), "< 1 ms");
    assert_eq!(short_duration(f64::NAN), "—");
    assert_eq!(short_duration(3.6e12), "1.0e9 h");
}

// --------------------------------------------------------- correctness

#[test]
fn retries_answer_most_requests_but_not_all() -> Result<()> {
    let base = ClientServer {
        seed: 1,
        requests: 20,
        retries: 2,
        timeout: ms(40),
        ..Default::default()
    };
    let pts = answered_curve(&base, 0.3, 200)?;
    assert_eq!(pts.len(), 3);
    // Theory: an attempt answers if request and response get through
    // (0.7² = 0.49 at 30 % loss) and its round trip ends before the client
    // gives up, 40, 80 or 120 ms after it was sent (F below).
    let f = |t: f64| thinkdist::ch02::correctness::round_trip_cdf(&base, t);
    assert!((pts[0].theory - f(40.0)).abs() < 1e-12);
    assert!((pts[1].theory - 0.49 * f(40.0)).abs() < 1e-12);
    let fail: f64 = [120.0, 80.0, 40.0]
        .iter()
        .map(|&t| 1.0 - 0.49 * f(t))
        .product();
    assert!((pts[2].theory - (1.0 - fail)).abs() < 1e-12);
    // Without the timeout these would be 1, 0.49 and 1 − 0.51³; the round
    // trip's tail past 40 ms costs about 0.8 % of the answers.
    assert!(
        pts[0].theory < 0.995 && pts[0].theory > 0.985,
        "{}",
        pts[0].theory
    );
    for p in &pts {
        // 200 runs × 20 requests: binomial standard error of the fraction.
        let se = (p.theory * (1.0 - p.theory) / 4000.0).sqrt();
        assert!(
            (p.answered.mean - p.theory).abs() <= 4.0 * se.max(1e-9),
            "{}: {:?} against {}",
            p.scenario,
            p.answered,
            p.theory
        );
    }
    // With retries, still not every request: liveness fails at 30 % loss.
    assert!(pts[2].answered.mean < 0.95);
    Ok(())
}

// ------------------------------------------------------------ hot keys

#[test]
fn hot_keys_match_zipf_theory() -> Result<()> {
    let base = HotKeys {
        seed: 1,
        keys: 1000,
        partitions: 8,
        requests: 100_000,
    };
    let skews = [0.0, 0.5, 1.0, 1.5];
    let seeds = 8;
    let pts = hotkeys::hot_key_curve(&base, &skews, seeds)?;
    for p in &pts {
        let shares = hotkeys::partition_shares(1000, 8, p.skew)?;
        assert!((shares.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        let top = shares.iter().copied().fold(0.0, f64::max);
        assert!((p.theory - 8.0 * shares[0]).abs() < 1e-12);
        assert!(
            (shares[0] - top).abs() < 1e-15,
            "partition 0 is the hottest"
        );
        // Binomial standard error of P · count / R, averaged over seeds.
        let se = 8.0 * (shares[0] * (1.0 - shares[0]) / 100_000.0).sqrt() / (seeds as f64).sqrt();
        assert!(
            (p.hottest_over_mean.mean - p.theory).abs() <= 4.0 * se,
            "s={}: {:?} against {}",
            p.skew,
            p.hottest_over_mean,
            p.theory
        );
        assert!(p.max_over_mean.mean >= p.hottest_over_mean.mean - 1e-12);
        assert!(p.key_floor <= p.theory + 1e-12);
    }
    // Uniform popularity and equal key counts: exactly the mean.
    assert!((pts[0].theory - 1.0).abs() < 1e-12);
    // Skew makes it worse, monotonically.
    assert!(pts.windows(2).all(|w| w[1].theory > w[0].theory));
    // s = 1 over 1000 keys: p₀ = 1 / H₁₀₀₀ ≈ 1 / 7.4855.
    let h: f64 = (1..=1000).map(|k| 1.0 / k as f64).sum();
    assert!((hotkeys::hottest_key_floor(1000, 8, 1.0)? - 8.0 / h).abs() < 1e-12);
    hotkeys::hot_key_chart(&pts, 8)?.to_svg()?;
    assert_eq!(hotkeys::hot_key_table(&pts).rows().len(), 4);
    // Bad input says what to change.
    let bad = HotKeys {
        partitions: 0,
        ..base.clone()
    };
    assert!(bad.run(1.0).unwrap_err().to_string().contains("partitions"));
    let bad = HotKeys {
        partitions: 2000,
        ..base.clone()
    };
    assert!(bad.run(1.0).is_err());
    assert!(base.run(-1.0).is_err());
    assert!(hotkeys::hot_key_curve(&base, &[1.0], 1).is_err());
    Ok(())
}

#[test]
fn round_trip_cdf_matches_sampled_round_trips() -> Result<()> {
    // F(t) = P(network + network + processing <= t), checked against 10^6
    // sampled round trips, within 4 binomial standard errors.
    let p = ClientServer::default();
    let mut r = thinkdist::sim::rng::stream(11, 0, 0, 0);
    let n = 1_000_000;
    let trips: Vec<f64> = (0..n)
        .map(|_| {
            (p.network.sample(&mut r) + p.network.sample(&mut r) + p.processing.sample(&mut r))
                .as_ms()
        })
        .collect();
    for t in [5.0, 10.0, 20.0, 40.0, 80.0] {
        let got = trips.iter().filter(|&&x| x <= t).count() as f64 / n as f64;
        let want = thinkdist::ch02::correctness::round_trip_cdf(&p, t);
        let se = (want * (1.0 - want) / n as f64).sqrt().max(1e-7);
        assert!(
            (got - want).abs() < 4.0 * se + 1e-6,
            "t = {t}: {got} against {want}"
        );
    }
    Ok(())
}
