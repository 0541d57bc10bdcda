//! Failure detectors: a node's guess, from heartbeats alone, whether a peer
//! is up.
//!
//! A monitor cannot see a crash; it only sees heartbeats stop arriving, and a
//! heartbeat that is late because the network or the sender stalled looks
//! the same as one that will never come. Every detector therefore trades
//! **detection time** (how long after a real crash it starts suspecting)
//! against **wrong suspicions** (suspecting a node that is up). Both are
//! measurable from the transitions a detector records.
//!
//! - [`HeartbeatDetector`]: suspect when no heartbeat arrived for a fixed
//!   `timeout`.
//! - [`PhiAccrual`]: Hayashibara, Défago, Yared and Katayama, "The φ accrual
//!   failure detector", SRDS 2004. It outputs a suspicion level
//!   `φ = −log10(P(a heartbeat comes later than now))` computed from the recent
//!   inter-arrival times, and suspects when `φ` crosses a threshold: `φ = 3`
//!   means a 1-in-1000 chance that the silence is just a late heartbeat.
//!
//! Both are passive components a node owns: call `heartbeat(now)` when a
//! heartbeat arrives and `check(now)` on a timer. They keep no clock of their
//! own, so the same detector runs inside a simulated node or replayed over a
//! recorded list of arrival times (see
//! [`crate::ch03::failure_detection::replay`]).
//!
//! ```
//! use thinkdist::prelude::*;
//! use thinkdist::detect::{Detector, HeartbeatDetector, Status};
//!
//! let t = |x: u64| SimTime::from_start(ms(x));
//! let mut d = HeartbeatDetector::new(ms(300))?;
//! d.heartbeat(t(0));
//! assert_eq!(d.check(t(299)), Status::Trust);
//! assert_eq!(d.check(t(300)), Status::Suspect); // 300 ms of silence
//! d.heartbeat(t(350));                          // it was only late
//! assert_eq!(d.transitions(), &[(t(300), Status::Suspect), (t(350), Status::Trust)]);
//! # Ok::<(), thinkdist::Error>(())
//! ```

use crate::error::{Error, Result};
use crate::sim::time::{SimDuration, SimTime};
use serde::Serialize;
use std::collections::VecDeque;

/// A detector's opinion of the monitored node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Status {
    /// Believed up.
    Trust,
    /// Believed crashed.
    Suspect,
}

/// What every failure detector offers; lets experiments run different
/// detectors (and deliberately broken ones, in tests) through the same code.
pub trait Detector {
    /// A heartbeat arrived at `now`. A suspected node is trusted again.
    fn heartbeat(&mut self, now: SimTime);
    /// The status at `now`, without recording anything. Must be monotone
    /// between heartbeats: once `Suspect` at some time, `Suspect` at every
    /// later time until the next heartbeat.
    fn status_at(&self, now: SimTime) -> Status;
    /// The detector's record of status changes.
    fn log(&self) -> &TransitionLog;
    /// The detector's record of status changes, to update.
    fn log_mut(&mut self) -> &mut TransitionLog;
    /// Evaluates the status at `now` and records a transition if it changed.
    fn check(&mut self, now: SimTime) -> Status {
        let s = self.status_at(now);
        self.log_mut().set(now, s)
    }
    /// The status after the last `heartbeat` or `check`.
    fn status(&self) -> Status {
        self.log().status
    }
    /// Every status change with its time, in time order (the initial `Trust`
    /// is not listed).
    fn transitions(&self) -> &[(SimTime, Status)] {
        &self.log().transitions
    }
}

/// Shared bookkeeping of every detector: current status and its transitions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TransitionLog {
    status: Status,
    transitions: Vec<(SimTime, Status)>,
}

impl Default for TransitionLog {
    fn default() -> Self {
        Self::new()
    }
}

impl TransitionLog {
    /// An empty log: status `Trust`, no transitions.
    pub fn new() -> TransitionLog {
        TransitionLog {
            status: Status::Trust,
            transitions: Vec::new(),
        }
    }
    /// Sets the status at `now`, recording a transition if it changed.
    pub fn set(&mut self, now: SimTime, s: Status) -> Status {
        if s != self.status {
            self.status = s;
            self.transitions.push((now, s));
        }
        s
    }
}

/// Suspects the node once no heartbeat has arrived for `timeout`.
///
/// Until the first heartbeat the status is `Trust`: there is no silence to
/// time yet. A check at exactly `last + timeout` suspects.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HeartbeatDetector {
    timeout: SimDuration,
    last: Option<SimTime>,
    log: TransitionLog,
}

