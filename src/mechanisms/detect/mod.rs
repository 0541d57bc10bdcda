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
//! - [`RuleDetector`]: any [`SuspicionRule`], e.g. one written in a notebook
//!   cell.
//! - [`PhiAccrual`]: Hayashibara, Défago, Yared and Katayama, "The φ accrual
//!   failure detector", SRDS 2004. It outputs a suspicion level
//!   `φ = −log10 P(a gap this long | node alive)` computed from the recent
//!   inter-arrival times, and suspects when `φ` crosses a threshold: `φ = 3`
//!   means a 1-in-1000 chance that the silence is just a late heartbeat. Two
//!   models of the gaps ([`PhiModel`]): normal (the paper, Akka) and
//!   exponential (Cassandra, `φ = t / (mean · ln 10)`).
//!
//! Both are passive components a node owns: call `heartbeat(now)` when a
//! heartbeat arrives and `check(now)` on a timer. They keep no clock of their
//! own, so the same detector runs inside a simulated node or replayed over a
//! recorded list of arrival times (see [`replay()`]).
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

mod phi;
mod replay;
mod rule;

pub use crate::sim::special::{erfc, log10_normal_tail, normal_cdf};
pub use phi::{PhiAccrual, PhiModel};
pub use replay::replay;
pub use rule::{RuleDetector, SuspicionRule};

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
