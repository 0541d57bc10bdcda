//! The cost of durable execution (`thinkdist::durable`): a workflow of
//! `steps` local steps run live (each journaled and synced), then replayed
//! after a crash (each answered from the journal). Prints on-CPU ns per
//! live step and per replayed step, medians of `reps` runs.

use super::{arg, cpu_secs, median, BoxResult};
use thinkdist::durable::{Call, Disk, Role, Workflow};
use thinkdist::prelude::*;
use thinkdist::process::{Proc, Process};

/// One workflow of `steps` steps; returns (ns per live step, ns per
/// replayed step), on-CPU.
fn replay_run(steps: u32) -> Result<(f64, f64)> {
    let worker = Process::new(move |p: Proc<Call, Disk>| async move {
        let wf = Workflow::new(&p, 1);
        for i in 0..steps {
            let v: u64 = wf.step("step", move |_| async move { u64::from(i) }).await;
            std::hint::black_box(v);
        }
    });
    let mut sim = Sim::builder()
        .trace(0)
        .max_events(u64::MAX)
        .build(vec![Role::Worker(worker), Role::Service])?;
    let cpu0 = cpu_secs();
    sim.run_events(1)?; // the start: every step runs live
    let live = cpu_secs() - cpu0;
    sim.crash(0)?;
    let cpu1 = cpu_secs();
    sim.recover(0)?; // the restart: every step replays
    let replay = cpu_secs() - cpu1;
    let replayed = sim.counters().get("steps replayed");
    if replayed != u64::from(steps) || sim.disk(0)?.synced().journal.len() != steps as usize {
        return Err(Error::invalid(
            "replay",
            replayed,
            "every step replayed once",
        ));
    }
    Ok((
        live * 1e9 / f64::from(steps),
        replay * 1e9 / f64::from(steps),
    ))
}

/// `durable [steps=100000] [reps=5]`.
pub fn mode_durable(args: &[String]) -> BoxResult<()> {
    // 100,000 steps: the replay then takes tens of milliseconds, well above
    // the granularity of the on-CPU clock (10,000 steps read as 0 ns).
    let steps = arg(args, "steps", 100_000u32).max(1);
    let reps = arg(args, "reps", 5usize).max(1);
    let (mut live, mut replay) = (Vec::new(), Vec::new());
    for _ in 0..reps {
        let (l, r) = replay_run(steps)?;
        live.push(l);
        replay.push(r);
    }
    println!(
        "durable steps={steps} reps={reps} live_ns={:.1} replay_ns={:.1}",
        median(&mut live),
        median(&mut replay)
    );
    Ok(())
}
