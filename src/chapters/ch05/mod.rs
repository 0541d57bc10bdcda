//! Chapter 5, *Transactions* (notebook `05-transactions`): atomicity and
//! durability by logging, crashed at every crash point ([`logging`]);
//! checkpoints, recovery's cost and a crash during recovery
//! ([`checkpoint`]); what a sync costs and what group commit buys ([`sync_cost`]);
//! isolation levels and the anomalies each allows, found from the recorded
//! history by dependency cycles ([`isolation`]).

pub mod checkpoint;
pub mod isolation;
pub mod logging;
pub mod sync_cost;

pub use logging::LoggingParams;
