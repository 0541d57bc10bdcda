//! Adaptive throttling: the client rejects requests itself when the
//! backend has been rejecting them.
//!
//! From Google's *Site Reliability Engineering* book (chapter 21, "Handling
//! Overload"): each client counts, over a recent window, the `requests` its
//! application asked it to send and the `accepts`, those the backend
//! accepted (here: answered in time). It rejects a new request locally,
//! without sending it, with probability
//!
//! ```text
//! p = max(0, (requests − K · accepts) / (requests + 1))
//! ```
//!
//! While the backend accepts everything, `requests ≤ K · accepts` and
//! nothing is rejected. When it accepts only a share `a` of what reaches
//! it, the client lets through about `K` times what gets accepted: the
//! backend still sees some excess (so the client notices when it recovers),
//! but far less than the full demand. `K = 2` is the book's choice; a
//! smaller `K` rejects sooner and wastes less of the backend's time.
//!
//! ```
//! use thinkdist::prelude::*;
//! use thinkdist::service::protect::AdaptiveThrottle;
//!
//! let mut t = AdaptiveThrottle::new(2.0, secs(10))?;
//! let now = SimTime::from_start(secs(1));
//! for _ in 0..100 { t.count_request(now); }
//! for _ in 0..20 { t.count_accept(now); }
//! // (100 − 2·20) / (100 + 1)
//! assert!((t.reject_probability(now) - 60.0 / 101.0).abs() < 1e-12);
//! # Ok::<(), thinkdist::Error>(())
//! ```

use super::window::SlidingCounts;
use crate::error::{Error, Result};
use crate::sim::rng::{self, SimRng};
use crate::sim::time::{SimDuration, SimTime};

const REQUESTS: usize = 0;
const ACCEPTS: usize = 1;

/// The client-side throttle; see the module docs (`src/mechanisms/service/protect/throttle.rs`).
#[derive(Debug, Clone, PartialEq)]
pub struct AdaptiveThrottle {
    k: f64,
    counts: SlidingCounts<2>,
}

impl AdaptiveThrottle {
    /// Throttle with multiplier `k` (the book's K, 1 to 100; 2 is
    /// typical) over the last `window` of requests (the book uses two
    /// minutes; a shorter window reacts sooner).
    pub fn new(k: f64, window: SimDuration) -> Result<AdaptiveThrottle> {
        if !(k.is_finite() && (1.0..=100.0).contains(&k)) {
            return Err(Error::invalid(
                "throttle K",
                k,
                "a multiplier from 1 to 100 (2 is the SRE book's choice)",
            ));
        }
        Ok(AdaptiveThrottle {
            k,
            counts: SlidingCounts::new(window)?,
        })
    }

    /// The multiplier K.
    pub fn k(&self) -> f64 {
        self.k
    }

    // [throttle]
    /// The probability that a request is rejected locally at `now`.
    pub fn reject_probability(&mut self, now: SimTime) -> f64 {
        let [req, acc] = self.counts.all(now);
        let (req, acc) = (req as f64, acc as f64);
        ((req - self.k * acc) / (req + 1.0)).max(0.0)
    }

    /// The application asks to send a request at `now`: counts it, and
    /// says whether to send it (`false`: reject it locally).
    #[inline]
    pub fn allow(&mut self, now: SimTime, rng: &mut SimRng) -> bool {
        let p = self.reject_probability(now);
        self.counts.add(now, REQUESTS);
        !(p > 0.0 && rng::chance(rng, p))
    }
    // [/throttle]

    /// Counts a request without deciding (for tests and replays).
    pub fn count_request(&mut self, now: SimTime) {
        self.counts.add(now, REQUESTS);
    }

    /// The backend accepted a request (answered it in time) at `now`.
    #[inline]
    pub fn count_accept(&mut self, now: SimTime) {
        self.counts.add(now, ACCEPTS);
    }
}
