//! Durable executions (`thinkdist::durable`): replay from the journal,
//! crashes at every crash point, the non-determinism check, durable timers,
//! exactly-once effects through idempotency keys, and broken variants each
//! caught.

use std::cell::Cell;
use std::rc::Rc;
use thinkdist::check::crash_points::{every_point, CrashPointRun};
use thinkdist::durable::{self, Call, Disk, Role, StepKind, Workflow};
use thinkdist::prelude::*;
use thinkdist::process::{Proc, Process};

type W = Process<Call, Disk>;

/// Step `name` of workflow `wf`: a call to service `to`, keyed by the
/// step's journal position if `keyed`.
async fn effect(
    p: &Proc<Call, Disk>,
    wf: &Workflow<Call, Disk>,
    to: NodeId,
    name: &str,
    keyed: bool,
) -> u64 {
    let (q, id, step) = (p.clone(), wf.id(), name.to_string());
    wf.step(name, move |key| async move {
        let key = keyed.then(|| key.to_string());
        durable::call(&q, to, id, &step, key, ms(20)).await
    })
    .await
}

/// One order: reserve (node 1), charge (node 2), ship (node 3), each a
/// durable step; `runs[i]` counts how often step i's code ran.
fn order(keyed: bool, runs: Rc<[Cell<u32>; 3]>) -> W {
    W::new(move |p| {
        let runs = runs.clone();
        async move {
            let wf = Workflow::new(&p, 1);
            for (i, (to, name)) in [(1, "reserve"), (2, "charge"), (3, "ship")]
                .into_iter()
                .enumerate()
            {
                let before = p.disk(|d| d.journal.get(1, i as u32).is_some());
                effect(&p, &wf, to, name, keyed).await;
                if !before {
                    runs[i].set(runs[i].get() + 1);
                }
            }
        }
    })
}

fn system(worker: W) -> Vec<Role<Disk>> {
    vec![
        Role::Worker(worker),
        Role::Service,
        Role::Service,
        Role::Service,
    ]
}

fn times(sim: &Sim<Role<Disk>>, node: NodeId, step: &str) -> u32 {
    sim.disk(node).unwrap().synced().effects.times(1, step)
}

#[test]
fn a_restarted_workflow_replays_what_the_journal_holds() -> Result<()> {
    let runs: Rc<[Cell<u32>; 3]> = Rc::default();
    // Round trips take 2 ms: reserve ends at 2 ms, charge at 4 ms. Down
    // from 5 to 10 ms: the ship request's reply is lost with the process.
    let plan = FaultPlan::new().outage(us(4_500), ms(10), 0);
    let mut sim = Sim::builder()
        .faults(plan)
        .build(system(order(true, runs.clone())))?;
    sim.run_for(ms(100))?;
    // Reserve and charge ran once and were replayed; ship ran twice (its
    // first result never reached the journal) but happened once (its key).
    assert_eq!(
        runs.iter().map(Cell::get).collect::<Vec<_>>(),
        vec![1, 1, 1],
        "code of each step run live"
    );
    assert_eq!(sim.counters().get("steps replayed"), 2);
    for (node, step) in [(1, "reserve"), (2, "charge"), (3, "ship")] {
        assert_eq!(times(&sim, node, step), 1, "{step}");
    }
    let j = &sim.disk(0)?.synced().journal;
    let names: Vec<_> = j
        .of(1)
        .iter()
        .map(|(pos, e)| (*pos, e.name.clone()))
        .collect();
    assert_eq!(
        names,
        vec![
            (0, "reserve".to_string()),
            (1, "charge".to_string()),
            (2, "ship".to_string())
        ]
    );
    assert!(j.of(1).iter().all(|(_, e)| e.kind == StepKind::Step));
    Ok(())
}

/// One order under a fault plan, judged: it completed, and every effect
/// happened exactly once.
fn scenario(keyed: bool) -> impl Fn(&FaultPlan, bool) -> Result<CrashPointRun> + Sync {
    move |plan: &FaultPlan, record: bool| {
        let runs: Rc<[Cell<u32>; 3]> = Rc::default();
        let mut sim = Sim::builder()
            .faults(plan.clone())
            .crash_points(CrashPoints::SyncsAndSends)
            .record_crash_points(record)
            .build(system(order(keyed, runs)))?;
        sim.run_for(secs(1))?;
        let counts: Vec<u32> = [(1, "reserve"), (2, "charge"), (3, "ship")]
            .iter()
            .map(|&(n, s)| times(&sim, n, s))
            .collect();
        let done = counts[2] >= 1;
        let once = counts.iter().all(|&c| c <= 1);
        Ok(CrashPointRun::new(
            &sim,
            vec![
                check::Verdict::new(
                    "order completed",
                    PropertyKind::Liveness,
                    (!done).then(|| format!("effects {counts:?}")),
                ),
                check::Verdict::new(
                    "each effect exactly once",
                    PropertyKind::Safety,
                    (!once).then(|| format!("effects {counts:?}")),
                ),
            ],
        ))
    }
}

