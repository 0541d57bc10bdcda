//! The discrete-event engine: one queue, virtual time, one seed.
//!
//! [`Sim`] owns the nodes, their disks, the network, the client history and
//! the event queue. Each step pops the earliest event (ties broken by
//! scheduling order), advances virtual time to it, and hands it to the node
//! it is for through a [`Ctx`]. Nothing runs "concurrently": concurrency is
//! modelled as interleaving of events, so a run is a pure function of its
//! seed and parameters.
//!
//! Build a simulation with [`Sim::builder`], then drive it with
//! [`Sim::run_for`], [`Sim::run_until`] (a predicate), [`Sim::run_events`] or
//! [`Sim::step`]. Every run is bounded: a builder-wide event budget
//! ([`Builder::max_events`]) turns a livelocked experiment into an error
//! instead of a notebook cell that never returns.

use super::client::{ClientId, History, Invoke, Op, OpId, OpStatus, Request, Workload};
use super::ctx::Ctx;
use super::disk::Disk;
use super::fault::{FaultAction, FaultPlan};
use super::metrics::{Counters, LatencyRecorder, UpDownLog};
use super::monitor::{Property, PropertyKind, SimEvent, Violation, World};
use super::net::{DropReason, LinkConfig, Network, NodeId, PartitionId, Verdict, EXTERNAL};
use super::node::Node;
use super::points::{CrashPoint, CrashPoints, PointKind, Points};
use super::queue::EventQueue;
use super::rng::{self, SimRng};
use super::time::{SimDuration, SimTime};
use super::timers::{TimerKey, Timers};
use super::trace::{Trace, TraceEvent, TraceKind};
use crate::error::{short_float, Error, ErrorKind, Result};
use std::collections::{BTreeMap, VecDeque};

/// Settings for a [`Sim`]; every setter has a sensible default.
///
/// Defaults: seed 0; every link 1 ms constant latency, no loss, no
/// duplication; trace capped at 10,000 events; event budget 100 million
/// (about 10 to 25 s of one core for the crate's nodes;
/// [`crate::error::limits::EVENTS`]);
/// exact latency recording; no faults; syncs are the crash points, and none
/// is recorded.
#[derive(Debug, Clone)]
pub struct Builder {
    seed: u64,
    link: LinkConfig,
    trace_cap: usize,
    max_events: u64,
    max_pending: Option<usize>,
    streaming_latency: bool,
    faults: FaultPlan,
    crash_points: CrashPoints,
    record_points: bool,
    stop_on_violation: bool,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            seed: 0,
            link: LinkConfig::default(),
            trace_cap: 10_000,
            max_events: 100_000_000,
            max_pending: None,
            streaming_latency: false,
            faults: FaultPlan::new(),
            crash_points: CrashPoints::Syncs,
            record_points: false,
            stop_on_violation: true,
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
    /// The most events that may be pending at once (messages in flight,
    /// timers); past it a run returns an error. The default holds
    /// [`crate::error::limits::PENDING_BYTES`] of events, which only a node
    /// that sends or sets timers faster than they fire reaches.
    pub fn max_pending(mut self, n: usize) -> Self {
        self.max_pending = Some(n);
        self
    }
    /// Record latencies into a bounded histogram instead of keeping every
    /// sample (for runs with millions of requests).
    pub fn streaming_latency(mut self, on: bool) -> Self {
        self.streaming_latency = on;
        self
    }
    /// Faults to apply on schedule (and a crash point to crash at).
    pub fn faults(mut self, plan: FaultPlan) -> Self {
        self.faults = plan;
        self
    }
    /// Which operations are numbered crash points (default: syncs only).
    pub fn crash_points(mut self, which: CrashPoints) -> Self {
        self.crash_points = which;
        self
    }
    /// Keep a record of every crash point reached ([`Sim::crash_points`]);
    /// off by default (it costs a label per point).
    pub fn record_crash_points(mut self, on: bool) -> Self {
        self.record_points = on;
        self
    }
    /// Stop the run at the first violation of a property (the default), or
    /// go on and record each property's first violation
    /// ([`Sim::violations`]).
    pub fn stop_on_violation(mut self, on: bool) -> Self {
        self.stop_on_violation = on;
        self
    }
    /// Builds the simulation over `nodes` (node `i` gets id `i`); each node's
    /// disk starts as `Disk::default()` (see [`Sim::set_disk`]).
    pub fn build<N: Node>(self, nodes: Vec<N>) -> Result<Sim<N>> {
        crate::error::check_count(
            "nodes",
            nodes.len(),
            1,
            crate::error::limits::NODES,
            "nodes",
        )?;
        self.link.validate()?;
        let n = nodes.len();
        self.faults.validate(n)?;
        if self.max_events == 0 {
            return Err(Error::invalid("max_events", 0, "at least 1"));
        }
        // Every trace event is kept (about 100 bytes each, with its label).
        crate::error::check_count("trace", self.trace_cap, 0, 1_000_000, "trace events")?;
        let most_pending =
            crate::error::limits::PENDING_BYTES / (std::mem::size_of::<Ev<N::Msg, N::Timer>>() + 8);
        let max_pending = match self.max_pending {
            Some(0) => return Err(Error::invalid("max_pending", 0, "at least 1")),
            Some(m) if m > most_pending => {
                return Err(Error::too_big(
                    "max_pending",
                    m,
                    "pending events",
                    most_pending,
                ))
            }
            Some(m) => m,
            None => most_pending,
        };
        let mut queue = EventQueue::with_capacity(1024);
        // Faults first: one scheduled at time zero (a node down from the
        // start) happens before the nodes start.
        let plan = self.faults.actions();
        for (i, (t, _)) in plan.iter().enumerate() {
            queue.push(*t, Ev::Fault(i as u32));
        }
        for i in 0..n {
            queue.push(SimTime::ZERO, Ev::Start(i as u32));
        }
        let (crash_at, restart_after) = match self.faults.crash_point() {
            Some((k, r)) => (Some(k), r),
            None => (None, None),
        };
        let sends = self.crash_points == CrashPoints::SyncsAndSends;
        let core = Core {
            now: SimTime::ZERO,
            queue,
            net: Network::new(n, self.link, self.seed),
            rngs: (0..n)
                .map(|i| rng::stream(self.seed, rng::domain::NODE, i as u64, 0))
                .collect(),
            up: vec![true; n],
            timers: Timers::default(),
            disks: (0..n).map(|_| Disk::new(N::Disk::default())).collect(),
            next_msg: 0,
            trace: Trace::with_cap(self.trace_cap),
            latency: if self.streaming_latency {
                LatencyRecorder::streaming()
            } else {
                LatencyRecorder::exact()
            },
            counters: Counters::default(),
            updown: UpDownLog::new(n, SimTime::ZERO)?,
            stats: Stats::default(),
            history: History::default(),
            points: Points {
                crash_at,
                restart_after,
                sends,
                record: self.record_points,
                ..Points::default()
            },
            stop: false,
            dead: false,
            watch_sends: sends,
        };
        Ok(Sim {
            initial: nodes.clone(),
            nodes,
            core,
            plan,
            faults: self.faults,
            partitions: BTreeMap::new(),
            held: BTreeMap::new(),
            workload: None,
            clients: Vec::new(),
            props: Vec::new(),
            violations: Vec::new(),
            stop_on_violation: self.stop_on_violation,
            seed: self.seed,
            events: 0,
            max_events: self.max_events,
            max_pending,
        })
    }
}

