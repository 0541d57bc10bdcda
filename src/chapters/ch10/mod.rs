//! Chapter 10, *Distributed consensus* (notebook `10-distributed-consensus`):
//! Raft ([`crate::raft`]) watched, checked and timed.
//!
//! | module | experiment |
//! |---|---|
//! | [`watch`] | one run watched: roles, terms, log and commit index over time, the message diagrams of an election and of the one after the leader crashes |
//! | [`election`] | the Raft paper's Figure 16: time to elect a new leader after the leader crashes, against the range election timeouts are drawn from |
//! | [`performance`] | commit latency against cluster size, network delay and one slow link, with the fastest-majority order statistic over it |
//! | [`throughput`] | more closed-loop clients against one leader: throughput and latency, and the batch limit that caps them |
//! | [`rejoin`] | a partitioned server rejoins with a high term: leader changes and time without a leader, with and without pre-vote |
//! | [`safety`] | Raft's invariants checked after every event over many explored fault schedules |

pub mod election;
pub mod performance;
pub mod rejoin;
pub mod safety;
pub mod throughput;
pub mod watch;

pub use election::{ElectionTimeParams, ElectionTimes};
pub use performance::{CommitLatency, CommitLatencyParams, SlowLink, SlowLinkParams};
pub use rejoin::{Rejoin, RejoinParams};
pub use safety::{figure8, unsynced_vote, SafetyParams};
pub use throughput::{Throughput, ThroughputParams};
pub use watch::{WatchParams, WatchedRun};

/// Checks a one-way delay range `(lo, hi)` in ms: finite, `min <= lo <=
/// hi <= max`; the error names `what` and says `expected`.
fn check_delay_range(
    what: &str,
    (lo, hi): (f64, f64),
    (min, max): (f64, f64),
    expected: &str,
) -> crate::error::Result<()> {
    if lo.is_finite() && hi.is_finite() && min <= lo && lo <= hi && hi <= max {
        return Ok(());
    }
    Err(crate::error::Error::invalid(
        what,
        format!(
            "{}–{} ms",
            crate::plot::fmt_num(lo),
            crate::plot::fmt_num(hi)
        ),
        expected,
    ))
}
