//! Chapter 12 (notebook 12) and the `service` mechanisms: the server,
//! load-balancing policies, client-side protection, the cluster, and the
//! chapter's experiments — each against its closed form where it has one.
//!
//! Tolerances: a mean over R independent replications is checked within 4
//! standard errors `sd / sqrt(R)` of theory, widened only where the theory
//! is a limit the simulation approaches (said at each such check); a
//! binomial share within 4 binomial standard errors; bounds exactly.

use thinkdist::ch12::{balancing, composed, shedding, storm};
use thinkdist::measure::stats::MeanCi;
use thinkdist::measure::theory;
use thinkdist::measure::theory::service::{self as th, Block};
use thinkdist::prelude::*;
use thinkdist::retry::{Backoff, RetryPolicy};
use thinkdist::service::balance::{Balancer, Policy, View};
use thinkdist::service::cluster::{Cluster, Trigger, TriggerKind};
use thinkdist::service::protect::{
    AdaptiveThrottle, BreakerConfig, BreakerState, CircuitBreaker, Guard, Outgoing, Protection,
    RetryBudget, TokenBucket,
};
use thinkdist::service::server::{Admit, Discipline, Refusal, Server, ServerConfig, Shedding};

fn within_se(c: &MeanCi, theory: f64, k: f64) -> bool {
    (c.mean - theory).abs() <= k * c.sd / (c.n as f64).sqrt()
}

fn rng(i: u64) -> SimRng {
    simrng::stream(i, simrng::domain::EXPERIMENT, 12, 0)
}

/// Runs `f(seed)` for `n` seeds and returns the mean and interval.
fn over_seeds(n: u64, f: impl Fn(u64) -> Result<f64>) -> Result<MeanCi> {
    let xs = (0..n).map(f).collect::<Result<Vec<_>>>()?;
    mean_ci(&xs)
}

fn cluster(policy: Policy, servers: usize, load: f64, requests: f64, seed: u64) -> Cluster {
    let rate = load * servers as f64 * 100.0;
    Cluster {
        seed,
        servers,
        arrival_rate: rate,
        duration: SimDuration::from_secs_f64(requests / rate).unwrap(),
        warmup: SimDuration::from_secs_f64(requests / rate / 10.0).unwrap(),
        policy,
        ..Default::default()
    }
}

// ------------------------------------------------------------ the server

#[test]
fn server_starts_queues_rejects_and_sheds() -> Result<()> {
    let cfg = ServerConfig::new(2, Latency::constant(ms(10)))?
        .queue_limit(2)
        .shedding(Shedding::Expired);
    let mut s: Server<u32> = Server::new(cfg);
    let mut r = rng(1);
    let t0 = SimTime::ZERO;
    let late = Some(SimTime::from_start(ms(5)));
    assert!(matches!(
        s.arrive(0, t0, None, &mut r),
        Admit::Started { worker: 0, .. }
    ));
    assert!(matches!(
        s.arrive(1, t0, None, &mut r),
        Admit::Started { worker: 1, .. }
    ));
    assert!(matches!(s.arrive(2, t0, late, &mut r), Admit::Queued));
    assert!(matches!(s.arrive(3, t0, None, &mut r), Admit::Queued));
    match s.arrive(4, t0, None, &mut r) {
        Admit::Rejected {
            payload: 4,
            why: Refusal::QueueFull,
        } => {}
        other => panic!("expected a full queue, got {other:?}"),
    }
    // At 10 ms job 2's deadline (5 ms) has passed: dropped, 3 starts.
    let mut dropped = Vec::new();
    let f = s.finish(0, SimTime::from_start(ms(10)), &mut r, |j, why| {
        dropped.push((j.payload, why))
    });
    assert_eq!(f.job.map(|j| j.payload), Some(0));
    assert_eq!(f.next, Some(ms(10)));
    assert_eq!(dropped, vec![(2, Refusal::Expired)]);
    let st = s.stats();
    assert_eq!(
        (st.arrived, st.started, st.rejected, st.shed, st.completed),
        (5, 3, 1, 1, 1)
    );
    assert_eq!(s.in_system(), 2);
    // Half the workers lost: worker 1 finishes and idles; back: nothing waits.
    s.set_active(
        1,
        SimTime::from_start(ms(10)),
        &mut r,
        |_, _| panic!("nothing waits"),
        |_, _| {},
    )?;
    let f = s.finish(1, SimTime::from_start(ms(10)), &mut r, |_, _| {});
    assert!(f.job.is_some() && f.next.is_none());
    assert!(s
        .set_active(3, SimTime::ZERO, &mut r, |_, _| {}, |_, _| {})
        .is_err());
    // Capacity back; a slowdown stretches the next service times.
    s.set_active(
        2,
        SimTime::from_start(ms(10)),
        &mut r,
        |_, _| panic!("nothing waits"),
        |_, _| {},
    )?;
    s.set_slowdown(3.0)?;
    match s.arrive(9, SimTime::from_start(ms(10)), None, &mut r) {
        Admit::Started { service, .. } => assert_eq!(service, ms(30)),
        other => panic!("{other:?}"),
    }
    assert!(s.set_slowdown(0.0).is_err() && s.set_slowdown(f64::NAN).is_err());
    assert!(ServerConfig::new(0, Latency::zero()).is_err());
    Ok(())
}

