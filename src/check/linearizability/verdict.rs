//! What a check answers: consistent (with a witness order), inconsistent
//! (with the operations that contradict each other and why), or unknown
//! (the budget ran out), and the budget itself.

use crate::error::{check_count, limits, Error, Result};
use serde::Serialize;
use std::fmt;

/// The consistency model a verdict is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Model {
    /// Linearizability: one order of the operations that explains every
    /// result and puts an operation after every operation that completed
    /// before it was invoked (real time).
    Linearizable,
    /// Sequential consistency: one order that explains every result and
    /// keeps each client's own order; real time between clients does not
    /// count.
    SequentiallyConsistent,
}

impl Model {
    /// "linearizable" or "sequentially consistent".
    pub fn name(self) -> &'static str {
        match self {
            Model::Linearizable => "linearizable",
            Model::SequentiallyConsistent => "sequentially consistent",
        }
    }
}

/// How much a check may compute before it answers
/// [`LinVerdict::Unknown`]. The default (10^7 steps, 512 MiB of memo,
/// 10^5 steps to explain a violation) answers within about a second on
/// one core (a step takes 50–100 ns); histories of a few thousand
/// operations from a run need a small part of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Budget {
    /// Most specification steps tried (each is one "could this operation
    /// come next?"), all parts together; at most `limits::EVENTS` (10^8).
    pub max_steps: u64,
    /// Most bytes the memo of explored (operations, state) pairs may hold
    /// at once, not counting memory the states themselves point to; at
    /// most 4 GiB.
    pub max_memo_bytes: usize,
    /// Most steps spent explaining an inconsistency (finding the
    /// operations involved, see [`Inconsistency::involved`]), on top of
    /// `max_steps`; 0 reports only the longest legal order and the
    /// operation that cannot follow it (what Porcupine reports).
    pub explain_steps: u64,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            max_steps: 10_000_000,
            max_memo_bytes: 512 << 20,
            explain_steps: 100_000,
        }
    }
}

/// Most bytes a memo may be given.
pub const MAX_MEMO_BYTES: usize = 4 << 30;

impl Budget {
    /// The default budget with at most `n` steps.
    pub fn steps(n: u64) -> Budget {
        Budget {
            max_steps: n,
            ..Budget::default()
        }
    }
    /// This budget with at most `bytes` of memo.
    pub fn memo_bytes(mut self, bytes: usize) -> Budget {
        self.max_memo_bytes = bytes;
        self
    }
    /// This budget with at most `steps` for explaining an inconsistency
    /// (0: no explanation beyond the longest legal order).
    pub fn explain_steps(mut self, steps: u64) -> Budget {
        self.explain_steps = steps;
        self
    }
    pub(crate) fn validate(&self) -> Result<()> {
        if self.explain_steps as f64 > limits::EVENTS {
            return Err(Error::too_big(
                "Budget::explain_steps",
                self.explain_steps,
                "steps",
                limits::EVENTS as u64,
            ));
        }
        if self.max_steps == 0 {
            return Err(Error::invalid("Budget::max_steps", 0, "at least 1 step"));
        }
        if self.max_steps as f64 > limits::EVENTS {
            return Err(Error::too_big(
                "Budget::max_steps",
                self.max_steps,
                "steps",
                limits::EVENTS as u64,
            ));
        }
        check_count(
            "Budget::max_memo_bytes",
            self.max_memo_bytes,
            4096,
            MAX_MEMO_BYTES,
            "bytes of memo",
        )?;
        Ok(())
    }
}

/// The answer of a check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum LinVerdict {
    /// An order exists: the history is linearizable (or sequentially
    /// consistent, for [`check_sequential`](super::check_sequential)).
    Consistent(Witness),
    /// No order exists; here is why.
    Inconsistent(Inconsistency),
    /// The budget ran out before an answer.
    Unknown(Explored),
}

