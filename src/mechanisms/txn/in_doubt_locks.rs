//! The locks a two-phase-commit participant holds while it is prepared,
//! and the local transactions that wait for them.
//!
//! A participant that votes yes promises to commit if told to, so it must
//! keep the transaction's writes possible: it holds the transaction's
//! **lock on its key from its *prepared* record until it learns the
//! outcome**. While it is in doubt nobody else may touch that key. Here
//! the others are **local transactions**: single-key work submitted to the
//! participant directly (a point update of an account, say). One on a free
//! key commits at once; one on a locked key waits, and gives up after
//! `lock_wait` (a database's lock-wait timeout). A two-phase transaction
//! whose prepare finds its key locked votes no (no waiting between two
//! distributed transactions, so no distributed deadlock).
//!
//! Transaction `T` touches key `T mod keys`. The table also records every
//! local transaction and every interval a transaction was in doubt, so
//! that [`no_local_commit_in_doubt`] can check the one rule that makes
//! the wait necessary: no local transaction commits on a key while a
//! prepared transaction on that key is in doubt.
//!
//! The deliberately broken [`LockRule::ReleasedAtVote`] releases the lock
//! when the participant votes (as if the vote ended its part): the local
//! transactions no longer wait, and the check catches them writing under
//! a transaction whose outcome is unknown.
//!
//! The table lives in the participant's memory: a participant that crashes
//! loses its waiters and its record (the lock itself is rebuilt from the
//! disk on recovery). The experiments crash only the coordinator.

use super::two_phase::TxnId;
use crate::sim::time::{SimDuration, SimTime};
use serde::Serialize;
use std::collections::BTreeMap;

/// Whether a prepared participant holds its lock until the outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum LockRule {
    /// Held from the *prepared* record to the decision (correct).
    HeldInDoubt,
    /// Released when the participant votes yes (broken).
    ReleasedAtVote,
}

/// One local transaction as it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LocalTxn {
    /// Its id (the experiment's numbering).
    pub id: u64,
    /// The key it needed.
    pub key: u64,
    /// When it reached the participant.
    pub arrived: SimTime,
    /// When it committed or gave up.
    pub ended: SimTime,
    /// True if it committed, false if it gave up after `lock_wait`.
    pub committed: bool,
}

impl LocalTxn {
    /// How long it waited for the lock.
    pub fn waited(&self) -> SimDuration {
        self.ended.since(self.arrived)
    }
}

/// An interval a participant was in doubt about a transaction: from its
/// *prepared* record to the decision it applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Doubt {
    /// The transaction.
    pub txn: TxnId,
    /// Its key.
    pub key: u64,
    /// Prepared at.
    pub from: SimTime,
    /// Decision applied at.
    pub to: SimTime,
}

impl Doubt {
    /// How long the lock was held (if the rule holds it).
    pub fn length(&self) -> SimDuration {
        self.to.since(self.from)
    }
}

/// What the participant saw: its local transactions and its doubts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LockRecord {
    /// Every local transaction that ended, in the order they ended.
    pub local: Vec<LocalTxn>,
    /// Every doubt that ended, in the order they ended.
    pub doubts: Vec<Doubt>,
}

/// A participant's lock table (memory only).
#[derive(Debug, Clone)]
pub struct LockTable {
    keys: u64,
    lock_wait: SimDuration,
    rule: LockRule,
    /// key → the prepared transaction that holds it.
    holders: BTreeMap<u64, TxnId>,
    /// Prepared transactions in doubt: txn → (key, since).
    doubt: BTreeMap<TxnId, (u64, SimTime)>,
    /// key → local transactions waiting for it: (id, arrived).
    waiting: BTreeMap<u64, Vec<(u64, SimTime)>>,
    /// What happened.
    pub record: LockRecord,
}

