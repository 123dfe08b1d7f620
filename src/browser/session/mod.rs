//! One WebDriver session with deadlines on everything.
//!
//! fantoccini has no timeout of its own, so every command goes through [`Session::call`],
//! which bounds it by the caller's deadline plus a short grace (letting the driver's own
//! page-load timeout answer first, with a more precise reason). A command still unanswered
//! after that is a prober fault: `webdriver_timeout`. Reading the page is in `page.rs`,
//! Chrome DevTools commands in `cdp.rs`, the capabilities a session asks for in
//! [`crate::browser::capabilities`].

mod cdp;
mod page;

pub use page::{Found, PageProbe, Point, Prepare};

use std::sync::Mutex;
use std::time::Duration;

use fantoccini::elements::{Element, ElementRef};
use fantoccini::error::CmdError;
use fantoccini::wd::{Capabilities, TimeoutConfiguration};
use fantoccini::{Client, ClientBuilder};
use serde_json::Value;
use tokio::time::Instant;

use super::classify::{Classified, classify_cmd, classify_new_session};
use super::engine::{BrowserKind, Engine};
use crate::outcome::{Problem, Reason};

/// The driver's script timeout outside a step's wait for its page (the W3C default).
pub const SCRIPT_TIMEOUT: Duration = Duration::from_secs(30);

/// Extra time a command gets past its deadline before we give up on the driver.
pub const GRACE: Duration = Duration::from_secs(2);

/// W3C key under which an element reference travels in JSON.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Where a session's time went.
#[derive(Debug, Default)]
struct Clock {
    webdriver: std::sync::atomic::AtomicU64,
    paused: std::sync::atomic::AtomicU64,
}

impl Clock {
    fn add_webdriver(&self, d: Duration) {
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.webdriver
            .fetch_add(ns, std::sync::atomic::Ordering::Relaxed);
    }

    fn add_paused(&self, d: Duration) {
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.paused
            .fetch_add(ns, std::sync::atomic::Ordering::Relaxed);
    }
}

pub struct Session {
    /// What differs about its browser.
    engine: &'static dyn Engine,
    client: Client,
    /// The WebDriver session id (for vendor commands such as Chrome DevTools calls).
    id: String,
    /// The WebDriver server's URL (its `/status` tells a busy session from a dead driver).
    url: String,
    /// Origins the session's pages were seen on (goto targets, every probed page): what a
    /// pooled session's isolation reset clears.
    origins: std::sync::Mutex<std::collections::BTreeSet<String>>,
    /// No command outlives this instant, grace included: the run's own deadline minus the
    /// time kept to close the session.
    limit: Instant,
    /// Time spent waiting on the WebDriver server, and time spent in auto-wait pauses: what
    /// is left of a step is the prober's own overhead (`StepRecord::overhead_ms`).
    clock: Clock,
    /// The document the last probe or timings read saw (its `performance.timeOrigin`):
    /// a navigating step that leaves a different one loaded a new document.
    document: Mutex<Option<String>>,
    /// The WebDriver server refused Chrome DevTools mouse input: clicks are WebDriver's.
    no_mouse_input: std::sync::atomic::AtomicBool,
}

impl Session {
    /// Open a session, giving up at `deadline`. No later command runs past `limit`.
    /// (A Chromium session: see [`Session::start_for`] for another browser.)
    pub async fn start(
        url: &str,
        caps: Capabilities,
        deadline: Instant,
        limit: Instant,
    ) -> Result<Self, Problem> {
        Self::start_for(BrowserKind::Chromium.engine(), url, caps, deadline, limit).await
    }

    /// Open a session of `engine`'s browser with `caps` (from `engine.capabilities`).
    pub async fn start_for(
        engine: &'static dyn Engine,
        url: &str,
        caps: Capabilities,
        deadline: Instant,
        limit: Instant,
    ) -> Result<Self, Problem> {
        let mut builder = ClientBuilder::rustls()
            .map_err(|e| Problem::new(Reason::WebdriverError, format!("cannot set up TLS: {e}")))?;
        builder.capabilities(caps);
        // A grid URL may carry credentials: no message shows them.
        let scrub = |p: Problem| Problem::new(p.reason, crate::redact::scrub_url(&p.message, url));
        let client = match tokio::time::timeout_at(deadline, builder.connect(url)).await {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => return Err(scrub(classify_new_session(&e, url))),
            Err(_) => {
                return Err(scrub(Problem::new(
                    Reason::WebdriverTimeout,
                    format!("the WebDriver server at {url} did not open a session in time"),
                )));
            }
        };
        let id = match tokio::time::timeout_at(deadline, client.session_id()).await {
            Ok(Ok(Some(id))) => id,
            _ => String::new(),
        };
        Ok(Session {
            engine,
            client,
            id,
            url: url.to_string(),
            origins: Default::default(),
            limit,
            clock: Clock::default(),
            document: Mutex::new(None),
            no_mouse_input: std::sync::atomic::AtomicBool::new(!engine.devtools()),
        })
    }