/// What the queue holds. Node ids are stored as `u32` so that an event with
/// a small message fits in 24 bytes and a queue entry in 32: every event is
/// moved a few times inside the queue, so its size is a large part of the
/// cost per event.
pub(crate) enum Ev<M, T> {
    Start(u32),
    Deliver {
        from: u32,
        to: u32,
        id: u64,
        msg: M,
    },
    Timer {
        key: TimerKey,
        timer: T,
    },
    Fault(u32),
    /// A node crashed at a crash point restarts.
    Restart(u32),
    /// A client sends operation `op` (its request is in the history).
    Invoke(u64),
    /// A client's request reaches node `to`.
    Request {
        to: u32,
        op: u64,
        msg: M,
    },
    /// A reply reaches the client of operation `op`.
    Reply {
        from: u32,
        failed: bool,
        op: u64,
        msg: M,
    },
    /// The client of operation `op` stops waiting.
    Timeout(u64),
    /// The workload decides client `c`'s next operation.
    ClientNext(u32),
}

/// [`EXTERNAL`] as stored in an [`Ev`]. `Builder::build` rejects clusters
/// of more than [`limits::NODES`](crate::error::limits::NODES) nodes, far
/// below it, so every node id fits in a `u32` and is stored with a plain
/// cast.
const EXTERNAL_SHORT: u32 = u32::MAX;

/// A sender id as stored in an [`Ev`], back as a [`NodeId`].
#[inline(always)]
fn wide(id: u32) -> NodeId {
    if id == EXTERNAL_SHORT {
        EXTERNAL
    } else {
        id as NodeId
    }
}

/// Everything a node's handler may touch, apart from the nodes themselves.
pub(crate) struct Core<N: Node> {
    pub(crate) now: SimTime,
    pub(crate) queue: EventQueue<Ev<N::Msg, N::Timer>>,
    pub(crate) net: Network,
    pub(crate) rngs: Vec<SimRng>,
    pub(crate) up: Vec<bool>,
    pub(crate) timers: Timers,
    pub(crate) disks: Vec<Disk<N::Disk>>,
    pub(crate) next_msg: u64,
    pub(crate) trace: Trace,
    pub(crate) latency: LatencyRecorder,
    pub(crate) counters: Counters,
    pub(crate) updown: UpDownLog,
    pub(crate) stats: Stats,
    pub(crate) history: History<N::Msg>,
    pub(crate) points: Points,
    pub(crate) stop: bool,
    /// The handler now running crashed at a crash point: its remaining
    /// effects are discarded, and the node crashes when it returns.
    pub(crate) dead: bool,
    /// `dead || points.sends`: sends take the slow path.
    pub(crate) watch_sends: bool,
}

impl<N: Node> Core<N> {
    /// Numbers an operation of `node` as a crash point; true if the node
    /// crashes here (the rest of its handler is then discarded).
    pub(crate) fn reach_point(
        &mut self,
        node: NodeId,
        kind: PointKind,
        label: impl FnOnce() -> String,
    ) -> bool {
        if !self.points.reach(node, self.now, kind, label) {
            return false;
        }
        self.dead = true;
        self.watch_sends = true;
        let index = self.points.next - 1;
        let what = self
            .points
            .hit
            .as_ref()
            .map_or_else(String::new, |p| p.label.clone());
        self.trace_event(TraceKind::CrashPoint, node, None, index, || {
            format!("crash at point {index} ({what})")
        });
        true
    }

    #[inline]
    pub(crate) fn trace_event(
        &mut self,
        kind: TraceKind,
        node: NodeId,
        peer: Option<NodeId>,
        msg: u64,
        label: impl FnOnce() -> String,
    ) {
        if self.trace.wants() {
            self.trace.push(TraceEvent {
                time: self.now,
                kind,
                node,
                peer,
                msg,
                label: label(),
            });
        }
    }

    /// Sends `msg` between two nodes (ids already checked).
    #[inline]
    pub(crate) fn send_msg(&mut self, from: NodeId, to: NodeId, msg: N::Msg) {
        let id = self.next_msg;
        self.next_msg += 1;
        self.stats.sent += 1;
        let now = self.now;
        if self.trace.wants() {
            self.trace.push(TraceEvent {
                time: now,
                kind: TraceKind::Send,
                node: from,
                peer: Some(to),
                msg: id,
                label: N::label(&msg),
            });
        } else {
            self.trace.count_overflow();
        }
        match self.net.decide(from, to, now) {
            Verdict::Dropped(reason) => self.dropped_at_send(reason, from, to, id, &msg),
            Verdict::Deliver(d1, d2) => {
                if let Some(d2) = d2 {
                    self.stats.duplicated += 1;
                    self.trace_event(TraceKind::Duplicate, to, Some(from), id, || N::label(&msg));
                    self.queue.push(
                        now + d2,
                        Ev::Deliver {
                            from: from as u32,
                            to: to as u32,
                            id,
                            msg: msg.clone(),
                        },
                    );
                }
                self.queue.push(
                    now + d1,
                    Ev::Deliver {
                        from: from as u32,
                        to: to as u32,
                        id,
                        msg,
                    },
                );
            }
        }
    }

