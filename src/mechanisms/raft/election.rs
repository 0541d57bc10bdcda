//! Leader election (§5.2 of the paper): election timeouts, RequestVote,
//! and the two additions of Ongaro's thesis (§9.6): pre-vote and
//! check-quorum.

use super::node::{Raft, RaftTimer, Role};
use super::{Bug, Index, RaftMsg, Term};
use crate::sim::rng::unit_f64;
use crate::sim::time::SimDuration;
use crate::sim::{Ctx, NodeId};

impl Raft {
    /// Restarts the election timer with a fresh random timeout, drawn
    /// uniformly from the configured range (§5.2: randomised timeouts make
    /// split votes rare).
    pub(crate) fn reset_election_timer(&mut self, ctx: &mut Ctx<'_, Self>) {
        if let Some(t) = self.election_timer.take() {
            ctx.cancel_timer(t);
        }
        let (lo, hi) = self.cfg.election_timeout;
        let span = (hi.0 - lo.0) as f64 + 1.0;
        let d = lo.0 + ((unit_f64(ctx.rng()) * span) as u64).min(hi.0 - lo.0);
        self.election_timer = Some(ctx.set_timer(SimDuration(d), RaftTimer::Election));
    }

    /// Figure 2, followers: "if election timeout elapses without receiving
    /// AppendEntries from current leader or granting vote to candidate:
    /// convert to candidate". A leader uses the same timer for
    /// check-quorum.
    pub(crate) fn on_election_timeout(&mut self, ctx: &mut Ctx<'_, Self>) {
        if self.role == Role::Leader {
            self.check_quorum(ctx);
            return;
        }
        self.leader_recent = false;
        if self.cfg.pre_vote {
            // Pre-vote: ask for term + 1 without taking it.
            self.role = Role::PreCandidate;
            self.votes = 1 << ctx.id();
            self.reset_election_timer(ctx);
            let term = ctx.disk().term + 1;
            self.ask_votes(ctx, term, true);
            self.tally(ctx, true);
        } else {
            self.start_election(ctx);
        }
    }

    /// Figure 2, candidates: "on conversion to candidate, start election:
    /// increment currentTerm, vote for self, reset election timer, send
    /// RequestVote RPCs to all other servers". Term and vote are synced
    /// first.
    pub(crate) fn start_election(&mut self, ctx: &mut Ctx<'_, Self>) {
        let me = ctx.id();
        let d = ctx.disk();
        d.term += 1;
        d.voted_for = Some(me);
        let term = d.term;
        ctx.sync("vote");
        self.term = term;
        self.role = Role::Candidate;
        self.leader = None;
        self.votes = 1 << me;
        self.reset_election_timer(ctx);
        self.ask_votes(ctx, term, false);
        // §5.1: RPCs are retried when no answer comes; a candidate asks
        // again every heartbeat interval until it wins or gives up.
        self.set_heartbeat(ctx);
        self.tally(ctx, false);
    }

    /// A candidate's retry: ask the nodes that have not voted for it yet.
    pub(crate) fn retry_votes(&mut self, ctx: &mut Ctx<'_, Self>) {
        let term = ctx.disk().term;
        let (last_index, last_term) = Raft::last(ctx);
        for to in 0..ctx.cluster_size() {
            if self.votes & (1 << to) == 0 {
                let msg = RaftMsg::RequestVote {
                    term,
                    last_index,
                    last_term,
                    pre: false,
                };
                ctx.send(to, msg);
            }
        }
        self.set_heartbeat(ctx);
    }

    fn ask_votes(&mut self, ctx: &mut Ctx<'_, Self>, term: Term, pre: bool) {
        let (last_index, last_term) = Raft::last(ctx);
        for to in 0..ctx.cluster_size() {
            if to != ctx.id() {
                let msg = RaftMsg::RequestVote {
                    term,
                    last_index,
                    last_term,
                    pre,
                };
                ctx.send(to, msg);
            }
        }
    }

    /// RequestVote receiver (Figure 2): reply false if term < currentTerm;
    /// grant if votedFor is null or the candidate, and the candidate's log
    /// is at least as up-to-date as ours (§5.4.1). The vote is synced
    /// before the reply.
    pub(crate) fn on_request_vote(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        from: NodeId,
        term: Term,
        last: (Index, Term),
        pre: bool,
    ) {
        let up_to_date = (self.cfg.up_to_date.0)(Raft::last(ctx), last);
        if pre {
            // A pre-vote changes nothing here; it is refused while a leader
            // is heard from (thesis §9.6).
            let granted = term > ctx.disk().term && up_to_date && !self.leader_recent;
            ctx.send(from, RaftMsg::Vote { term, granted, pre });
            return;
        }
        self.observe_term(ctx, term);
        let d = ctx.disk();
        let granted = term == d.term && d.voted_for.is_none_or(|v| v == from) && up_to_date;
        if granted {
            d.voted_for = Some(from);
            if self.cfg.bug != Some(Bug::VoteNotPersisted) {
                ctx.sync("vote");
            }
            self.reset_election_timer(ctx);
        }
        let term = ctx.disk().term;
        ctx.send(from, RaftMsg::Vote { term, granted, pre });
    }

    /// A vote (or pre-vote) arrived: count it; a majority wins.
    pub(crate) fn on_vote(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        from: NodeId,
        term: Term,
        granted: bool,
        pre: bool,
    ) {
        if pre {
            if self.role == Role::PreCandidate && term == ctx.disk().term + 1 && granted {
                self.votes |= 1 << from;
                self.tally(ctx, true);
            }
            return;
        }
        self.observe_term(ctx, term);
        if self.role == Role::Candidate && term == ctx.disk().term && granted {
            self.votes |= 1 << from;
            self.tally(ctx, false);
        }
    }

    /// Figure 2, candidates: "if votes received from majority of servers:
    /// become leader". A pre-candidate with a majority starts the real
    /// election.
    fn tally(&mut self, ctx: &mut Ctx<'_, Self>, pre: bool) {
        if (self.votes.count_ones() as usize) < Raft::majority(ctx.cluster_size()) {
            return;
        }
        if pre {
            self.start_election(ctx);
        } else {
            self.become_leader(ctx);
        }
    }

    /// Figure 2, leaders: "upon election: send initial empty AppendEntries
    /// RPCs (heartbeat) to each server; repeat during idle periods".
    fn become_leader(&mut self, ctx: &mut Ctx<'_, Self>) {
        let n = ctx.cluster_size();
        let (last, _) = Raft::last(ctx);
        self.role = Role::Leader;
        self.leader = Some(ctx.id());
        self.elections_won += 1;
        self.next = vec![last + 1; n];
        self.matched = vec![0; n];
        self.matched[ctx.id()] = last;
        self.heard = 1 << ctx.id();
        if self.cfg.check_quorum {
            self.reset_election_timer(ctx);
        } else if let Some(t) = self.election_timer.take() {
            ctx.cancel_timer(t);
        }
        ctx.note_with(|| format!("leader of term {}", self.term));
        self.on_heartbeat(ctx);
    }

    /// Check-quorum (thesis §6.2): a leader that heard from no majority
    /// within an election timeout steps down, so a leader cut off from the
    /// cluster stops accepting requests it cannot commit.
    fn check_quorum(&mut self, ctx: &mut Ctx<'_, Self>) {
        if (self.heard.count_ones() as usize) < Raft::majority(ctx.cluster_size()) {
            self.become_follower(ctx, None);
        } else {
            self.heard = 1 << ctx.id();
            self.reset_election_timer(ctx);
        }
    }
}
