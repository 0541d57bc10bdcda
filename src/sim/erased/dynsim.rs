//! [`DynSim`]: a simulation of nodes the crate does not know, run by the
//! engine compiled in the crate ([`Builder::build_erased`]).

use super::{AnyValue, ErasedNode};
use crate::error::{Error, Result};
use crate::sim::fault::FaultPlan;
use crate::sim::metrics::{Counters, LatencyRecorder, UpDownLog};
use crate::sim::net::{Network, NodeId, PartitionId};
use crate::sim::node::Node;
use crate::sim::points::CrashPoint;
use crate::sim::rng::SimRng;
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::trace::Trace;
use crate::sim::world::{Builder, Sim, Stats};
use std::any::{type_name, Any};

/// What the erased run knows of its node type: names for errors, and how
/// to box a message and a fresh disk of it.
#[derive(Clone, Copy)]
struct Kind {
    node: &'static str,
    msg: &'static str,
    wrap_msg: fn(Box<dyn Any>) -> Option<AnyValue>,
    new_disk: fn() -> AnyValue,
}

impl Kind {
    fn of<N: Node + 'static>() -> Kind {
        Kind {
            node: type_name::<N>(),
            msg: type_name::<N::Msg>(),
            wrap_msg: |b| b.downcast::<N::Msg>().ok().map(|m| AnyValue::msg::<N>(*m)),
            new_disk: || AnyValue::plain(N::Disk::default()),
        }
    }
}

impl Builder {
    /// Builds a simulation of `nodes` on the engine compiled in the crate
    /// (see [`crate::sim::erased`]): for a node type defined in a notebook
    /// cell, only its handlers are compiled with the cell. Same checks and
    /// errors as [`Builder::build`]; same seed, same run.
    pub fn build_erased<N: Node + 'static>(self, nodes: Vec<N>) -> Result<DynSim> {
        let nodes = nodes.into_iter().map(ErasedNode::new).collect();
        DynSim::build(self, nodes, Kind::of::<N>())
    }
}

/// A running simulation of nodes of one type the crate does not know; see
/// [`crate::sim::erased`]. The verbs are [`Sim`]'s; reading a node, a disk
/// or injecting a message names its type, and a wrong type is an error.
pub struct DynSim {
    sim: Sim<ErasedNode>,
    kind: Kind,
}

impl DynSim {
    fn build(b: Builder, nodes: Vec<ErasedNode>, kind: Kind) -> Result<DynSim> {
        let mut sim = b.build(nodes)?;
        sim.reset_disks(kind.new_disk);
        Ok(DynSim { sim, kind })
    }

    /// The error for a value of type `got` where the node's `want` belongs.
    fn mismatch(&self, what: &str, got: &str, want: &str) -> Error {
        Error::invalid(
            what,
            format!("a value of type {got}"),
            &format!("a {want} (the simulation's nodes are {})", self.kind.node),
        )
    }

