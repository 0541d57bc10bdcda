//! Chapter 5, isolation: which anomalies each level lets through, what
//! stronger isolation costs, and one anomaly drawn transaction by
//! transaction.
//!
//! Every run is a [`crate::txn::isolation::Database`] at one [`Level`]
//! with closed-loop clients; every verdict comes from the history alone,
//! by the dependency-cycle checker of [`crate::check::isolation`] (Adya
//! 1999; Kingsbury & Alvaro, *Elle*, VLDB 2020), which never learns the
//! level. What the chapter shows (default parameters, bank workload; the
//! on-call workload for write skew):
//!
//! | level | dirty writes / reads | lost updates, read skew | write skew | money conserved |
//! |---|---|---|---|---|
//! | no isolation | yes | yes | yes | almost never |
//! | read committed | never | yes | yes | almost never |
//! | snapshot | never | never | with on-call | always |
//! | serializable | never | never | never | always |
//!
//! - [`anomalies_by_level`]: anomaly counts per level over many seeds.
//! - [`price_of_isolation`]: throughput and abort rate against contention.
//! - [`one_anomaly`]: the first seed whose history shows an anomaly, as a
//!   diagram with one lane per transaction of the cycle.

use crate::check::isolation::{key_name, Anomaly, EdgeKind, Found, TxnOp, TxnRecord};
use crate::error::{Error, Result};
use crate::measure::stats::{check_replications, MeanCi};
use crate::measure::SweepCi;
use crate::plot::{
    bar_chart, line_chart, sequence_diagram, Arrow, BarSeries, Figure, Mark, MarkKind, Opts,
    SequenceDiagram, Series, SeriesStyle, Table,
};
use crate::sim::rng::{derive_seed, domain};
use crate::sim::sweep::Sweep;
use crate::txn::isolation::{IsolationParams, IsolationRun, Level};
use serde::Serialize;
use std::collections::BTreeMap;
use std::ops::Range;

/// The seeds of replications `0..n` under `base` (the same at every level:
/// common random numbers).
fn seeds_for(base: u64, n: usize) -> Vec<u64> {
    (0..n as u64)
        .map(|j| derive_seed(base, domain::EXPERIMENT, j, 5))
        .collect()
}

/// What one run contributes to [`AnomalyCounts`].
#[derive(Debug, Clone)]
struct RunSummary {
    counts: BTreeMap<Anomaly, usize>,
    conserved: bool,
    kept: bool,
}

/// Anomalies per level over many seeds (see [`anomalies_by_level`]).
#[derive(Debug, Clone, Serialize)]
pub struct AnomalyCounts {
    /// The base parameters (`level` and `seed` replaced per run).
    pub params: IsolationParams,
    /// The levels, in chart order.
    pub levels: Vec<Level>,
    /// The seeds, the same at every level.
    pub seeds: Vec<u64>,
    /// `totals[i][a]`: anomalies of kind `a` at `levels[i]`, summed over
    /// the seeds.
    pub totals: Vec<BTreeMap<Anomaly, usize>>,
    /// `runs_with[i][a]`: runs at `levels[i]` with at least one.
    pub runs_with: Vec<BTreeMap<Anomaly, usize>>,
    /// Runs per level whose balances add up to the initial total.
    pub money_conserved: Vec<usize>,
    /// Runs per level in which every pair of doctors kept one on call.
    pub on_call_kept: Vec<usize>,
}

