// A node of about 100 lines, written the way a notebook cell writes one: the
// bench runs it compiled here (optimised, directly and on the erased engine),
// and scripts/bench_cell_node.py pastes the text between the two `CELL`
// markers into a notebook cell, which evcxr compiles at opt-level 0 (the
// default for cells) and runs on the erased engine. Same node, same seed,
// same events: the ns/event compare the engines, not the workloads.
// CELL BEGIN
/// Rumour mongering with anti-entropy rounds: a new rumour is pushed to
/// `fanout` random peers; every round a node also sends its newest rumour
/// id to one random peer, which answers with what it knows if it knows
/// more, or asks for it if it knows less.
#[derive(Clone, Debug)]
enum GMsg {
    Rumour { id: u32, hops: u32 },
    Digest { known: u32 },
    Pull,
    Ack,
}

#[derive(Clone, Debug)]
enum GTimer {
    Round,
    NewRumour,
}

/// What survives a crash: the newest rumour heard, and how many.
#[derive(Clone, Debug, Default)]
struct GDisk {
    newest: u32,
    heard: u32,
}

#[derive(Clone)]
struct Gossiper {
    fanout: usize,
    rounds: u32,
    known: u32,
    hops_seen: u64,
    acks: u64,
}

impl Gossiper {
    fn new(fanout: usize, rounds: u32) -> Self {
        Gossiper { fanout, rounds, known: 0, hops_seen: 0, acks: 0 }
    }
    /// A random peer other than me (itself if the cluster has one node).
    fn peer(ctx: &mut Ctx<'_, Self>) -> NodeId {
        let n = ctx.cluster_size();
        let me = ctx.id();
        if n == 1 {
            return me;
        }
        let k = ctx.rng().random_range(0..n - 1);
        if k >= me { k + 1 } else { k }
    }
    /// Learns rumour `id` (if newer), durably, and pushes it on.
    fn learn(&mut self, ctx: &mut Ctx<'_, Self>, id: u32, hops: u32) {
        if id <= self.known {
            return;
        }
        self.known = id;
        self.hops_seen += u64::from(hops);
        let disk = ctx.disk();
        disk.newest = id;
        disk.heard += 1;
        ctx.sync("rumour");
        for _ in 0..self.fanout {
            let to = Self::peer(ctx);
            ctx.send(to, GMsg::Rumour { id, hops: hops + 1 });
        }
    }
}

impl Node for Gossiper {
    type Msg = GMsg;
    type Timer = GTimer;
    type Disk = GDisk;
    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.known = ctx.disk().newest;
        let first = ms(ctx.rng().random_range(1..10));
        ctx.set_timer(first, GTimer::Round);
        if ctx.id() == 0 {
            ctx.set_timer(ms(5), GTimer::NewRumour);
        }
    }
    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: GTimer) {
        match timer {
            GTimer::Round if self.rounds > 0 => {
                self.rounds -= 1;
                let to = Self::peer(ctx);
                ctx.send(to, GMsg::Digest { known: self.known });
                ctx.set_timer(ms(10), GTimer::Round);
            }
            GTimer::Round => {}
            GTimer::NewRumour => {
                let id = self.known + 1;
                self.learn(ctx, id, 0);
                ctx.set_timer(ms(50), GTimer::NewRumour);
            }
        }
    }
    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: GMsg) {
        match msg {
            GMsg::Rumour { id, hops } => self.learn(ctx, id, hops),
            GMsg::Digest { known } if known < self.known => {
                ctx.send(from, GMsg::Rumour { id: self.known, hops: 0 });
            }
            GMsg::Digest { known } if known > self.known => ctx.send(from, GMsg::Pull),
            GMsg::Digest { .. } => ctx.send(from, GMsg::Ack),
            GMsg::Pull => ctx.send(from, GMsg::Rumour { id: self.known, hops: 0 }),
            GMsg::Ack => self.acks += 1,
        }
    }
}
// CELL END
