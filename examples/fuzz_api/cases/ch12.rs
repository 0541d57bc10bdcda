//! Chapter 12 and `service`: the server, balancer, protections, cluster,
//! the chapter's experiments and `theory_service`, with bad and extreme
//! parameters.

use crate::harness::*;
use thinkdist::measure::theory::service::{self as th, Block};
use thinkdist::prelude::*;
use thinkdist::retry::{Backoff, RetryPolicy};
use thinkdist::service::balance::{Balancer, Policy, View};
use thinkdist::service::cluster::{Cluster, Trigger, TriggerKind};
use thinkdist::service::protect::{
    AdaptiveThrottle, BreakerConfig, CircuitBreaker, Guard, Outgoing, Protection, RetryBudget,
    TokenBucket,
};
use thinkdist::service::server::{Server, ServerConfig, Shedding};

fn far(v: &View, _: &mut SimRng) -> usize {
    v.servers() + 7
}
fn always(_: &Outgoing, _: &mut SimRng) -> bool {
    true
}

/// A cluster small enough for a case: 2 servers, 200 requests.
fn small() -> Cluster {
    Cluster {
        servers: 2,
        arrival_rate: 100.0,
        duration: secs(2),
        warmup: ms(100),
        ..Cluster::default()
    }
}

fn show(r: &thinkdist::service::cluster::ClusterRun) -> Outcome {
    prob("success_rate", r.success_rate())?;
    finite_nonneg("amplification", r.amplification())?;
    ensure(
        r.counts.succeeded + r.counts.failed <= r.counts.requests,
        || format!("{:?}: more settled than arrived", r.counts),
    )?;
    for g in r.goodput_per_sec() {
        finite_nonneg("goodput", g)?;
    }
    Ok(())
}

fn server_cases(c: &mut Cases) {
    for &(n, k) in USIZE {
        c.add(
            format!("service::ServerConfig::new({n} workers)"),
            move || {
                let cfg = ServerConfig::new(k, Latency::constant(ms(1)))?.queue_limit(k);
                let mut s: Server<u8> = Server::new(cfg);
                let mut r = simrng::stream(1, 0, 0, 0);
                for _ in 0..3 {
                    let _ = s.arrive(1, SimTime::ZERO, Some(SimTime::ZERO), &mut r);
                }
                let _ = s.finish(k, SimTime::MAX, &mut r, |_, _| {});
                s.set_active(k, SimTime::MAX, &mut r, |_, _| {}, |_, _| {})?;
                finite_nonneg("mean_in_system", s.mean_in_system(SimTime::MAX)?)
            },
        );
    }
    for (ln, l) in latencies() {
        c.add(
            format!("service::ServerConfig::new(1, {ln}).capacity"),
            move || {
                let cfg = ServerConfig::new(1, l.clone())?;
                not_nan("capacity", cfg.capacity())
            },
        );
    }
    for &(fname, f) in F64 {
        c.add(
            format!("service::Server::set_slowdown({fname})"),
            move || {
                let mut s: Server<u8> =
                    Server::new(ServerConfig::new(1, Latency::constant(ms(1)))?);
                s.set_slowdown(f)?;
                let mut r = simrng::stream(1, 0, 0, 0);
                let _ = s.arrive(1, SimTime::ZERO, None, &mut r);
                Ok(())
            },
        );
    }
    for &(dn, d) in DUR {
        c.add(
            format!("service::Shedding::MaxWait({dn}) validate"),
            move || {
                Ok(ServerConfig::new(1, Latency::zero())?
                    .shedding(Shedding::MaxWait(d))
                    .validate()?)
            },
        );
    }
}

fn balance_cases(c: &mut Cases) {
    for &(n, k) in USIZE {
        for p in Policy::ALL {
            c.add(
                format!("service::Balancer::new({}, {n} servers)", p.name()),
                move || {
                    let mut b = Balancer::new(p, k, ms(1))?;
                    let mut r = simrng::stream(1, 0, 0, 0);
                    for _ in 0..10 {
                        let i = b.pick(&mut r)?;
                        ensure(i < k, || format!("picked {i} of {k}"))?;
                        b.done(i);
                    }
                    b.report();
                    Ok(())
                },
            );
        }
    }
    c.add("service::Balancer custom policy out of range", || {
        let mut b = Balancer::new(Policy::custom("far", far), 3, SimDuration::ZERO)?;
        let mut r = simrng::stream(1, 0, 0, 0);
        b.pick(&mut r).map(|_| ())?;
        Err(Fail::Wrong("an out-of-range pick was accepted".into()))
    });
}

