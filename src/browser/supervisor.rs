//! A long-lived WebDriver for `serve`: either a URL given by the user (a Selenium Grid, a
//! remote chromedriver), or a chromedriver we start, watch, and start again when it died.
//!
//! A run that was using a chromedriver when it died ends in `error` (the prober's fault);
//! the next run gets a fresh chromedriver. The dead one's browsers are killed when the last
//! run holding it lets go (its `Drop` kills the process group and the profile folders'
//! users).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;

use super::driver::{ManagedDriver, find_chromedriver, find_chromium};
use crate::outcome::Problem;

/// Where a run's browser session comes from.
pub struct Lease {
    pub url: String,
    /// The managed chromedriver, held for the run so it outlives the run's session.
    pub driver: Option<Arc<ManagedDriver>>,
    pub browser_binary: Option<PathBuf>,
}

pub enum Supervisor {
    External(String),
    Managed(Mutex<Option<Arc<ManagedDriver>>>),
}

impl Supervisor {
    pub fn new(webdriver: Option<String>) -> Supervisor {
        match webdriver {
            Some(url) => Supervisor::External(url),
            None => Supervisor::Managed(Mutex::new(None)),
        }
    }

    /// A WebDriver for one run, starting chromedriver if none is alive.
    pub async fn lease(&self) -> Result<Lease, Problem> {
        match self {
            Supervisor::External(url) => Ok(Lease {
                url: url.clone(),
                driver: None,
                browser_binary: None,
            }),
            Supervisor::Managed(slot) => {
                let mut slot = slot.lock().await;
                if let Some(d) = slot.as_ref()
                    && !d.has_exited()
                {
                    return Ok(lease_of(d.clone()));
                }
                if slot.take().is_some() {
                    tracing::warn!("chromedriver exited; starting a new one");
                }
                let d = Arc::new(ManagedDriver::start(&find_chromedriver()?).await?);
                tracing::info!(url = d.url(), "chromedriver started");
                *slot = Some(d.clone());
                Ok(lease_of(d))
            }
        }
    }

    /// Is the WebDriver there? A managed one must be alive (or startable: not yet
    /// started counts as ready only if chromedriver can be found); an external one must
    /// answer `GET /status` within a second.
    pub async fn ready(&self) -> Result<(), String> {
        match self {
            Supervisor::External(url) => status(url).await,
            // Never wait behind a chromedriver that is starting: a probe must answer at once.
            Supervisor::Managed(slot) => match slot.try_lock() {
                Err(_) => Err("chromedriver is starting".into()),
                Ok(guard) => match guard.as_ref() {
                    Some(d) if !d.has_exited() => Ok(()),
                    Some(_) => {
                        Err("chromedriver exited; a new one starts with the next run".into())
                    }
                    None => find_chromedriver().map(|_| ()).map_err(|p| p.message),
                },
            },
        }
    }

    /// Stop the managed chromedriver and every browser it started.
    pub async fn stop(&self) {
        let Supervisor::Managed(slot) = self else {
            return;
        };
        let Some(d) = slot.lock().await.take() else {
            return;
        };
        match Arc::try_unwrap(d) {
            Ok(d) => d.stop().await,
            // A run still holds it (it was cancelled and is closing): kill outright.
            Err(shared) => shared.kill_handle().kill_now(),
        }
    }

    /// PID of the managed chromedriver, if one runs (tests kill it).
    pub async fn pid(&self) -> Option<u32> {
        match self {
            Supervisor::External(_) => None,
            Supervisor::Managed(slot) => slot.lock().await.as_ref().and_then(|d| d.pid()),
        }
    }
}

fn lease_of(d: Arc<ManagedDriver>) -> Lease {
    Lease {
        url: d.url().to_string(),
        driver: Some(d),
        browser_binary: find_chromium(),
    }
}

/// `GET {url}/status`, answered with any 2xx within a second (http or https; credentials
/// in the URL are never shown).
pub async fn status(url: &str) -> Result<(), String> {
    let shown = crate::redact::without_credentials(url);
    let target = url::Url::parse(&format!("{}/status", url.trim_end_matches('/')))
        .map_err(|e| format!("bad WebDriver URL {shown}: {e}"))?;
    let sent = crate::check::http::request(
        &target,
        http::Method::GET,
        &[],
        None,
        Duration::from_secs(1),
    )
    .await;
    match sent {
        Ok((status, _)) if (200..300).contains(&status) => Ok(()),
        Ok((status, _)) => Err(format!("WebDriver at {shown} answered {status}")),
        Err(p) => Err(crate::redact::scrub_url(
            &format!("cannot reach WebDriver at {shown}: {}", p.message),
            url,
        )),
    }
}
