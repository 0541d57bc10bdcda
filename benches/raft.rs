//! Raft's speed (chapter 10, issue 21): what one event of a Raft cluster
//! costs against a plain handler event, and how fast the explorer gets
//! through 10,000 seeds of tests/raft.rs's scenario.
//!
//! `cargo bench --bench raft` (or `scripts/bench.sh`); arguments after
//! `--`: `events=N` (events timed per run, default 1,000,000), `reps=N`
//! (alternating runs per side, default 3, medians printed), `seeds=N`
//! (explored seeds, default 10,000), `syncs=N` (syncs timed per log size).
//!
//! - **Raft**: 5 servers with the default [`RaftConfig`], 5 closed-loop
//!   clients (up to 100,000 operations each, so the load never stops), links
//!   of 1–5 ms, no loss, no faults; timed after the first simulated second
//!   (a leader is elected). Timed twice: the protocol alone, and as the
//!   explorer runs it (Figure 3's invariants checked after every event).
//! - **Baseline**: 5 plain handler nodes on the same engine with the same
//!   links and the same message type ([`RaftMsg`]): each delivery sends one
//!   heartbeat-shaped `Append` (no entries: no allocation) to a random other
//!   node, with as many messages in flight as the Raft run had events pending
//!   on average (so both queues are the same size).
//!   It is the engine's own cost per event for Raft's messages, without
//!   the protocol: what is left of the ratio is what Raft's handlers cost.
//!
//! Times are on-CPU (this thread's `schedstat`), so other load on the
//! machine does not inflate them; wall times are printed beside them.

use std::time::Instant;
use thinkdist::check::Trial;
use thinkdist::prelude::*;
use thinkdist::raft::{explore_raft, Entry, Raft, RaftCluster, RaftMsg, RaftWorkload};
use thinkdist::sim::rng;

/// Time this thread has spent on a CPU, in seconds (as benches/engine.rs).
fn cpu_secs() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(f64::NAN, |ns| ns as f64 / 1e9)
}

/// On-CPU seconds of the whole process, all threads (utime + stime from
/// `/proc/self/stat`, in clock ticks of 10 ms): the explorer runs on every
/// core.
fn process_cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = after
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|x| x.parse().ok())
        .collect();
    f.iter().sum::<u64>() as f64 / 100.0
}

fn arg(key: &str, default: u64) -> u64 {
    std::env::args()
        .filter_map(|a| a.strip_prefix(&format!("{key}=")).map(str::to_string))
        .find_map(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// One timed stretch: events, on-CPU and wall seconds, mean events pending
/// in the queue (messages, timers, client timeouts; sampled every 1,000
/// events).
struct Timed {
    events: u64,
    cpu: f64,
    wall: f64,
    inflight: f64,
}

impl Timed {
    fn cpu_ns(&self) -> f64 {
        self.cpu * 1e9 / self.events as f64
    }
    fn wall_ns(&self) -> f64 {
        self.wall * 1e9 / self.events as f64
    }
}

/// Runs `events` events of `sim` in blocks of 1,000, timing them.
fn time_events<N: Node>(sim: &mut Sim<N>, events: u64) -> Result<Timed> {
    let (start, cpu0, wall0) = (sim.events_processed(), cpu_secs(), Instant::now());
    let (mut flight, mut samples) = (0u64, 0u64);
    while sim.events_processed() - start < events {
        sim.run_events(1_000)?;
        flight += sim.pending() as u64;
        samples += 1;
    }
    let (cpu, wall) = (cpu_secs() - cpu0, wall0.elapsed().as_secs_f64());
    Ok(Timed {
        events: sim.events_processed() - start,
        cpu,
        wall,
        inflight: flight as f64 / samples.max(1) as f64,
    })
}

/// The bench's cluster: the default one under steady load, no loss.
fn cluster() -> RaftCluster {
    RaftCluster {
        clients: 5,
        ops: 100_000,
        loss: 0.0,
        duplicate: 0.0,
        ..RaftCluster::default()
    }
}

/// Raft under steady load; with `checked`, built as the explorer builds it
/// (invariants after every event).
fn raft(events: u64, seed: u64, checked: bool) -> Result<Timed> {
    let c = cluster();
    let mut sim = if checked {
        c.build(&Trial::new(seed, FaultPlan::new()))?
    } else {
        let link = LinkConfig::new(Latency::uniform(c.delay.0, c.delay.1)?);
        let mut sim = Sim::builder()
            .seed(seed)
            .link(link)
            .trace(0)
            .max_events(u64::MAX)
            .build(vec![Raft::new(c.cfg); c.nodes])?;
        let w = RaftWorkload::new(c.nodes, c.clients, c.ops, c.client_timeout);
        sim.set_workload(c.clients, w)?;
        sim
    };
    sim.run_for(secs(1))?;
    let t = time_events(&mut sim, events)?;
    let leaders = (0..c.nodes).filter(|&i| sim.node(i).is_ok_and(|n| n.is_leader()));
    if leaders.count() != 1 || !sim.violations().is_empty() {
        return Err(Error::invalid(
            "raft bench",
            seed,
            "one leader, no violation",
        ));
    }
    Ok(t)
}

/// The baseline node: every delivery sends one heartbeat-shaped `Append`
/// to a random other node.
#[derive(Clone)]
struct Plain {
    n: usize,
}

fn beat(term: u64) -> RaftMsg {
    RaftMsg::Append {
        term,
        prev_index: 0,
        prev_term: 0,
        entries: Vec::<Entry>::new(),
        commit: 0,
    }
}

impl Node for Plain {
    type Msg = RaftMsg;
    type Timer = ();
    type Disk = ();
    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, _from: NodeId, msg: RaftMsg) {
        let RaftMsg::Append { term, .. } = msg else {
            return;
        };
        let to = (ctx.id() + 1 + rng::index(ctx.rng(), self.n - 1)) % self.n;
        ctx.send(to, beat(term + 1));
    }
}

fn plain(events: u64, seed: u64, inflight: usize) -> Result<Timed> {
    let c = cluster();
    let link = LinkConfig::new(Latency::uniform(c.delay.0, c.delay.1)?);
    let mut sim = Sim::builder()
        .seed(seed)
        .link(link)
        .trace(0)
        .max_events(u64::MAX)
        .build(vec![Plain { n: c.nodes }; c.nodes])?;
    for k in 0..inflight.max(1) {
        sim.inject_exact(k % c.nodes, beat(0), ms(1))?;
    }
    sim.run_for(secs(1))?;
    time_events(&mut sim, events)
}

/// A Raft node's sync as the leader does it: append one entry to a
/// `DiskLog` of `entries` entries, sync; on-CPU ns per sync.
#[derive(Clone)]
struct Appender;

impl Node for Appender {
    type Msg = u64;
    type Timer = ();
    type Disk = thinkdist::raft::RaftDisk;
    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, _: NodeId, op: u64) {
        let term = ctx.disk().term;
        let cmd = thinkdist::raft::Cmd::Put { key: 1, value: 2 };
        ctx.disk().log.push(Entry { term, cmd, op });
        ctx.sync("log");
    }
}