#[test]
fn server_with_c_workers_is_erlang_c() -> Result<()> {
    // One server, 4 workers, behind the balancer: M/M/4 at load 0.8.
    let run = |seed| -> Result<f64> {
        let c = Cluster {
            seed,
            servers: 1,
            server: ServerConfig::new(4, Latency::exponential(ms(10))?)?,
            arrival_rate: 320.0,
            duration: secs(200),
            warmup: secs(10),
            ..Default::default()
        };
        Ok(c.run()?.latency.mean()?.as_ms())
    };
    let m = over_seeds(8, run)?;
    let th = theory::mmc(320.0, 100.0, 4)?.w * 1e3;
    assert!(within_se(&m, th, 4.0), "{m:?} against {th}");
    Ok(())
}

#[test]
fn queue_limit_blocks_as_mm1k_says() -> Result<()> {
    // M/M/1/K with K = limit + 1 in the system: P(block) = (1−ρ)ρ^K/(1−ρ^(K+1)).
    let (rho, limit) = (0.9f64, 4usize);
    let k = (limit + 1) as i32;
    let theory = (1.0 - rho) * rho.powi(k) / (1.0 - rho.powi(k + 1));
    let m = over_seeds(8, |seed| {
        let mut c = cluster(Policy::Random, 1, rho, 50_000.0, seed);
        c.server = c.server.queue_limit(limit);
        let r = c.run()?;
        Ok(r.counts.errors as f64 / r.counts.requests as f64)
    })?;
    assert!(within_se(&m, theory, 4.0), "{m:?} against {theory}");
    Ok(())
}

#[test]
fn lifo_keeps_the_mean_and_fattens_the_tail() -> Result<()> {
    // Any work-conserving order gives M/M/1's mean 1/(μ−λ); LIFO has a
    // longer tail than FIFO's exponential.
    let run = |d: Discipline, seed| -> Result<(f64, f64)> {
        let mut c = cluster(Policy::Random, 1, 0.8, 100_000.0, seed);
        c.server = c.server.discipline(d);
        let r = c.run()?;
        Ok((
            r.latency.mean()?.as_ms(),
            r.latency.percentile(0.99)?.as_ms(),
        ))
    };
    let lifo = over_seeds(8, |s| Ok(run(Discipline::Lifo, s)?.0))?;
    assert!(within_se(&lifo, 50.0, 4.0), "{lifo:?}");
    let p99_lifo = over_seeds(4, |s| Ok(run(Discipline::Lifo, s)?.1))?;
    let p99_fifo = over_seeds(4, |s| Ok(run(Discipline::Fifo, s)?.1))?;
    assert!(
        p99_lifo.interval().0 > p99_fifo.interval().1,
        "{p99_lifo:?} {p99_fifo:?}"
    );
    Ok(())
}

