//! Log replication (§5.3) and commitment (§5.4.2): AppendEntries, the
//! leader's commit rule, and applying committed entries to the map.

use super::node::{Raft, Role};
use super::{Bug, Cmd, Entry, Index, RaftMsg, Term};
use crate::sim::{Ctx, NodeId};

impl Raft {
    /// A heartbeat round: AppendEntries to every follower, from its
    /// `next` index (empty when it is up to date).
    pub(crate) fn on_heartbeat(&mut self, ctx: &mut Ctx<'_, Self>) {
        if self.role == Role::Candidate {
            return self.retry_votes(ctx);
        }
        if self.role != Role::Leader {
            return;
        }
        for to in 0..ctx.cluster_size() {
            if to != ctx.id() {
                self.send_append(ctx, to);
            }
        }
        self.set_heartbeat(ctx);
    }

    /// Figure 2, leaders: "if last log index >= nextIndex for a follower:
    /// send AppendEntries RPC with log entries starting at nextIndex".
    pub(crate) fn send_append(&mut self, ctx: &mut Ctx<'_, Self>, to: NodeId) {
        let prev_index = self.next[to] - 1;
        let prev_term = Raft::term_at(ctx, prev_index);
        let entries = Raft::entries_from(ctx, self.next[to], self.cfg.max_batch);
        let msg = RaftMsg::Append {
            term: ctx.disk().term,
            prev_index,
            prev_term,
            entries,
            commit: self.commit,
        };
        ctx.send(to, msg);
    }

    /// A client command at the leader: append it, sync, and send it to
    /// every follower that has acknowledged everything before it (the
    /// others get it with their pending catch-up).
    pub(crate) fn append_command(&mut self, ctx: &mut Ctx<'_, Self>, cmd: Cmd, op: u64) -> Index {
        let term = ctx.disk().term;
        ctx.disk().log.push(Entry { term, cmd, op });
        ctx.sync("log");
        let (index, _) = Raft::last(ctx);
        self.matched[ctx.id()] = index;
        for to in 0..ctx.cluster_size() {
            if to != ctx.id() && self.next[to] == index {
                self.send_append(ctx, to);
            }
        }
        self.advance_commit(ctx);
        index
    }

    /// AppendEntries receiver (Figure 2): 1. reply false if term <
    /// currentTerm; 2. reply false if the log has no entry at prevLogIndex
    /// whose term is prevLogTerm; 3. delete a conflicting entry and all
    /// that follow; 4. append new entries; 5. commitIndex = min(leaderCommit,
    /// index of last new entry). The log is synced before the reply.
    pub(crate) fn on_append(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        from: NodeId,
        term: Term,
        prev: (Index, Term),
        entries: Vec<Entry>,
        commit: Index,
    ) {
        self.observe_term(ctx, term);
        let my_term = ctx.disk().term;
        let (last, _) = Raft::last(ctx);
        if term < my_term {
            let reply = RaftMsg::AppendReply {
                term: my_term,
                ok: false,
                index: last,
            };
            ctx.send(from, reply);
            return;
        }
        // A leader of our term exists: candidates step down (§5.2).
        if self.role != Role::Follower {
            self.become_follower(ctx, Some(from));
        } else {
            self.leader = Some(from);
            self.leader_recent = true;
            self.reset_election_timer(ctx);
        }
        let (prev_index, prev_term) = prev;
        if prev_index > last || Raft::term_at(ctx, prev_index) != prev_term {
            let hint = if prev_index > last {
                last
            } else {
                prev_index - 1
            };
            let reply = RaftMsg::AppendReply {
                term,
                ok: false,
                index: hint,
            };
            ctx.send(from, reply);
            return;
        }
        let mut changed = false;
        for (k, e) in entries.iter().enumerate() {
            let index = prev_index + 1 + k as Index;
            let have = Raft::term_at(ctx, index);
            if have == e.term {
                continue;
            }
            if have != 0 {
                ctx.disk().log.truncate(index as usize - 1);
            }
            ctx.disk().log.push(*e);
            changed = true;
        }
        if changed {
            ctx.sync("log");
        }
        let matched = prev_index + entries.len() as Index;
        self.commit = self.commit.max(commit.min(matched));
        self.apply(ctx);
        let reply = RaftMsg::AppendReply {
            term,
            ok: true,
            index: matched,
        };
        ctx.send(from, reply);
    }

    /// Figure 2, leaders: "if successful: update nextIndex and matchIndex
    /// for follower; if AppendEntries fails because of log inconsistency:
    /// decrement nextIndex and retry".
    pub(crate) fn on_append_reply(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        from: NodeId,
        term: Term,
        ok: bool,
        index: Index,
    ) {
        self.observe_term(ctx, term);
        if self.role != Role::Leader || term != ctx.disk().term {
            return;
        }
        self.heard |= 1 << from;
        let (last, _) = Raft::last(ctx);
        if ok {
            self.matched[from] = self.matched[from].max(index);
            self.next[from] = self.next[from].max(index + 1);
            self.advance_commit(ctx);
            if self.next[from] <= last && index + 1 == self.next[from] {
                self.send_append(ctx, from);
            }
        } else {
            // The follower's last index is a hint: jump back to it.
            self.next[from] = (self.next[from] - 1).min(index + 1).max(1);
            self.send_append(ctx, from);
        }
    }

    /// Figure 2, leaders: "if there exists an N such that N > commitIndex,
    /// a majority of matchIndex[i] >= N, and log[N].term == currentTerm:
    /// set commitIndex = N". The term test is what Figure 8 is about;
    /// [`Bug::CommitOldTermByCount`] leaves it out.
    pub(crate) fn advance_commit(&mut self, ctx: &mut Ctx<'_, Self>) {
        // The majority-th highest match index, sorted on the stack (no
        // allocation per acknowledgement; clusters have at most 64 nodes).
        let k = self.matched.len();
        let mut m = [0; 64];
        m[..k].copy_from_slice(&self.matched);
        m[..k].sort_unstable_by(|a, b| b.cmp(a));
        let n = m[Raft::majority(k) - 1];
        let current = Raft::term_at(ctx, n) == ctx.disk().term;
        if n > self.commit && (current || self.cfg.bug == Some(Bug::CommitOldTermByCount)) {
            self.commit = n;
            self.apply(ctx);
        }
    }

    /// Figure 2, all servers: "if commitIndex > lastApplied: increment
    /// lastApplied, apply log[lastApplied] to state machine". The leader
    /// answers the client whose entry it applied.
    pub(crate) fn apply(&mut self, ctx: &mut Ctx<'_, Self>) {
        while self.applied < self.commit {
            self.applied += 1;
            let Some(e) = ctx.disk().log.get(self.applied as usize - 1).copied() else {
                break;
            };
            let result = match e.cmd {
                Cmd::Put { key, value } => {
                    self.kv.insert(key, value);
                    RaftMsg::PutOk
                }
                Cmd::Get { key } => RaftMsg::Value(self.kv.get(&key).copied().unwrap_or(0)),
            };
            if let Some(req) = self.waiting.remove(&self.applied) {
                if req.op as u64 == e.op {
                    ctx.reply(req, result);
                }
            }
        }
    }
}
