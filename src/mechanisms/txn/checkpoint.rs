//! Redo logging with checkpoints: a bank that keeps its balances in memory
//! (no-force: a commit makes only the log durable), writes them to disk at a
//! checkpoint every `interval` commits, and recovers by redoing the log
//! written since the last checkpoint.
//!
//! Without checkpoints, recovery must redo the whole log, which grows
//! forever. A checkpoint writes every balance to disk together with a
//! `Checkpoint` record in the log (one sync; in this model a sync is atomic,
//! so the balances on disk are always exactly the state at the newest
//! checkpoint record). Recovery then:
//!
//! 1. reads the log **backwards** from its end until it meets a checkpoint
//!    record: the records after it, and the checkpoint itself, are what it
//!    reads (transfers run one at a time, so no transaction is active at a
//!    checkpoint and nothing older need be scanned);
//! 2. redoes every transaction committed after it, oldest first, writing the
//!    balances and syncing after each one (as a recovery whose buffer cannot
//!    hold everything writes pages as it goes): each of those syncs is a
//!    crash point *during recovery*;
//! 3. writes a checkpoint of its own (and syncs), so that the next recovery
//!    starts from here.
//!
//! A recovery that crashes in step 2 or 3 leaves some transactions redone on
//! disk and no new checkpoint: the next recovery redoes them again. That is
//! harmless when redo installs **after-images** ([`Redo::AfterImage`]:
//! "account 3 := 120", idempotent) and wrong when it applies **deltas**
//! ([`Redo::Delta`], deliberately broken: "account 3 += 20" counted twice).
//! A clean recovery from a checkpoint cannot tell the two apart; only a crash
//! during recovery can.
//!
//! Each log record carries both the after-image and the change, so the two
//! recoveries read the same log.

use crate::error::{Error, Result};
use crate::sim::{Ctx, Node, NodeId, Request};
use crate::txn::logging::{Account, Bank, Msg, TxnId};
use serde::Serialize;
use std::collections::BTreeSet;

/// How recovery redoes a committed update.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Redo {
    /// Install the record's after-image: idempotent.
    AfterImage,
    /// Add the record's change to the balance on disk: deliberately broken
    /// (not idempotent: a recovery that crashed after writing some of its
    /// redo makes the next one count those changes twice).
    Delta,
}

impl Redo {
    /// Both, the correct one first.
    pub const ALL: [Redo; 2] = [Redo::AfterImage, Redo::Delta];
    /// A short name for tables.
    pub fn name(self) -> &'static str {
        match self {
            Redo::AfterImage => "redo after-images",
            Redo::Delta => "redo deltas (broken)",
        }
    }
}

/// One log record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Entry {
    /// Transaction `txn` sets `account` to `new`, a change of `delta`.
    Update {
        /// The transaction.
        txn: TxnId,
        /// The account.
        account: Account,
        /// Its balance after (the after-image).
        new: i64,
        /// The change (new − old).
        delta: i64,
    },
    /// Transaction `txn` committed.
    Commit(TxnId),
    /// Every balance on disk includes every transaction committed before
    /// this record.
    Checkpoint,
}

/// The bank's disk: the balances as of the newest checkpoint, and the log.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Ledger {
    /// Balance of each account, as of the newest checkpoint.
    pub balances: Vec<i64>,
    /// The log, oldest record first.
    pub log: imbl::Vector<Entry>,
}

impl Ledger {
    /// `accounts` accounts holding `initial` each; the log holds one
    /// checkpoint (the initial balances are a checkpoint's state).
    ///
    /// Errors if `accounts` is not 2 to 1,000.
    pub fn new(accounts: usize, initial: i64) -> Result<Ledger> {
        if !(2..=1_000).contains(&accounts) {
            return Err(Error::invalid(
                "accounts",
                accounts,
                "2 to 1,000 accounts (a transfer needs two)",
            ));
        }
        Ok(Ledger {
            balances: vec![initial; accounts],
            log: std::iter::once(Entry::Checkpoint).collect(),
        })
    }
    /// The transactions with a commit record.
    pub fn committed(&self) -> BTreeSet<TxnId> {
        self.log
            .iter()
            .filter_map(|r| match r {
                Entry::Commit(t) => Some(*t),
                _ => None,
            })
            .collect()
    }
}

