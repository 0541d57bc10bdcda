//! [`NodeRng`]: a node's random stream as its handlers see it
//! (`ctx.rng()`), with rand's most used draws compiled in the crate.
//!
//! Why a type of its own: `ctx.rng().random_range(0..n)` through rand's
//! `Rng` trait is generic code, compiled where it is called. In a notebook
//! cell that means rand's sampling compiled unoptimised, on every event of a
//! node written in the cell. An inherent method is found before a trait
//! method of the same name, so [`NodeRng::random_range`] and
//! [`NodeRng::random_bool`] take over those calls: the first is a thin
//! generic that picks, by the range's type, a function compiled here (which
//! calls rand, so the values are exactly rand's); the second is not generic
//! at all. Every other draw (`random::<f64>()`, `choose`, `shuffle`,
//! [`RandomDuration::duration`](super::RandomDuration)) goes through rand's
//! traits as before, on the same stream: a `NodeRng` is a [`SimRng`]
//! (`Deref`), and passes wherever a `&mut SimRng` or an `R: Rng` is asked
//! for.

use super::SimRng;
use rand::distr::uniform::{SampleRange, SampleUniform};
use rand::Rng;
use std::ops::{Deref, DerefMut, Range, RangeInclusive, RangeTo, RangeToInclusive};
use std::time::Duration;

/// A node's random stream as `ctx.rng()` hands it out: a [`SimRng`], with
/// `random_range` and `random_bool` compiled in the crate, so that a node
/// written in a notebook cell does not run rand's generic sampling compiled
/// unoptimised. Same values as rand's `Rng` methods on the same stream;
/// every other draw goes through rand's traits (it derefs to the
/// `SimRng`).
#[repr(transparent)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeRng(pub SimRng);

impl NodeRng {
    /// `rng` seen as a `NodeRng` (no copy).
    #[inline]
    pub(crate) fn wrap(rng: &mut SimRng) -> &mut NodeRng {
        // SAFETY: `NodeRng` is `repr(transparent)` over `SimRng`, so the two
        // have the same layout, and the borrow is passed on unchanged.
        unsafe { &mut *(rng as *mut SimRng).cast::<NodeRng>() }
    }

    /// A value drawn uniformly from `range` (`a..b`, `a..=b`, and for
    /// unsigned integers `..b`, `..=b`): exactly what rand's
    /// `Rng::random_range` draws, but compiled in the crate for every
    /// integer type, `f32`, `f64`, `char` and `Duration`. Panics on an
    /// empty range, as rand does.
    #[inline]
    pub fn random_range<T, R: UniformRange<T>>(&mut self, range: R) -> T {
        range.draw(&mut self.0)
    }

    /// True with probability `p`: exactly rand's `Rng::random_bool`
    /// (panics unless `0 <= p <= 1`, as it does), compiled in the crate.
    pub fn random_bool(&mut self, p: f64) -> bool {
        self.0.random_bool(p)
    }
}

/// A range [`NodeRng::random_range`] draws from: the ranges rand's
/// `SampleRange` accepts, for the types rand samples uniformly. Each impl
/// is a function compiled in the crate (sealed: not for implementing).
pub trait UniformRange<T>: sealed::Sealed {
    /// A value drawn uniformly from the range.
    fn draw(self, rng: &mut SimRng) -> T;
}

mod sealed {
    pub trait Sealed {}
}

/// rand's `random_range`, compiled here for one range type.
fn rand_range<T: SampleUniform, R: SampleRange<T>>(rng: &mut SimRng, range: R) -> T {
    rng.random_range(range)
}

macro_rules! uniform_range {
    ($range:ident: $($t:ty),*) => {$(
        impl sealed::Sealed for $range<$t> {}
        impl UniformRange<$t> for $range<$t> {
            fn draw(self, rng: &mut SimRng) -> $t {
                rand_range(rng, self)
            }
        }
    )*};
}

uniform_range!(Range: u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, f32, f64, char, Duration);
uniform_range!(RangeInclusive: u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, f32, f64, char, Duration);
uniform_range!(RangeTo: u8, u16, u32, u64, u128);
uniform_range!(RangeToInclusive: u8, u16, u32, u64, u128);

impl Deref for NodeRng {
    type Target = SimRng;
    #[inline]
    fn deref(&self) -> &SimRng {
        &self.0
    }
}

impl DerefMut for NodeRng {
    #[inline]
    fn deref_mut(&mut self) -> &mut SimRng {
        &mut self.0
    }
}

// `RngCore` (so `Rng`, `choose`, `duration`, ...) comes from rand_core's
// impl for every `DerefMut` to a generator.
