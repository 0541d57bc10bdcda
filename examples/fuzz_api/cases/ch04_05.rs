//! Chapters 4 and 5: delivery runs (every standard scenario), loss sweeps,
//! lost-ack stories and seed checks; logging at every crash point; isolation
//! levels, their anomalies and their price.

use crate::harness::*;
use thinkdist::ch04::delivery::{self as dl, DeliveryParams, Scenario};
use thinkdist::ch05::checkpoint::CheckpointParams;
use thinkdist::ch05::isolation as ci;
use thinkdist::ch05::sync_cost::SyncCostParams;
use thinkdist::ch05::{logging as lg, LoggingParams};
use thinkdist::check::isolation::Anomaly;
use thinkdist::delivery::{DedupStore, Resend, Semantics};
use thinkdist::prelude::*;
use thinkdist::txn::isolation::{IsolationParams, Level};
use thinkdist::txn::logging::Logging;

fn show_delivery(p: &DeliveryParams, s: &Scenario) -> Outcome {
    let r = p.run(s)?;
    let o = r.outcome;
    let _ = (
        o.extra_copies_per_message(),
        o.sends_per_message(),
        r.crashes,
    );
    prob("lost_fraction", o.lost_fraction())?;
    prob("more_than_once_fraction", o.more_than_once_fraction())?;
    if let Some(t) = s.theory_lost(p) {
        prob("Scenario::theory_lost", t)?;
    }
    if let Some(t) = s.theory_more_than_once(p) {
        prob("Scenario::theory_more_than_once", t)?;
    }
    let v = r.exactly_once();
    ensure(v.len() == 2, || "two verdicts".into())?;
    if !r.trace.events().is_empty() {
        chart(r.diagram("delivery", Some(100.0)))?;
    }
    Ok(())
}

