//! Chapter 09's API: controlled schedules (bad picks, bad indices, a zero
//! step), the exhaustive search's budgets (every size a reader may type is
//! refused or bounded), the consensus checkers on empty and odd input.

use crate::harness::*;
use thinkdist::check::consensus::{agreement, integrity, replicated_states, termination, validity};
use thinkdist::check::Exhaustive;
use thinkdist::consensus::{chosen, cluster, Flaw, Paxos};
use thinkdist::prelude::*;
use thinkdist::sim::{Controlled, Pending, RandomOrder, TimeRule};

fn paxos() -> thinkdist::Result<Sim<Paxos>> {
    Sim::builder().build(cluster(3, &[1, 2], None, 1, Flaw::None))
}

fn search() -> Exhaustive<Paxos> {
    Exhaustive::new(paxos).always("one value chosen", |s: &Sim<Paxos>| {
        chosen((0..s.len()).filter_map(|i| s.disk(i).ok().map(|d| d.synced()))).len() <= 1
    })
}

pub fn add(c: &mut Cases) {
    for &(name, v) in USIZE {
        c.add(format!("Exhaustive::max_depth({name})"), move || {
            let r = search().max_depth(v)?.max_states(1000)?.run()?;
            let _ = (r.unique_states, r.complete, r.violation.is_some());
            Ok(())
        });
        c.add(format!("Exhaustive::max_states({name})"), move || {
            let r = search().max_depth(8)?.max_states(v)?.run()?;
            let _ = r.states_explored;
            Ok(())
        });
        c.add(format!("Controlled::run_pending({name})"), move || {
            let mut ctl = Controlled::new(paxos()?);
            ctl.run_pending(v)?;
            ctl.lose(v)?;
            ctl.duplicate(v)?;
            Ok(())
        });
        c.add(format!("Controlled scheduler picks {name}"), move || {
            let mut ctl = Controlled::new(paxos()?);
            let mut pick = |_: &[Pending<'_, Paxos>], _: &[Paxos]| v;
            ctl.run_steps(&mut pick, 100)?;
            Ok(())
        });
    }
    for &(name, v) in U64 {
        c.add(
            format!("Exhaustive::crashes/losses/duplicates({name})"),
            move || {
                let n = v.min(u32::MAX as u64) as u32;
                let r = search()
                    .crashes(n)?
                    .losses(n)?
                    .duplicates(n)?
                    .max_states(2000)?
                    .run()?;
                let _ = r.unique_states;
                Ok(())
            },
        );
        c.add(format!("Controlled random order, seed {name}"), move || {
            let mut ctl = Controlled::new(paxos()?).time_rule(TimeRule::Steps(ms(1)))?;
            ctl.run_steps(&mut RandomOrder::new(v), 10_000)?;
            Ok(())
        });
    }
    c.add("TimeRule::Steps(0)", || {
        Controlled::new(paxos()?).time_rule(TimeRule::Steps(ms(0)))?;
        Ok(())
    });
    c.add("consensus checkers on empty input", || {
        let none: Vec<thinkdist::check::consensus::Decision<u64>> = vec![];
        let _ = (agreement(&none), validity(&none, &[]), integrity(&none));
        let _ = termination(&none, &[0, usize::MAX], SimTime::MAX);
        let _ = replicated_states::<u64, u64>(&[], 0, |s, c| *s = s.wrapping_add(*c));
        let _ = replicated_states(&[vec![u64::MAX], vec![u64::MAX]], 0u64, |s, c| {
            *s = s.wrapping_add(*c)
        });
        Ok(())
    });
}
