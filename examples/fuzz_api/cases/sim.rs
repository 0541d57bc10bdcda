//! `sim`, part 2: `Sim` methods with bad node ids and extreme times, `Ctx`
//! from `with_node`, properties, sweeps, traces and random streams.

use super::kernel::{echo_sim, finish_echo, Echo, NODE};
use crate::harness::*;
use thinkdist::check::{eventually, invariant, never, verdicts};
use thinkdist::prelude::*;

fn sim_methods(c: &mut Cases) {
    type M = fn(&mut Sim<Echo>, usize) -> thinkdist::Result<()>;
    let by_node: [(&str, M); 17] = [
        ("node", |s, i| s.node(i).map(|_| ())),
        ("node_mut", |s, i| s.node_mut(i).map(|_| ())),
        ("disk", |s, i| s.disk(i).map(|_| ())),
        ("set_disk", |s, i| s.set_disk(i, 7)),
        ("is_up", |s, i| {
            s.is_up(i);
            Ok(())
        }),
        ("crash", |s, i| s.crash(i)),
        ("recover", |s, i| s.crash(0).and_then(|_| s.recover(i))),
        ("bounce", |s, i| s.bounce(i)),
        ("hold(0, id)", |s, i| s.hold(0, i)),
        ("release(id, 0)", |s, i| s.release(i, 0).map(|_| ())),
        ("set_link(0, id)", |s, i| {
            s.set_link(0, i, LinkConfig::default())
        }),
        ("inject(id)", |s, i| s.inject(i, 3, ms(1))),
        ("inject_exact(id)", |s, i| s.inject_exact(i, 3, ms(1))),
        ("invoke(client 0, at node id)", |s, i| {
            s.invoke(0, Invoke::new(i, 1)).map(|_| ())
        }),
        ("invoke(client id, at node 0)", |s, i| {
            s.invoke(i, Invoke::new(0, 1).timeout(ms(5))).map(|_| ())
        }),
        ("partition([[0], [id]])", |s, i| {
            s.partition(&[vec![0], vec![i]]).map(|_| ())
        }),
        ("partition_oneway([id], [0])", |s, i| {
            s.partition_oneway(&[i], &[0]).map(|_| ())
        }),
    ];
    for (mn, m) in by_node {
        for &(nn, id) in NODE {
            c.add(format!("Sim<2 nodes>.{mn} with id {nn}"), move || {
                let mut sim = echo_sim(Sim::builder())?;
                m(&mut sim, id)?;
                finish_echo(sim)
            });
        }
    }
    for &(nn, id) in NODE {
        c.add(format!("Sim.with_node({nn}, ctx.send(…))"), move || {
            let mut sim = echo_sim(Sim::builder())?;
            sim.with_node(id, |_, ctx| ctx.send(1, 2))?;
            finish_echo(sim)
        });
        c.add(
            format!("Ctx.send({nn}) and oracle_is_up({nn})"),
            move || {
                let mut sim = echo_sim(Sim::builder())?;
                sim.with_node(0, |_, ctx| {
                    ctx.send(id, 2);
                    ctx.oracle_is_up(id)
                })?;
                finish_echo(sim)
            },
        );
    }
    for &(dn, d) in DUR {
        type D = fn(&mut Sim<Echo>, SimDuration) -> thinkdist::Result<()>;
        let by_dur: [(&str, D); 8] = [
            ("inject(0, 3, after)", |s, d| s.inject(0, 3, d)),
            ("inject_exact(0, 3, after)", |s, d| s.inject_exact(0, 3, d)),
            ("run_for", |s, d| s.run_for(d).map(|_| ())),
            ("run_until(deadline, never)", |s, d| {
                s.run_until(d, |_| false).map(|_| ())
            }),
            ("invoke(after)", |s, d| {
                s.invoke(0, Invoke::new(1, 5).after(d)).map(|_| ())
            }),
            ("invoke(timeout)", |s, d| {
                s.invoke(0, Invoke::new(1, 5).timeout(d)).map(|_| ())
            }),
            ("Ctx.set_timer", |s, d| {
                s.with_node(0, |_, ctx| {
                    ctx.set_timer(d, 3);
                })
            }),
            ("Ctx.record_latency", |s, d| {
                s.with_node(0, |_, ctx| ctx.record_latency(d))
            }),
        ];
        for (mn, m) in by_dur {
            c.add(format!("Sim<2 nodes>.{mn} with {dn}"), move || {
                let mut sim = echo_sim(Sim::builder())?;
                m(&mut sim, d)?;
                sim.run_for(d)?;
                finish_echo(sim)
            });
        }
    }
    for &(tn, t) in TIME {
        c.add(
            format!("Sim<2 nodes>.run_until_time({tn}) twice"),
            move || {
                let mut sim = echo_sim(Sim::builder())?;
                sim.run_until_time(t)?;
                sim.run_until_time(t)?;
                sim.inject(0, 4, ms(1))?;
                finish_echo(sim)
            },
        );
    }
    for &(vn, v) in U64 {
        c.add(format!("Sim<2 nodes>.run_events({vn})"), move || {
            let mut sim = echo_sim(Sim::builder())?;
            sim.run_events(v)?;
            finish_echo(sim)
        });
        c.add(format!("Sim<2 nodes>.heal(PartitionId({vn}))"), move || {
            let mut sim = echo_sim(Sim::builder())?;
            sim.partition(&[vec![0], vec![1]])?;
            sim.heal(PartitionId(v))?;
            finish_echo(sim)
        });
        c.add(format!("Sim.experiment_rng({vn})"), move || {
            let sim = echo_sim(Sim::builder())?;
            let mut r = sim.experiment_rng(v);
            let _ = (simrng::index(&mut r, 0), simrng::unit_f64(&mut r));
            Ok(())
        });
        c.add(
            format!("Ctx.reply(Request{{op: {vn}, client: {vn}}})"),
            move || {
                let mut sim = echo_sim(Sim::builder())?;
                let req = Request {
                    op: v as usize,
                    client: v as usize,
                };
                sim.with_node(1, |_, ctx| {
                    ctx.reply(req, 1);
                    ctx.reply_failed(req, 2);
                })?;
                finish_echo(sim)
            },
        );
    }
    for &(n, k) in USIZE {
        c.add(
            format!("Sim<2 nodes>.set_workload({n} clients)"),
            move || {
                let mut sim = echo_sim(Sim::builder().trace(0))?;
                let mut left = 20u32;
                sim.set_workload(
                    k,
                    move |_c: ClientId, _t: SimTime, _r: &mut SimRng, _l: Option<&Op<u64>>| {
                        left = left.checked_sub(1)?;
                        Some(Invoke::new(1, 1).timeout(ms(10)))
                    },
                )?;
                finish_echo(sim)
            },
        );
    }
    c.add(
        "Ctx.note of 64 KiB, count of a 64 KiB name, sync, stop",
        || {
            let mut sim = echo_sim(Sim::builder())?;
            sim.with_node(0, |_, ctx| {
                ctx.note("x".repeat(1 << 16));
                ctx.count(&"y".repeat(1 << 16));
                ctx.sync(&"z".repeat(1 << 16));
                ctx.stop();
            })?;
            finish_echo(sim)
        },
    );
    c.add("Sim.with_node on a crashed node", || {
        let mut sim = echo_sim(Sim::builder())?;
        sim.crash(1)?;
        sim.with_node(1, |_, ctx| ctx.send(0, 1))?;
        Ok(())
    });
    c.add("Sim.partition with a node in two groups", || {
        let mut sim = echo_sim(Sim::builder())?;
        sim.partition(&[vec![0, 1], vec![1]])?;
        Ok(())
    });
    c.add("Sim.release a link that was never held", || {
        let mut sim = echo_sim(Sim::builder())?;
        sim.release(0, 1)?;
        finish_echo(sim)
    });
}

