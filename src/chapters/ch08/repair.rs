//! Chapter 8, what read repair and hinted handoff change: a replica misses
//! the writes of its outage; who brings it back up to date?
//!
//! Five nodes, N = 3, W = 2, R = 1 (so reads can be stale). Writers update
//! 30 keys until `writes_until`; replica 2 is down over `outage`, which
//! ends at the same time. After that, readers keep reading random keys
//! through random coordinators. Node 2 is *stale* on a key if it holds an
//! older version than the newest any replica holds. Without help it stays
//! stale on every key written while it was down (nothing writes those keys
//! again); read repair fixes a key once a read has heard from all three
//! replicas; hinted handoff hands every missed write over within a retry
//! period of the recovery (the fallbacks kept them as hints).

use crate::error::{Error, Result};
use crate::measure::{mean_ci, MeanCi};
use crate::plot::{time_series, Figure, Opts, Series, Table, Window};
use crate::replication::{QMsg, Quorum, QuorumNode, ReadRepair, Stored};
use crate::sim::rng::SimRng;
use crate::sim::time::{ms, secs, SimDuration};
use crate::sim::{FaultPlan, Invoke, Latency, Op, Sim, SimTime};
use rand::Rng;
use serde::Serialize;
use std::collections::BTreeMap;

/// One way to repair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Repair {
    /// Read repair after answering.
    pub read_repair: bool,
    /// Hinted handoff.
    pub handoff: bool,
}

impl Repair {
    /// The four combinations.
    pub const ALL: [Repair; 4] = [
        Repair {
            read_repair: false,
            handoff: false,
        },
        Repair {
            read_repair: true,
            handoff: false,
        },
        Repair {
            read_repair: false,
            handoff: true,
        },
        Repair {
            read_repair: true,
            handoff: true,
        },
    ];
    /// A short name.
    pub fn name(&self) -> &'static str {
        match (self.read_repair, self.handoff) {
            (false, false) => "neither",
            (true, false) => "read repair",
            (false, true) => "hinted handoff",
            (true, true) => "both",
        }
    }
}

/// Parameters of the repair experiment.
#[derive(Debug, Clone, Serialize)]
pub struct RepairParams {
    /// First seed.
    pub seed: u64,
    /// Seeds per variant.
    pub seeds: u64,
    /// Keys.
    pub keys: u64,
    /// Node 2 is down over this window.
    pub outage: (SimDuration, SimDuration),
    /// Writes stop at this time.
    pub writes_until: SimDuration,
    /// How long a run lasts.
    pub horizon: SimDuration,
    /// Mean of an exponential message delay between nodes.
    pub link_mean: SimDuration,
    /// Reads per second, all readers together.
    pub read_rate: f64,
    /// How often node 2's staleness is sampled.
    pub sample: SimDuration,
}

impl Default for RepairParams {
    /// 10 seeds, 30 keys, node 2 down from 0.5 s to 1 s, writes until
    /// 1 s, 3 s runs, 2 ms messages, 100 reads per second, sampled every
    /// 10 ms.
    fn default() -> Self {
        RepairParams {
            seed: 1,
            seeds: 10,
            keys: 30,
            outage: (ms(500), secs(1)),
            writes_until: secs(1),
            horizon: secs(3),
            link_mean: ms(2),
            read_rate: 100.0,
            sample: ms(10),
        }
    }
}

/// One variant's results.
#[derive(Debug, Clone, Serialize)]
pub struct RepairRun {
    /// The variant.
    pub repair: Repair,
    /// Sample times (ms).
    pub times_ms: Vec<f64>,
    /// Keys on which node 2 is stale at each sample (first seed).
    pub stale_keys: Vec<f64>,
    /// Fraction of reads after the outage that returned an old value.
    pub stale_reads: MeanCi,
    /// Time from the recovery until node 2 is stale on no key (ms; the
    /// rest of the run if never).
    pub catch_up_ms: MeanCi,
}

const NODES: usize = 5;
const STALE_NODE: usize = 2;

