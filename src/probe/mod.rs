//! One run of a probe, the same under `run` (once, in CI or by hand) and `serve` (on a
//! schedule): this is the code that keeps the promise "the same journey file behaves the
//! same in all three modes".
//!
//! The policy ([`run`]):
//! - up to `attempts` attempts, the next at once after one that failed or errored; none after
//!   a cancelled one, or once the run is cancelled;
//! - every attempt is told to a [`Witness`] as it ends (history, metrics and logs under
//!   `serve`, a "retrying" line under `run`), so a retry never hides the first failure, and
//!   the [`ProbeRun`] keeps the first attempt beside the eventual one (flaky = passed on a
//!   retry);
//! - a journey whose final attempt failed gets the checks it `depends_on` run once, for
//!   attribution, within the run's [`Limits::until`];
//! - an attempt after one that errored tells the [`Prober`] so, which looks harder at the
//!   driver (a dead chromedriver is replaced before the next attempt: [`runner`]).
//!
//! The world is behind [`Prober`], so the policy is unit-tested with a fake; [`Runner`] is
//! the real one (browser sessions from a [`crate::browser::supervisor::Supervisor`], checks,
//! the pool), shared by both commands.

pub mod runner;

use std::path::Path;
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::config::{Check, Journey, ProbeKind};
use crate::outcome::{Outcome, Reason};
use crate::result::{Prerequisite, RunResult};

pub use runner::Runner;

/// A journey or a check: the unit the scheduler runs.
#[derive(Clone, Debug)]
pub enum Probe {
    Journey(Journey),
    Check(Check),
}

impl Probe {
    pub fn name(&self) -> &str {
        match self {
            Probe::Journey(j) => &j.name,
            Probe::Check(c) => &c.name,
        }
    }

    /// `journey`, or the check's kind: the `kind` label of its series.
    pub fn kind(&self) -> ProbeKind {
        match self {
            Probe::Journey(_) => ProbeKind::Journey,
            Probe::Check(c) => c.spec.kind().into(),
        }
    }

    pub fn every(&self) -> Duration {
        match self {
            Probe::Journey(j) => j.every,
            Probe::Check(c) => c.every,
        }
    }

    pub fn timeout(&self) -> Duration {
        match self {
            Probe::Journey(j) => j.timeout,
            Probe::Check(c) => c.timeout,
        }
    }

    /// Its own `retries:` (the CLI's `--retries` may override it).
    pub fn retries(&self) -> u32 {
        match self {
            Probe::Journey(j) => j.retries,
            Probe::Check(c) => c.retries,
        }
    }

    pub fn file(&self) -> &Path {
        match self {
            Probe::Journey(j) => &j.file,
            Probe::Check(c) => &c.file,
        }
    }
}

/// One probe's run: every attempt, the last one's result being the run's. Earlier attempts
/// are kept so that a retry never hides a flaky target.
#[derive(Clone, Debug)]
pub struct ProbeRun {
    /// The last attempt: its outcome is the run's.
    pub result: RunResult,
    /// The attempts before it, in order; each failed or errored.
    pub earlier: Vec<RunResult>,
}

impl ProbeRun {
    /// A run of one attempt.
    pub fn single(result: RunResult) -> ProbeRun {
        ProbeRun {
            result,
            earlier: Vec::new(),
        }
    }

    pub fn attempts(&self) -> usize {
        self.earlier.len() + 1
    }

    /// The first attempt (the last, when there was only one).
    pub fn first(&self) -> &RunResult {
        self.earlier.first().unwrap_or(&self.result)
    }

    /// Passed, but only on a retry.
    pub fn flaky(&self) -> bool {
        self.result.outcome == Outcome::Success && !self.earlier.is_empty()
    }
}

/// What bounds one run.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Attempts at most (1 + retries); 0 counts as 1.
    pub attempts: u32,
    /// Attribution of a final failure must be done by then (under `serve`: the probe's next
    /// tick, so attribution never makes a probe overrun its own schedule).
    pub until: Option<Instant>,
}

/// The world a run happens in: the seam the policy is tested through.
pub trait Prober {
    /// One attempt of `probe`. `after_error`: the attempt before it (this run's, or the last
    /// one through the same driver) ended in `error`, so the driver is suspect.
    fn attempt(&self, probe: &Probe, after_error: bool) -> impl Future<Output = RunResult>;
    /// One run of a prerequisite check.
    fn check(&self, check: &Check) -> impl Future<Output = RunResult>;
    /// Every check a journey may depend on.
    fn checks(&self) -> &[Check];
    /// Cancelled when runs must stop (Ctrl-C; the end of `serve`'s grace period).
    fn cancel(&self) -> &CancellationToken;
}

/// Hears of every attempt as it ends, before the next one begins.
pub trait Witness {
    fn attempt_ended(
        &mut self,
        result: &RunResult,
        attempt: u32,
        attempts: u32,
        is_final: bool,
    ) -> impl Future<Output = ()>;
}

/// A witness that ignores everything.
pub struct Unwitnessed;

impl Witness for Unwitnessed {
    async fn attempt_ended(&mut self, _: &RunResult, _: u32, _: u32, _: bool) {}
}

/// Run `probe`: attempts until one succeeds, none is left or the run is cancelled; a final
/// failure of a journey is attributed to the checks it depends on.
pub async fn run(
    probe: &Probe,
    limits: Limits,
    prober: &impl Prober,
    witness: &mut impl Witness,
) -> ProbeRun {
    let attempts = limits.attempts.max(1);
    let mut earlier: Vec<RunResult> = Vec::new();
    loop {
        let n = earlier.len() as u32 + 1;
        let after_error = earlier.last().is_some_and(|r| r.outcome == Outcome::Error);
        let mut r = prober.attempt(probe, after_error).await;
        let is_final = is_final(&r, n, attempts, prober.cancel());
        if is_final && let Probe::Journey(j) = probe {
            attribute(j, &mut r, limits.until, prober).await;
        }
        witness.attempt_ended(&r, n, attempts, is_final).await;
        if is_final {
            return ProbeRun { result: r, earlier };
        }
        earlier.push(r);
    }
}

/// No attempt follows a success, the last allowed attempt, a cancelled attempt, or any
/// attempt once the run is cancelled.
fn is_final(r: &RunResult, attempt: u32, attempts: u32, cancel: &CancellationToken) -> bool {
    r.outcome == Outcome::Success
        || attempt >= attempts
        || r.reason == Some(Reason::Cancelled)
        || cancel.is_cancelled()
}

/// A journey's final failure: run the checks it depends on, all at once, and attach their
/// verdicts ("login failed at step 5; prerequisite assets_route fails: status_mismatch").
/// An error or a success needs no explaining; a cancelled run or one out of time gets none.
async fn attribute(j: &Journey, r: &mut RunResult, until: Option<Instant>, prober: &impl Prober) {
    if r.outcome != Outcome::Failure || j.depends_on.is_empty() {
        return;
    }
    let deps: Vec<&Check> = prober
        .checks()
        .iter()
        .filter(|c| j.depends_on.iter().any(|(d, _)| *d == c.name))
        .collect();
    let runs = futures::future::join_all(deps.iter().map(|c| prober.check(c)));
    let out_of_time = async {
        match until {
            Some(t) => tokio::time::sleep_until(t).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        biased;
        _ = prober.cancel().cancelled() => {}
        _ = out_of_time => {
            tracing::warn!(probe = %j.name, "no time left before the next run to check its prerequisites");
        }
        results = runs => r.prerequisites = results.iter().map(Prerequisite::of).collect(),
    }
}

#[cfg(test)]
mod tests;
