//! The engine as a process sees it: [`Ctx`] behind a small object-safe
//! trait, so a process's handle does not carry the type of the node that
//! hosts it (a plain [`crate::sim::process::Process`] or a user's `enum` node).
//!
//! The process sees only its own part of the node's disk ([`DiskPart`]):
//! a node that hosts a process next to handler code keeps one disk type of
//! its own, and the process's disk type does not spread to it.

use super::wire::{Envelope, Wake};
use crate::sim::client::{ClientId, Op, OpId, OpStatus};
use crate::sim::rng::SimRng;
use crate::sim::{Ctx, Node, NodeId, Request, SimDuration, TimerId};
use std::fmt::Debug;

/// The part of a node's disk that a process hosted by the node reads and
/// writes through [`crate::sim::process::Proc::disk`].
///
/// Every type is its own part, so a plain [`crate::sim::process::Process`]
/// (whose node disk *is* the process's disk) needs nothing. A node type that
/// hosts a process beside handler code gives its disk a field for the
/// process and says where it is:
///
/// ```
/// use thinkdist::process::DiskPart;
///
/// /// The process keeps a log; the handler code beside it a counter.
/// #[derive(Clone, Debug, Default)]
/// struct NodeDisk { log: Vec<String>, served: u64 }
///
/// impl DiskPart<Vec<String>> for NodeDisk {
///     fn part(&mut self) -> &mut Vec<String> { &mut self.log }
/// }
/// ```
///
/// A sync still syncs the whole node disk (there is one disk per node), and
/// every sync is one crash point, whoever calls it.
pub trait DiskPart<D> {
    /// The process's part of this disk.
    fn part(&mut self) -> &mut D;
}

impl<D> DiskPart<D> for D {
    fn part(&mut self) -> &mut D {
        self
    }
}

/// How an operation a process invoked as a client ended.
pub(crate) enum OpEnd<M> {
    /// Its reply arrived (the envelope on the wire).
    Reply(Envelope<M>),
    /// The process stopped waiting (timeout, or the future was dropped).
    GaveUp,
    /// A reply arrived after it gave up.
    Late,
}

/// What the handle may do to the world while an event is being processed.
pub(crate) trait Host<M, D> {
    fn send(&mut self, to: NodeId, env: Envelope<M>);
    fn set_timer(&mut self, after: SimDuration, w: Wake) -> TimerId;
    fn cancel_timer(&mut self, t: TimerId) -> bool;
    fn disk(&mut self) -> &mut D;
    fn sync(&mut self, what: &str);
    fn rng(&mut self) -> &mut SimRng;
    fn count(&mut self, name: &str);
    fn count_many(&mut self, name: &str, n: u64);
    fn note(&mut self, text: String);
    /// A note built only if the trace keeps it.
    fn note_with(&mut self, text: &mut dyn FnMut() -> String);
    fn record_latency(&mut self, d: SimDuration);
    fn stop(&mut self);
    fn answer_client(&mut self, req: Request, msg: M, failed: bool);
    /// Records an operation of `client` in the run's history (a request
    /// this process sends as a client); `None` if the history is full or
    /// the client id out of range (counted).
    fn invoke_op(&mut self, client: ClientId, to: NodeId, req: Envelope<M>) -> Option<OpId>;
    /// Records how an operation of [`Host::invoke_op`] ended.
    fn end_op(&mut self, op: OpId, how: OpEnd<M>);
    /// The node crashed at a crash point during this event: nothing it does
    /// from now on has an effect, so the executor stops polling.
    fn is_dead(&self) -> bool;
}

impl<N, M, D> Host<M, D> for Ctx<'_, N>
where
    N: Node<Msg = Envelope<M>>,
    N::Timer: From<Wake>,
    N::Disk: DiskPart<D>,
    M: Clone + Debug,
    D: Clone + Debug + Default,
{
    fn send(&mut self, to: NodeId, env: Envelope<M>) {
        Ctx::send(self, to, env)
    }
    fn set_timer(&mut self, after: SimDuration, w: Wake) -> TimerId {
        Ctx::set_timer(self, after, w.into())
    }
    fn cancel_timer(&mut self, t: TimerId) -> bool {
        Ctx::cancel_timer(self, t)
    }
    fn disk(&mut self) -> &mut D {
        Ctx::disk(self).part()
    }
    fn sync(&mut self, what: &str) {
        Ctx::sync(self, what)
    }
    fn rng(&mut self) -> &mut SimRng {
        Ctx::rng(self)
    }
    fn count(&mut self, name: &str) {
        Ctx::count(self, name)
    }
    fn count_many(&mut self, name: &str, n: u64) {
        Ctx::count_many(self, name, n)
    }
    fn note(&mut self, text: String) {
        Ctx::note(self, text)
    }
    fn note_with(&mut self, text: &mut dyn FnMut() -> String) {
        Ctx::note_with(self, text)
    }
    fn record_latency(&mut self, d: SimDuration) {
        Ctx::record_latency(self, d)
    }
    fn stop(&mut self) {
        Ctx::stop(self)
    }
    fn answer_client(&mut self, req: Request, msg: M, failed: bool) {
        if failed {
            Ctx::reply_failed(self, req, Envelope::Tell(msg))
        } else {
            Ctx::reply(self, req, Envelope::Tell(msg))
        }
    }
    fn invoke_op(&mut self, client: ClientId, to: NodeId, req: Envelope<M>) -> Option<OpId> {
        use crate::error::limits;
        if Ctx::is_dead(self) {
            return None;
        }
        let invoked = Ctx::now(self);
        let room = match Ctx::history_mut(self) {
            Some(h) => client < limits::CLIENTS && h.len() < limits::OPS,
            None => false,
        };
        let Some(history) = Ctx::history_mut(self).filter(|_| room) else {
            Ctx::count(
                self,
                "operations not recorded (client id or history size past its limit)",
            );
            return None;
        };
        let id = history.len();
        history.push(Op {
            id,
            client,
            node: to,
            request: req,
            invoked,
            status: OpStatus::Unknown,
            completed: None,
            reply: None,
            gave_up: None,
            late_reply: None,
        });
        Some(id)
    }
    fn end_op(&mut self, op: OpId, how: OpEnd<M>) {
        if Ctx::is_dead(self) {
            return;
        }
        let now = Ctx::now(self);
        let Some(o) = Ctx::history_mut(self).and_then(|h| h.get_mut(op)) else {
            return;
        };
        match how {
            OpEnd::Reply(m) if o.is_pending() => {
                o.status = OpStatus::Ok;
                o.completed = Some(now);
                o.reply = Some(m);
            }
            OpEnd::GaveUp if o.is_pending() => o.gave_up = Some(now),
            OpEnd::Late if o.late_reply.is_none() => o.late_reply = Some(now),
            _ => {}
        }
    }
    fn is_dead(&self) -> bool {
        Ctx::is_dead(self)
    }
}
