//! Chapter 9, duelling proposers: two proposers that restart as soon as
//! their ballot is refused can pre-empt each other for ever; a random
//! backoff ends the duel, and a model predicts how soon.
//!
//! Both proposers start at once (both believe they should lead). Each
//! restarts when its ballot is refused, after a backoff drawn uniformly from
//! `0..=b` ([`crate::consensus::Cfg::backoff`]). On a *regular* network
//! (every message takes exactly `L`) the duel runs like clockwork: a
//! proposer that restarts within `L` of its rival's `Accept` being sent
//! promises its own acceptor to the higher ballot before that `Accept`
//! lands there, and the rival abandons at the refusal. Write `s_k` for how
//! long after the rival's `Accept` the k-th restart comes (`s_1 = u_1`, the
//! first backoff); the next restart comes `u` after the rival is refused, so
//!
//! `s_{k+1} = u_{k+1} − s_k`, the duel goes on while `s_k < L`,
//!
//! and each round adds `s_k + 2L`, on top of the `4L` (two round trips) of
//! the ballot that finally wins. [`duel_model`] integrates this chain
//! numerically (no simulation) for the mean time and the distribution of
//! ballots; the simulation runs the real Paxos of
//! [`crate::consensus`]. With `b = 0` every `s_k` is 0: the duel never
//! ends. With jitter on the links the clockwork breaks by luck.

use crate::consensus::{chosen_by, cluster, Phase};
use crate::error::{check_count, check_non_negative, check_positive, check_work, Error, Result};
use crate::measure::stats::mean_ci;
use crate::plot::{line_chart, Figure, Opts, Series, SeriesStyle, Table};
use crate::sim::time::{ms, SimDuration};
use crate::sim::{Latency, LinkConfig, Sim};
use serde::Serialize;

/// Parameters of the duel experiment.
#[derive(Debug, Clone, Serialize)]
pub struct DuelParams {
    /// First seed; run `i` uses `seed + i`.
    pub seed: u64,
    /// Runs per backoff and network (10..=5,000; fewer with many backoffs
    /// or a long deadline: a call is refused if its worst case, every run
    /// duelling to the deadline, exceeds a notebook cell's budget).
    pub runs: usize,
    /// The backoff ranges `b` to try, in milliseconds (each 0..=1,000).
    pub backoffs_ms: Vec<f64>,
    /// The regular network's one-way delay `L`, in ms (0.01..=100).
    pub latency_ms: f64,
    /// The jittered network's extra delay: each message takes `L` plus a
    /// uniform draw from `0..jitter_ms` (0: no jittered network).
    pub jitter_ms: f64,
    /// How long a run may go without a decision, in ms (10..=60,000).
    pub deadline_ms: f64,
}

impl Default for DuelParams {
    /// 400 runs per point; `b` = 0, 0.5, 1, 2, 4, 8, 16 ms; `L` = 1 ms;
    /// jitter 1 ms; 1 s deadline.
    fn default() -> Self {
        DuelParams {
            seed: 1,
            runs: 400,
            backoffs_ms: vec![0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0],
            latency_ms: 1.0,
            jitter_ms: 1.0,
            deadline_ms: 1_000.0,
        }
    }
}

/// One backoff on one network: how long the duel took.
#[derive(Debug, Clone, Serialize)]
pub struct DuelPoint {
    /// "regular" or "jittered".
    pub network: String,
    /// The backoff range `b`, ms.
    pub backoff_ms: f64,
    /// The regular network's one-way delay `L`, ms.
    pub latency_ms: f64,
    /// Runs.
    pub runs: usize,
    /// Runs in which a proposer learned the decision before the deadline.
    pub decided: usize,
    /// Time until the first proposer learned the decision, ms, per decided
    /// run (sorted).
    pub times_ms: Vec<f64>,
    /// Ballots started per run (all runs, in run order), counted when the
    /// first proposer learned the decision, or at the deadline.
    pub ballots: Vec<u64>,
    /// Runs in which a value was *chosen* (accepted by a majority, by the
    /// acceptors' ghost votes) before the deadline, learned or not.
    pub chosen: usize,
    /// Mean time to decide and its 95 % half-width (decided runs; `None`
    /// if fewer than two decided).
    pub mean_ms: Option<(f64, f64)>,
    /// The model's mean (regular network only; `None` where the model
    /// says the duel never ends, or on the jittered network).
    pub model_ms: Option<f64>,
}

