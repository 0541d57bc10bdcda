//! Dynamic splitting by size ([`crate::partition::splitting`]): how many
//! ranges a growing data set makes, how full they are, and where the writes
//! go, for keys that arrive in random order and keys that arrive in order.
//!
//! Theory:
//! - random order: each range splits in half when it overflows, so ranges
//!   hold between half and all of `S = max_keys` keys: `N/S` to `2N/S`
//!   ranges. In the long run their mean fill is `ln 2 ≈ 0.693` of `S` (Yao
//!   1978, the fill of B-tree leaves): about `N / (S ln 2)` ranges. But the
//!   ranges born in one split grow at the same pace (each gets its share of
//!   random keys, ± `√S`), so for large `S` they overflow together: the
//!   count doubles in steps, generation by generation, and reaches the
//!   `ln 2` average only after many generations (small `S`);
//! - in order: only the last range grows; it splits every `⌊(S+1)/2⌋` keys
//!   once it first overflows at `S + 1`, leaving half-full ranges behind:
//!   exactly `2 + ⌊(N − S − 1)/⌊(S+1)/2⌋⌋` ranges for `N > S` (fill →
//!   1/2), and every write lands on one node.
//!
//! Per seed, keys are inserted one at a time; every `keys / steps` inserts
//! the run records the ranges and their fill; and for every `window`
//! consecutive writes, the share taken by the busiest node (averaged over
//! the step), against [`even_busiest_share`].

use super::seeds_from;
use crate::error::{check_count, Result};
use crate::measure::stats::{mean_ci, MeanCi};
use crate::partition::splitting::SplittingRanges;
use crate::plot::{line_chart, Figure, Opts, Series, SeriesStyle, Table};
use crate::sim::rng::{self, domain};
use rand::RngCore;
use serde::Serialize;

/// Parameters of the splitting experiment.
#[derive(Debug, Clone, Serialize)]
pub struct SplittingParams {
    /// First seed.
    pub seed: u64,
    /// Replications (key orders), >= 2.
    pub seeds: u64,
    /// Nodes, >= 1.
    pub nodes: usize,
    /// A range splits when it holds more than this many keys, >= 2.
    pub max_keys: usize,
    /// Keys inserted.
    pub keys: u64,
    /// Points recorded along the way, 2 to 100.
    pub steps: u64,
    /// Writes per window of the busiest-node measure, 1 to `keys / steps`.
    pub window: u64,
}

impl Default for SplittingParams {
    /// 10 nodes, ranges of at most 1,000 keys, 100,000 keys, 20 steps,
    /// windows of 20 writes, 10 seeds.
    fn default() -> Self {
        SplittingParams {
            seed: 1,
            seeds: 10,
            nodes: 10,
            max_keys: 1_000,
            keys: 100_000,
            steps: 20,
            window: 20,
        }
    }
}

impl SplittingParams {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        crate::measure::stats::check_replications(self.seeds)?;
        check_count("nodes", self.nodes, 1, 1_000, "nodes")?;
        check_count("max_keys", self.max_keys, 2, 10_000_000, "keys per range")?;
        check_count("keys", self.keys as usize, 1, 2_000_000, "keys")?;
        check_count("steps", self.steps as usize, 2, 100, "steps")?;
        check_count(
            "steps",
            self.steps as usize,
            2,
            self.keys.max(2) as usize,
            "steps (at most one per key)",
        )?;
        check_count(
            "window",
            self.window as usize,
            1,
            (self.keys / self.steps).max(1) as usize,
            "writes per window (at most keys / steps)",
        )?;
        crate::error::check_work(
            "seeds × keys × 2 orders",
            self.seeds as f64 * self.keys as f64 * 2.0 * 4.0,
        )
    }
}

/// The order keys arrive in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum KeyOrder {
    /// Uniformly random 64-bit keys.
    Random,
    /// 0, 1, 2, … (timestamps, counters).
    Sequential,
}

/// One order at one point of the growth, over seeds.
#[derive(Debug, Clone, Serialize)]
pub struct SplitPoint {
    /// Keys inserted so far.
    pub keys: u64,
    /// Ranges.
    pub partitions: MeanCi,
    /// Theory of `partitions`.
    pub partitions_theory: f64,
    /// Mean keys per range over `max_keys`.
    pub fill: MeanCi,
    /// The busiest node's share of `window` consecutive writes, averaged
    /// over the step's windows.
    pub busiest_share: MeanCi,
    /// Theory of `busiest_share` if every write went to a node drawn
    /// uniformly ([`even_busiest_share`]); 1 for keys in order.
    pub busiest_theory: f64,
}

