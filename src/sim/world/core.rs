//! What the queue holds ([`Ev`]) and [`Core`], everything a node's handler
//! may touch apart from the nodes: the send and reply paths of the network.

use super::Stats;
use crate::sim::client::{History, Request};
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

    pub(crate) fn count_drop(&mut self, reason: DropReason) {
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
