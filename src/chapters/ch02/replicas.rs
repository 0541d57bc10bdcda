//! Chapter 2, reliability: replicas that fail and get repaired.
//!
//! Each of `n` replicas alternates between up (exponentially distributed with
//! mean MTTF) and down (mean MTTR), independently. The service is up while at
//! least `k` replicas are: `k = 1` for "any one replica can answer", `k =
//! n/2 + 1` for a majority quorum. In steady state each replica is up with
//! probability `p = MTTF / (MTTF + MTTR)`, and the service's availability is
//! the binomial tail `P[at least k of n up]` (see
//! [`crate::measure::theory::k_of_n_availability`]); the simulation checks that.
//!
//! The crash and repair times are generated as a [`FaultPlan`] and applied by
//! the engine like any other fault, so the per-node up/down history comes
//! from the same machinery every other experiment uses.

use crate::error::{check_positive, Error, Result};
use crate::measure::stats::{mean_ci, MeanCi};
use crate::sim::fault::FaultPlan;
use crate::sim::metrics::AvailabilityReport;
use crate::sim::net::NodeId;
use crate::sim::node::Node;
use crate::sim::rng::{self, domain};
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::{Ctx, Sim};
use serde::Serialize;

/// Parameters: `n` replicas with exponential up and down times.
#[derive(Debug, Clone, Serialize)]
pub struct Replicas {
    /// Seed.
    pub seed: u64,
    /// Number of replicas (>= 1).
    pub n: usize,
    /// Mean time to failure.
    pub mttf: SimDuration,
    /// Mean time to repair.
    pub mttr: SimDuration,
    /// How long to simulate.
    pub horizon: SimDuration,
}

impl Default for Replicas {
    /// 3 replicas, MTTF 100 h, MTTR 10 h, 10,000 h simulated.
    fn default() -> Self {
        Replicas {
            seed: 1,
            n: 3,
            mttf: crate::sim::time::secs(100 * 3600),
            mttr: crate::sim::time::secs(10 * 3600),
            horizon: crate::sim::time::secs(10_000 * 3600),
        }
    }
}

/// A replica that does nothing but be up or down.
#[derive(Debug, Clone, Copy, Default)]
pub struct Replica;

impl Node for Replica {
    type Msg = ();
    type Timer = ();
    type Disk = ();
    fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: ()) {}
}

impl Replicas {
    /// Steady-state probability that one replica is up.
    pub fn p_up(&self) -> f64 {
        let (f, r) = (self.mttf.0 as f64, self.mttr.0 as f64);
        f / (f + r)
    }

    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        if self.n == 0 {
            return Err(Error::invalid("n (replicas)", 0, "at least 1 replica"));
        }
        if self.n > 1000 {
            return Err(Error::invalid("n (replicas)", self.n, "at most 1000"));
        }
        check_positive("mttf (ns)", self.mttf.0 as f64)?;
        check_positive("mttr (ns)", self.mttr.0 as f64)?;
        check_positive("horizon (ns)", self.horizon.0 as f64)?;
        // Two faults (a crash, a recovery) per failure cycle of each replica.
        let faults = 2.0 * self.n as f64 * self.cycles();
        let most = crate::error::limits::FAULTS as f64 / 2.0;
        if faults > most {
            return Err(Error::invalid(
                "horizon",
                self.horizon,
                &format!(
                    "a horizon shorter than {:.0} × (mttf + mttr) / n: this one gives about \
                     {} crashes and recoveries, more than {most:.0}",
                    most / 2.0,
                    crate::error::short_value(&format!("{faults:.0}"))
                ),
            ));
        }
        Ok(())
    }

    /// Expected failure cycles (up, then down) of one replica over the
    /// horizon.
    fn cycles(&self) -> f64 {
        self.horizon.0 as f64 / (self.mttf.0 as f64 + self.mttr.0 as f64)
    }

    /// The crash/repair schedule: per replica, alternating exponential up and
    /// down times from its own random stream (adding a replica does not
    /// change the others' schedules).
    pub fn fault_plan(&self) -> Result<FaultPlan> {
        self.validate()?;
        let mut plan = FaultPlan::new();
        let end = self.horizon.0 as f64;
        for node in 0..self.n {
            let mut r = rng::stream(self.seed, domain::EXPERIMENT, 100, node as u64);
            let mut t = 0.0f64;
            loop {
                t += -(self.mttf.0 as f64) * rng::open_unit_f64(&mut r).ln();
                if t >= end {
                    break;
                }
                if plan.len() >= crate::error::limits::FAULTS {
                    return Err(Error::too_big(
                        "horizon",
                        self.horizon,
                        "failures (a rare draw of the schedule)",
                        "about half as long",
                    ));
                }
                plan = plan.crash(SimDuration(t as u64), node);
                t += -(self.mttr.0 as f64) * rng::open_unit_f64(&mut r).ln();
                if t >= end {
                    break;
                }
                plan = plan.recover(SimDuration(t as u64), node);
            }
        }
        Ok(plan)
    }

    /// Runs the replicas through their schedule and reports who was up when.
    pub fn run(&self) -> Result<AvailabilityReport> {
        let plan = self.fault_plan()?;
        let mut sim = Sim::builder()
            .seed(self.seed)
            .trace(0)
            .faults(plan)
            .build(vec![Replica; self.n])?;
        sim.run_for(self.horizon)?;
        sim.updown().finish(SimTime::from_start(self.horizon))
    }
}

