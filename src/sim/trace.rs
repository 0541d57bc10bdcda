//! A bounded record of what happened in a run, as labels: sends,
//! deliveries, drops, timers, crashes, syncs, client requests and replies.
//! The raw material for message (sequence) diagrams (`plot::SequenceDiagram::from_trace`)
//! and for a node's local view. Checks do not read it: properties see typed
//! events ([`crate::sim::monitor`]).
//!
//! The trace is capped (default 10,000 events, and at most [`MAX_BYTES`]
//! of events and labels whatever the count) so a long run cannot exhaust
//! memory, not even one writing a long note on every event; past the cap
//! nothing more is stored, and what was not recorded is counted
//! ([`Trace::overflow`]) so a reader knows the trace is cut. Switch it off
//! with `Builder::trace(0)`; then the hot path formats nothing.

use super::net::{DropReason, NodeId};
use super::time::SimTime;
use serde::{Deserialize, Serialize};

pub use super::net::EXTERNAL;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TraceKind {
    /// `node` sent message `msg` to `peer`.
    Send,
    /// `node` received message `msg` from `peer`.
    Deliver,
    /// Message `msg` from `peer` to `node` was dropped.
    Drop(DropReason),
    /// The network will deliver message `msg` twice.
    Duplicate,
    /// A timer fired at `node`.
    Timer,
    /// `node` crashed.
    Crash,
    /// `node` recovered.
    Recover,
    /// A note a node wrote (`Ctx::note`).
    Note,
    /// `node` synced its disk (`label` says what; `msg` is the crash point).
    Sync,
    /// `node` crashed at crash point `msg` (inside a handler).
    CrashPoint,
    /// A client sent operation `msg`'s request towards `node`.
    Invoke,
    /// A client's request (operation `msg`) reached `node`.
    Request,
    /// `node` answered operation `msg` (the reply may still be lost).
    Reply,
    /// A reply reached its client (operation `msg`, answered by `node`).
    Completed,
    /// Client traffic of operation `msg` was lost: its request on the way
    /// to `node` (`peer` is [`EXTERNAL`]) or `node`'s reply (`peer` is `None`).
    ClientDrop(DropReason),
}

/// One event of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceEvent {
    /// When.
    pub time: SimTime,
    /// What.
    pub kind: TraceKind,
    /// Where it happened (the receiver for deliveries and drops).
    pub node: NodeId,
    /// The other end of a message event ([`EXTERNAL`] for injected ones).
    pub peer: Option<NodeId>,
    /// Message id (unique per send; a duplicate keeps its id), or timer id.
    pub msg: u64,
    /// A short label: the message's or timer's description.
    pub label: String,
}

/// Most bytes one trace keeps, events and labels together (128 MiB): a
/// million events with short labels fit; a 10 kB note on every event stops
/// the recording after about 13,000 of them.
pub const MAX_BYTES: usize = 128 << 20;

/// A capped list of [`TraceEvent`]s in the order they happened.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Trace {
    cap: usize,
    events: Vec<TraceEvent>,
    overflow: u64,
    /// `cap - events.len()`, or 0 once [`MAX_BYTES`] is reached: one load
    /// tells the hot path whether to record.
    #[serde(skip)]
    room: usize,
    /// Bytes kept: events and their labels.
    #[serde(skip)]
    bytes: usize,
}

impl Trace {
    /// A trace that keeps at most `cap` events (0 switches tracing off).
    pub fn with_cap(cap: usize) -> Self {
        Trace {
            cap,
            events: Vec::new(),
            overflow: 0,
            room: cap,
            bytes: 0,
        }
    }

    /// True if events are being recorded (cap not yet reached, not off).
    #[inline]
    pub fn wants(&self) -> bool {
        self.room > 0
    }

    /// True if tracing is switched on at all.
    pub fn enabled(&self) -> bool {
        self.cap > 0
    }

    /// Records one event (or counts it as overflow past the cap, in count
    /// or in bytes).
    pub fn push(&mut self, e: TraceEvent) {
        let cost = std::mem::size_of::<TraceEvent>() + e.label.len();
        if self.room > 0 && self.bytes + cost <= MAX_BYTES {
            self.room -= 1;
            self.bytes += cost;
            self.events.push(e);
        } else {
            if self.room > 0 {
                // Full by bytes: record nothing more (and format nothing).
                self.room = 0;
            }
            self.overflow += 1;
        }
    }

    pub(crate) fn count_overflow(&mut self) {
        if self.cap > 0 {
            self.overflow += 1;
        }
    }

    /// The recorded events, in order.
    pub fn events(&self) -> &[TraceEvent] {
        &self.events
    }

    /// How many events were not recorded because the cap was reached
    /// (sends after it are counted even though nothing is formatted).
    pub fn overflow(&self) -> u64 {
        self.overflow
    }

    /// The local view of one node: only what that node itself observed
    /// (its sends, receipts, timers, crashes, syncs and notes). Drops, and
    /// replies reaching clients, are invisible to a node, so they are not in
    /// its view.
    pub fn local_view(&self, node: NodeId) -> Vec<TraceEvent> {
        self.events
            .iter()
            .filter(|e| {
                e.node == node
                    && !matches!(
                        e.kind,
                        TraceKind::Drop(_)
                            | TraceKind::Duplicate
                            | TraceKind::Completed
                            | TraceKind::Invoke
                            | TraceKind::ClientDrop(_)
                    )
            })
            .cloned()
            .collect()
    }

    /// Events up to and including time `t`.
    pub fn until(&self, t: SimTime) -> Vec<TraceEvent> {
        self.events
            .iter()
            .filter(|e| e.time <= t)
            .cloned()
            .collect()
    }

    /// The trace as JSON lines, one event per line (for diffing two runs).
    pub fn to_jsonl(&self) -> String {
        let mut out = String::new();
        for e in &self.events {
            out.push_str(&serde_json::to_string(e).unwrap_or_default());
            out.push('\n');
        }
        out
    }
}
