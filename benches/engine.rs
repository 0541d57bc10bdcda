//! The engine's speed: the standard workload, the priority-queue floor,
//! scaling with queue size and cluster size, and the speedup of sweeps.
//!
//! `cargo bench --bench engine` runs everything; `scripts/bench.sh` runs the
//! pieces side by side with SimPy (`scripts/bench_simpy.py`). Modes (after
//! `--`):
//!
//! | mode | what it prints |
//! |---|---|
//! | `engine [nodes=100] [inflight=1000] [deliveries=1000000] [seed=1]` | one run of the standard workload (alias `scale`) |
//! | `floor [iters=1000000] [size=1000]` | bare `EventQueue` pop-one-push-one cost |
//! | `scaling [reps=3] [deliveries=1000000] [dir=charts/bench]` | the scaling table and charts `scaling_throughput`, `scaling_throughput_nodes`, `scaling_memory` (one process per run) |
//! | `sweep [points=64]` | speedup of a 64-point sweep on all cores over one thread |
//! | `explore [seeds=10000]` | two-phase commit (3 nodes) explored over random fault schedules with crash points |
//! | `crashpoints [clients=4] [transfers=25]` | chapter 5's bank crashed at every crash point, all four logging schemes |
//! | `sync [syncs=2000] [reps=3]` | ns per event of a node that appends one entry and syncs, with a `DiskLog` and a `Vec` log, at 1,000 and 100,000 entries |
//! | `process [deliveries=1000000] [reps=3]` | the standard workload written as handlers and as async processes ([`thinkdist::process`]): ns/event on-CPU for each, medians of `reps` alternating runs |
//! | `durable [steps=100000] [reps=5]` | a durable workflow ([`thinkdist::durable`]) of `steps` steps run live, then replayed after a crash: ns per step on-CPU for each (`benches/support/durable.rs`) |
//! | `isolation [reps=5] [limits=1] [only=hot\|ring]` | the isolation checker on 3,000-transaction bank histories (no isolation, read committed, snapshot, and the on-call mix under snapshot), on-CPU seconds per check, median of `reps`; with `limits=1` also a 10,000-transaction hot-key history and a 30,000-transaction cycle |
//! | `erased [nodes=2000] [reps=5]` | the 100-line node of `engine/cell_node.rs` on `Sim<ItsType>` and on the erased engine (`Builder::build_erased`), both optimised: on-CPU ns/event, medians of `reps` alternating runs |
//!
//! The standard workload: 100 nodes; 1,000 messages in flight; each delivered
//! after an exponential latency (mean 10 ms); on delivery the receiver sends
//! one new message to a uniformly random node; 1,000,000 deliveries. Written
//! only against the public node/network API. Peak memory is VmHWM from
//! `/proc/self/status`; every measured configuration runs in its own process
//! so peaks do not mix.

use std::process::Command;
use std::time::Instant;
use thinkdist::prelude::*;
use thinkdist::process::{Envelope, Proc, Process};
use thinkdist::sim::queue::EventQueue;
use thinkdist::sim::rng;
use thinkdist::sim::sweep::Sweep;

#[path = "engine/isolation.rs"]
mod isolation;

#[path = "engine/erased.rs"]
mod erased;

type BoxResult<T> = std::result::Result<T, Box<dyn std::error::Error>>;

#[path = "support/durable.rs"]
mod durable;

/// A node that forwards every message it receives to a random node.
#[derive(Clone)]
struct Relay {
    n: usize,
}

impl Node for Relay {
    type Msg = u32;
    type Timer = ();
    type Disk = ();
    #[inline]
    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, _from: NodeId, msg: u32) {
        let to = rng::index(ctx.rng(), self.n);
        ctx.send(to, msg);
    }
}

/// The same relay written as an async process: receive, pick, send.
fn relay_process(n: usize) -> Process<u32> {
    Process::new(move |p: Proc<u32>| async move {
        loop {
            let m = p.recv().await;
            let to = p.rng(|r| rng::index(r, n));
            p.send(to, m.msg);
        }
    })
}

