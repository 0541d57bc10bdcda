//! Client-side protection: what a client does so that its own retries and
//! requests do not keep an overloaded service down.
//!
//! | [`Protection`] | acts on | rule |
//! |---|---|---|
//! | `None` | — | send everything, retry whenever the retry policy says |
//! | `RetryBudget` | retries | retries ≤ `burst` + `ratio` × requests ([`RetryBudget`]) |
//! | `TokenBucket` | every attempt | at most `burst` + `rate` · T sends in any T ([`TokenBucket`]) |
//! | `AdaptiveThrottle` | every attempt | reject locally with p = max(0, (requests − K·accepts)/(requests + 1)) ([`AdaptiveThrottle`]) |
//! | `CircuitBreaker` | every attempt | closed / open / half-open on the recent failure share ([`CircuitBreaker`]) |
//! | `Custom` | every attempt | your function of the attempt and the recent counts |
//!
//! A [`Guard`] is the running state of one protection inside a client: ask
//! it [`Guard::allow`] before each attempt, and tell it every outcome
//! ([`Guard::on_success`], [`Guard::on_failure`]). A request the guard
//! refuses fails at once, locally, without reaching the service.
//!
//! **Deadlines passed along** are the other half: a client that tells the
//! service when it will stop waiting lets the service drop work nobody
//! waits for ([`crate::service::server::Shedding::Expired`]).
//!
//! **Your own rule.** [`Protection::custom`] takes a name, a window and a
//! plain function from the [`Outgoing`] attempt (with the counts over the
//! window) and the run's random stream to "send it?":
//!
//! ```
//! use thinkdist::prelude::*;
//! use thinkdist::service::protect::{Guard, Outgoing, Protection};
//!
//! // No retries while more than a quarter of recent attempts failed.
//! fn careful(o: &Outgoing, _: &mut SimRng) -> bool {
//!     !o.retry || 4 * o.recent.failures <= o.recent.sent
//! }
//! let p = Protection::custom("careful retries", secs(5), careful)?;
//! let mut g = Guard::new(&p)?;
//! let mut rng = thinkdist::sim::rng::stream(1, thinkdist::sim::rng::domain::EXPERIMENT, 0, 0);
//! let t = SimTime::from_start(secs(1));
//! assert!(g.allow(t, 0, &mut rng)); // a first attempt
//! g.on_failure(t);
//! assert!(!g.allow(t, 1, &mut rng)); // a retry: 1 failure of 1 sent
//! # Ok::<(), thinkdist::Error>(())
//! ```

mod breaker;
mod budget;
mod throttle;
mod window;

pub use breaker::{BreakerConfig, BreakerState, CircuitBreaker};
pub use budget::{RetryBudget, TokenBucket, MAX_BURST};
pub use throttle::AdaptiveThrottle;
pub use window::{SlidingCounts, BUCKETS};

use crate::error::Result;
use crate::sim::rng::SimRng;
use crate::sim::time::{SimDuration, SimTime};
use serde::{Serialize, Serializer};
use std::fmt;

/// Counts over a custom rule's window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Recent {
    /// Attempts asked for (first attempts and retries, sent or not).
    pub requests: u64,
    /// Attempts sent.
    pub sent: u64,
    /// Attempts answered in time.
    pub accepts: u64,
    /// Attempts that failed (an error answer or a timeout).
    pub failures: u64,
    /// Retries asked for.
    pub retries: u64,
}

/// What a custom rule is told about the attempt the client is about to
/// send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outgoing {
    /// Now.
    pub now: SimTime,
    /// A retry (not the request's first attempt).
    pub retry: bool,
    /// Attempt number of this request (0 for the first).
    pub attempt: u32,
    /// Counts over the rule's window, not including this attempt.
    pub recent: Recent,
}

/// A plain function deciding whether an attempt goes out.
pub type RuleFn = fn(&Outgoing, &mut SimRng) -> bool;

/// A named rule, made by [`Protection::custom`]; compared and serialized
/// by its name.
#[derive(Clone, Copy)]
pub struct CustomRule {
    name: &'static str,
    window: SimDuration,
    rule: RuleFn,
}

impl fmt::Debug for CustomRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Custom({:?})", self.name)
    }
}
impl PartialEq for CustomRule {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}
impl Serialize for CustomRule {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.name)
    }
}

/// A client-side protection; see the [module table](self).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum Protection {
    /// None.
    None,
    /// Retries at most `ratio` of requests, plus `burst` in reserve.
    RetryBudget {
        /// Retries per request allowed.
        ratio: f64,
        /// Reserve (and cap) of the budget.
        burst: f64,
    },
    /// Every attempt takes a token; `rate` per second, `burst` stored.
    TokenBucket {
        /// Tokens per second.
        rate: f64,
        /// Largest number stored.
        burst: f64,
    },
    /// The SRE book's client-side throttling.
    AdaptiveThrottle {
        /// The multiplier K.
        k: f64,
        /// The window requests and accepts are counted over.
        window: SimDuration,
    },
    /// A circuit breaker.
    CircuitBreaker(BreakerConfig),
    /// A reader's own rule: see [`Protection::custom`].
    Custom(CustomRule),
}

