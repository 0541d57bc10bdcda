//! The event queue: events ordered by time, then by the order they were
//! pushed, as a radix heap.
//!
//! Events scheduled for the same instant fire in the order they were
//! scheduled. That tie-break is what makes a run a pure function of its seed:
//! no two events are ever interchangeable.
//!
//! Why a radix heap: a discrete-event simulation never schedules into the
//! past, so the queue is *monotone*: every pushed time is at least the time
//! last popped (`last`). A radix heap exploits that. Events at exactly `last`
//! wait in a FIFO (`due`); any later event goes to the bucket named by the
//! highest 6-bit digit in which its time differs from `last` (the level) and
//! its value of that digit: 11 levels × 64 digits. Pushing is one XOR, one
//! leading-zero count and one vector push. Popping takes from the FIFO; when
//! it runs dry, the lowest non-empty bucket is either a single event (popped
//! directly, the common case) or is emptied into lower levels around its
//! minimum. Each event moves down a level at most 11 times and in practice
//! once or twice, through sequential memory, so the cost per event stays
//! nearly flat as the queue grows to millions of events, where a binary
//! heap's random accesses miss the cache on every level (`scripts/bench.sh`
//! measures both ends).
//!
//! Why 6-bit digits: fewer levels means fewer moves per event (2.6 moves per
//! event on the standard workload against 3.3 with 4-bit digits), and one
//! level's 64 "non-empty" flags are exactly one `u64`, so finding the lowest
//! non-empty bucket is a scan of a few words and one trailing-zero count.
//!
//! Why no sequence number is stored: push order among equal times is kept by
//! construction. All queued events with the same time `t` always sit in one
//! place, the bucket of `t` relative to `last` (or `due` once `t == last`):
//! that bucket does not change when `last` advances, since `last` only moves
//! to the minimum of the lowest bucket, which agrees with `last` on every
//! digit above that bucket. So a later push of `t` lands behind the earlier
//! ones, and emptying a bucket moves them together, in order. Entries are
//! then only a time and the event, which keeps each move cheap; the test
//! below checks the order against a binary heap keyed on `(time, seq)`.
//!
//! Events are stored inline (no slab). Emptied vectors keep their capacity
//! (up to 4,096 events, or an eighth of the queue), so a queue in a steady
//! state rarely allocates, and memory stays a small multiple of the events
//! queued.

use super::time::SimTime;
use std::collections::VecDeque;

struct Entry<E> {
    time: u64,
    event: E,
}

/// Bits per radix digit.
const DIGIT_BITS: u32 = 6;
/// Buckets per level: one per digit value, and one `u64` of flags.
const DIGITS: usize = 1 << DIGIT_BITS;
/// Levels needed to cover 64-bit times.
const LEVELS: usize = 64usize.div_ceil(DIGIT_BITS as usize);
/// Buckets: one per (level, digit value).
const BUCKETS: usize = LEVELS * DIGITS;
/// An emptied bucket keeps room for this many events (128 KiB of entries
/// with small messages), or an eighth of the queue if that is more.
const KEEP: usize = 4096;

/// Bucket of `time` relative to `last` (`time > last`): the highest 6-bit
/// digit where they differ (the level) and `time`'s value of that digit.
/// Buckets are ordered: every event in a lower bucket is earlier than every
/// event in a higher one.
#[inline(always)]
fn bucket_of(time: u64, last: u64) -> usize {
    // `| 1` changes nothing (the highest differing bit is set) but tells the
    // compiler the argument is not zero, which saves a zero check.
    let level = (63 - ((time ^ last) | 1).leading_zeros()) / DIGIT_BITS;
    let digit = (time >> (level * DIGIT_BITS)) as usize & (DIGITS - 1);
    (level as usize * DIGITS) | digit
}