impl RepairParams {
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
        if !(1..=10_000).contains(&self.keys) {
            return Err(Error::invalid("keys", self.keys, "1 to 10,000 keys"));
        }
        if self.horizon > secs(60) {
            return Err(Error::invalid("horizon", self.horizon, "at most 60 s"));
        }
        let (a, b) = self.outage;
        if a >= b || b >= self.horizon || self.writes_until > self.horizon {
            return Err(Error::invalid(
                "outage",
                format!("{a} to {b}"),
                "start < end < horizon, and writes ending within the run",
            ));
        }
        if self.link_mean < crate::sim::time::us(1) || self.link_mean > secs(1) {
            return Err(Error::invalid("link_mean", self.link_mean, "1 µs to 1 s"));
        }
        crate::error::check_positive("read_rate", self.read_rate)?;
        if self.read_rate > 100_000.0 {
            return Err(Error::invalid(
                "read_rate",
                self.read_rate,
                "at most 100,000 per second",
            ));
        }
        if self.sample < ms(1) || self.horizon.0 / self.sample.0 > 10_000 {
            return Err(Error::invalid(
                "sample",
                self.sample,
                "at least 1 ms, 10,000 samples at most",
            ));
        }
        let per_run = (self.read_rate * self.horizon.as_secs_f64()
            + 300.0 * self.writes_until.as_secs_f64())
            * 20.0
            + self.keys as f64 * (self.horizon.0 / self.sample.0) as f64 / 10.0;
        crate::error::check_work(
            "seeds × read_rate × horizon",
            4.0 * self.seeds as f64 * per_run,
        )
    }

    /// Runs the four variants.
    pub fn run(&self) -> Result<Vec<RepairRun>> {
        self.validate()?;
        Repair::ALL.iter().map(|&r| self.variant(r)).collect()
    }

    fn variant(&self, repair: Repair) -> Result<RepairRun> {
        let (mut stale_reads, mut catch_up) = (Vec::new(), Vec::new());
        let mut first = None;
        for s in 0..self.seeds {
            let (times, stale, reads, caught) = self.one(repair, self.seed.wrapping_add(s))?;
            stale_reads.push(reads);
            catch_up.push(caught);
            if first.is_none() {
                first = Some((times, stale));
            }
        }
        let (times_ms, stale_keys) = first.ok_or_else(|| Error::empty("runs"))?;
        Ok(RepairRun {
            repair,
            times_ms,
            stale_keys,
            stale_reads: mean_ci(&stale_reads)?,
            catch_up_ms: mean_ci(&catch_up)?,
        })
    }

    #[allow(clippy::type_complexity)]
    fn one(&self, repair: Repair, seed: u64) -> Result<(Vec<f64>, Vec<f64>, f64, f64)> {
        let q = Quorum {
            nodes: NODES,
            n: 3,
            r: 1,
            w: 2,
            repair: if repair.read_repair {
                ReadRepair::Background
            } else {
                ReadRepair::Off
            },
            hinted_handoff: repair.handoff,
            ..Quorum::default()
        };
        let (down, up) = self.outage;
        let mut sim = Sim::builder()
            .seed(seed)
            .trace(0)
            .faults(FaultPlan::new().outage(down, up, STALE_NODE))
            .build(q.nodes()?)?;
        super::common::node_links(&mut sim, &Latency::exponential(self.link_mean)?, 0.0)?;
        let keys = self.keys;
        let writes_until = SimTime::from_start(self.writes_until);
        let end = SimTime::from_start(self.horizon);
        let read_gap = 1e9 * 4.0 / self.read_rate; // four readers
        let mut written = [0i64; 4];
        // Clients 0–3 write (until `writes_until`), 4–7 read.
        sim.set_workload(
            8,
            move |c: usize, now: SimTime, rng: &mut SimRng, _: Option<&Op<QMsg>>| {
                let node = rng.random_range(0..NODES);
                if c < 4 {
                    let think = ms(rng.random_range(2..8));
                    if now + think >= writes_until {
                        return None;
                    }
                    written[c] += 1;
                    let key = rng.random_range(0..keys);
                    let value = (c as i64 + 1) * 1_000_000 + written[c];
                    return Some(
                        Invoke::new(node, QMsg::put(key, value))
                            .after(think)
                            .timeout(ms(300)),
                    );
                }
                let think = SimDuration((read_gap * (0.5 + rng.random::<f64>())) as u64);
                (now + think < end).then(|| {
                    Invoke::new(node, QMsg::get(rng.random_range(0..keys)))
                        .after(think)
                        .timeout(ms(300))
                })
            },
        )?;
        let mut times = Vec::new();
        let mut stale = Vec::new();
        let mut caught: Option<f64> = None;
        let mut t = SimTime::ZERO;
        while t <= end {
            sim.run_until_time(t)?;
            let n = stale_keys(&sim, &q);
            times.push(t.as_ms());
            stale.push(n as f64);
            if t >= SimTime::from_start(up) && n == 0 && caught.is_none() {
                caught = Some(t.since(SimTime::from_start(up)).as_ms());
            }
            t += self.sample;
        }
        let caught = caught.unwrap_or(end.since(SimTime::from_start(up)).as_ms());
        // Reads after the recovery that returned something else than the
        // key's newest version at the end (no write happens after it).
        let mut merged: BTreeMap<u64, Stored> = BTreeMap::new();
        for i in 0..NODES {
            for (k, s) in sim.disk(i)?.working().store.iter() {
                merged.entry(*k).or_default().merge_all(s);
            }
        }
        let last: BTreeMap<u64, i64> = merged
            .iter()
            .filter_map(|(k, s)| s.newest().map(|v| (*k, v.value)))
            .collect();
        let after = SimTime::from_start(up.max(self.writes_until) + ms(300));
        let (mut reads, mut old) = (0u64, 0u64);
        for o in sim.history().ops() {
            if let (QMsg::Get { key }, Some(QMsg::Got { value, .. })) = (&o.request, &o.reply) {
                if o.invoked >= after {
                    reads += 1;
                    if last.get(key).is_some_and(|v| v != value) {
                        old += 1;
                    }
                }
            }
        }
        Ok((times, stale, old as f64 / reads.max(1) as f64, caught))
    }
}