/// The standard workload on process nodes; on-CPU ns per delivery.
fn process_workload(nodes: usize, inflight: usize, deliveries: u64, seed: u64) -> Result<f64> {
    let latency = Latency::exponential(ms(10))?;
    let mut sim = Sim::builder()
        .seed(seed)
        .trace(0)
        .link(LinkConfig::new(latency.clone()))
        .max_events(u64::MAX)
        .build((0..nodes).map(|_| relay_process(nodes)).collect())?;
    let mut r = sim.experiment_rng(0);
    for _ in 0..inflight {
        let to = rng::index(&mut r, nodes);
        let after = latency.sample(&mut r);
        sim.inject_exact(to, Envelope::Tell(0), after)?;
    }
    sim.run_events(nodes as u64)?;
    let cpu0 = cpu_secs();
    sim.run_events(deliveries)?;
    let cpu = cpu_secs() - cpu0;
    if sim.stats().delivered != deliveries {
        return Err(Error::invalid(
            "deliveries",
            sim.stats().delivered,
            "every event a delivery",
        ));
    }
    std::hint::black_box(&sim);
    Ok(cpu * 1e9 / deliveries as f64)
}

fn mode_process(args: &[String]) -> BoxResult<()> {
    let deliveries = arg(args, "deliveries", 1_000_000u64);
    let reps = arg(args, "reps", 3usize).max(1);
    let (mut h, mut p) = (Vec::new(), Vec::new());
    for i in 0..reps {
        let run = workload(100, 1_000, deliveries, 1 + i as u64)?;
        h.push(1e9 / run.cpu_events_per_s());
        p.push(process_workload(100, 1_000, deliveries, 1 + i as u64)?);
    }
    println!(
        "process deliveries={deliveries} reps={reps} handler_ns={:.1} process_ns={:.1}",
        median(&mut h),
        median(&mut p)
    );
    Ok(())
}

/// A disk holding a log: `DiskLog` (a sync shares the entries) or `Vec` (a
/// sync copies them).
trait BenchLog: Clone + std::fmt::Debug + Default {
    fn with_entries(n: u64) -> Self;
    fn append(&mut self, x: u64);
}

impl BenchLog for DiskLog<u64> {
    fn with_entries(n: u64) -> Self {
        (0..n).collect()
    }
    fn append(&mut self, x: u64) {
        self.push(x);
    }
}

impl BenchLog for Vec<u64> {
    fn with_entries(n: u64) -> Self {
        (0..n).collect()
    }
    fn append(&mut self, x: u64) {
        self.push(x);
    }
}

/// Appends the message to its log and syncs, on every delivery.
#[derive(Clone, Default)]
struct Appender<D>(std::marker::PhantomData<D>);

impl<D: BenchLog> Node for Appender<D> {
    type Msg = u64;
    type Timer = ();
    type Disk = D;
    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, _: NodeId, m: u64) {
        ctx.disk().append(m);
        ctx.sync("append");
    }
}

/// On-CPU ns per event of a node that appends one entry to a log of
/// `entries` and syncs (`syncs` events, the log growing by as many).
fn sync_ns<D: BenchLog>(entries: u64, syncs: u64) -> Result<f64> {
    let mut sim = Sim::builder()
        .trace(0)
        .max_events(u64::MAX)
        .build(vec![Appender::<D>(std::marker::PhantomData)])?;
    sim.set_disk(0, D::with_entries(entries))?;
    for i in 0..syncs {
        sim.inject_exact(0, i, us(i + 1))?;
    }
    sim.run_events(1)?; // the start
    let cpu0 = cpu_secs();
    sim.run_events(syncs)?;
    Ok((cpu_secs() - cpu0) * 1e9 / syncs as f64)
}

