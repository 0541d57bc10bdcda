//! Secondary indexes, local against global
//! ([`crate::partition::secondary`]): what a query costs, what a write
//! costs, as the number of partitions `P` grows.
//!
//! Per hash seed: `docs` documents, each with `terms_per_doc` distinct
//! terms drawn uniformly from `vocabulary`, written into both stores, then
//! a fifth of them rewritten with new terms; then `queries` queries for
//! uniformly drawn terms. Every asked partition answers after an
//! independent draw of `partition_latency` (its round trip and service);
//! a request waits for the slowest partition it asks.
//!
//! Theory, with `T` the tail of one partition's latency:
//! - a local query asks all `P` partitions: `P(latency > x) = 1 − (1 − T(x))^P`;
//!   a global one asks one: `T(x)`;
//! - a global insert touches the distinct partitions among `m + 1`
//!   uniform picks (its document and its `m` terms):
//!   `E = P (1 − (1 − 1/P)^(m+1))`, and waits for the slowest of them:
//!   `P(latency > x) = 1 − Σ_k P(K = k) (1 − T(x))^k`, `K` the number of
//!   distinct picks (occupancy: `C(P,k) S(m+1,k) k! / P^(m+1)`, `S` the
//!   Stirling numbers of the second kind); a local insert touches one.
//!
//! Both stores must answer every query exactly as a scan of all documents
//! does: [`SecondaryPoint::wrong_answers`] counts where they do not.

use super::seeds_from;
use crate::error::{check_count, Error, Result};
use crate::measure::stats::{mean_ci, MeanCi};
use crate::measure::theory::{latency_tail, quantile_of_tail};
use crate::partition::secondary::{IndexKind, IndexedStore};
use crate::plot::{line_chart, Figure, Opts, Series, SeriesStyle, Table};
use crate::sim::latency::Latency;
use crate::sim::rng::{self, domain, SimRng};
use crate::sim::time::ms;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Parameters of the secondary-index experiment.
#[derive(Debug, Clone, Serialize)]
pub struct SecondaryParams {
    /// First seed.
    pub seed: u64,
    /// Replications (hash and workload seeds), >= 2.
    pub seeds: u64,
    /// Documents written, >= 1.
    pub docs: u64,
    /// Distinct terms per document, 1 to 16.
    pub terms_per_doc: usize,
    /// Terms to draw from, >= `terms_per_doc`.
    pub vocabulary: u64,
    /// Queries per seed (the p99 is taken over them), >= 100.
    pub queries: u64,
    /// One partition's answer time (round trip and service).
    pub partition_latency: Latency,
}

impl Default for SecondaryParams {
    /// 5,000 documents of 3 terms from 500, 2,000 queries, 10 seeds; a
    /// partition answers in a log-normal time of median 1 ms (σ = 0.5).
    fn default() -> Self {
        SecondaryParams {
            seed: 1,
            seeds: 10,
            docs: 5_000,
            terms_per_doc: 3,
            vocabulary: 500,
            queries: 2_000,
            partition_latency: Latency::log_normal(ms(1), 0.5)
                .expect("a median of 1 ms and sigma 0.5 are valid"),
        }
    }
}

impl SecondaryParams {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        crate::measure::stats::check_replications(self.seeds)?;
        check_count("docs", self.docs as usize, 1, 1_000_000, "documents")?;
        check_count(
            "terms_per_doc",
            self.terms_per_doc,
            1,
            16,
            "terms per document",
        )?;
        check_count(
            "vocabulary",
            self.vocabulary as usize,
            1,
            10_000_000,
            "terms",
        )?;
        if self.vocabulary < self.terms_per_doc as u64 {
            return Err(Error::invalid(
                "vocabulary",
                self.vocabulary,
                &format!(
                    "at least terms_per_doc ({}): a document's terms are distinct",
                    self.terms_per_doc
                ),
            ));
        }
        check_count("queries", self.queries as usize, 100, 1_000_000, "queries")?;
        self.partition_latency.validate()
    }
}

