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
    /// Strictly earlier in `(time, seq)` order.
    #[inline(always)]
    fn before(&self, o: &Key) -> bool {
        self.time < o.time || (self.time == o.time && self.seq < o.seq)
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
    #[inline]
    fn sift_down_from_root(&mut self, key: Key) {
        let heap = &mut self.heap[..];
        let n = heap.len();
        let mut i = 0;
        loop {
            let first = ARITY * i + 1;
            if first >= n {
                break;
            }
            // The earliest child.
            let mut best = first;
            let mut best_key = heap[first];
            let end = (first + ARITY).min(n);
            for c in first + 1..end {
                if heap[c].before(&best_key) {
                    best = c;
                    best_key = heap[c];
                }
            }
            if !best_key.before(&key) {
                break;
            }
            heap[i] = best_key;
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
