//! Retry budgets and token buckets: caps on how much a client may send.
//!
//! A **retry budget** (Finagle's `RetryBudget`, gRPC's retry throttling)
//! lets retries be at most a share of requests: every new request deposits
//! `ratio` of a token, every retry takes a whole one, and the balance is
//! capped at `burst`. Over any stretch of time, retries ≤ `burst` + `ratio`
//! × requests, so retries can add at most `ratio` to the load however
//! badly the server does: the storm that keeps an overloaded service down
//! cannot start.
//!
//! A **token bucket** caps a rate: tokens drip in at `rate` per second up
//! to `burst`, and each send takes one. In any interval of length `T` it
//! lets through at most `burst + rate · T` sends.
//!
//! ```
//! use thinkdist::prelude::*;
//! use thinkdist::service::protect::{RetryBudget, TokenBucket};
//!
//! let mut b = RetryBudget::new(0.1, 2.0)?; // 10 % of requests, 2 in reserve
//! let allowed = (0..100).filter(|_| { b.on_request(); b.try_retry() }).count();
//! assert!(allowed <= 2 + 10); // burst + ratio × requests
//!
//! let mut t = TokenBucket::new(100.0, 5.0)?; // 100 per second, bursts of 5
//! let now = SimTime::ZERO;
//! assert_eq!((0..10).filter(|_| t.try_take(now)).count(), 5);
//! assert!(t.try_take(SimTime::from_start(ms(10)))); // one token back after 10 ms
//! # Ok::<(), thinkdist::Error>(())
//! ```

use crate::error::{check_non_negative, check_positive, Error, Result};
use crate::sim::time::SimTime;

/// At most this many tokens in a bucket or budget (a typo guard).
pub const MAX_BURST: f64 = 1e9;

/// A retry budget; see the module docs (`src/mechanisms/service/protect/budget.rs`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryBudget {
    ratio: f64,
    burst: f64,
    balance: f64,
}

impl RetryBudget {
    /// Retries may be `ratio` of requests (0.1: one retry per ten
    /// requests; 0 to 100), plus a reserve of `burst` tokens, which is also
    /// where the balance starts. The balance never exceeds `burst` (or 1,
    /// if `burst` is smaller, so that a retry stays possible).
    pub fn new(ratio: f64, burst: f64) -> Result<RetryBudget> {
        check_non_negative("retry budget ratio", ratio)?;
        if ratio > 100.0 {
            return Err(Error::invalid(
                "retry budget ratio",
                ratio,
                "a share of requests, at most 100 (0.1 = one retry per ten requests)",
            ));
        }
        check_burst("retry budget burst", burst)?;
        Ok(RetryBudget {
            ratio,
            burst,
            balance: burst,
        })
    }

    // [budget]
    /// A new request (a first attempt) was sent: deposit `ratio`.
    #[inline]
    pub fn on_request(&mut self) {
        self.balance = (self.balance + self.ratio).min(self.burst.max(1.0));
    }

    /// May a retry go out? Takes a token if so.
    #[inline]
    pub fn try_retry(&mut self) -> bool {
        if self.balance >= 1.0 {
            self.balance -= 1.0;
            true
        } else {
            false
        }
    }
    // [/budget]

    /// Tokens in the budget now.
    pub fn balance(&self) -> f64 {
        self.balance
    }
}

fn check_burst(param: &str, burst: f64) -> Result<f64> {
    check_non_negative(param, burst)?;
    if burst > MAX_BURST {
        return Err(Error::invalid(param, burst, "at most 1e9 tokens"));
    }
    Ok(burst)
}

/// A token bucket; see the module docs (`src/mechanisms/service/protect/budget.rs`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: SimTime,
}

impl TokenBucket {
    /// `rate` tokens per second (> 0), at most `burst` (>= 1) stored; the
    /// bucket starts full.
    pub fn new(rate: f64, burst: f64) -> Result<TokenBucket> {
        check_positive("token bucket rate (per second)", rate)?;
        check_burst("token bucket burst", burst)?;
        if burst < 1.0 {
            return Err(Error::invalid(
                "token bucket burst",
                burst,
                "at least 1 token (a send takes one)",
            ));
        }
        Ok(TokenBucket {
            rate,
            burst,
            tokens: burst,
            last: SimTime::ZERO,
        })
    }

    fn refill(&mut self, now: SimTime) {
        if now > self.last {
            let dt = now.since(self.last).as_secs_f64();
            self.tokens = (self.tokens + dt * self.rate).min(self.burst);
            self.last = now;
        }
    }

    /// Takes a token at `now` if there is one.
    #[inline]
    pub fn try_take(&mut self, now: SimTime) -> bool {
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Tokens in the bucket at `now`.
    pub fn tokens(&mut self, now: SimTime) -> f64 {
        self.refill(now);
        self.tokens
    }

    /// The refill rate, per second.
    pub fn rate(&self) -> f64 {
        self.rate
    }

    /// The largest number of tokens stored.
    pub fn burst(&self) -> f64 {
        self.burst
    }
}
