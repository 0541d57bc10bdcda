//! What a sync costs, and group commit: a log on a disk whose sync takes
//! time.
//!
//! [`crate::txn::logging`] counts syncs as crash points and makes them
//! instantaneous. Here a sync takes `sync_time` (an `fsync` of a real disk
//! takes a fraction of a millisecond to tens of milliseconds) and the disk
//! does one at a time. Each commit goes through its scheme's
//! [`SyncPath`]: the syncs it needs, and where among them the client is
//! answered. Undo logging syncs four times before it answers; redo
//! logging syncs once, answers, and syncs the balances after. So undo
//! costs four syncs of latency and four of disk time per commit, redo one
//! of latency and two of disk time.
//!
//! **Group commit**: one sync makes durable every record written before
//! it, whoever wrote it. So the disk, when it starts a sync, takes every
//! commit waiting for one (up to `batch`, commits under way first): one
//! sync serves them all. Two knobs:
//! - `batch`, the most commits one sync serves (1: no group commit);
//! - `window`: syncs start only at multiples of `window` (0: as soon as
//!   the disk is idle), so a sync gathers the commits of a whole window;
//!   a commit waits half a window on average before its sync starts.
//!
//! Nothing here crashes: the subject is time, and the disk model is the
//! crate's ([`crate::sim::Ctx::sync`]), so a sync is still a crash point.

use crate::error::{Error, Result};
use crate::sim::time::SimDuration;
use crate::sim::{Ctx, Node, NodeId, Request};
use crate::txn::logging::{Logging, Step, REDO_PATH};
use serde::Serialize;
use std::collections::VecDeque;

/// One phase of a commit: a sync it waits for, or the answer to its client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Phase {
    /// Wait for a sync of the disk (shared with whoever waits with it).
    Sync,
    /// Answer the client "committed".
    Ack,
}

/// The syncs a commit needs and where the client is answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncPath(pub Vec<Phase>);

impl SyncPath {
    /// A correct scheme's path: undo logging syncs four times (undo
    /// record, undo record, balances, commit), then answers; redo logging
    /// follows [`REDO_PATH`] (sync, answer, sync). Errors for the broken
    /// schemes (they answer too early: no path to time).
    pub fn of(logging: Logging) -> Result<SyncPath> {
        match logging {
            Logging::Undo => Ok(SyncPath(vec![
                Phase::Sync,
                Phase::Sync,
                Phase::Sync,
                Phase::Sync,
                Phase::Ack,
            ])),
            Logging::Redo => Ok(SyncPath(
                REDO_PATH
                    .iter()
                    .filter_map(|s| match s {
                        Step::Sync => Some(Phase::Sync),
                        Step::Acknowledge => Some(Phase::Ack),
                        _ => None,
                    })
                    .collect(),
            )),
            broken => Err(Error::invalid(
                "logging",
                broken.name(),
                "Logging::Undo or Logging::Redo (a broken scheme has no sync cost worth timing)",
            )),
        }
    }
    /// Syncs per commit: the disk time a commit costs, in syncs.
    pub fn syncs(&self) -> usize {
        self.0.iter().filter(|&&p| p == Phase::Sync).count()
    }
    /// Syncs before the answer: the latency a commit costs, in syncs.
    pub fn syncs_before_ack(&self) -> usize {
        self.0
            .iter()
            .take_while(|&&p| p != Phase::Ack)
            .filter(|&&p| p == Phase::Sync)
            .count()
    }
}

/// Messages: a client's commit and the log's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Msg {
    /// Commit a transaction (its records are already written).
    Commit,
    /// Committed: durable.
    Committed,
}

/// The log's timers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timer {
    /// The next multiple of the window: a sync may start.
    Tick,
    /// The sync under way is done.
    SyncDone,
}

/// A commit between two phases.
#[derive(Debug, Clone, Copy)]
struct Waiting {
    req: Request,
    /// Index of its next phase in the path.
    at: usize,
}

/// A log whose disk syncs one group of commits at a time; see the
/// [module docs](self).
#[derive(Debug, Clone)]
pub struct GroupLog {
    /// Each commit's phases.
    pub path: SyncPath,
    /// How long one sync takes.
    pub sync_time: SimDuration,
    /// The most commits one sync serves (1: no group commit).
    pub batch: usize,
    /// Syncs start only at multiples of this (zero: whenever the disk is
    /// idle).
    pub window: SimDuration,
    queue: VecDeque<Waiting>,
    syncing: Vec<Waiting>,
    busy: bool,
    tick_set: bool,
}

