//! Hot spots under Zipf-distributed keys.
//!
//! Requests pick keys `0..K` from a Zipf distribution with exponent `s`
//! ([`ZipfKeys`]): key `k` with probability `p_k = (k+1)^−s / H`. A node's
//! expected load is the sum of the probabilities of its keys, so the
//! theory of the hottest node's load over the mean is
//! `n · max_j Σ_{k on j} p_k`, computed from the placement itself
//! ([`expected_shares`]); it can never fall below `n · p_0`, the most popular
//! key alone. Consistent hashing scatters the popular keys; range
//! partitioning keeps them together (keys `0, 1, 2, …` are the most
//! popular and share the first range), so its first node runs hot.
//!
//! Two remedies: **split** the hot range (at the median of its load, the
//! upper part to the least loaded node) until a single key is left; and
//! **replicate** the hottest key on `r` nodes with reads spread evenly over
//! the replicas, which divides `p_0` by `r`.

use super::seeds_from;
use crate::error::{Error, Result};
use crate::measure::stats::{mean_ci, MeanCi};
use crate::measure::theory;
use crate::measure::workload::ZipfKeys;
use crate::partition::{ConsistentHash, NodeName, Partitioner, RangePartition};
use crate::plot::{line_chart, Figure, Opts, Series, SeriesStyle, Table};
use crate::sim::rng::{self, domain};
use serde::Serialize;

/// Parameters of the hot-spot experiments.
#[derive(Debug, Clone, Serialize)]
pub struct HotParams {
    /// First seed.
    pub seed: u64,
    /// Replications, >= 2.
    pub seeds: u64,
    /// Nodes, >= 2.
    pub nodes: usize,
    /// Distinct keys `0..keys` (key 0 the most popular).
    pub keys: usize,
    /// Requests drawn per run.
    pub requests: usize,
    /// Virtual nodes per node for consistent hashing.
    pub vnodes: usize,
}

impl Default for HotParams {
    /// 10 nodes, 10,000 keys, 100,000 requests, 100 virtual nodes, 10 seeds.
    fn default() -> Self {
        HotParams {
            seed: 1,
            seeds: 10,
            nodes: 10,
            keys: 10_000,
            requests: 100_000,
            vnodes: 100,
        }
    }
}

impl HotParams {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        crate::measure::stats::check_replications(self.seeds)?;
        crate::error::check_count("nodes", self.nodes, 2, 10_000, "nodes")?;
        crate::error::check_count(
            "keys",
            self.keys,
            self.nodes,
            1_000_000,
            "keys (at least one per node)",
        )?;
        crate::error::check_count("requests", self.requests, 1, 100_000_000, "requests")?;
        crate::error::check_count("vnodes", self.vnodes, 1, 100_000, "virtual nodes")?;
        Ok(())
    }
    fn node_names(&self) -> Vec<NodeName> {
        (0..self.nodes).collect()
    }
}

fn check_skew(s: f64) -> Result<f64> {
    if s.is_finite() && (0.0..=10.0).contains(&s) {
        Ok(s)
    } else {
        Err(Error::invalid("skew", s, "a Zipf exponent from 0 to 10"))
    }
}

/// Zipf probabilities of keys `0..keys` with exponent `s` from 0 to 10
/// ([`theory::zipf_probabilities`] with this chapter's range of skews).
pub fn zipf_probabilities(keys: usize, s: f64) -> Result<Vec<f64>> {
    crate::error::check_count("keys", keys, 1, crate::error::limits::ITEMS, "keys")?;
    theory::zipf_probabilities(keys, check_skew(s)?)
}

/// Where reads of each key go: `route[k]` lists the replicas of key `k`;
/// a read picks one of them uniformly.
pub type Routes = Vec<Vec<NodeName>>;

/// Expected share of the requests on each node `0..nodes`:
/// [`theory::expected_shares`].
pub use crate::measure::theory::expected_shares;

