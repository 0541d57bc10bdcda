//! Gossip: how much of a large cluster a rumour reaches.

use crate::error::{check_non_negative, Result};

/// The fraction of a large cluster a rumour reaches when every node that
/// hears it for the first time tells `fanout` nodes drawn uniformly at
/// random (and then stays quiet): the positive root `s` of
/// `s = 1 − e^(−fanout · s)`, or 0 when `fanout <= 1`.
///
/// Why: a node is missed when none of the `fanout · s · n` messages sent by
/// the `s · n` nodes that heard the rumour picks it, which happens with
/// probability `(1 − 1/n)^(fanout · s · n) → e^(−fanout · s)` as `n` grows
/// (the giant component of a random graph, Erdős and Rényi 1960). With
/// `fanout <= 1` the informed set stays a vanishing fraction.
///
/// ```
/// use thinkdist::measure::theory::gossip_reach;
/// let s = gossip_reach(2.0)?;
/// assert!((s - 0.7968).abs() < 1e-4);
/// assert_eq!(gossip_reach(1.0)?, 0.0);
/// # Ok::<(), thinkdist::Error>(())
/// ```
pub fn gossip_reach(fanout: f64) -> Result<f64> {
    check_non_negative("fanout", fanout)?;
    if fanout <= 1.0 {
        return Ok(0.0);
    }
    // g(s) = 1 − e^(−f s) − s is > 0 just above 0 (g'(0) = f − 1 > 0) and
    // < 0 at 1, with one root in between: bisect to machine precision.
    let g = |s: f64| 1.0 - (-fanout * s).exp() - s;
    let (mut lo, mut hi) = (f64::MIN_POSITIVE.max(1e-12), 1.0);
    if g(lo) <= 0.0 {
        return Ok(0.0); // fanout a hair above 1: the root is below 1e-12
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if g(mid) > 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(0.5 * (lo + hi))
}
