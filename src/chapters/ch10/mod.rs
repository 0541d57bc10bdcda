//! Chapter 10, *Distributed consensus* (notebook `10-distributed-consensus`):
//! Raft ([`crate::raft`]) watched, checked and timed.
//!
//! | module | experiment |
//! |---|---|
//! | [`election`] | the Raft paper's Figure 16: time to elect a new leader after the leader crashes, against the range election timeouts are drawn from |

pub mod election;

pub use election::{ElectionTimeParams, ElectionTimes};
