//! A circuit breaker: stop calling a backend that keeps failing, try again
//! later, carefully.
//!
//! | state | requests | leaves when |
//! |---|---|---|
//! | closed | all pass; outcomes are counted over a sliding window | at least `min_requests` in the window and a share `failure_ratio` of them failed → open |
//! | open | all rejected locally, at once | `open_for` has passed → half-open |
//! | half-open | `probes` trial requests pass, the rest are rejected | all probes succeed → closed (window cleared); one fails → open again |
//!
//! (Michael Nygard, *Release It!*, 2007; the shape of Hystrix's and
//! resilience4j's breakers.) While open, the backend gets no traffic from
//! this client at all, which is what lets an overloaded backend drain its
//! queue; the price is that every request in that time fails, even those
//! the backend might have served.
//!
//! ```
//! use thinkdist::prelude::*;
//! use thinkdist::service::protect::{BreakerConfig, BreakerState, CircuitBreaker};
//!
//! let cfg = BreakerConfig { min_requests: 4, failure_ratio: 0.5, open_for: secs(1), probes: 1, ..Default::default() };
//! let mut b = CircuitBreaker::new(cfg)?;
//! let t = SimTime::from_start(ms(10));
//! for _ in 0..4 { assert!(b.allow(t)); b.on_failure(t); }
//! assert_eq!(b.state(), BreakerState::Open);
//! assert!(!b.allow(t));                                // rejected locally
//! let later = SimTime::from_start(ms(1100));
//! assert!(b.allow(later));                             // the one probe, half-open
//! assert_eq!(b.state(), BreakerState::HalfOpen);
//! b.on_success(later);
//! assert_eq!(b.state(), BreakerState::Closed);
//! # Ok::<(), thinkdist::Error>(())
//! ```

use super::window::SlidingCounts;
use crate::error::{check_count, check_probability, Error, Result};
use crate::sim::time::{secs, SimDuration, SimTime};
use serde::Serialize;

/// A circuit breaker's settings; see the module docs (`src/mechanisms/service/protect/breaker.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BreakerConfig {
    /// Share of failed requests in the window that opens the breaker (0 to 1].
    pub failure_ratio: f64,
    /// Fewest requests in the window before it may open.
    pub min_requests: u32,
    /// The sliding window outcomes are counted over.
    pub window: SimDuration,
    /// How long it stays open before probing.
    pub open_for: SimDuration,
    /// Trial requests let through when half-open.
    pub probes: u32,
}

impl Default for BreakerConfig {
    /// Opens at 50 % failures of at least 20 requests in the last 10 s;
    /// open for 5 s; 3 probes.
    fn default() -> Self {
        BreakerConfig {
            failure_ratio: 0.5,
            min_requests: 20,
            window: secs(10),
            open_for: secs(5),
            probes: 3,
        }
    }
}

impl BreakerConfig {
    /// Checks the settings.
    pub fn validate(&self) -> Result<()> {
        check_probability("breaker failure_ratio", self.failure_ratio)?;
        if self.failure_ratio == 0.0 {
            return Err(Error::invalid(
                "breaker failure_ratio",
                0,
                "a share of failures in (0, 1] (0 would open on success)",
            ));
        }
        check_count(
            "breaker min_requests",
            self.min_requests as usize,
            1,
            1 << 30,
            "requests",
        )?;
        check_count("breaker probes", self.probes as usize, 1, 1 << 20, "probes")?;
        if self.open_for == SimDuration::ZERO {
            return Err(Error::invalid(
                "breaker open_for",
                self.open_for,
                "a duration > 0",
            ));
        }
        SlidingCounts::<2>::new(self.window)?;
        Ok(())
    }
}

/// Where a breaker is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum BreakerState {
    /// Requests pass.
    Closed,
    /// Requests are rejected locally.
    Open,
    /// A few probes pass.
    HalfOpen,
}

const OK: usize = 0;
const FAILED: usize = 1;

/// A circuit breaker; see the module docs (`src/mechanisms/service/protect/breaker.rs`).
#[derive(Debug, Clone, PartialEq)]
pub struct CircuitBreaker {
    cfg: BreakerConfig,
    state: BreakerState,
    opened_at: SimTime,
    probes_sent: u32,
    probes_ok: u32,
    counts: SlidingCounts<2>,
    opened: u64,
}

impl CircuitBreaker {
    /// A closed breaker with the settings `cfg`.
    pub fn new(cfg: BreakerConfig) -> Result<CircuitBreaker> {
        cfg.validate()?;
        Ok(CircuitBreaker {
            cfg,
            state: BreakerState::Closed,
            opened_at: SimTime::ZERO,
            probes_sent: 0,
            probes_ok: 0,
            counts: SlidingCounts::new(cfg.window)?,
            opened: 0,
        })
    }

    /// The state as of the last call.
    pub fn state(&self) -> BreakerState {
        self.state
    }

    /// How many times it has opened.
    pub fn times_opened(&self) -> u64 {
        self.opened
    }

    /// May a request go out at `now`? (Moves an open breaker whose time is
    /// up to half-open, and counts a probe.)
    #[inline]
    pub fn allow(&mut self, now: SimTime) -> bool {
        if self.state == BreakerState::Open && now.since(self.opened_at) >= self.cfg.open_for {
            self.state = BreakerState::HalfOpen;
            self.probes_sent = 0;
            self.probes_ok = 0;
        }
        match self.state {
            BreakerState::Closed => true,
            BreakerState::Open => false,
            BreakerState::HalfOpen => {
                if self.probes_sent < self.cfg.probes {
                    self.probes_sent += 1;
                    true
                } else {
                    false
                }
            }
        }
    }

    /// A request sent through the breaker succeeded at `now`.
    #[inline]
    pub fn on_success(&mut self, now: SimTime) {
        match self.state {
            BreakerState::Closed => self.counts.add(now, OK),
            BreakerState::HalfOpen => {
                self.probes_ok += 1;
                if self.probes_ok >= self.cfg.probes {
                    self.state = BreakerState::Closed;
                    self.counts.clear();
                }
            }
            BreakerState::Open => {}
        }
    }

    /// A request sent through the breaker failed (an error or a timeout)
    /// at `now`.
    #[inline]
    pub fn on_failure(&mut self, now: SimTime) {
        match self.state {
            BreakerState::Closed => {
                self.counts.add(now, FAILED);
                let [ok, failed] = self.counts.all(now);
                let total = ok + failed;
                if total >= u64::from(self.cfg.min_requests)
                    && failed as f64 >= self.cfg.failure_ratio * total as f64
                {
                    self.open(now);
                }
            }
            BreakerState::HalfOpen => self.open(now),
            BreakerState::Open => {}
        }
    }

    fn open(&mut self, now: SimTime) {
        self.state = BreakerState::Open;
        self.opened_at = now;
        self.opened += 1;
    }
}
