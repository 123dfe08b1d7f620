//! One probe under `serve`: its scheduling loop, and what each of its runs (the shared run
//! policy of [`crate::probe`]) leaves behind.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::{Plan, Shared};
use crate::history::Attempt;
use crate::journey::Quiet;
use crate::metrics::SkipReason;
use crate::outcome::Outcome;
use crate::probe::{Limits, Probe, Runner, Witness};
use crate::result::RunResult;
use crate::schedule::{jitter, next_tick, start_window};

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
        let Some(running) = shared.running.try_start(probe.name()) else {
            shared.metrics.skipped(probe.name(), SkipReason::Overrun);
            tracing::warn!(
                probe = probe.name(),
                "skipped a run: the previous one is still going"
            );
            continue;
        };
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
        let (s, p, pl) = (shared.clone(), probe.clone(), plan.clone());
        shared.runs.spawn(async move {
            // A bug that panics inside a run must not take the probe's schedule with it:
            // the guards free the probe and the slot whatever happens.
            let _held = (running, permit);
            let run = std::panic::AssertUnwindSafe(run(&s, &pl, &p, due + every));
            if futures::FutureExt::catch_unwind(run).await.is_err() {
                tracing::error!(
                    probe = p.name(),
                    "a run panicked (a journeyprobe bug); the probe runs again at its next tick"
                );
            }
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

/// One run under the shared run policy; each attempt is stored, measured and logged as it
/// ends, then the run's first and eventual outcomes are measured and the BPMs that count
/// this probe refreshed.
pub async fn run(shared: &Shared, plan: &Plan, probe: &Probe, next_tick: Instant) {
    let runner = Runner {
        driver: &shared.driver,
        pool: shared.pool.clone(),
        check_env: &shared.check_env,
        checks: &plan.checks,
        artifacts: shared.settings.artifacts.clone(),
        interactive: Default::default(),
        observer: &Quiet,
        metrics: Some(&shared.metrics),
        cancel: shared.hard_stop.clone(),
        stopping: "the service is stopping",
    };
    let limits = Limits {
        attempts: probe.retries() + 1,
        until: Some(next_tick),
    };
    let mut record = Record {
        shared,
        hash: plan.hash_of(probe.file()),
        vars: match probe {
            Probe::Journey(j) => Some(&j.vars),
            Probe::Check(_) => None,
        },
        first_id: None,
    };
    let run = crate::probe::run(probe, limits, &runner, &mut record).await;
    shared.metrics.run(run.first(), &run.result);
    for b in plan
        .bpms
        .iter()
        .filter(|b| b.probes.contains(&run.result.probe))
    {
        shared.refresh_bpm(b).await;
    }
}

/// What every attempt under `serve` leaves behind: a history row (later attempts pointing at
/// the first), its series, a log line.
struct Record<'a> {
    shared: &'a Shared,
    hash: String,
    vars: Option<&'a std::collections::BTreeMap<String, String>>,
    /// History id of the run's first attempt, once stored.
    first_id: Option<i64>,
}

impl Witness for Record<'_> {
    async fn attempt_ended(&mut self, r: &RunResult, attempt: u32, attempts: u32, is_final: bool) {
        let stored = self
            .shared
            .history
            .insert(Attempt {
                result: r,
                attempt,
                is_final,
                first_id: self.first_id,
                definition_hash: &self.hash,
                vars: self.vars,
            })
            .await;
        match stored {
            Ok(id) if attempt == 1 => self.first_id = Some(id),
            Ok(_) => {}
            Err(e) => tracing::error!(probe = %r.probe, "cannot store the run in history: {e}"),
        }
        self.shared.metrics.attempt(r);
        log(r, attempt, attempts, is_final);
    }
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
            tracing::info!(probe = %r.probe, kind = r.kind.as_str(), outcome = "success", attempt, attempts, duration_ms = ms, "run succeeded")
        }
        Outcome::Failure => {
            tracing::warn!(probe = %r.probe, kind = r.kind.as_str(), outcome = "failure", reason, attempt, attempts, duration_ms = ms, "run failed{retry}: {message}")
        }
        Outcome::Error => {
            tracing::error!(probe = %r.probe, kind = r.kind.as_str(), outcome = "error", reason, attempt, attempts, duration_ms = ms, "prober error{retry}: {message}")
        }
    }
}