/// A legal order: the proof that a history is consistent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Witness {
    /// The model it satisfies.
    pub model: Model,
    /// Operation ids (indices into the history) in a legal order: every
    /// operation with a known result, and the operations of unknown outcome
    /// taken as effective. Those left out may never have taken effect (or
    /// did after everything else).
    pub order: Vec<usize>,
    /// For linearizability, one linearization point per entry of `order`:
    /// a time within the operation's interval, non-decreasing along the
    /// order (the latest of its invocation and the point before). Empty
    /// for sequential consistency, which has no such points.
    pub points: Vec<u64>,
    /// Specification steps the search took.
    pub steps: u64,
}

/// Why no legal order exists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Inconsistency {
    /// The model violated.
    pub model: Model,
    /// The part (partition key) that cannot be ordered, if the history was
    /// split.
    pub part: Option<u64>,
    /// The longest legal order found (Porcupine's "partial linearization"):
    /// operation ids.
    pub longest: Vec<usize>,
    /// The operation that cannot be placed after `longest`.
    pub blocked: usize,
    /// The operations whose results contradict each other: a small set
    /// such that, with every other operation of the part taken as of
    /// unknown outcome (allowed anywhere after its call, or never), no
    /// legal order exists; within the explanation budget, no operation can
    /// be left out. Sorted by invocation. Only `blocked` when
    /// `Budget::explain_steps` is 0.
    pub involved: Vec<usize>,
    /// The reason in words.
    pub reason: String,
    /// Specification steps the search took (the explanation's own search
    /// not counted).
    pub steps: u64,
}

/// What a check explored before its budget ran out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explored {
    /// The model checked.
    pub model: Model,
    /// Specification steps taken.
    pub steps: u64,
    /// The most (operations, state) pairs remembered at once.
    pub memo_entries: usize,
    /// Bytes that memo held.
    pub memo_bytes: usize,
    /// Parts answered (consistent) and parts in all.
    pub parts_done: usize,
    /// Parts in all.
    pub parts: usize,
    /// The longest legal order found in the part that ran out.
    pub longest: Vec<usize>,
    /// Operations in that part.
    pub part_ops: usize,
}

impl LinVerdict {
    /// True if an order exists.
    pub fn is_consistent(&self) -> bool {
        matches!(self, LinVerdict::Consistent(_))
    }
    /// True if no order exists.
    pub fn is_inconsistent(&self) -> bool {
        matches!(self, LinVerdict::Inconsistent(_))
    }
    /// True if the budget ran out.
    pub fn is_unknown(&self) -> bool {
        matches!(self, LinVerdict::Unknown(_))
    }
    /// The witness, if consistent.
    pub fn witness(&self) -> Option<&Witness> {
        match self {
            LinVerdict::Consistent(w) => Some(w),
            _ => None,
        }
    }
    /// The inconsistency, if inconsistent.
    pub fn inconsistency(&self) -> Option<&Inconsistency> {
        match self {
            LinVerdict::Inconsistent(x) => Some(x),
            _ => None,
        }
    }
    /// The model checked.
    pub fn model(&self) -> Model {
        match self {
            LinVerdict::Consistent(w) => w.model,
            LinVerdict::Inconsistent(x) => x.model,
            LinVerdict::Unknown(e) => e.model,
        }
    }
    /// Specification steps taken.
    pub fn steps(&self) -> u64 {
        match self {
            LinVerdict::Consistent(w) => w.steps,
            LinVerdict::Inconsistent(x) => x.steps,
            LinVerdict::Unknown(e) => e.steps,
        }
    }
}

impl fmt::Display for LinVerdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinVerdict::Consistent(w) => write!(
                f,
                "{}: a legal order of {} operations exists ({} steps)",
                w.model.name(),
                w.order.len(),
                w.steps
            ),
            LinVerdict::Inconsistent(x) => write!(f, "not {}: {}", x.model.name(), x.reason),
            LinVerdict::Unknown(e) => write!(
                f,
                "unknown whether {}: the budget ran out after {} steps ({} states remembered, \
                 {:.1} MiB) in part {} of {}, whose longest legal order found covers {} of its {} \
                 operations; raise the Budget or check a shorter history",
                e.model.name(),
                e.steps,
                e.memo_entries,
                e.memo_bytes as f64 / (1u64 << 20) as f64,
                e.parts_done + 1,
                e.parts,
                e.longest.len(),
                e.part_ops
            ),
        }
    }
}
