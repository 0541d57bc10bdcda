//! Chapter 8, how stale a partial quorum reads: the probability that a read
//! returns the latest write against the time since that write, for several
//! (N, R, W), simulated and against Probabilistically Bounded Staleness
//! (Bailis et al., VLDB 2012).
//!
//! Each trial writes a fresh key through a coordinator that is not one of
//! its replicas (as in the WARS model), waits `t` after the write's
//! acknowledgement, and reads the key through the same coordinator: the
//! read is fresh if it returns the write. Every message between nodes takes
//! an exponential time; clients talk to the coordinator over a link without
//! delay, so `t` is measured from the commit. Theory: t-visibility by Monte
//! Carlo of the WARS model ([`crate::measure::theory::pbs_t_visibility`]),
//! the bound `1 − C(N−W, R)/C(N, R)` ([`crate::measure::theory::pbs_miss`]),
//! and the latencies of waiting for W (or R) of N round trips
//! ([`crate::measure::theory::KOfN`]).

use crate::error::{Error, Result};
use crate::measure::theory::{self, KOfN, Wars};
use crate::measure::{mean_ci, MeanCi};
use crate::plot::{line_chart, Figure, Opts, Series, SeriesStyle, Table};
use crate::replication::{QMsg, Quorum};
use crate::sim::rng::SimRng;
use crate::sim::time::{ms, secs, SimDuration};
use crate::sim::{Invoke, Latency, LinkConfig, Op, OpStatus, Sim, SimTime};
use serde::Serialize;

/// Parameters of the staleness experiment.
#[derive(Debug, Clone, Serialize)]
pub struct PbsParams {
    /// First seed.
    pub seed: u64,
    /// Seeds (independent replications) per configuration.
    pub seeds: u64,
    /// The (N, R, W) configurations.
    pub configs: Vec<(usize, usize, usize)>,
    /// Mean of an exponential message delay between nodes.
    pub link_mean: SimDuration,
    /// Times from a write's acknowledgement to the read (ms).
    pub t_ms: Vec<f64>,
    /// Write-then-read trials per time and seed.
    pub trials: u64,
    /// Trials running at once (distinct keys).
    pub clients: usize,
    /// Trials of the WARS Monte Carlo per time.
    pub theory_trials: usize,
}

impl Default for PbsParams {
    /// N = 3 with (R, W) = (1, 1), (1, 2), (2, 1), (2, 2); 5 ms messages;
    /// reads 0 to 40 ms after the write; 200 trials per time × 10 seeds;
    /// 50,000 Monte Carlo trials.
    fn default() -> Self {
        PbsParams {
            seed: 1,
            seeds: 10,
            configs: vec![(3, 1, 1), (3, 1, 2), (3, 2, 1), (3, 2, 2)],
            link_mean: ms(5),
            t_ms: vec![0.0, 1.0, 2.0, 3.0, 5.0, 7.5, 10.0, 15.0, 20.0, 30.0, 40.0],
            trials: 200,
            clients: 20,
            theory_trials: 50_000,
        }
    }
}

/// One configuration's results.
#[derive(Debug, Clone, Serialize)]
pub struct PbsConfig {
    /// N, R, W.
    pub nrw: (usize, usize, usize),
    /// Per time: the fraction of fresh reads (mean over seeds, 95 %).
    pub fresh: Vec<MeanCi>,
    /// Per time: t-visibility of the WARS model.
    pub theory: Vec<f64>,
    /// t-visibility on a fine grid of times (`Pbs::dense_ms`), for charts.
    pub theory_dense: Vec<f64>,
    /// The bound `1 − C(N−W, R)/C(N, R)`.
    pub bound: f64,
    /// Write latency (ms), mean over seeds.
    pub write_ms: MeanCi,
    /// Read latency (ms), mean over seeds.
    pub read_ms: MeanCi,
}

/// The experiment's result.
#[derive(Debug, Clone, Serialize)]
pub struct Pbs {
    /// The times (ms).
    pub t_ms: Vec<f64>,
    /// Per configuration.
    pub configs: Vec<PbsConfig>,
    /// The message delay's mean (ms).
    pub link_mean_ms: f64,
    /// The fine grid of times of `theory_dense` (ms).
    pub dense_ms: Vec<f64>,
}

