use thinkdist::raft::{Index, Term};
fn my_up_to_date(mine: (Index, Term), theirs: (Index, Term)) -> bool {
    // Logs compared by their last entries (index, term): the later last term
    // wins; with the same last term, the longer log.
    theirs.1 > mine.1 || (theirs.1 == mine.1 && theirs.0 >= mine.0)
}