    #[cold]
    fn dropped_at_send(
        &mut self,
        reason: DropReason,
        from: NodeId,
        to: NodeId,
        id: u64,
        msg: &N::Msg,
    ) {
        self.count_drop(reason);
        self.trace_event(TraceKind::Drop(reason), to, Some(from), id, || {
            N::label(msg)
        });
    }

    fn count_drop(&mut self, reason: DropReason) {
        match reason {
            DropReason::Loss => self.stats.lost += 1,
            DropReason::Partition => self.stats.partitioned += 1,
            DropReason::NodeDown => self.stats.to_down_node += 1,
        }
    }

    /// Sends the reply of `req` from node `from` towards its client.
    pub(crate) fn send_reply(&mut self, from: NodeId, req: Request, msg: N::Msg, failed: bool) {
        let op = req.op as u64;
        self.stats.sent += 1;
        self.trace_event(TraceKind::Reply, from, None, op, || {
            let l = N::label(&msg);
            if failed {
                format!("reply failed: {l}")
            } else {
                format!("reply {l}")
            }
        });
        match self.net.decide(from, EXTERNAL, self.now) {
            Verdict::Dropped(reason) => {
                self.count_drop(reason);
                self.trace_event(TraceKind::ClientDrop(reason), from, None, op, || {
                    N::label(&msg)
                });
            }
            Verdict::Deliver(d1, d2) => {
                let ev = |msg| Ev::Reply {
                    from: from as u32,
                    failed,
                    op,
                    msg,
                };
                if let Some(d2) = d2 {
                    self.stats.duplicated += 1;
                    self.queue.push(self.now + d2, ev(msg.clone()));
                }
                self.queue.push(self.now + d1, ev(msg));
            }
        }
    }
}

/// Counts of what the network did in a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    /// Messages sent by nodes, injected, or sent by and to clients.
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
    /// Messages that arrived on a held link and waited for its release.
    pub held: u64,
}

/// Messages waiting on one held link: `(message id, message)` in arrival
/// order.
type Held<M> = VecDeque<(u64, M)>;

/// A running simulation over nodes of type `N`.
pub struct Sim<N: Node> {
    nodes: Vec<N>,
    /// The value each node was built with: its memory after a restart.
    initial: Vec<N>,
    core: Core<N>,
    /// The fault plan's timed actions, in time order.
    plan: Vec<(SimTime, FaultAction)>,
    faults: FaultPlan,
    /// Partitions started by the plan, by the index of their fault.
    partitions: BTreeMap<usize, PartitionId>,
    /// Messages waiting on held links, in arrival order.
    held: BTreeMap<(u32, u32), Held<N::Msg>>,
    workload: Option<Box<dyn Workload<N::Msg>>>,
    /// Per client: its random stream and its last operation.
    clients: Vec<(SimRng, Option<OpId>)>,
    /// Attached properties, and whether each is violated already.
    props: Vec<(Box<dyn Property<N>>, bool)>,
    /// The first violation of each violated property, in the order found.
    violations: Vec<Violation>,
    stop_on_violation: bool,
    seed: u64,
    events: u64,
    max_events: u64,
    /// Most events pending at once ([`crate::error::limits::PENDING_BYTES`]).
    max_pending: usize,
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
#[derive(Clone)]
pub struct NoNode;
impl Node for NoNode {
    type Msg = ();
    type Timer = ();
    type Disk = ();
    fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: ()) {}
}

/// What happened in one event, owned, for the properties (built only when
/// some are attached).
enum Seen<M, T> {
    Start(NodeId),
    Crash(NodeId),
    Recover(NodeId),
    Deliver(NodeId, NodeId, M),
    Drop(NodeId, NodeId, M, DropReason),
    Timer(NodeId, T),
    Request(NodeId, OpId),
    Reply(OpId),
    Timeout(OpId),
    Fault(usize),
}

