//! Journeys at run time: the runner ([`runner`]), step execution ([`steps`]), artifacts
//! ([`artifacts`]).

pub mod artifacts;
pub mod runner;
pub mod steps;

pub use crate::result::{Phase, RunResult, StepRecord, StepStatus};
pub use runner::{Interactive, Observer, Quiet, RunEnv, run_journey};
