use thinkdist::txn::decision::Votes;
use thinkdist::txn::two_phase::Outcome;
fn my_decision(v: &Votes) -> Option<Outcome> {
    if v.no > 0 {
        Some(Outcome::Aborted) // a participant refused
    } else if v.yes == v.participants {
        Some(Outcome::Committed) // every participant promised
    } else if v.timed_out {
        Some(Outcome::Aborted) // a vote did not come in time
    } else {
        None // wait for the other votes
    }
}
