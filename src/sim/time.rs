//! Virtual time: integer nanoseconds, never floats, never the wall clock.
//!
//! [`SimTime`] is an instant since the start of a run; [`SimDuration`] a span.
//! Integers give a total order and identical results on every machine; floats
//! would make event order depend on rounding. Every constructor and sum
//! saturates at about 584 years instead of wrapping: `secs(50_000_000 * 3600)`
//! is "forever", not a short time.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::{Add, AddAssign, Mul, Sub};

/// An instant of virtual time, in nanoseconds since the run started.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub struct SimTime(pub u64);

/// A span of virtual time, in nanoseconds.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub struct SimDuration(pub u64);

/// `n` nanoseconds.
pub const fn ns(n: u64) -> SimDuration {
    SimDuration(n)
}
/// `n` microseconds (saturating at [`SimDuration::MAX`], about 584 years).
pub const fn us(n: u64) -> SimDuration {
    SimDuration(n.saturating_mul(1_000))
}
/// `n` milliseconds (saturating at [`SimDuration::MAX`]).
pub const fn ms(n: u64) -> SimDuration {
    SimDuration(n.saturating_mul(1_000_000))
}
/// `n` seconds (saturating at [`SimDuration::MAX`]).
pub const fn secs(n: u64) -> SimDuration {
    SimDuration(n.saturating_mul(1_000_000_000))
}
/// `n` minutes (saturating at [`SimDuration::MAX`]).
pub const fn minutes(n: u64) -> SimDuration {
    SimDuration(n.saturating_mul(60_000_000_000))
}
/// `n` hours (saturating at [`SimDuration::MAX`]).
pub const fn hours(n: u64) -> SimDuration {
    SimDuration(n.saturating_mul(3_600_000_000_000))
}

impl SimTime {
    /// The start of every run.
    pub const ZERO: SimTime = SimTime(0);
    /// The largest representable instant (about 584 years).
    pub const MAX: SimTime = SimTime(u64::MAX);

    /// Nanoseconds since the start.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }
    /// Milliseconds since the start, as a float (for charts).
    pub fn as_ms(self) -> f64 {
        self.0 as f64 / 1e6
    }
    /// Seconds since the start, as a float (for charts).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }
    /// The instant `d` after the start.
    pub const fn from_start(d: SimDuration) -> SimTime {
        SimTime(d.0)
    }
    /// The span from `earlier` to `self`, zero if `earlier` is later.
    pub fn since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
}

impl SimDuration {
    /// Zero length.
    pub const ZERO: SimDuration = SimDuration(0);
    /// The longest representable span (about 584 years): "forever". The
    /// unit constructors saturate here instead of wrapping around.
    pub const MAX: SimDuration = SimDuration(u64::MAX);

