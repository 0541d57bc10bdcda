//! The consensus problem as checkers, on typed decisions (any protocol:
//! chapter 09's Paxos, chapter 10's Raft).
//!
//! - **Agreement**: no two nodes decide different values.
//! - **Validity**: a decided value was proposed by someone.
//! - **Integrity**: a node decides at most once (it never changes its mind).
//! - **Termination** (liveness): every correct node decides, here by a
//!   deadline.
//!
//! And state machine replication: replicas that apply their logs in order
//! must hold logs where one is a prefix of the other, and equal prefixes
//! give equal states ([`replicated_states`]).

use super::verdict::Verdict;
use crate::sim::{NodeId, PropertyKind, SimTime};
use std::fmt::Debug;

/// One node's decision.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Decision<V> {
    /// Who decided.
    pub node: NodeId,
    /// What.
    pub value: V,
    /// When.
    pub at: SimTime,
}

impl<V> Decision<V> {
    /// A decision of `node` for `value` at `at`.
    pub fn new(node: NodeId, value: V, at: SimTime) -> Self {
        Decision { node, value, at }
    }
}

/// Agreement: all decided values are equal; the counterexample names the
/// first two nodes that disagree.
pub fn agreement<V: PartialEq + Debug>(ds: &[Decision<V>]) -> Verdict {
    let cx = ds.first().and_then(|a| {
        ds.iter().find(|b| b.value != a.value).map(|b| {
            format!(
                "node {} decided {:?} at {}, node {} decided {:?} at {}",
                a.node, a.value, a.at, b.node, b.value, b.at
            )
        })
    });
    Verdict::new("agreement", PropertyKind::Safety, cx)
}

/// Validity: every decided value is among `proposed`.
pub fn validity<V: PartialEq + Debug>(ds: &[Decision<V>], proposed: &[V]) -> Verdict {
    let cx = ds.iter().find(|d| !proposed.contains(&d.value)).map(|d| {
        format!(
            "node {} decided {:?} at {}, which nobody proposed (proposed: {proposed:?})",
            d.node, d.value, d.at
        )
    });
    Verdict::new("validity", PropertyKind::Safety, cx)
}

/// Integrity: no node decides twice (decisions in the order they happened;
/// deciding the same value again counts too: a protocol decides once).
pub fn integrity<V: Debug>(ds: &[Decision<V>]) -> Verdict {
    let cx = ds.iter().enumerate().find_map(|(i, d)| {
        ds[..i].iter().find(|e| e.node == d.node).map(|e| {
            format!(
                "node {} decided {:?} at {} and again {:?} at {}",
                d.node, e.value, e.at, d.value, d.at
            )
        })
    });
    Verdict::new("integrity", PropertyKind::Safety, cx)
}

/// Termination by `deadline`: every node in `correct` decided at or before
/// it.
pub fn termination<V>(ds: &[Decision<V>], correct: &[NodeId], deadline: SimTime) -> Verdict {
    let cx = correct
        .iter()
        .find(|&&n| !ds.iter().any(|d| d.node == n && d.at <= deadline))
        .map(|n| format!("node {n} had not decided by {deadline}"));
    Verdict::new("termination", PropertyKind::Liveness, cx)
}

/// State machine replication: each replica's log applied in order from
/// `init` with `apply`; any two logs must be one a prefix of the other,
/// and so every replica's state equals the state of that prefix of the
/// longest log. The counterexample names the replicas and the first index
/// where their logs differ.
pub fn replicated_states<C, S>(logs: &[Vec<C>], init: S, apply: impl Fn(&mut S, &C)) -> Verdict
where
    C: PartialEq + Debug,
    S: Clone + PartialEq + Debug,
{
    let mut cx = None;
    'outer: for (i, a) in logs.iter().enumerate() {
        for (j, b) in logs.iter().enumerate().skip(i + 1) {
            if let Some(k) = (0..a.len().min(b.len())).find(|&k| a[k] != b[k]) {
                cx = Some(format!(
                    "replicas {i} and {j} differ at log index {k}: {:?} against {:?}",
                    a[k], b[k]
                ));
                break 'outer;
            }
        }
    }
    if cx.is_none() {
        // Logs agree on their prefixes: each replica's state must be the
        // state of the longest log's prefix of its length.
        let longest = logs.iter().max_by_key(|l| l.len());
        let mut states = vec![init.clone()];
        if let Some(l) = longest {
            let mut s = init.clone();
            for c in l {
                apply(&mut s, c);
                states.push(s.clone());
            }
        }
        for (i, l) in logs.iter().enumerate() {
            let mut s = init.clone();
            for c in l {
                apply(&mut s, c);
            }
            if s != states[l.len()] {
                cx = Some(format!(
                    "replica {i} applied {} entries and holds {s:?}, not {:?}",
                    l.len(),
                    states[l.len()]
                ));
                break;
            }
        }
    }
    Verdict::new("replicated states", PropertyKind::Safety, cx)
}