impl DuelPoint {
    /// The `q`-quantile of the decided runs' times (nearest rank).
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let n = self.times_ms.len();
        if n == 0 {
            return None;
        }
        let i = ((q * n as f64).ceil() as usize).clamp(1, n) - 1;
        Some(self.times_ms[i])
    }
}

impl DuelParams {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        check_count("runs", self.runs, 10, 5_000, "runs")?;
        check_count(
            "backoffs_ms (how many)",
            self.backoffs_ms.len(),
            1,
            20,
            "backoffs",
        )?;
        for &b in &self.backoffs_ms {
            check_non_negative("backoffs_ms", b)?;
            if b > 1_000.0 {
                return Err(Error::invalid(
                    "backoffs_ms",
                    b,
                    "a backoff range of at most 1,000 ms",
                ));
            }
        }
        check_positive("latency_ms", self.latency_ms)?;
        if !(0.01..=100.0).contains(&self.latency_ms) {
            return Err(Error::invalid(
                "latency_ms",
                self.latency_ms,
                "a one-way delay in 0.01..=100 ms",
            ));
        }
        check_non_negative("jitter_ms", self.jitter_ms)?;
        if self.jitter_ms > 100.0 {
            return Err(Error::invalid(
                "jitter_ms",
                self.jitter_ms,
                "a jitter of at most 100 ms",
            ));
        }
        if !(10.0..=60_000.0).contains(&self.deadline_ms) {
            return Err(Error::invalid(
                "deadline_ms",
                self.deadline_ms,
                "a deadline in 10..=60,000 ms",
            ));
        }
        // The worst case: every run duels until the deadline, about six
        // events per one-way delay.
        let nets = if self.jitter_ms > 0.0 { 2.0 } else { 1.0 };
        check_work(
            "runs × backoffs × networks × deadline_ms / latency_ms",
            self.runs as f64 * self.backoffs_ms.len() as f64 * nets * 6.0 * self.deadline_ms
                / self.latency_ms,
        )?;
        Ok(())
    }

    /// Every backoff on the regular network, then (if `jitter_ms > 0`) on
    /// the jittered one.
    pub fn run(&self) -> Result<Vec<DuelPoint>> {
        self.validate()?;
        let mut out = Vec::new();
        let nets: &[(&str, f64)] = &[("regular", 0.0), ("jittered", self.jitter_ms)];
        for &(name, jitter) in nets {
            if name == "jittered" && jitter == 0.0 {
                continue;
            }
            for &b in &self.backoffs_ms {
                out.push(self.point(name, jitter, b)?);
            }
        }
        Ok(out)
    }

    fn point(&self, network: &str, jitter: f64, b: f64) -> Result<DuelPoint> {
        let (mut times_ms, mut ballots, mut chosen) = (Vec::new(), Vec::new(), 0);
        for i in 0..self.runs {
            let (t, k, c) = self.one(self.seed.wrapping_add(i as u64), jitter, b)?;
            times_ms.extend(t);
            ballots.push(k);
            chosen += c as usize;
        }
        times_ms.sort_by(f64::total_cmp);
        let mean_ms = if times_ms.len() >= 2 {
            let m = mean_ci(&times_ms)?;
            Some((m.mean, m.half_width))
        } else {
            None
        };
        let model_ms = if jitter == 0.0 {
            model_mean_ms(self.latency_ms, b)?
        } else {
            None
        };
        Ok(DuelPoint {
            network: network.to_string(),
            backoff_ms: b,
            latency_ms: self.latency_ms,
            runs: self.runs,
            decided: times_ms.len(),
            times_ms,
            ballots,
            chosen,
            mean_ms,
            model_ms,
        })
    }

    /// One run: when the first proposer learned the decision (ms), the
    /// ballots started, and whether a value was chosen.
    fn one(&self, seed: u64, jitter: f64, b: f64) -> Result<(Option<f64>, u64, bool)> {
        let mut nodes = cluster(3, &[1, 2], None, 1, Default::default());
        for p in &mut nodes {
            p.cfg.attempts = u32::MAX;
            p.cfg.announce = true;
            p.cfg.backoff = Some(ms_to_ns(b));
        }
        let l = ms_to_ns(self.latency_ms);
        let latency = if jitter > 0.0 {
            Latency::uniform(SimDuration(l), SimDuration(l + ms_to_ns(jitter)))?
        } else {
            Latency::constant(SimDuration(l))
        };
        let mut sim = Sim::builder()
            .seed(seed)
            .link(LinkConfig::new(latency))
            .trace(0)
            .max_events(50_000_000)
            .build(nodes)?;
        let done =
            |s: &Sim<crate::consensus::Paxos>| s.nodes().iter().any(|n| n.phase == Phase::Done);
        let decided = sim.run_until(ms(0) + SimDuration(ms_to_ns(self.deadline_ms)), done)?;
        let ballots = sim.nodes().iter().map(|n| n.started as u64).sum();
        let disks = (0..3)
            .map(|i| sim.disk(i).map(|d| d.synced()))
            .collect::<Result<Vec<_>>>()?;
        let chosen = !chosen_by(&disks, 2).is_empty();
        Ok((decided.then(|| sim.now().0 as f64 / 1e6), ballots, chosen))
    }
}

