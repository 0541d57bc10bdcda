//! Chapter 8, availability under a partition: a design that stays
//! consistent refuses writes on the minority side; one that stays
//! available accepts them on both sides and diverges, and must reconcile
//! when the partition heals: by last-writer-wins (which keeps one write per
//! key and drops the rest), or by keeping concurrent writes as siblings
//! with version vectors.
//!
//! Three nodes; a partition cuts node 0 off from nodes 1 and 2. Clients
//! on each side read a key and write it back with a new value (passing
//! the version they read, which version vectors use), through a node of
//! their side. The consistent design is a quorum with R = W = 2 (ABD
//! writes): node 0 alone cannot gather two replies. The available designs
//! answer with R = W = 1 and reconcile by anti-entropy.

use super::common::node_links;
use crate::error::{Error, Result};
use crate::measure::{mean_ci, MeanCi};
use crate::plot::{bar_chart, BarSeries, Figure, Opts, Table};
use crate::replication::{QMsg, Quorum, QuorumNode, Stored, Version, Versioning};
use crate::sim::rng::SimRng;
use crate::sim::time::{ms, secs, SimDuration};
use crate::sim::{Clock, FaultPlan, Invoke, Latency, Op, OpStatus, Sim, SimTime};
use rand::Rng;
use serde::Serialize;
use std::collections::BTreeMap;

/// A replicated store under a partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum PartitionDesign {
    /// R = W = 2 of 3, ABD writes: refuses what it cannot make safe.
    Consistent,
    /// R = W = 1, last-writer-wins, anti-entropy.
    AvailableLww,
    /// R = W = 1, version vectors (siblings), anti-entropy.
    AvailableSiblings,
}

impl PartitionDesign {
    /// The three designs.
    pub const ALL: [PartitionDesign; 3] = [
        PartitionDesign::Consistent,
        PartitionDesign::AvailableLww,
        PartitionDesign::AvailableSiblings,
    ];
    /// A short name.
    pub fn name(self) -> &'static str {
        match self {
            PartitionDesign::Consistent => "consistent (R = W = 2)",
            PartitionDesign::AvailableLww => "available, last-writer-wins",
            PartitionDesign::AvailableSiblings => "available, siblings",
        }
    }
    fn quorum(self, anti_entropy: SimDuration) -> Quorum {
        match self {
            PartitionDesign::Consistent => Quorum {
                versions: Versioning::ReadFirst,
                timeout: ms(100),
                ..Quorum::default()
            },
            PartitionDesign::AvailableLww | PartitionDesign::AvailableSiblings => Quorum {
                r: 1,
                w: 1,
                versions: if self == PartitionDesign::AvailableLww {
                    Versioning::Lww
                } else {
                    Versioning::Siblings
                },
                anti_entropy: Some(anti_entropy),
                timeout: ms(100),
                ..Quorum::default()
            },
        }
    }
}

/// Parameters of the partition experiment.
#[derive(Debug, Clone, Serialize)]
pub struct PartitionParams {
    /// First seed.
    pub seed: u64,
    /// Seeds per design.
    pub seeds: u64,
    /// Node 0 is cut off from nodes 1 and 2 over this window.
    pub partition: (SimDuration, SimDuration),
    /// How long a run lasts (time after the partition lets the designs
    /// reconcile).
    pub horizon: SimDuration,
    /// Keys.
    pub keys: u64,
    /// Clients on each side.
    pub clients_per_side: usize,
    /// Mean of an exponential message delay between nodes.
    pub link_mean: SimDuration,
    /// Anti-entropy period of the available designs.
    pub anti_entropy: SimDuration,
}

impl Default for PartitionParams {
    /// 10 seeds, node 0 cut off from 1 s to 2 s of a 3 s run, 5 keys, 2
    /// clients per side, 2 ms messages, anti-entropy every 50 ms.
    fn default() -> Self {
        PartitionParams {
            seed: 1,
            seeds: 10,
            partition: (secs(1), secs(2)),
            horizon: secs(3),
            keys: 5,
            clients_per_side: 2,
            link_mean: ms(2),
            anti_entropy: ms(50),
        }
    }
}

/// One design's results (means over seeds, 95 % intervals).
#[derive(Debug, Clone, Serialize)]
pub struct DesignRun {
    /// The design.
    pub design: PartitionDesign,
    /// Fraction of writes acknowledged during the partition, on node 0's
    /// side (the minority).
    pub minority: MeanCi,
    /// The same on the majority side.
    pub majority: MeanCi,
    /// Keys whose replicas disagreed when the partition healed.
    pub diverged: MeanCi,
    /// Keys holding more than one value (siblings) at the end.
    pub siblings: MeanCi,
    /// Acknowledged writes lost at the end (see [`lost_writes`]).
    pub lost: MeanCi,
}