/// One index kind at one number of partitions, over seeds.
#[derive(Debug, Clone, Serialize)]
pub struct SecondaryPoint {
    /// Local or global.
    pub kind: IndexKind,
    /// Partitions `P`.
    pub partitions: usize,
    /// Partitions asked per query (`P` or 1).
    pub read_fanout: f64,
    /// p99 of query latency, ms.
    pub read_p99_ms: MeanCi,
    /// Theory of `read_p99_ms`.
    pub read_p99_theory_ms: f64,
    /// Partitions touched per insert.
    pub write_touched: MeanCi,
    /// Theory of `write_touched`.
    pub write_touched_theory: f64,
    /// p99 of insert latency (waiting for every touched partition), ms.
    pub write_p99_ms: MeanCi,
    /// Theory of `write_p99_ms`.
    pub write_p99_theory_ms: f64,
    /// Queries, over all seeds, whose answer differed from a scan of all
    /// documents (0 for a correct index).
    pub wrong_answers: u64,
}

/// Both kinds against the number of partitions.
#[derive(Debug, Clone, Serialize)]
pub struct SecondaryResult {
    /// The parameters.
    pub params: SecondaryParams,
    /// Local index, one point per partition count.
    pub local: Vec<SecondaryPoint>,
    /// Global index, one point per partition count.
    pub global: Vec<SecondaryPoint>,
}

/// Stirling numbers of the second kind `S(n, k)` for `k = 0..=n`.
fn stirling2(n: usize) -> Vec<f64> {
    let mut row = vec![1.0]; // S(0, 0)
    for i in 1..=n {
        let mut next = vec![0.0; i + 1];
        for k in 1..=i {
            let keep = if k < i { k as f64 * row[k] } else { 0.0 };
            next[k] = keep + row[k - 1];
        }
        row = next;
    }
    row
}

/// `P(K = k)` for `k = 0..=picks`: distinct values among `picks` uniform
/// draws from `p` values (`C(p,k) S(picks,k) k! / p^picks`).
pub fn distinct_picks_distribution(p: usize, picks: usize) -> Vec<f64> {
    let s = stirling2(picks);
    (0..=picks)
        .map(|k| {
            if k > p {
                return 0.0;
            }
            // C(p,k) k! = p (p-1) … (p-k+1), divided by p^picks factor by factor.
            let falling: f64 = (0..k).map(|i| (p - i) as f64 / p as f64).product();
            falling * s[k] / (p as f64).powi((picks - k) as i32)
        })
        .collect()
}

/// Theory: expected partitions touched by a global-index insert,
/// `P (1 − (1 − 1/P)^(m+1))`.
pub fn global_write_touched_theory(p: usize, terms_per_doc: usize) -> f64 {
    let p = p as f64;
    p * (1.0 - (1.0 - 1.0 / p).powi(terms_per_doc as i32 + 1))
}

/// The p99 (ms) of the slowest of `k` partitions, `k` drawn from `dist`
/// (`dist[k]` = P(K = k)).
fn slowest_p99_ms(lat: &Latency, dist: &[(usize, f64)]) -> Result<f64> {
    let tail = |x: f64| {
        let below = 1.0 - latency_tail(lat, x);
        1.0 - dist
            .iter()
            .map(|&(k, w)| w * below.powi(k as i32))
            .sum::<f64>()
    };
    Ok(quantile_of_tail(tail, 0.99)? / 1e6)
}

/// Nearest-rank p99 of a sample, in ms.
fn p99_ms(xs: &mut [f64]) -> f64 {
    xs.sort_by(f64::total_cmp);
    let idx = ((0.99 * xs.len() as f64).ceil() as usize).clamp(1, xs.len()) - 1;
    xs[idx] / 1e6
}

/// `m` distinct terms from `0..vocabulary`, sorted.
fn draw_terms(rng: &mut SimRng, m: usize, vocabulary: u64) -> Vec<u64> {
    let mut t = BTreeSet::new();
    while t.len() < m {
        t.insert(rng::index(rng, vocabulary as usize) as u64);
    }
    t.into_iter().collect()
}

/// What one seed measured for one store.
struct SeedRun {
    read_p99: f64,
    write_touched: f64,
    write_p99: f64,
    wrong: u64,
}

