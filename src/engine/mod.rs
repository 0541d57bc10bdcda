//! The discrete-event engine: one queue, virtual time, one seed.
//!
//! [`Sim`] owns the nodes, the network and the event queue. Each step pops the
//! earliest event (ties broken by scheduling order), advances virtual time to
//! it, and hands it to the node it is for through a [`Ctx`]. Nothing runs
//! "concurrently": concurrency is modelled as interleaving of events, so a
//! run is a pure function of its seed and parameters.
//!
//! Build a simulation with [`Sim::builder`], then drive it with
//! [`Sim::run_for`], [`Sim::run_until`] (a predicate), [`Sim::run_events`] or
//! [`Sim::step`]. Every run is bounded: a builder-wide event budget
//! ([`Builder::max_events`]) turns a livelocked experiment into an error
//! instead of a notebook cell that never returns.

pub mod queue;
pub mod rng;
pub mod sweep;
pub mod time;

use crate::error::{Error, ErrorKind, Result};
use crate::fault::{FaultAction, FaultPlan};
use crate::metrics::{Counters, LatencyRecorder, UpDownLog};
use crate::net::{DropReason, LinkConfig, Network, NodeId, Verdict};
use crate::node::{Node, TimerId};
use crate::trace::{Trace, TraceEvent, TraceKind, EXTERNAL};
use queue::EventQueue;
use rng::SimRng;
use std::collections::HashSet;
use time::{SimDuration, SimTime};

/// Settings for a [`Sim`]; every setter has a sensible default.
///
/// Defaults: seed 0; every link 1 ms constant latency, no loss, no
/// duplication; trace capped at 10,000 events; event budget 200 million;
/// exact latency recording.
#[derive(Debug, Clone)]
pub struct Builder {
    seed: u64,
    link: LinkConfig,
    trace_cap: usize,
    max_events: u64,
    streaming_latency: bool,
    faults: FaultPlan,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            seed: 0,
            link: LinkConfig::default(),
            trace_cap: 10_000,
            max_events: 200_000_000,
            streaming_latency: false,
            faults: FaultPlan::new(),
        }
    }
}

impl Builder {
    /// The seed every random stream of the run is derived from.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// The configuration of every link (override single links later with
    /// [`Sim::set_link`]).
    pub fn link(mut self, cfg: LinkConfig) -> Self {
        self.link = cfg;
        self
    }
    /// Keep at most `cap` trace events (0 switches tracing off, which is the
    /// fastest).
    pub fn trace(mut self, cap: usize) -> Self {
        self.trace_cap = cap;
        self
    }
    /// The most events all `run_*` calls of this simulation may process
    /// together; past it they return an error.
    pub fn max_events(mut self, n: u64) -> Self {
        self.max_events = n;
        self
    }
    /// Record latencies into a bounded histogram instead of keeping every
    /// sample (for runs with millions of requests).
    pub fn streaming_latency(mut self, on: bool) -> Self {
        self.streaming_latency = on;
        self
    }
    /// Faults to apply on schedule.
    pub fn faults(mut self, plan: FaultPlan) -> Self {
        self.faults = plan;
        self
    }
    /// Builds the simulation over `nodes` (node `i` gets id `i`).
    pub fn build<N: Node>(self, nodes: Vec<N>) -> Result<Sim<N>> {
        if nodes.is_empty() {
            return Err(Error::invalid("nodes", 0, "at least one node"));
        }
        self.link.validate()?;
        let n = nodes.len();
        self.faults.validate(n)?;
        if self.max_events == 0 {
            return Err(Error::invalid("max_events", 0, "at least 1"));
        }
        if n >= EXTERNAL_SHORT as usize {
            return Err(Error::invalid(
                "nodes",
                n,
                &format!("fewer than {EXTERNAL_SHORT} nodes"),
            ));
        }
        let mut queue = EventQueue::with_capacity(1024);
        for i in 0..n {
            queue.push(SimTime::ZERO, Event::Start(i as u32));
        }
        let plan = self.faults.sorted();
        for (i, (t, _)) in plan.iter().enumerate() {
            queue.push(*t, Event::Fault(i));
        }
        let core = Core {
            now: SimTime::ZERO,
            queue,
            net: Network::new(n, self.link, self.seed),
            rngs: (0..n)
                .map(|i| rng::stream(self.seed, rng::domain::NODE, i as u64, 0))
                .collect(),
            up: vec![true; n],
            timers_from: vec![0; n],
            cancelled: HashSet::new(),
            next_msg: 0,
            next_timer: 0,
            trace: Trace::with_cap(self.trace_cap),
            latency: if self.streaming_latency {
                LatencyRecorder::streaming()
            } else {
                LatencyRecorder::exact()
            },
            counters: Counters::default(),
            updown: UpDownLog::new(n, SimTime::ZERO)?,
            stop: false,
        };
        Ok(Sim {
            nodes,
            core,
            plan,
            seed: self.seed,
            events: 0,
            max_events: self.max_events,
            stats: Stats::default(),
        })
    }
}