/// Keys on which node 2 holds less than the newest version any replica
/// holds.
fn stale_keys(sim: &Sim<QuorumNode>, q: &Quorum) -> usize {
    let store = |i: usize| {
        sim.disk(i)
            .map(|d| d.working().store.clone())
            .unwrap_or_default()
    };
    let mine = store(STALE_NODE);
    let all: Vec<_> = (0..NODES).map(store).collect();
    let mut n = 0;
    let keys: std::collections::BTreeSet<u64> =
        all.iter().flat_map(|s| s.keys().copied()).collect();
    for k in keys {
        if !q.replicas(k).contains(&STALE_NODE) {
            continue;
        }
        let mut best = Stored::default();
        for (i, s) in all.iter().enumerate() {
            if let (true, Some(v)) = (q.replicas(k).contains(&i), s.get(&k)) {
                best.merge_all(v);
            }
        }
        let held = mine.get(&k).cloned().unwrap_or_default();
        if !held.covers(&best) {
            n += 1;
        }
    }
    n
}

/// Keys on which node 2 is stale over time (first seed), per variant, the
/// outage shaded.
pub fn repair_chart(runs: &[RepairRun], outage: (SimDuration, SimDuration)) -> Result<Figure> {
    let series: Vec<Series> = runs
        .iter()
        .map(|r| {
            Series::new(
                r.repair.name(),
                r.times_ms
                    .iter()
                    .copied()
                    .zip(r.stale_keys.iter().copied())
                    .collect(),
            )
        })
        .collect();
    time_series(
        &series,
        &[Window::new(
            outage.0.as_ms(),
            outage.1.as_ms(),
            "node 2 down",
        )],
        Opts::new("Who brings a recovered replica up to date?")
            .x_label("time (ms)")
            .y_label("keys on which node 2 is stale"),
    )
}

/// Per variant: stale reads after the outage and time to catch up (mean
/// over seeds, 95 %).
pub fn repair_table(runs: &[RepairRun]) -> Table {
    let mut t = Table::new(&[
        "repair",
        "stale reads after the outage",
        "node 2 up to date after (ms)",
    ]);
    for r in runs {
        t.push_row(vec![
            r.repair.name().into(),
            format!(
                "{:.1} % ± {:.1}",
                100.0 * r.stale_reads.mean,
                100.0 * r.stale_reads.half_width
            ),
            format!(
                "{:.0} ± {:.0}",
                r.catch_up_ms.mean, r.catch_up_ms.half_width
            ),
        ]);
    }
    t.caption("Reads from 300 ms after the recovery on; node 2 is up to date when it is stale on no key (the rest of the run if never).")
}
