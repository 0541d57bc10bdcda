//! The isolation checker's size guards: a history whose check would
//! take minutes or fill memory is refused with an error naming its size,
//! in about a second; smaller versions of the same shapes get the right
//! answer.

use thinkdist::check::isolation::{
    anomalies, Anomaly, TxnHistory, TxnOp, TxnRecord, Version, MAX_CYCLE_EDGES, SEARCH_BUDGET,
};
use thinkdist::prelude::*;

fn txn(id: u64, ops: Vec<TxnOp>) -> TxnRecord {
    TxnRecord::committed(id, "t", SimTime::ZERO, SimTime::ZERO, ops)
}

/// `n` transactions that each read the initial value of key 0 and
/// write it, installed in id order: transaction `i` lost the updates
/// of 1 to `i - 1`, a cycle through `i` transactions (n² / 2 edges in
/// all).
fn hot_key(n: u64) -> TxnHistory {
    let t0 = SimTime::ZERO;
    let txns = (1..=n)
        .map(|i| {
            txn(
                i,
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
}

/// One ww cycle through `n` transactions: `T_i` writes keys `i` and
/// `i + 1` (mod n), and on key `k` `T_{k-1}`'s version comes first.
fn ring(n: u64) -> TxnHistory {
    let t0 = SimTime::ZERO;
    let txns = (1..=n)
        .map(|i| {
            txn(
                i,
                vec![
                    TxnOp::write(i as usize, Version::new(i, 1), 1, t0),
                    TxnOp::write((i % n + 1) as usize, Version::new(i, 2), 1, t0),
                ],
            )
        })
        .collect();
    let order = (1..=n).map(|k| {
        let prev = if k == 1 { n } else { k - 1 };
        (
            k as usize,
            vec![Version::INITIAL, Version::new(prev, 2), Version::new(k, 1)],
        )
    });
    TxnHistory::new(txns, order)
}

#[test]
fn small_versions_of_the_expensive_histories_get_the_right_answer() -> Result<()> {
    let h = hot_key(100);
    h.validate()?;
    let found = anomalies(&h)?;
    // T_i lost T_1's update (and every later one's): 99 cycles, the
    // longest through all 100.
    assert_eq!(found.len(), 99);
    assert!(found.iter().all(|f| f.anomaly == Anomaly::LostUpdate));
    assert_eq!(found.iter().map(|f| f.txns.len()).max(), Some(100));
    let h = ring(1_000);
    h.validate()?;
    let found = anomalies(&h)?;
    assert_eq!(found.len(), 1, "every anchor closes the same cycle");
    assert_eq!(found[0].anomaly, Anomaly::DirtyWrite);
    assert_eq!(found[0].txns.len(), 1_000);
    Ok(())
}

#[test]
fn a_hot_key_of_10_000_transactions_is_refused_by_size() -> Result<()> {
    // Its right answer lists 50 million edges: the check stops at
    // MAX_CYCLE_EDGES instead of filling memory, and says why.
    let h = hot_key(10_000);
    h.validate()?;
    let e = anomalies(&h).unwrap_err();
    assert!(e.is_invalid_parameter(), "{e}");
    let m = e.message();
    assert!(m.contains("10000 committed transactions"), "{m}");
    assert!(m.contains(&MAX_CYCLE_EDGES.to_string()), "{m}");
    assert!(m.contains("MAX_CYCLE_EDGES"), "{m}");
    Ok(())
}

#[test]
fn a_cycle_through_30_000_transactions_is_refused_by_size() -> Result<()> {
    // Each of its 30,000 anchors closes the same 30,000-edge cycle: the
    // searches would look at 10⁹ edges, so the budget stops them.
    let h = ring(30_000);
    h.validate()?;
    let e = anomalies(&h).unwrap_err();
    assert!(e.is_invalid_parameter(), "{e}");
    let m = e.message();
    assert!(m.contains("30000 committed transactions"), "{m}");
    assert!(m.contains(&SEARCH_BUDGET.to_string()), "{m}");
    assert!(m.contains("SEARCH_BUDGET"), "{m}");
    Ok(())
}
