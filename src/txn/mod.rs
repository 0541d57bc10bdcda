//! Transactions: atomicity and durability by logging, isolation levels,
//! two-phase commit.