/// Runs `base` at every level of [`Level::ALL`] with `seeds` seeds
/// (derived from `base.seed`) on all cores, and counts each kind of
/// anomaly the checker finds. Errors on zero seeds or bad parameters.
///
/// ```
/// use thinkdist::ch05::isolation::anomalies_by_level;
/// use thinkdist::check::isolation::Anomaly;
/// use thinkdist::txn::isolation::{IsolationParams, Level};
/// let c = anomalies_by_level(&IsolationParams::default(), 4)?;
/// assert_eq!(c.runs(Level::Serializable, Anomaly::LostUpdate), 0);
/// assert!(c.runs(Level::ReadCommitted, Anomaly::LostUpdate) > 0);
/// # Ok::<(), thinkdist::Error>(())
/// ```
pub fn anomalies_by_level(base: &IsolationParams, seeds: usize) -> Result<AnomalyCounts> {
    base.validate()?;
    crate::error::check_count("seeds", seeds, 1, crate::error::limits::SEEDS, "seeds")?;
    crate::error::check_work(
        "4 levels × seeds × the run's clients and programs",
        4.0 * seeds as f64 * base.work(),
    )?;
    let list = seeds_for(base.seed, seeds);
    let levels = Level::ALL.to_vec();
    let results = Sweep::new(levels.clone())
        .seed_list(list.clone())
        .run(|&level, seed| {
            let run = IsolationParams {
                seed,
                level,
                ..base.clone()
            }
            .run()?;
            Ok(RunSummary {
                conserved: run.money_conserved(),
                kept: run.on_call_kept(),
                counts: run.counts,
            })
        })?;
    let mut c = AnomalyCounts {
        params: base.clone(),
        levels,
        seeds: list,
        totals: Vec::new(),
        runs_with: Vec::new(),
        money_conserved: Vec::new(),
        on_call_kept: Vec::new(),
    };
    for r in results {
        let mut totals: BTreeMap<Anomaly, usize> = Anomaly::ALL.iter().map(|&a| (a, 0)).collect();
        let mut runs = totals.clone();
        for s in &r.values {
            for (&a, &n) in &s.counts {
                *totals.entry(a).or_insert(0) += n;
                *runs.entry(a).or_insert(0) += usize::from(n > 0);
            }
        }
        c.totals.push(totals);
        c.runs_with.push(runs);
        c.money_conserved
            .push(r.values.iter().filter(|s| s.conserved).count());
        c.on_call_kept
            .push(r.values.iter().filter(|s| s.kept).count());
    }
    Ok(c)
}

impl AnomalyCounts {
    fn index(&self, level: Level) -> Option<usize> {
        self.levels.iter().position(|&l| l == level)
    }

    /// Anomalies of kind `a` at `level`, over all seeds (0 for a level not
    /// run).
    pub fn total(&self, level: Level, a: Anomaly) -> usize {
        self.index(level)
            .and_then(|i| self.totals[i].get(&a).copied())
            .unwrap_or(0)
    }

    /// Runs at `level` whose history shows at least one anomaly of kind
    /// `a`.
    pub fn runs(&self, level: Level, a: Anomaly) -> usize {
        self.index(level)
            .and_then(|i| self.runs_with[i].get(&a).copied())
            .unwrap_or(0)
    }

    /// Runs at `level` that conserved money.
    pub fn conserved(&self, level: Level) -> usize {
        self.index(level).map_or(0, |i| self.money_conserved[i])
    }

    fn bars(&self, value: impl Fn(usize, Anomaly) -> usize) -> (Vec<String>, Vec<BarSeries>) {
        let cats = self.levels.iter().map(|l| l.name().to_string()).collect();
        let series = Anomaly::ALL
            .iter()
            .map(|&a| {
                BarSeries::new(
                    format!("{} ({})", a.name(), a.adya()),
                    (0..self.levels.len()).map(|i| value(i, a) as f64).collect(),
                )
            })
            .collect();
        (cats, series)
    }

    /// Grouped bars: per level, the anomalies of each kind found in all
    /// runs together.
    pub fn chart(&self) -> Result<Figure> {
        let (cats, series) = self.bars(|i, a| self.totals[i][&a]);
        bar_chart(
            &cats,
            &series,
            Opts::new(format!(
                "Anomalies the checker finds ({} accounts, {} clients)",
                self.params.accounts, self.params.clients
            ))
            .x_label("isolation level")
            .y_label(format!("anomalies in {} runs", self.seeds.len())),
        )
    }

    /// Grouped bars: per level, how many runs show each kind at least
    /// once (the scale stays readable when one level has thousands).
    pub fn runs_chart(&self) -> Result<Figure> {
        let (cats, series) = self.bars(|i, a| self.runs_with[i][&a]);
        bar_chart(
            &cats,
            &series,
            Opts::new("Runs in which each anomaly appears")
                .x_label("isolation level")
                .y_label(format!("runs (of {}) with the anomaly", self.seeds.len())),
        )
    }

