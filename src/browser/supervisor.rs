//! The WebDriver runs get their browser sessions from: either a URL given by the user (a
//! Selenium Grid, a remote chromedriver), or a chromedriver we start, watch, and start again
//! when it died. `run` and `serve` share it.
//!
//! A managed chromedriver serves every Chromium session. geckodriver serves one session per
//! process, so a Firefox run gets a geckodriver of its own, which ends with its session.
//!
//! A run that was using a chromedriver when it died ends in `error` (the prober's fault);
//! the next attempt gets a fresh chromedriver. After an attempt that errored, a chromedriver
//! that no longer answers `/status` counts as dead too: a killed process closes its sockets
//! a moment before it can be reaped, and a hung one would fail every run after it. A dead
//! one is killed with its browsers at once.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::Mutex;

use super::driver::{KillSwitch, ManagedDriver, find_chromedriver};
use super::engine::{BrowserKind, find_driver};
use crate::outcome::{Outcome, Problem, Reason};
use crate::result::RunResult;

/// Why the WebDriver is not ready (`/readyz` says it after "not ready: "). A URL in it is
/// shown without its credentials.
#[derive(Debug, thiserror::Error)]
pub enum NotReady {
    #[error("bad WebDriver URL {shown}: {source}")]
    BadUrl {
        shown: String,
        source: url::ParseError,
    },
    #[error("WebDriver at {shown} answered {status}")]
    Status { shown: String, status: u16 },
    #[error("cannot reach WebDriver at {shown}: {message}")]
    Unreachable {
        shown: String,
        reason: Reason,
        /// Scrubbed of the URL's credentials.
        message: String,
    },
    #[error("chromedriver is starting")]
    Starting,
    #[error("chromedriver exited; a new one starts with the next run")]
    Exited,
    /// No chromedriver to start: the finder's message.
    #[error("{}", .0.message)]
    NoDriver(Problem),
}

/// Where a run's browser session comes from.
pub struct Lease {
    pub url: String,
    /// The managed chromedriver, held for the run so it outlives the run's session.
    pub driver: Option<Arc<ManagedDriver>>,
    pub browser_binary: Option<PathBuf>,
}

enum Source {
    External(String),
    Managed(Mutex<Option<Arc<ManagedDriver>>>),
}

pub struct Supervisor {
    source: Source,
    /// The last run through this driver ended in `error`: make sure it answers first.
    suspect: AtomicBool,
    /// Holds the running chromedriver's kill handle, for whoever must kill it without
    /// waiting (a second Ctrl-C).
    switch: KillSwitch,
}

impl Supervisor {
    pub fn new(webdriver: Option<String>) -> Supervisor {
        Supervisor {
            source: match webdriver {
                Some(url) => Source::External(url),
                None => Source::Managed(Mutex::new(None)),
            },
            suspect: AtomicBool::new(false),
            switch: KillSwitch::default(),
        }
    }

    /// Keep `switch` armed with the managed chromedriver of the moment.
    pub fn with_kill_switch(mut self, switch: KillSwitch) -> Supervisor {
        self.switch = switch;
        self
    }

    /// A WebDriver for one attempt of a `browser` journey, starting chromedriver if none is
    /// alive (or a geckodriver of the run's own). `after_error` (the attempt before this one
    /// errored) makes it check that a running chromedriver answers.
    pub async fn lease(&self, browser: BrowserKind, after_error: bool) -> Result<Lease, Problem> {
        let engine = browser.engine();
        match &self.source {
            Source::External(url) => Ok(Lease {
                url: url.clone(),
                driver: None,
                browser_binary: None,
            }),
            Source::Managed(_) if engine.sessions_per_driver() == Some(1) => {
                let mut d = ManagedDriver::start_engine(engine, &find_driver(engine)?).await?;
                tracing::debug!(url = d.url(), "{} started", engine.driver().name);
                d.arm(&self.switch);
                Ok(lease_of(Arc::new(d)))
            }
            Source::Managed(slot) => {
                let suspect = self.suspect.swap(false, Ordering::Relaxed) || after_error;
                let mut slot = slot.lock().await;
                if let Some(d) = slot.as_ref()
                    && !d.has_exited()
                    && !(suspect && status(d.url()).await.is_err())
                {
                    return Ok(lease_of(d.clone()));
                }
                if let Some(dead) = slot.take() {
                    tracing::warn!("chromedriver exited; starting a new one");
                    // Its browsers are lost with it: the runs still on them end in `error`.
                    let handle = dead.kill_handle();
                    handle.kill_now();
                    self.switch.disarm(handle.pgid());
                }
                let mut d = ManagedDriver::start_engine(engine, &find_driver(engine)?).await?;
                tracing::info!(url = d.url(), "chromedriver started");
                d.arm(&self.switch);
                let d = Arc::new(d);
                *slot = Some(d.clone());
                Ok(lease_of(d))
            }
        }
    }

