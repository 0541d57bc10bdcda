//! The event queue: events ordered by `(time, seq)`, as a radix heap.
//!
//! `seq` is a counter incremented on every push, so events scheduled for the
//! same instant fire in the order they were scheduled. That tie-break is what
//! makes a run a pure function of its seed: no two events ever compare equal.
//!
//! Why a radix heap: a discrete-event simulation never schedules into the
//! past, so the queue is *monotone*: every pushed time is at least the time
//! last popped. A radix heap exploits that. Events at exactly `last` wait in
//! a small FIFO; any later event goes to the bucket named by the highest
//! 4-bit digit in which its time differs from `last` (the level) and its value
//! of that digit: 16 levels × 16 digits. Pushing is one XOR, one leading-zero
//! count and one vector push. Popping takes from the FIFO; when it runs dry,
//! the lowest non-empty bucket is emptied into lower levels around its
//! minimum. Each event moves down at most 16 levels and in practice two or
//! three, through sequential memory, so the cost per event stays nearly flat
//! as the queue grows to millions of events, where a binary heap's random
//! accesses miss the cache on every level (`scripts/bench.sh` measures both
//! ends).
//!
//! Events are stored inline (no slab). Vectors keep their capacity, so once
//! the queue has reached its peak size it allocates nothing.

use super::time::SimTime;

struct Entry<E> {
    time: u64,
    seq: u64,
    event: E,
}

/// Bits per radix digit: 16-way buckets per level, 16 levels for 64 bits.
const DIGIT_BITS: u32 = 4;
/// Buckets: one per (level, digit value).
const BUCKETS: usize = 256;

/// Bucket of `time` relative to `last` (`time > last`): the highest 4-bit
/// digit where they differ (the level) and `time`'s value of that digit.
/// Buckets are ordered: every event in a lower bucket is earlier than every
/// event in a higher one.
#[inline(always)]
fn bucket_of(time: u64, last: u64) -> usize {
    let level = (63 - (time ^ last).leading_zeros()) / DIGIT_BITS;
    let digit = (time >> (level * DIGIT_BITS)) & ((1 << DIGIT_BITS) - 1);
    ((level as usize) << DIGIT_BITS) | digit as usize
}

/// A monotone priority queue of events ordered by time, then insertion order.
///
/// Times pushed must not be earlier than the time of the last event popped
/// (the simulation never schedules into the past); an earlier time is
/// treated as that time, so order stays total and deterministic.
///
/// Invariant: `last` is the time of the last event popped (0 before any),
/// every queued event is at `last` or later, and the events at exactly `last`
/// are in `due` (popped from the back) and then `fresh` (in push order).
pub struct EventQueue<E> {
    last: u64,
    /// Events at `last`, in *descending* `seq` order: `pop` takes the back.
    due: Vec<Entry<E>>,
    /// Events pushed at `last` since `due` was filled, in push order; all
    /// come after everything in `due`.
    fresh: Vec<Entry<E>>,
    /// Events later than `last`, by [`bucket_of`].
    buckets: Vec<Vec<Entry<E>>>,
    /// The earliest time in each bucket (so `peek` and `refill` need no scan).
    bucket_min: Vec<u64>,
    /// Bit `b % 64` of word `b / 64` is set iff bucket `b` is non-empty.
    nonempty: [u64; BUCKETS / 64],
    len: usize,
    seq: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    /// An empty queue.
    pub fn new() -> Self {
        Self::with_capacity(0)
    }

    /// An empty queue with room for about `n` same-time events.
    pub fn with_capacity(n: usize) -> Self {
        EventQueue {
            last: 0,
            due: Vec::with_capacity(n.min(1024)),
            fresh: Vec::new(),
            buckets: (0..BUCKETS).map(|_| Vec::new()).collect(),
            bucket_min: vec![u64::MAX; BUCKETS],
            nonempty: [0; BUCKETS / 64],
            len: 0,
            seq: 0,
        }
    }

    /// Schedules `event` at `time`.
    #[inline]
    pub fn push(&mut self, time: SimTime, event: E) {
        let time = time.0.max(self.last);
        let e = Entry {
            time,
            seq: self.seq,
            event,
        };
        self.seq += 1;
        self.len += 1;
        if time == self.last {
            self.fresh.push(e);
        } else {
            self.put(bucket_of(time, self.last), e);
        }
    }

