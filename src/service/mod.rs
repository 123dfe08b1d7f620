//! `serve`'s engine: the loaded probes (a [`Plan`]), one scheduling loop per probe, bounded
//! browser and check slots, and what every run leaves behind (history, metrics, a log line).
//!
//! Lifecycle:
//! - [`Service::start`] loads nothing itself: it is given a validated [`Plan`].
//! - [`Service::reload`] swaps the plan: the old probes' loops stop scheduling, runs in
//!   flight finish, and the new loops start on the same grid (a probe's ticks depend only on
//!   the service's start and its name).
//! - [`Service::shutdown`] stops scheduling, lets runs in flight finish within a grace
//!   period, then cancels them (recorded as `error` / `cancelled`, never as failures),
//!   stops the managed chromedriver and flushes history.

mod probe;
mod running;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::browser::BrowserKind;
use crate::browser::pool::{Pool, PoolSettings};
use crate::browser::supervisor::Supervisor;
use crate::check::CheckEnv;
use crate::config::{Bpm, Check, Journey, Loaded, ProbeKind};
use crate::history::{History, Retention};
use crate::metrics::Metrics;

/// What the service runs: validated probes and BPMs, with each probe's definition hash.
pub struct Plan {
    pub journeys: Vec<Journey>,
    pub checks: Vec<Check>,
    pub bpms: Vec<Bpm>,
    /// Probe file → hex SHA-256 of its text.
    pub hashes: BTreeMap<PathBuf, String>,
    /// Probe file → its text with secret values masked, stored once per hash.
    pub texts: BTreeMap<PathBuf, String>,
}

impl Plan {
    /// The browsers its journeys run in, each once.
    pub fn browsers(&self) -> Vec<BrowserKind> {
        let set: std::collections::BTreeSet<BrowserKind> =
            self.journeys.iter().map(|j| j.browser).collect();
        set.into_iter().collect()
    }

    pub fn from_loaded(l: Loaded) -> Plan {
        let mut hashes = BTreeMap::new();
        let mut texts = BTreeMap::new();
        for (file, text) in &l.texts {
            // The stored text is masked with the redactors of the probes in that file.
            let redacted = l
                .journeys
                .iter()
                .filter(|j| &j.file == file)
                .map(|j| &j.redactor)
                .chain(
                    l.checks
                        .iter()
                        .filter(|c| &c.file == file)
                        .map(|c| &c.redactor),
                )
                .fold(text.clone(), |t, r| r.redact(&t));
            hashes.insert(file.clone(), crate::history::content_hash(text));
            texts.insert(file.clone(), redacted);
        }
        Plan {
            journeys: l.journeys,
            checks: l.checks,
            bpms: l.bpms,
            hashes,
            texts,
        }
    }

    fn hash_of(&self, file: &std::path::Path) -> String {
        self.hashes.get(file).cloned().unwrap_or_default()
    }
}

/// Settings of the engine (the CLI and `journeyprobe.yaml` fill them).
#[derive(Clone, Debug)]
pub struct Settings {
    pub browser_slots: usize,
    pub check_slots: usize,
    pub webdriver: Option<String>,
    /// Where failed runs leave artifacts; `None` keeps none.
    pub artifacts: Option<PathBuf>,
    pub artifacts_max_bytes: u64,
    pub retention: Retention,
    /// How long runs in flight may take to finish on shutdown before they are cancelled.
    pub grace: Duration,
    /// How often BPM windows are recomputed even when no run ended (windows slide).
    pub bpm_refresh: Duration,
    /// Bearer token that `POST /api/v1/events` requires; without one, posting is refused.
    pub events_token: Option<String>,
    /// The fault lab whose switches the board shows (`journeyprobe demo` only).
    pub lab_url: Option<String>,
    /// Warm browser sessions reused across runs (its capacity is `browser_slots`); None
    /// opens a new session for every run.
    pub pool: Option<PoolSettings>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            browser_slots: 2,
            check_slots: 16,
            webdriver: None,
            artifacts: None,
            artifacts_max_bytes: 1 << 30,
            retention: Retention::default(),
            grace: Duration::from_secs(30),
            bpm_refresh: Duration::from_secs(15),
            events_token: None,
            lab_url: None,
            pool: Some(PoolSettings::new(2)),
        }
    }
}

