//! Raft's safety properties (the paper's Figure 3), checked after every
//! event as [`crate::check::invariant`]s: election safety, log matching,
//! leader completeness and state machine safety; and the voting rule they
//! rest on (§5.2): a server votes for at most one candidate per term.
//!
//! Each keeps what it has seen (which leader held which term, which entry
//! sat at which index and term, what was committed and applied) and looks
//! only at what changed since the last event, so checking costs little per
//! event. [`log_matching_at_end`] compares the logs whole once more.

use super::node::Raft;
use super::{Entry, Index, RaftMsg, Term};
use crate::sim::{NodeId, Sim, SimEvent, World};
use std::collections::BTreeMap;

/// Attaches the five invariants to a simulation of Raft nodes.
pub fn attach_invariants(sim: &mut Sim<Raft>) {
    sim.check(one_vote_per_term());
    sim.check(election_safety());
    sim.check(log_matching());
    sim.check(leader_completeness());
    sim.check(state_machine_safety());
}

fn log<'a>(w: &World<'a, Raft>, i: usize) -> &'a crate::sim::DiskLog<Entry> {
    &w.disks[i].working().log
}

/// One vote per term (§5.2): a server that voted for a candidate in a
/// term never votes for another in that term, also not after a crash. It
/// is what election safety rests on; checked on the votes delivered (a
/// vote lost with a crash before it was sent was never cast), it catches a
/// forgotten vote the moment the second one arrives, whether or not the
/// second candidate goes on to win.
pub fn one_vote_per_term() -> impl crate::sim::Property<Raft> {
    OneVote(BTreeMap::new())
}

/// Who received the vote of (voter, term).
struct OneVote(BTreeMap<(NodeId, Term), NodeId>);

impl crate::sim::Property<Raft> for OneVote {
    fn name(&self) -> String {
        "one vote per term".into()
    }

    fn kind(&self) -> crate::sim::PropertyKind {
        crate::sim::PropertyKind::Safety
    }

    fn after(&mut self, event: &SimEvent<'_, Raft>, _: &World<'_, Raft>) -> Option<String> {
        let SimEvent::Deliver { from, to, msg } = *event else {
            return None;
        };
        let RaftMsg::Vote {
            term,
            granted: true,
            pre: false,
        } = *msg
        else {
            return None;
        };
        let first = *self.0.entry((from, term)).or_insert(to);
        (first != to).then(|| format!("node {from} voted for {first} and for {to} in term {term}"))
    }
}

/// Election safety: at most one leader can be elected in a given term.
pub fn election_safety() -> impl crate::sim::Property<Raft> {
    let mut leaders: BTreeMap<Term, NodeId> = BTreeMap::new();
    // The term each node was last seen leading in: a leader is looked up
    // once per term, not on each of its events.
    let mut known: Vec<Term> = Vec::new();
    per_node("election safety", move |w: &World<'_, Raft>, i| {
        known.resize(w.nodes.len(), 0);
        let n = &w.nodes[i];
        if w.up[i] && n.is_leader() && known[i] != n.term {
            known[i] = n.term;
            let first = *leaders.entry(n.term).or_insert(i);
            if first != i {
                return Err(format!(
                    "nodes {first} and {i} were both leader in term {}",
                    n.term
                ));
            }
        }
        Ok(())
    })
}

