//! The network: latency distributions, loss, duplication, reordering and
//! partitions, per link.
//!
//! A message sent from `a` to `b` is, in this order: dropped if the link is
//! partitioned; dropped with the link's loss probability; otherwise delivered
//! after a latency drawn from the link's [`Latency`]; and, with the link's
//! duplication probability, delivered a second time after an independently
//! drawn latency. Messages on a link are **reordered** whenever their latencies
//! cross, which any non-constant distribution does; set [`LinkConfig::fifo`] to
//! keep a link in order (as TCP would).
//!
//! Randomness: the draws for messages sent by node `a` come from `a`'s own
//! outgoing-network stream; a link given its own configuration with
//! [`Network::set_link`] gets its own stream. Keeping one stream per sender
//! (not per link) keeps memory linear in the number of nodes (10,000 nodes
//! would have 10^8 links) while still leaving other nodes' draws untouched
//! when a node is added.

use crate::engine::rng::{self, SimRng};
use crate::engine::time::{SimDuration, SimTime};
use crate::error::{check_non_negative, check_positive, check_probability, Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Index of a node in a simulation: `0..n`.
pub type NodeId = usize;

/// A distribution of durations, in nanoseconds: network latency, service
/// time, think time. A value (plain data): print it, edit it, serialize it.
///
/// Build it with the validating constructors ([`Latency::exponential`] etc.),
/// which reject negative, NaN and infinite parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Latency {
    /// Always the same duration.
    Constant {
        /// Nanoseconds.
        ns: f64,
    },
    /// Uniform between `lo` and `hi` nanoseconds.
    Uniform {
        /// Lower bound (ns).
        lo: f64,
        /// Upper bound (ns).
        hi: f64,
    },
    /// Exponential with the given mean (memoryless: the M in M/M/1).
    Exponential {
        /// Mean (ns).
        mean: f64,
    },
    /// Normal, truncated at zero (a negative draw becomes 0).
    Normal {
        /// Mean (ns).
        mean: f64,
        /// Standard deviation (ns).
        sd: f64,
    },
    /// Log-normal: `exp(mu + sigma Z)` with `exp(mu)` the median in ns.
    LogNormal {
        /// Log of the median (log ns).
        mu: f64,
        /// Shape.
        sigma: f64,
    },
    /// Pareto (heavy tail): `scale * U^(-1/shape)`, never below `scale`.
    Pareto {
        /// Minimum (ns).
        scale: f64,
        /// Tail index; the mean is finite only for shape > 1.
        shape: f64,
    },
    /// A mixture: with probability `weights[i] / sum` draw from `parts[i]`.
    /// The classic use: 99 % fast, 1 % slow.
    Mixture {
        /// Normalised weights (sum to 1).
        weights: Vec<f64>,
        /// Component distributions.
        parts: Vec<Latency>,
    },
}

/// A standard exponential draw (mean 1), by ziggurat sampling: no logarithm
/// on the common path. Inlined whole into the engine's hot path.
#[inline(always)]
fn exp1(rng: &mut SimRng) -> f64 {
    rng::exp1(rng)
}

