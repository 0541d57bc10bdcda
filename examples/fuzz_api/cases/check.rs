//! `check`: fault spaces and exploration (with shrinking and the
//! counterexample diagram), every crash point, post-hoc verdicts, and the
//! isolation checker on hand-made histories.

use crate::harness::*;
use thinkdist::ch05::LoggingParams;
use thinkdist::check::crash_points::every_point;
use thinkdist::check::isolation::{self as iso, TxnHistory, TxnOp, TxnRecord, Version};
use thinkdist::check::{Counterexample, Explore, FaultSpace, Trial, TrialRun};
use thinkdist::prelude::*;
use thinkdist::txn::two_phase::{TwoPhase, Variant};

/// A two-phase commit with a bug, as an exploration scenario.
fn broken_2pc(t: &Trial) -> thinkdist::Result<TrialRun> {
    TwoPhase {
        variant: Variant::ForgetVote,
        ..TwoPhase::default()
    }
    .trial(t, 2, 3, ms(1), ms(500))
}

fn space3() -> FaultSpace {
    let mut s = FaultSpace::new(3, ms(500)).expect("a valid space");
    s.crash_points = Some((30, ms(20)));
    s
}

fn explore_once(e: Explore, s: &FaultSpace) -> Outcome {
    let x = e.progress(false).run(s, broken_2pc)?;
    let _ = (x.failed(), x.passed(), x.by_property.len());
    if let Some(cx) = &x.counterexample {
        if !cx.trace.events().is_empty() {
            chart(counterexample_diagram(cx, 50.0))?;
        }
    }
    Ok(())
}

fn spaces(c: &mut Cases) {
    // Nodes with a 1 s horizon, the horizon with 3 nodes.
    let sizes = USIZE
        .iter()
        .map(|&(n, k)| (format!("{n}, 1s"), k, secs(1)))
        .chain(DUR.iter().map(|&(n, h)| (format!("3, {n}"), 3, h)));
    for (name, k, h) in sizes {
        c.add(format!("FaultSpace::new({name}), draw ×20"), move || {
            let s = FaultSpace::new(k, h)?;
            for seed in 0..20 {
                s.draw(seed).validate(k)?;
            }
            Ok(())
        });
    }
    let run = |fname: String, set: Box<dyn Fn(&mut FaultSpace)>| {
        (
            format!("FaultSpace{{{fname}}}: draw, Explore(20 seeds) of a broken 2PC"),
            move || {
                let mut s = space3();
                set(&mut s);
                s.validate()?;
                let _ = s.draw(u64::MAX);
                explore_once(Explore::new(20), &s)
            },
        )
    };
    type SetK = fn(&mut FaultSpace, usize);
    let by_count: [(&str, SetK); 4] = [
        ("max_outages", |s, k| s.max_outages = k),
        ("max_partitions", |s, k| s.max_partitions = k),
        ("max_lossy", |s, k| s.max_lossy = k),
        ("crashable", |s, k| s.crashable = vec![k]),
    ];
    for (f, set) in by_count {
        for &(n, k) in USIZE {
            let (name, case) = run(format!("{f}: {n}"), Box::new(move |s| set(s, k)));
            c.add(name, case);
        }
    }
    type SetD = fn(&mut FaultSpace, SimDuration);
    let by_dur: [(&str, SetD); 3] = [
        ("downtime: (0, {})", |s, d| {
            s.downtime = (SimDuration::ZERO, d)
        }),
        ("partition_len: ({0}, {0})", |s, d| s.partition_len = (d, d)),
        ("lossy_len: (1ms, {})", |s, d| s.lossy_len = (ms(1), d)),
    ];
    for (f, set) in by_dur {
        for &(n, d) in DUR {
            let (name, case) = run(
                f.replace("{0}", n).replace("{}", n),
                Box::new(move |s| set(s, d)),
            );
            c.add(name, case);
        }
    }
    for &(n, p) in PROB {
        let (name, case) = run(format!("max_loss: {n}"), Box::new(move |s| s.max_loss = p));
        c.add(name, case);
    }
    for &(n, k) in U64 {
        for &(dn, d) in DUR_SHORT {
            let (name, case) = run(
                format!("crash_points: Some(({n}, {dn}))"),
                Box::new(move |s| s.crash_points = Some((k, d))),
            );
            c.add(name, case);
        }
    }
}

