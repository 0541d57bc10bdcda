//! Load balancing: which of `n` servers gets the next request.
//!
//! | [`Policy`] | picks | uses |
//! |---|---|---|
//! | `Random` | a server uniformly at random | nothing |
//! | `RoundRobin` | servers in turn | its own counter |
//! | `LeastOutstanding` | the fewest requests in flight, counting what it sent since the last report | reports + its own sends |
//! | `PowerOfTwo` | the less loaded of two servers drawn at random | reports |
//! | `ShortestQueue` | the shortest queue of all | reports |
//! | `Custom` | whatever your function says | the whole [`View`] |
//!
//! Ties are broken uniformly at random.
//!
//! **Stale information.** A balancer rarely knows the servers' load as it is
//! now. Here the servers report their load (requests in the system) every
//! `age`, all at once; between reports the balancer knows only what it sent
//! itself (as with direct server return, where answers bypass the balancer).
//! With `age = 0` every pick sees the true load. Acting on an old report is
//! where "least loaded" goes wrong: every request until the next report goes
//! to the server that *was* least loaded, and it is swamped (herding;
//! Mitzenmacher, "How Useful Is Old Information?", IEEE TPDS 2000). Two
//! random choices spread the requests over many servers and degrade
//! gracefully; counting one's own sends (`LeastOutstanding`) avoids the herd.
//!
//! **Your own policy.** [`Policy::custom`] takes a name and a plain function
//! from the [`View`] and the run's seeded random stream to a server index,
//! as [`crate::retry::Backoff::custom`] does for backoff:
//!
//! ```
//! use thinkdist::prelude::*;
//! use thinkdist::service::balance::{Balancer, Policy, View};
//!
//! // Three random choices instead of two.
//! fn three(v: &View, rng: &mut SimRng) -> usize {
//!     let n = v.servers();
//!     let picks = [rng.random_range(0..n), rng.random_range(0..n), rng.random_range(0..n)];
//!     *picks.iter().min_by_key(|&&i| v.reported[i]).unwrap()
//! }
//! let mut b = Balancer::new(Policy::custom("three choices", three), 4, SimDuration::ZERO)?;
//! let mut rng = thinkdist::sim::rng::stream(1, thinkdist::sim::rng::domain::EXPERIMENT, 0, 0);
//! let s = b.pick(&mut rng)?;
//! assert!(s < 4);
//! assert_eq!(b.load(s), 1);
//! # Ok::<(), thinkdist::Error>(())
//! ```

use crate::error::{check_count, Error, Result};
use crate::sim::rng::{self, SimRng};
use crate::sim::time::SimDuration;
use serde::{Serialize, Serializer};
use std::fmt;

/// The most servers one balancer spreads over.
pub const MAX_SERVERS: usize = 10_000;

/// What a policy sees when it picks a server for one request.
#[derive(Debug, Clone, Copy)]
pub struct View<'a> {
    /// Requests in each server's system as of the last report (the true
    /// load when the report age is zero).
    pub reported: &'a [u32],
    /// Requests this balancer sent to each server since that report (all
    /// zero when the report age is zero).
    pub sent_since: &'a [u32],
    /// Requests routed so far (round robin's counter).
    pub count: u64,
}

impl View<'_> {
    /// Number of servers.
    pub fn servers(&self) -> usize {
        self.reported.len()
    }

    /// The load the balancer believes server `i` has: the last report plus
    /// what it sent since.
    pub fn estimate(&self, i: usize) -> u32 {
        self.reported[i].saturating_add(self.sent_since[i])
    }
}

/// A plain function from the [`View`] and the run's random stream to the
/// index of the server that gets the request.
pub type PickFn = fn(&View<'_>, &mut SimRng) -> usize;

/// A named policy function, made by [`Policy::custom`]; compared and
/// serialized by its name.
#[derive(Clone, Copy)]
pub struct CustomPolicy {
    name: &'static str,
    pick: PickFn,
}

impl fmt::Debug for CustomPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Custom({:?})", self.name)
    }
}
impl PartialEq for CustomPolicy {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}
impl Eq for CustomPolicy {}
impl Serialize for CustomPolicy {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.name)
    }
}

/// A load-balancing policy; see the [module table](self).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Policy {
    /// Uniformly at random.
    Random,
    /// In turn.
    RoundRobin,
    /// Fewest in flight: the last report plus the balancer's own sends since.
    LeastOutstanding,
    /// The less loaded (by the last report) of two distinct random servers.
    PowerOfTwo,
    /// The least loaded of all by the last report.
    ShortestQueue,
    /// A reader's own policy: see [`Policy::custom`].
    Custom(CustomPolicy),
}

impl Policy {
    /// The built-in policies, in a fixed order (for sweeps and legends).
    pub const ALL: [Policy; 5] = [
        Policy::Random,
        Policy::RoundRobin,
        Policy::LeastOutstanding,
        Policy::PowerOfTwo,
        Policy::ShortestQueue,
    ];

