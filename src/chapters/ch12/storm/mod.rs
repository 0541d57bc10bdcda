//! Retry storms and metastable failure.
//!
//! A service at 75 % load, clients with a timeout and retries. A trigger
//! (every job takes twice as long for a few seconds) makes the queue grow;
//! once waits pass the timeout, every attempt times out and is retried, so
//! the service is offered `attempts × λ` while it can do only its capacity.
//! If `attempts · ρ > 1` that state sustains itself after the trigger has
//! passed: the service stays down although nothing is wrong with it any
//! more (a *metastable failure*: Bronson et al., "Metastable Failures in
//! Distributed Systems", HotOS 2021; Huang et al., OSDI 2022). Client-side
//! protection breaks the loop: a retry budget caps the extra load, adaptive
//! throttling and a circuit breaker shed it at the client.

use super::balancing::pm;
use crate::error::{check_count, check_positive, Error, Result};
use crate::measure::stats::{check_replications, mean_ci, MeanCi};
use crate::plot::{fmt_num, time_series, Figure, Opts, Series, Table, Window};
use crate::retry::{Backoff, RetryPolicy};
use crate::service::balance::Policy;
use crate::service::cluster::{Cluster, ClusterRun, Trigger, TriggerKind};
use crate::service::protect::Protection;
use crate::service::server::ServerConfig;
use crate::sim::net::Latency;
use crate::sim::sweep::Sweep;
use crate::sim::time::{ms, secs, SimDuration};
use serde::Serialize;

mod recovery;
pub use recovery::{recovery_vs_length, RecoveryCurves};

/// Share of a bin's requests that must succeed for the bin to count as
/// healthy.
pub const HEALTHY: f64 = 0.9;

/// Parameters of the storm experiments.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StormParams {
    /// First seed; replication `i` uses `seed + i`.
    pub seed: u64,
    /// Replications.
    pub seeds: u64,
    /// Workers of the one server.
    pub workers: usize,
    /// Mean service time (ms), exponential.
    pub service_ms: f64,
    /// Offered load (requests per second over capacity).
    pub load: f64,
    /// Per-attempt timeout.
    pub timeout: SimDuration,
    /// Attempts per request (1 + retries).
    pub attempts: u32,
    /// Backoff before a retry: full jitter, this base, 1 s cap.
    pub backoff: SimDuration,
    /// Length of a run (arrivals stop then).
    pub duration: SimDuration,
    /// When the trigger starts.
    pub trigger_at: SimDuration,
    /// The trigger: every job takes this many times longer.
    pub slowdown: f64,
    /// Time bins.
    pub bin: SimDuration,
}

impl Default for StormParams {
    /// 8 workers at 10 ms (800 requests/s), load 0.75 (600 requests/s),
    /// 500 ms timeout, 3 attempts, 50 ms backoff base, 70 s runs, trigger
    /// at 10 s doubling service times, 0.5 s bins, 5 seeds.
    fn default() -> Self {
        StormParams {
            seed: 1,
            seeds: 5,
            workers: 8,
            service_ms: 10.0,
            load: 0.75,
            timeout: ms(500),
            attempts: 3,
            backoff: ms(50),
            duration: secs(70),
            trigger_at: secs(10),
            slowdown: 2.0,
            bin: ms(500),
        }
    }
}

impl StormParams {
    /// Requests per second the server completes.
    pub fn capacity(&self) -> f64 {
        self.workers as f64 * 1e3 / self.service_ms
    }