impl HeartbeatDetector {
    /// A detector with the given timeout; errors on a zero timeout (it would
    /// suspect between any two heartbeats).
    pub fn new(timeout: SimDuration) -> Result<HeartbeatDetector> {
        if timeout == SimDuration::ZERO {
            return Err(Error::invalid("timeout", timeout, "a duration > 0"));
        }
        Ok(HeartbeatDetector {
            timeout,
            last: None,
            log: TransitionLog::new(),
        })
    }
    /// The timeout.
    pub fn timeout(&self) -> SimDuration {
        self.timeout
    }
    /// When the detector will suspect if no heartbeat arrives before:
    /// `last + timeout` (`None` before the first heartbeat). A node can set
    /// its check timer for exactly this time.
    pub fn deadline(&self) -> Option<SimTime> {
        self.last.map(|l| l + self.timeout)
    }
}

impl HeartbeatDetector {
    /// A heartbeat arrived at `now`; a suspected node is trusted again.
    pub fn heartbeat(&mut self, now: SimTime) {
        self.last = Some(now);
        self.log.set(now, Status::Trust);
    }
    /// The status at `now`, recording nothing.
    pub fn status_at(&self, now: SimTime) -> Status {
        match self.last {
            Some(l) if now.since(l) >= self.timeout => Status::Suspect,
            _ => Status::Trust,
        }
    }
}

impl Detector for HeartbeatDetector {
    fn heartbeat(&mut self, now: SimTime) {
        HeartbeatDetector::heartbeat(self, now)
    }
    fn status_at(&self, now: SimTime) -> Status {
        HeartbeatDetector::status_at(self, now)
    }
    fn log(&self) -> &TransitionLog {
        &self.log
    }
    fn log_mut(&mut self) -> &mut TransitionLog {
        &mut self.log
    }
}

/// The φ accrual failure detector (Hayashibara et al. 2004).
///
/// It keeps the last `window` inter-arrival times of heartbeats and assumes
/// they are **normally distributed** with the window's mean μ and standard
/// deviation σ (σ floored at `min_sd`, so a perfectly regular sender does not
/// divide by zero and a single late heartbeat does not send φ to infinity).
/// With `t` the time since the last heartbeat,
///
/// `φ(t) = −log10(1 − F(t))`, `F` the normal CDF with mean μ and sd σ,
///
/// i.e. φ = 1, 2, 3 mean a 10 %, 1 %, 0.1 % chance that a heartbeat is still
/// coming. The node is suspected when `φ >= threshold`. Real inter-arrival
/// times have heavier tails than a normal (stalls, retransmissions), which is
/// why a high-looking threshold still produces wrong suspicions.
///
/// Until two heartbeats have arrived there is no interval to learn from and
/// φ is 0 (`Trust`). φ is computed in log space (see [`log10_normal_tail`]),
/// so it stays finite and increasing however long the silence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PhiAccrual {
    threshold: f64,
    window: usize,
    min_sd_ms: f64,
    intervals: VecDeque<f64>,
    sum: f64,
    sum_sq: f64,
    last: Option<SimTime>,
    log: TransitionLog,
}

impl PhiAccrual {
    /// A detector that suspects at `phi >= threshold`, learning from the last
    /// `window` intervals, with σ never below `min_sd`.
    ///
    /// Errors: `threshold` not finite and > 0; `window == 0`; `min_sd == 0`.
    pub fn new(threshold: f64, window: usize, min_sd: SimDuration) -> Result<PhiAccrual> {
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
        if min_sd == SimDuration::ZERO {
            return Err(Error::invalid(
                "min_sd",
                min_sd,
                "a duration > 0 (it keeps σ away from zero)",
            ));
        }
        Ok(PhiAccrual {
            threshold,
            window,
            min_sd_ms: min_sd.as_ms(),
            intervals: VecDeque::with_capacity(window),
            sum: 0.0,
            sum_sq: 0.0,
            last: None,
            log: TransitionLog::new(),
        })
    }
    /// The suspicion threshold.
    pub fn threshold(&self) -> f64 {
        self.threshold
    }
    /// Mean and standard deviation (ms, floored at `min_sd`) of the window,
    /// or `None` before two heartbeats.
    pub fn mean_sd_ms(&self) -> Option<(f64, f64)> {
        let n = self.intervals.len();
        if n == 0 {
            return None;
        }
        let mean = self.sum / n as f64;
        let var = (self.sum_sq / n as f64 - mean * mean).max(0.0);
        Some((mean, var.sqrt().max(self.min_sd_ms)))
    }
    /// The suspicion level at `now`: `−log10(1 − F(now − last))`; 0 before two
    /// heartbeats.
    pub fn phi(&self, now: SimTime) -> f64 {
        let (Some(last), Some((mean, sd))) = (self.last, self.mean_sd_ms()) else {
            return 0.0;
        };
        let t = now.since(last).as_ms();
        (-log10_normal_tail((t - mean) / sd)).max(0.0)
    }
}

impl PhiAccrual {
    /// A heartbeat arrived at `now`; a suspected node is trusted again.
    pub fn heartbeat(&mut self, now: SimTime) {
        if let Some(last) = self.last {
            let x = now.since(last).as_ms();
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

pub use crate::sim::special::{erfc, log10_normal_tail, normal_cdf};
