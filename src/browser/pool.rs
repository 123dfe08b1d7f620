//! Warm browser sessions kept across runs.
//!
//! Opening a Chromium session costs ~350 ms and closing one ~90 ms; a pooled session skips
//! both. Between two runs the session is reset, off the next run's clock, when it comes
//! back to the pool:
//!
//! 1. the origins it showed are collected: every page a step probed, every goto target,
//!    the tab's navigation history and its frames;
//! 2. a new tab opens and every old one closes (session storage, history, timers, open
//!    dialogs and service-worker clients go with them);
//! 3. `Storage.clearDataForOrigin` (all storage types: local storage, IndexedDB, cache
//!    storage, service workers, cookies) for each origin, then `Network.clearBrowserCookies`
//!    (every origin's cookies: deleting cookies on about:blank clears nothing) and
//!    `Network.clearBrowserCache` (a cached script must never hide a deleted bucket), all
//!    through chromedriver's DevTools passthrough.
//!
//! A session is recycled (closed, its slot freed for a new one) after a run that failed or
//! ended in `error` (so no retry inherits the state it left), after
//! `max_runs` runs, when its browser's memory passed the limit, when its reset failed, or
//! when it turned out dead when handed out. The pool never holds more sessions than its
//! capacity (`browser_slots`): a run that finds no warm session while all are being reset
//! waits for a reset to finish instead of starting another browser.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_util::task::TaskTracker;

use super::Session;
use super::classify::Classified;
use super::driver::{ManagedDriver, remove_profile};
use crate::result::SessionKind;

/// Default runs a session serves before it is replaced.
pub const DEFAULT_MAX_RUNS: u32 = 50;
/// Default limit of one browser's memory (proportional set size of all its processes).
pub const DEFAULT_MAX_MEMORY_MB: u64 = 450;

/// A pooled browser's memory is read after every this many runs.
const MEMORY_EVERY: u32 = 10;

/// Longest an isolation reset may take.
const RESET_LIMIT: Duration = Duration::from_secs(10);
/// Longest a warm session may take to prove it is alive when handed out.
const PING_LIMIT: Duration = Duration::from_secs(2);
/// Longest closing a retired session may take.
const CLOSE_LIMIT: Duration = Duration::from_secs(5);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolSettings {
    /// Most sessions alive at once, warm or busy (`browser_slots`).
    pub capacity: usize,
    pub max_runs: u32,
    /// Bytes; checked after every tenth run where the browser's processes can be seen (a
    /// chromedriver journeyprobe started), never for a remote WebDriver.
    pub max_memory: u64,
}

impl PoolSettings {
    pub fn new(capacity: usize) -> PoolSettings {
        PoolSettings {
            capacity: capacity.max(1),
            max_runs: DEFAULT_MAX_RUNS,
            max_memory: DEFAULT_MAX_MEMORY_MB * 1024 * 1024,
        }
    }
}

/// Why a session left the pool (the `reason` label of `journeyprobe_pool_recycled_total`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recycle {
    /// The run on it ended in `error`: the session or its browser may be broken.
    Error,
    /// The run on it failed: whatever state the failure left is not inherited.
    Failure,
    MaxRuns,
    Memory,
    ResetFailed,
    /// It did not answer when handed out, or its chromedriver had exited.
    Dead,
    /// Made room for a journey with `isolation: fresh`.
    Evicted,
}

impl Recycle {
    pub const ALL: [Recycle; 7] = [
        Recycle::Error,
        Recycle::Failure,
        Recycle::MaxRuns,
        Recycle::Memory,
        Recycle::ResetFailed,
        Recycle::Dead,
        Recycle::Evicted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Recycle::Error => "error",
            Recycle::Failure => "failure",
            Recycle::MaxRuns => "max_runs",
            Recycle::Memory => "memory",
            Recycle::ResetFailed => "reset_failed",
            Recycle::Dead => "dead",
            Recycle::Evicted => "evicted",
        }
    }
}

