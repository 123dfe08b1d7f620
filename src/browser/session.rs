//! One WebDriver session with deadlines on everything.
//!
//! fantoccini has no timeout of its own, so every command goes through [`Session::call`],
//! which bounds it by the caller's deadline plus a short grace (letting the driver's own
//! page-load timeout answer first, with a more precise reason). A command still unanswered
//! after that is a prober fault: `webdriver_timeout`.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use fantoccini::elements::{Element, ElementRef};
use fantoccini::error::CmdError;
use fantoccini::wd::{Capabilities, TimeoutConfiguration};
use fantoccini::{Client, ClientBuilder};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::time::Instant;

use super::classify::{Classified, classify_cmd, classify_new_session};
use super::scripts;
use crate::config::Locator;
use crate::outcome::{Problem, Reason};
use crate::result::PageTimings;

/// The driver's script timeout outside a step's wait for its page (the W3C default).
pub const SCRIPT_TIMEOUT: Duration = Duration::from_secs(30);

/// Extra time a command gets past its deadline before we give up on the driver.
pub const GRACE: Duration = Duration::from_secs(2);

/// Longest the page-timings script waits for buffered LCP entries.
const LCP_WAIT_MS: u64 = 100;

/// W3C key under which an element reference travels in JSON.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Flags that make headless Chromium start fast and stay quiet on a closed network.
pub const CHROMIUM_ARGS: &[&str] = &[
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
    "--window-size=1280,800",
];

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

/// What the browser should look like.
#[derive(Clone, Debug, Default)]
pub struct BrowserOptions {
    /// Browser binary to use (managed driver only; a remote grid picks its own).
    pub binary: Option<PathBuf>,
    /// A fresh, throw-away profile folder (managed driver only).
    pub profile_dir: Option<PathBuf>,
    /// A visible window (`run --headed`) instead of headless.
    pub headed: bool,
}

/// Capabilities for a Chromium session.
pub fn capabilities(opts: &BrowserOptions) -> Capabilities {
    let mut args: Vec<String> = CHROMIUM_ARGS
        .iter()
        .filter(|a| !(opts.headed && a.starts_with("--headless")))
        .map(|s| s.to_string())
        .collect();
    if let Some(dir) = &opts.profile_dir {
        args.push(format!("--user-data-dir={}", dir.display()));
    }
    let mut chrome = json!({
        "args": args,
        // A fresh Debian profile stalls 1–5 s on its first navigation resolving its default
        // search engine (it waits for a network timeout); a local provider removes the stall:
        // first goto measured ~1.2 s without it, ~0.24 s with it.
        "prefs": {
            "default_search_provider_data": {
                "template_url_data": {
                    "keyword": "x",
                    "short_name": "x",
                    "url": "http://127.0.0.1:1/?q={searchTerms}"
                }
            }
        }
    });
    if let Some(bin) = &opts.binary {
        chrome["binary"] = json!(bin.display().to_string());
    }
    let caps = json!({
        "browserName": "chrome",
        "goog:chromeOptions": chrome,
        "goog:loggingPrefs": { "browser": "ALL" },
        "pageLoadStrategy": "normal",
        "unhandledPromptBehavior": "dismiss and notify",
    });
    match caps {
        Value::Object(m) => m,
        _ => unreachable!("capabilities literal is an object"),
    }
}

/// Facts about the page, and the element a locator found, from one [`scripts::PROBE`].
#[derive(Debug, Deserialize)]
pub struct PageProbe {
    pub href: String,
    pub title: String,
    pub status: u16,
    pub text_found: Option<bool>,
    #[serde(rename = "match")]
    pub found: Option<Found>,
    pub invalid: Option<String>,
    /// Names the current document (`performance.timeOrigin`).
    #[serde(default)]
    pub origin: Option<String>,
    /// Chromium's network error code (`ERR_CONNECTION_REFUSED`) when it shows its error page.
    pub net_error: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Found {
    pub count: usize,
    pub el: Value,
    pub visible: bool,
    pub enabled: bool,
    pub text: String,
    /// Focused with its text selected (asked for, and a text field).
    #[serde(default)]
    pub focused: bool,
    /// Where a mouse click lands on it (asked for, and hit-tested there).
    #[serde(default)]
    pub point: Option<Point>,
    /// Scrolled into view by this probe (asked for a point): look again before clicking.
    #[serde(default)]
    pub scrolled: bool,
}

/// A point in CSS pixels of the top-level viewport.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
pub struct Point {
    pub x: f64,
    pub y: f64,
}

/// What a probe readies the element it finds for (see [`scripts::PROBE`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prepare {
    Nothing,
    /// Focus a text field and select its text, for a fill.
    Focus,
    /// Find where a click lands on it, for a click.
    Point,
}