impl Latency {
    /// A constant duration.
    pub fn constant(d: SimDuration) -> Latency {
        Latency::Constant { ns: d.0 as f64 }
    }
    /// No delay at all.
    pub fn zero() -> Latency {
        Latency::Constant { ns: 0.0 }
    }
    /// Uniform on `[lo, hi]`; errors if `lo > hi`.
    pub fn uniform(lo: SimDuration, hi: SimDuration) -> Result<Latency> {
        if lo > hi {
            return Err(Error::invalid(
                "uniform latency lo",
                lo,
                &format!("lo <= hi (hi = {hi})"),
            ));
        }
        Ok(Latency::Uniform {
            lo: lo.0 as f64,
            hi: hi.0 as f64,
        })
    }
    /// Exponential with the given mean; errors on a zero mean.
    pub fn exponential(mean: SimDuration) -> Result<Latency> {
        check_positive("exponential mean (ns)", mean.0 as f64)?;
        Ok(Latency::Exponential {
            mean: mean.0 as f64,
        })
    }
    /// Exponential with a rate in events per second (service rate μ, say).
    pub fn exponential_rate(per_sec: f64) -> Result<Latency> {
        check_positive("exponential rate (per second)", per_sec)?;
        Ok(Latency::Exponential {
            mean: 1e9 / per_sec,
        })
    }
    /// Normal with mean and standard deviation, truncated at zero.
    pub fn normal(mean: SimDuration, sd: SimDuration) -> Result<Latency> {
        Ok(Latency::Normal {
            mean: mean.0 as f64,
            sd: sd.0 as f64,
        })
    }
    /// Log-normal with the given median and shape `sigma` (> 0).
    pub fn log_normal(median: SimDuration, sigma: f64) -> Result<Latency> {
        check_positive("log-normal median (ns)", median.0 as f64)?;
        check_positive("log-normal sigma", sigma)?;
        Ok(Latency::LogNormal {
            mu: (median.0 as f64).ln(),
            sigma,
        })
    }
    /// Pareto with minimum `scale` and tail index `shape` (> 0).
    pub fn pareto(scale: SimDuration, shape: f64) -> Result<Latency> {
        check_positive("pareto scale (ns)", scale.0 as f64)?;
        check_positive("pareto shape", shape)?;
        Ok(Latency::Pareto {
            scale: scale.0 as f64,
            shape,
        })
    }
    /// A mixture of `(weight, distribution)` pairs; weights must be >= 0 and
    /// not all zero.
    pub fn mixture(parts: Vec<(f64, Latency)>) -> Result<Latency> {
        if parts.is_empty() {
            return Err(Error::invalid(
                "mixture parts",
                "[]",
                "at least one (weight, latency) pair",
            ));
        }
        let mut total = 0.0;
        for (w, _) in &parts {
            check_non_negative("mixture weight", *w)?;
            total += w;
        }
        if total <= 0.0 {
            return Err(Error::invalid("mixture weights", total, "a sum > 0"));
        }
        let (weights, parts): (Vec<f64>, Vec<Latency>) =
            parts.into_iter().map(|(w, l)| (w / total, l)).unzip();
        Ok(Latency::Mixture { weights, parts })
    }

    /// Draws one duration.
    #[inline]
    pub fn sample(&self, rng: &mut SimRng) -> SimDuration {
        let ns = match self {
            // The most common latency, drawn inline on the engine's hot path
            // (the same draw as in `sample_ns`).
            Latency::Exponential { mean } => mean * exp1(rng),
            other => other.sample_ns(rng),
        };
        SimDuration::from_nanos_f64_saturating(ns)
    }

    fn sample_ns(&self, rng: &mut SimRng) -> f64 {
        match self {
            Latency::Constant { ns } => *ns,
            Latency::Uniform { lo, hi } => lo + (hi - lo) * rng::unit_f64(rng),
            Latency::Exponential { mean } => mean * exp1(rng),
            Latency::Normal { mean, sd } => {
                let z = rng::standard_normal(rng);
                (mean + sd * z).max(0.0)
            }
            Latency::LogNormal { mu, sigma } => {
                let z = rng::standard_normal(rng);
                (mu + sigma * z).exp()
            }
            Latency::Pareto { scale, shape } => scale * rng::open_unit_f64(rng).powf(-1.0 / shape),
            Latency::Mixture { weights, parts } => {
                let u = rng::unit_f64(rng);
                let mut acc = 0.0;
                for (w, p) in weights.iter().zip(parts) {
                    acc += w;
                    if u < acc {
                        return p.sample_ns(rng);
                    }
                }
                parts.last().map_or(0.0, |p| p.sample_ns(rng))
            }
        }
    }

    /// The mean in nanoseconds (infinite for a Pareto with shape <= 1). For
    /// `Normal` this is the mean before truncation at zero.
    pub fn mean_ns(&self) -> f64 {
        match self {
            Latency::Constant { ns } => *ns,
            Latency::Uniform { lo, hi } => (lo + hi) / 2.0,
            Latency::Exponential { mean } => *mean,
            Latency::Normal { mean, .. } => *mean,
            Latency::LogNormal { mu, sigma } => (mu + sigma * sigma / 2.0).exp(),
            Latency::Pareto { scale, shape } => {
                if *shape <= 1.0 {
                    f64::INFINITY
                } else {
                    shape * scale / (shape - 1.0)
                }
            }
            Latency::Mixture { weights, parts } => weights
                .iter()
                .zip(parts)
                .map(|(w, p)| w * p.mean_ns())
                .sum(),
        }
    }

