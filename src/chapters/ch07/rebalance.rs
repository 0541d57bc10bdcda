//! A cluster that rebalances while it serves requests.
//!
//! `n` storage nodes hold keys `0..K` placed by consistent hashing; clients
//! read keys chosen uniformly at random, each sending its request to the
//! key's owner as its ring says. At `join_at` node `n` joins: every client
//! and node switches to the new ring at once (an idealised membership
//! service), and the old owners of the keys the newcomer now owns stream
//! them to it over the network, each sender at a bounded `rate` (keys per
//! second: the bandwidth a rebalance may take from serving traffic). The
//! move window lasts until the last key arrives.
//!
//! A request for a key the new owner does not have yet is **in flight**.
//! Two choices ([`InFlight`]): *wait* (park the request until the key
//! arrives: available, but slow, and a client whose timeout passes first
//! gives up) or *fail* (answer "not here yet" at once: fast, but
//! unavailable). A request that reaches a node that no longer owns its key
//! (sent on the old ring, arriving after the key left) is forwarded to the
//! owner.
//!
//! Theory for *fail*: a uniformly chosen key is unavailable while it is in
//! flight, so the failed fraction at time `t` is the number of keys still
//! to arrive over `K`: each sender `i` with `m_i` keys has
//! `max(0, m_i − rate·(t − join_at))` left ([`RebalanceRun::in_flight_theory`]).

use super::seeds_from;
use crate::error::{Error, Result};
use crate::measure::stats::{mean_ci, MeanCi};
use crate::partition::{ConsistentHash, NodeName, Partitioner};
use crate::plot::{time_series, Figure, Opts, Series, SeriesStyle, Table, Window};
use crate::sim::client::{Op, OpStatus, Request};
use crate::sim::net::LinkConfig;
use crate::sim::rng::{self, SimRng};
use crate::sim::time::{ms, SimDuration, SimTime};
use crate::sim::{Ctx, Invoke, Latency, Node, NodeId, Sim};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;

/// What the new owner does with a request for a key still in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum InFlight {
    /// Park it until the key arrives.
    Wait,
    /// Answer "not here yet" at once (a failed operation).
    Fail,
}

/// Parameters of one rebalancing run.
#[derive(Debug, Clone, Serialize)]
pub struct RebalanceParams {
    /// Seed (placement, network, clients); replications use `seed, seed + 1, …`.
    pub seed: u64,
    /// Replications for the timeline, >= 2.
    pub seeds: u64,
    /// Nodes before the join (the joiner is node `nodes`), >= 1.
    pub nodes: usize,
    /// Virtual nodes per node.
    pub vnodes: usize,
    /// Keys `0..keys` stored.
    pub keys: usize,
    /// Clients, each reading one key at a time.
    pub clients: usize,
    /// Mean think time between a client's reads (uniform on 0 to twice it).
    pub think: SimDuration,
    /// Client timeout: a read not answered by then is unavailable.
    pub timeout: SimDuration,
    /// Mean one-way network latency (exponential).
    pub latency: SimDuration,
    /// When the new node joins.
    pub join_at: SimDuration,
    /// How long clients send reads.
    pub duration: SimDuration,
    /// Keys per second each old owner sends to the new node (> 0).
    pub rate: f64,
    /// Wait or fail for keys in flight.
    pub in_flight: InFlight,
    /// Width of a time bin of the timeline.
    pub bin: SimDuration,
}

impl Default for RebalanceParams {
    /// 4 nodes + 1 joining at 1 s, 2,000 keys, 20 clients, 100 keys/s per
    /// sender, 300 ms timeout, 4 s of reads, 10 seeds.
    fn default() -> Self {
        RebalanceParams {
            seed: 1,
            seeds: 10,
            nodes: 4,
            vnodes: 50,
            keys: 2_000,
            clients: 20,
            think: ms(10),
            timeout: ms(300),
            latency: ms(1),
            join_at: ms(1_000),
            duration: ms(4_000),
            rate: 100.0,
            in_flight: InFlight::Wait,
            bin: ms(100),
        }
    }
}

