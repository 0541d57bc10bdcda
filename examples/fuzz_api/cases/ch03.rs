//! Chapter 3: failure detection (runs, replay, scores, trade-off, failure
//! models), backoff (contention, policy comparison) and fan-out / hedging.

use crate::harness::*;
use thinkdist::ch03::backoff::{self, Contention};
use thinkdist::ch03::failure_detection::{self as fd, FailureDetection};
use thinkdist::ch03::fanout::{self, Fanout, FanoutPoint, HedgePoint, Hedging, ServerLatency};
use thinkdist::detect::{self, HeartbeatDetector, PhiAccrual, PhiModel, Status};
use thinkdist::measure::MeanCi;
use thinkdist::prelude::*;
use thinkdist::retry::{Backoff, Exponent, RetryPolicy};

fn detection(c: &mut Cases) {
    let base = FailureDetection {
        crash_at: secs(20),
        after_crash: secs(5),
        ..FailureDetection::default()
    };
    let b = body(|p: &FailureDetection| {
        let _ = (p.horizon(), p.detectors()?);
        let r = p.run()?;
        let _ = (r.scores(), r.score_exp(), r.sent, r.lost);
        chart(r.timeline_around_crash(secs(2), secs(4)))?;
        let a = chart(r.timeline());
        let b = if p.live {
            chart(r.phi_chart(0.0))
        } else {
            Ok(())
        };
        a.and(b)
    });
    let t = "ch03::FailureDetection";
    c.vary(t, "run", &base, "seed", U64, |p, v| p.seed = v, &b);
    c.vary(t, "run", &base, "interval", DUR, |p, v| p.interval = v, &b);
    c.vary(
        t,
        "run",
        &base,
        "latency",
        &latencies(),
        |p, v| p.latency = v,
        &b,
    );
    c.vary(t, "run", &base, "loss", PROB, |p, v| p.loss = v, &b);
    c.vary(
        t,
        "run",
        &base,
        "pause_prob",
        PROB,
        |p, v| p.pause_prob = v,
        &b,
    );
    c.vary(
        t,
        "run",
        &base,
        "pause_mean",
        DUR,
        |p, v| p.pause_mean = v,
        &b,
    );
    c.vary(t, "run", &base, "crash_at", DUR, |p, v| p.crash_at = v, &b);
    c.vary(
        t,
        "run",
        &base,
        "after_crash",
        DUR,
        |p, v| p.after_crash = v,
        &b,
    );
    c.vary(
        t,
        "run",
        &base,
        "check_every",
        DUR,
        |p, v| p.check_every = v,
        &b,
    );
    c.vary(t, "run", &base, "timeout", DUR, |p, v| p.timeout = v, &b);
    c.vary(
        t,
        "run",
        &base,
        "phi_threshold",
        F64,
        |p, v| p.phi_threshold = v,
        &b,
    );
    c.vary(
        t,
        "run",
        &base,
        "phi_window",
        USIZE,
        |p, v| p.phi_window = v,
        &b,
    );
    c.vary(
        t,
        "run",
        &base,
        "phi_min_sd",
        DUR,
        |p, v| p.phi_min_sd = v,
        &b,
    );
    c.vary(
        t,
        "run",
        &base,
        "phi_exp_max_gap",
        F64,
        |p, v| p.phi_exp_max_gap = v,
        &b,
    );
    c.vary(
        t,
        "run",
        &base,
        "live",
        &[("false", false)],
        |p, v| p.live = v,
        &b,
    );
    let small = FailureDetection {
        crash_at: secs(5),
        after_crash: secs(2),
        ..FailureDetection::default()
    };
    for &(n, v) in RUNS64 {
        let s = small.clone();
        c.add(
            format!("ch03::failure_detection::tradeoff(base, [500ms], [8], seeds {n})"),
            move || {
                let tr = fd::tradeoff(&s, &[ms(500)], &[8.0], v)?;
                table(&tr.table())?;
                chart(tr.chart())
            },
        );
    }
    for &(n, d) in DUR {
        let s = small.clone();
        c.add(
            format!("ch03::failure_detection::tradeoff(base, [{n}], [8], 2)"),
            move || {
                let tr = fd::tradeoff(&s, &[d], &[8.0], 2)?;
                table(&tr.table())?;
                chart(tr.chart())
            },
        );
    }
    for &(n, x) in F64 {
        let s = small.clone();
        c.add(
            format!("ch03::failure_detection::tradeoff(base, [500ms], [{n}], 2)"),
            move || {
                let tr = fd::tradeoff(&s, &[ms(500)], &[x], 2)?;
                table(&tr.table())?;
                chart(tr.chart())
            },
        );
        let s = small.clone();
        c.add(format!("ch03::FdRun.phi_chart(from {n} s)"), move || {
            chart(s.run()?.phi_chart(x))
        });
    }
    for &(n, x) in F64 {
        let s = small.clone();
        c.add(
            format!("ch03::failure_detection::tradeoff_models(base, [500ms], [8], [{n}], 2)"),
            move || {
                let tr = fd::tradeoff_models(&s, &[ms(500)], &[8.0], &[x], 2)?;
                table(&tr.table())?;
                chart(tr.chart())
            },
        );
    }
    for &(n, d) in DUR {
        for (mn, model) in [
            ("Normal", PhiModel::Normal { min_sd: d }),
            ("Exponential", PhiModel::Exponential),
        ] {
            c.add(
                format!(
                    "detect::PhiAccrual::with_model(8, 10, {mn} {n}).ignore_gaps_over({n}), phi"
                ),
                move || {
                    let mut p = PhiAccrual::with_model(8.0, 10, model)?.ignore_gaps_over(d)?;
                    for t in [0, 1, 2, 1_000_000, u64::MAX / 2, u64::MAX] {
                        p.heartbeat(SimTime(t));
                        let v = p.phi(SimTime(t.saturating_add(d.0)));
                        ensure(!v.is_nan() && v >= 0.0, || format!("phi = {v}"))?;
                    }
                    let _ = (p.model().name(), p.max_gap(), p.mean_sd_ms());
                    Ok(())
                },
            );
        }
        let s = small.clone();
        c.add(
            format!("ch03::FdRun.timeline_around_crash({n}, {n})"),
            move || chart(s.run()?.timeline_around_crash(d, d)),
        );
    }
    c.add(
        "ch03::failure_detection::tradeoff(base, [], [], 2)",
        move || {
            let tr = fd::tradeoff(
                &FailureDetection {
                    crash_at: secs(5),
                    after_crash: secs(2),
                    ..FailureDetection::default()
                },
                &[],
                &[],
                2,
            )?;
            table(&tr.table())?;
            chart(tr.chart())
        },
    );
    type Arrivals = fn() -> Vec<SimTime>;
    let arrivals: Vec<(&str, Arrivals)> = vec![
        ("[]", Vec::new),
        ("[0]", || vec![SimTime(0)]),
        ("[SimTime::MAX]", || vec![SimTime::MAX]),
        ("[0, SimTime::MAX]", || vec![SimTime(0), SimTime::MAX]),
        ("[SimTime::MAX, 0] (backwards)", || {
            vec![SimTime::MAX, SimTime(0)]
        }),
        ("10^5 × 1ms", || {
            (0..100_000).map(|i| SimTime(i * 1_000_000)).collect()
        }),
    ];
    for (an, a) in arrivals {
        for &(cn, ce) in DUR_SHORT {
            for &(hn, h) in [
                ("1s", SimTime(1_000_000_000)),
                ("SimTime::MAX", SimTime::MAX),
            ]
            .iter()
            {
                c.add(format!("ch03::failure_detection::replay(heartbeat 500ms and phi, {an}, check_every {cn}, horizon {hn})"), move || {
                    let a = a();
                    let mut hb = HeartbeatDetector::new(ms(500))?;
                    fd::replay(&mut hb, &a, ce, h)?;
                    let mut phi = PhiAccrual::new(8.0, 100, ms(20))?;
                    fd::replay(&mut phi, &a, ce, h)?;
                    let mut ex = PhiAccrual::exponential(8.0, 100)?.ignore_gaps_over(ms(200))?;
                    detect::replay(&mut ex, &a, ce, h)?;
                    let s = fd::score(hb.transitions(), SimTime(500_000_000));
                    let _ = fd::score(&[(SimTime::MAX, Status::Suspect), (SimTime(0), Status::Suspect)], SimTime::MAX);
                    let _ = s.detection;
                    Ok(())
                });
            }
        }
    }
    for &(n, d) in DUR {
        c.add(
            format!("ch03::failure_detection::failure_modes(1, phase {n}, 0.5, 1ms, 0.1)"),
            move || {
                let m = fd::failure_modes(1, d, 0.5, ms(1), 0.1)?;
                table(&m.table())?;
                chart(m.success_chart())?;
                chart(m.gray_diagram())
            },
        );
        c.add(
            format!("ch03::failure_detection::failure_modes(1, 100ms, 0.5, slow {n}, 0.1)"),
            move || {
                let m = fd::failure_modes(1, ms(100), 0.5, d, 0.1)?;
                table(&m.table())?;
                chart(m.gray_diagram())
            },
        );
    }
    for &(n, p) in PROB {
        c.add(
            format!("ch03::failure_detection::failure_modes(1, 100ms, 0.5, 1ms, network_loss {n})"),
            move || {
                let m = fd::failure_modes(1, ms(100), 0.5, ms(1), p)?;
                table(&m.table())?;
                chart(m.success_chart())
            },
        );
        c.add(
            format!("ch03::failure_detection::failure_modes(1, 100ms, omission {n}, 1ms, 0.1)"),
            move || {
                let m = fd::failure_modes(1, ms(100), p, ms(1), 0.1)?;
                table(&m.table())
            },
        );
    }
    for &(n, v) in U64 {
        c.add(
            format!("ch03::failure_detection::failure_modes(seed {n}, 100ms, 0.5, 1ms, 0.1)"),
            move || {
                fd::failure_modes(v, ms(100), 0.5, ms(1), 0.1)?;
                Ok(())
            },
        );
    }
}