/// Simulated against theoretical availability of one configuration.
#[derive(Debug, Clone, Serialize)]
pub struct AvailabilityPoint {
    /// Replicas.
    pub n: usize,
    /// Replicas needed for the service to be up.
    pub k: usize,
    /// Simulated availability over seeds (mean and 95 % CI).
    pub simulated: MeanCi,
    /// Binomial formula.
    pub theory: f64,
}

/// For each `n` in `ns`, availability with any-one (`k = 1`) and majority
/// (`k = n/2 + 1`) quorums, simulated over `seeds` seeds.
pub fn availability_curve(
    base: &Replicas,
    ns: &[usize],
    seeds: u64,
) -> Result<Vec<AvailabilityPoint>> {
    crate::measure::stats::check_replications(seeds)?;
    let work: f64 = ns
        .iter()
        .map(|&n| 2.0 * n as f64 * Replicas { n, ..base.clone() }.cycles())
        .sum();
    crate::error::check_work("seeds × replicas × failure cycles", seeds as f64 * work)?;
    let mut out = Vec::new();
    for &n in ns {
        let reports: Vec<AvailabilityReport> = (0..seeds)
            .map(|s| {
                Replicas {
                    seed: base.seed.wrapping_add(s),
                    n,
                    ..base.clone()
                }
                .run()
            })
            .collect::<Result<_>>()?;
        let mut ks = vec![1, n / 2 + 1];
        ks.dedup();
        for k in ks {
            let xs: Vec<f64> = reports
                .iter()
                .map(|r| r.system_availability(k))
                .collect::<Result<_>>()?;
            out.push(AvailabilityPoint {
                n,
                k,
                simulated: mean_ci(&xs)?,
                theory: crate::measure::theory::k_of_n_availability(n, k, base.p_up())?,
            });
        }
    }
    Ok(out)
}

use crate::plot::{
    availability_timeline, line_chart, Figure, Lane, Opts, Series, SeriesStyle, Table,
};

/// Per-replica up/down lanes (hours), plus a lane for the service with a
/// majority quorum.
pub fn timeline_chart(report: &AvailabilityReport, k: usize) -> Result<Figure> {
    let h = 3600.0;
    let mut lanes: Vec<Lane> = report
        .intervals_for_chart()
        .into_iter()
        .enumerate()
        .map(|(i, iv)| {
            Lane::new(
                format!("replica {i}"),
                iv.into_iter().map(|(a, b)| (a / h, b / h)).collect(),
            )
        })
        .collect();
    lanes.push(Lane::new(
        format!("service (≥{k} up)"),
        report
            .system_down_intervals(k)?
            .into_iter()
            .map(|(a, b)| (a.as_secs_f64() / h, b.as_secs_f64() / h))
            .collect(),
    ));
    availability_timeline(
        &lanes,
        report.duration().as_secs_f64() / h,
        Opts::new("Replicas fail and get repaired").x_label("time (hours)"),
    )
}