impl RebalanceParams {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        crate::measure::stats::check_replications(self.seeds)?;
        crate::error::check_count("nodes", self.nodes, 1, 1_000, "nodes")?;
        crate::error::check_count("vnodes", self.vnodes, 1, 10_000, "virtual nodes")?;
        crate::error::check_count("keys", self.keys, 1, 1_000_000, "keys")?;
        crate::error::check_count("clients", self.clients, 1, 10_000, "clients")?;
        // Every node keeps a flag per key; the ring has nodes × vnodes points.
        crate::error::check_count(
            "(nodes + 1) × keys",
            (self.nodes + 1) * self.keys,
            1,
            crate::error::limits::ITEMS,
            "key flags",
        )?;
        crate::error::check_count(
            "(nodes + 1) × vnodes",
            (self.nodes + 1) * self.vnodes,
            1,
            1_000_000,
            "ring points",
        )?;
        crate::error::check_positive("rate", self.rate)?;
        for (name, d) in [
            ("think", self.think),
            ("timeout", self.timeout),
            ("latency", self.latency),
            ("bin", self.bin),
            ("duration", self.duration),
        ] {
            if d == SimDuration::ZERO || d > crate::sim::time::hours(24) {
                return Err(Error::invalid(
                    name,
                    format!("{} ms", d.as_ms()),
                    "from 1 ns to 24 h",
                ));
            }
        }
        if self.join_at >= self.duration {
            return Err(Error::invalid(
                "join_at",
                format!("{} ms", self.join_at.as_ms()),
                &format!(
                    "a time before the end of the run ({} ms)",
                    self.duration.as_ms()
                ),
            ));
        }
        let bins = self.duration.as_nanos() / self.bin.as_nanos();
        crate::error::check_count("duration / bin", bins as usize, 1, 10_000, "time bins")?;
        Ok(())
    }

    /// Upper bound of the work of all runs, in event units: a read costs
    /// about 20 (request, reply, think timer, timeout, ring lookups and its
    /// history entry, measured) and a key 10 (flags, transfer).
    pub fn work(&self) -> f64 {
        let reads = self.clients as f64 * self.duration.as_secs_f64()
            / (self.think.as_secs_f64() + 2.0 * self.latency.as_secs_f64());
        self.seeds as f64 * 2.0 * (20.0 * reads + 10.0 * self.keys as f64)
    }
}

/// The messages (and requests and replies).
#[derive(Debug, Clone)]
pub enum Msg {
    /// A client reads a key.
    Get(u64),
    /// The reply: the key's value (here, the key itself).
    Value(u64),
    /// The failure reply: the key is in flight.
    Missing(u64),
    /// An old owner hands a key to the new node.
    Transfer(u64),
    /// A request passed on to the key's owner.
    Forward(Request, u64),
}

/// Timers.
#[derive(Debug, Clone)]
pub enum Timer {
    /// The new node joins now.
    Join,
    /// Send the next key of the outbox.
    SendNext,
}

/// A storage node.
#[derive(Debug, Clone)]
pub struct Store {
    old: Arc<ConsistentHash>,
    new: Arc<ConsistentHash>,
    joiner: NodeId,
    join_at: SimDuration,
    gap: SimDuration,
    in_flight: InFlight,
    has: Vec<bool>,
    joined: bool,
    outbox: Vec<u64>,
    waiting: BTreeMap<u64, Vec<Request>>,
    /// Keys received from old owners.
    pub received: usize,
    /// When the last key arrived.
    pub last_arrival: Option<SimTime>,
}

impl Store {
    fn owner(&self, key: u64) -> NodeName {
        if self.joined {
            self.new.node_for(key)
        } else {
            self.old.node_for(key)
        }
    }

    fn serve(&mut self, ctx: &mut Ctx<'_, Self>, req: Request, key: u64, forwarded: bool) {
        let k = key as usize;
        if self.has.get(k).copied().unwrap_or(false) {
            ctx.reply(req, Msg::Value(key));
        } else if self.joined && self.owner(key) == ctx.id() {
            match self.in_flight {
                InFlight::Wait => self.waiting.entry(key).or_default().push(req),
                InFlight::Fail => ctx.reply_failed(req, Msg::Missing(key)),
            }
        } else if !forwarded {
            let to = self.owner(key);
            ctx.send(to, Msg::Forward(req, key));
        } else {
            ctx.reply_failed(req, Msg::Missing(key));
        }
    }
}

