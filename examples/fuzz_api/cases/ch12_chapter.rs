//! Chapter 12's experiments (balancing, storms, shedding, composed
//! availability) with bad and extreme parameters; split from `ch12.rs`.

use crate::harness::*;
use thinkdist::ch12::{balancing as bl, composed as cp, shedding as sh, storm as st};
use thinkdist::measure::theory::service::Block;
use thinkdist::prelude::*;
use thinkdist::service::balance::Policy;
use thinkdist::service::protect::Protection;

pub fn chapter_cases(c: &mut Cases) {
    let bp = bl::BalanceParams {
        requests: 1000,
        seeds: 2,
        ..Default::default()
    };
    let lb = body(|p: &bl::BalanceParams| {
        let r = bl::p99_vs_load(
            p,
            &[Policy::Random, Policy::RoundRobin, Policy::PowerOfTwo],
            &[0.5],
        )?;
        table(&r.table())?;
        chart(r.chart(false))
    });
    let t = "ch12::balancing::BalanceParams";
    c.vary(
        t,
        "p99_vs_load",
        &bp,
        "servers",
        USIZE,
        |p, v| p.servers = v,
        &lb,
    );
    c.vary(
        t,
        "p99_vs_load",
        &bp,
        "service_ms",
        F64,
        |p, v| p.service_ms = v,
        &lb,
    );
    c.vary(
        t,
        "p99_vs_load",
        &bp,
        "requests",
        USIZE,
        |p, v| p.requests = v,
        &lb,
    );
    c.vary(
        t,
        "p99_vs_load",
        &bp,
        "seeds",
        RUNS64,
        |p, v| p.seeds = v,
        &lb,
    );
    for &(n, x) in F64 {
        c.add(
            format!("ch12::balancing::p99_vs_load(load {n})"),
            move || chart(bl::p99_vs_load(&bp_small(), &[Policy::Random], &[x])?.chart(true)),
        );
        c.add(
            format!("ch12::balancing::p99_vs_age(age {n} ms)"),
            move || {
                chart(
                    bl::p99_vs_age(&bp_small(), &[Policy::ShortestQueue], 0.5, &[0.0, x])?
                        .chart(false),
                )
            },
        );
    }
    let sp = st::StormParams {
        seeds: 2,
        duration: secs(4),
        trigger_at: secs(1),
        ..Default::default()
    };
    let sb = body(|p: &st::StormParams| {
        let r = st::timeline(p, &[Protection::None], ms(500))?;
        table(&r.table())?;
        charts(vec![r.goodput_chart(), r.queue_chart()])
    });
    let t = "ch12::storm::StormParams";
    c.vary(
        t,
        "timeline",
        &sp,
        "workers",
        USIZE,
        |p, v| p.workers = v,
        &sb,
    );
    c.vary(
        t,
        "timeline",
        &sp,
        "service_ms",
        F64,
        |p, v| p.service_ms = v,
        &sb,
    );
    c.vary(t, "timeline", &sp, "load", F64, |p, v| p.load = v, &sb);
    c.vary(
        t,
        "timeline",
        &sp,
        "timeout",
        DUR,
        |p, v| p.timeout = v,
        &sb,
    );
    c.vary(
        t,
        "timeline",
        &sp,
        "attempts",
        U32,
        |p, v| p.attempts = v,
        &sb,
    );
    c.vary(
        t,
        "timeline",
        &sp,
        "duration",
        DUR,
        |p, v| p.duration = v,
        &sb,
    );
    c.vary(
        t,
        "timeline",
        &sp,
        "trigger_at",
        DUR,
        |p, v| p.trigger_at = v,
        &sb,
    );
    c.vary(
        t,
        "timeline",
        &sp,
        "slowdown",
        F64,
        |p, v| p.slowdown = v,
        &sb,
    );
    c.vary(t, "timeline", &sp, "bin", DUR, |p, v| p.bin = v, &sb);
    c.vary(t, "timeline", &sp, "seeds", RUNS64, |p, v| p.seeds = v, &sb);
    for &(n, x) in F64 {
        let sp = sp.clone();
        c.add(
            format!("ch12::storm::recovery_vs_length([{n}] s)"),
            move || {
                let r = st::recovery_vs_length(&sp, &[Protection::None], &[x])?;
                table(&r.table())?;
                chart(r.chart())
            },
        );
    }
    let shp = sh::SheddingParams {
        base: sp.clone(),
        duration: secs(3),
        measure_from: secs(1),
    };
    for &(n, x) in F64 {
        let shp = shp.clone();
        c.add(
            format!("ch12::shedding::goodput_vs_load([{n}])"),
            move || {
                let g = sh::goodput_vs_load(
                    &shp,
                    &[sh::Guarding::NONE, sh::Guarding::DEADLINES_LIFO],
                    &[x],
                )?;
                table(&g.table())?;
                chart(g.chart())
            },
        );
    }
    let ap = cp::ComposedParams {
        seeds: 2,
        horizon: secs(2_000),
        ..Default::default()
    };
    let ab = body(|p: &cp::ComposedParams| {
        let pts = cp::availability(p, &cp::Structure::examples())?;
        table(&cp::availability_table(&pts))?;
        chart(cp::availability_chart(&pts))?;
        let r = cp::retry_across(p)?;
        table(&r.table())?;
        chart(r.chart())
    });
    let t = "ch12::composed::ComposedParams";
    c.vary(
        t,
        "availability+retry_across",
        &ap,
        "mttf",
        DUR,
        |p, v| p.mttf = v,
        &ab,
    );
    c.vary(
        t,
        "availability+retry_across",
        &ap,
        "mttr",
        DUR,
        |p, v| p.mttr = v,
        &ab,
    );
    c.vary(
        t,
        "availability+retry_across",
        &ap,
        "horizon",
        DUR,
        |p, v| p.horizon = v,
        &ab,
    );
    c.vary(
        t,
        "availability+retry_across",
        &ap,
        "replicas",
        USIZE,
        |p, v| p.replicas = v,
        &ab,
    );
    c.vary(
        t,
        "availability+retry_across",
        &ap,
        "request_rate",
        F64,
        |p, v| p.request_rate = v,
        &ab,
    );
    c.vary(
        t,
        "availability+retry_across",
        &ap,
        "timeout",
        DUR,
        |p, v| p.timeout = v,
        &ab,
    );
    for &(n, k) in USIZE {
        c.add(
            format!("ch12::composed::Structure::new(parts {n})"),
            move || {
                let s = cp::Structure::new("x", k, Block::AtLeast(k, vec![Block::Part(0)]))?;
                prob("availability", s.block.availability(&vec![0.5; s.parts])?)
            },
        );
    }
    for name in [
        "power of two choices",
        "adaptive throttling",
        "retry budget",
        "",
        "x",
    ] {
        c.add(format!("ch12::source({name:?})"), move || {
            ensure(!thinkdist::ch12::source(name)?.is_empty(), || {
                "empty source".into()
            })
        });
    }
}

fn bp_small() -> bl::BalanceParams {
    bl::BalanceParams {
        requests: 1000,
        seeds: 2,
        ..Default::default()
    }
}
