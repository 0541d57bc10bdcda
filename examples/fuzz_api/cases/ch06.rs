//! Chapter 6: two-phase commit's atomicity checks, the blocking window,
//! commit latency and its theory; sagas, their exploration and the
//! comparison with two-phase commit.

use crate::harness::*;
use thinkdist::ch06::atomicity::{counterexample_chart, crash_table, explore_table, shrink_table};
use thinkdist::ch06::blocking::{blocking_table, blocking_tail, by_situation_chart};
use thinkdist::ch06::latency::SlowestRoundTrip;
use thinkdist::ch06::sagas::{
    compare, compare_chart, compare_latency_chart, compare_table, erlang_tail, saga_table,
    window_chart,
};
use thinkdist::ch06::three_phase::{crashes_table, replay_table};
use thinkdist::ch06::{
    AtomicityParams, BlockingParams, CostParams, HeldLocksParams, LatencyParams, SagaParams,
    ThreePhaseParams,
};
use thinkdist::prelude::*;
use thinkdist::txn::decision::{standard_decision, Votes};
use thinkdist::txn::saga::{check_final, Compensation, Saga};
use thinkdist::txn::two_phase::{Outcome as Decided, Variant};

/// One [`Cases::vary`] per row, in order: `"field", VALUES => path` sets
/// `base.path` to each value of `VALUES` and runs the body on it.
macro_rules! vary_fields {
    ($c:expr, $t:expr, $m:expr, $base:expr, $b:expr; $($name:literal, $gen:expr => $($path:ident).+),* $(,)?) => {
        $( $c.vary($t, $m, $base, $name, $gen, |p, v| p.$($path).+ = v, $b); )*
    };
}

fn atomicity(c: &mut Cases) {
    let base = AtomicityParams {
        txns: 2,
        ..AtomicityParams::default()
    };
    let b = body(|p: &AtomicityParams| {
        let r = p.every_crash_point(Variant::Correct)?;
        table(&crash_table(&[("x".into(), r)]))?;
        let e = p.explore(Variant::DecideBeforeLog, 50)?;
        table(&explore_table(&[("x".into(), e.clone())]))?;
        if e.counterexample.is_some() {
            table(&shrink_table(&e)?)?;
            chart(counterexample_chart(&e, 60.0))?;
        }
        Ok(())
    });
    let (t, m) = ("AtomicityParams", "every_crash_point+explore");
    vary_fields!(c, t, m, &base, &b;
        "seed", U64 => seed,
        "participants", USIZE => participants,
        "clients", USIZE => clients,
        "txns", U64 => txns,
        "restart_after", DUR => restart_after,
        "horizon", DUR => horizon,
    );
    for &(n, k) in RUNS {
        c.add(
            format!("AtomicityParams::default().explore(Correct, {n})"),
            move || {
                AtomicityParams::default().explore(Variant::Correct, k)?;
                Ok(())
            },
        );
    }
    rules(c, &base);
    for &(n, w) in F64 {
        c.add(format!("counterexample_chart(window {n})"), move || {
            let e = AtomicityParams::default().explore(Variant::DecideBeforeLog, 100)?;
            chart(counterexample_chart(&e, w))
        });
    }
}

/// A reader's decision rule, however wild (always commit, never decide,
/// commit at the timeout or at a majority), run through every crash point
/// and the explorer: a verdict or a clear error (a rule that breaks
/// atomicity without any crash), never a panic or a hang.
fn rules(c: &mut Cases, base: &AtomicityParams) {
    type Rule = fn(&Votes) -> Option<Decided>;
    let rules: [(&str, Rule); 6] = [
        ("standard", standard_decision),
        ("always commit", |_| Some(Decided::Committed)),
        ("always abort", |_| Some(Decided::Aborted)),
        ("never decide", |_| None),
        ("commit at timeout", |v| {
            (v.timed_out || v.yes == v.participants).then_some(Decided::Committed)
        }),
        ("majority", |v| {
            (2 * v.yes > v.participants).then_some(Decided::Committed)
        }),
    ];
    for (name, rule) in rules {
        let p = base.clone();
        c.add(format!("every_crash_point_with({name})"), move || {
            let r = p.every_crash_point_with(rule)?;
            table(&crash_table(&[("x".into(), r)]))
        });
        let p = base.clone();
        c.add(format!("explore_with({name}, 50)"), move || {
            let e = p.explore_with(rule, 50)?;
            table(&explore_table(&[("x".into(), e.clone())]))?;
            if e.counterexample.is_some() {
                table(&shrink_table(&e)?)?;
                chart(counterexample_chart(&e, 60.0))?;
            }
            Ok(())
        });
    }
}