fn delivery(c: &mut Cases) {
    let base = DeliveryParams {
        messages: 100,
        ..DeliveryParams::default()
    };
    let resends: Vec<(String, Resend)> = DUR
        .iter()
        .map(|&(n, d)| {
            (
                format!("Resend{{interval: {n}, max_attempts: 5}}"),
                Resend {
                    interval: d,
                    max_attempts: 5,
                },
            )
        })
        .chain(U32.iter().map(|&(n, a)| {
            (
                format!("Resend{{interval: 100ms, max_attempts: {n}}}"),
                Resend {
                    interval: ms(100),
                    max_attempts: a,
                },
            )
        }))
        .collect();
    for s in Scenario::standard() {
        let label = s.label.clone();
        let b = body(move |p: &DeliveryParams| show_delivery(p, &s));
        let t = "ch04::DeliveryParams";
        let m = format!("run({label})");
        c.vary(t, &m, &base, "seed", U64, |p, v| p.seed = v, &b);
        c.vary(t, &m, &base, "messages", USIZE, |p, v| p.messages = v, &b);
        c.vary(t, &m, &base, "gap", DUR, |p, v| p.gap = v, &b);
        c.vary(
            t,
            &m,
            &base,
            "latency",
            &latencies(),
            |p, v| p.latency = v,
            &b,
        );
        c.vary(t, &m, &base, "loss", PROB, |p, v| p.loss = v, &b);
        c.vary(t, &m, &base, "duplicate", PROB, |p, v| p.duplicate = v, &b);
        c.vary(t, &m, &base, "resend", &resends, |p, v| p.resend = v, &b);
        c.vary(
            t,
            &m,
            &base,
            "crash_every",
            DUR,
            |p, v| p.crash_every = v,
            &b,
        );
        c.vary(t, &m, &base, "downtime", DUR, |p, v| p.downtime = v, &b);
        c.vary(t, &m, &base, "trace_cap", USIZE, |p, v| p.trace_cap = v, &b);
    }
    let combos: Vec<(&str, DeliveryParams)> = vec![
        (
            "crash_every: 2ns, downtime: 1ns",
            DeliveryParams {
                crash_every: ns(2),
                downtime: ns(1),
                ..base.clone()
            },
        ),
        (
            "gap: 2^63ns, messages: 3",
            DeliveryParams {
                gap: SimDuration(1 << 63),
                messages: 3,
                ..base.clone()
            },
        ),
        (
            "resend: {interval: 2^63ns, max_attempts: u32::MAX}",
            DeliveryParams {
                resend: Resend {
                    interval: SimDuration(1 << 63),
                    max_attempts: u32::MAX,
                },
                ..base.clone()
            },
        ),
        (
            "loss: 1, max_attempts: u32::MAX",
            DeliveryParams {
                loss: 1.0,
                resend: Resend {
                    interval: ms(1),
                    max_attempts: u32::MAX,
                },
                ..base.clone()
            },
        ),
        (
            "messages: 1,000,000, gap: 1ns",
            DeliveryParams {
                messages: 1_000_000,
                gap: ns(1),
                ..base.clone()
            },
        ),
        (
            "messages: 100,000 (the most), gap: 1ns",
            DeliveryParams {
                messages: 100_000,
                gap: ns(1),
                ..base.clone()
            },
        ),
    ];
    for (n, p) in combos {
        let crashing = Scenario::new(Semantics::AtLeastOnce, DedupStore::Durable, true);
        c.add(
            format!("ch04::DeliveryParams{{{n}}}.run(at-least-once, durable, crashes)"),
            move || show_delivery(&p, &crashing),
        );
    }
    for &(n, k) in USIZE {
        for sem in [Semantics::AtMostOnce, Semantics::AtLeastOnce] {
            c.add(format!("ch04::DeliveryParams.run(Scenario::new({sem:?}, DedupStore::Window({n}), crashes))"), move || {
                show_delivery(&DeliveryParams { messages: 300, ..DeliveryParams::default() }, &Scenario::new(sem, DedupStore::Window(k), true))
            });
        }
    }
    for &(n, k) in RUNS {
        c.add(
            format!("ch04::delivery::sweep_loss(base, standard, [0.1], seeds {n})"),
            move || {
                let sw = dl::sweep_loss(
                    &DeliveryParams {
                        messages: 100,
                        ..DeliveryParams::default()
                    },
                    &Scenario::standard(),
                    &[0.1],
                    k,
                )?;
                table(&sw.table(0.1))?;
                let a = chart(sw.lost_chart());
                a.and(chart(sw.more_than_once_chart()))
            },
        );
        c.add(
            format!("ch04::delivery::exactly_once_over_seeds(base, durable crashes, {n})"),
            move || {
                let s = Scenario::new(Semantics::AtLeastOnce, DedupStore::Durable, true);
                let chk = dl::exactly_once_over_seeds(
                    &DeliveryParams {
                        messages: 100,
                        ..DeliveryParams::default()
                    },
                    &s,
                    k,
                )?;
                table(&dl::seed_check_table(&[chk]))
            },
        );
        c.add(
            format!("ch04::delivery::replication_seeds(1, {n})"),
            move || {
                let v = dl::replication_seeds(1, k)?;
                ensure(v.len() == k, || "wrong number of seeds".into())
            },
        );
    }
    let losses: Vec<(&str, Vec<f64>)> = vec![
        ("[]", vec![]),
        ("[NaN]", vec![f64::NAN]),
        ("[0, 1]", vec![0.0, 1.0]),
        ("[5e-324]", vec![5e-324]),
        ("[1+2^-52]", vec![1.0 + f64::EPSILON]),
    ];
    for (n, l) in losses {
        c.add(
            format!("ch04::delivery::sweep_loss(base, standard, {n}, 2)"),
            move || {
                let sw = dl::sweep_loss(
                    &DeliveryParams {
                        messages: 100,
                        ..DeliveryParams::default()
                    },
                    &Scenario::standard(),
                    &l,
                    2,
                )?;
                for &x in &l {
                    table(&sw.table(x))?;
                }
                let a = chart(sw.lost_chart());
                a.and(chart(sw.more_than_once_chart()))
            },
        );
    }
    c.add(
        "ch04::delivery::sweep_loss(base, no scenarios, [0.1], 2)",
        || {
            dl::sweep_loss(&DeliveryParams::default(), &[], &[0.1], 2)?;
            Ok(())
        },
    );
    for &(n, x) in F64 {
        c.add(format!("ch04::LossSweep.table({n})"), move || {
            let sw = dl::sweep_loss(
                &DeliveryParams {
                    messages: 50,
                    ..DeliveryParams::default()
                },
                &Scenario::standard()[..2],
                &[0.1, 0.2],
                2,
            )?;
            table(&sw.table(x))
        });
        c.add(
            format!("ch04::DeliveryRun.diagram(until {n} ms)"),
            move || {
                let p = DeliveryParams {
                    messages: 20,
                    trace_cap: 500,
                    ..DeliveryParams::default()
                };
                chart(
                    p.run(&Scenario::standard()[1])?
                        .diagram(&"t".repeat(300), Some(x)),
                )
            },
        );
    }
    for &(n, v) in RUNS64 {
        c.add(
            format!("ch04::delivery::lost_ack_story(base, tries {n})"),
            move || {
                let s = dl::lost_ack_story(
                    &DeliveryParams {
                        messages: 50,
                        ..DeliveryParams::default()
                    },
                    v,
                )?;
                let a = chart(s.plain_diagram());
                a.and(chart(s.dedup_diagram()))
            },
        );
    }
    for &(n, v) in U64 {
        c.add(
            format!("ch04::delivery::lost_ack_story(loss 0, seed {n}, tries 1000)"),
            move || {
                dl::lost_ack_story(
                    &DeliveryParams {
                        messages: 20,
                        loss: 0.0,
                        seed: v,
                        ..DeliveryParams::default()
                    },
                    1000,
                )?;
                Ok(())
            },
        );
    }
}

