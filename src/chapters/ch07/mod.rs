//! Chapter 7, *Partitioning* (notebook `07-partitioning`): which node holds
//! a key, with the schemes of [`crate::partition`]. How evenly keys spread
//! against the number of virtual nodes ([`spread`]); how many keys move
//! when a node joins or leaves ([`moved`]); hot spots under Zipf-skewed
//! keys and what splitting a hot range or replicating a hot key does
//! ([`hotspots`]); and a cluster that rebalances while it serves requests,
//! in the simulator ([`rebalance`]).

pub mod hotspots;
pub mod moved;
pub mod rebalance;
pub mod spread;

use crate::error::Result;

/// Checks the number of replications and returns the seeds
/// `seed, seed + 1, …`.
pub(crate) fn seeds_from(seed: u64, seeds: u64) -> Result<Vec<u64>> {
    crate::measure::stats::check_replications(seeds)?;
    Ok((0..seeds).map(|i| seed.wrapping_add(i)).collect())
}
