//! Chapter 12, continued: client-side protection, retry storms, shedding,
//! availability of composed services, determinism and bad input (split
//! from `tests/ch12.rs` to keep files short; helpers come from there).

use super::*;

// ------------------------------------------------------------ protection

#[test]
fn retry_budget_caps_retries_at_its_share() -> Result<()> {
    let mut b = RetryBudget::new(0.1, 3.0)?;
    let mut r = rng(3);
    let (mut req, mut ok) = (0u64, 0u64);
    for _ in 0..10_000 {
        b.on_request();
        req += 1;
        // Callers that want to retry a random number of times.
        for _ in 0..simrng::index(&mut r, 4) {
            if b.try_retry() {
                ok += 1;
            }
        }
    }
    assert!(ok as f64 <= 3.0 + 0.1 * req as f64);
    assert!(
        ok as f64 >= 0.1 * req as f64 - 1.0,
        "the budget is used: {ok}"
    );
    assert!(RetryBudget::new(-0.1, 1.0).is_err() && RetryBudget::new(0.1, f64::NAN).is_err());
    Ok(())
}

#[test]
fn token_bucket_never_exceeds_burst_plus_rate_times_t() -> Result<()> {
    let mut t = TokenBucket::new(100.0, 10.0)?;
    let mut r = rng(4);
    let mut times = Vec::new();
    let mut now = 0u64;
    for _ in 0..50_000 {
        now += simrng::index(&mut r, 4_000_000) as u64; // 2 ms apart on average
        if t.try_take(SimTime(now)) {
            times.push(now);
        }
    }
    // Any window [times[i], times[j]] holds at most burst + rate × length.
    for i in (0..times.len()).step_by(97) {
        for j in (i..times.len()).step_by(89) {
            let len = (times[j] - times[i]) as f64 / 1e9;
            assert!(((j - i + 1) as f64) <= 10.0 + 100.0 * len + 1e-9);
        }
    }
    let rate = times.len() as f64 / (now as f64 / 1e9);
    assert!((rate - 100.0).abs() < 2.0, "{rate}");
    assert!(TokenBucket::new(0.0, 1.0).is_err() && TokenBucket::new(1.0, 0.5).is_err());
    Ok(())
}

/// Demand `lambda`/s through a throttle to a backend that accepts at most
/// `cap`/s: sends and accepts per second after a warm-up.
fn throttled(seed: u64, lambda: f64, cap: f64, k: f64) -> Result<(f64, f64)> {
    let mut r = rng(100 + seed);
    let mut thr = AdaptiveThrottle::new(k, secs(2))?;
    let mut backend = TokenBucket::new(cap, 5.0)?;
    let (mut t, mut sent, mut acc) = (0.0f64, 0u64, 0u64);
    while t < 100.0 {
        t += -simrng::open_unit_f64(&mut r).ln() / lambda;
        let now = SimTime((t * 1e9) as u64);
        if thr.allow(now, &mut r) {
            let counted = t > 20.0;
            sent += u64::from(counted);
            if backend.try_take(now) {
                thr.count_accept(now);
                acc += u64::from(counted);
            }
        }
    }
    Ok((sent as f64 / 80.0, acc as f64 / 80.0))
}

#[test]
fn adaptive_throttling_sends_k_times_what_is_accepted() -> Result<()> {
    let mut t = AdaptiveThrottle::new(2.0, secs(10))?;
    let now = SimTime::from_start(secs(1));
    for _ in 0..100 {
        t.count_request(now);
    }
    assert_eq!(t.reject_probability(now), 100.0 / 101.0);
    for _ in 0..50 {
        t.count_accept(now);
    }
    assert_eq!(t.reject_probability(now), 0.0);
    // Steady state against min(demand, K·accepted): over 80 s, about 32,000
    // sends per seed, Poisson sd ≈ 180 (0.6 %); 4 seeds within 4 se.
    let sends = over_seeds(4, |s| Ok(throttled(s, 1000.0, 200.0, 2.0)?.0))?;
    let want = th::throttled_send_rate(1000.0, 200.0, 2.0)?;
    assert!(
        within_se(&sends, want, 4.0) || (sends.mean - want).abs() < 0.01 * want,
        "{sends:?}"
    );
    // A broken throttle that counts its own sends as accepts never sheds.
    let mut broken = AdaptiveThrottle::new(2.0, secs(2))?;
    let mut r = rng(9);
    let mut shed = 0;
    for i in 0..10_000u64 {
        let now = SimTime(i * 1_000_000);
        if broken.allow(now, &mut r) {
            broken.count_accept(now); // wrong: the backend accepted nothing
        } else {
            shed += 1;
        }
    }
    assert_eq!(shed, 0, "the broken variant is caught: it never throttles");
    assert!(
        AdaptiveThrottle::new(0.5, secs(1)).is_err() && AdaptiveThrottle::new(2.0, ns(5)).is_err()
    );
    Ok(())
}

