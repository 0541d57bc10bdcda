//! Load balancing: tail latency against load for each policy, with current
//! and with stale load information.
//!
//! `servers` single-worker servers with exponential service behind one
//! balancer, Poisson arrivals, no network delay: the setting of the
//! theory. Random assignment splits the Poisson stream into independent
//! Poisson streams, so each server is an M/M/1 queue at the same load.
//! Round robin hands each server every `n`-th arrival: Erlang gaps, a
//! GI/M/1 queue ([`theory::service::round_robin`]). Power of two choices
//! follows the supermarket model ([`theory::service::supermarket`]), exact
//! as the number of servers grows. Least outstanding and join the shortest
//! queue have no simple closed form; one shared queue (M/M/c) is what they
//! approach.

use crate::error::{check_count, Error, Result};
use crate::measure::stats::{mean_ci, MeanCi};
use crate::measure::theory;
use crate::plot::{fmt_num, line_chart, Figure, Opts, Series, SeriesStyle, Table};
use crate::service::balance::Policy;
use crate::service::cluster::Cluster;
use crate::service::server::ServerConfig;
use crate::sim::net::Latency;
use crate::sim::sweep::Sweep;
use crate::sim::time::SimDuration;
use serde::Serialize;

/// Parameters of the load-balancing experiments.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BalanceParams {
    /// First seed; replication `i` uses `seed + i` (the same seeds for every
    /// policy and load).
    pub seed: u64,
    /// Servers behind the balancer (one worker each).
    pub servers: usize,
    /// Mean service time (ms), exponential.
    pub service_ms: f64,
    /// Requests per run (the first tenth is warm-up).
    pub requests: usize,
    /// Replications per point.
    pub seeds: u64,
}

impl Default for BalanceParams {
    /// 20 servers, 10 ms mean service, 40,000 requests per run, 6 seeds.
    fn default() -> Self {
        BalanceParams {
            seed: 1,
            servers: 20,
            service_ms: 10.0,
            requests: 40_000,
            seeds: 6,
        }
    }
}

impl BalanceParams {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        check_count("servers", self.servers, 1, 10_000, "servers")?;
        crate::error::check_positive("service_ms", self.service_ms)?;
        SimDuration::from_ms_named("service_ms", self.service_ms)?;
        check_count(
            "requests",
            self.requests,
            100,
            2_000_000,
            "requests per run",
        )?;
        crate::measure::stats::check_replications(self.seeds)
    }

    /// Service rate of one server (per second).
    pub fn mu(&self) -> f64 {
        1e3 / self.service_ms
    }

    /// The cluster for one run at `load` per server.
    pub fn cluster(
        &self,
        policy: Policy,
        load: f64,
        age: SimDuration,
        seed: u64,
    ) -> Result<Cluster> {
        check_load(load)?;
        let rate = load * self.servers as f64 * self.mu();
        let secs = self.requests as f64 / rate;
        let duration = SimDuration::from_secs_f64(secs)?;
        Ok(Cluster {
            seed,
            servers: self.servers,
            server: ServerConfig::new(
                1,
                Latency::exponential(SimDuration::from_ms_named("service_ms", self.service_ms)?)?,
            )?,
            arrival_rate: rate,
            duration,
            warmup: SimDuration((duration.0 as f64 * 0.1) as u64),
            policy,
            report_every: age,
            ..Cluster::default()
        })
    }

    fn seed_list(&self) -> Vec<u64> {
        (0..self.seeds).map(|i| self.seed.wrapping_add(i)).collect()
    }

    fn check_work(&self, runs: usize) -> Result<()> {
        crate::error::check_work(
            "policies × loads (or ages) × seeds × requests",
            runs as f64 * self.seeds as f64 * self.requests as f64 * 4.5,
        )
    }
}

fn check_load(load: f64) -> Result<f64> {
    if load.is_finite() && load > 0.0 && load < 1.0 {
        Ok(load)
    } else {
        Err(Error::invalid("load", load, "a load per server in (0, 1)"))
    }
}

/// One point: a policy at one load (or one report age).
#[derive(Debug, Clone, Serialize)]
pub struct PolicyPoint {
    /// The load per server, or the report age in ms.
    pub x: f64,
    /// Mean time in system (ms) over seeds.
    pub mean_ms: MeanCi,
    /// 99th percentile (ms), one per seed, then mean and 95 % interval.
    pub p99_ms: MeanCi,
    /// Theory for this policy, if it has one: (mean, p99) in ms.
    pub theory_ms: Option<(f64, f64)>,
}

