//! Mechanism modules: `detect`, `retry`, `delivery` (with its theory),
//! `failure` (injector and the `Faulty` wrapper) and `txn` (two-phase
//! commit, logging store, isolation database).

use crate::harness::*;
use thinkdist::delivery::{self, theory as dth, DedupStore, Resend, Semantics};
use thinkdist::detect::{self as det, Detector, HeartbeatDetector, PhiAccrual};
use thinkdist::failure::{FailureInjector, FailureMode, Faulty, Service};
use thinkdist::prelude::*;
use thinkdist::retry::{Backoff, Hedge, RetryPolicy};
use thinkdist::txn::isolation::{Database, IsolationParams, Level, Mix, Program};
use thinkdist::txn::logging::Store;
use thinkdist::txn::two_phase::{TwoPhase, Variant};

fn detectors(c: &mut Cases) {
    let beats: [(&str, [SimTime; 3]); 3] = [
        (
            "0, 1ns, SimTime::MAX",
            [SimTime(0), SimTime(1), SimTime::MAX],
        ),
        ("SimTime::MAX ×3", [SimTime::MAX; 3]),
        (
            "SimTime::MAX, 0, 0 (backwards)",
            [SimTime::MAX, SimTime(0), SimTime(0)],
        ),
    ];
    for &(dn, d) in DUR {
        for (bn, b) in beats {
            c.add(
                format!("HeartbeatDetector::new({dn}): heartbeats {bn}, check"),
                move || {
                    let mut h = HeartbeatDetector::new(d)?;
                    for t in b {
                        h.heartbeat(t);
                        let _ = (h.check(t + d), h.status_at(SimTime::MAX), h.deadline());
                    }
                    let _ = (h.transitions().len(), Detector::status(&h), h.timeout());
                    Ok(())
                },
            );
            c.add(
                format!("PhiAccrual::new(8, 100, min_sd {dn}): heartbeats {bn}, phi"),
                move || {
                    let mut p = PhiAccrual::new(8.0, 100, d)?;
                    for t in b {
                        p.heartbeat(t);
                        let _ = (p.check(t), p.status_at(SimTime::MAX));
                        not_nan("PhiAccrual::phi", p.phi(SimTime::MAX))?;
                    }
                    let _ = p.mean_sd_ms();
                    Ok(())
                },
            );
        }
    }
    for &(tn, t) in F64 {
        c.add(
            format!("PhiAccrual::new(threshold {tn}, 100, 1ms)"),
            move || {
                let mut p = PhiAccrual::new(t, 100, ms(1))?;
                p.heartbeat(SimTime(0));
                p.heartbeat(SimTime(1_000_000));
                let _ = (p.check(SimTime::MAX), p.threshold());
                Ok(())
            },
        );
        c.add(
            format!("detect::erfc({tn}), normal_cdf, log10_normal_tail"),
            move || {
                let e = det::erfc(t);
                let n = det::normal_cdf(t);
                let l = det::log10_normal_tail(t);
                ensure(t.is_nan() || (0.0..=2.0).contains(&e), || {
                    format!("erfc({t}) = {e}")
                })?;
                ensure(t.is_nan() || (0.0..=1.0).contains(&n), || {
                    format!("normal_cdf({t}) = {n}")
                })?;
                ensure(t.is_nan() || l <= 1e-12, || {
                    format!("log10_normal_tail({t}) = {l}")
                })
            },
        );
    }
    for &(wn, w) in USIZE {
        c.add(
            format!("PhiAccrual::new(8, window {wn}, 1ms), 1000 heartbeats"),
            move || {
                let mut p = PhiAccrual::new(8.0, w, ms(1))?;
                for i in 0..1000 {
                    p.heartbeat(SimTime(i * 1_000_000));
                }
                not_nan("phi", p.phi(SimTime(2_000_000_000)))
            },
        );
    }
}

