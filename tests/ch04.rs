//! Chapter 4: delivery semantics, deduplication, exactly-once processing.
//!
//! Statistical tolerances follow tests/engine.rs: a count of Bernoulli(q)
//! events over N trials is checked within 5 standard deviations
//! sqrt(N q (1-q)) (a false failure about once in 1.7 million runs). The
//! messages of one run are independent trials here: every loss and
//! duplication draw is a fresh Bernoulli draw, and the resend interval
//! (100 ms) exceeds every round trip (at most 2 × 10 ms), so one message's
//! fate does not depend on another's.

use thinkdist::ch04::delivery::{
    exactly_once_over_seeds, lost_ack_story, sweep_loss, DeliveryParams, Role, Scenario,
};
use thinkdist::delivery::{
    check_exactly_once, theory, DedupStore, Receiver, ReceiverDisk, ReceiverStats, Resend,
    Semantics, Sender,
};
use thinkdist::prelude::*;

fn within_binomial(count: u64, n: u64, q: f64) -> bool {
    let sd = (n as f64 * q * (1.0 - q)).sqrt();
    (count as f64 - n as f64 * q).abs() <= 5.0 * sd
}

fn scenario(semantics: Semantics, store: DedupStore, crashes: bool) -> Scenario {
    Scenario::new(semantics, store, crashes)
}

// ---------- theory: hand-derived values ----------

#[test]
fn closed_forms_match_hand_values() -> Result<()> {
    // One attempt, no duplication: a single copy at most.
    assert_eq!(theory::delivered_more_than_once(0.3, 0.0, 1)?, 0.0);
    // No loss: only the network's duplicates.
    assert!((theory::delivered_more_than_once(0.0, 0.05, 5)? - 0.05).abs() < 1e-12);
    // p = 1/2, two attempts, no duplication: first copy arrives (1/2), its
    // ack is lost (1/2), the resend arrives (1/2): 1/8.
    assert!((theory::delivered_more_than_once(0.5, 0.0, 2)? - 0.125).abs() < 1e-12);
    assert_eq!(theory::lost(Semantics::AtMostOnce, 0.2, 7)?, 0.2);
    assert!((theory::lost(Semantics::AtLeastOnce, 0.5, 3)? - 0.125).abs() < 1e-12);
    Ok(())
}

// ---------- at-most-once ----------

#[test]
fn at_most_once_never_processes_twice_and_loses_p() -> Result<()> {
    let n = 20_000u64;
    let (p, d) = (0.3, 0.2);
    let params = DeliveryParams {
        messages: n as usize,
        loss: p,
        duplicate: d,
        ..Default::default()
    };
    let run = params.run(&Scenario::standard()[0])?;
    assert_eq!(run.scenario.semantics, Semantics::AtMostOnce);
    assert_eq!(run.outcome.transmissions, n, "never resends");
    assert_eq!(run.outcome.more_than_once, 0);
    assert!(
        within_binomial(run.outcome.lost, n, p),
        "lost {} of {n}, expected {} ± 5σ",
        run.outcome.lost,
        n as f64 * p
    );
    // Network duplicates still arrive (and are skipped): (1-p) d per message.
    assert!(within_binomial(run.outcome.extra_copies, n, (1.0 - p) * d));
    assert_eq!(run.receiver.suppressed, run.outcome.extra_copies);
    assert_eq!(
        run.sender.acked, 0,
        "an at-most-once sender asks for no acks"
    );
    Ok(())
}

#[test]
fn at_most_once_without_dedup_leaks_network_duplicates() -> Result<()> {
    let n = 20_000u64;
    let (p, d) = (0.1, 0.1);
    let params = DeliveryParams {
        messages: n as usize,
        loss: p,
        duplicate: d,
        ..Default::default()
    };
    let sc = scenario(Semantics::AtMostOnce, DedupStore::None, false);
    let run = params.run(&sc)?;
    assert!(run.outcome.more_than_once > 0);
    assert!(within_binomial(
        run.outcome.more_than_once,
        n,
        (1.0 - p) * d
    ));
    Ok(())
}

// ---------- at-least-once ----------

