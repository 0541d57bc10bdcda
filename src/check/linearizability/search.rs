//! The linearizability search of Wing and Gong (1993) as improved by Lowe
//! (2017) and used by Porcupine: calls and returns in one doubly linked
//! list in time order; an operation may be linearized next if its call
//! comes before the first return still in the list; linearizing it lifts
//! its call and return out of the list, backtracking puts them back; a
//! memo of (operations linearized, state) prunes orders already explored.

use super::memo::{hash_state, Done, Insert, Memo, Meter};
use super::spec::SequentialSpec;

/// One operation of a part being checked: borrowed from the history, its
/// result possibly withheld (`ret: None`, return at +∞) by the explainer.
pub(crate) struct POp<'a, S: SequentialSpec> {
    pub op: &'a S::Op,
    pub ret: Option<&'a S::Ret>,
    pub call: u64,
    /// Return time; `u64::MAX` for an unknown outcome.
    pub ret_time: u64,
    pub client: usize,
}

impl<S: SequentialSpec> Clone for POp<'_, S> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<S: SequentialSpec> Copy for POp<'_, S> {}

/// What one search found; orders are indices into the part.
pub(crate) enum Found {
    /// A legal order of every known operation (and of the unknown ones it
    /// needed).
    Order(Vec<usize>),
    /// No legal order; the longest legal prefix found.
    Illegal(Vec<usize>),
    /// The budget ran out; the longest legal prefix found so far.
    OutOfBudget(Vec<usize>),
}

const NIL: u32 = u32::MAX;

/// The call/return list, in arrays: node 0 is the head, nodes `1..=2n`
/// the calls and returns in time order.
struct List {
    next: Vec<u32>,
    prev: Vec<u32>,
    /// The operation of a node.
    op: Vec<u32>,
    /// For a call node, its return node; `NIL` for a return node.
    ret: Vec<u32>,
}

impl List {
    fn new<S: SequentialSpec>(ops: &[POp<'_, S>]) -> List {
        // (time, 0 = call / 1 = return, op): calls before returns at one
        // instant, so operations that touch at an instant are concurrent.
        let mut ev: Vec<(u64, u8, u32)> = Vec::with_capacity(ops.len() * 2);
        for (i, o) in ops.iter().enumerate() {
            ev.push((o.call, 0, i as u32));
            ev.push((o.ret_time, 1, i as u32));
        }
        ev.sort_unstable();
        let n = ev.len() + 1;
        let mut l = List {
            next: (1..=n as u32).collect(),
            prev: (0..n as u32).map(|k| k.wrapping_sub(1)).collect(),
            op: vec![NIL; n],
            ret: vec![NIL; n],
        };
        l.next[n - 1] = NIL;
        l.prev[0] = NIL;
        let mut ret_node = vec![NIL; ops.len()];
        for (k, &(_, kind, i)) in ev.iter().enumerate().rev() {
            let node = (k + 1) as u32;
            l.op[node as usize] = i;
            if kind == 1 {
                ret_node[i as usize] = node;
            } else {
                l.ret[node as usize] = ret_node[i as usize];
            }
        }
        l
    }
    #[inline]
    fn lift(&mut self, e: u32) {
        let (p, n) = (self.prev[e as usize], self.next[e as usize]);
        self.next[p as usize] = n;
        self.prev[n as usize] = p;
        let m = self.ret[e as usize];
        let (p, n) = (self.prev[m as usize], self.next[m as usize]);
        self.next[p as usize] = n;
        if n != NIL {
            self.prev[n as usize] = p;
        }
    }
    #[inline]
    fn unlift(&mut self, e: u32) {
        let m = self.ret[e as usize];
        let (p, n) = (self.prev[m as usize], self.next[m as usize]);
        self.next[p as usize] = m;
        if n != NIL {
            self.prev[n as usize] = m;
        }
        let (p, n) = (self.prev[e as usize], self.next[e as usize]);
        self.next[p as usize] = e;
        self.prev[n as usize] = e;
    }
}

/// Searches for a linearization of `ops` (one part) against `spec`.
pub(crate) fn linearize<S: SequentialSpec>(
    spec: &S,
    ops: &[POp<'_, S>],
    meter: &mut Meter,
) -> Found {
    let n = ops.len();
    let mut list = List::new(ops);
    let mut done = Done::new(n, |i| ops[i].ret.is_none());
    let mut memo: Memo<S::State> = Memo::new(&done);
    let mut known_left = ops.iter().filter(|o| o.ret.is_some()).count();
    let mut state = spec.init();
    // The stack of linearized calls, with the state before each.
    let mut calls: Vec<(u32, S::State)> = Vec::new();
    let mut longest: Vec<usize> = Vec::new();
    let order = |calls: &[(u32, S::State)], list: &List| -> Vec<usize> {
        calls
            .iter()
            .map(|(e, _)| list.op[*e as usize] as usize)
            .collect()
    };
    // Candidates in list order (by call time). Trying the known ones
    // first, or the unknown ones first, was measured too: known-first is
    // ten times faster on Jepsen's etcd logs but runs out of budget on some
    // generated histories whose timed-out writes did take effect.
    let mut entry = list.next[0];
    let found = loop {
        if known_left == 0 {
            break Found::Order(order(&calls, &list));
        }
        let is_call = entry != NIL && list.ret[entry as usize] != NIL;
        if is_call {
            let i = list.op[entry as usize] as usize;
            let o = &ops[i];
            // A call: try to linearize its operation now.
            if !meter.step() {
                if calls.len() > longest.len() {
                    longest = order(&calls, &list);
                }
                break Found::OutOfBudget(longest);
            }
            match spec.apply(&state, o.op, o.ret) {
                // An unknown operation that changes nothing now: skip (see
                // `memo`).
                Some(next) if o.ret.is_none() && next == state => entry = list.next[entry as usize],
                Some(next) => {
                    done.flip(i);
                    let h = done.hash ^ hash_state(&next).rotate_left(32);
                    match memo.insert(h, &done, &next, meter.max_bytes) {
                        Insert::New => {
                            if o.ret.is_some() {
                                known_left -= 1;
                            }
                            calls.push((entry, std::mem::replace(&mut state, next)));
                            list.lift(entry);
                            entry = list.next[0];
                        }
                        Insert::Seen => {
                            done.flip(i);
                            entry = list.next[entry as usize];
                        }
                        Insert::Full => {
                            if calls.len() > longest.len() {
                                longest = order(&calls, &list);
                            }
                            break Found::OutOfBudget(longest);
                        }
                    }
                }
                None => entry = list.next[entry as usize],
            }
        } else {
            // The first return in the list: its operation must come before
            // anything later, and nothing tried so far works. Backtrack.
            // (With only unknown operations' returns left, `known_left`
            // would be 0.)
            if calls.len() > longest.len() {
                longest = order(&calls, &list);
            }
            let Some((e, prev)) = calls.pop() else {
                break Found::Illegal(longest);
            };
            state = prev;
            let j = list.op[e as usize] as usize;
            done.flip(j);
            if ops[j].ret.is_some() {
                known_left += 1;
            }
            list.unlift(e);
            entry = list.next[e as usize];
        }
    };
    meter.note(memo.len(), memo.bytes());
    found
}
