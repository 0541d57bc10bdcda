//! Everything a notebook cell needs, in one `use thinkdist::prelude::*;`.

pub use crate::check::{self, always, eventually_within, PropertyKind, Verdict};
pub use crate::detector::Detector;
pub use crate::engine::rng::{self as simrng, SimRng};
pub use crate::engine::time::{ms, ns, secs, us, SimDuration, SimTime};
pub use crate::engine::{Builder, Ctx, Sim, Stats};
pub use crate::error::{Error, ErrorKind, Result};
pub use crate::fault::{FaultAction, FaultPlan};
pub use crate::metrics::*;
pub use crate::models::{self, client_server::ClientServer, queueing::Queue, replicas::Replicas};
pub use crate::net::{DropReason, Latency, LinkConfig, Network, NodeId};
pub use crate::node::{Node, TimerId};
pub use crate::plot::*;
pub use crate::stats::{mean_ci, MeanCi};
pub use crate::theory;
pub use crate::trace::{Trace, TraceEvent, TraceKind, EXTERNAL};
pub use crate::workload::{Arrivals, ClosedLoop, ZipfKeys};
pub use crate::{delivery, detector, failure, retry};

pub use plotters;
pub use rand_core::{self, RngCore, SeedableRng};
pub use serde_json;