#[test]
fn at_least_once_with_enough_attempts_loses_nothing() -> Result<()> {
    // P(all 40 attempts lost) = 0.3^40 ≈ 1e-21 per message.
    let params = DeliveryParams {
        messages: 5_000,
        loss: 0.3,
        resend: Resend::new(ms(100), 40)?,
        ..Default::default()
    };
    for sc in &Scenario::standard()[1..] {
        let run = params.run(sc)?;
        assert_eq!(run.outcome.lost, 0, "{}", sc.label);
        assert_eq!(run.sender.gave_up, 0, "{}", sc.label);
    }
    Ok(())
}

#[test]
fn at_least_once_loss_and_duplicates_match_closed_forms() -> Result<()> {
    let n = 20_000u64;
    let (p, d, k) = (0.5, 0.05, 3);
    let params = DeliveryParams {
        messages: n as usize,
        loss: p,
        duplicate: d,
        resend: Resend::new(ms(100), k)?,
        ..Default::default()
    };
    let run = params.run(&Scenario::standard()[1])?;
    let lost = theory::lost(Semantics::AtLeastOnce, p, k)?; // 1/8
    assert!(
        within_binomial(run.outcome.lost, n, lost),
        "lost {}",
        run.outcome.lost
    );
    let twice = theory::delivered_more_than_once(p, d, k)?;
    assert!(
        within_binomial(run.outcome.more_than_once, n, twice),
        "processed more than once {} of {n}, theory {:.4}",
        run.outcome.more_than_once,
        twice
    );
    Ok(())
}

// ---------- deduplication ----------

#[test]
fn durable_dedup_is_exactly_once_on_every_seed() -> Result<()> {
    let params = DeliveryParams {
        messages: 200,
        loss: 0.2,
        resend: Resend::new(ms(100), 30)?,
        ..Default::default()
    };
    let sc = scenario(Semantics::AtLeastOnce, DedupStore::Durable, true);
    // The crashes happen and the store does work on these runs.
    let one = params.run(&sc)?;
    assert!(one.crashes >= 2);
    assert!(one.receiver.suppressed > 0);
    let c = exactly_once_over_seeds(&params, &sc, 100)?;
    assert_eq!(c.safety_violations, 0, "{:?}", c.first_counterexample);
    assert_eq!(c.liveness_violations, 0, "{:?}", c.first_counterexample);
    // Same runs without dedup: every seed processes something twice.
    let plain = scenario(Semantics::AtLeastOnce, DedupStore::None, true);
    let c = exactly_once_over_seeds(&params, &plain, 100)?;
    assert_eq!(c.safety_violations, 100);
    Ok(())
}

#[test]
fn volatile_dedup_is_exactly_once_without_crashes() -> Result<()> {
    let params = DeliveryParams {
        messages: 200,
        loss: 0.2,
        resend: Resend::new(ms(100), 30)?,
        ..Default::default()
    };
    let sc = scenario(Semantics::AtLeastOnce, DedupStore::Volatile, false);
    let c = exactly_once_over_seeds(&params, &sc, 50)?;
    assert_eq!(c.safety_violations + c.liveness_violations, 0);
    Ok(())
}

/// Producer and consumer, 5 ms constant latency, every ack lost, the
/// consumer down from 20 to 30 ms; one message, resent after 50 ms.
fn crash_between_processing_and_resend(
    store: DedupStore,
    crash: bool,
) -> Result<(ReceiverStats, ReceiverDisk)> {
    let producer = Role::Producer {
        sender: Sender::at_least_once(Resend::new(ms(50), 2)?),
        messages: 1,
        gap: ms(1),
    };
    let consumer = Role::Consumer {
        receiver: Receiver::new(store),
    };
    let mut plan = FaultPlan::new();
    if crash {
        plan = plan.outage(ms(20), ms(30), 1);
    }
    let mut sim = Sim::builder()
        .seed(1)
        .link(LinkConfig::new(Latency::constant(ms(5))))
        .faults(plan)
        .build(vec![producer, consumer])?;
    sim.set_link(1, 0, LinkConfig::new(Latency::constant(ms(5))).loss(1.0))?;
    sim.run_to_end()?;
    let stats = ReceiverStats::from_counters(sim.counters());
    Ok((stats, sim.disk(1)?.synced().clone()))
}

