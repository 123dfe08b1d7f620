//! One probe under `serve`: its scheduling loop, and one run of it (attempts, retries) with
//! everything the run leaves behind.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::{Plan, Shared};
use crate::check::{attribute, run_check};
use crate::config::{Check, Journey};
use crate::history::Attempt;
use crate::journey::{Quiet, RunEnv, run_journey};
use crate::metrics::SkipReason;
use crate::outcome::{Outcome, Problem, Reason};
use crate::result::{Phase, RunResult};
use crate::schedule::{jitter, next_tick, start_window};

/// A journey or a check.
#[derive(Clone)]
pub enum Probe {
    Journey(Journey),
    Check(Check),
}

impl Probe {
    fn name(&self) -> &str {
        match self {
            Probe::Journey(j) => &j.name,
            Probe::Check(c) => &c.name,
        }
    }
    fn kind(&self) -> &'static str {
        match self {
            Probe::Journey(_) => "journey",
            Probe::Check(c) => c.spec.kind(),
        }
    }
    fn every(&self) -> Duration {
        match self {
            Probe::Journey(j) => j.every,
            Probe::Check(c) => c.every,
        }
    }
    fn timeout(&self) -> Duration {
        match self {
            Probe::Journey(j) => j.timeout,
            Probe::Check(c) => c.timeout,
        }
    }
    fn retries(&self) -> u32 {
        match self {
            Probe::Journey(j) => j.retries,
            Probe::Check(c) => c.retries,
        }
    }
    fn file(&self) -> &std::path::PathBuf {
        match self {
            Probe::Journey(j) => &j.file,
            Probe::Check(c) => &c.file,
        }
    }
}

/// The probe's loop: wait for each tick, skip it when the previous run is still going or
/// no slot frees up in time, else start a run. Ends when `stop` is cancelled.
pub async fn schedule(shared: Arc<Shared>, plan: Arc<Plan>, probe: Probe, stop: CancellationToken) {
    let every = probe.every();
    let offset = jitter(probe.name(), every);
    let window = start_window(every, probe.timeout(), probe.retries() + 1);
    let slots = match probe {
        Probe::Journey(_) => shared.browser_slots.clone(),
        Probe::Check(_) => shared.check_slots.clone(),
    };
    let probe = Arc::new(probe);
    // Ticks strictly after this one are due next.
    let mut after = Instant::now();
    loop {
        let due = next_tick(shared.base, offset, every, Instant::now().max(after));
        after = due + Duration::from_millis(1);
        tokio::select! {
            biased;
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep_until(due) => {}
        }
        if shared.is_running(probe.name()) {
            shared.metrics.skipped(probe.name(), SkipReason::Overrun);
            tracing::warn!(
                probe = probe.name(),
                "skipped a run: the previous one is still going"
            );
            continue;
        }
        let Some(permit) = acquire(&slots, due + window, &stop).await else {
            if stop.is_cancelled() {
                return;
            }
            shared.metrics.skipped(probe.name(), SkipReason::NoSlot);
            tracing::warn!(
                probe = probe.name(),
                "skipped a run: no free slot in time to finish before the next one"
            );
            continue;
        };
        shared
            .metrics
            .late(probe.kind(), (Instant::now() - due).as_secs_f64());
        shared.set_running(probe.name(), true);
        let (s, p, pl) = (shared.clone(), probe.clone(), plan.clone());
        shared.runs.spawn(async move {
            run(&s, &pl, &p, due + every).await;
            s.set_running(p.name(), false);
            drop(permit);
        });
    }
}

async fn acquire(
    slots: &Arc<Semaphore>,
    until: Instant,
    stop: &CancellationToken,
) -> Option<OwnedSemaphorePermit> {
    tokio::select! {
        biased;
        _ = stop.cancelled() => None,
        p = slots.clone().acquire_owned() => p.ok(),
        _ = tokio::time::sleep_until(until) => None,
    }
}

/// One run: attempts until one succeeds or none is left; each is stored and measured, then
/// the run's eventual outcome, then the BPMs that count this probe.
pub async fn run(shared: &Shared, plan: &Plan, probe: &Probe, next_tick: Instant) {
    let hash = plan.hash_of(probe.file());
    let attempts = probe.retries() + 1;
    let mut first: Option<(RunResult, Option<i64>)> = None;
    let mut last = None;
    for attempt in 1..=attempts {
        let mut r = attempt_once(shared, probe).await;
        let is_final = r.outcome == Outcome::Success
            || attempt == attempts
            || r.reason == Some(Reason::Cancelled)
            || shared.hard_stop.is_cancelled();
        if let Probe::Journey(j) = probe
            && is_final
            && r.outcome == Outcome::Failure
            && !j.depends_on.is_empty()
        {
            attribute_final(shared, plan, j, &mut r, next_tick).await;
        }
        let first_id = first.as_ref().and_then(|f| f.1);
        let stored = shared
            .history
            .insert(Attempt {
                result: &r,
                attempt,
                is_final,
                first_id,
                definition_hash: &hash,
                vars: match probe {
                    Probe::Journey(j) => Some(&j.vars),
                    Probe::Check(_) => None,
                },
            })
            .await;
        let id = match stored {
            Ok(id) => Some(id),
            Err(e) => {
                tracing::error!(probe = %r.probe, "cannot store the run in history: {e}");
                None
            }
        };
        shared.metrics.attempt(&r);
        log(&r, attempt, attempts, is_final);
        if first.is_none() {
            first = Some((r.clone(), id));
        }
        last = Some(r);
        if is_final {
            break;
        }
    }
    let (Some((first, _)), Some(last)) = (first, last) else {
        return;
    };
    shared.metrics.run(&first, &last);
    for b in plan.bpms.iter().filter(|b| b.probes.contains(&last.probe)) {
        shared.refresh_bpm(b).await;
    }
}

