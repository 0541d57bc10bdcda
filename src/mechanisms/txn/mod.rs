//! Transactions: atomicity and durability by logging, isolation levels,
//! two-phase commit.
//!
//! | module | what |
//! |---|---|
//! | [`logging`] | atomicity and durability: undo and redo logging, and two broken variants |
//! | [`checkpoint`] | redo logging with checkpoints (no-force): recovery reads back to the newest checkpoint; after-image redo against a non-idempotent delta redo |
//! | [`group_commit`] | a log whose syncs take time, serving a group of commits per sync (group commit) |
//! | [`isolation`] | a database running concurrent transactions at four isolation levels (and a broken one), recording the history the isolation checker reads |
//! | [`two_phase`] | two-phase commit with durable logs, presumed abort, and two broken variants |
//! | [`in_doubt_locks`] | the locks a prepared participant holds until it learns the outcome, and the local transactions that wait for them |
//! | [`decision`] | the coordinator's decision rule (commit, abort or wait, given the votes), the crate's or the reader's |
//! | [`three_phase`] | three-phase commit with the timeout-based termination rule: non-blocking when the coordinator crashes, not atomic under a partition |
//! | [`saga`] | a saga with compensations, its orchestrator an async process; a non-idempotent compensation |

pub mod checkpoint;
pub mod decision;
pub mod group_commit;
pub mod in_doubt_locks;
pub mod isolation;
pub mod logging;
pub mod saga;
pub mod three_phase;
pub mod two_phase;
mod two_phase_check;