/// Draws `requests` Zipf requests routed by `routes` and returns the
/// requests per node.
fn simulate(
    zipf: &ZipfKeys,
    routes: &Routes,
    nodes: usize,
    requests: usize,
    seed: u64,
) -> Vec<u64> {
    let mut r = rng::stream(seed, domain::EXPERIMENT, 700, 0);
    let mut count = vec![0u64; nodes];
    for _ in 0..requests {
        let k = zipf.sample(&mut r);
        let reps = &routes[k];
        let n = if reps.len() == 1 {
            reps[0]
        } else {
            reps[(rng::unit_f64(&mut r) * reps.len() as f64) as usize % reps.len()]
        };
        count[n] += 1;
    }
    count
}

/// Simulated and theoretical hottest load over mean, over seeds.
#[derive(Debug, Clone, Serialize)]
pub struct HotPoint {
    /// The x value (skew, replicas or splits).
    pub x: f64,
    /// Simulated: the largest node's requests over the mean, over seeds.
    pub max_over_mean: MeanCi,
    /// Simulated minus expected load (over the mean) of the node with the
    /// largest expected load, over seeds: 0 in theory.
    pub hot_error: MeanCi,
    /// Theory: `n · max_j` expected share, averaged over seeds (placements).
    pub theory: f64,
    /// Theory: the floor `n · p_0` of the most popular key, or of its
    /// `1/r` part when it is replicated.
    pub floor: f64,
}

/// Runs `routes_for(seed)` over seeds at one setting.
fn hot_point(
    p: &HotParams,
    x: f64,
    s: f64,
    floor: f64,
    routes_for: &dyn Fn(u64, &[f64]) -> Result<Routes>,
) -> Result<HotPoint> {
    let probs = zipf_probabilities(p.keys, s)?;
    let zipf = ZipfKeys::new(p.keys, s)?;
    let (mut mx, mut err, mut th) = (Vec::new(), Vec::new(), Vec::new());
    for seed in seeds_from(p.seed, p.seeds)? {
        let routes = routes_for(seed, &probs)?;
        let shares = expected_shares(&probs, &routes, p.nodes);
        let counts = simulate(&zipf, &routes, p.nodes, p.requests, seed);
        let mean = p.requests as f64 / p.nodes as f64;
        let hot = (0..p.nodes)
            .max_by(|&a, &b| shares[a].total_cmp(&shares[b]).then(b.cmp(&a)))
            .unwrap_or(0);
        mx.push(counts.iter().copied().max().unwrap_or(0) as f64 / mean);
        err.push(counts[hot] as f64 / mean - shares[hot] * p.nodes as f64);
        th.push(theory::hottest_over_mean(&shares));
    }
    Ok(HotPoint {
        x,
        max_over_mean: mean_ci(&mx)?,
        hot_error: mean_ci(&err)?,
        theory: th.iter().sum::<f64>() / th.len() as f64,
        floor,
    })
}

fn work(p: &HotParams, points: usize) -> Result<()> {
    crate::error::check_work(
        "settings × seeds × (requests + keys + nodes × vnodes)",
        points as f64
            * p.seeds as f64
            * (p.requests as f64 + 10.0 * p.keys as f64 + (p.nodes * p.vnodes) as f64),
    )
}

fn hash_routes(p: &HotParams, seed: u64, replicas_of_hottest: usize) -> Result<Routes> {
    let ring = ConsistentHash::new(&p.node_names(), p.vnodes, seed)?;
    Ok((0..p.keys as u64)
        .map(|k| {
            if k == 0 {
                ring.successors(k, replicas_of_hottest)
            } else {
                vec![ring.node_for(k)]
            }
        })
        .collect())
}

fn range_routes(p: &HotParams, part: &RangePartition) -> Routes {
    (0..p.keys as u64).map(|k| vec![part.node_for(k)]).collect()
}

