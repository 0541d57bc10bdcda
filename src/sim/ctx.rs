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

use super::client::{History, Request};
use super::erased::{self, ErasedNode, Typed};
use super::net::NodeId;
use super::node::{Node, TimerId};
use super::points::PointKind;
use super::rng::NodeRng;
use super::time::{SimDuration, SimTime};
use super::trace::{TraceEvent, TraceKind};
use super::world::{Core, Ev};

/// A node's window onto the simulation; see the [module docs](self).
pub struct Ctx<'a, N: Node> {
    pub(crate) me: NodeId,
    pub(crate) core: Link<'a, N>,
}

/// The core a context acts on: the engine instantiated for `N` itself
/// (every node of the crate), or the engine compiled once in the crate for
/// erased nodes ([`crate::sim::erased`]), reached through `N`'s conversions.
/// Every method tests which: a branch the processor predicts perfectly,
/// since a run only ever takes one side.
pub(crate) enum Link<'a, N: Node> {
    Direct(&'a mut Core<N>),
    Erased(&'a mut Core<ErasedNode>, &'a Typed<N>),
}

/// Runs `$body` on the core, whichever engine it belongs to (the code is
/// the same for both: fields and methods that do not depend on the types).
macro_rules! on_core {
    ($self:expr, |$c:ident| $body:expr) => {
        match &mut $self.core {
            Link::Direct($c) => $body,
            Link::Erased($c, _) => $body,
        }
    };
}

/// [`on_core!`] for `&self` methods.
macro_rules! on_core_ref {
    ($self:expr, |$c:ident| $body:expr) => {
        match &$self.core {
            Link::Direct($c) => $body,
            Link::Erased($c, _) => $body,
        }
    };
}

impl<'a, N: Node> Ctx<'a, N> {
    /// The context of a handler of node `me` on the engine of `N`.
    #[inline]
    pub(crate) fn direct(me: NodeId, core: &'a mut Core<N>) -> Self {
        Ctx {
            me,
            core: Link::Direct(core),
        }
    }
}