impl Prepare {
    fn arg(self) -> Value {
        match self {
            Prepare::Nothing => Value::Null,
            Prepare::Focus => json!("focus"),
            Prepare::Point => json!("point"),
        }
    }
}

pub struct Session {
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

/// The reply of [`scripts::PAGE_TIMINGS`].
#[derive(Deserialize)]
struct TimingsReply {
    origin: String,
    nav: Option<NavReply>,
}

#[derive(Deserialize)]
struct NavReply {
    ttfb: Option<f64>,
    dcl: Option<f64>,
    load: Option<f64>,
    lcp: Option<f64>,
}

impl Session {
    /// Open a session, giving up at `deadline`. No later command runs past `limit`.
    pub async fn start(
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
            client,
            id,
            url: url.to_string(),
            origins: Default::default(),
            limit,
            clock: Clock::default(),
            document: Mutex::new(None),
            no_mouse_input: Default::default(),
        })
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

    /// A Chrome DevTools Protocol command through chromedriver
    /// (`POST /session/{id}/goog/cdp/execute`).
    pub async fn cdp(
        &self,
        deadline: Instant,
        cmd: &'static str,
        params: Value,
    ) -> Result<Value, Classified> {
        self.call(
            deadline,
            cmd,
            self.client.issue_cmd(self.cdp_command(cmd, params)),
        )
        .await
    }

    /// A left click at `at` as Chromium's input pipeline sees a user's (mouse moved, pressed,
    /// released), through Chrome DevTools: what chromedriver's element click does after its
    /// own location checks, which cost ~45 ms a click and which the probe that found `at`
    /// already made. `Ok(false)`: the WebDriver server refused the passthrough (not
    /// chromedriver), nothing was clicked, and the session does not ask again. A navigation
    /// the click starts is bounded like a WebDriver click's. Once the button is pressed, no
    /// error is retryable: a retry would press it again (a form sent twice).
    pub async fn click_at(
        &self,
        deadline: Instant,
        what: &str,
        at: Point,
    ) -> Result<bool, Classified> {
        use std::sync::atomic::Ordering;
        if self.no_mouse_input.load(Ordering::Relaxed) {
            return Ok(false);
        }
        let event = |kind: &str, button: &str, buttons: u8| {
            json!({
                "type": kind, "x": at.x, "y": at.y, "button": button, "buttons": buttons,
                "clickCount": 1, "pointerType": "mouse",
            })
        };
        let moved = event("mouseMoved", "none", 0);
        if let Err(c) = self.cdp(deadline, "Input.dispatchMouseEvent", moved).await {
            // A refusal, not the step's time running out or the driver going away.
            if c.problem.reason == Reason::WebdriverError && Instant::now() < deadline {
                self.no_mouse_input.store(true, Ordering::Relaxed);
            }
            return Ok(false);
        }
        for e in [
            event("mousePressed", "left", 1),
            event("mouseReleased", "left", 0),
        ] {
            let c = self.cdp_command("Input.dispatchMouseEvent", e);
            self.call_navigating(deadline, what, self.client.issue_cmd(c))
                .await
                .map_err(|c| Classified {
                    retryable: false,
                    ..c
                })?;
        }
        Ok(true)
    }

