//! The cost of a sync (notebook 05, experiment 8): undo logging's four
//! syncs against redo logging's two, and group commit, against theory.

use thinkdist::ch05::sync_cost::{SyncCostParams, SCHEMES};
use thinkdist::prelude::*;
use thinkdist::txn::group_commit::{GroupLog, Phase, SyncPath};
use thinkdist::txn::logging::Logging;

use super::prose;

const NB: &str = "05-transactions";
const BATCHES: [usize; 5] = [1, 2, 4, 8, 16];
const WINDOWS: [f64; 6] = [0.0, 1.0, 2.0, 5.0, 10.0, 20.0];

#[test]
fn the_schemes_sync_paths_come_from_the_logging_module() -> Result<()> {
    let undo = SyncPath::of(Logging::Undo)?;
    let redo = SyncPath::of(Logging::Redo)?;
    assert_eq!((undo.syncs(), undo.syncs_before_ack()), (4, 4));
    assert_eq!((redo.syncs(), redo.syncs_before_ack()), (2, 1));
    assert_eq!(redo.0, [Phase::Sync, Phase::Ack, Phase::Sync]);
    for broken in [Logging::UndoDataFirst, Logging::RedoAckFirst] {
        assert!(SyncPath::of(broken).unwrap_err().is_invalid_parameter());
    }
    Ok(())
}

/// With the disk always busy, a sync serves `batch` commit phases and a
/// commit needs k syncs: throughput = batch / (k · sync time), exactly
/// but for the edges of the measured window. Counting commits by answer,
/// a run of T measured seconds is off by at most one group at each edge:
/// 2 · batch / T commits per second, 7 per second at most here (batch 16,
/// T = 4.5 s), which the tolerance allows.
#[test]
fn group_commit_throughput_is_batch_over_syncs_per_commit_times_sync_time() -> Result<()> {
    let p = SyncCostParams::default();
    let g = p.group_commit(&BATCHES)?;
    let t = 0.9 * p.duration.as_secs_f64();
    for (l, pts) in SCHEMES.iter().zip(&g.points) {
        for q in pts {
            let tol = 2.0 * q.batch as f64 / t + 1e-9;
            assert!(
                (q.throughput.mean - q.theory).abs() <= tol,
                "{l:?} batch {}: {} against {}",
                q.batch,
                q.throughput.mean,
                q.theory
            );
            // Every sync full once the clients have arrived (the count
            // includes the first syncs, when the queue was filling).
            assert!(
                (q.per_sync.mean / q.batch as f64 - 1.0).abs() < 0.01,
                "{q:?}"
            );
        }
    }
    // Four syncs against two: half the throughput at every batch size.
    for (u, r) in g.points[0].iter().zip(&g.points[1]) {
        assert!((r.throughput.mean / u.throughput.mean - 2.0).abs() < 0.02);
    }
    let at = |i: usize, b: usize| g.points[i].iter().find(|q| q.batch == b).unwrap();
    prose::says(
        NB,
        &format!(
            "Without group commit the undo log commits {:.0} transfers per second and the redo log {:.0}",
            at(0, 1).throughput.mean,
            at(1, 1).throughput.mean
        ),
    );
    prose::says(
        NB,
        &format!(
            "with 16 commits per sync, {} and {}",
            prose::thousands(at(0, 16).throughput.mean.round() as usize),
            prose::thousands(at(1, 16).throughput.mean.round() as usize)
        ),
    );
    // Little's law: 100 clients, each always waiting for its commit (the
    // round trip and pause are small): latency ≈ clients / throughput.
    let u1 = at(0, 1);
    let little = 1e3 * p.clients as f64 / u1.throughput.mean;
    assert!((u1.latency_ms.mean / little - 1.0).abs() < 0.02, "{u1:?}");
    prose::says(
        NB,
        &format!(
            "each of the 100 clients waits {} ms for its commit",
            prose::thousands(u1.latency_ms.mean.round() as usize)
        ),
    );
    Ok(())
}

