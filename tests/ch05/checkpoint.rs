//! Checkpoints and recovery (notebook 05, experiments 9 and 10): recovery's
//! cost against the checkpoint interval, against theory; a crash during
//! recovery, and the idempotence check that catches delta redo.

use thinkdist::ch05::checkpoint::{CheckpointParams, RecoveryCrashes};
use thinkdist::prelude::*;
use thinkdist::txn::checkpoint::Redo;

use super::prose;

const NB: &str = "05-transactions";
const INTERVALS: [usize; 8] = [1, 2, 4, 8, 16, 32, 64, 128];

/// Experiment 10's bank: 16 transfers, accounts of 1,000.
fn small() -> CheckpointParams {
    CheckpointParams {
        transfers: 16,
        initial: 1_000,
        ..Default::default()
    }
}

/// Per seed, one crash at a uniformly random point finds c commits since
/// the checkpoint, c uniform on 0..=I (one commit point per c < I, one
/// checkpoint point with c = I): sd(c) = sqrt(((I + 1)² − 1) / 12). Reads
/// are 3c + 1 and replays 2c, so the mean over n seeds lies within 4
/// standard errors (3 sd(c) / √n or 2 sd(c) / √n) of the theory but for a
/// 1-in-15,000 chance per point.
#[test]
fn recovery_reads_three_halves_of_the_interval_plus_the_checkpoint() -> Result<()> {
    let p = CheckpointParams::default();
    let c = p.recovery_cost(&INTERVALS)?;
    eprintln!("{}", c.table().to_csv());
    for q in &c.points {
        let i = q.interval as f64;
        let sd_c = (((i + 1.0).powi(2) - 1.0) / 12.0).sqrt();
        let se = sd_c / (q.read.n as f64).sqrt();
        assert_eq!(q.read_theory, 1.5 * i + 1.0);
        assert!(
            (q.read.mean - q.read_theory).abs() <= 4.0 * 3.0 * se,
            "{q:?}"
        );
        assert!(
            (q.replayed.mean - q.replayed_theory).abs() <= 4.0 * 2.0 * se,
            "{q:?}"
        );
        // Every update replayed comes with its commit record and one more
        // update: read = 1.5 replayed + 1, seed by seed, so on average.
        assert!((q.read.mean - (1.5 * q.replayed.mean + 1.0)).abs() < 1e-9);
    }
    let at = |i: usize| c.points.iter().find(|q| q.interval == i).unwrap();
    let ci = |m: &MeanCi| format!("{:.1} ± {:.1}", m.mean, m.half_width);
    prose::says(
        NB,
        &format!(
            "with a checkpoint every 32 commits recovery reads {} records (theory {:.0}) and replays \
             {} updates (theory 32)",
            ci(&at(32).read),
            at(32).read_theory,
            ci(&at(32).replayed)
        ),
    );
    prose::says(
        NB,
        &format!(
            "with one checkpoint in the whole run (every 128 commits), {} records",
            ci(&at(128).read)
        ),
    );
    prose::says(
        NB,
        &format!(
            "a checkpoint after every commit: {} records",
            ci(&at(1).read)
        ),
    );
    // Try this: 200 seeds shrink every interval to less than half.
    let more = CheckpointParams {
        seeds: 200,
        ..p.clone()
    }
    .recovery_cost(&INTERVALS)?;
    for (a, b) in c.points.iter().zip(&more.points) {
        assert!(b.read.half_width < 0.5 * a.read.half_width, "{a:?} {b:?}");
    }
    prose::says(NB, "set `seeds` to 200");
    prose::says(NB, "every ± shrinks to less than half");
    // The same parameters, the same figures.
    let again = p.recovery_cost(&INTERVALS)?;
    assert_eq!(
        serde_json::to_string(&c).unwrap_or_default(),
        serde_json::to_string(&again).unwrap_or_default()
    );
    let chart = c.chart()?;
    assert_eq!(&chart.to_png()?[1..4], b"PNG");
    Ok(())
}

