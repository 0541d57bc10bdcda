//! The classification of a crash reads typed messages, never labels.

use super::*;

/// One participant's doubt: who, where the coordinator crashed, learnt
/// before the repair, never learnt.
type Seen = (usize, Situation, bool, bool);

/// Every trial of `p` for seeds `1..=seeds`, both protocols, with `edit`
/// applied to the recorded crash points: the doubts and the repair time.
fn trials(
    p: &BlockingParams,
    seeds: u64,
    edit: &dyn Fn(&mut CrashPoint),
) -> Result<Vec<(Vec<Seen>, f64)>> {
    let mut out = Vec::new();
    for termination in [false, true] {
        for seed in 1..=seeds {
            let (d, repair) = p.trial_with(seed, termination, edit)?;
            let d = d
                .iter()
                .map(|d| (d.participant, d.situation, d.before_repair, d.censored))
                .collect();
            out.push((d, repair));
        }
    }
    Ok(out)
}

#[test]
fn renaming_the_messages_does_not_change_the_classification() -> Result<()> {
    let p = BlockingParams::default();
    let plain = trials(&p, 200, &|_| {})?;
    // Every situation occurs in these seeds, so a wrong reading would show.
    for s in Situation::ALL {
        assert!(
            plain.iter().any(|(d, _)| d.iter().any(|x| x.1 == s)),
            "{s:?} never occurs"
        );
    }
    // Labels swapped between the kinds of message, then garbled entirely.
    let swap = |c: &mut CrashPoint| {
        c.label = if c.label.starts_with("prepare") {
            c.label.replacen("prepare", "commit", 1)
        } else if c.label.starts_with("commit") {
            c.label.replacen("commit", "prepare", 1)
        } else {
            c.label.clone()
        }
    };
    assert_eq!(trials(&p, 200, &swap)?, plain);
    assert_eq!(trials(&p, 200, &|c| c.label = "x".into())?, plain);
    Ok(())
}
