//! Chapter 4's experiments on dedup windows, key atomicity and ack timing,
//! against their closed forms.

use thinkdist::ch04::ack::{sweep_crash_rate, AckParams, AckWhen, Design};
use thinkdist::ch04::atomicity::{every_crash_point, key_write_table};
use thinkdist::ch04::delivery::DeliveryParams;
use thinkdist::ch04::window::sweep_window;
use thinkdist::delivery::{theory, KeyWrite};
use thinkdist::prelude::*;

/// Tolerance: 4 standard errors of the mean over the seeds (a point whose
/// simulated mean is off by more is a bug, not bad luck: p ≈ 6e-5), plus
/// a small floor for points where every seed gives the same value.
fn close(m: &MeanCi, theory: f64) -> bool {
    let se = m.sd / (m.n as f64).sqrt();
    (m.mean - theory).abs() <= 4.0 * se + 1e-3
}

/// An expiring dedup window: the fraction processed twice follows the
/// staircase of `theory::expiring_more_than_once` for two resend intervals.
#[test]
fn expiring_window_matches_the_staircase() -> Result<()> {
    let p = DeliveryParams {
        messages: 1000,
        loss: 0.3,
        duplicate: 0.0,
        latency: Latency::constant(ms(5)),
        ..Default::default()
    };
    let windows: Vec<SimDuration> = [15u64, 75, 135, 175, 235, 315, 455]
        .iter()
        .map(|&w| ms(w))
        .collect();
    let s = sweep_window(&p, &[ms(50), ms(100)], &windows, 8)?;
    for pt in s.points.iter().flatten() {
        let th = pt
            .theory
            .expect("constant latency, no duplication: theory applies");
        println!(
            "R={} W={} sim={:.4}±{:.4} theory={:.4}",
            pt.interval_ms, pt.window_ms, pt.more_than_once.mean, pt.more_than_once.half_width, th
        );
        assert!(close(&pt.more_than_once, th), "{pt:?} vs {th}");
    }
    // Below one interval: as bad as no dedup.
    let short = s.points[1][0].theory.unwrap_or(f64::NAN);
    assert!((short - theory::delivered_more_than_once(0.3, 0.0, 5)?).abs() < 1e-12);
    // Past (k - 1) intervals: never.
    assert_eq!(s.points[1][6].more_than_once.mean, 0.0);
    Ok(())
}

/// Key and effect in one sync survive a crash at every point; split into
/// two syncs, a crash between them processes a message twice (effect
/// first) or loses it (key first).
#[test]
fn the_key_must_be_written_with_the_effect() -> Result<()> {
    let p = DeliveryParams {
        messages: 4,
        loss: 0.0,
        duplicate: 0.0,
        ..Default::default()
    };
    let reports = KeyWrite::ALL
        .iter()
        .map(|&k| every_crash_point(&p, k, ms(50)))
        .collect::<Result<Vec<_>>>()?;
    println!("{}", key_write_table(&reports).to_csv());
    let [atomic, effect_first, key_first] = &reports[..] else {
        panic!("three reports")
    };
    assert_eq!(atomic.report.points().len(), 4);
    assert_eq!(atomic.report.recovered(), 4);
    // Two syncs per message; a crash at the second one splits them.
    assert_eq!(effect_first.report.points().len(), 8);
    assert_eq!(effect_first.processed_twice(), 4);
    assert_eq!(effect_first.never_processed(), 0);
    assert_eq!(key_first.report.points().len(), 8);
    assert_eq!(key_first.never_processed(), 4);
    assert_eq!(key_first.processed_twice(), 0);
    Ok(())
}

/// Ack before processing loses `1 - exp(-λ work)` of the messages; ack
/// after processes `1 - exp(-λ commit)` twice; with dedup, none.
#[test]
fn ack_timing_matches_theory() -> Result<()> {
    let p = AckParams::default();
    let s = sweep_crash_rate(&p, &Design::ALL, &[0.5, 2.0], 20)?;
    println!("{}", s.table(2.0).to_csv());
    for (d, pts) in s.designs.iter().zip(&s.points) {
        for pt in pts {
            let (tl, tt) = d.theory(&p, pt.rate);
            assert!(close(&pt.lost, tl), "{d:?} lost {:?} vs {tl}", pt.lost);
            assert!(
                close(&pt.more_than_once, tt),
                "{d:?} twice {:?} vs {tt}",
                pt.more_than_once
            );
            match (d.ack, d.dedup) {
                (AckWhen::BeforeProcessing, _) => assert!(pt.lost.mean > 0.0),
                (AckWhen::AfterProcessing, false) => assert!(pt.more_than_once.mean > 0.0),
                (AckWhen::AfterProcessing, true) => {
                    assert_eq!(pt.more_than_once.mean, 0.0);
                    assert_eq!(pt.lost.mean, 0.0);
                }
            }
        }
    }
    Ok(())
}