    /// The variance in ns² (infinite for a Pareto with shape <= 2). For
    /// `Normal` this is the variance before truncation at zero.
    pub fn variance_ns2(&self) -> f64 {
        match self {
            Latency::Constant { .. } => 0.0,
            Latency::Uniform { lo, hi } => (hi - lo).powi(2) / 12.0,
            Latency::Exponential { mean } => mean * mean,
            Latency::Normal { sd, .. } => sd * sd,
            Latency::LogNormal { mu, sigma } => {
                let s2 = sigma * sigma;
                (s2.exp() - 1.0) * (2.0 * mu + s2).exp()
            }
            Latency::Pareto { scale, shape } => {
                if *shape <= 2.0 {
                    f64::INFINITY
                } else {
                    scale * scale * shape / ((shape - 1.0).powi(2) * (shape - 2.0))
                }
            }
            Latency::Mixture { weights, parts } => {
                let m = self.mean_ns();
                weights
                    .iter()
                    .zip(parts)
                    .map(|(w, p)| w * (p.variance_ns2() + p.mean_ns().powi(2)))
                    .sum::<f64>()
                    - m * m
            }
        }
    }

    /// Checks parameters of a value built by hand (not by a constructor).
    pub fn validate(&self) -> Result<()> {
        let ok = |name: &str, x: f64| check_non_negative(name, x).map(|_| ());
        match self {
            Latency::Constant { ns } => ok("constant latency (ns)", *ns),
            Latency::Uniform { lo, hi } => {
                ok("uniform lo (ns)", *lo)?;
                ok("uniform hi (ns)", *hi)?;
                if lo > hi {
                    return Err(Error::invalid("uniform lo (ns)", lo, "lo <= hi"));
                }
                Ok(())
            }
            Latency::Exponential { mean } => {
                check_positive("exponential mean (ns)", *mean).map(|_| ())
            }
            Latency::Normal { mean, sd } => {
                ok("normal mean (ns)", *mean)?;
                ok("normal sd (ns)", *sd)
            }
            Latency::LogNormal { mu, sigma } => {
                if !mu.is_finite() {
                    return Err(Error::invalid("log-normal mu", mu, "a finite number"));
                }
                check_positive("log-normal sigma", *sigma).map(|_| ())
            }
            Latency::Pareto { scale, shape } => {
                check_positive("pareto scale (ns)", *scale)?;
                check_positive("pareto shape", *shape).map(|_| ())
            }
            Latency::Mixture { weights, parts } => {
                if weights.len() != parts.len() || parts.is_empty() {
                    return Err(Error::invalid(
                        "mixture",
                        format!("{} weights, {} parts", weights.len(), parts.len()),
                        "as many weights as parts, at least one",
                    ));
                }
                for w in weights {
                    ok("mixture weight", *w)?;
                }
                parts.iter().try_for_each(Latency::validate)
            }
        }
    }
}

/// How one directed link behaves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkConfig {
    /// One-way latency.
    pub latency: Latency,
    /// Probability that a message is lost.
    pub loss: f64,
    /// Probability that a delivered message is delivered a second time.
    pub duplicate: f64,
    /// Keep messages in send order (a message never overtakes an earlier one).
    pub fifo: bool,
}

impl Default for LinkConfig {
    /// 1 ms constant latency, no loss, no duplication, not FIFO.
    fn default() -> Self {
        LinkConfig {
            latency: Latency::constant(SimDuration(1_000_000)),
            loss: 0.0,
            duplicate: 0.0,
            fifo: false,
        }
    }
}

impl LinkConfig {
    /// A reliable link with the given latency.
    pub fn new(latency: Latency) -> Self {
        LinkConfig {
            latency,
            ..LinkConfig::default()
        }
    }
    /// Sets the loss probability (checked in [`LinkConfig::validate`]).
    pub fn loss(mut self, p: f64) -> Self {
        self.loss = p;
        self
    }
    /// Sets the duplication probability.
    pub fn duplicate(mut self, p: f64) -> Self {
        self.duplicate = p;
        self
    }
    /// Keeps the link in FIFO order.
    pub fn fifo(mut self, on: bool) -> Self {
        self.fifo = on;
        self
    }
    /// Checks every parameter.
    pub fn validate(&self) -> Result<()> {
        check_probability("loss", self.loss)?;
        check_probability("duplicate", self.duplicate)?;
        self.latency.validate()
    }
}

/// Why a message did not arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DropReason {
    /// The link lost it (loss probability).
    Loss,
    /// A partition separated sender and receiver.
    Partition,
    /// The receiver was down when it arrived.
    NodeDown,
}

