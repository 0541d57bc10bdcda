//! Transactions: atomicity and durability by logging, isolation levels,
//! two-phase commit.
//!
//! | module | what |
//! |---|---|
//! | [`two_phase`] | two-phase commit with durable logs, presumed abort, and two broken variants |

pub mod two_phase;
