//! Chapter 8: the experiments of notebook `08-replication`, run with the
//! notebook's parameters, against their theory and against the figures the
//! notebook's prose quotes (so prose and numbers cannot drift apart).
//!
//! Tolerances: a simulated mean is compared with its theory within 4
//! standard errors of the mean over independent seeds (sd / √seeds; a false
//! failure about once in 16,000 checks for a normal mean), widened by the
//! Monte Carlo error of the theory where the theory is itself sampled.

use thinkdist::ch08::linearizable::search_table;
use thinkdist::ch08::{failover, partition, skew};
use thinkdist::ch08::{
    Design, FailoverParams, LagParams, LinParams, PartitionParams, PbsParams, RepairParams,
    SkewParams, WriteLatencyParams,
};
use thinkdist::prelude::*;

/// True if `theory` lies within 4 standard errors of the seeds' mean.
fn within_4se(m: &MeanCi, theory: f64) -> bool {
    (m.mean - theory).abs() <= 4.0 * m.sd / (m.n as f64).sqrt()
}

#[test]
fn write_latency_matches_the_k_of_n_theory() -> Result<()> {
    let modes = WriteLatencyParams::default().run()?;
    for m in &modes {
        assert!(
            within_4se(&m.mean, m.theory_mean()),
            "{}: {} against {}",
            m.label(),
            m.mean.mean,
            m.theory_mean()
        );
    }
    // The figures the notebook quotes: asynchronous 2.0, semi-synchronous
    // 6.9, synchronous 18.1 ms.
    let means: Vec<String> = modes
        .iter()
        .map(|m| format!("{:.1}", m.mean.mean))
        .collect();
    assert_eq!(means, ["2.0", "6.9", "18.1"]);
    let csv = thinkdist::ch08::latency::latency_table(&modes)?.to_csv();
    for quoted in ["6.81", "18.06", "40.75", "41.42"] {
        assert!(csv.contains(quoted), "{quoted} not in {csv}");
    }
    Ok(())
}

#[test]
fn batched_asynchronous_failover_loses_lambda_times_the_lag() -> Result<()> {
    let modes = [
        failover::Mode::ASYNC_BATCHED,
        failover::Mode::ASYNC_STREAMED,
        failover::Mode::SEMI_SYNC,
        failover::Mode::SYNC,
    ];
    let p = FailoverParams::default();
    let fo = p.run(&modes)?;
    let batched = &fo.modes[0];
    let lost: Vec<f64> = batched.crashes.iter().map(|c| c.lost as f64).collect();
    let m = mean_ci(&lost)?;
    let theory =
        thinkdist::measure::theory::async_batch_loss(batched.rate_per_ms(), p.batch.as_ms())?;
    assert!(
        within_4se(&m, theory),
        "lost {} against λ·batch/2 = {theory}",
        m.mean
    );
    for other in &fo.modes[1..] {
        assert!(
            other.crashes.iter().all(|c| c.lost == 0),
            "{} lost writes",
            other.mode.name()
        );
    }
    assert_eq!(format!("{:.1} {:.1}", m.mean, theory), "5.9 5.7");
    let csv = fo.table()?.to_csv();
    for quoted in ["5.90 ± 0.48,15,5.67", ",745,", ",158,"] {
        assert!(csv.contains(quoted), "{quoted} not in {csv}");
    }
    Ok(())
}

#[test]
fn a_partitioned_follower_falls_behind_one_second_per_second() -> Result<()> {
    let lag = LagParams::default().run()?;
    assert!(
        lag.max_ms(0) < 10.0,
        "the connected follower: {}",
        lag.max_ms(0)
    );
    let cut = lag.max_ms(1);
    assert!(
        (990.0..=1_010.0).contains(&cut),
        "the cut-off follower: {cut}"
    );
    Ok(())
}