/// What the network decided for one send: up to two delivery delays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Dropped at the sender's side.
    Dropped(DropReason),
    /// Delivered after the delay, and maybe a duplicate after the second.
    Deliver(SimDuration, Option<SimDuration>),
}

/// Network state: link configurations, partitions, and the random streams
/// for message fates.
#[derive(Debug, Clone)]
pub struct Network {
    n: usize,
    default: LinkConfig,
    overrides: BTreeMap<(NodeId, NodeId), (LinkConfig, SimRng)>,
    blocked: BTreeSet<(NodeId, NodeId)>,
    fifo_last: BTreeMap<(NodeId, NodeId), SimTime>,
    out_streams: Vec<SimRng>,
    seed: u64,
    /// True when no link is partitioned or has its own configuration and the
    /// default link neither loses, duplicates nor keeps order: then a
    /// message's fate is one latency draw, and `decide` skips every other
    /// check (the same draws either way).
    plain: bool,
}

impl Network {
    pub(crate) fn new(n: usize, default: LinkConfig, seed: u64) -> Self {
        let out_streams = (0..n)
            .map(|i| rng::stream(seed, rng::domain::NET_OUT, i as u64, 0))
            .collect();
        Network {
            n,
            default,
            overrides: BTreeMap::new(),
            blocked: BTreeSet::new(),
            fifo_last: BTreeMap::new(),
            out_streams,
            seed,
            plain: false,
        }
        .with_plain()
    }

    /// Recomputes `plain` after a change of configuration or partitions.
    fn with_plain(mut self) -> Self {
        self.update_plain();
        self
    }

    fn update_plain(&mut self) {
        let d = &self.default;
        self.plain = self.blocked.is_empty()
            && self.overrides.is_empty()
            && d.loss <= 0.0
            && d.duplicate <= 0.0
            && !d.fifo;
    }

    fn check_node(&self, what: &str, id: NodeId) -> Result<()> {
        crate::error::check_node(what, id, self.n)
    }

    /// The configuration every link without its own uses.
    pub fn default_link(&self) -> &LinkConfig {
        &self.default
    }

    /// Replaces the default link configuration.
    pub fn set_default(&mut self, cfg: LinkConfig) -> Result<()> {
        cfg.validate()?;
        self.default = cfg;
        self.update_plain();
        Ok(())
    }

    /// Gives the directed link `from → to` its own configuration and stream.
    pub fn set_link(&mut self, from: NodeId, to: NodeId, cfg: LinkConfig) -> Result<()> {
        self.check_node("link from", from)?;
        self.check_node("link to", to)?;
        cfg.validate()?;
        let stream = rng::stream(self.seed, rng::domain::LINK, from as u64, to as u64);
        match self.overrides.get_mut(&(from, to)) {
            Some(e) => e.0 = cfg,
            None => {
                self.overrides.insert((from, to), (cfg, stream));
            }
        }
        self.update_plain();
        Ok(())
    }

    /// The configuration of `from → to`.
    pub fn link(&self, from: NodeId, to: NodeId) -> &LinkConfig {
        self.overrides
            .get(&(from, to))
            .map_or(&self.default, |(c, _)| c)
    }

    /// Splits the cluster into groups: messages between different groups are
    /// dropped in both directions. Nodes in no group form one more group.
    pub fn partition(&mut self, groups: &[Vec<NodeId>]) -> Result<()> {
        let mut group_of = vec![usize::MAX; self.n];
        for (g, members) in groups.iter().enumerate() {
            for &m in members {
                self.check_node("partition member", m)?;
                if group_of[m] != usize::MAX {
                    return Err(Error::invalid(
                        "partition member",
                        m,
                        "each node in at most one group",
                    ));
                }
                group_of[m] = g;
            }
        }
        for a in 0..self.n {
            for b in 0..self.n {
                if a != b && group_of[a] != group_of[b] {
                    self.blocked.insert((a, b));
                }
            }
        }
        self.update_plain();
        Ok(())
    }

    /// Drops every message from any node in `from` to any node in `to`, but
    /// not the other way (a one-way partition: `to` can still reach `from`).
    pub fn partition_oneway(&mut self, from: &[NodeId], to: &[NodeId]) -> Result<()> {
        for &a in from {
            self.check_node("one-way partition from", a)?;
        }
        for &b in to {
            self.check_node("one-way partition to", b)?;
        }
        for &a in from {
            for &b in to {
                if a != b {
                    self.blocked.insert((a, b));
                }
            }
        }
        self.update_plain();
        Ok(())
    }