/// A monotone priority queue of events ordered by time, then insertion order.
///
/// Times pushed must not be earlier than the time of the last event popped
/// (the simulation never schedules into the past); an earlier time is
/// treated as that time, so order stays total and deterministic.
///
/// Invariant: `last` is the time of the last event popped (0 before any),
/// every queued event is at `last` or later, the events at exactly `last`
/// are in `due` in push order, and every later event is in
/// `buckets[bucket_of(time, last)]`, equal times in push order.
pub struct EventQueue<E> {
    last: u64,
    /// Events at `last`, in push order.
    due: VecDeque<Entry<E>>,
    /// Events later than `last`, by [`bucket_of`].
    buckets: Box<[Vec<Entry<E>>; BUCKETS]>,
    /// The earliest time in each bucket (`u64::MAX` if empty), so `peek` and
    /// `refill` need no scan.
    bucket_min: Box<[u64; BUCKETS]>,
    /// Bit `d` of word `l` is set iff bucket `(l, d)` is non-empty.
    nonempty: [u64; LEVELS],
    len: usize,
    pushed: u64,
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
            due: VecDeque::with_capacity(n.min(1024)),
            buckets: Box::new(std::array::from_fn(|_| Vec::new())),
            bucket_min: Box::new([u64::MAX; BUCKETS]),
            nonempty: [0; LEVELS],
            len: 0,
            pushed: 0,
        }
    }

    /// Schedules `event` at `time`.
    #[inline]
    pub fn push(&mut self, time: SimTime, event: E) {
        let time = time.0.max(self.last);
        self.pushed += 1;
        self.len += 1;
        let e = Entry { time, event };
        if time > self.last {
            self.put(bucket_of(time, self.last), e);
        } else {
            self.due.push_back(e);
        }
    }

    #[inline(always)]
    fn put(&mut self, b: usize, e: Entry<E>) {
        let m = &mut self.bucket_min[b];
        *m = (*m).min(e.time);
        self.buckets[b].push(e);
        self.nonempty[b / DIGITS] |= 1 << (b % DIGITS);
    }

    /// Marks bucket `b` empty (its vector must already be).
    #[inline(always)]
    fn clear(&mut self, b: usize) {
        self.nonempty[b / DIGITS] &= !(1 << (b % DIGITS));
        self.bucket_min[b] = u64::MAX;
    }

    /// The lowest non-empty bucket, if any.
    #[inline(always)]
    fn lowest(&self) -> Option<usize> {
        self.nonempty
            .iter()
            .position(|&w| w != 0)
            .map(|l| l * DIGITS + self.nonempty[l].trailing_zeros() as usize)
    }

    /// Removes and returns the earliest event.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let e = match self.due.pop_front() {
            Some(e) => e,
            None => {
                let b = self.lowest()?;
                if self.buckets[b].len() == 1 {
                    // A lone earliest event: it becomes `last` without
                    // moving anything else.
                    let e = self.buckets[b].pop()?;
                    self.clear(b);
                    self.last = e.time;
                    e
                } else {
                    self.refill(b);
                    self.due.pop_front()?
                }
            }
        };
        self.len -= 1;
        Some((SimTime(e.time), e.event))
    }

    /// Moves the events of bucket `b` (the lowest non-empty one) down around
    /// their minimum, which becomes `last`; the events at that minimum go to
    /// `due`. Only called when `due` is empty.
    #[inline(never)]
    fn refill(&mut self, b: usize) {
        let mut from = std::mem::take(&mut self.buckets[b]);
        let min = self.bucket_min[b];
        self.clear(b);
        self.last = min;
        for e in from.drain(..) {
            if e.time == min {
                self.due.push_back(e);
            } else {
                self.put(bucket_of(e.time, min), e);
            }
        }
        // Keep the emptied vector's capacity for the next time, unless it is
        // large for the queue: a run that passes through all 64 buckets of
        // a level would otherwise hold on to 64 such vectors (at 10,000
        // events in flight, 17 MB for 0.3 MB of events).
        if from.capacity() <= KEEP.max(self.len / 8) {
            self.buckets[b] = from;
        }
    }

    /// The earliest event, without removing it: the one [`EventQueue::pop`]
    /// returns next. Takes `&mut self` because finding it may move a
    /// bucket's events down (as the next `pop` would have).
    #[inline]
    pub fn front(&mut self) -> Option<(SimTime, &E)> {
        if self.due.is_empty() {
            let b = self.lowest()?;
            if self.buckets[b].len() == 1 {
                let e = &self.buckets[b][0];
                return Some((SimTime(e.time), &e.event));
            }
            self.refill(b);
        }
        self.due.front().map(|e| (SimTime(e.time), &e.event))
    }

    /// Keeps only the events for which `keep` is true, in their order (the
    /// engine drops cancelled timers this way). Equal times stay in push
    /// order: each bucket, and `due`, keeps its own order. A bucket left
    /// much larger than its events gives its memory back.
    pub fn retain(&mut self, mut keep: impl FnMut(&E) -> bool) {
        self.due.retain(|e| keep(&e.event));
        if self.due.capacity() > KEEP.max(4 * self.due.len()) {
            self.due.shrink_to(KEEP.max(2 * self.due.len()));
        }
        let mut len = self.due.len();
        for level in 0..LEVELS {
            let mut word = self.nonempty[level];
            while word != 0 {
                let b = level * DIGITS + word.trailing_zeros() as usize;
                word &= word - 1;
                let v = &mut self.buckets[b];
                v.retain(|e| keep(&e.event));
                if v.capacity() > KEEP.max(4 * v.len()) {
                    v.shrink_to(KEEP.max(2 * v.len()));
                }
                len += v.len();
                match v.iter().map(|e| e.time).min() {
                    Some(m) => self.bucket_min[b] = m,
                    None => self.clear(b),
                }
            }
        }
        self.len = len;
    }

    /// Lets an empty queue accept events from `t` on again (a scheduler
    /// that took every event out of the queue, `world::schedule`, may run
    /// an event earlier than the last one popped). Does nothing unless the
    /// queue is empty, so the order of queued events never changes.
    pub fn rewind(&mut self, t: SimTime) {
        if self.len == 0 {
            self.last = t.0;
        }
    }

    /// The time of the earliest event, if any.
    #[inline]
    pub fn peek_time(&self) -> Option<SimTime> {
        match self.due.front() {
            Some(_) => Some(SimTime(self.last)),
            None => self.lowest().map(|b| SimTime(self.bucket_min[b])),
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

    /// How many events were ever pushed.
    pub fn pushed(&self) -> u64 {
        self.pushed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::{stream, unit_f64};
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    /// Runs a random monotone workload on the radix heap and on a binary
    /// heap keyed on `(time, seq)` (the reference), asserting that every pop
    /// and every peek agree. `delay` draws the delay of each push.
    fn agrees_with_reference(
        seed: u64,
        rounds: u64,
        mut delay: impl FnMut(&mut crate::sim::rng::SimRng) -> u64,
    ) {
        let mut q = EventQueue::new();
        let mut reference = BinaryHeap::new();
        let mut r = stream(seed, 99, 0, 0);
        let mut now = 0u64;
        let mut seq = 0u64;
        let mut popped = 0u64;
        for round in 0..rounds {
            // Bursts of pushes and pops: the queue grows to thousands of
            // events in the first half, then wanders.
            let most = if round < rounds / 2 { 5.0 } else { 4.0 };
            let pushes = (unit_f64(&mut r) * most) as u64;
            for _ in 0..pushes {
                let t = now.saturating_add(delay(&mut r));
                q.push(SimTime(t), seq);
                reference.push(Reverse((t, seq)));
                seq += 1;
            }
            let pops = (unit_f64(&mut r) * 4.0) as u64;
            for _ in 0..pops {
                let want = reference.peek().map(|Reverse((t, _))| SimTime(*t));
                assert_eq!(q.peek_time(), want);
                let got = q.pop();
                let want = reference.pop().map(|Reverse((t, s))| (SimTime(t), s));
                assert_eq!(got, want, "pop {popped}");
                if let Some((t, _)) = got {
                    now = t.0;
                    popped += 1;
                }
            }
            assert_eq!(q.len(), reference.len());
        }
        while let Some(Reverse((t, s))) = reference.pop() {
            assert_eq!(q.pop(), Some((SimTime(t), s)));
        }
        assert!(q.is_empty() && q.pop().is_none() && q.peek_time().is_none());
        assert_eq!(q.pushed(), seq);
    }

    /// Coarse delays (many equal times, zero delays included) at several
    /// scales of time.
    #[test]
    fn equal_times_pop_in_push_order() {
        for (i, scale) in [1u64, 1000, 1 << 40].into_iter().enumerate() {
            agrees_with_reference(i as u64, 30_000, |r| (unit_f64(r) * 50.0) as u64 * scale);
        }
    }

    /// Exponential delays over a wide range, with a few far-future events
    /// (up to the end of time) and bursts at the current instant.
    #[test]
    fn mixed_and_far_future_times() {
        agrees_with_reference(7, 50_000, |r| {
            let u = unit_f64(r);
            if u < 0.2 {
                0
            } else if u < 0.22 {
                u64::MAX - (unit_f64(r) * 1e6) as u64
            } else if u < 0.25 {
                (unit_f64(r) * 2f64.powi(60)) as u64
            } else {
                (-1e7 * (1.0 - unit_f64(r)).ln()) as u64
            }
        });
    }

    /// `retain` keeps the survivors' order, ties included, and `front`
    /// shows what `pop` returns next: checked against the reference with
    /// a third of the events removed every few rounds.
    #[test]
    fn retain_and_front_agree_with_the_reference() {
        let mut q = EventQueue::new();
        let mut reference = BinaryHeap::new();
        let mut r = stream(11, 99, 0, 0);
        let (mut now, mut seq) = (0u64, 0u64);
        for round in 0..20_000u64 {
            for _ in 0..(unit_f64(&mut r) * 5.0) as u64 {
                let t = now + (unit_f64(&mut r) * 40.0) as u64 * 1000;
                q.push(SimTime(t), seq);
                reference.push(Reverse((t, seq)));
                seq += 1;
            }
            if round % 7 == 0 {
                q.retain(|s| s % 3 != 0);
                reference.retain(|Reverse((_, s))| s % 3 != 0);
                assert_eq!(q.len(), reference.len());
            }
            for _ in 0..(unit_f64(&mut r) * 4.0) as u64 {
                let want = reference.pop().map(|Reverse((t, s))| (SimTime(t), s));
                assert_eq!(q.front().map(|(t, s)| (t, *s)), want);
                assert_eq!(q.pop(), want);
                if let Some((t, _)) = want {
                    now = t.0;
                }
            }
        }
    }

    /// Pushes into the past are treated as pushes at the last popped time.
    #[test]
    fn pushes_into_the_past_are_clamped() {
        let mut q = EventQueue::new();
        q.push(SimTime(10), 'a');
        q.push(SimTime(20), 'b');
        assert_eq!(q.pop(), Some((SimTime(10), 'a')));
        q.push(SimTime(5), 'c');
        assert_eq!(q.peek_time(), Some(SimTime(10)));
        assert_eq!(q.pop(), Some((SimTime(10), 'c')));
        assert_eq!(q.pop(), Some((SimTime(20), 'b')));
        assert_eq!(q.pop(), None);
    }
}
