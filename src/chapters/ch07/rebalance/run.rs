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
    /// Percentage of the reads invoked in each bin sent to a node that no
    /// longer owns the key (a client routing by the old ring).
    pub misrouted_pct: Vec<f64>,
    /// Theory of `misrouted_pct`: moved keys / keys × `stale_reads_pct`.
    pub misrouted_theory_pct: Vec<f64>,
    /// Percentage of the reads invoked in each bin by clients still on the
    /// old ring.
    pub stale_reads_pct: Vec<f64>,
    /// Percentage of the clients still on the old ring, averaged over the bin.
    pub stale_clients_pct: Vec<f64>,
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
    let (keys, think, timeout, end) = (p.keys, p.think, p.timeout, p.duration);
    // When each client switches to the new ring (its own stream, so a
    // zero delay changes nothing else in the run).
    let switch_at: Vec<u64> = (0..p.clients)
        .map(|c| {
            let u = rng::unit_f64(&mut rng::stream(
                seed,
                rng::domain::CLIENT,
                0x5A1E,
                c as u64,
            ));
            p.join_at.as_nanos() + (u * p.map_delay.as_nanos() as f64) as u64
        })
        .collect();
    let (o, n, switch) = (old.clone(), new.clone(), switch_at.clone());
    sim.set_workload(
        p.clients,
        move |c: usize, now: SimTime, r: &mut SimRng, _last: Option<&Op<Msg>>| {
            let wait =
                SimDuration::from_secs_f64(2.0 * think.as_secs_f64() * rng::unit_f64(r)).ok()?;
            let at = now.as_nanos().saturating_add(wait.as_nanos());
            if at >= end.as_nanos() {
                return None;
            }
            let key = ((rng::unit_f64(r) * keys as f64) as u64).min(keys as u64 - 1);
            let ring = if at >= switch[c] { &n } else { &o };
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
    let (mut misrouted, mut stale_reads) = (vec![0usize; bins], vec![0usize; bins]);
    let mut each: Vec<Vec<f64>> = vec![Vec::new(); bins];
    for op in sim.history().ops() {
        let b = (op.invoked.as_nanos() / p.bin.as_nanos()) as usize;
        if b >= bins {
            continue;
        }
        all[b] += 1;
        if let Msg::Get(key) = op.request {
            let owner = if op.invoked >= SimTime::ZERO + p.join_at {
                &new
            } else {
                &old
            };
            misrouted[b] += usize::from(op.node != owner.node_for(key));
            let on_old = op.invoked >= SimTime::ZERO + p.join_at
                && switch_at
                    .get(op.client)
                    .is_some_and(|&s| op.invoked.as_nanos() < s);
            stale_reads[b] += usize::from(on_old);
        }
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
    // A read goes to a former owner if its key moved and its client is
    // still on the old ring: moved / keys × the share of the bin's reads
    // sent by such clients. (Not × the share of such clients: in wait mode
    // a switched client waits for keys in flight while a stale one is
    // served by the old owner, so stale clients send more than their share.)
    let moved_share = moved as f64 / p.keys as f64;
    let pct = |num: &[usize], b: usize| {
        if all[b] == 0 {
            0.0
        } else {
            100.0 * num[b] as f64 / all[b] as f64
        }
    };
    let stale_clients_pct = (0..bins)
        .map(|b| {
            (0..10)
                .map(|i| {
                    let t = ((b as f64 + (i as f64 + 0.5) / 10.0) * bin_s * 1e9) as u64;
                    let on_old = switch_at
                        .iter()
                        .filter(|&&s| t >= p.join_at.as_nanos() && t < s)
                        .count();
                    100.0 * on_old as f64 / p.clients as f64
                })
                .sum::<f64>()
                / 10.0
        })
        .collect();
    Ok(RebalanceRun {
        misrouted_pct: (0..bins).map(|b| pct(&misrouted, b)).collect(),
        misrouted_theory_pct: (0..bins)
            .map(|b| moved_share * pct(&stale_reads, b))
            .collect(),
        stale_reads_pct: (0..bins).map(|b| pct(&stale_reads, b)).collect(),
        stale_clients_pct,
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
    /// Percentage of reads sent to a node that no longer owned the key,
    /// per bin, over seeds.
    pub misrouted_pct: Vec<MeanCi>,
    /// Theory of `misrouted_pct`, averaged over seeds.
    pub misrouted_theory_pct: Vec<f64>,
    /// Reads sent by clients still on the old ring (%), per bin, over seeds.
    pub stale_reads_pct: Vec<MeanCi>,
    /// Clients still on the old ring (%), per bin, over seeds.
    pub stale_clients_pct: Vec<MeanCi>,
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
    let (mut misrouted, mut misrouted_theory) = (Vec::new(), Vec::new());
    let (mut stale_reads, mut stale_clients) = (Vec::new(), Vec::new());
    for b in 0..bins {
        stale_reads.push(col(&|r| r.stale_reads_pct[b])?);
        stale_clients.push(col(&|r| r.stale_clients_pct[b])?);
        misrouted.push(col(&|r| r.misrouted_pct[b])?);
        misrouted_theory
            .push(runs.iter().map(|r| r.misrouted_theory_pct[b]).sum::<f64>() / runs.len() as f64);
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
        misrouted_pct: misrouted,
        misrouted_theory_pct: misrouted_theory,
        stale_reads_pct: stale_reads,
        stale_clients_pct: stale_clients,
        move_end: col(&|r| r.move_end.unwrap_or(join))?,
        moved: col(&|r| r.moved as f64)?,
    })
}
