//! The front door: split a history into parts, search each, assemble the
//! verdict.

use super::explain::explain;
use super::history::LinHistory;
use super::memo::Meter;
use super::search::{linearize, Found, POp};
use super::seq::sequentialize;
use super::spec::SequentialSpec;
use super::verdict::{Budget, Explored, LinVerdict, Model, Witness};
use crate::error::Result;
use std::collections::BTreeMap;

/// Decides whether `history` is linearizable with respect to `spec`:
/// whether one order of its operations explains every result and respects
/// real time (an operation that completed before another was invoked comes
/// first). Operations of unknown outcome may take effect at any time after
/// their invocation, or never. A spec with a [partition
/// key](SequentialSpec::partition) is checked one part at a time.
///
/// Answers [`LinVerdict::Unknown`] when `budget` runs out; never runs
/// longer or holds more memo than it allows. The same history gives the
/// same verdict and witness on every run. Errors: a budget out of range.
pub fn check_linearizable<S: SequentialSpec>(
    spec: &S,
    history: &LinHistory<S::Op, S::Ret>,
    budget: Budget,
) -> Result<LinVerdict> {
    check(spec, history, budget, Model::Linearizable)
}

/// Decides whether `history` is sequentially consistent with respect to
/// `spec`: whether one order explains every result and keeps each client's
/// own order of operations (real time between clients does not count). An
/// operation of unknown outcome may take effect anywhere after its
/// client's earlier operations, or never. Sequential consistency is not
/// local (a map can be sequentially consistent key by key and not as a
/// whole), so the history is checked whole, whatever the partition key.
pub fn check_sequential<S: SequentialSpec>(
    spec: &S,
    history: &LinHistory<S::Op, S::Ret>,
    budget: Budget,
) -> Result<LinVerdict> {
    check(spec, history, budget, Model::SequentiallyConsistent)
}

pub(crate) fn pops<'a, S: SequentialSpec>(
    history: &'a LinHistory<S::Op, S::Ret>,
    ids: &[usize],
) -> Vec<POp<'a, S>> {
    ids.iter()
        .map(|&i| {
            let o = &history.ops()[i];
            POp {
                op: &o.op,
                ret: o.result(),
                call: o.call,
                ret_time: if o.is_unknown() {
                    u64::MAX
                } else {
                    o.ret.unwrap_or(u64::MAX)
                },
                client: o.client,
            }
        })
        .collect()
}

/// The parts: by partition key when every operation has one, else whole.
fn parts<S: SequentialSpec>(
    spec: &S,
    history: &LinHistory<S::Op, S::Ret>,
    model: Model,
) -> Vec<(Option<u64>, Vec<usize>)> {
    let all = || vec![(None, (0..history.len()).collect())];
    if model == Model::SequentiallyConsistent {
        return all();
    }
    let mut by_key: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    for (i, o) in history.ops().iter().enumerate() {
        match spec.partition(&o.op) {
            Some(k) => by_key.entry(k).or_default().push(i),
            None => return all(),
        }
    }
    by_key.into_iter().map(|(k, v)| (Some(k), v)).collect()
}

fn check<S: SequentialSpec>(
    spec: &S,
    history: &LinHistory<S::Op, S::Ret>,
    budget: Budget,
    model: Model,
) -> Result<LinVerdict> {
    budget.validate()?;
    let parts = parts(spec, history, model);
    let mut meter = Meter::new(budget.max_steps, budget.max_memo_bytes);
    // (point, part, position, op id) of every linearized operation.
    let mut placed: Vec<(u64, usize, usize, usize)> = Vec::new();
    let mut unknown: Option<Explored> = None;
    let mut done = 0;
    for (p, (key, ids)) in parts.iter().enumerate() {
        let ops = pops::<S>(history, ids);
        let found = match model {
            Model::Linearizable => linearize(spec, &ops, &mut meter),
            Model::SequentiallyConsistent => sequentialize(spec, &ops, &mut meter),
        };
        match found {
            Found::Order(order) => {
                done += 1;
                let mut point = 0u64;
                for (k, &i) in order.iter().enumerate() {
                    point = point.max(ops[i].call);
                    placed.push((point, p, k, ids[i]));
                }
            }
            Found::Illegal(longest) => {
                let steps = meter.steps;
                let mut x = explain(
                    spec,
                    history,
                    ids,
                    &longest,
                    model,
                    &meter,
                    budget.explain_steps,
                );
                x.part = *key;
                x.steps = steps;
                return Ok(LinVerdict::Inconsistent(x));
            }
            Found::OutOfBudget(longest) => {
                if unknown.is_none() {
                    unknown = Some(Explored {
                        model,
                        steps: 0,
                        memo_entries: 0,
                        memo_bytes: 0,
                        parts_done: done,
                        parts: parts.len(),
                        longest: longest.iter().map(|&i| ids[i]).collect(),
                        part_ops: ids.len(),
                    });
                }
            }
        }
    }
    if let Some(mut e) = unknown {
        e.steps = meter.steps;
        e.memo_entries = meter.peak_entries;
        e.memo_bytes = meter.peak_bytes;
        return Ok(LinVerdict::Unknown(e));
    }
    if model == Model::Linearizable {
        placed.sort_unstable();
    }
    let order = placed.iter().map(|x| x.3).collect();
    let points = match model {
        Model::Linearizable => placed.iter().map(|x| x.0).collect(),
        Model::SequentiallyConsistent => Vec::new(),
    };
    Ok(LinVerdict::Consistent(Witness {
        model,
        order,
        points,
        steps: meter.steps,
    }))
}