/// What the pool reports as it works. [`crate::metrics::Metrics`] turns it into the pool's
/// series; the pool itself knows no Prometheus (and runs without any: `run` passes none).
pub trait PoolEvents: Send + Sync {
    /// Sessions right now: warm (reset, waiting for a run), busy (in a run), resetting.
    fn sessions(&self, warm: usize, busy: usize, resetting: usize);
    /// A run got a session: a warm one, or room to open a new one.
    fn checkout(&self, session: SessionKind);
    /// A session left the pool.
    fn recycled(&self, why: Recycle);
    /// A session's reset between two runs ended (well or not) after `took`.
    fn reset(&self, took: Duration);
}

/// What a session must match to be handed to a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Key {
    pub webdriver: String,
    pub headed: bool,
    pub browser: super::BrowserKind,
}

/// A browser session and what it belongs to.
pub struct Browser {
    pub session: Session,
    pub key: Key,
    /// The chromedriver that opened it, if journeyprobe started it.
    pub driver: Option<Arc<ManagedDriver>>,
    /// Its throw-away profile folder (managed chromedriver only).
    pub profile: Option<PathBuf>,
    /// Runs it has served.
    pub runs: u32,
    /// Its place in the pool's capacity, if it counts against it.
    ticket: Option<Ticket>,
    /// Goes back to the pool after its run (false: closed after it).
    pooled: bool,
}

impl Browser {
    /// A session closed after its run (`isolation: fresh`, or no pool), holding its place
    /// in the pool's capacity while it lives, if given one.
    pub fn unpooled(
        session: Session,
        key: Key,
        driver: Option<Arc<ManagedDriver>>,
        profile: Option<PathBuf>,
        ticket: Option<Ticket>,
    ) -> Browser {
        Browser {
            session,
            key,
            driver,
            profile,
            runs: 0,
            ticket,
            pooled: false,
        }
    }

    /// A newly opened session that takes the place `ticket` gave in the pool.
    pub fn pooled(
        ticket: Ticket,
        session: Session,
        key: Key,
        driver: Option<Arc<ManagedDriver>>,
        profile: Option<PathBuf>,
    ) -> Browser {
        Browser {
            pooled: true,
            ..Browser::unpooled(session, key, driver, profile, Some(ticket))
        }
    }

    pub fn is_pooled(&self) -> bool {
        self.pooled
    }

    /// Close the session and remove its browser, whatever state it is in.
    pub async fn close(self, deadline: Instant) -> Result<(), crate::outcome::Problem> {
        let closed = self.session.close(deadline).await;
        if let Some(dir) = &self.profile {
            // A browser whose session did not close cleanly must not outlive it.
            remove_profile(dir);
        }
        drop(self.ticket);
        closed
    }
}

/// What a run gets from [`Pool::checkout`].
pub enum Checkout {
    /// A warm, reset session.
    Warm(Box<Browser>),
    /// Room for a new session: open one and [`Pool::adopt`] it.
    New(Ticket),
}

/// One of the pool's places: a session counts against the capacity while its ticket lives.
pub struct Ticket {
    pool: Arc<Inner>,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.pool.update(|st| st.live = st.live.saturating_sub(1));
        self.pool.notify.notify_waiters();
    }
}

#[derive(Default)]
struct State {
    idle: Vec<Browser>,
    /// Tickets alive: sessions idle, busy, being reset or being closed.
    live: usize,
    resetting: usize,
    /// Retired sessions still closing (their tickets count in `live` until closed).
    closing: usize,
    closed: bool,
}

struct Inner {
    settings: PoolSettings,
    state: Mutex<State>,
    notify: Notify,
    metrics: Option<Arc<dyn PoolEvents>>,
    tasks: TaskTracker,
}

impl Inner {
    fn update<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let out = f(&mut st);
        if let Some(m) = &self.metrics {
            let warm = st.idle.len();
            let busy = st.live.saturating_sub(warm + st.resetting);
            m.sessions(warm, busy, st.resetting);
        }
        out
    }

    fn count_recycle(&self, why: Recycle) {
        if let Some(m) = &self.metrics {
            m.recycled(why);
        }
    }

    fn count_checkout(&self, warm: bool) {
        if let Some(m) = &self.metrics {
            m.checkout(SessionKind::of(warm));
        }
    }
}

