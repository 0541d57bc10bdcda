//! The Raft paper's election-time experiment (Ongaro & Ousterhout, USENIX
//! ATC 2014, §9.3 and Figure 16): five servers; the leader crashes at a
//! random time within its heartbeat interval (half the shortest election
//! timeout); each server draws its timeouts uniformly from a range; how long
//! until a new leader? One CDF per range.
//!
//! The paper's cluster had a broadcast time of about 15 ms; here each
//! message takes a uniform 6–9 ms one way, so a request and its answer
//! take 12–18 ms, about the same.

use crate::error::{check_count, Error, Result};
use crate::plot::{cdf, Figure, Opts};
use crate::raft::{Raft, RaftConfig};
use crate::sim::rng::{stream, unit_f64};
use crate::sim::time::{ms, secs, SimDuration};
use crate::sim::{Latency, LinkConfig, Sim};
use serde::Serialize;

/// The experiment's settings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ElectionTimeParams {
    /// Election timeout ranges `(lo, hi)` in ms.
    pub ranges: Vec<(u64, u64)>,
    /// Leader crashes per range.
    pub trials: usize,
    /// Servers.
    pub nodes: usize,
    /// One-way message delay, uniform in `(lo, hi)` ms.
    pub delay_ms: (u64, u64),
    /// Base seed (trial `i` of every range uses seed `seed + i`).
    pub seed: u64,
}

impl Default for ElectionTimeParams {
    /// The paper's six ranges from 150 ms and a scaled 12–24 ms, 1,000
    /// crashes each, five servers, 6–9 ms delays.
    fn default() -> Self {
        ElectionTimeParams {
            ranges: vec![
                (150, 150),
                (150, 151),
                (150, 155),
                (150, 175),
                (150, 200),
                (150, 300),
                (12, 24),
            ],
            trials: 1_000,
            nodes: 5,
            delay_ms: (6, 9),
            seed: 1,
        }
    }
}

/// Longest wait for a new leader before a trial gives up (counted as this
/// long: a censored sample).
pub const GIVE_UP: SimDuration = secs(60);

impl ElectionTimeParams {
    /// Checks sizes and ranges (each `0 < lo <= hi`, at most 10 s).
    pub fn validate(&self) -> Result<()> {
        check_count("ranges", self.ranges.len(), 1, 20, "timeout ranges")?;
        check_count("trials", self.trials, 1, 20_000, "trials per range")?;
        check_count("nodes", self.nodes, 3, 9, "servers")?;
        for &(lo, hi) in &self.ranges {
            if lo < 2 || lo > hi || hi > 10_000 {
                return Err(Error::invalid(
                    "ranges",
                    format!("{lo}–{hi} ms"),
                    "2 <= lo <= hi <= 10,000 ms (the heartbeat is lo / 2)",
                ));
            }
        }
        let (a, b) = self.delay_ms;
        if a > b || b > 1_000 {
            return Err(Error::invalid(
                "delay_ms",
                format!("{a}–{b}"),
                "lo <= hi <= 1,000 ms",
            ));
        }
        Ok(())
    }

    /// Runs every trial of every range.
    pub fn run(&self) -> Result<ElectionTimes> {
        self.validate()?;
        let mut samples = Vec::new();
        for &(lo, hi) in &self.ranges {
            let mut v = Vec::with_capacity(self.trials);
            for i in 0..self.trials {
                v.push(self.trial(lo, hi, self.seed.wrapping_add(i as u64))?);
            }
            samples.push(v);
        }
        Ok(ElectionTimes {
            ranges: self.ranges.clone(),
            samples,
        })
    }

    /// One trial: a leader elected, crashed within its heartbeat interval;
    /// ms until another is elected.
    fn trial(&self, lo: u64, hi: u64, seed: u64) -> Result<f64> {
        let cfg = RaftConfig {
            election_timeout: (ms(lo), ms(hi)),
            heartbeat: SimDuration(ms(lo).0 / 2),
            ..RaftConfig::default()
        };
        let (a, b) = self.delay_ms;
        let link = LinkConfig::new(Latency::uniform(ms(a), ms(b))?);
        let mut sim = Sim::builder()
            .seed(seed)
            .link(link)
            .build(vec![Raft::new(cfg); self.nodes])?;
        let leader = |sim: &Sim<Raft>| {
            (0..sim.nodes().len()).find(|&i| sim.is_up(i) && sim.nodes()[i].is_leader())
        };
        // Warm up until a leader is settled.
        sim.run_for(ms(10 * hi))?;
        while leader(&sim).is_none() && sim.now().as_ms() < GIVE_UP.as_ms() {
            sim.run_for(ms(hi))?;
        }
        if leader(&sim).is_none() {
            return Ok(GIVE_UP.as_ms());
        }
        let mut r = stream(seed, 0x5261_6674, 0, 0);
        let wait = (unit_f64(&mut r) * (ms(lo).0 / 2) as f64) as u64;
        sim.run_for(SimDuration(wait))?;
        // Whoever leads now crashes (a leader deposed during the wait, which
        // is rare, leaves its successor to crash).
        if let Some(old) = leader(&sim) {
            sim.crash(old)?;
        }
        let t0 = sim.now();
        while leader(&sim).is_none() {
            match sim.step()? {
                Some(t) if t.since(t0) < GIVE_UP => {}
                _ => return Ok(GIVE_UP.as_ms()),
            }
        }
        Ok(sim.now().since(t0).as_ms())
    }
}

/// Election times per timeout range.
#[derive(Debug, Clone, Serialize)]
pub struct ElectionTimes {
    /// The ranges, ms.
    pub ranges: Vec<(u64, u64)>,
    /// Per range: ms from the crash to a new leader, one per trial.
    pub samples: Vec<Vec<f64>>,
}

impl ElectionTimes {
    /// The label of range `i` ("150–300 ms").
    pub fn label(&self, i: usize) -> String {
        let (lo, hi) = self.ranges[i];
        format!("{lo}–{hi} ms")
    }

    /// Percentile `q` (a fraction: 0.99) of range `i`, nearest rank.
    pub fn percentile(&self, i: usize, q: f64) -> f64 {
        let mut v = self.samples[i].clone();
        v.sort_by(f64::total_cmp);
        let k = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
        v[k - 1]
    }

    /// The CDFs, one curve per range, on a log time axis as in the paper.
    pub fn chart(&self) -> Result<Figure> {
        let series: Vec<(String, Vec<f64>)> = (0..self.ranges.len())
            .map(|i| (self.label(i), self.samples[i].clone()))
            .collect();
        cdf(
            &series,
            Opts::new("Time to elect a new leader after the leader crashes")
                .x_label("time without a leader (ms)")
                .y_label("fraction of trials")
                .log_x(),
        )
    }
}
