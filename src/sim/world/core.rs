//! What the queue holds ([`Ev`]) and [`Core`], everything a node's handler
//! may touch apart from the nodes: the send and reply paths of the network.

use super::Stats;
use crate::error::{node_name, Error, ErrorKind};
use crate::sim::client::{History, Request};
use crate::sim::clock::Clock;
use crate::sim::disk::Disk;
use crate::sim::metrics::{Counters, LatencyRecorder, UpDownLog};
use crate::sim::net::{DropReason, Network, NodeId, Verdict, EXTERNAL};
use crate::sim::node::Node;
use crate::sim::points::{PointKind, Points};
use crate::sim::queue::EventQueue;
use crate::sim::rng::SimRng;
use crate::sim::time::SimTime;
use crate::sim::timers::{TimerKey, Timers};
use crate::sim::trace::{Trace, TraceEvent, TraceKind};

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
pub(super) const EXTERNAL_SHORT: u32 = u32::MAX;

/// A sender id as stored in an [`Ev`], back as a [`NodeId`].
#[inline(always)]
pub(super) fn wide(id: u32) -> NodeId {
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
    /// Timer events in the queue that will not fire (cancelled, or of a
    /// crashed node): skipped when popped, and removed all at once when
    /// they outnumber the live events ([`Core::compact`]).
    pub(crate) stale: usize,
    /// The most events that may be pending at once.
    pub(crate) max_pending: usize,
    /// An error a handler caused (a send to a node that does not exist, a
    /// full queue, a limit reached): the run stops after the event and
    /// returns it.
    pub(crate) error: Option<Error>,
    /// Properties are attached: drops decided at send time are kept in
    /// `unseen` for them.
    pub(crate) watching: bool,
    /// Drops decided while a handler ran, not yet shown to the properties.
    pub(crate) unseen: Vec<(NodeId, NodeId, N::Msg, DropReason)>,
    /// Each node's local clock.
    pub(crate) clocks: Vec<Clock>,
}