    /// A short name for legends and tables.
    pub fn name(self) -> &'static str {
        match self {
            Policy::Random => "random",
            Policy::RoundRobin => "round robin",
            Policy::LeastOutstanding => "least outstanding",
            Policy::PowerOfTwo => "power of two choices",
            Policy::ShortestQueue => "join the shortest queue",
            Policy::Custom(c) => c.name,
        }
    }

    /// Your own policy: `pick` gets the [`View`] and the run's seeded random
    /// stream and returns a server index in `0..view.servers()` (an index
    /// out of range stops the run with an error naming the policy).
    pub fn custom(name: &'static str, pick: PickFn) -> Policy {
        Policy::Custom(CustomPolicy { name, pick })
    }

    /// The server this policy picks.
    pub fn pick(self, v: &View<'_>, rng: &mut SimRng) -> usize {
        let n = v.servers();
        match self {
            Policy::Random => rng::index(rng, n),
            Policy::RoundRobin => (v.count % n as u64) as usize,
            Policy::LeastOutstanding => least(n, |i| v.estimate(i), rng),
            Policy::ShortestQueue => least(n, |i| v.reported[i], rng),
            // [two-choices]
            Policy::PowerOfTwo => {
                if n == 1 {
                    return 0;
                }
                let a = rng::index(rng, n);
                // A second server, distinct from the first.
                let b = (a + 1 + rng::index(rng, n - 1)) % n;
                match v.reported[a].cmp(&v.reported[b]) {
                    std::cmp::Ordering::Less => a,
                    std::cmp::Ordering::Greater => b,
                    std::cmp::Ordering::Equal => {
                        if rng::chance(rng, 0.5) {
                            a
                        } else {
                            b
                        }
                    }
                }
            }
            // [/two-choices]
            Policy::Custom(c) => (c.pick)(v, rng),
        }
    }
}

/// The index with the smallest `load`, ties broken uniformly at random
/// (reservoir sampling over the tied: one pass, no allocation).
fn least(n: usize, load: impl Fn(usize) -> u32, rng: &mut SimRng) -> usize {
    let mut best = 0;
    let mut best_load = load(0);
    let mut ties = 1u64;
    for i in 1..n {
        let l = load(i);
        if l < best_load {
            best = i;
            best_load = l;
            ties = 1;
        } else if l == best_load {
            ties += 1;
            if rng::index(rng, ties as usize) == 0 {
                best = i;
            }
        }
    }
    best
}

/// A balancer: a policy, the servers' load as it knows it, and reports
/// every `age`. The owner calls [`Balancer::pick`] per request,
/// [`Balancer::done`] when a server finishes one, and [`Balancer::report`]
/// every `age` (when `age > 0`).
#[derive(Debug, Clone)]
pub struct Balancer {
    policy: Policy,
    age: SimDuration,
    live: Vec<u32>,
    reported: Vec<u32>,
    sent_since: Vec<u32>,
    count: u64,
}

impl Balancer {
    /// A balancer over `servers` servers (1 to [`MAX_SERVERS`]) whose load
    /// reports are `age` old at most (zero: always current).
    pub fn new(policy: Policy, servers: usize, age: SimDuration) -> Result<Balancer> {
        check_count("servers", servers, 1, MAX_SERVERS, "servers")?;
        Ok(Balancer {
            policy,
            age,
            live: vec![0; servers],
            reported: vec![0; servers],
            sent_since: vec![0; servers],
            count: 0,
        })
    }

    /// The policy.
    pub fn policy(&self) -> Policy {
        self.policy
    }

    /// How often the servers report (zero: the balancer always knows).
    pub fn age(&self) -> SimDuration {
        self.age
    }

    /// Picks the server for the next request and counts it as sent there.
    /// Errors if a custom policy returns an index out of range.
    #[inline]
    pub fn pick(&mut self, rng: &mut SimRng) -> Result<usize> {
        let reported = if self.age == SimDuration::ZERO {
            &self.live
        } else {
            &self.reported
        };
        let view = View {
            reported,
            sent_since: &self.sent_since,
            count: self.count,
        };
        let i = self.policy.pick(&view, rng);
        let n = self.live.len();
        if i >= n {
            return Err(Error::invalid(
                &format!("server picked by policy `{}`", self.policy.name()),
                i,
                &format!("an index in 0..{n} (there are {n} servers)"),
            ));
        }
        self.count += 1;
        self.live[i] += 1;
        if self.age > SimDuration::ZERO {
            self.sent_since[i] += 1;
        }
        Ok(i)
    }

    /// Server `i` finished (or dropped) one request.
    #[inline]
    pub fn done(&mut self, i: usize) {
        if let Some(l) = self.live.get_mut(i) {
            *l = l.saturating_sub(1);
        }
    }

    /// The servers report their load: the balancer's view becomes the true
    /// load, and its count of own sends starts again.
    pub fn report(&mut self) {
        self.reported.copy_from_slice(&self.live);
        self.sent_since.fill(0);
    }

    /// The true load of server `i` (requests sent and not yet done).
    pub fn load(&self, i: usize) -> u32 {
        self.live.get(i).copied().unwrap_or(0)
    }

    /// Number of servers.
    pub fn servers(&self) -> usize {
        self.live.len()
    }
}
