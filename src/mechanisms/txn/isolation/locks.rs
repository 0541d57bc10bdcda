//! A lock table with shared and exclusive locks and **wait-die** deadlock
//! avoidance (Rosenkrantz, Stearns & Lewis 1978): a transaction that asks
//! for a lock held in a conflicting mode waits if it is older than every
//! conflicting holder, and otherwise dies (aborts). Waiting therefore only
//! ever goes from older to younger transactions, so no cycle of waits, no
//! deadlock, can form.
//!
//! The invariant "every waiter is older than every conflicting holder" is
//! checked again whenever the holders of a key change (a grant or a
//! release): a waiter that now conflicts with an older holder dies too.

use super::Key;
use crate::check::isolation::TxnId;
use crate::sim::{ClientId, SimTime};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// A transaction's age for wait-die: the time its program was first
/// submitted (retries keep it, so a retried transaction grows older and
/// eventually wins), then its client, then its id. Smaller is older.
pub(super) type Age = (SimTime, ClientId, TxnId);

/// Lock modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// Many readers.
    Shared,
    /// One writer.
    Exclusive,
}

/// What became of a lock request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Grant {
    /// The lock is held now.
    Granted,
    /// Queued behind younger holders.
    Wait,
    /// Younger than a conflicting holder: abort.
    Die,
}

#[derive(Debug, Clone, Default)]
struct Entry {
    holders: BTreeMap<TxnId, (Mode, Age)>,
    /// Oldest first.
    waiters: BTreeMap<Age, (TxnId, Mode)>,
}

impl Entry {
    fn decide(&self, t: TxnId, age: Age, mode: Mode) -> Grant {
        let mut conflicting = self
            .holders
            .iter()
            .filter(|&(&h, &(m, _))| h != t && (mode == Mode::Exclusive || m == Mode::Exclusive))
            .map(|(_, &(_, a))| a)
            .peekable();
        if conflicting.peek().is_none() {
            Grant::Granted
        } else if conflicting.all(|a| age < a) {
            Grant::Wait
        } else {
            Grant::Die
        }
    }
}

/// Every key's holders and waiters, plus the outcomes for waiters that the
/// database still has to act on.
#[derive(Debug, Clone, Default)]
pub(super) struct LockTable {
    entries: BTreeMap<Key, Entry>,
    held: BTreeMap<TxnId, BTreeSet<Key>>,
    /// Waiters granted or killed by a change, in the order it happened.
    woken: VecDeque<(TxnId, Grant)>,
}

impl LockTable {
    /// Transaction `t` (of age `age`) asks for `key` in `mode`; holding it
    /// already in that mode or a stronger one is a grant. A shared holder
    /// asking for exclusive is an upgrade.
    pub(super) fn request(&mut self, t: TxnId, age: Age, key: Key, mode: Mode) -> Grant {
        let e = self.entries.entry(key).or_default();
        if let Some(&(m, _)) = e.holders.get(&t) {
            if m == Mode::Exclusive || mode == Mode::Shared {
                return Grant::Granted;
            }
        }
        let g = e.decide(t, age, mode);
        match g {
            Grant::Granted => {
                e.holders.insert(t, (mode, age));
                self.held.entry(t).or_default().insert(key);
                self.recheck(key);
            }
            Grant::Wait => {
                e.waiters.insert(age, (t, mode));
            }
            Grant::Die => {}
        }
        g
    }

    /// The mode `t` holds `key` in, if any.
    pub(super) fn mode(&self, t: TxnId, key: Key) -> Option<Mode> {
        self.entries.get(&key)?.holders.get(&t).map(|&(m, _)| m)
    }

    /// Releases one lock of `t` (the broken level's early read unlock).
    pub(super) fn release(&mut self, t: TxnId, key: Key) {
        if let Some(e) = self.entries.get_mut(&key) {
            if e.holders.remove(&t).is_some() {
                self.recheck(key);
            }
        }
        if let Some(keys) = self.held.get_mut(&t) {
            keys.remove(&key);
        }
    }