fn protect_cases(c: &mut Cases) {
    for &(an, a) in F64 {
        for &(bn, b) in F64 {
            c.add(
                format!("service::RetryBudget::new({an}, {bn})"),
                move || {
                    let mut x = RetryBudget::new(a, b)?;
                    x.on_request();
                    let _ = x.try_retry();
                    finite_nonneg("balance", x.balance())
                },
            );
            c.add(
                format!("service::TokenBucket::new({an}, {bn})"),
                move || {
                    let mut t = TokenBucket::new(a, b)?;
                    let _ = (t.try_take(SimTime::ZERO), t.try_take(SimTime::MAX));
                    finite_nonneg("tokens", t.tokens(SimTime::MAX))
                },
            );
        }
        for &(dn, d) in DUR_SHORT {
            c.add(
                format!("service::AdaptiveThrottle::new({an}, {dn})"),
                move || {
                    let mut t = AdaptiveThrottle::new(a, d)?;
                    let mut r = simrng::stream(1, 0, 0, 0);
                    let _ = t.allow(SimTime::MAX, &mut r);
                    t.count_accept(SimTime::MAX);
                    prob("reject_probability", t.reject_probability(SimTime::MAX))
                },
            );
            c.add(
                format!("service::BreakerConfig{{failure_ratio: {an}, window: {dn}}}"),
                move || {
                    let cfg = BreakerConfig {
                        failure_ratio: a,
                        window: d,
                        open_for: d,
                        ..Default::default()
                    };
                    let mut b = CircuitBreaker::new(cfg)?;
                    for t in [SimTime::ZERO, SimTime::MAX] {
                        let _ = b.allow(t);
                        b.on_failure(t);
                        b.on_success(t);
                    }
                    Ok(())
                },
            );
        }
    }
    for &(dn, d) in DUR_SHORT {
        c.add(
            format!("service::Protection::custom(window {dn})"),
            move || {
                let mut g = Guard::new(&Protection::custom("always", d, always)?)?;
                let mut r = simrng::stream(1, 0, 0, 0);
                ensure(g.allow(SimTime::MAX, u32::MAX, &mut r), || "refused".into())
            },
        );
    }
}

fn cluster_cases(c: &mut Cases) {
    let t = "service::Cluster";
    let b = body(|p: &Cluster| show(&p.run()?));
    let base = small();
    c.vary(t, "run", &base, "seed", U64, |p, v| p.seed = v, &b);
    c.vary(t, "run", &base, "servers", USIZE, |p, v| p.servers = v, &b);
    c.vary(
        t,
        "run",
        &base,
        "arrival_rate",
        F64,
        |p, v| p.arrival_rate = v,
        &b,
    );
    c.vary(t, "run", &base, "duration", DUR, |p, v| p.duration = v, &b);
    c.vary(t, "run", &base, "warmup", DUR, |p, v| p.warmup = v, &b);
    c.vary(
        t,
        "run",
        &base,
        "report_every",
        DUR,
        |p, v| p.report_every = v,
        &b,
    );
    c.vary(t, "run", &base, "bin", DUR, |p, v| p.bin = v, &b);
    c.vary(
        t,
        "run",
        &base,
        "network",
        &latencies(),
        |p, v| p.network = v,
        &b,
    );
    c.vary(
        t,
        "run",
        &base,
        "service",
        &latencies(),
        |p, v| p.server.service = v,
        &b,
    );
    c.vary(
        t,
        "run",
        &base,
        "workers",
        USIZE,
        |p, v| p.server.workers = v,
        &b,
    );
    c.vary(
        t,
        "run",
        &base,
        "queue_limit",
        USIZE,
        |p, v| p.server.queue_limit = Some(v),
        &b,
    );
    c.vary(
        t,
        "run",
        &base,
        "policy",
        &[("custom far", Policy::custom("far", far))],
        |p, v| p.policy = v,
        &b,
    );
    for &(n, a) in U32 {
        c.add(
            format!("{t}{{retry: {n} attempts, 1 ms timeout}}.run"),
            move || {
                let retry =
                    RetryPolicy::new(Backoff::FullJitter, ms(1), ms(10), a)?.with_timeout(ms(1))?;
                show(&Cluster { retry, ..small() }.run()?)
            },
        );
    }
    for &(dn, d) in DUR {
        for kind in [
            TriggerKind::Slow { factor: 3.0 },
            TriggerKind::LoseWorkers { workers: 1 },
        ] {
            c.add(
                format!("{t}{{trigger at {dn} for {dn}, {kind:?}}}.run"),
                move || {
                    let trigger = Some(Trigger {
                        at: d,
                        length: d,
                        kind,
                    });
                    show(&Cluster { trigger, ..small() }.run()?)
                },
            );
        }
    }
    for &(fname, f) in F64 {
        c.add(
            format!("{t}{{trigger Slow {{ factor: {fname} }}}}.run"),
            move || {
                let trigger = Some(Trigger {
                    at: ms(500),
                    length: ms(500),
                    kind: TriggerKind::Slow { factor: f },
                });
                show(&Cluster { trigger, ..small() }.run()?)
            },
        );
        c.add(
            format!("{t}{{protection RetryBudget {{ ratio: {fname} }}}}.run"),
            move || {
                show(
                    &Cluster {
                        protection: Protection::RetryBudget { ratio: f, burst: f },
                        ..small()
                    }
                    .run()?,
                )
            },
        );
        c.add(
            format!("{t}{{protection AdaptiveThrottle {{ k: {fname} }}}}.run"),
            move || {
                show(
                    &Cluster {
                        protection: Protection::AdaptiveThrottle {
                            k: f,
                            window: secs(1),
                        },
                        ..small()
                    }
                    .run()?,
                )
            },
        );
    }
}

