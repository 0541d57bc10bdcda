//! `sim`, part 1: time units, latencies, links, fault plans and the
//! builder, and the test nodes the other modules use.

use crate::harness::*;
use thinkdist::prelude::*;

/// Node ids: in range, just out of range, and far out.
pub const NODE: &[(&str, usize)] = &[
    ("0", 0),
    ("1", 1),
    ("2", 2),
    ("u32::MAX", u32::MAX as usize),
    ("usize::MAX", usize::MAX),
];

/// A node that bounces a counter back until it reaches zero, re-arms a timer
/// counting down, and answers client requests with their own message.
#[derive(Clone, Debug, Default)]
pub struct Echo {
    pub seen: u64,
}

impl Node for Echo {
    type Msg = u64;
    type Timer = u64;
    type Disk = u64;
    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, n: u64) {
        self.seen += 1;
        *ctx.disk() += 1;
        if from != EXTERNAL && n > 0 {
            ctx.send(from, n - 1);
        } else if from == EXTERNAL && n > 0 {
            let other = (ctx.id() + 1) % ctx.cluster_size();
            ctx.send(other, n - 1);
        }
    }
    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, t: u64) {
        ctx.sync("timer");
        if t > 0 {
            ctx.set_timer(ms(1), t - 1);
        }
    }
    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, req: Request, msg: u64) {
        ctx.sync("request");
        ctx.reply(req, msg);
    }
}

/// A node that re-arms a 1 ms timer forever.
#[derive(Clone, Debug, Default)]
pub struct Ticker;

impl Node for Ticker {
    type Msg = ();
    type Timer = ();
    type Disk = ();
    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        ctx.set_timer(ms(1), ());
    }
    fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: ()) {}
    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _: ()) {
        ctx.set_timer(ms(1), ());
    }
}

/// A zero-sized node: a cluster of 2^40 of them costs no memory to list.
#[derive(Clone, Copy, Debug, Default)]
pub struct Zst;

impl Node for Zst {
    type Msg = ();
    type Timer = ();
    type Disk = ();
    fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: ()) {}
}

/// Two echo nodes, traced, and a message bouncing 20 times.
pub fn echo_sim(b: Builder) -> thinkdist::Result<Sim<Echo>> {
    let mut sim = b
        .trace(1000)
        .build(vec![Echo::default(), Echo::default()])?;
    sim.inject(0, 20, ms(1))?;
    Ok(sim)
}

/// Runs a sim to its end, then reads everything a notebook would look at,
/// and draws its message diagram.
pub fn finish_echo(mut sim: Sim<Echo>) -> Outcome {
    sim.run_to_end()?;
    let _ = (sim.stats(), sim.counters().len(), sim.history().len());
    let _ = sim.latency().summary();
    let _ = sim.updown().finish(sim.now() + ms(1));
    let _ = sim.trace().to_jsonl();
    let lanes = vec!["a".to_string(), "b".to_string()];
    let d = SequenceDiagram::from_trace(sim.trace(), &lanes, sim.now());
    if d.arrows.is_empty() && d.marks.is_empty() {
        return Ok(());
    }
    chart(sequence_diagram(&d, Opts::new("echo").y_label("time (ms)")))
}

fn time_units(c: &mut Cases) {
    type Unit = fn(u64) -> SimDuration;
    let units: [(&str, Unit); 6] = [
        ("ns", ns),
        ("us", us),
        ("ms", ms),
        ("secs", secs),
        ("minutes", minutes),
        ("hours", hours),
    ];
    for (u, f) in units {
        for &(vn, v) in U64 {
            c.add(format!("sim::time::{u}({vn})"), move || {
                let d = f(v);
                let t = SimTime::from_start(d) + d;
                let _ = format!("{d} {t} {} {}", d.as_ms(), t.as_secs_f64());
                ensure(d.0 >= v, || format!("{u}({v}) = {} ns < {v}", d.0))
            });
        }
    }
    for &(vn, v) in F64 {
        c.add(format!("SimDuration::from_ms_f64({vn})"), move || {
            let d = SimDuration::from_ms_f64(v)?;
            ensure(v.is_finite() && v >= 0.0, || {
                format!("accepted {v:e} as {d}")
            })
        });
        c.add(format!("SimDuration::from_secs_f64({vn})"), move || {
            let d = SimDuration::from_secs_f64(v)?;
            ensure(v.is_finite() && v >= 0.0, || {
                format!("accepted {v:e} as {d}")
            })
        });
    }
    for &(an, a) in TIME {
        for &(bn, b) in DUR_SHORT {
            c.add(
                format!("SimTime({an}) + SimDuration({bn}), since, Display"),
                move || {
                    let t = a + b;
                    let _ = format!("{t} {b} {} {}", t.since(a), a - t);
                    ensure(t >= a, || "sum went backwards".into())
                },
            );
        }
    }
}

