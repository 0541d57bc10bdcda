//! Hand-written histories, one per anomaly, each found with the right
//! transactions and edge kinds; a serial history shows none.

use super::*;
use crate::sim::time::ms;

fn at(t: u64) -> SimTime {
    SimTime::from_start(ms(t))
}
fn v(t: TxnId, s: u32) -> Version {
    Version::new(t, s)
}
fn r(k: Key, ver: Version, value: i64, t: u64) -> TxnOp {
    TxnOp::read(k, ver, value, at(t))
}
fn w(k: Key, ver: Version, value: i64, t: u64) -> TxnOp {
    TxnOp::write(k, ver, value, at(t))
}
fn ok(id: TxnId, ops: Vec<TxnOp>) -> TxnRecord {
    let end = ops.iter().map(|o| o.at()).max().unwrap_or_default();
    TxnRecord::committed(id, format!("T{id}"), at(0), end, ops)
}
fn kinds(f: &Found) -> Vec<EdgeKind> {
    f.edges.iter().map(|e| e.kind).collect()
}
/// The single anomaly of `h` (the history must be well formed).
fn only(h: &TxnHistory) -> Found {
    assert_eq!(h.validate(), Ok(()));
    let found = anomalies(h).unwrap();
    assert_eq!(found.len(), 1, "{found:#?}");
    found[0].clone()
}

const A: Key = 0;
const B: Key = 1;
const I: Version = Version::INITIAL;

#[test]
fn a_serial_history_has_no_anomaly() {
    // T1 moves 30 from a to b; T2 then reads both; T3 then moves 10 back.
    let t1 = ok(
        1,
        vec![
            r(A, I, 100, 1),
            r(B, I, 100, 2),
            w(A, v(1, 1), 70, 3),
            w(B, v(1, 2), 130, 4),
        ],
    );
    let t2 = ok(2, vec![r(A, v(1, 1), 70, 5), r(B, v(1, 2), 130, 6)]);
    let t3 = ok(
        3,
        vec![
            r(B, v(1, 2), 130, 7),
            r(A, v(1, 1), 70, 8),
            w(B, v(3, 1), 120, 9),
            w(A, v(3, 2), 80, 10),
        ],
    );
    let h = TxnHistory::new(
        vec![t1, t2, t3],
        [
            (A, vec![I, v(1, 1), v(3, 2)]),
            (B, vec![I, v(1, 2), v(3, 1)]),
        ],
    );
    assert_eq!(h.validate(), Ok(()));
    assert!(anomalies(&h).unwrap().is_empty());
    let g = dsg(&h);
    // Every edge points forward: 1 → 2 (wr), 1 → 3 (ww, wr), 2 → 3 (rw).
    assert!(g.iter().all(|e| e.from < e.to), "{g:?}");
    assert!(g.contains(&Edge {
        from: 2,
        to: 3,
        kind: EdgeKind::RW,
        key: A
    }));
    assert!(counts(&[]).values().all(|&c| c == 0));
    assert_eq!(counts(&[]).len(), Anomaly::ALL.len());
}

#[test]
fn dirty_write_is_a_cycle_of_write_dependencies() {
    // T1 writes a, T2 overwrites a and writes b, T1 overwrites b.
    let t1 = ok(1, vec![w(A, v(1, 1), 1, 1), w(B, v(1, 2), 1, 4)]);
    let t2 = ok(2, vec![w(A, v(2, 1), 2, 2), w(B, v(2, 2), 2, 3)]);
    let h = TxnHistory::new(
        vec![t1, t2],
        [
            (A, vec![I, v(1, 1), v(2, 1)]),
            (B, vec![I, v(2, 2), v(1, 2)]),
        ],
    );
    let f = only(&h);
    assert_eq!(f.anomaly, Anomaly::DirtyWrite);
    assert_eq!(f.anomaly.adya(), "G0");
    assert_eq!(f.txns, vec![1, 2]);
    assert_eq!(kinds(&f), vec![EdgeKind::WW, EdgeKind::WW]);
    assert_eq!((f.edges[0].key, f.edges[1].key), (A, B));
}

#[test]
fn dirty_read_is_a_committed_read_of_an_aborted_write() {
    let t1 = TxnRecord::aborted(1, "T1", at(0), at(3), vec![w(A, v(1, 1), 40, 1)]);
    let t2 = ok(2, vec![r(A, v(1, 1), 40, 2)]);
    let h = TxnHistory::new(vec![t1, t2], [(A, vec![I])]);
    let f = only(&h);
    assert_eq!(f.anomaly, Anomaly::DirtyRead);
    assert_eq!(f.txns, vec![1, 2]);
    assert_eq!(kinds(&f), vec![EdgeKind::WR]);
    assert!(f.explanation.contains("a = 40"), "{}", f.explanation);
    assert!(f.explanation.contains("aborted"));
    // An aborted reader of the same write is no anomaly.
    let t3 = TxnRecord::aborted(3, "T3", at(0), at(3), vec![r(A, v(1, 1), 40, 2)]);
    let h = TxnHistory::new(vec![h.txns[0].clone(), t3], [(A, vec![I])]);
    assert!(anomalies(&h).unwrap().is_empty());
}

