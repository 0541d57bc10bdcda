//! A client that retries and follows redirects, for any cluster whose
//! nodes answer client requests ([`crate::sim::Node::on_request`]).
//!
//! [`RetryClient`] is a [`Workload`]: it drives clients `0..k` of a run
//! (`sim.set_workload(k, client.clone())`). Each client works through its
//! own sequence of *logical* operations (from a generator you give); each
//! logical operation takes one or more **attempts**, and every attempt is
//! one operation in the run's history (`sim.history()`), so a checker sees
//! exactly what the cluster saw. After each attempt the client asks your
//! `classify` function what the reply means ([`Reply`]):
//!
//! | reply | the client |
//! |---|---|
//! | [`Reply::Done`] | moves on to its next logical operation, after its think time |
//! | [`Reply::Redirect`]`(k)` | sends the same request to node k at once ("not the leader, ask node 2"); no backoff |
//! | [`Reply::Refused`] | waits as its [`RetryPolicy`] says (cause [`Cause::Refused`]) and tries the next node |
//! | [`Reply::Unknown`], or no reply within the policy's timeout | waits as its policy says (cause [`Cause::Timeout`]) and tries the next node |
//!
//! When the policy says give up (`max_attempts` attempts made, redirects
//! included), the client records that and moves on. A client remembers
//! the node that completed its last operation and starts its next one
//! there (as a client caches the leader it found); its first starts at
//! [`RetryClient::start_at`]. [`RetryClient::log`]
//! gives every attempt with its logical operation, node and how it ended
//! ([`AttemptEnd`]).
//!
//! ```
//! use thinkdist::prelude::*;
//! use thinkdist::replication::{LeaderFollower, LfMsg};
//! use thinkdist::retry::client::{Reply, RetryClient};
//! use thinkdist::retry::{Backoff, RetryPolicy};
//!
//! fn classify(reply: &LfMsg, failed: bool) -> Reply {
//!     match reply {
//!         LfMsg::NotLeader(Some(n)) => Reply::Redirect(*n),
//!         _ if failed => Reply::Refused,
//!         _ => Reply::Done,
//!     }
//! }
//! let policy = RetryPolicy::new(Backoff::FullJitter, ms(5), ms(100), 10)?.with_timeout(ms(50))?;
//! // Client 0 starts at node 2, a follower: it is redirected to node 0.
//! let client = RetryClient::new(policy, 3, classify, |c: ClientId, i: u64, _: &mut SimRng| {
//!     (i < 3).then(|| (LfMsg::put(1, (10 * c as u64 + i + 1) as i64), ms(5)))
//! })?
//! .start_at(|_| 2);
//! let mut sim = Sim::builder().seed(1).build(LeaderFollower::default().nodes()?)?;
//! sim.set_workload(1, client.clone())?;
//! sim.run_for(secs(1))?;
//! let log = client.log();
//! assert_eq!(log.len(), 4); // a redirect, then three writes done at node 0
//! assert_eq!(log[0].node, 2);
//! assert!(log[1..].iter().all(|a| a.node == 0));
//! assert_eq!(sim.history().len(), 4); // every attempt is in the history
//! # Ok::<(), thinkdist::Error>(())
//! ```

use super::{Cause, RetryPolicy};
use crate::error::{Error, Result};
use crate::sim::rng::SimRng;
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::{ClientId, Invoke, NodeId, Op, OpId, OpStatus, Workload};
use serde::Serialize;
use std::cell::RefCell;
use std::rc::Rc;

/// What a reply means to the client; see the [module docs](self).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Reply {
    /// The operation is done (whatever it returned).
    Done,
    /// Ask node k instead.
    Redirect(NodeId),
    /// Refused: it took no effect; retry after a backoff.
    Refused,
    /// Its outcome is unknown; retry after a backoff.
    Unknown,
}

/// How one attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum AttemptEnd {
    /// Done: the logical operation is complete.
    Done,
    /// Redirected to this node.
    Redirected(NodeId),
    /// Refused (no effect).
    Refused,
    /// No reply within the timeout, or a reply saying the outcome is
    /// unknown.
    TimedOut,
}

/// One attempt, as the client logged it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AttemptRecord {
    /// The client.
    pub client: ClientId,
    /// Its logical operation (0, 1, … per client).
    pub logical: u64,
    /// Attempt number within it (1 for the first).
    pub attempt: u32,
    /// The operation in the history.
    pub op: OpId,
    /// The node asked.
    pub node: NodeId,
    /// How it ended.
    pub end: AttemptEnd,
    /// The wait before the next attempt (zero after the last, and after a
    /// redirect).
    pub wait: SimDuration,
    /// True if the client gave up on the logical operation after it.
    pub gave_up: bool,
}

/// The next request of a client: `(client, index of its logical operation,
/// its random stream)` → the request and the think time before sending
/// it, or `None` to stop.
pub type Generator<M> = Box<dyn FnMut(ClientId, u64, &mut SimRng) -> Option<(M, SimDuration)>>;

/// Per client: the logical operation in progress.
#[derive(Debug, Clone)]
struct Current<M> {
    logical: u64,
    msg: M,
    attempt: u32,
    node: NodeId,
    prev_wait: SimDuration,
}

struct Shared<M> {
    next: Generator<M>,
    current: Vec<Option<Current<M>>>,
    log: Vec<AttemptRecord>,
}

/// A client that retries and follows redirects; see the [module
/// docs](self). Clones share one log and one set of clients: keep a clone
/// to read [`RetryClient::log`] after the run.
#[derive(Clone)]
pub struct RetryClient<M> {
    policy: RetryPolicy,
    timeout: SimDuration,
    nodes: usize,
    classify: fn(&M, bool) -> Reply,
    start_at: fn(ClientId) -> NodeId,
    shared: Rc<RefCell<Shared<M>>>,
}