impl PartitionParams {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        crate::measure::stats::check_replications(self.seeds)?;
        if self.seeds < 2 {
            return Err(Error::invalid(
                "seeds",
                self.seeds,
                "at least 2 (for intervals)",
            ));
        }
        let (a, b) = self.partition;
        if a >= b || b >= self.horizon || self.horizon > secs(60) {
            return Err(Error::invalid(
                "partition",
                format!("{a} to {b}"),
                "start < end < horizon <= 60 s",
            ));
        }
        if !(1..=1_000).contains(&self.keys) {
            return Err(Error::invalid("keys", self.keys, "1 to 1,000 keys"));
        }
        crate::error::check_count("clients_per_side", self.clients_per_side, 1, 50, "clients")?;
        if self.link_mean < crate::sim::time::us(1) || self.link_mean > secs(1) {
            return Err(Error::invalid("link_mean", self.link_mean, "1 µs to 1 s"));
        }
        if self.anti_entropy < ms(1) {
            return Err(Error::invalid(
                "anti_entropy",
                self.anti_entropy,
                "at least 1 ms",
            ));
        }
        let per_run = self.clients_per_side as f64 * 2.0 * self.horizon.as_ms() * 3.0
            + self.horizon.as_ms() / self.anti_entropy.as_ms() * 3.0 * self.keys as f64;
        crate::error::check_work(
            "seeds × clients × horizon",
            3.0 * self.seeds as f64 * per_run,
        )
    }

    /// Runs every design on every seed.
    pub fn run(&self) -> Result<Vec<DesignRun>> {
        self.validate()?;
        PartitionDesign::ALL
            .iter()
            .map(|&d| {
                let mut cols: [Vec<f64>; 5] = Default::default();
                for s in 0..self.seeds {
                    let r = self.one(d, self.seed.wrapping_add(s), SimDuration::ZERO)?;
                    for (c, v) in cols.iter_mut().zip(r) {
                        c.push(v);
                    }
                }
                Ok(DesignRun {
                    design: d,
                    minority: mean_ci(&cols[0])?,
                    majority: mean_ci(&cols[1])?,
                    diverged: mean_ci(&cols[2])?,
                    siblings: mean_ci(&cols[3])?,
                    lost: mean_ci(&cols[4])?,
                })
            })
            .collect()
    }

    /// One run, node 0's clock `skew` behind the true time: [minority
    /// acked, majority acked, diverged keys, sibling keys, lost writes,
    /// writes acknowledged in the run].
    pub(super) fn one(
        &self,
        design: PartitionDesign,
        seed: u64,
        skew: SimDuration,
    ) -> Result<[f64; 6]> {
        let q = design.quorum(self.anti_entropy);
        let (a, b) = self.partition;
        let plan = FaultPlan::new().partition(a, b, vec![vec![0], vec![1, 2]]);
        let mut sim = Sim::builder()
            .seed(seed)
            .trace(0)
            .clock(0, Clock::behind(skew))
            .faults(plan)
            .build(q.nodes()?)?;
        node_links(&mut sim, &Latency::exponential(self.link_mean)?, 0.0)?;
        let keys = self.keys;
        let k = self.clients_per_side;
        let mut read: Vec<Option<(u64, Option<Version>)>> = vec![None; 2 * k];
        let mut written = vec![0i64; 2 * k];
        // Clients 0..k on node 0's side, k..2k on the other (nodes 1, 2).
        sim.set_workload(
            2 * k,
            move |c: usize, _: SimTime, rng: &mut SimRng, last: Option<&Op<QMsg>>| {
                let node = if c < k { 0 } else { 1 + c % 2 };
                let think = ms(rng.random_range(5..15));
                if let (
                    Some(Op {
                        request: QMsg::Get { key },
                        reply: Some(QMsg::Got { version, .. }),
                        ..
                    }),
                    None,
                ) = (last, read[c].as_ref())
                {
                    read[c] = Some((*key, version.clone()));
                }
                if let Some((key, version)) = read[c].take() {
                    written[c] += 1;
                    let context = match version {
                        Some(Version::Vector(vv)) => Some(vv),
                        _ => None,
                    };
                    let value = (c as i64 + 1) * 1_000_000 + written[c];
                    let put = QMsg::Put {
                        key,
                        value,
                        context,
                    };
                    return Some(Invoke::new(node, put).after(think).timeout(ms(300)));
                }
                let key = rng.random_range(0..keys);
                Some(
                    Invoke::new(node, QMsg::get(key))
                        .after(think)
                        .timeout(ms(300)),
                )
            },
        )?;
        sim.run_until_time(SimTime::from_start(b))?;
        let diverged = diverged_keys(&sim)?;
        sim.run_until_time(SimTime::from_start(self.horizon))?;
        let (mut acked, mut tried) = ([0u64; 2], [0u64; 2]);
        for o in sim.history().ops() {
            if !matches!(o.request, QMsg::Put { .. })
                || o.invoked < SimTime::from_start(a)
                || o.invoked >= SimTime::from_start(b)
            {
                continue;
            }
            let side = usize::from(o.client >= k);
            tried[side] += 1;
            if o.status == OpStatus::Ok && matches!(o.reply, Some(QMsg::PutOk { .. })) {
                acked[side] += 1;
            }
        }
        let acked_all = sim
            .history()
            .ops()
            .iter()
            .filter(|o| o.status == OpStatus::Ok && matches!(o.reply, Some(QMsg::PutOk { .. })))
            .count();
        let merged = merged_store(&sim)?;
        let siblings = merged.values().filter(|s| s.versions().len() > 1).count();
        let lost = lost_writes(sim.history(), &merged).len();
        Ok([
            acked[0] as f64 / tried[0].max(1) as f64,
            acked[1] as f64 / tried[1].max(1) as f64,
            diverged as f64,
            siblings as f64,
            lost as f64,
            acked_all as f64,
        ])
    }
}

