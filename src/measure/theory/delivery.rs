//! Delivery: closed forms for one message over a link that loses each
//! message with probability `p` and duplicates a delivered one with
//! probability `d`, when the resend interval exceeds every round trip (an
//! ack, if not lost, arrives before the next resend). The mechanism is
//! [`crate::delivery`]; `delivery::theory` names these by its semantics.

use crate::error::{check_probability, Error, Result};

fn check(p: f64, d: f64, k: u32) -> Result<()> {
    check_probability("loss", p)?;
    check_probability("duplicate", d)?;
    if k == 0 {
        return Err(Error::invalid("max_attempts", 0, "at least 1"));
    }
    Ok(())
}

/// Probability that a message sent until acknowledged, at most `k` times,
/// is never processed (receiver always up): an ack can only come back after
/// a delivery, so the sender makes all `k` attempts exactly when none of
/// them arrives, `p^k`. At-most-once is `k = 1`: the single send is lost,
/// `p` (a lost message is never duplicated: the network decides loss
/// first).
pub fn lost_after_attempts(p: f64, k: u32) -> Result<f64> {
    check(p, 0.0, k)?;
    Ok(p.powf(f64::from(k)))
}

/// Probability that an at-least-once message is **delivered** (and, by
/// a receiver without dedup, processed) more than once.
///
/// Exactly one copy arrives when attempt `j` is the first to arrive
/// (`p^(j-1) (1-p)`), the network does not duplicate it (`1-d`), and
/// then either its ack returns (`1-p`) or the ack is lost and all `k-j`
/// later attempts are lost too (`p · p^(k-j)`). So
/// `P(>1) = 1 - p^k - Σ_j p^(j-1) (1-p)(1-d) [(1-p) + p^(k-j+1)]`;
/// the sum has the closed form `(1-d)(1-p)(1 - p^k + k p^k)` (two
/// geometric sums), so the answer takes constant time for any `k`.
/// At `p = 0` this is `d`: the network's own duplicates.
pub fn delivered_more_than_once(p: f64, d: f64, k: u32) -> Result<f64> {
    check(p, d, k)?;
    let k = f64::from(k);
    let pk = p.powf(k);
    let once = (1.0 - d) * (1.0 - p) * (1.0 - pk + k * pk);
    Ok((1.0 - pk - once).clamp(0.0, 1.0))
}

/// Probability that an at-least-once message (`k` sends, one every
/// resend interval `R`) is **processed** more than once by a receiver
/// whose keys expire `W = ratio · R` after processing
/// ([`DedupStore::Expiring`](crate::delivery::DedupStore::Expiring)), with a constant latency `L` (`2L < R`,
/// so an ack that is not lost stops the sender before its next send),
/// no network duplication and loss `p` on each message and ack.
///
/// Copies of a message arrive a whole number of intervals apart. A copy
/// `j` intervals after the last processed one is processed again if
/// `j · R ≥ W`, that is `j ≥ ratio`. The sum runs over the attempts
/// with a small exact recursion: the state after each attempt is (which
/// attempt was last processed, how often: 0, 1, 2 or more) and whether
/// the sender still sends; a delivered copy's ack stops it with
/// probability `1 - p`. Below `ratio = 1` every copy is processed and
/// this equals [`delivered_more_than_once`] with `d = 0`; from
/// `ratio > k - 1` on it is 0 (every copy arrives inside the window).
pub fn expiring_more_than_once(p: f64, k: u32, ratio: f64) -> Result<f64> {
    check(p, 0.0, k)?;
    if k > 1000 {
        return Err(Error::invalid("max_attempts", k, "at most 1,000 sends"));
    }
    if !ratio.is_finite() || ratio < 0.0 {
        return Err(Error::invalid(
            "ratio",
            ratio,
            "a window / resend interval >= 0",
        ));
    }
    let k = k as usize;
    // alive[last][count]: mass still sending; last = 0 means none yet,
    // else the attempt number (1-based); count capped at 2.
    let mut alive = vec![[0.0f64; 3]; k + 1];
    alive[0][0] = 1.0;
    let mut twice = 0.0;
    for i in 1..=k {
        let mut next = vec![[0.0f64; 3]; k + 1];
        for (last, row) in alive.iter().enumerate() {
            for (count, &m) in row.iter().enumerate() {
                if m == 0.0 {
                    continue;
                }
                // The copy is lost: the sender tries again.
                next[last][count] += m * p;
                // The copy arrives: processed if no key or an expired one.
                let fresh = last == 0 || (i - last) as f64 >= ratio;
                let (l2, c2) = if fresh {
                    (i, (count + 1).min(2))
                } else {
                    (last, count)
                };
                let arrived = m * (1.0 - p);
                // Its ack returns and the message is done, or the ack is
                // lost and the sender goes on.
                if c2 >= 2 {
                    twice += arrived * (1.0 - p);
                }
                next[l2][c2] += arrived * p;
            }
        }
        alive = next;
    }
    twice += alive.iter().map(|row| row[2]).sum::<f64>();
    Ok(twice.clamp(0.0, 1.0))
}