/// Hottest load over mean against the skew `s`, for consistent hashing
/// (`.0`) and range partitioning (`.1`).
pub fn hot_vs_skew(p: &HotParams, skews: &[f64]) -> Result<(Vec<HotPoint>, Vec<HotPoint>)> {
    p.validate()?;
    if skews.is_empty() {
        return Err(Error::empty("skews"));
    }
    work(p, 2 * skews.len())?;
    let (mut hash, mut range) = (Vec::new(), Vec::new());
    for &s in skews {
        let floor = p.nodes as f64 * zipf_probabilities(p.keys, s)?[0];
        hash.push(hot_point(p, s, s, floor, &|seed, _| {
            hash_routes(p, seed, 1)
        })?);
        let part = RangePartition::new(&p.node_names(), p.keys as u64)?;
        range.push(hot_point(p, s, s, floor, &|_, _| {
            Ok(range_routes(p, &part))
        })?);
    }
    Ok((hash, range))
}

/// Consistent hashing at skew `s` with the hottest key on `r` replicas,
/// for each `r` in `replicas` (1 = no extra replica; at most `nodes`).
pub fn hot_key_replicas(p: &HotParams, s: f64, replicas: &[usize]) -> Result<Vec<HotPoint>> {
    p.validate()?;
    if replicas.is_empty() {
        return Err(Error::empty("replicas"));
    }
    for &r in replicas {
        crate::error::check_count(
            "replicas",
            r,
            1,
            p.nodes,
            "replicas (1 to the number of nodes)",
        )?;
    }
    work(p, replicas.len())?;
    let p0 = zipf_probabilities(p.keys, s)?[0];
    replicas
        .iter()
        .map(|&r| {
            let floor = p.nodes as f64 * p0 / r as f64;
            hot_point(p, r as f64, s, floor, &|seed, _| hash_routes(p, seed, r))
        })
        .collect()
}

/// Range partitioning at skew `s` after `0, 1, …, splits` splits of the
/// hottest range: each split cuts the hottest node's hottest range at the
/// median of its load and gives the upper part to the least loaded node.
/// Stops early when the hottest range is a single key.
pub fn range_splits(p: &HotParams, s: f64, splits: usize) -> Result<Vec<HotPoint>> {
    p.validate()?;
    crate::error::check_count("splits", splits, 0, 1_000, "splits")?;
    work(p, splits + 1)?;
    // Each split scans the key probabilities a few times.
    crate::error::check_work("splits × keys", 4.0 * splits as f64 * p.keys as f64)?;
    let probs = zipf_probabilities(p.keys, s)?;
    let floor = p.nodes as f64 * probs[0];
    let mut part = RangePartition::new(&p.node_names(), p.keys as u64)?;
    let mut out = Vec::new();
    for i in 0..=splits {
        let routes = range_routes(p, &part);
        out.push(hot_point(
            p,
            i as f64,
            s,
            floor,
            &|_, _| Ok(routes.clone()),
        )?);
        if i == splits || !split_hottest(&mut part, &probs, p.nodes)? {
            break;
        }
    }
    Ok(out)
}

/// One split of the hottest range; false if it holds a single key.
fn split_hottest(part: &mut RangePartition, probs: &[f64], nodes: usize) -> Result<bool> {
    let ranges = part.ranges();
    let load = |a: u64, b: u64| -> f64 {
        probs[a as usize..(b as usize).min(probs.len())]
            .iter()
            .sum()
    };
    let mut node_load = vec![0.0; nodes];
    for &(a, b, n) in &ranges {
        node_load[n] += load(a, b);
    }
    let Some(&(a, b, _)) = ranges
        .iter()
        .max_by(|x, y| load(x.0, x.1).total_cmp(&load(y.0, y.1)))
    else {
        return Ok(false);
    };
    if b - a < 2 {
        return Ok(false);
    }
    // Median of the range's load, strictly inside it.
    let half = load(a, b) / 2.0;
    let mut acc = 0.0;
    let mut at = a + 1;
    for k in a..b {
        acc += probs[k as usize];
        if acc >= half {
            at = (k + 1).clamp(a + 1, b - 1);
            break;
        }
    }
    let coldest = (0..nodes)
        .min_by(|&x, &y| node_load[x].total_cmp(&node_load[y]))
        .unwrap_or(0);
    part.split(at, coldest)?;
    Ok(true)
}

