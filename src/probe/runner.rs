//! The real [`Prober`]: journeys in browser sessions from a supervised WebDriver (and the
//! pool, when there is one), checks under their own timeouts. `run` and `serve` build one
//! each and differ only in what they put in it.

use std::path::PathBuf;
use std::time::SystemTime;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::{Probe, Prober};
use crate::browser::pool::Pool;
use crate::browser::supervisor::Supervisor;
use crate::check::{CheckEnv, run_check};
use crate::config::{Check, Journey};
use crate::journey::{Interactive, Observer, RunEnv, run_journey};
use crate::metrics::Metrics;
use crate::outcome::{Problem, Reason};
use crate::result::{Phase, RunResult};

pub struct Runner<'a> {
    /// Where browser sessions come from; a dead managed chromedriver is replaced here.
    pub driver: &'a Supervisor,
    /// Warm sessions to reuse; None opens a new session for every run.
    pub pool: Option<Pool>,
    pub check_env: &'a CheckEnv,
    /// Every check loaded: a failed journey's prerequisites are found here.
    pub checks: &'a [Check],
    /// None keeps no artifacts.
    pub artifacts: Option<PathBuf>,
    pub interactive: Interactive,
    /// Hears about each journey's steps as they run.
    pub observer: &'a dyn Observer,
    /// Counts journeys in flight (serve's `journeyprobe_sessions`), when there are metrics.
    pub metrics: Option<&'a Metrics>,
    pub cancel: CancellationToken,
    /// What a run cut short by `cancel` says (`interrupted`, `the service is stopping`).
    pub stopping: &'static str,
}

impl Prober for Runner<'_> {
    async fn attempt(&self, probe: &Probe, after_error: bool) -> RunResult {
        match probe {
            Probe::Check(c) => self.check(c).await,
            Probe::Journey(j) => self.journey(j, after_error).await,
        }
    }

    /// A check, cut short when the run is cancelled.
    async fn check(&self, c: &Check) -> RunResult {
        let (started_at, start) = (SystemTime::now(), Instant::now());
        tokio::select! {
            biased;
            _ = self.cancel.cancelled() => cancelled_check(c, started_at, start, self.stopping),
            r = run_check(c, self.check_env) => r,
        }
    }

    fn checks(&self) -> &[Check] {
        self.checks
    }

    fn cancel(&self) -> &CancellationToken {
        &self.cancel
    }
}

impl Runner<'_> {
    /// Getting a WebDriver (perhaps starting or replacing chromedriver) counts against the
    /// journey's timeout.
    async fn journey(&self, j: &Journey, after_error: bool) -> RunResult {
        let lease = tokio::select! {
            biased;
            _ = self.cancel.cancelled() => Err(Problem::new(Reason::Cancelled, self.stopping)),
            l = tokio::time::timeout(j.timeout, self.driver.lease(j.browser, after_error)) => l.unwrap_or_else(|_| Err(Problem::new(
                Reason::DriverStartFailed,
                format!("no WebDriver within the journey's timeout {}", humantime::format_duration(j.timeout)),
            ))),
        };
        let lease = match lease {
            Ok(l) => l,
            Err(p) => return self.driver.ended(RunResult::not_started(j, p)),
        };
        let env = RunEnv {
            webdriver: lease.url,
            driver: lease.driver,
            // A pooled session is reset through DevTools: a browser without it is not pooled.
            pool: self.pool.clone().filter(|_| j.browser.engine().devtools()),
            browser_binary: lease.browser_binary,
            artifacts: self.artifacts.clone(),
            cancel: self.cancel.clone(),
            interactive: self.interactive.clone(),
        };
        let in_use = self.metrics.map(|m| m.session_in_use());
        let r = run_journey(j, &env, self.observer).await;
        drop(in_use);
        self.driver.ended(r)
    }
}

/// A check cut short by a stop: `error` / `cancelled`, never a failure.
fn cancelled_check(
    c: &Check,
    started_at: SystemTime,
    start: Instant,
    why: &'static str,
) -> RunResult {
    let mut r = RunResult::for_check(c, started_at);
    r.duration_ms = crate::time::ms(start.elapsed());
    r.conclude(Some((
        Problem::new(Reason::Cancelled, why),
        Phase::Check {
            check: c.spec.kind(),
        },
    )));
    r
}
