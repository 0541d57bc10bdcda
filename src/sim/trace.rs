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
//!
//! A trace keeps the *first* events by default (a message diagram of how a
//! run starts). [`TraceCap::last`] keeps the *last* ones instead: a run
//! stops at its first violation, so those are the events that led to it,
//! however late it came. Exploration draws its counterexamples that way.

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

/// How many trace events to keep, and which: the first ones (a plain
/// number converts to this) or the last ones.
///
/// ```
/// use thinkdist::sim::trace::TraceCap;
/// assert_eq!(TraceCap::from(500), TraceCap::first(500));
/// assert!(TraceCap::last(500).keeps_last());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TraceCap {
    events: usize,
    last: bool,
}

impl TraceCap {
    /// Keep the first `events` events (0: no trace).
    pub fn first(events: usize) -> TraceCap {
        TraceCap {
            events,
            last: false,
        }
    }
    /// Keep the last `events` events: the ones before the run stopped.
    pub fn last(events: usize) -> TraceCap {
        TraceCap { events, last: true }
    }
    /// How many events at most.
    pub fn events(&self) -> usize {
        self.events
    }
    /// True if the last events are kept rather than the first.
    pub fn keeps_last(&self) -> bool {
        self.last
    }
}

impl From<usize> for TraceCap {
    fn from(events: usize) -> TraceCap {
        TraceCap::first(events)
    }
}

/// A capped list of [`TraceEvent`]s in the order they happened.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Trace {
    cap: usize,
    /// Keep the last `cap` events (older ones are dropped) instead of the
    /// first.
    #[serde(default)]
    last: bool,
    /// Events dropped from the front (only when keeping the last).
    #[serde(default)]
    dropped: u64,
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
        Trace::new(TraceCap::first(cap))
    }

    /// A trace that keeps what `cap` says (the first or the last events).
    pub fn new(cap: TraceCap) -> Self {
        Trace {
            cap: cap.events,
            last: cap.last,
            dropped: 0,
            events: Vec::new(),
            overflow: 0,
            room: cap.events,
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
        if self.last && self.cap > 0 {
            self.push_last(e, cost);
            return;
        }
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

    /// Keeping the last `cap` events: the buffer grows to twice the cap,
    /// then the oldest are dropped in one go (amortised O(1) per event, at
    /// most twice the cap and [`MAX_BYTES`] in memory).
    fn push_last(&mut self, e: TraceEvent, cost: usize) {
        if self.events.len() >= 2 * self.cap || self.bytes + cost > MAX_BYTES {
            let mut keep_from = self.events.len().saturating_sub(self.cap - 1);
            let mut freed: usize = self.events[..keep_from]
                .iter()
                .map(|x| std::mem::size_of::<TraceEvent>() + x.label.len())
                .sum();
            while keep_from < self.events.len() && self.bytes - freed + cost > MAX_BYTES {
                let x = &self.events[keep_from];
                freed += std::mem::size_of::<TraceEvent>() + x.label.len();
                keep_from += 1;
            }
            self.events.drain(..keep_from);
            self.dropped += keep_from as u64;
            self.bytes -= freed;
        }
        if self.bytes + cost > MAX_BYTES {
            // One event larger than the whole budget: count it, keep nothing.
            self.dropped += 1;
            return;
        }
        self.bytes += cost;
        self.events.push(e);
    }

    /// True if this trace keeps the last events rather than the first.
    pub fn keeps_last(&self) -> bool {
        self.last
    }

    pub(crate) fn count_overflow(&mut self) {
        if self.cap > 0 {
            self.overflow += 1;
        }
    }

    /// The recorded events, in order (the last `cap` of them for a trace
    /// that keeps the last).
    pub fn events(&self) -> &[TraceEvent] {
        let from = if self.last {
            self.events.len().saturating_sub(self.cap)
        } else {
            0
        };
        &self.events[from..]
    }

    /// How many events were not recorded because the cap was reached
    /// (sends after it are counted even though nothing is formatted); for
    /// a trace that keeps the last events, how many older ones were let go.
    pub fn overflow(&self) -> u64 {
        if self.last {
            self.dropped + (self.events.len() - self.events().len()) as u64
        } else {
            self.overflow
        }
    }

    /// The local view of one node: only what that node itself observed
    /// (its sends, receipts, timers, crashes, syncs and notes). Drops, and
    /// replies reaching clients, are invisible to a node, so they are not in
    /// its view.
    pub fn local_view(&self, node: NodeId) -> Vec<TraceEvent> {
        self.events()
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
        self.events()
            .iter()
            .filter(|e| e.time <= t)
            .cloned()
            .collect()
    }

    /// The trace as JSON lines, one event per line (for diffing two runs).
    pub fn to_jsonl(&self) -> String {
        let mut out = String::new();
        for e in self.events() {
            out.push_str(&serde_json::to_string(e).unwrap_or_default());
            out.push('\n');
        }
        out
    }
}