fn properties(c: &mut Cases) {
    for &(dn, d) in DUR {
        c.add(
            format!("check::eventually(deadline {dn}) in a Sim"),
            move || {
                let mut sim = echo_sim(Sim::builder().stop_on_violation(false))?;
                sim.check(eventually(
                    "answered",
                    d,
                    |e: &SimEvent<Echo>, _: &World<Echo>| match e {
                        SimEvent::Deliver { msg, .. } => Some(format!("m{msg}")),
                        _ => None,
                    },
                    |e: &SimEvent<Echo>, _: &World<Echo>| match e {
                        SimEvent::Deliver { msg, .. } => Some(format!("m{}", **msg + 1)),
                        _ => None,
                    },
                ));
                sim.run_to_end()?;
                let v = verdicts(&mut sim);
                let _ = (sim.violations().len(), sim.properties());
                ensure(!v.is_empty(), || "no verdict".into())
            },
        );
    }
    c.add(
        "check::invariant and never violated, stop_on_violation",
        || {
            let mut sim = echo_sim(Sim::builder())?;
            sim.check(invariant(
                "fails",
                |_: &World<Echo>| Err("x".repeat(10_000)),
            ));
            sim.check(never("never", |_: &SimEvent<Echo>, _: &World<Echo>| {
                Some("bad".to_string())
            }));
            sim.run_to_end()?;
            let v = verdicts(&mut sim);
            let _ = format!("{:?}", sim.violation());
            ensure(v.iter().any(|v| !v.holds), || "no violation found".into())
        },
    );
}