fn logging(c: &mut Cases) {
    let base = LoggingParams::default();
    let b = body(|p: &LoggingParams| {
        let r = p.run(&FaultPlan::new(), true, 1000)?;
        let _ = (
            r.checks.holds(),
            r.store.committed().len(),
            r.history.len(),
            r.trace.events().len(),
        );
        let rep = p.every_crash_point()?;
        table(&lg::compare_table(&[(p.logging, rep.clone())]))?;
        let a = chart(lg::grid(p.logging, &rep));
        let b = chart(p.crash_diagram(0));
        let h = chart(p.history_chart(Some(1)));
        a.and(b).and(h)
    });
    let t = "ch05::LoggingParams";
    let m = "run, every_crash_point, charts";
    c.vary(t, m, &base, "seed", U64, |p, v| p.seed = v, &b);
    let schemes: Vec<(String, Logging)> = Logging::ALL
        .iter()
        .map(|&l| (format!("{l:?}"), l))
        .collect();
    c.vary(t, m, &base, "logging", &schemes, |p, v| p.logging = v, &b);
    c.vary(t, m, &base, "accounts", USIZE, |p, v| p.accounts = v, &b);
    c.vary(t, m, &base, "initial", I64, |p, v| p.initial = v, &b);
    c.vary(t, m, &base, "clients", USIZE, |p, v| p.clients = v, &b);
    c.vary(t, m, &base, "transfers", USIZE, |p, v| p.transfers = v, &b);
    c.vary(t, m, &base, "think", DUR, |p, v| p.think = v, &b);
    c.vary(t, m, &base, "timeout", DUR, |p, v| p.timeout = v, &b);
    c.vary(
        t,
        m,
        &base,
        "restart_after",
        DUR,
        |p, v| p.restart_after = v,
        &b,
    );
    let heavy = LoggingParams {
        clients: 100,
        transfers: 1000,
        ..LoggingParams::default()
    };
    c.add(
        "ch05::LoggingParams{clients: 100, transfers: 1000}.every_crash_point",
        move || {
            heavy.every_crash_point()?;
            Ok(())
        },
    );
    for &(n, k) in U64 {
        c.add(
            format!("ch05::LoggingParams.crash_diagram({n}), history_chart(Some({n}))"),
            move || {
                let p = LoggingParams::default();
                let a = chart(p.crash_diagram(k));
                a.and(chart(p.history_chart(Some(k))))
            },
        );
        c.add(
            format!(
                "ch05::LoggingParams.run(crash_at_point({n}, Some(MAX)), record, trace usize::MAX)"
            ),
            move || {
                let p = LoggingParams::default();
                let r = p.run(
                    &FaultPlan::new().crash_at_point(k, Some(SimDuration::MAX)),
                    true,
                    usize::MAX,
                )?;
                let _ = r.checks.holds();
                Ok(())
            },
        );
    }
    c.add(
        "ch05::logging::compare(default, every scheme), compare_table",
        || {
            let r = lg::compare(&LoggingParams::default(), &Logging::ALL)?;
            table(&lg::compare_table(&r))
        },
    );
    c.add("ch05::logging::compare(default, no scheme)", || {
        let r = lg::compare(&LoggingParams::default(), &[])?;
        table(&lg::compare_table(&r))
    });
    c.add(
        "ch05::LoggingParams.run(plan with a crash of node 5)",
        || {
            LoggingParams::default().run(&FaultPlan::new().crash(ms(1), 5), false, 0)?;
            Ok(())
        },
    );
    write_paths(c);
}