#[test]
fn throttle_recovery_follows_its_fluid_estimate() -> Result<()> {
    // After an outage (a full window, no accepts) the send share climbs
    // exponentially with time constant W/(K − 1). The estimate is a fluid
    // limit and the climb starts from a handful of random sends, so single
    // runs vary widely: the mean of 20 runs is checked within 30 %.
    let lambda = 600.0;
    let m = over_seeds(20, |seed| {
        let mut r = rng(200 + seed);
        let mut thr = AdaptiveThrottle::new(2.0, secs(2))?;
        let mut t = 0.0f64;
        while t < 5.0 {
            t += -simrng::open_unit_f64(&mut r).ln() / lambda;
            thr.allow(SimTime((t * 1e9) as u64), &mut r);
        }
        let start = t;
        loop {
            t += -simrng::open_unit_f64(&mut r).ln() / lambda;
            let now = SimTime((t * 1e9) as u64);
            if thr.allow(now, &mut r) {
                thr.count_accept(now);
            }
            if thr.reject_probability(now) <= 0.1 {
                return Ok(t - start);
            }
            if t > 100.0 {
                return Err(Error::invalid("run", t, "a recovery"));
            }
        }
    })?;
    let want = th::throttle_recovery(lambda, 2.0, 2.0, 0.9)?;
    assert!((m.mean - want).abs() < 0.3 * want, "{m:?} against {want}");
    Ok(())
}

#[test]
fn circuit_breaker_opens_probes_and_closes() -> Result<()> {
    let cfg = BreakerConfig {
        failure_ratio: 0.5,
        min_requests: 10,
        window: secs(10),
        open_for: secs(2),
        probes: 2,
    };
    let mut b = CircuitBreaker::new(cfg)?;
    let t = |s: f64| SimTime((s * 1e9) as u64);
    // 9 failures of 9: not enough requests yet; the 10th opens it.
    for i in 0..9 {
        assert!(b.allow(t(i as f64 * 0.1)));
        b.on_failure(t(i as f64 * 0.1));
    }
    assert_eq!(b.state(), BreakerState::Closed);
    b.allow(t(1.0));
    b.on_failure(t(1.0));
    assert_eq!(b.state(), BreakerState::Open);
    assert!(!b.allow(t(2.9)));
    // Half-open at 3.0: two probes pass, the third waits; a failed probe
    // opens it again.
    assert!(b.allow(t(3.0)) && b.allow(t(3.0)) && !b.allow(t(3.0)));
    b.on_failure(t(3.1));
    assert_eq!(b.state(), BreakerState::Open);
    assert!(b.allow(t(5.2)) && b.allow(t(5.2)));
    b.on_success(t(5.3));
    assert_eq!(b.state(), BreakerState::HalfOpen);
    b.on_success(t(5.3));
    assert_eq!(b.state(), BreakerState::Closed);
    assert_eq!(b.times_opened(), 2);
    // Successes keep it closed at a failure share under the ratio.
    for i in 0..100 {
        b.allow(t(6.0 + i as f64 * 0.01));
        if i % 3 == 0 {
            b.on_failure(t(6.0 + i as f64 * 0.01));
        } else {
            b.on_success(t(6.0 + i as f64 * 0.01));
        }
    }
    assert_eq!(b.state(), BreakerState::Closed);
    assert!(CircuitBreaker::new(BreakerConfig {
        failure_ratio: 0.0,
        ..cfg
    })
    .is_err());
    assert!(CircuitBreaker::new(BreakerConfig {
        open_for: SimDuration::ZERO,
        ..cfg
    })
    .is_err());
    Ok(())
}

#[test]
fn a_custom_rule_sees_its_window() -> Result<()> {
    fn no_retries(o: &Outgoing, _: &mut SimRng) -> bool {
        !o.retry
    }
    let mut g = Guard::new(&Protection::custom("no retries", secs(1), no_retries)?)?;
    let mut r = rng(5);
    assert!(g.allow(SimTime::ZERO, 0, &mut r) && !g.allow(SimTime::ZERO, 1, &mut r));
    assert!(Protection::custom("x", ns(1), no_retries).is_err());
    Ok(())
}

