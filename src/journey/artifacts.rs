//! What a run leaves behind: named screenshots, and on failure or error a screenshot, the
//! page HTML, the current URL, the browser console log and the step timeline.
//!
//! Layout: `<artifacts>/<journey>/<started-at>/…`. Secrets are masked inside the page
//! before the screenshot and HTML are taken, and every text file is redacted again on write.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use fantoccini::wd::WebDriverCompatibleCommand;
use serde_json::json;
use tokio::time::Instant;

use crate::browser::Session;
use crate::browser::classify::Classified;
use crate::browser::scripts;
use crate::redact::Redactor;

pub struct RunArtifacts {
    base: Option<PathBuf>,
    dir: Option<PathBuf>,
    journey: String,
    stamp: String,
    redactor: Redactor,
    pub files: Vec<PathBuf>,
}

impl RunArtifacts {
    /// `base` None keeps nothing (artifacts disabled).
    pub fn new(
        base: Option<&Path>,
        journey: &str,
        started: SystemTime,
        redactor: Redactor,
    ) -> Self {
        let stamp = humantime::format_rfc3339_millis(started)
            .to_string()
            .replace(':', "");
        RunArtifacts {
            base: base.map(Path::to_path_buf),
            dir: None,
            journey: journey.to_string(),
            stamp,
            redactor,
            files: Vec::new(),
        }
    }

    fn dir(&mut self) -> std::io::Result<PathBuf> {
        if let Some(d) = &self.dir {
            return Ok(d.clone());
        }
        let Some(base) = &self.base else {
            return Err(std::io::Error::other("artifacts are disabled"));
        };
        let mut dir = base.join(&self.journey).join(&self.stamp);
        let mut n = 1;
        while dir.exists() {
            n += 1;
            dir = base.join(&self.journey).join(format!("{}-{n}", self.stamp));
        }
        std::fs::create_dir_all(&dir)?;
        self.dir = Some(dir.clone());
        Ok(dir)
    }

    /// Where an artifact called `name` goes (creates the run's folder).
    pub fn path(&mut self, name: &str) -> std::io::Result<PathBuf> {
        Ok(self.dir()?.join(name))
    }

    /// Write bytes as they are (images).
    pub fn write(&mut self, name: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
        let path = self.path(name)?;
        std::fs::write(&path, bytes)?;
        self.files.push(path.clone());
        Ok(path)
    }

    /// Write text, redacted.
    pub fn write_text(&mut self, name: &str, text: &str) -> std::io::Result<PathBuf> {
        let clean = self.redactor.redact(text);
        self.write(name, clean.as_bytes())
    }

    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    pub fn enabled(&self) -> bool {
        self.base.is_some()
    }
}

/// Mask secrets in the page, take a screenshot, then put the page back as it was: the
/// journey goes on after a named screenshot and must find its form fields untouched.
pub async fn masked_screenshot(
    session: &Session,
    deadline: Instant,
    redactor: &Redactor,
) -> Result<Vec<u8>, Classified> {
    mask(session, deadline, redactor).await?;
    let png = session
        .call(deadline, "screenshot", session.client().screenshot())
        .await;
    if !redactor.secrets().is_empty() {
        let unmask = session.client().execute(scripts::UNMASK_SECRETS, vec![]);
        session.call(deadline, "unmask secrets", unmask).await?;
    }
    png
}

async fn mask(session: &Session, deadline: Instant, redactor: &Redactor) -> Result<(), Classified> {
    if redactor.secrets().is_empty() {
        return Ok(());
    }
    let args = vec![json!(redactor.secrets())];
    session
        .call(
            deadline,
            "mask secrets",
            session.client().execute(scripts::MASK_SECRETS, args),
        )
        .await
        .map(|_| ())
}

/// Capture what the browser shows after a failure. Best effort: each capture that fails is
/// logged and skipped, so one broken piece never hides the others.
pub async fn capture_failure(session: &Session, deadline: Instant, arts: &mut RunArtifacts) {
    if !arts.enabled() {
        return;
    }
    let redactor = arts.redactor.clone();
    if let Err(c) = mask(session, deadline, &redactor).await {
        // Without masking, a screenshot could show a secret typed into a text field.
        tracing::warn!(
            "not keeping screenshot or HTML: masking secrets failed: {}",
            redactor.redact(&c.problem.message)
        );
        return;
    }
    let client = session.client();
    match session
        .call(deadline, "screenshot", client.screenshot())
        .await
    {
        Ok(png) => keep(arts.write("screenshot.png", &png), "screenshot"),
        Err(c) => skip("screenshot", &c, &redactor),
    }
    match session.call(deadline, "page source", client.source()).await {
        Ok(html) => keep(arts.write_text("page.html", &html), "page HTML"),
        Err(c) => skip("page HTML", &c, &redactor),
    }
    match session
        .call(deadline, "current url", client.current_url())
        .await
    {
        Ok(url) => keep(arts.write_text("url.txt", &format!("{url}\n")), "url"),
        Err(c) => skip("url", &c, &redactor),
    }
    // Console logs are a chromedriver extension; other drivers may not offer them.
    let short = deadline.min(Instant::now() + Duration::from_secs(2));
    if let Ok(Some(id)) = session.call(short, "session id", client.session_id()).await
        && let Ok(log) = session
            .call(short, "console log", client.issue_cmd(BrowserLog(id)))
            .await
    {
        let text = serde_json::to_string_pretty(&log).unwrap_or_default();
        keep(arts.write_text("console.json", &text), "console log");
    }
}

fn keep(r: std::io::Result<PathBuf>, what: &str) {
    if let Err(e) = r {
        tracing::warn!("cannot write {what} artifact: {e}");
    }
}

fn skip(what: &str, c: &Classified, redactor: &Redactor) {
    tracing::debug!(
        "no {what} artifact: {}",
        redactor.redact(&c.problem.message)
    );
}

/// chromedriver's `POST /session/{id}/se/log` with `{"type": "browser"}`.
#[derive(Debug)]
struct BrowserLog(String);

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base_url: &url::Url,
        _session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!("session/{}/se/log", self.0))
    }

    fn method_and_body(&self, _url: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(r#"{"type":"browser"}"#.to_string()),
        )
    }
}