fn blocking(c: &mut Cases) {
    let base = BlockingParams {
        seeds: 20,
        ..BlockingParams::default()
    };
    let b = body(|p: &BlockingParams| {
        let runs = vec![p.run(false)?, p.run(true)?];
        table(&blocking_table(&runs)?)?;
        chart(blocking_tail(&runs, p.repair_mean))?;
        chart(by_situation_chart(&runs))
    });
    let (t, m) = ("BlockingParams", "run");
    vary_fields!(c, t, m, &base, &b;
        "seed", U64 => seed,
        "participants", USIZE => participants,
        "link_mean", DUR => link_mean,
        "repair_mean", DUR => repair_mean,
        "ask_every", DUR => ask_every,
        "seeds", RUNS => seeds,
    );
    c.add("blocking_tail(no runs)", || {
        chart(blocking_tail(&[], ms(1)))
    });
    c.add("by_situation_chart(no runs)", || {
        chart(by_situation_chart(&[]))
    });
}

fn latency(c: &mut Cases) {
    let base = LatencyParams {
        participants: vec![1, 3],
        txns: 50,
        ..LatencyParams::default()
    };
    let b = body(|p: &LatencyParams| {
        let r = p.run()?;
        table(&r.table()?)?;
        chart(r.chart())
    });
    let (t, m) = ("LatencyParams", "run");
    vary_fields!(c, t, m, &base, &b;
        "seed", U64 => seed,
        "link_mean", DUR => link_mean,
        "txns", U64 => txns,
    );
    let lists: Vec<(String, Vec<usize>)> = vec![
        ("[]".into(), vec![]),
        ("[0]".into(), vec![0]),
        ("[usize::MAX]".into(), vec![usize::MAX]),
        ("[1; 21]".into(), vec![1; 21]),
        ("[200, 200]".into(), vec![200, 200]),
    ];
    c.vary(
        t,
        m,
        &base,
        "participants",
        &lists,
        |p, v| p.participants = v,
        &b,
    );
    for &(nn, n) in USIZE {
        for &(mn, mean) in F64 {
            c.add(format!("SlowestRoundTrip::new({nn}, {mn})"), move || {
                let s = SlowestRoundTrip::new(n, mean)?;
                finite_nonneg("mean", s.mean())?;
                prob("cdf", s.cdf(mean))?;
                for &(_, q) in PROB {
                    if let Ok(x) = s.quantile(q) {
                        finite_nonneg("quantile", x)?;
                    }
                }
                Ok(())
            });
        }
    }
}

fn sagas(c: &mut Cases) {
    let base = SagaParams {
        trips: 3,
        ..SagaParams::default()
    };
    let b = body(|p: &SagaParams| {
        let e = p.explore(Compensation::NonIdempotent, 20)?;
        table(&saga_table(&[("x".into(), e.clone())]))?;
        let calm = p.calm_windows(false, 2)?;
        chart(window_chart(p, &calm, &calm, &e))?;
        let rows = compare(p, (ms(100), ms(200)))?;
        table(&compare_table(&rows, p)?)?;
        chart(compare_chart(&rows, p))?;
        chart(compare_latency_chart(&rows))
    });
    let (t, m) = ("SagaParams", "explore+compare");
    vary_fields!(c, t, m, &base, &b;
        "seed", U64 => seed,
        "clients", USIZE => clients,
        "trips", U64 => trips,
        "link_mean", DUR => link_mean,
        "horizon", DUR => horizon,
        "saga.services", USIZE => saga.services,
        "saga.refuse", PROB => saga.refuse,
        "saga.timeout", DUR => saga.timeout,
        "saga.attempts", USIZE => saga.attempts,
        "saga.retry_every", DUR => saga.retry_every,
    );
    for &(n, k) in RUNS {
        c.add(
            format!("SagaParams::default().explore(Idempotent, {n})"),
            move || {
                SagaParams::default().explore(Compensation::Idempotent, k)?;
                Ok(())
            },
        );
        c.add(
            format!("SagaParams::default().calm_windows(true, {n})"),
            move || {
                SagaParams::default().calm_windows(true, k)?;
                Ok(())
            },
        );
    }
    for &(a, da) in DUR_SHORT {
        for &(b2, db) in DUR_SHORT {
            c.add(format!("compare(down {a}..{b2})"), move || {
                compare(
                    &SagaParams {
                        trips: 2,
                        ..SagaParams::default()
                    },
                    (da, db),
                )?;
                Ok(())
            });
        }
    }
    for &(kn, k) in USIZE {
        for &(mn, mean) in F64 {
            c.add(format!("erlang_tail(k {kn}, mean {mn})"), move || {
                let s = erlang_tail("x", k, mean, 100.0)?;
                for &(_, y) in &s.points {
                    prob("erlang tail", y)?;
                }
                Ok(())
            });
        }
    }
    c.add("check_final(no disks)", || {
        check_final(&[])?;
        Ok(())
    });
    c.add("Saga::default().nodes()", || {
        let _ = Saga::default().nodes()?;
        Ok(())
    });
    c.add("compare_chart(no rows)", || {
        chart(compare_chart(&[], &SagaParams::default()))
    });
    c.add("compare_latency_chart(no rows)", || {
        chart(compare_latency_chart(&[]))
    });
}

