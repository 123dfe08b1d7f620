//! Reporters: how results are shown. Human text (steps as they run) and JSON lines.

pub mod human;
pub mod json;

use crate::journey::RunResult;
use crate::outcome::Outcome;

/// Counts for the closing summary line.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub passed: usize,
    pub failed: usize,
    pub errors: usize,
}

impl Tally {
    pub fn of(results: &[RunResult]) -> Tally {
        let mut t = Tally::default();
        for r in results {
            match r.outcome {
                Outcome::Success => t.passed += 1,
                Outcome::Failure => t.failed += 1,
                Outcome::Error => t.errors += 1,
            }
        }
        t
    }
}