impl GroupLog {
    /// A log with an empty queue. Errors on a zero sync time or batch, or
    /// a path without exactly one answer.
    pub fn new(
        path: SyncPath,
        sync_time: SimDuration,
        batch: usize,
        window: SimDuration,
    ) -> Result<GroupLog> {
        if sync_time.0 == 0 {
            return Err(Error::invalid("sync_time", sync_time, "a duration > 0"));
        }
        if !(1..=10_000).contains(&batch) {
            return Err(Error::invalid(
                "batch",
                batch,
                "1 to 10,000 commits per sync (1: no group commit)",
            ));
        }
        if path.0.iter().filter(|&&p| p == Phase::Ack).count() != 1 {
            return Err(Error::invalid(
                "path",
                format!("{:?}", path.0),
                "exactly one Phase::Ack (a client is answered once)",
            ));
        }
        Ok(GroupLog {
            path,
            sync_time,
            batch,
            window,
            queue: VecDeque::new(),
            syncing: Vec::new(),
            busy: false,
            tick_set: false,
        })
    }

    /// Runs `w`'s phases up to its next sync (answering on the way): the
    /// commit, waiting for that sync, or `None` if it has no sync left.
    fn advance(&mut self, ctx: &mut Ctx<'_, Self>, mut w: Waiting) -> Option<Waiting> {
        while let Some(&phase) = self.path.0.get(w.at) {
            match phase {
                Phase::Ack => {
                    ctx.reply(w.req, Msg::Committed);
                    w.at += 1;
                }
                Phase::Sync => return Some(w),
            }
        }
        None
    }

    /// Starts a sync if the disk is idle and someone waits: now, or at the
    /// next multiple of the window.
    fn kick(&mut self, ctx: &mut Ctx<'_, Self>) {
        if self.busy || self.tick_set || self.queue.is_empty() {
            return;
        }
        let w = self.window.0;
        let now = ctx.now().0;
        let wait = if w == 0 { 0 } else { now.div_ceil(w) * w - now };
        if wait == 0 {
            self.start(ctx);
        } else {
            self.tick_set = true;
            ctx.set_timer(SimDuration(wait), Timer::Tick);
        }
    }

    /// Takes up to `batch` waiting commits into one sync.
    fn start(&mut self, ctx: &mut Ctx<'_, Self>) {
        let n = self.batch.min(self.queue.len());
        self.syncing = self.queue.drain(..n).collect();
        self.busy = true;
        ctx.count("syncs");
        ctx.count_many("commit phases synced", n as u64);
        ctx.set_timer(self.sync_time, Timer::SyncDone);
    }
}

impl Node for GroupLog {
    type Msg = Msg;
    type Timer = Timer;
    type Disk = ();

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, _: NodeId, _: Msg) {
        ctx.count("unexpected message");
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, req: Request, msg: Msg) {
        if msg != Msg::Commit {
            ctx.count("unexpected request");
            return;
        }
        if let Some(w) = self.advance(ctx, Waiting { req, at: 0 }) {
            self.queue.push_back(w);
        }
        self.kick(ctx);
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: Timer) {
        match timer {
            Timer::Tick => {
                self.tick_set = false;
                if !self.busy && !self.queue.is_empty() {
                    self.start(ctx);
                }
            }
            Timer::SyncDone => {
                ctx.sync("group");
                self.busy = false;
                // A commit under way goes before the new ones: its next
                // sync joins the next group (a transaction finishes what it
                // started; new commits do not push it back).
                let mut going_on = Vec::new();
                for mut w in std::mem::take(&mut self.syncing) {
                    w.at += 1;
                    going_on.extend(self.advance(ctx, w));
                }
                for w in going_on.into_iter().rev() {
                    self.queue.push_front(w);
                }
                self.kick(ctx);
            }
        }
    }

    fn label(msg: &Msg) -> String {
        match msg {
            Msg::Commit => "commit".into(),
            Msg::Committed => "committed".into(),
        }
    }
}
