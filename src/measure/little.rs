//! Time-weighted averages, for checking Little's law on a simulation.
//!
//! L in Little's law (L = λW) is a *time* average of the number in the
//! system, a step function of time. [`TimeAverage`] integrates it exactly;
//! it is the kernel's step-function integrator
//! ([`crate::sim::metrics::TimeAverage`], which the availability report
//! uses too), re-exported here where the measurements are.

pub use crate::sim::metrics::time_average::TimeAverage;
