//! Judging detectors: detection time and wrong suspicions per run
//! ([`score`]), and the sweep that replays every timeout and φ threshold
//! over the same heartbeat arrivals ([`tradeoff_models`]).

use super::heartbeat::{FailureDetection, FdRun};
use crate::detect::{replay, Detector, HeartbeatDetector, PhiAccrual, Status};
use crate::error::{Error, Result};
use crate::measure::stats::{mean_ci, MeanCi};
use crate::sim::time::{SimDuration, SimTime};
use serde::Serialize;

/// Detection time and wrong suspicions of one detector in one run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Score {
    /// From the crash to the start of the suspicion still held at the end
    /// (0 if that suspicion started before the crash); `None` if the
    /// detector trusted the crashed node at the end.
    pub detection: Option<SimDuration>,
    /// Suspicions that started while the node was up.
    pub wrong_suspicions: usize,
}

/// Scores `transitions` against the real crash time.
pub fn score(transitions: &[(SimTime, Status)], crash_at: SimTime) -> Score {
    let wrong = transitions
        .iter()
        .filter(|(t, s)| *s == Status::Suspect && *t < crash_at)
        .count();
    let detection = match transitions.last() {
        Some((t, Status::Suspect)) => Some(t.since(crash_at)),
        _ => None,
    };
    Score {
        detection,
        wrong_suspicions: wrong,
    }
}

/// One detector setting over several seeds.
#[derive(Debug, Clone, Serialize)]
pub struct TradeoffPoint {
    /// The timeout (ms) or φ threshold.
    pub param: f64,
    /// Detection time over the seeds that detected (ms).
    pub detection_ms: MeanCi,
    /// Wrong suspicions per hour of up time, over all seeds.
    pub wrong_per_hour: f64,
    /// Wrong suspicions per hour, mean and 95 % interval over the seeds
    /// (infinite half-width for one seed).
    pub wrong_per_hour_ci: MeanCi,
    /// Wrong suspicions in total.
    pub wrong_total: usize,
    /// Seeds where the crash was never detected.
    pub missed: usize,
}

/// Both detectors' tradeoff curves.
#[derive(Debug, Clone, Serialize)]
pub struct Tradeoff {
    /// Heartbeat detector, one point per timeout.
    pub heartbeat: Vec<TradeoffPoint>,
    /// φ accrual with the normal model, one point per threshold.
    pub phi: Vec<TradeoffPoint>,
    /// φ accrual with the exponential model (Cassandra's, ignoring gaps over
    /// `phi_exp_max_gap` intervals), one point per threshold; empty if none
    /// were asked for.
    pub phi_exp: Vec<TradeoffPoint>,
    /// Up time observed per seed (hours).
    pub hours_per_seed: f64,
    /// Seeds.
    pub seeds: u64,
}

pub(super) fn summarize(param: f64, scores: &[Score], hours: f64) -> Result<TradeoffPoint> {
    let per_seed_hours = hours / scores.len().max(1) as f64;
    let per_seed: Vec<f64> = scores
        .iter()
        .map(|s| s.wrong_suspicions as f64 / per_seed_hours)
        .collect();
    let det: Vec<f64> = scores
        .iter()
        .filter_map(|s| s.detection.map(|d| d.as_ms()))
        .collect();
    let wrong: usize = scores.iter().map(|s| s.wrong_suspicions).sum();
    let detection_ms = if det.is_empty() {
        MeanCi {
            mean: f64::NAN,
            half_width: f64::INFINITY,
            sd: f64::NAN,
            n: 0,
        }
    } else {
        mean_ci(&det)?
    };
    Ok(TradeoffPoint {
        param,
        detection_ms,
        wrong_per_hour: wrong as f64 / hours,
        wrong_per_hour_ci: mean_ci(&per_seed)?,
        wrong_total: wrong,
        missed: scores.len() - det.len(),
    })
}

/// Runs `seeds` seeds (seed, seed+1, ...) of `base` and replays every
/// heartbeat timeout in `timeouts` and φ threshold (normal model) in
/// `thresholds` over each seed's arrivals. [`tradeoff_models`] adds the
/// exponential model.
pub fn tradeoff(
    base: &FailureDetection,
    timeouts: &[SimDuration],
    thresholds: &[f64],
    seeds: u64,
) -> Result<Tradeoff> {
    tradeoff_models(base, timeouts, thresholds, &[], seeds)
}

