//! Nodes the crate does not know (defined here, as a notebook cell defines
//! them) on the engine compiled in the crate (`Builder::build_erased`):
//! the same run as `Sim<TheirNode>` for the same seed, the checkers and
//! sweeps accept them, and a wrong type is an error.

use thinkdist::check::crash_points::{every_point, CrashPointRun};
use thinkdist::check::explore::{Explore, Trial, TrialRun};
use thinkdist::check::fault_space::FaultSpace;
use thinkdist::check::verdict::Verdict;
use thinkdist::prelude::*;

// The bench's 100-line node (benches/engine/cell_node.rs): `Gossiper`.
include!("../benches/engine/cell_node.rs");

/// Everything a run shows, printed: if two runs print the same, they
/// processed the same events in the same order with the same effects.
fn fingerprint(
    events: u64,
    stats: Stats,
    trace: &Trace,
    counters: &Counters,
    nodes: Vec<(u32, u64, u64)>,
    disks: Vec<(u32, u32)>,
) -> String {
    let counters: Vec<(&str, u64)> = counters.iter().collect();
    format!(
        "{events} {stats:?} {:?} {counters:?} {nodes:?} {disks:?}",
        trace.events()
    )
}

fn builder(seed: u64, plan: FaultPlan) -> Result<Builder> {
    Ok(Sim::builder()
        .seed(seed)
        .trace(100_000)
        .faults(plan)
        .link(LinkConfig::new(Latency::exponential(ms(5))?).loss(0.05)))
}

fn plan() -> FaultPlan {
    FaultPlan::new()
        .outage(ms(120), ms(180), 3)
        .outage(ms(200), ms(260), 0)
}

fn direct(seed: u64, nodes: usize) -> Result<String> {
    let mut sim = builder(seed, plan())?.build(vec![Gossiper::new(2, 20); nodes])?;
    sim.inject(1, GMsg::Rumour { id: 100, hops: 0 }, ms(3))?;
    sim.run_for(ms(400))?;
    let n: Vec<_> = sim
        .nodes()
        .iter()
        .map(|g| (g.known, g.hops_seen, g.acks))
        .collect();
    let d: Vec<_> = (0..nodes)
        .map(|i| sim.disk(i).map(|d| (d.synced().newest, d.synced().heard)))
        .collect::<Result<_>>()?;
    Ok(fingerprint(
        sim.events_processed(),
        sim.stats(),
        sim.trace(),
        sim.counters(),
        n,
        d,
    ))
}

fn erased(seed: u64, nodes: usize) -> Result<String> {
    let mut sim = builder(seed, plan())?.build_erased(vec![Gossiper::new(2, 20); nodes])?;
    sim.inject(1, GMsg::Rumour { id: 100, hops: 0 }, ms(3))?;
    sim.run_for(ms(400))?;
    let n: Vec<_> = sim
        .nodes::<Gossiper>()?
        .iter()
        .map(|g| (g.known, g.hops_seen, g.acks))
        .collect();
    let d: Vec<_> = (0..nodes)
        .map(|i| sim.synced_disk::<GDisk>(i).map(|d| (d.newest, d.heard)))
        .collect::<Result<_>>()?;
    Ok(fingerprint(
        sim.events_processed(),
        sim.stats(),
        sim.trace(),
        sim.counters(),
        n,
        d,
    ))
}

#[test]
fn an_erased_run_is_the_direct_run_event_for_event() -> Result<()> {
    for seed in [1, 2, 3, 42] {
        let (a, b) = (direct(seed, 12)?, erased(seed, 12)?);
        // Not a trivial run: crashes, drops, syncs and many events happened.
        assert!(
            a.contains("Crash") && a.contains("Sync") && a.contains("Drop"),
            "{a:.300}"
        );
        assert_eq!(a, b, "seed {seed}");
    }
    // Different seeds give different runs (the fingerprint sees the seed).
    assert_ne!(erased(1, 12)?, erased(2, 12)?);
    Ok(())
}

/// Counts, in its own memory, the handlers that ran on the erased engine.
#[derive(Clone, Debug, Default)]
struct Probe {
    erased: u32,
    direct: u32,
}