#[test]
fn one_crash_anywhere_is_repaired_whichever_way_recovery_redoes() -> Result<()> {
    // A clean recovery cannot tell after-images from deltas: the disk
    // holds the checkpoint's balances, and each delta is added once.
    let p = small();
    for redo in Redo::ALL {
        for interval in [1, 4, 16] {
            let r = p.every_crash_point(interval, redo)?;
            assert_eq!(r.recovered(), r.points().len(), "{redo:?} {interval}");
            // One point per commit, one per checkpoint.
            assert_eq!(r.points().len(), 16 + 16 / interval);
        }
    }
    Ok(())
}

/// The pairs where the crashed recovery had synced at least one redone
/// transaction: its crash point is not the first of its recovery's points.
fn after_a_redo(r: &RecoveryCrashes) -> Vec<bool> {
    r.rows
        .iter()
        .map(|row| {
            r.rows.iter().any(|s| {
                s.normal.index == row.normal.index
                    && s.during.index < row.during.index
                    && s.during.label.starts_with("recovery: redo")
            })
        })
        .collect()
}

#[test]
fn a_crash_during_recovery_catches_delta_redo_and_spares_after_images() -> Result<()> {
    let r = small().recovery_crashes(4)?;
    eprintln!("{}", r.table().to_csv());
    let same = r.same();
    assert_eq!(same[0], r.rows.len(), "after-images are idempotent");
    // Deltas differ exactly where the crashed recovery had synced a redo.
    let redone = after_a_redo(&r);
    for (row, &done) in r.rows.iter().zip(&redone) {
        assert_eq!(row.differs[1].is_some(), done, "{row:?}");
    }
    assert!(same[1] < r.rows.len(), "the check catches deltas");
    prose::says(
        NB,
        &format!(
            "Over all {} pairs of crashes, after-images give the disk of one clean recovery in all \
             {}, deltas in only {}",
            r.rows.len(),
            same[0],
            same[1]
        ),
    );
    let t = r.table();
    let first = &t.rows()[0];
    assert!(first[0].contains("recovery: redo"), "{first:?}");
    assert_eq!(first[2], "same as one recovery");
    assert!(t.rows()[1][2].starts_with("differs: account"));
    assert_eq!(t.rows().len(), 5, "four transactions to redo, a checkpoint");
    prose::says(
        NB,
        &format!("the crash at point {} ", r.busiest().unwrap_or(0)),
    );
    // Try this: interval 1 — a recovery redoes at most one transaction.
    let one = small().recovery_crashes(1)?;
    eprintln!("interval 1: {:?} of {}", one.same(), one.rows.len());
    let s1 = one.same();
    assert_eq!(s1[0], one.rows.len());
    let failing: Vec<&str> = one
        .rows
        .iter()
        .filter(|x| x.differs[1].is_some())
        .map(|x| x.during.label.as_str())
        .collect();
    assert!(failing.iter().all(|l| *l == "recovery: checkpoint"));
    assert_eq!(failing.len(), 16, "one per checkpoint crash point");
    prose::says(
        NB,
        &format!(
            "deltas now differ in {} of the {} pairs, all of them crashes at `recovery: checkpoint`",
            failing.len(),
            one.rows.len()
        ),
    );
    Ok(())
}

#[test]
fn bad_checkpoint_parameters_are_errors() {
    let p = CheckpointParams::default();
    for bad in [
        CheckpointParams {
            accounts: 1,
            ..p.clone()
        },
        CheckpointParams {
            transfers: 0,
            ..p.clone()
        },
        CheckpointParams {
            initial: 100,
            ..p.clone()
        },
        CheckpointParams {
            seeds: 0,
            ..p.clone()
        },
        CheckpointParams {
            think: SimDuration::ZERO,
            ..p.clone()
        },
    ] {
        let e = bad.recovery_cost(&[1]).unwrap_err();
        assert!(e.is_invalid_parameter(), "{e}");
    }
    let e = p.recovery_cost(&[3]).unwrap_err();
    assert!(e.to_string().contains("divisor"), "{e}");
    assert!(p.recovery_cost(&[0]).is_err());
    assert!(p.recovery_cost(&[]).is_err());
    assert!(p.recovery_crashes(0).is_err());
}