fn ms_to_ns(x: f64) -> u64 {
    (x * 1e6).round() as u64
}

/// What the model of the duel predicts (see the module docs).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DuelModel {
    /// Mean time until the first proposer learns the decision, ms.
    pub mean_ms: f64,
    /// `ballots[m]`: the probability that `m` ballots were started (by
    /// both proposers) when the first proposer learns the decision: the
    /// two first ballots, one restart per round the duel went on, and the
    /// last restart if it came before the decision (`s_K < 2L`).
    pub ballots: Vec<f64>,
}

impl DuelModel {
    /// `P(more than m ballots)`.
    pub fn more_than(&self, m: usize) -> f64 {
        (1.0 - self.ballots.iter().take(m + 1).sum::<f64>()).max(0.0)
    }
}

/// The model's mean time to decide (ms) on a regular network with one-way
/// delay `l_ms` and backoffs uniform on `0..=b_ms`; [`duel_model`]'s mean.
pub fn model_mean_ms(l_ms: f64, b_ms: f64) -> Result<Option<f64>> {
    Ok(duel_model(l_ms, b_ms)?.map(|m| m.mean_ms))
}

/// The model of the duel on a regular network with one-way delay `l_ms`
/// and backoffs uniform on `0..=b_ms` (see the module docs): the mean time
/// to decide, `4L + Σ_k E[(s_k + 2L); the duel reached round k]`, and the
/// distribution of ballots started. The chain is integrated on a grid of
/// `L / 2,000` over `[−L, 2L)`: every round that goes on has its `s_k`
/// below `L`, and whether the last restart precedes the decision depends
/// on `s_K < 2L`. `Ok(None)` when the duel never ends (`b = 0`) or is
/// still going with probability above 10⁻⁹ after 20,000 rounds (`b` far
/// below `L`).
///
/// Errors: `l_ms` outside 10⁻⁶..=10⁶, or `b_ms` negative or not finite.
pub fn duel_model(l_ms: f64, b_ms: f64) -> Result<Option<DuelModel>> {
    if !(1e-6..=1e6).contains(&l_ms) {
        return Err(Error::invalid(
            "l_ms",
            l_ms,
            "a one-way delay in 1e-6..=1e6 ms",
        ));
    }
    check_non_negative("b_ms", b_ms)?;
    if b_ms == 0.0 {
        return Ok(None);
    }
    let (l, b) = (l_ms, b_ms);
    // Cells below `ON` hold s < L (the duel goes on), the rest [L, 2L).
    const ON: usize = 4_000;
    const CELLS: usize = 6_000;
    let h = 2.0 * l / ON as f64;
    let x = |i: usize| -l + (i as f64 + 0.5) * h;
    // s_1 = u_1: uniform on [0, b]; each cell gets its overlap with it.
    let mut mass: Vec<f64> = (0..CELLS)
        .map(|i| {
            let (c0, c1) = (x(i) - h / 2.0, x(i) + h / 2.0);
            (c1.min(b) - c0.max(0.0)).max(0.0) / b
        })
        .collect();
    let mut cum = vec![0.0; ON + 1];
    let mut mean = 4.0 * l;
    let mut ballots = vec![0.0; 2];
    let mut before = 1.0; // mass that reached this round
    for k in 1..=20_000usize {
        let mut alive = 0.0;
        for i in 0..ON {
            mean += mass[i] * (x(i) + 2.0 * l);
            alive += mass[i];
            cum[i + 1] = cum[i] + mass[i];
        }
        // Ends in round k: the last restart before the decision (s_K in
        // [L, 2L)) or after it (s_K >= 2L).
        let near: f64 = mass[ON..].iter().sum();
        let far = (before - alive - near).max(0.0);
        ballots.resize(k + 3, 0.0);
        ballots[k + 1] += far;
        ballots[k + 2] += near;
        if alive < 1e-9 {
            return Ok(Some(DuelModel {
                mean_ms: mean,
                ballots,
            }));
        }
        before = alive;
        // Mass of the continuing s below v (linear inside a cell).
        let upto = |v: f64| {
            let p = ((v + l) / h).clamp(0.0, ON as f64);
            let i = (p.floor() as usize).min(ON - 1);
            cum[i] + (p - i as f64) * (cum[i + 1] - cum[i])
        };
        // s' = u − s, u uniform on [0, b]: density (1/b)·P(−s' ≤ s ≤ b − s').
        for (i, m) in mass.iter_mut().enumerate() {
            let s2 = x(i);
            *m = h / b * (upto(b - s2) - upto(-s2)).max(0.0);
        }
    }
    Ok(None)
}

