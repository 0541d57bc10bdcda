//! Verdicts: whether a property held, and its first counterexample, for
//! tables; and two post-hoc checks over recorded data.

use crate::sim::time::{SimDuration, SimTime};
use crate::sim::{Node, PropertyKind, Sim};
use serde::Serialize;
use std::collections::BTreeMap;

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
    /// A verdict: it holds when there is no counterexample.
    pub fn new(name: &str, kind: PropertyKind, counterexample: Option<String>) -> Verdict {
        Verdict {
            name: name.to_string(),
            kind,
            holds: counterexample.is_none(),
            counterexample,
        }
    }
}

/// One verdict per property attached to `sim` (after
/// [`Sim::finish_checks`]): its first violation, with the time and the
/// event, or none. Run with `Builder::stop_on_violation(false)` to judge
/// every property on the whole run.
pub fn verdicts<N: Node>(sim: &mut Sim<N>) -> Vec<Verdict> {
    let violations = sim.finish_checks().to_vec();
    sim.properties()
        .into_iter()
        .map(|(name, kind)| {
            let v = violations.iter().find(|v| v.property == name);
            let cx = v.map(|v| format!("{} (at {}, {})", v.reason, v.time, v.event));
            Verdict::new(&name, kind, cx)
        })
        .collect()
}

/// Safety over recorded data: `pred` holds for every item; the
/// counterexample is the first item where it does not.
pub fn always<T>(
    name: &str,
    items: impl IntoIterator<Item = T>,
    mut pred: impl FnMut(&T) -> bool,
    describe: impl Fn(&T) -> String,
) -> Verdict {
    let bad = items.into_iter().find(|x| !pred(x)).map(|x| describe(&x));
    Verdict::new(name, PropertyKind::Safety, bad)
}

/// Liveness over recorded data, with a deadline: every obligation
/// `(id, start)` is met by a matching `(id, end)` within `deadline`.
/// Obligations whose deadline falls after `horizon` are not judged (they
/// might still be met).
pub fn eventually_within(
    name: &str,
    obligations: &[(u64, SimTime)],
    fulfilments: &[(u64, SimTime)],
    deadline: SimDuration,
    horizon: SimTime,
) -> Verdict {
    let mut done: BTreeMap<u64, SimTime> = BTreeMap::new();
    for &(id, t) in fulfilments {
        done.entry(id).or_insert(t);
    }
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