/// Every replica's store merged, key by key.
fn merged_store(sim: &Sim<QuorumNode>) -> Result<BTreeMap<u64, Stored>> {
    let mut merged: BTreeMap<u64, Stored> = BTreeMap::new();
    for i in 0..sim.len() {
        for (k, s) in sim.disk(i)?.working().store.iter() {
            merged.entry(*k).or_default().merge_all(s);
        }
    }
    Ok(merged)
}

/// Keys on which some replica does not hold what the others together hold.
fn diverged_keys(sim: &Sim<QuorumNode>) -> Result<usize> {
    let merged = merged_store(sim)?;
    let mut n = 0;
    for (k, all) in &merged {
        let mut differs = false;
        for i in 0..sim.len() {
            let mine = sim
                .disk(i)?
                .working()
                .store
                .get(k)
                .cloned()
                .unwrap_or_default();
            differs |= !mine.covers(all);
        }
        n += usize::from(differs);
    }
    Ok(n)
}

/// The acknowledged writes that are gone although nothing that came after
/// them replaced them. A stamped write (last-writer-wins) is lost if a
/// write that completed before it began has a larger stamp: it can never
/// be read again, though it came later. A write with a version vector is
/// lost if the final store holds neither it nor a version that descends
/// from it (none here: concurrent writes stay as siblings).
pub fn lost_writes(h: &crate::sim::History<QMsg>, merged: &BTreeMap<u64, Stored>) -> Vec<usize> {
    let mut by_key: BTreeMap<u64, Vec<(SimTime, SimTime, Version, usize)>> = BTreeMap::new();
    for o in h.ops() {
        if let (QMsg::Put { key, .. }, Some(QMsg::PutOk { version }), Some(done)) =
            (&o.request, &o.reply, o.completed)
        {
            by_key
                .entry(*key)
                .or_default()
                .push((o.invoked, done, version.clone(), o.id));
        }
    }
    let mut lost = Vec::new();
    for (key, writes) in &by_key {
        for (invoked, _, v, id) in writes {
            let gone = match v {
                Version::Stamp(s) => writes.iter().any(|(_, done2, v2, _)| {
                    done2 < invoked && matches!(v2, Version::Stamp(s2) if s2 > s)
                }),
                Version::Vector(vv) => !merged.get(key).is_some_and(|st| {
                    st.versions()
                        .iter()
                        .any(|x| matches!(&x.version, Version::Vector(f) if f.descends(vv)))
                }),
            };
            if gone {
                lost.push(*id);
            }
        }
    }
    lost.sort_unstable();
    lost
}

/// Writes acknowledged during the partition, per side and design.
pub fn availability_chart(runs: &[DesignRun]) -> Result<Figure> {
    let cats: Vec<String> = runs.iter().map(|r| r.design.name().to_string()).collect();
    let minority = BarSeries::new(
        "node 0's side (minority)",
        runs.iter().map(|r| 100.0 * r.minority.mean).collect(),
    );
    let majority = BarSeries::new(
        "the other side (majority)",
        runs.iter().map(|r| 100.0 * r.majority.mean).collect(),
    );
    bar_chart(
        &cats,
        &[minority, majority],
        Opts::new("Writes acknowledged during the partition").y_label("writes acknowledged (%)"),
    )
}

/// Per design: writes acknowledged on each side during the partition,
/// keys diverged at the heal, keys with siblings and writes lost at the
/// end (means over seeds, 95 %).
pub fn partition_table(runs: &[DesignRun]) -> Table {
    let f = |m: &MeanCi, pct: bool| {
        if pct {
            format!("{:.0} % ± {:.0}", 100.0 * m.mean, 100.0 * m.half_width)
        } else {
            format!("{:.1} ± {:.1}", m.mean, m.half_width)
        }
    };
    let mut t = Table::new(&[
        "design",
        "acked, minority side",
        "acked, majority side",
        "keys diverged at the heal",
        "keys with siblings at the end",
        "acked writes lost",
    ]);
    for r in runs {
        t.push_row(vec![
            r.design.name().into(),
            f(&r.minority, true),
            f(&r.majority, true),
            f(&r.diverged, false),
            f(&r.siblings, false),
            f(&r.lost, false),
        ]);
    }
    t
}
