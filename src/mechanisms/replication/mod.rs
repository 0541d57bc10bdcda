//! Replication (chapter 8): several copies of the same data, and what each
//! way of keeping them in step costs and guarantees.
//!
//! | module | what |
//! |---|---|
//! | [`leader`] | leader–follower: synchronous, semi-synchronous, majority or asynchronous acknowledgement; reads at the leader, at any node, or under a lease; failover to the most up-to-date follower |
//! | [`quorum`] | leaderless (Dynamo): N replicas, R and W quorums, a coordinator per request, read repair, hinted handoff, anti-entropy; last-writer-wins, ABD or version vectors with siblings; your own read path |
//! | [`version`] | stamps and version vectors: which of two versions is newer, and what a replica keeps |
//! | [`history`] | a run's client history in the linearizability checker's terms, and which acknowledged writes a run lost |
//!
//! Both clusters store integer values under integer keys; a key never
//! written reads as 0. Clients talk to them through the engine's client
//! requests ([`crate::sim::client`]), so every operation lands in the run's
//! history for the checkers; a client that retries and follows redirects is
//! [`crate::retry::client::RetryClient`].

pub mod history;
pub mod leader;
pub mod quorum;
pub mod version;

pub use history::{kv_history, lost_writes, LinMap};
pub use leader::{Ack, Entry, LeaderFollower, LfDisk, LfMsg, LfNode, Reads};
pub use quorum::{
    Answer, QMsg, Quorum, QuorumDisk, QuorumNode, ReadRepair, ReadRule, ReadStep, ReadView,
    Versioning,
};
pub use version::{Stamp, Stored, Version, VersionVector, Versioned};

/// A key.
pub type Key = u64;
/// A value (0 reads as "never written").
pub type Value = i64;
