//! The [`Database`] node: a multi-version store, a lock table, and the
//! transactions in flight, each a program counter over its [`Program`].

use super::locks::{Age, Grant, LockTable, Mode};
use super::{AbortReason, Key, Level, Msg, Program, Timer};
use crate::check::isolation::{TxnHistory, TxnId, TxnOp, TxnRecord, TxnStatus, Version};
use crate::error::{Error, Result};
use crate::sim::{Ctx, Latency, Node, NodeId, Request, SimTime};
use serde::Serialize;
use std::collections::BTreeMap;

/// How the transactions of a run ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Outcomes {
    /// Committed.
    pub committed: usize,
    /// Aborted by the database (wait-die, first committer wins).
    pub conflicts: usize,
    /// Transfers refused for lack of funds.
    pub insufficient: usize,
    /// Rolled back by their client.
    pub rollbacks: usize,
    /// Malformed programs, refused before they started.
    pub invalid: usize,
}

impl Outcomes {
    /// Transactions started (malformed programs start none).
    pub fn started(&self) -> usize {
        self.committed + self.conflicts + self.insufficient + self.rollbacks
    }
}

/// A committed version in the store.
#[derive(Debug, Clone, Copy)]
struct Installed {
    /// The commit counter when it was installed.
    commit: u64,
    version: Version,
    value: i64,
}

/// What a transaction does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Read(Key),
    Write(Key, i64),
    Finish,
    Abort(AbortReason),
}

/// A transaction in flight.
#[derive(Debug, Clone)]
struct Txn {
    req: Request,
    program: Program,
    rollback: bool,
    age: Age,
    start: SimTime,
    /// Index of the next step of the program.
    pc: usize,
    /// The first value read of each key.
    reads: BTreeMap<Key, i64>,
    ops: Vec<TxnOp>,
    /// Its latest write of each key (buffered, or in place without
    /// isolation).
    writes: BTreeMap<Key, (Version, i64)>,
    /// Without isolation: each key's value before its first write.
    before: BTreeMap<Key, (Version, i64)>,
    seq: u32,
    /// Snapshot isolation: the commit counter its reads see.
    snapshot: Option<u64>,
    /// The action blocked on a lock.
    waiting: Option<Action>,
}

impl Txn {
    /// The program's next action, from its program counter and what it
    /// read. A decision (not enough money, doctor already alone) is not an
    /// operation: it takes no step of its own.
    fn plan(&self) -> Action {
        let read = |k: &Key| self.reads.get(k).copied().unwrap_or(0);
        match &self.program {
            Program::Transfer { from, to, amount } => match self.pc {
                0 => Action::Read(*from),
                1 => Action::Read(*to),
                2 if read(from) < *amount => Action::Abort(AbortReason::InsufficientFunds),
                2 => Action::Write(*from, read(from).saturating_sub(*amount)),
                3 => Action::Write(*to, read(to).saturating_add(*amount)),
                _ => Action::Finish,
            },
            Program::Audit { keys } => keys
                .get(self.pc)
                .map_or(Action::Finish, |&k| Action::Read(k)),
            Program::OnCall { me, other } => match self.pc {
                0 => Action::Read(*me),
                1 => Action::Read(*other),
                2 if read(me) == 1 && read(other) == 1 => Action::Write(*me, 0),
                _ => Action::Finish,
            },
        }
    }
}

/// The database node (see the [module docs](super)).
#[derive(Debug, Clone)]
pub struct Database {
    level: Level,
    step: Latency,
    /// Committed versions of each key, oldest first.
    store: Vec<Vec<Installed>>,
    /// What a read without isolation sees: the value in place. At the
    /// other levels, the latest committed version.
    live: Vec<(Version, i64)>,
    locks: LockTable,
    active: BTreeMap<TxnId, Txn>,
    next_id: TxnId,
    commits: u64,
    /// Without isolation: in-place writes so far, and the number of each
    /// committed version in the order, to keep the version order the
    /// order of installation.
    installs: u64,
    install_no: BTreeMap<(Key, Version), u64>,
    order_no: BTreeMap<Key, Vec<u64>>,
    history: TxnHistory,
    outcomes: Outcomes,
}

impl Database {
    /// A database at `level` whose key `k` starts at `initial[k]`, taking
    /// a `step` between two operations of a transaction.
    pub fn new(level: Level, initial: Vec<i64>, step: Latency) -> Result<Database> {
        if initial.is_empty() {
            return Err(Error::empty("initial values"));
        }
        step.validate()?;
        let store = initial
            .iter()
            .map(|&value| {
                vec![Installed {
                    commit: 0,
                    version: Version::INITIAL,
                    value,
                }]
            })
            .collect();
        let n = initial.len();
        Ok(Database {
            level,
            step,
            store,
            live: initial.iter().map(|&v| (Version::INITIAL, v)).collect(),
            locks: LockTable::default(),
            active: BTreeMap::new(),
            next_id: 1,
            commits: 0,
            installs: 0,
            install_no: BTreeMap::new(),
            order_no: (0..n).map(|k| (k, vec![0])).collect(),
            history: TxnHistory::new(Vec::new(), (0..n).map(|k| (k, vec![Version::INITIAL]))),
            outcomes: Outcomes::default(),
        })
    }

