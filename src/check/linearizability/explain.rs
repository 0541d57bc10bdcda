//! Why a history is inconsistent: the operations that contradict each
//! other, and the reason in words.
//!
//! A failed search leaves the longest legal order it found and the
//! operation that cannot come after it (what Porcupine reports). That
//! prefix can be hundreds of operations long, most of them innocent, so
//! the explainer then shrinks the part to the operations whose results
//! conflict, with two changes that can only make a history *easier* to
//! order, so that a part still inconsistent after them proves the whole
//! inconsistent:
//!
//! 1. **Cut at a time T** (linearizability only): drop the operations
//!    invoked after T and forget the results of those still running at T.
//!    Any linearization of the history, restricted to the rest, is one of
//!    the cut history (the operations linearized after T all have forgotten
//!    results). The earliest T that stays inconsistent is found by bisection.
//! 2. **Forget results** one chunk at a time (halving chunks down to single
//!    operations): an operation whose result is unknown may take effect
//!    whenever it could have, or never, which includes what it did.
//!
//! The operations whose results remain known are the ones involved. The
//! explainer has its own budget (`Budget::explain_steps`, each check at
//! most four times the steps the failed search took, and at least 2,000);
//! a check that runs out counts as consistent, so the answer stays sound,
//! only less small.

use super::check::pops;
use super::history::LinHistory;
use super::memo::Meter;
use super::search::{linearize, Found, POp};
use super::seq::sequentialize;
use super::spec::SequentialSpec;
use super::verdict::{Inconsistency, Model};

const EXPLAIN_BYTES: usize = 64 << 20;
const MAX_TRIALS: usize = 400;

struct Shrink<'s, 'a, S: SequentialSpec> {
    spec: &'s S,
    ops: Vec<POp<'a, S>>,
    model: Model,
    steps_left: u64,
    check_steps: u64,
    max_bytes: usize,
    trials: usize,
}

impl<S: SequentialSpec> Shrink<'_, '_, S> {
    /// True if the part with `keep` operations, those in `known` with their
    /// results, is proven inconsistent.
    fn illegal(&mut self, keep: &[bool], known: &[bool]) -> bool {
        if self.steps_left == 0 || self.trials >= MAX_TRIALS {
            return false;
        }
        self.trials += 1;
        let sub: Vec<POp<'_, S>> = (0..self.ops.len())
            .filter(|&i| keep[i])
            .map(|i| {
                let mut o = self.ops[i];
                if !known[i] {
                    o.ret = None;
                    o.ret_time = u64::MAX;
                }
                o
            })
            .collect();
        let mut m = Meter::new(self.steps_left.min(self.check_steps), self.max_bytes);
        let found = match self.model {
            Model::Linearizable => linearize(self.spec, &sub, &mut m),
            Model::SequentiallyConsistent => sequentialize(self.spec, &sub, &mut m),
        };
        self.steps_left = self.steps_left.saturating_sub(m.steps);
        matches!(found, Found::Illegal(_))
    }
}

