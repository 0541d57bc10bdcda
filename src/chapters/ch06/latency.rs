//! Chapter 6, the price of agreement: commit latency against the number of
//! participants, with the theory of the slowest of n round trips.
//!
//! The coordinator decides when the last vote arrives, so a commit takes
//! the *slowest* of the n round trips coordinator → participant →
//! coordinator. If one round trip has CDF F, the slowest of n independent
//! ones has `P(max ≤ t) = F(t)^n`. Here every message takes an
//! exponential time of mean m, so a round trip is the sum of two:
//! `F(t) = 1 − e^(−t/m) (1 + t/m)`. The mean of the slowest is
//! `∫ (1 − F(t)^n) dt` and its q-quantile solves `F(t) = q^(1/n)`: it
//! grows like `m ln n`, and the tail of one slow participant becomes the
//! body of the distribution.

use crate::error::{Error, Result};
use crate::measure::{mean_ci, MeanCi};
use crate::plot::{line_chart, Figure, Opts, Series, SeriesStyle, Table};
use crate::sim::time::{ms, secs, SimDuration};
use crate::sim::{Latency, LinkConfig, Sim};
use crate::txn::two_phase::{clients, TwoPhase};
use serde::Serialize;

/// The slowest of `n` round trips of two exponential message delays: the
/// closed form [`crate::measure::theory::SlowestRoundTrip`].
pub use crate::measure::theory::SlowestRoundTrip;

/// Parameters of the latency experiment.
#[derive(Debug, Clone, Serialize)]
pub struct LatencyParams {
    /// Seed of the first run (each participant count gets its own).
    pub seed: u64,
    /// The participant counts to run.
    pub participants: Vec<usize>,
    /// Mean of one message delay (exponential).
    pub link_mean: SimDuration,
    /// Transactions per participant count (one client, one after another).
    pub txns: u64,
}

impl Default for LatencyParams {
    /// 1, 2, 4, 8, 16 and 32 participants; 5 ms per message; 2,000
    /// transactions each.
    fn default() -> Self {
        LatencyParams {
            seed: 1,
            participants: vec![1, 2, 4, 8, 16, 32],
            link_mean: ms(5),
            txns: 2_000,
        }
    }
}

/// The commit latencies of one participant count.
#[derive(Debug, Clone, Serialize)]
pub struct LatencyPoint {
    /// Participants.
    pub n: usize,
    /// Each commit's latency at the coordinator (ms): from the request to
    /// the decision.
    pub samples_ms: Vec<f64>,
    /// Mean with its 95 % interval.
    pub mean: MeanCi,
    /// Median and p99 (nearest rank).
    pub p50: f64,
    /// p99.
    pub p99: f64,
    /// The theory for this n.
    pub theory: SlowestRoundTrip,
}

/// The experiment's result.
#[derive(Debug, Clone, Serialize)]
pub struct LatencyCurve {
    /// One point per participant count, in the order asked.
    pub points: Vec<LatencyPoint>,
}

/// Nearest-rank quantile of sorted samples.
pub(crate) fn nearest_rank(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let k = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[k - 1]
}

impl LatencyParams {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        if self.participants.is_empty() || self.participants.len() > 20 {
            return Err(Error::invalid(
                "participants",
                format!("{} counts", self.participants.len()),
                "1 to 20 participant counts",
            ));
        }
        for &n in &self.participants {
            crate::error::check_count("participants", n, 1, 200, "participants")?;
        }
        if self.link_mean < crate::sim::time::us(1) || self.link_mean > secs(10) {
            return Err(Error::invalid("link_mean", self.link_mean, "1 µs to 10 s"));
        }
        if !(10..=100_000).contains(&self.txns) {
            return Err(Error::invalid(
                "txns",
                self.txns,
                "10 to 100,000 transactions",
            ));
        }
        let work: f64 = self
            .participants
            .iter()
            .map(|&n| self.txns as f64 * (6.0 * n as f64 + 6.0))
            .sum();
        crate::error::check_work("txns × participants", work)
    }

    /// One run per participant count: one client commits `txns`
    /// transactions one after another (every participant votes yes; the
    /// vote timeout is far away), the coordinator records each commit's
    /// latency.
    pub fn run(&self) -> Result<LatencyCurve> {
        self.validate()?;
        let mut points = Vec::new();
        for (i, &n) in self.participants.iter().enumerate() {
            let p = TwoPhase {
                participants: n,
                no_vote: 0.0,
                vote_timeout: secs(100),
                ask_every: secs(1),
                ..TwoPhase::default()
            };
            let mut sim = Sim::builder()
                .seed(self.seed.wrapping_add(i as u64))
                .link(LinkConfig::new(Latency::exponential(self.link_mean)?))
                .trace(0)
                .build(p.nodes()?)?;
            sim.set_workload(1, clients(self.txns, ms(1)))?;
            sim.run_to_end()?;
            let mut samples_ms = sim.latency().samples_ms().unwrap_or_default();
            if samples_ms.len() < 2 {
                return Err(Error::empty("commit latencies"));
            }
            let mean = mean_ci(&samples_ms)?;
            let mut sorted = samples_ms.clone();
            sorted.sort_by(f64::total_cmp);
            points.push(LatencyPoint {
                n,
                mean,
                p50: nearest_rank(&sorted, 0.5),
                p99: nearest_rank(&sorted, 0.99),
                theory: SlowestRoundTrip::new(n, self.link_mean.as_ms())?,
                samples_ms: std::mem::take(&mut samples_ms),
            });
        }
        Ok(LatencyCurve { points })
    }
}