impl Node for Store {
    type Msg = Msg;
    type Timer = Timer;
    type Disk = ();

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        ctx.set_timer(self.join_at, Timer::Join);
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: Timer) {
        match timer {
            Timer::Join => {
                self.joined = true;
                let me = ctx.id();
                self.outbox = (0..self.has.len() as u64)
                    .filter(|&k| self.has[k as usize] && self.new.node_for(k) != me)
                    .rev()
                    .collect();
                if !self.outbox.is_empty() {
                    ctx.set_timer(self.gap, Timer::SendNext);
                }
            }
            Timer::SendNext => {
                if let Some(k) = self.outbox.pop() {
                    self.has[k as usize] = false;
                    let to = self.joiner;
                    ctx.send(to, Msg::Transfer(k));
                }
                if !self.outbox.is_empty() {
                    ctx.set_timer(self.gap, Timer::SendNext);
                }
            }
        }
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, req: Request, msg: Msg) {
        if let Msg::Get(k) = msg {
            self.serve(ctx, req, k, false);
        } else {
            ctx.reply_failed(req, msg);
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, _from: NodeId, msg: Msg) {
        match msg {
            Msg::Transfer(k) => {
                if let Some(h) = self.has.get_mut(k as usize) {
                    *h = true;
                }
                self.received += 1;
                self.last_arrival = Some(ctx.now());
                for req in self.waiting.remove(&k).unwrap_or_default() {
                    ctx.reply(req, Msg::Value(k));
                }
            }
            Msg::Forward(req, k) => self.serve(ctx, req, k, true),
            _ => {}
        }
    }
}

/// One run's timeline, binned.
#[derive(Debug, Clone, Serialize)]
pub struct RebalanceRun {
    /// Start of each bin (seconds).
    pub bin_start: Vec<f64>,
    /// Fraction of the reads invoked in each bin that succeeded in time.
    pub availability: Vec<f64>,
    /// Mean latency (ms) of the successful reads invoked in each bin.
    pub mean_latency_ms: Vec<f64>,
    /// Keys moved.
    pub moved: usize,
    /// When the last key arrived (seconds), if any moved.
    pub move_end: Option<f64>,
    /// Keys each old owner had to send.
    pub per_sender: Vec<usize>,
    /// Theory for [`InFlight::Fail`]: keys still in flight / all keys, per bin (averaged over the bin).
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
        .map(|id| Store {
            old: Arc::clone(&old),
            new: Arc::clone(&new),
            joiner: p.nodes,
            join_at: p.join_at,
            gap,
            in_flight: p.in_flight,
            has: (0..p.keys as u64)
                .map(|k| id < p.nodes && old.node_for(k) == id)
                .collect(),
            joined: false,
            outbox: Vec::new(),
            waiting: BTreeMap::new(),
            received: 0,
            last_arrival: None,
        })
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
    for op in sim.history().ops() {
        let b = (op.invoked.as_nanos() / p.bin.as_nanos()) as usize;
        if b >= bins {
            continue;
        }
        all[b] += 1;
        if op.status == OpStatus::Ok {
            if let Some(c) = op.completed {
                ok[b] += 1;
                lat[b] += c.since(op.invoked).as_ms();
            }
        }
    }
    let joiner = sim.node(p.nodes)?;
    let bin_s = p.bin.as_secs_f64();
    let moved: usize = per_sender.iter().sum();
    // Theory: keys in flight at time t, averaged over each bin (10 samples).
    let left = |t: f64| -> f64 {
        let since = t - p.join_at.as_secs_f64();
        if since < 0.0 {
            return 0.0;
        }
        per_sender
            .iter()
            .map(|&m| (m as f64 - (p.rate * since).floor()).max(0.0))
            .sum::<f64>()
            / p.keys as f64
    };
    let theory = (0..bins)
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
        moved,
        move_end: joiner.last_arrival.map(|t| t.as_secs_f64()),
        per_sender,
        in_flight_theory: theory,
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
    let mut theory = Vec::new();
    for b in 0..bins {
        availability.push(col(&|r| r.availability[b])?);
        latency_ms.push(col(&|r| r.mean_latency_ms[b])?);
        theory.push(
            1.0 - runs.iter().map(|r| r.in_flight_theory[b]).sum::<f64>() / runs.len() as f64,
        );
    }
    let join = p.join_at.as_secs_f64();
    Ok(RebalanceTimeline {
        params: p.clone(),
        bin_start: runs[0].bin_start.clone(),
        availability,
        latency_ms,
        availability_theory: theory,
        move_end: col(&|r| r.move_end.unwrap_or(join))?,
        moved: col(&|r| r.moved as f64)?,
    })
}

fn mid(t: &RebalanceTimeline, b: usize) -> f64 {
    t.bin_start[b] + t.params.bin.as_secs_f64() / 2.0
}