#[test]
fn intermediate_read_sees_a_version_its_writer_overwrote() {
    let t1 = ok(1, vec![w(A, v(1, 1), 10, 1), w(A, v(1, 2), 20, 3)]);
    let t2 = ok(2, vec![r(A, v(1, 1), 10, 2)]);
    let h = TxnHistory::new(vec![t1, t2], [(A, vec![I, v(1, 2)])]);
    let f = only(&h);
    assert_eq!(f.anomaly, Anomaly::IntermediateRead);
    assert_eq!(f.txns, vec![1, 2]);
    assert!(f.explanation.contains("a = 20"), "{}", f.explanation);
}

#[test]
fn circular_information_flow_is_a_cycle_of_reads_and_writes() {
    // Each reads what the other wrote.
    let t1 = ok(1, vec![w(A, v(1, 1), 1, 1), r(B, v(2, 1), 2, 3)]);
    let t2 = ok(2, vec![w(B, v(2, 1), 2, 2), r(A, v(1, 1), 1, 4)]);
    let h = TxnHistory::new(vec![t1, t2], [(A, vec![I, v(1, 1)]), (B, vec![I, v(2, 1)])]);
    // Both wr edges anchor the same cycle: it counts once.
    let f = only(&h);
    assert_eq!(f.anomaly, Anomaly::CircularInformationFlow);
    assert_eq!(f.txns, vec![1, 2]);
    assert_eq!(kinds(&f), vec![EdgeKind::WR, EdgeKind::WR]);
}

#[test]
fn lost_update_overwrites_a_write_never_seen() {
    // Both read a = 100; T1 writes 110 and commits; T2 writes 70.
    let t1 = ok(1, vec![r(A, I, 100, 1), w(A, v(1, 1), 110, 3)]);
    let t2 = ok(2, vec![r(A, I, 100, 2), w(A, v(2, 1), 70, 4)]);
    let h = TxnHistory::new(vec![t1, t2], [(A, vec![I, v(1, 1), v(2, 1)])]);
    let f = only(&h);
    assert_eq!(f.anomaly, Anomaly::LostUpdate);
    assert_eq!(f.anomaly.adya(), "G-single");
    assert_eq!(f.txns, vec![2, 1]);
    assert_eq!(kinds(&f), vec![EdgeKind::RW, EdgeKind::WW]);
    assert!(f.edges.iter().all(|e| e.key == A));
    assert!(
        f.explanation.contains("a = 100") && f.explanation.contains("a = 70"),
        "{}",
        f.explanation
    );
}

#[test]
fn three_racing_updates_are_two_distinct_lost_updates() {
    // All three read a = 100 and commit in order 1, 2, 3: T2 lost T1's
    // update, T3 lost T1's and T2's.
    let txns = (1..=3)
        .map(|t| {
            ok(
                t,
                vec![r(A, I, 100, t), w(A, v(t, 1), 100 + t as i64, 10 + t)],
            )
        })
        .collect();
    let h = TxnHistory::new(txns, [(A, vec![I, v(1, 1), v(2, 1), v(3, 1)])]);
    assert_eq!(h.validate(), Ok(()));
    let found = anomalies(&h).unwrap();
    let lost: Vec<&Found> = found
        .iter()
        .filter(|f| f.anomaly == Anomaly::LostUpdate)
        .collect();
    assert_eq!(found.len(), 2, "{found:#?}");
    assert_eq!(lost[0].txns, vec![2, 1]);
    assert_eq!(lost[1].txns, vec![3, 1, 2]);
    assert_eq!(
        kinds(lost[1]),
        vec![EdgeKind::RW, EdgeKind::WW, EdgeKind::WW]
    );
}

#[test]
fn read_skew_sees_half_of_a_transfer() {
    // T1 moves 50 from a to b; T2 reads a before and b after it.
    let t1 = ok(
        1,
        vec![
            r(A, I, 100, 1),
            r(B, I, 100, 2),
            w(A, v(1, 1), 50, 3),
            w(B, v(1, 2), 150, 4),
        ],
    );
    let t2 = ok(2, vec![r(A, I, 100, 2), r(B, v(1, 2), 150, 6)]);
    let h = TxnHistory::new(vec![t1, t2], [(A, vec![I, v(1, 1)]), (B, vec![I, v(1, 2)])]);
    let f = only(&h);
    assert_eq!(f.anomaly, Anomaly::ReadSkew);
    assert_eq!(f.txns, vec![2, 1]);
    assert_eq!(kinds(&f), vec![EdgeKind::RW, EdgeKind::WR]);
    assert_eq!((f.edges[0].key, f.edges[1].key), (A, B));
}