/// One policy's curve.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyCurve {
    /// The policy.
    pub policy: Policy,
    /// Its points, in the order asked.
    pub points: Vec<PolicyPoint>,
    /// Name of the theory line, if any.
    pub theory: Option<String>,
}

/// The result of [`p99_vs_load`] or [`p99_vs_age`].
#[derive(Debug, Clone, Serialize)]
pub struct Balancing {
    /// The parameters.
    pub params: BalanceParams,
    /// The report age (for [`p99_vs_load`]) or the load (for [`p99_vs_age`]).
    pub fixed: f64,
    /// True for a sweep over report ages.
    pub over_age: bool,
    /// One curve per policy.
    pub curves: Vec<PolicyCurve>,
    /// One shared queue (M/M/c) at each x: (mean, p99) in ms, for reference.
    pub pooled_ms: Vec<(f64, f64, f64)>,
}

/// The theory of `policy` at `load`: (name, mean ms, p99 ms).
fn policy_theory(
    p: &BalanceParams,
    policy: Policy,
    load: f64,
) -> Result<Option<(String, f64, f64)>> {
    let mu = p.mu();
    Ok(match policy {
        Policy::Random => {
            let q = theory::mm1(load * mu, mu)?;
            Some((
                "M/M/1".into(),
                q.w * 1e3,
                q.time_in_system_percentile(0.99)? * 1e3,
            ))
        }
        Policy::RoundRobin => {
            let q = theory::service::round_robin(load, mu, p.servers)?;
            Some((
                format!("GI/M/1, Erlang-{} gaps", p.servers),
                q.mean * 1e3,
                q.percentile(0.99)? * 1e3,
            ))
        }
        Policy::PowerOfTwo if p.servers >= 2 => {
            let q = theory::service::supermarket(load, mu, 2)?;
            Some((
                "supermarket, n → ∞".into(),
                q.mean * 1e3,
                q.percentile(0.99)? * 1e3,
            ))
        }
        _ => None,
    })
}

fn run_points(
    p: &BalanceParams,
    policies: &[Policy],
    xs: &[f64],
    over_age: bool,
    fixed: f64,
) -> Result<Balancing> {
    p.validate()?;
    if policies.is_empty() {
        return Err(Error::empty("policies"));
    }
    if xs.is_empty() {
        return Err(Error::empty(if over_age { "ages" } else { "loads" }));
    }
    p.check_work(policies.len() * xs.len())?;
    let mut jobs = Vec::new();
    for &pol in policies {
        for &x in xs {
            let (load, age) = if over_age {
                (fixed, SimDuration::from_ms_named("age (ms)", x)?)
            } else {
                (x, SimDuration::from_ms_named("age (ms)", fixed)?)
            };
            // Validate every point before running any.
            p.cluster(pol, load, age, 0)?.validate()?;
            jobs.push((pol, load, age));
        }
    }
    let results = Sweep::new(jobs)
        .seed_list(p.seed_list())
        .progress(false)
        .run(|&(pol, load, age), seed| {
            let run = p.cluster(pol, load, age, seed)?.run()?;
            Ok((
                run.latency.mean()?.as_ms(),
                run.latency.percentile(0.99)?.as_ms(),
            ))
        })?;
    let mut curves = Vec::new();
    for (i, &pol) in policies.iter().enumerate() {
        let mut points = Vec::new();
        let mut name = None;
        for (j, &x) in xs.iter().enumerate() {
            let r = &results[i * xs.len() + j];
            let load = if over_age { fixed } else { x };
            let th = policy_theory(p, pol, load)?;
            if let Some((n, _, _)) = &th {
                name = Some(n.clone());
            }
            points.push(PolicyPoint {
                x,
                mean_ms: mean_ci(&r.values.iter().map(|v| v.0).collect::<Vec<_>>())?,
                p99_ms: mean_ci(&r.values.iter().map(|v| v.1).collect::<Vec<_>>())?,
                theory_ms: th.map(|t| (t.1, t.2)),
            });
        }
        curves.push(PolicyCurve {
            policy: pol,
            points,
            theory: name,
        });
    }
    let mut pooled_ms = Vec::new();
    for &x in xs {
        let load = if over_age { fixed } else { x };
        let q = theory::mmc(load * p.servers as f64 * p.mu(), p.mu(), p.servers)?;
        pooled_ms.push((x, q.w * 1e3, q.time_in_system_percentile(0.99)? * 1e3));
    }
    Ok(Balancing {
        params: p.clone(),
        fixed,
        over_age,
        curves,
        pooled_ms,
    })
}

