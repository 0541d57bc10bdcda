//! [`Ctx`]: a node's window onto the simulation while one of its handlers
//! runs. Everything a node does to the world goes through it: send, set and
//! cancel timers, write and sync its disk, answer clients, draw random
//! numbers, record measurements.
//!
//! When a fault plan crashes the node at a crash point inside the handler
//! (see [`crate::sim::fault`]), the handler still runs to its end, but from
//! that point on nothing it does through its `Ctx` has an effect: no send
//! leaves, no timer is set, no sync happens, no reply goes out, nothing is
//! counted. After the handler returns, the engine crashes the node (its
//! memory and unsynced writes are lost). That is the same as the process
//! dying at that instruction.

use super::client::Request;
use super::net::NodeId;
use super::node::{Node, TimerId};
use super::points::PointKind;
use super::rng::SimRng;
use super::time::{SimDuration, SimTime};
use super::trace::{TraceEvent, TraceKind};
use super::world::{Core, Ev};

/// A node's window onto the simulation; see the [module docs](self).
pub struct Ctx<'a, N: Node> {
    pub(crate) me: NodeId,
    pub(crate) core: &'a mut Core<N>,
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
    /// This node's own random stream (it continues across restarts).
    #[inline]
    pub fn rng(&mut self) -> &mut SimRng {
        &mut self.core.rngs[self.me]
    }

    /// The time on this node's own clock: the true time as its clock shows
    /// it, `now × (1 + drift) + offset` (see [`crate::sim::clock`]). Use it
    /// where a real node would read its clock (a timestamp on a write, a
    /// lease); the engine orders events by [`Ctx::now`] alone.
    #[inline]
    pub fn local_now(&self) -> SimTime {
        self.core.clocks[self.me].local(self.core.now)
    }

    /// Sends `msg` to node `to` over the network. Sending to a node id that
    /// does not exist is a bug in the node: the message is dropped, and the
    /// run stops after this event with an error naming the sender, the id
    /// and the cluster size. With [`crate::sim::CrashPoints::SyncsAndSends`]
    /// each send is a crash point.
    #[inline]
    pub fn send(&mut self, to: NodeId, msg: N::Msg) {
        if to >= self.core.up.len() {
            self.core.unknown_node(self.me, to);
            return;
        }
        if self.core.watch_sends && self.intercepted(PointKind::Send, &msg) {
            return;
        }
        self.core.send_msg(self.me, to, msg);
    }

    /// True if this operation must not happen: the handler already crashed,
    /// or it crashes here.
    #[cold]
    fn intercepted(&mut self, kind: PointKind, msg: &N::Msg) -> bool {
        if self.core.dead {
            return true;
        }
        self.core.points.sends && self.core.reach_point(self.me, kind, || N::label(msg))
    }

    /// Sets a timer that fires after `after` with the value `timer`
    /// (delivered to [`Node::on_timer`]); returns its id, for cancelling.
    /// If the queue is at its limit ([`crate::sim::Builder::max_pending`]),
    /// the timer is not set and the run stops after this event with an
    /// error.
    #[inline]
    pub fn set_timer(&mut self, after: SimDuration, timer: N::Timer) -> TimerId {
        if self.core.dead
            || (self.core.queue.len() >= self.core.max_pending
                && self.core.full(self.me, "set a timer"))
        {
            return TimerId(u64::MAX);
        }
        let key = self.core.timers.set(self.me as u32);
        let at = self.core.now + after;
        self.core.queue.push(at, Ev::Timer { key, timer });
        key.id()
    }

    /// Cancels a pending timer of this node; returns false (and does
    /// nothing) if it already fired or was cancelled.
    pub fn cancel_timer(&mut self, timer: TimerId) -> bool {
        if self.core.dead || !self.core.timers.cancel(timer, self.me as u32) {
            return false;
        }
        self.core.add_stale(1);
        true
    }

    /// The working copy of this node's disk: reads see every write, synced
    /// or not; writes survive a crash only after [`Ctx::sync`].
    #[inline]
    pub fn disk(&mut self) -> &mut N::Disk {
        self.core.disks[self.me].working_mut()
    }

    /// Makes every write to the disk so far durable (an `fsync`). `what`
    /// names it in traces and crash-point tables ("undo record", "commit").
    /// Every sync is a crash point.
    pub fn sync(&mut self, what: &str) {
        if self.core.dead
            || self
                .core
                .reach_point(self.me, PointKind::Sync, || what.to_string())
        {
            return;
        }
        let point = self.core.points.next - 1;
        self.core.disks[self.me].sync();
        self.core
            .trace_event(TraceKind::Sync, self.me, None, point, || what.to_string());
    }

    /// Answers a client's request: the operation succeeded, with `msg` as
    /// its result. The reply crosses the network (it may be lost, and then
    /// the client never learns the outcome).
    pub fn reply(&mut self, req: Request, msg: N::Msg) {
        self.answer(req, msg, false);
    }

    /// Answers a client's request: the operation definitely did not take
    /// effect (rejected, aborted), with `msg` saying why.
    pub fn reply_failed(&mut self, req: Request, msg: N::Msg) {
        self.answer(req, msg, true);
    }

    fn answer(&mut self, req: Request, msg: N::Msg, failed: bool) {
        if self.core.watch_sends && self.intercepted(PointKind::Reply, &msg) {
            return;
        }
        self.core.send_reply(self.me, req, msg, failed);
    }

    /// Records a request latency into the run's latency recorder.
    #[inline]
    pub fn record_latency(&mut self, d: SimDuration) {
        if !self.core.dead {
            self.core.latency.record(d);
        }
    }
    /// Adds one to the named counter of the run (counters survive crashes:
    /// they belong to the observer, not to the node).
    #[inline]
    pub fn count(&mut self, name: &str) {
        if !self.core.dead {
            self.core.counters.incr(name);
        }
    }
    /// Writes a note into the trace (shown on message diagrams).
    pub fn note(&mut self, text: impl Into<String>) {
        if self.core.dead || !self.core.trace.wants() {
            return;
        }
        let (time, node) = (self.core.now, self.me);
        self.core.trace.push(TraceEvent {
            time,
            kind: TraceKind::Note,
            node,
            peer: None,
            msg: 0,
            label: text.into(),
        });
    }
    /// Writes a note built only if the trace keeps it (for notes that cost
    /// a `format!`: nothing is allocated when tracing is off).
    pub fn note_with(&mut self, text: impl FnOnce() -> String) {
        if self.core.dead || !self.core.trace.wants() {
            return;
        }
        self.note(text());
    }
    /// Asks the simulation to stop after this event (`run_*` returns Ok).
    pub fn stop(&mut self) {
        if !self.core.dead {
            self.core.stop = true;
        }
    }
    /// True if node `id` is up (an oracle: real nodes cannot know this; use it
    /// for measurement, not for protocol decisions).
    pub fn oracle_is_up(&self, id: NodeId) -> bool {
        self.core.up.get(id).copied().unwrap_or(false)
    }
}