fn retries(c: &mut Cases) {
    for kind in Backoff::ALL {
        let k = kind.name();
        for &(bn, base) in DUR_SHORT {
            for &(cn, cap) in DUR_SHORT {
                c.add(
                    format!("RetryPolicy::new({k}, base {bn}, cap {cn}, 10), delay ×10"),
                    move || {
                        let p = RetryPolicy::new(kind, base, cap, 10)?;
                        let mut r = simrng::stream(1, 0, 0, 0);
                        let mut prev = SimDuration::ZERO;
                        for a in [0, 1, 2, 9, 10, u32::MAX] {
                            if let Some(d) = p.delay(a, prev, &mut r) {
                                ensure(d <= cap, || format!("delay {d} above cap {cap}"))?;
                                prev = d;
                            }
                            let _ = p.envelope(a);
                        }
                        Ok(())
                    },
                );
            }
        }
        for &(an, a) in U32 {
            c.add(
                format!("RetryPolicy::new({k}, 1ms, 1s, {an}), delay at attempts 1..=64"),
                move || {
                    let p = RetryPolicy::new(kind, ms(1), secs(1), a)?;
                    let mut r = simrng::stream(2, 0, 0, 0);
                    let mut prev = SimDuration::MAX;
                    for att in 1..=64 {
                        if let Some(d) = p.delay(att, prev, &mut r) {
                            prev = d;
                        }
                    }
                    let _ = (p.kind(), p.base(), p.cap(), p.max_attempts(), p.timeout());
                    Ok(())
                },
            );
        }
        for &(fn_, f) in F64 {
            c.add(
                format!("RetryPolicy::from_ms({k}, {fn_}, {fn_}, 3)"),
                move || {
                    RetryPolicy::from_ms(kind, f, f, 3)?;
                    Ok(())
                },
            );
        }
    }
    for &(dn, d) in DUR {
        c.add(
            format!("RetryPolicy::default().with_timeout({dn})"),
            move || {
                RetryPolicy::default().with_timeout(d)?;
                Ok(())
            },
        );
        for &(pn, p) in DUR_SHORT {
            c.add(
                format!("Hedge::new({dn}).resolve(primary {pn}, backup 1ms)"),
                move || {
                    let h = Hedge::new(d);
                    let o = h.resolve(p, || ms(1));
                    let _ = h.should_hedge(p, false);
                    ensure(o.latency <= p, || {
                        format!("hedged latency {} > primary {p}", o.latency)
                    })
                },
            );
        }
    }
    for &(fn_, f) in F64 {
        c.add(format!("Hedge::from_ms({fn_})"), move || {
            let h = Hedge::from_ms(f)?;
            let _ = h.delay();
            Ok(())
        });
    }
}

fn delivery_theory(c: &mut Cases) {
    for sem in [Semantics::AtMostOnce, Semantics::AtLeastOnce] {
        for &(pn, p) in PROB {
            for &(kn, k) in U32 {
                c.add(
                    format!("delivery::theory::lost({}, {pn}, {kn})", sem.name()),
                    move || prob("delivery::theory::lost", dth::lost(sem, p, k)?),
                );
            }
        }
    }
    // k loops: the huge k only with one p (each of them may take seconds).
    for &(pn, p) in PROB {
        for &(kn, k) in U32.iter().filter(|(_, k)| *k <= 1000) {
            c.add(
                format!("delivery::theory::delivered_more_than_once({pn}, 0.05, {kn})"),
                move || {
                    prob(
                        "delivered_more_than_once",
                        dth::delivered_more_than_once(p, 0.05, k)?,
                    )
                },
            );
        }
        c.add(
            format!("delivery::theory::delivered_more_than_once(0.5, {pn}, 3)"),
            move || {
                prob(
                    "delivered_more_than_once",
                    dth::delivered_more_than_once(0.5, p, 3)?,
                )
            },
        );
        for &(dn, d) in PROB {
            c.add(
                format!("delivery::theory::at_most_once_copies({pn}, {dn})"),
                move || finite_nonneg("at_most_once_copies", dth::at_most_once_copies(p, d)?),
            );
        }
    }
    for &(kn, k) in U32.iter().filter(|(_, k)| *k == 1 << 31) {
        c.add(
            format!("delivery::theory::delivered_more_than_once(0.5, 0.05, {kn})"),
            move || {
                prob(
                    "delivered_more_than_once",
                    dth::delivered_more_than_once(0.5, 0.05, k)?,
                )
            },
        );
    }
    for &(dn, d) in DUR {
        for &(an, a) in U32 {
            c.add(format!("Resend::new({dn}, {an})"), move || {
                let r = Resend::new(d, a)?;
                r.validate()?;
                Ok(())
            });
        }
    }
    for &(n, k) in USIZE {
        c.add(
            format!("DedupStore::Window({n}).name, check_exactly_once keys near {n}"),
            move || {
                let _ = DedupStore::Window(k).name();
                let log = vec![(SimTime::MAX, (k, u64::MAX)), (SimTime(0), (k, u64::MAX))];
                let v = delivery::check_exactly_once([(k, u64::MAX), (0, 0)], &log);
                ensure(v.len() == 2 && !v[0].holds, || "missed the double".into())
            },
        );
    }
}