#[test]
fn volatile_dedup_with_a_crash_processes_twice() -> Result<()> {
    // t=0 send m0; t=5 processed, ack lost; t=20 crash (store emptied);
    // t=30 recover; t=50 resend; t=55 m0 processed again.
    let (r, effects) = crash_between_processing_and_resend(DedupStore::Volatile, true)?;
    assert_eq!(r.processed, 2);
    assert_eq!(r.processed_again, 1);
    assert_eq!(effects.processed_more_than_once(), 1);
    let t: Vec<f64> = effects.log().iter().map(|(t, _)| t.as_ms()).collect();
    assert_eq!(t, vec![5.0, 55.0]);
    assert!(!check_exactly_once([(0, 0)], &effects.log())[0].holds);
    // The same schedule with a durable store: skipped, once.
    let (r, _) = crash_between_processing_and_resend(DedupStore::Durable, true)?;
    assert_eq!((r.processed, r.suppressed, r.deliveries), (1, 1, 2));
    // And the volatile store without the crash: once.
    let (r, _) = crash_between_processing_and_resend(DedupStore::Volatile, false)?;
    assert_eq!((r.processed, r.suppressed), (1, 1));
    Ok(())
}

#[test]
fn volatile_dedup_with_crashes_breaks_exactly_once_on_some_seeds() -> Result<()> {
    let params = DeliveryParams {
        messages: 200,
        loss: 0.2,
        resend: Resend::new(ms(100), 30)?,
        ..Default::default()
    };
    let sc = scenario(Semantics::AtLeastOnce, DedupStore::Volatile, true);
    let c = exactly_once_over_seeds(&params, &sc, 100)?;
    assert!(c.safety_violations > 0);
    assert_eq!(c.liveness_violations, 0);
    let (_, e) = c.first_counterexample.expect("a counterexample");
    assert!(e.contains("processed again"), "{e}");
    Ok(())
}

#[test]
fn forgetful_dedup_fails_the_checker() -> Result<()> {
    // A store that keeps only the last key forgets m_i as soon as m_{i+1}
    // (5 ms later) is processed, long before the 100 ms resend.
    let params = DeliveryParams {
        messages: 300,
        loss: 0.3,
        ..Default::default()
    };
    let broken = scenario(Semantics::AtLeastOnce, DedupStore::Window(1), false);
    let run = params.run(&broken)?;
    let v = run.exactly_once();
    assert!(!v[0].holds, "the checker must catch the forgetful store");
    assert!(v[0]
        .counterexample
        .as_deref()
        .unwrap_or("")
        .contains("processed again"));
    // A window longer than the resend span (5 sends × 100 ms / 5 ms = 100
    // keys) is as good as a durable store here.
    let wide = scenario(Semantics::AtLeastOnce, DedupStore::Window(200), false);
    assert!(params.run(&wide)?.exactly_once()[0].holds);
    Ok(())
}

#[test]
fn checker_reports_first_double_and_first_missing() {
    let at = |m: u64| SimTime::from_start(ms(m));
    let log = vec![(at(1), (0, 0)), (at(2), (0, 2)), (at(3), (0, 0))];
    let v = check_exactly_once([(0, 0), (0, 1), (0, 2)], &log);
    assert_eq!(
        v[0].counterexample.as_deref(),
        Some("m0 from node 0 processed again at t=3.000ms")
    );
    assert_eq!(
        v[1].counterexample.as_deref(),
        Some("m1 from node 0 never processed")
    );
    let ok = check_exactly_once([(0, 0)], &[(at(1), (0, 0))]);
    assert!(ok.iter().all(|v| v.holds));
}

#[test]
fn story_shows_a_lost_ack_and_the_dedup_fix() -> Result<()> {
    let p = DeliveryParams {
        messages: 3,
        gap: ms(40),
        loss: 0.3,
        ..Default::default()
    };
    let s = lost_ack_story(&p, 200)?;
    assert!(s.plain.outcome.more_than_once > 0);
    assert_eq!(s.dedup.outcome.more_than_once, 0);
    assert!(s.dedup.receiver.suppressed > 0);
    // Same network decisions in both runs.
    assert_eq!(s.plain.net, s.dedup.net);
    s.plain_diagram()?;
    s.dedup_diagram()?;
    Ok(())
}

// ---------- determinism ----------