/// State shared by every loop and run.
/// Longest the warm-up before the first runs may take, per browser.
const WARM_UP_LIMIT: Duration = Duration::from_secs(60);

pub struct Shared {
    pub settings: Settings,
    pub metrics: Metrics,
    pub history: History,
    pub driver: Supervisor,
    /// Warm browser sessions (see [`Settings::pool`]).
    pub pool: Option<Pool>,
    pub check_env: CheckEnv,
    browser_slots: Arc<Semaphore>,
    check_slots: Arc<Semaphore>,
    /// Probes with a run in flight (across reloads).
    running: running::Running,
    /// Cancelled when runs in flight must stop now (end of the shutdown grace).
    pub hard_stop: CancellationToken,
    /// Every run in flight.
    runs: TaskTracker,
    /// Grid origin of every probe's ticks.
    base: Instant,
    plan: RwLock<Arc<Plan>>,
}

pub struct Service {
    pub shared: Arc<Shared>,
    /// Cancelled to stop the current plan's loops (reload, shutdown).
    loops: Mutex<CancellationToken>,
    background: TaskTracker,
}

impl Service {
    pub fn start(plan: Plan, settings: Settings, history: History, metrics: Metrics) -> Service {
        metrics.slots(settings.browser_slots, settings.check_slots);
        metrics.reload(true, true);
        let shared = Arc::new(Shared {
            browser_slots: Arc::new(Semaphore::new(settings.browser_slots)),
            check_slots: Arc::new(Semaphore::new(settings.check_slots)),
            driver: Supervisor::new(settings.webdriver.clone()),
            pool: settings.pool.map(|p| {
                let p = PoolSettings {
                    capacity: settings.browser_slots.max(1),
                    ..p
                };
                Pool::new(p, Some(metrics.pool()))
            }),
            check_env: CheckEnv::new(),
            settings,
            metrics,
            history,
            running: running::Running::default(),
            hard_stop: CancellationToken::new(),
            runs: TaskTracker::new(),
            base: Instant::now(),
            plan: RwLock::new(Arc::new(Plan::empty())),
        });
        let svc = Service {
            shared,
            loops: Mutex::new(CancellationToken::new()),
            background: TaskTracker::new(),
        };
        let browsers = plan.browsers();
        // Warm every browser the journeys use before their first runs: the first start on a
        // machine is the prober's cost, not a journey's. The warm-up holds every browser slot
        // meanwhile, so the first runs wait for it (a run that cannot start in its window is
        // skipped and counted, never charged a cold start).
        let slots = (!browsers.is_empty())
            .then(|| {
                svc.shared
                    .browser_slots
                    .clone()
                    .try_acquire_many_owned(svc.shared.settings.browser_slots as u32)
                    .ok()
            })
            .flatten();
        svc.install(plan);
        svc.spawn_housekeeping();
        if let Some(slots) = slots {
            let shared = svc.shared.clone();
            svc.background.spawn(async move {
                let _held = slots;
                for b in browsers {
                    tracing::info!(browser = %b, "warming the browser before the first runs (its first start builds caches)");
                    match shared.driver.warm_up(b, WARM_UP_LIMIT).await {
                        Ok(took) => tracing::info!(
                            browser = %b,
                            "browser warm in {}",
                            humantime::format_duration(Duration::from_millis(took.as_millis() as u64))
                        ),
                        Err(p) => tracing::error!(browser = %b, "cannot warm the browser: {}", p.message),
                    }
                }
            });
        }
        svc
    }

    pub fn plan(&self) -> Arc<Plan> {
        self.shared.plan()
    }

    /// Replace the running plan with `plan` (a successful reload).
    pub fn reload(&self, plan: Plan) {
        self.install(plan);
        self.shared.metrics.reload(true, false);
    }

    /// A reload was refused: the current plan keeps running.
    pub fn reload_failed(&self) {
        self.shared.metrics.reload(false, false);
    }

