//! Per-node clocks: the time a node reads when it looks at its own clock.
//!
//! The engine keeps one true time ([`crate::sim::Ctx::now`]); it alone
//! orders events, so a run stays a pure function of its seed whatever the
//! clocks say. Real machines do not know that time: each reads a local
//! clock that is off by some amount and runs a little fast or slow. A node
//! reads its own with [`crate::sim::Ctx::local_now`]:
//!
//! ```text
//! local time = true time × (1 + drift) + offset
//! ```
//!
//! (never below zero). A [`Clock`] is that offset and drift; every node's is
//! exact unless set with [`crate::sim::Builder::clock`], changed in a run
//! with [`crate::sim::Sim::set_clock`], or skewed for a while by the fault
//! plan ([`crate::sim::FaultPlan::clock_skew`], after Jepsen's clock
//! nemesis).
//!
//! **Monotone, unless a change steps it back.** With a fixed clock, local
//! time never decreases as true time goes on (the drift is kept above −1,
//! and is applied in whole parts per billion with integer arithmetic, so no
//! rounding can make it dip). A *change* of clock (a fault, `set_clock`)
//! takes effect at once: a clock set behind the one before steps the
//! node's local time back, which is exactly the hazard a last-writer-wins
//! register must survive; one set ahead jumps it forward.
//!
//! ```
//! use thinkdist::prelude::*;
//! let skewed = Clock::ahead(ms(50)).with_drift(1e-3); // 50 ms ahead, 1 ms/s fast
//! assert_eq!(skewed.local(SimTime::from_start(secs(2))), SimTime::from_start(ms(2_052)));
//! let behind = Clock::behind(secs(1));
//! assert_eq!(behind.local(SimTime::from_start(ms(300))), SimTime::ZERO); // never below zero
//! assert!(Clock::exact().with_drift(-1.0).validate().is_err());
//! ```

use super::time::{SimDuration, SimTime};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The largest drift a [`Clock`] may have, either way: 0.5 (a clock running
/// at half or one and a half times the true rate). Real clocks drift by
/// 1e-6 to 1e-4; larger values are for showing an effect at a glance.
pub const MAX_DRIFT: f64 = 0.5;

/// One node's clock: an offset and a drift; see the [module docs](self).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Clock {
    /// Added to the (drifted) true time, in nanoseconds: positive ahead,
    /// negative behind.
    pub offset_ns: i64,
    /// Rate error: `1e-4` gains 0.1 ms per second, `-1e-4` loses it. Kept
    /// within ±[`MAX_DRIFT`]; applied in whole parts per billion.
    pub drift: f64,
}

impl Clock {
    /// A clock that reads the true time.
    pub const EXACT: Clock = Clock {
        offset_ns: 0,
        drift: 0.0,
    };

    /// A clock that reads the true time.
    pub fn exact() -> Clock {
        Clock::EXACT
    }
    /// A clock `d` ahead of the true time (saturating at about 292 years).
    pub fn ahead(d: SimDuration) -> Clock {
        Clock {
            offset_ns: i64::try_from(d.0).unwrap_or(i64::MAX),
            drift: 0.0,
        }
    }
    /// A clock `d` behind the true time (saturating at about 292 years).
    pub fn behind(d: SimDuration) -> Clock {
        Clock {
            offset_ns: -i64::try_from(d.0).unwrap_or(i64::MAX),
            drift: 0.0,
        }
    }
    /// The same clock running with rate error `drift` (checked by
    /// [`Clock::validate`] when the clock is given to a simulation).
    pub fn with_drift(mut self, drift: f64) -> Clock {
        self.drift = drift;
        self
    }
    /// True for a clock that reads the true time.
    pub fn is_exact(&self) -> bool {
        self.offset_ns == 0 && self.ppb() == 0
    }
    /// Errs unless the drift is a finite number within ±[`MAX_DRIFT`].
    pub fn validate(&self) -> Result<()> {
        if self.drift.is_finite() && self.drift.abs() <= MAX_DRIFT {
            Ok(())
        } else {
            Err(Error::invalid(
                "clock drift",
                self.drift,
                "a rate error between -0.5 and 0.5 (real clocks drift by 1e-6 to 1e-4; \
                 1e-4 gains 0.1 ms per second)",
            ))
        }
    }
    /// The drift in whole parts per billion.
    fn ppb(&self) -> i128 {
        (self.drift.clamp(-MAX_DRIFT, MAX_DRIFT) * 1e9).round() as i128
    }
    /// What this clock reads at true time `t`: `t × (1 + drift) + offset`,
    /// at least zero and at most [`SimTime::MAX`].
    #[inline]
    pub fn local(&self, t: SimTime) -> SimTime {
        let t = i128::from(t.0);
        // Floor division: monotone in t, and |drift| < 1 keeps the sum so.
        let skew = (t * self.ppb()).div_euclid(1_000_000_000);
        let v = t + skew + i128::from(self.offset_ns);
        SimTime(v.clamp(0, i128::from(u64::MAX)) as u64)
    }
}

impl fmt::Display for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let off = SimDuration(self.offset_ns.unsigned_abs());
        let sign = if self.offset_ns < 0 { "-" } else { "+" };
        write!(f, "{sign}{off}")?;
        if self.drift != 0.0 {
            write!(f, ", drift {:+e}", self.drift)?;
        }
        Ok(())
    }
}