/// Stale timer events tolerated in the queue before they are removed
/// (when they also outnumber the live ones): removing them costs a pass
/// over the queue, so it is done only when that pass frees at least half.
pub(crate) const COMPACT_MIN: usize = 4096;

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
            if self.points.full {
                self.record_full();
            }
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

    /// The record of crash points is full: the run stops with an error.
    #[cold]
    fn record_full(&mut self) {
        if self.error.is_none() {
            self.fail(Error::new(
                ErrorKind::BudgetExhausted,
                format!(
                    "the run reached more than {} crash points with \
                     Builder::record_crash_points on, the most one run records (each \
                     is meant to become one run of a checker): record a shorter run, \
                     or switch recording off and count them with \
                     Sim::crash_points_reached; the run stopped at {}",
                    crate::sim::points::MAX_RECORDED,
                    self.now
                ),
            ));
        }
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

    /// Ends the run after this event with `e` (the first such error of
    /// the event wins).
    #[cold]
    pub(crate) fn fail(&mut self, e: Error) {
        if self.error.is_none() {
            self.error = Some(e);
        }
        self.stop = true;
    }

    /// Events that will still happen: the queue without its stale timers.
    #[inline]
    pub(crate) fn live(&self) -> usize {
        // Saturating: under a scheduler (`world::schedule`) a cancelled
        // timer may sit in the scheduler's pool rather than the queue.
        self.queue.len().saturating_sub(self.stale)
    }

    /// A timer was cancelled or discarded: one more stale event, removed
    /// with the others once they outnumber the live ones.
    #[inline]
    pub(crate) fn add_stale(&mut self, n: usize) {
        self.stale += n;
        if self.stale >= COMPACT_MIN && self.stale > self.live() {
            self.compact();
        }
    }

    /// Removes every stale timer event from the queue (order kept).
    #[cold]
    pub(crate) fn compact(&mut self) {
        if self.stale == 0 {
            return;
        }
        let timers = &self.timers;
        self.queue.retain(|ev| match ev {
            Ev::Timer { key, .. } => timers.is_pending(*key),
            _ => true,
        });
        self.stale = 0;
    }

    /// True (and the run stops with an error naming `node` and what it
    /// did) if the queue holds [`Core::max_pending`] events even without
    /// its stale timers: the event `node` was about to add is dropped, so
    /// memory stays bounded even inside one handler that loops.
    #[cold]
    pub(crate) fn full(&mut self, node: NodeId, what: &str) -> bool {
        self.compact();
        if self.queue.len() < self.max_pending {
            return false;
        }
        if self.error.is_none() {
            let e = self.pending_error(Some((node, what)));
            self.fail(e);
        }
        self.stop = true;
        true
    }

    /// The error for a queue at its limit, naming who filled it.
    pub(crate) fn pending_error(&self, by: Option<(NodeId, &str)>) -> Error {
        let live = self.live();
        let timers = self.timers.pending();
        let who = match by {
            Some((n, what)) => format!("node {} {what} with", node_name(n)),
            None => "the run reached".to_string(),
        };
        let fix = if timers * 2 > live {
            "most are timers: a handler sets timers in a loop, or sets them faster than \
             they fire or are cancelled; set fewer, or shorter ones"
        } else {
            "most are messages: a handler sends in a loop, or faster than messages \
             arrive (a short resend interval, a long latency); send less often, or \
             shorten the latency"
        };
        Error::new(
            ErrorKind::BudgetExhausted,
            format!(
                "{who} {live} events pending at {} ({timers} timers, {} messages and \
                 other events), the most this simulation holds (Builder::max_pending): \
                 {fix}; the run stopped",
                self.now,
                live - timers.min(live)
            ),
        )
    }

    /// A node sent to an id that is no node: the run stops with an error.
    #[cold]
    pub(crate) fn unknown_node(&mut self, from: NodeId, to: NodeId) {
        let n = self.up.len();
        let e = if to == EXTERNAL {
            Error::new(
                ErrorKind::InvalidParameter,
                format!(
                    "node {from} sent a message to `external` (EXTERNAL), which is no \
                     node: answer a client's request with ctx.reply instead; the run \
                     stopped"
                ),
            )
        } else {
            Error::new(
                ErrorKind::InvalidParameter,
                format!(
                    "node {from} sent a message to node {to}, which does not exist: the \
                     cluster has {n} nodes (ids 0..{n}); the run stopped"
                ),
            )
        };
        self.fail(e);
    }

    /// Sends `msg` between two nodes (ids already checked).
    #[inline]
    pub(crate) fn send_msg(&mut self, from: NodeId, to: NodeId, msg: N::Msg) {
        if self.queue.len() >= self.max_pending && self.full(from, "sent a message") {
            return;
        }
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
            Verdict::Dropped(reason) => self.dropped_at_send(reason, from, to, id, msg),
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

    /// A message lost or cut at the sender's side: counted, traced, and
    /// kept for the properties (if any are attached) as a
    /// `SimEvent::Drop`, shown to them after the event that sent it.
    #[cold]
    fn dropped_at_send(
        &mut self,
        reason: DropReason,
        from: NodeId,
        to: NodeId,
        id: u64,
        msg: N::Msg,
    ) {
        self.count_drop(reason);
        self.trace_event(TraceKind::Drop(reason), to, Some(from), id, || {
            N::label(&msg)
        });
        if self.watching {
            self.unseen.push((from, to, msg, reason));
        }
    }

    pub(crate) fn count_drop(&mut self, reason: DropReason) {
        match reason {
            DropReason::Loss => self.stats.lost += 1,
            DropReason::Partition => self.stats.partitioned += 1,
            DropReason::NodeDown => self.stats.to_down_node += 1,
        }
    }

    /// Sends the reply of `req` from node `from` towards its client.
    pub(crate) fn send_reply(&mut self, from: NodeId, req: Request, msg: N::Msg, failed: bool) {
        if self.queue.len() >= self.max_pending && self.full(from, "answered a client") {
            return;
        }
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
                if self.watching {
                    self.unseen.push((from, EXTERNAL, msg, reason));
                }
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
