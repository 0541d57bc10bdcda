//! Retry policies (backoff and jitter), per-attempt timeouts and hedged
//! requests.
//!
//! A failed call can be retried, but *when* matters as much as *whether*:
//! clients that retry at the same instants collide again, and clients that
//! retry immediately turn one overload into a retry storm. The policies here
//! follow Marc Brooker, "Exponential Backoff And Jitter", AWS Architecture
//! Blog, 2015. With `n` failed attempts so far (`n >= 1`) and
//! `v = min(cap, base · 2^(n-1))` (the default [`Exponent`]), the wait before
//! the next attempt is:
//!
//! | [`Backoff`] | wait | bounds |
//! |---|---|---|
//! | `None` | 0 (retry at once) | `= 0` |
//! | `Fixed` | `base` | `= base` |
//! | `Exponential` | `v` | `= v` |
//! | `FullJitter` | `uniform(0, v)` | `[0, v)`, mean `v/2` |
//! | `EqualJitter` | `v/2 + uniform(0, v/2)` | `[v/2, v)`, mean `3v/4` |
//! | `Decorrelated` | `min(cap, uniform(base, 3 · prev))` | `[base, cap]` |
//! | `Custom` | your function of the [`Attempt`], capped | `[0, cap]` |
//!
//! **Your own policy.** [`Backoff::custom`] takes a name and a plain
//! function (a closure that captures nothing also works) from the
//! [`Attempt`] (failures so far, previous wait, base, cap, envelope) and the
//! run's seeded random stream to the wait. The function runs inside the
//! precompiled experiments, so a policy written in a notebook cell costs a
//! cell no generic code to compile, and the run stays a function of the seed:
//!
//! ```
//! use thinkdist::prelude::*;
//! use thinkdist::retry::{Attempt, Backoff, RetryPolicy};
//!
//! // Linear backoff with full jitter: wait uniform(0, failures · base).
//! fn linear(a: &Attempt, rng: &mut SimRng) -> SimDuration {
//!     let top = a.base * u64::from(a.failures);
//!     SimDuration(rng.random_range(0..=top.0))
//! }
//! let p = RetryPolicy::new(Backoff::custom("linear jitter", linear), ms(10), secs(1), 5)?;
//! let mut rng = thinkdist::sim::rng::stream(1, thinkdist::sim::rng::domain::EXPERIMENT, 0, 0);
//! let d = p.delay(3, SimDuration::ZERO, &mut rng).unwrap();
//! assert!(d <= ms(30));
//! assert_eq!(p.kind().name(), "linear jitter");
//! # Ok::<(), thinkdist::Error>(())
//! ```
//!
//! `prev` is the previous wait (`base` before the first retry). After
//! `max_attempts` attempts [`RetryPolicy::delay`] returns `None`: give up.
//!
//! **Which exponent.** The blog writes `base · 2^attempt` without fixing
//! where `attempt` starts, and implementations differ by a factor of two.
//! [`Exponent`] makes the choice a parameter: by default
//! ([`Exponent::FailuresMinusOne`]) the exponent is `n − 1`, so the first
//! retry waits about `base` in every policy; [`Exponent::Failures`] uses `n`,
//! as the blog's own simulator does (its client increments `attempt` before
//! calling `backoff(attempt)`, so its first retry waits up to `2 · base`).
//! Set it with [`RetryPolicy::with_exponent`].
//!
//! ```
//! use thinkdist::prelude::*;
//! use thinkdist::retry::{Backoff, RetryPolicy};
//!
//! let p = RetryPolicy::new(Backoff::Exponential, ms(10), ms(100), 5)?;
//! let mut rng = thinkdist::sim::rng::stream(1, thinkdist::sim::rng::domain::EXPERIMENT, 0, 0);
//! assert_eq!(p.delay(1, SimDuration::ZERO, &mut rng), Some(ms(10)));
//! assert_eq!(p.delay(3, SimDuration::ZERO, &mut rng), Some(ms(40)));
//! assert_eq!(p.delay(4, SimDuration::ZERO, &mut rng), Some(ms(80)));
//! assert_eq!(p.delay(5, SimDuration::ZERO, &mut rng), None); // 5 attempts made: give up
//! # Ok::<(), thinkdist::Error>(())
//! ```

use crate::error::{Error, Result};
use crate::sim::rng::{self, SimRng};
use crate::sim::time::SimDuration;
use serde::{Serialize, Serializer};
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

pub mod client;