// ------------------------------------------------------------ balancing

#[test]
fn balancer_picks_follow_their_rules() -> Result<()> {
    let mut r = rng(2);
    let mut b = Balancer::new(Policy::RoundRobin, 3, SimDuration::ZERO)?;
    let picks: Vec<usize> = (0..6).map(|_| b.pick(&mut r)).collect::<Result<_>>()?;
    assert_eq!(picks, vec![0, 1, 2, 0, 1, 2]);
    // Least outstanding with current load always picks an idle server while
    // there is one; ties spread uniformly.
    let mut b = Balancer::new(Policy::LeastOutstanding, 4, SimDuration::ZERO)?;
    let first: Vec<usize> = (0..4).map(|_| b.pick(&mut r)).collect::<Result<_>>()?;
    let mut sorted = first.clone();
    sorted.sort();
    assert_eq!(sorted, vec![0, 1, 2, 3]);
    let mut counts = [0u32; 4];
    for _ in 0..40_000 {
        let mut b = Balancer::new(Policy::ShortestQueue, 4, SimDuration::ZERO)?;
        counts[b.pick(&mut r)?] += 1;
    }
    // Binomial(40,000, 1/4): sd ≈ 87.
    assert!(
        counts
            .iter()
            .all(|&c| (c as f64 - 10_000.0).abs() < 4.0 * 87.0),
        "{counts:?}"
    );
    // Power of two choices never compares a server with itself: with one
    // server loaded, it is picked only if both draws hit it, which cannot be.
    let mut b = Balancer::new(Policy::PowerOfTwo, 2, SimDuration::ZERO)?;
    b.pick(&mut r)?;
    let busy = (0..2).find(|&i| b.load(i) == 1).unwrap();
    assert!((0..1000).all(|_| {
        let mut c = b.clone();
        c.pick(&mut r).unwrap() != busy
    }));
    // With stale reports, shortest queue herds: 30 requests spread while no
    // report came, server 2 finishes all of its own, the report says so, and
    // every pick until the next report goes to server 2.
    let mut jsq = Balancer::new(Policy::ShortestQueue, 4, ms(10))?;
    for _ in 0..30 {
        jsq.pick(&mut r)?;
    }
    assert!((0..4).all(|i| jsq.load(i) > 0));
    for _ in 0..30 {
        jsq.done(2);
    }
    jsq.report();
    let herd: Vec<usize> = (0..5).map(|_| jsq.pick(&mut r)).collect::<Result<_>>()?;
    assert_eq!(herd, vec![2; 5]);
    // Least outstanding counts its own sends since the report: four picks
    // on four equally loaded servers go to four servers.
    let mut lor = Balancer::new(Policy::LeastOutstanding, 4, ms(10))?;
    let mut spread: Vec<usize> = (0..4).map(|_| lor.pick(&mut r)).collect::<Result<_>>()?;
    spread.sort();
    assert_eq!(spread, vec![0, 1, 2, 3]);
    assert!(Balancer::new(Policy::Random, 0, SimDuration::ZERO).is_err());
    Ok(())
}

#[test]
fn a_custom_policy_out_of_range_is_an_error_naming_it() -> Result<()> {
    fn broken(v: &View, _: &mut SimRng) -> usize {
        v.servers()
    }
    let e = cluster(Policy::custom("off by one", broken), 4, 0.5, 1000.0, 1)
        .run()
        .unwrap_err();
    assert!(e.to_string().contains("off by one"), "{e}");
    Ok(())
}

