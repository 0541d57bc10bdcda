//! Crash points: which operations are numbered, and the record of those a
//! run reached. See [`crate::sim::fault`] for how a plan crashes a node at
//! one.

use super::net::NodeId;
use super::time::{SimDuration, SimTime};
use serde::Serialize;

/// Which operations are crash points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum CrashPoints {
    /// Every [`crate::sim::Ctx::sync`] (the default).
    #[default]
    Syncs,
    /// Every sync, every send and every reply to a client: a crash between
    /// two sends of one handler can then be expressed.
    SyncsAndSends,
}

/// What kind of operation a crash point is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum PointKind {
    /// A disk sync.
    Sync,
    /// A send to a node.
    Send,
    /// A reply to a client.
    Reply,
}

/// One crash point a run reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CrashPoint {
    /// Its number (0 is the first of the run).
    pub index: u64,
    /// The node that reached it.
    pub node: NodeId,
    /// When.
    pub time: SimTime,
    /// A sync, a send or a reply.
    pub kind: PointKind,
    /// What was synced (the argument of `sync`), or the label of the message.
    pub label: String,
}

/// Most crash points one run records with
/// [`crate::sim::Builder::record_crash_points`]: 1,000,000 (each costs a
/// label, and each is meant to become one run of a checker that crashes the
/// scenario there; [`crate::error::limits::RUNS`]). A run that reaches more
/// stops with an error.
pub const MAX_RECORDED: usize = crate::error::limits::RUNS;

/// The engine's crash-point state.
#[derive(Debug, Clone, Default)]
pub(crate) struct Points {
    /// The number the next point gets.
    pub next: u64,
    /// Crash at this point, if set: the next of the plan's crash points.
    pub crash_at: Option<u64>,
    /// Restart the node crashed at `crash_at` after this long.
    pub restart_after: Option<SimDuration>,
    /// The plan's later crash points, latest first (popped as each earlier
    /// one is reached): a crash during recovery is a second point.
    pub later: Vec<(u64, Option<SimDuration>)>,
    /// Restart delay of the point reached last (read once its event ends).
    pub restart_hit: Option<SimDuration>,
    /// Every point the run crashed a node at, in order.
    pub hits: Vec<CrashPoint>,
    /// Sends and replies are points too.
    pub sends: bool,
    /// Keep a record of every point reached.
    pub record: bool,
    /// The record (when `record`).
    pub log: Vec<CrashPoint>,
    /// The point the run crashed at first, once reached.
    pub hit: Option<CrashPoint>,
    /// A point was reached with the record full ([`MAX_RECORDED`]).
    pub full: bool,
}

impl Points {
    /// Numbers one operation of `node`; true if the node crashes here.
    #[inline]
    pub fn reach(
        &mut self,
        node: NodeId,
        time: SimTime,
        kind: PointKind,
        label: impl FnOnce() -> String,
    ) -> bool {
        let index = self.next;
        self.next += 1;
        let crash = self.crash_at == Some(index);
        if self.record && self.log.len() >= MAX_RECORDED {
            self.full = true;
        }
        if (self.record && !self.full) || crash {
            let p = CrashPoint {
                index,
                node,
                time,
                kind,
                label: label(),
            };
            if self.record && !self.full {
                self.log.push(p.clone());
            }
            if crash {
                self.hit.get_or_insert_with(|| p.clone());
                self.hits.push(p);
            }
        }
        if crash {
            self.restart_hit = self.restart_after;
            (self.crash_at, self.restart_after) = match self.later.pop() {
                Some((k, r)) => (Some(k), r),
                None => (None, None),
            };
        }
        crash
    }

    /// Points to crash at from a plan's `(point, restart_after)` list:
    /// sorted, the earliest armed, the rest kept for later.
    pub fn arm(&mut self, mut points: Vec<(u64, Option<SimDuration>)>) {
        points.sort_by_key(|p| std::cmp::Reverse(p.0));
        points.dedup_by_key(|p| p.0);
        (self.crash_at, self.restart_after) = match points.pop() {
            Some((k, r)) => (Some(k), r),
            None => (None, None),
        };
        self.later = points;
    }
}
