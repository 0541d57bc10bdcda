//! The network: loss, duplication, reordering, partitions and held links,
//! per link; latencies come from [`Latency`].
//!
//! A message sent from `a` to `b` is, in this order: dropped if a partition
//! separates them; dropped with the link's loss probability (and with the
//! extra probability of any lossy window in force); otherwise delivered after
//! a latency drawn from the link's [`Latency`]; and, with the link's
//! duplication probability, delivered a second time after an independently
//! drawn latency. Messages on a link are **reordered** whenever their
//! latencies cross, which any non-constant distribution does; set
//! [`LinkConfig::fifo`] to keep a link in order (as TCP would; a duplicate
//! then arrives after its original and before any later message). A partition
//! is checked again when a message arrives, so one that starts while a
//! message is in flight drops it; a *held* link keeps what arrives until it
//! is released (see [`crate::sim::Sim::hold`]).
//!
//! Partitions have ids and heal independently: two overlapping partitions
//! each end at their own time, and a link is cut while any partition cuts
//! it.
//!
//! Traffic from outside the cluster (injected messages, client requests and
//! replies) crosses the default link's latency, loss and duplication;
//! partitions separate nodes from nodes, not from the outside world.
//!
//! Randomness: the draws for messages sent by node `a` come from `a`'s own
//! outgoing-network stream; those for traffic from outside to node `b` from
//! `b`'s incoming stream; a link given its own configuration with
//! [`Network::set_link`] gets its own stream. Keeping one stream per sender
//! (not per link) keeps memory linear in the number of nodes (10,000 nodes
//! would have 10^8 links) while still leaving other nodes' draws untouched
//! when a node is added.