fn latency(c: &mut Cases) {
    fn check(what: &str, l: thinkdist::Result<Latency>) -> Outcome {
        let l = l?;
        valid_latency(what, &l)?;
        let _ = (l.mean_ns(), l.variance_ns2(), draw(&l, 1, 1000));
        Ok(())
    }
    for &(n, d) in DUR {
        c.add(format!("Latency::constant({n})"), move || {
            check("constant", Ok(Latency::constant(d)))
        });
        c.add(format!("Latency::exponential({n})"), move || {
            check("exponential", Latency::exponential(d))
        });
        for &(sn, s) in F64 {
            if matches!(n, "0" | "1ms" | "secs(u64::MAX)") {
                c.add(format!("Latency::log_normal({n}, {sn})"), move || {
                    check("log_normal", Latency::log_normal(d, s))
                });
                c.add(format!("Latency::pareto({n}, {sn})"), move || {
                    check("pareto", Latency::pareto(d, s))
                });
            }
        }
    }
    for &(an, a) in DUR_SHORT {
        for &(bn, b) in DUR_SHORT {
            c.add(format!("Latency::uniform({an}, {bn})"), move || {
                check("uniform", Latency::uniform(a, b))
            });
            c.add(format!("Latency::normal({an}, {bn})"), move || {
                check("normal", Latency::normal(a, b))
            });
        }
    }
    for &(n, r) in F64 {
        c.add(format!("Latency::exponential_rate({n})"), move || {
            check("exponential_rate", Latency::exponential_rate(r))
        });
    }
    let weights: Vec<(&str, Vec<f64>)> = vec![
        ("[]", vec![]),
        ("[NaN]", vec![f64::NAN]),
        ("[inf]", vec![f64::INFINITY]),
        ("[0, 0]", vec![0.0, 0.0]),
        ("[-1, 2]", vec![-1.0, 2.0]),
        ("[5e-324]", vec![5e-324]),
        ("[5e-324, 5e-324]", vec![5e-324, 5e-324]),
        ("[1e308, 1e308]", vec![1e308, 1e308]),
        ("[f64::MAX, f64::MAX]", vec![f64::MAX, f64::MAX]),
        ("[1, 1e-300]", vec![1.0, 1e-300]),
        ("[0.99, 0.01]", vec![0.99, 0.01]),
    ];
    for (wn, w) in weights {
        c.add(format!("Latency::mixture(weights {wn})"), move || {
            let parts = w
                .iter()
                .enumerate()
                .map(|(i, &x)| (x, Latency::constant(ms(i as u64 + 1))))
                .collect();
            let l = Latency::mixture(parts)?;
            if let Latency::Mixture { weights, .. } = &l {
                let sum: f64 = weights.iter().sum();
                ensure((sum - 1.0).abs() < 1e-9, || {
                    format!("mixture weights {w:?} normalised to {weights:?}")
                })?;
            }
            check("mixture", Ok(l))
        });
    }
    c.add("Latency::mixture(10,000 parts)", || {
        let parts = (0..10_000)
            .map(|i| (1.0, Latency::constant(ns(i))))
            .collect();
        check("mixture", Latency::mixture(parts))
    });
    for (n, l) in latencies() {
        let l2 = l.clone();
        c.add(
            format!("Latency::{n}.validate, mean, variance, sample"),
            move || {
                let _ = (l.mean_ns(), l.variance_ns2(), draw(&l, 7, 1000));
                l.validate()?;
                Ok(())
            },
        );
        c.add(
            format!("Latency::{n} as the link of a Sim run"),
            move || finish_echo(echo_sim(Sim::builder().link(LinkConfig::new(l2.clone())))?),
        );
    }
}

