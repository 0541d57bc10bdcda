//! Chapters 1 and 2: `ClientServer` and its views; `Queue`, load and
//! closed-loop curves; `Replicas` and availability curves; the correctness
//! checks of chapter 2.

use crate::harness::*;
use thinkdist::ch01::ambiguity::Ambiguity;
use thinkdist::ch01::{determinism_table, retry_storm, ClientServer, ClientServerRun};
use thinkdist::ch02::correctness;
use thinkdist::ch02::queueing::{self, ClosedPoint, LoadPoint, QueueRun};
use thinkdist::ch02::replicas::{self, AvailabilityPoint};
use thinkdist::measure::MeanCi;
use thinkdist::prelude::*;

/// Everything a notebook shows of a client-server run.
fn show_cs(r: &ClientServerRun) -> Outcome {
    let _ = (r.answered(), r.fingerprint(), ClientServerRun::lanes());
    table(&r.breakdown_table())?;
    table(&r.local_view_table(50))?;
    let mut figs = vec![r.breakdown_chart(10), r.latency_cdf()];
    if !r.trace.events().is_empty() {
        figs.push(r.global_view(1000.0));
        figs.push(r.local_view(1000.0));
    }
    charts(figs)
}

fn ch01(c: &mut Cases) {
    let base = ClientServer::default();
    let b = body(|p: &ClientServer| show_cs(&p.run()?));
    let t = "ch01::ClientServer";
    c.vary(t, "run", &base, "seed", U64, |p, v| p.seed = v, &b);
    c.vary(
        t,
        "run",
        &base,
        "requests",
        USIZE,
        |p, v| p.requests = v,
        &b,
    );
    c.vary(t, "run", &base, "gap", DUR, |p, v| p.gap = v, &b);
    c.vary(
        t,
        "run",
        &base,
        "network",
        &latencies(),
        |p, v| p.network = v,
        &b,
    );
    c.vary(t, "run", &base, "loss", PROB, |p, v| p.loss = v, &b);
    c.vary(
        t,
        "run",
        &base,
        "processing",
        &latencies(),
        |p, v| p.processing = v,
        &b,
    );
    c.vary(t, "run", &base, "timeout", DUR, |p, v| p.timeout = v, &b);
    c.vary(t, "run", &base, "retries", U32, |p, v| p.retries = v, &b);
    c.vary(
        t,
        "run",
        &base,
        "trace_cap",
        USIZE,
        |p, v| p.trace_cap = v,
        &b,
    );
    let heavy = ClientServer {
        requests: 1_000_000,
        ..ClientServer::default()
    };
    c.vary(
        t,
        "run (1,000,000 requests)",
        &heavy,
        "gap",
        &[("1ms", ms(1))],
        |p, v| p.gap = v,
        &b,
    );
    let dt = body(|p: &ClientServer| table(&determinism_table(p)?));
    c.vary(
        t,
        "determinism_table",
        &base,
        "seed",
        &[("u64::MAX", u64::MAX)],
        |p, v| p.seed = v,
        &dt,
    );
    for &(n, x) in F64 {
        c.add(
            format!("ch01::ClientServerRun.global_view({n})"),
            move || chart(ClientServer::default().run()?.global_view(x)),
        );
        c.add(
            format!("ch01::ClientServerRun.local_view({n})"),
            move || chart(ClientServer::default().run()?.local_view(x)),
        );
    }
    // The four-failures experiment: each duration, and the diagram's end.
    let amb = Ambiguity::default();
    let ab = body(|a: &Ambiguity| {
        table(&a.client_view_table()?)?;
        chart(a.diagram(100.0))
    });
    let ta = "ch01::ambiguity::Ambiguity";
    c.vary(
        ta,
        "diagram",
        &amb,
        "network",
        DUR,
        |a, v| a.network = v,
        &ab,
    );
    c.vary(
        ta,
        "diagram",
        &amb,
        "processing",
        DUR,
        |a, v| a.processing = v,
        &ab,
    );
    c.vary(
        ta,
        "diagram",
        &amb,
        "slow_processing",
        DUR,
        |a, v| a.slow_processing = v,
        &ab,
    );
    c.vary(
        ta,
        "diagram",
        &amb,
        "timeout",
        DUR,
        |a, v| a.timeout = v,
        &ab,
    );
    for &(n, x) in F64 {
        c.add(
            format!("ch01::ambiguity::Ambiguity.diagram({n})"),
            move || chart(Ambiguity::default().diagram(x)),
        );
    }
    // The retry storm: each timeout value, seeds, and the load's size.
    let storm_base = ClientServer {
        requests: 200,
        gap: ms(4),
        trace_cap: 0,
        ..ClientServer::default()
    };
    let show_storm = |s: thinkdist::ch01::RetryStorm| -> Outcome {
        table(&s.table())?;
        charts(vec![s.copies_chart(), s.answered_chart()])
    };
    for &(n, x) in F64 {
        let b = storm_base.clone();
        c.add(format!("ch01::retry_storm(timeouts [{n}])"), move || {
            show_storm(retry_storm(&b, &[x, 50.0], 2)?)
        });
    }
    for &(n, k) in RUNS64 {
        let b = storm_base.clone();
        c.add(format!("ch01::retry_storm(seeds {n})"), move || {
            show_storm(retry_storm(&b, &[10.0, 100.0], k)?)
        });
    }
    for &(n, k) in USIZE {
        let b = ClientServer {
            requests: k,
            ..storm_base.clone()
        };
        c.add(format!("ch01::retry_storm(requests {n})"), move || {
            show_storm(retry_storm(&b, &[10.0, 100.0], 3)?)
        });
    }
    for &(n, k) in USIZE {
        c.add(
            format!("ch01::ClientServerRun.local_view_table({n}), breakdown_chart({n})"),
            move || {
                let r = ClientServer::default().run()?;
                table(&r.local_view_table(k))?;
                chart(r.breakdown_chart(k))
            },
        );
    }
}

