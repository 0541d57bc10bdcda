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
}