/// The exponent of the envelope `v = min(cap, base · 2^e)` after `n` failed
/// attempts; see the [module docs](self).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Exponent {
    /// `e = n − 1`: the first retry's envelope is `base` (the default).
    #[default]
    FailuresMinusOne,
    /// `e = n`: the first retry's envelope is `2 · base`, as in Marc
    /// Brooker's simulator for "Exponential Backoff And Jitter".
    Failures,
}

/// How the wait between attempts grows; see the [module table](self).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Backoff {
    /// Retry immediately: the storm-maker, kept as the baseline.
    None,
    /// Always wait `base`.
    Fixed,
    /// Double the wait each attempt, up to `cap`; no randomness, so clients
    /// that failed together retry together.
    Exponential,
    /// A uniform draw in `[0, v)`: spreads retries the most, waits least on average.
    FullJitter,
    /// Half of `v` fixed, half drawn: never retries almost at once.
    EqualJitter,
    /// Each wait drawn from `[base, 3 · previous wait)`, capped.
    Decorrelated,
    /// A reader's own policy: see [`Backoff::custom`].
    Custom(CustomBackoff),
}

/// What a [custom backoff](Backoff::custom) function is told about the
/// attempt that just failed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Attempt {
    /// Failed attempts so far (1 before the first retry).
    pub failures: u32,
    /// The previous wait (`SimDuration::ZERO` before the first retry).
    pub prev: SimDuration,
    /// The policy's base wait.
    pub base: SimDuration,
    /// The policy's largest wait; a longer answer is cut to it.
    pub cap: SimDuration,
    /// The exponential envelope `min(cap, base · 2^e)` the built-in
    /// policies draw under (see [`Exponent`]).
    pub envelope: SimDuration,
    /// Why the attempt failed, when the caller says
    /// ([`RetryPolicy::delay_after`]).
    pub cause: Cause,
    /// The parameters given to [`Backoff::custom_with`] (zeros after
    /// those given; all zero for [`Backoff::custom`]).
    pub params: [f64; MAX_PARAMS],
}

/// Why an attempt failed, as far as the caller knows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Cause {
    /// Not said (what [`RetryPolicy::delay`] passes).
    #[default]
    Unspecified,
    /// No answer within the per-attempt timeout (or an answer that says
    /// the outcome is unknown): the attempt may still take effect.
    Timeout,
    /// A definite refusal: the attempt took no effect (busy, no leader,
    /// not enough replicas).
    Refused,
    /// Sent elsewhere: "not the leader, ask node k".
    Redirect,
}

/// Most parameters a [custom backoff](Backoff::custom_with) carries.
pub const MAX_PARAMS: usize = 4;

/// A plain function from the failed [`Attempt`] and the run's seeded random
/// stream to the wait before the next attempt.
pub type BackoffFn = fn(&Attempt, &mut SimRng) -> SimDuration;

/// A named backoff function with its parameters, made by
/// [`Backoff::custom`] or [`Backoff::custom_with`].
///
/// Compared, ordered and hashed by its name and parameters (two policies
/// of one function with different parameters differ, so a sweep over a
/// parameter works); serialized as its name. Give different functions
/// different names.
#[derive(Clone, Copy)]
pub struct CustomBackoff {
    name: &'static str,
    wait: BackoffFn,
    params: [f64; MAX_PARAMS],
}

impl CustomBackoff {
    /// The name given to [`Backoff::custom`].
    pub fn name(&self) -> &'static str {
        self.name
    }
    /// The parameters given to [`Backoff::custom_with`] (zeros after them).
    pub fn params(&self) -> [f64; MAX_PARAMS] {
        self.params
    }
    fn key(&self) -> (&'static str, [u64; MAX_PARAMS]) {
        (self.name, self.params.map(f64::to_bits))
    }
}

impl fmt::Debug for CustomBackoff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.params == [0.0; MAX_PARAMS] {
            write!(f, "Custom({:?})", self.name)
        } else {
            write!(f, "Custom({:?}, {:?})", self.name, self.params)
        }
    }
}
impl PartialEq for CustomBackoff {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}
impl Eq for CustomBackoff {}
impl PartialOrd for CustomBackoff {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for CustomBackoff {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key().cmp(&other.key())
    }
}
impl Hash for CustomBackoff {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.key().hash(state);
    }
}
impl Serialize for CustomBackoff {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.name)
    }
}