/// A contention setup with a full-jitter policy from these parts (for
/// `compare`, which replaces the kind).
fn setup(
    base: SimDuration,
    cap: SimDuration,
    attempts: u32,
    seed: u64,
) -> thinkdist::Result<Contention> {
    Ok(Contention {
        seed,
        policy: RetryPolicy::new(Backoff::FullJitter, base, cap, attempts)?,
        ..Contention::default()
    })
}

fn backoffs(c: &mut Cases) {
    let base = Contention {
        clients: 5,
        ..Contention::default()
    };
    let b = body(|p: &Contention| {
        let r = p.run()?;
        let _ = (r.calls, r.writes, r.completion, r.gave_up);
        Ok(())
    });
    let t = "ch03::backoff::Contention";
    c.vary(t, "run", &base, "seed", U64, |p, v| p.seed = v, &b);
    c.vary(t, "run", &base, "clients", USIZE, |p, v| p.clients = v, &b);
    c.vary(t, "run", &base, "service", DUR, |p, v| p.service = v, &b);
    c.vary(
        t,
        "run",
        &base,
        "latency",
        &latencies(),
        |p, v| p.latency = v,
        &b,
    );
    let mut policies: Vec<(String, RetryPolicy)> = Vec::new();
    for kind in Backoff::ALL {
        for &(an, a) in U32 {
            if let Ok(p) = RetryPolicy::new(kind, ms(1), secs(1), a) {
                policies.push((format!("{}, max_attempts {an}", kind.name()), p));
            }
        }
        for &(dn, d) in DUR_SHORT {
            if let Ok(p) = RetryPolicy::new(kind, d, SimDuration::MAX, 20) {
                policies.push((format!("{}, base {dn}, cap MAX", kind.name()), p));
                policies.push((
                    format!("{}, base {dn}, cap MAX, exponent n", kind.name()),
                    p.with_exponent(Exponent::Failures),
                ));
            }
        }
    }
    c.vary(
        t,
        "run",
        &base,
        "policy",
        &policies,
        |p, v| p.policy = v,
        &b,
    );
    let show = |curves: &[backoff::PolicyCurve]| -> Outcome {
        table(&backoff::table(curves))?;
        let a = chart(backoff::calls_chart(curves));
        chart(backoff::completion_chart_titled(curves, ""))?;
        a.and(chart(backoff::completion_chart(curves)))
    };
    for &(n, v) in RUNS64 {
        c.add(
            format!("ch03::backoff::compare([FullJitter], [3], setup(1ms, 1s, 10, 1), seeds {n})"),
            move || {
                show(&backoff::compare(
                    &[Backoff::FullJitter],
                    &[3],
                    &setup(ms(1), secs(1), 10, 1)?,
                    v,
                )?)
            },
        );
    }
    for &(n, v) in U64 {
        c.add(
            format!("ch03::backoff::compare(all, [2], setup(1ms, 1s, 10, seed {n}), 2)"),
            move || {
                show(&backoff::compare(
                    &Backoff::ALL,
                    &[2],
                    &setup(ms(1), secs(1), 10, v)?,
                    2,
                )?)
            },
        );
    }
    for &(n, k) in USIZE {
        c.add(
            format!("ch03::backoff::compare([Exponential], [{n}], setup(1ms, 1s, 10, 1), 2)"),
            move || {
                show(&backoff::compare(
                    &[Backoff::Exponential],
                    &[k],
                    &setup(ms(1), secs(1), 10, 1)?,
                    2,
                )?)
            },
        );
    }
    for &(n, a) in U32 {
        c.add(
            format!("ch03::backoff::compare([Fixed, None], [4], setup(1ms, 1s, max_attempts {n}, 1), 2)"),
            move || {
                show(&backoff::compare(
                    &[Backoff::Fixed, Backoff::None],
                    &[4],
                    &setup(ms(1), secs(1), a, 1)?,
                    2,
                )?)
            },
        );
    }
    for &(bn, bd) in DUR_SHORT {
        for &(cn, cd) in DUR_SHORT {
            c.add(
                format!(
                    "ch03::backoff::compare([Decorrelated], [3], setup(base {bn}, cap {cn}, 10, 1), 2)"
                ),
                move || {
                    show(&backoff::compare(&[Backoff::Decorrelated], &[3], &setup(bd, cd, 10, 1)?, 2)?)
                },
            );
        }
    }
    c.add(
        "ch03::backoff::compare([], [], setup(1ms, 1s, 10, 1), 2)",
        move || {
            show(&backoff::compare(
                &[],
                &[],
                &setup(ms(1), secs(1), 10, 1)?,
                2,
            )?)
        },
    );
}