pub(crate) fn explain<S: SequentialSpec>(
    spec: &S,
    history: &LinHistory<S::Op, S::Ret>,
    ids: &[usize],
    longest: &[usize],
    model: Model,
    meter: &Meter,
    explain_steps: u64,
) -> Inconsistency {
    let ops = pops::<S>(history, ids);
    let n = ops.len();
    let mut in_longest = vec![false; n];
    for &i in longest {
        in_longest[i] = true;
    }
    // The operation that cannot be placed: for linearizability the known
    // one outside the longest order that returned first; for sequential
    // consistency the earliest-invoked of the clients' next operations.
    let blocked = (0..n)
        .filter(|&i| !in_longest[i] && ops[i].ret.is_some())
        .min_by_key(|&i| match model {
            Model::Linearizable => (ops[i].ret_time, ops[i].call, i),
            Model::SequentiallyConsistent => (ops[i].call, ops[i].ret_time, i),
        })
        .unwrap_or(0);
    let mut state = spec.init();
    for &i in longest {
        if let Some(s) = spec.apply(&state, ops[i].op, ops[i].ret) {
            state = s;
        }
    }
    let mut sh = Shrink {
        spec,
        ops,
        model,
        steps_left: explain_steps,
        check_steps: (meter.steps * 4).max(2_000),
        max_bytes: meter.max_bytes.min(EXPLAIN_BYTES),
        trials: 0,
    };
    let mut keep = vec![true; n];
    let mut known: Vec<bool> = sh.ops.iter().map(|o| o.ret.is_some()).collect();
    // 1. The earliest cut that stays inconsistent.
    if model == Model::Linearizable && explain_steps > 0 {
        let mut times: Vec<u64> = sh
            .ops
            .iter()
            .filter(|o| o.ret.is_some())
            .map(|o| o.ret_time)
            .collect();
        times.sort_unstable();
        times.dedup();
        let cut = |t: u64, ops: &[POp<'_, S>]| -> (Vec<bool>, Vec<bool>) {
            let keep = ops.iter().map(|o| o.call <= t).collect();
            let known = ops
                .iter()
                .map(|o| o.ret.is_some() && o.ret_time <= t)
                .collect();
            (keep, known)
        };
        let (mut lo, mut hi) = (0usize, times.len());
        // Invariant: cutting at times[hi] is inconsistent (hi = len: no cut).
        while lo < hi {
            let mid = (lo + hi) / 2;
            let (k, kn) = cut(times[mid], &sh.ops);
            if sh.illegal(&k, &kn) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        if hi < times.len() {
            (keep, known) = cut(times[hi], &sh.ops);
        }
    }
    // 2. Forget results, chunk by chunk, while it stays inconsistent.
    let mut chunk = (0..n).filter(|&i| keep[i] && known[i]).count().div_ceil(2);
    while chunk >= 1 && sh.steps_left > 0 {
        let cand: Vec<usize> = (0..n).filter(|&i| keep[i] && known[i]).collect();
        for part in cand.chunks(chunk) {
            let mut trial = known.clone();
            for &i in part {
                trial[i] = false;
            }
            if sh.illegal(&keep, &trial) {
                known = trial;
            }
        }
        if chunk == 1 {
            break;
        }
        chunk = chunk.div_ceil(2).min(chunk - 1);
    }
    let mut involved: Vec<usize> = (0..n).filter(|&i| keep[i] && known[i]).collect();
    if explain_steps == 0 || involved.is_empty() {
        involved = vec![blocked];
    }
    involved.sort_by_key(|&i| (sh.ops[i].call, i));
    let reason = reason(
        spec,
        history,
        ids,
        &sh.ops,
        &involved,
        blocked,
        longest.len(),
        &state,
        model,
    );
    Inconsistency {
        model,
        part: None,
        longest: longest.iter().map(|&i| ids[i]).collect(),
        blocked: ids[blocked],
        involved: involved.iter().map(|&i| ids[i]).collect(),
        reason,
        steps: 0,
    }
}

/// A time as the reader knows it: milliseconds for a run.
pub(crate) fn fmt_time(t: u64, sim: bool) -> String {
    if sim {
        crate::error::short_value(&format!("{} ms", (t as f64 / 1e6 * 1e3).round() / 1e3))
    } else {
        t.to_string()
    }
}

#[allow(clippy::too_many_arguments)]
fn reason<S: SequentialSpec>(
    spec: &S,
    history: &LinHistory<S::Op, S::Ret>,
    ids: &[usize],
    ops: &[POp<'_, S>],
    involved: &[usize],
    blocked: usize,
    longest: usize,
    state: &S::State,
    model: Model,
) -> String {
    let sim = history.is_sim_time();
    let name = |i: usize| {
        format!(
            "{} (client {})",
            spec.describe(ops[i].op, ops[i].ret),
            ops[i].client
        )
    };
    // The operation to speak about: the blocked one if it is involved,
    // else the involved one that returned last.
    let b = if involved.contains(&blocked) {
        blocked
    } else {
        *involved
            .iter()
            .max_by_key(|&&i| (ops[i].ret_time, i))
            .unwrap_or(&blocked)
    };
    let mut s = format!("{} cannot be placed", name(b));
    let others: Vec<usize> = involved.iter().copied().filter(|&i| i != b).collect();
    match model {
        Model::Linearizable => {
            let before: Vec<usize> = others
                .iter()
                .copied()
                .filter(|&i| ops[i].ret_time < ops[b].call)
                .collect();
            let during: Vec<usize> = others
                .iter()
                .copied()
                .filter(|&i| ops[i].ret_time >= ops[b].call)
                .collect();
            if !before.is_empty() {
                let list: Vec<String> = before
                    .iter()
                    .map(|&i| format!("{} at {}", name(i), fmt_time(ops[i].ret_time, sim)))
                    .collect();
                s += &format!(
                    ": it began (at {}) after {} had completed",
                    fmt_time(ops[b].call, sim),
                    join(&list)
                );
            }
            if !during.is_empty() {
                let list: Vec<String> = during.iter().map(|&i| name(i)).collect();
                s += &format!(
                    "{} {} ran at the same time",
                    if before.is_empty() { ": " } else { ", and " },
                    join(&list)
                );
            }
        }
        Model::SequentiallyConsistent => {
            if !others.is_empty() {
                let list: Vec<String> = others.iter().map(|&i| name(i)).collect();
                s += &format!(" together with {}", join(&list));
            }
            s += " in any order that keeps each client's own order";
        }
    }
    let (would, _) = spec.step(state, ops[b].op);
    s += &format!(
        ". The longest legal order found ({longest} of {} operations) ends in state {}, where it \
         would be {}",
        ids.len(),
        spec.describe_state(state),
        spec.describe(ops[b].op, Some(&would)),
    );
    s
}

fn join(items: &[String]) -> String {
    match items.len() {
        0 => String::new(),
        1 => items[0].clone(),
        _ => format!(
            "{} and {}",
            items[..items.len() - 1].join(", "),
            items[items.len() - 1]
        ),
    }
}
