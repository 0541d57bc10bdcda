//! Sequential specifications: what a correct answer is, one operation at a
//! time.

use std::fmt::Debug;
use std::hash::Hash;

/// A data type's behaviour when operations run one at a time: the state it
/// starts in, and for each operation in each state, the result and the next
/// state. The checker asks whether a concurrent history could have come
/// from it.
///
/// Implement [`init`](SequentialSpec::init) and
/// [`step`](SequentialSpec::step); the rest have defaults. A counter in a
/// notebook cell:
///
/// ```
/// use thinkdist::check::linearizability::SequentialSpec;
///
/// struct Counter;
/// impl SequentialSpec for Counter {
///     type State = u64;
///     type Op = &'static str;   // "incr" or "get"
///     type Ret = u64;
///     fn init(&self) -> u64 { 0 }
///     fn step(&self, n: &u64, op: &&'static str) -> (u64, u64) {
///         if *op == "incr" { (n + 1, n + 1) } else { (*n, *n) }
///     }
/// }
/// assert_eq!(Counter.step(&4, &"incr"), (5, 5));
/// ```
///
/// The state is compared and hashed: the checker remembers which (set of
/// operations done, state) pairs it has already explored, and two orders
/// that reach equal states are one. Keep configuration out of it.
pub trait SequentialSpec {
    /// The object's state between operations.
    type State: Clone + Eq + Hash + Debug;
    /// An operation as invoked (with its arguments).
    type Op: Clone + Debug;
    /// What an operation returns.
    type Ret: Clone + PartialEq + Debug;

    /// The state before any operation.
    fn init(&self) -> Self::State;

    /// Runs `op` alone in `state`: its result and the state after it.
    fn step(&self, state: &Self::State, op: &Self::Op) -> (Self::Ret, Self::State);

    /// The state after `op` in `state` if `ret` is a result it may return
    /// there (`None` for `ret`: the result is unknown, anything goes), or
    /// `None` if it may not. The default runs [`step`](Self::step) and
    /// compares; override it for a data type that may legally return more
    /// than one result (a set's "take any element").
    fn apply(
        &self,
        state: &Self::State,
        op: &Self::Op,
        ret: Option<&Self::Ret>,
    ) -> Option<Self::State> {
        let (r, next) = self.step(state, op);
        match ret {
            Some(ret) if *ret != r => None,
            _ => Some(next),
        }
    }

    /// Which independent part of the object `op` touches (a key of a map),
    /// or `None` (the default) if the object is one piece. Operations on
    /// different parts never constrain each other, so the checker checks
    /// each part alone, which is far faster: a history is linearizable if
    /// and only if each part is (linearizability is *local*, Herlihy and
    /// Wing 1990). If any operation returns `None`, the history is checked
    /// whole. Hash a text key with [`key_of`].
    fn partition(&self, op: &Self::Op) -> Option<u64> {
        let _ = op;
        None
    }

    /// An operation and its result in words, for verdicts and charts
    /// (`ret` is `None` when the result is unknown). The default uses
    /// `Debug`.
    fn describe(&self, op: &Self::Op, ret: Option<&Self::Ret>) -> String {
        match ret {
            Some(r) => format!("{op:?} → {r:?}"),
            None => format!("{op:?} → ?"),
        }
    }

    /// A state in words (the default uses `Debug`).
    fn describe_state(&self, state: &Self::State) -> String {
        format!("{state:?}")
    }
}

/// A partition number for a text key (XXH3, stable across versions and
/// machines), for [`SequentialSpec::partition`]. Two keys that collide are
/// only checked together, which is still correct.
pub fn key_of(key: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(key.as_bytes())
}
