//! Clients outside the cluster, their requests, and the history of what
//! they saw.
//!
//! A client is not a node: it is whoever uses the system (a user, another
//! service) and it is identified only by a [`ClientId`]. A client *invokes*
//! an operation by sending a request to a node ([`crate::sim::Sim::invoke`],
//! or a [`Workload`] that issues the next operation when the previous one
//! ends); the node receives it in [`crate::sim::Node::on_request`] with a
//! [`Request`] handle and answers, now or later, with
//! [`crate::sim::Ctx::reply`] (the operation succeeded) or
//! [`crate::sim::Ctx::reply_failed`] (it definitely did not take effect).
//! Any node holding the handle may answer, so a follower can pass a request
//! on to its leader. Requests and replies cross the network like messages
//! (latency, loss, duplication of the default link; partitions separate
//! nodes from nodes, not from clients).
//!
//! The engine records every operation in a [`History`]: who invoked what,
//! when, and how it ended. An operation whose reply never arrives (lost, or
//! never sent) has an **unknown** outcome, whether or not the client gave
//! up at a timeout: a timeout is not a failure, since the operation may
//! still have taken effect. This is the raw material of consistency and
//! isolation checkers.
//!
//! ```
//! use thinkdist::prelude::*;
//!
//! /// A register: `Some(v)` writes `v`, `None` reads.
//! #[derive(Clone, Default)]
//! struct Register { value: u64 }
//! impl Node for Register {
//!     type Msg = Option<u64>;
//!     type Timer = ();
//!     type Disk = ();
//!     fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: Option<u64>) {}
//!     fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, req: Request, op: Option<u64>) {
//!         if let Some(v) = op { self.value = v; }
//!         ctx.reply(req, Some(self.value));
//!     }
//! }
//!
//! let mut sim = Sim::builder().seed(1).build(vec![Register::default()])?;
//! sim.invoke(0, Invoke::new(0, Some(7)))?;                // client 0 writes 7
//! sim.invoke(1, Invoke::new(0, None).after(ms(5)))?;      // client 1 reads later
//! sim.run_for(ms(20))?;
//! let ops = sim.history().ops();
//! assert_eq!(ops[1].reply, Some(Some(7)));
//! assert_eq!(ops[1].status, OpStatus::Ok);
//! # Ok::<(), thinkdist::Error>(())
//! ```

use super::net::NodeId;
use super::rng::SimRng;
use super::time::{SimDuration, SimTime};
use serde::Serialize;

/// Names a client (any number; clients are not nodes).
pub type ClientId = usize;

/// Names an operation: its index in the [`History`].
pub type OpId = usize;

/// The handle a node gets with a client's request, to answer it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Request {
    /// The operation.
    pub op: OpId,
    /// The client waiting for the answer.
    pub client: ClientId,
}

/// How an operation ended, as its client saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum OpStatus {
    /// A success reply arrived: the operation took effect.
    Ok,
    /// A failure reply arrived: the operation did not take effect.
    Failed,
    /// No reply arrived (yet, or before the client gave up): the operation
    /// may or may not have taken effect.
    Unknown,
}

/// One operation: its invocation and how it completed.
#[derive(Debug, Clone, Serialize)]
pub struct Op<M> {
    /// Its id (index in the history).
    pub id: OpId,
    /// Who invoked it.
    pub client: ClientId,
    /// The node the request was sent to.
    pub node: NodeId,
    /// The request.
    pub request: M,
    /// When the client sent it.
    pub invoked: SimTime,
    /// How it ended.
    pub status: OpStatus,
    /// When the reply arrived (`None` while unknown).
    pub completed: Option<SimTime>,
    /// The reply's message, if one arrived in time.
    pub reply: Option<M>,
    /// When the client stopped waiting (its timeout), if it did.
    pub gave_up: Option<SimTime>,
    /// When a reply arrived after the client gave up (it is not counted).
    pub late_reply: Option<SimTime>,
}

