//! Bounded-load consistent hashing against the plain ring under Zipf skew
//! ([`crate::partition::bounded`]).
//!
//! Each run draws `m` requests with Zipf-distributed keys and places them,
//! in order, on a ring of `n` nodes: the plain ring sends each to its key's
//! owner; bounded loads send it to the first node clockwise with fewer than
//! `⌈(1+ε)·m/n⌉`. Measured per ε, over seeds: the busiest node's requests
//! over the mean (at most the capacity for bounded loads, by construction);
//! the requests not on their key's owner (at least the overflow
//! `Σ max(0, owned − cap)`); and the requests that change node when node `n`
//! joins (theory `1/(n+1)` for the plain ring).

use super::seeds_from;
use crate::error::{Error, Result};
use crate::measure::stats::{mean_ci, MeanCi};
use crate::measure::theory;
use crate::measure::workload::ZipfKeys;
use crate::partition::bounded::{capacity, check_eps, displaced_floor, loads_of, place_bounded};
use crate::partition::{ConsistentHash, NodeName, Partitioner};
use crate::plot::{line_chart, Figure, Opts, Series, SeriesStyle, Table};
use crate::sim::rng::{self, domain};
use serde::Serialize;

/// Parameters of the bounded-load experiment.
#[derive(Debug, Clone, Serialize)]
pub struct BoundedParams {
    /// First seed.
    pub seed: u64,
    /// Replications (ring placements and request draws), >= 2.
    pub seeds: u64,
    /// Nodes before the join, >= 2.
    pub nodes: usize,
    /// Distinct keys `0..keys` (key 0 the most popular).
    pub keys: usize,
    /// Requests placed per run (the balls).
    pub requests: usize,
    /// Virtual nodes per node.
    pub vnodes: usize,
    /// Zipf exponent of the requests' keys.
    pub skew: f64,
}

impl Default for BoundedParams {
    /// 10 nodes, 10,000 keys, 10,000 requests at Zipf s = 1, 100 virtual
    /// nodes, 10 seeds.
    fn default() -> Self {
        BoundedParams {
            seed: 1,
            seeds: 10,
            nodes: 10,
            keys: 10_000,
            requests: 10_000,
            vnodes: 100,
            skew: 1.0,
        }
    }
}

impl BoundedParams {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        crate::measure::stats::check_replications(self.seeds)?;
        crate::error::check_count("nodes", self.nodes, 2, 1_000, "nodes")?;
        crate::error::check_count("keys", self.keys, 1, 1_000_000, "keys")?;
        crate::error::check_count("requests", self.requests, 1, 1_000_000, "requests")?;
        crate::error::check_count("vnodes", self.vnodes, 1, 10_000, "virtual nodes")?;
        if !(self.skew.is_finite() && (0.0..=10.0).contains(&self.skew)) {
            return Err(Error::invalid(
                "skew",
                self.skew,
                "a Zipf exponent from 0 to 10",
            ));
        }
        Ok(())
    }
}

/// One run: what the plain ring and bounded loads did with one draw.
#[derive(Debug, Clone, Serialize)]
pub struct BoundedRun {
    /// The capacity `⌈(1+ε)·m/n⌉` before the join.
    pub cap: usize,
    /// Requests per node, plain ring (order of the node names).
    pub plain: Vec<usize>,
    /// Requests per node, bounded loads.
    pub bounded: Vec<usize>,
    /// Requests not on their key's owner (bounded loads).
    pub off_owner: usize,
    /// The overflow `Σ max(0, owned − cap)`: a floor for `off_owner`.
    pub floor: usize,
    /// Requests whose node changed when node `n` joined: plain, bounded.
    pub moved: (usize, usize),
    /// Theory of the plain ring's busiest node over the mean, from the key
    /// probabilities and this ring.
    pub plain_theory: f64,
}

/// The Zipf request keys of one run.
pub fn requests(p: &BoundedParams, seed: u64) -> Result<Vec<u64>> {
    let zipf = ZipfKeys::new(p.keys, p.skew)?;
    let mut r = rng::stream(seed, domain::EXPERIMENT, 701, 0);
    Ok((0..p.requests)
        .map(|_| zipf.sample(&mut r) as u64)
        .collect())
}