fn cost(c: &mut Cases) {
    let base = CostParams {
        participants: vec![1, 3],
        txns: 20,
        ..CostParams::default()
    };
    let b = body(|p: &CostParams| table(&p.run()?.table()?));
    let (t, m) = ("CostParams", "run");
    vary_fields!(c, t, m, &base, &b;
        "seed", U64 => seed,
        "txns", U64 => txns,
        "no_vote", PROB => no_vote,
    );
    let lists: Vec<(String, Vec<usize>)> = vec![
        ("[]".into(), vec![]),
        ("[0]".into(), vec![0]),
        ("[usize::MAX]".into(), vec![usize::MAX]),
        ("[1; 21]".into(), vec![1; 21]),
        ("[100, 100]".into(), vec![100, 100]),
    ];
    c.vary(
        t,
        m,
        &base,
        "participants",
        &lists,
        |p, v| p.participants = v,
        &b,
    );
}

fn three_phase(c: &mut Cases) {
    let base = ThreePhaseParams {
        txns: 2,
        ..ThreePhaseParams::default()
    };
    let b = body(|p: &ThreePhaseParams| {
        table(&crashes_table(&p.coordinator_crashes()?)?)?;
        let e = p.explore(true, 20)?;
        table(&explore_table(&[("x".into(), e.clone())]))?;
        let r = p.replay(p.seed, FaultPlan::new())?;
        table(&replay_table(&[r])?)
    });
    let (t, m) = ("ThreePhaseParams", "crashes+explore+replay");
    vary_fields!(c, t, m, &base, &b;
        "seed", U64 => seed,
        "participants", USIZE => participants,
        "clients", USIZE => clients,
        "txns", U64 => txns,
        "horizon", DUR => horizon,
    );
    c.add("crashes_table(no rows)", || table(&crashes_table(&[])?));
    c.add("replay_table(no rows)", || table(&replay_table(&[])?));
}

fn held_locks(c: &mut Cases) {
    let base = HeldLocksParams {
        seeds: 2,
        outages: vec![ms(150)],
        ..HeldLocksParams::default()
    };
    let b = body(|p: &HeldLocksParams| {
        let r = p.run()?;
        table(&r.table()?)?;
        chart(r.chart())
    });
    let (t, m) = ("HeldLocksParams", "run");
    vary_fields!(c, t, m, &base, &b;
        "seed", U64 => seed,
        "seeds", USIZE => seeds,
        "keys", USIZE => keys,
        "participants", USIZE => participants,
        "local_rate", F64 => local_rate,
        "lock_wait", DUR => lock_wait,
        "ask_every", DUR => ask_every,
    );
    let lists: Vec<(String, Vec<SimDuration>)> = vec![
        ("[]".into(), vec![]),
        ("[0]".into(), vec![ms(0)]),
        ("[1 h]".into(), vec![secs(3_600)]),
        ("[1 ms; 21]".into(), vec![ms(1); 21]),
    ];
    c.vary(t, m, &base, "outages", &lists, |p, v| p.outages = v, &b);
}

pub fn add(c: &mut Cases) {
    held_locks(c);
    three_phase(c);
    atomicity(c);
    blocking(c);
    latency(c);
    cost(c);
    sagas(c);
}