    /// One row per level: anomalies of each kind (runs showing it in
    /// parentheses), and runs that kept the workload's invariant: money
    /// conserved (transfers), a doctor of every pair on call (on-call).
    pub fn table(&self) -> Table {
        let mut headers: Vec<String> = vec!["level".into()];
        headers.extend(
            Anomaly::ALL
                .iter()
                .map(|a| format!("{} ({})", a.name(), a.adya())),
        );
        // The invariant the workload's programs keep when run alone.
        let (transfers, on_call) = (
            self.params.mix.transfer > 0.0,
            self.params.mix.on_call > 0.0,
        );
        if transfers {
            headers.push("money conserved".into());
        }
        if on_call {
            headers.push("a doctor always on call".into());
        }
        let refs: Vec<&str> = headers.iter().map(String::as_str).collect();
        let mut t = Table::new(&refs);
        let n = self.seeds.len();
        for (i, l) in self.levels.iter().enumerate() {
            let mut row = vec![l.name().to_string()];
            row.extend(
                Anomaly::ALL
                    .iter()
                    .map(|a| format!("{} ({})", self.totals[i][a], self.runs_with[i][a])),
            );
            if transfers {
                row.push(format!("{} of {n}", self.money_conserved[i]));
            }
            if on_call {
                row.push(format!("{} of {n}", self.on_call_kept[i]));
            }
            t.push_row(row);
        }
        t.caption(format!(
            "Anomalies found in {n} runs per level (in parentheses: runs with at least one); \
             {} accounts, {} clients × {} programs",
            self.params.accounts, self.params.clients, self.params.txns_per_client
        ))
    }
}

/// Throughput and abort rate at one contention level.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PricePoint {
    /// Accounts (fewer: more contention).
    pub accounts: usize,
    /// Commits per simulated second, over seeds.
    pub throughput: MeanCi,
    /// Fraction of transactions the database aborted, over seeds.
    pub abort_rate: MeanCi,
}

/// Throughput and aborts against contention, per level (see
/// [`price_of_isolation`]).
#[derive(Debug, Clone, Serialize)]
pub struct PriceOfIsolation {
    /// The base parameters.
    pub params: IsolationParams,
    /// The levels, in chart order.
    pub levels: Vec<Level>,
    /// `points[i][j]`: `levels[i]` at the `j`-th number of accounts.
    pub points: Vec<Vec<PricePoint>>,
    /// Seeds per point (the same everywhere).
    pub seeds: Vec<u64>,
}

/// Runs every level of [`Level::ALL`] at each number of `accounts` with
/// `seeds` seeds each; audits read at most as many accounts as there are.
/// Errors on no account counts, fewer than 2 seeds (no interval), or bad
/// parameters (fewer than 2 accounts, ...).
pub fn price_of_isolation(
    base: &IsolationParams,
    accounts: &[usize],
    seeds: usize,
) -> Result<PriceOfIsolation> {
    base.validate()?;
    if accounts.is_empty() {
        return Err(Error::empty("accounts"));
    }
    check_replications(seeds as u64)?;
    let at = |level: Level, n: usize, seed: u64| IsolationParams {
        seed,
        level,
        accounts: n,
        audit_size: base.audit_size.min(n),
        ..base.clone()
    };
    for &n in accounts {
        at(base.level, n, base.seed).validate()?;
    }
    crate::error::check_work(
        "4 levels × account counts × seeds × the run's clients and programs",
        4.0 * accounts.len() as f64 * seeds as f64 * base.work(),
    )?;
    let grid: Vec<(Level, usize)> = Level::ALL
        .iter()
        .flat_map(|&l| accounts.iter().map(move |&n| (l, n)))
        .collect();
    let list = seeds_for(base.seed, seeds);
    let results = Sweep::new(grid)
        .seed_list(list.clone())
        .run(|&(level, n), seed| {
            let r = at(level, n, seed).run()?;
            Ok((r.throughput(), r.abort_rate()))
        })?;
    let mut points = vec![Vec::with_capacity(accounts.len()); Level::ALL.len()];
    for (k, r) in results.iter().enumerate() {
        points[k / accounts.len()].push(PricePoint {
            accounts: r.point.1,
            throughput: r.mean_ci(|v| v.0)?,
            abort_rate: r.mean_ci(|v| v.1)?,
        });
    }
    Ok(PriceOfIsolation {
        params: base.clone(),
        levels: Level::ALL.to_vec(),
        points,
        seeds: list,
    })
}

