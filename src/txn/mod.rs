//! Transactions: atomicity and durability by logging, isolation levels,
//! two-phase commit.
//!
//! | module | what |
//! |---|---|
//! | [`logging`] | atomicity and durability: undo and redo logging, and two broken variants |
//! | [`two_phase`] | two-phase commit with durable logs, presumed abort, and two broken variants |

pub mod logging;
pub mod two_phase;