fn links(c: &mut Cases) {
    for &(n, p) in PROB {
        c.add(format!("LinkConfig.loss({n}) in Sim::builder"), move || {
            let cfg = LinkConfig::new(Latency::constant(ms(1))).loss(p);
            cfg.validate()?;
            finish_echo(echo_sim(Sim::builder().link(cfg))?)
        });
        c.add(
            format!("LinkConfig.duplicate({n}) in Sim::builder"),
            move || {
                let cfg = LinkConfig::default().duplicate(p).fifo(true);
                finish_echo(echo_sim(Sim::builder().link(cfg))?)
            },
        );
        c.add(format!("Sim.set_default_link(loss {n})"), move || {
            let mut sim = echo_sim(Sim::builder())?;
            sim.set_default_link(LinkConfig::default().loss(p))?;
            finish_echo(sim)
        });
        c.add(format!("FaultPlan.lossy(0, 1s, {n})"), move || {
            let plan = FaultPlan::new().lossy(ms(0), secs(1), p);
            plan.validate(2)?;
            finish_echo(echo_sim(Sim::builder().faults(plan))?)
        });
    }
}

fn fault_plans(c: &mut Cases) {
    type Mk = fn(usize, SimDuration, SimDuration) -> FaultPlan;
    let builders: [(&str, Mk); 8] = [
        ("crash", |n, a, _| FaultPlan::new().crash(a, n)),
        ("recover", |n, a, _| {
            FaultPlan::new().crash(ms(1), 0).recover(a, n)
        }),
        ("outage", |n, a, b| FaultPlan::new().outage(a, b, n)),
        ("partition", |n, a, b| {
            FaultPlan::new().partition(a, b, vec![vec![0], vec![n]])
        }),
        ("partition_oneway", |n, a, b| {
            FaultPlan::new().partition_oneway(a, b, vec![n], vec![0])
        }),
        ("hold", |n, a, b| FaultPlan::new().hold(a, b, 0, n)),
        ("crash_at_point", |n, a, _| {
            FaultPlan::new().crash_at_point(n as u64, Some(a))
        }),
        ("with(SetLink)", |n, a, _| {
            FaultPlan::new().with(Fault::SetLink {
                src: 0,
                dst: n,
                cfg: LinkConfig::default().loss(0.5),
                at: SimTime::from_start(a),
            })
        }),
    ];
    for (bn, mk) in builders {
        for &(nn, node) in NODE {
            for &(an, a) in DUR_SHORT {
                for &(en, b) in [("1s", secs(1)), ("SimDuration::MAX", SimDuration::MAX)].iter() {
                    if bn.starts_with("crash") && en != "1s" {
                        continue;
                    }
                    c.add(
                        format!("FaultPlan.{bn}(node {nn}, from {an}, to {en}) in a 2-node Sim"),
                        move || {
                            let plan = mk(node, a, b);
                            let _ = (plan.actions(), plan.windows(SimTime::MAX));
                            let _ = (plan.without(usize::MAX), plan.crash_point());
                            plan.validate(2)?;
                            let sim = echo_sim(
                                Sim::builder()
                                    .faults(plan)
                                    .crash_points(CrashPoints::SyncsAndSends)
                                    .record_crash_points(true),
                            )?;
                            finish_echo(sim)
                        },
                    );
                }
            }
        }
    }
    for &(n, k) in USIZE {
        c.add(
            format!("FaultPlan.validate({n}) of a plan on node 1"),
            move || {
                let plan = FaultPlan::new().outage(ms(1), ms(2), 1);
                plan.validate(k)?;
                Ok(())
            },
        );
        c.add(
            format!("FaultPlan.replaced({n}, ..), without({n})"),
            move || {
                let plan = FaultPlan::new().outage(ms(1), ms(2), 1).crash(ms(3), 0);
                let p2 = plan.replaced(k, Fault::HealAll { at: SimTime::MAX });
                let p3 = plan.without(k);
                ensure(p2.len() == 2 && p3.len() <= 2, || "plan grew".into())
            },
        );
    }
    c.add("FaultPlan with 100,000 outages in a 2-node Sim", || {
        let faults = (0..100_000u64)
            .map(|i| Fault::Outage {
                node: (i % 2) as usize,
                from: SimTime(i * 10),
                to: SimTime(i * 10 + 5),
            })
            .collect();
        finish_echo(echo_sim(
            Sim::builder().faults(FaultPlan::from_faults(faults)),
        )?)
    });
    c.add("FaultPlan with two crash points", || {
        let plan = FaultPlan::new()
            .crash_at_point(0, None)
            .crash_at_point(1, None);
        finish_echo(echo_sim(Sim::builder().faults(plan))?)
    });
    c.add("FaultPlan.partition with a node in two groups", || {
        let plan = FaultPlan::new().partition(ms(0), ms(5), vec![vec![0, 1], vec![1]]);
        finish_echo(echo_sim(Sim::builder().faults(plan))?)
    });
    c.add("FaultPlan.partition with 10,000 empty groups", || {
        let plan = FaultPlan::new().partition(ms(0), ms(5), vec![vec![]; 10_000]);
        finish_echo(echo_sim(Sim::builder().faults(plan))?)
    });
    c.add(
        "FaultPlan HealAll at SimTime::MAX, SetDefaultLink loss NaN",
        || {
            let plan = FaultPlan::new()
                .with(Fault::HealAll { at: SimTime::MAX })
                .with(Fault::SetDefaultLink {
                    cfg: LinkConfig::default().loss(f64::NAN),
                    at: SimTime(5),
                });
            finish_echo(echo_sim(Sim::builder().faults(plan))?)
        },
    );
}

