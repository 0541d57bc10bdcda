//! The fault kinds chapter 10 needs: several crash points in one plan (a
//! crash during recovery), crashes aimed at a node chosen at run time (the
//! leader), and fault spaces that draw one-way partitions and such crashes.

use thinkdist::check::FaultSpace;
use thinkdist::prelude::*;

/// Syncs on every ping and once when it recovers; "leads" while its
/// synced count is even (a state the target predicate reads).
#[derive(Clone, Default)]
struct Syncer {
    recovered: u32,
}

impl Node for Syncer {
    type Msg = ();
    type Timer = ();
    type Disk = u64;
    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, _: NodeId, _: ()) {
        *ctx.disk() += 1;
        ctx.sync("ping");
    }
    fn on_recover(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.recovered += 1;
        ctx.sync("recover");
    }
}

fn pinged(plan: FaultPlan) -> Result<Sim<Syncer>> {
    let mut sim = Sim::builder()
        .seed(3)
        .faults(plan)
        .record_crash_points(true)
        .build(vec![Syncer::default(); 2])?;
    for k in 0..4 {
        sim.inject(0, (), ms(10 * (k + 1)))?;
    }
    sim.run_for(ms(200))?;
    Ok(sim)
}

#[test]
fn two_crash_points_crash_during_recovery() -> Result<()> {
    // Points: 0 = first ping's sync (10 ms); crashing there restarts node
    // 0 3 ms later, whose recovery sync is point 1: crash there too.
    let sim = pinged(
        FaultPlan::new()
            .crash_at_point(0, Some(ms(3)))
            .crash_at_point(1, Some(ms(3))),
    )?;
    let hits = sim.crashed_at_points();
    assert_eq!(hits.len(), 2, "{hits:?}");
    assert_eq!((hits[0].index, hits[0].label.as_str()), (0, "ping"));
    assert_eq!((hits[1].index, hits[1].label.as_str()), (1, "recover"));
    // The second recovery (point 2) went through: two restarts, and the
    // three pings after the first arrived while up.
    assert_eq!(sim.crashed_at_point().map(|p| p.index), Some(0));
    assert_eq!(sim.node(0)?.recovered, 1, "memory after the last restart");
    assert_eq!(*sim.disk(0)?.synced(), 3);
    Ok(())
}

#[test]
fn crash_points_in_any_order_and_no_duplicates() -> Result<()> {
    // Added out of order, applied in point order.
    let sim = pinged(
        FaultPlan::new()
            .crash_at_point(1, Some(ms(5)))
            .crash_at_point(0, Some(ms(5))),
    )?;
    assert_eq!(sim.crashed_at_points().len(), 2);
    let twice = FaultPlan::new()
        .crash_at_point(4, None)
        .crash_at_point(4, None);
    let e = twice.validate(2).unwrap_err().to_string();
    assert!(e.contains("crash point"), "{e}");
    Ok(())
}

#[test]
fn a_targeted_crash_hits_the_node_the_predicate_picks() -> Result<()> {
    let plan = FaultPlan::new().crash_target(ms(25), Some(ms(50)));
    let build = |target: bool| -> Result<Sim<Syncer>> {
        let mut sim = Sim::builder()
            .seed(1)
            .faults(plan.clone())
            .build(vec![Syncer::default(); 3])?;
        if target {
            sim.set_target(|_: &Syncer| false);
        }
        Ok(sim)
    };
    // No target: nothing crashes.
    let mut sim = build(false)?;
    sim.run_for(ms(100))?;
    assert_eq!(sim.node(0)?.recovered + sim.node(2)?.recovered, 0);
    // A predicate nobody satisfies: nothing crashes either.
    let mut sim = build(true)?;
    sim.run_for(ms(100))?;
    assert_eq!(sim.node(2)?.recovered, 0);
    // The first up node that matches is crashed, and restarts 50 ms later.
    let mut sim = Sim::builder()
        .seed(1)
        .faults(plan)
        .build(vec![Syncer::default(); 3])?;
    sim.set_target(|n: &Syncer| n.recovered == 0);
    sim.run_for(ms(30))?;
    assert!(!sim.is_up(0), "node 0 is the lowest match");
    assert!(sim.is_up(1) && sim.is_up(2));
    sim.run_for(ms(100))?;
    assert!(sim.is_up(0));
    assert_eq!(sim.node(0)?.recovered, 1);
    Ok(())
}

#[test]
fn fault_spaces_draw_oneway_partitions_and_targeted_crashes() -> Result<()> {
    let plain = FaultSpace::new(5, secs(1))?;
    let mut wide = plain.clone();
    wide.max_oneway = 2;
    wide.max_target_crashes = 2;
    let (mut oneway, mut targeted) = (0, 0);
    for seed in 0..200 {
        let a = plain.draw(seed);
        let b = wide.draw(seed);
        // The new kinds are drawn after the old ones: the old prefix is
        // unchanged, so existing explorations draw what they drew before.
        assert_eq!(&b.faults()[..a.len()], a.faults());
        assert!(a
            .faults()
            .iter()
            .all(|f| !matches!(f, Fault::OneWay { .. } | Fault::CrashTarget { .. })));
        for f in &b.faults()[a.len()..] {
            match f {
                Fault::OneWay { src, dst, .. } => {
                    oneway += 1;
                    assert!(!src.is_empty() && !dst.is_empty());
                    assert!(src.iter().all(|s| !dst.contains(s)));
                }
                Fault::CrashTarget { restart_after, .. } => {
                    targeted += 1;
                    let d = restart_after.expect("a drawn crash restarts");
                    assert!(d >= ms(10) && d <= ms(200));
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        b.validate(5)?;
    }
    // 0, 1 or 2 of each, uniformly: about 200 each over 200 seeds.
    assert!((120..=280).contains(&oneway), "{oneway}");
    assert!((120..=280).contains(&targeted), "{targeted}");
    Ok(())
}