/// A reader's redo write path, however wrong: every order of the steps a
/// notebook cell may write, and paths that miss or repeat a step, through
/// every crash point and the table; a write path with undo logging.
fn write_paths(c: &mut Cases) {
    use thinkdist::txn::logging::Step::{self, *};
    let paths: Vec<(&str, &'static [Step])> = vec![
        ("redo", thinkdist::txn::logging::REDO_PATH),
        ("empty", &[]),
        ("no sync", &[LogNewValues, LogCommit, Acknowledge, Apply]),
        ("syncs only", &[Sync, Sync]),
        (
            "ack twice",
            &[
                LogNewValues,
                LogCommit,
                Sync,
                Acknowledge,
                Acknowledge,
                Apply,
            ],
        ),
        ("ack first", &[Acknowledge, Apply, LogCommit, LogNewValues]),
        ("17 steps", &[Sync; 17]),
        (
            "apply, sync, log",
            &[
                Apply,
                Sync,
                LogNewValues,
                Sync,
                LogCommit,
                Sync,
                Acknowledge,
            ],
        ),
    ];
    for (name, path) in paths {
        c.add(
            format!("ch05::LoggingParams.every_crash_point_with({name})"),
            move || {
                let r = LoggingParams::default().every_crash_point_with(path)?;
                table(&lg::crash_table(&[(name, &r)]))
            },
        );
    }
    c.add(
        "ch05::LoggingParams{logging: Undo, write_path: redo}.every_crash_point",
        || {
            LoggingParams {
                write_path: Some(thinkdist::txn::logging::REDO_PATH),
                ..LoggingParams::default()
            }
            .every_crash_point()?;
            Ok(())
        },
    );
}