pub use super::latency::Latency;
use super::rng::{self, SimRng};
use super::time::{SimDuration, SimTime};
use crate::error::{check_probability, Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Index of a node in a simulation: `0..n`.
pub type NodeId = usize;

/// Sender id of messages from outside the simulated cluster (injected
/// messages, client requests) and receiver id of replies to clients.
pub const EXTERNAL: NodeId = usize::MAX;

/// Most partitions in force at once: every message between nodes is checked
/// against each of them.
pub const MAX_PARTITIONS: usize = 1_000;

/// Most memory the partitions in force may keep together (64 MiB): a
/// partition into groups keeps 4 bytes per node, a one-way partition 1, so
/// a cluster of 100,000 nodes holds at most 167 partitions at once.
pub const MAX_PARTITION_BYTES: usize = 64 << 20;

/// Errs if `count` partitions in force keeping `bytes` together (in a
/// cluster of `n` nodes) pass [`MAX_PARTITIONS`] or [`MAX_PARTITION_BYTES`].
pub(crate) fn check_partition_room(count: usize, bytes: usize, n: usize) -> Result<()> {
    if count > MAX_PARTITIONS {
        return Err(Error::too_big(
            "partitions in force",
            count,
            "partitions at once (each message is checked against every one; heal some first)",
            MAX_PARTITIONS,
        ));
    }
    if bytes > MAX_PARTITION_BYTES {
        return Err(Error::too_big(
            "partition memory (bytes)",
            bytes,
            &format!(
                "bytes of partitions at once (each keeps 1 to 4 bytes per node of the \
                 {n}-node cluster; heal some first, or use fewer nodes)"
            ),
            MAX_PARTITION_BYTES,
        ));
    }
    Ok(())
}

/// Names one partition, to heal it alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct PartitionId(pub u64);

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

/// What one partition cuts.
#[derive(Debug, Clone)]
enum Cut {
    /// Each node's group (`u32::MAX`: in no group, which is one more
    /// group); links between groups are cut both ways.
    Groups(Vec<u32>),
    /// Per node: bit 1 if it is a sender cut off, bit 2 if a receiver cut
    /// off; links from the first to the second are cut.
    OneWay(Vec<u8>),
}

impl Cut {
    /// Bytes a cut of a cluster of `n` nodes keeps.
    fn bytes(groups: bool, n: usize) -> usize {
        if groups {
            4 * n
        } else {
            n
        }
    }

    fn cuts(&self, from: NodeId, to: NodeId) -> bool {
        match self {
            Cut::Groups(g) => g[from] != g[to],
            Cut::OneWay(side) => side[from] & 1 != 0 && side[to] & 2 != 0,
        }
    }
}

/// Network state: link configurations, partitions, held links, lossy
/// windows, and the random streams for message fates.
#[derive(Debug, Clone)]
pub struct Network {
    n: usize,
    default: LinkConfig,
    overrides: BTreeMap<(NodeId, NodeId), (LinkConfig, SimRng)>,
    /// The partitions in force, each as the groups it makes (memory linear
    /// in the nodes: 10,000 nodes would have 10^8 pairs).
    partitions: BTreeMap<PartitionId, Cut>,
    /// Bytes the partitions in force keep ([`MAX_PARTITION_BYTES`]).
    partition_bytes: usize,
    next_partition: u64,
    held: BTreeSet<(NodeId, NodeId)>,
    /// Extra loss probabilities in force, by the fault that set them.
    lossy: BTreeMap<usize, f64>,
    /// `1 - Π (1 - p)` over `lossy`.
    extra_loss: f64,
    /// Per FIFO link with a message in flight: when its last message
    /// arrives. Entries in the past constrain nothing and are pruned when
    /// the map doubles, so it stays as small as the messages in flight.
    fifo_last: BTreeMap<(NodeId, NodeId), SimTime>,
    fifo_prune_at: usize,
    out_streams: Vec<SimRng>,
    in_streams: Vec<SimRng>,
    seed: u64,
    /// True when no link is partitioned, held, lossy or has its own
    /// configuration and the default link neither loses, duplicates nor
    /// keeps order: then a message's fate is one latency draw, and `decide`
    /// skips every other check (the same draws either way).
    plain: bool,
    /// True when some link is partitioned or held: arriving messages must
    /// be checked.
    intercepting: bool,
}

impl Network {
    pub(crate) fn new(n: usize, default: LinkConfig, seed: u64) -> Self {
        let streams = |d| {
            (0..n)
                .map(|i| rng::stream(seed, d, i as u64, 0))
                .collect::<Vec<_>>()
        };
        let mut net = Network {
            n,
            default,
            overrides: BTreeMap::new(),
            partitions: BTreeMap::new(),
            partition_bytes: 0,
            next_partition: 0,
            held: BTreeSet::new(),
            lossy: BTreeMap::new(),
            extra_loss: 0.0,
            fifo_last: BTreeMap::new(),
            fifo_prune_at: 1024,
            out_streams: streams(rng::domain::NET_OUT),
            in_streams: streams(rng::domain::NET_IN),
            seed,
            plain: false,
            intercepting: false,
        };
        net.update_plain();
        net
    }

    fn update_plain(&mut self) {
        self.intercepting = !self.partitions.is_empty() || !self.held.is_empty();
        let d = &self.default;
        self.plain = self.partitions.is_empty()
            && self.held.is_empty()
            && self.lossy.is_empty()
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

    fn add_partition(&mut self, cut: Cut) -> PartitionId {
        let id = PartitionId(self.next_partition);
        self.next_partition += 1;
        self.partition_bytes += match &cut {
            Cut::Groups(g) => Cut::bytes(true, g.len()),
            Cut::OneWay(s) => Cut::bytes(false, s.len()),
        };
        self.partitions.insert(id, cut);
        self.update_plain();
        id
    }

    /// Errs if one more partition (of groups, or one-way) would pass
    /// [`MAX_PARTITIONS`] or [`MAX_PARTITION_BYTES`]; checked before the
    /// partition's memory is taken.
    fn check_room(&self, groups: bool) -> Result<()> {
        check_partition_room(
            self.partitions.len() + 1,
            self.partition_bytes + Cut::bytes(groups, self.n),
            self.n,
        )
    }

    /// Splits the cluster into groups: messages between different groups are
    /// dropped in both directions. Nodes in no group form one more group.
    /// Returns the partition's id, to heal it alone. Errors on an unknown
    /// node, a node in two groups, or a partition past [`MAX_PARTITIONS`] or
    /// [`MAX_PARTITION_BYTES`].
    pub fn partition(&mut self, groups: &[Vec<NodeId>]) -> Result<PartitionId> {
        self.check_room(true)?;
        let mut group_of = vec![u32::MAX; self.n];
        for (g, members) in groups.iter().enumerate() {
            for &m in members {
                self.check_node("partition member", m)?;
                if group_of[m] != u32::MAX {
                    return Err(Error::invalid(
                        "partition member",
                        m,
                        "each node in at most one group",
                    ));
                }
                group_of[m] = g as u32;
            }
        }
        Ok(self.add_partition(Cut::Groups(group_of)))
    }

    /// Drops every message from any node in `from` to any node in `to`, but
    /// not the other way (a one-way partition: `to` can still reach `from`).
    pub fn partition_oneway(&mut self, from: &[NodeId], to: &[NodeId]) -> Result<PartitionId> {
        self.check_room(false)?;
        let mut side = vec![0u8; self.n];
        for &a in from {
            self.check_node("one-way partition from", a)?;
            side[a] |= 1;
        }
        for &b in to {
            self.check_node("one-way partition to", b)?;
            side[b] |= 2;
        }
        Ok(self.add_partition(Cut::OneWay(side)))
    }

    /// Ends one partition; links other partitions cut stay cut. Errors if no
    /// partition with this id is in force.
    pub fn heal(&mut self, id: PartitionId) -> Result<()> {
        if let Some(cut) = self.partitions.remove(&id) {
            self.partition_bytes -= match &cut {
                Cut::Groups(g) => Cut::bytes(true, g.len()),
                Cut::OneWay(s) => Cut::bytes(false, s.len()),
            };
        } else {
            return Err(Error::invalid(
                "partition id",
                id.0,
                &format!(
                    "the id of a partition in force (in force: {:?})",
                    self.partitions.keys().map(|p| p.0).collect::<Vec<_>>()
                ),
            ));
        }
        self.update_plain();
        Ok(())
    }

    /// Ends every partition.
    pub fn heal_all(&mut self) {
        self.partitions.clear();
        self.partition_bytes = 0;
        self.update_plain();
    }

    /// The partitions in force.
    pub fn partitions(&self) -> Vec<PartitionId> {
        self.partitions.keys().copied().collect()
    }

    /// True if partition `id` is in force (not healed yet).
    pub fn in_force(&self, id: PartitionId) -> bool {
        self.partitions.contains_key(&id)
    }

    /// True if messages from `from` to `to` are currently dropped by a
    /// partition.
    #[inline]
    pub fn is_blocked(&self, from: NodeId, to: NodeId) -> bool {
        !self.partitions.is_empty()
            && from != to
            && from < self.n
            && to < self.n
            && self.partitions.values().any(|c| c.cuts(from, to))
    }

    /// Starts holding link `from → to`.
    pub(crate) fn hold(&mut self, from: NodeId, to: NodeId) -> Result<()> {
        self.check_node("held link from", from)?;
        self.check_node("held link to", to)?;
        self.held.insert((from, to));
        self.update_plain();
        Ok(())
    }

    /// Stops holding link `from → to`; true if it was held.
    pub(crate) fn release(&mut self, from: NodeId, to: NodeId) -> bool {
        let was = self.held.remove(&(from, to));
        self.update_plain();
        was
    }

    /// True if link `from → to` is held.
    #[inline]
    pub fn is_held(&self, from: NodeId, to: NodeId) -> bool {
        !self.held.is_empty() && self.held.contains(&(from, to))
    }

    /// True if arriving messages must be checked for partitions or holds.
    #[inline]
    pub(crate) fn intercepts(&self) -> bool {
        self.intercepting
    }

    /// Starts (or changes) the extra loss of lossy window `key`.
    pub(crate) fn set_lossy(&mut self, key: usize, p: f64) -> Result<()> {
        check_probability("lossy window p", p)?;
        self.lossy.insert(key, p);
        self.update_lossy();
        Ok(())
    }

    /// Ends lossy window `key`.
    pub(crate) fn end_lossy(&mut self, key: usize) {
        self.lossy.remove(&key);
        self.update_lossy();
    }

    fn update_lossy(&mut self) {
        self.extra_loss = 1.0 - self.lossy.values().map(|p| 1.0 - p).product::<f64>();
        self.update_plain();
    }

    /// Decides the fate of one message sent at `now` (partition, loss,
    /// latency, duplicate). `from` or `to` may be [`EXTERNAL`] (traffic from
    /// or to outside: default link, no partitions, the node's incoming or
    /// outgoing stream).
    #[inline(always)]
    pub(crate) fn decide(&mut self, from: NodeId, to: NodeId, now: SimTime) -> Verdict {
        if self.plain {
            let rng = if from < self.n {
                &mut self.out_streams[from]
            } else {
                &mut self.in_streams[to]
            };
            let d = self.default.latency.sample(rng);
            return Verdict::Deliver(d, None);
        }
        self.decide_in_full(from, to, now)
    }

    /// [`Network::decide`] for a network that is not plain: kept out of
    /// line so that the plain path stays small enough to inline.
    #[inline(never)]
    fn decide_in_full(&mut self, from: NodeId, to: NodeId, now: SimTime) -> Verdict {
        if self.is_blocked(from, to) {
            return Verdict::Dropped(DropReason::Partition);
        }
        let (cfg, rng) = match self.overrides.get_mut(&(from, to)) {
            Some((c, r)) => (&*c, r),
            None if from < self.n => (&self.default, &mut self.out_streams[from]),
            None => (&self.default, &mut self.in_streams[to]),
        };
        if cfg.loss > 0.0 && rng::chance(rng, cfg.loss) {
            return Verdict::Dropped(DropReason::Loss);
        }
        let external = from >= self.n || to >= self.n;
        if self.extra_loss > 0.0 && !external && rng::chance(rng, self.extra_loss) {
            return Verdict::Dropped(DropReason::Loss);
        }
        let mut d1 = cfg.latency.sample(rng);
        let mut d2 = if cfg.duplicate > 0.0 && rng::chance(rng, cfg.duplicate) {
            Some(cfg.latency.sample(rng))
        } else {
            None
        };
        if cfg.fifo {
            // The copy and then its duplicate take their places in the
            // link's order: neither overtakes an earlier message, and no
            // later message overtakes either.
            let last = self.fifo_last.entry((from, to)).or_insert(SimTime::ZERO);
            let at = (now + d1).max(*last);
            *last = at;
            d1 = at.since(now);
            if let Some(d) = d2.as_mut() {
                let again = (now + *d).max(*last);
                *last = again;
                *d = again.since(now);
            }
            if self.fifo_last.len() >= self.fifo_prune_at {
                self.fifo_last.retain(|_, t| *t > now);
                self.fifo_prune_at = (2 * self.fifo_last.len()).max(1024);
            }
        }
        Verdict::Deliver(d1, d2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `decide` takes its shortcut for plain networks only while nothing
    /// else applies: every change of partitions, holds, lossy windows or
    /// links is seen.
    #[test]
    fn decide_sees_every_change_of_configuration() -> Result<()> {
        let now = SimTime::ZERO;
        let one_ms = SimDuration(1_000_000);
        let plain = Verdict::Deliver(one_ms, None);
        let cut = Verdict::Dropped(DropReason::Partition);
        let lost = Verdict::Dropped(DropReason::Loss);
        let mut net = Network::new(3, LinkConfig::default(), 1);
        assert_eq!(net.decide(0, 1, now), plain);
        let p = net.partition(&[vec![0], vec![1, 2]])?;
        assert_eq!(net.decide(0, 1, now), cut);
        net.heal(p)?;
        assert_eq!(net.decide(0, 1, now), plain);
        assert!(net.heal(p).is_err(), "healing twice is a mistake");
        let p = net.partition_oneway(&[0], &[1])?;
        assert_eq!((net.decide(0, 1, now), net.decide(1, 0, now)), (cut, plain));
        net.heal(p)?;
        net.hold(0, 1)?;
        assert!(!net.plain && net.intercepts());
        net.release(0, 1);
        assert!(net.plain);
        net.set_lossy(7, 1.0)?;
        assert_eq!(net.decide(0, 1, now), lost);
        assert_eq!(
            net.decide(EXTERNAL, 1, now),
            plain,
            "outside traffic keeps its link"
        );
        net.end_lossy(7);
        assert_eq!(net.decide(0, 1, now), plain);
        net.set_link(0, 1, LinkConfig::new(Latency::constant(SimDuration(5))))?;
        assert_eq!(
            net.decide(0, 1, now),
            Verdict::Deliver(SimDuration(5), None)
        );
        assert_eq!(net.decide(1, 0, now), plain);

        let mut net = Network::new(3, LinkConfig::default(), 1);
        net.set_default(LinkConfig::default().loss(1.0))?;
        assert_eq!(net.decide(0, 1, now), lost);
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

    /// Overlapping partitions heal independently: a link cut by two stays
    /// cut until both end.
    #[test]
    fn overlapping_partitions_heal_independently() -> Result<()> {
        let now = SimTime::ZERO;
        let cut = Verdict::Dropped(DropReason::Partition);
        let mut net = Network::new(3, LinkConfig::default(), 1);
        let a = net.partition(&[vec![0], vec![1, 2]])?;
        let b = net.partition(&[vec![0, 2], vec![1]])?;
        net.heal(a)?;
        assert_eq!(net.decide(0, 1, now), cut, "b still cuts 0 → 1");
        assert!(matches!(net.decide(0, 2, now), Verdict::Deliver(..)));
        net.heal(b)?;
        assert!(matches!(net.decide(0, 1, now), Verdict::Deliver(..)));
        Ok(())
    }
}
