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
use crate::check::invariant;
use crate::sim::{NodeId, Sim, SimEvent, World};
use std::collections::{BTreeMap, HashMap};

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
    let mut leaders: HashMap<Term, NodeId> = HashMap::new();
    invariant("election safety", move |w: &World<'_, Raft>| {
        for (i, n) in w.nodes.iter().enumerate() {
            if w.up[i] && n.is_leader() {
                let first = *leaders.entry(n.term).or_insert(i);
                if first != i {
                    return Err(format!(
                        "nodes {first} and {i} were both leader in term {}",
                        n.term
                    ));
                }
            }
        }
        Ok(())
    })
}

/// Log matching: if two logs contain an entry with the same index and
/// term, the logs are identical up to that index. Checked as its
/// inductive form: an (index, term) pair always holds the same entry, and
/// the same term before it.
pub fn log_matching() -> impl crate::sim::Property<Raft> {
    let mut seen: HashMap<(Index, Term), (Entry, Term)> = HashMap::new();
    let mut cache: Vec<(usize, Term)> = Vec::new();
    invariant("log matching", move |w: &World<'_, Raft>| {
        cache.resize(w.nodes.len(), (0, 0));
        for (i, c) in cache.iter_mut().enumerate() {
            let l = log(w, i);
            let (len, last) = (l.len(), l.last().map_or(0, |e| e.term));
            let (clen, cterm) = *c;
            if (len, last) == (clen, cterm) {
                continue;
            }
            // Only appended since last time: check the new tail; else all.
            let tail = len >= clen && (clen == 0 || l.get(clen - 1).map(|e| e.term) == Some(cterm));
            let from = if tail { clen } else { 0 };
            for k in from..len {
                let e = l[k];
                let prev = if k == 0 { 0 } else { l[k - 1].term };
                let at = (k as Index + 1, e.term);
                match seen.get(&at) {
                    Some(&(f, p)) if (f, p) != (e, prev) => {
                        return Err(format!(
                            "node {i} holds {e:?} after term {prev} at index {}, another log \
                             {f:?} after term {p}",
                            at.0
                        ))
                    }
                    Some(_) => {}
                    None => {
                        seen.insert(at, (e, prev));
                    }
                }
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
    let mut committed: BTreeMap<Index, Entry> = BTreeMap::new();
    let mut commits: Vec<Index> = Vec::new();
    let mut checked: Vec<Term> = Vec::new();
    invariant("leader completeness", move |w: &World<'_, Raft>| {
        commits.resize(w.nodes.len(), 0);
        checked.resize(w.nodes.len(), 0);
        for (i, n) in w.nodes.iter().enumerate() {
            if n.is_leader() && checked[i] != n.term {
                checked[i] = n.term;
                let l = log(w, i);
                for (&k, e) in &committed {
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
                        committed.entry(k).or_insert(*e);
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
    let mut applied: HashMap<Index, Entry> = HashMap::new();
    let mut seen: Vec<Index> = Vec::new();
    invariant("state machine safety", move |w: &World<'_, Raft>| {
        seen.resize(w.nodes.len(), 0);
        for (i, n) in w.nodes.iter().enumerate() {
            if n.applied < seen[i] {
                seen[i] = 0; // restarted: it applies from the start again
            }
            let l = log(w, i);
            for k in seen[i] + 1..=n.applied {
                let Some(&e) = l.get(k as usize - 1) else {
                    continue;
                };
                let first = *applied.entry(k).or_insert(e);
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