impl PriceOfIsolation {
    fn chart(&self, pick: fn(&PricePoint) -> MeanCi, scale: f64, opts: Opts) -> Result<Figure> {
        let series: Vec<Series> = self
            .levels
            .iter()
            .zip(&self.points)
            .map(|(l, pts)| {
                Series::new(
                    l.name(),
                    pts.iter()
                        .map(|p| (p.accounts as f64, scale * pick(p).mean))
                        .collect(),
                )
                .with_band(
                    pts.iter()
                        .map(|p| {
                            let (lo, hi) = pick(p).interval();
                            (scale * lo.max(0.0), scale * hi)
                        })
                        .collect(),
                )
                .with_style(SeriesStyle::LinePoints)
            })
            .collect();
        let log = self.points.iter().flatten().all(|p| p.accounts > 0)
            && self.points.iter().flatten().map(|p| p.accounts).max()
                > self
                    .points
                    .iter()
                    .flatten()
                    .map(|p| p.accounts)
                    .min()
                    .map(|m| m * 8);
        line_chart(&series, &[], if log { opts.log_x() } else { opts })
    }

    /// Commits per second against the number of accounts, one line per
    /// level, with 95 % intervals over seeds.
    pub fn throughput_chart(&self) -> Result<Figure> {
        self.chart(
            |p| p.throughput,
            1.0,
            Opts::new(format!(
                "Throughput: the price of isolation ({} clients)",
                self.params.clients
            ))
            .x_label("accounts (fewer = more contention)")
            .y_label("commits per second"),
        )
    }

    /// Percent of transactions aborted by the database against the number
    /// of accounts.
    pub fn abort_chart(&self) -> Result<Figure> {
        self.chart(
            |p| p.abort_rate,
            100.0,
            Opts::new("Aborts: conflicts the database resolves by aborting")
                .x_label("accounts (fewer = more contention)")
                .y_label("transactions aborted (%)"),
        )
    }

    /// One row per level and number of accounts.
    pub fn table(&self) -> Table {
        let mut t = Table::new(&["level", "accounts", "commits / s", "aborted (%)"]);
        for (l, pts) in self.levels.iter().zip(&self.points) {
            for p in pts {
                t.push_row(vec![
                    l.name().to_string(),
                    p.accounts.to_string(),
                    format!("{:.0} ± {:.0}", p.throughput.mean, p.throughput.half_width),
                    format!(
                        "{:.1} ± {:.1}",
                        100.0 * p.abort_rate.mean,
                        100.0 * p.abort_rate.half_width
                    ),
                ]);
            }
        }
        t.caption(format!(
            "{} seeds per point; ± is the 95 % interval over seeds; {} clients × {} programs",
            self.seeds.len(),
            self.params.clients,
            self.params.txns_per_client
        ))
    }
}

/// One anomaly found in one run, ready to draw (see [`one_anomaly`]).
#[derive(Debug, Clone, Serialize)]
pub struct AnomalyStory {
    /// The seed of the run.
    pub seed: u64,
    /// Its level.
    pub level: Level,
    /// The anomaly: its cycle and explanation.
    pub found: Found,
    /// The transactions of the cycle, in cycle order.
    pub txns: Vec<TxnRecord>,
}

/// Runs `base` at `level` on each seed of `seeds` in turn and returns the
/// first run whose history shows an anomaly of kind `kind` (its smallest
/// instance). Errors if the range is empty or no seed in it shows one
/// (then widen the range, or raise contention: fewer accounts; write skew
/// needs the on-call workload).
pub fn one_anomaly(
    base: &IsolationParams,
    level: Level,
    kind: Anomaly,
    seeds: Range<u64>,
) -> Result<AnomalyStory> {
    base.validate()?;
    if seeds.is_empty() {
        return Err(Error::invalid(
            "seeds",
            format!("{seeds:?}"),
            "a non-empty range such as 0..100",
        ));
    }
    let n = seeds.end - seeds.start;
    if n > crate::error::limits::SEEDS as u64 {
        return Err(Error::too_big(
            "seeds",
            format!("{seeds:?}"),
            "seeds in the range",
            crate::error::limits::SEEDS,
        ));
    }
    crate::error::check_work(
        "the seeds in the range × the run's clients and programs",
        n as f64 * base.work(),
    )?;
    for seed in seeds.clone() {
        let run: IsolationRun = IsolationParams {
            seed,
            level,
            ..base.clone()
        }
        .run()?;
        let best = run
            .anomalies
            .iter()
            .filter(|f| f.anomaly == kind)
            .min_by_key(|f| f.txns.len());
        if let Some(found) = best {
            let txns = found
                .txns
                .iter()
                .filter_map(|&t| run.history.txn(t).cloned())
                .collect();
            return Ok(AnomalyStory {
                seed,
                level,
                found: found.clone(),
                txns,
            });
        }
    }
    Err(Error::invalid(
        "seeds",
        format!("{seeds:?}"),
        &format!(
            "a range with a run showing a {} at {} (widen it, use fewer accounts, \
             or the on-call mix for write skew)",
            kind.name(),
            level.name()
        ),
    ))
}

