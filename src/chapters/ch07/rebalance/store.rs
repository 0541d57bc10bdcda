//! The parameters of a rebalancing run and the storage node: it serves
//! reads of the keys it owns, streams the keys a newcomer takes over at a
//! bounded rate, and parks or fails reads of keys still in flight.

use crate::error::{Error, Result};
use crate::partition::{ConsistentHash, NodeName, Partitioner};
use crate::sim::client::Request;
use crate::sim::time::{ms, SimDuration, SimTime};
use crate::sim::{Ctx, Node, NodeId};
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
    /// How late clients learn the new ring: each client switches at
    /// `join_at + u · map_delay`, `u` uniform in [0, 1) per client; until
    /// then it sends requests where the old ring says (stale routing
    /// metadata), and a node that no longer owns the key forwards them.
    /// Zero: every client switches at the join.
    pub map_delay: SimDuration,
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
            map_delay: SimDuration::ZERO,
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
        if self.map_delay > crate::sim::time::hours(24) {
            return Err(Error::invalid(
                "map_delay",
                format!("{} ms", self.map_delay.as_ms()),
                "from 0 to 24 h",
            ));
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
    /// Node `id` of a run of `p` (the joiner is node `p.nodes`): it holds
    /// the keys `old` gives it and sends one key every `gap` once the
    /// newcomer joins.
    pub(super) fn new(
        id: NodeId,
        p: &RebalanceParams,
        old: &Arc<ConsistentHash>,
        new: &Arc<ConsistentHash>,
        gap: SimDuration,
    ) -> Store {
        Store {
            old: Arc::clone(old),
            new: Arc::clone(new),
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
        }
    }

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
