//! Typed histories: who invoked which operation when, and what came back.

use crate::error::{check_count, limits, Error, Result};
use crate::sim::{ClientId, History, OpStatus};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How an operation ended, as far as its client knows.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Outcome<R> {
    /// It took effect and returned this.
    Ok(R),
    /// No reply (lost, timed out, crashed, or failed but maybe applied):
    /// it may have taken effect at any time after its invocation, or never;
    /// its result is not known.
    Unknown,
}

/// One operation of a [`LinHistory`].
#[derive(Debug, Clone, PartialEq)]
pub struct LinOp<O, R> {
    /// Who invoked it. A client does one operation at a time.
    pub client: ClientId,
    /// The operation and its arguments.
    pub op: O,
    /// When it was invoked (any unit: nanoseconds for a run).
    pub call: u64,
    /// When its result arrived (known outcome), or when the client stopped
    /// waiting (unknown outcome; `None`: never). The checker takes an
    /// unknown operation's return as +∞: this time only orders the
    /// client's own operations and is drawn on charts.
    pub ret: Option<u64>,
    /// Its result, or unknown.
    pub outcome: Outcome<R>,
}

impl<O, R> LinOp<O, R> {
    /// Its result, if known.
    pub fn result(&self) -> Option<&R> {
        match &self.outcome {
            Outcome::Ok(r) => Some(r),
            Outcome::Unknown => None,
        }
    }
    /// True if its outcome is unknown.
    pub fn is_unknown(&self) -> bool {
        matches!(self.outcome, Outcome::Unknown)
    }
    /// When its client moved on (`u64::MAX`: never).
    pub(crate) fn client_end(&self) -> u64 {
        self.ret.unwrap_or(u64::MAX)
    }
}

/// A history of operations on one object (or a map of independent ones),
/// ready for [`check_linearizable`](super::check_linearizable).
///
/// Three ways to get one: from a run ([`LinHistory::from_run`]), by hand
/// ([`LinHistory::ok`], [`LinHistory::unknown`], [`LinHistory::push`]), or
/// from a JSON lines file ([`LinHistory::from_jsonl`]). Every way checks
/// the input: a return before its call, two operations of one client at
/// once, or more than `limits::OPS` operations are an error.
#[derive(Debug, Clone, PartialEq)]
pub struct LinHistory<O, R> {
    ops: Vec<LinOp<O, R>>,
    /// Per client: (call, end, index), sorted by call.
    by_client: BTreeMap<ClientId, Vec<(u64, u64, usize)>>,
    /// Times are simulated nanoseconds (charts show milliseconds).
    pub(crate) sim_time: bool,
}

impl<O, R> Default for LinHistory<O, R> {
    fn default() -> Self {
        LinHistory {
            ops: Vec::new(),
            by_client: BTreeMap::new(),
            sim_time: false,
        }
    }
}

impl<O, R> LinHistory<O, R> {
    /// An empty history.
    pub fn new() -> Self {
        Self::default()
    }

    /// A history of these operations (checked as by [`push`](Self::push)).
    pub fn from_ops(ops: impl IntoIterator<Item = LinOp<O, R>>) -> Result<Self> {
        let mut h = Self::new();
        for o in ops {
            h.push(o)?;
        }
        Ok(h)
    }