fn window(t: &RebalanceTimeline) -> Vec<Window> {
    let s = t.params.join_at.as_secs_f64();
    let e = t.move_end.mean;
    if e > s {
        vec![Window::new(s, e, "keys moving (mean over seeds)")]
    } else {
        Vec::new()
    }
}

fn mode(m: InFlight) -> &'static str {
    match m {
        InFlight::Wait => "in-flight reads wait",
        InFlight::Fail => "in-flight reads fail",
    }
}

/// Availability over time for one or more timelines (e.g. wait and
/// fail), the move window shaded, theory of the fail mode dashed.
pub fn availability_chart(runs: &[&RebalanceTimeline]) -> Result<Figure> {
    let Some(first) = runs.first() else {
        return Err(Error::empty("timelines"));
    };
    let mut series = Vec::new();
    for t in runs {
        series.push(
            Series::new(
                format!(
                    "{} (mean of {} seeds)",
                    mode(t.params.in_flight),
                    t.params.seeds
                ),
                (0..t.bin_start.len())
                    .map(|b| (mid(t, b), t.availability[b].mean))
                    .collect(),
            )
            .with_band(t.availability.iter().map(|m| m.interval()).collect())
            .with_style(SeriesStyle::LinePoints),
        );
    }
    if let Some(f) = runs.iter().find(|t| t.params.in_flight == InFlight::Fail) {
        series.push(Series::new(
            "fail: 1 − keys in flight / keys (theory)",
            (0..f.bin_start.len())
                .map(|b| (mid(f, b), f.availability_theory[b]))
                .collect(),
        ));
    }
    time_series(
        &series,
        &window(first),
        Opts::new(format!(
            "Availability while node {} joins: {} keys/s per sender",
            first.params.nodes, first.params.rate
        ))
        .x_label("time (s)")
        .y_label(format!(
            "reads answered within {} ms",
            first.params.timeout.as_ms()
        )),
    )
}

/// Mean latency of successful reads over time, the move window shaded
/// (95 % bands over seeds, cut at 0).
pub fn latency_chart(runs: &[&RebalanceTimeline]) -> Result<Figure> {
    let Some(first) = runs.first() else {
        return Err(Error::empty("timelines"));
    };
    let series: Vec<Series> = runs
        .iter()
        .map(|t| {
            Series::new(
                format!(
                    "{} (mean of {} seeds)",
                    mode(t.params.in_flight),
                    t.params.seeds
                ),
                (0..t.bin_start.len())
                    .map(|b| (mid(t, b), t.latency_ms[b].mean))
                    .collect(),
            )
            // A latency is never negative: the band is cut at 0.
            .with_band(
                t.latency_ms
                    .iter()
                    .map(|m| (m.interval().0.max(0.0), m.interval().1))
                    .collect(),
            )
            .with_style(SeriesStyle::LinePoints)
        })
        .collect();
    time_series(
        &series,
        &window(first),
        Opts::new(format!(
            "Latency while node {} joins: {} keys/s per sender",
            first.params.nodes, first.params.rate
        ))
        .x_label("time (s)")
        .y_label("mean latency of answered reads (ms)"),
    )
}

/// Summary per timeline: keys moved, move window, availability and latency
/// before and during the move.
pub fn rebalance_table(runs: &[&RebalanceTimeline]) -> Table {
    let mut t = Table::new(&[
        "in-flight reads",
        "keys moved",
        "move window (s)",
        "availability before",
        "availability during",
        "latency before (ms)",
        "latency during (ms)",
    ]);
    for r in runs {
        let join = r.params.join_at.as_secs_f64();
        let end = r.move_end.mean;
        let avg = |xs: &[MeanCi], during: bool| -> f64 {
            let v: Vec<f64> = (0..xs.len())
                .filter(|&b| {
                    let m = mid(r, b);
                    if during {
                        m >= join && m < end
                    } else {
                        m < join
                    }
                })
                .map(|b| xs[b].mean)
                .collect();
            if v.is_empty() {
                f64::NAN
            } else {
                v.iter().sum::<f64>() / v.len() as f64
            }
        };
        t = t.row(vec![
            mode(r.params.in_flight).into(),
            format!("{:.0} ± {:.0}", r.moved.mean, r.moved.half_width),
            format!("{:.2} ± {:.2}", end - join, r.move_end.half_width),
            format!("{:.3}", avg(&r.availability, false)),
            format!("{:.3}", avg(&r.availability, true)),
            format!("{:.1}", avg(&r.latency_ms, false)),
            format!("{:.1}", avg(&r.latency_ms, true)),
        ]);
    }
    t
}
