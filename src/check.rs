//! Correctness as predicates: **safety** ("nothing bad ever happens": a
//! predicate that must hold at every point of a run, violated by a finite
//! prefix) and **liveness** ("something good eventually happens": violated
//! only by an infinite run, so a finite run checks it against a deadline).
//!
//! A [`Verdict`] says whether a property held and, if not, the first event
//! that broke it: a counterexample a reader can look up in the trace.

use crate::engine::time::{SimDuration, SimTime};
use crate::trace::{Trace, TraceKind};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Safety or liveness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum PropertyKind {
    /// Must hold at every step; a finite counterexample exists.
    Safety,
    /// Must eventually hold; checked against a deadline in a finite run.
    Liveness,
}

/// The result of checking one property on one run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// The property's name.
    pub name: String,
    /// Safety or liveness.
    pub kind: PropertyKind,
    /// Whether it held.
    pub holds: bool,
    /// The first violation, described, if it did not hold.
    pub counterexample: Option<String>,
}

impl Verdict {
    fn new(name: &str, kind: PropertyKind, counterexample: Option<String>) -> Verdict {
        Verdict {
            name: name.to_string(),
            kind,
            holds: counterexample.is_none(),
            counterexample,
        }
    }
}

/// Safety: `pred` holds for every item; the counterexample is the first
/// item where it does not.
pub fn always<T>(
    name: &str,
    items: impl IntoIterator<Item = T>,
    mut pred: impl FnMut(&T) -> bool,
    describe: impl Fn(&T) -> String,
) -> Verdict {
    let bad = items.into_iter().find(|x| !pred(x)).map(|x| describe(&x));
    Verdict::new(name, PropertyKind::Safety, bad)
}

/// Liveness with a deadline: every obligation `(id, start)` is met by a
/// matching `(id, end)` within `deadline`. Obligations younger than
/// `deadline` at `horizon` are not judged (they might still be met).
pub fn eventually_within(
    name: &str,
    obligations: &[(u64, SimTime)],
    fulfilments: &[(u64, SimTime)],
    deadline: SimDuration,
    horizon: SimTime,
) -> Verdict {
    let done: BTreeMap<u64, SimTime> =
        fulfilments
            .iter()
            .map(|&(id, t)| (id, t))
            .fold(BTreeMap::new(), |mut m, (id, t)| {
                m.entry(id).or_insert(t);
                m
            });
    let bad = obligations.iter().find(|(id, start)| {
        let due = *start + deadline;
        match done.get(id) {
            Some(&t) => t > due,
            None => due <= horizon,
        }
    });
    Verdict::new(
        name,
        PropertyKind::Liveness,
        bad.map(|(id, start)| format!("#{id} started at {start} not fulfilled within {deadline}")),
    )
}

/// Safety on a trace: no message is delivered that was never sent (no
/// message is invented by the network).
pub fn no_phantom_delivery(trace: &Trace) -> Verdict {
    let mut sent = BTreeSet::new();
    let mut bad = None;
    for e in trace.events() {
        match e.kind {
            TraceKind::Send => {
                sent.insert(e.msg);
            }
            TraceKind::Deliver
                if e.peer != Some(crate::trace::EXTERNAL) && !sent.contains(&e.msg) =>
            {
                bad = Some(format!(
                    "message #{} delivered at {} never sent",
                    e.msg, e.time
                ));
                break;
            }
            _ => {}
        }
    }
    Verdict::new("no phantom delivery", PropertyKind::Safety, bad)
}

/// Safety on a trace: no message is delivered more than once.
pub fn no_duplicate_delivery(trace: &Trace) -> Verdict {
    let mut seen = BTreeSet::new();
    let bad = trace
        .events()
        .iter()
        .filter(|e| e.kind == TraceKind::Deliver)
        .find(|e| !seen.insert(e.msg))
        .map(|e| {
            format!(
                "message #{} ({}) delivered twice, again at {}",
                e.msg, e.label, e.time
            )
        });
    Verdict::new("no duplicate delivery", PropertyKind::Safety, bad)
}