/// Everything a notebook shows of a queue run.
fn show_queue(r: &QueueRun) -> Outcome {
    let _ = (r.params.load(), r.events, r.duration);
    finite_nonneg("QueueRun mean_ms", r.mean_ms)?;
    table(&r.percentile_table()?)?;
    table(&queueing::littles_law_table(std::slice::from_ref(r))?)?;
    chart(r.latency_cdf())
}

fn ci(mean: f64, half: f64) -> MeanCi {
    MeanCi {
        mean,
        half_width: half,
        sd: half,
        n: 2,
    }
}

fn ch02_queue(c: &mut Cases) {
    let base = Queue {
        jobs: 5_000,
        warmup: 500,
        ..Queue::default()
    };
    let b = body(|p: &Queue| show_queue(&p.run()?));
    let t = "ch02::Queue";
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
    c.vary(
        t,
        "run",
        &base,
        "service_rate",
        F64,
        |p, v| p.service_rate = v,
        &b,
    );
    c.vary(t, "run", &base, "jobs", USIZE, |p, v| p.jobs = v, &b);
    c.vary(t, "run", &base, "warmup", USIZE, |p, v| p.warmup = v, &b);
    let closed: Vec<(String, Option<ClosedLoop>)> = latencies()
        .into_iter()
        .map(|(n, l)| {
            (
                format!("Some(ClosedLoop{{clients: 3, think: {n}}})"),
                Some(ClosedLoop {
                    clients: 3,
                    think: l,
                }),
            )
        })
        .chain(USIZE.iter().map(|&(n, k)| {
            (
                format!("Some(ClosedLoop{{clients: {n}, think: 1ms}})"),
                Some(ClosedLoop {
                    clients: k,
                    think: Latency::constant(ms(1)),
                }),
            )
        }))
        .collect();
    c.vary(t, "run", &base, "closed", &closed, |p, v| p.closed = v, &b);
    let combos: Vec<(&str, Queue)> = vec![
        (
            "servers: 2^40, arrival_rate: 1e300",
            Queue {
                servers: 1 << 40,
                arrival_rate: 1e300,
                ..base.clone()
            },
        ),
        (
            "service_rate: 1e-300, arrival_rate: 1e-301",
            Queue {
                service_rate: 1e-300,
                arrival_rate: 1e-301,
                ..base.clone()
            },
        ),
        (
            "arrival_rate: 1e300, service_rate: 1e300",
            Queue {
                arrival_rate: 1e300,
                service_rate: 1e300,
                ..base.clone()
            },
        ),
        (
            "servers: 1,000,000, jobs: 1000",
            Queue {
                servers: 1_000_000,
                jobs: 1000,
                warmup: 0,
                ..base.clone()
            },
        ),
    ];
    for (n, q) in combos {
        c.add(format!("ch02::Queue{{{n}}}.run"), move || {
            show_queue(&q.run()?)
        });
    }
    let loads: Vec<(&str, Vec<f64>)> = vec![
        ("[]", vec![]),
        ("[0.5]", vec![0.5]),
        ("[NaN]", vec![f64::NAN]),
        ("[0]", vec![0.0]),
        ("[1]", vec![1.0]),
        ("[5e-324]", vec![5e-324]),
        ("[1-2^-53]", vec![1.0 - f64::EPSILON / 2.0]),
    ];
    for (ln, l) in loads {
        c.add(
            format!("ch02::queueing::load_curve(1, 100, {ln}, 2000, 2)"),
            move || {
                let pts = queueing::load_curve(1, 100.0, &l, 2000, 2)?;
                table(&queueing::load_table("x", &pts))?;
                chart(queueing::load_chart(&[("x".into(), pts)]))
            },
        );
    }
    for &(n, k) in USIZE {
        c.add(
            format!("ch02::queueing::load_curve(servers {n}, 100, [0.5], 2000, 2)"),
            move || {
                queueing::load_curve(k, 100.0, &[0.5], 2000, 2)?;
                Ok(())
            },
        );
        c.add(
            format!("ch02::queueing::load_curve(1, 100, [0.5], jobs {n}, 2)"),
            move || {
                queueing::load_curve(1, 100.0, &[0.5], k, 2)?;
                Ok(())
            },
        );
        c.add(
            format!("ch02::queueing::closed_curve([{n}], 100, 1ms, 2000, 2)"),
            move || {
                let pts = queueing::closed_curve(&[k], 100.0, ms(1), 2000, 2)?;
                chart(queueing::closed_chart(&pts))
            },
        );
    }
    for &(n, v) in RUNS64 {
        c.add(
            format!("ch02::queueing::load_curve(1, 100, [0.5], 1000, seeds {n})"),
            move || {
                queueing::load_curve(1, 100.0, &[0.5], 1000, v)?;
                Ok(())
            },
        );
        c.add(
            format!("ch02::queueing::closed_curve([2], 100, 1ms, 1000, seeds {n})"),
            move || {
                queueing::closed_curve(&[2], 100.0, ms(1), 1000, v)?;
                Ok(())
            },
        );
    }
    for &(n, r) in F64 {
        c.add(
            format!("ch02::queueing::load_curve(1, service_rate {n}, [0.5], 1000, 2)"),
            move || {
                queueing::load_curve(1, r, &[0.5], 1000, 2)?;
                Ok(())
            },
        );
        c.add(
            format!("ch02::queueing::closed_curve([2], service_rate {n}, 1ms, 1000, 2)"),
            move || {
                queueing::closed_curve(&[2], r, ms(1), 1000, 2)?;
                Ok(())
            },
        );
    }
    for &(n, d) in DUR {
        c.add(
            format!("ch02::queueing::closed_curve([2], 100, think {n}, 1000, 2)"),
            move || {
                queueing::closed_curve(&[2], 100.0, d, 1000, 2)?;
                Ok(())
            },
        );
    }
    for &(n, x) in F64 {
        c.add(
            format!("ch02::queueing::load_chart, closed_chart, load_table of points at {n}"),
            move || {
                let lp = LoadPoint {
                    load: x,
                    mean_ms: ci(x, x),
                    p99_ms: ci(x, 1.0),
                    theory_mean_ms: x,
                };
                let cp = ClosedPoint {
                    clients: usize::MAX,
                    mean_ms: ci(x, x),
                    throughput: ci(x, x),
                    theory_mean_ms: x,
                    theory_throughput: x,
                };
                table(&queueing::load_table("t", std::slice::from_ref(&lp)))?;
                let a = chart(queueing::load_chart(&[("t".into(), vec![lp])]));
                let b = chart(queueing::closed_chart(&[cp]));
                a.and(b)
            },
        );
    }
}