fn fanouts(c: &mut Cases) {
    let sl = ServerLatency::default();
    let b = body(|s: &ServerLatency| {
        let l = s.latency()?;
        valid_latency("ServerLatency::latency", &l)?;
        let _ = draw(&l, 1, 1000);
        for x in [f64::NAN, -1.0, 0.0, 1.0, 1e300, f64::INFINITY] {
            let v = s.survival(x);
            ensure(x.is_nan() || (0.0..=1.0).contains(&v), || {
                format!("survival({x}) = {v}")
            })?;
        }
        for (q, d) in [
            (0.99, None),
            (0.999, Some(10.0)),
            (1.0, None),
            (0.0, Some(f64::NAN)),
            (f64::NAN, None),
        ] {
            let _ = s.hedged_quantile(q, d);
        }
        let f = Fanout {
            latency: s.latency()?,
            requests: 2000,
            ..Fanout::default()
        };
        let pts = f.run(&[1, 10])?;
        for p in &pts {
            prob("FanoutPoint theory", p.theory)?;
        }
        chart(fanout::fanout_chart(&pts, f.deadline))
    });
    let t = "ch03::fanout::ServerLatency";
    c.vary(
        t,
        "latency, survival, Fanout.run",
        &sl,
        "p_slow",
        PROB,
        |p, v| p.p_slow = v,
        &b,
    );
    c.vary(
        t,
        "latency, survival, Fanout.run",
        &sl,
        "fast_mean",
        DUR,
        |p, v| p.fast_mean = v,
        &b,
    );
    c.vary(
        t,
        "latency, survival, Fanout.run",
        &sl,
        "slow_mean",
        DUR,
        |p, v| p.slow_mean = v,
        &b,
    );
    let base = Fanout {
        requests: 2000,
        ..Fanout::default()
    };
    let fb = body(|f: &Fanout| {
        let _ = f.q();
        let pts = f.run(&[1, 5, 50])?;
        chart(fanout::fanout_chart(&pts, f.deadline))
    });
    c.vary(
        "ch03::fanout::Fanout",
        "run([1, 5, 50])",
        &base,
        "seed",
        U64,
        |p, v| p.seed = v,
        &fb,
    );
    c.vary(
        "ch03::fanout::Fanout",
        "run([1, 5, 50])",
        &base,
        "latency",
        &latencies(),
        |p, v| p.latency = v,
        &fb,
    );
    for (n, l) in latencies() {
        for &(xn, x) in F64 {
            let l = l.clone();
            c.add(format!("ch03::fanout::survival({n}, {xn} ns)"), move || {
                let v = fanout::survival(&l, x);
                ensure(x.is_nan() || (0.0..=1.0).contains(&v), || {
                    format!("survival = {v}")
                })
            });
        }
    }
    for &(n, q) in PROB {
        c.add(
            format!("ch03::fanout::two_speed({n}, 10ms, 1s) in fanout_curves_chart"),
            move || {
                let f = Fanout {
                    latency: fanout::two_speed(q, ms(10), secs(1))?,
                    requests: 2000,
                    ..Fanout::default()
                };
                let pts = f.run(&[1, 10, 100])?;
                chart(fanout::fanout_curves_chart(
                    &[(q, pts.clone()), (0.01, pts)],
                    f.deadline,
                ))
            },
        );
    }
    c.add("ch03::fanout::fanout_curves_chart([])", move || {
        chart(fanout::fanout_curves_chart(&[], ms(100)))
    });
    c.vary(
        "ch03::fanout::Fanout",
        "run([1, 5, 50])",
        &base,
        "deadline",
        DUR,
        |p, v| p.deadline = v,
        &fb,
    );
    c.vary(
        "ch03::fanout::Fanout",
        "run([1, 5, 50])",
        &base,
        "requests",
        U64,
        |p, v| p.requests = v,
        &fb,
    );
    let ns_: Vec<(&str, Vec<usize>)> = vec![
        ("[]", vec![]),
        ("[0]", vec![0]),
        ("[usize::MAX, 1]", vec![usize::MAX, 1]),
        ("[2^40]", vec![1 << 40]),
        ("[2^63, 2^63]", vec![1 << 63, 1 << 63]),
        ("[1; 1000]", vec![1; 1000]),
        ("[100,000]", vec![100_000]),
    ];
    for (n, v) in ns_ {
        c.add(
            format!("ch03::fanout::Fanout{{requests: 2000}}.run({n})"),
            move || {
                let f = Fanout {
                    requests: 2000,
                    ..Fanout::default()
                };
                let pts = f.run(&v)?;
                if pts.is_empty() {
                    return Ok(());
                }
                chart(fanout::fanout_chart(&pts, f.deadline))
            },
        );
    }
    for &(n, x) in F64 {
        c.add(
            format!("ch03::fanout::fanout_chart of a point with theory {n}, 0 requests"),
            move || {
                let p = FanoutPoint {
                    n: usize::MAX,
                    requests: 0,
                    slow: u64::MAX,
                    theory: x,
                };
                let _ = (p.fraction(), p.interval());
                chart(fanout::fanout_chart(&[p], SimDuration::MAX))
            },
        );
        c.add(
            format!("ch03::fanout::Hedging{{requests: 5000}}.run([{n}])"),
            move || {
                let pts = Hedging {
                    requests: 5000,
                    ..Hedging::default()
                }
                .run(&[x])?;
                table(&fanout::hedge_table(&pts))?;
                let a = chart(fanout::hedge_chart(&pts));
                a.and(chart(fanout::extra_load_chart(&pts)))
            },
        );
        c.add(
            format!("ch03::fanout hedge_chart, extra_load_chart of a point at {n}"),
            move || {
                let p = HedgePoint {
                    delay_ms: Some(x),
                    requests: 0,
                    hedged: u64::MAX,
                    extra_theory: x,
                    p99: x,
                    p999: x,
                    p99_ci: MeanCi {
                        mean: x,
                        half_width: x,
                        sd: x,
                        n: 3,
                    },
                    p999_ci: MeanCi {
                        mean: x,
                        half_width: f64::INFINITY,
                        sd: x,
                        n: 1,
                    },
                    p99_theory: x,
                    p999_theory: x,
                };
                let _ = p.extra();
                table(&fanout::hedge_table(std::slice::from_ref(&p)))?;
                let a = chart(fanout::hedge_chart(std::slice::from_ref(&p)));
                a.and(chart(fanout::extra_load_chart(&[p])))
            },
        );
    }
    let hb = body(|h: &Hedging| {
        let pts = h.run(&[10.0, 50.0])?;
        table(&fanout::hedge_table(&pts))?;
        chart(fanout::hedge_chart(&pts))
    });
    let hbase = Hedging {
        requests: 5000,
        ..Hedging::default()
    };
    c.vary(
        "ch03::fanout::Hedging",
        "run([10, 50])",
        &hbase,
        "seed",
        U64,
        |p, v| p.seed = v,
        &hb,
    );
    c.vary(
        "ch03::fanout::Hedging",
        "run([10, 50])",
        &hbase,
        "requests",
        U64,
        |p, v| p.requests = v,
        &hb,
    );
    c.vary(
        "ch03::fanout::Hedging",
        "run([10, 50])",
        &hbase,
        "replications",
        RUNS64,
        |p, v| p.replications = v,
        &hb,
    );
    let servers: Vec<(String, ServerLatency)> = PROB
        .iter()
        .map(|&(n, p)| {
            (
                format!("ServerLatency{{p_slow: {n}}}"),
                ServerLatency {
                    p_slow: p,
                    ..ServerLatency::default()
                },
            )
        })
        .chain(DUR.iter().map(|&(n, d)| {
            (
                format!("ServerLatency{{slow_mean: {n}}}"),
                ServerLatency {
                    slow_mean: d,
                    ..ServerLatency::default()
                },
            )
        }))
        .collect();
    c.vary(
        "ch03::fanout::Hedging",
        "run([10, 50])",
        &hbase,
        "server",
        &servers,
        |p, v| p.server = v,
        &hb,
    );
    c.add(
        "ch03::fanout::Hedging{requests: 10^7}.run([1, 2, 5, 10, 20, 50])",
        || {
            let pts = Hedging {
                requests: 10_000_000,
                ..Hedging::default()
            }
            .run(&[1.0, 2.0, 5.0, 10.0, 20.0, 50.0])?;
            chart(fanout::hedge_chart(&pts))
        },
    );
}

pub fn add(c: &mut Cases) {
    detection(c);
    backoffs(c);
    fanouts(c);
}