impl LockTable {
    /// A table for `keys` keys (`keys > 0`).
    pub fn new(keys: u64, lock_wait: SimDuration, rule: LockRule) -> Self {
        LockTable {
            keys: keys.max(1),
            lock_wait,
            rule,
            holders: BTreeMap::new(),
            doubt: BTreeMap::new(),
            waiting: BTreeMap::new(),
            record: LockRecord::default(),
        }
    }

    /// The key transaction `txn` touches.
    pub fn key_of(&self, txn: TxnId) -> u64 {
        txn % self.keys
    }

    /// How long a local transaction waits before it gives up.
    pub fn lock_wait(&self) -> SimDuration {
        self.lock_wait
    }

    /// True if another transaction holds `txn`'s key: its prepare must be
    /// refused.
    pub fn blocked(&self, txn: TxnId) -> bool {
        matches!(self.holders.get(&self.key_of(txn)), Some(&h) if h != txn)
    }

    /// `txn` is prepared (its record synced) at `now`: it is in doubt, and
    /// under [`LockRule::HeldInDoubt`] it holds its key.
    pub fn prepared(&mut self, txn: TxnId, now: SimTime) {
        let key = self.key_of(txn);
        self.doubt.entry(txn).or_insert((key, now));
        if self.rule == LockRule::HeldInDoubt {
            self.holders.insert(key, txn);
        }
    }

    /// `txn`'s outcome is applied at `now`: the doubt ends, the lock is
    /// released and every local transaction waiting for the key commits.
    pub fn decided(&mut self, txn: TxnId, now: SimTime) {
        let Some((key, from)) = self.doubt.remove(&txn) else {
            return;
        };
        self.record.doubts.push(Doubt {
            txn,
            key,
            from,
            to: now,
        });
        if self.holders.get(&key) == Some(&txn) {
            self.holders.remove(&key);
            for (id, arrived) in self.waiting.remove(&key).unwrap_or_default() {
                self.record.local.push(LocalTxn {
                    id,
                    key,
                    arrived,
                    ended: now,
                    committed: true,
                });
            }
        }
    }

    /// A local transaction on `key` arrives at `now`. Returns true if it
    /// must wait (the caller sets its lock-wait timer); false if it
    /// committed at once.
    pub fn local(&mut self, id: u64, key: u64, now: SimTime) -> bool {
        let key = key % self.keys;
        if self.holders.contains_key(&key) {
            self.waiting.entry(key).or_default().push((id, now));
            return true;
        }
        self.record.local.push(LocalTxn {
            id,
            key,
            arrived: now,
            ended: now,
            committed: true,
        });
        false
    }

    /// Local transaction `id`'s lock wait ran out at `now`: if it still
    /// waits, it gives up.
    pub fn wait_expired(&mut self, id: u64, key: u64, now: SimTime) {
        let key = key % self.keys;
        let Some(q) = self.waiting.get_mut(&key) else {
            return;
        };
        if let Some(i) = q.iter().position(|&(w, _)| w == id) {
            let (_, arrived) = q.remove(i);
            if q.is_empty() {
                self.waiting.remove(&key);
            }
            self.record.local.push(LocalTxn {
                id,
                key,
                arrived,
                ended: now,
                committed: false,
            });
        }
    }
}

/// The rule the lock exists for: no local transaction commits on a key
/// while a prepared transaction on that key is in doubt (strictly inside
/// the doubt: a commit at the instant the decision is applied is the
/// release). Returns the first offence found.
pub fn no_local_commit_in_doubt(r: &LockRecord) -> Result<(), String> {
    for d in &r.doubts {
        if let Some(l) = r
            .local
            .iter()
            .find(|l| l.committed && l.key == d.key && l.ended > d.from && l.ended < d.to)
        {
            return Err(format!(
                "local transaction {} committed on key {} at {} while T{} was in doubt ({} to {})",
                l.id, l.key, l.ended, d.txn, d.from, d.to
            ));
        }
    }
    Ok(())
}