/// Warm sessions, shared by every run of a process.
#[derive(Clone)]
pub struct Pool {
    inner: Arc<Inner>,
}

impl Pool {
    pub fn new(settings: PoolSettings, metrics: Option<Arc<dyn PoolEvents>>) -> Pool {
        let pool = Pool {
            inner: Arc::new(Inner {
                settings,
                state: Mutex::new(State::default()),
                notify: Notify::new(),
                metrics,
                tasks: TaskTracker::new(),
            }),
        };
        pool.inner.update(|_| ());
        pool
    }

    pub fn settings(&self) -> PoolSettings {
        self.inner.settings
    }

    /// A warm session matching `key` and `driver`, else room for a new one. Waits (until
    /// `deadline`) for a session being reset when the pool is full; past it, room is given
    /// anyway rather than failing the run. `fresh` never takes a warm session and makes
    /// room by closing an idle one when the pool is full.
    pub async fn checkout(
        &self,
        key: &Key,
        driver: Option<&Arc<ManagedDriver>>,
        deadline: Instant,
        fresh: bool,
    ) -> Checkout {
        // Waiting for room may take half of what is left: the rest opens a new session.
        let wait_until = Instant::now() + deadline.saturating_duration_since(Instant::now()) / 2;
        loop {
            let notified = self.inner.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let (found, stale, room) = self.inner.update(|st| {
                let mut stale = Vec::new();
                let mut found = None;
                if fresh {
                    if st.live >= self.inner.settings.capacity && !st.idle.is_empty() {
                        // The least recently used one.
                        stale.push((st.idle.remove(0), Recycle::Evicted));
                    }
                } else {
                    // Sessions of a driver that died (and was replaced) all go at once, so
                    // none keeps holding a place or the dead driver's handle.
                    let (usable, gone): (Vec<Browser>, Vec<Browser>) =
                        std::mem::take(&mut st.idle).into_iter().partition(|b| {
                            b.key == *key
                                && same_driver(b.driver.as_ref(), driver)
                                && !b.driver.as_ref().is_some_and(|d| d.has_exited())
                        });
                    st.idle = usable;
                    stale.extend(gone.into_iter().map(|b| (b, Recycle::Dead)));
                    found = st.idle.pop();
                }
                // Past capacity only when no session is being reset or closed: then every
                // place is held by a run, and waiting would not free one.
                let settling = st.resetting + st.closing + stale.len();
                let room =
                    found.is_none() && (st.live < self.inner.settings.capacity || settling == 0);
                if room {
                    st.live += 1;
                }
                (found, stale, room)
            });
            for (b, why) in stale {
                self.retire(b, why);
            }
            if let Some(mut b) = found {
                // Idle for a while: make sure the browser is still there.
                let by = Instant::now() + PING_LIMIT;
                b.session.set_limit(by + super::session::GRACE);
                match b
                    .session
                    .call(by, "ping", b.session.client().window())
                    .await
                {
                    Ok(_) => {
                        self.inner.count_checkout(true);
                        return Checkout::Warm(Box::new(b));
                    }
                    Err(c) => {
                        tracing::info!(
                            "a warm browser session did not answer ({}); replacing it",
                            c.problem.message
                        );
                        self.retire(b, Recycle::Dead);
                        continue;
                    }
                }
            }
            if room {
                self.inner.count_checkout(false);
                return Checkout::New(Ticket {
                    pool: self.inner.clone(),
                });
            }
            if tokio::time::timeout_at(wait_until, notified).await.is_err() {
                self.inner.update(|st| st.live += 1);
                self.inner.count_checkout(false);
                return Checkout::New(Ticket {
                    pool: self.inner.clone(),
                });
            }
        }
    }