#[test]
fn write_skew_is_a_cycle_of_two_anti_dependencies() {
    // Two doctors on call: each sees both on call and goes off call.
    let t1 = ok(1, vec![r(A, I, 1, 1), r(B, I, 1, 2), w(A, v(1, 1), 0, 5)]);
    let t2 = ok(2, vec![r(B, I, 1, 3), r(A, I, 1, 4), w(B, v(2, 1), 0, 6)]);
    let h = TxnHistory::new(vec![t1, t2], [(A, vec![I, v(1, 1)]), (B, vec![I, v(2, 1)])]);
    let f = only(&h);
    assert_eq!(f.anomaly, Anomaly::WriteSkew);
    assert_eq!(f.anomaly.adya(), "G2-item");
    assert_eq!(f.txns, vec![1, 2]);
    assert_eq!(kinds(&f), vec![EdgeKind::RW, EdgeKind::RW]);
    assert_eq!((f.edges[0].key, f.edges[1].key), (B, A));
}

#[test]
fn counting_scales_to_thousands_of_transactions() {
    // 1,500 independent lost updates, each on its own key, in a history
    // of 3,000 transactions: each is counted once.
    let n = 1_500u64;
    let mut txns = Vec::new();
    let mut order = Vec::new();
    for i in 0..n {
        let (t1, t2, k) = (2 * i + 1, 2 * i + 2, i as Key);
        txns.push(ok(t1, vec![r(k, I, 0, 1), w(k, v(t1, 1), 1, 3)]));
        txns.push(ok(t2, vec![r(k, I, 0, 2), w(k, v(t2, 1), 2, 4)]));
        order.push((k, vec![I, v(t1, 1), v(t2, 1)]));
    }
    let h = TxnHistory::new(txns, order);
    let c = counts(&anomalies(&h).unwrap());
    assert_eq!(c[&Anomaly::LostUpdate], n as usize);
    assert_eq!(c.values().sum::<usize>(), n as usize);
}

#[test]
fn malformed_histories_are_rejected_by_validate_and_do_not_panic() {
    let t1 = ok(1, vec![w(A, v(1, 1), 1, 1)]);
    // Missing initial version.
    let h = TxnHistory::new(vec![t1.clone()], [(A, vec![v(1, 1)])]);
    assert!(h.validate().is_err_and(|e| e.is_invalid_parameter()));
    let _ = anomalies(&h).unwrap();
    // A committed write missing from the order.
    let h = TxnHistory::new(vec![t1.clone()], [(A, vec![I])]);
    assert!(h.validate().is_err());
    // A version written by someone else.
    let bad = ok(2, vec![w(A, v(7, 1), 1, 1)]);
    let h = TxnHistory::new(vec![t1.clone(), bad], [(A, vec![I, v(1, 1)])]);
    assert!(h.validate().is_err());
    let _ = anomalies(&h).unwrap();
    // Duplicate ids, and reads of versions nobody wrote.
    let ghost = ok(1, vec![r(B, v(9, 9), 5, 1)]);
    let h = TxnHistory::new(vec![t1, ghost], [(A, vec![I, v(1, 1)])]);
    assert!(h.validate().is_err());
    assert!(anomalies(&h).unwrap().is_empty());
}

#[test]
fn a_write_skew_whose_shortest_way_back_passes_its_reader_twice_is_found() {
    // The smallest history the old search missed (4 transactions, one
    // key): T4 installs a, then T1; T2 reads a before T4 and T1, T3 reads
    // T1's a. The cycle T2 →rw T4 →wr T3 →rw T1 →wr T2 has two rw edges,
    // but the shortest way back from T4 to T2 with an rw edge is
    // T4 → T2 → T1 → T2, through T2 twice: the old search gave up there.
    let t1 = ok(1, vec![w(A, v(1, 1), 1, 1), r(A, v(4, 1), 4, 2)]);
    let t2 = ok(
        2,
        vec![r(A, I, 0, 1), r(A, v(4, 1), 4, 2), r(A, v(1, 1), 1, 3)],
    );
    let t3 = ok(3, vec![r(A, v(1, 1), 1, 1), r(A, v(4, 1), 4, 2)]);
    let t4 = ok(4, vec![w(A, v(4, 1), 4, 1)]);
    let h = TxnHistory::new(vec![t1, t2, t3, t4], [(A, vec![I, v(4, 1), v(1, 1)])]);
    assert_eq!(h.validate(), Ok(()));
    let found = anomalies(&h).unwrap();
    let skews: Vec<&Found> = found
        .iter()
        .filter(|f| f.anomaly == Anomaly::WriteSkew)
        .collect();
    assert!(!skews.is_empty(), "{found:#?}");
    for f in skews {
        let rw = f.edges.iter().filter(|e| e.kind == EdgeKind::RW).count();
        let mut txns = f.txns.clone();
        txns.sort_unstable();
        txns.dedup();
        assert!(rw >= 2 && txns.len() == f.txns.len(), "{f:#?}");
    }
}
