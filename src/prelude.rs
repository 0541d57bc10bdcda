//! Everything a notebook cell needs, in one `use thinkdist::prelude::*;`.
//! No two items share a name.

pub use crate::ch01::ClientServer;
pub use crate::ch02::{Queue, Replicas};
pub use crate::check::linearizability::{
    self as lin, check_linearizable, check_sequential, Budget, FifoQueue, KvMap, KvOp, KvRet,
    LinHistory, LinOp, LinVerdict, QueueOp, QueueRet, RegOp, RegRet, Register, SequentialSpec,
    SetOp, SetRet,
};
pub use crate::check::{self, always, eventually_within, Verdict};
pub use crate::detect::Detector;
pub use crate::error::{Error, ErrorKind, Result};
pub use crate::measure::workload::{Arrivals, ClosedLoop, ZipfKeys};
pub use crate::measure::{self, mean_ci, theory, MeanCi, SweepCi, TimeAverage};
pub use crate::plot::*;
pub use crate::sim::metrics::{
    AvailabilityReport, Counters, LatencyRecorder, LatencySummary, UpDownLog,
};
pub use crate::sim::rng::{self as simrng, NodeRng, RandomDuration, SimRng};
pub use crate::sim::sweep::Sweep;
pub use crate::sim::trace::{Trace, TraceEvent, TraceKind};
pub use crate::sim::{
    hours, minutes, ms, ns, secs, us, AnyValue, Builder, ClientId, Clock, CrashPoint, CrashPoints,
    Ctx, Disk, DiskLog, DiskMap, DropReason, DynSim, Fault, FaultPlan, History, Invoke, Latency,
    LinkConfig, Network, Node, NodeId, Op, OpId, OpStatus, PartitionId, PointKind, Property,
    PropertyKind, Request, Sim, SimDuration, SimEvent, SimTime, Stats, TimerId, Violation,
    Workload, World, EXTERNAL,
};
pub use crate::{ch01, ch02, ch03, ch04, ch05, ch06, ch07, ch08, ch11, ch12};
pub use crate::{delivery, detect, durable, failure, partition, process, replication, retry};
pub use crate::{service, sim, txn};

pub use plotters;
pub use rand::seq::{IndexedRandom, SliceRandom};
pub use rand::{self, Rng};
pub use rand_core::{self, RngCore, SeedableRng};
pub use serde_json;