fn sweeps(c: &mut Cases) {
    for &(n, k) in RUNS {
        c.add(format!("Sweep::new(2 points).seeds({n}).run"), move || {
            let r = Sweep::new(vec![1u8, 2])
                .seeds(k)
                .progress(false)
                .run(|p, s| Ok(u64::from(*p) ^ s))?;
            ensure(r.len() == 2, || "lost a point".into())
        });
    }
    for &(n, k) in USIZE {
        c.add(
            format!("Sweep::new(4 points).threads({n}).run"),
            move || {
                let r = Sweep::new(vec![1u8, 2, 3, 4])
                    .threads(k)
                    .seeds(3)
                    .progress(false)
                    .run(|p, s| Ok(u64::from(*p) ^ s))?;
                ensure(r.len() == 4, || "lost a point".into())
            },
        );
    }
    for &(n, v) in U64 {
        c.add(format!("Sweep.base_seed({n}).seed_list after"), move || {
            let r = Sweep::new(vec![0u8])
                .seeds(2)
                .base_seed(v)
                .progress(false)
                .run(|_, s| Ok(s))?;
            let _ = r[0].mean_ci(|&s| s as f64)?;
            Ok(())
        });
    }
    c.add("Sweep::new(no points).run", || {
        let r = Sweep::<u8>::new(vec![]).progress(false).run(|_, s| Ok(s))?;
        ensure(r.is_empty(), || "results from nothing".into())
    });
    c.add("Sweep.seed_list(empty).run", || {
        Sweep::new(vec![1u8]).seed_list(vec![]).run(|_, s| Ok(s))?;
        Ok(())
    });
    c.add("Sweep where every run fails", || {
        Sweep::new(vec![1u8, 2])
            .progress(false)
            .run(|_, _| -> thinkdist::Result<u8> { Err(thinkdist::Error::empty("a run")) })?;
        Ok(())
    });
}