fn ch02_replicas(c: &mut Cases) {
    let base = Replicas {
        horizon: hours(1000),
        ..Replicas::default()
    };
    let b = body(|p: &Replicas| {
        let _ = p.p_up();
        let plan = p.fault_plan()?;
        let _ = plan.len();
        let r = p.run()?;
        let a = r.system_availability(1)?;
        prob("system_availability", a)?;
        chart(replicas::timeline_chart(&r, 1))
    });
    let t = "ch02::Replicas";
    c.vary(t, "run", &base, "seed", U64, |p, v| p.seed = v, &b);
    c.vary(t, "run", &base, "n", USIZE, |p, v| p.n = v, &b);
    c.vary(t, "run", &base, "mttf", DUR, |p, v| p.mttf = v, &b);
    c.vary(t, "run", &base, "mttr", DUR, |p, v| p.mttr = v, &b);
    c.vary(t, "run", &base, "horizon", DUR, |p, v| p.horizon = v, &b);
    let combos: Vec<(&str, Replicas)> = vec![
        (
            "n: 1, mttf: 1ns, mttr: 1ns, horizon: 100ms",
            Replicas {
                n: 1,
                mttf: ns(1),
                mttr: ns(1),
                horizon: ms(100),
                ..base.clone()
            },
        ),
        (
            "mttf: u64::MAX ns, mttr: u64::MAX ns",
            Replicas {
                mttf: SimDuration::MAX,
                mttr: SimDuration::MAX,
                ..base.clone()
            },
        ),
        (
            "mttf: 2^63ns, mttr: 2^63ns",
            Replicas {
                mttf: SimDuration(1 << 63),
                mttr: SimDuration(1 << 63),
                ..base.clone()
            },
        ),
        (
            "n: 1000, mttf: 1ms, mttr: 1ms, horizon: 1s",
            Replicas {
                n: 1000,
                mttf: ms(1),
                mttr: ms(1),
                horizon: secs(1),
                ..base.clone()
            },
        ),
        (
            "mttf: 1ns, mttr: SimDuration::MAX",
            Replicas {
                mttf: ns(1),
                mttr: SimDuration::MAX,
                ..base.clone()
            },
        ),
        (
            "horizon: SimDuration::MAX, mttf: SimDuration::MAX",
            Replicas {
                horizon: SimDuration::MAX,
                mttf: SimDuration::MAX,
                ..base.clone()
            },
        ),
    ];
    for (n, r) in combos {
        let b = b.clone();
        c.add(format!("ch02::Replicas{{{n}}}.run"), move || b(&r));
    }
    for &(n, k) in USIZE {
        c.add(
            format!("ch02::Replicas.run then timeline_chart(report, k {n})"),
            move || {
                let r = Replicas {
                    horizon: hours(500),
                    ..Replicas::default()
                }
                .run()?;
                chart(replicas::timeline_chart(&r, k))
            },
        );
        c.add(
            format!("ch02::replicas::availability_curve(base, [{n}], 2)"),
            move || {
                let pts = replicas::availability_curve(
                    &Replicas {
                        horizon: hours(200),
                        ..Replicas::default()
                    },
                    &[k],
                    2,
                )?;
                table(&replicas::nines_table(&pts)?)?;
                chart(replicas::availability_chart(&pts))
            },
        );
    }
    for &(n, v) in RUNS64 {
        c.add(
            format!("ch02::replicas::availability_curve(base, [1, 3], seeds {n})"),
            move || {
                replicas::availability_curve(
                    &Replicas {
                        horizon: hours(200),
                        ..Replicas::default()
                    },
                    &[1, 3],
                    v,
                )?;
                Ok(())
            },
        );
    }
    for &(n, x) in PROB {
        c.add(
            format!("ch02::replicas::availability_chart, nines_table of a point at {n}"),
            move || {
                let p = AvailabilityPoint {
                    n: 3,
                    k: 1,
                    simulated: ci(x, x),
                    theory: x,
                };
                let q = AvailabilityPoint {
                    n: 1,
                    k: 1,
                    simulated: ci(x, 0.0),
                    theory: x,
                };
                let a = chart(replicas::availability_chart(&[p.clone(), q.clone()]));
                let t = replicas::nines_table(&[p, q])
                    .map_err(Fail::from)
                    .and_then(|t| table(&t));
                a.and(t)
            },
        );
    }
}

fn ch02_correctness(c: &mut Cases) {
    for &(n, d) in DUR {
        c.add(
            format!("ch02::correctness::check_run(default, deadline {n})"),
            move || {
                let (run, v) = correctness::check_run(&ClientServer::default(), d)?;
                let _ = run.answered();
                ensure(v.len() == 3, || format!("{} verdicts", v.len()))
            },
        );
        c.add(
            format!("ch02::correctness::verdict_table(default, 0.3, deadline {n})"),
            move || {
                table(&correctness::verdict_table(
                    &ClientServer::default(),
                    0.3,
                    d,
                )?)
            },
        );
    }
    for &(n, p) in PROB {
        c.add(
            format!("ch02::correctness::scenarios(default, {n}), verdict_table"),
            move || {
                let s = correctness::scenarios(&ClientServer::default(), p);
                let _ = s.iter().map(|x| x.0.len()).sum::<usize>();
                table(&correctness::verdict_table(
                    &ClientServer::default(),
                    p,
                    ms(200),
                )?)
            },
        );
    }
}

pub fn add(c: &mut Cases) {
    ch01(c);
    ch02_queue(c);
    ch02_replicas(c);
    ch02_correctness(c);
}
