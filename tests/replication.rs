//! The replication mechanisms (chapter 8): each checked against what it
//! promises, and a broken variant of each caught.

use std::collections::BTreeSet;
use thinkdist::check::linearizability::{check_linearizable, Budget, KvMap};
use thinkdist::prelude::*;
use thinkdist::replication::{
    kv_history, lost_writes, Ack, LeaderFollower, LfMsg, QMsg, Quorum, ReadRepair, Reads, Stamp,
    Stored, Version, VersionVector, Versioned, Versioning,
};
use thinkdist::retry::client::{AttemptEnd, Reply, RetryClient};
use thinkdist::retry::{Backoff, RetryPolicy};

fn lf_classify(reply: &LfMsg, failed: bool) -> Reply {
    match reply {
        LfMsg::NotLeader(Some(n)) => Reply::Redirect(*n),
        _ if failed => Reply::Refused,
        _ => Reply::Done,
    }
}

fn q_classify(reply: &QMsg, failed: bool) -> Reply {
    match reply {
        QMsg::MaybeApplied => Reply::Unknown,
        _ if failed => Reply::Refused,
        _ => Reply::Done,
    }
}

fn policy() -> RetryPolicy {
    RetryPolicy::new(Backoff::FullJitter, ms(5), ms(100), 20)
        .unwrap()
        .with_timeout(ms(60))
        .unwrap()
}

/// Writes by each client (as many as the workload is given), each a unique value, on `keys` keys; reads
/// mixed in with probability `reads`.
fn lf_clients(ops: u64, keys: u64, reads: f64) -> RetryClient<LfMsg> {
    RetryClient::new(
        policy(),
        3,
        lf_classify,
        move |c: ClientId, i: u64, rng: &mut SimRng| {
            if i >= ops {
                return None;
            }
            let key = rng.random_range(0..keys);
            let msg = if rng.random_bool(reads) {
                LfMsg::get(key)
            } else {
                LfMsg::put(key, (c as i64 + 1) * 1_000_000 + i as i64 + 1)
            };
            Some((msg, ms(rng.random_range(1..10))))
        },
    )
    .unwrap()
}

/// The writes held by the log of the node that leads at the end.
fn surviving(sim: &Sim<thinkdist::replication::LfNode>) -> BTreeSet<(u64, i64)> {
    let leader = (0..sim.len()).find(|&i| sim.is_up(i) && sim.nodes()[i].is_leader());
    let Some(l) = leader else {
        return BTreeSet::new();
    };
    sim.disk(l)
        .unwrap()
        .working()
        .log
        .iter()
        .filter(|e| e.is_write())
        .map(|e| (e.key, e.value))
        .collect()
}

/// A leader crash at `crash`, nothing else.
fn lf_run(ack: Ack, stream: bool, seed: u64, crash: SimDuration) -> Result<(usize, usize)> {
    let lf = LeaderFollower {
        nodes: 3,
        ack,
        stream,
        heartbeat: ms(20),
        ..LeaderFollower::default()
    };
    let link = LinkConfig::new(Latency::exponential(ms(2))?);
    let mut sim = Sim::builder()
        .seed(seed)
        .link(link)
        .trace(0)
        .faults(FaultPlan::new().crash(crash, 0))
        .build(lf.nodes()?)?;
    let client = lf_clients(60, 5, 0.0);
    sim.set_workload(4, client)?;
    sim.run_for(secs(3))?;
    let acked = sim
        .history()
        .ops()
        .iter()
        .filter(|o| o.reply == Some(LfMsg::PutOk))
        .count();
    Ok((lost_writes(sim.history(), &surviving(&sim)).len(), acked))
}

#[test]
fn asynchronous_replication_loses_acknowledged_writes_and_majority_does_not() -> Result<()> {
    let (mut lost_async, mut lost_majority, mut lost_sync) = (0, 0, 0);
    for seed in 0..20 {
        let crash = ms(100 + 13 * seed);
        lost_async += lf_run(Ack::Async, false, seed, crash)?.0;
        let (l, acked) = lf_run(Ack::Majority, true, seed, crash)?;
        assert!(acked > 100, "seed {seed}: only {acked} writes acknowledged");
        lost_majority += l;
        lost_sync += lf_run(Ack::Sync, true, seed, crash)?.0;
    }
    assert!(
        lost_async > 20,
        "async batches lost only {lost_async} writes"
    );
    assert_eq!(lost_majority, 0);
    assert_eq!(lost_sync, 0);
    Ok(())
}

#[test]
fn failover_elects_a_new_leader_and_clients_follow_redirects() -> Result<()> {
    let lf = LeaderFollower::default();
    let mut sim = Sim::builder()
        .seed(3)
        .faults(FaultPlan::new().crash(ms(200), 0))
        .build(lf.nodes()?)?;
    let client = lf_clients(40, 3, 0.2).start_at(|_| 1);
    sim.set_workload(2, client.clone())?;
    sim.run_for(secs(3))?;
    let leaders: Vec<usize> = (0..3).filter(|&i| sim.nodes()[i].is_leader()).collect();
    assert_eq!(leaders.len(), 1);
    assert_ne!(leaders[0], 0);
    let log = client.log();
    assert!(log
        .iter()
        .any(|a| matches!(a.end, AttemptEnd::Redirected(0))));
    assert!(log.iter().any(|a| a.end == AttemptEnd::TimedOut));
    let done = log.iter().filter(|a| a.end == AttemptEnd::Done).count();
    assert_eq!(done, 80, "every logical operation completes");
    // Every attempt is an operation of the history.
    assert_eq!(log.len(), sim.history().len());
    Ok(())
}

