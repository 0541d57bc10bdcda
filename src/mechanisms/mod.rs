//! The book's mechanisms, one folder each: what a chapter teaches, written
//! once and used by every chapter that needs it.
//!
//! Each is reachable from the crate root as well (`thinkdist::txn`, …), and
//! inside the crate as `crate::txn::…`. A mechanism may use the kernel
//! ([`crate::sim`], async processes included), the checkers
//! ([`crate::check`]) and the measurements ([`crate::measure`]), and another
//! mechanism it builds on, never a chapter or the charts.
//!
//! | module | chapter | what |
//! |---|---|---|
//! | [`failure`] | 03 | failure models: omission, slow node, gray failure |
//! | [`detect`] | 03 | failure detectors: heartbeat timeout, phi accrual |
//! | [`retry`] | 03 | retries, backoff, jitter, hedged requests |
//! | [`delivery`] | 04 | at-most-once, at-least-once, exactly-once processing |
//! | [`txn`] | 05, 06 | transactions: undo and redo logging, isolation levels, two-phase commit, sagas |
//! | [`partition`] | 07 | partitioning: modulo, consistent, rendezvous and jump hashing, ranges with splits |
//! | [`replication`] | 08 | leader–follower and leaderless quorums, versions, read repair, hinted handoff |
//! | [`raft`] | 10 | Raft: leader election, log replication, commitment, persistence, pre-vote and check-quorum; its safety invariants |
//! | [`service`] | 01, 02, 12 | services clients call: a client with timeouts and retries, a server with a queue, load balancing, client-side protection, a cluster with incidents |
//! | [`consensus`] | 09 | single-decree Paxos with planted flaws; the checkers are in `check::consensus` |
//! | [`durable`] | 11 | durable executions: journaled steps, replay with a non-determinism check, durable timers, effects with idempotency keys |

pub mod consensus;
pub mod delivery;
pub mod detect;
pub mod durable;
pub mod failure;
pub mod partition;
pub mod raft;
pub mod replication;
pub mod retry;
pub mod service;
pub mod txn;
