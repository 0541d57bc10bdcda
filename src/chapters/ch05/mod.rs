//! Chapter 5, *Transactions* (notebook `05-transactions`).

pub mod isolation;