impl AnomalyStory {
    /// The diagram's data: one lane per transaction of the cycle, each
    /// read and write a mark at its time (`r(a)=100`, `w(a)=40`), commit
    /// or abort at the end, the cycle's edges as arrows from the operation
    /// that creates each dependency to the one it constrains (labelled
    /// `ww a`, `wr b`, `rw a`), and the anomaly marked where its last
    /// transaction ends. An edge to a write that happened before its
    /// source operation points at the writer's commit instead, where the
    /// version was installed.
    pub fn sequence(&self) -> SequenceDiagram {
        let lanes = self.txns.iter().map(|t| format!("T{}: {}", t.id, t.label));
        let mut d = SequenceDiagram::new(lanes);
        let lane_of = |id| self.txns.iter().position(|t| t.id == id);
        let last = self
            .txns
            .iter()
            .enumerate()
            .max_by_key(|(_, t)| t.end)
            .map(|(i, _)| i);
        for (i, t) in self.txns.iter().enumerate() {
            for op in &t.ops {
                d.marks
                    .push(Mark::new(i, op.at().as_ms(), MarkKind::Note, op.label()));
            }
            let end = if t.is_committed() { "commit" } else { "abort" };
            let (kind, label) = if Some(i) == last {
                (
                    MarkKind::Violation,
                    format!(
                        "{end}: {} ({})",
                        self.found.anomaly.name(),
                        self.found.anomaly.adya()
                    ),
                )
            } else {
                (MarkKind::Note, end.to_string())
            };
            d.marks.push(Mark::new(i, t.end.as_ms(), kind, label));
        }
        for e in &self.found.edges {
            let (Some(a), Some(b)) = (lane_of(e.from), lane_of(e.to)) else {
                continue;
            };
            let (ta, tb) = (&self.txns[a], &self.txns[b]);
            let write = |t: &TxnRecord| {
                t.ops
                    .iter()
                    .rev()
                    .find(|o| !o.is_read() && o.key() == e.key)
                    .map(TxnOp::at)
            };
            // The read that saw `writer`'s version, or any read of the key
            // not of the reader's own write.
            let read = |t: &TxnRecord, writer: Option<u64>| {
                t.ops
                    .iter()
                    .find(|o| {
                        let w = o.version().writer;
                        o.is_read() && o.key() == e.key && writer.map_or(w != t.id, |x| w == x)
                    })
                    .map(TxnOp::at)
            };
            let (sent, got) = match e.kind {
                EdgeKind::WW => (write(ta), write(tb)),
                EdgeKind::WR => (write(ta), read(tb, Some(e.from))),
                EdgeKind::RW => (read(ta, None), write(tb)),
            };
            let (Some(sent), Some(got)) = (sent, got) else {
                continue;
            };
            let (s, mut g) = (sent.as_ms(), got.as_ms());
            if g < s {
                g = tb.end.as_ms().max(s);
            }
            d.arrows.push(Arrow::delivered(
                a,
                b,
                s,
                g,
                format!("{} {}", e.kind.name(), key_name(e.key)),
            ));
        }
        d
    }

    /// The diagram (see [`AnomalyStory::sequence`]), titled with the
    /// anomaly, the level and the seed.
    pub fn diagram(&self) -> Result<Figure> {
        let a = self.found.anomaly;
        let mut name = a.name().to_string();
        if let Some(c) = name.get_mut(0..1) {
            c.make_ascii_uppercase();
        }
        let width = 360 + 240 * self.txns.len().max(2) as u32;
        sequence_diagram(
            &self.sequence(),
            Opts::new(format!(
                "{name} under {} (seed {})",
                self.level.name(),
                self.seed
            ))
            .y_label("time (ms)"),
        )
        .map(|f| f.with_size(width.min(1600), 760))
    }
}
