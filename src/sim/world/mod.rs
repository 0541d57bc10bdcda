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

use crate::error::{Error, Result};
use crate::sim::client::{History, OpId, Workload};
use crate::sim::clock::Clock;
use crate::sim::ctx::Ctx;
use crate::sim::disk::Disk;
use crate::sim::fault::{FaultAction, FaultPlan};
use crate::sim::metrics::{Counters, LatencyRecorder, UpDownLog};
use crate::sim::monitor::{Property, Violation};
use crate::sim::net::{DropReason, Network, NodeId, PartitionId};
use crate::sim::node::Node;
use crate::sim::points::CrashPoint;
use crate::sim::rng::{self, SimRng};
use crate::sim::time::SimTime;
use crate::sim::trace::Trace;
use std::collections::{BTreeMap, VecDeque};

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
pub(super) type Held<M> = VecDeque<(u64, M)>;

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
    /// Per node: it has run `on_start` or `on_recover` since the run was
    /// built (a node bounced before the run must not start twice).
    started: Vec<bool>,
    /// Each node's clock as built (what a clock-skew fault goes back to).
    clocks: Vec<Clock>,
    /// Picks the node a targeted fault hits ([`Sim::set_target`]).
    target: Option<fn(&N) -> bool>,
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
pub(super) enum Seen<M, T> {
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
        let mut $ctx = Ctx::direct(i, &mut $self.core);
        let $node = &mut $self.nodes[i];
        $body
    }};
}

mod builder;
mod checks;
mod clients;
mod core;
mod faults;
mod run;
mod schedule;

pub use builder::Builder;
use core::{wide, EXTERNAL_SHORT};
pub(crate) use core::{Core, Ev};
pub use schedule::{ByTime, Controlled, Event, Pending, RandomOrder, Scheduler, TimeRule};

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
    /// Events still to happen: messages in flight, timers pending, faults
    /// and client events scheduled (cancelled timers are not counted).
    pub fn pending(&self) -> usize {
        self.core.live()
    }
    /// The time of the next event, if any (cancelled timers skipped).
    pub fn peek(&mut self) -> Option<SimTime> {
        self.next_time()
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
    /// Names the node a targeted fault ([`crate::sim::Fault::CrashTarget`])
    /// hits: at the fault's time, the lowest-numbered node that is up and
    /// for which `pick` is true (e.g. `|n| n.is_leader()`: crash whoever
    /// leads at that moment). Without a target, or when no node matches,
    /// the fault does nothing (and says so in the trace).
    pub fn set_target(&mut self, pick: fn(&N) -> bool) {
        self.target = Some(pick);
    }
    /// Every crash point the plan crashed a node at so far, in order.
    pub fn crashed_at_points(&self) -> &[CrashPoint] {
        &self.core.points.hits
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

    pub(super) fn check_node(&self, what: &str, id: NodeId) -> Result<()> {
        crate::error::check_node(what, id, self.nodes.len())
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
        if self.watching() {
            self.show_unseen();
        }
        self.settle();
        self.take_error()?;
        Ok(out)
    }

    /// The error a handler caused (see `Core::fail`), once.
    #[inline]
    pub(super) fn take_error(&mut self) -> Result<()> {
        match self.core.error.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Gives every node a fresh disk made by `make` (the erased engine's
    /// disks start as a placeholder; see [`crate::sim::erased`]).
    pub(crate) fn reset_disks(&mut self, make: fn() -> N::Disk) {
        for d in &mut self.core.disks {
            *d = Disk::new(make());
        }
    }

    /// Consumes the simulation, returning its nodes.
    pub fn into_nodes(self) -> Vec<N> {
        self.nodes
    }
}