    /// Start `browser` once, off any run's clock: a driver, a session with a fresh profile,
    /// a blank page, closed again. A browser's first start on a machine (font cache, shared
    /// libraries read from disk, GPU and sandbox probing) takes several times longer than
    /// the next ones; `serve` does this before its first runs so that start is not
    /// charged to a journey. How long it took, or why it could not.
    pub async fn warm_up(
        &self,
        browser: BrowserKind,
        limit: Duration,
    ) -> Result<Duration, Problem> {
        let started = tokio::time::Instant::now();
        let deadline = started + limit;
        let lease = tokio::time::timeout_at(deadline, self.lease(browser, false))
            .await
            .map_err(|_| {
                Problem::new(
                    Reason::DriverStartFailed,
                    "the driver did not start in time",
                )
            })??;
        let engine = browser.engine();
        let opts = super::BrowserOptions::for_session(
            engine,
            lease.driver.as_deref(),
            lease.browser_binary.clone(),
            false,
        );
        let profile = opts.profile_dir.clone();
        let opened = super::Session::start_for(
            engine,
            &lease.url,
            engine.capabilities(&opts),
            deadline,
            deadline + super::session::GRACE,
        )
        .await;
        let result = match opened {
            Ok(session) => {
                let blank = session.client().goto("about:blank");
                let _ = session.call(deadline, "warm-up page", blank).await;
                let _ = session.close(deadline + super::session::GRACE).await;
                Ok(started.elapsed())
            }
            Err(p) => Err(p),
        };
        if let Some(dir) = profile {
            super::driver::remove_profile(&dir);
        }
        result
    }

    /// Note how an attempt through this driver ended (an `error` makes the chromedriver
    /// suspect), and
    /// hand the result back.
    pub fn ended(&self, r: RunResult) -> RunResult {
        if r.outcome == Outcome::Error {
            self.suspect.store(true, Ordering::Relaxed);
        }
        r
    }

    /// Is the WebDriver there? A managed one must be alive (or startable: not yet
    /// started counts as ready only if chromedriver can be found); an external one must
    /// answer `GET /status` within a second.
    /// A browser whose driver serves one session (Firefox) is ready when its driver can be
    /// found: each run starts its own.
    pub async fn ready(&self, browser: BrowserKind) -> Result<(), NotReady> {
        let engine = browser.engine();
        match &self.source {
            Source::External(url) => status(url).await,
            Source::Managed(_) if engine.sessions_per_driver() == Some(1) => {
                find_driver(engine).map(|_| ()).map_err(NotReady::NoDriver)
            }
            // Never wait behind a chromedriver that is starting: a probe must answer at once.
            Source::Managed(slot) => match slot.try_lock() {
                Err(_) => Err(NotReady::Starting),
                Ok(guard) => match guard.as_ref() {
                    Some(d) if !d.has_exited() => Ok(()),
                    Some(_) => Err(NotReady::Exited),
                    None => find_chromedriver().map(|_| ()).map_err(NotReady::NoDriver),
                },
            },
        }
    }

    /// Stop the managed chromedriver and every browser it started.
    pub async fn stop(&self) {
        let Source::Managed(slot) = &self.source else {
            return;
        };
        let Some(d) = slot.lock().await.take() else {
            return;
        };
        match Arc::try_unwrap(d) {
            Ok(d) => d.stop().await,
            // A run still holds it (it was cancelled and is closing): kill outright.
            Err(shared) => {
                let handle = shared.kill_handle();
                handle.kill_now();
                self.switch.disarm(handle.pgid());
            }
        }
    }

