//! Pending timers: a slab of slots with generation numbers.
//!
//! A timer's queue event carries its slot and the slot's generation when it
//! was set. Firing, cancelling or a crash frees the slot and bumps its
//! generation, so a stale event (a cancelled timer, a timer of a crashed
//! node) no longer matches and is skipped when popped, and a stale
//! [`TimerId`] cancels nothing. Nothing is remembered past a timer's life:
//! cancelling a timer that already fired is a no-op that leaves no trace
//! (the set of cancelled ids the engine used to keep grew with every such
//! call). Generations wrap after 2^32 reuses of one slot, far beyond any
//! run's timers in flight at once.
//!
//! The stale events themselves are counted by the engine and removed from
//! the queue when they outnumber the live ones (`Core::compact`), so memory
//! follows the timers pending, not the timers ever cancelled.

use super::node::TimerId;

#[derive(Debug, Clone, Copy)]
struct Slot {
    gen: u32,
    owner: u32,
    live: bool,
}

/// The slab; see the [module docs](self).
#[derive(Debug, Clone, Default)]
pub(crate) struct Timers {
    slots: Vec<Slot>,
    free: Vec<u32>,
}

/// What a timer event must carry to be checked when popped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimerKey {
    pub slot: u32,
    pub gen: u32,
}

impl TimerKey {
    pub fn id(self) -> TimerId {
        TimerId((u64::from(self.slot) << 32) | u64::from(self.gen))
    }
    fn of(id: TimerId) -> TimerKey {
        TimerKey {
            slot: (id.0 >> 32) as u32,
            gen: id.0 as u32,
        }
    }
}

impl Timers {
    /// Bytes one pending timer holds in the slab.
    pub const SLOT_BYTES: usize = std::mem::size_of::<Slot>();

    /// A new pending timer of node `owner`.
    #[inline]
    pub fn set(&mut self, owner: u32) -> TimerKey {
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.slots.push(Slot {
                    gen: 0,
                    owner,
                    live: false,
                });
                (self.slots.len() - 1) as u32
            }
        };
        let s = &mut self.slots[slot as usize];
        s.owner = owner;
        s.live = true;
        TimerKey { slot, gen: s.gen }
    }

    fn free(&mut self, slot: u32) {
        let s = &mut self.slots[slot as usize];
        s.live = false;
        s.gen = s.gen.wrapping_add(1);
        self.free.push(slot);
    }

    /// The timer's event was popped: the owner if it is still pending (it
    /// is now fired and its slot free), `None` if it was cancelled or its
    /// owner crashed.
    #[inline]
    pub fn fire(&mut self, key: TimerKey) -> Option<u32> {
        let s = self.slots.get(key.slot as usize)?;
        if !s.live || s.gen != key.gen {
            return None;
        }
        let owner = s.owner;
        self.free(key.slot);
        Some(owner)
    }

    /// The node that set the timer of this queue event (0 if the slot is
    /// unknown; only asked of pending timers).
    pub fn owner(&self, key: TimerKey) -> u32 {
        self.slots.get(key.slot as usize).map_or(0, |s| s.owner)
    }

    /// True if the timer of this queue event is still pending (not fired,
    /// cancelled or discarded by a crash).
    #[inline]
    pub fn is_pending(&self, key: TimerKey) -> bool {
        self.slots
            .get(key.slot as usize)
            .is_some_and(|s| s.live && s.gen == key.gen)
    }

    /// Cancels a pending timer of `owner`; false if it already fired, was
    /// cancelled, or is not `owner`'s.
    pub fn cancel(&mut self, id: TimerId, owner: u32) -> bool {
        let key = TimerKey::of(id);
        match self.slots.get(key.slot as usize) {
            Some(s) if s.live && s.gen == key.gen && s.owner == owner => {
                self.free(key.slot);
                true
            }
            _ => false,
        }
    }

    /// Discards every pending timer of `owner` (it crashed); returns how
    /// many (their queue events are now stale).
    pub fn crash(&mut self, owner: u32) -> usize {
        let mut n = 0;
        for i in 0..self.slots.len() {
            let s = self.slots[i];
            if s.live && s.owner == owner {
                self.free(i as u32);
                n += 1;
            }
        }
        n
    }

    /// Timers pending (set, not fired, not cancelled).
    pub fn pending(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    /// Slots allocated (pending timers, plus free slots kept for reuse).
    #[cfg(test)]
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cancel_after_fire_leaves_nothing_behind() {
        let mut t = Timers::default();
        let a = t.set(0);
        assert_eq!(t.fire(a), Some(0));
        assert!(!t.cancel(a.id(), 0), "already fired");
        assert_eq!(t.pending(), 0);
        // The slot is reused, and the stale id does not cancel the new timer.
        let b = t.set(0);
        assert_eq!(b.slot, a.slot);
        assert!(!t.cancel(a.id(), 0));
        assert_eq!(t.fire(b), Some(0));
        assert_eq!(t.capacity(), 1, "one slot served both timers");
    }

    #[test]
    fn cancelled_and_crashed_timers_do_not_fire() {
        let mut t = Timers::default();
        let a = t.set(0);
        let b = t.set(1);
        let c = t.set(1);
        assert!(t.cancel(a.id(), 0));
        assert!(!t.cancel(b.id(), 0), "not node 0's timer");
        t.crash(1);
        assert_eq!((t.fire(a), t.fire(b), t.fire(c)), (None, None, None));
        assert_eq!(t.pending(), 0);
    }
}