/// What the queue holds. Node ids are stored as `u32` (see [`wide`]) so
/// that an event with a small message fits in 24 bytes and a queue entry in
/// 32: every event is moved a few times inside the queue, so its size is
/// a large part of the cost per event.
enum Event<M> {
    Start(u32),
    Deliver { from: u32, to: u32, id: u64, msg: M },
    Timer { node: u32, id: u64, tag: u64 },
    Fault(usize),
}

/// [`EXTERNAL`] as stored in an [`Event`]. `Builder::build` rejects
/// clusters with this many nodes or more, so every node id fits in a `u32`
/// below it and is stored with a plain cast.
const EXTERNAL_SHORT: u32 = u32::MAX;

/// A sender id as stored in an [`Event`], back as a [`NodeId`].
#[inline(always)]
fn wide(id: u32) -> NodeId {
    if id == EXTERNAL_SHORT {
        EXTERNAL
    } else {
        id as NodeId
    }
}

/// Everything a node's handler may touch, apart from the nodes themselves.
struct Core<N: Node> {
    now: SimTime,
    queue: EventQueue<Event<N::Msg>>,
    net: Network,
    rngs: Vec<SimRng>,
    up: Vec<bool>,
    /// Per node, the first timer id set since its last crash: timers with
    /// smaller ids were set before the crash and are discarded. Timer ids
    /// only grow, so this is all a timer needs to know, and timer events
    /// stay small.
    timers_from: Vec<u64>,
    cancelled: HashSet<u64>,
    next_msg: u64,
    next_timer: u64,
    trace: Trace,
    latency: LatencyRecorder,
    counters: Counters,
    updown: UpDownLog,
    stop: bool,
}

/// Counts of what the network did in a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    /// Messages sent by nodes or injected.
    pub sent: u64,
    /// Messages handed to a node (duplicates counted twice).
    pub delivered: u64,
    /// Lost by the link's loss probability.
    pub lost: u64,
    /// Dropped by a partition.
    pub partitioned: u64,
    /// Dropped because the receiver was down.
    pub to_down_node: u64,
    /// Extra copies the network created.
    pub duplicated: u64,
    /// Timers that fired.
    pub timers: u64,
}

/// A node's window onto the simulation while one of its handlers runs.
pub struct Ctx<'a, N: Node> {
    me: NodeId,
    core: &'a mut Core<N>,
    stats: &'a mut Stats,
}