#[derive(Clone, Debug)]
struct EchoService;

impl Service for EchoService {
    type Msg = u64;
    type Timer = ();
    fn start<N: Node<Msg = u64>>(&mut self, ctx: &mut Ctx<'_, N>)
    where
        N::Timer: From<()>,
    {
        if ctx.id() == 0 {
            for i in 0..20 {
                ctx.send(1, i);
            }
        }
    }
    fn handle<N: Node<Msg = u64>>(&mut self, ctx: &mut Ctx<'_, N>, from: NodeId, msg: u64)
    where
        N::Timer: From<()>,
    {
        if msg > 0 {
            ctx.send(from, msg - 1);
        }
    }
}

fn failure(c: &mut Cases) {
    let modes: Vec<(String, FailureMode)> = {
        let mut v = vec![
            ("Correct".to_string(), FailureMode::Correct),
            ("Gray".into(), FailureMode::Gray),
        ];
        for &(pn, p) in PROB {
            v.push((
                format!("Omission{{send: {pn}, receive: {pn}}}"),
                FailureMode::Omission {
                    send: p,
                    receive: p,
                },
            ));
        }
        for &(dn, d) in DUR {
            v.push((
                format!("Slow{{extra: {dn}}}"),
                FailureMode::Slow { extra: d },
            ));
        }
        v
    };
    for (mn, m) in modes {
        for &(an, a) in DUR_SHORT {
            c.add(
                format!("FailureInjector.from({an}, {mn}) on a Faulty echo, run 1s"),
                move || {
                    let inj =
                        FailureInjector::new((|m: &u64| *m == 0) as fn(&u64) -> bool).from(a, m)?;
                    let _ = (inj.mode_at(SimTime::MAX), inj.schedule().len(), m.name());
                    let nodes = vec![
                        Faulty::new(EchoService, inj.clone()),
                        Faulty::new(EchoService, inj),
                    ];
                    let mut sim = Sim::builder().trace(100).build(nodes)?;
                    sim.run_for(secs(1))?;
                    let _ = sim.node(1)?.injector().counts();
                    Ok(())
                },
            );
        }
    }
    for &(an, a) in DUR_SHORT {
        for &(bn, b) in DUR_SHORT {
            c.add(
                format!("FailureInjector.window({an}, {bn}, Gray)"),
                move || {
                    let inj = FailureInjector::new((|_: &u64| true) as fn(&u64) -> bool).window(
                        a,
                        b,
                        FailureMode::Gray,
                    )?;
                    let _ = (inj.mode_at(SimTime(0)), inj.held());
                    Ok(())
                },
            );
        }
    }
}

fn txn(c: &mut Cases) {
    let base = TwoPhase::default();
    let trial = |p: &TwoPhase| -> Outcome {
        p.validate()?;
        let _ = (p.nodes()?.len(), p.lanes());
        let t = thinkdist::check::Trial {
            seed: 1,
            plan: FaultPlan::new().outage(ms(10), ms(60), 0),
            trace_cap: 500.into(),
            workload: None,
        };
        let run = p.trial(&t, 2, 5, ms(1), secs(2))?;
        let _ = (run.violation, run.trace.events().len());
        Ok(())
    };
    let b = body(trial);
    c.vary(
        "txn::two_phase::TwoPhase",
        "trial",
        &base,
        "participants",
        USIZE,
        |p, v| p.participants = v,
        &b,
    );
    c.vary(
        "txn::two_phase::TwoPhase",
        "trial",
        &base,
        "no_vote",
        PROB,
        |p, v| p.no_vote = v,
        &b,
    );
    c.vary(
        "txn::two_phase::TwoPhase",
        "trial",
        &base,
        "vote_timeout",
        DUR,
        |p, v| p.vote_timeout = v,
        &b,
    );
    c.vary(
        "txn::two_phase::TwoPhase",
        "trial",
        &base,
        "ask_every",
        DUR,
        |p, v| p.ask_every = v,
        &b,
    );
    for variant in [
        Variant::Correct,
        Variant::ForgetVote,
        Variant::DecideBeforeLog,
    ] {
        // Many clients: with the correct variant only (the same run each time).
        let clients = if variant == Variant::Correct {
            USIZE
        } else {
            &USIZE[..3]
        };
        for &(n, k) in clients {
            c.add(
                format!("TwoPhase{{variant: {variant:?}}}.trial(clients {n})"),
                move || {
                    let p = TwoPhase {
                        variant,
                        ..TwoPhase::default()
                    };
                    let t = thinkdist::check::Trial {
                        seed: 2,
                        plan: FaultPlan::new(),
                        trace_cap: 0.into(),
                        workload: None,
                    };
                    p.trial(&t, k, 3, ms(1), secs(1))?;
                    Ok(())
                },
            );
        }
        for &(n, v) in U64 {
            c.add(
                format!("TwoPhase{{variant: {variant:?}}}.trial(txns {n}, horizon 1s)"),
                move || {
                    let p = TwoPhase {
                        variant,
                        ..TwoPhase::default()
                    };
                    let t = thinkdist::check::Trial {
                        seed: 3,
                        plan: FaultPlan::new(),
                        trace_cap: 0.into(),
                        workload: None,
                    };
                    p.trial(&t, 2, v, ms(1), secs(1))?;
                    Ok(())
                },
            );
        }
    }
    for &(vn, v) in I64 {
        c.add(format!("txn::logging::Store::new(2, {vn})"), move || {
            let _ = Store::new(2, v)?.committed();
            Ok(())
        });
    }
    for &(n, k) in USIZE {
        c.add(format!("txn::logging::Store::new({n}, 100)"), move || {
            let _ = Store::new(k, 100)?.committed();
            Ok(())
        });
        c.add(
            format!("txn::isolation::Program validate(keys {n})"),
            move || {
                let ps = [
                    Program::Transfer {
                        from: 0,
                        to: k,
                        amount: i64::MAX,
                    },
                    Program::Audit {
                        keys: vec![k, usize::MAX],
                    },
                    Program::OnCall { me: k, other: 0 },
                ];
                for p in &ps {
                    let _ = p.label();
                    p.validate(k)?;
                }
                Ok(())
            },
        );
    }
    type Init = fn() -> Vec<i64>;
    let inits: Vec<(&str, Init)> = vec![
        ("[]", Vec::new),
        ("[i64::MAX, i64::MAX]", || vec![i64::MAX, i64::MAX]),
        ("[i64::MIN, -1]", || vec![i64::MIN, -1]),
        ("100,000 × 0", || vec![0; 100_000]),
    ];
    for (inn, init) in inits {
        for level in Level::ALL {
            c.add(
                format!("Database::new({level:?}, {inn}, exponential 1ms)"),
                move || {
                    let db = Database::new(level, init(), Latency::exponential(ms(1))?)?;
                    let _ = (db.values().len(), db.in_flight(), db.outcomes().started());
                    Ok(())
                },
            );
        }
    }
    for (ln, l) in latencies() {
        c.add(
            format!("Database::new(Serializable, [100, 100], {ln})"),
            move || {
                Database::new(Level::Serializable, vec![100, 100], l.clone())?;
                Ok(())
            },
        );
    }
    let mixes = [
        (
            "NaN",
            Mix {
                transfer: f64::NAN,
                ..Mix::BANK
            },
        ),
        (
            "all 0",
            Mix {
                transfer: 0.0,
                audit: 0.0,
                on_call: 0.0,
            },
        ),
        (
            "f64::MAX ×3",
            Mix {
                transfer: f64::MAX,
                audit: f64::MAX,
                on_call: f64::MAX,
            },
        ),
        (
            "5e-324",
            Mix {
                transfer: 5e-324,
                audit: 0.0,
                on_call: 0.0,
            },
        ),
        (
            "-1",
            Mix {
                transfer: -1.0,
                ..Mix::BANK
            },
        ),
        ("ON_CALL", Mix::ON_CALL),
    ];
    for (mn, m) in mixes {
        c.add(format!("IsolationParams{{mix: {mn}}}.run"), move || {
            let p = IsolationParams {
                mix: m,
                txns_per_client: 5,
                ..IsolationParams::default()
            };
            let r = p.run()?;
            let _ = (
                r.throughput(),
                r.abort_rate(),
                r.money_conserved(),
                r.on_call_kept(),
                r.serializable(),
            );
            Ok(())
        });
    }
}

pub fn add(c: &mut Cases) {
    detectors(c);
    retries(c);
    delivery_theory(c);
    failure(c);
    txn(c);
}
