//! The checkers (`thinkdist::check`): each one catches a deliberately
//! broken protocol, with the expected counterexample, and passes a correct
//! one; exploration and crash-point runs give the same results for any
//! thread count.

use thinkdist::check::crash_points::{every_point, CrashPointRun};
use thinkdist::check::{eventually, invariant, never, Explore, FaultSpace, Trial};
use thinkdist::prelude::*;
use thinkdist::txn::two_phase::{TwoPhase, Variant};

fn space() -> Result<FaultSpace> {
    let mut s = FaultSpace::new(3, ms(1000))?;
    s.crash_points = Some((300, ms(30)));
    Ok(s)
}

fn explore_2pc(
    variant: Variant,
    seeds: usize,
    threads: usize,
) -> Result<thinkdist::check::Exploration> {
    let p = TwoPhase {
        variant,
        ..Default::default()
    };
    Explore::new(seeds)
        .threads(threads)
        .progress(false)
        .run(&space()?, |t: &Trial| p.trial(t, 2, 10, ms(50), ms(1500)))
}

#[test]
fn correct_two_phase_commit_keeps_atomicity_over_explored_seeds() -> Result<()> {
    let e = explore_2pc(Variant::Correct, 400, 2)?;
    assert!(e.passed(), "{:?}", e.failures.first());
    assert_eq!(e.runs, 400);
    Ok(())
}

/// The shrunk plan still fails, and every plan with one fault fewer passes.
fn assert_minimal(variant: Variant, e: &thinkdist::check::Exploration) -> Result<()> {
    let cx = e.counterexample.as_ref().expect("a counterexample");
    assert!(cx.plan.len() <= cx.original.len());
    assert!(!cx.plan.is_empty());
    let p = TwoPhase {
        variant,
        ..Default::default()
    };
    let run = |plan: &FaultPlan| {
        p.trial(
            &Trial {
                seed: cx.seed,
                plan: plan.clone(),
                trace_cap: 0,
            },
            2,
            10,
            ms(50),
            ms(1500),
        )
    };
    assert!(run(&cx.plan)?.violation.is_some(), "the shrunk plan fails");
    for i in 0..cx.plan.len() {
        assert!(
            run(&cx.plan.without(i))?.violation.is_none(),
            "fault {i} of {:?} is needed",
            cx.plan
        );
    }
    assert_eq!(cx.violation.property, "atomicity");
    assert!(
        !cx.trace.events().is_empty(),
        "the counterexample keeps its trace"
    );
    Ok(())
}

#[test]
fn exploration_catches_a_participant_that_forgets_its_vote() -> Result<()> {
    let e = explore_2pc(Variant::ForgetVote, 300, 2)?;
    assert!(e.failed() > 0, "no seed broke ForgetVote");
    assert_eq!(e.by_property.get("atomicity"), Some(&e.failed()));
    assert_minimal(Variant::ForgetVote, &e)?;
    // The shrunk schedule crashes a participant: that is what forgets.
    let cx = e.counterexample.as_ref().unwrap();
    assert!(
        cx.plan.faults().iter().any(|f| matches!(
            f,
            Fault::Outage { node: 1 | 2, .. } | Fault::CrashAtPoint { .. }
        )),
        "{:?}",
        cx.plan
    );
    Ok(())
}

#[test]
fn exploration_with_crash_points_catches_a_coordinator_that_decides_before_logging() -> Result<()> {
    let e = explore_2pc(Variant::DecideBeforeLog, 400, 2)?;
    assert!(e.failed() > 0, "no seed broke DecideBeforeLog");
    assert_minimal(Variant::DecideBeforeLog, &e)?;
    let cx = e.counterexample.as_ref().unwrap();
    assert!(
        cx.plan
            .faults()
            .iter()
            .any(|f| matches!(f, Fault::CrashAtPoint { .. })),
        "only a crash between send and sync breaks it: {:?}",
        cx.plan
    );
    Ok(())
}

#[test]
fn the_counterexample_is_drawn_around_its_violation() -> Result<()> {
    let e = explore_2pc(Variant::ForgetVote, 300, 2)?;
    let cx = e.counterexample.as_ref().expect("a counterexample");
    let fig = counterexample_diagram(cx, 60.0)?;
    let svg = fig.to_svg()?;
    assert!(
        svg.contains("atomicity violated"),
        "the violation is marked"
    );
    assert!(svg.contains(&format!("Seed {}", cx.seed)));
    assert!(svg.contains("clients"), "client traffic has its lane");
    assert!(counterexample_diagram(cx, f64::NAN).is_err());
    let mut bare = cx.clone();
    bare.trace = thinkdist::sim::trace::Trace::with_cap(0);
    assert!(counterexample_diagram(&bare, 60.0)
        .unwrap_err()
        .is_empty_data());
    Ok(())
}

