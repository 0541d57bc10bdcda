//! Clients: requests at the leader, redirects from the others, a
//! closed-loop workload that follows redirects, and the run's history as
//! key-value operations for the linearizability checker.

use super::node::Raft;
use super::{Cmd, RaftMsg, Value};
use crate::check::linearizability::{KvOp, KvRet, LinHistory};
use crate::error::Result;
use crate::sim::rng::SimRng;
use crate::sim::rng::{index, unit_f64};
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::{ClientId, Ctx, History, Invoke, NodeId, Op, OpStatus, Request};

impl Raft {
    /// A client's request: the leader appends it to its log and answers
    /// once the entry is applied (§8); any other node refuses it and names
    /// the leader it knows. The refusal is a failure reply: the request
    /// took no effect.
    pub(crate) fn on_client(&mut self, ctx: &mut Ctx<'_, Self>, req: Request, msg: RaftMsg) {
        let cmd = match msg {
            RaftMsg::Put { key, value } => Cmd::Put { key, value },
            RaftMsg::Get { key } => Cmd::Get { key },
            _ => return,
        };
        if !self.is_leader() {
            let leader = self.leader;
            ctx.reply_failed(req, RaftMsg::NotLeader { leader });
            return;
        }
        let index = self.append_command(ctx, cmd, req.op as u64);
        if self.applied < index {
            self.waiting.insert(index, req);
        }
    }
}

/// A closed-loop workload: each client sends its next request when the
/// last one ends, to the leader it was last told of (a random node at
/// first and after a timeout; after a refusal naming no leader, 50 ms
/// later), half writes of a value unique to the run,
/// half reads, over `keys` keys; it stops after `ops` operations per
/// client.
#[derive(Debug, Clone)]
pub struct RaftWorkload {
    /// Nodes of the cluster.
    pub nodes: usize,
    /// Keys the clients use.
    pub keys: u64,
    /// Operations per client.
    pub ops: usize,
    /// How long a client waits for an answer.
    pub timeout: SimDuration,
    /// Think time between operations.
    pub think: SimDuration,
    /// Extra wait after a refusal that names no leader.
    pub backoff: SimDuration,
    /// Per client: operations sent, and the leader it believes in.
    state: Vec<(usize, Option<NodeId>)>,
}

impl RaftWorkload {
    /// A workload of `clients` clients, `ops` operations each.
    pub fn new(nodes: usize, clients: usize, ops: usize, timeout: SimDuration) -> RaftWorkload {
        RaftWorkload {
            nodes,
            keys: 3,
            ops,
            timeout,
            think: SimDuration::ZERO,
            backoff: crate::sim::time::ms(50),
            state: vec![(0, None); clients],
        }
    }

    /// The next operation of client `c` (a [`crate::sim::Workload`]).
    pub fn next_op(
        &mut self,
        c: ClientId,
        _now: SimTime,
        rng: &mut SimRng,
        last: Option<&Op<RaftMsg>>,
    ) -> Option<Invoke<RaftMsg>> {
        let (sent, leader) = self.state.get_mut(c)?;
        let mut wait = self.think;
        if let Some(op) = last {
            *leader = match (&op.reply, op.status) {
                (Some(RaftMsg::NotLeader { leader: Some(l) }), _) => Some(*l),
                (_, OpStatus::Ok) => Some(op.node),
                _ => None,
            };
            if op.status == OpStatus::Failed {
                // A refusal took no effect: it does not count as one of the
                // client's operations. With no leader named, back off a
                // while (an election takes a timeout or two).
                *sent -= 1;
                if leader.is_none() {
                    wait += self.backoff;
                }
            }
        }
        if *sent >= self.ops {
            return None;
        }
        *sent += 1;
        let to = leader.unwrap_or_else(|| index(rng, self.nodes));
        let key = index(rng, self.keys as usize) as u64;
        let msg = if unit_f64(rng) < 0.5 {
            // Unique values: client c's k-th write writes c * 1e6 + k.
            RaftMsg::Put {
                key,
                value: (c as Value) * 1_000_000 + *sent as Value,
            }
        } else {
            RaftMsg::Get { key }
        };
        Some(Invoke::new(to, msg).after(wait).timeout(self.timeout))
    }
}

impl crate::sim::Workload<RaftMsg> for RaftWorkload {
    fn next(
        &mut self,
        client: ClientId,
        now: SimTime,
        rng: &mut SimRng,
        last: Option<&Op<RaftMsg>>,
    ) -> Option<Invoke<RaftMsg>> {
        self.next_op(client, now, rng, last)
    }
}

fn text(v: Value) -> String {
    if v == 0 {
        String::new()
    } else {
        v.to_string()
    }
}

/// A run's history as key-value operations for
/// [`crate::check::linearizability::check_linearizable`] with
/// [`crate::check::linearizability::KvMap`]: refusals (`NotLeader`) took no
/// effect and are left out; a request without an answer (its client timed
/// out) may have taken effect at any time after it was sent, or never.
pub fn raft_history(h: &History<RaftMsg>) -> Result<LinHistory<KvOp, KvRet>> {
    LinHistory::from_run(h, |req, reply| match (req, reply) {
        (RaftMsg::Put { key, value }, r) => Some((
            KvOp::put(key, text(*value)),
            matches!(r, Some(RaftMsg::PutOk)).then_some(KvRet::Ok),
        )),
        (RaftMsg::Get { key }, Some(RaftMsg::Value(v))) => {
            Some((KvOp::get(key), Some(KvRet::Value(text(*v)))))
        }
        (RaftMsg::Get { key }, _) => Some((KvOp::get(key), None)),
        _ => None,
    })
}