/// `sync [syncs=2000] [reps=3]`: ns per append-and-sync event with a
/// `DiskLog` and with a `Vec`, at 1,000 and 100,000 entries.
fn mode_sync(args: &[String]) -> BoxResult<()> {
    let syncs = arg(args, "syncs", 2_000u64).max(1);
    let reps = arg(args, "reps", 3usize).max(1);
    for entries in [1_000u64, 100_000] {
        let (mut log, mut vec) = (Vec::new(), Vec::new());
        for _ in 0..reps {
            log.push(sync_ns::<DiskLog<u64>>(entries, syncs)?);
            vec.push(sync_ns::<Vec<u64>>(entries, syncs)?);
        }
        println!(
            "sync entries={entries} syncs={syncs} disklog_ns={:.1} vec_ns={:.1}",
            median(&mut log),
            median(&mut vec)
        );
    }
    Ok(())
}

/// One run of the workload.
struct Run {
    nodes: usize,
    inflight: usize,
    deliveries: u64,
    secs: f64,
    cpu_secs: f64,
    hwm_before_kb: u64,
    hwm_after_kb: u64,
}

impl Run {
    fn events_per_s(&self) -> f64 {
        self.deliveries as f64 / self.secs
    }
    fn ns_per_event(&self) -> f64 {
        self.secs * 1e9 / self.deliveries as f64
    }
    fn cpu_events_per_s(&self) -> f64 {
        self.deliveries as f64 / self.cpu_secs
    }
}

/// Peak resident set size of this process (VmHWM), in KiB.
fn vmhwm_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Time this thread has spent on a CPU, in seconds (from
/// `/proc/thread-self/schedstat`, nanosecond resolution): unlike wall time it
/// does not count the time other processes held the cores.
fn cpu_secs() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(f64::NAN, |ns| ns as f64 / 1e9)
}

/// The standard workload with `nodes` nodes and `inflight` messages in
/// flight, timed over `deliveries` deliveries.
fn workload(nodes: usize, inflight: usize, deliveries: u64, seed: u64) -> Result<Run> {
    let hwm_before_kb = vmhwm_kb();
    let latency = Latency::exponential(ms(10))?;
    let mut sim = Sim::builder()
        .seed(seed)
        .trace(0)
        .link(LinkConfig::new(latency.clone()))
        .max_events(u64::MAX)
        .build((0..nodes).map(|_| Relay { n: nodes }).collect())?;
    // The first message of each of the `inflight` chains, to a random node
    // after a random latency.
    let mut r = sim.experiment_rng(0);
    for _ in 0..inflight {
        let to = rng::index(&mut r, nodes);
        let after = latency.sample(&mut r);
        sim.inject_exact(to, 0, after)?;
    }
    // The nodes' start events (no-ops) come first, at time zero.
    sim.run_events(nodes as u64)?;
    let (t, cpu0) = (Instant::now(), cpu_secs());
    sim.run_events(deliveries)?;
    let secs = t.elapsed().as_secs_f64();
    let cpu_secs = cpu_secs() - cpu0;
    let delivered = sim.stats().delivered;
    if delivered != deliveries {
        return Err(Error::invalid(
            "deliveries",
            delivered,
            &format!("{deliveries} (every event a delivery)"),
        ));
    }
    std::hint::black_box(&sim);
    Ok(Run {
        nodes,
        inflight,
        deliveries,
        secs,
        cpu_secs,
        hwm_before_kb,
        hwm_after_kb: vmhwm_kb(),
    })
}

/// The floor: `iters` pops and pushes on an `EventQueue` holding `size`
/// entries with exponential times; returns ns per pop+push. `W` words of
/// event data ride along (3, 24 bytes, is the size of the engine's delivery
/// events).
fn floor<const W: usize>(size: usize, iters: u64, seed: u64) -> f64 {
    let mut r = rng::stream(seed, rng::domain::EXPERIMENT, 1, 0);
    let mean = 10e6; // 10 ms in ns
    let mut q: EventQueue<[u64; W]> = EventQueue::with_capacity(1024);
    for i in 0..size {
        let d = -mean * rng::open_unit_f64(&mut r).ln();
        q.push(SimTime(d as u64), [i as u64; W]);
    }
    // On-CPU time, as the engine's figure: other load on the machine does
    // not count.
    let cpu0 = cpu_secs();
    let mut sum = 0u64;
    for _ in 0..iters {
        let (now, ev) = q.pop().expect("the queue never empties");
        sum = sum.wrapping_add(ev[0]);
        let d = -mean * rng::open_unit_f64(&mut r).ln();
        q.push(SimTime(now.0 + d as u64), ev);
    }
    let secs = cpu_secs() - cpu0;
    std::hint::black_box(sum);
    secs * 1e9 / iters as f64
}

fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(|a, b| a.total_cmp(b));
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

/// `key=value` arguments.
fn arg<T: std::str::FromStr>(args: &[String], key: &str, default: T) -> T {
    args.iter()
        .filter_map(|a| a.split_once('='))
        .find(|(k, _)| *k == key)
        .and_then(|(_, v)| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

fn field(line: &str, key: &str) -> Option<f64> {
    line.split_whitespace()
        .filter_map(|w| w.split_once('='))
        .find(|(k, _)| *k == key)
        .and_then(|(_, v)| v.parse().ok())
}

/// Runs `engine` with the given settings in a fresh process; returns its
/// output line.
fn engine_in_child(nodes: usize, inflight: usize, deliveries: u64) -> BoxResult<String> {
    let exe = std::env::current_exe()?;
    let out = Command::new(exe)
        .args([
            "engine".to_string(),
            format!("nodes={nodes}"),
            format!("inflight={inflight}"),
            format!("deliveries={deliveries}"),
        ])
        .output()?;
    if !out.status.success() {
        return Err(format!(
            "child failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )
        .into());
    }
    let text = String::from_utf8(out.stdout)?;
    Ok(text
        .lines()
        .find(|l| l.starts_with("engine "))
        .ok_or("no engine line")?
        .to_string())
}

fn mode_engine(args: &[String]) -> BoxResult<()> {
    let run = workload(
        arg(args, "nodes", 100),
        arg(args, "inflight", 1_000),
        arg(args, "deliveries", 1_000_000),
        arg(args, "seed", 1),
    )?;
    println!(
        "engine nodes={} inflight={} deliveries={} events_per_s={:.0} ns_per_event={:.1} \
         cpu_events_per_s={:.0} vmhwm_kb={} hwm_delta_kb={}",
        run.nodes,
        run.inflight,
        run.deliveries,
        run.events_per_s(),
        run.ns_per_event(),
        run.cpu_events_per_s(),
        run.hwm_after_kb,
        run.hwm_after_kb.saturating_sub(run.hwm_before_kb),
    );
    Ok(())
}

fn mode_floor(args: &[String]) -> BoxResult<()> {
    let size = arg(args, "size", 1_000);
    let iters = arg(args, "iters", 1_000_000);
    let reps = arg(args, "reps", 5);
    let mut small: Vec<f64> = (0..reps).map(|i| floor::<1>(size, iters, i)).collect();
    let mut big: Vec<f64> = (0..reps).map(|i| floor::<3>(size, iters, i)).collect();
    println!(
        "floor size={size} iters={iters} ns_per_op={:.1} ns_per_op_u64={:.1}",
        median(&mut big),
        median(&mut small)
    );
    Ok(())
}

/// One row of the scaling table.
struct Row {
    nodes: usize,
    inflight: usize,
    events_per_s: f64,
    events_per_s_min: f64,
    events_per_s_max: f64,
    ns_per_event: f64,
    bytes_per_msg: f64,
}

fn mode_scaling(args: &[String]) -> BoxResult<()> {
    let reps: usize = arg(args, "reps", 3);
    let deliveries: u64 = arg(args, "deliveries", 1_000_000);
    let dir: String = arg(args, "dir", "charts/bench".to_string());
    let mut configs: Vec<(usize, usize)> = [1_000, 10_000, 100_000, 1_000_000]
        .iter()
        .map(|&f| (100, f))
        .collect();
    configs.extend([10, 1_000, 10_000].iter().map(|&n| (n, 1_000)));
    let mut rows = Vec::new();
    for &(nodes, inflight) in &configs {
        let (mut eps, mut nspe, mut mem) = (vec![], vec![], vec![]);
        for _ in 0..reps {
            let line = engine_in_child(nodes, inflight, deliveries)?;
            eps.push(field(&line, "events_per_s").ok_or("events_per_s")?);
            nspe.push(field(&line, "ns_per_event").ok_or("ns_per_event")?);
            mem.push(field(&line, "hwm_delta_kb").ok_or("hwm_delta_kb")? * 1024.0);
        }
        let lo = eps.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = eps.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        rows.push(Row {
            nodes,
            inflight,
            events_per_s_min: lo,
            events_per_s_max: hi,
            events_per_s: median(&mut eps),
            ns_per_event: median(&mut nspe),
            bytes_per_msg: median(&mut mem) / inflight as f64,
        });
    }
    let base = rows[0].ns_per_event / (rows[0].inflight as f64).log2();
    println!("scaling ({deliveries} deliveries per run, median of {reps} fresh processes)");
    println!(
        "  {:>6} {:>9} {:>12} {:>9} {:>14} {:>16}",
        "nodes", "in flight", "events/s", "ns/event", "bytes/message", "ns/event/log2 q"
    );
    for r in &rows {
        let per_log = r.ns_per_event / (r.inflight as f64).log2();
        println!(
            "  {:>6} {:>9} {:>12.0} {:>9.1} {:>14.0} {:>9.1} ({:.2}x)",
            r.nodes,
            r.inflight,
            r.events_per_s,
            r.ns_per_event,
            r.bytes_per_msg,
            per_log,
            per_log / base
        );
    }
    let by_inflight: Vec<&Row> = rows.iter().filter(|r| r.nodes == 100).collect();
    let first = by_inflight[0];
    let last = by_inflight[by_inflight.len() - 1];
    let cost_growth = last.ns_per_event / first.ns_per_event;
    let log_growth = (last.inflight as f64).log2() / (first.inflight as f64).log2();
    println!(
        "  cost per event from {} to {} in flight: x{:.2}; log2(queue size): x{:.2} -> {}",
        first.inflight,
        last.inflight,
        cost_growth,
        log_growth,
        if cost_growth <= log_growth * 1.05 {
            "grows no faster than log(queue size)"
        } else {
            "grows FASTER than log(queue size) (cache misses once the heap outgrows the caches)"
        }
    );

    let mut nodes_rows: Vec<&Row> = rows.iter().filter(|r| r.inflight == 1_000).collect();
    nodes_rows.sort_by_key(|r| r.nodes);
    // One variable per chart, on a log x axis (it spans decades); y linear
    // from 0 (the queue-alone ceiling puts 0 in range, so small
    // differences are not exaggerated by a cut axis); markers at the
    // measured points; the band is the spread (min to max) of the fresh
    // processes.
    let million = |v: f64| v / 1e6;
    let throughput_series = |rows: &[&Row], x: fn(&Row) -> f64, label: &str| {
        Series::new(
            label,
            rows.iter()
                .map(|r| (x(r), million(r.events_per_s)))
                .collect(),
        )
        .with_band(
            rows.iter()
                .map(|r| (million(r.events_per_s_min), million(r.events_per_s_max)))
                .collect(),
        )
        .with_style(SeriesStyle::LinePoints)
    };
    // The bare event queue at the same size (pop one + push one, 24-byte
    // events): the ceiling the engine cannot beat, and what it adds on top.
    // Median of three in-process runs per size; one size for the nodes
    // chart (the queue does not know about nodes), drawn flat.
    let iters = deliveries.min(1_000_000);
    let queue_rate = |size: usize| {
        let mut v: Vec<f64> = (0..3).map(|i| floor::<3>(size, iters, 7 + i)).collect();
        million(1e9 / median(&mut v))
    };
    let at_1000 = queue_rate(1_000);
    let queue_series = |xs: Vec<(f64, usize)>| {
        Series::new(
            "event queue alone (pop one + push one)",
            xs.into_iter()
                .map(|(x, size)| {
                    (
                        x,
                        if size == 1_000 {
                            at_1000
                        } else {
                            queue_rate(size)
                        },
                    )
                })
                .collect(),
        )
        .with_style(SeriesStyle::LinePoints)
    };
    let throughput = line_chart(
        &[
            throughput_series(&by_inflight, |r| r.inflight as f64, "engine, 100 nodes"),
            queue_series(
                by_inflight
                    .iter()
                    .map(|r| (r.inflight as f64, r.inflight))
                    .collect(),
            ),
        ],
        &[],
        Opts::new("Engine throughput against messages in flight")
            .x_label("messages in flight (event queue size)")
            .y_label("million events per second")
            .log_x(),
    )?;
    let throughput_nodes = line_chart(
        &[
            throughput_series(
                &nodes_rows,
                |r| r.nodes as f64,
                "engine, 1,000 messages in flight",
            ),
            queue_series(nodes_rows.iter().map(|r| (r.nodes as f64, 1_000)).collect()),
        ],
        &[],
        Opts::new("Engine throughput against cluster size")
            .x_label("nodes")
            .y_label("million events per second")
            .log_x(),
    )?;
    // Total memory on log-log axes: a line of slope 1 is memory
    // proportional to the messages in flight. Runs whose peak did not grow
    // measurably (0 KiB) have no place on a log axis and are left out.
    let mib = |r: &Row| r.bytes_per_msg * r.inflight as f64 / (1024.0 * 1024.0);
    let measured: Vec<&Row> = by_inflight
        .iter()
        .copied()
        .filter(|r| mib(r) > 0.0)
        .collect();
    if measured.len() < by_inflight.len() {
        println!(
            "  memory chart: {} run(s) with no measurable growth of the peak left out",
            by_inflight.len() - measured.len()
        );
    }
    let mut overlays = Vec::new();
    if let Some(top) = measured.last() {
        let per = mib(top) / top.inflight as f64;
        overlays.push(Series::new(
            format!(
                "{:.0} bytes per message in flight (theory: linear growth, fitted at the largest run)",
                top.bytes_per_msg
            ),
            measured
                .iter()
                .map(|r| (r.inflight as f64, per * r.inflight as f64))
                .collect(),
        ));
    }
    let memory = line_chart(
        &[Series::new(
            "100 nodes (growth of peak resident memory)",
            measured
                .iter()
                .map(|r| (r.inflight as f64, mib(r)))
                .collect(),
        )
        .with_style(SeriesStyle::LinePoints)],
        &overlays,
        Opts::new("Peak memory against messages in flight")
            .x_label("messages in flight")
            .y_label("memory (MiB, VmHWM growth during the run)")
            .log_x()
            .log_y(),
    )?;
    for path in throughput
        .save(&dir, "scaling_throughput")?
        .into_iter()
        .chain(throughput_nodes.save(&dir, "scaling_throughput_nodes")?)
        .chain(memory.save(&dir, "scaling_memory")?)
    {
        println!("  chart: {}", path.display());
    }
    Ok(())
}

fn mode_sweep(args: &[String]) -> BoxResult<()> {
    let points: usize = arg(args, "points", 64);
    let cores = std::thread::available_parallelism().map_or(1, |k| k.get());
    let grid: Vec<f64> = (0..points)
        .map(|i| 10.0 + 85.0 * i as f64 / points as f64)
        .collect();
    let experiment = |&rate: &f64, seed: u64| -> Result<f64> {
        Ok(Queue {
            seed,
            arrival_rate: rate,
            jobs: 20_000,
            warmup: 2_000,
            ..Default::default()
        }
        .run()?
        .mean_ms)
    };
    let time = |threads: usize| -> Result<(f64, Vec<f64>)> {
        let t = Instant::now();
        let r = Sweep::new(grid.clone())
            .threads(threads)
            .progress(false)
            .run(experiment)?;
        Ok((
            t.elapsed().as_secs_f64(),
            r.into_iter().map(|p| p.values[0]).collect(),
        ))
    };
    let (mut one, mut all) = (vec![], vec![]);
    let mut same = true;
    for _ in 0..3 {
        let (a, ra) = time(1)?;
        let (b, rb) = time(cores)?;
        same &= ra == rb;
        one.push(a);
        all.push(b);
    }
    let (one, all) = (median(&mut one), median(&mut all));
    println!(
        "sweep points={points} cores={cores} one_thread_s={one:.3} all_threads_s={all:.3} \
         speedup={:.2} identical={same}",
        one / all
    );
    Ok(())
}

/// 10,000 seeds of two-phase commit (coordinator + 2 participants, 2
/// clients of 10 transactions), each with its own random outages,
/// partition, lossy window and, in half the runs, a crash at a crash point;
/// atomicity checked after every event; all cores.
fn mode_explore(args: &[String]) -> BoxResult<()> {
    use thinkdist::check::{Explore, FaultSpace, Trial};
    use thinkdist::txn::two_phase::TwoPhase;
    let seeds: usize = arg(args, "seeds", 10_000);
    let mut space = FaultSpace::new(3, ms(1000))?;
    space.crash_points = Some((300, ms(30)));
    let p = TwoPhase::default();
    let t = Instant::now();
    let found = Explore::new(seeds)
        .progress(false)
        .run(&space, |t: &Trial| p.trial(t, 2, 10, ms(50), ms(1500)))?;
    let secs = t.elapsed().as_secs_f64();
    println!(
        "explore protocol=two-phase-commit nodes=3 seeds={seeds} failed={} seconds={secs:.2} seeds_per_s={:.0}",
        found.failed(),
        seeds as f64 / secs
    );
    Ok(())
}

/// Every crash point of chapter 5's bank, for each logging scheme.
fn mode_crashpoints(args: &[String]) -> BoxResult<()> {
    use thinkdist::ch05::logging::LoggingParams;
    use thinkdist::txn::logging::Logging;
    let clients: usize = arg(args, "clients", 4);
    let transfers: usize = arg(args, "transfers", 25);
    for logging in Logging::ALL {
        let p = LoggingParams {
            logging,
            clients,
            transfers,
            ..Default::default()
        };
        let t = Instant::now();
        let r = p.every_crash_point()?;
        let secs = t.elapsed().as_secs_f64();
        println!(
            "crashpoints logging={:?} clients={clients} transfers={transfers} points={} recovered={} seconds={secs:.3}",
            logging,
            r.points().len(),
            r.recovered()
        );
    }
    Ok(())
}

fn mode_all() -> BoxResult<()> {
    let mut eps = vec![];
    let mut last = String::new();
    for _ in 0..3 {
        last = engine_in_child(100, 1_000, 1_000_000)?;
        eps.push(field(&last, "events_per_s").ok_or("events_per_s")?);
    }
    let eps = median(&mut eps);
    println!(
        "engine: {:.2} M events/s ({:.1} ns/event, median of 3; peak {} KiB)",
        eps / 1e6,
        1e9 / eps,
        field(&last, "vmhwm_kb").unwrap_or(0.0)
    );
    mode_floor(&[])?;
    mode_scaling(&[])?;
    mode_sweep(&[])?;
    mode_explore(&[])?;
    mode_crashpoints(&[])?;
    mode_process(&[])?;
    durable::mode_durable(&[])?;
    mode_sync(&[])?;
    erased::mode(&[])?;
    isolation::mode(&[])
}

fn main() -> BoxResult<()> {
    // `cargo bench` passes `--bench`; ignore flags.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let rest = args.get(1..).unwrap_or(&[]);
    match args.first().map(String::as_str) {
        Some("engine") | Some("scale") => mode_engine(rest),
        Some("floor") => mode_floor(rest),
        Some("scaling") => mode_scaling(rest),
        Some("sweep") => mode_sweep(rest),
        Some("explore") => mode_explore(rest),
        Some("crashpoints") => mode_crashpoints(rest),
        Some("process") => mode_process(rest),
        Some("durable") => durable::mode_durable(rest),
        Some("isolation") => isolation::mode(rest),
        Some("erased") => erased::mode(rest),
        Some("sync") => mode_sync(rest),
        None => mode_all(),
        Some(other) => Err(format!(
            "unknown mode `{other}`: expected engine, floor, scaling, sweep, explore, crashpoints, \
             process, durable, isolation, erased or sync"
        )
        .into()),
    }
}
