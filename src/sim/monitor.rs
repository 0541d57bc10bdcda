//! What a property sees: each event of a run, typed, and the state of the
//! world right after it.
//!
//! A [`Property`] attached with [`crate::sim::Sim::check`] is called after
//! every event with a [`SimEvent`] (the message, timer or operation itself,
//! not a label) and a read-only [`World`] (every node's memory and disk, who
//! is up, the client history). The first time a property reports a
//! violation, the engine records it as a [`Violation`], naming the event and
//! the time, and stops the run. Ready-made properties (`always`,
//! `eventually`, ...) are in [`crate::check`].

use super::client::{History, Op};
use super::disk::Disk;
use super::fault::FaultAction;
use super::metrics::Counters;
use super::net::{DropReason, NodeId};
use super::node::Node;
use super::time::SimTime;
use super::world::Stats;
use serde::Serialize;

/// Safety or liveness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum PropertyKind {
    /// "Nothing bad ever happens": must hold after every event; a finite
    /// prefix of the run is a counterexample.
    Safety,
    /// "Something good eventually happens": checked against a deadline,
    /// since a finite run cannot show that it never happens.
    Liveness,
}

/// One event of a run, as a property sees it.
#[derive(Debug)]
pub enum SimEvent<'a, N: Node> {
    /// A node ran `on_start`.
    Start {
        /// The node.
        node: NodeId,
    },
    /// A message was handed to `to` (its handler has run).
    Deliver {
        /// Sender ([`crate::sim::EXTERNAL`] for an injected message).
        from: NodeId,
        /// Receiver.
        to: NodeId,
        /// The message.
        msg: &'a N::Msg,
    },
    /// A message did not reach its receiver: lost or cut by a partition
    /// when sent (shown right after the event whose handler sent it), or
    /// arrived at a node that was down or behind a partition. Replies to
    /// clients lost on the way have `to` = [`crate::sim::EXTERNAL`],
    /// requests lost on the way `from` = [`crate::sim::EXTERNAL`].
    Drop {
        /// Sender.
        from: NodeId,
        /// Intended receiver.
        to: NodeId,
        /// The message.
        msg: &'a N::Msg,
        /// Why.
        reason: DropReason,
    },
    /// A timer fired (its handler has run).
    Timer {
        /// The node.
        node: NodeId,
        /// The timer.
        timer: &'a N::Timer,
    },
    /// A node crashed (at a fault, or at a crash point).
    Crash {
        /// The node.
        node: NodeId,
    },
    /// A node restarted (its `on_recover` has run).
    Recover {
        /// The node.
        node: NodeId,
    },
    /// A client's request reached a node (its `on_request` has run).
    Request {
        /// The node.
        node: NodeId,
        /// The operation.
        op: &'a Op<N::Msg>,
    },
    /// A reply reached its client: the operation is complete.
    Reply {
        /// The operation, completed.
        op: &'a Op<N::Msg>,
    },
    /// A client gave up waiting.
    Timeout {
        /// The operation, still of unknown outcome.
        op: &'a Op<N::Msg>,
    },
    /// A scheduled fault was applied.
    Fault {
        /// What it did.
        action: &'a FaultAction,
    },
}

impl<N: Node> SimEvent<'_, N> {
    /// The node where the event happened, if there is one.
    pub fn node(&self) -> Option<NodeId> {
        match self {
            SimEvent::Start { node }
            | SimEvent::Timer { node, .. }
            | SimEvent::Crash { node }
            | SimEvent::Recover { node }
            | SimEvent::Request { node, .. } => Some(*node),
            SimEvent::Deliver { to, .. } | SimEvent::Drop { to, .. } => Some(*to),
            SimEvent::Reply { op } | SimEvent::Timeout { op } => Some(op.node),
            SimEvent::Fault { .. } => None,
        }
    }

    /// A one-line description built from the node's labels.
    pub fn describe(&self) -> String {
        let who = |n: NodeId| {
            if n == super::trace::EXTERNAL {
                "outside".to_string()
            } else {
                format!("node {n}")
            }
        };
        match self {
            SimEvent::Start { node } => format!("node {node} started"),
            SimEvent::Deliver { from, to, msg } => {
                format!("{} delivered {} → {}", N::label(msg), who(*from), who(*to))
            }
            SimEvent::Drop {
                from,
                to,
                msg,
                reason,
            } => format!(
                "{} from {} to {} dropped ({reason:?})",
                N::label(msg),
                who(*from),
                who(*to)
            ),
            SimEvent::Timer { node, timer } => {
                format!("timer {} fired at node {node}", N::timer_label(timer))
            }
            SimEvent::Crash { node } => format!("node {node} crashed"),
            SimEvent::Recover { node } => format!("node {node} recovered"),
            SimEvent::Request { node, op } => format!(
                "request {} of client {} (op {}) reached node {node}",
                N::label(&op.request),
                op.client,
                op.id
            ),
            SimEvent::Reply { op } => format!(
                "client {} got reply {} (op {})",
                op.client,
                op.reply.as_ref().map_or_else(String::new, |m| N::label(m)),
                op.id
            ),
            SimEvent::Timeout { op } => {
                format!("client {} gave up on op {}", op.client, op.id)
            }
            SimEvent::Fault { action } => format!("fault: {action:?}"),
        }
    }
}

/// The state of the world after an event: read-only.
pub struct World<'a, N: Node> {
    /// The time of the event.
    pub now: SimTime,
    /// Every node's memory, by id.
    pub nodes: &'a [N],
    /// Every node's disk, by id.
    pub disks: &'a [Disk<N::Disk>],
    /// Who is up, by id.
    pub up: &'a [bool],
    /// Every client operation so far.
    pub history: &'a History<N::Msg>,
    /// Named counters.
    pub counters: &'a Counters,
    /// Network counts.
    pub stats: &'a Stats,
    /// Events still queued: 0 means nothing more can happen.
    pub pending_events: usize,
}

/// A property checked while a simulation runs; see the [module docs](self).
pub trait Property<N: Node> {
    /// Its name, for tables and counterexamples.
    fn name(&self) -> String;
    /// Safety or liveness.
    fn kind(&self) -> PropertyKind;
    /// Called after every event; `Some(reason)` reports a violation.
    fn after(&mut self, event: &SimEvent<'_, N>, world: &World<'_, N>) -> Option<String>;
    /// Called once when the run is judged ([`crate::sim::Sim::finish_checks`]):
    /// a liveness property reports obligations that missed their deadline.
    fn at_end(&mut self, world: &World<'_, N>) -> Option<String> {
        let _ = world;
        None
    }
}

/// The first violation of a property in a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// The property's name.
    pub property: String,
    /// Safety or liveness.
    pub kind: PropertyKind,
    /// When it was detected (for liveness: the first event after a missed
    /// deadline, or the end of the run).
    pub time: SimTime,
    /// Which event of the run (1 for the first processed), 0 at the end.
    pub event_index: u64,
    /// That event, described (`"the end of the run"` at the end).
    pub event: String,
    /// The node where it happened, if any.
    pub node: Option<NodeId>,
    /// What the property said.
    pub reason: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} violated at {} (event {}: {}): {}",
            self.property, self.time, self.event_index, self.event, self.reason
        )
    }
}