impl<N: Node> Ctx<'_, N> {
    /// The current virtual time.
    #[inline]
    pub fn now(&self) -> SimTime {
        self.core.now
    }
    /// This node's id.
    #[inline]
    pub fn id(&self) -> NodeId {
        self.me
    }
    /// How many nodes the simulation has.
    #[inline]
    pub fn cluster_size(&self) -> usize {
        self.core.up.len()
    }
    /// This node's own random stream.
    #[inline]
    pub fn rng(&mut self) -> &mut SimRng {
        &mut self.core.rngs[self.me]
    }
    /// Sends `msg` to `to` over the network. Sending to a node id that does
    /// not exist drops the message and counts it under "send to unknown node".
    #[inline]
    pub fn send(&mut self, to: NodeId, msg: N::Msg) {
        if to >= self.core.up.len() {
            self.core.counters.incr("send to unknown node");
            return;
        }
        send(self.core, self.stats, self.me, to, msg);
    }
    /// Sets a timer that fires after `after` with `tag`; returns its id.
    #[inline]
    pub fn set_timer(&mut self, after: SimDuration, tag: u64) -> TimerId {
        let id = self.core.next_timer;
        self.core.next_timer += 1;
        let at = self.core.now + after;
        self.core.queue.push(
            at,
            Event::Timer {
                node: self.me as u32,
                id,
                tag,
            },
        );
        TimerId(id)
    }
    /// Cancels a timer; cancelling one that already fired does nothing.
    pub fn cancel_timer(&mut self, timer: TimerId) {
        self.core.cancelled.insert(timer.0);
    }
    /// Records a request latency into the run's latency recorder.
    #[inline]
    pub fn record_latency(&mut self, d: SimDuration) {
        self.core.latency.record(d);
    }
    /// Adds one to the named counter of the run.
    #[inline]
    pub fn count(&mut self, name: &str) {
        self.core.counters.incr(name);
    }
    /// Writes a note into the trace (shown on message diagrams).
    pub fn note(&mut self, text: impl Into<String>) {
        let (now, me) = (self.core.now, self.me);
        if self.core.trace.wants() {
            self.core.trace.push(TraceEvent {
                time: now,
                kind: TraceKind::Note,
                node: me,
                peer: None,
                msg: 0,
                label: text.into(),
            });
        }
    }
    /// Asks the simulation to stop after this event (`run_*` returns Ok).
    pub fn stop(&mut self) {
        self.core.stop = true;
    }
    /// True if node `id` is up (an oracle: real nodes cannot know this; use it
    /// for measurement, not for protocol decisions).
    pub fn oracle_is_up(&self, id: NodeId) -> bool {
        self.core.up.get(id).copied().unwrap_or(false)
    }
}

#[inline]
/// `from` and `to` are node ids (not [`EXTERNAL`]).
fn send<N: Node>(core: &mut Core<N>, stats: &mut Stats, from: NodeId, to: NodeId, msg: N::Msg) {
    let id = core.next_msg;
    core.next_msg += 1;
    stats.sent += 1;
    let now = core.now;
    if core.trace.wants() {
        core.trace.push(TraceEvent {
            time: now,
            kind: TraceKind::Send,
            node: from,
            peer: Some(to),
            msg: id,
            label: N::label(&msg),
        });
    } else {
        core.trace.count_overflow();
    }
    match core.net.decide(from, to, now) {
        Verdict::Dropped(reason) => {
            match reason {
                DropReason::Loss => stats.lost += 1,
                DropReason::Partition => stats.partitioned += 1,
                DropReason::NodeDown => stats.to_down_node += 1,
            }
            if core.trace.wants() {
                core.trace.push(TraceEvent {
                    time: now,
                    kind: TraceKind::Drop(reason),
                    node: to,
                    peer: Some(from),
                    msg: id,
                    label: N::label(&msg),
                });
            }
        }
        Verdict::Deliver(d1, d2) => {
            if let Some(d2) = d2 {
                stats.duplicated += 1;
                if core.trace.wants() {
                    core.trace.push(TraceEvent {
                        time: now,
                        kind: TraceKind::Duplicate,
                        node: to,
                        peer: Some(from),
                        msg: id,
                        label: N::label(&msg),
                    });
                }
                core.queue.push(
                    now + d2,
                    Event::Deliver {
                        from: from as u32,
                        to: to as u32,
                        id,
                        msg: msg.clone(),
                    },
                );
            }
            core.queue.push(
                now + d1,
                Event::Deliver {
                    from: from as u32,
                    to: to as u32,
                    id,
                    msg,
                },
            );
        }
    }
}

/// A running simulation over nodes of type `N`.
pub struct Sim<N: Node> {
    nodes: Vec<N>,
    core: Core<N>,
    plan: Vec<(SimTime, FaultAction)>,
    seed: u64,
    events: u64,
    max_events: u64,
    stats: Stats,
}

impl Sim<NoNode> {
    /// Starts configuring a simulation.
    pub fn builder() -> Builder {
        Builder::default()
    }
}

/// Placeholder node type so `Sim::builder()` can be called without naming
/// the node type; never instantiated.
#[doc(hidden)]
pub struct NoNode;
impl Node for NoNode {
    type Msg = ();
    fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: ()) {}
    fn on_crash(&mut self) {}
}

