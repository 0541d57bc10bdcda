//! Chapter 8, the price of waiting for followers: a client's write latency
//! under asynchronous, semi-synchronous, majority and synchronous
//! replication, against the theory of the k-th of n round trips.
//!
//! One client writes, one write at a time, to the leader of a cluster of
//! one leader and f followers. Client messages take a constant `client_leg`
//! each way; a message between nodes an exponential time of mean m, so one
//! leader → follower → leader round trip has CDF
//! `F(t) = 1 − e^(−t/m)(1 + t/m)`. The leader acknowledges after k
//! followers answered: the k-th smallest of f round trips,
//! `P(T ≤ t) = Σ_{j≥k} C(f, j) F^j (1 − F)^(f−j)`
//! ([`crate::measure::theory::KOfN`]): `F^f` for synchronous (the slowest),
//! `1 − (1 − F)^f` for semi-synchronous (the fastest). Asynchronous
//! replication waits for nobody: two client legs.

use super::common::node_links;
use crate::error::{Error, Result};
use crate::measure::theory::KOfN;
use crate::measure::{mean_ci, MeanCi};
use crate::plot::{line_chart, Figure, Opts, Series, Table};
use crate::replication::{Ack, LeaderFollower, LfMsg};
use crate::sim::rng::SimRng;
use crate::sim::time::{ms, secs, us, SimDuration};
use crate::sim::{Invoke, Latency, LinkConfig, Op, OpStatus, Sim, SimTime};
use serde::Serialize;

/// Parameters of the write-latency experiment.
#[derive(Debug, Clone, Serialize)]
pub struct WriteLatencyParams {
    /// First seed.
    pub seed: u64,
    /// Followers (the cluster has one more node).
    pub followers: usize,
    /// Mean of an exponential message delay between nodes.
    pub link_mean: SimDuration,
    /// Constant delay of a client's message, each way.
    pub client_leg: SimDuration,
    /// Writes per seed (one after another).
    pub writes: u64,
    /// Seeds (independent replications).
    pub seeds: u64,
    /// The acknowledgement modes to run.
    pub modes: Vec<Ack>,
}

impl Default for WriteLatencyParams {
    /// Three followers, 5 ms per message, 1 ms client legs, 1,000 writes ×
    /// 10 seeds per mode; asynchronous, semi-synchronous, synchronous.
    fn default() -> Self {
        WriteLatencyParams {
            seed: 1,
            followers: 3,
            link_mean: ms(5),
            client_leg: ms(1),
            writes: 1_000,
            seeds: 10,
            modes: vec![Ack::Async, Ack::SemiSync, Ack::Sync],
        }
    }
}

/// The write latencies of one mode.
#[derive(Debug, Clone, Serialize)]
pub struct ModeLatency {
    /// The mode.
    pub mode: Ack,
    /// Every write's latency (ms), all seeds.
    pub samples_ms: Vec<f64>,
    /// Mean over seeds, with its 95 % interval.
    pub mean: MeanCi,
    /// Median and p99 of all samples (nearest rank).
    pub p50: f64,
    /// p99.
    pub p99: f64,
    /// The wait for followers, in theory (`None`: asynchronous).
    pub theory: Option<KOfN>,
    /// Two client legs (ms), added to the theory.
    pub legs_ms: f64,
}

impl ModeLatency {
    /// The theory's CDF at `t` ms.
    pub fn theory_cdf(&self, t: f64) -> f64 {
        match self.theory {
            Some(k) => k.cdf(t - self.legs_ms),
            None => f64::from(u8::from(t >= self.legs_ms)),
        }
    }
    /// The theory's mean (ms).
    pub fn theory_mean(&self) -> f64 {
        self.legs_ms + self.theory.map_or(0.0, |k| k.mean())
    }
    /// The theory's q-quantile (ms).
    pub fn theory_quantile(&self, q: f64) -> Result<f64> {
        Ok(self.legs_ms + self.theory.map_or(Ok(0.0), |k| k.quantile(q))?)
    }
    /// "asynchronous", "synchronous (3 of 3)", …
    pub fn label(&self) -> String {
        match self.theory {
            Some(k) => format!("{} ({} of {})", self.mode.name(), k.k, k.n),
            None => self.mode.name().to_string(),
        }
    }
}

/// Nearest-rank quantile of sorted samples.
pub(crate) fn nearest_rank(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let k = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[k - 1]
}