/// How many ballots the duel takes: for each backoff `b` in `backoffs`
/// (ms, regular network), the share of runs that started more than `m`
/// ballots before the first proposer learned the decision (markers), and
/// the model's `P(more than m)` (lines). Log y: a geometric tail is a
/// straight line.
pub fn duel_ballots_chart(points: &[DuelPoint], backoffs: &[f64]) -> Result<Figure> {
    let mut sims = Vec::new();
    let mut models = Vec::new();
    for &b in backoffs {
        let Some(p) = points
            .iter()
            .find(|p| p.network == "regular" && p.backoff_ms == b && p.decided > 0)
        else {
            return Err(Error::invalid(
                "backoffs",
                b,
                "a backoff the regular network was run with, in which some run decided",
            ));
        };
        let n = p.ballots.len() as f64;
        let sim: Vec<(f64, f64)> = (2..)
            .map(|m| {
                (
                    m as f64,
                    p.ballots.iter().filter(|&&k| k > m).count() as f64 / n,
                )
            })
            .take_while(|&(_, f)| f > 0.0)
            .collect();
        let top = sim.last().map_or(3.0, |&(m, _)| m + 1.0);
        if !sim.is_empty() {
            sims.push(
                Series::new(format!("b = {b} ms, simulated"), sim).with_style(SeriesStyle::Points),
            );
        }
        if let Some(model) = duel_model(p.latency_ms, b)? {
            let line: Vec<(f64, f64)> = (2..=top as usize)
                .map(|m| (m as f64, model.more_than(m)))
                .filter(|&(_, q)| q > 1e-4)
                .collect();
            if !line.is_empty() {
                models.push(Series::new(format!("b = {b} ms, model"), line));
            }
        }
    }
    line_chart(
        &sims,
        &models,
        Opts::new("How many ballots the duel takes")
            .x_label("ballots started before the decision")
            .y_label("share of runs with more")
            .log_y(),
    )
}