    /// Sends `msg` from outside the cluster, like [`Sim::inject`]. Errors if
    /// `M` is not the nodes' message type.
    pub fn inject<M: 'static>(&mut self, to: NodeId, msg: M, after: SimDuration) -> Result<()> {
        self.inject_any(to, Box::new(msg), type_name::<M>(), after, false)
    }
    /// Delivers `msg` exactly `after` from now, like [`Sim::inject_exact`].
    pub fn inject_exact<M: 'static>(
        &mut self,
        to: NodeId,
        msg: M,
        after: SimDuration,
    ) -> Result<()> {
        self.inject_any(to, Box::new(msg), type_name::<M>(), after, true)
    }
    fn inject_any(
        &mut self,
        to: NodeId,
        msg: Box<dyn Any>,
        name: &str,
        after: SimDuration,
        exact: bool,
    ) -> Result<()> {
        let Some(msg) = (self.kind.wrap_msg)(msg) else {
            return Err(self.mismatch("message", name, self.kind.msg));
        };
        if exact {
            self.sim.inject_exact(to, msg, after)
        } else {
            self.sim.inject(to, msg, after)
        }
    }

    /// Node `id`'s memory, as its own type `N`. Errors if `id` is out of
    /// range or `N` is not the nodes' type.
    pub fn node<N: 'static>(&self, id: NodeId) -> Result<&N> {
        let any = self.node_any(id)?;
        any.downcast_ref()
            .ok_or_else(|| self.mismatch("node type", type_name::<N>(), self.kind.node))
    }
    /// Node `id`'s memory, for writing (experiment set-up between runs).
    pub fn node_mut<N: 'static>(&mut self, id: NodeId) -> Result<&mut N> {
        let err = self.mismatch("node type", type_name::<N>(), self.kind.node);
        self.sim.node_mut(id)?.inner_mut().downcast_mut().ok_or(err)
    }
    /// Every node, by id, as its own type `N`.
    pub fn nodes<N: 'static>(&self) -> Result<Vec<&N>> {
        (0..self.len()).map(|i| self.node(i)).collect()
    }
    fn node_any(&self, id: NodeId) -> Result<&dyn Any> {
        Ok(self.sim.node(id)?.inner())
    }

    /// Node `id`'s disk as last synced (what survives a crash), as the
    /// nodes' disk type `D`.
    pub fn synced_disk<D: 'static>(&self, id: NodeId) -> Result<&D> {
        let d = self.sim.disk(id)?.synced();
        d.get()
            .ok_or_else(|| self.mismatch("disk type", type_name::<D>(), "node's Disk"))
    }
    /// Node `id`'s disk as the node sees it (every write, synced or not).
    pub fn working_disk<D: 'static>(&self, id: NodeId) -> Result<&D> {
        let d = self.sim.disk(id)?.working();
        d.get()
            .ok_or_else(|| self.mismatch("disk type", type_name::<D>(), "node's Disk"))
    }
    /// How many syncs node `id`'s disk has taken.
    pub fn disk_syncs(&self, id: NodeId) -> Result<u64> {
        Ok(self.sim.disk(id)?.syncs())
    }

    /// Runs for `d` of virtual time, like [`Sim::run_for`].
    pub fn run_for(&mut self, d: SimDuration) -> Result<&mut Self> {
        self.sim.run_for(d)?;
        Ok(self)
    }
    /// Runs until virtual time `end`, like [`Sim::run_until_time`].
    pub fn run_until_time(&mut self, end: SimTime) -> Result<&mut Self> {
        self.sim.run_until_time(end)?;
        Ok(self)
    }
    /// Processes up to `n` events, like [`Sim::run_events`].
    pub fn run_events(&mut self, n: u64) -> Result<&mut Self> {
        self.sim.run_events(n)?;
        Ok(self)
    }
    /// Runs until nothing is left to happen, like [`Sim::run_to_end`].
    pub fn run_to_end(&mut self) -> Result<&mut Self> {
        self.sim.run_to_end()?;
        Ok(self)
    }
    /// Processes the next event, like [`Sim::step`].
    pub fn step(&mut self) -> Result<Option<SimTime>> {
        self.sim.step()
    }

    /// Crashes node `id` now, like [`Sim::crash`].
    pub fn crash(&mut self, id: NodeId) -> Result<()> {
        self.sim.crash(id)
    }
    /// Restarts node `id` now, like [`Sim::recover`].
    pub fn recover(&mut self, id: NodeId) -> Result<()> {
        self.sim.recover(id)
    }
    /// Crashes and restarts node `id`, like [`Sim::bounce`].
    pub fn bounce(&mut self, id: NodeId) -> Result<()> {
        self.sim.bounce(id)
    }
    /// Partitions the cluster into groups, like [`Sim::partition`].
    pub fn partition(&mut self, groups: &[Vec<NodeId>]) -> Result<PartitionId> {
        self.sim.partition(groups)
    }
    /// Ends one partition, like [`Sim::heal`].
    pub fn heal(&mut self, id: PartitionId) -> Result<()> {
        self.sim.heal(id)
    }
    /// Ends every partition.
    pub fn heal_all(&mut self) {
        self.sim.heal_all()
    }

    /// The current virtual time.
    pub fn now(&self) -> SimTime {
        self.sim.now()
    }
    /// The seed this run was built with.
    pub fn seed(&self) -> u64 {
        self.sim.seed()
    }
    /// Events processed so far.
    pub fn events_processed(&self) -> u64 {
        self.sim.events_processed()
    }
    /// Events still to happen.
    pub fn pending(&self) -> usize {
        self.sim.pending()
    }
    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.sim.len()
    }
    /// Always false: a simulation has at least one node.
    pub fn is_empty(&self) -> bool {
        self.sim.is_empty()
    }
    /// True if node `id` is up.
    pub fn is_up(&self, id: NodeId) -> bool {
        self.sim.is_up(id)
    }
    /// The trace recorded so far.
    pub fn trace(&self) -> &Trace {
        self.sim.trace()
    }
    /// Request latencies recorded by nodes.
    pub fn latency(&self) -> &LatencyRecorder {
        self.sim.latency()
    }
    /// Named counters incremented by nodes.
    pub fn counters(&self) -> &Counters {
        self.sim.counters()
    }
    /// Network counts: sent, delivered, lost, duplicated, ...
    pub fn stats(&self) -> Stats {
        self.sim.stats()
    }
    /// Per-node up/down history so far.
    pub fn updown(&self) -> &UpDownLog {
        self.sim.updown()
    }
    /// The network (link configurations, partitions).
    pub fn network(&self) -> &Network {
        self.sim.network()
    }
    /// The fault plan the simulation was built with.
    pub fn faults(&self) -> &FaultPlan {
        self.sim.faults()
    }
    /// Every crash point reached so far (if recording was switched on).
    pub fn crash_points(&self) -> &[CrashPoint] {
        self.sim.crash_points()
    }
    /// How many crash points the run has reached so far.
    pub fn crash_points_reached(&self) -> u64 {
        self.sim.crash_points_reached()
    }
    /// The crash point the plan crashed a node at, once reached.
    pub fn crashed_at_point(&self) -> Option<&CrashPoint> {
        self.sim.crashed_at_point()
    }
    /// Every crash point the plan crashed a node at so far, in order.
    pub fn crashed_at_points(&self) -> &[CrashPoint] {
        self.sim.crashed_at_points()
    }
    /// Pending timers.
    pub fn timers_pending(&self) -> usize {
        self.sim.timers_pending()
    }
    /// A random stream for experiment code outside the nodes.
    pub fn experiment_rng(&self, index: u64) -> SimRng {
        self.sim.experiment_rng(index)
    }
}
