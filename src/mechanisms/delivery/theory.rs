//! Closed forms for one message over a link that loses each message with
//! probability `p` and duplicates a delivered one with probability `d`,
//! when the resend interval exceeds every round trip (an ack, if not lost,
//! arrives before the next resend). The formulas live with the crate's
//! other closed forms in
//! [`measure::theory::delivery`](crate::measure::theory::delivery); this
//! module names them by the sender's [`Semantics`].

use super::wire::Semantics;
use crate::error::Result;
pub use crate::measure::theory::delivery::{
    at_most_once_copies, at_most_once_more_than_once, delivered_more_than_once,
    expiring_more_than_once, lost_after_attempts,
};

/// Probability that a message is never processed (receiver always up).
/// At-most-once: the single send is lost, `p` (a lost message is never
/// duplicated: the network decides loss first). At-least-once with `k`
/// attempts: an ack can only come back after a delivery, so the sender
/// makes all `k` attempts exactly when none of them arrives, `p^k`
/// ([`lost_after_attempts`]).
pub fn lost(semantics: Semantics, p: f64, k: u32) -> Result<f64> {
    let all_lost = lost_after_attempts(p, k)?;
    Ok(match semantics {
        Semantics::AtMostOnce => p,
        Semantics::AtLeastOnce => all_lost,
    })
}

#[cfg(test)]
mod tests {
    use super::{lost, Semantics};

    #[test]
    fn lost_by_semantics() {
        assert_eq!(lost(Semantics::AtMostOnce, 0.3, 5).ok(), Some(0.3));
        let k5 = lost(Semantics::AtLeastOnce, 0.5, 5).unwrap_or(f64::NAN);
        assert!((k5 - 0.03125).abs() < 1e-15);
        assert!(lost(Semantics::AtMostOnce, 0.3, 0).is_err());
        assert!(lost(Semantics::AtLeastOnce, 1.5, 3).is_err());
    }
}
