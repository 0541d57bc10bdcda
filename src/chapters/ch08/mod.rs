//! Chapter 8, *Replication* (notebook `08-replication`): several copies of
//! the data, with the mechanisms of [`crate::replication`].
//!
//! | module | experiment |
//! |---|---|
//! | [`latency`] | write latency under asynchronous, semi-synchronous and synchronous replication, with the k-th-of-n theory |
//! | [`failover`] | acknowledged writes lost when the leader crashes, against the replication lag; clients that retry and follow redirects |
//! | [`lag`] | replication lag over time, a partition shaded |
//! | [`staleness`] | partial quorums: fresh reads against time since the write, with PBS; read and write latency per (N, R, W) |
//! | [`repair`] | what read repair and hinted handoff change after a replica's outage |
//! | [`partition`] | availability under a partition: consistent against available designs, last-writer-wins against siblings |
//! | [`skew`] | last-writer-wins under clock skew: acknowledged writes lost against how far one node's clock is behind |
//! | [`linearizable`] | violations found by the linearizability checker in weak designs; strong designs explored under faults; your own read path |

pub mod common;
pub mod failover;
pub mod lag;
pub mod latency;
pub mod linearizable;
pub mod partition;
pub mod repair;
pub mod skew;
pub mod staleness;

pub use common::{lf_classify, q_classify};
pub use failover::{FailoverParams, Mode};
pub use lag::LagParams;
pub use latency::WriteLatencyParams;
pub use linearizable::{Design, LinParams};
pub use partition::{PartitionDesign, PartitionParams};
pub use repair::RepairParams;
pub use skew::SkewParams;
pub use staleness::PbsParams;