#[test]
fn exploration_results_do_not_depend_on_thread_count() -> Result<()> {
    let a = explore_2pc(Variant::ForgetVote, 120, 1)?;
    let b = explore_2pc(Variant::ForgetVote, 120, 2)?;
    assert_eq!(a.failures, b.failures);
    let (ca, cb) = (a.counterexample.unwrap(), b.counterexample.unwrap());
    assert_eq!(
        (ca.seed, ca.plan, ca.violation),
        (cb.seed, cb.plan, cb.violation)
    );
    Ok(())
}

#[test]
fn fault_space_draws_are_reproducible_and_valid() -> Result<()> {
    let s = space()?;
    for seed in 0..200 {
        let p = s.draw(seed);
        assert_eq!(p, s.draw(seed));
        p.validate(3)?;
        assert!(
            p.faults()
                .iter()
                .filter(|f| matches!(f, Fault::Outage { .. }))
                .count()
                <= 2
        );
    }
    assert_ne!(s.draw(1), s.draw(2));
    assert!(FaultSpace::new(0, ms(10)).is_err());
    let mut bad = s.clone();
    bad.downtime = (ms(5), ms(1));
    assert!(bad.validate().is_err());
    Ok(())
}

// ---------- crash points ----------

/// Moves 1 from account a to b on disk; `atomic` writes both and syncs once.
#[derive(Clone)]
struct Transfer {
    atomic: bool,
}
impl Node for Transfer {
    type Msg = ();
    type Timer = ();
    type Disk = (i64, i64);
    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        if *ctx.disk() != (10, 0) {
            return;
        }
        ctx.disk().0 -= 1;
        if !self.atomic {
            ctx.sync("debit");
        }
        ctx.disk().1 += 1;
        ctx.sync("credit");
    }
    fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: ()) {}
}

fn transfer(atomic: bool) -> impl Fn(&FaultPlan, bool) -> Result<CrashPointRun> + Sync {
    move |plan: &FaultPlan, record: bool| {
        let mut sim = Sim::builder()
            .faults(plan.clone())
            .record_crash_points(record)
            .build(vec![Transfer { atomic }])?;
        sim.set_disk(0, (10, 0))?;
        sim.run_for(ms(100))?;
        let (a, b) = *sim.disk(0)?.synced();
        let v = Verdict::new(
            "money conserved",
            PropertyKind::Safety,
            (a + b != 10).then(|| format!("a + b = {}", a + b)),
        );
        Ok(CrashPointRun::new(&sim, vec![v]))
    }
}

#[test]
fn every_crash_point_finds_the_split_transfer_and_passes_the_atomic_one() -> Result<()> {
    let broken = every_point(transfer(false), ms(10))?;
    let labels: Vec<&str> = broken
        .points()
        .iter()
        .map(|o| o.point.label.as_str())
        .collect();
    assert_eq!(labels, ["debit", "credit"]);
    assert!(
        broken.points()[0].recovered(),
        "crash before the debit is durable: nothing lost"
    );
    let bad = broken
        .first_failure()
        .expect("the crash between debit and credit");
    assert_eq!(bad.point.index, 1);
    assert_eq!(bad.failed(), ["money conserved"]);
    assert_eq!(bad.verdicts[0].counterexample.as_deref(), Some("a + b = 9"));
    let fixed = every_point(transfer(true), ms(10))?;
    assert_eq!(fixed.points().len(), 1);
    assert_eq!(fixed.recovered(), 1);
    Ok(())
}

#[test]
fn every_crash_point_refuses_a_scenario_that_fails_without_crashes() {
    let always_bad = |_: &FaultPlan, _: bool| -> Result<CrashPointRun> {
        Ok(CrashPointRun {
            points: vec![],
            crashed: None,
            verdicts: vec![Verdict::new("x", PropertyKind::Safety, Some("no".into()))],
            events: 1,
        })
    };
    let e = every_point(always_bad, ms(1)).unwrap_err();
    assert!(
        e.is_invalid_parameter() && e.message().contains("fails without any crash"),
        "{e}"
    );
}

