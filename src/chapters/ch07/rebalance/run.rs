//! One rebalancing run, binned in time, and the timeline averaged over
//! seeds.

use super::super::seeds_from;
use super::store::{Msg, RebalanceParams, Store};
use crate::error::Result;
use crate::measure::stats::{mean_ci, MeanCi};
use crate::measure::theory;
use crate::partition::{ConsistentHash, NodeName, Partitioner};
use crate::sim::client::{Op, OpStatus};
use crate::sim::net::LinkConfig;
use crate::sim::rng::{self, SimRng};
use crate::sim::time::{ms, SimDuration, SimTime};
use crate::sim::{Invoke, Latency, Sim};
use serde::Serialize;
use std::sync::Arc;

/// One run's timeline, binned.
#[derive(Debug, Clone, Serialize)]
pub struct RebalanceRun {
    /// Start of each bin (seconds).
    pub bin_start: Vec<f64>,
    /// Fraction of the reads invoked in each bin that succeeded in time.
    pub availability: Vec<f64>,
    /// Mean latency (ms) of the successful reads invoked in each bin.
    pub mean_latency_ms: Vec<f64>,
    /// Latency (ms) of every successful read, by the bin it was invoked in.
    pub latencies_ms: Vec<Vec<f64>>,
    /// Keys moved.
    pub moved: usize,
    /// When the last key arrived (seconds), if any moved.
    pub move_end: Option<f64>,
    /// Keys each old owner had to send.
    pub per_sender: Vec<usize>,
    /// Theory for [`InFlight::Fail`](super::InFlight::Fail): keys still in flight / all keys, per bin (averaged over the bin).
    pub in_flight_theory: Vec<f64>,
}

/// Runs one seed.
pub fn run_once(p: &RebalanceParams, seed: u64) -> Result<RebalanceRun> {
    p.validate()?;
    // One run of the two that `work` counts per seed.
    crate::error::check_work(
        "clients × duration / think, keys",
        p.work() / (2.0 * p.seeds as f64),
    )?;
    let names: Vec<NodeName> = (0..p.nodes).collect();
    let old = ConsistentHash::new(&names, p.vnodes, seed)?;
    let mut new = old.clone();
    new.add_node(p.nodes)?;
    let (old, new) = (Arc::new(old), Arc::new(new));
    let gap = SimDuration::from_secs_f64(1.0 / p.rate)?;
    let nodes: Vec<Store> = (0..=p.nodes)
        .map(|id| Store::new(id, p, &old, &new, gap))
        .collect();
    let mut per_sender = vec![0usize; p.nodes];
    for k in 0..p.keys as u64 {
        if new.node_for(k) == p.nodes {
            per_sender[old.node_for(k)] += 1;
        }
    }
    let mut sim = Sim::builder()
        .seed(seed)
        .link(LinkConfig::new(Latency::exponential(p.latency)?))
        .build(nodes)?;
    let (keys, think, timeout, join_at, end) = (p.keys, p.think, p.timeout, p.join_at, p.duration);
    let (o, n) = (old.clone(), new.clone());
    sim.set_workload(
        p.clients,
        move |_c: usize, now: SimTime, r: &mut SimRng, _last: Option<&Op<Msg>>| {
            let wait =
                SimDuration::from_secs_f64(2.0 * think.as_secs_f64() * rng::unit_f64(r)).ok()?;
            let at = now.as_nanos().saturating_add(wait.as_nanos());
            if at >= end.as_nanos() {
                return None;
            }
            let key = ((rng::unit_f64(r) * keys as f64) as u64).min(keys as u64 - 1);
            let ring = if at >= join_at.as_nanos() { &n } else { &o };
            Some(
                Invoke::new(ring.node_for(key), Msg::Get(key))
                    .after(wait)
                    .timeout(timeout),
            )
        },
    )?;
    sim.run_for(p.duration + p.timeout + ms(100))?;

    let bins = (p.duration.as_nanos() / p.bin.as_nanos()) as usize;
    let (mut ok, mut all, mut lat) = (vec![0usize; bins], vec![0usize; bins], vec![0.0; bins]);
    let mut each: Vec<Vec<f64>> = vec![Vec::new(); bins];
    for op in sim.history().ops() {
        let b = (op.invoked.as_nanos() / p.bin.as_nanos()) as usize;
        if b >= bins {
            continue;
        }
        all[b] += 1;
        if op.status == OpStatus::Ok {
            if let Some(c) = op.completed {
                ok[b] += 1;
                let l = c.since(op.invoked).as_ms();
                lat[b] += l;
                each[b].push(l);
            }
        }
    }
    let joiner = sim.node(p.nodes)?;
    let bin_s = p.bin.as_secs_f64();
    let moved: usize = per_sender.iter().sum();
    // Theory: keys in flight at time t, averaged over each bin (10 samples).
    let left = |t: f64| -> f64 {
        theory::keys_in_flight(&per_sender, p.rate, t - p.join_at.as_secs_f64()) / p.keys as f64
    };
    let in_flight = (0..bins)
        .map(|b| {
            (0..10)
                .map(|i| left((b as f64 + (i as f64 + 0.5) / 10.0) * bin_s))
                .sum::<f64>()
                / 10.0
        })
        .collect();
    Ok(RebalanceRun {
        bin_start: (0..bins).map(|b| b as f64 * bin_s).collect(),
        availability: (0..bins)
            .map(|b| {
                if all[b] == 0 {
                    1.0
                } else {
                    ok[b] as f64 / all[b] as f64
                }
            })
            .collect(),
        mean_latency_ms: (0..bins)
            .map(|b| {
                if ok[b] == 0 {
                    0.0
                } else {
                    lat[b] / ok[b] as f64
                }
            })
            .collect(),
        latencies_ms: each,
        moved,
        move_end: joiner.last_arrival.map(|t| t.as_secs_f64()),
        per_sender,
        in_flight_theory: in_flight,
    })
}