#[test]
fn random_is_mm1_and_round_robin_is_gi_m_1() -> Result<()> {
    for load in [0.5, 0.9] {
        let stats = |p: Policy| -> Result<(MeanCi, MeanCi)> {
            let xs = (0..8)
                .map(|s| {
                    let r = cluster(p, 10, load, 100_000.0, s).run()?;
                    Ok((
                        r.latency.mean()?.as_ms(),
                        r.latency.percentile(0.99)?.as_ms(),
                    ))
                })
                .collect::<Result<Vec<_>>>()?;
            Ok((
                mean_ci(&xs.iter().map(|x| x.0).collect::<Vec<_>>())?,
                mean_ci(&xs.iter().map(|x| x.1).collect::<Vec<_>>())?,
            ))
        };
        let (m, q) = stats(Policy::Random)?;
        let mm1 = theory::mm1(load * 100.0, 100.0)?;
        assert!(within_se(&m, mm1.w * 1e3, 4.0), "random {load}: {m:?}");
        assert!(
            within_se(&q, mm1.time_in_system_percentile(0.99)? * 1e3, 4.0),
            "{q:?}"
        );
        let (m, q) = stats(Policy::RoundRobin)?;
        let rr = th::round_robin(load, 100.0, 10)?;
        assert!(
            within_se(&m, rr.mean * 1e3, 4.0),
            "round robin {load}: {m:?} {}",
            rr.mean
        );
        assert!(within_se(&q, rr.percentile(0.99)? * 1e3, 4.0), "{q:?}");
    }
    Ok(())
}

#[test]
fn power_of_two_approaches_the_supermarket_limit() -> Result<()> {
    // The supermarket model is the limit of many servers: at 100 servers
    // the simulation sits on it (within 4 standard errors); at 10 it is
    // measurably above it, and closer at 100 than at 10.
    let mean = |n: usize, seed| -> Result<f64> {
        Ok(cluster(Policy::PowerOfTwo, n, 0.7, 60_000.0, seed)
            .run()?
            .latency
            .mean()?
            .as_ms())
    };
    let th = th::supermarket(0.7, 100.0, 2)?.mean * 1e3;
    let big = over_seeds(6, |s| mean(100, s))?;
    assert!(within_se(&big, th, 4.0), "{big:?} against {th}");
    let small = over_seeds(6, |s| mean(10, s))?;
    assert!(
        small.interval().0 > th && small.mean - th > big.mean - th,
        "{small:?}"
    );
    // The tail too, at 100 servers.
    let q = over_seeds(6, |s| {
        Ok(cluster(Policy::PowerOfTwo, 100, 0.7, 60_000.0, s)
            .run()?
            .latency
            .percentile(0.99)?
            .as_ms())
    })?;
    let tq = th::supermarket(0.7, 100.0, 2)?.percentile(0.99)? * 1e3;
    assert!(within_se(&q, tq, 4.0), "{q:?} against {tq}");
    Ok(())
}

#[test]
fn supermarket_theory_reduces_to_mm1_and_checks_inputs() -> Result<()> {
    let one = th::supermarket(0.8, 100.0, 1)?;
    assert!((one.mean - 0.05).abs() < 1e-9);
    assert!(
        (one.percentile(0.99)? - theory::mm1(80.0, 100.0)?.time_in_system_percentile(0.99)?).abs()
            < 1e-9
    );
    assert!((th::supermarket_fraction(0.9, 2, 3)? - 0.9f64.powi(7)).abs() < 1e-12);
    // Round robin over one server is M/M/1 too.
    assert!((th::round_robin(0.8, 100.0, 1)?.mean - 0.05).abs() < 1e-9);
    assert!(th::supermarket(1.0, 100.0, 2).is_err() && th::round_robin(0.0, 1.0, 2).is_err());
    assert!(th::supermarket(0.5, 100.0, 0).is_err());
    Ok(())
}

#[test]
fn shortest_queue_beats_two_choices_and_stays_above_one_shared_queue() -> Result<()> {
    let p = balancing::BalanceParams {
        requests: 40_000,
        seeds: 4,
        ..Default::default()
    };
    let b = balancing::p99_vs_load(
        &p,
        &[
            Policy::PowerOfTwo,
            Policy::ShortestQueue,
            Policy::LeastOutstanding,
        ],
        &[0.9],
    )?;
    let p2 = b.curve(Policy::PowerOfTwo).unwrap().points[0].p99_ms;
    let jsq = b.curve(Policy::ShortestQueue).unwrap().points[0].p99_ms;
    let lor = b.curve(Policy::LeastOutstanding).unwrap().points[0].p99_ms;
    assert!(jsq.interval().1 < p2.interval().0);
    // With current information, counting own sends changes nothing.
    assert_eq!(jsq.mean, lor.mean);
    // No balancer beats one shared queue (M/M/20).
    assert!(
        jsq.interval().0 > b.pooled_ms[0].2,
        "{jsq:?} {:?}",
        b.pooled_ms
    );
    Ok(())
}

