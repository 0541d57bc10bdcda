//! Chapter 09's checkers, timed: the exhaustive search's states per second
//! on single-decree Paxos (3 nodes, 2 proposers), and explored Paxos seeds
//! per second (random fault schedules, 1 s of virtual time each).
//!
//! `cargo bench --bench consensus` (or `scripts/bench.sh`); `depth=N`
//! and `seeds=N` change the sizes.

use std::time::Instant;
use thinkdist::check::{invariant, Exhaustive, Explore, FaultSpace, Trial, TrialRun};
use thinkdist::consensus::{chosen, cluster, Flaw, Paxos};
use thinkdist::prelude::*;

fn arg(key: &str, default: usize) -> usize {
    std::env::args()
        .filter_map(|a| a.strip_prefix(&format!("{key}=")).map(str::to_string))
        .find_map(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() -> Result<()> {
    let depth = arg("depth", 20);
    let t = Instant::now();
    let r = Exhaustive::new(|| Sim::builder().build(cluster(3, &[1, 2], None, 1, Flaw::None)))
        .max_depth(depth)?
        .always("one value chosen", |s: &Sim<Paxos>| {
            chosen((0..s.len()).map(|i| s.disk(i).unwrap().synced())).len() <= 1
        })
        .run()?;
    let secs = t.elapsed().as_secs_f64();
    println!(
        "exhaustive paxos (3 nodes, 2 proposers, depth {depth}): {} unique states, {} transitions, complete {}, {:.1} s, {:.0} transitions/s, {:.0} unique states/s",
        r.unique_states,
        r.states_explored,
        r.complete,
        secs,
        r.states_explored as f64 / secs,
        r.unique_states as f64 / secs
    );
    let seeds = arg("seeds", 10_000);
    let scenario = |t: &Trial| -> Result<TrialRun> {
        let link = LinkConfig::new(Latency::uniform(ms(1), ms(5))?).duplicate(0.05);
        let nodes = cluster(
            3,
            &[1, 2, 3],
            Some((10_000_000, 10_000_000)),
            20,
            Flaw::None,
        );
        let mut sim = Sim::builder()
            .seed(t.seed)
            .link(link)
            .faults(t.plan.clone())
            .trace(t.trace_cap)
            .build(nodes)?;
        sim.check(invariant("one value chosen", |w: &World<Paxos>| {
            let ok = chosen(w.disks.iter().map(|d| d.synced())).len() <= 1;
            ok.then_some(()).ok_or_else(|| "two values".to_string())
        }));
        sim.run_for(ms(1_000))?;
        Ok(TrialRun::new(&mut sim, vec![]))
    };
    let t = Instant::now();
    let found = Explore::new(seeds)
        .progress(false)
        .run(&FaultSpace::new(3, ms(1_000))?, scenario)?;
    let secs = t.elapsed().as_secs_f64();
    println!(
        "explored paxos ({} seeds, faults and 5% duplication, all cores): {} failures, {:.1} s, {:.0} seeds/s",
        found.runs,
        found.failed(),
        secs,
        found.runs as f64 / secs
    );
    Ok(())
}
