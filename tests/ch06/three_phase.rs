//! Chapter 6, three-phase commit: the termination rule decides every
//! coordinator crash the same way everywhere (two-phase commit blocks at
//! some), the explorer finds no violation with the coordinator's outages
//! and finds one with a partition, shrunk to the partition alone; and the
//! notebook's figures.

use super::prose;
use thinkdist::ch06::atomicity::{counterexample_chart, explore_table, shrink_table};
use thinkdist::ch06::three_phase::{crashes_table, replay_table, ThreePhaseParams};
use thinkdist::prelude::*;
use thinkdist::txn::three_phase::{Participant, PeerState};
use thinkdist::txn::two_phase::Outcome;

const NB: &str = "06-distributed-transactions";

/// Seeds the notebook explores per fault space.
const SEEDS: usize = 2_000;

#[test]
fn the_termination_rule() {
    use Outcome::*;
    use PeerState::*;
    let t = Participant::terminate;
    assert_eq!(t(Uncertain, &[Uncertain, Uncertain]), Aborted);
    assert_eq!(t(Uncertain, &[]), Aborted, "nobody answers: abort");
    assert_eq!(t(Uncertain, &[PreCommitted]), Committed);
    assert_eq!(t(PreCommitted, &[]), Committed);
    assert_eq!(
        t(PreCommitted, &[Decided(Aborted)]),
        Aborted,
        "a known outcome wins"
    );
    assert_eq!(t(Uncertain, &[Decided(Committed), Uncertain]), Committed);
}

#[test]
fn three_phase_commit_decides_every_coordinator_crash_and_two_phase_commit_blocks() -> Result<()> {
    let p = ThreePhaseParams::default();
    let rows = p.coordinator_crashes()?;
    eprintln!("{}", crashes_table(&rows)?.to_csv());
    let two: Vec<_> = rows
        .iter()
        .filter(|r| r.protocol == "two-phase commit")
        .collect();
    let three: Vec<_> = rows
        .iter()
        .filter(|r| r.protocol == "three-phase commit")
        .collect();
    // Every send and sync of the coordinator: 3 prepares, a commit sync, 3
    // commits and the answer; three-phase commit adds 3 pre-commits.
    assert_eq!((two.len(), three.len()), (8, 11));
    // Atomic everywhere: the participants that know hold one outcome.
    assert!(rows.iter().all(|r| r.outcomes.len() <= 1), "{rows:?}");
    // Crashed before its first prepare left, nobody voted, nobody waits.
    for r in [two[0], three[0]] {
        assert_eq!((r.decided, r.in_doubt, r.after_ms), (0, 0, None), "{r:?}");
    }
    // Three-phase commit: never in doubt; everybody knows within a
    // participant's timeout, its round of questions and a few message
    // delays (100 + 20 + 20 ms).
    for r in &three[1..] {
        let after = r.after_ms.unwrap_or_else(|| panic!("blocked: {r:?}"));
        assert!(after <= 140.0, "{r:?}");
        assert_eq!((r.decided, r.in_doubt), (p.participants, 0));
    }
    // Two-phase commit: blocked from its second prepare to its last commit
    // sent; a crash at its answer to the client comes after everybody knows.
    let blocked = two.iter().filter(|r| r.in_doubt > 0).count();
    assert_eq!(blocked, 6);
    assert!(two[1..7]
        .iter()
        .all(|r| r.in_doubt > 0 && r.after_ms.is_none()));
    assert!(two[7].after_ms.is_some());
    let committed = three
        .iter()
        .filter(|r| r.outcomes == [Outcome::Committed])
        .count();
    let slowest = three.iter().filter_map(|r| r.after_ms).fold(0.0, f64::max);
    prose::says(
        NB,
        &format!(
            "Two-phase commit leaves the participants in doubt at {blocked} of its {} crash points",
            two.len()
        ),
    );
    prose::says(
        NB,
        &format!(
            "Under three-phase commit every participant knows the outcome at most {slowest:.0} ms after the crash, the same outcome everywhere: commit at {committed} of its {} crash points",
            three.len()
        ),
    );
    Ok(())
}