#[test]
fn every_crash_point_of_a_keyed_workflow_recovers_by_replay() -> Result<()> {
    let report = every_point(scenario(true), ms(30))?;
    // Worker: 3 request sends, 3 journal syncs; services: 3 effect syncs
    // and 3 answers. Retries after a crash add none (no crash is recorded
    // in the baseline).
    assert_eq!(report.points().len(), 12);
    assert_eq!(report.recovered(), 12, "{:?}", report.first_failure());
    Ok(())
}

#[test]
fn without_keys_a_crash_after_the_effect_duplicates_it() -> Result<()> {
    let report = every_point(scenario(false), ms(30))?;
    let failed: Vec<String> = report
        .points()
        .iter()
        .filter(|o| !o.recovered())
        .map(|o| o.point.label.clone())
        .collect();
    // The worker dies after an effect and before its journal entry (at the
    // journal sync), or a service dies after its effect and before its
    // answer: the step runs again, and without a key it happens again.
    assert_eq!(
        failed,
        vec![
            "done #0",
            "journal: reserve",
            "done #0",
            "journal: charge",
            "done #0",
            "journal: ship"
        ]
    );
    assert!(report
        .first_failure()
        .is_some_and(|o| o.failed() == vec!["each effect exactly once"]));
    Ok(())
}

/// A workflow that picks its shipping by the clock: `journaled` reads it
/// through the journal, otherwise straight from the process.
fn clock_flow(journaled: bool) -> W {
    W::new(move |p| async move {
        let wf = Workflow::new(&p, 1);
        effect(&p, &wf, 1, "reserve", true).await;
        let now = if journaled { wf.now().await } else { p.now() };
        let how = if now < SimTime::from_start(ms(50)) {
            "ship express"
        } else {
            "ship standard"
        };
        effect(&p, &wf, 3, how, true).await;
        effect(&p, &wf, 2, "notify", true).await;
    })
}

#[test]
fn replay_that_takes_another_path_stops_with_an_error_naming_both() -> Result<()> {
    let run = |journaled| -> Result<Sim<Role<Disk>>> {
        // Shipped at 4 ms; down from 5 to 100 ms, before the notice: the
        // restart reads a later clock.
        let plan = FaultPlan::new().outage(ms(5), ms(100), 0);
        let mut sim = Sim::builder()
            .faults(plan)
            .build(system(clock_flow(journaled)))?;
        sim.run_for(secs(1))?;
        Ok(sim)
    };
    let sim = run(false)?;
    let why = sim
        .node(0)?
        .process()
        .and_then(|p| p.halted())
        .unwrap_or("")
        .to_string();
    assert!(
        why.contains(
            "the journal holds step 'ship express', the code asked for step 'ship standard'"
        ),
        "{why}"
    );
    assert!(why.contains("workflow 1 at step 1"), "{why}");
    assert_eq!(sim.counters().get("non-determinism errors"), 1);
    assert!(sim.now() < SimTime::from_start(ms(200)), "the run stopped");
    // Read through the journal, the same clock comes back on replay.
    let sim = run(true)?;
    assert_eq!(sim.node(0)?.process().and_then(|p| p.halted()), None);
    assert_eq!(sim.disk(3)?.synced().effects.times(1, "ship express"), 1);
    assert_eq!(sim.counters().get("non-determinism errors"), 0);
    Ok(())
}

#[test]
fn code_changed_between_runs_is_a_replay_error() -> Result<()> {
    // First version: the quote is a number (in cents); it is journaled,
    // then the worker stays down.
    let v1 = W::new(|p| async move {
        let wf = Workflow::new(&p, 1);
        let _: u64 = wf.step("quote", |_| async { 1200 }).await;
        let _: u64 = wf.step("charge", |_| async { 1 }).await;
    });
    let mut sim = Sim::builder().build(system(v1))?;
    sim.run_for(ms(10))?;
    let journal = sim.disk(0)?.synced().journal.clone();
    assert_eq!(journal.len(), 2);
    let run_v2 = |flow: W| -> Result<String> {
        let mut sim = Sim::builder().build(system(flow))?;
        sim.set_disk(
            0,
            Disk {
                journal: journal.clone(),
                ..Default::default()
            },
        )?;
        sim.run_for(ms(10))?;
        Ok(sim
            .node(0)?
            .process()
            .and_then(|p| p.halted())
            .unwrap_or("")
            .to_string())
    };
    // Second version: the quote became a string.
    let why = run_v2(W::new(|p| async move {
        let wf = Workflow::new(&p, 1);
        let _: String = wf.step("quote", |_| async { "12 EUR".to_string() }).await;
    }))?;
    assert!(why.contains("step 'quote' with the result 1200"), "{why}");
    // Third version: a step inserted before the charge.
    let why = run_v2(W::new(|p| async move {
        let wf = Workflow::new(&p, 1);
        let _: u64 = wf.step("quote", |_| async { 1200 }).await;
        wf.sleep("fraud check", ms(5)).await;
    }))?;
    assert!(
        why.contains(
            "at step 1: the journal holds step 'charge', the code asked for sleep 'fraud check'"
        ),
        "{why}"
    );
    Ok(())
}