impl Backoff {
    /// Every policy, in a fixed order (for sweeps and chart legends).
    pub const ALL: [Backoff; 6] = [
        Backoff::None,
        Backoff::Fixed,
        Backoff::Exponential,
        Backoff::FullJitter,
        Backoff::EqualJitter,
        Backoff::Decorrelated,
    ];

    /// A short human name for legends and tables.
    pub fn name(self) -> &'static str {
        match self {
            Backoff::None => "no backoff",
            Backoff::Fixed => "fixed",
            Backoff::Exponential => "exponential",
            Backoff::FullJitter => "full jitter",
            Backoff::EqualJitter => "equal jitter",
            Backoff::Decorrelated => "decorrelated jitter",
            Backoff::Custom(c) => c.name,
        }
    }

    /// Your own policy: `wait` gets the failed [`Attempt`] and the run's
    /// seeded random stream (with `rand`'s `Rng` methods) and returns the
    /// wait before the next attempt, which is cut to the policy's `cap`.
    /// `name` labels it in tables and legends. See the [module docs](self)
    /// for an example.
    pub fn custom(name: &'static str, wait: BackoffFn) -> Backoff {
        Backoff::Custom(CustomBackoff {
            name,
            wait,
            params: [0.0; MAX_PARAMS],
        })
    }

    /// Your own policy with up to four numbers the experiment chooses:
    /// `wait` reads them as `attempt.params` (zeros after those given). A
    /// plain `fn` cannot capture a variable, so values go in here; the
    /// policy stays `Copy` and comparable, and one function swept over its
    /// parameters gives distinct policies.
    ///
    /// ```
    /// use thinkdist::prelude::*;
    /// use thinkdist::retry::{Attempt, Backoff, Cause, RetryPolicy};
    ///
    /// // Wait `params[0]` times longer after a refusal than after a timeout.
    /// fn patient(a: &Attempt, _: &mut SimRng) -> SimDuration {
    ///     let k = if a.cause == Cause::Refused { a.params[0] } else { 1.0 };
    ///     SimDuration((a.envelope.0 as f64 * k) as u64)
    /// }
    /// let b = Backoff::custom_with("patient", &[4.0], patient)?;
    /// let p = RetryPolicy::new(b, ms(10), secs(1), 5)?;
    /// let mut rng = thinkdist::sim::rng::stream(1, thinkdist::sim::rng::domain::EXPERIMENT, 0, 0);
    /// assert_eq!(p.delay_after(1, SimDuration::ZERO, Cause::Refused, &mut rng), Some(ms(40)));
    /// assert_eq!(p.delay_after(1, SimDuration::ZERO, Cause::Timeout, &mut rng), Some(ms(10)));
    /// assert_ne!(b, Backoff::custom_with("patient", &[2.0], patient)?);
    /// # Ok::<(), thinkdist::Error>(())
    /// ```
    ///
    /// Errors: more than four parameters, or one that is NaN or infinite.
    pub fn custom_with(name: &'static str, params: &[f64], wait: BackoffFn) -> Result<Backoff> {
        if params.len() > MAX_PARAMS {
            return Err(Error::invalid(
                "params",
                format!("{} numbers", params.len()),
                &format!("at most {MAX_PARAMS} numbers"),
            ));
        }
        let mut p = [0.0; MAX_PARAMS];
        for (i, &x) in params.iter().enumerate() {
            if !x.is_finite() {
                return Err(Error::invalid(
                    &format!("params[{i}]"),
                    x,
                    "a finite number",
                ));
            }
            p[i] = x;
        }
        Ok(Backoff::Custom(CustomBackoff {
            name,
            wait,
            params: p,
        }))
    }
}

/// A retry policy: backoff kind, base wait, cap, attempt limit and an
/// optional per-attempt timeout. Build it with [`RetryPolicy::new`] (or
/// [`RetryPolicy::from_ms`] for float inputs), which validates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RetryPolicy {
    kind: Backoff,
    base: SimDuration,
    cap: SimDuration,
    max_attempts: u32,
    timeout: Option<SimDuration>,
    exponent: Exponent,
}

impl Default for RetryPolicy {
    /// Full jitter, base 1 ms, cap 1 s, 100 attempts, no timeout, exponent
    /// `n − 1`.
    fn default() -> Self {
        RetryPolicy {
            kind: Backoff::FullJitter,
            base: SimDuration(1_000_000),
            cap: SimDuration(1_000_000_000),
            max_attempts: 100,
            timeout: None,
            exponent: Exponent::FailuresMinusOne,
        }
    }
}