/// One store, one seed: inserts, rewrites, queries.
fn run_seed(p: &SecondaryParams, kind: IndexKind, parts: usize, seed: u64) -> Result<SeedRun> {
    let mut store = IndexedStore::new(kind, parts, seed)?;
    // The same documents and queries for both kinds (the stream does not
    // depend on the kind); the latency draws do not either.
    let mut work = rng::stream(seed, domain::EXPERIMENT, 7, parts as u64);
    let mut lat = rng::stream(seed, domain::EXPERIMENT, 8, parts as u64);
    let mut scan: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    let (mut touched, mut write_ns) = (0usize, Vec::with_capacity(p.docs as usize));
    let slowest = |rng: &mut SimRng, k: usize| {
        (0..k)
            .map(|_| p.partition_latency.sample(rng).as_nanos() as f64)
            .fold(0.0, f64::max)
    };
    for doc in 0..p.docs {
        let terms = draw_terms(&mut work, p.terms_per_doc, p.vocabulary);
        let k = store.write(doc, &terms).len();
        touched += k;
        write_ns.push(slowest(&mut lat, k));
        scan.insert(doc, terms);
    }
    for _ in 0..p.docs / 5 {
        let doc = rng::index(&mut work, p.docs as usize) as u64;
        let terms = draw_terms(&mut work, p.terms_per_doc, p.vocabulary);
        store.write(doc, &terms);
        scan.insert(doc, terms);
    }
    let mut carrying: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    for (&doc, terms) in &scan {
        for &t in terms {
            carrying.entry(t).or_default().push(doc);
        }
    }
    let (mut read_ns, mut wrong) = (Vec::with_capacity(p.queries as usize), 0);
    for _ in 0..p.queries {
        let term = rng::index(&mut work, p.vocabulary as usize) as u64;
        let asked = store.query_targets(term).len();
        read_ns.push(slowest(&mut lat, asked));
        let expect = carrying.get(&term).map_or(&[][..], |v| &v[..]);
        if store.query(term) != expect {
            wrong += 1;
        }
    }
    Ok(SeedRun {
        read_p99: p99_ms(&mut read_ns),
        write_touched: touched as f64 / p.docs as f64,
        write_p99: p99_ms(&mut write_ns),
        wrong,
    })
}

/// One kind at one partition count, over the seeds.
fn point(p: &SecondaryParams, kind: IndexKind, parts: usize) -> Result<SecondaryPoint> {
    let runs = seeds_from(p.seed, p.seeds)?
        .into_iter()
        .map(|s| run_seed(p, kind, parts, s))
        .collect::<Result<Vec<_>>>()?;
    let ci = |f: fn(&SeedRun) -> f64| mean_ci(&runs.iter().map(f).collect::<Vec<_>>());
    let m = p.terms_per_doc;
    let lat = &p.partition_latency;
    let (fanout, touched_theory, write_dist) = match kind {
        IndexKind::Local => (parts, 1.0, vec![(1, 1.0)]),
        IndexKind::Global => (
            1,
            global_write_touched_theory(parts, m),
            distinct_picks_distribution(parts, m + 1)
                .into_iter()
                .enumerate()
                .collect(),
        ),
    };
    Ok(SecondaryPoint {
        kind,
        partitions: parts,
        read_fanout: fanout as f64,
        read_p99_ms: ci(|r| r.read_p99)?,
        read_p99_theory_ms: slowest_p99_ms(lat, &[(fanout, 1.0)])?,
        write_touched: ci(|r| r.write_touched)?,
        write_touched_theory: touched_theory,
        write_p99_ms: ci(|r| r.write_p99)?,
        write_p99_theory_ms: slowest_p99_ms(lat, &write_dist)?,
        wrong_answers: runs.iter().map(|r| r.wrong).sum(),
    })
}