fn explores(c: &mut Cases) {
    for &(n, k) in RUNS {
        c.add(format!("Explore::new({n}) of a broken 2PC"), move || {
            explore_once(Explore::new(k).shrink(false), &space3())
        });
    }
    for &(n, k) in USIZE {
        c.add(format!("Explore::new(20).threads({n})"), move || {
            explore_once(Explore::new(20).threads(k), &space3())
        });
        c.add(
            format!("Explore::new(20).max_shrink_runs({n})"),
            move || explore_once(Explore::new(20).max_shrink_runs(k), &space3()),
        );
        c.add(format!("Explore::new(20).trace_cap({n})"), move || {
            explore_once(Explore::new(20).trace_cap(k), &space3())
        });
    }
    for &(n, v) in U64 {
        c.add(
            format!("Explore::new(20).base_seed({n}), seed_of(usize::MAX)"),
            move || {
                let e = Explore::new(20).base_seed(v);
                let _ = e.seed_of(usize::MAX);
                explore_once(e, &space3())
            },
        );
    }
    for &(n, w) in F64 {
        c.add(
            format!("counterexample_diagram(cx of a broken 2PC, window {n} ms)"),
            move || {
                let x = Explore::new(50)
                    .progress(false)
                    .run(&space3(), broken_2pc)?;
                let cx = x
                    .counterexample
                    .ok_or_else(|| Fail::Error("no counterexample".into()))?;
                chart(counterexample_diagram(&cx, w))
            },
        );
    }
    for &(tn, t) in TIME {
        for &(nn, node) in crate::cases::kernel::NODE {
            c.add(
                format!("counterexample_diagram(hand-made cx, violation at {tn} on node {nn})"),
                move || {
                    let x = Explore::new(50)
                        .progress(false)
                        .run(&space3(), broken_2pc)?;
                    let mut cx: Counterexample = x
                        .counterexample
                        .ok_or_else(|| Fail::Error("no counterexample".into()))?;
                    cx.violation.time = t;
                    cx.violation.node = Some(node);
                    cx.violation.property = "p".repeat(300);
                    cx.lanes.clear();
                    chart(counterexample_diagram(&cx, 1e3))
                },
            );
        }
    }
}

fn crash_points(c: &mut Cases) {
    for &(n, d) in DUR {
        c.add(
            format!("check::crash_points::every_point(bank, restart_after {n})"),
            move || {
                let p = LoggingParams {
                    transfers: 1,
                    ..LoggingParams::default()
                };
                let r = every_point(
                    |plan: &FaultPlan, rec: bool| Ok(p.run(plan, rec, 0)?.checks),
                    d,
                )?;
                let _ = (
                    r.recovered(),
                    r.first_failure().is_some(),
                    r.properties(),
                    r.plan_for(u64::MAX),
                );
                chart(crash_point_chart(&r, "bank"))
            },
        );
    }
    c.add(
        "check::crash_points::every_point(a scenario that fails without a crash)",
        || {
            every_point(
                |_: &FaultPlan, _: bool| {
                    Ok(thinkdist::check::CrashPointRun {
                        points: vec![],
                        crashed: None,
                        verdicts: vec![Verdict::new(
                            "x",
                            PropertyKind::Safety,
                            Some("y".repeat(1000)),
                        )],
                        events: 1,
                    })
                },
                ms(1),
            )?;
            Ok(())
        },
    );
    c.add("check::crash_points::every_point(no crash point)", || {
        every_point(
            |_: &FaultPlan, _: bool| {
                Ok(thinkdist::check::CrashPointRun {
                    points: vec![],
                    crashed: None,
                    verdicts: vec![],
                    events: 1,
                })
            },
            ms(1),
        )?;
        Ok(())
    });
}

fn verdict_cases(c: &mut Cases) {
    for &(dn, d) in DUR {
        for &(tn, t) in TIME {
            c.add(
                format!("check::eventually_within(deadline {dn}, horizon {tn})"),
                move || {
                    let ob = [(0, SimTime::MAX), (1, SimTime(0)), (u64::MAX, SimTime(5))];
                    let fu = [(1, SimTime::MAX), (u64::MAX, SimTime(0))];
                    let v = eventually_within("e", &ob, &fu, d, t);
                    let _ = format!("{:?}", v.counterexample);
                    Ok(())
                },
            );
        }
    }
    c.add(
        "check::always over 10^6 items with a 10^5-character description",
        || {
            let v = always(
                "a",
                0..1_000_000u64,
                |x| *x < 999_999,
                |x| format!("{x}").repeat(20_000),
            );
            ensure(!v.holds, || "missed the bad item".into())
        },
    );
}

fn rec(id: u64, committed: bool, ops: Vec<TxnOp>) -> TxnRecord {
    let (s, e) = (SimTime(0), SimTime::MAX);
    if committed {
        TxnRecord::committed(id, "t".repeat(100), s, e, ops)
    } else {
        TxnRecord::aborted(id, "t", s, e, ops)
    }
}

