//! `isolation` mode of the engine bench: the isolation checker on
//! histories of the database of [`thinkdist::txn::isolation`], and with
//! `limits=1` on two adversarial histories.

use super::{arg, cpu_secs, median, vmhwm_kb, BoxResult};
use thinkdist::prelude::*;

/// The isolation checker ([`thinkdist::check::isolation`]) on histories of
/// the database of [`thinkdist::txn::isolation`], timed on-CPU; with
/// `limits=1` also on two adversarial histories (see `isolation_limits`).
pub fn mode(args: &[String]) -> BoxResult<()> {
    use thinkdist::check::isolation::anomalies;
    use thinkdist::txn::isolation::{IsolationParams, Level, Mix};
    let reps = arg(args, "reps", 5usize).max(1);
    let cases = [
        ("none", Level::NoIsolation, Mix::BANK),
        ("read-committed", Level::ReadCommitted, Mix::BANK),
        ("snapshot", Level::Snapshot, Mix::BANK),
        ("snapshot-on-call", Level::Snapshot, Mix::ON_CALL),
    ];
    for (name, level, mix) in cases {
        let p = IsolationParams {
            level,
            mix,
            clients: 30,
            txns_per_client: 100,
            ..Default::default()
        };
        let h = p.run()?.history;
        let edges = thinkdist::check::isolation::dsg(&h).len();
        let mut secs = Vec::new();
        let mut found = 0;
        for _ in 0..reps {
            let c0 = cpu_secs();
            found = std::hint::black_box(anomalies(&h)?).len();
            secs.push(cpu_secs() - c0);
        }
        println!(
            "isolation history={name} txns={} edges={edges} anomalies={found} cpu_s={:.4}",
            h.txns.len(),
            median(&mut secs)
        );
    }
    if arg(args, "limits", 0u8) == 1 {
        isolation_limits(&arg(args, "only", String::new()))?;
    }
    Ok(())
}

/// Two histories built to be expensive: 10,000 transactions that all read
/// the initial value of one key and write it (each loses every earlier
/// update: quadratic output), and one ww cycle through 30,000
/// transactions (every edge an anchor of the same long cycle).
fn isolation_limits(only: &str) -> BoxResult<()> {
    use thinkdist::check::isolation::{anomalies, TxnHistory, TxnOp, TxnRecord, Version};
    let t0 = SimTime::ZERO;
    let hot = |n: u64| {
        let txns = (1..=n)
            .map(|i| {
                TxnRecord::committed(
                    i,
                    "rmw",
                    t0,
                    t0,
                    vec![
                        TxnOp::read(0, Version::INITIAL, 0, t0),
                        TxnOp::write(0, Version::new(i, 1), 1, t0),
                    ],
                )
            })
            .collect();
        let mut order = vec![Version::INITIAL];
        order.extend((1..=n).map(|i| Version::new(i, 1)));
        TxnHistory::new(txns, [(0, order)])
    };
    let ring = |n: u64| {
        // T_i writes key i and key i + 1 (key 1 after key n).
        let txns = (1..=n)
            .map(|i| {
                TxnRecord::committed(
                    i,
                    "w",
                    t0,
                    t0,
                    vec![
                        TxnOp::write(i as usize, Version::new(i, 1), 1, t0),
                        TxnOp::write((i % n + 1) as usize, Version::new(i, 2), 1, t0),
                    ],
                )
            })
            .collect();
        // Key k is written by T_{k-1} (seq 2; T_n for key 1) and T_k (seq
        // 1), in that order: T_{k-1} →ww T_k on every key, one cycle
        // 1 → 2 → … → n → 1.
        let order = (1..=n).map(|k| {
            let prev = if k == 1 { n } else { k - 1 };
            (
                k as usize,
                vec![Version::INITIAL, Version::new(prev, 2), Version::new(k, 1)],
            )
        });
        TxnHistory::new(txns, order)
    };
    for (name, h) in [("hot-key-10000", hot(10_000)), ("ring-30000", ring(30_000))] {
        if !name.starts_with(only) {
            continue;
        }
        let c0 = cpu_secs();
        let r = anomalies(&h);
        let secs = cpu_secs() - c0;
        let what = match &r {
            Ok(f) => format!("anomalies={}", f.len()),
            Err(e) => format!("error=\"{e}\""),
        };
        println!(
            "isolation history={name} txns={} {what} cpu_s={secs:.3} vmhwm_kb={}",
            h.txns.len(),
            vmhwm_kb()
        );
    }
    Ok(())
}