    fn install(&self, plan: Plan) {
        let keep = self.shared.settings.retention.max_age;
        if let Some(b) = plan
            .bpms
            .iter()
            .find(|b| b.windows.iter().any(|w| *w > keep))
        {
            tracing::warn!(
                bpm = %b.name,
                "history keeps {} of runs, less than a window of this BPM: its ratio covers only what is kept",
                humantime::format_duration(keep)
            );
        }
        let plan = Arc::new(plan);
        {
            // Swap and forget under the write lock: an export checks the plan under the read
            // lock (`bpm_values`), so it lands before the forget or not at all.
            let mut current = self.shared.plan.write().unwrap_or_else(|p| p.into_inner());
            let old = std::mem::replace(&mut *current, plan.clone());
            self.forget_removed(&old, &plan);
        }
        let token = CancellationToken::new();
        let previous = std::mem::replace(
            &mut *self.loops.lock().unwrap_or_else(|p| p.into_inner()),
            token.clone(),
        );
        previous.cancel();
        for (file, text) in &plan.texts {
            let h = self.shared.history.clone();
            let (hash, file_s, text) =
                (plan.hash_of(file), file.display().to_string(), text.clone());
            self.background.spawn(async move {
                if let Err(e) = h.put_definition(hash, file_s, text).await {
                    tracing::error!("cannot store a probe definition: {e}");
                }
            });
        }
        for j in &plan.journeys {
            let p = crate::probe::Probe::Journey(j.clone());
            self.shared
                .metrics
                .probe(&j.name, ProbeKind::Journey, j.every.as_secs_f64());
            self.background.spawn(probe::schedule(
                self.shared.clone(),
                plan.clone(),
                p,
                token.clone(),
            ));
        }
        for c in &plan.checks {
            let p = crate::probe::Probe::Check(c.clone());
            self.shared
                .metrics
                .probe(&c.name, c.spec.kind().into(), c.every.as_secs_f64());
            self.background.spawn(probe::schedule(
                self.shared.clone(),
                plan.clone(),
                p,
                token.clone(),
            ));
        }
        let shared = self.shared.clone();
        self.background.spawn(async move {
            for b in &plan.bpms {
                shared.refresh_bpm(b).await;
            }
        });
    }

    fn forget_removed(&self, old: &Plan, new: &Plan) {
        let m = &self.shared.metrics;
        for j in old
            .journeys
            .iter()
            .filter(|j| !new.journeys.iter().any(|n| n.name == j.name))
        {
            m.forget_probe(&j.name, ProbeKind::Journey);
        }
        for c in old
            .checks
            .iter()
            // By name and kind: a probe that became another kind leaves no old series.
            .filter(|c| {
                !new.checks
                    .iter()
                    .any(|n| n.name == c.name && n.spec.kind() == c.spec.kind())
            })
        {
            m.forget_probe(&c.name, c.spec.kind().into());
        }
        for b in &old.bpms {
            let labels: Vec<String> = b
                .windows
                .iter()
                .map(|w| crate::config::bpm::window_label(*w))
                .collect();
            match new.bpms.iter().find(|n| n.name == b.name) {
                None => m.forget_bpm(&b.name, &labels),
                Some(n) => {
                    let gone: Vec<String> = labels
                        .into_iter()
                        .filter(|l| {
                            !n.windows
                                .iter()
                                .any(|w| crate::config::bpm::window_label(*w) == *l)
                        })
                        .collect();
                    m.forget_bpm_windows(&b.name, &gone);
                }
            }
        }
    }

