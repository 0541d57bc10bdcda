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
use crate::plot::{cdf, fmt_num, Figure, Opts, Table};
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
    pub delay_ms: (f64, f64),
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
            delay_ms: (6.0, 9.0),
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
        if !(a >= 0.0 && a <= b && b <= 1_000.0) {
            return Err(Error::invalid(
                "delay_ms",
                format!("{}–{}", crate::plot::fmt_num(a), crate::plot::fmt_num(b)),
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
        let (a, b) = (SimDuration::from_ms_f64(a)?, SimDuration::from_ms_f64(b)?);
        let link = LinkConfig::new(Latency::uniform(a, b)?);
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

    /// A 95 % interval for percentile `q` of range `i`, free of any
    /// assumption about the distribution: the number of samples below the
    /// true percentile is binomial(n, q), so the order statistics at the
    /// ranks where that binomial has 2.5 % in each tail bracket it. An end
    /// the sample cannot bound (too few trials for a far percentile) is
    /// infinite.
    pub fn percentile_interval(&self, i: usize, q: f64) -> (f64, f64) {
        let mut v = self.samples[i].clone();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let q = q.clamp(1e-9, 1.0 - 1e-9);
        // pmf[k] = P(X = k), X ~ binomial(n, q), from logarithms.
        let mut ln_fact = vec![0.0; n + 1];
        for k in 1..=n {
            ln_fact[k] = ln_fact[k - 1] + (k as f64).ln();
        }
        let pmf = |k: usize| {
            (ln_fact[n] - ln_fact[k] - ln_fact[n - k]
                + k as f64 * q.ln()
                + (n - k) as f64 * (1.0 - q).ln())
            .exp()
        };
        // Lower end x_(l): P(X <= l - 1) <= 2.5 %, l as large as can be.
        let (mut below, mut lo) = (0.0, 0);
        while lo < n && below + pmf(lo) <= 0.025 {
            below += pmf(lo);
            lo += 1;
        }
        // Upper end x_(u): P(X >= u) <= 2.5 %, u as small as can be.
        let (mut above, mut hi) = (0.0, n + 1);
        while hi > 1 && above + pmf(hi - 1) <= 0.025 {
            above += pmf(hi - 1);
            hi -= 1;
        }
        let lo = if lo == 0 {
            f64::NEG_INFINITY
        } else {
            v[lo - 1]
        };
        let hi = if hi > n { f64::INFINITY } else { v[hi - 1] };
        (lo, hi)
    }

    /// Trials per range that elected no leader within [`GIVE_UP`].
    pub fn gave_up(&self, i: usize) -> usize {
        let cap = GIVE_UP.as_ms();
        self.samples[i].iter().filter(|&&x| x >= cap).count()
    }

    /// p50, p90 and p99 per range with their 95 % intervals, and the
    /// trials that gave up.
    pub fn table(&self) -> Table {
        let mut t = Table::new(&[
            "timeouts",
            "p50 (ms)",
            "p90 (ms)",
            "p99 (ms)",
            "no leader in 60 s",
        ]);
        for i in 0..self.ranges.len() {
            let cell = |q| {
                let (lo, hi) = self.percentile_interval(i, q);
                let end = |x: f64| {
                    if x.is_finite() {
                        fmt_num(x)
                    } else {
                        "?".into()
                    }
                };
                format!(
                    "{} [{}, {}]",
                    fmt_num(self.percentile(i, q)),
                    end(lo),
                    end(hi)
                )
            };
            t.push_row(vec![
                self.label(i),
                cell(0.5),
                cell(0.9),
                cell(0.99),
                format!("{} of {}", self.gave_up(i), self.samples[i].len()),
            ]);
        }
        t
    }

    /// The CDFs, one curve per range, on a log time axis as in the paper;
    /// ranges with a trial that gave up are left out (their curves are
    /// cut at the cap: the table has them).
    pub fn chart(&self) -> Result<Figure> {
        let series: Vec<(String, Vec<f64>)> = (0..self.ranges.len())
            .filter(|&i| self.gave_up(i) == 0)
            .map(|i| (self.label(i), self.samples[i].clone()))
            .collect();
        if series.is_empty() {
            return Err(Error::invalid(
                "ranges",
                "every range",
                "at least one range whose trials all elect a leader within 60 s (a wider range)",
            ));
        }
        cdf(
            &series,
            Opts::new("Time to elect a new leader after the leader crashes")
                .x_label("time without a leader (ms)")
                .y_label("fraction of trials")
                .log_x(),
        )
    }
}
