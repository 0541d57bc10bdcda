//! A bounded record of what happened in a run: sends, deliveries, drops,
//! timers, crashes. The raw material for message (sequence) diagrams, for a
//! node's local view, and for safety and liveness checks.
//!
//! The trace is capped (default 10,000 events) so a long run cannot exhaust
//! memory; past the cap nothing more is stored, and the sends that were not
//! recorded are counted ([`Trace::overflow`]) so a reader knows the trace is cut. Switch it off with
//! `Builder::trace(0)`; then the hot path formats nothing.

use crate::engine::time::SimTime;
use crate::net::{DropReason, NodeId};
use serde::{Deserialize, Serialize};

/// Sender id used for messages injected from outside the simulated cluster.
pub const EXTERNAL: NodeId = usize::MAX;

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

/// A capped list of [`TraceEvent`]s in the order they happened.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Trace {
    cap: usize,
    events: Vec<TraceEvent>,
    overflow: u64,
}

impl Trace {
    /// A trace that keeps at most `cap` events (0 switches tracing off).
    pub fn with_cap(cap: usize) -> Self {
        Trace {
            cap,
            events: Vec::new(),
            overflow: 0,
        }
    }

    /// True if events are being recorded (cap not yet reached, not off).
    #[inline]
    pub fn wants(&self) -> bool {
        self.events.len() < self.cap
    }

    /// True if tracing is switched on at all.
    pub fn enabled(&self) -> bool {
        self.cap > 0
    }

    /// Records one event (or counts it as overflow past the cap).
    pub fn push(&mut self, e: TraceEvent) {
        if self.events.len() < self.cap {
            self.events.push(e);
        } else {
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

    /// How many sends happened after the cap was reached (not recorded).
    pub fn overflow(&self) -> u64 {
        self.overflow
    }

    /// The local view of one node: only what that node itself observed
    /// (its sends, receipts, timers, crashes and notes). Drops are invisible
    /// to a node, so they are not in its view.
    pub fn local_view(&self, node: NodeId) -> Vec<TraceEvent> {
        self.events
            .iter()
            .filter(|e| {
                e.node == node && !matches!(e.kind, TraceKind::Drop(_) | TraceKind::Duplicate)
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

impl Trace {
    /// Converts the trace into a message diagram, one lane per node
    /// (`lanes[i]` names node `i`), keeping only events up to `until`.
    /// Times are in milliseconds. Delivered messages become arrows, dropped
    /// ones lost arrows, a duplicate a second arrow from the same send;
    /// timers, crashes, recoveries and notes become marks. Messages injected
    /// from outside appear as a note on the receiver.
    pub fn sequence_diagram(
        &self,
        lanes: &[String],
        until: SimTime,
    ) -> crate::plot::SequenceDiagram {
        use crate::plot::{Arrow, Mark, MarkKind, SequenceDiagram};
        use std::collections::BTreeMap;
        let n = lanes.len();
        let mut d = SequenceDiagram::new(lanes.iter().cloned());
        // msg id -> (from, to, sent at, label, index of first arrow if any)
        let mut sends: BTreeMap<u64, (usize, usize, f64, String)> = BTreeMap::new();
        for e in self.events.iter().take_while(|e| e.time <= until) {
            let t = e.time.as_ms();
            match e.kind {
                TraceKind::Send => {
                    if let Some(to) = e.peer {
                        if e.node < n && to < n {
                            sends.insert(e.msg, (e.node, to, t, e.label.clone()));
                        }
                    }
                }
                TraceKind::Deliver => match sends.get(&e.msg) {
                    Some((from, to, sent, label)) => {
                        d.arrows
                            .push(Arrow::delivered(*from, *to, *sent, t, label.clone()));
                    }
                    None if e.node < n => d.marks.push(Mark::new(
                        e.node,
                        t,
                        MarkKind::Note,
                        format!("in: {}", e.label),
                    )),
                    None => {}
                },
                TraceKind::Drop(_) => {
                    if let Some((from, to, sent, label)) = sends.get(&e.msg) {
                        d.arrows.push(Arrow::lost(*from, *to, *sent, label.clone()));
                    }
                }
                TraceKind::Duplicate => {}
                TraceKind::Timer if e.node < n => {
                    d.marks
                        .push(Mark::new(e.node, t, MarkKind::Timer, e.label.clone()))
                }
                TraceKind::Crash if e.node < n => {
                    d.marks.push(Mark::new(e.node, t, MarkKind::Crash, "crash"))
                }
                TraceKind::Recover if e.node < n => {
                    d.marks
                        .push(Mark::new(e.node, t, MarkKind::Recover, "recover"))
                }
                TraceKind::Note if e.node < n => {
                    d.marks
                        .push(Mark::new(e.node, t, MarkKind::Note, e.label.clone()))
                }
                _ => {}
            }
        }
        d
    }
}