    /// Adds an operation; its index in [`ops`](Self::ops) is its id in
    /// verdicts. Errors: a known result without a return time, a return
    /// before the call, an operation that overlaps another of the same
    /// client, more than `limits::OPS` operations.
    pub fn push(&mut self, op: LinOp<O, R>) -> Result<usize> {
        let id = self.ops.len();
        check_count("operations", id + 1, 0, limits::OPS, "operations")?;
        let who = format!("operation #{id} (client {})", op.client);
        if !op.is_unknown() && op.ret.is_none() {
            return Err(Error::invalid(
                &format!("return time of {who}"),
                "none",
                "a return time for an operation with a known result (or make its outcome Unknown)",
            ));
        }
        if let Some(r) = op.ret {
            if r < op.call {
                return Err(Error::invalid(
                    &format!("return time of {who}"),
                    r,
                    &format!("a time >= its invocation time {}", op.call),
                ));
            }
        }
        let (call, end) = (op.call, op.client_end());
        let lane = self.by_client.entry(op.client).or_default();
        let at = lane.partition_point(|&(c, _, _)| c <= call);
        let span = |e: u64| {
            if e == u64::MAX {
                "never ends".to_string()
            } else {
                format!("ends at {e}")
            }
        };
        // A client waits for each operation before the next; an unknown
        // one ends when the client stopped waiting.
        if at > 0 {
            let (pc, pe, pi) = lane[at - 1];
            if pe > call {
                return Err(Error::invalid(
                    &format!("invocation time of {who}"),
                    call,
                    &format!(
                        "a time after the end of the client's operation #{pi} (called at {pc}, {}): \
                         a client waits for each operation before the next; give each concurrent \
                         caller its own client id, and an unknown operation the time its client \
                         stopped waiting",
                        span(pe)
                    ),
                ));
            }
        }
        if let Some(&(nc, _, ni)) = lane.get(at) {
            if end > nc {
                return Err(Error::invalid(
                    &format!("end of {who}"),
                    span(end),
                    &format!(
                        "an end before the client's next operation #{ni} is called at {nc}: a \
                         client waits for each operation before the next"
                    ),
                ));
            }
        }
        lane.insert(at, (call, end, id));
        self.ops.push(op);
        Ok(id)
    }

    /// Adds an operation that returned `result` at `ret`.
    pub fn ok(&mut self, client: ClientId, op: O, call: u64, result: R, ret: u64) -> Result<usize> {
        self.push(LinOp {
            client,
            op,
            call,
            ret: Some(ret),
            outcome: Outcome::Ok(result),
        })
    }

    /// Adds an operation of unknown outcome; `gave_up` is when its client
    /// stopped waiting (`None`: never, so the client does nothing after it).
    pub fn unknown(
        &mut self,
        client: ClientId,
        op: O,
        call: u64,
        gave_up: Option<u64>,
    ) -> Result<usize> {
        self.push(LinOp {
            client,
            op,
            call,
            ret: gave_up,
            outcome: Outcome::Unknown,
        })
    }

    /// The operations, by id.
    pub fn ops(&self) -> &[LinOp<O, R>] {
        &self.ops
    }
    /// Number of operations.
    pub fn len(&self) -> usize {
        self.ops.len()
    }
    /// True if there are none.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
    /// The clients, in increasing order.
    pub fn clients(&self) -> Vec<ClientId> {
        self.by_client.keys().copied().collect()
    }
    /// How many operations have a known result, and how many an unknown one.
    pub fn counts(&self) -> (usize, usize) {
        let u = self.ops.iter().filter(|o| o.is_unknown()).count();
        (self.ops.len() - u, u)
    }
    /// True if times are simulated nanoseconds (from a run).
    pub fn is_sim_time(&self) -> bool {
        self.sim_time
    }

    /// The typed history of a run. `map(request, reply)` turns each
    /// operation into the specification's terms: `Some((op, Some(ret)))`
    /// for a known result, `Some((op, None))` if the reply does not say
    /// (then the outcome is unknown), `None` to leave the operation out
    /// (not an operation on this object). `reply` is `None` when no reply
    /// arrived in time: the operation's outcome is unknown whatever `map`
    /// returns as its result. Operations that failed (a failure reply:
    /// they did not take effect) are left out without asking `map`. Times
    /// are simulated nanoseconds.
    ///
    /// Errors: as [`push`](Self::push) (a run's history always passes).
    pub fn from_run<M>(
        history: &History<M>,
        mut map: impl FnMut(&M, Option<&M>) -> Option<(O, Option<R>)>,
    ) -> Result<Self> {
        let mut h = Self::new();
        h.sim_time = true;
        for o in history.ops() {
            if o.status == OpStatus::Failed {
                continue;
            }
            let reply = if o.status == OpStatus::Ok {
                o.reply.as_ref()
            } else {
                None
            };
            let Some((op, ret)) = map(&o.request, reply) else {
                continue;
            };
            let call = o.invoked.as_nanos();
            match (ret, reply, o.completed) {
                (Some(r), Some(_), Some(t)) => h.ok(o.client, op, call, r, t.as_nanos())?,
                _ => h.unknown(o.client, op, call, o.ended().map(|t| t.as_nanos()))?,
            };
        }
        Ok(h)
    }
}