/// Local and global secondary indexes at each partition count in
/// `partitions` (1 to 256 each, at most 12 of them).
pub fn local_vs_global(p: &SecondaryParams, partitions: &[usize]) -> Result<SecondaryResult> {
    p.validate()?;
    if partitions.is_empty() {
        return Err(Error::empty("partitions"));
    }
    check_count(
        "partitions (list)",
        partitions.len(),
        1,
        12,
        "partition counts",
    )?;
    for &n in partitions {
        check_count("partitions", n, 1, 256, "partitions")?;
    }
    crate::error::check_work(
        "seeds × partitions × (docs + queries)",
        (p.seeds as f64)
            * partitions
                .iter()
                .map(|&n| (p.docs as f64 * 4.0 + p.queries as f64) * (n as f64 + 2.0))
                .sum::<f64>(),
    )?;
    let each = |kind| {
        partitions
            .iter()
            .map(|&n| point(p, kind, n))
            .collect::<Result<Vec<_>>>()
    };
    Ok(SecondaryResult {
        params: p.clone(),
        local: each(IndexKind::Local)?,
        global: each(IndexKind::Global)?,
    })
}

fn sim(label: &str, pts: &[SecondaryPoint], f: impl Fn(&SecondaryPoint) -> MeanCi) -> Series {
    Series::new(
        label,
        pts.iter()
            .map(|q| (q.partitions as f64, f(q).mean))
            .collect(),
    )
    .with_band(pts.iter().map(|q| f(q).interval()).collect())
    .with_style(SeriesStyle::Points)
}

fn theory(label: &str, pts: &[SecondaryPoint], f: impl Fn(&SecondaryPoint) -> f64) -> Series {
    Series::new(
        label,
        pts.iter().map(|q| (q.partitions as f64, f(q))).collect(),
    )
}

impl SecondaryResult {
    /// p99 of query latency against partitions, both kinds, with theory.
    pub fn read_chart(&self) -> Result<Figure> {
        line_chart(
            &[
                sim("local: ask all P", &self.local, |q| q.read_p99_ms),
                sim("global: ask one", &self.global, |q| q.read_p99_ms),
            ],
            &[
                theory("slowest of P: 1 − (1 − T)^P", &self.local, |q| {
                    q.read_p99_theory_ms
                }),
                theory("one partition: T", &self.global, |q| q.read_p99_theory_ms),
            ],
            Opts::new("Query by term: p99 latency")
                .x_label("partitions P")
                .y_label("query p99 (ms)")
                .log_x()
                .y_from_zero(),
        )
    }

    /// Partitions touched per insert against partitions, both kinds.
    pub fn write_chart(&self) -> Result<Figure> {
        let m = self.params.terms_per_doc;
        line_chart(
            &[
                sim("global: document + term partitions", &self.global, |q| {
                    q.write_touched
                }),
                sim("local: the document's partition", &self.local, |q| {
                    q.write_touched
                }),
            ],
            &[theory(
                &format!("P (1 − (1 − 1/P)^{})", m + 1),
                &self.global,
                |q| q.write_touched_theory,
            )],
            Opts::new(format!(
                "Insert of a document with {m} terms: partitions touched"
            ))
            .x_label("partitions P")
            .y_label("partitions touched per insert")
            .log_x()
            .y_from_zero(),
        )
    }

    /// Both kinds as a table.
    pub fn table(&self) -> Table {
        let mut t = Table::new(&[
            "index, P",
            "asked per query",
            "query p99 ms (sim)",
            "theory",
            "touched per insert (sim)",
            "theory",
            "insert p99 ms (sim)",
            "theory",
            "wrong answers",
        ]);
        let ci2 = |m: &MeanCi| format!("{:.2} ± {:.2}", m.mean, m.half_width);
        for q in self.local.iter().chain(&self.global) {
            let name = match q.kind {
                IndexKind::Local => "local",
                IndexKind::Global => "global",
            };
            t = t.row(vec![
                format!("{name}, {}", q.partitions),
                format!("{}", q.read_fanout),
                ci2(&q.read_p99_ms),
                format!("{:.2}", q.read_p99_theory_ms),
                ci2(&q.write_touched),
                format!("{:.2}", q.write_touched_theory),
                ci2(&q.write_p99_ms),
                format!("{:.2}", q.write_p99_theory_ms),
                q.wrong_answers.to_string(),
            ]);
        }
        t
    }
}