    /// Sliding BPM windows and retention, on timers.
    fn spawn_housekeeping(&self) {
        let shared = self.shared.clone();
        let stop = self.shared.hard_stop.clone();
        self.background.spawn(async move {
            let mut bpm_tick = tokio::time::interval(shared.settings.bpm_refresh);
            bpm_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            let mut prune_tick = tokio::time::interval(Duration::from_secs(600));
            prune_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = bpm_tick.tick() => {
                        let plan = shared.plan();
                        for b in &plan.bpms {
                            shared.refresh_bpm(b).await;
                        }
                    }
                    _ = prune_tick.tick() => shared.housekeep().await,
                }
            }
        });
    }

    /// Graceful stop: no new runs; runs in flight get `grace` to finish, then are
    /// cancelled; the driver is stopped and history flushed. Returns how many runs were
    /// cancelled. `urgent` (a second signal) cuts the grace short.
    pub async fn shutdown(&self, urgent: CancellationToken) -> usize {
        self.loops
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .cancel();
        let shared = &self.shared;
        shared.runs.close();
        let in_flight = shared.runs.len();
        if in_flight > 0 {
            tracing::info!(
                runs = in_flight,
                "stopping: waiting up to {} for runs in flight",
                humantime::format_duration(shared.settings.grace)
            );
        }
        let finished = tokio::select! {
            _ = shared.runs.wait() => true,
            _ = tokio::time::sleep(shared.settings.grace) => false,
            _ = urgent.cancelled() => false,
        };
        let why = if urgent.is_cancelled() {
            "second stop signal"
        } else {
            "grace period over"
        };
        let cancelled = if finished { 0 } else { shared.runs.len() };
        shared.hard_stop.cancel();
        if !finished {
            tracing::warn!(runs = cancelled, "{why}: cancelling runs in flight");
            // Cancelled runs close their sessions within a couple of seconds.
            let _ = tokio::time::timeout(Duration::from_secs(15), shared.runs.wait()).await;
        }
        self.background.close();
        let _ = tokio::time::timeout(Duration::from_secs(5), self.background.wait()).await;
        if let Some(pool) = &shared.pool {
            // Closed by their driver's stop at the latest.
            let limit = if urgent.is_cancelled() {
                Duration::from_secs(1)
            } else {
                Duration::from_secs(5)
            };
            pool.close(limit).await;
        }
        shared.driver.stop().await;
        if let Err(e) = shared.history.flush().await {
            tracing::error!("cannot flush history: {e}");
        }
        cancelled
    }
}

impl Plan {
    pub fn empty() -> Plan {
        Plan {
            journeys: Vec::new(),
            checks: Vec::new(),
            bpms: Vec::new(),
            hashes: BTreeMap::new(),
            texts: BTreeMap::new(),
        }
    }
}

impl Shared {
    pub fn plan(&self) -> Arc<Plan> {
        self.plan.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Recompute and export one BPM; a history error is logged (the gauges keep their
    /// last values).
    pub async fn refresh_bpm(&self, b: &Bpm) {
        if let Err(e) = self.bpm_values(b).await {
            tracing::error!(bpm = %b.name, "cannot compute BPM: {e}");
        }
    }

    /// Compute a BPM's windows and export them — unless a reload removed or changed the BPM
    /// meanwhile: a run or a page that began under the old plan must not bring back series
    /// the reload forgot.
    pub async fn bpm_values(
        &self,
        b: &Bpm,
    ) -> Result<Vec<crate::bpm::WindowValue>, crate::history::HistoryError> {
        let values = crate::bpm::compute(b, &self.history).await?;
        let plan = self.plan.read().unwrap_or_else(|p| p.into_inner());
        let current = plan
            .bpms
            .iter()
            .any(|x| x.name == b.name && x.windows == b.windows && x.expected == b.expected);
        if current {
            crate::bpm::export(b, &values, &self.metrics);
        }
        Ok(values)
    }

    async fn housekeep(&self) {
        match self.history.prune(self.settings.retention).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(runs = n, "history: pruned old runs"),
            Err(e) => tracing::error!("history: cannot prune: {e}"),
        }
        if let Some(dir) = self.settings.artifacts.clone() {
            let cap = self.settings.artifacts_max_bytes;
            let removed = tokio::task::spawn_blocking(move || {
                crate::history::artifacts::enforce_cap(&dir, cap)
            })
            .await
            .unwrap_or_default();
            if !removed.is_empty() {
                tracing::info!(
                    folders = removed.len(),
                    "artifacts: removed the oldest run folders to stay under the size cap"
                );
            }
        }
    }

    /// Is the service ready: a plan loaded and, if it has journeys, a WebDriver?
    pub async fn ready(&self) -> Result<(), crate::browser::supervisor::NotReady> {
        for b in self.plan().browsers() {
            self.driver.ready(b).await?;
        }
        Ok(())
    }
}