fn w(key: usize, writer: u64, seq: u32, value: i64) -> TxnOp {
    TxnOp::write(key, Version::new(writer, seq), value, SimTime::MAX)
}

fn r(key: usize, writer: u64, seq: u32, value: i64) -> TxnOp {
    TxnOp::read(key, Version::new(writer, seq), value, SimTime(0))
}

fn histories(c: &mut Cases) {
    const K: usize = usize::MAX;
    type Mk = fn() -> TxnHistory;
    let hs: Vec<(&str, Mk)> = vec![
        ("empty", TxnHistory::default),
        ("a txn with id 0", || {
            TxnHistory::new(vec![rec(0, true, vec![w(0, 0, 1, 1)])], [])
        }),
        ("duplicate ids", || {
            TxnHistory::new(vec![rec(1, true, vec![]), rec(1, false, vec![])], [])
        }),
        ("ids u64::MAX, keys usize::MAX, seq u32::MAX", || {
            TxnHistory::new(
                vec![
                    rec(
                        u64::MAX,
                        true,
                        vec![w(K, u64::MAX, u32::MAX, i64::MAX), r(K, 0, 0, i64::MIN)],
                    ),
                    rec(
                        u64::MAX - 1,
                        true,
                        vec![r(K, u64::MAX, u32::MAX, 0), w(K, u64::MAX - 1, 1, 0)],
                    ),
                ],
                [(
                    K,
                    vec![
                        Version::INITIAL,
                        Version::new(u64::MAX, u32::MAX),
                        Version::new(u64::MAX - 1, 1),
                    ],
                )],
            )
        }),
        ("a read of a version nobody wrote", || {
            TxnHistory::new(
                vec![rec(1, true, vec![r(3, 77, 9, 0)])],
                [(3, vec![Version::INITIAL])],
            )
        }),
        ("a version order naming unknown writers", || {
            TxnHistory::new(
                vec![rec(1, true, vec![w(0, 1, 1, 1)])],
                [
                    (
                        0,
                        vec![Version::new(9, 9), Version::new(1, 1), Version::new(1, 1)],
                    ),
                    (5, vec![]),
                ],
            )
        }),
        ("an aborted writer read by a committed one", || {
            TxnHistory::new(
                vec![
                    rec(1, false, vec![w(0, 1, 1, 5)]),
                    rec(2, true, vec![r(0, 1, 1, 5)]),
                ],
                [(0, vec![Version::INITIAL])],
            )
        }),
        ("a write cycle of 2,000 transactions", || {
            let n = 2_000u64;
            let txns = (1..=n)
                .map(|i| {
                    rec(
                        i,
                        true,
                        vec![
                            r(0, i - 1, u32::from(i > 1), 0),
                            w(0, i, 1, 0),
                            w(1, i, 2, 0),
                        ],
                    )
                })
                .collect();
            let mut o0 = vec![Version::INITIAL];
            o0.extend((1..=n).map(|i| Version::new(i, 1)));
            let mut o1 = vec![Version::INITIAL];
            o1.extend((1..=n).rev().map(|i| Version::new(i, 2)));
            TxnHistory::new(txns, [(0, o0), (1, o1)])
        }),
        ("200 transactions all reading and writing 50 keys", || {
            let txns = (1..=200u64)
                .map(|i| {
                    let mut ops = Vec::new();
                    for key in 0..50 {
                        ops.push(r(key, 0, 0, 0));
                        ops.push(w(key, i, key as u32 + 1, 1));
                    }
                    rec(i, true, ops)
                })
                .collect();
            let order = (0..50usize).map(|key| {
                let mut v = vec![Version::INITIAL];
                v.extend((1..=200u64).map(|i| Version::new(i, key as u32 + 1)));
                (key, v)
            });
            TxnHistory::new(txns, order)
        }),
    ];
    for (hn, h) in hs {
        c.add(
            format!("check::isolation: validate, dsg, anomalies, counts of {hn}"),
            move || {
                let h = h();
                let _ = (
                    iso::dsg(&h).len(),
                    h.outcome_counts(),
                    h.txn(u64::MAX).is_some(),
                );
                let found = iso::anomalies(&h)?;
                let _ = iso::counts(&found);
                for f in found.iter().take(5) {
                    let _ = (f.anomaly.name(), f.anomaly.adya(), &f.explanation);
                }
                h.validate()?;
                Ok(())
            },
        );
    }
    for &(n, k) in USIZE {
        c.add(format!("check::isolation::key_name({n})"), move || {
            let s = iso::key_name(k);
            ensure(!s.is_empty(), || "empty key name".into())
        });
    }
}

pub fn add(c: &mut Cases) {
    spaces(c);
    explores(c);
    crash_points(c);
    verdict_cases(c);
    histories(c);
}
