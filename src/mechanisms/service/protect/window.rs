//! Counts over a sliding window of time, kept in fixed buckets so that
//! counting never allocates.

use crate::error::{Error, Result};
use crate::sim::time::{SimDuration, SimTime};

/// Buckets per window: the window slides in steps of `window / BUCKETS`.
pub const BUCKETS: usize = 20;

/// `K` counters over the last `window` of time (to within one bucket,
/// `window / 20`): an event counted at `t` is forgotten between
/// `t + window − window/20` and `t + window`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlidingCounts<const K: usize> {
    bucket_ns: u64,
    /// Ring of per-bucket counts; slot `b % BUCKETS` holds bucket `b`.
    ring: [[u64; K]; BUCKETS],
    /// The newest bucket number counted into.
    head: u64,
    totals: [u64; K],
}

impl<const K: usize> SlidingCounts<K> {
    /// Counters over the last `window` (at least 20 ns, one per bucket).
    pub fn new(window: SimDuration) -> Result<Self> {
        if window.0 < BUCKETS as u64 {
            return Err(Error::invalid(
                "window",
                window,
                "a duration of at least 20 ns (try ms(100) or more)",
            ));
        }
        Ok(SlidingCounts {
            bucket_ns: window.0 / BUCKETS as u64,
            ring: [[0; K]; BUCKETS],
            head: 0,
            totals: [0; K],
        })
    }

    /// Forgets the buckets that slid out of the window by `now`.
    #[inline]
    fn advance(&mut self, now: SimTime) {
        let b = now.0 / self.bucket_ns;
        if b <= self.head {
            return;
        }
        let steps = (b - self.head).min(BUCKETS as u64);
        for s in 1..=steps {
            let slot = ((self.head + s) % BUCKETS as u64) as usize;
            for (t, c) in self.totals.iter_mut().zip(self.ring[slot].iter_mut()) {
                *t -= *c;
                *c = 0;
            }
        }
        self.head = b;
    }

    /// Adds one to counter `k` at `now` (times must not go backwards).
    #[inline]
    pub fn add(&mut self, now: SimTime, k: usize) {
        self.advance(now);
        let slot = (self.head % BUCKETS as u64) as usize;
        self.ring[slot][k] += 1;
        self.totals[k] += 1;
    }

    /// Counter `k` over the window ending at `now`.
    #[inline]
    pub fn get(&mut self, now: SimTime, k: usize) -> u64 {
        self.advance(now);
        self.totals[k]
    }

    /// Every counter over the window ending at `now`.
    pub fn all(&mut self, now: SimTime) -> [u64; K] {
        self.advance(now);
        self.totals
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        self.ring = [[0; K]; BUCKETS];
        self.totals = [0; K];
    }
}