impl WriteLatencyParams {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        crate::error::check_count("followers", self.followers, 1, 50, "followers")?;
        if self.link_mean < us(1) || self.link_mean > secs(10) {
            return Err(Error::invalid("link_mean", self.link_mean, "1 µs to 10 s"));
        }
        if self.client_leg > secs(10) {
            return Err(Error::invalid(
                "client_leg",
                self.client_leg,
                "at most 10 s",
            ));
        }
        if !(10..=100_000).contains(&self.writes) {
            return Err(Error::invalid(
                "writes",
                self.writes,
                "10 to 100,000 writes",
            ));
        }
        crate::measure::stats::check_replications(self.seeds)?;
        if self.seeds < 2 {
            return Err(Error::invalid(
                "seeds",
                self.seeds,
                "at least 2 (for intervals)",
            ));
        }
        crate::error::check_count("modes", self.modes.len(), 1, 4, "modes")?;
        let work = self.modes.len() as f64
            * self.seeds as f64
            * self.writes as f64
            * (4.0 * self.followers as f64 + 4.0);
        crate::error::check_work("modes × seeds × writes × followers", work)
    }

    /// Runs every mode on every seed.
    pub fn run(&self) -> Result<Vec<ModeLatency>> {
        self.validate()?;
        let m = self.link_mean.as_ms();
        let nodes = self.followers + 1;
        let mut out = Vec::new();
        for (mi, &mode) in self.modes.iter().enumerate() {
            let mut samples = Vec::new();
            let mut means = Vec::new();
            for s in 0..self.seeds {
                let seed = self.seed.wrapping_add(s).wrapping_add(1000 * mi as u64);
                let lats = self.one(mode, seed)?;
                means.push(lats.iter().sum::<f64>() / lats.len().max(1) as f64);
                samples.extend(lats);
            }
            let mut sorted = samples.clone();
            sorted.sort_by(f64::total_cmp);
            let k = mode.followers_needed(nodes);
            out.push(ModeLatency {
                mode,
                mean: mean_ci(&means)?,
                p50: nearest_rank(&sorted, 0.5),
                p99: nearest_rank(&sorted, 0.99),
                theory: if k == 0 {
                    None
                } else {
                    Some(KOfN::new(k, self.followers, m)?)
                },
                legs_ms: 2.0 * self.client_leg.as_ms(),
                samples_ms: samples,
            });
        }
        Ok(out)
    }

    /// One seed: `writes` writes, one after another; their latencies (ms).
    fn one(&self, ack: Ack, seed: u64) -> Result<Vec<f64>> {
        let lf = LeaderFollower {
            nodes: self.followers + 1,
            ack,
            // No heartbeat re-ships a write before its own round trip ends.
            heartbeat: secs(1_000),
            failover_after: None,
            ..LeaderFollower::default()
        };
        let mut sim = Sim::builder()
            .seed(seed)
            .trace(0)
            .link(LinkConfig::new(Latency::constant(self.client_leg)))
            .build(lf.nodes()?)?;
        node_links(&mut sim, &Latency::exponential(self.link_mean)?, 0.0)?;
        let writes = self.writes;
        let mut i = 0u64;
        sim.set_workload(
            1,
            move |_: usize, _: SimTime, _: &mut SimRng, _: Option<&Op<LfMsg>>| {
                i += 1;
                (i <= writes).then(|| Invoke::new(0, LfMsg::put(i % 10, i as i64)).after(ms(1)))
            },
        )?;
        // The nodes' ticks never end: run until the last write is answered.
        let deadline = secs(1) + SimDuration(self.link_mean.0.saturating_mul(100 * writes));
        sim.run_until(deadline, |s| {
            s.history().len() as u64 == writes
                && s.history()
                    .ops()
                    .last()
                    .is_some_and(|o| o.completed.is_some())
        })?;
        let lats: Vec<f64> = sim
            .history()
            .ops()
            .iter()
            .filter(|o| o.status == OpStatus::Ok)
            .filter_map(|o| o.completed.map(|c| c.since(o.invoked).as_ms()))
            .collect();
        if lats.len() as u64 != writes {
            return Err(Error::invalid(
                "writes completed",
                lats.len(),
                &format!("all {writes} writes acknowledged (a lost reply?)"),
            ));
        }
        Ok(lats)
    }
}

/// The CDF of each mode's write latency, the theory dashed over it.
pub fn latency_chart(modes: &[ModeLatency]) -> Result<Figure> {
    if modes.is_empty() {
        return Err(Error::empty("modes"));
    }
    let top = modes
        .iter()
        .map(|m| nearest_rank(&sorted(&m.samples_ms), 0.995))
        .fold(0.0, f64::max)
        .max(1.0);
    let mut sims = Vec::new();
    let mut theory = Vec::new();
    for m in modes {
        let s = sorted(&m.samples_ms);
        let n = s.len();
        let step = (n / 300).max(1);
        let mut pts: Vec<(f64, f64)> = (0..n)
            .step_by(step)
            .map(|i| (s[i], (i + 1) as f64 / n as f64))
            .collect();
        pts.insert(0, (s[0], 0.0));
        pts.push((s[n - 1], 1.0));
        pts.retain(|p| p.0 <= top);
        sims.push(Series::new(m.label(), pts));
        let grid: Vec<(f64, f64)> = (0..=200)
            .map(|i| {
                let t = top * i as f64 / 200.0;
                (t, m.theory_cdf(t))
            })
            .collect();
        theory.push(Series::new(format!("{}: theory", m.mode.name()), grid));
    }
    line_chart(
        &sims,
        &theory,
        Opts::new("Write latency: who the leader waits for")
            .x_label("write latency seen by the client (ms)")
            .y_label("fraction of writes ≤ x"),
    )
}

fn sorted(xs: &[f64]) -> Vec<f64> {
    let mut s = xs.to_vec();
    s.sort_by(f64::total_cmp);
    s
}

/// Per mode: writes, mean (95 % interval over seeds) against theory, p50
/// and p99 against theory.
pub fn latency_table(modes: &[ModeLatency]) -> Result<Table> {
    let mut t = Table::new(&[
        "mode",
        "writes",
        "mean (ms)",
        "theory",
        "p50",
        "theory p50",
        "p99",
        "theory p99",
    ]);
    for m in modes {
        t.push_row(vec![
            m.label(),
            m.samples_ms.len().to_string(),
            format!("{:.2} ± {:.2}", m.mean.mean, m.mean.half_width),
            format!("{:.2}", m.theory_mean()),
            format!("{:.2}", m.p50),
            format!("{:.2}", m.theory_quantile(0.5)?),
            format!("{:.2}", m.p99),
            format!("{:.2}", m.theory_quantile(0.99)?),
        ]);
    }
    Ok(t.caption(
        "Theory: two client legs plus the k-th fastest of the followers' round trips, \
         P(T ≤ t) = Σ_{j≥k} C(f, j) F(t)^j (1 − F(t))^(f−j).",
    ))
}
