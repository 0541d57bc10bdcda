//! `erased` mode of the engine bench: the 100-line node of
//! `cell_node.rs` on `Sim<Gossiper>` (the engine instantiated for it) and
//! on the erased engine (`Builder::build_erased`), both compiled here,
//! optimised: what erasing the node costs per event, apart from where the
//! node is compiled. scripts/bench_cell_node.py runs the same node from a
//! notebook cell at opt-level 0.

use super::{arg, cpu_secs, median, BoxResult};
use thinkdist::prelude::*;

include!("cell_node.rs");

/// The workload the cell runs too: `nodes` gossipers, fanout 2, 50 rounds,
/// 600 ms. Returns (on-CPU ns per event, events).
fn run(nodes: usize, seed: u64, erase: bool) -> BoxResult<(f64, u64)> {
    let b = Sim::builder()
        .seed(seed)
        .link(LinkConfig::new(Latency::exponential(ms(5))?));
    let make = vec![Gossiper::new(2, 50); nodes];
    let (cpu, events, known) = if erase {
        let mut sim = b.build_erased(make)?;
        let c0 = cpu_secs();
        sim.run_for(ms(600))?;
        let cpu = cpu_secs() - c0;
        let known: u64 = sim
            .nodes::<Gossiper>()?
            .iter()
            .map(|g| u64::from(g.known))
            .sum();
        (cpu, sim.events_processed(), known)
    } else {
        let mut sim = b.build(make)?;
        let c0 = cpu_secs();
        sim.run_for(ms(600))?;
        let cpu = cpu_secs() - c0;
        let known: u64 = sim.nodes().iter().map(|g| u64::from(g.known)).sum();
        (cpu, sim.events_processed(), known)
    };
    std::hint::black_box(known);
    Ok((cpu * 1e9 / events as f64, events))
}

/// Prints `erased nodes=N events=E direct_ns=D erased_ns=X ratio=R`:
/// medians of `reps` alternating runs (seeds 1, 2, ...), on-CPU; `events`
/// is seed 1's count, the run scripts/bench_cell_node.py makes in a cell.
pub fn mode(args: &[String]) -> BoxResult<()> {
    let nodes = arg(args, "nodes", 2_000usize);
    let reps = arg(args, "reps", 5usize).max(1);
    let (mut d, mut e, mut events) = (Vec::new(), Vec::new(), 0);
    for i in 0..reps {
        let (ns, ev) = run(nodes, 1 + i as u64, false)?;
        d.push(ns);
        let (ns2, ev2) = run(nodes, 1 + i as u64, true)?;
        e.push(ns2);
        if ev != ev2 {
            return Err(format!("seed {}: {ev} events direct, {ev2} erased", 1 + i).into());
        }
        if i == 0 {
            events = ev;
        }
    }
    let (d, e) = (median(&mut d), median(&mut e));
    println!(
        "erased nodes={nodes} events={events} direct_ns={d:.1} erased_ns={e:.1} ratio={:.2}",
        e / d
    );
    Ok(())
}