/// Probability that an at-most-once message is delivered (and, by a
/// receiver without dedup, processed) more than once: it arrives (`1-p`)
/// and the network duplicates it (`d`), `(1-p) d`.
pub fn at_most_once_more_than_once(p: f64, d: f64) -> Result<f64> {
    check(p, d, 1)?;
    Ok((1.0 - p) * d)
}

/// Expected copies delivered per at-most-once message: `(1-p)(1+d)`.
pub fn at_most_once_copies(p: f64, d: f64) -> Result<f64> {
    check(p, d, 1)?;
    Ok((1.0 - p) * (1.0 + d))
}

#[cfg(test)]
mod tests {
    use super::{delivered_more_than_once, expiring_more_than_once, lost_after_attempts};

    /// The closed form equals the sum it replaces, and stays a probability
    /// for any number of attempts.
    #[test]
    fn closed_form_matches_the_sum() {
        let cases: [(f64, f64); 5] = [(0.0, 0.05), (0.1, 0.0), (0.3, 0.05), (0.9, 0.2), (1.0, 0.5)];
        for &(p, d) in &cases {
            for k in 1u32..=40 {
                let mut once = 0.0;
                for j in 1..=k {
                    once += p.powi(j as i32 - 1)
                        * (1.0 - p)
                        * (1.0 - d)
                        * ((1.0 - p) + p.powi((k - j + 1) as i32));
                }
                let sum = (1.0 - p.powi(k as i32) - once).max(0.0);
                let closed = delivered_more_than_once(p, d, k).unwrap_or(f64::NAN);
                assert!(
                    (sum - closed).abs() < 1e-12,
                    "p={p} d={d} k={k}: {sum} vs {closed}"
                );
            }
        }
        let huge = delivered_more_than_once(0.5, 0.05, u32::MAX).unwrap_or(f64::NAN);
        assert!((0.0..=1.0).contains(&huge));
        let lost = lost_after_attempts(0.5, u32::MAX);
        // A window shorter than one resend interval forgets every key in
        // time for the next copy: processed twice = delivered twice.
        for &p in &[0.0, 0.1, 0.3, 0.7] {
            for k in 1u32..=8 {
                let short = expiring_more_than_once(p, k, 0.5).unwrap_or(f64::NAN);
                let all = delivered_more_than_once(p, 0.0, k).unwrap_or(f64::NAN);
                assert!((short - all).abs() < 1e-12, "p={p} k={k}: {short} vs {all}");
                let long = expiring_more_than_once(p, k, k as f64 - 0.5).unwrap_or(f64::NAN);
                assert!(long.abs() < 1e-15, "p={p} k={k}: {long}");
            }
        }
        assert_eq!(lost.ok(), Some(0.0));
    }
}
