//! Journeys at run time: the runner ([`runner`]), step execution ([`exec`]), artifacts
//! ([`artifacts`]).

pub mod artifacts;
pub mod exec;
pub mod runner;

pub use crate::result::{Phase, RunResult, StepRecord, StepStatus};
pub use runner::{Interactive, Observer, Quiet, RunEnv, run_journey};