/// A reminder a day after sign-up, the worker down for an hour every few
/// hours; `durable` sleeps through the journal, otherwise a plain sleep
/// that restarts with the process. When was the reminder sent (hours)?
fn reminder(durable_sleep: bool) -> Result<Option<f64>> {
    let flow = W::new(move |p| async move {
        let wf = Workflow::new(&p, 1);
        effect(&p, &wf, 1, "sign up", true).await;
        if durable_sleep {
            wf.sleep("a day", hours(24)).await;
        } else {
            p.sleep(hours(24)).await;
        }
        effect(&p, &wf, 2, "reminder", true).await;
    });
    let mut plan = FaultPlan::new();
    for k in 0..16u64 {
        let from = hours(3 + 6 * k);
        plan = plan.outage(from, from + hours(1), 0);
    }
    let mut sim = Sim::builder().faults(plan).build(system(flow))?;
    sim.run_for(hours(96))?;
    assert_eq!(times(&sim, 1, "sign up"), 1);
    let fx = &sim.disk(2)?.synced().effects;
    Ok(fx
        .performed
        .values()
        .next()
        .map(|m| m.first.as_secs_f64() / 3600.0))
}

#[test]
fn a_durable_sleep_wakes_on_time_across_crashes() -> Result<()> {
    // Signed up at 2 ms; due 24 h later; the worker was down from hours 3,
    // 9, 15 and 21 (an hour each) and up at hour 24.
    let at = reminder(true)?.expect("sent");
    assert!((24.0..24.001).contains(&at), "{at} h");
    // A plain sleep starts over at every restart: never 24 h of uptime in
    // a row, so no reminder in four days.
    assert_eq!(reminder(false)?, None);
    Ok(())
}

/// Orders over a lossy network (replies lost too): duplicates of all
/// effects, keyed or not.
fn lossy_duplicates(keyed: bool, seed: u64) -> Result<u64> {
    let flow = W::new(move |p| async move {
        let mut hs = Vec::new();
        for id in 0..50u64 {
            let q = p.clone();
            hs.push(p.spawn(async move {
                let wf = Workflow::new(&q, id);
                for (to, name) in [(1, "reserve"), (2, "charge"), (3, "ship")] {
                    let (r, step) = (q.clone(), name.to_string());
                    wf.step(name, move |key| async move {
                        durable::call(&r, to, id, &step, keyed.then(|| key.to_string()), ms(20))
                            .await
                    })
                    .await;
                }
            }));
        }
        thinkdist::process::join_all(hs).await;
    });
    let link = LinkConfig::new(Latency::constant(ms(1))).loss(0.2);
    let mut sim = Sim::builder().seed(seed).link(link).build(system(flow))?;
    sim.run_for(secs(10))?;
    let mut dups = 0;
    for n in 1..=3 {
        let fx = &sim.disk(n)?.synced().effects;
        assert_eq!(fx.performed.len(), 50, "every order reached service {n}");
        dups += fx.duplicates();
    }
    Ok(dups)
}

#[test]
fn idempotency_keys_make_retried_effects_exactly_once() -> Result<()> {
    let mut unkeyed = Vec::new();
    for seed in 1..=20 {
        assert_eq!(lossy_duplicates(true, seed)?, 0);
        unkeyed.push(lossy_duplicates(false, seed)? as f64);
    }
    // Without keys: an attempt's request arrives with probability 0.8 and
    // the attempts end at the first answer (0.8²), so a step is performed
    // 0.8 / 0.64 = 1.25 times: 0.25 duplicates per step, 37.5 per run of
    // 150 steps. Within 4 standard errors over 20 seeds.
    let ci = mean_ci(&unkeyed)?;
    let se = ci.sd / (unkeyed.len() as f64).sqrt();
    assert!((ci.mean - 37.5).abs() < 4.0 * se, "{ci:?}");
    Ok(())
}

#[test]
fn journal_queries_and_forgetting() -> Result<()> {
    let flow = W::new(|p| async move {
        for id in [3u64, 5] {
            let wf = Workflow::new(&p, id);
            let _: u64 = wf.step("a", |_| async { 1 }).await;
            wf.sleep("b", ms(1)).await;
            assert_eq!(wf.position(), 2);
        }
        p.disk(|d| d.journal.forget(3));
        p.sync("forget 3");
    });
    let mut sim = Sim::builder().build(system(flow))?;
    sim.run_for(ms(10))?;
    let j = &sim.disk(0)?.synced().journal;
    assert_eq!(j.workflows(), vec![5]);
    assert_eq!(j.len(), 2);
    let e = j.get(5, 1).expect("the sleep");
    assert_eq!((e.kind, e.name.as_str()), (StepKind::Sleep, "b"));
    // A sleep journals when it ends: 1 ms after it began at 1 ms.
    assert_eq!(e.value, serde_json::json!(2_000_000u64));
    assert!(j.get(3, 0).is_none());
    Ok(())
}
