//! A run's trace as a sequence diagram: sends and deliveries become arrows,
//! drops lost arrows, timers, crashes, recoveries, syncs and notes marks.

use super::diagram::{Arrow, Mark, MarkKind, SequenceDiagram};
use crate::sim::time::SimTime;
use crate::sim::trace::{Trace, TraceKind};
use crate::sim::DropReason;
use std::collections::BTreeMap;

impl SequenceDiagram {
    /// The message diagram of a trace, one lane per node (`lanes[i]` names
    /// node `i`), keeping only events up to `until`. Times are in
    /// milliseconds. Delivered messages become arrows, dropped ones lost
    /// arrows, a duplicate a second arrow from the same send; timers,
    /// crashes (also at a crash point), recoveries, syncs and notes become
    /// marks. Messages from outside the cluster and client requests appear
    /// as a note on the receiving node ("in: …"), replies to clients as a
    /// note on the answering node (see
    /// [`SequenceDiagram::from_trace_with_clients`] to draw them as arrows).
    pub fn from_trace(trace: &Trace, lanes: &[String], until: SimTime) -> SequenceDiagram {
        convert(trace, lanes, Window::Until(until), false)
    }

    /// [`SequenceDiagram::from_trace`] with one more lane, "clients", on the
    /// right: client requests and replies (and their losses) are arrows
    /// between it and the nodes.
    pub fn from_trace_with_clients(
        trace: &Trace,
        lanes: &[String],
        until: SimTime,
    ) -> SequenceDiagram {
        convert(trace, lanes, Window::Until(until), true)
    }

    /// The trace's events `first..=last` (indices into
    /// [`Trace::events`]) with the "clients" lane, drawn in *steps*: the
    /// y axis counts events (0 for `first`) instead of milliseconds, so
    /// everything one handler does at one instant (writes, syncs, a crash
    /// at a crash point) gets a row of its own, in the order it happened.
    pub fn steps_of_trace(
        trace: &Trace,
        lanes: &[String],
        first: usize,
        last: usize,
    ) -> SequenceDiagram {
        convert(trace, lanes, Window::Steps(first, last), true)
    }
}

/// Which events a diagram shows, and on what time axis.
#[derive(Clone, Copy)]
enum Window {
    /// Everything up to a time, in milliseconds.
    Until(SimTime),
    /// Events `first..=last`, one step each.
    Steps(usize, usize),
}