/// The timeline over seeds.
#[derive(Debug, Clone, Serialize)]
pub struct RebalanceTimeline {
    /// The parameters.
    pub params: RebalanceParams,
    /// Bin starts (seconds).
    pub bin_start: Vec<f64>,
    /// Availability per bin, over seeds.
    pub availability: Vec<MeanCi>,
    /// Mean latency per bin (ms), over seeds.
    pub latency_ms: Vec<MeanCi>,
    /// p99 latency per bin (ms) of the answered reads of all seeds pooled
    /// (a bin of one seed holds too few reads for a p99 of its own); 0 for
    /// a bin without answered reads.
    pub p99_latency_ms: Vec<f64>,
    /// Theory (fail mode): 1 − keys in flight / keys, averaged over seeds.
    pub availability_theory: Vec<f64>,
    /// When the move ended (seconds), over seeds.
    pub move_end: MeanCi,
    /// Keys moved, over seeds.
    pub moved: MeanCi,
}

/// Runs `seeds` replications and averages each time bin.
pub fn rebalance_timeline(p: &RebalanceParams) -> Result<RebalanceTimeline> {
    p.validate()?;
    crate::error::check_work("seeds × clients × duration / think, keys", p.work())?;
    let runs = seeds_from(p.seed, p.seeds)?
        .into_iter()
        .map(|s| run_once(p, s))
        .collect::<Result<Vec<_>>>()?;
    let bins = runs[0].bin_start.len();
    let col = |f: &dyn Fn(&RebalanceRun) -> f64| -> Result<MeanCi> {
        mean_ci(&runs.iter().map(f).collect::<Vec<_>>())
    };
    let mut availability = Vec::new();
    let mut latency_ms = Vec::new();
    let mut fail_theory = Vec::new();
    let mut p99 = Vec::new();
    for b in 0..bins {
        let mut pooled: Vec<f64> = runs
            .iter()
            .flat_map(|r| r.latencies_ms[b].iter().copied())
            .collect();
        pooled.sort_by(f64::total_cmp);
        // Nearest rank: the smallest value with at least 99 % at or below it.
        p99.push(match pooled.len() {
            0 => 0.0,
            n => pooled[((0.99 * n as f64).ceil() as usize).clamp(1, n) - 1],
        });
        availability.push(col(&|r| r.availability[b])?);
        latency_ms.push(col(&|r| r.mean_latency_ms[b])?);
        fail_theory.push(
            1.0 - runs.iter().map(|r| r.in_flight_theory[b]).sum::<f64>() / runs.len() as f64,
        );
    }
    let join = p.join_at.as_secs_f64();
    Ok(RebalanceTimeline {
        params: p.clone(),
        bin_start: runs[0].bin_start.clone(),
        availability,
        latency_ms,
        p99_latency_ms: p99,
        availability_theory: fail_theory,
        move_end: col(&|r| r.move_end.unwrap_or(join))?,
        moved: col(&|r| r.moved as f64)?,
    })
}