#[test]
fn three_phase_commit_survives_the_coordinators_outages_and_breaks_under_a_partition() -> Result<()>
{
    let p = ThreePhaseParams::default();
    let calm = p.explore(false, SEEDS)?;
    let cut = p.explore(true, SEEDS)?;
    eprintln!(
        "{}",
        explore_table(&[
            ("coordinator outages".into(), calm.clone()),
            ("a partition".into(), cut.clone())
        ])
        .to_csv()
    );
    eprintln!("{}", shrink_table(&cut)?.to_csv());
    assert!(calm.passed(), "{:?}", calm.failures.first());
    assert!(cut.failed() > 0);
    let cx = cut.counterexample.as_ref().expect("shrunk");
    // The shrunk plan is one partition, nothing else.
    assert_eq!(cx.plan.len(), 1, "{:?}", cx.plan);
    assert!(matches!(cx.plan.faults()[0], Fault::Partition { .. }));
    let svg = counterexample_chart(&cut, 60.0)?.to_svg()?;
    assert!(svg.contains("atomicity violated"));
    prose::says(
        NB,
        &format!(
            "no violation in {} seeds with the coordinator's outages; with a partition {} of the {} seeds fail",
            prose::thousands(calm.runs),
            cut.failed(),
            prose::thousands(cut.runs)
        ),
    );
    prose::says(
        NB,
        &format!(
            "seed {}'s plan shrinks to one fault, {}",
            cx.seed,
            cx.plan.faults()[0].describe()
        ),
    );
    prose::says(NB, &cx.violation.reason);
    // The same seed again, with the shrunk partition and without any
    // fault: the partition alone breaks it; without it nobody is in doubt
    // at the end and every transaction ended the same everywhere.
    let with = p.replay(cx.seed, cx.plan.clone())?;
    let without = p.replay(cx.seed, FaultPlan::new())?;
    eprintln!(
        "{}",
        replay_table(&[with.clone(), without.clone()])?.to_csv()
    );
    assert!(with.violation.is_some());
    assert_eq!((without.violation.clone(), without.in_doubt), (None, 0));
    assert_eq!(
        without.committed + without.aborted,
        (p.clients as u64 * p.txns) as usize
    );
    prose::says(
        NB,
        &format!(
            "Without the partition the same seed keeps atomicity: {} transactions commit and {} abort everywhere, none is left in doubt",
            without.committed, without.aborted
        ),
    );
    Ok(())
}

#[test]
fn three_phase_refuses_bad_input_and_is_deterministic() -> Result<()> {
    let p = ThreePhaseParams {
        txns: 3,
        ..Default::default()
    };
    let (a, b) = (p.explore(true, 40)?, p.explore(true, 40)?);
    assert_eq!(
        a.failures.iter().map(|f| f.0).collect::<Vec<_>>(),
        b.failures.iter().map(|f| f.0).collect::<Vec<_>>()
    );
    for bad in [
        ThreePhaseParams {
            participants: 1,
            ..p.clone()
        },
        ThreePhaseParams {
            clients: 0,
            ..p.clone()
        },
        ThreePhaseParams {
            txns: 0,
            ..p.clone()
        },
        ThreePhaseParams {
            horizon: ms(1),
            ..p.clone()
        },
    ] {
        let e = bad.explore(true, 10).expect_err("bad input");
        eprintln!("{}", e.message());
        assert!(bad.coordinator_crashes().is_err());
    }
    assert!(p.explore(true, 0).is_err());
    assert!(crashes_table(&[]).is_err());
    Ok(())
}

/// The section's "try this": five participants. Two-phase commit now
/// blocks at 10 of its 12 crash points (from the second prepare to the last
/// commit); three-phase commit at none of its 17.
#[test]
fn try_this_five_participants() -> Result<()> {
    let p = ThreePhaseParams {
        participants: 5,
        ..Default::default()
    };
    let rows = p.coordinator_crashes()?;
    eprintln!("{}", crashes_table(&rows)?.to_csv());
    let count = |proto: &str, blocked: bool| {
        rows.iter()
            .filter(|r| r.protocol == proto && (r.in_doubt > 0) == blocked)
            .count()
    };
    assert_eq!(count("two-phase commit", true), 10);
    assert_eq!(count("two-phase commit", false), 2);
    assert_eq!(count("three-phase commit", true), 0);
    assert_eq!(count("three-phase commit", false), 17);
    assert!(rows.iter().all(|r| r.outcomes.len() <= 1));
    let slowest = rows
        .iter()
        .filter(|r| r.protocol == "three-phase commit")
        .filter_map(|r| r.after_ms)
        .fold(0.0, f64::max);
    assert!(slowest <= 140.0, "{slowest}");
    prose::says(
        NB,
        "two-phase commit blocks at 10 of its 12 crash points, three-phase commit at none of its 17",
    );
    Ok(())
}
