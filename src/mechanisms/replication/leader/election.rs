//! Failover: a silent leader is replaced by a candidate that gathers a
//! majority's support and adopts the most up-to-date log among them.

use super::node::{LfNode, Role};
use super::{Entry, LfMsg};
use crate::sim::{Ctx, NodeId};

/// `(epoch of the last entry, length)`: the larger is more up to date.
fn freshness(log: &imbl::Vector<Entry>) -> (u64, usize) {
    (log.last().map_or(0, |e| e.epoch), log.len())
}

impl LfNode {
    /// Stands for the next epoch: supports itself and asks everyone.
    pub(super) fn stand(&mut self, ctx: &mut Ctx<'_, Self>) {
        let epoch = ctx.disk().epoch + 1;
        ctx.disk().epoch = epoch;
        ctx.disk().voted = epoch;
        ctx.sync("candidacy");
        ctx.note_with(|| format!("stands for epoch {epoch}"));
        let log = ctx.disk().log.clone();
        self.role = Role::Candidate {
            epoch,
            since: ctx.now(),
            supports: vec![(ctx.id(), log)],
        };
        self.redraw_stagger(ctx);
        for n in 0..ctx.cluster_size() {
            if n != ctx.id() {
                ctx.send(n, LfMsg::Propose { epoch });
            }
        }
        self.try_win(ctx);
    }

    /// A candidate asks for support.
    pub(super) fn on_propose(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, epoch: u64) {
        let Some(silence) = self.cfg.failover_after else {
            return;
        };
        let quiet = ctx.now().since(self.last_heard) >= silence;
        let leading = self.role == Role::Leader;
        if epoch <= ctx.disk().voted || epoch <= ctx.disk().epoch || !quiet || leading {
            return;
        }
        ctx.disk().epoch = epoch;
        ctx.disk().voted = epoch;
        ctx.sync("support");
        self.role = Role::Follower(None);
        self.pending.clear();
        self.last_heard = ctx.now();
        let log = ctx.disk().log.clone();
        ctx.send(from, LfMsg::Support { epoch, log });
    }

    /// A node supports this candidate.
    pub(super) fn on_support(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        from: NodeId,
        epoch: u64,
        log: imbl::Vector<Entry>,
    ) {
        if let Role::Candidate {
            epoch: mine,
            supports,
            ..
        } = &mut self.role
        {
            if *mine == epoch && !supports.iter().any(|(n, _)| *n == from) {
                supports.push((from, log));
                self.try_win(ctx);
            }
        }
    }

    /// With a majority's support: adopt the most up-to-date log, lead.
    fn try_win(&mut self, ctx: &mut Ctx<'_, Self>) {
        let Role::Candidate { supports, .. } = &self.role else {
            return;
        };
        if supports.len() < self.cfg.majority() {
            return;
        }
        let me = ctx.id();
        // The freshest log; among equals, the candidate's own.
        let best = supports
            .iter()
            .max_by_key(|(n, log)| (freshness(log), *n == me))
            .map(|(_, log)| log.clone())
            .unwrap_or_default();
        if best != ctx.disk().log {
            let common = best
                .iter()
                .zip(ctx.disk().log.iter())
                .take_while(|(a, b)| a == b)
                .count();
            if common < self.applied as usize {
                self.state.clear();
                self.applied = 0;
                self.commit = 0;
            }
            let now = ctx.now();
            self.received.truncate(common);
            self.received.resize(best.len(), now);
            ctx.disk().log = best;
            ctx.sync("adopt log");
            ctx.count("logs adopted from a supporter");
        }
        self.lead(ctx);
    }
}