fn builder(c: &mut Cases) {
    for &(n, v) in U64 {
        c.add(format!("Sim::builder().seed({n})"), move || {
            finish_echo(echo_sim(Sim::builder().seed(v))?)
        });
        c.add(format!("Sim::builder().max_events({n})"), move || {
            finish_echo(echo_sim(Sim::builder().max_events(v))?)
        });
    }
    for &(n, v) in USIZE {
        c.add(format!("Sim::builder().trace({n})"), move || {
            let mut sim = Sim::builder()
                .trace(v)
                .build(vec![Echo::default(), Echo::default()])?;
            sim.inject(0, 50, ms(1))?;
            finish_echo(sim)
        });
        c.add(format!("Sim::builder().build(vec![Zst; {n}])"), move || {
            let mut sim = Sim::builder().trace(0).build(vec![Zst; v])?;
            sim.run_for(ms(1))?;
            Ok(())
        });
    }
    for on in [false, true] {
        c.add(
            format!("Sim::builder().streaming_latency({on}) with SimDuration::MAX latencies"),
            move || {
                let mut sim = Sim::builder()
                    .streaming_latency(on)
                    .build(vec![Echo::default()])?;
                sim.with_node(0, |_, ctx| {
                    ctx.record_latency(SimDuration::MAX);
                    ctx.record_latency(SimDuration(0));
                    ctx.record_latency(SimDuration(1 << 63));
                })?;
                let s = sim.latency().summary()?;
                let _ = sim.latency().cdf_ms()?;
                let _ = format!("{s}");
                Ok(())
            },
        );
    }
    c.add("Sim::builder().build(1,000,000 nodes) and run 1 ms", || {
        let mut sim = Sim::builder()
            .trace(0)
            .build(vec![Echo::default(); 1_000_000])?;
        sim.run_for(ms(1))?;
        Ok(())
    });
    // With the old default budget of 200 million events each of these took 5
    // to 7 s (too close to the time limit to classify the same way every
    // time): a tenth of it.
    c.add(
        "Sim with a 1 ms ticker, max_events(2*10^7) .run_for(SimDuration::MAX)",
        || {
            let mut sim = Sim::builder()
                .trace(0)
                .max_events(20_000_000)
                .build(vec![Ticker])?;
            sim.run_for(SimDuration::MAX)?;
            Ok(())
        },
    );
    c.add(
        "Sim with a 1 ms ticker, max_events(2*10^7) .run_to_end()",
        || {
            let mut sim = Sim::builder()
                .trace(0)
                .max_events(20_000_000)
                .build(vec![Ticker])?;
            sim.run_to_end()?;
            Ok(())
        },
    );
    c.add(
        "Sim with a 1 ms ticker, max_events(2*10^7) .run_until(SimDuration::MAX, never)",
        || {
            let mut sim = Sim::builder()
                .trace(0)
                .max_events(20_000_000)
                .build(vec![Ticker])?;
            sim.run_until(SimDuration::MAX, |_| false)?;
            Ok(())
        },
    );
    c.add(
        "Sim with a 1 ms ticker, max_events(1000) .run_for(1h)",
        || {
            let mut sim = Sim::builder().max_events(1000).build(vec![Ticker])?;
            sim.run_for(hours(1))?;
            Ok(())
        },
    );
}

pub fn add(c: &mut Cases) {
    time_units(c);
    latency(c);
    links(c);
    fault_plans(c);
    builder(c);
}