impl PbsParams {
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
        crate::error::check_count("configs", self.configs.len(), 1, 8, "configurations")?;
        for &(n, r, w) in &self.configs {
            theory::check_nrw(n, r, w)?;
            crate::error::check_count("N", n, 1, 20, "replicas")?;
        }
        if self.link_mean < crate::sim::time::us(1) || self.link_mean > secs(1) {
            return Err(Error::invalid("link_mean", self.link_mean, "1 µs to 1 s"));
        }
        crate::error::check_count("t_ms", self.t_ms.len(), 1, 50, "times")?;
        for &t in &self.t_ms {
            if !(t.is_finite() && (0.0..=60_000.0).contains(&t)) {
                return Err(Error::invalid("t_ms", t, "times from 0 to 60,000 ms"));
            }
        }
        if !(1..=100_000).contains(&self.trials) {
            return Err(Error::invalid("trials", self.trials, "1 to 100,000 trials"));
        }
        crate::error::check_count("clients", self.clients, 1, 1_000, "clients")?;
        crate::error::check_count("theory_trials", self.theory_trials, 1, 1_000_000, "trials")?;
        let n_max = self.configs.iter().map(|c| c.0).max().unwrap_or(1) as f64;
        let work = self.configs.len() as f64
            * self.seeds as f64
            * self.t_ms.len() as f64
            * (self.trials as f64 + self.clients as f64)
            * (4.0 * n_max + 6.0)
            + self.configs.len() as f64 * self.theory_trials as f64 * n_max * 100.0;
        crate::error::check_work(
            "configs × seeds × times × trials × N, and theory_trials",
            work,
        )
    }

    /// Runs every configuration.
    pub fn run(&self) -> Result<Pbs> {
        self.validate()?;
        let legs = Wars::uniform_legs(Latency::exponential(self.link_mean)?);
        let top = self.t_ms.iter().copied().fold(0.0, f64::max);
        let dense: Vec<f64> = (0..=80).map(|i| top * i as f64 / 80.0).collect();
        let mut configs = Vec::new();
        for (ci, &(n, r, w)) in self.configs.iter().enumerate() {
            let mut fresh: Vec<Vec<f64>> = vec![Vec::new(); self.t_ms.len()];
            let (mut wl, mut rl) = (Vec::new(), Vec::new());
            for s in 0..self.seeds {
                let seed = self.seed.wrapping_add(s).wrapping_add(1_000 * ci as u64);
                let one = self.one((n, r, w), seed)?;
                for (k, f) in one.fresh.iter().enumerate() {
                    fresh[k].push(*f);
                }
                wl.push(one.write_ms);
                rl.push(one.read_ms);
            }
            let theory = theory::pbs_t_visibility(
                n,
                r,
                w,
                &legs,
                &self.t_ms,
                self.theory_trials,
                self.seed ^ 0x5eed,
            )?;
            let theory_dense = theory::pbs_t_visibility(
                n,
                r,
                w,
                &legs,
                &dense,
                self.theory_trials,
                self.seed ^ 0x5eed,
            )?;
            configs.push(PbsConfig {
                theory_dense,
                nrw: (n, r, w),
                fresh: fresh.iter().map(|v| mean_ci(v)).collect::<Result<_>>()?,
                theory,
                bound: 1.0 - theory::pbs_miss(n, r, w)?,
                write_ms: mean_ci(&wl)?,
                read_ms: mean_ci(&rl)?,
            });
        }
        Ok(Pbs {
            t_ms: self.t_ms.clone(),
            configs,
            link_mean_ms: self.link_mean.as_ms(),
            dense_ms: dense,
        })
    }

    /// One seed of one configuration.
    fn one(&self, (n, r, w): (usize, usize, usize), seed: u64) -> Result<OneSeed> {
        // N replicas and one more node, the coordinator of every key.
        let q = Quorum {
            nodes: n + 1,
            n,
            r,
            w,
            timeout: secs(10),
            ..Quorum::default()
        };
        let mut sim = Sim::builder()
            .seed(seed)
            .trace(0)
            .link(LinkConfig::new(Latency::zero()))
            .build(q.nodes()?)?;
        super::common::node_links(&mut sim, &Latency::exponential(self.link_mean)?, 0.0)?;
        let times = self.t_ms.clone();
        let clients = self.clients as u64;
        // About `trials` trials per time in all, spread over the clients.
        let per_client = (self.trials * times.len() as u64).div_ceil(clients);
        let nodes = (n + 1) as u64;
        // Per client: trials started.
        let mut started = vec![0u64; self.clients];
        let coordinator = move |key: u64| ((key + n as u64) % nodes) as usize;
        sim.set_workload(
            self.clients,
            move |c: usize, _: SimTime, _: &mut SimRng, last: Option<&Op<QMsg>>| {
                if let Some(Op {
                    request: QMsg::Put { key, .. },
                    status: OpStatus::Ok,
                    ..
                }) = last
                {
                    let t = times[(key / clients % times.len() as u64) as usize];
                    let after = SimDuration::from_ms_f64(t).unwrap_or(SimDuration::ZERO);
                    return Some(Invoke::new(coordinator(*key), QMsg::get(*key)).after(after));
                }
                let j = started[c];
                if j >= per_client {
                    return None;
                }
                started[c] += 1;
                let key = j * clients + c as u64;
                Some(Invoke::new(coordinator(key), QMsg::put(key, 1)))
            },
        )?;
        sim.run_to_end()?;
        let mut fresh = vec![(0u64, 0u64); self.t_ms.len()];
        let (mut wsum, mut wn, mut rsum, mut rn) = (0.0, 0u64, 0.0, 0u64);
        for o in sim.history().ops() {
            let Some(done) = o.completed else { continue };
            let lat = done.since(o.invoked).as_ms();
            match (&o.request, &o.reply) {
                (QMsg::Put { .. }, Some(QMsg::PutOk { .. })) => {
                    wsum += lat;
                    wn += 1;
                }
                (QMsg::Get { key }, Some(QMsg::Got { value, .. })) => {
                    rsum += lat;
                    rn += 1;
                    let k = (key / clients % self.t_ms.len() as u64) as usize;
                    fresh[k].1 += 1;
                    if *value == 1 {
                        fresh[k].0 += 1;
                    }
                }
                _ => {}
            }
        }
        if wn == 0 || rn == 0 {
            return Err(Error::empty("completed trials"));
        }
        Ok(OneSeed {
            fresh: fresh
                .iter()
                .map(|&(f, t)| f as f64 / t.max(1) as f64)
                .collect(),
            write_ms: wsum / wn as f64,
            read_ms: rsum / rn as f64,
        })
    }
}