    fn cdp_command(&self, cmd: &'static str, params: Value) -> Cdp {
        Cdp {
            session: self.id.clone(),
            cmd,
            params,
        }
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

    /// Ask the page where things are. `locator` finds an element, `needle` searches text,
    /// `prepare` readies the element for a fill or a click (see [`scripts::PROBE`]).
    pub async fn probe(
        &self,
        deadline: Instant,
        what: &str,
        locator: Option<&Locator>,
        needle: Option<&str>,
        prepare: Prepare,
    ) -> Result<PageProbe, Classified> {
        let (strategy, expr) = match locator {
            Some(l) => {
                let (s, e) = l.parts();
                (json!(s), json!(e))
            }
            None => (Value::Null, Value::Null),
        };
        let args = vec![strategy, expr, json!(needle), prepare.arg()];
        let v = self
            .call(deadline, what, self.client.execute(scripts::PROBE, args))
            .await?;
        if let Some(href) = v.get("href").and_then(Value::as_str) {
            self.saw(href);
        }
        let p: PageProbe = serde_json::from_value(v).map_err(|e| Classified {
            problem: Problem::new(
                Reason::WebdriverError,
                format!("{what}: unexpected probe reply: {e}"),
            ),
            retryable: true,
        })?;
        if p.origin.is_some() {
            *self.document() = p.origin.clone();
        }
        Ok(p)
    }

    /// Forget the document last seen (a pooled session's reset replaced its tab).
    pub fn forget_document(&self) {
        *self.document() = None;
    }

    /// The document the last probe saw (`performance.timeOrigin`), if any.
    pub fn document_id(&self) -> Option<String> {
        self.document().clone()
    }

    fn document(&self) -> std::sync::MutexGuard<'_, Option<String>> {
        self.document.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Navigation Timing of the current document, if it is not the one seen last (`navigated`:
    /// whatever document is loaded). One `execute_async` round trip, plus up to
    /// [`LCP_WAIT_MS`] on a new document.
    ///
    /// chromedriver runs a script only once a navigation in progress has loaded, so after a
    /// click this read is also the wait for the page the click loads (a "navigating"
    /// command: the driver's timeout here is that page not loading in time). The script
    /// first lets the page's queued tasks run, so a form submission the click queued starts
    /// before it looks; a navigation that starts under it unloads the document, and the
    /// read starts again, now waiting for the new page.
    pub async fn page_timings(
        &self,
        deadline: Instant,
        navigated: bool,
    ) -> Result<Option<PageTimings>, Classified> {
        let v = loop {
            let seen = if navigated {
                None
            } else {
                self.document().clone()
            };
            let args = vec![json!(seen), json!(LCP_WAIT_MS)];
            let read = self.client.execute_async(scripts::PAGE_TIMINGS, args);
            match self
                .call_navigating(deadline, "wait for the page", read)
                .await
            {
                Ok(v) => break v,
                // A navigation unloaded the document under the script: chromedriver answers
                // a JavaScript error, or a script timeout long before the script's time
                // (seen in ~1 in 40 sign-in clicks on the fault lab). Read the new page.
                Err(c) if Instant::now() < deadline && early_end(&c) => {
                    self.pause(Duration::from_millis(5)).await;
                }
                Err(c) => return Err(c),
            }
        };
        let Ok(reply) = serde_json::from_value::<TimingsReply>(v) else {
            return Ok(None);
        };
        *self.document() = Some(reply.origin);
        let Some(n) = reply.nav else {
            return Ok(None);
        };
        let ms = |v: Option<f64>| v.filter(|v| v.is_finite() && *v >= 0.0).map(round_ms);
        let t = PageTimings {
            ttfb_ms: ms(n.ttfb),
            dom_content_loaded_ms: ms(n.dcl),
            load_ms: ms(n.load),
            lcp_ms: ms(n.lcp),
        };
        Ok((t != PageTimings::default()).then_some(t))
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

/// chromedriver's Chrome DevTools passthrough.
struct Cdp {
    session: String,
    cmd: &'static str,
    params: Value,
}

/// The parameters may hold a secret (the text a fill inserts): never shown.
impl std::fmt::Debug for Cdp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Cdp({})", self.cmd)
    }
}

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base_url: &url::Url,
        _session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!("session/{}/goog/cdp/execute", self.session))
    }

    fn method_and_body(&self, _url: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({ "cmd": self.cmd, "params": self.params });
        (http::Method::POST, Some(body.to_string()))
    }
}

/// A read of the page that ended because the page went away, not because time ran out.
fn early_end(c: &Classified) -> bool {
    c.retryable || c.problem.reason == Reason::StepTimeout
}

/// Milliseconds to a tenth.
fn round_ms(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use fantoccini::error::{CmdError, ErrorStatus, WebDriver};

    use super::*;
    use crate::browser::classify::classify_cmd;

    fn read_error(status: ErrorStatus) -> Classified {
        let e = CmdError::Standard(WebDriver::new(status, "from chromedriver"));
        classify_cmd(&e, "wait for the page", true)
    }

    #[test]
    fn a_read_cut_short_by_the_page_going_away_is_read_again() {
        // chromedriver's answers when a navigation unloads the document under the script.
        assert!(early_end(&read_error(ErrorStatus::ScriptTimeout)));
        assert!(early_end(&read_error(ErrorStatus::JavascriptError)));
        // The page did not load in time, or the session is gone: final.
        assert!(!early_end(&read_error(ErrorStatus::Timeout)));
        assert!(!early_end(&read_error(ErrorStatus::InvalidSessionId)));
    }
}