fn sync_ns(entries: u64, syncs: u64) -> Result<f64> {
    let mut sim = Sim::builder()
        .trace(0)
        .link(LinkConfig::new(Latency::constant(ms(1))))
        .build(vec![Appender])?;
    for i in 0..entries + syncs {
        sim.inject_exact(0, i, SimDuration(i + 1))?;
    }
    sim.run_events(entries + 1)?;
    let cpu0 = cpu_secs();
    sim.run_events(syncs)?;
    Ok((cpu_secs() - cpu0) * 1e9 / syncs as f64)
}

fn main() -> Result<()> {
    let events = arg("events", 1_000_000).max(1_000);
    let reps = arg("reps", 3).max(1);
    let (mut r, mut rc, mut p, mut rw, mut pw, mut fl) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    if let Some(part) = std::env::args().find_map(|a| a.strip_prefix("only=").map(String::from)) {
        // For a profiler: one part alone.
        let t = match part.as_str() {
            "raft" => raft(events, 1, false)?,
            "checked" => raft(events, 1, true)?,
            _ => plain(events, 1, 10)?,
        };
        println!("{part} ns={:.1}", t.cpu_ns());
        return Ok(());
    }
    for i in 0..reps {
        let a = raft(events, 1 + i, false)?;
        let b = plain(events, 1 + i, a.inflight.round() as usize)?;
        let c = raft(events, 1 + i, true)?;
        r.push(a.cpu_ns());
        rw.push(a.wall_ns());
        fl.push(a.inflight);
        p.push(b.cpu_ns());
        pw.push(b.wall_ns());
        rc.push(c.cpu_ns());
    }
    let (r, rc, p) = (median(&mut r), median(&mut rc), median(&mut p));
    println!(
        "raft events={events} reps={reps} inflight={:.1} raft_ns={r:.1} raft_checked_ns={rc:.1} \
         plain_ns={p:.1} raft_wall_ns={:.1} plain_wall_ns={:.1} ratio={:.2} ratio_checked={:.2}",
        median(&mut fl),
        median(&mut rw),
        median(&mut pw),
        r / p,
        rc / p
    );
    let seeds = arg("seeds", 10_000) as usize;
    let c = RaftCluster::default();
    let (t, cpu0) = (Instant::now(), process_cpu_secs());
    let found = explore_raft(&c, &c.fault_space()?, seeds)?;
    let (wall, cpu) = (t.elapsed().as_secs_f64(), process_cpu_secs() - cpu0);
    println!(
        "raft_explore seeds={} failed={} seconds={wall:.2} seeds_per_s={:.0} cores={} cpu_s={cpu:.2}",
        found.runs,
        found.failed(),
        found.runs as f64 / wall,
        std::thread::available_parallelism().map_or(1, |n| n.get()),
    );
    let syncs = arg("syncs", 50_000);
    for entries in [1_000, 100_000] {
        let mut xs: Vec<f64> = (0..reps)
            .map(|_| sync_ns(entries, syncs))
            .collect::<Result<_>>()?;
        println!(
            "raft_sync entries={entries} syncs={syncs} ns={:.1}",
            median(&mut xs)
        );
    }
    Ok(())
}