/// An invariant checked, after each event, only on the node whose state
/// the event could change: the node that handled it (a delivery, timer,
/// request, start, crash or restart); every node after a fault of the
/// plan; none after a drop or a client's reply or timeout, which change no
/// node. Each check keeps, per node, what it saw last, so skipping a node
/// whose state did not change skips nothing; it costs one node's check per
/// event instead of the whole cluster's.
fn per_node<F>(name: &str, check: F) -> PerNode<F>
where
    F: FnMut(&World<'_, Raft>, usize) -> Result<(), String>,
{
    PerNode {
        name: name.to_string(),
        check,
    }
}

struct PerNode<F> {
    name: String,
    check: F,
}

impl<F> crate::sim::Property<Raft> for PerNode<F>
where
    F: FnMut(&World<'_, Raft>, usize) -> Result<(), String>,
{
    fn name(&self) -> String {
        self.name.clone()
    }

    fn kind(&self) -> crate::sim::PropertyKind {
        crate::sim::PropertyKind::Safety
    }

    fn after(&mut self, event: &SimEvent<'_, Raft>, w: &World<'_, Raft>) -> Option<String> {
        let n = w.nodes.len();
        let touched = match event {
            SimEvent::Drop { .. } | SimEvent::Reply { .. } | SimEvent::Timeout { .. } => 0..0,
            SimEvent::Fault { .. } => 0..n,
            _ => match event.node() {
                Some(i) if i < n => i..i + 1,
                _ => 0..n,
            },
        };
        touched.into_iter().find_map(|i| (self.check)(w, i).err())
    }
}

/// Log matching: if two logs contain an entry with the same index and
/// term, the logs are identical up to that index. Checked as its
/// inductive form: an (index, term) pair always holds the same entry, and
/// the same term before it.
pub fn log_matching() -> impl crate::sim::Property<Raft> {
    // Entry and previous term per (index, term): the first term seen at an
    // index in a vector by index (no hashing on the hot path), any other
    // term at that index (a conflict, rare) in a map.
    let mut first: Vec<(Term, Entry, Term)> = Vec::new();
    let mut others: BTreeMap<(Index, Term), (Entry, Term)> = BTreeMap::new();
    let mut cache: Vec<(usize, Term)> = Vec::new();
    per_node("log matching", move |w: &World<'_, Raft>, i| {
        cache.resize(w.nodes.len(), (0, 0));
        let c = &mut cache[i];
        {
            let l = log(w, i);
            let (len, last) = (l.len(), l.last().map_or(0, |e| e.term));
            let (clen, cterm) = *c;
            if (len, last) == (clen, cterm) {
                return Ok(());
            }
            // Only appended since last time: check the new tail; else all.
            let tail = len >= clen && (clen == 0 || l.get(clen - 1).map(|e| e.term) == Some(cterm));
            let from = if tail { clen } else { 0 };
            let mut prev = if from == 0 { 0 } else { l[from - 1].term };
            for (k, &e) in (from..len).zip(l.iter_from(from)) {
                let at = (k as Index + 1, e.term);
                let known = match first.get(k) {
                    Some(&(t, f, p)) if t == e.term => Some((f, p)),
                    None if k == first.len() => {
                        first.push((e.term, e, prev));
                        None
                    }
                    _ => others.get(&at).copied().or_else(|| {
                        others.insert(at, (e, prev));
                        None
                    }),
                };
                if let Some((f, p)) = known {
                    if (f, p) != (e, prev) {
                        return Err(format!(
                            "node {i} holds {e:?} after term {prev} at index {}, another log \
                             {f:?} after term {p}",
                            at.0
                        ));
                    }
                }
                prev = e.term;
            }
            *c = (len, last);
        }
        Ok(())
    })
}

/// Leader completeness: a leader's log holds every entry committed in an
/// earlier term. Committed entries are learnt from every node's commit
/// index as it advances; each leader is checked when it takes office.
pub fn leader_completeness() -> impl crate::sim::Property<Raft> {
    // Committed entries by index (from 1); indices commit in order, so the
    // vector grows one at a time (a gap, if any, goes to the map).
    let mut committed: Vec<Entry> = Vec::new();
    let mut gaps: BTreeMap<Index, Entry> = BTreeMap::new();
    let mut commits: Vec<Index> = Vec::new();
    let mut checked: Vec<Term> = Vec::new();
    per_node("leader completeness", move |w: &World<'_, Raft>, i| {
        commits.resize(w.nodes.len(), 0);
        checked.resize(w.nodes.len(), 0);
        {
            let n = &w.nodes[i];
            if n.is_leader() && checked[i] != n.term {
                checked[i] = n.term;
                let l = log(w, i);
                let by_index = (1..).zip(&committed);
                for (k, e) in by_index.chain(gaps.iter().map(|(&k, e)| (k, e))) {
                    if l.get(k as usize - 1) != Some(e) {
                        return Err(format!(
                            "leader {i} of term {} lacks committed entry {k} ({e:?})",
                            n.term
                        ));
                    }
                }
            }
            if n.commit > commits[i] {
                let l = log(w, i);
                for k in commits[i] + 1..=n.commit {
                    if let Some(e) = l.get(k as usize - 1) {
                        if k as usize == committed.len() + 1 && !gaps.contains_key(&k) {
                            committed.push(*e);
                        } else if k as usize > committed.len() {
                            gaps.entry(k).or_insert(*e);
                        }
                    }
                }
            }
            commits[i] = n.commit;
        }
        Ok(())
    })
}

/// State machine safety: if a server has applied a log entry at a given
/// index, no other server ever applies a different entry at that index.
pub fn state_machine_safety() -> impl crate::sim::Property<Raft> {
    // The entry applied at each index (from 1), by index: every node
    // applies in order from 1, so the vector grows one at a time.
    let mut applied: Vec<Entry> = Vec::new();
    let mut gaps: BTreeMap<Index, Entry> = BTreeMap::new();
    let mut seen: Vec<Index> = Vec::new();
    per_node("state machine safety", move |w: &World<'_, Raft>, i| {
        seen.resize(w.nodes.len(), 0);
        {
            let n = &w.nodes[i];
            if n.applied < seen[i] {
                seen[i] = 0; // restarted: it applies from the start again
            }
            let l = log(w, i);
            for k in seen[i] + 1..=n.applied {
                let Some(&e) = l.get(k as usize - 1) else {
                    continue;
                };
                let first = match applied.get(k as usize - 1) {
                    Some(&f) => f,
                    None if k as usize == applied.len() + 1 && !gaps.contains_key(&k) => {
                        applied.push(e);
                        e
                    }
                    None => *gaps.entry(k).or_insert(e),
                };
                if first != e {
                    return Err(format!(
                        "node {i} applied {e:?} at index {k}, another node {first:?}"
                    ));
                }
            }
            seen[i] = n.applied;
        }
        Ok(())
    })
}

/// Log matching over whole logs, for the end of a run: every pair of logs
/// that agree on an entry's index and term agree on everything before.
/// `Err` names the two nodes and the index.
pub fn log_matching_at_end(logs: &[Vec<Entry>]) -> Result<(), String> {
    for a in 0..logs.len() {
        for b in a + 1..logs.len() {
            let (x, y) = (&logs[a], &logs[b]);
            let common = x.len().min(y.len());
            // The last index where both hold the same term.
            if let Some(k) = (0..common).rev().find(|&k| x[k].term == y[k].term) {
                if let Some(j) = (0..=k).find(|&j| x[j] != y[j]) {
                    return Err(format!(
                        "nodes {a} and {b} agree on index {} term {} but differ at index {}",
                        k + 1,
                        x[k].term,
                        j + 1
                    ));
                }
            }
        }
    }
    Ok(())
}