/// Both orders along the growth.
#[derive(Debug, Clone, Serialize)]
pub struct SplittingResult {
    /// The parameters.
    pub params: SplittingParams,
    /// Random order.
    pub random: Vec<SplitPoint>,
    /// In order.
    pub sequential: Vec<SplitPoint>,
}

/// Theory: ranges after `n` keys inserted in order, threshold `s`.
pub fn sequential_partitions(n: u64, s: usize) -> u64 {
    let s = s as u64;
    if n <= s {
        1
    } else {
        2 + (n - s - 1) / s.div_ceil(2)
    }
}

/// Theory: ranges after `n` keys inserted in random order, threshold `s`:
/// `n / (s ln 2)`, and at least 1.
pub fn random_partitions(n: u64, s: usize) -> f64 {
    (n as f64 / (s as f64 * std::f64::consts::LN_2)).max(1.0)
}

/// Theory: the expected share of the busiest of `n` nodes among `w`
/// writes, each sent to a node drawn uniformly: even placement still
/// gives the busiest node more than `1/n` of a short window, by chance.
/// `P(max <= m) = w!/n^w [x^w] (Σ_{j<=m} x^j/j!)^n` (counting the
/// sequences in which no node takes more than `m`), and
/// `E[max] = Σ_m P(max > m)`.
pub fn even_busiest_share(n: usize, w: u64) -> f64 {
    let w = w as usize;
    if n <= 1 || w == 0 {
        return 1.0;
    }
    // w! / n^w as a product, so that nothing overflows.
    let scale: f64 = (1..=w).map(|i| i as f64 / n as f64).product();
    let mut expected_max = 0.0;
    for m in 0..w {
        // (Σ_{j<=m} x^j/j!)^n, truncated at degree w.
        let base: Vec<f64> = (0..=m.min(w))
            .scan(1.0, |f, j| {
                if j > 0 {
                    *f /= j as f64;
                }
                Some(*f)
            })
            .collect();
        let mut poly = vec![0.0; w + 1];
        poly[0] = 1.0;
        for _ in 0..n {
            let mut next = vec![0.0; w + 1];
            for (i, &a) in poly.iter().enumerate().filter(|(_, a)| **a != 0.0) {
                for (j, &b) in base.iter().enumerate().take(w + 1 - i) {
                    next[i + j] += a * b;
                }
            }
            poly = next;
        }
        let at_most_m = (poly[w] * scale).min(1.0);
        expected_max += 1.0 - at_most_m;
    }
    expected_max / w as f64
}

/// One seed, one order: (partitions, fill, busiest share) at each step.
fn grow(p: &SplittingParams, order: KeyOrder, seed: u64) -> Result<Vec<(f64, f64, f64)>> {
    let nodes: Vec<usize> = (0..p.nodes).collect();
    let mut s = SplittingRanges::new(&nodes, p.max_keys)?;
    let mut rng = rng::stream(seed, domain::EXPERIMENT, 11, 0);
    let step = p.keys / p.steps;
    let mut window = vec![0u64; p.nodes];
    let (mut shares, mut windows) = (0.0, 0u64);
    let mut out = Vec::with_capacity(p.steps as usize);
    for i in 0..step * p.steps {
        let key = match order {
            KeyOrder::Random => rng.next_u64(),
            KeyOrder::Sequential => i,
        };
        window[s.insert(key).node] += 1;
        if (i % step + 1) % p.window == 0 {
            shares += *window.iter().max().expect("nodes >= 1") as f64 / p.window as f64;
            windows += 1;
            window.iter_mut().for_each(|w| *w = 0);
        }
        if (i + 1) % step == 0 {
            let parts = s.partitions() as f64;
            out.push((
                parts,
                s.keys() as f64 / (parts * p.max_keys as f64),
                shares / windows.max(1) as f64,
            ));
            (shares, windows) = (0.0, 0);
            window.iter_mut().for_each(|w| *w = 0);
        }
    }
    Ok(out)
}