macro_rules! ctx {
    ($self:ident, $i:expr) => {
        Ctx {
            me: $i,
            core: &mut $self.core,
            stats: &mut $self.stats,
        }
    };
}

impl<N: Node> Sim<N> {
    /// The current virtual time.
    pub fn now(&self) -> SimTime {
        self.core.now
    }
    /// The seed this run was built with.
    pub fn seed(&self) -> u64 {
        self.seed
    }
    /// Events processed so far.
    pub fn events_processed(&self) -> u64 {
        self.events
    }
    /// Events still in the queue.
    pub fn pending(&self) -> usize {
        self.core.queue.len()
    }
    /// The time of the next event, if any.
    pub fn peek(&self) -> Option<SimTime> {
        self.core.queue.peek_time()
    }
    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }
    /// Always false: a simulation has at least one node.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }
    /// Node `id`, or an error naming the cluster size.
    pub fn node(&self, id: NodeId) -> Result<&N> {
        let n = self.nodes.len();
        self.nodes
            .get(id)
            .ok_or_else(|| Error::invalid("node id", id, &format!("an id in 0..{n}")))
    }
    /// All nodes, by id.
    pub fn nodes(&self) -> &[N] {
        &self.nodes
    }
    /// Mutable access to node `id` (for experiment set-up between runs).
    pub fn node_mut(&mut self, id: NodeId) -> Result<&mut N> {
        let n = self.nodes.len();
        self.nodes
            .get_mut(id)
            .ok_or_else(|| Error::invalid("node id", id, &format!("an id in 0..{n}")))
    }
    /// True if node `id` is up.
    pub fn is_up(&self, id: NodeId) -> bool {
        self.core.up.get(id).copied().unwrap_or(false)
    }
    /// The trace recorded so far.
    pub fn trace(&self) -> &Trace {
        &self.core.trace
    }
    /// Request latencies recorded by nodes through `Ctx::record_latency`.
    pub fn latency(&self) -> &LatencyRecorder {
        &self.core.latency
    }
    /// Named counters incremented by nodes through `Ctx::count`.
    pub fn counters(&self) -> &Counters {
        &self.core.counters
    }
    /// Network counts: sent, delivered, lost, duplicated, ...
    pub fn stats(&self) -> Stats {
        self.stats
    }
    /// Per-node up/down history so far.
    pub fn updown(&self) -> &UpDownLog {
        &self.core.updown
    }
    /// The network (link configurations, partitions).
    pub fn network(&self) -> &Network {
        &self.core.net
    }
    /// A random stream for experiment code outside the nodes, named by
    /// `index` and derived from the run's seed.
    pub fn experiment_rng(&self, index: u64) -> SimRng {
        rng::stream(self.seed, rng::domain::EXPERIMENT, index, 0)
    }

    fn check_node(&self, what: &str, id: NodeId) -> Result<()> {
        crate::error::check_node(what, id, self.nodes.len())
    }

    /// Delivers `msg` to node `to` after `after`, from outside the cluster
    /// (sender [`EXTERNAL`]); it travels over `to`'s default link rules.
    pub fn inject(&mut self, to: NodeId, msg: N::Msg, after: SimDuration) -> Result<()> {
        self.check_node("inject to", to)?;
        let id = self.core.next_msg;
        self.core.next_msg += 1;
        self.stats.sent += 1;
        let at = self.core.now + after;
        self.core.queue.push(
            at,
            Event::Deliver {
                from: EXTERNAL_SHORT,
                to: to as u32,
                id,
                msg,
            },
        );
        Ok(())
    }

    /// Crashes node `id` now (volatile state lost, timers discarded).
    pub fn crash(&mut self, id: NodeId) -> Result<()> {
        self.check_node("crash node", id)?;
        self.do_crash(id);
        Ok(())
    }
    /// Recovers node `id` now.
    pub fn recover(&mut self, id: NodeId) -> Result<()> {
        self.check_node("recover node", id)?;
        self.do_recover(id);
        Ok(())
    }
    /// Crash and immediately restart node `id` (turmoil's "bounce").
    pub fn bounce(&mut self, id: NodeId) -> Result<()> {
        self.crash(id)?;
        self.recover(id)
    }
    /// Partitions the cluster into groups (both directions blocked).
    pub fn partition(&mut self, groups: &[Vec<NodeId>]) -> Result<()> {
        self.core.net.partition(groups)
    }
    /// Blocks messages from `from` to `to` only.
    pub fn partition_oneway(&mut self, from: &[NodeId], to: &[NodeId]) -> Result<()> {
        self.core.net.partition_oneway(from, to)
    }
    /// Removes every partition.
    pub fn heal(&mut self) {
        self.core.net.heal();
    }
    /// Gives one directed link its own configuration.
    pub fn set_link(&mut self, from: NodeId, to: NodeId, cfg: LinkConfig) -> Result<()> {
        self.core.net.set_link(from, to, cfg)
    }
    /// Changes the configuration of every link without its own.
    pub fn set_default_link(&mut self, cfg: LinkConfig) -> Result<()> {
        self.core.net.set_default(cfg)
    }

    fn do_crash(&mut self, id: NodeId) {
        if !self.core.up[id] {
            return;
        }
        self.core.up[id] = false;
        self.core.timers_from[id] = self.core.next_timer;
        let now = self.core.now;
        let _ = self.core.updown.set_down(id, now);
        self.nodes[id].on_crash();
        self.trace_plain(TraceKind::Crash, id, "crash");
    }

    fn do_recover(&mut self, id: NodeId) {
        if self.core.up[id] {
            return;
        }
        self.core.up[id] = true;
        let now = self.core.now;
        let _ = self.core.updown.set_up(id, now);
        self.trace_plain(TraceKind::Recover, id, "recover");
        let mut ctx = ctx!(self, id);
        self.nodes[id].on_recover(&mut ctx);
    }

    fn trace_plain(&mut self, kind: TraceKind, node: NodeId, label: &str) {
        if self.core.trace.wants() {
            self.core.trace.push(TraceEvent {
                time: self.core.now,
                kind,
                node,
                peer: None,
                msg: 0,
                label: label.to_string(),
            });
        }
    }

    fn apply_fault(&mut self, i: usize) -> Result<()> {
        let action = self.plan[i].1.clone();
        match action {
            FaultAction::Crash(n) => self.do_crash(n),
            FaultAction::Recover(n) => self.do_recover(n),
            FaultAction::Partition(g) => self.core.net.partition(&g)?,
            FaultAction::PartitionOneWay(a, b) => self.core.net.partition_oneway(&a, &b)?,
            FaultAction::Heal => self.core.net.heal(),
            FaultAction::SetLink(a, b, c) => self.core.net.set_link(a, b, c)?,
            FaultAction::SetDefaultLink(c) => self.core.net.set_default(c)?,
        }
        Ok(())
    }

    /// Processes the next event; returns its time, or `None` if the queue
    /// is empty. Counts against the event budget.
    pub fn step(&mut self) -> Result<Option<SimTime>> {
        if self.events >= self.max_events {
            return Err(Error::new(
                ErrorKind::BudgetExhausted,
                format!(
                    "the run processed its budget of {} events (at {}); raise it with \
                     Builder::max_events or shorten the run",
                    self.max_events, self.core.now
                ),
            ));
        }
        let Some((t, ev)) = self.core.queue.pop() else {
            return Ok(None);
        };
        self.events += 1;
        self.core.now = t;
        match ev {
            Event::Deliver { from, to, id, msg } => self.deliver(from, to as usize, id, msg),
            Event::Timer { node, id, tag } => {
                let node = node as usize;
                if self.core.up[node]
                    && id >= self.core.timers_from[node]
                    && (self.core.cancelled.is_empty() || !self.core.cancelled.remove(&id))
                {
                    self.stats.timers += 1;
                    if self.core.trace.wants() {
                        self.core.trace.push(TraceEvent {
                            time: t,
                            kind: TraceKind::Timer,
                            node,
                            peer: None,
                            msg: id,
                            label: N::timer_label(tag),
                        });
                    }
                    let mut ctx = ctx!(self, node);
                    self.nodes[node].on_timer(&mut ctx, TimerId(id), tag);
                }
            }
            Event::Start(i) => {
                let i = i as usize;
                if self.core.up[i] {
                    let mut ctx = ctx!(self, i);
                    self.nodes[i].on_start(&mut ctx);
                }
            }
            Event::Fault(i) => self.apply_fault(i)?,
        }
        Ok(Some(t))
    }

    #[inline]
    fn deliver(&mut self, from: u32, to: NodeId, id: u64, msg: N::Msg) {
        let reason = if !self.core.up[to] {
            Some(DropReason::NodeDown)
        } else if from != EXTERNAL_SHORT && self.core.net.is_blocked(from as NodeId, to) {
            Some(DropReason::Partition)
        } else {
            None
        };
        let from = wide(from);
        if let Some(reason) = reason {
            match reason {
                DropReason::NodeDown => self.stats.to_down_node += 1,
                _ => self.stats.partitioned += 1,
            }
            if self.core.trace.wants() {
                self.core.trace.push(TraceEvent {
                    time: self.core.now,
                    kind: TraceKind::Drop(reason),
                    node: to,
                    peer: Some(from),
                    msg: id,
                    label: N::label(&msg),
                });
            }
            return;
        }
        self.stats.delivered += 1;
        if self.core.trace.wants() {
            self.core.trace.push(TraceEvent {
                time: self.core.now,
                kind: TraceKind::Deliver,
                node: to,
                peer: Some(from),
                msg: id,
                label: N::label(&msg),
            });
        }
        let mut ctx = ctx!(self, to);
        self.nodes[to].on_message(&mut ctx, from, msg);
    }

    /// Runs until virtual time reaches `now + d` (events at exactly that time
    /// included), then sets the clock to it.
    pub fn run_for(&mut self, d: SimDuration) -> Result<&mut Self> {
        let end = self.core.now + d;
        self.run_until_time(end)
    }

    /// Runs every event up to and including time `end`, then sets the clock
    /// to `end` (if it is later than now).
    pub fn run_until_time(&mut self, end: SimTime) -> Result<&mut Self> {
        self.core.stop = false;
        while let Some(t) = self.core.queue.peek_time() {
            if t > end || self.core.stop {
                break;
            }
            self.step()?;
        }
        if end > self.core.now && !self.core.stop {
            self.core.now = end;
        }
        Ok(self)
    }

    /// Processes at most `n` more events (fewer if the queue empties).
    pub fn run_events(&mut self, n: u64) -> Result<&mut Self> {
        self.core.stop = false;
        for _ in 0..n {
            if self.core.stop || self.step()?.is_none() {
                break;
            }
        }
        Ok(self)
    }

    /// Runs until `done(self)` holds (checked after every event), the queue
    /// empties, or virtual time passes `deadline`; returns whether `done`
    /// held. The deadline keeps a predicate that never becomes true from
    /// running forever.
    pub fn run_until(
        &mut self,
        deadline: SimDuration,
        mut done: impl FnMut(&Self) -> bool,
    ) -> Result<bool> {
        let end = self.core.now + deadline;
        self.core.stop = false;
        loop {
            if done(self) {
                return Ok(true);
            }
            match self.core.queue.peek_time() {
                Some(t) if t <= end && !self.core.stop => {
                    self.step()?;
                }
                _ => return Ok(false),
            }
        }
    }

    /// Runs until the queue is empty or a node calls `Ctx::stop`.
    pub fn run_to_end(&mut self) -> Result<&mut Self> {
        self.core.stop = false;
        while !self.core.stop && self.step()?.is_some() {}
        Ok(self)
    }

    /// Gives a mutable context for node `id`, to call a node's method from
    /// experiment code as if one of its handlers ran now (for example a
    /// client issuing a request).
    pub fn with_node<R>(
        &mut self,
        id: NodeId,
        f: impl FnOnce(&mut N, &mut Ctx<'_, N>) -> R,
    ) -> Result<R> {
        self.check_node("node id", id)?;
        let mut ctx = ctx!(self, id);
        Ok(f(&mut self.nodes[id], &mut ctx))
    }

    /// Consumes the simulation, returning its nodes.
    pub fn into_nodes(self) -> Vec<N> {
        self.nodes
    }
}

#[cfg(test)]
mod tests {
    use super::Event;

    /// An event with a message of up to 4 bytes is 24 bytes, so a queue
    /// entry (time and event) is 32: two per cache line.
    #[test]
    fn events_stay_small() {
        assert_eq!(std::mem::size_of::<Event<u32>>(), 24);
        assert_eq!(std::mem::size_of::<Event<()>>(), 24);
    }
}
