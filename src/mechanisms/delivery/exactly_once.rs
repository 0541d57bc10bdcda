//! Exactly-once processing, checked on a receiver's record of effects.

use super::wire::Key;
use crate::check::{PropertyKind, Verdict};
use crate::sim::time::SimTime;
use std::collections::BTreeSet;

/// Checks exactly-once processing on a record of effects: **safety**, no
/// key is processed twice; **liveness**, every key in `expected` is
/// processed at least once (by the end of the run). The counterexample
/// names the first key processed a second time, or the first key never
/// processed.
///
/// ```
/// use thinkdist::delivery::check_exactly_once;
/// use thinkdist::prelude::*;
/// let t = SimTime::from_start(ms(1));
/// let log = vec![(t, (0, 0)), (t, (0, 1)), (t, (0, 1))];
/// let v = check_exactly_once([(0, 0), (0, 1), (0, 2)], &log);
/// assert!(!v[0].holds); // m1 processed twice
/// assert!(!v[1].holds); // m2 never processed
/// ```
pub fn check_exactly_once(
    expected: impl IntoIterator<Item = Key>,
    log: &[(SimTime, Key)],
) -> Vec<Verdict> {
    let mut seen = BTreeSet::new();
    let mut twice = None;
    for (t, k) in log {
        if !seen.insert(*k) && twice.is_none() {
            twice = Some(format!("m{} from node {} processed again at {t}", k.1, k.0));
        }
    }
    let missing = expected
        .into_iter()
        .find(|k| !seen.contains(k))
        .map(|k| format!("m{} from node {} never processed", k.1, k.0));
    vec![
        Verdict {
            name: "no message processed twice (safety)".into(),
            kind: PropertyKind::Safety,
            holds: twice.is_none(),
            counterexample: twice,
        },
        Verdict {
            name: "every message processed (liveness)".into(),
            kind: PropertyKind::Liveness,
            holds: missing.is_none(),
            counterexample: missing,
        },
    ]
}
