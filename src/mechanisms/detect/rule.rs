//! A suspicion rule of the reader's own, run as a [`Detector`].
//!
//! Every detector of the chapter is the same loop (heartbeats in, checks on
//! a timer, transitions recorded) around one decision: *does this silence
//! mean a crash?* [`SuspicionRule`] is that decision alone, so a rule written
//! in a notebook cell is a few lines; [`RuleDetector`] adds the bookkeeping
//! and makes it a [`Detector`] that [`replay`](super::replay()) and the
//! chapter's sweep run like the crate's own. The rule is held as a trait
//! object, so the replay around it is compiled once, with the crate: only the
//! reader's two methods are compiled in the cell.

use super::{Detector, Status, TransitionLog};
use crate::sim::time::SimTime;

/// The decision a failure detector makes: told of every heartbeat, asked
/// at any time whether it suspects the node.
///
/// `suspects` must be **monotone between heartbeats**, as
/// [`Detector::status_at`] is: once it answers `true` at some time, it answers
/// `true` at every later time until the next `heartbeat`. (Every rule that
/// compares the silence `now − last` with a threshold fixed at the last
/// heartbeat is.) The replay relies on it to find the first suspecting check
/// by bisection.
///
/// ```
/// use thinkdist::prelude::*;
/// use thinkdist::detect::{Detector, RuleDetector, Status, SuspicionRule};
///
/// struct Timeout { after: SimDuration, last: Option<SimTime> }
/// impl SuspicionRule for Timeout {
///     fn heartbeat(&mut self, now: SimTime) { self.last = Some(now); }
///     fn suspects(&self, now: SimTime) -> bool {
///         self.last.is_some_and(|l| now.since(l) >= self.after)
///     }
/// }
/// let t = |x: u64| SimTime::from_start(ms(x));
/// let mut d = RuleDetector::new(Timeout { after: ms(300), last: None });
/// d.heartbeat(t(0));
/// assert_eq!(d.check(t(300)), Status::Suspect);
/// # Ok::<(), thinkdist::Error>(())
/// ```
pub trait SuspicionRule {
    /// A heartbeat arrived at `now` (arrival order, never earlier than the
    /// last one).
    fn heartbeat(&mut self, now: SimTime);
    /// Whether the rule suspects the node at `now` (no heartbeat since the
    /// last `heartbeat` call).
    fn suspects(&self, now: SimTime) -> bool;
}

/// A [`SuspicionRule`] with a [`TransitionLog`]: a [`Detector`].
pub struct RuleDetector {
    rule: Box<dyn SuspicionRule>,
    log: TransitionLog,
}

impl RuleDetector {
    /// Wraps `rule`.
    pub fn new(rule: impl SuspicionRule + 'static) -> RuleDetector {
        RuleDetector::boxed(Box::new(rule))
    }
    /// Wraps a boxed rule (no generic code: what the chapter's judge calls).
    pub fn boxed(rule: Box<dyn SuspicionRule>) -> RuleDetector {
        RuleDetector {
            rule,
            log: TransitionLog::new(),
        }
    }
}

impl std::fmt::Debug for RuleDetector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleDetector")
            .field("log", &self.log)
            .finish_non_exhaustive()
    }
}

impl Detector for RuleDetector {
    fn heartbeat(&mut self, now: SimTime) {
        self.rule.heartbeat(now);
        self.log.set(now, Status::Trust);
    }
    fn status_at(&self, now: SimTime) -> Status {
        if self.rule.suspects(now) {
            Status::Suspect
        } else {
            Status::Trust
        }
    }
    fn log(&self) -> &TransitionLog {
        &self.log
    }
    fn log_mut(&mut self) -> &mut TransitionLog {
        &mut self.log
    }
}
