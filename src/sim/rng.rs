//! Named, portable random streams forked from one seed.
//!
//! Every random number in a run comes from a [`SimRng`] derived from the run's
//! single `u64` seed and a *stream name*: a domain tag plus up to two indices
//! (for example "node 3's application stream" or "node 3's outgoing network
//! stream"). Streams are derived by hashing, not by drawing from a parent
//! generator, so adding node 7 does not shift what node 3 draws.
//!
//! The generator is xoshiro256++ from `rand_xoshiro`, named explicitly because
//! `rand::rngs::StdRng` may change its algorithm between versions, which would
//! silently change every chart. Exponential and normal variates come from
//! [`exp1`] and [`standard_normal`], a port of `rand_distr`'s ziggurat
//! samplers (see the `ziggurat` module for why the crate does not depend on
//! `rand` itself).

use super::time::SimDuration;
use rand_core::{RngCore, SeedableRng};

mod node_rng;
mod ziggurat;
mod ziggurat_tables;
pub use node_rng::{NodeRng, UniformRange};
pub use ziggurat::{exp1, standard_normal};

/// The generator used for every stream: xoshiro256++ (fast, 256-bit state,
/// portable output across platforms and crate versions).
pub type SimRng = rand_xoshiro::Xoshiro256PlusPlus;

/// Domains of random streams. Kept as constants so that two domains can never
/// collide by accident.
pub mod domain {
    /// A node's own stream, handed to its handlers through `Ctx::rng`.
    pub const NODE: u64 = 1;
    /// The network stream for messages a node sends (loss, latency, duplication).
    pub const NET_OUT: u64 = 2;
    /// The network stream of one link that has its own configuration.
    pub const LINK: u64 = 3;
    /// Streams for experiment code outside nodes (workload generators, sweeps).
    pub const EXPERIMENT: u64 = 4;
    /// Streams of a sweep point.
    pub const SWEEP: u64 = 5;
    /// The network stream for traffic from outside to a node (injected
    /// messages, client requests).
    pub const NET_IN: u64 = 6;
    /// A client's stream, handed to a `Workload`.
    pub const CLIENT: u64 = 7;
    /// Fault schedules drawn by an exploration.
    pub const FAULTS: u64 = 8;
}

/// SplitMix64 finaliser: a bijective 64-bit mixer with good avalanche.
#[inline]
pub fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Derives a child seed from a seed and a stream name `(domain, a, b)`.
pub fn derive_seed(seed: u64, domain: u64, a: u64, b: u64) -> u64 {
    mix64(mix64(mix64(seed ^ mix64(domain)) ^ a) ^ mix64(b.wrapping_add(0x5851_F42D_4C95_7F2D)))
}

/// The stream named `(domain, a, b)` under `seed`.
///
/// ```
/// use thinkdist::sim::rng::{stream, domain};
/// use thinkdist::prelude::RngCore;
/// let mut a = stream(42, domain::EXPERIMENT, 0, 0);
/// let mut b = stream(42, domain::EXPERIMENT, 0, 0);
/// assert_eq!(a.next_u64(), b.next_u64());
/// ```
pub fn stream(seed: u64, domain: u64, a: u64, b: u64) -> SimRng {
    SimRng::seed_from_u64(derive_seed(seed, domain, a, b))
}

/// A uniform float in [0, 1) from 53 random bits (the standard construction).
#[inline]
pub fn unit_f64(rng: &mut SimRng) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// A uniform float in (0, 1]: safe to take the logarithm of.
#[inline]
pub fn open_unit_f64(rng: &mut SimRng) -> f64 {
    1.0 - unit_f64(rng)
}

/// A uniform index in `0..n` (`n > 0`), by Lemire's multiply-shift method
/// (bias below 2^-32 for any n that fits a cluster).
#[inline]
pub fn index(rng: &mut SimRng, n: usize) -> usize {
    ((rng.next_u64() as u128 * n as u128) >> 64) as usize
}

/// True with probability `p`.
#[inline]
pub fn chance(rng: &mut SimRng, p: f64) -> bool {
    p > 0.0 && unit_f64(rng) < p
}

/// A 64-bit fingerprint of bytes (FNV-1a then mixed): equal inputs give equal
/// fingerprints on every machine. Used to compare runs for determinism.
pub fn fingerprint(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01B3);
    }
    mix64(h)
}

/// A range of virtual durations to draw from: `a..b` (end excluded) or
/// `a..=b` (end included). See [`RandomDuration`].
pub trait DurationRange {
    /// The range's start.
    fn start_duration(&self) -> SimDuration;
    /// The smallest and the largest duration in the range, or `None` if it
    /// is empty.
    fn inclusive(&self) -> Option<(SimDuration, SimDuration)>;
}

impl DurationRange for std::ops::Range<SimDuration> {
    fn start_duration(&self) -> SimDuration {
        self.start
    }
    fn inclusive(&self) -> Option<(SimDuration, SimDuration)> {
        (self.start < self.end).then(|| (self.start, SimDuration(self.end.0 - 1)))
    }
}

impl DurationRange for std::ops::RangeInclusive<SimDuration> {
    fn start_duration(&self) -> SimDuration {
        *self.start()
    }
    fn inclusive(&self) -> Option<(SimDuration, SimDuration)> {
        (self.start() <= self.end()).then(|| (*self.start(), *self.end()))
    }
}

/// Random durations from any random stream, without writing
/// `SimDuration(rng.random_range(ms(1).0..=ms(3).0))`: in a handler,
/// `ctx.rng().duration(ms(1)..=ms(3))` (a jittered timeout, a think time).
///
/// ```
/// use thinkdist::prelude::*;
/// let mut rng = thinkdist::sim::rng::stream(7, 4, 0, 0);
/// let d = rng.duration(ms(1)..=ms(3));
/// assert!(ms(1) <= d && d <= ms(3));
/// assert_eq!(rng.duration(ms(5)..=ms(5)), ms(5));
/// // An empty range gives its start, never a panic in a handler.
/// assert_eq!(rng.duration(ms(5)..ms(5)), ms(5));
/// ```
pub trait RandomDuration {
    /// A duration drawn uniformly, to the nanosecond, from `range` (`a..b`
    /// or `a..=b`). A handler cannot return an error, so an empty range
    /// (`a..a`, or an end before its start) gives its start instead of
    /// failing.
    fn duration(&mut self, range: impl DurationRange) -> SimDuration;
}

impl<R: RngCore + ?Sized> RandomDuration for R {
    fn duration(&mut self, range: impl DurationRange) -> SimDuration {
        let Some((lo, hi)) = range.inclusive() else {
            return range.start_duration();
        };
        let span = u128::from(hi.0 - lo.0) + 1;
        // Multiply-shift, as `index` does: bias below span / 2^64 (under
        // 2^-32 for spans up to 4 s).
        let x = (u128::from(self.next_u64()) * span) >> 64;
        SimDuration(lo.0 + x as u64)
    }
}
