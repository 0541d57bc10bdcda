//! The crate's own samplers against the crates they replace.
//!
//! `engine::rng::{exp1, standard_normal}` are a port of `rand_distr`'s
//! ziggurat samplers (the library does not depend on `rand`; see
//! src/engine/rng/ziggurat.rs). These tests draw from two copies of the same
//! stream, one through the port and one through `rand_distr`, and require the
//! same values bit for bit, which also keeps every stream of earlier
//! releases (and every chart) unchanged.
//!
//! Coverage of the rare branches: a draw falls in the wedge of a layer with
//! probability about 1.5 % and in the base layer's tail (the `zero_case`)
//! with probability about 1/256 × 1/R·e^(-R) ≈ 1e-4 (exponential) and 3e-4
//! (normal), so 4M draws visit each branch hundreds of times.

use rand::{Rng, RngCore};
use rand_distr::{Exp1, StandardNormal};
use thinkdist::sim::rng::{domain, exp1, standard_normal, stream};

const DRAWS: usize = 4_000_000;
/// Right edges of the ziggurats' base layers (rand_distr's ZIG_EXP_R and
/// ZIG_NORM_R, rounded): draws beyond them come from the tail fallbacks.
const EXP_R: f64 = 7.697_117_470_131_05;
const NORM_R: f64 = 3.654_152_885_361_009;

#[test]
fn exp1_matches_rand_distr_bit_for_bit() {
    let mut ours = stream(11, domain::EXPERIMENT, 1, 2);
    let mut theirs = stream(11, domain::EXPERIMENT, 1, 2);
    let mut tail = 0;
    for i in 0..DRAWS {
        let a = exp1(&mut ours);
        let b: f64 = theirs.sample(Exp1);
        assert_eq!(a.to_bits(), b.to_bits(), "draw {i}: {a} vs {b}");
        if a > EXP_R {
            tail += 1;
        }
    }
    // The streams stayed in step (same number of words consumed).
    assert_eq!(ours.next_u64(), theirs.next_u64());
    // P(X > R) = e^-R ≈ 4.5e-4: about 1,800 tail draws; the test must have
    // exercised the zero case for the comparison above to cover it.
    assert!(tail > 1_000, "only {tail} draws beyond the base layer");
}

#[test]
fn standard_normal_matches_rand_distr_bit_for_bit() {
    let mut ours = stream(12, domain::EXPERIMENT, 3, 4);
    let mut theirs = stream(12, domain::EXPERIMENT, 3, 4);
    let (mut low_tail, mut high_tail) = (0, 0);
    for i in 0..DRAWS {
        let a = standard_normal(&mut ours);
        let b: f64 = theirs.sample(StandardNormal);
        assert_eq!(a.to_bits(), b.to_bits(), "draw {i}: {a} vs {b}");
        if a > NORM_R {
            high_tail += 1;
        } else if a < -NORM_R {
            low_tail += 1;
        }
    }
    assert_eq!(ours.next_u64(), theirs.next_u64());
    // P(Z > R) ≈ 1.3e-4 on each side: about 520 per side over 4M draws.
    assert!(
        low_tail > 250 && high_tail > 250,
        "tails {low_tail} / {high_tail}"
    );
}

/// `ctx.rng()`'s own `random_range` and `random_bool` (compiled in the
/// crate, see `sim::rng::NodeRng`) draw exactly what rand's `Rng` methods
/// draw from the same stream, for every range type they cover: a node
/// compiled in the crate and the same node in a notebook cell see the same
/// values.
#[test]
fn node_rng_draws_exactly_what_rand_draws() {
    use std::time::Duration;
    use thinkdist::sim::rng::NodeRng;
    let mut ours = NodeRng(stream(5, domain::NODE, 3, 0));
    let mut theirs = stream(5, domain::NODE, 3, 0);
    for n in 1..2_000usize {
        // Inherent methods (the ones a cell calls) against rand's trait.
        assert_eq!(
            ours.random_range(0..n),
            Rng::random_range(&mut theirs, 0..n)
        );
        assert_eq!(
            ours.random_range(1..=n),
            Rng::random_range(&mut theirs, 1..=n)
        );
        let m = n as u64;
        assert_eq!(ours.random_range(..m), Rng::random_range(&mut theirs, ..m));
        assert_eq!(
            ours.random_range(..=m),
            Rng::random_range(&mut theirs, ..=m)
        );
        let (a, b) = (
            ours.random_range(-5..n as i64),
            Rng::random_range(&mut theirs, -5..n as i64),
        );
        assert_eq!(a, b);
        assert_eq!(
            ours.random_range(0..n as u32),
            Rng::random_range(&mut theirs, 0..n as u32)
        );
        assert_eq!(
            ours.random_range(0u8..=255),
            Rng::random_range(&mut theirs, 0u8..=255)
        );
        let (x, y) = (
            ours.random_range(0.5..n as f64),
            Rng::random_range(&mut theirs, 0.5..n as f64),
        );
        assert_eq!(x.to_bits(), y.to_bits());
        assert_eq!(
            ours.random_range('a'..='z'),
            Rng::random_range(&mut theirs, 'a'..='z')
        );
        let d = Duration::from_nanos(n as u64 * 997);
        assert_eq!(
            ours.random_range(Duration::ZERO..d),
            Rng::random_range(&mut theirs, Duration::ZERO..d)
        );
        let p = (n % 11) as f64 / 10.0;
        assert_eq!(ours.random_bool(p), Rng::random_bool(&mut theirs, p));
        // Literals take their type from the use, as with rand.
        let ms: u64 = ours.random_range(1..10);
        assert_eq!(ms, Rng::random_range(&mut theirs, 1..10u64));
    }
    // Still in step, and the trait methods reach the same stream.
    assert_eq!(
        ours.random::<f64>().to_bits(),
        theirs.random::<f64>().to_bits()
    );
    assert_eq!(ours.next_u64(), theirs.next_u64());
}
