//! Reading the page: one in-page probe for where things are ([`Session::probe`]), and the
//! Navigation Timing of a document once it has loaded ([`Session::page_timings`]).

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};
use tokio::time::Instant;

use super::Session;
use crate::browser::classify::Classified;
use crate::browser::scripts;
use crate::config::Locator;
use crate::outcome::{Problem, Reason};
use crate::result::PageTimings;

/// Longest the page-timings script waits for buffered LCP entries.
const LCP_WAIT_MS: u64 = 100;

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