fn hot_series(label: &str, pts: &[HotPoint]) -> Series {
    Series::new(
        label,
        pts.iter().map(|p| (p.x, p.max_over_mean.mean)).collect(),
    )
    .with_band(pts.iter().map(|p| p.max_over_mean.interval()).collect())
    .with_style(SeriesStyle::Points)
}

fn theory_series(label: &str, pts: &[HotPoint]) -> Series {
    Series::new(label, pts.iter().map(|p| (p.x, p.theory)).collect())
}

fn floor_series(label: &str, pts: &[HotPoint]) -> Series {
    Series::new(label, pts.iter().map(|p| (p.x, p.floor)).collect())
}

/// Hottest node over mean against the skew: consistent hashing and range
/// partitioning (simulated with 95 % intervals; theory from the key
/// probabilities dashed) and the floor of the most popular key.
pub fn hot_skew_chart(p: &HotParams, hash: &[HotPoint], range: &[HotPoint]) -> Result<Figure> {
    line_chart(
        &[
            hot_series("consistent hashing", hash),
            hot_series("range partitioning", range),
        ],
        &[
            theory_series("consistent: n·max share", hash),
            theory_series("range: n·max share", range),
            floor_series("most popular key alone: n·p₀", hash),
        ],
        Opts::new(format!(
            "Hot spots: {} keys on {} nodes, Zipf requests",
            p.keys, p.nodes
        ))
        .x_label("Zipf exponent s (0 = uniform)")
        .y_label("hottest node load / mean"),
    )
}

/// Hottest node over mean against the replicas of the hottest key.
pub fn replicas_chart(p: &HotParams, s: f64, pts: &[HotPoint]) -> Result<Figure> {
    line_chart(
        &[hot_series("hottest key on r replicas (simulated)", pts)],
        &[
            theory_series("n·max share", pts),
            floor_series("that key alone: n·p₀/r", pts),
        ],
        Opts::new(format!(
            "Replicating the hottest key: consistent hashing, s = {s}, {} nodes",
            p.nodes
        ))
        .x_label("replicas r of the hottest key (reads spread evenly)")
        .y_label("hottest node load / mean"),
    )
}

/// Hottest node over mean against the number of splits of the hottest range.
pub fn splits_chart(p: &HotParams, s: f64, pts: &[HotPoint]) -> Result<Figure> {
    line_chart(
        &[hot_series("range partitioning (simulated)", pts)],
        &[
            theory_series("n·max share", pts),
            floor_series("most popular key alone: n·p₀", pts),
        ],
        Opts::new(format!(
            "Splitting the hot range: s = {s}, {} nodes",
            p.nodes
        ))
        .x_label("splits of the hottest range")
        .y_label("hottest node load / mean (log scale)")
        .log_y(),
    )
}

/// A hot-spot curve as a table.
pub fn hot_table(x_name: &str, pts: &[HotPoint]) -> Table {
    let mut t = Table::new(&[
        x_name,
        "max / mean (simulated)",
        "± 95 %",
        "theory",
        "floor n·p₀ (/r)",
    ]);
    for p in pts {
        t = t.row(vec![
            format!("{}", p.x),
            format!("{:.3}", p.max_over_mean.mean),
            format!("{:.3}", p.max_over_mean.half_width),
            format!("{:.3}", p.theory),
            format!("{:.3}", p.floor),
        ]);
    }
    t
}