/// Mean time to decide against the backoff range: the simulation's means
/// with their 95 % intervals, the model's line for the regular network.
/// Points with no decided runs are left out (the table lists them).
pub fn duel_chart(points: &[DuelPoint]) -> Result<Figure> {
    let mut series = Vec::new();
    for (network, style) in [
        ("regular", SeriesStyle::Points),
        ("jittered", SeriesStyle::LinePoints),
    ] {
        let pts: Vec<&DuelPoint> = points
            .iter()
            .filter(|p| p.network == network && p.mean_ms.is_some() && p.backoff_ms > 0.0)
            .collect();
        if pts.is_empty() {
            continue;
        }
        let label = match network {
            "regular" => "simulated, regular network (mean, 95 % CI)",
            _ => "simulated, jittered network (mean, 95 % CI)",
        };
        let (xy, band): (Vec<_>, Vec<_>) = pts
            .iter()
            .map(|p| {
                let (m, hw) = p.mean_ms.unwrap_or_default();
                ((p.backoff_ms, m), (m - hw, m + hw))
            })
            .unzip();
        series.push(Series::new(label, xy).with_band(band).with_style(style));
    }
    // The model on 40 backoffs spaced evenly on the log axis.
    let bs: Vec<f64> = points
        .iter()
        .filter(|p| p.network == "regular" && p.model_ms.is_some())
        .map(|p| p.backoff_ms)
        .collect();
    let mut overlays = Vec::new();
    if let (Some(lo), Some(hi), Some(l)) = (
        bs.iter().copied().reduce(f64::min),
        bs.iter().copied().reduce(f64::max),
        points.first().map(|p| p.latency_ms),
    ) {
        let model: Vec<(f64, f64)> = (0..40)
            .filter_map(|i| {
                let b = lo * (hi / lo).powf(i as f64 / 39.0);
                model_mean_ms(l, b).ok().flatten().map(|m| (b, m))
            })
            .collect();
        overlays.push(Series::new("model, regular network", model));
        overlays.push(Series::new(
            format!(
                "one proposer (a stable leader), regular network: {} ms",
                4.0 * l
            ),
            vec![(lo, 4.0 * l), (hi, 4.0 * l)],
        ));
    }
    line_chart(
        &series,
        &overlays,
        Opts::new("A random backoff ends the duel")
            .x_label("backoff drawn from 0..b (ms)")
            .y_label("time to decide (ms)")
            .log_x()
            .log_y(),
    )
}

/// Per network and backoff: runs decided, mean time to decide, p99, the
/// model's mean, ballots per run.
pub fn duel_table(points: &[DuelPoint]) -> Table {
    let mut t = Table::new(&[
        "network",
        "backoff b (ms)",
        "chosen",
        "decided",
        "mean time to decide (ms)",
        "p99 (ms)",
        "model mean (ms)",
        "ballots per run",
    ]);
    for p in points {
        let ballots = p.ballots.iter().sum::<u64>() as f64 / p.runs.max(1) as f64;
        t.push_row(vec![
            p.network.clone(),
            format!("{}", p.backoff_ms),
            format!("{} of {}", p.chosen, p.runs),
            format!("{} of {}", p.decided, p.runs),
            p.mean_ms
                .map_or("never".into(), |(m, h)| format!("{m:.2} ± {h:.2}")),
            p.quantile(0.99).map_or("–".into(), |q| format!("{q:.1}")),
            match (p.network.as_str(), p.model_ms) {
                ("regular", Some(m)) => format!("{m:.2}"),
                ("regular", None) => "never ends".into(),
                _ => "–".into(),
            },
            format!("{ballots:.1}"),
        ]);
    }
    t
}