/// Runs a handler of node `$i` with a fresh context. If the handler reaches
/// the crash point the plan names, the node crashes when the event is over
/// ([`Sim::settle`]), after the properties have seen the event itself.
macro_rules! handle {
    ($self:ident, $i:expr, |$node:ident, $ctx:ident| $body:expr) => {{
        let i: NodeId = $i;
        let mut $ctx = Ctx {
            me: i,
            core: &mut $self.core,
        };
        let $node = &mut $self.nodes[i];
        $body
    }};
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
    /// Node `id`'s memory, or an error naming the cluster size.
    pub fn node(&self, id: NodeId) -> Result<&N> {
        self.check_node("node id", id)?;
        Ok(&self.nodes[id])
    }
    /// All nodes, by id.
    pub fn nodes(&self) -> &[N] {
        &self.nodes
    }
    /// Mutable access to node `id` (for experiment set-up between runs; a
    /// restart still resets the node to the value it was built with).
    pub fn node_mut(&mut self, id: NodeId) -> Result<&mut N> {
        self.check_node("node id", id)?;
        Ok(&mut self.nodes[id])
    }
    /// Node `id`'s disk: its working and synced copies.
    pub fn disk(&self, id: NodeId) -> Result<&Disk<N::Disk>> {
        self.check_node("disk of node", id)?;
        Ok(&self.core.disks[id])
    }
    /// Gives node `id` a disk holding `d`, synced (experiment set-up: say,
    /// the initial balances of a bank's accounts).
    pub fn set_disk(&mut self, id: NodeId, d: N::Disk) -> Result<()> {
        self.check_node("disk of node", id)?;
        self.core.disks[id].install(d);
        Ok(())
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
        self.core.stats
    }
    /// Per-node up/down history so far.
    pub fn updown(&self) -> &UpDownLog {
        &self.core.updown
    }
    /// The network (link configurations, partitions).
    pub fn network(&self) -> &Network {
        &self.core.net
    }
    /// Every client operation so far.
    pub fn history(&self) -> &History<N::Msg> {
        &self.core.history
    }
    /// The fault plan the simulation was built with.
    pub fn faults(&self) -> &FaultPlan {
        &self.faults
    }
    /// Every crash point reached so far, if recording was switched on with
    /// [`Builder::record_crash_points`] (empty otherwise).
    pub fn crash_points(&self) -> &[CrashPoint] {
        &self.core.points.log
    }
    /// How many crash points the run has reached so far.
    pub fn crash_points_reached(&self) -> u64 {
        self.core.points.next
    }
    /// The crash point the plan crashed a node at, once reached.
    pub fn crashed_at_point(&self) -> Option<&CrashPoint> {
        self.core.points.hit.as_ref()
    }
    /// Pending timers (set, not yet fired or cancelled).
    pub fn timers_pending(&self) -> usize {
        self.core.timers.pending()
    }
    /// A random stream for experiment code outside the nodes, named by
    /// `index` and derived from the run's seed.
    pub fn experiment_rng(&self, index: u64) -> SimRng {
        rng::stream(self.seed, rng::domain::EXPERIMENT, index, 0)
    }

    fn check_node(&self, what: &str, id: NodeId) -> Result<()> {
        crate::error::check_node(what, id, self.nodes.len())
    }

    /// Sends `msg` to node `to` from outside the cluster (sender
    /// [`EXTERNAL`]), `after` from now. It crosses the default link like
    /// any message (latency, loss, duplication: it arrives `after` plus a
    /// latency draw later, if at all); partitions separate nodes from
    /// nodes, not from the outside. For an exact arrival time use
    /// [`Sim::inject_exact`].
    pub fn inject(&mut self, to: NodeId, msg: N::Msg, after: SimDuration) -> Result<()> {
        self.check_node("inject to", to)?;
        let id = self.core.next_msg;
        self.core.next_msg += 1;
        self.core.stats.sent += 1;
        let at = self.core.now + after;
        match self.core.net.decide(EXTERNAL, to, at) {
            Verdict::Dropped(reason) => {
                self.core.count_drop(reason);
                self.core
                    .trace_event(TraceKind::Drop(reason), to, Some(EXTERNAL), id, || {
                        N::label(&msg)
                    });
            }
            Verdict::Deliver(d1, d2) => {
                if let Some(d2) = d2 {
                    self.core.stats.duplicated += 1;
                    self.push_external(at + d2, to, id, msg.clone());
                }
                self.push_external(at + d1, to, id, msg);
            }
        }
        Ok(())
    }

    /// Delivers `msg` to node `to` exactly `after` from now, from outside
    /// the cluster: no latency, loss or duplication (a test's or a
    /// workload's own schedule).
    pub fn inject_exact(&mut self, to: NodeId, msg: N::Msg, after: SimDuration) -> Result<()> {
        self.check_node("inject to", to)?;
        let id = self.core.next_msg;
        self.core.next_msg += 1;
        self.core.stats.sent += 1;
        self.push_external(self.core.now + after, to, id, msg);
        Ok(())
    }

    fn push_external(&mut self, at: SimTime, to: NodeId, id: u64, msg: N::Msg) {
        self.core.queue.push(
            at,
            Ev::Deliver {
                from: EXTERNAL_SHORT,
                to: to as u32,
                id,
                msg,
            },
        );
    }

    /// Client `client` invokes an operation: its request is sent to
    /// `inv.node` after `inv.after`, and recorded in the [`History`].
    /// Returns the operation's id.
    pub fn invoke(&mut self, client: ClientId, inv: Invoke<N::Msg>) -> Result<OpId> {
        self.check_node("invoke at node", inv.node)?;
        if client >= crate::error::limits::CLIENTS {
            // Each client id up to the largest gets its own random stream.
            return Err(Error::invalid(
                "client",
                client,
                &format!("a client id below {}", crate::error::limits::CLIENTS),
            ));
        }
        if self.core.history.len() >= crate::error::limits::OPS {
            return Err(Error::too_big(
                "operations invoked",
                self.core.history.len() + 1,
                "client operations (each is kept in the history)",
                crate::error::limits::OPS,
            ));
        }
        let invoked = self.core.now + inv.after;
        let id = self.core.history.len();
        self.core.history.push(Op {
            id,
            client,
            node: inv.node,
            request: inv.msg,
            invoked,
            status: OpStatus::Unknown,
            completed: None,
            reply: None,
            gave_up: None,
            late_reply: None,
        });
        self.client(client).1 = Some(id);
        self.core.queue.push(invoked, Ev::Invoke(id as u64));
        if let Some(t) = inv.timeout {
            self.core.queue.push(invoked + t, Ev::Timeout(id as u64));
        }
        Ok(id)
    }

    /// Lets `workload` drive clients `0..clients`: each is asked for its
    /// first operation now, and for the next one each time one ends.
    /// Replaces an earlier workload.
    pub fn set_workload(
        &mut self,
        clients: usize,
        workload: impl Workload<N::Msg> + 'static,
    ) -> Result<()> {
        if clients == 0 || clients > crate::error::limits::CLIENTS {
            return Err(Error::invalid("clients", clients, "1 to 1,000,000 clients"));
        }
        self.workload = Some(Box::new(workload));
        for c in 0..clients {
            self.core
                .queue
                .push(self.core.now, Ev::ClientNext(c as u32));
        }
        Ok(())
    }

    /// Client `c`'s stream and last operation, created on first use.
    fn client(&mut self, c: ClientId) -> &mut (SimRng, Option<OpId>) {
        while self.clients.len() <= c {
            let k = self.clients.len() as u64;
            self.clients
                .push((rng::stream(self.seed, rng::domain::CLIENT, k, 0), None));
        }
        &mut self.clients[c]
    }

    /// Attaches a property, checked after every event from now on. By
    /// default the first violation stops the run (see
    /// [`Builder::stop_on_violation`] and [`Sim::violation`]).
    pub fn check(&mut self, property: impl Property<N> + 'static) {
        self.props.push((Box::new(property), false));
    }

    /// The names and kinds of the attached properties, in order.
    pub fn properties(&self) -> Vec<(String, PropertyKind)> {
        self.props
            .iter()
            .map(|(p, _)| (p.name(), p.kind()))
            .collect()
    }

    /// The first violation of the run, if any.
    pub fn violation(&self) -> Option<&Violation> {
        self.violations.first()
    }

    /// The first violation of each violated property, in the order found.
    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }

    /// Judges the run: asks every property not yet violated for what it
    /// could only decide at the end (liveness obligations past their
    /// deadline, or never to be met once the queue is empty), and returns
    /// every violation of the run.
    pub fn finish_checks(&mut self) -> &[Violation] {
        let mut props = std::mem::take(&mut self.props);
        for (p, violated) in props.iter_mut() {
            if *violated || (self.stop_on_violation && !self.violations.is_empty()) {
                continue;
            }
            if let Some(reason) = p.at_end(&self.world()) {
                *violated = true;
                self.violations.push(Violation {
                    property: p.name(),
                    kind: p.kind(),
                    time: self.core.now,
                    event_index: 0,
                    event: "the end of the run".into(),
                    node: None,
                    reason,
                });
            }
        }
        self.props = props;
        &self.violations
    }

    fn world(&self) -> World<'_, N> {
        World {
            now: self.core.now,
            nodes: &self.nodes,
            disks: &self.core.disks,
            up: &self.core.up,
            history: &self.core.history,
            counters: &self.core.counters,
            stats: &self.core.stats,
            pending_events: self.core.queue.len(),
        }
    }

    #[cold]
    fn observe(&mut self, seen: Seen<N::Msg, N::Timer>) {
        let Sim {
            nodes,
            core,
            plan,
            props,
            violations,
            events,
            stop_on_violation,
            ..
        } = self;
        let ops = core.history.ops();
        let ev = match &seen {
            Seen::Start(n) => SimEvent::Start { node: *n },
            Seen::Deliver(from, to, msg) => SimEvent::Deliver {
                from: *from,
                to: *to,
                msg,
            },
            Seen::Drop(from, to, msg, reason) => SimEvent::Drop {
                from: *from,
                to: *to,
                msg,
                reason: *reason,
            },
            Seen::Timer(node, timer) => SimEvent::Timer { node: *node, timer },
            Seen::Crash(n) => SimEvent::Crash { node: *n },
            Seen::Recover(n) => SimEvent::Recover { node: *n },
            Seen::Request(node, op) => SimEvent::Request {
                node: *node,
                op: &ops[*op],
            },
            Seen::Reply(op) => SimEvent::Reply { op: &ops[*op] },
            Seen::Timeout(op) => SimEvent::Timeout { op: &ops[*op] },
            Seen::Fault(i) => SimEvent::Fault {
                action: &plan[*i].1,
            },
        };
        let world = World {
            now: core.now,
            nodes,
            disks: &core.disks,
            up: &core.up,
            history: &core.history,
            counters: &core.counters,
            stats: &core.stats,
            pending_events: core.queue.len(),
        };
        let before = violations.len();
        for (p, violated) in props.iter_mut() {
            if *violated {
                continue;
            }
            if let Some(reason) = p.after(&ev, &world) {
                *violated = true;
                violations.push(Violation {
                    property: p.name(),
                    kind: p.kind(),
                    time: core.now,
                    event_index: *events,
                    event: ev.describe(),
                    node: ev.node(),
                    reason,
                });
                if *stop_on_violation {
                    break;
                }
            }
        }
        if *stop_on_violation && violations.len() > before {
            self.core.stop = true;
        }
    }

    #[inline]
    fn watching(&self) -> bool {
        !self.props.is_empty()
    }

    /// Crashes node `id` now: its memory goes back to the value it was
    /// built with, unsynced disk writes are lost, its timers are discarded,
    /// and messages that arrive while it is down are dropped.
    pub fn crash(&mut self, id: NodeId) -> Result<()> {
        self.check_node("crash node", id)?;
        self.do_crash(id);
        Ok(())
    }
    /// Restarts node `id` now (it runs `on_recover` with its synced disk).
    pub fn recover(&mut self, id: NodeId) -> Result<()> {
        self.check_node("recover node", id)?;
        self.do_recover(id);
        self.settle();
        Ok(())
    }
    /// Crash and immediately restart node `id` (turmoil's "bounce").
    pub fn bounce(&mut self, id: NodeId) -> Result<()> {
        self.crash(id)?;
        self.recover(id)
    }
    /// Partitions the cluster into groups (both directions blocked) until
    /// [`Sim::heal`] ends this partition.
    pub fn partition(&mut self, groups: &[Vec<NodeId>]) -> Result<PartitionId> {
        self.core.net.partition(groups)
    }
    /// Blocks messages from `from` to `to` only.
    pub fn partition_oneway(&mut self, from: &[NodeId], to: &[NodeId]) -> Result<PartitionId> {
        self.core.net.partition_oneway(from, to)
    }
    /// Ends one partition (others stay).
    pub fn heal(&mut self, id: PartitionId) -> Result<()> {
        self.core.net.heal(id)
    }
    /// Ends every partition.
    pub fn heal_all(&mut self) {
        self.core.net.heal_all();
        self.partitions.clear();
    }
    /// Holds link `from → to`: messages arriving on it wait, in arrival
    /// order, until [`Sim::release`] (turmoil's `hold`).
    pub fn hold(&mut self, from: NodeId, to: NodeId) -> Result<()> {
        self.core.net.hold(from, to)
    }
    /// Releases link `from → to`: the messages it held are delivered now,
    /// in the order they arrived. Returns how many.
    pub fn release(&mut self, from: NodeId, to: NodeId) -> Result<usize> {
        self.check_node("released link from", from)?;
        self.check_node("released link to", to)?;
        self.core.net.release(from, to);
        let waiting = self
            .held
            .remove(&(from as u32, to as u32))
            .unwrap_or_default();
        let n = waiting.len();
        for (id, msg) in waiting {
            self.core.queue.push(
                self.core.now,
                Ev::Deliver {
                    from: from as u32,
                    to: to as u32,
                    id,
                    msg,
                },
            );
        }
        Ok(n)
    }
    /// Messages waiting on held links.
    pub fn held_messages(&self) -> usize {
        self.held.values().map(VecDeque::len).sum()
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
        self.core.timers.crash(id as u32);
        let now = self.core.now;
        let _ = self.core.updown.set_down(id, now);
        self.nodes[id].clone_from(&self.initial[id]);
        self.core.disks[id].lose_unsynced();
        self.core
            .trace_event(TraceKind::Crash, id, None, 0, || "crash".into());
        if self.watching() {
            self.observe(Seen::Crash(id));
        }
    }

    /// Ends an event: if a handler reached the plan's crash point, its node
    /// crashes now (and restarts later if the plan says so).
    #[inline]
    fn settle(&mut self) {
        if self.core.dead {
            self.crash_at_point();
        }
    }

    #[cold]
    fn crash_at_point(&mut self) {
        self.core.dead = false;
        self.core.watch_sends = self.core.points.sends;
        let Some(id) = self.core.points.hit.as_ref().map(|p| p.node) else {
            return;
        };
        self.do_crash(id);
        if let Some(d) = self.core.points.restart_after {
            self.core
                .queue
                .push(self.core.now + d, Ev::Restart(id as u32));
        }
    }

    fn do_recover(&mut self, id: NodeId) {
        if self.core.up[id] {
            return;
        }
        self.core.up[id] = true;
        let now = self.core.now;
        let _ = self.core.updown.set_up(id, now);
        self.core
            .trace_event(TraceKind::Recover, id, None, 0, || "recover".into());
        handle!(self, id, |node, ctx| node.on_recover(&mut ctx));
        if self.watching() {
            self.observe(Seen::Recover(id));
        }
    }

    fn apply_fault(&mut self, i: usize) -> Result<()> {
        let action = self.plan[i].1.clone();
        match action {
            FaultAction::Crash(n) => self.do_crash(n),
            FaultAction::Recover(n) => self.do_recover(n),
            FaultAction::Partition { fault, groups } => {
                let id = self.core.net.partition(&groups)?;
                self.partitions.insert(fault, id);
            }
            FaultAction::OneWay { fault, src, dst } => {
                let id = self.core.net.partition_oneway(&src, &dst)?;
                self.partitions.insert(fault, id);
            }
            FaultAction::Heal { fault } => {
                // Gone already if a HealAll came first.
                if let Some(id) = self.partitions.remove(&fault) {
                    self.core.net.heal(id)?;
                }
            }
            FaultAction::HealAll => self.heal_all(),
            FaultAction::LossStart { fault, p } => self.core.net.set_lossy(fault, p)?,
            FaultAction::LossEnd { fault } => self.core.net.end_lossy(fault),
            FaultAction::Hold(a, b) => self.core.net.hold(a, b)?,
            FaultAction::Release(a, b) => {
                self.release(a, b)?;
            }
            FaultAction::SetLink(a, b, c) => self.core.net.set_link(a, b, c)?,
            FaultAction::SetDefaultLink(c) => self.core.net.set_default(c)?,
        }
        if self.watching() {
            self.observe(Seen::Fault(i));
        }
        Ok(())
    }

    /// Fails a run early, once it has processed [`Pace::EVERY`] events,
    /// when at the pace so far it would need more than twice the event
    /// budget to reach `end`: the error comes after a second or two, not
    /// after the minutes the whole budget takes (or never, for a cell the
    /// reader interrupts, which kills the kernel and every variable). The
    /// pace is counted in events per unit of virtual time, so the decision
    /// is the same on every machine.
    #[cold]
    fn check_pace(&self, pace: &Pace, end: SimTime) -> Result<()> {
        let done = (self.events - pace.events) as f64;
        let elapsed = self.core.now.0.saturating_sub(pace.at.0) as f64;
        let left = end.0.saturating_sub(self.core.now.0) as f64;
        if elapsed == 0.0 {
            return Err(Error::new(
                ErrorKind::BudgetExhausted,
                format!(
                    "{} events ran at one instant ({}) without virtual time moving on: \
                     some node sends or sets timers with no delay in a loop; give its \
                     timers or links a duration > 0",
                    short_float(done),
                    self.core.now
                ),
            ));
        }
        let needed = done / elapsed * left;
        if self.events as f64 + needed > 2.0 * self.max_events as f64 {
            let per_sec = done / elapsed * 1e9;
            return Err(Error::new(
                ErrorKind::BudgetExhausted,
                format!(
                    "at its pace so far ({} events per simulated second) this run would \
                     need about {} more events to reach {}, far beyond its budget of {} \
                     events (a cell would run for minutes): shorten the run, lower the \
                     load (fewer clients, nodes or messages, longer intervals), or raise \
                     the budget with Builder::max_events",
                    short_float(per_sec.round()),
                    short_float(needed.round()),
                    end,
                    short_float(self.max_events as f64)
                ),
            ));
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
        if self.core.queue.len() > self.max_pending {
            return Err(Error::new(
                ErrorKind::BudgetExhausted,
                format!(
                    "{} events are pending at {} (messages in flight and timers), more \
                     than a notebook can hold: some node sends or sets timers faster than \
                     they are delivered (a short timer or resend interval, a long latency); \
                     lengthen that interval or shorten the latency",
                    self.core.queue.len(),
                    self.core.now
                ),
            ));
        }
        let Some((t, ev)) = self.core.queue.pop() else {
            return Ok(None);
        };
        if t == SimTime::MAX {
            // Every event pushed past the end of time lands here, at one
            // instant: running them would spend the whole event budget there.
            return Err(Error::new(
                ErrorKind::BudgetExhausted,
                "virtual time reached its end (about 584 years): some duration \
                 (a timer, a latency, a fault time) is too large or keeps growing; \
                 use durations of at most a few years",
            ));
        }
        self.events += 1;
        self.core.now = t;
        match ev {
            Ev::Deliver { from, to, id, msg } => self.deliver(from, to as usize, id, msg),
            Ev::Timer { key, timer } => self.fire(key, timer),
            Ev::Start(i) => {
                let i = i as usize;
                if self.core.up[i] {
                    handle!(self, i, |node, ctx| node.on_start(&mut ctx));
                    if self.watching() {
                        self.observe(Seen::Start(i));
                    }
                }
            }
            Ev::Fault(i) => self.apply_fault(i as usize)?,
            Ev::Restart(i) => self.do_recover(i as usize),
            Ev::Invoke(op) => self.client_send(op as usize),
            Ev::Request { to, op, msg } => self.request(to as usize, op as usize, msg),
            Ev::Reply {
                from,
                failed,
                op,
                msg,
            } => self.reply_arrived(from as usize, failed, op as usize, msg),
            Ev::Timeout(op) => self.timeout(op as usize),
            Ev::ClientNext(c) => self.client_next(c as usize)?,
        }
        self.settle();
        Ok(Some(t))
    }

    #[inline]
    fn fire(&mut self, key: TimerKey, timer: N::Timer) {
        let Some(node) = self.core.timers.fire(key) else {
            return;
        };
        let node = node as usize;
        if !self.core.up[node] {
            return;
        }
        self.core.stats.timers += 1;
        self.core
            .trace_event(TraceKind::Timer, node, None, key.id().0, || {
                N::timer_label(&timer)
            });
        // One call site, so the handler inlines into the event loop.
        let copy = self.watching().then(|| timer.clone());
        handle!(self, node, |n, ctx| n.on_timer(&mut ctx, timer));
        if let Some(copy) = copy {
            self.observe(Seen::Timer(node, copy));
        }
    }

    #[inline]
    fn deliver(&mut self, from: u32, to: NodeId, id: u64, msg: N::Msg) {
        let reason = if !self.core.up[to] {
            Some(DropReason::NodeDown)
        } else if from != EXTERNAL_SHORT && self.core.net.intercepts() {
            if self.core.net.is_blocked(from as NodeId, to) {
                Some(DropReason::Partition)
            } else if self.core.net.is_held(from as NodeId, to) {
                self.core.stats.held += 1;
                self.held
                    .entry((from, to as u32))
                    .or_default()
                    .push_back((id, msg));
                return;
            } else {
                None
            }
        } else {
            None
        };
        let from = wide(from);
        if let Some(reason) = reason {
            self.core.count_drop(reason);
            self.core
                .trace_event(TraceKind::Drop(reason), to, Some(from), id, || {
                    N::label(&msg)
                });
            if self.watching() {
                self.observe(Seen::Drop(from, to, msg, reason));
            }
            return;
        }
        self.core.stats.delivered += 1;
        self.core
            .trace_event(TraceKind::Deliver, to, Some(from), id, || N::label(&msg));
        // One call site, so the handler inlines into the event loop.
        let copy = self.watching().then(|| msg.clone());
        handle!(self, to, |node, ctx| node.on_message(&mut ctx, from, msg));
        if let Some(copy) = copy {
            self.observe(Seen::Deliver(from, to, copy));
        }
    }

    /// A client sends operation `op`'s request into the network.
    fn client_send(&mut self, op: OpId) {
        let (node, msg) = {
            let o = &self.core.history.ops()[op];
            (o.node, o.request.clone())
        };
        self.core.stats.sent += 1;
        self.core
            .trace_event(TraceKind::Invoke, node, Some(EXTERNAL), op as u64, || {
                N::label(&msg)
            });
        match self.core.net.decide(EXTERNAL, node, self.core.now) {
            Verdict::Dropped(reason) => {
                self.core.count_drop(reason);
                self.core.trace_event(
                    TraceKind::ClientDrop(reason),
                    node,
                    Some(EXTERNAL),
                    op as u64,
                    || N::label(&msg),
                );
            }
            Verdict::Deliver(d1, d2) => {
                let ev = |msg| Ev::Request {
                    to: node as u32,
                    op: op as u64,
                    msg,
                };
                if let Some(d2) = d2 {
                    self.core.stats.duplicated += 1;
                    self.core.queue.push(self.core.now + d2, ev(msg.clone()));
                }
                self.core.queue.push(self.core.now + d1, ev(msg));
            }
        }
    }

    /// A client's request reaches node `to`.
    fn request(&mut self, to: NodeId, op: OpId, msg: N::Msg) {
        if !self.core.up[to] {
            self.core.count_drop(DropReason::NodeDown);
            self.core.trace_event(
                TraceKind::ClientDrop(DropReason::NodeDown),
                to,
                Some(EXTERNAL),
                op as u64,
                || N::label(&msg),
            );
            if self.watching() {
                self.observe(Seen::Drop(EXTERNAL, to, msg, DropReason::NodeDown));
            }
            return;
        }
        self.core.stats.delivered += 1;
        self.core
            .trace_event(TraceKind::Request, to, Some(EXTERNAL), op as u64, || {
                N::label(&msg)
            });
        let req = Request {
            op,
            client: self.core.history.ops()[op].client,
        };
        handle!(self, to, |node, ctx| node.on_request(&mut ctx, req, msg));
        if self.watching() {
            self.observe(Seen::Request(to, op));
        }
    }

    /// A reply reaches the client of operation `op`.
    fn reply_arrived(&mut self, from: NodeId, failed: bool, op: OpId, msg: N::Msg) {
        let now = self.core.now;
        let Some(o) = self.core.history.get_mut(op) else {
            return;
        };
        if o.is_pending() {
            o.completed = Some(now);
            o.status = if failed {
                OpStatus::Failed
            } else {
                OpStatus::Ok
            };
            let client = o.client;
            self.core.trace_event(
                TraceKind::Completed,
                from,
                Some(EXTERNAL),
                op as u64,
                || N::label(&msg),
            );
            if let Some(o) = self.core.history.get_mut(op) {
                o.reply = Some(msg);
            }
            if self.watching() {
                self.observe(Seen::Reply(op));
            }
            self.next_of(client);
        } else if o.completed.is_none() && o.late_reply.is_none() {
            o.late_reply = Some(now);
            self.core.counters.incr("replies after the client gave up");
        } else {
            self.core.counters.incr("duplicate replies");
        }
    }

    /// The client of operation `op` stops waiting.
    fn timeout(&mut self, op: OpId) {
        let now = self.core.now;
        let Some(o) = self.core.history.get_mut(op) else {
            return;
        };
        if !o.is_pending() {
            return;
        }
        o.gave_up = Some(now);
        let client = o.client;
        if self.watching() {
            self.observe(Seen::Timeout(op));
        }
        self.next_of(client);
    }

    /// Asks the workload, if any, for `client`'s next operation (now).
    fn next_of(&mut self, client: ClientId) {
        if self.workload.is_some() {
            self.core
                .queue
                .push(self.core.now, Ev::ClientNext(client as u32));
        }
    }

    fn client_next(&mut self, c: ClientId) -> Result<()> {
        let Some(mut w) = self.workload.take() else {
            return Ok(());
        };
        let now = self.core.now;
        let (rng, last) = self.client(c);
        let mut rng = rng.clone();
        let last = *last;
        let next = w.next(c, now, &mut rng, last.map(|i| &self.core.history.ops()[i]));
        self.client(c).0 = rng;
        self.workload = Some(w);
        if let Some(inv) = next {
            self.invoke(c, inv)?;
        }
        Ok(())
    }

    /// True when a `run_*` call must stop: a node called `Ctx::stop`, or a
    /// property was violated (and violations stop runs).
    #[inline]
    fn halted(&self) -> bool {
        self.core.stop
    }

    /// Starts a `run_*` call: forget a `Ctx::stop` of an earlier call, but
    /// not a violation that stops runs.
    fn resume(&mut self) {
        self.core.stop = self.stop_on_violation && !self.violations.is_empty();
    }

    /// Runs until virtual time reaches `now + d` (events at exactly that time
    /// included), then sets the clock to it.
    pub fn run_for(&mut self, d: SimDuration) -> Result<&mut Self> {
        let end = self.core.now + d;
        self.run_until_time(end)
    }

    /// Runs every event up to and including time `end`, then sets the clock
    /// to `end` (if it is later than now). Stops early if a node calls
    /// `Ctx::stop` or a property is violated.
    pub fn run_until_time(&mut self, end: SimTime) -> Result<&mut Self> {
        self.resume();
        let pace = Pace::new(self.events, self.core.now);
        while let Some(t) = self.core.queue.peek_time() {
            if t > end || self.halted() {
                break;
            }
            self.step()?;
            if pace.due(self.events) {
                self.check_pace(&pace, end)?;
            }
        }
        if end > self.core.now && !self.halted() {
            self.core.now = end;
        }
        Ok(self)
    }

    /// Processes at most `n` more events (fewer if the queue empties).
    pub fn run_events(&mut self, n: u64) -> Result<&mut Self> {
        self.resume();
        for _ in 0..n {
            if self.halted() || self.step()?.is_none() {
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
        self.resume();
        let pace = Pace::new(self.events, self.core.now);
        loop {
            if done(self) {
                return Ok(true);
            }
            match self.core.queue.peek_time() {
                Some(t) if t <= end && !self.halted() => {
                    self.step()?;
                    if pace.due(self.events) {
                        self.check_pace(&pace, end)?;
                    }
                }
                _ => return Ok(false),
            }
        }
    }

    /// Runs until the queue is empty, a node calls `Ctx::stop` or a property
    /// is violated.
    pub fn run_to_end(&mut self) -> Result<&mut Self> {
        self.resume();
        while !self.halted() && self.step()?.is_some() {}
        Ok(self)
    }

    /// Gives a mutable context for node `id`, to call a node's method from
    /// experiment code as if one of its handlers ran now (for example a
    /// client issuing a request). Errors if the node is down.
    pub fn with_node<R>(
        &mut self,
        id: NodeId,
        f: impl FnOnce(&mut N, &mut Ctx<'_, N>) -> R,
    ) -> Result<R> {
        self.check_node("node id", id)?;
        if !self.core.up[id] {
            return Err(Error::invalid(
                "node id",
                id,
                "a node that is up (this one is down: recover it first)",
            ));
        }
        let out = handle!(self, id, |node, ctx| f(node, &mut ctx));
        self.settle();
        Ok(out)
    }

    /// Consumes the simulation, returning its nodes.
    pub fn into_nodes(self) -> Vec<N> {
        self.nodes
    }
}

/// Where a bounded run started, for [`Sim::check_pace`].
struct Pace {
    events: u64,
    at: SimTime,
}

impl Pace {
    /// Events between two checks of a run's pace.
    const EVERY: u64 = 1 << 22;

    fn new(events: u64, at: SimTime) -> Pace {
        Pace { events, at }
    }

    #[inline]
    fn due(&self, events: u64) -> bool {
        (events - self.events) % Self::EVERY == 0
    }
}

#[cfg(test)]
mod tests {
    use super::Ev;

    /// An event with a message of up to 4 bytes is 24 bytes, so a queue
    /// entry (time and event) is 32: two per cache line.
    #[test]
    fn events_stay_small() {
        assert_eq!(std::mem::size_of::<Ev<u32, ()>>(), 24);
        assert_eq!(std::mem::size_of::<Ev<(), ()>>(), 24);
        assert_eq!(std::mem::size_of::<Ev<u32, u32>>(), 24);
    }
}
