//! The search's memory: which (set of operations linearized, state) pairs
//! it has already explored, and its budget.
//!
//! Two orders of the same operations that end in the same state lead to
//! the same future, so the search explores each pair once (Lowe 2017).
//! The set is a bitset, hashed incrementally (one random 64-bit word per
//! operation, XORed in and out: Zobrist hashing), so a lookup costs one
//! state hash, not a pass over the bitset.
//!
//! Operations of unknown outcome get one more rule: a configuration is
//! also skipped when an explored one has the same state, the same
//! operations of known outcome, and a *subset* of its unknown ones. An
//! unknown operation need never take effect, so whatever the search can
//! do after applying more of them it can do after fewer. Without the rule
//! every subset of the pending unknown operations is a new configuration:
//! a history whose timed-out writes pile up (they stay pending to the end)
//! takes time exponential in their number to refute. With it, an unknown
//! read (it never changes the state) is never applied at all. The table
//! keeps one group per (known operations, state) and in it the unknown
//! sets not dominated by another (an antichain), in compact bitsets over
//! the unknown operations only, so the scan is short and cheap.

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

/// The set of operations linearized so far, split into known and unknown
/// outcomes (each in its own compact bitset), with the Zobrist hash of the
/// known part.
pub(crate) struct Done {
    /// Per operation: (unknown?, index in its bitset).
    slot: Vec<(bool, u32)>,
    zob: Vec<u64>,
    pub known: Vec<u64>,
    pub unknown: Vec<u64>,
    pub hash: u64,
}

impl Done {
    /// An empty set over operations whose outcome is unknown where
    /// `unknown(i)`.
    pub fn new(n: usize, unknown: impl Fn(usize) -> bool) -> Done {
        let (mut k, mut u) = (0u32, 0u32);
        let slot: Vec<(bool, u32)> = (0..n)
            .map(|i| {
                let un = unknown(i);
                let c = if un { &mut u } else { &mut k };
                *c += 1;
                (un, *c - 1)
            })
            .collect();
        Done {
            zob: (0..n).map(zobrist).collect(),
            slot,
            known: vec![0; (k as usize).div_ceil(64)],
            unknown: vec![0; (u as usize).div_ceil(64)],
            hash: 0,
        }
    }
    /// Adds or removes operation `i` (it flips).
    #[inline]
    pub fn flip(&mut self, i: usize) {
        let (un, j) = self.slot[i];
        let (w, b) = (j as usize / 64, 1u64 << (j % 64));
        if un {
            self.unknown[w] ^= b;
        } else {
            self.known[w] ^= b;
            self.hash ^= self.zob[i];
        }
    }
}

/// A set of explored configurations (see the module docs): open addressing
/// over groups (known operations, state), each group a linked list of
/// unknown sets.
pub(crate) struct Memo<S> {
    wk: usize,
    wu: usize,
    slots: Vec<u32>,
    g_hash: Vec<u64>,
    g_state: Vec<S>,
    g_known: Vec<u64>,
    g_head: Vec<u32>,
    u_next: Vec<u32>,
    u_bits: Vec<u64>,
    /// Unknown sets in the groups (removed ones not counted).
    live: usize,
}

/// Why an insert did not add.
pub(crate) enum Insert {
    New,
    Seen,
    Full,
}

const NONE: u32 = u32::MAX;