    /// User requests per second.
    pub fn arrival_rate(&self) -> f64 {
        self.load * self.capacity()
    }

    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        check_count("workers", self.workers, 1, 10_000, "workers")?;
        check_positive("service_ms", self.service_ms)?;
        check_positive("load", self.load)?;
        check_count("attempts", self.attempts as usize, 1, 20, "attempts")?;
        check_replications(self.seeds)?;
        if self.trigger_at >= self.duration {
            return Err(Error::invalid(
                "trigger_at",
                self.trigger_at,
                &format!("before the end of the run ({})", self.duration),
            ));
        }
        self.cluster(Protection::None, SimDuration(1), 0)?
            .validate()
    }

    /// The run with `protection` and a trigger of `length` (zero: none).
    pub fn cluster(
        &self,
        protection: Protection,
        length: SimDuration,
        seed: u64,
    ) -> Result<Cluster> {
        let retry = RetryPolicy::new(
            Backoff::FullJitter,
            self.backoff,
            secs(1).max(self.backoff),
            self.attempts,
        )?
        .with_timeout(self.timeout)?;
        let service =
            Latency::exponential(SimDuration::from_ms_named("service_ms", self.service_ms)?)?;
        Ok(Cluster {
            seed,
            servers: 1,
            server: ServerConfig::new(self.workers, service)?,
            arrival_rate: self.arrival_rate(),
            duration: self.duration,
            warmup: self.trigger_at.min(secs(1)),
            policy: Policy::Random,
            retry,
            protection,
            trigger: (length > SimDuration::ZERO).then_some(Trigger {
                at: self.trigger_at,
                length,
                kind: TriggerKind::Slow {
                    factor: self.slowdown,
                },
            }),
            bin: self.bin,
            ..Cluster::default()
        })
    }

    fn seed_list(&self) -> Vec<u64> {
        (0..self.seeds).map(|i| self.seed.wrapping_add(i)).collect()
    }

    fn run_all(&self, jobs: Vec<(Protection, SimDuration)>) -> Result<Vec<Vec<ClusterRun>>> {
        self.validate()?;
        let mut work = 0.0;
        for (p, l) in &jobs {
            let c = self.cluster(*p, *l, 0)?;
            c.validate()?;
            work += c.work();
        }
        crate::error::check_work(
            "protections × lengths × seeds × requests × attempts",
            work * self.seeds as f64,
        )?;
        let res = Sweep::new(jobs)
            .seed_list(self.seed_list())
            .progress(false)
            .run(|&(p, l), seed| self.cluster(p, l, seed)?.run())?;
        Ok(res.into_iter().map(|r| r.values).collect())
    }
}

/// When a run recovered: the time from the trigger's end to the start of
/// the first bin after which every bin's requests succeed at least
/// [`HEALTHY`] of the time (zero if they never stopped); `None` if the last
/// bin is still unhealthy (not recovered by the end of the run).
pub fn recovery_time(run: &ClusterRun) -> Option<f64> {
    let bin = run.params.bin.as_secs_f64();
    let (start, end) = match run.params.trigger {
        Some(t) => (t.at.as_secs_f64(), (t.at + t.length).as_secs_f64()),
        None => (0.0, 0.0),
    };
    let healthy = |b: &crate::service::cluster::Bin| {
        b.arrivals == 0 || f64::from(b.succeeded_by_arrival) >= HEALTHY * f64::from(b.arrivals)
    };
    let first = (start / bin).floor() as usize;
    let mut from = None;
    for i in (first..run.bins.len()).rev() {
        if healthy(&run.bins[i]) {
            from = Some(i);
        } else {
            break;
        }
    }
    let from = from?;
    Some((from as f64 * bin - end).max(0.0))
}

/// Recovery over seeds: how many recovered, and the mean time (censored
/// runs counted at the end of the run, so the mean is then a lower bound).
#[derive(Debug, Clone, Serialize)]
pub struct Recovery {
    /// Runs that recovered.
    pub recovered: usize,
    /// Runs.
    pub runs: usize,
    /// Recovery time (s), mean and 95 % interval over seeds.
    pub seconds: MeanCi,
}

fn recovery(runs: &[ClusterRun]) -> Result<Recovery> {
    let mut xs = Vec::new();
    let mut ok = 0;
    for r in runs {
        match recovery_time(r) {
            Some(t) => {
                ok += 1;
                xs.push(t);
            }
            None => {
                let end = r
                    .params
                    .trigger
                    .map_or(SimDuration::ZERO, |t| t.at + t.length);
                xs.push(r.params.duration.as_secs_f64() - end.as_secs_f64());
            }
        }
    }
    Ok(Recovery {
        recovered: ok,
        runs: runs.len(),
        seconds: mean_ci(&xs)?,
    })
}

