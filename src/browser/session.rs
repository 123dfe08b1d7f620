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
}

pub struct Session {
    client: Client,
    /// No command outlives this instant, grace included: the run's own deadline minus the
    /// time kept to close the session.
    limit: Instant,
    /// The document the last probe or timings read saw (its `performance.timeOrigin`):
    /// a navigating step that leaves a different one loaded a new document.
    document: Mutex<Option<String>>,
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
        Ok(Session {
            client,
            limit,
            document: Mutex::new(None),
        })
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
        match tokio::time::timeout_at((deadline + GRACE).min(self.limit), fut).await {
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

    /// Ask the page where things are. `locator` finds an element, `needle` searches text.
    pub async fn probe(
        &self,
        deadline: Instant,
        what: &str,
        locator: Option<&Locator>,
        needle: Option<&str>,
    ) -> Result<PageProbe, Classified> {
        let (strategy, expr) = match locator {
            Some(l) => {
                let (s, e) = l.parts();
                (json!(s), json!(e))
            }
            None => (Value::Null, Value::Null),
        };
        let args = vec![strategy, expr, json!(needle)];
        let v = self
            .call(deadline, what, self.client.execute(scripts::PROBE, args))
            .await?;
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

    fn document(&self) -> std::sync::MutexGuard<'_, Option<String>> {
        self.document.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Navigation Timing of the current document, if it is not the one seen last (a step
    /// that `navigated` for sure, a goto, always gets them). One `execute_async` round trip,
    /// plus up to [`LCP_WAIT_MS`] on a new document. Never an error: a read that fails or
    /// takes longer than `budget` just has no timings.
    pub async fn page_timings(&self, budget: Duration, navigated: bool) -> Option<PageTimings> {
        let seen = if navigated {
            None
        } else {
            self.document().clone()
        };
        let args = vec![json!(seen), json!(LCP_WAIT_MS)];
        let by = (Instant::now() + budget).min(self.limit);
        let read = self.call(
            by,
            "read page timings",
            self.client.execute_async(scripts::PAGE_TIMINGS, args),
        );
        // `call` allows a grace past its deadline; this read gets none.
        let v = match tokio::time::timeout_at(by, read).await {
            Ok(Ok(v)) => v,
            Ok(Err(c)) => {
                tracing::debug!("no page timings: {}", c.problem.message);
                return None;
            }
            Err(_) => {
                tracing::debug!("no page timings: the read took longer than {budget:?}");
                return None;
            }
        };
        let reply: TimingsReply = serde_json::from_value(v).ok()?;
        *self.document() = Some(reply.origin);
        let n = reply.nav?;
        let ms = |v: Option<f64>| v.filter(|v| v.is_finite() && *v >= 0.0).map(round_ms);
        let t = PageTimings {
            ttfb_ms: ms(n.ttfb),
            dom_content_loaded_ms: ms(n.dcl),
            load_ms: ms(n.load),
            lcp_ms: ms(n.lcp),
        };
        (t != PageTimings::default()).then_some(t)
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

/// Milliseconds to a tenth.
fn round_ms(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}