impl Protection {
    /// A short name for legends and tables.
    pub fn name(&self) -> String {
        match self {
            Protection::None => "no protection".into(),
            Protection::RetryBudget { ratio, .. } => {
                format!("retry budget {}%", crate::error::num(ratio * 100.0))
            }
            Protection::TokenBucket { rate, .. } => {
                format!("token bucket {}/s", crate::error::num(*rate))
            }
            Protection::AdaptiveThrottle { k, .. } => {
                format!("adaptive throttling K={}", crate::error::num(*k))
            }
            Protection::CircuitBreaker(_) => "circuit breaker".into(),
            Protection::Custom(c) => c.name.into(),
        }
    }

    /// Your own rule: `rule` gets the [`Outgoing`] attempt, with counts
    /// over the last `window`, and the run's seeded random stream, and
    /// says whether to send it. Errors on a window under 20 ns.
    pub fn custom(name: &'static str, window: SimDuration, rule: RuleFn) -> Result<Protection> {
        SlidingCounts::<5>::new(window)?;
        Ok(Protection::Custom(CustomRule { name, window, rule }))
    }

    /// Checks the settings.
    pub fn validate(&self) -> Result<()> {
        Guard::new(self).map(|_| ())
    }
}

const REQ: usize = 0;
const SENT: usize = 1;
const ACC: usize = 2;
const FAIL: usize = 3;
const RETRY: usize = 4;

/// The running state of a [`Protection`] in one client.
#[derive(Debug, Clone)]
pub enum Guard {
    /// No protection.
    None,
    /// A retry budget.
    Budget(RetryBudget),
    /// A token bucket.
    Bucket(TokenBucket),
    /// Adaptive throttling.
    Throttle(AdaptiveThrottle),
    /// A circuit breaker.
    Breaker(CircuitBreaker),
    /// A custom rule and its counts.
    Custom(CustomRule, Box<SlidingCounts<5>>),
}

impl Guard {
    /// The state of `p` before any request (checks its settings).
    pub fn new(p: &Protection) -> Result<Guard> {
        Ok(match *p {
            Protection::None => Guard::None,
            Protection::RetryBudget { ratio, burst } => {
                Guard::Budget(RetryBudget::new(ratio, burst)?)
            }
            Protection::TokenBucket { rate, burst } => {
                Guard::Bucket(TokenBucket::new(rate, burst)?)
            }
            Protection::AdaptiveThrottle { k, window } => {
                Guard::Throttle(AdaptiveThrottle::new(k, window)?)
            }
            Protection::CircuitBreaker(cfg) => Guard::Breaker(CircuitBreaker::new(cfg)?),
            Protection::Custom(c) => Guard::Custom(c, Box::new(SlidingCounts::new(c.window)?)),
        })
    }

    /// May attempt `attempt` of a request (`retry`: not its first) go out
    /// at `now`? `false`: the request fails locally.
    #[inline]
    pub fn allow(&mut self, now: SimTime, attempt: u32, rng: &mut SimRng) -> bool {
        let retry = attempt > 0;
        match self {
            Guard::None => true,
            Guard::Budget(b) => {
                if retry {
                    b.try_retry()
                } else {
                    b.on_request();
                    true
                }
            }
            Guard::Bucket(t) => t.try_take(now),
            Guard::Throttle(t) => t.allow(now, rng),
            Guard::Breaker(b) => b.allow(now),
            Guard::Custom(c, counts) => {
                let [requests, sent, accepts, failures, retries] = counts.all(now);
                let o = Outgoing {
                    now,
                    retry,
                    attempt,
                    recent: Recent {
                        requests,
                        sent,
                        accepts,
                        failures,
                        retries,
                    },
                };
                let ok = (c.rule)(&o, rng);
                counts.add(now, REQ);
                if retry {
                    counts.add(now, RETRY);
                }
                if ok {
                    counts.add(now, SENT);
                }
                ok
            }
        }
    }

    /// An attempt that went out was answered in time at `now`.
    #[inline]
    pub fn on_success(&mut self, now: SimTime) {
        match self {
            Guard::Throttle(t) => t.count_accept(now),
            Guard::Breaker(b) => b.on_success(now),
            Guard::Custom(_, counts) => counts.add(now, ACC),
            _ => {}
        }
    }

    /// An attempt that went out failed (an error answer or a timeout) at
    /// `now`.
    #[inline]
    pub fn on_failure(&mut self, now: SimTime) {
        match self {
            Guard::Breaker(b) => b.on_failure(now),
            Guard::Custom(_, counts) => counts.add(now, FAIL),
            _ => {}
        }
    }

    /// The circuit breaker's state, if this guard is one.
    pub fn breaker_state(&self) -> Option<BreakerState> {
        match self {
            Guard::Breaker(b) => Some(b.state()),
            _ => None,
        }
    }
}