    /// Wait, before a run's clock starts, while the pool is full and a session is being
    /// reset: back-to-back runs (`run --repeat`) then time the journey, not the previous
    /// run's reset. Bounded by the reset's own limit.
    pub async fn settle(&self) {
        let until = Instant::now() + RESET_LIMIT + super::session::GRACE;
        loop {
            let notified = self.inner.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let busy = self.inner.update(|st| {
                st.idle.is_empty() && st.live >= self.inner.settings.capacity && st.resetting > 0
            });
            if !busy || tokio::time::timeout_at(until, notified).await.is_err() {
                return;
            }
        }
    }

    /// A session back from a run: reset in the background and kept warm, or retired.
    pub fn give_back(&self, mut b: Browser, recycle: Option<Recycle>) {
        b.runs += 1;
        let why = recycle.or((b.runs >= self.inner.settings.max_runs).then_some(Recycle::MaxRuns));
        if let Some(why) = why {
            self.retire(b, why);
            return;
        }
        if self.inner.update(|st| {
            st.resetting += 1;
            st.closed
        }) {
            self.inner.update(|st| st.resetting -= 1);
            self.close_quietly(b);
            return;
        }
        let pool = self.clone();
        self.inner.tasks.spawn(async move {
            let started = std::time::Instant::now();
            b.session
                .set_limit(Instant::now() + RESET_LIMIT + super::session::GRACE);
            let reset = reset(&b.session, Instant::now() + RESET_LIMIT).await;
            if let Some(m) = &pool.inner.metrics {
                m.reset(started.elapsed());
            }
            let verdict = match reset {
                Err(c) => {
                    tracing::info!(
                        "resetting a browser session failed ({}); replacing it",
                        c.problem.message
                    );
                    Some(Recycle::ResetFailed)
                }
                // Reading a browser's memory costs the prober ~30 ms of CPU (the kernel
                // walks every page of ~8 processes): once every few runs is enough for a
                // limit that slow growth crosses.
                Ok(()) if !b.runs.is_multiple_of(MEMORY_EVERY) => None,
                Ok(()) => {
                    let memory = b.profile.as_deref().and_then(super::driver::memory_of);
                    match memory {
                        Some(bytes) if bytes > pool.inner.settings.max_memory => {
                            tracing::info!(
                                "a browser uses {} MB, over the pool's limit; replacing it",
                                bytes / (1024 * 1024)
                            );
                            Some(Recycle::Memory)
                        }
                        _ => None,
                    }
                }
            };
            match verdict {
                Some(why) => {
                    pool.inner.update(|st| st.resetting -= 1);
                    pool.retire(b, why);
                }
                None => {
                    let kept = pool.inner.update(|st| {
                        st.resetting -= 1;
                        if st.closed {
                            Some(b)
                        } else {
                            st.idle.push(b);
                            None
                        }
                    });
                    if let Some(b) = kept {
                        pool.close_quietly(b);
                    }
                }
            }
            pool.inner.notify.notify_waiters();
        });
    }

    /// Close a session for a reason the metrics count.
    fn retire(&self, b: Browser, why: Recycle) {
        self.inner.count_recycle(why);
        tracing::debug!(
            reason = why.as_str(),
            runs = b.runs,
            "browser session retired"
        );
        self.close_quietly(b);
    }

    fn close_quietly(&self, b: Browser) {
        self.inner.update(|st| st.closing += 1);
        let pool = self.clone();
        self.inner.tasks.spawn(async move {
            pool.close_now(b).await;
            pool.inner.update(|st| st.closing -= 1);
            pool.inner.notify.notify_waiters();
        });
    }

    async fn close_now(&self, b: Browser) {
        // A session of a chromedriver that exited is gone with it.
        if b.driver.as_ref().is_some_and(|d| d.has_exited()) {
            if let Some(dir) = &b.profile {
                remove_profile(dir);
            }
            return;
        }
        if let Err(p) = b.close(Instant::now() + CLOSE_LIMIT).await {
            tracing::debug!("closing a retired browser session: {}", p.message);
        }
    }