fn traces(c: &mut Cases) {
    for &(n, k) in USIZE {
        c.add(
            format!("Trace::with_cap({n}), push, local_view"),
            move || {
                let mut t = Trace::with_cap(k);
                for i in 0..3 {
                    t.push(TraceEvent {
                        time: SimTime(u64::MAX - i),
                        kind: TraceKind::Send,
                        node: usize::MAX,
                        peer: Some(usize::MAX),
                        msg: u64::MAX,
                        label: "x".into(),
                    });
                }
                let _ = (
                    t.local_view(usize::MAX),
                    t.until(SimTime::MAX),
                    t.to_jsonl(),
                );
                let d = SequenceDiagram::from_trace(&t, &["a".into()], SimTime::MAX);
                let _ = SequenceDiagram::steps_of_trace(&t, &["a".into()], k, usize::MAX);
                if d.arrows.is_empty() && d.marks.is_empty() {
                    return Ok(());
                }
                chart(sequence_diagram(&d, Opts::new("trace")))
            },
        );
        c.add(
            format!("SequenceDiagram::steps_of_trace(real trace, {n}, {n}+5)"),
            move || {
                let mut sim = echo_sim(Sim::builder())?;
                sim.run_to_end()?;
                let lanes = vec!["a".to_string(), "b".to_string()];
                let d =
                    SequenceDiagram::steps_of_trace(sim.trace(), &lanes, k, k.saturating_add(5));
                if d.arrows.is_empty() && d.marks.is_empty() {
                    return Ok(());
                }
                chart(sequence_diagram(&d, Opts::new("steps")))
            },
        );
    }
    for &(n, v) in U64 {
        c.add(
            format!("sim::rng::stream({n}, {n}, {n}, {n}), index, chance"),
            move || {
                let mut r = simrng::stream(v, v, v, v);
                let _ = simrng::derive_seed(v, v, v, v);
                let i = simrng::index(&mut r, v as usize);
                let _ = (
                    simrng::chance(&mut r, f64::NAN),
                    simrng::open_unit_f64(&mut r),
                );
                ensure(v == 0 || i < v as usize, || format!("index {i} >= {v}"))
            },
        );
    }
}

fn queues(c: &mut Cases) {
    use thinkdist::sim::queue::EventQueue;
    for &(n, k) in USIZE {
        c.add(
            format!("sim::queue::EventQueue::with_capacity({n}), push, pop"),
            move || {
                let mut q = EventQueue::with_capacity(k);
                q.push(SimTime(5), 0u8);
                let _ = q.pop();
                ensure(q.is_empty(), || "not empty".into())
            },
        );
    }
    let orders: [(&str, [usize; 5]); 3] = [
        ("ascending", [0, 1, 2, 3, 4]),
        ("descending", [4, 3, 2, 1, 0]),
        ("interleaved", [4, 0, 3, 1, 2]),
    ];
    for (on, order) in orders {
        c.add(
            format!("sim::queue::EventQueue: push every TIME {on}, pop half, push again, pop all"),
            move || {
                let mut q = EventQueue::new();
                for &i in &order {
                    q.push(TIME[i].1, i);
                }
                let mut last = SimTime::ZERO;
                let mut popped = 0;
                for _ in 0..2 {
                    let (t, _) = q.pop().ok_or_else(|| Fail::Wrong("queue ran dry".into()))?;
                    ensure(t >= last, || format!("popped {t} after {last}"))?;
                    last = t;
                    popped += 1;
                }
                for &i in &order {
                    q.push(TIME[i].1, i);
                }
                while let Some((t, _)) = q.pop() {
                    ensure(t >= last, || format!("popped {t} after {last}"))?;
                    last = t;
                    popped += 1;
                }
                let _ = (q.peek_time(), q.len(), q.pushed());
                ensure(popped == 10, || format!("{popped} of 10 events popped"))
            },
        );
    }
}

pub fn add(c: &mut Cases) {
    queues(c);
    sim_methods(c);
    properties(c);
    sweeps(c);
    traces(c);
    soundness(c);
    soundness_limits(c);
}

/// Sends to `to` on start, sets and cancels `timers` hour-long timers, and
/// (if `syncs` > 0) syncs that often: the inputs issue 17 was about.
#[derive(Clone, Debug)]
struct Wild {
    to: NodeId,
    timers: u64,
    syncs: u64,
    local: Vec<SimTime>,
}

impl Node for Wild {
    type Msg = ();
    type Timer = ();
    type Disk = DiskLog<u64>;
    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        for _ in 0..self.timers {
            let t = ctx.set_timer(hours(1), ());
            ctx.cancel_timer(t);
        }
        for i in 0..self.syncs {
            ctx.disk().push(i);
            ctx.sync("entry");
        }
        self.local.push(ctx.local_now());
        ctx.send(self.to, ());
    }
    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, _: NodeId, _: ()) {
        self.local.push(ctx.local_now());
    }
}