    /// The history so far: every transaction that ended, and the order of
    /// committed versions.
    pub fn history(&self) -> &TxnHistory {
        &self.history
    }

    /// How transactions ended so far.
    pub fn outcomes(&self) -> Outcomes {
        self.outcomes
    }

    /// Each key's current value: the latest committed one, or, without
    /// isolation, whatever is in place.
    pub fn values(&self) -> Vec<i64> {
        self.live.iter().map(|&(_, v)| v).collect()
    }

    /// Transactions in flight.
    pub fn in_flight(&self) -> usize {
        self.active.len()
    }

    fn locking(&self) -> bool {
        matches!(
            self.level,
            Level::ReadCommitted | Level::Serializable | Level::BrokenTwoPhaseLocking
        )
    }

    /// Runs `action` of `id` now (its step has come, or its lock was
    /// granted).
    fn execute(&mut self, ctx: &mut Ctx<'_, Self>, id: TxnId, action: Action) {
        let lock = match action {
            Action::Read(k)
                if matches!(
                    self.level,
                    Level::Serializable | Level::BrokenTwoPhaseLocking
                ) =>
            {
                Some((k, Mode::Shared))
            }
            Action::Write(k, _) if self.locking() => Some((k, Mode::Exclusive)),
            _ => None,
        };
        if let Some((k, mode)) = lock {
            let Some(age) = self.active.get(&id).map(|t| t.age) else {
                return;
            };
            match self.locks.request(id, age, k, mode) {
                Grant::Granted => {}
                Grant::Wait => {
                    if let Some(t) = self.active.get_mut(&id) {
                        t.waiting = Some(action);
                    }
                    return;
                }
                Grant::Die => return self.abort(ctx, id, AbortReason::Conflict),
            }
        }
        match action {
            Action::Read(k) => self.read(ctx, id, k),
            Action::Write(k, v) => self.write(ctx, id, k, v),
            Action::Finish => self.finish(ctx, id),
            Action::Abort(r) => self.abort(ctx, id, r),
        }
    }

    fn read(&mut self, ctx: &mut Ctx<'_, Self>, id: TxnId, k: Key) {
        let level = self.level;
        let commits = self.commits;
        let Some(t) = self.active.get_mut(&id) else {
            return;
        };
        let snapshot = *t.snapshot.get_or_insert(commits);
        let (version, value) = match (level, t.writes.get(&k)) {
            (Level::NoIsolation, _) => self.live[k],
            (_, Some(&own)) => own,
            (Level::Snapshot, None) => self.store[k]
                .iter()
                .rev()
                .find(|i| i.commit <= snapshot)
                .map_or(self.live[k], |i| (i.version, i.value)),
            (_, None) => self.live[k],
        };
        t.reads.entry(k).or_insert(value);
        t.ops.push(TxnOp::read(k, version, value, ctx.now()));
        if level == Level::BrokenTwoPhaseLocking && self.locks.mode(id, k) == Some(Mode::Shared) {
            self.locks.release(id, k);
        }
        self.next(ctx, id);
    }

    fn write(&mut self, ctx: &mut Ctx<'_, Self>, id: TxnId, k: Key, value: i64) {
        let commits = self.commits;
        let Some(t) = self.active.get_mut(&id) else {
            return;
        };
        t.snapshot.get_or_insert(commits);
        t.seq += 1;
        let version = Version::new(id, t.seq);
        t.ops.push(TxnOp::write(k, version, value, ctx.now()));
        t.writes.insert(k, (version, value));
        if self.level == Level::NoIsolation {
            t.before.entry(k).or_insert(self.live[k]);
            self.live[k] = (version, value);
            self.installs += 1;
            self.install_no.insert((k, version), self.installs);
        }
        self.next(ctx, id);
    }

    /// Advances the program counter; a decision to abort happens at once,
    /// anything else after a step.
    fn next(&mut self, ctx: &mut Ctx<'_, Self>, id: TxnId) {
        let Some(t) = self.active.get_mut(&id) else {
            return;
        };
        t.pc += 1;
        match t.plan() {
            Action::Abort(r) => self.abort(ctx, id, r),
            _ => {
                let d = self.step.sample(ctx.rng());
                ctx.set_timer(d, Timer::Step(id));
            }
        }
    }