fn convert(trace: &Trace, lanes: &[String], window: Window, clients: bool) -> SequenceDiagram {
    let n = lanes.len();
    let mut names = lanes.to_vec();
    if clients {
        names.push("clients".into());
    }
    let mut d = SequenceDiagram::new(names);
    d.steps = matches!(window, Window::Steps(..));
    // msg id -> (from, to, sent at, label)
    let mut sends: BTreeMap<u64, (usize, usize, f64, String)> = BTreeMap::new();
    // client operation -> (node, sent at, label), for requests and replies
    let mut invokes: BTreeMap<u64, (usize, f64, String)> = BTreeMap::new();
    let mut replies: BTreeMap<u64, (usize, f64, String)> = BTreeMap::new();
    let mut crash_label: Option<String> = None;
    let events = trace.events();
    let (skip, take) = match window {
        Window::Until(until) => (0, events.iter().take_while(|e| e.time <= until).count()),
        Window::Steps(first, last) => (first, last.saturating_sub(first).saturating_add(1)),
    };
    // In steps, only events that show (or start an arrow) take a step.
    let mut step = 0.0;
    for e in events.iter().skip(skip).take(take) {
        let t = match window {
            Window::Until(_) => e.time.as_ms(),
            Window::Steps(..) => step,
        };
        let before = (
            d.arrows.len(),
            d.marks.len(),
            sends.len(),
            invokes.len(),
            replies.len(),
        );
        let mark = |kind, label: String| Mark::new(e.node, t, kind, label);
        match e.kind {
            TraceKind::Send => {
                if let Some(to) = e.peer {
                    if e.node < n && to < n {
                        sends.insert(e.msg, (e.node, to, t, e.label.clone()));
                    }
                }
            }
            TraceKind::Deliver => match sends.get(&e.msg) {
                Some((from, to, sent, label)) if e.peer == Some(*from) => {
                    d.arrows
                        .push(Arrow::delivered(*from, *to, *sent, t, label.clone()));
                }
                _ if e.node < n => d
                    .marks
                    .push(mark(MarkKind::Note, format!("in: {}", e.label))),
                _ => {}
            },
            TraceKind::Drop(reason) => {
                if let Some((from, to, sent, label)) = sends.get(&e.msg) {
                    if e.peer == Some(*from) {
                        d.arrows
                            .push(lost(*from, *to, *sent, t, reason, label.clone()));
                    }
                }
            }
            TraceKind::Duplicate => {}
            _ if e.node >= n => {}
            TraceKind::Invoke if clients => {
                invokes.insert(e.msg, (e.node, t, e.label.clone()));
            }
            TraceKind::Request if clients => match invokes.get(&e.msg) {
                Some((_, sent, label)) => {
                    d.arrows
                        .push(Arrow::delivered(n, e.node, *sent, t, label.clone()))
                }
                None => d
                    .marks
                    .push(mark(MarkKind::Note, format!("in: {}", e.label))),
            },
            TraceKind::Reply if clients => {
                replies.insert(e.msg, (e.node, t, e.label.clone()));
            }
            TraceKind::Completed if clients => {
                if let Some((from, sent, label)) = replies.get(&e.msg) {
                    d.arrows
                        .push(Arrow::delivered(*from, n, *sent, t, label.clone()));
                }
            }
            TraceKind::ClientDrop(reason) if clients => {
                if e.peer.is_some() {
                    if let Some((_, sent, label)) = invokes.get(&e.msg) {
                        d.arrows
                            .push(lost(n, e.node, *sent, t, reason, label.clone()));
                    }
                } else if let Some((from, sent, label)) = replies.get(&e.msg) {
                    d.arrows.push(Arrow::lost(*from, n, *sent, label.clone()));
                }
            }
            TraceKind::Invoke | TraceKind::Completed | TraceKind::ClientDrop(_) => {}
            TraceKind::Timer => d.marks.push(mark(MarkKind::Timer, e.label.clone())),
            TraceKind::Crash => d.marks.push(mark(
                MarkKind::Crash,
                crash_label.take().unwrap_or_else(|| "crash".into()),
            )),
            // Said by the crash mark that follows it.
            TraceKind::CrashPoint => crash_label = Some(e.label.clone()),
            TraceKind::Recover => d.marks.push(mark(MarkKind::Recover, "recover".into())),
            TraceKind::Note => d.marks.push(mark(MarkKind::Note, e.label.clone())),
            TraceKind::Sync => d
                .marks
                .push(mark(MarkKind::Sync, format!("sync {}", e.label))),
            TraceKind::Request => d
                .marks
                .push(mark(MarkKind::Note, format!("in: {}", e.label))),
            TraceKind::Reply => d.marks.push(mark(MarkKind::Note, e.label.clone())),
        }
        let after = (
            d.arrows.len(),
            d.marks.len(),
            sends.len(),
            invokes.len(),
            replies.len(),
        );
        if after != before {
            step += 1.0;
        }
    }
    d
}

/// A lost message's arrow: one dropped because its receiver was down
/// reached the receiver and ends on its lane at the drop (`at`); one lost
/// by the link or cut by a partition ends between the lanes.
fn lost(from: usize, to: usize, sent: f64, at: f64, why: DropReason, label: String) -> Arrow {
    if why == DropReason::NodeDown && at >= sent {
        Arrow::lost_on_arrival(from, to, sent, at, label)
    } else {
        Arrow::lost(from, to, sent, label)
    }
}