/// One update to redo: `(account, after-image, change)`.
pub type Update = (Account, i64, i64);

/// What recovery must do, read from the disk alone: the backward scan to
/// the newest checkpoint and the committed transactions after it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecoveryPlan {
    /// Log records read: those after the newest checkpoint, and the
    /// checkpoint itself (the whole log if it has none).
    pub read: usize,
    /// The committed transactions after the checkpoint, oldest first, each
    /// with its updates `(account, after-image, change)`.
    pub redo: Vec<(TxnId, Vec<Update>)>,
}

impl RecoveryPlan {
    /// Reads `ledger`'s log backwards to its newest checkpoint.
    pub fn of(ledger: &Ledger) -> RecoveryPlan {
        let n = ledger.log.len();
        let start = ledger
            .log
            .iter()
            .rposition(|e| *e == Entry::Checkpoint)
            .map_or(0, |i| i + 1);
        let read = n - start + usize::from(start > 0);
        let tail: Vec<Entry> = ledger.log.iter().skip(start).copied().collect();
        let committed: BTreeSet<TxnId> = tail
            .iter()
            .filter_map(|e| match e {
                Entry::Commit(t) => Some(*t),
                _ => None,
            })
            .collect();
        let mut redo: Vec<(TxnId, Vec<Update>)> = Vec::new();
        for e in &tail {
            if let Entry::Update {
                txn,
                account,
                new,
                delta,
            } = *e
            {
                if !committed.contains(&txn) {
                    continue;
                }
                match redo.last_mut() {
                    Some((t, ups)) if *t == txn => ups.push((account, new, delta)),
                    _ => redo.push((txn, vec![(account, new, delta)])),
                }
            }
        }
        RecoveryPlan { read, redo }
    }
    /// Update records replayed: those of the committed transactions.
    pub fn replayed(&self) -> usize {
        self.redo.iter().map(|(_, u)| u.len()).sum()
    }
}

/// Applies one redone update to a balance.
fn redo_one(redo: Redo, balance: &mut i64, new: i64, delta: i64) {
    match redo {
        Redo::AfterImage => *balance = new,
        Redo::Delta => *balance = balance.saturating_add(delta),
    }
}

/// The balances a clean recovery of `ledger` gives (nothing written).
pub fn recovered_balances(ledger: &Ledger, redo: Redo) -> Vec<i64> {
    let mut b = ledger.balances.clone();
    for (_, ups) in RecoveryPlan::of(ledger).redo {
        for (a, new, delta) in ups {
            if let Some(x) = b.get_mut(a) {
                redo_one(redo, x, new, delta);
            }
        }
    }
    b
}

/// The bank. Its memory: the current balances (lost in a crash) and the
/// commits since the last checkpoint.
#[derive(Debug, Clone)]
pub struct CheckpointBank {
    /// A checkpoint every this many commits (>= 1).
    pub interval: usize,
    /// How recovery redoes.
    pub redo: Redo,
    /// The current balances (None until loaded from disk).
    cache: Option<Vec<i64>>,
    /// Commits since the last checkpoint.
    since: usize,
}

impl CheckpointBank {
    /// A bank checkpointing every `interval` commits (1 to 1,000,000),
    /// recovering with `redo`.
    pub fn new(interval: usize, redo: Redo) -> Result<CheckpointBank> {
        if !(1..=1_000_000).contains(&interval) {
            return Err(Error::invalid(
                "interval",
                interval,
                "a checkpoint every 1 to 1,000,000 commits",
            ));
        }
        Ok(CheckpointBank {
            interval,
            redo,
            cache: None,
            since: 0,
        })
    }