impl<M> Op<M> {
    /// True until a reply arrives or the client gives up.
    pub fn is_pending(&self) -> bool {
        self.completed.is_none() && self.gave_up.is_none()
    }
    /// When the client stopped waiting: the reply, or the timeout.
    pub fn ended(&self) -> Option<SimTime> {
        self.completed.or(self.gave_up)
    }
}

/// Every operation of a run, in invocation order.
#[derive(Debug, Clone, Serialize)]
pub struct History<M> {
    ops: Vec<Op<M>>,
}

impl<M> Default for History<M> {
    fn default() -> Self {
        History { ops: Vec::new() }
    }
}

impl<M> History<M> {
    /// All operations, by id.
    pub fn ops(&self) -> &[Op<M>] {
        &self.ops
    }
    /// Number of operations.
    pub fn len(&self) -> usize {
        self.ops.len()
    }
    /// True if no operation was invoked.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
    /// Operation `id`, if it exists.
    pub fn get(&self, id: OpId) -> Option<&Op<M>> {
        self.ops.get(id)
    }
    /// The clients that invoked something, in increasing order.
    pub fn clients(&self) -> Vec<ClientId> {
        let mut c: Vec<ClientId> = self.ops.iter().map(|o| o.client).collect();
        c.sort_unstable();
        c.dedup();
        c
    }
    /// The operations of one client, in invocation order.
    pub fn of_client(&self, client: ClientId) -> impl Iterator<Item = &Op<M>> {
        self.ops.iter().filter(move |o| o.client == client)
    }
    /// How many operations ended ok, failed, and unknown.
    pub fn counts(&self) -> (usize, usize, usize) {
        let n = |s| self.ops.iter().filter(|o| o.status == s).count();
        (n(OpStatus::Ok), n(OpStatus::Failed), n(OpStatus::Unknown))
    }
    pub(crate) fn push(&mut self, op: Op<M>) -> OpId {
        self.ops.push(op);
        self.ops.len() - 1
    }
    pub(crate) fn get_mut(&mut self, id: OpId) -> Option<&mut Op<M>> {
        self.ops.get_mut(id)
    }
}

/// One operation to invoke: which node, what request, when, how long to
/// wait.
#[derive(Debug, Clone)]
pub struct Invoke<M> {
    /// The node the request goes to.
    pub node: NodeId,
    /// The request.
    pub msg: M,
    /// Send it this long from now (think time).
    pub after: SimDuration,
    /// Give up waiting this long after sending (`None`: wait forever; the
    /// outcome stays unknown until a reply arrives).
    pub timeout: Option<SimDuration>,
}

impl<M> Invoke<M> {
    /// Send `msg` to `node` now, wait forever.
    pub fn new(node: NodeId, msg: M) -> Self {
        Invoke {
            node,
            msg,
            after: SimDuration::ZERO,
            timeout: None,
        }
    }
    /// Send it `d` from now.
    pub fn after(mut self, d: SimDuration) -> Self {
        self.after = d;
        self
    }
    /// Give up waiting `d` after sending.
    pub fn timeout(mut self, d: SimDuration) -> Self {
        self.timeout = Some(d);
        self
    }
}

/// Clients that decide their next operation themselves: at the start, and
/// each time one of their operations ends (reply or timeout), the engine
/// asks for the client's next one. A closed-loop workload without making
/// clients roles of the node enum.
pub trait Workload<M> {
    /// The next operation of `client`; `last` is the operation that just
    /// ended (`None` at the start). Return `None` to stop this client.
    /// `rng` is the client's own random stream.
    fn next(
        &mut self,
        client: ClientId,
        now: SimTime,
        rng: &mut SimRng,
        last: Option<&Op<M>>,
    ) -> Option<Invoke<M>>;
}

/// Any closure of the right shape is a workload.
impl<M, F> Workload<M> for F
where
    F: FnMut(ClientId, SimTime, &mut SimRng, Option<&Op<M>>) -> Option<Invoke<M>>,
{
    fn next(
        &mut self,
        client: ClientId,
        now: SimTime,
        rng: &mut SimRng,
        last: Option<&Op<M>>,
    ) -> Option<Invoke<M>> {
        self(client, now, rng, last)
    }
}