#[test]
fn every_crash_point_refuses_a_scenario_that_ignores_its_plan() {
    // Builds its Sim without the plan it is handed: it never crashes, so
    // every point would look recovered.
    let ignores = |_: &FaultPlan, record: bool| -> Result<CrashPointRun> {
        transfer(false)(&FaultPlan::new(), record)
    };
    let e = every_point(ignores, ms(10)).unwrap_err();
    assert!(
        e.is_invalid_parameter()
            && e.message().contains("never crashed at point 0")
            && e.message().contains("build its Sim with the plan"),
        "{e}"
    );
    // One that crashes somewhere else than it was told is refused too.
    let elsewhere = |plan: &FaultPlan, record: bool| -> Result<CrashPointRun> {
        let shifted = match plan.faults().first() {
            Some(Fault::CrashAtPoint {
                point,
                restart_after,
            }) => FaultPlan::new().crash_at_point((point + 1) % 2, *restart_after),
            _ => plan.clone(),
        };
        transfer(false)(&shifted, record)
    };
    let e = every_point(elsewhere, ms(10)).unwrap_err();
    assert!(
        e.message().contains("crashed at point 1, not at point 0"),
        "{e}"
    );
}

// ---------- properties on typed events ----------

#[derive(Clone, Default)]
struct Sum(i64);
impl Node for Sum {
    type Msg = i64;
    type Timer = ();
    type Disk = ();
    fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, m: i64) {
        self.0 += m;
    }
}

fn sum_sim(msgs: &[(i64, u64)], stop: bool) -> Result<Sim<Sum>> {
    let mut sim = Sim::builder()
        .stop_on_violation(stop)
        .build(vec![Sum::default()])?;
    for &(m, at) in msgs {
        sim.inject_exact(0, m, ms(at))?;
    }
    Ok(sim)
}

#[test]
fn invariant_names_the_first_breaking_event_and_stops_the_run() -> Result<()> {
    let mut sim = sum_sim(&[(3, 1), (-5, 2), (4, 3)], true)?;
    sim.check(invariant("never negative", |w: &World<Sum>| {
        if w.nodes[0].0 >= 0 {
            Ok(())
        } else {
            Err(format!("sum {}", w.nodes[0].0))
        }
    }));
    sim.run_for(ms(10))?;
    let v = sim.violation().expect("3 - 5 < 0").clone();
    assert_eq!(
        (v.time, v.event_index, v.reason.as_str()),
        (SimTime::from_start(ms(2)), 3, "sum -2")
    );
    assert!(v.event.contains("delivered"), "{}", v.event);
    assert_eq!(sim.node(0)?.0, -2, "the run stopped at the violation");
    Ok(())
}

#[test]
fn never_and_eventually_report_each_property_once_when_the_run_goes_on() -> Result<()> {
    let mut sim = sum_sim(&[(7, 1), (7, 2), (1, 3)], false)?;
    sim.check(never("no 7", |e: &SimEvent<Sum>, _: &World<Sum>| match e {
        SimEvent::Deliver { msg: 7, .. } => Some("a 7".into()),
        _ => None,
    }));
    // Every 7 must be followed by a 1 within 1 ms: the first 7 (t = 1) is not.
    sim.check(eventually(
        "a 1 follows",
        ms(1),
        |e: &SimEvent<Sum>, w: &World<Sum>| match e {
            SimEvent::Deliver { msg: 7, .. } => Some(w.now.as_nanos()),
            _ => None,
        },
        |e: &SimEvent<Sum>, _: &World<Sum>| match e {
            SimEvent::Deliver { msg: 1, .. } => Some(1_000_000),
            _ => None,
        },
    ));
    sim.run_for(ms(10))?;
    let v = sim.violations().to_vec();
    assert_eq!(v.len(), 2);
    assert_eq!(
        (v[0].property.as_str(), v[0].time),
        ("no 7", SimTime::from_start(ms(1)))
    );
    assert_eq!(v[1].property, "a 1 follows");
    assert_eq!(
        v[1].time,
        SimTime::from_start(ms(3)),
        "seen at the first event after t = 2 ms"
    );
    assert_eq!(sim.node(0)?.0, 15, "the run went on");
    let verdicts = check::verdicts(&mut sim);
    assert!(verdicts.iter().all(|v| !v.holds));
    Ok(())
}

#[test]
fn eventually_fails_at_the_end_when_nothing_is_left_to_happen() -> Result<()> {
    let mut sim = sum_sim(&[(7, 1)], true)?;
    sim.check(eventually(
        "answered",
        secs(5),
        |e: &SimEvent<Sum>, _: &World<Sum>| {
            matches!(e, SimEvent::Deliver { .. }).then_some("the 7")
        },
        |_: &SimEvent<Sum>, _: &World<Sum>| None,
    ));
    sim.run_to_end()?;
    assert!(sim.violation().is_none(), "its deadline has not passed");
    let v = sim.finish_checks().to_vec();
    assert_eq!(v.len(), 1);
    assert!(v[0].reason.contains("never met"), "{}", v[0].reason);
    Ok(())
}
