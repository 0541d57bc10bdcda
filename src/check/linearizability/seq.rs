//! The search for sequential consistency: the same memo and budget as the
//! linearizability search, but an operation may come next whenever its
//! client's earlier operations are done, whatever the other clients did
//! and whenever it ran (Lamport 1979: real-time order between clients
//! dropped, each client's program order kept).

use super::memo::{hash_state, Done, Insert, Memo, Meter};
use super::search::{Found, POp};
use super::spec::SequentialSpec;
use std::collections::BTreeMap;

/// Searches for a sequentially consistent order of `ops` (one part). An
/// operation of unknown outcome may take effect anywhere after its
/// client's earlier operations, or never.
pub(crate) fn sequentialize<S: SequentialSpec>(
    spec: &S,
    ops: &[POp<'_, S>],
    meter: &mut Meter,
) -> Found {
    let n = ops.len();
    // Each client's known operations in program order.
    let mut by_client: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    let mut idx: Vec<usize> = (0..n).collect();
    idx.sort_by_key(|&i| (ops[i].client, ops[i].call, i));
    for &i in &idx {
        if ops[i].ret.is_some() {
            by_client.entry(ops[i].client).or_default().push(i);
        }
    }
    let chains: Vec<Vec<usize>> = by_client.values().cloned().collect();
    let lane_of: BTreeMap<usize, usize> =
        by_client.keys().enumerate().map(|(k, &c)| (c, k)).collect();
    // Unknown operations: (op, lane, known ops of its client before it).
    let unknown: Vec<(usize, Option<usize>, usize)> = idx
        .iter()
        .filter(|&&i| ops[i].ret.is_none())
        .map(|&i| {
            let lane = lane_of.get(&ops[i].client).copied();
            let before = lane.map_or(0, |l| {
                chains[l]
                    .iter()
                    .filter(|&&j| (ops[j].call, j) < (ops[i].call, i))
                    .count()
            });
            (i, lane, before)
        })
        .collect();
    let lanes = chains.len();
    let mut pos = vec![0usize; lanes];
    let mut done_unknown = vec![false; unknown.len()];
    let mut known_left: usize = chains.iter().map(Vec::len).sum();
    let mut done = Done::new(n, |i| ops[i].ret.is_none());
    let mut memo: Memo<S::State> = Memo::new(&done);
    let mut state = spec.init();
    // Stack: (candidate taken, op, state before).
    let mut stack: Vec<(usize, usize, S::State)> = Vec::new();
    let mut longest: Vec<usize> = Vec::new();
    let mut cand = 0usize;
    let ops_of = |stack: &[(usize, usize, S::State)]| stack.iter().map(|f| f.1).collect::<Vec<_>>();
    let found = loop {
        if known_left == 0 {
            break Found::Order(ops_of(&stack));
        }
        if cand >= lanes + unknown.len() {
            if stack.len() > longest.len() {
                longest = ops_of(&stack);
            }
            let Some((c, i, prev)) = stack.pop() else {
                break Found::Illegal(longest);
            };
            state = prev;
            done.flip(i);
            if c < lanes {
                pos[c] -= 1;
                known_left += 1;
            } else {
                done_unknown[c - lanes] = false;
            }
            cand = c + 1;
            continue;
        }
        let i = if cand < lanes {
            chains[cand].get(pos[cand]).copied()
        } else {
            let (i, lane, before) = unknown[cand - lanes];
            let ready = lane.is_none_or(|l| pos[l] >= before);
            (ready && !done_unknown[cand - lanes]).then_some(i)
        };
        let Some(i) = i else {
            cand += 1;
            continue;
        };
        if !meter.step() {
            if stack.len() > longest.len() {
                longest = ops_of(&stack);
            }
            break Found::OutOfBudget(longest);
        }
        let Some(next) = spec.apply(&state, ops[i].op, ops[i].ret) else {
            cand += 1;
            continue;
        };
        // An unknown operation that changes nothing now: skip (see `memo`).
        if ops[i].ret.is_none() && next == state {
            cand += 1;
            continue;
        }
        done.flip(i);
        let h = done.hash ^ hash_state(&next).rotate_left(32);
        match memo.insert(h, &done, &next, meter.max_bytes) {
            Insert::New => {
                if cand < lanes {
                    pos[cand] += 1;
                    known_left -= 1;
                } else {
                    done_unknown[cand - lanes] = true;
                }
                stack.push((cand, i, std::mem::replace(&mut state, next)));
                cand = 0;
            }
            Insert::Seen => {
                done.flip(i);
                cand += 1;
            }
            Insert::Full => {
                if stack.len() > longest.len() {
                    longest = ops_of(&stack);
                }
                break Found::OutOfBudget(longest);
            }
        }
    };
    meter.note(memo.len(), memo.bytes());
    found
}