impl Node for Probe {
    type Msg = u8;
    type Timer = ();
    type Disk = ();
    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, _: NodeId, hops: u8) {
        if ctx.on_erased_engine() {
            self.erased += 1;
        } else {
            self.direct += 1;
        }
        if hops > 0 {
            ctx.send((ctx.id() + 1) % ctx.cluster_size(), hops - 1);
        }
    }
}

#[test]
fn build_erased_runs_the_node_on_the_crate_engine() -> Result<()> {
    let mut e = Sim::builder()
        .seed(1)
        .build_erased(vec![Probe::default(); 3])?;
    e.inject(0, 9u8, ms(1))?;
    e.run_to_end()?;
    let handled: Vec<(u32, u32)> = e
        .nodes::<Probe>()?
        .iter()
        .map(|p| (p.erased, p.direct))
        .collect();
    assert_eq!(handled, vec![(4, 0), (3, 0), (3, 0)]);
    let mut d = Sim::builder().seed(1).build(vec![Probe::default(); 3])?;
    d.inject(0, 9, ms(1))?;
    d.run_to_end()?;
    let handled: Vec<(u32, u32)> = d.nodes().iter().map(|p| (p.erased, p.direct)).collect();
    assert_eq!(handled, vec![(0, 4), (0, 3), (0, 3)]);
    Ok(())
}

#[test]
fn wrong_types_and_bad_ids_are_errors() -> Result<()> {
    let mut sim = Sim::builder()
        .seed(1)
        .build_erased(vec![Gossiper::new(2, 3); 4])?;
    let e = sim.inject(0, "a rumour", ms(1)).unwrap_err().to_string();
    assert!(e.contains("&str") && e.contains("GMsg"), "{e}");
    assert!(sim.inject(9, GMsg::Ack, ms(1)).is_err());
    assert!(sim
        .node::<Probe>(0)
        .unwrap_err()
        .to_string()
        .contains("Gossiper"));
    assert!(sim.node::<Gossiper>(4).is_err());
    assert!(sim.node_mut::<u64>(0).is_err());
    assert!(sim.synced_disk::<u32>(0).is_err());
    assert!(sim.working_disk::<GDisk>(7).is_err());
    assert!(sim.crash(12).is_err());
    // Before the run every disk is the node's own default, not a placeholder.
    assert_eq!(sim.synced_disk::<GDisk>(3)?.heard, 0);
    assert!(Sim::builder().build_erased(Vec::<Gossiper>::new()).is_err());
    // The simulation still runs after the refused calls.
    sim.inject(0, GMsg::Rumour { id: 1, hops: 0 }, ms(1))?;
    sim.run_for(ms(100))?;
    assert!(sim.nodes::<Gossiper>()?.iter().all(|g| g.known >= 1));
    Ok(())
}

/// Chapter 5's crash-point experiment on the 100-line node: every sync
/// and send a crash point; after each crash and restart, is every rumour
/// node 0 created still on its disk?
fn crash_scenario(
    build: fn(Builder, usize) -> Result<Outcome>,
) -> impl Fn(&FaultPlan, bool) -> Result<CrashPointRun> + Sync {
    move |plan: &FaultPlan, record: bool| {
        let b = Sim::builder()
            .seed(7)
            .faults(plan.clone())
            .crash_points(CrashPoints::SyncsAndSends)
            .record_crash_points(record);
        let (known, newest, points, events, crashed) = build(b, 4)?;
        let cx = (newest < known).then(|| format!("node 0 knows {known}, its disk {newest}"));
        let v = Verdict::new("rumours durable", PropertyKind::Safety, cx);
        Ok(CrashPointRun {
            points,
            crashed,
            verdicts: vec![v],
            events,
        })
    }
}

type Outcome = (u32, u32, Vec<CrashPoint>, u64, Option<CrashPoint>);

fn crash_direct(b: Builder, n: usize) -> Result<Outcome> {
    let mut sim = b.build(vec![Gossiper::new(1, 4); n])?;
    sim.run_for(ms(120))?;
    let (known, newest) = (sim.node(0)?.known, sim.disk(0)?.synced().newest);
    let run = CrashPointRun::new(&sim, vec![]);
    Ok((known, newest, run.points, run.events, run.crashed))
}

