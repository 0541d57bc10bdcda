//! Chapter 9's duel experiment with every size and time a reader may type
//! (refused with a clear error, or bounded), and its chart and table.

use crate::harness::*;
use thinkdist::ch09::{
    duel_ballots_chart, duel_chart, duel_model, duel_table, model_mean_ms, DuelParams,
};

fn duel(p: DuelParams) -> Outcome {
    let pts = p.run()?;
    table(&duel_table(&pts))?;
    chart(duel_chart(&pts))?;
    chart(duel_ballots_chart(&pts, &[2.0]))
}

fn small() -> DuelParams {
    DuelParams {
        runs: 10,
        backoffs_ms: vec![0.0, 2.0],
        deadline_ms: 50.0,
        ..Default::default()
    }
}

pub fn add(c: &mut Cases) {
    for &(name, v) in USIZE {
        c.add(format!("ch09::DuelParams(runs {name})"), move || {
            duel(DuelParams { runs: v, ..small() })
        });
    }
    for &(name, v) in F64 {
        c.add(format!("ch09::DuelParams(backoff {name})"), move || {
            duel(DuelParams {
                backoffs_ms: vec![v],
                ..small()
            })
        });
        c.add(format!("ch09::DuelParams(latency {name})"), move || {
            duel(DuelParams {
                latency_ms: v,
                ..small()
            })
        });
        c.add(format!("ch09::DuelParams(jitter {name})"), move || {
            duel(DuelParams {
                jitter_ms: v,
                ..small()
            })
        });
        c.add(format!("ch09::DuelParams(deadline {name})"), move || {
            duel(DuelParams {
                deadline_ms: v,
                ..small()
            })
        });
        c.add(format!("ch09::model_mean_ms(b {name})"), move || {
            model_mean_ms(1.0, v)?;
            model_mean_ms(v, 1.0)?;
            duel_model(1.0, v)?;
            Ok(())
        });
    }
    for &(name, v) in F64 {
        c.add(format!("ch09::duel_ballots_chart(b {name})"), move || {
            let pts = small().run()?;
            chart(duel_ballots_chart(&pts, &[v]))
        });
    }
    c.add("ch09::DuelParams(no backoffs)".to_string(), || {
        duel(DuelParams {
            backoffs_ms: vec![],
            ..small()
        })
    });
}