// ------------------------------------------------------------ storms

fn storm_params() -> storm::StormParams {
    storm::StormParams {
        seeds: 4,
        duration: secs(40),
        ..Default::default()
    }
}

#[test]
fn a_slow_spell_leaves_an_unprotected_service_stuck() -> Result<()> {
    let p = storm_params();
    let prots = [
        Protection::None,
        Protection::RetryBudget {
            ratio: 0.1,
            burst: 10.0,
        },
    ];
    let tl = storm::timeline(&p, &prots, secs(4))?;
    let none = &tl.curves[0];
    assert_eq!(none.recovery.recovered, 0, "stuck in every seed");
    // Its queue grows at attempts·λ − capacity = 3·600 − 800 per second
    // once every attempt times out (from 20 s on here; bins of 0.5 s).
    let q = |i: usize| none.in_system[i].mean;
    let growth = (q(70) - q(40)) / 15.0;
    let want = th::storm_queue_growth(p.arrival_rate(), p.attempts, p.capacity())?;
    assert!(
        (growth - want).abs() < 0.05 * want,
        "{growth} against {want}"
    );
    assert!(th::storm_load(p.load, p.attempts)? > 1.0);
    // A 10 % retry budget recovers in every seed, and keeps its bound.
    assert_eq!(tl.curves[1].recovery.recovered, tl.curves[1].recovery.runs);
    let c = p.cluster(prots[1], secs(4), 3)?;
    let r = c.run()?;
    assert!(r.counts.retries as f64 <= 10.0 + 0.1 * r.counts.requests as f64);
    // Without a trigger nothing happens: recovery 0, nothing refused.
    let calm = p.cluster(Protection::None, SimDuration::ZERO, 1)?.run()?;
    assert!(calm.success_rate() > 0.999 && calm.amplification() < 1.01);
    Ok(())
}

#[test]
fn protected_clients_recover_and_a_short_spell_passes() -> Result<()> {
    let p = storm_params();
    let prots = [
        Protection::None,
        Protection::AdaptiveThrottle {
            k: 2.0,
            window: secs(2),
        },
        Protection::CircuitBreaker(BreakerConfig::default()),
    ];
    let rc = storm::recovery_vs_length(&p, &prots, &[1.0, 3.0])?;
    for (name, rs) in &rc.curves {
        // A 1 s spell passes for everyone: recovery 0 in every seed.
        assert_eq!(
            (rs[0].recovered, rs[0].seconds.mean),
            (rs[0].runs, 0.0),
            "{name}"
        );
    }
    assert_eq!(rc.curves[0].1[1].recovered, 0);
    for (_, rs) in &rc.curves[1..] {
        assert_eq!(rs[1].recovered, rs[1].runs);
    }
    Ok(())
}

// ------------------------------------------------------------ shedding

#[test]
fn overload_collapses_goodput_unless_the_server_sheds() -> Result<()> {
    let p = shedding::SheddingParams::default();
    let guards = [
        shedding::Guarding::NONE,
        shedding::Guarding::queue_limit(200),
        shedding::Guarding::DEADLINES,
        shedding::Guarding::DEADLINES_LIFO,
    ];
    let g = shedding::goodput_vs_load(&p, &guards, &[0.5, 2.0])?;
    let at = |i: usize, j: usize| g.curves[i].goodput[j].1.mean;
    for i in 0..4 {
        // Below capacity everyone serves everything (0.5 ± noise).
        assert!((at(i, 0) - 0.5).abs() < 0.03, "{i}: {}", at(i, 0));
        // No server does more than its capacity.
        assert!(at(i, 1) <= 1.0 + 0.02);
    }
    assert!(
        at(0, 1) < 0.01 && at(2, 1) < 0.1,
        "collapse: {} {}",
        at(0, 1),
        at(2, 1)
    );
    assert!(
        at(1, 1) > 0.95 && at(3, 1) > 0.95,
        "held: {} {}",
        at(1, 1),
        at(3, 1)
    );
    Ok(())
}

// ------------------------------------------------------------ availability

