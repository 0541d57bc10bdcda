use thinkdist::consensus::Ballot;
fn my_promise(promised: Option<Ballot>, b: Ballot) -> bool {
    // Promise b only if it is above every ballot promised before.
    promised.is_none_or(|p| b > p)
}
