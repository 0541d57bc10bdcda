//! Chapter 3, *Failure tolerance* (notebook `03-failure-tolerance`): failure
//! models and detectors, retries with backoff and jitter, fan-out tails and
//! hedged requests.

pub mod backoff;
pub mod failure_detection;
pub mod failure_kinds;
pub mod fanout;
pub mod recovery;