/// One run at slack `eps` with seed `seed`.
pub fn run_once(p: &BoundedParams, eps: f64, seed: u64) -> Result<BoundedRun> {
    p.validate()?;
    check_eps(eps)?;
    let names: Vec<NodeName> = (0..p.nodes).collect();
    let ring = ConsistentHash::new(&names, p.vnodes, seed)?;
    let reqs = requests(p, seed)?;
    let owner: Vec<NodeName> = reqs.iter().map(|&k| ring.node_for(k)).collect();
    let placed = place_bounded(&ring, &reqs, eps)?;
    let cap = capacity(p.requests, p.nodes, eps)?;
    let plain = loads_of(&owner, &names);
    let off_owner = owner.iter().zip(&placed).filter(|(a, b)| a != b).count();
    let mut grown = ring.clone();
    grown.add_node(p.nodes)?;
    let owner2: Vec<NodeName> = reqs.iter().map(|&k| grown.node_for(k)).collect();
    let placed2 = place_bounded(&grown, &reqs, eps)?;
    let changed = |a: &[NodeName], b: &[NodeName]| a.iter().zip(b).filter(|(x, y)| x != y).count();
    let probs = theory::zipf_probabilities(p.keys, p.skew)?;
    let routes: Vec<Vec<NodeName>> = (0..p.keys as u64).map(|k| vec![ring.node_for(k)]).collect();
    let shares = theory::expected_shares(&probs, &routes, p.nodes);
    Ok(BoundedRun {
        cap,
        floor: displaced_floor(&plain, cap),
        bounded: loads_of(&placed, &names),
        plain,
        off_owner,
        moved: (changed(&owner, &owner2), changed(&placed, &placed2)),
        plain_theory: theory::hottest_over_mean(&shares),
    })
}

/// Plain ring against bounded loads at one ε, over seeds.
#[derive(Debug, Clone, Serialize)]
pub struct BoundedPoint {
    /// The slack ε.
    pub eps: f64,
    /// The capacity over the mean, `⌈(1+ε)·m/n⌉ / (m/n)`: the bound.
    pub cap_over_mean: f64,
    /// Busiest node over the mean, plain ring.
    pub plain: MeanCi,
    /// Theory of the plain ring's busiest node (mean over seeds).
    pub plain_theory: f64,
    /// Busiest node over the mean, bounded loads.
    pub bounded: MeanCi,
    /// The largest busiest-node load over the capacity in any seed (at
    /// most 1).
    pub worst_over_cap: f64,
    /// Fraction of requests not on their key's owner.
    pub off_owner: MeanCi,
    /// The overflow floor of that fraction.
    pub floor: MeanCi,
    /// Fraction of requests that changed node on the join: plain ring.
    pub moved_plain: MeanCi,
    /// The same with bounded loads.
    pub moved_bounded: MeanCi,
}

/// The experiment over a list of ε.
pub fn bounded_vs_eps(p: &BoundedParams, eps: &[f64]) -> Result<Vec<BoundedPoint>> {
    p.validate()?;
    if eps.is_empty() {
        return Err(Error::empty("eps"));
    }
    for &e in eps {
        check_eps(e)?;
    }
    crate::error::check_work(
        "ε values × seeds × requests × ring points / 100",
        eps.len() as f64 * p.seeds as f64 * p.requests as f64 * (p.nodes * p.vnodes) as f64 / 100.0,
    )?;
    let mean = p.requests as f64 / p.nodes as f64;
    let m = p.requests as f64;
    let mut out = Vec::new();
    for &e in eps {
        let mut cols: [Vec<f64>; 6] = Default::default();
        let mut th = 0.0;
        let mut worst = 0.0f64;
        let seeds = seeds_from(p.seed, p.seeds)?;
        for &seed in &seeds {
            let r = run_once(p, e, seed)?;
            let max_b = r.bounded.iter().copied().max().unwrap_or(0) as f64;
            cols[0].push(r.plain.iter().copied().max().unwrap_or(0) as f64 / mean);
            cols[1].push(max_b / mean);
            cols[2].push(r.off_owner as f64 / m);
            cols[3].push(r.floor as f64 / m);
            cols[4].push(r.moved.0 as f64 / m);
            cols[5].push(r.moved.1 as f64 / m);
            th += r.plain_theory / seeds.len() as f64;
            worst = worst.max(max_b / r.cap as f64);
        }
        out.push(BoundedPoint {
            eps: e,
            cap_over_mean: capacity(p.requests, p.nodes, e)? as f64 / mean,
            plain: mean_ci(&cols[0])?,
            plain_theory: th,
            bounded: mean_ci(&cols[1])?,
            worst_over_cap: worst,
            off_owner: mean_ci(&cols[2])?,
            floor: mean_ci(&cols[3])?,
            moved_plain: mean_ci(&cols[4])?,
            moved_bounded: mean_ci(&cols[5])?,
        });
    }
    Ok(out)
}

