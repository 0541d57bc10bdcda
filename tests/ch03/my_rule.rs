use thinkdist::detect::SuspicionRule;
struct MyRule { timeout: SimDuration, last: Option<SimTime> }
impl SuspicionRule for MyRule {
    fn heartbeat(&mut self, now: SimTime) {
        self.last = Some(now);
    }
    fn suspects(&self, now: SimTime) -> bool {
        // Suspect once the silence since the last heartbeat reaches the timeout.
        self.last.is_some_and(|l| now.since(l) >= self.timeout)
    }
}