fn round_robin(c: ClientId) -> NodeId {
    c
}

impl<M: Clone + 'static> RetryClient<M> {
    /// Clients of a cluster of `nodes` nodes that retry by `policy` (which
    /// must have a per-attempt timeout: a client that waits forever never
    /// retries). `classify(reply, failed)` reads a reply (`failed`: the
    /// node answered with `reply_failed`); `next` gives each client's
    /// requests. Client c starts at node `c % nodes` (see
    /// [`RetryClient::start_at`]), after a refusal or a timeout tries the
    /// next node, and starts each operation where the last one completed.
    ///
    /// Errors: no timeout in the policy, or `nodes` outside 1..=100,000.
    pub fn new(
        policy: RetryPolicy,
        nodes: usize,
        classify: fn(&M, bool) -> Reply,
        next: impl FnMut(ClientId, u64, &mut SimRng) -> Option<(M, SimDuration)> + 'static,
    ) -> Result<RetryClient<M>> {
        crate::error::check_count("nodes", nodes, 1, crate::error::limits::NODES, "nodes")?;
        let Some(timeout) = policy.timeout() else {
            return Err(Error::invalid(
                "policy timeout",
                "none",
                "a per-attempt timeout (RetryPolicy::with_timeout): without one a client \
                 waits forever for a node that is down and never retries",
            ));
        };
        Ok(RetryClient {
            policy,
            timeout,
            nodes,
            classify,
            start_at: round_robin,
            shared: Rc::new(RefCell::new(Shared {
                next: Box::new(next),
                current: Vec::new(),
                log: Vec::new(),
            })),
        })
    }

    /// Where each client sends its first attempt (taken modulo the
    /// cluster size; by default client c starts at node `c % nodes`).
    pub fn start_at(mut self, f: fn(ClientId) -> NodeId) -> Self {
        self.start_at = f;
        self
    }

    /// Every attempt so far, in the order they ended.
    pub fn log(&self) -> Vec<AttemptRecord> {
        self.shared.borrow().log.clone()
    }

    /// The retry policy.
    pub fn policy(&self) -> RetryPolicy {
        self.policy
    }

    /// Starts client `c`'s next logical operation, if its generator has one.
    fn begin(&self, s: &mut Shared<M>, c: ClientId, rng: &mut SimRng) -> Option<Invoke<M>> {
        let (logical, node) = match s.current.get(c) {
            Some(Some(cur)) => (cur.logical + 1, cur.node),
            _ => (0, (self.start_at)(c) % self.nodes),
        };
        let (msg, think) = (s.next)(c, logical, rng)?;
        if s.current.len() <= c {
            s.current.resize(c + 1, None);
        }
        s.current[c] = Some(Current {
            logical,
            msg: msg.clone(),
            attempt: 1,
            node,
            prev_wait: SimDuration::ZERO,
        });
        Some(Invoke::new(node, msg).after(think).timeout(self.timeout))
    }
}

impl<M: Clone + 'static> Workload<M> for RetryClient<M> {
    fn next(
        &mut self,
        client: ClientId,
        _now: SimTime,
        rng: &mut SimRng,
        last: Option<&Op<M>>,
    ) -> Option<Invoke<M>> {
        let mut guard = self.shared.borrow_mut();
        let s = &mut *guard;
        let Some(op) = last else {
            return self.begin(s, client, rng);
        };
        let Some(Some(mut cur)) = s.current.get(client).cloned() else {
            return self.begin(s, client, rng);
        };
        let reply = match (&op.status, &op.reply) {
            (OpStatus::Ok, Some(r)) => (self.classify)(r, false),
            (OpStatus::Failed, Some(r)) => (self.classify)(r, true),
            _ => Reply::Unknown,
        };
        let mut record = AttemptRecord {
            client,
            logical: cur.logical,
            attempt: cur.attempt,
            op: op.id,
            node: op.node,
            end: match reply {
                Reply::Done => AttemptEnd::Done,
                Reply::Redirect(n) => AttemptEnd::Redirected(n),
                Reply::Refused => AttemptEnd::Refused,
                Reply::Unknown => AttemptEnd::TimedOut,
            },
            wait: SimDuration::ZERO,
            gave_up: false,
        };
        let (cause, to) = match reply {
            Reply::Done => {
                s.log.push(record);
                cur.node = op.node;
                s.current[client] = Some(cur);
                return self.begin(s, client, rng);
            }
            Reply::Redirect(n) => (Cause::Redirect, n % self.nodes),
            Reply::Refused => (Cause::Refused, (op.node + 1) % self.nodes),
            Reply::Unknown => (Cause::Timeout, (op.node + 1) % self.nodes),
        };
        let wait = if cause == Cause::Redirect {
            (cur.attempt < self.policy.max_attempts()).then_some(SimDuration::ZERO)
        } else {
            self.policy
                .delay_after(cur.attempt, cur.prev_wait, cause, rng)
        };
        let Some(wait) = wait else {
            record.gave_up = true;
            s.log.push(record);
            cur.node = to;
            s.current[client] = Some(cur);
            return self.begin(s, client, rng);
        };
        record.wait = wait;
        s.log.push(record);
        cur.attempt += 1;
        cur.node = to;
        if cause != Cause::Redirect {
            cur.prev_wait = wait;
        }
        let inv = Invoke::new(to, cur.msg.clone())
            .after(wait)
            .timeout(self.timeout);
        s.current[client] = Some(cur);
        Some(inv)
    }
}