/// A quiet commit's latency: the round trip, half a window, and the
/// syncs before the answer. Without a window the latency is exact (no
/// randomness reaches it); with one, each seed's mean is over about 20
/// commits, and the theory must lie within 3 half-widths of the 95 %
/// interval over the 10 seeds (12 intervals checked at once, and the
/// phase of a commit in the window is only nearly uniform).
#[test]
fn a_quiet_commit_waits_half_a_window_plus_its_syncs() -> Result<()> {
    let p = SyncCostParams::default();
    let w = p.window_latency(&WINDOWS)?;
    for (l, pts) in SCHEMES.iter().zip(&w.points) {
        for q in pts {
            let tol = 3.0 * q.latency_ms.half_width + 1e-9;
            assert!(
                (q.latency_ms.mean - q.theory_ms).abs() <= tol,
                "{l:?} window {}: {:?} against {}",
                q.window_ms,
                q.latency_ms,
                q.theory_ms
            );
        }
    }
    let at = |i: usize, win: f64| {
        w.points[i]
            .iter()
            .find(|q| q.window_ms == win)
            .unwrap()
            .latency_ms
            .mean
    };
    assert_eq!((at(0, 0.0), at(1, 0.0)), (22.0, 7.0), "2 + 4 × 5, 2 + 5");
    prose::says(
        NB,
        &format!(
            "a quiet commit takes {:.0} ms under undo logging and {:.0} ms under redo logging",
            at(0, 0.0),
            at(1, 0.0)
        ),
    );
    prose::says(
        NB,
        &format!(
            "A 20 ms window raises redo's latency to {:.1} ms (theory {:.1}) and undo's to {:.1} ms (theory {:.1})",
            at(1, 20.0),
            p.latency_theory(Logging::Redo, 20.0)?,
            at(0, 20.0),
            p.latency_theory(Logging::Undo, 20.0)?
        ),
    );
    Ok(())
}

#[test]
fn bad_sync_cost_parameters_are_errors() {
    let p = SyncCostParams::default();
    for bad in [
        SyncCostParams {
            sync_time: SimDuration::ZERO,
            ..p.clone()
        },
        SyncCostParams {
            clients: 0,
            ..p.clone()
        },
        SyncCostParams {
            seeds: 1,
            ..p.clone()
        },
    ] {
        assert!(bad.group_commit(&[1]).is_err());
        assert!(bad.window_latency(&[0.0]).is_err());
    }
    assert!(p.group_commit(&[]).is_err());
    assert!(p.group_commit(&[0]).is_err());
    assert!(p.window_latency(&[-1.0]).is_err());
    assert!(p.window_latency(&[100.0]).is_err());
    assert!(p.window_latency(&[f64::NAN]).is_err());
    let path = SyncPath(vec![Phase::Sync]);
    assert!(GroupLog::new(path, ms(5), 1, SimDuration::ZERO).is_err());
    let redo = SyncPath::of(Logging::Redo).unwrap();
    assert!(GroupLog::new(redo, ms(5), 0, SimDuration::ZERO).is_err());
    let e = SyncCostParams {
        clients: 1_000,
        duration: ms(60_000),
        seeds: 1_000,
        ..p
    }
    .group_commit(&BATCHES)
    .unwrap_err();
    assert!(e.is_invalid_parameter(), "{e}");
}

#[test]
fn same_parameters_same_results_and_the_charts_draw() -> Result<()> {
    let p = SyncCostParams {
        seeds: 3,
        duration: ms(3_000),
        ..Default::default()
    };
    let a = p.group_commit(&[1, 4])?;
    let b = p.group_commit(&[1, 4])?;
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b).unwrap()
    );
    assert_eq!(&a.chart()?.to_png()?[1..4], b"PNG");
    assert_eq!(a.table().rows().len(), 4);
    let w = p.window_latency(&[0.0, 10.0])?;
    assert_eq!(&w.chart()?.to_png()?[1..4], b"PNG");
    assert_eq!(w.table().rows().len(), 4);
    Ok(())
}

/// The "try this" of experiment 8: a disk that syncs in 1 ms.
#[test]
fn try_this_a_faster_disk() -> Result<()> {
    let fast = SyncCostParams {
        sync_time: ms(1),
        ..Default::default()
    };
    let slow = SyncCostParams::default();
    let (gf, gs) = (fast.group_commit(&BATCHES)?, slow.group_commit(&BATCHES)?);
    for (f, s) in gf.points.iter().flatten().zip(gs.points.iter().flatten()) {
        assert!((f.throughput.mean / s.throughput.mean - 5.0).abs() < 0.05);
    }
    assert_eq!(gf.points[1][4].batch, 16);
    assert!((gf.points[1][4].throughput.mean - 8_000.0).abs() < 10.0);
    let w = fast.window_latency(&[0.0])?;
    assert_eq!(
        (
            w.points[0][0].latency_ms.mean,
            w.points[1][0].latency_ms.mean
        ),
        (6.0, 3.0)
    );
    prose::says(
        NB,
        "every throughput is five times higher (the redo log at 16 per sync: 8,000 per second)",
    );
    prose::says(NB, "6 ms under undo logging and 3 ms under redo logging");
    Ok(())
}
