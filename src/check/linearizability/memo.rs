//! The search's memory: which (set of operations linearized, state) pairs
//! it has already explored, and its budget.
//!
//! Two orders of the same operations that end in the same state lead to
//! the same future, so the search explores each pair once (Lowe 2017).
//! The set is a bitset, hashed incrementally (one random 64-bit word per
//! operation, XORed in and out: Zobrist hashing), so a lookup costs one
//! state hash, not a pass over the bitset.
//!
//! Operations of unknown outcome get one more rule, in the searches: an
//! unknown operation that would leave the state as it is (an unknown read)
//! is not applied. The configuration it would lead to differs from the
//! current one only by an optional operation, so it can do nothing the
//! current one cannot. Without this rule every pending unknown read is
//! applied and memoised at every step, and a Jepsen etcd history takes
//! three times the steps. (A more general rule, skipping any
//! configuration with a *superset* of an explored one's unknown
//! operations, prunes more but needs a scan per lookup, and was slower.)

use crate::sim::rng::mix64;
use std::hash::{Hash, Hasher};

/// A fast, fixed-key hasher for states (FxHash's multiply-rotate). Its
/// values never reach a result: the table compares keys exactly, and the
/// search visits candidates in a fixed order, so verdicts and witnesses do
/// not depend on it.
pub(crate) struct Fx(u64);

impl Hasher for Fx {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.write_u64(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.write_u64(u64::from_le_bytes(w) ^ ((rest.len() as u64) << 56));
        }
    }
    fn write_u64(&mut self, x: u64) {
        self.0 = (self.0.rotate_left(5) ^ x).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_u8(&mut self, x: u8) {
        self.write_u64(u64::from(x));
    }
    fn write_u32(&mut self, x: u32) {
        self.write_u64(u64::from(x));
    }
    fn write_usize(&mut self, x: usize) {
        self.write_u64(x as u64);
    }
    fn write_i64(&mut self, x: i64) {
        self.write_u64(x as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

pub(crate) fn hash_state<S: Hash>(s: &S) -> u64 {
    let mut h = Fx(0);
    s.hash(&mut h);
    h.finish()
}

/// The Zobrist word of operation `i`.
pub(crate) fn zobrist(i: usize) -> u64 {
    mix64(0x9e37_79b9_7f4a_7c15 ^ (i as u64).wrapping_mul(0xd1b5_4a32_d192_ed03))
}

/// What one search may spend, and what it spent.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Meter {
    /// Steps (one specification step tried) left.
    pub steps_left: u64,
    /// Steps taken.
    pub steps: u64,
    /// Most bytes the table may hold.
    pub max_bytes: usize,
    /// The most bytes a table held.
    pub peak_bytes: usize,
    /// The most entries a table held.
    pub peak_entries: usize,
}

impl Meter {
    pub fn new(steps: u64, max_bytes: usize) -> Meter {
        Meter {
            steps_left: steps,
            steps: 0,
            max_bytes,
            peak_bytes: 0,
            peak_entries: 0,
        }
    }
    /// Takes one step; false when the budget is spent.
    #[inline]
    pub fn step(&mut self) -> bool {
        if self.steps_left == 0 {
            return false;
        }
        self.steps_left -= 1;
        self.steps += 1;
        true
    }
    /// Folds a finished table's size into the peaks.
    pub fn note(&mut self, entries: usize, bytes: usize) {
        self.peak_entries = self.peak_entries.max(entries);
        self.peak_bytes = self.peak_bytes.max(bytes);
    }
}

/// A hash set of (bitset, state) pairs, open addressing, keys stored flat.
pub(crate) struct Memo<S> {
    words: usize,
    bits: Vec<u64>,
    states: Vec<S>,
    hashes: Vec<u64>,
    slots: Vec<u32>,
}

/// Why an insert did not add.
pub(crate) enum Insert {
    New,
    Seen,
    Full,
}

impl<S: Eq> Memo<S> {
    /// A memo for `n_ops` operations.
    pub fn new(n_ops: usize) -> Memo<S> {
        let words = n_ops.div_ceil(64).max(1);
        Memo {
            words,
            bits: Vec::new(),
            states: Vec::new(),
            hashes: Vec::new(),
            slots: vec![0; 1024],
        }
    }
    pub fn len(&self) -> usize {
        self.states.len()
    }
    /// Bytes held (the states' own heap memory is not counted).
    pub fn bytes(&self) -> usize {
        self.states.capacity() * (std::mem::size_of::<S>() + 8 + self.words * 8)
            + self.slots.len() * 4
    }
    fn entry_bytes(&self) -> usize {
        std::mem::size_of::<S>() + 8 + self.words * 8
    }
    /// Adds (bits, state) under hash `h` unless present or the table would
    /// pass `max_bytes`.
    pub fn insert(&mut self, h: u64, bits: &[u64], state: &S, max_bytes: usize) -> Insert
    where
        S: Clone,
    {
        let h = mix64(h);
        let mask = self.slots.len() - 1;
        let mut i = (h as usize) & mask;
        loop {
            let e = self.slots[i];
            if e == 0 {
                break;
            }
            let e = (e - 1) as usize;
            let w = self.words;
            if self.hashes[e] == h && &self.bits[e * w..(e + 1) * w] == bits && self.states[e] == *state
            {
                return Insert::Seen;
            }
            i = (i + 1) & mask;
        }
        let n = self.states.len();
        // Grow before the table is half full; refuse past the byte budget
        // (counting the growth about to happen) or 2^32 entries.
        let grow = (n + 1) * 2 > self.slots.len();
        let after = self.bytes()
            + if self.states.len() == self.states.capacity() {
                self.states.capacity().max(4) * self.entry_bytes()
            } else {
                0
            }
            + if grow { self.slots.len() * 8 } else { 0 };
        if after > max_bytes || n + 1 >= u32::MAX as usize {
            return Insert::Full;
        }
        self.hashes.push(h);
        self.bits.extend_from_slice(bits);
        self.states.push(state.clone());
        self.slots[i] = (n + 1) as u32;
        if grow {
            self.grow();
        }
        Insert::New
    }
    fn grow(&mut self) {
        let size = self.slots.len() * 2;
        let mask = size - 1;
        let mut slots = vec![0u32; size];
        for (e, &h) in self.hashes.iter().enumerate() {
            let mut i = (h as usize) & mask;
            while slots[i] != 0 {
                i = (i + 1) & mask;
            }
            slots[i] = (e + 1) as u32;
        }
        self.slots = slots;
    }
}