/// Like [`tradeoff`], and also replays the exponential φ model
/// ([`FailureDetection::phi_exp_detector`]) at every threshold in
/// `exp_thresholds`. Its φ is `t / (mean · ln 10)`, so threshold `x`
/// suspects after a silence of `x · ln 10 ≈ 2.3 x` mean intervals: useful
/// thresholds are lower than the normal model's.
pub fn tradeoff_models(
    base: &FailureDetection,
    timeouts: &[SimDuration],
    thresholds: &[f64],
    exp_thresholds: &[f64],
    seeds: u64,
) -> Result<Tradeoff> {
    base.validate()?;
    if seeds == 0 {
        return Err(Error::invalid("seeds", 0, "at least 1"));
    }
    if seeds > crate::error::limits::SEEDS as u64 {
        return Err(Error::too_big(
            "seeds",
            seeds,
            "seeds",
            crate::error::limits::SEEDS,
        ));
    }
    // Each seed: its run without live checks, then a replay of its
    // heartbeats per detector.
    let replays = (timeouts.len() + thresholds.len() + exp_thresholds.len()) as f64;
    let run = FailureDetection {
        live: false,
        ..base.clone()
    }
    .work();
    crate::error::check_work(
        "seeds × (timeouts + thresholds + exp_thresholds) × heartbeats per run",
        seeds as f64 * run * (1.0 + replays),
    )?;
    let hb: Vec<HeartbeatDetector> = timeouts
        .iter()
        .map(|&t| HeartbeatDetector::new(t))
        .collect::<Result<_>>()?;
    let phis: Vec<PhiAccrual> = thresholds
        .iter()
        .map(|&x| base.phi_detector(x))
        .collect::<Result<_>>()?;
    let exps: Vec<PhiAccrual> = exp_thresholds
        .iter()
        .map(|&x| base.phi_exp_detector(x))
        .collect::<Result<_>>()?;
    let mut hb_scores = vec![Vec::new(); timeouts.len()];
    let mut phi_scores = vec![Vec::new(); thresholds.len()];
    let mut exp_scores = vec![Vec::new(); exp_thresholds.len()];
    each_seed(base, seeds, |p, run| {
        for (i, d) in hb.iter().enumerate() {
            hb_scores[i].push(replayed(&mut HeartbeatDetector::new(d.timeout())?, p, run)?);
        }
        for (i, proto) in phis.iter().enumerate() {
            phi_scores[i].push(replayed(&mut proto.clone(), p, run)?);
        }
        for (i, proto) in exps.iter().enumerate() {
            exp_scores[i].push(replayed(&mut proto.clone(), p, run)?);
        }
        Ok(())
    })?;
    let hours = base.crash_at.as_secs_f64() / 3600.0;
    let total_hours = hours * seeds as f64;
    Ok(Tradeoff {
        heartbeat: timeouts
            .iter()
            .zip(&hb_scores)
            .map(|(t, sc)| summarize(t.as_ms(), sc, total_hours))
            .collect::<Result<_>>()?,
        phi: thresholds
            .iter()
            .zip(&phi_scores)
            .map(|(x, sc)| summarize(*x, sc, total_hours))
            .collect::<Result<_>>()?,
        phi_exp: exp_thresholds
            .iter()
            .zip(&exp_scores)
            .map(|(x, sc)| summarize(*x, sc, total_hours))
            .collect::<Result<_>>()?,
        hours_per_seed: hours,
        seeds,
    })
}

/// Runs `base` once per seed (seed, seed+1, ...; no live checks) and hands
/// each run, with its parameters, to `f`: every sweep over detectors
/// replays the same runs.
pub(super) fn each_seed(
    base: &FailureDetection,
    seeds: u64,
    mut f: impl FnMut(&FailureDetection, &FdRun) -> Result<()>,
) -> Result<()> {
    for s in 0..seeds {
        let p = FailureDetection {
            seed: base.seed.wrapping_add(s),
            live: false,
            ..base.clone()
        };
        f(&p, &p.run()?)?;
    }
    Ok(())
}

/// Replays `d` over `run`'s heartbeat arrivals on `p`'s check grid and
/// scores it against `p`'s crash.
pub(super) fn replayed(d: &mut impl Detector, p: &FailureDetection, run: &FdRun) -> Result<Score> {
    replay(d, &run.arrivals, p.check_every, p.horizon())?;
    Ok(score(d.transitions(), SimTime::from_start(p.crash_at)))
}

impl FdRun {
    /// Scores of the live detectors: (heartbeat, φ accrual normal); see
    /// [`FdRun::score_exp`] for the exponential model.
    pub fn scores(&self) -> (Score, Score) {
        let c = SimTime::from_start(self.params.crash_at);
        (
            score(self.heartbeat.transitions(), c),
            score(self.phi.transitions(), c),
        )
    }

    /// Score of the live exponential-model φ detector.
    pub fn score_exp(&self) -> Score {
        score(
            self.phi_exp.transitions(),
            SimTime::from_start(self.params.crash_at),
        )
    }
}