fn wild(to: NodeId) -> Wild {
    Wild {
        to,
        timers: 0,
        syncs: 0,
        local: Vec::new(),
    }
}

/// Issue 17, kernel: every case is named `issue17: …` (`--filter issue17`).
fn soundness(c: &mut Cases) {
    for &(nn, id) in NODE {
        c.add(
            format!("issue17: Ctx.send({nn}) in on_start, 2 nodes"),
            move || {
                let mut sim = Sim::builder().build(vec![wild(1), wild(id)])?;
                sim.run_for(ms(10))?;
                Ok(())
            },
        );
    }
    for &(an, a) in F64 {
        for &(bn, b) in &F64[..8] {
            c.add(
                format!("issue17: Latency::Mixture{{weights: [{an}, {bn}]}}"),
                move || {
                    let l = Latency::Mixture {
                        weights: vec![a, b],
                        parts: vec![Latency::constant(ms(1)), Latency::constant(ms(3))],
                    };
                    l.validate()?;
                    let mut r = thinkdist::sim::rng::stream(1, 4, 0, 0);
                    let x = (0..100).map(|_| l.sample(&mut r)).max().unwrap_or_default();
                    ensure(
                        x <= ms(3) && l.mean_ns() <= 3e6 && l.mean_ns() >= 1e6,
                        || format!("mean {} max {x}", l.mean_ns()),
                    )
                },
            );
        }
    }
    for &(nn, id) in NODE {
        c.add(
            format!("issue17: FaultPlan.partition([[0, {nn}], [{nn}]])"),
            move || {
                let plan = FaultPlan::new().partition(ms(1), ms(5), vec![vec![0, id], vec![id]]);
                finish_echo(echo_sim(Sim::builder().faults(plan))?)
            },
        );
        c.add(
            format!("issue17: Sim.heal(planned partition {nn})"),
            move || {
                let plan = FaultPlan::new().partition(ms(0), ms(5), vec![vec![0], vec![1]]);
                let mut sim = echo_sim(Sim::builder().faults(plan))?;
                sim.run_for(ms(1))?;
                sim.heal(PartitionId(id as u64))?;
                finish_echo(sim)
            },
        );
    }
    for &(pn, p) in F64 {
        c.add(format!("issue17: FIFO link, duplicate {pn}"), move || {
            let link = LinkConfig::new(Latency::uniform(ms(1), ms(9))?)
                .duplicate(p)
                .fifo(true);
            finish_echo(echo_sim(Sim::builder().link(link))?)
        });
    }
    for &(dn, d) in DUR {
        for &(fn_, f) in &F64[..9] {
            c.add(
                format!("issue17: Builder.clock(1, ahead {dn}, drift {fn_})"),
                move || {
                    let clock = Clock::ahead(d).with_drift(f);
                    let mut sim = Sim::builder()
                        .clock(1, clock)
                        .build(vec![wild(1), wild(0)])?;
                    sim.run_for(ms(10))?;
                    let seen = &sim.node(1)?.local;
                    ensure(seen.windows(2).all(|w| w[0] <= w[1]), || {
                        format!("{seen:?}")
                    })
                },
            );
        }
        for &(nn, id) in NODE {
            c.add(
                format!("issue17: FaultPlan.clock_skew(0, {dn}, {nn}, behind {dn})"),
                move || {
                    let plan = FaultPlan::new().clock_skew(ms(0), d, id, Clock::behind(d));
                    let mut sim = Sim::builder().faults(plan).build(vec![wild(1), wild(0)])?;
                    sim.run_for(ms(10))?;
                    let _ = (sim.local_time(0)?, sim.clock(1)?);
                    Ok(sim.set_clock(id, Clock::behind(d))?)
                },
            );
        }
        for &(en, e) in DUR {
            c.add(
                format!("issue17: rng.duration({dn}..={en}) and ({dn}..{en})"),
                move || {
                    let mut r = thinkdist::sim::rng::stream(1, 4, 0, 0);
                    let x = r.duration(d..=e);
                    let y = r.duration(d..e);
                    ensure(d > e || (d <= x && x <= e), || format!("{x} out of range"))?;
                    ensure(d >= e || (d <= y && y < e), || format!("{y} out of range"))
                },
            );
        }
    }
    for &(qn, q) in F64 {
        c.add(
            format!("issue17: LatencyRecorder percentile({qn}) of 1..=100 ms"),
            move || {
                let mut r = LatencyRecorder::exact();
                for i in 1..=100 {
                    r.record(ms(i));
                }
                let p = r.percentile(q)?;
                ensure(p.0 as f64 <= (q * 100.0).ceil().max(1.0) * 1e6, || {
                    format!("{p}")
                })
            },
        );
    }
    for &(n, k) in USIZE {
        c.add(
            format!("issue17: Sweep.progress_min_runs({n}).name(..)"),
            move || {
                let sink = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
                Sweep::new(vec![1u8, 2, 3])
                    .progress_min_runs(k)
                    .name("x".repeat(100))
                    .progress_sink(sink)
                    .run(|p, s| Ok(u64::from(*p) ^ s))?;
                Ok(())
            },
        );
        c.add(
            format!("issue17: DiskLog truncate/get/iter_from({n})"),
            move || {
                let mut log: DiskLog<u64> = (0..100).collect();
                let _ = (log.get(k), log.iter_from(k).count());
                log.truncate(k);
                ensure(log.len() == k.min(100), || format!("len {}", log.len()))
            },
        );
    }
    c.add("issue17: Table.caption as a borrow, evcxr_output", || {
        let t = Table::new(&["a"]).row(vec!["1".into()]);
        let out = t.caption("x".repeat(10_000)).evcxr_output();
        ensure(out.contains("<caption>") && t.rows().len() == 1, || {
            out[..50].into()
        })
    });
}

