//! Chapter 6, what one commit costs: messages and syncs per transaction
//! counted by the simulation against 4n / 3n messages and 1 + 2n syncs;
//! with no votes against 3n + n(1−p)^n; the participant that forgets its
//! vote shows up as a missing sync; and the notebook's figures.

use super::prose;
use thinkdist::ch06::cost::{CostParams, CostTheory};
use thinkdist::prelude::*;
use thinkdist::txn::two_phase::Variant;

const NB: &str = "06-distributed-transactions";

#[test]
fn every_commit_costs_4n_messages_and_1_plus_2n_syncs() -> Result<()> {
    let run = CostParams::default().run()?;
    eprintln!("{}", run.table()?.to_csv());
    for r in &run.rows {
        let (n, t) = (r.n as u64, r.txns);
        // Without faults or no votes the counts are exact, not averages.
        assert_eq!(r.committed, t, "n = {n}");
        assert_eq!(
            (r.prepares, r.votes, r.decisions, r.acks, r.queries),
            (n * t, n * t, n * t, n * t, 0),
            "n = {n}"
        );
        assert_eq!(r.messages(), 4 * n * t);
        assert_eq!(r.messages() - r.acks, 3 * n * t);
        assert_eq!((r.coordinator_syncs, r.participant_syncs), (t, 2 * n * t));
        // The network's own count: the protocol's messages plus the
        // client's request and reply.
        assert_eq!(r.network_sent, r.messages() + 2 * t, "n = {n}");
        let th = run.theory(r);
        assert_eq!(th.messages(), 4.0 * n as f64);
        assert_eq!(
            th.coordinator_syncs() + th.participant_syncs(),
            1.0 + 2.0 * n as f64
        );
    }
    let table = run.table()?.to_csv();
    for row in [
        "3,1000 of 1000,12.00,12.00,9.00,9.00,1.00,6.00,7.00",
        "16,1000 of 1000,64.00,64.00,48.00,48.00,1.00,32.00,33.00",
    ] {
        assert!(table.contains(row), "{row}\nnot in\n{table}");
    }
    prose::says(
        NB,
        "Every row sits exactly on the theory: 12 messages and 7 syncs per transaction for three participants, 64 messages and 33 syncs for sixteen",
    );
    Ok(())
}

/// With no votes the counts are random: a transaction commits with
/// probability q = (1 − p)^n and then sends n acks and syncs once at the
/// coordinator. Tolerances: 4 standard errors of a mean of T Bernoulli(q)
/// draws (times n for the acks); a participant's syncs are 1 or 2, a
/// Bernoulli(1 − p) plus one, so the sum over n of them has variance
/// n·p(1 − p) per transaction. An abort that overtakes a prepare saves a
/// participant's sync, so the participants may only fall below.
#[test]
fn no_votes_make_aborts_cheaper_as_presumed_abort_says() -> Result<()> {
    let p = 0.1;
    let run = CostParams {
        no_vote: p,
        ..Default::default()
    }
    .run()?;
    eprintln!("{}", run.table()?.to_csv());
    for r in &run.rows {
        let th = run.theory(r);
        let (n, t) = (r.n as f64, r.txns as f64);
        let q = th.commit();
        let se = (q * (1.0 - q) / t).sqrt();
        let per = |x: u64| x as f64 / t;
        assert!((per(r.committed) - q).abs() < 4.0 * se + 1e-9, "n = {n}");
        assert!(
            (per(r.messages()) - th.messages()).abs() < 4.0 * n * se + 1e-9,
            "n = {n}"
        );
        assert_eq!(r.messages() - r.acks, 3 * r.n as u64 * r.txns);
        assert!(
            (per(r.coordinator_syncs) - q).abs() < 4.0 * se + 1e-9,
            "n = {n}"
        );
        let se_p = (n * p * (1.0 - p) / t).sqrt();
        let ps = per(r.participant_syncs);
        assert!(ps < th.participant_syncs() + 4.0 * se_p, "n = {n}: {ps}");
        assert!(
            ps > th.participant_syncs() - 4.0 * se_p - 0.05 * n,
            "n = {n}: {ps}"
        );
        assert_eq!(r.network_sent, r.messages() + 2 * r.txns, "n = {n}");
    }
    let sixteen = run.rows.iter().find(|r| r.n == 16).unwrap();
    let th16 = run.theory(sixteen);
    prose::says(
        NB,
        &format!(
            "with sixteen participants only {} of the 1,000 transactions commit (theory {:.0} %), and a transaction costs {:.2} messages (theory {:.2}) and {:.2} coordinator syncs",
            sixteen.committed,
            100.0 * th16.commit(),
            sixteen.messages() as f64 / 1000.0,
            th16.messages(),
            sixteen.coordinator_syncs as f64 / 1000.0,
        ),
    );
    Ok(())
}

/// The broken participant that votes yes before its promise is on disk
/// costs one sync less, n + 1 per transaction: the count catches it
/// without a single crash.
#[test]
fn a_forgotten_vote_shows_as_a_missing_sync() -> Result<()> {
    let run = CostParams {
        variant: Variant::ForgetVote,
        ..Default::default()
    }
    .run()?;
    eprintln!("{}", run.table()?.to_csv());
    for r in &run.rows {
        let (n, t) = (r.n as u64, r.txns);
        assert_eq!(r.messages(), 4 * n * t, "same messages");
        assert_eq!(r.participant_syncs, n * t, "n = {n}: one sync each");
        let th = run.theory(r);
        assert!((r.participant_syncs as f64 / t as f64) < th.participant_syncs());
    }
    prose::says(
        NB,
        "the participants sync n times per transaction instead of 2n",
    );
    Ok(())
}

#[test]
fn cost_refuses_bad_input_and_is_deterministic() -> Result<()> {
    let p = CostParams {
        participants: vec![2, 5],
        txns: 50,
        no_vote: 0.3,
        ..Default::default()
    };
    assert_eq!(p.run()?.rows, p.run()?.rows);
    for bad in [
        CostParams {
            participants: vec![],
            ..p.clone()
        },
        CostParams {
            participants: vec![0],
            ..p.clone()
        },
        CostParams {
            participants: vec![101],
            ..p.clone()
        },
        CostParams {
            txns: 0,
            ..p.clone()
        },
        CostParams {
            txns: 100_000,
            participants: vec![100],
            ..p.clone()
        },
        CostParams {
            no_vote: 1.5,
            ..p.clone()
        },
        CostParams {
            no_vote: f64::NAN,
            ..p.clone()
        },
    ] {
        let e = bad.run().expect_err("bad input");
        eprintln!("{}", e.message());
    }
    let th = CostTheory { n: 3, p: 0.0 };
    assert_eq!((th.messages(), th.without_acks()), (12.0, 9.0));
    Ok(())
}
