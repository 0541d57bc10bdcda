//! Chapter 3's experiments on failure kinds and recovery, against their
//! closed forms.

use thinkdist::ch03::failure_kinds::{FailureKind, FailureKinds};
use thinkdist::ch03::recovery::{Recovery, Strategy};
use thinkdist::prelude::*;

/// 4 standard errors of the mean over the seeds (p ≈ 6e-5 for a correct
/// model), plus a floor for points every seed agrees on.
fn close(m: &MeanCi, theory: f64, floor: f64) -> bool {
    let se = m.sd / (m.n as f64).sqrt();
    (m.mean - theory).abs() <= 4.0 * se + floor
}

/// For a fraction of `n` independent trials in all: 4 standard errors,
/// the larger of the binomial one at the theoretical value and the one
/// measured over the seeds (requests that share an outage are not
/// independent, and 20 seeds estimate a spread only roughly).
fn close_fraction(m: &MeanCi, theory: f64, n: f64) -> bool {
    let binomial = (theory * (1.0 - theory) / n).sqrt();
    let seeds = m.sd / (m.n as f64).sqrt();
    (m.mean - theory).abs() <= 4.0 * binomial.max(seeds) + 1e-12
}

/// Each kind's curve follows its closed form: p^(r+1), π_d P_dd(s)^r, and
/// a flat `fraction`.
#[test]
fn failure_kinds_match_theory() -> Result<()> {
    let kinds = FailureKind::same_first_failure(0.3, ms(300))?;
    let exp = FailureKinds {
        seeds: 20,
        ..Default::default()
    };
    let curves = exp.run(&kinds)?;
    println!("{}", exp.table(&curves).to_csv());
    for c in &curves {
        for (r, (m, &t)) in c.failed.iter().zip(&c.theory).enumerate() {
            let n = (exp.requests * exp.seeds) as f64;
            assert!(
                close_fraction(m, t, n),
                "{} r={r}: {m:?} vs {t}",
                c.kind.name()
            );
        }
    }
    // All three fail 30 % of first attempts; after 6 retries they differ
    // by orders of magnitude.
    for c in &curves {
        assert!((c.theory[0] - 0.3).abs() < 1e-12);
    }
    assert!(curves[0].theory[6] < 1e-3);
    assert!(curves[1].theory[6] > 0.03 && curves[1].theory[6] < 0.1);
    assert!((curves[2].theory[6] - 0.3).abs() < 1e-12);
    // A longer retry delay helps the intermittent kind: outages end.
    let slow = FailureKinds {
        delay: ms(1000),
        seeds: 20,
        ..Default::default()
    }
    .run(&kinds[1..2])?;
    assert!(
        slow[0].failed[2].mean < curves[1].failed[2].mean / 3.0,
        "{:?} {:?}",
        slow[0].failed,
        slow[0].theory
    );
    Ok(())
}

/// Completion and mean duration of completed operations follow the
/// closed forms for both strategies, with and without permanent failures.
#[test]
fn recovery_matches_theory() -> Result<()> {
    for permanent in [0.0, 0.1] {
        let r = Recovery {
            permanent,
            seeds: 20,
            ..Default::default()
        };
        let c = r.run(&[0.0, 0.1, 0.3, 0.5])?;
        println!("{}", c.table().to_csv());
        for (s, pts) in c.strategies.iter().zip(&c.points) {
            for p in pts {
                assert!(close(&p.completed, p.theory_completed, 1e-3), "{s:?} {p:?}");
                let th = p
                    .theory_completed_ms
                    .expect("exponential latency has a mean");
                if p.completed_ms.n >= 2 {
                    assert!(close(&p.completed_ms, th, 0.5), "{s:?} {p:?}");
                }
            }
        }
        // Forward completes more at every p > 0, and takes longer.
        for (b, f) in c.points[0].iter().zip(&c.points[1]).skip(1) {
            assert!(f.completed.mean > b.completed.mean);
            assert!(f.completed_ms.mean > b.completed_ms.mean);
        }
        assert_eq!(c.strategies, Strategy::ALL.to_vec());
    }
    Ok(())
}
