//! What the chapter's experiments share: links between nodes, how a client
//! reads each cluster's replies, the clients themselves.

use crate::error::Result;
use crate::replication::{LfMsg, QMsg};
use crate::retry::client::{Reply, RetryClient};
use crate::retry::{Backoff, RetryPolicy};
use crate::sim::time::{ms, SimDuration};
use crate::sim::{ClientId, Latency, LinkConfig, Node, Sim};
use rand::Rng;

/// Gives every link between two nodes `latency` and `loss` (client traffic
/// keeps the default link).
pub(crate) fn node_links<N: Node>(sim: &mut Sim<N>, latency: &Latency, loss: f64) -> Result<()> {
    let cfg = LinkConfig::new(latency.clone()).loss(loss);
    for a in 0..sim.len() {
        for b in 0..sim.len() {
            if a != b {
                sim.set_link(a, b, cfg.clone())?;
            }
        }
    }
    Ok(())
}

/// A leader–follower reply, for [`RetryClient`]: follow "not the leader,
/// ask node k"; any other failure is a refusal.
pub fn lf_classify(reply: &LfMsg, failed: bool) -> Reply {
    match reply {
        LfMsg::NotLeader(Some(n)) => Reply::Redirect(*n),
        _ if failed => Reply::Refused,
        _ => Reply::Done,
    }
}

/// A leaderless reply, for [`RetryClient`]: "maybe applied" is an unknown
/// outcome, any failure a refusal.
pub fn q_classify(reply: &QMsg, failed: bool) -> Reply {
    match reply {
        QMsg::MaybeApplied => Reply::Unknown,
        _ if failed => Reply::Refused,
        _ => Reply::Done,
    }
}

/// The clients' retry policy: full jitter from 5 ms up to 100 ms, a 60 ms
/// timeout per attempt, 20 attempts.
pub(crate) fn policy() -> Result<RetryPolicy> {
    RetryPolicy::new(Backoff::FullJitter, ms(5), ms(100), 20)?.with_timeout(ms(60))
}

/// A distinct value for write `i` of client `c`.
pub(crate) fn value_of(c: ClientId, i: u64) -> i64 {
    (c as i64 + 1) * 1_000_000 + i as i64 + 1
}

/// Clients that each make `ops` operations on keys `0..keys`: a read with
/// probability `reads`, else a write of a distinct value; think time
/// uniform in `0..think`.
// The arguments are the workload's knobs, each used once: a struct would
// only rename them.
#[allow(clippy::too_many_arguments)]
pub(crate) fn mixed<M: Clone + 'static>(
    policy: RetryPolicy,
    nodes: usize,
    classify: fn(&M, bool) -> Reply,
    ops: u64,
    keys: u64,
    reads: f64,
    think: SimDuration,
    get: fn(u64) -> M,
    put: fn(u64, i64) -> M,
) -> Result<RetryClient<M>> {
    let keys = keys.max(1);
    RetryClient::new(policy, nodes, classify, move |c, i, rng| {
        if i >= ops {
            return None;
        }
        let key = rng.random_range(0..keys);
        let msg = if rng.random_bool(reads) {
            get(key)
        } else {
            put(key, value_of(c, i))
        };
        Some((msg, SimDuration(rng.random_range(0..=think.0))))
    })
}
