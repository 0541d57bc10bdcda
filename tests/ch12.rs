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

#[path = "ch12/notebook.rs"]
mod notebook;
#[path = "ch12/protection.rs"]
mod protection;