fn points(p: &SplittingParams, order: KeyOrder) -> Result<Vec<SplitPoint>> {
    let runs = seeds_from(p.seed, p.seeds)?
        .into_iter()
        .map(|s| grow(p, order, s))
        .collect::<Result<Vec<_>>>()?;
    let step = p.keys / p.steps;
    let even = even_busiest_share(p.nodes, p.window);
    (0..p.steps as usize)
        .map(|j| {
            let col = |f: fn(&(f64, f64, f64)) -> f64| {
                mean_ci(&runs.iter().map(|r| f(&r[j])).collect::<Vec<_>>())
            };
            let n = step * (j as u64 + 1);
            Ok(SplitPoint {
                keys: n,
                partitions: col(|x| x.0)?,
                partitions_theory: match order {
                    KeyOrder::Random => random_partitions(n, p.max_keys),
                    KeyOrder::Sequential => sequential_partitions(n, p.max_keys) as f64,
                },
                fill: col(|x| x.1)?,
                busiest_share: col(|x| x.2)?,
                busiest_theory: match order {
                    KeyOrder::Random => even,
                    KeyOrder::Sequential => 1.0,
                },
            })
        })
        .collect()
}

/// Grows a splitting range partition with random and with sequential keys.
pub fn split_by_size(p: &SplittingParams) -> Result<SplittingResult> {
    p.validate()?;
    Ok(SplittingResult {
        params: p.clone(),
        random: points(p, KeyOrder::Random)?,
        sequential: points(p, KeyOrder::Sequential)?,
    })
}

/// Simulated points with their intervals, `y` times `scale`.
fn sim(label: &str, pts: &[SplitPoint], scale: f64, f: impl Fn(&SplitPoint) -> MeanCi) -> Series {
    Series::new(
        label,
        pts.iter()
            .map(|q| (q.keys as f64 / 1e3, scale * f(q).mean))
            .collect(),
    )
    .with_band(
        pts.iter()
            .map(|q| {
                let (lo, hi) = f(q).interval();
                (scale * lo, scale * hi)
            })
            .collect(),
    )
    .with_style(SeriesStyle::Points)
}

impl SplittingResult {
    /// Ranges against keys inserted, both orders, with theory.
    pub fn partitions_chart(&self) -> Result<Figure> {
        let line = |label: &str, pts: &[SplitPoint]| {
            Series::new(
                label,
                pts.iter()
                    .map(|q| (q.keys as f64 / 1e3, q.partitions_theory))
                    .collect(),
            )
        };
        line_chart(
            &[
                sim("random keys", &self.random, 1.0, |q| q.partitions),
                sim("keys in order", &self.sequential, 1.0, |q| q.partitions),
            ],
            &[
                line("N / (S ln 2)", &self.random),
                line("in order: a split every S/2", &self.sequential),
            ],
            Opts::new(format!(
                "Split at {} keys: ranges as data grows",
                self.params.max_keys
            ))
            .x_label("keys inserted N (thousands)")
            .y_label("ranges")
            .y_from_zero(),
        )
    }

    /// The busiest node's share of each step's writes, both orders.
    pub fn writes_chart(&self) -> Result<Figure> {
        let (n, w) = (self.params.nodes, self.params.window);
        let even = Series::new(
            "by chance",
            self.random
                .iter()
                .map(|q| (q.keys as f64 / 1e3, 100.0 * q.busiest_theory))
                .collect(),
        );
        line_chart(
            &[
                sim("keys in order", &self.sequential, 100.0, |q| {
                    q.busiest_share
                }),
                sim("random keys", &self.random, 100.0, |q| q.busiest_share),
            ],
            &[even],
            Opts::new(format!(
                "Where the writes go: the busiest of {n} nodes, against chance"
            ))
            .x_label("keys inserted N (thousands)")
            .y_label(format!("busiest node's share of {w} writes (%)"))
            .y_from_zero(),
        )
    }

    /// Both orders as a table (every other step).
    pub fn table(&self) -> Table {
        let mut t = Table::new(&[
            "keys N",
            "order",
            "ranges (sim)",
            "theory",
            "fill",
            "busiest node's share of a window",
            "theory",
        ]);
        let ci = |m: &MeanCi, d: usize| format!("{:.d$} ± {:.d$}", m.mean, m.half_width);
        for (i, (r, s)) in self.random.iter().zip(&self.sequential).enumerate() {
            if i % 2 == 0 && i + 1 != self.random.len() {
                continue;
            }
            for (q, name, th) in [
                (r, "random", format!("{:.1}", r.partitions_theory)),
                (s, "in order", format!("{:.0}", s.partitions_theory)),
            ] {
                t = t.row(vec![
                    q.keys.to_string(),
                    name.into(),
                    ci(&q.partitions, 1),
                    th,
                    ci(&q.fill, 3),
                    ci(&q.busiest_share, 3),
                    format!("{:.3}", q.busiest_theory),
                ]);
            }
        }
        t
    }
}
