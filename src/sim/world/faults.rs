//! Faults: crashes and restarts (by hand, by the plan, or at a crash point),
//! partitions, held links and link changes.

use super::{Ev, Seen, Sim};
use crate::error::Result;
use crate::sim::clock::Clock;
use crate::sim::ctx::Ctx;
use crate::sim::fault::FaultAction;
use crate::sim::net::{LinkConfig, NodeId, PartitionId};
use crate::sim::node::Node;
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::trace::TraceKind;
use std::collections::VecDeque;

impl<N: Node> Sim<N> {
    /// Crashes node `id` now: its memory goes back to the value it was
    /// built with, unsynced disk writes are lost, its timers are discarded,
    /// and messages that arrive while it is down are dropped.
    pub fn crash(&mut self, id: NodeId) -> Result<()> {
        self.check_node("crash node", id)?;
        self.do_crash(id);
        Ok(())
    }
    /// Restarts node `id` now (it runs `on_recover` with its synced disk).
    /// Returns the error its `on_recover` caused, if any (a send to a node
    /// that does not exist, a full queue).
    pub fn recover(&mut self, id: NodeId) -> Result<()> {
        self.check_node("recover node", id)?;
        self.do_recover(id);
        self.settle();
        self.take_error()
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
    /// Ends one partition (others stay). A partition the fault plan started
    /// may be healed early this way: the plan's own heal of it then does
    /// nothing.
    pub fn heal(&mut self, id: PartitionId) -> Result<()> {
        self.core.net.heal(id)?;
        self.partitions.retain(|_, p| *p != id);
        Ok(())
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
    /// Sets node `id`'s local clock from now on (see
    /// [`crate::sim::clock`]): a clock set behind the one before steps the
    /// node's local time back.
    pub fn set_clock(&mut self, id: NodeId, clock: Clock) -> Result<()> {
        self.check_node("clock of node", id)?;
        clock.validate()?;
        self.core.clocks[id] = clock;
        Ok(())
    }
    /// Node `id`'s local clock.
    pub fn clock(&self, id: NodeId) -> Result<Clock> {
        self.check_node("clock of node", id)?;
        Ok(self.core.clocks[id])
    }
    /// What node `id`'s clock reads now (its [`crate::sim::Ctx::local_now`]).
    pub fn local_time(&self, id: NodeId) -> Result<SimTime> {
        Ok(self.clock(id)?.local(self.core.now))
    }

    pub(super) fn do_crash(&mut self, id: NodeId) {
        if !self.core.up[id] {
            return;
        }
        self.core.up[id] = false;
        let discarded = self.core.timers.crash(id as u32);
        self.core.add_stale(discarded);
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
    pub(super) fn settle(&mut self) {
        if self.core.dead {
            self.crash_at_point();
        }
    }

    #[cold]
    pub(super) fn crash_at_point(&mut self) {
        self.core.dead = false;
        self.core.watch_sends = self.core.points.sends;
        let Some(id) = self.core.points.hits.last().map(|p| p.node) else {
            return;
        };
        self.do_crash(id);
        if let Some(d) = self.core.points.restart_hit {
            self.core
                .queue
                .push(self.core.now + d, Ev::Restart(id as u32));
        }
    }

    /// Crashes the node [`Sim::set_target`] picks now, if any.
    fn crash_target(&mut self, restart: Option<SimDuration>) {
        let picked = self.target.and_then(|pick| {
            (0..self.nodes.len()).find(|&i| self.core.up[i] && pick(&self.nodes[i]))
        });
        let Some(id) = picked else {
            self.core
                .trace_event(TraceKind::Note, 0, None, 0, || "no target to crash".into());
            return;
        };
        self.do_crash(id);
        if let Some(d) = restart {
            self.core
                .queue
                .push(self.core.now + d, Ev::Restart(id as u32));
        }
    }

    pub(super) fn do_recover(&mut self, id: NodeId) {
        if self.core.up[id] {
            return;
        }
        self.core.up[id] = true;
        self.started[id] = true;
        let now = self.core.now;
        let _ = self.core.updown.set_up(id, now);
        self.core
            .trace_event(TraceKind::Recover, id, None, 0, || "recover".into());
        handle!(self, id, |node, ctx| node.on_recover(&mut ctx));
        if self.watching() {
            self.observe(Seen::Recover(id));
        }
    }

    pub(super) fn apply_fault(&mut self, i: usize) -> Result<()> {
        let action = self.plan[i].1.clone();
        match action {
            FaultAction::Crash(n) => self.do_crash(n),
            FaultAction::CrashTarget(restart) => self.crash_target(restart),
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
                // Gone already if a HealAll or a `Sim::heal` came first.
                if let Some(id) = self.partitions.remove(&fault) {
                    if self.core.net.in_force(id) {
                        self.core.net.heal(id)?;
                    }
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
            FaultAction::SetClock(n, c) => self.core.clocks[n] = c,
            FaultAction::ResetClock(n) => self.core.clocks[n] = self.clocks[n],
        }
        if self.watching() {
            self.observe(Seen::Fault(i));
        }
        Ok(())
    }
}