    #[inline(always)]
    fn put(&mut self, b: usize, e: Entry<E>) {
        let m = &mut self.bucket_min[b];
        *m = (*m).min(e.time);
        self.buckets[b].push(e);
        self.nonempty[b / 64] |= 1 << (b % 64);
    }

    /// The lowest non-empty bucket, if any.
    #[inline(always)]
    fn lowest(&self) -> Option<usize> {
        self.nonempty
            .iter()
            .enumerate()
            .find(|(_, w)| **w != 0)
            .map(|(i, w)| i * 64 + w.trailing_zeros() as usize)
    }

    /// Removes and returns the earliest event.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        if self.due.is_empty() {
            if !self.fresh.is_empty() {
                std::mem::swap(&mut self.due, &mut self.fresh);
                self.due.reverse();
            } else {
                let b = self.lowest()?;
                self.refill(b);
            }
        }
        let e = self.due.pop()?;
        self.len -= 1;
        Some((SimTime(e.time), e.event))
    }

    /// Moves the events of bucket `i` (the lowest non-empty one) down around
    /// their minimum, which becomes `last`; the events at that minimum go to
    /// `due`. Only called when no event at `last` is left.
    #[inline(never)]
    fn refill(&mut self, i: usize) {
        let mut from = std::mem::take(&mut self.buckets[i]);
        self.nonempty[i / 64] &= !(1 << (i % 64));
        let min = std::mem::replace(&mut self.bucket_min[i], u64::MAX);
        self.last = min;
        for e in from.drain(..) {
            if e.time == min {
                self.due.push(e);
            } else {
                self.put(bucket_of(e.time, min), e);
            }
        }
        // Keep the emptied vector's capacity for the next time.
        self.buckets[i] = from;
        // Equal times arrive in bucket order, not push order.
        if self.due.len() > 1 {
            self.due.sort_unstable_by_key(|e| std::cmp::Reverse(e.seq));
        }
    }

    /// The time of the earliest event, if any.
    #[inline]
    pub fn peek_time(&self) -> Option<SimTime> {
        if !self.due.is_empty() || !self.fresh.is_empty() {
            Some(SimTime(self.last))
        } else {
            self.lowest().map(|b| SimTime(self.bucket_min[b]))
        }
    }

    /// Number of pending events.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// How many events were ever pushed (the next sequence number).
    pub fn pushed(&self) -> u64 {
        self.seq
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::{stream, unit_f64};

    /// The radix heap pops exactly what a sort by (time, seq) gives, for a
    /// monotone random workload with many equal times (pushes at the current
    /// time included), and `peek_time` always names the next pop.
    #[test]
    fn pops_in_time_then_push_order() {
        for scale in [1u64, 1000, 1 << 40] {
            let mut q = EventQueue::new();
            let mut r = stream(3, 99, scale, 0);
            let mut now = 0u64;
            let mut popped = Vec::new();
            let mut pushed = 0u64;
            for round in 0..20_000u64 {
                let k = 1 + (unit_f64(&mut r) * 3.0) as u64;
                for _ in 0..k {
                    // Coarse times so that many events tie, zero delays included.
                    let dt = (unit_f64(&mut r) * 50.0) as u64 * scale;
                    q.push(SimTime(now + dt), pushed);
                    pushed += 1;
                }
                if round % 3 != 0 {
                    let peeked = q.peek_time();
                    if let Some((t, id)) = q.pop() {
                        assert_eq!(peeked, Some(t));
                        assert!(t.0 >= now, "time went backwards");
                        now = t.0;
                        popped.push((t.0, id));
                    }
                }
            }
            assert_eq!(q.len() as u64, pushed - popped.len() as u64);
            while let Some((t, id)) = q.pop() {
                popped.push((t.0, id));
            }
            assert!(q.is_empty() && q.peek_time().is_none());
            assert_eq!(popped.len() as u64, pushed);
            for w in popped.windows(2) {
                assert!(
                    w[0].0 < w[1].0 || (w[0].0 == w[1].0 && w[0].1 < w[1].1),
                    "{w:?}"
                );
            }
        }
    }
}