async fn attempt_once(shared: &Shared, probe: &Probe) -> RunResult {
    match probe {
        Probe::Check(c) => {
            let (started_at, start) = (SystemTime::now(), Instant::now());
            tokio::select! {
                biased;
                _ = shared.hard_stop.cancelled() => cancelled_check(c, started_at, start),
                r = run_check(c, &shared.check_env) => r,
            }
        }
        Probe::Journey(j) => journey(shared, j).await,
    }
}

/// A journey's final failure: run the checks it depends on, once, and attach their verdicts
/// — within what is left before the run's next tick, so attribution never makes the probe
/// overrun its own schedule.
async fn attribute_final(
    shared: &Shared,
    plan: &Plan,
    j: &Journey,
    r: &mut RunResult,
    until: Instant,
) {
    let deps: Vec<&Check> = plan
        .checks
        .iter()
        .filter(|c| j.depends_on.iter().any(|(d, _)| *d == c.name))
        .collect();
    tokio::select! {
        biased;
        _ = shared.hard_stop.cancelled() => {}
        _ = tokio::time::sleep_until(until) => {
            tracing::warn!(probe = %j.name, "no time left before the next run to check its prerequisites");
        }
        _ = attribute(r, &deps, &shared.check_env) => {}
    }
}

async fn journey(shared: &Shared, j: &Journey) -> RunResult {
    // Getting a WebDriver (perhaps starting chromedriver) counts against the run's timeout.
    let lease = tokio::select! {
        biased;
        _ = shared.hard_stop.cancelled() => Err(Problem::new(Reason::Cancelled, "the service is stopping")),
        l = tokio::time::timeout(j.timeout, shared.driver.lease()) => l.unwrap_or_else(|_| Err(Problem::new(
            Reason::DriverStartFailed,
            format!("no WebDriver within the journey's timeout {}", humantime::format_duration(j.timeout)),
        ))),
    };
    let lease = match lease {
        Ok(l) => l,
        Err(p) => return RunResult::not_started(j, p),
    };
    let env = RunEnv {
        webdriver: lease.url.clone(),
        driver: lease.driver.clone(),
        pool: shared.pool.clone(),
        browser_binary: lease.browser_binary.clone(),
        artifacts: shared.settings.artifacts.clone(),
        cancel: shared.hard_stop.clone(),
        interactive: Default::default(),
    };
    shared.metrics.sessions().inc();
    let r = run_journey(j, &env, &Quiet).await;
    shared.metrics.sessions().dec();
    r
}

fn cancelled_check(c: &Check, started_at: SystemTime, start: Instant) -> RunResult {
    let mut r = RunResult::for_check(c, started_at);
    r.duration_ms = crate::time::ms(start.elapsed());
    let p = Problem::new(Reason::Cancelled, "the service is stopping");
    r.conclude(Some((
        p,
        Phase::Check {
            check: c.spec.kind(),
        },
    )));
    r
}

/// One line per attempt: success at info, failure at warn, error at error. Messages are
/// already redacted.
fn log(r: &RunResult, attempt: u32, attempts: u32, is_final: bool) {
    let reason = r.reason.map_or("none", |x| x.as_str());
    let message = r.message.as_deref().unwrap_or("");
    let ms = r.duration_ms.round() as u64;
    let retry = if is_final { "" } else { " (will retry)" };
    match r.outcome {
        Outcome::Success => {
            tracing::info!(probe = %r.probe, kind = r.kind, outcome = "success", attempt, attempts, duration_ms = ms, "run succeeded")
        }
        Outcome::Failure => {
            tracing::warn!(probe = %r.probe, kind = r.kind, outcome = "failure", reason, attempt, attempts, duration_ms = ms, "run failed{retry}: {message}")
        }
        Outcome::Error => {
            tracing::error!(probe = %r.probe, kind = r.kind, outcome = "error", reason, attempt, attempts, duration_ms = ms, "prober error{retry}: {message}")
        }
    }
}