/// Issue 17's resource limits: floods end in an error, in bounded memory.
fn soundness_limits(c: &mut Cases) {
    for &(n, k) in &U64[..6] {
        for timers in [true, false] {
            let what = if timers { "timers" } else { "sends" };
            c.add(
                format!("issue17: {k} {what} in one handler, max_pending 1000 ({n})"),
                move || {
                    let mut node = wild(0);
                    if timers {
                        node.timers = k;
                    }
                    let mut sim = Sim::builder().max_pending(1000).build(vec![node])?;
                    sim.with_node(0, |_, ctx| {
                        for _ in 0..k.min(100_000_000) {
                            if timers {
                                ctx.set_timer(secs(1), ());
                            } else {
                                ctx.send(0, ());
                            }
                        }
                    })?;
                    sim.run_for(ms(10))?;
                    ensure(sim.pending() <= 1001, || {
                        format!("{} pending", sim.pending())
                    })
                },
            );
        }
    }
    for &(n, k) in &U64[..5] {
        c.add(
            format!("issue17: {n} syncs with record_crash_points"),
            move || {
                let mut node = wild(0);
                node.syncs = k.min(3_000_000);
                let mut sim = Sim::builder().record_crash_points(true).build(vec![node])?;
                sim.run_for(ms(10))?;
                ensure(sim.crash_points().len() <= 1_000_000, || {
                    "record not capped".into()
                })
            },
        );
    }
    c.add("issue17: 20,000 partitions over 100,000 nodes", || {
        let mut sim = Sim::builder().build(vec![wild(0); 100_000])?;
        for _ in 0..20_000 {
            sim.partition(&[vec![0]])?;
        }
        Ok(())
    });
    c.add("issue17: a million bounces, then run", || {
        let mut sim = Sim::builder().build(vec![wild(0)])?;
        for _ in 0..1_000_000 {
            sim.bounce(0)?;
        }
        sim.run_for(secs(1))?;
        ensure(sim.pending() <= 2, || format!("{} pending", sim.pending()))
    });
}