    fn finish(&mut self, ctx: &mut Ctx<'_, Self>, id: TxnId) {
        let Some(t) = self.active.get(&id) else {
            return;
        };
        if t.rollback {
            return self.abort(ctx, id, AbortReason::Rollback);
        }
        if self.level == Level::Snapshot {
            let snapshot = t.snapshot.unwrap_or(self.commits);
            let lost_race = t
                .writes
                .keys()
                .any(|&k| self.store[k].last().is_some_and(|i| i.commit > snapshot));
            if lost_race {
                return self.abort(ctx, id, AbortReason::Conflict);
            }
        }
        let Some(t) = self.active.remove(&id) else {
            return;
        };
        self.commits += 1;
        for (&k, &(version, value)) in &t.writes {
            let order = self.history.version_order.entry(k).or_default();
            if self.level == Level::NoIsolation {
                // Already in place: keep the order of installation.
                let no = self.install_no.get(&(k, version)).copied().unwrap_or(0);
                let nos = self.order_no.entry(k).or_default();
                let at = nos.partition_point(|&n| n < no);
                nos.insert(at, no);
                order.insert(at.min(order.len()), version);
            } else {
                self.store[k].push(Installed {
                    commit: self.commits,
                    version,
                    value,
                });
                self.live[k] = (version, value);
                order.push(version);
            }
        }
        self.locks.release_all(id, t.age, None);
        self.outcomes.committed += 1;
        let reads = t
            .ops
            .iter()
            .filter(|o| o.is_read())
            .map(|o| (o.key(), o.value()))
            .collect();
        ctx.reply(t.req, Msg::Committed { txn: id, reads });
        self.record(ctx, id, t, TxnStatus::Committed);
    }

    fn abort(&mut self, ctx: &mut Ctx<'_, Self>, id: TxnId, reason: AbortReason) {
        let Some(t) = self.active.remove(&id) else {
            return;
        };
        for (&k, &before) in &t.before {
            self.live[k] = before;
        }
        let waiting = match t.waiting {
            Some(Action::Read(k) | Action::Write(k, _)) => Some(k),
            _ => None,
        };
        self.locks.release_all(id, t.age, waiting);
        match reason {
            AbortReason::Conflict => self.outcomes.conflicts += 1,
            AbortReason::InsufficientFunds => self.outcomes.insufficient += 1,
            AbortReason::Rollback => self.outcomes.rollbacks += 1,
            AbortReason::Invalid => self.outcomes.invalid += 1,
        }
        ctx.reply_failed(t.req, Msg::Aborted { txn: id, reason });
        self.record(ctx, id, t, TxnStatus::Aborted);
    }

    fn record(&mut self, ctx: &mut Ctx<'_, Self>, id: TxnId, t: Txn, status: TxnStatus) {
        self.history.txns.push(TxnRecord {
            id,
            client: t.req.client,
            label: t.program.label(),
            start: t.start,
            end: ctx.now(),
            status,
            ops: t.ops,
        });
    }

    /// Acts on every waiter a lock change granted or killed, until none is
    /// left (an abort releases locks, which may wake more).
    fn settle(&mut self, ctx: &mut Ctx<'_, Self>) {
        while let Some((id, g)) = self.locks.next_woken() {
            match g {
                Grant::Granted => {
                    let action = self.active.get_mut(&id).and_then(|t| t.waiting.take());
                    match action {
                        Some(Action::Read(k)) => self.read(ctx, id, k),
                        Some(Action::Write(k, v)) => self.write(ctx, id, k, v),
                        _ => {}
                    }
                }
                Grant::Die => {
                    // It no longer waits: the lock table already dropped
                    // its request.
                    if let Some(t) = self.active.get_mut(&id) {
                        t.waiting = None;
                    }
                    self.abort(ctx, id, AbortReason::Conflict);
                }
                Grant::Wait => {}
            }
        }
    }
}

impl Node for Database {
    type Msg = Msg;
    type Timer = Timer;
    type Disk = ();

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, _from: NodeId, _msg: Msg) {
        ctx.count("unexpected message");
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, req: Request, msg: Msg) {
        let Msg::Begin {
            program,
            rollback,
            born,
        } = msg
        else {
            return ctx.count("unexpected request");
        };
        if program.validate(self.live.len()).is_err() {
            self.outcomes.invalid += 1;
            let reason = AbortReason::Invalid;
            return ctx.reply_failed(req, Msg::Aborted { txn: 0, reason });
        }
        let id = self.next_id;
        self.next_id += 1;
        let rollback = rollback && matches!(program, Program::Transfer { .. });
        self.active.insert(
            id,
            Txn {
                req,
                program,
                rollback,
                age: (born, req.client, id),
                start: ctx.now(),
                pc: 0,
                reads: BTreeMap::new(),
                ops: Vec::new(),
                writes: BTreeMap::new(),
                before: BTreeMap::new(),
                seq: 0,
                snapshot: None,
                waiting: None,
            },
        );
        let d = self.step.sample(ctx.rng());
        ctx.set_timer(d, Timer::Step(id));
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: Timer) {
        let Timer::Step(id) = timer;
        let Some(action) = self.active.get(&id).map(Txn::plan) else {
            return;
        };
        self.execute(ctx, id, action);
        self.settle(ctx);
    }

    fn label(msg: &Msg) -> String {
        match msg {
            Msg::Begin { program, .. } => program.label(),
            Msg::Committed { txn, .. } => format!("commit T{txn}"),
            Msg::Aborted { txn, reason } => format!("abort T{txn} ({reason:?})"),
        }
    }

    fn timer_label(t: &Timer) -> String {
        let Timer::Step(id) = t;
        format!("step T{id}")
    }
}