impl LatencyCurve {
    /// Mean (with its 95 % band) and p99 against the participants, the
    /// theory of the slowest round trip drawn over each.
    pub fn chart(&self) -> Result<Figure> {
        let xs: Vec<f64> = self.points.iter().map(|p| p.n as f64).collect();
        let mean = Series::new(
            "mean (simulated, 95 % band)",
            self.points
                .iter()
                .map(|p| (p.n as f64, p.mean.mean))
                .collect(),
        )
        .with_band(self.points.iter().map(|p| p.mean.interval()).collect())
        .with_style(SeriesStyle::LinePoints);
        let p99 = Series::new(
            "p99 (simulated)",
            self.points.iter().map(|p| (p.n as f64, p.p99)).collect(),
        )
        .with_style(SeriesStyle::LinePoints);
        let dense: Vec<f64> = dense_x(&xs);
        let th = |n: f64| SlowestRoundTrip::new(n.round().max(1.0) as usize, self.mean_ms());
        let t_mean = Series::new(
            "mean: slowest of n round trips",
            dense
                .iter()
                .map(|&n| Ok((n, th(n)?.mean())))
                .collect::<Result<Vec<_>>>()?,
        );
        let t_p99 = Series::new(
            "p99: F(t)^n = 0.99",
            dense
                .iter()
                .map(|&n| Ok((n, th(n)?.quantile(0.99)?)))
                .collect::<Result<Vec<_>>>()?,
        );
        line_chart(
            &[mean, p99],
            &[t_mean, t_p99],
            Opts::new("Commit latency grows with the slowest participant")
                .x_label("participants (log scale)")
                .y_label("commit latency (ms)")
                .log_x(),
        )
    }

    /// The mean message delay the theory uses (ms).
    fn mean_ms(&self) -> f64 {
        self.points.first().map_or(1.0, |p| p.theory.mean_ms)
    }

    /// Per participant count: commits, simulated mean (95 % interval),
    /// theory mean, simulated and theory p50 and p99.
    pub fn table(&self) -> Result<Table> {
        let mut t = Table::new(&[
            "participants",
            "commits",
            "mean (ms)",
            "theory mean",
            "p50",
            "theory p50",
            "p99",
            "theory p99",
        ]);
        for p in &self.points {
            t.push_row(vec![
                p.n.to_string(),
                p.samples_ms.len().to_string(),
                format!("{:.2} ± {:.2}", p.mean.mean, p.mean.half_width),
                format!("{:.2}", p.theory.mean()),
                format!("{:.2}", p.p50),
                format!("{:.2}", p.theory.quantile(0.5)?),
                format!("{:.2}", p.p99),
                format!("{:.2}", p.theory.quantile(0.99)?),
            ]);
        }
        Ok(t.caption("Theory: the slowest of n round trips, each two exponential message delays; P(max ≤ t) = F(t)^n."))
    }
}

/// Integer points from the smallest to the largest x (at most 200), for
/// smooth theory curves on a log axis.
fn dense_x(xs: &[f64]) -> Vec<f64> {
    let lo = xs.iter().copied().fold(f64::INFINITY, f64::min).max(1.0);
    let hi = xs.iter().copied().fold(0.0, f64::max).max(lo);
    let mut v: Vec<f64> = Vec::new();
    let steps = 60;
    for i in 0..=steps {
        let x = (lo.ln() + (hi.ln() - lo.ln()) * i as f64 / steps as f64)
            .exp()
            .round();
        if v.last() != Some(&x) {
            v.push(x);
        }
    }
    v
}