fn theory_cases(c: &mut Cases) {
    for &(an, a) in F64 {
        for &(bn, b) in F64 {
            c.add(
                format!("theory::service::supermarket({an}, {bn}, 2)"),
                move || {
                    let m = th::supermarket(a, b, 2)?;
                    finite_nonneg("mean", m.mean)?;
                    prob("tail", m.tail(b))?;
                    finite_nonneg("p99", m.percentile(0.99)?)
                },
            );
            c.add(
                format!("theory::service::round_robin({an}, {bn}, 20)"),
                move || {
                    let m = th::round_robin(a, b, 20)?;
                    finite_nonneg("mean", m.mean)?;
                    finite_nonneg("p99", m.percentile(0.99)?)
                },
            );
            c.add(
                format!("theory::service::throttle_recovery({an}, 2, {bn}, 0.9)"),
                move || finite_nonneg("t", th::throttle_recovery(a, 2.0, b, 0.9)?),
            );
            c.add(
                format!("theory::service::throttled_send_rate({an}, {bn}, 2)"),
                move || not_nan("rate", th::throttled_send_rate(a, b, 2.0)?),
            );
        }
        for &(dn, d) in USIZE {
            c.add(
                format!("theory::service::supermarket_fraction({an}, {dn}, 3)"),
                move || prob("fraction", th::supermarket_fraction(a, d, 3)?),
            );
            c.add(
                format!("theory::service::supermarket(0.5, 100, d {dn})"),
                move || prob("tail", th::supermarket(0.5, 100.0, d)?.tail(a)),
            );
        }
        for &(un, u) in U32 {
            c.add(
                format!("theory::service::retry_across_replicas({an}, {un}, 3)"),
                move || prob("success", th::retry_across_replicas(a, u, 3)?),
            );
            c.add(
                format!("theory::service::storm_load({an}, {un})"),
                move || not_nan("load", th::storm_load(a, u)?),
            );
        }
    }
    for &(pn, p) in PROB {
        c.add(
            format!("theory::service::series/parallel([{pn}, 0.5])"),
            move || {
                prob("series", th::series(&[p, 0.5])?)?;
                prob("parallel", th::parallel(&[p, 0.5])?)
            },
        );
    }
    c.add("theory::service::Block with 30 shared parts", || {
        let b = Block::Parallel(
            (0..30)
                .map(|i| Block::Series(vec![Block::Part(i), Block::Part(i)]))
                .collect(),
        );
        prob("availability", b.availability(&[0.5; 30])?)
    });
}

pub fn add(c: &mut Cases) {
    server_cases(c);
    balance_cases(c);
    protect_cases(c);
    cluster_cases(c);
    super::ch12_chapter::chapter_cases(c);
    theory_cases(c);
}
