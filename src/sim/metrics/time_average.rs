//! Time-weighted averages of step functions: a quantity that holds its
//! value between events (requests in a system, nodes up), integrated
//! exactly over time.
//!
//! The kernel fills and reads these (the availability of a cluster is the
//! time average of "at least k nodes up"), and `measure` uses the same one
//! for L in Little's law, so it lives here, below both.

use crate::error::{Error, Result};
use crate::sim::time::SimTime;

/// The time-weighted average of an integer quantity that changes at event
/// times, such as the number of requests in the system.
///
/// Why: L in Little's law (L = λW) is a *time* average — a queue that holds 10
/// requests for 1 s and 0 for 9 s has L = 1, however many events fired. This
/// integrates the step function `value(t)` exactly (integer nanoseconds ×
/// value, in `i128`) and divides by the elapsed time only at the end.
///
/// Updates must come in non-decreasing time order.
///
/// ```
/// use thinkdist::sim::time::{secs, SimTime};
/// use thinkdist::sim::metrics::TimeAverage;
///
/// let mut n = TimeAverage::new(SimTime::ZERO);
/// n.add(SimTime::from_start(secs(1)), 10)?; // 10 requests arrive at t = 1 s
/// n.set(SimTime::from_start(secs(2)), 0)?; // all leave at t = 2 s
/// assert_eq!(n.mean(SimTime::from_start(secs(10)))?, 1.0);
/// // 10 requests for 1 s: 10 request-seconds.
/// assert_eq!(n.integral(SimTime::from_start(secs(10)))?, 10 * 1_000_000_000);
/// # Ok::<(), thinkdist::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeAverage {
    start: SimTime,
    last: SimTime,
    value: i64,
    max: i64,
    integral: i128,
}

impl TimeAverage {
    /// Starts averaging at `start` with value 0.
    pub fn new(start: SimTime) -> Self {
        TimeAverage {
            start,
            last: start,
            value: 0,
            max: 0,
            integral: 0,
        }
    }

    fn advance(&mut self, t: SimTime) -> Result<()> {
        if t < self.last {
            return Err(Error::invalid(
                "t",
                t,
                &format!(
                    "a time ≥ {} (the previous update): updates must come in \
                     non-decreasing time order",
                    self.last
                ),
            ));
        }
        let dt = i128::from((t - self.last).as_nanos());
        self.integral = self
            .integral
            .saturating_add(i128::from(self.value).saturating_mul(dt));
        self.last = t;
        Ok(())
    }

    /// Sets the quantity to `value` from time `t` on. Errors if `t` is earlier
    /// than the previous update (or the start).
    pub fn set(&mut self, t: SimTime, value: i64) -> Result<()> {
        self.advance(t)?;
        self.value = value;
        self.max = self.max.max(value);
        Ok(())
    }

    /// Changes the quantity by `delta` (+1 on arrival, −1 on departure) at
    /// time `t`. Saturates at the `i64` range. Same errors as [`set`](Self::set).
    pub fn add(&mut self, t: SimTime, delta: i64) -> Result<()> {
        let v = self.value.saturating_add(delta);
        self.set(t, v)
    }

    /// The current value.
    pub fn value(&self) -> i64 {
        self.value
    }

    /// The largest value seen so far (at least 0, the initial value).
    pub fn max(&self) -> i64 {
        self.max
    }

    /// The integral of the quantity over `[start, end]` in value ×
    /// nanoseconds, the current value extending to `end` (exact, in
    /// `i128`; saturating). Takes `&self`, so it can be read mid-run.
    /// Errors if `end` is earlier than the last update.
    pub fn integral(&self, end: SimTime) -> Result<i128> {
        if end < self.last {
            return Err(Error::invalid(
                "end",
                end,
                &format!("a time ≥ the last update at {}", self.last),
            ));
        }
        let dt = i128::from((end - self.last).as_nanos());
        Ok(self
            .integral
            .saturating_add(i128::from(self.value).saturating_mul(dt)))
    }

    /// The time average over `[start, end]`, the current value extending to
    /// `end`: [`integral`](Self::integral) over the elapsed time. Takes
    /// `&self`, so it can be read mid-run. Errors if `end` is not after the
    /// start or is earlier than the last update.
    pub fn mean(&self, end: SimTime) -> Result<f64> {
        if end <= self.start {
            return Err(Error::invalid(
                "end",
                end,
                &format!("a time after the start {}", self.start),
            ));
        }
        let integral = self.integral(end)?;
        Ok(integral as f64 / (end - self.start).as_nanos() as f64)
    }
}