    /// The browser this session drives.
    pub fn engine(&self) -> &'static dyn Engine {
        self.engine
    }

    /// Move the instant no command may outlive (a pooled session serves many runs).
    pub fn set_limit(&mut self, limit: Instant) {
        self.limit = limit;
    }

    /// Remember the origin of a page the session showed (http and https only).
    pub fn saw(&self, url: &str) {
        if let Ok(u) = url::Url::parse(url)
            && matches!(u.scheme(), "http" | "https")
            && let Ok(mut o) = self.origins.lock()
        {
            o.insert(u.origin().ascii_serialization());
        }
    }

    /// The origins seen so far, forgetting them.
    pub fn take_origins(&self) -> Vec<String> {
        self.origins
            .lock()
            .map(|mut o| std::mem::take(&mut *o).into_iter().collect())
            .unwrap_or_default()
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Run one WebDriver command under `deadline` (+ [`GRACE`], never past the limit).
    pub async fn call<T, F>(&self, deadline: Instant, what: &str, fut: F) -> Result<T, Classified>
    where
        F: Future<Output = Result<T, CmdError>>,
    {
        self.bounded(deadline, what, false, fut).await
    }

    /// Like [`call`](Self::call), for a command that may navigate (goto, click, keys, an
    /// option): the driver's own timeout on it is the page not loading in time.
    pub async fn call_navigating<T, F>(
        &self,
        deadline: Instant,
        what: &str,
        fut: F,
    ) -> Result<T, Classified>
    where
        F: Future<Output = Result<T, CmdError>>,
    {
        self.bounded(deadline, what, true, fut).await
    }

    /// Nanoseconds spent waiting on the WebDriver server, and in auto-wait pauses, so far.
    pub fn clock(&self) -> (u64, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        (
            self.clock.webdriver.load(Relaxed),
            self.clock.paused.load(Relaxed),
        )
    }

    /// An auto-wait pause (counted apart from the prober's own time).
    pub async fn pause(&self, d: Duration) {
        let t = std::time::Instant::now();
        tokio::time::sleep(d).await;
        self.clock.add_paused(t.elapsed());
    }

    async fn bounded<T, F>(
        &self,
        deadline: Instant,
        what: &str,
        navigating: bool,
        fut: F,
    ) -> Result<T, Classified>
    where
        F: Future<Output = Result<T, CmdError>>,
    {
        let started = std::time::Instant::now();
        let answered = tokio::time::timeout_at((deadline + GRACE).min(self.limit), fut).await;
        self.clock.add_webdriver(started.elapsed());
        match answered {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(classify_cmd(&e, what, navigating)),
            Err(_) => Err(Classified {
                problem: Problem::new(
                    Reason::WebdriverTimeout,
                    format!("{what}: the WebDriver server did not answer in time"),
                ),
                retryable: false,
            }),
        }
    }

    /// Set the driver's page-load timeout (bounds goto and navigating clicks).
    pub async fn set_page_load_timeout(
        &self,
        deadline: Instant,
        timeout: Duration,
    ) -> Result<(), Classified> {
        let t = TimeoutConfiguration::new(None, Some(timeout.max(Duration::from_millis(1))), None);
        self.call(
            deadline,
            "set page-load timeout",
            self.client.update_timeouts(t),
        )
        .await
    }

    /// Is the WebDriver server itself answering (`GET /status` within a second)? When one of
    /// this session's commands is stuck behind a page that is still loading, it is.
    pub async fn driver_alive(&self) -> bool {
        super::supervisor::status(&self.url).await.is_ok()
    }

    /// Set the driver's script timeout (bounds an asynchronous script, and a script waiting
    /// for a navigation in progress).
    pub async fn set_script_timeout(
        &self,
        deadline: Instant,
        timeout: Duration,
    ) -> Result<(), Classified> {
        let t = TimeoutConfiguration::new(Some(timeout.max(Duration::from_millis(1))), None, None);
        self.call(
            deadline,
            "set script timeout",
            self.client.update_timeouts(t),
        )
        .await
    }

    /// Turn an element reference returned by a script into an element we can act on.
    pub fn element(&self, v: &Value) -> Option<Element> {
        let id = v.get(ELEMENT_KEY)?.as_str()?;
        Some(Element::from_element_id(
            self.client.clone(),
            ElementRef::from(id.to_string()),
        ))
    }

    /// Close the session. The caller keeps this error beside the run's outcome.
    pub async fn close(self, deadline: Instant) -> Result<(), Problem> {
        match tokio::time::timeout_at(deadline, self.client.close()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(classify_cmd(&e, "close session", false).problem),
            Err(_) => Err(Problem::new(
                Reason::WebdriverTimeout,
                "closing the session did not finish in time",
            )),
        }
    }
}