    fn transfer(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        req: Request,
        from: Account,
        to: Account,
        amount: i64,
    ) {
        let t = req.op;
        let mut cache = match self.cache.take() {
            Some(c) => c,
            None => ctx.disk().balances.clone(),
        };
        let n = cache.len();
        let ok = from < n && to < n && from != to && amount > 0 && cache[from] >= amount;
        let b2 = if ok {
            cache[to].checked_add(amount)
        } else {
            None
        };
        let Some(b2) = b2 else {
            self.cache = Some(cache);
            ctx.reply_failed(req, Msg::Refused);
            return;
        };
        let a2 = cache[from] - amount;
        let log = &mut ctx.disk().log;
        log.push_back(Entry::Update {
            txn: t,
            account: from,
            new: a2,
            delta: -amount,
        });
        log.push_back(Entry::Update {
            txn: t,
            account: to,
            new: b2,
            delta: amount,
        });
        log.push_back(Entry::Commit(t));
        ctx.sync("commit");
        ctx.reply(req, Msg::Done);
        cache[from] = a2;
        cache[to] = b2;
        self.since += 1;
        if self.since >= self.interval {
            let disk = ctx.disk();
            disk.balances.clone_from(&cache);
            disk.log.push_back(Entry::Checkpoint);
            ctx.sync("checkpoint");
            self.since = 0;
        }
        self.cache = Some(cache);
    }

    /// Recovery: scan back to the newest checkpoint, redo the committed
    /// transactions after it one by one (a sync after each), then write a
    /// checkpoint.
    fn recover(&mut self, ctx: &mut Ctx<'_, Self>) {
        let plan = RecoveryPlan::of(ctx.disk());
        ctx.count("recoveries");
        ctx.count_many("recovery records read", plan.read as u64);
        ctx.count_many("recovery records replayed", plan.replayed() as u64);
        ctx.note_with(|| {
            format!(
                "recovery: read {} records, redo {} transactions",
                plan.read,
                plan.redo.len()
            )
        });
        for (t, ups) in &plan.redo {
            let disk = ctx.disk();
            for &(a, new, delta) in ups {
                if let Some(x) = disk.balances.get_mut(a) {
                    redo_one(self.redo, x, new, delta);
                }
            }
            ctx.sync(&format!("recovery: redo T{t}"));
        }
        ctx.disk().log.push_back(Entry::Checkpoint);
        ctx.sync("recovery: checkpoint");
        self.cache = Some(ctx.disk().balances.clone());
        self.since = 0;
    }
}

impl Node for CheckpointBank {
    type Msg = Msg;
    type Timer = ();
    type Disk = Ledger;

    fn on_recover(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.recover(ctx);
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, _: NodeId, _: Msg) {
        ctx.count("unexpected message");
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, req: Request, msg: Msg) {
        match msg {
            Msg::Transfer { from, to, amount } => self.transfer(ctx, req, from, to, amount),
            _ => ctx.reply_failed(req, Msg::Refused),
        }
    }

    fn label(msg: &Msg) -> String {
        Bank::label(msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_reads_back_to_the_newest_checkpoint() {
        let mut l = Ledger::new(2, 10).unwrap();
        let up = |txn, account, new, delta| Entry::Update {
            txn,
            account,
            new,
            delta,
        };
        l.log.push_back(up(1, 0, 9, -1));
        l.log.push_back(up(1, 1, 11, 1));
        l.log.push_back(Entry::Commit(1));
        l.log.push_back(up(2, 0, 8, -1));
        let p = RecoveryPlan::of(&l);
        // Four records after the checkpoint, and the checkpoint.
        assert_eq!(p.read, 5);
        assert_eq!(p.redo, vec![(1, vec![(0, 9, -1), (1, 11, 1)])]);
        assert_eq!(recovered_balances(&l, Redo::AfterImage), [9, 11]);
        assert_eq!(recovered_balances(&l, Redo::Delta), [9, 11]);
        // A disk that already holds T1 (a recovery crashed after its redo):
        // deltas count it twice.
        l.balances = vec![9, 11];
        assert_eq!(recovered_balances(&l, Redo::AfterImage), [9, 11]);
        assert_eq!(recovered_balances(&l, Redo::Delta), [8, 12]);
        let empty = Ledger::default();
        assert_eq!(RecoveryPlan::of(&empty).read, 0);
    }
}