impl<S: Eq + Clone> Memo<S> {
    /// A memo for configurations over `done`'s operations.
    pub fn new(done: &Done) -> Memo<S> {
        Memo {
            wk: done.known.len(),
            wu: done.unknown.len(),
            slots: vec![0; 1024],
            g_hash: Vec::new(),
            g_state: Vec::new(),
            g_known: Vec::new(),
            g_head: Vec::new(),
            u_next: Vec::new(),
            u_bits: Vec::new(),
            live: 0,
        }
    }
    /// Configurations remembered.
    pub fn len(&self) -> usize {
        self.live
    }
    /// Bytes held (the states' own heap memory is not counted).
    pub fn bytes(&self) -> usize {
        self.g_state.capacity() * (std::mem::size_of::<S>() + 12 + self.wk * 8)
            + self.u_next.capacity() * (4 + self.wu * 8)
            + self.slots.len() * 4
    }
    /// Adds (done, state) under hash `h` (of the known set and the state)
    /// unless an explored configuration dominates it, or the table would
    /// pass `max_bytes`.
    pub fn insert(&mut self, h: u64, done: &Done, state: &S, max_bytes: usize) -> Insert {
        let h = mix64(h);
        let mask = self.slots.len() - 1;
        let mut i = (h as usize) & mask;
        let (wk, wu) = (self.wk, self.wu);
        let group = loop {
            let g = self.slots[i];
            if g == 0 {
                break None;
            }
            let g = (g - 1) as usize;
            if self.g_hash[g] == h
                && self.g_known[g * wk..(g + 1) * wk] == done.known[..]
                && self.g_state[g] == *state
            {
                break Some(g);
            }
            i = (i + 1) & mask;
        };
        let subset = |e: usize, bits: &[u64]| -> bool {
            let a = &self.u_bits[e * wu..(e + 1) * wu];
            a.iter().zip(bits).all(|(&x, &y)| x & !y == 0)
        };
        if let Some(g) = group {
            let mut e = self.g_head[g];
            while e != NONE {
                if subset(e as usize, &done.unknown) {
                    return Insert::Seen;
                }
                e = self.u_next[e as usize];
            }
        }
        // Room for one more group and unknown set, growth included.
        let grow = group.is_none() && (self.g_hash.len() + 1) * 2 > self.slots.len();
        let more =
            |len: usize, cap: usize, per: usize| if len == cap { cap.max(4) * per } else { 0 };
        let after = self.bytes()
            + more(self.u_next.len(), self.u_next.capacity(), 4 + wu * 8)
            + if group.is_none() {
                more(
                    self.g_state.len(),
                    self.g_state.capacity(),
                    std::mem::size_of::<S>() + 12 + wk * 8,
                )
            } else {
                0
            }
            + if grow { self.slots.len() * 8 } else { 0 };
        if after > max_bytes || self.u_next.len() + 1 >= NONE as usize {
            return Insert::Full;
        }
        let e = self.u_next.len() as u32;
        self.u_bits.extend_from_slice(&done.unknown);
        self.live += 1;
        match group {
            Some(g) => {
                // Keep the group an antichain: drop the sets the new one
                // is a subset of (it dominates them).
                let mut prev = NONE;
                let mut x = self.g_head[g];
                while x != NONE {
                    let next = self.u_next[x as usize];
                    let sup = {
                        let a = &self.u_bits[x as usize * wu..(x as usize + 1) * wu];
                        done.unknown.iter().zip(a).all(|(&n, &o)| n & !o == 0)
                    };
                    if sup {
                        if prev == NONE {
                            self.g_head[g] = next;
                        } else {
                            self.u_next[prev as usize] = next;
                        }
                        self.live -= 1;
                    } else {
                        prev = x;
                    }
                    x = next;
                }
                self.u_next.push(self.g_head[g]);
                self.g_head[g] = e;
            }
            None => {
                let g = self.g_hash.len();
                self.g_hash.push(h);
                self.g_known.extend_from_slice(&done.known);
                self.g_state.push(state.clone());
                self.g_head.push(e);
                self.u_next.push(NONE);
                self.slots[i] = (g + 1) as u32;
                if grow {
                    self.grow();
                }
            }
        }
        Insert::New
    }
    fn grow(&mut self) {
        let size = self.slots.len() * 2;
        let mask = size - 1;
        let mut slots = vec![0u32; size];
        for (g, &h) in self.g_hash.iter().enumerate() {
            let mut i = (h as usize) & mask;
            while slots[i] != 0 {
                i = (i + 1) & mask;
            }
            slots[i] = (g + 1) as u32;
        }
        self.slots = slots;
    }
}
