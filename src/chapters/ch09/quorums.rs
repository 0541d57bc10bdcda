//! Chapter 9, quorums: why Paxos's two phases must overlap, counted.
//!
//! A value chosen by a phase-2 quorum Q2 is safe only if every later
//! proposer's phase-1 quorum Q1 contains an acceptor of Q2 (which reports
//! the value, and the proposer adopts it). Majorities always intersect; so
//! does any pair with |Q1| + |Q2| > n (Howard, Malkhi, Spiegelman 2016,
//! "Flexible Paxos"), by counting: two sets that together hold more than n
//! members of an n-set share one. Here we count over *all* pairs of
//! subsets and compare with the closed form for the fraction that miss,
//! `C(n − q2, q1) / C(n, q1)` ([`crate::measure::theory::pbs_miss`], the
//! same count as a read quorum missing a write quorum).

use crate::error::{check_count, Result};
use crate::measure::theory::pbs_miss;
use crate::plot::Table;
use serde::Serialize;

/// Pairs of quorums of two sizes in `n` acceptors.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct QuorumCount {
    /// Acceptors.
    pub n: usize,
    /// Phase-1 quorum size.
    pub q1: usize,
    /// Phase-2 quorum size.
    pub q2: usize,
    /// All (Q1, Q2) pairs: C(n, q1) × C(n, q2).
    pub pairs: u64,
    /// Pairs that share at least one acceptor.
    pub intersecting: u64,
    /// The closed form's fraction of pairs that miss.
    pub theory_miss: f64,
}

impl QuorumCount {
    /// The fraction of pairs that share no acceptor, counted.
    pub fn miss(&self) -> f64 {
        1.0 - self.intersecting as f64 / self.pairs as f64
    }
}

/// Counts, over every pair of subsets of sizes `q1` and `q2` of `n`
/// acceptors (n in 1..=16), those that intersect.
///
/// Errors: `n` outside 1..=16 (the count enumerates 4^n pairs of
/// subsets), `q1` or `q2` outside 1..=n.
pub fn count_pairs(n: usize, q1: usize, q2: usize) -> Result<QuorumCount> {
    check_count("n", n, 1, 16, "acceptors")?;
    check_count("q1", q1, 1, n, "acceptors in a phase-1 quorum")?;
    check_count("q2", q2, 1, n, "acceptors in a phase-2 quorum")?;
    let sets = |k: usize| -> Vec<u32> {
        (0u32..1 << n)
            .filter(|s| s.count_ones() as usize == k)
            .collect()
    };
    let (a, b) = (sets(q1), sets(q2));
    let intersecting = a
        .iter()
        .map(|x| b.iter().filter(|y| *x & **y != 0).count() as u64)
        .sum();
    Ok(QuorumCount {
        n,
        q1,
        q2,
        pairs: (a.len() * b.len()) as u64,
        intersecting,
        theory_miss: pbs_miss(n, q1, q2)?,
    })
}

/// Every (q1, q2) for `n` acceptors (n in 1..=10).
pub fn all_pairs(n: usize) -> Result<Vec<QuorumCount>> {
    check_count("n", n, 1, 10, "acceptors")?;
    let mut out = Vec::new();
    for q1 in 1..=n {
        for q2 in 1..=n {
            out.push(count_pairs(n, q1, q2)?);
        }
    }
    Ok(out)
}

/// A grid: rows |Q1|, columns |Q2|, each cell the share of quorum pairs
/// that intersect (100 % exactly when |Q1| + |Q2| > n).
pub fn quorum_table(counts: &[QuorumCount]) -> Table {
    let n = counts.iter().map(|c| c.n).max().unwrap_or(0);
    let mut headers = vec!["|Q1| \\ |Q2|".to_string()];
    headers.extend((1..=n).map(|q| q.to_string()));
    let h: Vec<&str> = headers.iter().map(|s| s.as_str()).collect();
    let mut t = Table::new(&h);
    for q1 in 1..=n {
        let mut row = vec![q1.to_string()];
        for q2 in 1..=n {
            let cell = counts
                .iter()
                .find(|c| c.q1 == q1 && c.q2 == q2)
                .map_or(String::new(), |c| {
                    format!("{:.1} %", 100.0 * (1.0 - c.miss()))
                });
            row.push(cell);
        }
        t.push_row(row);
    }
    t
}
