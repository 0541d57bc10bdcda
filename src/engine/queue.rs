//! The event queue: a min-heap keyed on `(time, seq)`.
//!
//! `seq` is a counter incremented on every push, so events scheduled for the
//! same instant fire in the order they were scheduled. That tie-break is what
//! makes a run a pure function of its seed: no two events ever compare equal.
//!
//! Layout, for speed: the heap itself is a 4-ary heap of small keys
//! `(time, seq, slot)` (24 bytes), and the events live in a slab indexed by
//! `slot`, so sifting moves 24-byte keys instead of whole events, and a
//! node's four children share two cache lines. Half as many levels as a
//! binary heap, and freed slots are reused last-in first-out, so the slot a
//! pop frees is the (cache-hot) one the next push fills. Both vectors are
//! allocated once and reused; pushing and popping allocate nothing once they
//! have grown to the run's peak size.

use super::time::SimTime;

/// A heap entry: when, in what order, and where the event is.
#[derive(Clone, Copy)]
struct Key {
    time: u64,
    seq: u64,
    slot: u32,
}

impl Key {
    /// `(time, seq)` as one integer: comparing two of these is branch-free.
    #[inline(always)]
    fn rank(&self) -> u128 {
        ((self.time as u128) << 64) | self.seq as u128
    }
    /// Strictly earlier in `(time, seq)` order.
    #[inline(always)]
    fn before(&self, o: &Key) -> bool {
        self.rank() < o.rank()
    }
}

/// Children per heap node.
const ARITY: usize = 4;

/// A priority queue of events ordered by time, then by insertion order.
pub struct EventQueue<E> {
    heap: Vec<Key>,
    slots: Vec<Option<E>>,
    free: Vec<u32>,
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

    /// An empty queue with room for `n` events before it reallocates.
    pub fn with_capacity(n: usize) -> Self {
        EventQueue {
            heap: Vec::with_capacity(n),
            slots: Vec::with_capacity(n),
            free: Vec::with_capacity(n),
            seq: 0,
        }
    }

    /// Schedules `event` at `time`.
    #[inline]
    pub fn push(&mut self, time: SimTime, event: E) {
        let slot = match self.free.pop() {
            Some(s) => {
                self.slots[s as usize] = Some(event);
                s
            }
            None => {
                let s = u32::try_from(self.slots.len())
                    .expect("the event queue holds at most 2^32 events");
                self.slots.push(Some(event));
                s
            }
        };
        let key = Key {
            time: time.0,
            seq: self.seq,
            slot,
        };
        self.seq += 1;
        // Sift up through a hole.
        let mut i = self.heap.len();
        self.heap.push(key);
        while i > 0 {
            let parent = (i - 1) / ARITY;
            let p = self.heap[parent];
            if !key.before(&p) {
                break;
            }
            self.heap[i] = p;
            i = parent;
        }
        self.heap[i] = key;
    }

    /// Removes and returns the earliest event.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let last = self.heap.pop()?;
        let top = if self.heap.is_empty() {
            last
        } else {
            let top = self.heap[0];
            self.sift_down_from_root(last);
            top
        };
        let event = self.slots[top.slot as usize]
            .take()
            .expect("every key in the heap names a filled slot");
        self.free.push(top.slot);
        Some((SimTime(top.time), event))
    }

    /// Puts `key` at the root and moves it down to its place.
    ///
    /// Which of four random children is earliest is a coin flip for the
    /// branch predictor, so the full-node case picks it with a branch-free
    /// tournament (conditional moves), which is what makes the 4-ary heap
    /// pay off.
    #[inline]
    fn sift_down_from_root(&mut self, key: Key) {
        let heap = &mut self.heap[..];
        let n = heap.len();
        let rank = key.rank();
        let mut i = 0;
        loop {
            let first = ARITY * i + 1;
            let (best, best_rank) = if first + ARITY <= n {
                let c = &heap[first..first + ARITY];
                let (r0, r1, r2, r3) = (c[0].rank(), c[1].rank(), c[2].rank(), c[3].rank());
                let (a, ra) = if r1 < r0 { (1, r1) } else { (0, r0) };
                let (b, rb) = if r3 < r2 { (3, r3) } else { (2, r2) };
                let (m, rm) = if rb < ra { (b, rb) } else { (a, ra) };
                (first + m, rm)
            } else if first < n {
                let mut best = first;
                let mut best_rank = heap[first].rank();
                for (c, k) in heap.iter().enumerate().take(n).skip(first + 1) {
                    let r = k.rank();
                    if r < best_rank {
                        best = c;
                        best_rank = r;
                    }
                }
                (best, best_rank)
            } else {
                break;
            };
            if best_rank >= rank {
                break;
            }
            heap[i] = heap[best];
            i = best;
        }
        heap[i] = key;
    }

    /// The time of the earliest event, if any.
    #[inline]
    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap.first().map(|k| SimTime(k.time))
    }

    /// Number of pending events.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// True when nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// How many events were ever pushed (the next sequence number).
    pub fn pushed(&self) -> u64 {
        self.seq
    }
}