#[test]
fn partial_quorums_are_fresh_as_pbs_predicts() -> Result<()> {
    let pbs = PbsParams::default().run()?;
    for c in &pbs.configs {
        let (n, r, w) = c.nrw;
        for (i, f) in c.fresh.iter().enumerate() {
            // The theory is a Monte Carlo estimate: add its standard error.
            let theory = c.theory[i];
            let mc = (theory * (1.0 - theory) / 50_000.0).sqrt();
            let tol = 4.0 * (f.sd * f.sd / f.n as f64 + mc * mc).sqrt();
            assert!(
                (f.mean - theory).abs() <= tol.max(1e-9),
                "N={n} R={r} W={w} at {} ms: {} against {theory}",
                pbs.t_ms[i],
                f.mean
            );
        }
        if r + w > n {
            assert!(
                c.fresh.iter().all(|f| f.mean == 1.0),
                "a strict quorum read stale"
            );
        }
        assert!(c.fresh[0].mean >= c.bound - 4.0 * c.fresh[0].sd / (c.fresh[0].n as f64).sqrt());
    }
    // The notebook quotes these.
    let csv = pbs.table().to_csv();
    for quoted in [
        "0.733 ± 0.021,0.752,0.333",
        "0.910 ± 0.012,0.912,0.667",
        "0.969 ± 0.008,0.962",
    ] {
        assert!(csv.contains(quoted), "{quoted} not in {csv}");
    }
    let i15 = pbs.t_ms.iter().position(|t| *t == 15.0).expect("15 ms");
    assert!(pbs.configs.iter().all(|c| c.fresh[i15].mean > 0.98));
    let lat = pbs.latency_table()?.to_csv();
    for quoted in ["4.80 ± 0.05,4.81", "9.14 ± 0.06,9.12", "9.17 ± 0.04,9.12"] {
        assert!(lat.contains(quoted), "{quoted} not in {lat}");
    }
    Ok(())
}

#[test]
fn hinted_handoff_and_read_repair_bring_a_replica_back() -> Result<()> {
    let runs = RepairParams::default().run()?;
    let by = |name: &str| {
        runs.iter()
            .find(|r| r.repair.name() == name)
            .expect("variant")
    };
    let neither = by("neither");
    let handoff = by("hinted handoff");
    let repair = by("read repair");
    assert!(neither.stale_reads.mean > repair.stale_reads.mean);
    assert!(handoff.catch_up_ms.mean < repair.catch_up_ms.mean);
    assert!(repair.catch_up_ms.mean < neither.catch_up_ms.mean);
    // The notebook quotes these.
    let csv = thinkdist::ch08::repair::repair_table(&runs).to_csv();
    for quoted in [
        "neither,11.7 % ± 3.9,2000 ± 0",
        "read repair,0.8 % ± 0.7,891 ± 254",
        "hinted handoff,0.0 % ± 0.0,14 ± 6",
    ] {
        assert!(csv.contains(quoted), "{quoted} not in {csv}");
    }
    assert_eq!(neither.stale_keys.last().copied(), Some(13.0));
    Ok(())
}

#[test]
fn the_checker_finds_violations_in_weak_designs_and_none_in_strong_ones() -> Result<()> {
    let lin = LinParams::default();
    let overlap = lin.find_violation(Design::QuorumOverlap, 200)?;
    let follower = lin.find_violation(Design::FollowerReads, 200)?;
    assert!(overlap.found.is_some() && follower.found.is_some());
    assert_eq!(
        (overlap.checked, follower.checked),
        (7, 1),
        "the notebook quotes these seeds"
    );
    let witness = overlap.found.as_ref().expect("found");
    let why = witness.reason();
    assert!(
        why.contains("\"6000009\"") && why.contains("\"1000010\""),
        "{why}"
    );
    assert!(witness
        .witness
        .as_ref()
        .is_some_and(|(h, _, unit)| h.len() <= 6 && *unit == "µs"));
    let t = search_table(&[overlap.clone(), follower.clone()]);
    assert_eq!(t.rows().len(), 2);
    for design in [Design::QuorumRepair, Design::LeaderLease] {
        let e = lin.explore(design, 1_000)?;
        assert_eq!(e.failed(), 0, "{}: {:?}", design.name(), e.failures.first());
    }
    // The broken design is caught under faults too.
    assert_eq!(
        lin.explore(Design::QuorumOverlap, 300)?.failed(),
        27,
        "the notebook quotes 27 of 300"
    );
    Ok(())
}

