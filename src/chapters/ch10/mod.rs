//! Chapter 10, *Distributed consensus* (notebook `10-distributed-consensus`):
//! Raft ([`crate::raft`]) watched, checked and timed.
//!
//! | module | experiment |
//! |---|---|
//! | [`watch`] | one run watched: roles, terms, log and commit index over time, the message diagrams of an election and of the one after the leader crashes |
//! | [`election`] | the Raft paper's Figure 16: time to elect a new leader after the leader crashes, against the range election timeouts are drawn from |
//! | [`safety`] | Raft's invariants checked after every event over many explored fault schedules |

pub mod election;
pub mod safety;
pub mod watch;

pub use election::{ElectionTimeParams, ElectionTimes};
pub use safety::{figure8, unsynced_vote, SafetyParams};
pub use watch::{WatchParams, WatchedRun};
