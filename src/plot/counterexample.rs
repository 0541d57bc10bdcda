//! A counterexample on a message diagram: the shrunk run around its
//! violation, the violation marked where and when it happened.

use super::figure::Figure;
use super::opts::Opts;
use super::sequence::{sequence_diagram, Mark, MarkKind, SequenceDiagram};
use crate::check::explore::Counterexample;
use crate::error::{Error, Result};
use crate::sim::time::SimTime;

/// The message diagram of a [`Counterexample`]: the last `window_ms`
/// milliseconds before its violation (and a little after), client traffic
/// on a "clients" lane, the violation marked on the node where it happened.
/// The title names the seed and the property; the shrunk schedule is in
/// `cx.plan` (`Fault::describe` says each fault in words).
///
/// Errors: a window that is not a finite number > 0; a counterexample
/// without a trace (explore with a trace cap > 0).
pub fn counterexample_diagram(cx: &Counterexample, window_ms: f64) -> Result<Figure> {
    check(cx, window_ms)?;
    let v = &cx.violation;
    let at = v.time.as_ms();
    let from = (at - window_ms).max(0.0);
    let until = SimTime::from_start(crate::sim::time::SimDuration::from_ms_named(
        "window_ms",
        at + window_ms * 0.05,
    )?);
    let mut d = SequenceDiagram::from_trace_with_clients(&cx.trace, &cx.lanes, until);
    d.arrows.retain(|a| a.sent >= from);
    d.marks
        .retain(|m| m.at >= from && m.kind != MarkKind::Timer);
    let lane = v.node.filter(|&n| n < cx.lanes.len()).unwrap_or(0);
    d.marks.push(Mark::new(
        lane,
        at,
        MarkKind::Violation,
        format!("{} violated", v.property),
    ));
    sequence_diagram(
        &d,
        Opts::new(title(cx)).y_label("time (ms)").size(1200, 820),
    )
}

/// The same counterexample drawn in *steps*: the events of the last
/// `window_ms` milliseconds before the violation, one row each in the order
/// they happened, so messages that a few milliseconds apart would pile up on
/// a time axis get rows of their own (readable on a slide). Timers stay:
/// in steps they say why a message was sent.
///
/// Errors: as [`counterexample_diagram`].
pub fn counterexample_steps(cx: &Counterexample, window_ms: f64) -> Result<Figure> {
    check(cx, window_ms)?;
    let events = cx.trace.events();
    let v = &cx.violation;
    let at = v.time.as_ms();
    let from = (at - window_ms).max(0.0);
    let first = events.iter().take_while(|e| e.time.as_ms() < from).count();
    let last = events.iter().take_while(|e| e.time.as_ms() <= at).count();
    let last = last.saturating_sub(1).max(first);
    let mut d = SequenceDiagram::steps_of_trace(&cx.trace, &cx.lanes, first, last);
    let end = d
        .arrows
        .iter()
        .flat_map(|a| [a.sent, a.received.unwrap_or(a.sent)])
        .chain(d.marks.iter().map(|m| m.at))
        .fold(0.0, f64::max);
    let lane = v.node.filter(|&n| n < cx.lanes.len()).unwrap_or(0);
    d.marks.push(Mark::new(
        lane,
        end + 1.0,
        MarkKind::Violation,
        format!("{} violated", v.property),
    ));
    sequence_diagram(
        &d,
        Opts::new(format!("{}, step by step", title(cx)))
            .y_label(format!(
                "step (events of the last {} ms, in order)",
                super::fmt_num(window_ms)
            ))
            .size(1200, 820),
    )
}

/// Both drawings' input checks: a window that is a time > 0, a trace.
fn check(cx: &Counterexample, window_ms: f64) -> Result<()> {
    if !(window_ms.is_finite() && window_ms > 0.0) {
        return Err(Error::invalid("window_ms", window_ms, "a finite time > 0"));
    }
    if cx.trace.events().is_empty() {
        return Err(Error::empty(
            "counterexample trace (explore with .trace_cap(n), n > 0)",
        ));
    }
    Ok(())
}

/// "Seed s: property violated (n faults)".
fn title(cx: &Counterexample) -> String {
    let n = cx.plan.len();
    format!(
        "Seed {}: {} violated ({n} fault{})",
        cx.seed,
        cx.violation.property,
        if n == 1 { "" } else { "s" }
    )
}
