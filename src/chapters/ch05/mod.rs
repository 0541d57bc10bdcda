//! Chapter 5, *Transactions* (notebook `05-transactions`): atomicity and
//! durability by logging, crashed at every crash point; isolation levels
//! and the anomalies each allows, found from the recorded history.

pub mod logging;

pub use logging::LoggingParams;
