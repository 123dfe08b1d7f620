//! Chrome DevTools through chromedriver's passthrough (`goog/cdp/execute`): text insertion
//! for a fill and mouse input for a click. A WebDriver server without it refuses, and the
//! steps fall back to plain WebDriver.

use serde_json::{Value, json};
use tokio::time::Instant;

use super::Session;
use super::page::Point;
use crate::browser::classify::Classified;
use crate::outcome::{Problem, Reason};

impl Session {
    /// A Chrome DevTools Protocol command through chromedriver
    /// (`POST /session/{id}/goog/cdp/execute`).
    pub async fn cdp(
        &self,
        deadline: Instant,
        cmd: &'static str,
        params: Value,
    ) -> Result<Value, Classified> {
        if !self.engine.devtools() {
            // Not asked: the driver has no such route (geckodriver answers 405).
            return Err(Classified {
                problem: Problem::new(
                    Reason::WebdriverError,
                    format!("{cmd}: {} has no Chrome DevTools", self.engine.kind()),
                ),
                retryable: false,
            });
        }
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