impl<N: Node> Ctx<'_, N> {
    /// The current virtual time.
    #[inline]
    pub fn now(&self) -> SimTime {
        on_core_ref!(self, |c| c.now)
    }
    /// This node's id.
    #[inline]
    pub fn id(&self) -> NodeId {
        self.me
    }
    /// True if this node runs on the engine compiled once in the crate for
    /// nodes it does not know ([`crate::sim::erased`], built with
    /// `Builder::build_erased`), false on `Sim<ItsOwnType>`. Nothing a node
    /// does should depend on it: it is there for tests and measurements.
    pub fn on_erased_engine(&self) -> bool {
        matches!(self.core, Link::Erased(..))
    }
    /// How many nodes the simulation has.
    #[inline]
    pub fn cluster_size(&self) -> usize {
        on_core_ref!(self, |c| c.up.len())
    }
    /// This node's own random stream (it continues across restarts): a
    /// `SimRng` whose `random_range` and `random_bool` are compiled in the
    /// crate, so a node written in a notebook cell does not draw through
    /// rand's generic code compiled unoptimised ([`NodeRng`]).
    #[inline]
    pub fn rng(&mut self) -> &mut NodeRng {
        let me = self.me;
        match &mut self.core {
            Link::Direct(c) => NodeRng::wrap(&mut c.rngs[me]),
            Link::Erased(c, _) => erased::rng(c, me),
        }
    }

    /// The time on this node's own clock: the true time as its clock shows
    /// it, `now × (1 + drift) + offset` (see [`crate::sim::clock`]). Use it
    /// where a real node would read its clock (a timestamp on a write, a
    /// lease); the engine orders events by [`Ctx::now`] alone.
    #[inline]
    pub fn local_now(&self) -> SimTime {
        on_core_ref!(self, |c| c.clocks[self.me].local(c.now))
    }

    /// Sends `msg` to node `to` over the network. Sending to a node id that
    /// does not exist is a bug in the node: the message is dropped, and the
    /// run stops after this event with an error naming the sender, the id
    /// and the cluster size. With [`crate::sim::CrashPoints::SyncsAndSends`]
    /// each send is a crash point.
    #[inline]
    pub fn send(&mut self, to: NodeId, msg: N::Msg) {
        let me = self.me;
        match &mut self.core {
            Link::Direct(c) => {
                if to >= c.up.len() {
                    c.unknown_node(me, to);
                    return;
                }
                if c.watch_sends && intercepted::<N>(c, me, PointKind::Send, &msg) {
                    return;
                }
                c.send_msg(me, to, msg);
            }
            Link::Erased(c, t) => erased::send(c, me, to, (t.msg)(msg)),
        }
    }

    /// Sets a timer that fires after `after` with the value `timer`
    /// (delivered to [`Node::on_timer`]); returns its id, for cancelling.
    /// If the queue is at its limit ([`crate::sim::Builder::max_pending`]),
    /// the timer is not set and the run stops after this event with an
    /// error.
    #[inline]
    pub fn set_timer(&mut self, after: SimDuration, timer: N::Timer) -> TimerId {
        let me = self.me;
        match &mut self.core {
            Link::Direct(c) => {
                if c.dead || (c.queue.len() >= c.max_pending && c.full(me, "set a timer")) {
                    return TimerId(u64::MAX);
                }
                let key = c.timers.set(me as u32);
                let at = c.now + after;
                c.queue.push(at, Ev::Timer { key, timer });
                key.id()
            }
            Link::Erased(c, t) => erased::set_timer(c, me, after, (t.timer)(timer)),
        }
    }

    /// Cancels a pending timer of this node; returns false (and does
    /// nothing) if it already fired or was cancelled.
    pub fn cancel_timer(&mut self, timer: TimerId) -> bool {
        let me = self.me as u32;
        on_core!(self, |c| {
            if c.dead || !c.timers.cancel(timer, me) {
                return false;
            }
            c.add_stale(1);
            true
        })
    }

    /// The working copy of this node's disk: reads see every write, synced
    /// or not; writes survive a crash only after [`Ctx::sync`].
    #[inline]
    pub fn disk(&mut self) -> &mut N::Disk {
        let me = self.me;
        match &mut self.core {
            Link::Direct(c) => c.disks[me].working_mut(),
            Link::Erased(c, t) => (t.disk)(erased::disk(c, me)),
        }
    }

    /// Makes every write to the disk so far durable (an `fsync`). `what`
    /// names it in traces and crash-point tables ("undo record", "commit").
    /// Every sync is a crash point.
    pub fn sync(&mut self, what: &str) {
        let me = self.me;
        match &mut self.core {
            Link::Direct(c) => sync(c, me, what),
            Link::Erased(c, _) => erased::sync(c, me, what),
        }
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
        let me = self.me;
        match &mut self.core {
            Link::Direct(c) => {
                if c.watch_sends && intercepted::<N>(c, me, PointKind::Reply, &msg) {
                    return;
                }
                c.send_reply(me, req, msg, failed);
            }
            Link::Erased(c, t) => erased::answer(c, me, req, (t.msg)(msg), failed),
        }
    }

    /// Records a request latency into the run's latency recorder.
    #[inline]
    pub fn record_latency(&mut self, d: SimDuration) {
        on_core!(self, |c| if !c.dead {
            c.latency.record(d);
        })
    }
    /// Adds one to the named counter of the run (counters survive crashes:
    /// they belong to the observer, not to the node).
    #[inline]
    pub fn count(&mut self, name: &str) {
        self.count_many(name, 1);
    }
    /// Adds `n` to the named counter (see [`Ctx::count`]).
    #[inline]
    pub(crate) fn count_many(&mut self, name: &str, n: u64) {
        on_core!(self, |c| if !c.dead {
            c.counters.add(name, n);
        })
    }
    /// Writes a note into the trace (shown on message diagrams).
    pub fn note(&mut self, text: impl Into<String>) {
        let node = self.me;
        on_core!(self, |c| {
            if c.dead || !c.trace.wants() {
                return;
            }
            c.trace.push(TraceEvent {
                time: c.now,
                kind: TraceKind::Note,
                node,
                peer: None,
                msg: 0,
                label: text.into(),
            });
        })
    }
    /// Writes a note built only if the trace keeps it (for notes that cost
    /// a `format!`: nothing is allocated when tracing is off).
    pub fn note_with(&mut self, text: impl FnOnce() -> String) {
        if on_core!(self, |c| c.dead || !c.trace.wants()) {
            return;
        }
        self.note(text());
    }
    /// Asks the simulation to stop after this event (`run_*` returns Ok).
    pub fn stop(&mut self) {
        on_core!(self, |c| if !c.dead {
            c.stop = true;
        })
    }
    /// True if node `id` is up (an oracle: real nodes cannot know this; use it
    /// for measurement, not for protocol decisions).
    pub fn oracle_is_up(&self, id: NodeId) -> bool {
        on_core_ref!(self, |c| c.up.get(id).copied().unwrap_or(false))
    }
    /// The client history, on the engine of `N` only (an erased node's
    /// history holds erased messages: `None`).
    pub(crate) fn history_mut(&mut self) -> Option<&mut History<N::Msg>> {
        match &mut self.core {
            Link::Direct(c) => Some(&mut c.history),
            Link::Erased(..) => None,
        }
    }
    /// True if the handler now running crashed at a crash point (its
    /// remaining effects are discarded).
    #[inline]
    pub(crate) fn is_dead(&self) -> bool {
        on_core_ref!(self, |c| c.dead)
    }
}

/// True if this operation must not happen: the handler already crashed,
/// or it crashes here.
#[cold]
fn intercepted<N: Node>(core: &mut Core<N>, me: NodeId, kind: PointKind, msg: &N::Msg) -> bool {
    if core.dead {
        return true;
    }
    core.points.sends && core.reach_point(me, kind, || N::label(msg))
}

/// [`Ctx::sync`] on the engine of `N`.
pub(crate) fn sync<N: Node>(core: &mut Core<N>, me: NodeId, what: &str) {
    if core.dead || core.reach_point(me, PointKind::Sync, || what.to_string()) {
        return;
    }
    let point = core.points.next - 1;
    core.disks[me].sync();
    core.trace_event(TraceKind::Sync, me, None, point, || what.to_string());
}