#[test]
fn old_reports_make_shortest_queue_herd() -> Result<()> {
    let p = balancing::BalanceParams {
        requests: 40_000,
        seeds: 4,
        ..Default::default()
    };
    let pols = [
        Policy::Random,
        Policy::ShortestQueue,
        Policy::LeastOutstanding,
        Policy::PowerOfTwo,
    ];
    let b = balancing::p99_vs_age(&p, &pols, 0.9, &[0.0, 100.0])?;
    let at = |pol, i: usize| b.curve(pol).unwrap().points[i].p99_ms;
    // Fresh: shortest queue far better than random; 100 ms old: worse.
    assert!(at(Policy::ShortestQueue, 0).interval().1 < at(Policy::Random, 0).interval().0);
    assert!(at(Policy::ShortestQueue, 1).interval().0 > at(Policy::Random, 1).interval().1);
    // Counting one's own sends and two random choices both stay far below.
    assert!(at(Policy::LeastOutstanding, 1).interval().1 < at(Policy::PowerOfTwo, 1).interval().0);
    assert!(at(Policy::PowerOfTwo, 1).interval().1 < at(Policy::Random, 1).interval().0);
    Ok(())
}

/// The reader's starting point in notebook 12: power of two choices,
/// written with the prelude only. Kept equal to the notebook's cell (text)
/// and to the built-in policy (results) by the tests below.
#[rustfmt::skip]
fn two_choices(v: &View, rng: &mut SimRng) -> usize {
    let n = v.servers();
    if n == 1 {
        return 0;
    }
    let a = simrng::index(rng, n);
    let b = (a + 1 + simrng::index(rng, n - 1)) % n; // another server than a
    match v.reported[a].cmp(&v.reported[b]) {
        std::cmp::Ordering::Less => a,
        std::cmp::Ordering::Greater => b,
        std::cmp::Ordering::Equal => if simrng::chance(rng, 0.5) { a } else { b },
    }
}

#[test]
fn the_notebooks_policy_is_the_built_in_one() -> Result<()> {
    let p = balancing::BalanceParams {
        requests: 5_000,
        seeds: 2,
        ..Default::default()
    };
    let mine = balancing::p99_vs_load(&p, &[Policy::custom("mine", two_choices)], &[0.5, 0.9])?;
    let built = balancing::p99_vs_load(&p, &[Policy::PowerOfTwo], &[0.5, 0.9])?;
    for (a, b) in mine.curves[0].points.iter().zip(&built.curves[0].points) {
        assert_eq!(a.p99_ms, b.p99_ms);
    }
    // The notebook's cell holds this function's text.
    let nb = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/notebooks/12-cloud-and-services.ipynb"
    ))
    .expect("notebook 12");
    let here = include_str!("ch12.rs");
    let start = here.find("fn two_choices(").unwrap();
    let end = start + here[start..].find("\n}\n").unwrap() + 2;
    let json: serde_json::Value = serde_json::from_str(&nb).unwrap();
    let found = json["cells"].as_array().unwrap().iter().any(|c| {
        let src: String = c["source"].as_array().map_or(String::new(), |l| {
            l.iter().filter_map(|x| x.as_str()).collect()
        });
        src.contains(&here[start..end])
    });
    assert!(
        found,
        "notebook 12 has no cell with this test's two_choices"
    );
    // And the crate shows its own version.
    assert!(thinkdist::ch12::source("power of two choices")?.contains("Policy::PowerOfTwo"));
    assert!(thinkdist::ch12::source("nothing").is_err());
    Ok(())
}

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
