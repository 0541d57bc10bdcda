//! The φ accrual failure detector and the tail functions it needs.

use super::{Detector, Status, TransitionLog};
use crate::error::{Error, Result};
use crate::sim::special::log10_normal_tail;
use crate::sim::time::{SimDuration, SimTime};
use serde::Serialize;
use std::collections::VecDeque;

/// The distribution φ accrual assumes for heartbeat inter-arrival times.
///
/// With `t` the time since the last heartbeat and μ, σ the window's mean and
/// standard deviation:
///
/// | model | `φ(t) = −log10 P(gap > t)` | used by |
/// |---|---|---|
/// | `Normal` | `−log10(1 − Φ((t − μ)/σ))` | Hayashibara et al. 2004, Akka |
/// | `Exponential` | `−log10(e^(−t/μ)) = t / (μ · ln 10)` | Cassandra |
///
/// The normal model adapts to the spread: on a regular sender φ climbs
/// steeply just after the usual interval. The exponential model only knows
/// the mean, so it is a timeout proportional to the mean interval (φ = 1 at
/// `2.3 μ`, φ = 8 at `18.4 μ`): slower to suspect, and much harder to fool
/// with one late heartbeat.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum PhiModel {
    /// Normal inter-arrival times; σ is floored at `min_sd` so a perfectly
    /// regular sender does not divide by zero.
    Normal {
        /// The smallest σ used.
        min_sd: SimDuration,
    },
    /// Exponential inter-arrival times with the window's mean.
    Exponential,
}

impl PhiModel {
    /// A short name for legends and tables.
    pub fn name(&self) -> &'static str {
        match self {
            PhiModel::Normal { .. } => "normal",
            PhiModel::Exponential => "exponential",
        }
    }
}

/// The φ accrual failure detector (Hayashibara et al. 2004).
///
/// It keeps the last `window` inter-arrival times of heartbeats and outputs
/// the suspicion level `φ(t) = −log10 P(a gap this long | node alive)` for
/// the time `t` since the last heartbeat, under a [`PhiModel`] fitted to the
/// window: the normal model of the paper ([`PhiAccrual::new`]) or the
/// exponential model of Cassandra ([`PhiAccrual::exponential`]). φ = 1, 2, 3
/// mean a 10 %, 1 %, 0.1 % chance that a live node stays silent this long.
/// The node is suspected when `φ >= threshold`. Real inter-arrival times
/// have heavier tails than a normal (stalls, retransmissions), which is why
/// a high-looking threshold still produces wrong suspicions.
///
/// [`PhiAccrual::ignore_gaps_over`] leaves gaps longer than a bound out of
/// the window, as Cassandra does with gaps over twice its gossip interval
/// (`fd_max_interval`): a long stall then does not teach the detector that
/// long silences are normal.
///
/// Until one interval is in the window there is nothing to learn from and
/// φ is 0 (`Trust`). The normal φ is computed in log space (see
/// [`crate::sim::special::log10_normal_tail`]), so it stays finite and increasing however long
/// the silence.
///
/// ```
/// use thinkdist::prelude::*;
/// use thinkdist::detect::PhiAccrual;
///
/// let t = |x: u64| SimTime::from_start(ms(x));
/// let mut d = PhiAccrual::exponential(8.0, 100)?;
/// for k in 0..=10 {
///     d.heartbeat(t(100 * k)); // mean interval 100 ms
/// }
/// // 230.26 ms after the last heartbeat: φ = t / (mean · ln 10) = 1.
/// let phi = d.phi(SimTime::from_start(ms(1000) + SimDuration::from_ms_f64(230.2585)?));
/// assert!((phi - 1.0).abs() < 1e-5);
/// # Ok::<(), thinkdist::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PhiAccrual {
    threshold: f64,
    window: usize,
    model: PhiModel,
    max_gap: Option<SimDuration>,
    intervals: VecDeque<f64>,
    sum: f64,
    sum_sq: f64,
    last: Option<SimTime>,
    log: TransitionLog,
}

impl PhiAccrual {
    /// A normal-model detector (the paper's) that suspects at
    /// `phi >= threshold`, learning from the last `window` intervals, with σ
    /// never below `min_sd`.
    ///
    /// Errors: `threshold` not finite and > 0; `window == 0`; `min_sd == 0`.
    pub fn new(threshold: f64, window: usize, min_sd: SimDuration) -> Result<PhiAccrual> {
        PhiAccrual::with_model(threshold, window, PhiModel::Normal { min_sd })
    }

    /// An exponential-model detector (Cassandra's):
    /// `φ = t / (mean · ln 10)` over the last `window` intervals.
    ///
    /// Errors: `threshold` not finite and > 0; `window == 0`.
    pub fn exponential(threshold: f64, window: usize) -> Result<PhiAccrual> {
        PhiAccrual::with_model(threshold, window, PhiModel::Exponential)
    }