fn isolation(c: &mut Cases) {
    let base = IsolationParams {
        txns_per_client: 10,
        ..IsolationParams::default()
    };
    let b = body(|p: &IsolationParams| {
        let r = p.run()?;
        let _ = (
            r.money_conserved(),
            r.on_call_kept(),
            r.serializable(),
            r.counts.len(),
        );
        finite_nonneg("throughput", r.throughput())?;
        prob("abort_rate", r.abort_rate())
    });
    let t = "txn::isolation::IsolationParams";
    c.vary(t, "run", &base, "seed", U64, |p, v| p.seed = v, &b);
    let levels: Vec<(String, Level)> = Level::ALL.iter().map(|&l| (format!("{l:?}"), l)).collect();
    c.vary(t, "run", &base, "level", &levels, |p, v| p.level = v, &b);
    c.vary(
        t,
        "run",
        &base,
        "accounts",
        USIZE,
        |p, v| p.accounts = v,
        &b,
    );
    c.vary(t, "run", &base, "initial", I64, |p, v| p.initial = v, &b);
    c.vary(t, "run", &base, "clients", USIZE, |p, v| p.clients = v, &b);
    c.vary(
        t,
        "run",
        &base,
        "txns_per_client",
        USIZE,
        |p, v| p.txns_per_client = v,
        &b,
    );
    c.vary(t, "run", &base, "step", &latencies(), |p, v| p.step = v, &b);
    c.vary(t, "run", &base, "think", DUR, |p, v| p.think = v, &b);
    c.vary(
        t,
        "run",
        &base,
        "audit_size",
        USIZE,
        |p, v| p.audit_size = v,
        &b,
    );
    c.vary(
        t,
        "run",
        &base,
        "max_amount",
        I64,
        |p, v| p.max_amount = v,
        &b,
    );
    c.vary(t, "run", &base, "rollback", PROB, |p, v| p.rollback = v, &b);
    c.vary(t, "run", &base, "retries", U32, |p, v| p.retries = v, &b);
    c.vary(
        t,
        "run",
        &base,
        "on_call_pairs",
        USIZE,
        |p, v| p.on_call_pairs = v,
        &b,
    );
    c.add(
        "txn::isolation::IsolationParams{accounts: 100,000, initial: i64::MAX}.run",
        || {
            IsolationParams {
                accounts: 100_000,
                initial: i64::MAX,
                audit_size: 100_000,
                txns_per_client: 2,
                ..IsolationParams::default()
            }
            .run()?;
            Ok(())
        },
    );
    c.add(
        "txn::isolation::IsolationParams{clients: 1000, txns_per_client: 1000}.run",
        || {
            IsolationParams {
                clients: 1000,
                txns_per_client: 1000,
                ..IsolationParams::default()
            }
            .run()?;
            Ok(())
        },
    );
    let show_counts = |a: &ci::AnomalyCounts| -> Outcome {
        let _ = (
            a.total(Level::NoIsolation, Anomaly::DirtyWrite),
            a.runs(Level::Serializable, Anomaly::WriteSkew),
            a.conserved(Level::ReadCommitted),
        );
        table(&a.table())?;
        let x = chart(a.chart());
        x.and(chart(a.runs_chart()))
    };
    for &(n, k) in RUNS {
        c.add(
            format!("ch05::isolation::anomalies_by_level(base, seeds {n})"),
            move || {
                show_counts(&ci::anomalies_by_level(
                    &IsolationParams {
                        txns_per_client: 5,
                        ..IsolationParams::default()
                    },
                    k,
                )?)
            },
        );
        c.add(
            format!("ch05::isolation::price_of_isolation(base, [4, 8], seeds {n})"),
            move || {
                ci::price_of_isolation(
                    &IsolationParams {
                        txns_per_client: 5,
                        ..IsolationParams::default()
                    },
                    &[4, 8],
                    k,
                )?;
                Ok(())
            },
        );
    }
    for &(n, k) in USIZE {
        c.add(
            format!("ch05::isolation::price_of_isolation(base, [{n}], 2)"),
            move || {
                let p = ci::price_of_isolation(
                    &IsolationParams {
                        txns_per_client: 5,
                        ..IsolationParams::default()
                    },
                    &[k],
                    2,
                )?;
                table(&p.table())?;
                let x = chart(p.throughput_chart());
                x.and(chart(p.abort_chart()))
            },
        );
    }
    c.add("ch05::isolation::price_of_isolation(base, [], 2)", || {
        ci::price_of_isolation(&IsolationParams::default(), &[], 2)?;
        Ok(())
    });
    let ranges: Vec<(&str, std::ops::Range<u64>)> = vec![
        ("0..0", 0..0),
        ("5..3", std::ops::Range { start: 5, end: 3 }),
        ("0..50", 0..50),
        ("u64::MAX-3..u64::MAX", u64::MAX - 3..u64::MAX),
        ("0..u64::MAX", 0..u64::MAX),
    ];
    for (rn, r) in ranges {
        for level in [Level::NoIsolation, Level::Serializable] {
            for kind in [Anomaly::DirtyWrite, Anomaly::LostUpdate, Anomaly::WriteSkew] {
                // A search that cannot succeed over every seed: once.
                if rn == "0..u64::MAX" && level == Level::Serializable && kind != Anomaly::WriteSkew
                {
                    continue;
                }
                let r = r.clone();
                c.add(
                    format!("ch05::isolation::one_anomaly(base, {level:?}, {kind:?}, {rn})"),
                    move || {
                        let s = ci::one_anomaly(
                            &IsolationParams {
                                txns_per_client: 5,
                                ..IsolationParams::default()
                            },
                            level,
                            kind,
                            r.clone(),
                        )?;
                        let _ = s.sequence();
                        chart(s.diagram())
                    },
                );
            }
        }
    }
}

