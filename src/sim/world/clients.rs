//! The outside world's inputs: messages injected from outside the cluster,
//! clients' operations and workloads, and the events that carry a client's
//! request to a node and its reply back into the history.

use super::{Ev, Seen, Sim, EXTERNAL_SHORT};
use crate::error::{Error, Result};
use crate::sim::client::{ClientId, Invoke, Op, OpId, OpStatus, Request, Workload};
use crate::sim::ctx::Ctx;
use crate::sim::net::{DropReason, NodeId, Verdict, EXTERNAL};
use crate::sim::node::Node;
use crate::sim::rng::{self, SimRng};
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::trace::TraceKind;

impl<N: Node> Sim<N> {
    /// Sends `msg` to node `to` from outside the cluster (sender
    /// [`EXTERNAL`]), `after` from now. It crosses the default link like
    /// any message (latency, loss, duplication: it arrives `after` plus a
    /// latency draw later, if at all); partitions separate nodes from
    /// nodes, not from the outside. For an exact arrival time use
    /// [`Sim::inject_exact`].
    pub fn inject(&mut self, to: NodeId, msg: N::Msg, after: SimDuration) -> Result<()> {
        self.check_node("inject to", to)?;
        self.check_room()?;
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
                if self.watching() {
                    self.observe(Seen::Drop(EXTERNAL, to, msg, reason));
                }
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
        self.check_room()?;
        let id = self.core.next_msg;
        self.core.next_msg += 1;
        self.core.stats.sent += 1;
        self.push_external(self.core.now + after, to, id, msg);
        Ok(())
    }

    /// Errs if the queue is at its limit ([`Builder::max_pending`]), so a
    /// loop of injections cannot fill memory.
    ///
    /// [`Builder::max_pending`]: super::Builder::max_pending
    fn check_room(&mut self) -> Result<()> {
        if self.core.queue.len() >= self.core.max_pending {
            self.core.compact();
            if self.core.queue.len() >= self.core.max_pending {
                return Err(self.core.pending_error(None));
            }
        }
        Ok(())
    }

    pub(super) fn push_external(&mut self, at: SimTime, to: NodeId, id: u64, msg: N::Msg) {
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
    /// `inv.node` after `inv.after`, and recorded in the [`History`](crate::sim::History).
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
    pub(super) fn client(&mut self, c: ClientId) -> &mut (SimRng, Option<OpId>) {
        while self.clients.len() <= c {
            let k = self.clients.len() as u64;
            self.clients
                .push((rng::stream(self.seed, rng::domain::CLIENT, k, 0), None));
        }
        &mut self.clients[c]
    }

    /// A client sends operation `op`'s request into the network.
    pub(super) fn client_send(&mut self, op: OpId) {
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
                if self.watching() {
                    self.observe(Seen::Drop(EXTERNAL, node, msg, reason));
                }
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
    pub(super) fn request(&mut self, to: NodeId, op: OpId, msg: N::Msg) {
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
    pub(super) fn reply_arrived(&mut self, from: NodeId, failed: bool, op: OpId, msg: N::Msg) {
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
    pub(super) fn timeout(&mut self, op: OpId) {
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
    pub(super) fn next_of(&mut self, client: ClientId) {
        if self.workload.is_some() {
            self.core
                .queue
                .push(self.core.now, Ev::ClientNext(client as u32));
        }
    }

    pub(super) fn client_next(&mut self, c: ClientId) -> Result<()> {
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
}