/// Unavailability `1 − A` against the number of replicas, per quorum rule,
/// on a log axis (one decade = one nine): simulated means over seeds as
/// points with 95 % error bars (only at the measured `n`, nothing drawn
/// between them), and the binomial theory dashed.
///
/// A configuration whose runs saw no outage at all has a measured
/// unavailability of 0, which a log axis cannot show: it is left out of
/// the simulated series (the theory line still has it; the
/// [`nines_table`] says "no outage seen"). An interval reaching down to 0
/// is drawn down to the bottom of the chart.
pub fn availability_chart(points: &[AvailabilityPoint]) -> Result<Figure> {
    let mut sims = Vec::new();
    let mut theory = Vec::new();
    let positive = points
        .iter()
        .flat_map(|p| [1.0 - p.theory, 1.0 - p.simulated.mean])
        .filter(|&u| u > 0.0)
        .fold(f64::INFINITY, f64::min);
    // Where an interval reaching 0 ends: a little below every value drawn.
    let floor = if positive.is_finite() {
        positive / 3.0
    } else {
        1e-12
    };
    for (label, majority) in [("any one replica", false), ("majority quorum", true)] {
        let of_rule = |p: &&AvailabilityPoint| (p.k == 1) != majority || (p.n == 1 && !majority);
        let all: Vec<&AvailabilityPoint> = points.iter().filter(of_rule).collect();
        if all.is_empty() {
            continue;
        }
        theory.push(Series::new(
            format!("{label}: binomial"),
            all.iter()
                .map(|p| (p.n as f64, (1.0 - p.theory).max(floor)))
                .collect(),
        ));
        let seen: Vec<&&AvailabilityPoint> =
            all.iter().filter(|p| p.simulated.mean < 1.0).collect();
        if seen.is_empty() {
            continue;
        }
        sims.push(
            Series::new(
                format!("{label}: simulated"),
                seen.iter()
                    .map(|p| (p.n as f64, 1.0 - p.simulated.mean))
                    .collect(),
            )
            .with_band(
                seen.iter()
                    .map(|p| {
                        let (lo, hi) = p.simulated.interval();
                        ((1.0 - hi).max(floor), (1.0 - lo).max(floor))
                    })
                    .collect(),
            )
            .with_style(SeriesStyle::Points),
        );
    }
    line_chart(
        &sims,
        &theory,
        Opts::new("Unavailability against replicas: each decade is one nine")
            .x_label("replicas n")
            .y_label("unavailability 1 − A")
            .log_y(),
    )
}

/// A duration in the unit that fits: "3.1 h", "12 min", "45 s", "0.8 s",
/// "20 ms", "< 1 ms".
pub fn short_duration(secs: f64) -> String {
    if !secs.is_finite() {
        "—".to_string()
    } else if secs >= 1e6 * 3600.0 {
        format!("{:.1e} h", secs / 3600.0)
    } else if secs >= 2.0 * 3600.0 {
        format!("{:.1} h", secs / 3600.0)
    } else if secs >= 120.0 {
        format!("{:.0} min", secs / 60.0)
    } else if secs >= 10.0 {
        format!("{secs:.0} s")
    } else if secs >= 0.1 {
        format!("{secs:.1} s")
    } else if secs >= 1e-3 {
        format!("{:.0} ms", secs * 1e3)
    } else {
        "< 1 ms".to_string()
    }
}

/// A small positive number with 2 significant digits: 0.0087, 6.2e-6.
fn sig2(x: f64) -> String {
    if x == 0.0 {
        "0".to_string()
    } else if x.abs() >= 1e-3 {
        let d = (-(x.abs().log10().floor()) + 1.0).max(0.0) as usize;
        format!("{x:.d$}")
    } else {
        format!("{x:.1e}")
    }
}

/// A "nines" table: unavailability (simulated over seeds with its 95 %
/// interval, and theory), nines and downtime per year (theory, in the unit
/// that fits).
pub fn nines_table(points: &[AvailabilityPoint]) -> Result<Table> {
    let mut t = Table::new(&[
        "replicas n",
        "needs k up",
        "unavailability (simulated)",
        "unavailability (theory)",
        "nines (theory)",
        "downtime / year (theory)",
    ]);
    for p in points {
        let dt = crate::measure::theory::downtime_per_year(p.theory)?;
        t = t.row(vec![
            p.n.to_string(),
            p.k.to_string(),
            if p.simulated.mean >= 1.0 {
                "0 (no outage seen)".to_string()
            } else {
                format!(
                    "{} ± {}",
                    sig2(1.0 - p.simulated.mean),
                    sig2(p.simulated.half_width)
                )
            },
            sig2(1.0 - p.theory),
            format!("{:.2}", crate::measure::theory::nines(p.theory)?),
            short_duration(dt.as_secs_f64()),
        ]);
    }
    Ok(t)
}