struct OneSeed {
    fresh: Vec<f64>,
    write_ms: f64,
    read_ms: f64,
}

fn name((n, r, w): (usize, usize, usize)) -> String {
    format!("N={n} R={r} W={w}")
}

impl Pbs {
    /// The fraction of fresh reads against the time since the write, per
    /// configuration (95 % bands over seeds), the WARS model dashed.
    pub fn chart(&self) -> Result<Figure> {
        let mut sims = Vec::new();
        let mut theory = Vec::new();
        for c in &self.configs {
            let pts: Vec<(f64, f64)> = self
                .t_ms
                .iter()
                .zip(&c.fresh)
                .map(|(t, f)| (*t, f.mean))
                .collect();
            let band = c
                .fresh
                .iter()
                .map(|f| {
                    let (a, b) = f.interval();
                    (a.max(0.0), b.min(1.0))
                })
                .collect();
            sims.push(
                Series::new(name(c.nrw), pts)
                    .with_band(band)
                    .with_style(SeriesStyle::LinePoints),
            );
            theory.push(Series::new(
                format!("{}: WARS model", name(c.nrw)),
                self.dense_ms
                    .iter()
                    .copied()
                    .zip(c.theory_dense.iter().copied())
                    .collect(),
            ));
        }
        line_chart(
            &sims,
            &theory,
            Opts::new("Partial quorums: fresh reads against time since the write")
                .x_label("time from the write's acknowledgement to the read (ms)")
                .y_label("probability the read returns the write"),
        )
    }

    /// Per configuration: fresh reads right after the write (simulated,
    /// WARS, PBS bound), and at the last time.
    pub fn table(&self) -> Table {
        let last = self.t_ms.len().saturating_sub(1);
        let mut t = Table::new(&[
            "configuration",
            "R + W > N",
            "fresh at t = 0",
            "WARS",
            "bound 1 − C(N−W,R)/C(N,R)",
            &format!(
                "fresh at {} ms",
                self.t_ms.get(last).copied().unwrap_or(0.0)
            ),
            "WARS ",
        ]);
        for c in &self.configs {
            let (n, r, w) = c.nrw;
            t.push_row(vec![
                name(c.nrw),
                if r + w > n { "yes".into() } else { "no".into() },
                format!("{:.3} ± {:.3}", c.fresh[0].mean, c.fresh[0].half_width),
                format!("{:.3}", c.theory[0]),
                format!("{:.3}", c.bound),
                format!(
                    "{:.3} ± {:.3}",
                    c.fresh[last].mean, c.fresh[last].half_width
                ),
                format!("{:.3}", c.theory[last]),
            ]);
        }
        t
    }

    /// Per configuration: write and read latency, simulated (mean over
    /// seeds, 95 %) and in theory (W, resp. R, of N round trips).
    pub fn latency_table(&self) -> Result<Table> {
        let mut t = Table::new(&[
            "configuration",
            "write (ms)",
            "theory",
            "read (ms)",
            "theory ",
        ]);
        for c in &self.configs {
            let (n, r, w) = c.nrw;
            t.push_row(vec![
                name(c.nrw),
                format!("{:.2} ± {:.2}", c.write_ms.mean, c.write_ms.half_width),
                format!("{:.2}", KOfN::new(w, n, self.link_mean_ms)?.mean()),
                format!("{:.2} ± {:.2}", c.read_ms.mean, c.read_ms.half_width),
                format!("{:.2}", KOfN::new(r, n, self.link_mean_ms)?.mean()),
            ]);
        }
        Ok(t.caption(
            "Theory: the W-th (R-th) fastest of N round trips, each two exponential messages.",
        ))
    }
}