    /// A detector with the given model; see [`PhiAccrual::new`] and
    /// [`PhiAccrual::exponential`] for the errors.
    pub fn with_model(threshold: f64, window: usize, model: PhiModel) -> Result<PhiAccrual> {
        if !(threshold.is_finite() && threshold > 0.0) {
            return Err(Error::invalid(
                "phi threshold",
                threshold,
                "a finite number > 0 (typical: 1 to 16)",
            ));
        }
        crate::error::check_count(
            "window",
            window,
            1,
            crate::error::limits::ITEMS,
            "inter-arrival times (typical: 100 to 1000)",
        )?;
        if model
            == (PhiModel::Normal {
                min_sd: SimDuration::ZERO,
            })
        {
            return Err(Error::invalid(
                "min_sd",
                SimDuration::ZERO,
                "a duration > 0 (it keeps σ away from zero)",
            ));
        }
        Ok(PhiAccrual {
            threshold,
            window,
            model,
            max_gap: None,
            intervals: VecDeque::with_capacity(window.min(4096)),
            sum: 0.0,
            sum_sq: 0.0,
            last: None,
            log: TransitionLog::new(),
        })
    }

    /// Leaves inter-arrival gaps longer than `max` out of the window (they
    /// still end the silence: the heartbeat counts, the gap is not learnt).
    /// Cassandra sets this to twice its expected interval. Errors on 0.
    pub fn ignore_gaps_over(mut self, max: SimDuration) -> Result<PhiAccrual> {
        if max == SimDuration::ZERO {
            return Err(Error::invalid(
                "max gap",
                max,
                "a duration > 0 (e.g. twice the heartbeat interval)",
            ));
        }
        self.max_gap = Some(max);
        Ok(self)
    }

    /// The suspicion threshold.
    pub fn threshold(&self) -> f64 {
        self.threshold
    }
    /// The distribution assumed for the inter-arrival times.
    pub fn model(&self) -> PhiModel {
        self.model
    }
    /// Gaps longer than this are not learnt (`None`: every gap is).
    pub fn max_gap(&self) -> Option<SimDuration> {
        self.max_gap
    }
    /// Mean and standard deviation (ms) of the window, the deviation floored
    /// at `min_sd` in the normal model, or `None` while the window is empty.
    pub fn mean_sd_ms(&self) -> Option<(f64, f64)> {
        let n = self.intervals.len();
        if n == 0 {
            return None;
        }
        let mean = self.sum / n as f64;
        let sd = (self.sum_sq / n as f64 - mean * mean).max(0.0).sqrt();
        Some(match self.model {
            PhiModel::Normal { min_sd } => (mean, sd.max(min_sd.as_ms())),
            PhiModel::Exponential => (mean, sd),
        })
    }
    /// The suspicion level at `now`, `−log10 P(gap > now − last)` under the
    /// model; 0 while the window is empty.
    pub fn phi(&self, now: SimTime) -> f64 {
        let (Some(last), Some((mean, sd))) = (self.last, self.mean_sd_ms()) else {
            return 0.0;
        };
        let t = now.since(last).as_ms();
        match self.model {
            PhiModel::Normal { .. } => (-log10_normal_tail((t - mean) / sd)).max(0.0),
            // Two heartbeats at one instant give mean 0: floor it at 1 ns.
            PhiModel::Exponential => t / (mean.max(1e-6) * std::f64::consts::LN_10),
        }
    }
}

impl PhiAccrual {
    /// A heartbeat arrived at `now`; a suspected node is trusted again.
    pub fn heartbeat(&mut self, now: SimTime) {
        if let Some(last) = self.last {
            let gap = now.since(last);
            if self.max_gap.is_none_or(|m| gap <= m) {
                let x = gap.as_ms();
                if self.intervals.len() == self.window {
                    if let Some(old) = self.intervals.pop_front() {
                        self.sum -= old;
                        self.sum_sq -= old * old;
                    }
                }
                self.intervals.push_back(x);
                self.sum += x;
                self.sum_sq += x * x;
            }
        }
        self.last = Some(now);
        self.log.set(now, Status::Trust);
    }
    /// The status at `now`, recording nothing.
    pub fn status_at(&self, now: SimTime) -> Status {
        if self.phi(now) >= self.threshold {
            Status::Suspect
        } else {
            Status::Trust
        }
    }
}

impl Detector for PhiAccrual {
    fn heartbeat(&mut self, now: SimTime) {
        PhiAccrual::heartbeat(self, now)
    }
    fn status_at(&self, now: SimTime) -> Status {
        PhiAccrual::status_at(self, now)
    }
    fn log(&self) -> &TransitionLog {
        &self.log
    }
    fn log_mut(&mut self) -> &mut TransitionLog {
        &mut self.log
    }
}