/// One protection's runs through one trigger.
#[derive(Debug, Clone, Serialize)]
pub struct StormCurve {
    /// The protection's name.
    pub name: String,
    /// Goodput per bin (answers in time per second): mean and 95 % interval.
    pub goodput: Vec<MeanCi>,
    /// Attempts sent per second, per bin.
    pub attempts: Vec<MeanCi>,
    /// Jobs in the server at the end of each bin.
    pub in_system: Vec<MeanCi>,
    /// Over the last 10 s of arrivals: goodput, attempts per second, jobs
    /// in the server, share of requests answered.
    pub end_state: [MeanCi; 4],
    /// Attempts per request over the whole run.
    pub amplification: MeanCi,
    /// Requests refused by the protection, share of all.
    pub local_rejects: MeanCi,
    /// Recovery.
    pub recovery: Recovery,
}

/// [`timeline`]'s result.
#[derive(Debug, Clone, Serialize)]
pub struct StormTimeline {
    /// The parameters.
    pub params: StormParams,
    /// The trigger's length (s).
    pub length: f64,
    /// One curve per protection.
    pub curves: Vec<StormCurve>,
}

fn per_bin(runs: &[ClusterRun], f: impl Fn(&ClusterRun, usize) -> f64) -> Result<Vec<MeanCi>> {
    let n = runs.first().map_or(0, |r| r.bins.len());
    (0..n)
        .map(|i| mean_ci(&runs.iter().map(|r| f(r, i)).collect::<Vec<_>>()))
        .collect()
}

/// Each protection through a trigger of `length`, over the seeds.
pub fn timeline(
    params: &StormParams,
    protections: &[Protection],
    length: SimDuration,
) -> Result<StormTimeline> {
    if protections.is_empty() {
        return Err(Error::empty("protections"));
    }
    if length == SimDuration::ZERO {
        return Err(Error::invalid(
            "length",
            length,
            "a trigger longer than zero",
        ));
    }
    let runs = params.run_all(protections.iter().map(|&p| (p, length)).collect())?;
    let b = params.bin.as_secs_f64();
    let last = ((params.duration.as_secs_f64() - 10.0).max(0.0) / b) as usize;
    let mut curves = Vec::new();
    for (p, rs) in protections.iter().zip(&runs) {
        let tail = |r: &ClusterRun, f: &dyn Fn(&crate::service::cluster::Bin) -> f64| {
            let bins = &r.bins[last.min(r.bins.len())..];
            bins.iter().map(f).sum::<f64>() / bins.len().max(1) as f64
        };
        let end_state = [
            mean_ci(
                &rs.iter()
                    .map(|r| tail(r, &|x| f64::from(x.goodput) / b))
                    .collect::<Vec<_>>(),
            )?,
            mean_ci(
                &rs.iter()
                    .map(|r| tail(r, &|x| f64::from(x.attempts) / b))
                    .collect::<Vec<_>>(),
            )?,
            mean_ci(
                &rs.iter()
                    .map(|r| {
                        let q = &r.in_system[last.min(r.in_system.len())..];
                        q.iter().sum::<u64>() as f64 / q.len().max(1) as f64
                    })
                    .collect::<Vec<_>>(),
            )?,
            mean_ci(
                &rs.iter()
                    .map(|r| {
                        let bins = &r.bins[last.min(r.bins.len())..];
                        let a: u32 = bins.iter().map(|x| x.arrivals).sum();
                        let s: u32 = bins.iter().map(|x| x.succeeded_by_arrival).sum();
                        f64::from(s) / f64::from(a.max(1))
                    })
                    .collect::<Vec<_>>(),
            )?,
        ];
        curves.push(StormCurve {
            name: p.name(),
            goodput: per_bin(rs, |r, i| f64::from(r.bins[i].goodput) / b)?,
            attempts: per_bin(rs, |r, i| f64::from(r.bins[i].attempts) / b)?,
            in_system: per_bin(rs, |r, i| r.in_system[i] as f64)?,
            end_state,
            amplification: mean_ci(&rs.iter().map(ClusterRun::amplification).collect::<Vec<_>>())?,
            local_rejects: mean_ci(
                &rs.iter()
                    .map(|r| r.counts.local_rejects as f64 / r.counts.requests.max(1) as f64)
                    .collect::<Vec<_>>(),
            )?,
            recovery: recovery(rs)?,
        });
    }
    Ok(StormTimeline {
        params: params.clone(),
        length: length.as_secs_f64(),
        curves,
    })
}