    /// Close every session: those idle now, and those being reset once their reset ends.
    /// Waits for the closes, at most `limit`.
    pub async fn close(&self, limit: Duration) {
        let idle = self.inner.update(|st| {
            st.closed = true;
            std::mem::take(&mut st.idle)
        });
        for b in idle {
            self.close_quietly(b);
        }
        self.inner.tasks.close();
        if tokio::time::timeout(limit, self.inner.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                "browser sessions still closing after {limit:?}; they are killed with their driver"
            );
        }
    }
}

fn same_driver(a: Option<&Arc<ManagedDriver>>, b: Option<&Arc<ManagedDriver>>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => Arc::ptr_eq(a, b),
        _ => false,
    }
}

/// Leave nothing of the last run in the browser (see the module's documentation).
pub async fn reset(s: &Session, deadline: Instant) -> Result<(), Classified> {
    let client = s.client();
    // Pages reached by clicks, redirects and frames were not all probed: ask the tab.
    if let Ok(h) = s
        .cdp(deadline, "Page.getNavigationHistory", json!({}))
        .await
    {
        for e in h["entries"].as_array().into_iter().flatten() {
            if let Some(url) = e["url"].as_str() {
                s.saw(url);
            }
        }
    }
    if let Ok(tree) = s.cdp(deadline, "Page.getFrameTree", json!({})).await {
        frame_urls(&tree["frameTree"], &mut |url| s.saw(url));
    }
    let origins = s.take_origins();
    s.forget_document();
    let old = s.call(deadline, "window handles", client.windows()).await?;
    let new = s.call(deadline, "new tab", client.new_window(true)).await?;
    for h in old {
        s.call(deadline, "switch tab", client.switch_to_window(h))
            .await?;
        s.call(deadline, "close tab", client.close_window()).await?;
    }
    s.call(
        deadline,
        "switch tab",
        client.switch_to_window(new.handle.clone()),
    )
    .await?;
    for origin in &origins {
        s.cdp(
            deadline,
            "Storage.clearDataForOrigin",
            json!({ "origin": origin, "storageTypes": "all" }),
        )
        .await?;
    }
    s.cdp(deadline, "Network.clearBrowserCookies", json!({}))
        .await?;
    s.cdp(deadline, "Network.clearBrowserCache", json!({}))
        .await?;
    Ok(())
}

/// Every frame's URL in a `Page.getFrameTree` answer.
fn frame_urls(node: &Value, f: &mut impl FnMut(&str)) {
    if let Some(url) = node["frame"]["url"].as_str() {
        f(url);
    }
    for child in node["childFrames"].as_array().into_iter().flatten() {
        frame_urls(child, f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_urls_walks_nested_frames() {
        let tree = json!({
            "frame": {"url": "http://a.test/"},
            "childFrames": [
                {"frame": {"url": "http://b.test/x"}, "childFrames": [{"frame": {"url": "http://c.test/"}}]},
                {"frame": {"url": "about:blank"}}
            ]
        });
        let mut seen = Vec::new();
        frame_urls(&tree, &mut |u| seen.push(u.to_string()));
        assert_eq!(
            seen,
            [
                "http://a.test/",
                "http://b.test/x",
                "http://c.test/",
                "about:blank"
            ]
        );
    }

    #[test]
    fn recycle_reasons_are_distinct_labels() {
        let labels: std::collections::BTreeSet<_> =
            Recycle::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(labels.len(), Recycle::ALL.len());
    }

    #[test]
    fn the_example_settings_file_states_the_pool_defaults() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/journeyprobe.yaml");
        let env = std::collections::BTreeMap::<String, String>::new();
        let f = crate::config::service::load_serve_file(&path, &env)
            .unwrap_or_else(|d| panic!("{d:?}"));
        assert_eq!(
            (f.pool_enabled, f.pool_max_runs, f.pool_max_memory_mb),
            (
                Some(true),
                Some(DEFAULT_MAX_RUNS),
                Some(DEFAULT_MAX_MEMORY_MB)
            )
        );
    }
}
