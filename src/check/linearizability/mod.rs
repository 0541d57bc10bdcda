//! Linearizability: is there one order of the operations that explains
//! every result and respects real time? (Chapter 8.)
//!
//! A replicated object is **linearizable** (Herlihy and Wing 1990) if every
//! history of it could have come from a single copy executing the
//! operations one at a time: there is an order of all operations such that
//! (1) each result is what the [`SequentialSpec`] returns when the
//! operations run in that order, and (2) if an operation completed before
//! another was invoked, it comes first. Each operation then appears to
//! take effect at one instant, its *linearization point*, between its
//! invocation and its response. **Sequential consistency** (Lamport 1979)
//! keeps (1) but replaces (2) with each client's own order: a read may
//! return a value older than one another client already saw written.
//!
//! An operation whose reply never came (lost, timed out, a crash) has an
//! unknown [`Outcome`]: it may have taken effect at any time after its
//! invocation, or never, and its result is unconstrained (as in Knossos and
//! Porcupine). A failure known to have had no effect is simply left out.
//!
//! # Checking
//!
//! [`check_linearizable`] searches for the order with the algorithm of
//! Wing and Gong as improved by Lowe and used by Porcupine: the calls and
//! returns in time order in a linked list; at each step, try the operations
//! whose call comes before the first return still pending; linearize one if
//! the spec accepts its result and the pair (operations done, state) is new;
//! backtrack when the first pending return cannot be reached. Deciding
//! linearizability is NP-complete (Gibbons and Korach 1997), so the search
//! has a [`Budget`] after which it answers [`LinVerdict::Unknown`]; on
//! histories from real systems it is fast because the memo collapses the
//! orders of concurrent operations that reach the same state, and because
//! a key-value history is checked key by key (linearizability is local).
//! [`check_sequential`] answers the same question for sequential
//! consistency with the same memo and budget.
//!
//! The verdict is [`LinVerdict::Consistent`] with a witness order and
//! linearization points, [`LinVerdict::Inconsistent`] with the operations
//! whose results contradict each other and the reason in words, or
//! [`LinVerdict::Unknown`] with what was explored.
//!
//! ```
//! use thinkdist::check::linearizability::*;
//!
//! // Client 0 writes 1; later, client 1 reads the old value 0.
//! let mut h = LinHistory::new();
//! h.ok(0, RegOp::Write(1), 0, RegRet::Ok, 10)?;
//! h.ok(1, RegOp::Read, 20, RegRet::Value(0), 30)?;
//! let v = check_linearizable(&Register::default(), &h, Budget::default())?;
//! assert!(v.is_inconsistent());
//! assert!(v.to_string().contains("had completed"));
//!
//! // Without real time between clients, the stale read is allowed:
//! let v = check_sequential(&Register::default(), &h, Budget::default())?;
//! assert_eq!(v.witness().unwrap().order, vec![1, 0]); // the read first
//! # Ok::<(), thinkdist::Error>(())
//! ```
//!
//! | file | what |
//! |---|---|
//! | `spec.rs` | [`SequentialSpec`]: what a correct answer is |
//! | `specs.rs` | [`Register`], [`KvMap`], [`FifoQueue`], [`Set`] |
//! | `history.rs` | [`LinHistory`]: by hand, or from a run |
//! | `jsonl.rs` | histories as JSON lines (format there) |
//! | `search.rs`, `memo.rs` | the linearizability search and its memo |
//! | `seq.rs` | the sequential-consistency search |
//! | `check.rs` | [`check_linearizable`], [`check_sequential`] |
//! | `explain.rs` | the operations involved, the reason in words |
//! | `generate.rs` | seeded histories for tests, benches and notebooks |

mod check;
mod explain;
mod generate;
mod history;
pub mod jsonl;
mod memo;
mod search;
mod seq;
mod spec;
mod specs;
mod verdict;

pub use check::{check_linearizable, check_sequential};
pub use generate::{adversarial_history, kv_history, register_history, stale_read, GenParams};
pub use history::{LinHistory, LinOp, Outcome};
pub use spec::{key_of, SequentialSpec};
pub use specs::{
    FifoQueue, KvMap, KvOp, KvRet, QueueOp, QueueRet, RegOp, RegRet, Register, Set, SetOp, SetRet,
};
pub use verdict::{Budget, Explored, Inconsistency, LinVerdict, Model, Witness, MAX_MEMO_BYTES};