#[test]
fn the_notebook_shows_the_crates_read_rule_word_for_word() {
    let nb = include_str!("../notebooks/08-replication.ipynb");
    let nb: serde_json::Value = serde_json::from_str(nb).expect("notebook JSON");
    let cell: String = nb["cells"]
        .as_array()
        .expect("cells")
        .iter()
        .map(|c| {
            c["source"]
                .as_array()
                .expect("source")
                .iter()
                .map(|l| l.as_str().expect("line"))
                .collect::<String>()
        })
        .find(|s| s.contains("fn my_read("))
        .expect("the read-path cell");
    let src = include_str!("../src/mechanisms/replication/quorum/read_rule.rs");
    let body = |text: &str, start: &str| -> Vec<String> {
        let lines: Vec<String> = text.lines().map(|l| l.trim().to_string()).collect();
        let at = lines
            .iter()
            .position(|l| l.starts_with(start))
            .expect("the function");
        lines[at + 1..]
            .iter()
            .take_while(|l| *l != "}")
            .cloned()
            .collect()
    };
    let code = src.split_once("\nuse ").expect("code").1;
    assert_eq!(
        body(&cell, "fn my_read("),
        body(code, "pub fn read_newest(")
    );
}

#[test]
fn a_consistent_design_refuses_the_minority_and_siblings_lose_nothing() -> Result<()> {
    let runs = PartitionParams::default().run()?;
    let [consistent, lww, siblings] = &runs[..] else {
        panic!("three designs")
    };
    assert_eq!(consistent.minority.mean, 0.0);
    assert!(consistent.majority.mean > 0.95);
    assert!(lww.minority.mean > 0.95 && siblings.minority.mean > 0.95);
    assert_eq!(siblings.lost.mean, 0.0);
    assert_eq!(consistent.lost.mean, 0.0);
    assert_eq!(lww.lost.mean, 0.0, "clocks in step: nothing lost");
    assert!(runs.iter().all(|r| r.diverged.mean == 5.0));
    assert_eq!(format!("{:.1}", siblings.siblings.mean), "1.4");
    let t = partition::partition_table(&runs);
    assert_eq!(t.rows().len(), 3);
    Ok(())
}

#[test]
fn last_writer_wins_loses_more_writes_the_further_a_clock_is_behind() -> Result<()> {
    let pts = SkewParams::default().run()?;
    // The notebook quotes these shares.
    let shares: Vec<String> = pts
        .iter()
        .map(|p| format!("{:.1}", 100.0 * p.lww_fraction()))
        .collect();
    assert_eq!(
        shares,
        ["0.0", "0.0", "0.0", "2.6", "6.7", "14.1", "30.4", "42.5", "48.6"]
    );
    assert_eq!(pts[0].lww.mean, 0.0, "no skew, no lost writes");
    assert!(
        pts.iter().all(|p| p.siblings.mean == 0.0),
        "siblings never lose a write"
    );
    let last = pts.last().expect("points");
    assert!(last.lww.mean > 0.0);
    let t = skew::skew_table(&pts);
    assert_eq!(t.rows().len(), pts.len());
    Ok(())
}

#[test]
fn bad_input_is_an_error_that_says_what_to_change() {
    let e = SkewParams {
        skews: vec![],
        ..Default::default()
    }
    .run()
    .unwrap_err();
    assert!(e.to_string().contains("skews"), "{e}");
    let e = SkewParams {
        skews: vec![secs(100)],
        ..Default::default()
    }
    .run()
    .unwrap_err();
    assert!(e.to_string().contains("10 s"), "{e}");
    let e = PartitionParams {
        seeds: 1,
        ..Default::default()
    }
    .run()
    .unwrap_err();
    assert!(e.to_string().contains("seeds"), "{e}");
    let e = PbsParams {
        configs: vec![(3, 4, 1)],
        ..Default::default()
    }
    .run()
    .unwrap_err();
    assert!(!e.to_string().is_empty());
}