/// The cost of a sync: every batch size, window, client count and sync
/// time of the tables, on short runs.
fn sync_cost(c: &mut Cases) {
    let short = SyncCostParams {
        duration: ms(500),
        seeds: 2,
        clients: 10,
        ..SyncCostParams::default()
    };
    for &(n, b) in USIZE {
        let p = short.clone();
        c.add(format!("ch05::sync_cost::group_commit([{n}])"), move || {
            let g = p.group_commit(&[b])?;
            table(&g.table())?;
            chart(g.chart())
        });
    }
    for &(n, w) in F64 {
        let p = short.clone();
        c.add(
            format!("ch05::sync_cost::window_latency([{n}])"),
            move || {
                let g = p.window_latency(&[w])?;
                table(&g.table())?;
                chart(g.chart())
            },
        );
    }
    for &(n, k) in USIZE {
        let p = SyncCostParams {
            clients: k,
            ..short.clone()
        };
        c.add(format!("ch05::sync_cost clients {n}"), move || {
            p.group_commit(&[1, 16])?;
            Ok(())
        });
    }
    for &(n, d) in DUR {
        let p = SyncCostParams {
            sync_time: d,
            ..short.clone()
        };
        c.add(format!("ch05::sync_cost sync_time {n}"), move || {
            p.window_latency(&[0.0, 5.0])?;
            Ok(())
        });
        let p = SyncCostParams {
            duration: d,
            ..short.clone()
        };
        c.add(format!("ch05::sync_cost duration {n}"), move || {
            p.group_commit(&[4])?;
            Ok(())
        });
    }
    c.add("ch05::sync_cost::group_commit([])", move || {
        short.group_commit(&[])?;
        short.window_latency(&[])?;
        Ok(())
    });
}

/// Checkpoints: every interval, transfer count, balance and account count
/// of the tables, on short runs.
fn checkpoint(c: &mut Cases) {
    let short = CheckpointParams {
        transfers: 16,
        initial: 1_000,
        seeds: 2,
        ..CheckpointParams::default()
    };
    for &(n, i) in USIZE {
        let p = short.clone();
        c.add(
            format!("ch05::checkpoint::recovery_cost([{n}])"),
            move || {
                let r = p.recovery_cost(&[i])?;
                table(&r.table())?;
                chart(r.chart())
            },
        );
        let p = short.clone();
        c.add(
            format!("ch05::checkpoint::recovery_crashes({n})"),
            move || table(&p.recovery_crashes(i)?.table()),
        );
        let p = short.clone();
        c.add(
            format!("ch05::checkpoint::every_crash_point({n})"),
            move || {
                p.every_crash_point(i, thinkdist::txn::checkpoint::Redo::Delta)?;
                Ok(())
            },
        );
        let p = CheckpointParams {
            transfers: i,
            ..short.clone()
        };
        c.add(format!("ch05::checkpoint transfers {n}"), move || {
            p.recovery_cost(&[1])?;
            p.recovery_crashes(2)?;
            Ok(())
        });
        let p = CheckpointParams {
            accounts: i,
            ..short.clone()
        };
        c.add(format!("ch05::checkpoint accounts {n}"), move || {
            p.recovery_cost(&[4])?;
            Ok(())
        });
    }
    for &(n, v) in I64 {
        let p = CheckpointParams {
            initial: v,
            ..short.clone()
        };
        c.add(format!("ch05::checkpoint initial {n}"), move || {
            p.recovery_cost(&[4])?;
            Ok(())
        });
    }
    for &(n, d) in DUR {
        let p = CheckpointParams {
            think: d,
            timeout: d,
            restart_after: d,
            ..short.clone()
        };
        c.add(format!("ch05::checkpoint durations {n}"), move || {
            p.recovery_cost(&[4])?;
            Ok(())
        });
    }
    c.add("ch05::checkpoint::recovery_cost([])", move || {
        short.recovery_cost(&[])?;
        Ok(())
    });
}

pub fn add(c: &mut Cases) {
    delivery(c);
    logging(c);
    isolation(c);
    sync_cost(c);
    checkpoint(c);
}