fn points(label: &str, pts: &[BoundedPoint], f: impl Fn(&BoundedPoint) -> MeanCi) -> Series {
    Series::new(label, pts.iter().map(|p| (p.eps, f(p).mean)).collect())
        // A fraction or a load is never negative: the interval stops at 0.
        .with_band(
            pts.iter()
                .map(|p| {
                    let (lo, hi) = f(p).interval();
                    (lo.max(0.0), hi)
                })
                .collect(),
        )
        .with_style(SeriesStyle::Points)
}

/// Busiest node over the mean against ε: plain ring and bounded loads
/// (simulated, 95 % intervals), the plain ring's theory and the bound.
pub fn load_chart(p: &BoundedParams, pts: &[BoundedPoint]) -> Result<Figure> {
    line_chart(
        &[
            points("plain ring", pts, |q| q.plain),
            points("bounded loads", pts, |q| q.bounded),
        ],
        &[
            Series::new(
                "plain ring: n·max share",
                pts.iter().map(|q| (q.eps, q.plain_theory)).collect(),
            ),
            Series::new(
                "bound ⌈(1+ε)·mean⌉",
                pts.iter().map(|q| (q.eps, q.cap_over_mean)).collect(),
            ),
        ],
        Opts::new(format!(
            "Bounded loads: {} requests on {} nodes, Zipf s = {}",
            grouped(p.requests as u64),
            p.nodes,
            p.skew
        ))
        .x_label("slack ε (capacity ⌈(1+ε)·mean⌉)")
        .y_label("busiest node load / mean")
        .y_from_zero(),
    )
}

/// The price of the bound against ε: requests off their owner (with the
/// overflow floor) and requests moved by a join (plain ring: `1/(n+1)`).
pub fn price_chart(p: &BoundedParams, pts: &[BoundedPoint]) -> Result<Figure> {
    let join = 1.0 / (p.nodes as f64 + 1.0);
    line_chart(
        &[
            points("off their owner (bounded)", pts, |q| q.off_owner),
            points("moved by the join (bounded)", pts, |q| q.moved_bounded),
        ],
        &[
            Series::new(
                "overflow floor Σ(owned−cap)⁺/m",
                pts.iter().map(|q| (q.eps, q.floor.mean)).collect(),
            ),
            Series::new(
                "plain ring moves 1/(n+1)",
                pts.iter().map(|q| (q.eps, join)).collect(),
            ),
        ],
        Opts::new(format!(
            "The price of bounded loads: node {} joins {} nodes",
            p.nodes, p.nodes
        ))
        .x_label("slack ε")
        .y_label("fraction of requests")
        .y_from_zero(),
    )
}

/// The experiment as a table.
pub fn bounded_table(pts: &[BoundedPoint]) -> Table {
    let mut t = Table::new(&[
        "ε",
        "bound",
        "plain max/mean",
        "bounded max/mean",
        "off owner",
        "floor",
        "moved: plain",
        "moved: bounded",
    ]);
    let ci = |m: &MeanCi| format!("{:.3} ± {:.3}", m.mean, m.half_width);
    for q in pts {
        t = t.row(vec![
            format!("{}", q.eps),
            format!("{:.3}", q.cap_over_mean),
            ci(&q.plain),
            ci(&q.bounded),
            ci(&q.off_owner),
            format!("{:.3}", q.floor.mean),
            ci(&q.moved_plain),
            ci(&q.moved_bounded),
        ]);
    }
    t
}

/// `n` with a comma between thousands, for titles ("10,000").
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}
