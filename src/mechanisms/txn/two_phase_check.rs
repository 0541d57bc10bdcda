//! How two-phase commit is checked ([`super::two_phase`]): the atomicity
//! invariant, the clients' workload, and one explored trial. Kept apart
//! from the protocol so the protocol's file reads as the protocol.

use super::two_phase::{Msg, Outcome, TwoPc, TwoPhase, TxnId};
use crate::check::property::invariant;
use crate::error::Result;
use crate::sim::rng;
use crate::sim::time::{ms, SimDuration};
use crate::sim::Invoke;
use crate::sim::{Property, World};
use std::collections::BTreeMap;

/// Atomicity, on what the participants' disks hold (synced): no
/// transaction committed at one participant and aborted at another.
pub fn atomicity() -> impl Property<TwoPc> {
    // Incremental: a participant's synced decisions change only when its
    // sync count moves, and then only the entries that changed since its
    // previous copy are compared with the other participants (comparing
    // every map after every event was quadratic in the transactions).
    let mut syncs: Vec<Option<u64>> = Vec::new();
    let mut decided: Vec<imbl::OrdMap<TxnId, Outcome>> = Vec::new();
    invariant("atomicity", move |w: &World<'_, TwoPc>| {
        let n = w.disks.len();
        if syncs.len() != n {
            syncs = vec![None; n];
            decided = vec![imbl::OrdMap::new(); n];
        }
        for i in 1..n {
            let disk = &w.disks[i];
            if syncs[i] == Some(disk.syncs()) {
                continue;
            }
            syncs[i] = Some(disk.syncs());
            let now = disk.synced().decided.clone();
            let changed: Vec<(TxnId, Outcome)> = decided[i]
                .diff(&now)
                .filter_map(|d| match d {
                    imbl::ordmap::DiffItem::Add(&t, &o)
                    | imbl::ordmap::DiffItem::Update { new: (&t, &o), .. } => Some((t, o)),
                    imbl::ordmap::DiffItem::Remove(..) => None,
                })
                .collect();
            decided[i] = now;
            for (t, o) in changed {
                for (j, other) in decided.iter().enumerate().skip(1) {
                    match other.get(&t) {
                        Some(&o2) if j != i && o2 != o => {
                            let ((a, oa), (b, ob)) = if j < i {
                                ((j, o2), (i, o))
                            } else {
                                ((i, o), (j, o2))
                            };
                            return Err(format!(
                                "T{t} is {oa:?} at participant {a} and {ob:?} at participant {b}"
                            ));
                        }
                        _ => {}
                    }
                }
            }
        }
        Ok(())
    })
}

/// A closed-loop workload: each client runs `txns` transactions, one after
/// another, `think` apart, numbered `T0, T1, …` in the order they start.
pub fn clients(txns: u64, think: SimDuration) -> impl crate::sim::Workload<Msg> {
    let mut done: BTreeMap<usize, u64> = BTreeMap::new();
    let mut next: TxnId = 0;
    move |client: usize, _now, _rng: &mut rng::SimRng, _last: Option<&crate::sim::Op<Msg>>| {
        let k = done.entry(client).or_insert(0);
        if *k >= txns {
            return None;
        }
        *k += 1;
        let id = next;
        next += 1;
        Some(Invoke::new(0, Msg::Begin(id)).after(think).timeout(ms(500)))
    }
}

impl TwoPhase {
    /// One explored run (see [`crate::check::explore`]): `clients` clients
    /// each run `txns` transactions, one after another, against this
    /// protocol, `think` apart, under the trial's faults, for at most
    /// `horizon`; atomicity
    /// is checked after every event. Every sync and every send is a crash
    /// point.
    pub fn trial(
        &self,
        t: &crate::check::Trial,
        clients: usize,
        txns: u64,
        think: SimDuration,
        horizon: SimDuration,
    ) -> Result<crate::check::TrialRun> {
        self.validate()?;
        // Each transaction: a request, prepare, vote, decision and ack per
        // participant, a reply; an in-doubt participant asks every
        // `ask_every` (at worst for the whole horizon).
        let per_txn = 4.0 * self.participants as f64 + 4.0;
        let asks = 2.0 * self.participants as f64 * horizon.0 as f64 / self.ask_every.0 as f64;
        crate::error::check_work(
            "clients × txns × participants, and participants × horizon / ask_every",
            clients as f64 * txns as f64 * per_txn + asks,
        )?;
        let mut sim = crate::sim::Sim::builder()
            .seed(t.seed)
            .faults(t.plan.clone())
            .trace(t.trace_cap)
            .crash_points(crate::sim::CrashPoints::SyncsAndSends)
            .build(self.nodes()?)?;
        sim.check(atomicity());
        sim.set_workload(clients, self::clients(txns, think))?;
        sim.run_for(horizon)?;
        Ok(crate::check::TrialRun::new(&mut sim, self.lanes()))
    }
}