    /// Removes every partition.
    pub fn heal(&mut self) {
        self.blocked.clear();
        self.update_plain();
    }

    /// True if messages from `from` to `to` are currently dropped by a partition.
    #[inline]
    pub fn is_blocked(&self, from: NodeId, to: NodeId) -> bool {
        !self.blocked.is_empty() && self.blocked.contains(&(from, to))
    }

    /// Decides the fate of one message sent at `now` (partition, loss,
    /// latency, duplicate). External senders (`from >= n`) use the
    /// receiver's stream.
    #[inline]
    pub(crate) fn decide(&mut self, from: NodeId, to: NodeId, now: SimTime) -> Verdict {
        if self.plain {
            let s = if from < self.n { from } else { to };
            let d = self.default.latency.sample(&mut self.out_streams[s]);
            return Verdict::Deliver(d, None);
        }
        if self.is_blocked(from, to) {
            return Verdict::Dropped(DropReason::Partition);
        }
        let (cfg, rng) = if self.overrides.is_empty() {
            let s = if from < self.n { from } else { to };
            (&self.default, &mut self.out_streams[s])
        } else {
            match self.overrides.get_mut(&(from, to)) {
                Some((c, r)) => (&*c, r),
                None => {
                    let s = if from < self.n { from } else { to };
                    (&self.default, &mut self.out_streams[s])
                }
            }
        };
        if cfg.loss > 0.0 && rng::chance(rng, cfg.loss) {
            return Verdict::Dropped(DropReason::Loss);
        }
        let mut d1 = cfg.latency.sample(rng);
        let d2 = if cfg.duplicate > 0.0 && rng::chance(rng, cfg.duplicate) {
            Some(cfg.latency.sample(rng))
        } else {
            None
        };
        if cfg.fifo {
            let last = self.fifo_last.entry((from, to)).or_insert(SimTime::ZERO);
            let at = (now + d1).max(*last);
            *last = at;
            d1 = at.since(now);
        }
        Verdict::Deliver(d1, d2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `decide` takes its shortcut for plain networks only while nothing
    /// else applies: every change of partitions or links is seen.
    #[test]
    fn decide_sees_every_change_of_configuration() -> Result<()> {
        let now = SimTime::ZERO;
        let one_ms = SimDuration(1_000_000);
        let plain = Verdict::Deliver(one_ms, None);
        let cut = Verdict::Dropped(DropReason::Partition);
        let mut net = Network::new(3, LinkConfig::default(), 1);
        assert_eq!(net.decide(0, 1, now), plain);
        net.partition(&[vec![0], vec![1, 2]])?;
        assert_eq!(net.decide(0, 1, now), cut);
        net.heal();
        assert_eq!(net.decide(0, 1, now), plain);
        net.partition_oneway(&[0], &[1])?;
        assert_eq!((net.decide(0, 1, now), net.decide(1, 0, now)), (cut, plain));
        net.heal();
        net.set_link(0, 1, LinkConfig::new(Latency::constant(SimDuration(5))))?;
        assert_eq!(
            net.decide(0, 1, now),
            Verdict::Deliver(SimDuration(5), None)
        );
        assert_eq!(net.decide(1, 0, now), plain);

        let mut net = Network::new(3, LinkConfig::default(), 1);
        net.set_default(LinkConfig::default().loss(1.0))?;
        assert_eq!(net.decide(0, 1, now), Verdict::Dropped(DropReason::Loss));
        net.set_default(LinkConfig::default().duplicate(1.0))?;
        assert_eq!(
            net.decide(0, 1, now),
            Verdict::Deliver(one_ms, Some(one_ms))
        );
        let spread = Latency::uniform(SimDuration(1), one_ms)?;
        net.set_default(LinkConfig::new(spread).fifo(true))?;
        let mut last = SimDuration::ZERO;
        for _ in 0..50 {
            let Verdict::Deliver(d, None) = net.decide(0, 1, now) else {
                panic!("a reliable link delivers once");
            };
            assert!(d >= last, "FIFO link reordered");
            last = d;
        }
        net.set_default(LinkConfig::default())?;
        assert_eq!(net.decide(0, 1, now), plain);
        Ok(())
    }
}
