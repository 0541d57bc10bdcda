//! Rebalancing: how many keys are still on their way while a cluster moves
//! them to a new node.

/// Keys still in flight `elapsed` after a move started, when old owner `i`
/// must send `per_sender[i]` keys, one every `1 / rate` (each at its own
/// bounded rate, all starting together): `Σ_i max(0, m_i − ⌊rate · elapsed⌋)`;
/// 0 before the start (`elapsed < 0`).
///
/// Why: a read of a key in flight is parked or failed, so for a uniformly
/// chosen key the share of reads that find it missing is this over the
/// number of keys. The move ends when the busiest sender is done, at
/// `max_i m_i / rate`: a skewed split of the keys stretches the window.
///
/// ```
/// use thinkdist::measure::theory::keys_in_flight;
/// // Two senders with 10 and 4 keys at 2 keys/s: after 3 s, 4 + 0 left.
/// assert_eq!(keys_in_flight(&[10, 4], 2.0, 3.0), 4.0);
/// assert_eq!(keys_in_flight(&[10, 4], 2.0, -1.0), 0.0);
/// ```
pub fn keys_in_flight(per_sender: &[usize], rate: f64, elapsed: f64) -> f64 {
    if elapsed < 0.0 {
        return 0.0;
    }
    per_sender
        .iter()
        .map(|&m| (m as f64 - (rate * elapsed).floor()).max(0.0))
        .sum::<f64>()
}