impl RetryPolicy {
    /// A policy allowing `max_attempts` attempts in total (the first call
    /// included). Errors: `max_attempts == 0`, `base == 0` for a policy that
    /// waits (any but `None`), or `cap < base`.
    pub fn new(
        kind: Backoff,
        base: SimDuration,
        cap: SimDuration,
        max_attempts: u32,
    ) -> Result<RetryPolicy> {
        if max_attempts == 0 {
            return Err(Error::invalid(
                "max_attempts",
                0,
                "at least 1 (the first call counts as an attempt)",
            ));
        }
        if !matches!(kind, Backoff::None | Backoff::Custom(_)) && base == SimDuration::ZERO {
            return Err(Error::invalid(
                "base",
                base,
                "a wait > 0 (use Backoff::None for immediate retries)",
            ));
        }
        if cap < base {
            return Err(Error::invalid(
                "cap",
                cap,
                &format!("cap >= base (base = {base})"),
            ));
        }
        Ok(RetryPolicy {
            kind,
            base,
            cap,
            max_attempts,
            timeout: None,
            exponent: Exponent::FailuresMinusOne,
        })
    }

    /// Like [`RetryPolicy::new`] with `base` and `cap` in milliseconds as
    /// floats; errors on negative, NaN or infinite values.
    pub fn from_ms(kind: Backoff, base_ms: f64, cap_ms: f64, max_attempts: u32) -> Result<Self> {
        let check = |name: &str, v: f64| {
            if v.is_finite() && v >= 0.0 {
                SimDuration::from_ms_named(name, v)
            } else {
                Err(Error::invalid(name, v, "a finite number of ms >= 0"))
            }
        };
        RetryPolicy::new(
            kind,
            check("base (ms)", base_ms)?,
            check("cap (ms)", cap_ms)?,
            max_attempts,
        )
    }

    /// Sets a per-attempt timeout: a caller that has no answer after
    /// `timeout` treats the attempt as failed. Errors on a zero timeout.
    pub fn with_timeout(mut self, timeout: SimDuration) -> Result<RetryPolicy> {
        if timeout == SimDuration::ZERO {
            return Err(Error::invalid("timeout", timeout, "a duration > 0"));
        }
        self.timeout = Some(timeout);
        Ok(self)
    }

    /// Counts the envelope's exponent as `exponent` says (default
    /// [`Exponent::FailuresMinusOne`]).
    pub fn with_exponent(mut self, exponent: Exponent) -> RetryPolicy {
        self.exponent = exponent;
        self
    }

    /// The same policy with another backoff kind; errors as
    /// [`RetryPolicy::new`] would (a zero `base` for a kind that waits).
    pub fn with_kind(self, kind: Backoff) -> Result<RetryPolicy> {
        let p = RetryPolicy::new(kind, self.base, self.cap, self.max_attempts)?;
        Ok(RetryPolicy {
            timeout: self.timeout,
            exponent: self.exponent,
            ..p
        })
    }

    /// How the envelope's exponent counts failures.
    pub fn exponent(&self) -> Exponent {
        self.exponent
    }

    /// The backoff kind.
    pub fn kind(&self) -> Backoff {
        self.kind
    }
    /// The base wait.
    pub fn base(&self) -> SimDuration {
        self.base
    }
    /// The largest wait.
    pub fn cap(&self) -> SimDuration {
        self.cap
    }
    /// Attempts allowed in total.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }
    /// The per-attempt timeout, if set.
    pub fn timeout(&self) -> Option<SimDuration> {
        self.timeout
    }

    /// The exponential envelope `v = min(cap, base · 2^e)` with
    /// `e = attempt − 1` (or `attempt`, see [`Exponent`]), saturating, so
    /// attempt 200 does not overflow.
    pub fn envelope(&self, attempt: u32) -> SimDuration {
        let e = match self.exponent {
            Exponent::FailuresMinusOne => attempt.saturating_sub(1),
            Exponent::Failures => attempt,
        };
        let shift = e.min(62);
        let v = self.base.0.saturating_mul(1u64 << shift);
        SimDuration(v.min(self.cap.0))
    }