fn crash_erased(b: Builder, n: usize) -> Result<Outcome> {
    let mut sim = b.build_erased(vec![Gossiper::new(1, 4); n])?;
    sim.run_for(ms(120))?;
    let (known, newest) = (
        sim.node::<Gossiper>(0)?.known,
        sim.synced_disk::<GDisk>(0)?.newest,
    );
    let run = CrashPointRun::of_dyn(&sim, vec![]);
    Ok((known, newest, run.points, run.events, run.crashed))
}

#[test]
fn every_crash_point_of_an_erased_node_matches_the_direct_run() -> Result<()> {
    let a = every_point(crash_scenario(crash_direct), ms(20))?;
    let b = every_point(crash_scenario(crash_erased), ms(20))?;
    assert!(a.points().len() >= 10, "{}", a.points().len());
    assert_eq!(a.recovered(), a.points().len(), "{:?}", a.first_failure());
    assert_eq!(format!("{:?}", a.points()), format!("{:?}", b.points()));
    Ok(())
}

/// A replicated counter: applies `+1` in memory and on disk, syncing every
/// `sync_every`-th write (1: every write; 2: a crash can lose one).
#[derive(Clone)]
struct Tally {
    total: u64,
    sync_every: u64,
}

impl Node for Tally {
    type Msg = ();
    type Timer = ();
    type Disk = u64;
    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.total = *ctx.disk();
    }
    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, _: NodeId, _: ()) {
        self.total += 1;
        *ctx.disk() = self.total;
        if self.total % self.sync_every == 0 {
            ctx.sync("total");
        }
        ctx.count("applied");
    }
}

fn tally_trial(t: &Trial, sync_every: u64) -> Result<TrialRun> {
    let mut sim = Sim::builder()
        .seed(t.seed)
        .faults(t.plan.clone())
        .trace(t.trace_cap)
        .build_erased(vec![
            Tally {
                total: 0,
                sync_every
            };
            3
        ])?;
    for k in 0..60u64 {
        sim.inject_exact((k % 3) as usize, (), ms(5 * k + 1))?;
    }
    sim.run_for(ms(400))?;
    let mut kept = 0;
    for i in 0..3 {
        kept += *sim.synced_disk::<u64>(i)?;
    }
    let applied = sim.counters().get("applied");
    let cx = (kept != applied).then(|| format!("{applied} applied, {kept} on disk"));
    let v = Verdict::new("no increment lost", PropertyKind::Safety, cx);
    Ok(TrialRun::of_dyn(
        &sim,
        &[v],
        vec!["a".into(), "b".into(), "c".into()],
    ))
}

#[test]
fn exploration_with_shrinking_accepts_an_erased_node() -> Result<()> {
    let space = FaultSpace::new(3, ms(400))?;
    let ok = Explore::new(60)
        .progress(false)
        .run(&space, |t| tally_trial(t, 1))?;
    assert!(ok.passed(), "{:?}", ok.failures.first());
    let broken = Explore::new(60)
        .progress(false)
        .run(&space, |t| tally_trial(t, 2))?;
    assert!(broken.failed() > 0);
    let cx = broken
        .counterexample
        .as_ref()
        .expect("a shrunk counterexample");
    assert!(!cx.plan.is_empty() && cx.plan.len() <= cx.original.len());
    Ok(())
}

#[test]
fn a_sweep_of_erased_runs_equals_the_direct_one() -> Result<()> {
    let run = |erase: bool| {
        Sweep::new(vec![1usize, 2, 3])
            .seeds(4)
            .progress(false)
            .run(|&f, seed| {
                let nodes = vec![Gossiper::new(f, 5); 30];
                let b = Sim::builder().seed(seed);
                if erase {
                    let mut s = b.build_erased(nodes)?;
                    s.run_for(ms(200))?;
                    Ok(s.nodes::<Gossiper>()?.iter().map(|g| g.known).sum::<u32>())
                } else {
                    let mut s = b.build(nodes)?;
                    s.run_for(ms(200))?;
                    Ok(s.nodes().iter().map(|g| g.known).sum::<u32>())
                }
            })
    };
    let (a, b) = (run(false)?, run(true)?);
    let values = |r: &[thinkdist::sim::sweep::SweepResult<usize, u32>]| {
        r.iter().map(|p| p.values.clone()).collect::<Vec<_>>()
    };
    assert_eq!(values(&a), values(&b));
    assert!(values(&a).concat().iter().any(|&k| k > 0));
    Ok(())
}