    /// Releases every lock of `t` and withdraws its waiting request (on
    /// `waiting`, if any): at commit or abort.
    pub(super) fn release_all(&mut self, t: TxnId, age: Age, waiting: Option<Key>) {
        if let Some(k) = waiting {
            if let Some(e) = self.entries.get_mut(&k) {
                e.waiters.remove(&age);
            }
        }
        for key in self.held.remove(&t).unwrap_or_default() {
            if let Some(e) = self.entries.get_mut(&key) {
                e.holders.remove(&t);
            }
            self.recheck(key);
        }
    }

    /// The next waiter that was granted its lock or must die.
    pub(super) fn next_woken(&mut self) -> Option<(TxnId, Grant)> {
        self.woken.pop_front()
    }

    /// Decides again for every waiter of `key`, oldest first, against the
    /// current holders.
    fn recheck(&mut self, key: Key) {
        let Some(e) = self.entries.get_mut(&key) else {
            return;
        };
        let waiting: Vec<(Age, (TxnId, Mode))> = e.waiters.iter().map(|(&a, &w)| (a, w)).collect();
        for (age, (t, mode)) in waiting {
            match e.decide(t, age, mode) {
                Grant::Wait => {}
                g => {
                    e.waiters.remove(&age);
                    if g == Grant::Granted {
                        e.holders.insert(t, (mode, age));
                        self.held.entry(t).or_default().insert(key);
                    }
                    self.woken.push_back((t, g));
                }
            }
        }
        if e.holders.is_empty() && e.waiters.is_empty() {
            self.entries.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn age(t: TxnId) -> Age {
        (SimTime(t), 0, t)
    }

    #[test]
    fn older_waits_younger_dies() {
        let mut l = LockTable::default();
        assert_eq!(l.request(2, age(2), 0, Mode::Exclusive), Grant::Granted);
        // T1 is older than the holder T2: it waits.
        assert_eq!(l.request(1, age(1), 0, Mode::Shared), Grant::Wait);
        // T3 is younger: it dies.
        assert_eq!(l.request(3, age(3), 0, Mode::Shared), Grant::Die);
        assert_eq!(l.next_woken(), None);
        l.release_all(2, age(2), None);
        assert_eq!(l.next_woken(), Some((1, Grant::Granted)));
        assert_eq!(l.mode(1, 0), Some(Mode::Shared));
    }

    #[test]
    fn shared_locks_share_and_upgrades_follow_wait_die() {
        let mut l = LockTable::default();
        assert_eq!(l.request(1, age(1), 0, Mode::Shared), Grant::Granted);
        assert_eq!(l.request(2, age(2), 0, Mode::Shared), Grant::Granted);
        // Both want to upgrade: the older waits, the younger dies.
        assert_eq!(l.request(1, age(1), 0, Mode::Exclusive), Grant::Wait);
        assert_eq!(l.request(2, age(2), 0, Mode::Exclusive), Grant::Die);
        l.release_all(2, age(2), None);
        assert_eq!(l.next_woken(), Some((1, Grant::Granted)));
        assert_eq!(l.mode(1, 0), Some(Mode::Exclusive));
    }

    #[test]
    fn a_waiter_facing_an_older_new_holder_dies() {
        let mut l = LockTable::default();
        assert_eq!(l.request(3, age(3), 0, Mode::Shared), Grant::Granted);
        assert_eq!(l.request(2, age(2), 0, Mode::Exclusive), Grant::Wait);
        // T1 (older than the waiter T2) shares the lock with T3: T2 would
        // now wait for an older transaction, which wait-die forbids.
        assert_eq!(l.request(1, age(1), 0, Mode::Shared), Grant::Granted);
        assert_eq!(l.next_woken(), Some((2, Grant::Die)));
    }
}