    /// The wait before the next attempt, after `attempt` failed attempts
    /// (`attempt >= 1`); `prev` is the previous wait (used by
    /// `Decorrelated`; pass `SimDuration::ZERO` before the first retry).
    /// `None` means give up: `attempt >= max_attempts` (or `attempt == 0`,
    /// which is not a failure count). Random draws come from `rng`, so pass
    /// `ctx.rng()` inside a node to stay deterministic.
    pub fn delay(&self, attempt: u32, prev: SimDuration, rng: &mut SimRng) -> Option<SimDuration> {
        self.delay_after(attempt, prev, Cause::Unspecified, rng)
    }

    /// [`RetryPolicy::delay`], saying why the attempt failed: a custom
    /// policy sees it as [`Attempt::cause`] (the built-in ones ignore it).
    pub fn delay_after(
        &self,
        attempt: u32,
        prev: SimDuration,
        cause: Cause,
        rng: &mut SimRng,
    ) -> Option<SimDuration> {
        if attempt == 0 || attempt >= self.max_attempts {
            return None;
        }
        let v = self.envelope(attempt).0 as f64;
        let ns = match self.kind {
            Backoff::None => 0.0,
            Backoff::Fixed => self.base.0 as f64,
            Backoff::Exponential => v,
            Backoff::FullJitter => v * rng::unit_f64(rng),
            Backoff::EqualJitter => v / 2.0 + v / 2.0 * rng::unit_f64(rng),
            Backoff::Decorrelated => {
                let base = self.base.0 as f64;
                let hi = (prev.0.max(self.base.0) as f64) * 3.0;
                (base + (hi - base) * rng::unit_f64(rng)).min(self.cap.0 as f64)
            }
            Backoff::Custom(c) => {
                let a = Attempt {
                    failures: attempt,
                    prev,
                    base: self.base,
                    cap: self.cap,
                    envelope: self.envelope(attempt),
                    cause,
                    params: c.params,
                };
                return Some((c.wait)(&a, rng).min(self.cap));
            }
        };
        Some(SimDuration(ns as u64))
    }
}

/// Hedged requests (Dean and Barroso, "The Tail at Scale", CACM 2013): send
/// the request to one server; if no answer has come after `delay`, send a
/// copy to a second server and take whichever answer comes first.
///
/// Why: a slow answer is usually bad luck on one server, so a second try
/// elsewhere cuts the tail, and waiting `delay` first keeps the extra work
/// small. The extra load is the fraction of requests still unanswered at
/// `delay`, `P(T > delay)` for the single-request latency `T`; setting `delay`
/// near the p95 costs about 5 % more requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Hedge {
    delay: SimDuration,
}

/// What happened to one hedged request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct HedgeOutcome {
    /// Time until the first answer.
    pub latency: SimDuration,
    /// True if the second copy was sent (the extra load).
    pub hedged: bool,
    /// True if the second copy answered first.
    pub backup_won: bool,
}

impl Hedge {
    /// A hedge sent after `delay`. Any `SimDuration` is valid (0 sends both
    /// copies at once).
    pub fn new(delay: SimDuration) -> Hedge {
        Hedge { delay }
    }
    /// A hedge delay in milliseconds; errors on negative, NaN or infinite.
    pub fn from_ms(delay_ms: f64) -> Result<Hedge> {
        if !(delay_ms.is_finite() && delay_ms >= 0.0) {
            return Err(Error::invalid(
                "hedge delay (ms)",
                delay_ms,
                "a finite number of ms >= 0",
            ));
        }
        Ok(Hedge::new(SimDuration::from_ms_named(
            "hedge delay (ms)",
            delay_ms,
        )?))
    }
    /// The delay before the second copy.
    pub fn delay(&self) -> SimDuration {
        self.delay
    }
    /// True if a request still unanswered after `elapsed` should be hedged
    /// now (call from the timer set for [`Hedge::delay`]).
    pub fn should_hedge(&self, elapsed: SimDuration, answered: bool) -> bool {
        !answered && elapsed >= self.delay
    }
    /// Resolves one request: the first copy answers after `primary`; if that
    /// is later than the delay, a second copy is sent, which answers
    /// `backup()` after it was sent. The backup's latency is only drawn when
    /// the copy is sent, so unhedged requests consume no random numbers.
    pub fn resolve(
        &self,
        primary: SimDuration,
        backup: impl FnOnce() -> SimDuration,
    ) -> HedgeOutcome {
        if primary <= self.delay {
            return HedgeOutcome {
                latency: primary,
                hedged: false,
                backup_won: false,
            };
        }
        let second = self.delay + backup();
        HedgeOutcome {
            latency: primary.min(second),
            hedged: true,
            backup_won: second < primary,
        }
    }
}