#[test]
fn block_availability_matches_enumeration() -> Result<()> {
    use Block::*;
    let a = [0.9, 0.8, 0.95, 0.7, 0.99];
    assert!((th::series(&a[..3])? - 0.9 * 0.8 * 0.95).abs() < 1e-12);
    assert!((th::parallel(&a[..2])? - (1.0 - 0.1 * 0.2)).abs() < 1e-12);
    // Shared part 4 in two branches: by brute force over all 2^5 states.
    let b = Parallel(vec![
        Series(vec![Part(0), Part(4)]),
        Series(vec![Part(1), Part(4)]),
        AtLeast(2, vec![Part(2), Part(3), Part(0)]),
    ]);
    let mut brute = 0.0;
    for mask in 0..32u32 {
        let up = |i: usize| mask >> i & 1 == 1;
        let w: f64 = (0..5)
            .map(|i| if up(i) { a[i] } else { 1.0 - a[i] })
            .product();
        if b.is_up(&up) {
            brute += w;
        }
    }
    assert!((b.availability(&a)? - brute).abs() < 1e-12);
    // The naive product formula (treating the shared part as two) is wrong.
    let naive = 1.0 - (1.0 - a[0] * a[4]) * (1.0 - a[1] * a[4]);
    let two = Parallel(vec![
        Series(vec![Part(0), Part(4)]),
        Series(vec![Part(1), Part(4)]),
    ]);
    assert!((two.availability(&a)? - naive).abs() > 1e-4);
    assert!(Block::Series(vec![]).availability(&a).is_err());
    assert!(Part(7).availability(&a).is_err());
    assert!(AtLeast(4, vec![Part(0), Part(1)]).availability(&a).is_err());
    Ok(())
}

#[test]
fn composed_services_match_their_closed_forms() -> Result<()> {
    let p = composed::ComposedParams {
        horizon: secs(100_000),
        ..Default::default()
    };
    for pt in composed::availability(&p, &composed::Structure::examples())? {
        assert!(
            within_se(&pt.simulated, pt.theory, 4.0),
            "{}: {:?} against {}",
            pt.structure.name,
            pt.simulated,
            pt.theory
        );
    }
    let r = composed::retry_across(&p)?;
    for (k, m, t) in &r.success {
        assert!(within_se(m, *t, 4.0), "{k} attempts: {m:?} against {t}");
    }
    // Each extra attempt costs one timeout (100 ms) plus a round trip (2 ms).
    for (k, l) in &r.latency_ms {
        assert!(
            (l.mean - (f64::from(*k - 1) * 100.0 + 2.0)).abs() < 0.5,
            "{k}: {l:?}"
        );
    }
    Ok(())
}

// ------------------------------------------------------------ determinism

#[test]
fn same_seed_same_run() -> Result<()> {
    let p = storm_params();
    let c = p.cluster(
        Protection::AdaptiveThrottle {
            k: 2.0,
            window: secs(2),
        },
        secs(3),
        7,
    )?;
    let (a, b) = (c.run()?, c.run()?);
    assert_eq!(
        (a.counts, &a.bins, &a.in_system, a.events),
        (b.counts, &b.bins, &b.in_system, b.events)
    );
    let other = Cluster { seed: 8, ..c }.run()?;
    assert_ne!(a.bins, other.bins);
    Ok(())
}

#[test]
fn bad_parameters_are_errors() -> Result<()> {
    let ok = Cluster::default();
    assert!(Cluster {
        arrival_rate: f64::NAN,
        ..ok.clone()
    }
    .run()
    .is_err());
    assert!(Cluster {
        warmup: secs(20),
        ..ok.clone()
    }
    .run()
    .is_err());
    assert!(Cluster {
        arrival_rate: 1e9,
        duration: secs(10),
        ..ok.clone()
    }
    .run()
    .is_err());
    assert!(Cluster {
        report_every: ns(10),
        ..ok.clone()
    }
    .run()
    .is_err());
    let t = Trigger {
        at: secs(1),
        length: secs(1),
        kind: TriggerKind::LoseWorkers { workers: 2 },
    };
    assert!(Cluster {
        trigger: Some(t),
        ..ok.clone()
    }
    .run()
    .is_err());
    let retry = RetryPolicy::new(Backoff::None, SimDuration::ZERO, SimDuration::ZERO, 3)?;
    assert!(Cluster { retry, ..ok }.run().is_ok());
    assert!(balancing::p99_vs_load(&Default::default(), &Policy::ALL, &[1.0]).is_err());
    assert!(balancing::p99_vs_load(&Default::default(), &[], &[0.5]).is_err());
    assert!(storm::recovery_vs_length(&Default::default(), &[Protection::None], &[100.0]).is_err());
    Ok(())
}