    /// PID of the managed chromedriver, if one runs (tests kill it).
    pub async fn pid(&self) -> Option<u32> {
        match &self.source {
            Source::External(_) => None,
            Source::Managed(slot) => slot.lock().await.as_ref().and_then(|d| d.pid()),
        }
    }
}

fn lease_of(d: Arc<ManagedDriver>) -> Lease {
    Lease {
        url: d.url().to_string(),
        browser_binary: d.engine().find_browser(),
        driver: Some(d),
    }
}

/// `GET {url}/status`, answered with any 2xx within a second (http or https). Credentials
/// in the URL (`https://user:pass@grid:4444`) are sent as HTTP basic auth, as a grid behind
/// a proxy that asks for them expects, and never shown.
pub async fn status(url: &str) -> Result<(), NotReady> {
    let shown = crate::redact::without_credentials(url);
    let mut target = match url::Url::parse(&format!("{}/status", url.trim_end_matches('/'))) {
        Ok(t) => t,
        Err(source) => return Err(NotReady::BadUrl { shown, source }),
    };
    let headers: Vec<_> = basic_auth(&mut target).into_iter().collect();
    let sent = crate::net::http::request(
        &target,
        http::Method::GET,
        &headers,
        None,
        Duration::from_secs(1),
    )
    .await;
    match sent {
        Ok((status, _)) if (200..300).contains(&status) => Ok(()),
        Ok((status, _)) => Err(NotReady::Status { shown, status }),
        Err(p) => Err(NotReady::Unreachable {
            shown,
            reason: p.reason,
            message: crate::redact::scrub_url(&p.message, url),
        }),
    }
}

/// Take the credentials out of `url` as an `Authorization: Basic …` header.
fn basic_auth(url: &mut url::Url) -> Option<(http::HeaderName, http::HeaderValue)> {
    use base64::Engine;
    if url.username().is_empty() && url.password().is_none() {
        return None;
    }
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    let pair = format!(
        "{}:{}",
        decode(url.username()),
        decode(url.password().unwrap_or(""))
    );
    let _ = url.set_username("");
    let _ = url.set_password(None);
    let token = base64::engine::general_purpose::STANDARD.encode(pair);
    let mut value = http::HeaderValue::from_str(&format!("Basic {token}")).ok()?;
    value.set_sensitive(true);
    Some((http::header::AUTHORIZATION, value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Write};

    /// A `/status` that answers 200 only to `Authorization: Basic am9lOnMzY3JldCE=`
    /// (`joe:s3cret!`), else 401; it serves `n` requests.
    fn grid_with_auth(n: usize) -> String {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming().take(n) {
                let mut stream = stream.unwrap();
                let reader = BufReader::new(stream.try_clone().unwrap());
                let mut authorized = false;
                for line in reader.lines() {
                    let line = line.unwrap();
                    if line.is_empty() {
                        break;
                    }
                    authorized |=
                        line.eq_ignore_ascii_case("authorization: Basic am9lOnMzY3JldCE=");
                }
                let status = if authorized {
                    "200 OK"
                } else {
                    "401 Unauthorized"
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{{}}"
                );
            }
        });
        addr.to_string()
    }

    #[tokio::test]
    async fn status_sends_the_url_credentials_as_basic_auth_and_never_shows_them() {
        let addr = grid_with_auth(2);
        // `!` percent-encoded in the URL, as a user writes it.
        let ok = status(&format!("http://joe:s3cret%21@{addr}")).await;
        assert!(ok.is_ok(), "{ok:?}");
        let refused = status(&format!("http://joe:wrong@{addr}"))
            .await
            .unwrap_err();
        assert!(
            matches!(&refused, NotReady::Status { status: 401, .. }),
            "{refused:?}"
        );
        let shown = refused.to_string();
        assert!(shown.contains("answered 401"), "{shown}");
        assert!(!shown.contains("wrong"), "{shown}");
    }
}