#[test]
fn same_seed_same_run() -> Result<()> {
    let p = DeliveryParams {
        messages: 300,
        loss: 0.25,
        trace_cap: 5_000,
        ..Default::default()
    };
    let sc = &Scenario::standard()[3];
    let (a, b) = (p.run(sc)?, p.run(sc)?);
    assert_eq!(a.trace.to_jsonl(), b.trace.to_jsonl());
    assert_eq!(a.log, b.log);
    assert_eq!(a.outcome, b.outcome);
    let c = DeliveryParams { seed: 2, ..p }.run(sc)?;
    assert_ne!(a.log, c.log, "another seed, another run");

    let q = DeliveryParams {
        messages: 200,
        ..Default::default()
    };
    let s1 = sweep_loss(&q, &Scenario::standard(), &[0.0, 0.3], 3)?;
    let s2 = sweep_loss(&q, &Scenario::standard(), &[0.0, 0.3], 3)?;
    assert_eq!(
        serde_json::to_string(&s1.points).ok(),
        serde_json::to_string(&s2.points).ok()
    );
    assert_eq!(s1.table(0.3).to_csv(), s2.table(0.3).to_csv());
    Ok(())
}

// ---------- bad input ----------

#[test]
fn bad_parameters_are_errors() -> Result<()> {
    let ok = DeliveryParams::default();
    let sc = &Scenario::standard()[1];
    let bad = [
        DeliveryParams {
            loss: 1.5,
            ..ok.clone()
        },
        DeliveryParams {
            loss: -0.1,
            ..ok.clone()
        },
        DeliveryParams {
            duplicate: f64::NAN,
            ..ok.clone()
        },
        DeliveryParams {
            messages: 0,
            ..ok.clone()
        },
        DeliveryParams {
            gap: ms(0),
            ..ok.clone()
        },
        DeliveryParams {
            downtime: ms(600),
            ..ok.clone()
        },
        DeliveryParams {
            resend: Resend {
                interval: ms(100),
                max_attempts: 0,
            },
            ..ok.clone()
        },
    ];
    for p in bad {
        let e = p.run(sc).expect_err("bad parameters must fail");
        assert!(e.is_invalid_parameter(), "{e}");
    }
    assert!(Resend::new(ms(0), 3).is_err_and(|e| e.is_invalid_parameter()));
    assert!(Resend::new(ms(10), 0).is_err_and(|e| e.is_invalid_parameter()));
    assert!(theory::lost(Semantics::AtLeastOnce, 2.0, 3).is_err());
    assert!(theory::delivered_more_than_once(0.1, 0.1, 0).is_err());
    let all = Scenario::standard();
    assert!(sweep_loss(&ok, &all, &[0.1, 1.2], 3).is_err_and(|e| e.is_invalid_parameter()));
    assert!(sweep_loss(&ok, &all, &[], 3).is_err_and(|e| e.is_empty_data()));
    assert!(sweep_loss(&ok, &[], &[0.1], 3).is_err_and(|e| e.is_empty_data()));
    assert!(sweep_loss(&ok, &all, &[0.1], 1).is_err_and(|e| e.is_invalid_parameter()));
    assert!(exactly_once_over_seeds(&ok, sc, 0).is_err_and(|e| e.is_invalid_parameter()));
    // Too much work is refused before the first run, naming what to lower.
    for e in [
        exactly_once_over_seeds(&ok, sc, usize::MAX).unwrap_err(),
        sweep_loss(&ok, &all, &[0.1; 1000], 100_000).unwrap_err(),
    ] {
        assert!(
            e.is_invalid_parameter() && e.message().contains("seeds"),
            "{e}"
        );
    }
    // A durable receiver syncs per message; with persistent collections a
    // sync costs O(1), so the largest allowed run stays fast (it was
    // quadratic: 30,000 messages took 17 s). Not timed here: a regression
    // would take minutes, and the fuzz test runs this size (with crashes)
    // under its 10 s limit.
    let big = DeliveryParams {
        messages: 100_000,
        gap: us(10),
        loss: 0.0,
        duplicate: 0.0,
        ..ok.clone()
    };
    let run = big.run(&Scenario::new(
        Semantics::AtLeastOnce,
        DedupStore::Durable,
        false,
    ))?;
    assert_eq!(run.outcome.more_than_once, 0);
    assert!(DeliveryParams {
        messages: 100_001,
        ..ok.clone()
    }
    .run(sc)
    .is_err_and(|e| e.message().contains("`messages`")));
    Ok(())
}
