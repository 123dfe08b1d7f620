//! Journeys at run time: the runner ([`runner`]), step execution ([`exec`]), artifacts
//! ([`artifacts`]) and the result every run produces ([`result`]).

pub mod artifacts;
pub mod exec;
pub mod result;
pub mod runner;

pub use result::{JourneyResult, Phase, StepRecord, StepStatus};
pub use runner::{Observer, Quiet, RunEnv, run_journey};
