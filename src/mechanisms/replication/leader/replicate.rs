//! The leader's side: shipping the log, counting acknowledgements,
//! committing (Raft's rule: only entries of its own epoch are committed by
//! counting), answering writes, and the read lease.

use super::node::{LfNode, Peer, Role};
use super::{Entry, LfMsg, NOOP};
use crate::sim::{Ctx, NodeId, SimTime};

impl LfNode {
    /// Becomes the leader of the current epoch: appends its no-op and
    /// ships it.
    pub(super) fn lead(&mut self, ctx: &mut Ctx<'_, Self>) {
        let epoch = ctx.disk().epoch;
        let at = ctx.now();
        ctx.disk().log.push_back(Entry {
            epoch,
            key: NOOP,
            value: 0,
            at,
        });
        ctx.sync("no-op");
        let len = ctx.disk().log.len() as u64;
        self.received.resize(len as usize - 1, at);
        self.received.push(at);
        self.role = Role::Leader;
        self.noop = len;
        self.pending.clear();
        self.peers = vec![
            Peer {
                next: len - 1,
                matched: 0,
                acked_sent: SimTime::ZERO,
            };
            ctx.cluster_size()
        ];
        ctx.note_with(|| format!("leads epoch {epoch}"));
        ctx.count("leaders elected");
        self.ship_all(ctx);
        self.advance_commit(ctx);
    }

    /// Ships to every follower what it lacks (an empty append is a
    /// heartbeat).
    pub(super) fn ship_all(&mut self, ctx: &mut Ctx<'_, Self>) {
        for f in 0..ctx.cluster_size() {
            if f != ctx.id() {
                self.ship(ctx, f);
            }
        }
    }

    fn ship(&mut self, ctx: &mut Ctx<'_, Self>, f: NodeId) {
        let Some(peer) = self.peers.get(f).copied() else {
            return;
        };
        let epoch = ctx.disk().epoch;
        let log = &ctx.disk().log;
        let len = log.len() as u64;
        let prev = peer.next.min(len);
        let prev_epoch = if prev == 0 {
            0
        } else {
            log[(prev - 1) as usize].epoch
        };
        let end = (prev as usize + self.cfg.max_batch).min(len as usize);
        let entries: Vec<Entry> = log
            .iter()
            .skip(prev as usize)
            .take(end - prev as usize)
            .copied()
            .collect();
        let msg = LfMsg::Append {
            epoch,
            prev,
            prev_epoch,
            entries,
            commit: self.commit,
            sent: ctx.now(),
        };
        ctx.send(f, msg);
    }

    /// A follower answered an append.
    pub(super) fn on_append_ack(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        from: NodeId,
        epoch: u64,
        ok: bool,
        len: u64,
        sent: SimTime,
    ) {
        if self.observe_epoch(ctx, epoch) || self.role != Role::Leader {
            return;
        }
        if epoch < ctx.disk().epoch {
            return; // an answer to an append of an earlier epoch of its own
        }
        let Some(peer) = self.peers.get_mut(from) else {
            return;
        };
        if ok {
            peer.matched = peer.matched.max(len);
            peer.next = peer.next.max(len);
            peer.acked_sent = peer.acked_sent.max(sent);
            self.advance_commit(ctx);
        } else {
            peer.next = peer.next.saturating_sub(1).min(len);
            self.ship(ctx, from);
        }
    }

    /// Commits what enough followers hold, applies it and answers the
    /// writes it completes.
    pub(super) fn advance_commit(&mut self, ctx: &mut Ctx<'_, Self>) {
        let me = ctx.id();
        let needed = self.cfg.ack.followers_needed(ctx.cluster_size());
        let len = ctx.disk().log.len() as u64;
        let mut matched: Vec<u64> = self
            .peers
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != me)
            .map(|(_, p)| p.matched.min(len))
            .collect();
        matched.sort_unstable_by(|a, b| b.cmp(a));
        let candidate = if needed == 0 {
            len
        } else {
            matched.get(needed - 1).copied().unwrap_or(0)
        };
        let epoch = ctx.disk().epoch;
        // Raft: count only entries of the leader's own epoch; the ones
        // before them are committed with them.
        if candidate > self.commit
            && candidate >= self.noop
            && ctx.disk().log[(candidate - 1) as usize].epoch == epoch
        {
            self.commit = candidate;
            self.apply(ctx);
            let commit = self.commit;
            let done: Vec<Request> = self
                .pending
                .iter()
                .filter(|(i, _)| *i <= commit)
                .map(|&(_, r)| r)
                .collect();
            self.pending.retain(|(i, _)| *i > commit);
            for req in done {
                ctx.reply(req, LfMsg::PutOk);
            }
        }
    }

    /// True while a majority (this leader included) acknowledged an append
    /// sent within the last lease.
    pub(super) fn holds_lease(&self, ctx: &Ctx<'_, Self>) -> bool {
        let me = ctx.id();
        let need = self.cfg.majority().saturating_sub(1);
        if need == 0 {
            return true;
        }
        let mut sent: Vec<SimTime> = self
            .peers
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != me)
            .map(|(_, p)| p.acked_sent)
            .collect();
        sent.sort_unstable_by(|a, b| b.cmp(a));
        match sent.get(need - 1) {
            Some(&t) if t > SimTime::ZERO => ctx.now() < t + self.cfg.lease,
            _ => false,
        }
    }
}

use crate::sim::Request;