impl StormTimeline {
    fn window(&self) -> Window {
        let at = self.params.trigger_at.as_secs_f64();
        Window::new(
            at,
            at + self.length,
            format!("service ×{} slower", fmt_num(self.params.slowdown)),
        )
    }

    fn over_time(&self, f: impl Fn(&StormCurve) -> &Vec<MeanCi>, floor: f64) -> Vec<Series> {
        let b = self.params.bin.as_secs_f64();
        self.curves
            .iter()
            .map(|c| {
                let v = f(c);
                Series::new(
                    c.name.clone(),
                    v.iter()
                        .enumerate()
                        .map(|(i, m)| ((i as f64 + 0.5) * b, m.mean.max(floor)))
                        .collect(),
                )
                .with_band(
                    v.iter()
                        .map(|m| (m.interval().0.max(floor), m.interval().1.max(floor)))
                        .collect(),
                )
            })
            .collect()
    }

    /// Goodput (answers in time per second) over time, mean of the seeds
    /// with a 95 % band, the trigger shaded, and the offered rate dashed.
    pub fn goodput_chart(&self) -> Result<Figure> {
        let mut s = self.over_time(|c| &c.goodput, 0.0);
        let end = self.params.duration.as_secs_f64();
        s.push(Series::new(
            format!(
                "requests offered ({}/s)",
                fmt_num(self.params.arrival_rate())
            ),
            vec![
                (0.0, self.params.arrival_rate()),
                (end, self.params.arrival_rate()),
            ],
        ));
        time_series(
            &s,
            &[self.window()],
            Opts::new("Goodput through a slow spell: who recovers?")
                .x_label("time (s)")
                .y_label("answers in time per second"),
        )
    }

    /// Jobs in the server over time (log y; zero drawn at 1).
    pub fn queue_chart(&self) -> Result<Figure> {
        let s = self.over_time(|c| &c.in_system, 1.0);
        time_series(
            &s,
            &[self.window()],
            Opts::new("The queue: retries keep it growing after the trigger")
                .x_label("time (s)")
                .y_label("jobs in the server")
                .log_y(),
        )
    }

    /// The state each protection ends in (last 10 s of arrivals) and how
    /// long it took to recover.
    pub fn table(&self) -> Table {
        let mut t = Table::new(&[
            "protection",
            "goodput /s (last 10 s)",
            "attempts /s",
            "jobs in server",
            "answered",
            "attempts per request",
            "refused locally",
            "recovered",
            "recovery (s)",
        ]);
        for c in &self.curves {
            let r = &c.recovery;
            t = t.row(vec![
                c.name.clone(),
                format!(
                    "{:.0} ± {:.0}",
                    c.end_state[0].mean, c.end_state[0].half_width
                ),
                format!(
                    "{:.0} ± {:.0}",
                    c.end_state[1].mean, c.end_state[1].half_width
                ),
                format!(
                    "{:.0} ± {:.0}",
                    c.end_state[2].mean, c.end_state[2].half_width
                ),
                format!("{:.3}", c.end_state[3].mean),
                format!("{:.2}", c.amplification.mean),
                format!("{:.3}", c.local_rejects.mean),
                format!("{}/{}", r.recovered, r.runs),
                if r.recovered == r.runs {
                    pm(r.seconds)
                } else {
                    "—".into()
                },
            ]);
        }
        t
    }
}