    /// Nanoseconds.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }
    /// Milliseconds as a float (for charts and tables).
    pub fn as_ms(self) -> f64 {
        self.0 as f64 / 1e6
    }
    /// Seconds as a float.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }
    /// From fractional milliseconds; errors on negative, NaN, infinite or
    /// too large (over about 584 years) input.
    pub fn from_ms_f64(x: f64) -> Result<SimDuration> {
        Self::from_ms_named("duration (ms)", x)
    }
    /// From fractional seconds; errors as [`SimDuration::from_ms_f64`].
    pub fn from_secs_f64(x: f64) -> Result<SimDuration> {
        Self::from_scaled("duration (s)", x, 1e9, "s")
    }
    /// [`SimDuration::from_ms_f64`] with the error naming the parameter as
    /// the reader wrote it (`until_ms`, `delay_ms`).
    pub fn from_ms_named(param: &str, x: f64) -> Result<SimDuration> {
        Self::from_scaled(param, x, 1e6, "ms")
    }
    fn from_scaled(param: &str, x: f64, scale: f64, unit: &str) -> Result<SimDuration> {
        let v = x * scale;
        if !(x.is_finite() && x >= 0.0) {
            return Err(Error::invalid(
                param,
                x,
                &format!("a finite, non-negative number of {unit}"),
            ));
        }
        if v >= u64::MAX as f64 {
            return Err(Error::invalid(
                param,
                x,
                &format!(
                    "at most {} {unit} (about 584 years of virtual time)",
                    crate::error::short_value(&format!("{:.0}", u64::MAX as f64 / scale))
                ),
            ));
        }
        Ok(SimDuration(v.round() as u64))
    }
    /// Rounds a non-negative float number of nanoseconds, saturating. Used on
    /// the hot path where the input is already known to be valid.
    ///
    /// One add and one cast: Rust's float-to-integer cast already saturates
    /// (NaN and anything below 0.5 give 0, anything from 2^64 up gives
    /// `u64::MAX`), so no branch is needed.
    #[inline]
    pub(crate) fn from_nanos_f64_saturating(v: f64) -> SimDuration {
        SimDuration((v + 0.5) as u64)
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
}
impl AddAssign<SimDuration> for SimTime {
    fn add_assign(&mut self, d: SimDuration) {
        self.0 = self.0.saturating_add(d.0);
    }
}
impl Sub<SimTime> for SimTime {
    type Output = SimDuration;
    fn sub(self, o: SimTime) -> SimDuration {
        self.since(o)
    }
}
impl Add for SimDuration {
    type Output = SimDuration;
    fn add(self, d: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(d.0))
    }
}
/// `d * k`: `k` times as long, saturating at [`SimDuration::MAX`].
impl Mul<u64> for SimDuration {
    type Output = SimDuration;
    fn mul(self, k: u64) -> SimDuration {
        SimDuration(self.0.saturating_mul(k))
    }
}
impl AddAssign for SimDuration {
    fn add_assign(&mut self, d: SimDuration) {
        self.0 = self.0.saturating_add(d.0);
    }
}

fn fmt_ns(n: u64, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    if n >= 1_000_000_000 {
        write!(f, "{:.3}s", n as f64 / 1e9)
    } else if n >= 1_000_000 {
        write!(f, "{:.3}ms", n as f64 / 1e6)
    } else if n >= 1_000 {
        write!(f, "{:.3}µs", n as f64 / 1e3)
    } else {
        write!(f, "{n}ns")
    }
}
impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("t=")?;
        fmt_ns(self.0, f)
    }
}
impl fmt::Display for SimDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_ns(self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use super::SimDuration;

    #[test]
    fn unit_constructors_saturate() {
        use super::{hours, minutes, ms, secs, us};
        assert_eq!(secs(50_000_000 * 3600), SimDuration::MAX);
        assert_eq!(ms(u64::MAX), SimDuration::MAX);
        assert_eq!(us(u64::MAX / 999), SimDuration::MAX);
        assert_eq!(hours(2), minutes(120));
        assert_eq!(minutes(1), secs(60));
        assert_eq!(hours(u64::MAX / 1000), SimDuration::MAX);
        assert_eq!(secs(3).0, 3_000_000_000);
    }

    #[test]
    fn float_nanos_round_and_saturate() {
        let f = |v: f64| SimDuration::from_nanos_f64_saturating(v).0;
        assert_eq!(f(f64::NAN), 0);
        assert_eq!(f(-1e30), 0);
        assert_eq!(f(-0.4), 0);
        assert_eq!(f(0.0), 0);
        assert_eq!(f(0.49), 0);
        assert_eq!(f(0.5), 1);
        assert_eq!(f(2.5), 3);
        assert_eq!(f(1e6 + 0.3), 1_000_000);
        assert_eq!(f(2f64.powi(64) - 2048.0), u64::MAX - 2047);
        assert_eq!(f(2f64.powi(64)), u64::MAX);
        assert_eq!(f(f64::INFINITY), u64::MAX);
    }
}