/// The p99 (and mean) time in system of each policy at each load in
/// `loads` (per server, in (0, 1)), with current load information,
/// replicated over `params.seeds` seeds.
pub fn p99_vs_load(
    params: &BalanceParams,
    policies: &[Policy],
    loads: &[f64],
) -> Result<Balancing> {
    for &l in loads {
        check_load(l)?;
    }
    run_points(params, policies, loads, false, 0.0)
}

/// The p99 of each policy at `load` when the servers report their load
/// only every `ages_ms` (0: always current).
pub fn p99_vs_age(
    params: &BalanceParams,
    policies: &[Policy],
    load: f64,
    ages_ms: &[f64],
) -> Result<Balancing> {
    check_load(load)?;
    run_points(params, policies, ages_ms, true, load)
}

impl Balancing {
    /// The curve of `policy`, if it was run.
    pub fn curve(&self, policy: Policy) -> Option<&PolicyCurve> {
        self.curves.iter().find(|c| c.policy == policy)
    }

    /// p99 (or mean) against load or report age: one line per policy with a
    /// 95 % band over seeds, each policy's theory dashed where it has one,
    /// and one shared queue (M/M/c) for reference. Log y.
    pub fn chart(&self, mean: bool) -> Result<Figure> {
        let pick = |p: &PolicyPoint| if mean { p.mean_ms } else { p.p99_ms };
        // Policies with theory first, so that theory line i matches series i.
        let mut order: Vec<&PolicyCurve> =
            self.curves.iter().filter(|c| c.theory.is_some()).collect();
        order.extend(self.curves.iter().filter(|c| c.theory.is_none()));
        let mut series = Vec::new();
        let mut theory = Vec::new();
        for c in &order {
            series.push(
                Series::new(
                    c.policy.name(),
                    c.points.iter().map(|p| (p.x, pick(p).mean)).collect(),
                )
                .with_band(c.points.iter().map(|p| pick(p).interval()).collect())
                .with_style(SeriesStyle::LinePoints),
            );
            if let (Some(name), false) = (&c.theory, self.over_age) {
                theory.push(Series::new(
                    format!("{}: {name}", c.policy.name()),
                    c.points
                        .iter()
                        .filter_map(|p| p.theory_ms.map(|t| (p.x, if mean { t.0 } else { t.1 })))
                        .collect(),
                ));
            }
        }
        if !self.over_age && theory.len() < order.len() {
            theory.push(Series::new(
                format!("one shared queue, M/M/{}", self.params.servers),
                self.pooled_ms
                    .iter()
                    .map(|&(x, m, q)| (x, if mean { m } else { q }))
                    .collect(),
            ));
        }
        let stat = if mean { "mean" } else { "p99" };
        let (title, x_label) = if self.over_age {
            (
                format!(
                    "Old load reports: \"least loaded\" herds (load {})",
                    fmt_num(self.fixed)
                ),
                "age of the load reports: servers report every … (ms)".to_string(),
            )
        } else {
            (
                format!("Tail latency against load, {} servers", self.params.servers),
                "load per server ρ".to_string(),
            )
        };
        line_chart(
            &series,
            &theory,
            Opts::new(title)
                .x_label(x_label)
                .y_label(format!("{stat} time in system (ms)"))
                .log_y(),
        )
    }

    /// A table: per policy and point, mean and p99 (mean over seeds ± 95 %
    /// half-width) and the theory where there is one.
    pub fn table(&self) -> Table {
        let x = if self.over_age {
            "report age (ms)"
        } else {
            "load ρ"
        };
        let mut t = Table::new(&[
            "policy",
            x,
            "mean (ms)",
            "p99 (ms)",
            "theory mean",
            "theory p99",
        ]);
        for c in &self.curves {
            for p in &c.points {
                let (tm, tq) = match p.theory_ms {
                    Some((m, q)) if !self.over_age => (format!("{m:.1}"), format!("{q:.1}")),
                    _ => ("—".into(), "—".into()),
                };
                t = t.row(vec![
                    c.policy.name().into(),
                    fmt_num(p.x),
                    pm(p.mean_ms),
                    pm(p.p99_ms),
                    tm,
                    tq,
                ]);
            }
        }
        t
    }
}

/// `mean ± half-width` with one decimal.
pub fn pm(c: MeanCi) -> String {
    format!("{:.1} ± {:.1}", c.mean, c.half_width)
}