#[test]
fn versions_keep_siblings_and_stamps_keep_the_largest() {
    let mut a = VersionVector::new();
    a.increment(0);
    let mut b = VersionVector::new();
    b.increment(1);
    assert!(a.concurrent(&b));
    let mut s = Stored::default();
    assert!(s.merge(&Versioned {
        version: Version::Vector(a.clone()),
        value: 1
    }));
    assert!(s.merge(&Versioned {
        version: Version::Vector(b.clone()),
        value: 2
    }));
    assert_eq!(s.values(), vec![1, 2]);
    let mut c = s.context();
    c.increment(2);
    assert!(s.merge(&Versioned {
        version: Version::Vector(c),
        value: 3
    }));
    assert_eq!(s.values(), vec![3]);
    // An old version arriving late changes nothing.
    assert!(!s.merge(&Versioned {
        version: Version::Vector(a),
        value: 1
    }));
    let st = |time, node, value| Versioned {
        version: Version::Stamp(Stamp { time, node }),
        value,
    };
    let mut t = Stored::default();
    t.merge(&st(5, 1, 10));
    t.merge(&st(5, 0, 11));
    t.merge(&st(4, 9, 12));
    assert_eq!(t.values(), vec![10]);
}

fn q_workload(ops: u64, keys: u64, nodes: usize) -> RetryClient<QMsg> {
    RetryClient::new(
        policy(),
        nodes,
        q_classify,
        move |c: ClientId, i: u64, rng: &mut SimRng| {
            if i >= ops {
                return None;
            }
            let key = rng.random_range(0..keys);
            let msg = if rng.random_bool(0.5) {
                QMsg::get(key)
            } else {
                QMsg::put(key, (c as i64 + 1) * 1_000_000 + i as i64 + 1)
            };
            Some((msg, ms(rng.random_range(0..5))))
        },
    )
    .unwrap()
}

fn quorum_verdict(q: Quorum, seed: u64, plan: FaultPlan) -> Result<bool> {
    let link = LinkConfig::new(Latency::exponential(ms(3))?);
    let mut sim = Sim::builder()
        .seed(seed)
        .link(link)
        .trace(0)
        .faults(plan)
        .build(q.nodes()?)?;
    sim.set_workload(4, q_workload(40, 2, q.nodes))?;
    sim.run_for(secs(4))?;
    let h = kv_history(sim.history())?;
    let v = check_linearizable(&KvMap, &h, Budget::default())?;
    assert!(!v.is_unknown(), "seed {seed}: budget ran out");
    Ok(v.is_consistent())
}

#[test]
fn quorum_overlap_without_repair_is_not_linearizable_and_abd_is() -> Result<()> {
    let weak = Quorum {
        versions: Versioning::ReadFirst,
        ..Quorum::default()
    };
    let strong = Quorum {
        repair: ReadRepair::Blocking,
        ..weak
    };
    let plan_of = |seed: u64| {
        FaultPlan::new()
            .outage(ms(300), ms(500), (seed % 3) as usize)
            .partition(ms(800), ms(1000), vec![vec![0], vec![1, 2]])
    };
    // Without repair, a violation under these faults is rare (1 seed of the
    // first 200; chapter 8's workload finds one in about 9 % of explored
    // schedules, tests/ch08.rs): search for one, then ABD must pass the
    // same schedule.
    let mut weak_failed = None;
    for seed in 0..200 {
        if !quorum_verdict(weak, seed, plan_of(seed))? {
            weak_failed = Some(seed);
            break;
        }
    }
    let Some(bad) = weak_failed else {
        panic!("no seed showed quorum reads without repair as non-linearizable");
    };
    for seed in (0..30).chain([bad]) {
        assert!(
            quorum_verdict(strong, seed, plan_of(seed))?,
            "ABD seed {seed}"
        );
    }
    Ok(())
}

#[test]
fn follower_reads_are_stale_and_lease_reads_are_not() -> Result<()> {
    let mut stale_runs = 0;
    for seed in 0..20 {
        let run = |reads: Reads| -> Result<bool> {
            let lf = LeaderFollower {
                ack: Ack::Majority,
                reads,
                ..LeaderFollower::default()
            };
            let link = LinkConfig::new(Latency::exponential(ms(3))?);
            let mut sim = Sim::builder()
                .seed(seed)
                .link(link)
                .trace(0)
                .faults(FaultPlan::new().outage(ms(300), ms(600), 0))
                .build(lf.nodes()?)?;
            sim.set_workload(4, lf_clients(40, 2, 0.5))?;
            sim.run_for(secs(4))?;
            let h = kv_history(sim.history())?;
            Ok(check_linearizable(&KvMap, &h, Budget::default())?.is_consistent())
        };
        if !run(Reads::Any)? {
            stale_runs += 1;
        }
        assert!(run(Reads::Lease)?, "lease reads, seed {seed}");
    }
    assert!(stale_runs > 0);
    Ok(())
}
