//! The "fault lab": a small web site that breaks on demand.
//!
//! It is the test target for journeyprobe: integration tests drive it with a
//! real headless Chromium (through chromedriver), and `journeyprobe demo`
//! points journeys at it, to show that monitoring catches each kind of
//! breakage. It is a sign-in form, a dashboard behind it and a settings page:
//!
//! | route | what it does |
//! | --- | --- |
//! | `GET /` | 302 to `/login` |
//! | `GET /login` | sign-in form (`#username`, `#password`, `#submit`); `#remembered` says "Welcome back, {user}" once a dashboard was shown in this browser (local storage; " (this tab)" added from session storage), else "New visitor" |
//! | `POST /login` | form-urlencoded `username`, `password`: 303 to `/dashboard` with a `session` cookie; 401 + `#error` on bad credentials; 400 on a malformed form |
//! | `GET /dashboard` | `#welcome` "Welcome, {user}", `#region` select, `#search` box (Enter writes "Results for {query}" into `#results`), Settings link, `#logout`; without a session `#welcome` says "Please sign in" (still 200) |
//! | `POST /logout` | drops the session, 303 to `/login` |
//! | `GET /settings` | `#settings-title` "Settings" |
//! | `GET /contrast` | buttons whose colours are hard to judge, one covered, one outside the page (for `assert_visible`) |
//! | `GET /clicks` | `#far` below the fold, `#under` under `#overlay`, `#alerting` opens an alert: each writes the mouse events it received into `#events`; `#overlay-clicks` counts clicks on the overlay |
//! | `GET /static/app.css`, `GET /static/app.js` | the in-memory assets bucket |
//! | `GET /_faults` | current [`Faults`] as JSON |
//! | `POST /_faults` | JSON body replaces the faults (unknown field: 400), answers the new faults |
//! | `POST /_faults/reset` | all faults off |
//! | `GET /_lab` | where the lab's S3 and DNS servers listen (JSON), when it runs them |
//! | `GET /_lab/switches` | a page with every fault as a switch (posts to `/_faults`) |
//! | `GET /healthz` | `ok` |
//! | `GET /flaky` | 500 and 200 in turn, whatever the faults: a flaky route for retries |
//!
//! Anything else is a 404. Every HTML page is `text/html; charset=utf-8`.
//!
//! # Faults
//!
//! Each field of [`Faults`] simulates one class of production incident that a
//! synthetic browser journey should detect:
//!
//! - `login_500`: the back end behind the sign-in form crashes. `POST /login`
//!   answers 500 with an "Internal Server Error" page. Caught by status /
//!   text assertions after submitting the form.
//! - `unauthenticated_dashboard`: session handling is broken. Sign-in with good
//!   credentials still redirects to `/dashboard`, but no session is created,
//!   and while the fault is on the dashboard recognises nobody: it answers
//!   200 with `#welcome` saying "Please sign in". Status-code checks pass;
//!   only a content assertion ("Welcome") catches it.
//! - `invisible_submit`: a CSS regression. The submit button's text colour,
//!   its background and the card behind it are all `#ffffff` (contrast ratio
//!   1.0). The page works for a script but not for a person; caught by a
//!   contrast / visibility check on the button.
//! - `dashboard_404`: a routing mistake. `/dashboard` answers a plain 404
//!   "Not Found" page.
//! - `slow_ms`: a slow back end. Every response except `/_faults*` is delayed
//!   by this many milliseconds, so latency budgets and timeouts trip.
//! - `renamed_element`: a front-end refactor renamed an id the journey relies
//!   on: the welcome heading becomes `#welcome-banner`. Caught as a missing
//!   element; the case for helpful "did you mean" diagnostics.
//!
//! - `bucket_deleted`, `bucket_private`: the assets bucket on the lab's own S3 server
//!   (moto) is deleted, or loses its public-read policy. With the bundle served from there
//!   (`FaultLabOptions::backends`), the dashboard never shows `#welcome`; a `bucket` check
//!   names the cause.
//! - `dns_record` (`right`, `changed`, `removed`), `dns_stopped`: the lab's DNS server
//!   (dnsmasq) answers 127.0.0.2 or NXDOMAIN for `app.fault-lab.test`, or stops answering.
//!
//! Faults can be switched in process ([`FaultLab::set_faults`]) or over HTTP
//! (`/_faults`), which is how a separate `journeyprobe demo` process or a
//! shell script flips them.
//!
//! # Secrets
//!
//! The sign-in password ([`FaultLabOptions::password`]) stands for a secret:
//! it is never written into any response, log line or `Debug` output.
//!
//! # Example
//!
//! ```ignore
//! # async fn demo() -> std::io::Result<()> {
//! use journeyprobe::faultlab::{FaultLab, Faults};
//! let lab = FaultLab::start("127.0.0.1:0".parse().unwrap()).await?;
//! println!("open {}/login", lab.base_url());
//! lab.set_faults(Faults { login_500: true, ..Faults::default() });
//! lab.shutdown().await;
//! # Ok(())
//! # }
//! ```

pub mod backends;
mod pages;
mod routes;
#[cfg(test)]
mod tests;

use std::{
    collections::{HashMap, hash_map::RandomState},
    fmt,
    hash::{BuildHasher, Hasher},
    io,
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    sync::{
        Arc, Mutex, MutexGuard, PoisonError,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use axum::serve::ListenerExt;
use serde::{Deserialize, Serialize};
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

/// Password accepted by [`FaultLabOptions::default`].
pub use pages::DASHBOARD_JS;

pub const DEFAULT_PASSWORD: &str = "demo-password";

/// How long [`FaultLab::shutdown`] waits for in-flight requests before it
/// aborts the server task.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// At most this many live sessions are kept; beyond it an arbitrary old one is
/// dropped, so a long demo cannot grow memory without bound.
const MAX_SESSIONS: usize = 10_000;

/// Which failures the fault lab is currently simulating. All off by default.
///
/// The JSON form (`GET`/`POST /_faults`) has exactly these field names; a
/// missing field means "off", an unknown field is rejected.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
#[allow(clippy::struct_excessive_bools)] // one switch per fault, by design
pub struct Faults {
    /// `POST /login` answers 500 with an "Internal Server Error" page.
    pub login_500: bool,
    /// `POST /login` redirects to `/dashboard` without creating a session;
    /// the dashboard then says "Please sign in" (no "Welcome"), still 200.
    pub unauthenticated_dashboard: bool,
    /// The sign-in button is white text on a white background on a white
    /// card: contrast ratio 1.0.
    pub invisible_submit: bool,
    /// `/dashboard` is "misrouted": a 404 "Not Found" page.
    pub dashboard_404: bool,
    /// Every response except `/_faults*` is delayed by this many milliseconds.
    pub slow_ms: u64,
    /// The dashboard's welcome heading has id `welcome-banner` instead of
    /// `welcome`.
    pub renamed_element: bool,
    /// The assets bucket is deleted (needs the lab's S3 server): the dashboard's bundle
    /// is gone and `#welcome` never appears.
    pub bucket_deleted: bool,
    /// The assets bucket is private: anonymous reads of the bundle are refused.
    pub bucket_private: bool,
    /// What the lab's DNS server answers for [`backends::LAB_HOST`].
    pub dns_record: backends::DnsRecord,
    /// The lab's DNS server is stopped.
    pub dns_stopped: bool,
}

/// Settings for [`FaultLab::start_with`].
#[derive(Clone)]
pub struct FaultLabOptions {
    /// The password `POST /login` accepts (with any non-empty username).
    /// Default: [`DEFAULT_PASSWORD`].
    pub password: String,
    /// Where the dashboard's script lives: an S3 bucket URL such as
    /// `http://127.0.0.1:9000/assets`. When set, the dashboard's welcome heading is rendered
    /// by `dashboard.js` ([`DASHBOARD_JS`]) loaded from there, the way a single-page app
    /// loads its bundle from a bucket: delete the bucket and `#welcome` never appears.
    pub assets_url: Option<String>,
    /// Also start the lab's dependencies where their programs are installed: an S3 server
    /// (`moto_server`) holding the bundle, which then sets `assets_url`, and a DNS server
    /// (`dnsmasq`) for [`backends::LAB_HOST`]. Their faults switch them.
    pub backends: bool,
}

impl Default for FaultLabOptions {
    fn default() -> Self {
        FaultLabOptions {
            password: DEFAULT_PASSWORD.to_owned(),
            assets_url: None,
            backends: false,
        }
    }
}

impl fmt::Debug for FaultLabOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FaultLabOptions")
            .field("password", &"<redacted>")
            .field("assets_url", &self.assets_url)
            .finish()
    }
}

/// State shared by all handlers.
pub(crate) struct LabState {
    faults: Mutex<Faults>,
    /// Session token -> username.
    sessions: Mutex<HashMap<String, String>>,
    password: String,
    pub(crate) assets_url: Option<String>,
    /// Held across the switching of a fault, so switches apply one at a time.
    backends: tokio::sync::Mutex<Backends>,
    token_seq: AtomicU64,
    /// Requests to `/flaky` so far.
    pub(crate) flaky_seq: AtomicU64,
    token_keys: RandomState,
}

/// Locks a mutex, ignoring poisoning (the data stays usable: every critical
/// section here is a single assignment or map operation).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The lab's running dependencies, if started.
#[derive(Default)]
pub(crate) struct Backends {
    pub(crate) s3: Option<backends::S3Server>,
    pub(crate) dns: Option<backends::DnsServer>,
}

/// Why the lab's dependencies did not switch (`POST /_faults` answers 409 with it).
#[derive(Debug, thiserror::Error)]
pub enum SwitchError {
    #[error("this lab runs no S3 server (moto_server not installed?)")]
    NoS3,
    #[error("this lab runs no DNS server (dnsmasq not installed?)")]
    NoDns,
    #[error("switching the bucket: {0}")]
    Bucket(std::io::Error),
    #[error("switching DNS: {0}")]
    Dns(std::io::Error),
}

impl Backends {
    /// Bring the dependencies from the state `old` describes to the one `new` describes.
    /// On error, `reached` says which dependency state was actually reached.
    async fn apply(
        &mut self,
        old: &Faults,
        new: &Faults,
        reached: &mut Faults,
    ) -> Result<(), SwitchError> {
        let bucket = (new.bucket_deleted, new.bucket_private);
        if bucket != (old.bucket_deleted, old.bucket_private) {
            let s3 = self.s3.as_ref().ok_or(SwitchError::NoS3)?;
            let err = SwitchError::Bucket;
            if new.bucket_deleted && !old.bucket_deleted {
                // The bundle goes first: from here on, the bucket counts as deleted.
                reached.bucket_deleted = true;
                s3.delete_bucket().await.map_err(err)?;
            } else if !new.bucket_deleted {
                if old.bucket_deleted {
                    s3.restore().await.map_err(err)?;
                    reached.bucket_deleted = false;
                    reached.bucket_private = false;
                }
                s3.set_public(!new.bucket_private).await.map_err(err)?;
            }
            reached.bucket_deleted = new.bucket_deleted;
            reached.bucket_private = new.bucket_private;
        }
        let want = |f: &Faults| (!f.dns_stopped).then_some(f.dns_record);
        if want(new) != want(old) {
            let dns = self.dns.as_mut().ok_or(SwitchError::NoDns)?;
            let switched = dns.set(want(new)).await;
            if switched.is_err() {
                // The old server was stopped before the new one failed to start.
                reached.dns_stopped = true;
            }
            switched.map_err(SwitchError::Dns)?;
            reached.dns_record = new.dns_record;
            reached.dns_stopped = new.dns_stopped;
        }
        Ok(())
    }
}

impl LabState {
    fn new(options: FaultLabOptions, backends: Backends) -> Self {
        LabState {
            faults: Mutex::new(Faults::default()),
            sessions: Mutex::new(HashMap::new()),
            password: options.password,
            assets_url: options
                .assets_url
                .or(backends.s3.as_ref().map(|s| s.assets_url())),
            backends: tokio::sync::Mutex::new(backends),
            token_seq: AtomicU64::new(0),
            flaky_seq: AtomicU64::new(0),
            token_keys: RandomState::new(),
        }
    }

    /// A copy of the current faults.
    pub(crate) fn faults(&self) -> Faults {
        lock(&self.faults).clone()
    }

    pub(crate) fn set_faults(&self, faults: Faults) {
        tracing::info!(?faults, "fault lab: faults changed");
        *lock(&self.faults) = faults;
    }

    /// Switch faults, the dependencies' included; on error nothing changes.
    pub(crate) async fn switch(&self, faults: Faults) -> Result<(), SwitchError> {
        let mut backends = self.backends.lock().await;
        let old = self.faults();
        let mut reached = old.clone();
        match backends.apply(&old, &faults, &mut reached).await {
            Ok(()) => {
                self.set_faults(faults);
                Ok(())
            }
            Err(e) => {
                // Record what the dependencies really are now, not what was asked.
                self.set_faults(reached);
                Err(e)
            }
        }
    }

    /// Where the lab's dependencies listen, for `GET /_lab`.
    pub(crate) async fn endpoints(&self) -> serde_json::Value {
        let b = self.backends.lock().await;
        serde_json::json!({
            "s3": b.s3.as_ref().map(|s| s.endpoint()),
            "bucket": b.s3.as_ref().map(|_| backends::ASSETS_BUCKET),
            "dns": b.dns.as_ref().map(|d| d.addr.to_string()),
            "host": b.dns.as_ref().map(|_| backends::LAB_HOST),
        })
    }

    /// Compares without stopping at the first differing byte.
    pub(crate) fn password_matches(&self, candidate: &str) -> bool {
        let (a, b) = (self.password.as_bytes(), candidate.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }

    /// Creates a session for `username` and returns its token: 32 hex digits
    /// from a randomly keyed hash of a counter and the clock. Not
    /// cryptographic, but unguessable enough for a test fixture.
    pub(crate) fn create_session(&self, username: &str) -> String {
        let seq = self.token_seq.fetch_add(1, Ordering::Relaxed);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let half = |salt: u64| {
            let mut hasher = self.token_keys.build_hasher();
            hasher.write_u64(salt);
            hasher.write_u64(seq);
            hasher.write_u128(nanos);
            hasher.finish()
        };
        let token = format!("{:016x}{:016x}", half(1), half(2));
        let mut sessions = lock(&self.sessions);
        if sessions.len() >= MAX_SESSIONS
            && let Some(old) = sessions.keys().next().cloned()
        {
            sessions.remove(&old);
        }
        sessions.insert(token.clone(), username.to_owned());
        token
    }

    /// The username of a live session.
    pub(crate) fn session_user(&self, token: &str) -> Option<String> {
        lock(&self.sessions).get(token).cloned()
    }

    pub(crate) fn remove_session(&self, token: &str) {
        lock(&self.sessions).remove(token);
    }
}

/// A running fault lab server. Dropping it also stops the server (without
/// waiting); [`FaultLab::shutdown`] stops it and waits.
pub struct FaultLab {
    addr: SocketAddr,
    state: Arc<LabState>,
    shutdown_tx: oneshot::Sender<()>,
    task: JoinHandle<io::Result<()>>,
}

impl fmt::Debug for FaultLab {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FaultLab")
            .field("addr", &self.addr)
            .field("faults", &self.faults())
            .finish_non_exhaustive()
    }
}

impl FaultLab {
    /// Starts the server on exactly `addr` (port 0 picks a free port) with the
    /// default options (password [`DEFAULT_PASSWORD`]).
    ///
    /// # Errors
    ///
    /// When `addr` cannot be bound (e.g. the port is taken).
    pub async fn start(addr: SocketAddr) -> io::Result<FaultLab> {
        Self::start_with(addr, FaultLabOptions::default()).await
    }

    /// Starts the server on exactly `addr` (port 0 picks a free port).
    ///
    /// # Errors
    ///
    /// When `addr` cannot be bound (e.g. the port is taken).
    pub async fn start_with(addr: SocketAddr, options: FaultLabOptions) -> io::Result<FaultLab> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let listener = listener.tap_io(|stream| {
            if let Err(err) = stream.set_nodelay(true) {
                tracing::trace!("fault lab: failed to set TCP_NODELAY: {err}");
            }
        });
        let backends = if options.backends {
            start_backends().await
        } else {
            Backends::default()
        };
        let state = Arc::new(LabState::new(options, backends));
        let app = routes::router(state.clone());
        let (shutdown_tx, shutdown_rx) = oneshot::channel::<()>();
        let server = axum::serve(listener, app).with_graceful_shutdown(async move {
            // Resolves on an explicit shutdown and when the FaultLab is dropped.
            let _ = shutdown_rx.await;
        });
        let task = tokio::spawn(async move { server.await });
        tracing::info!(%addr, "fault lab listening");
        Ok(FaultLab {
            addr,
            state,
            shutdown_tx,
            task,
        })
    }

    /// The address the server is bound to (with the real port).
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://IP:PORT`, e.g. `http://127.0.0.1:43123`. If bound to an
    /// unspecified address (`0.0.0.0`, `::`), the loopback address is used.
    #[must_use]
    pub fn base_url(&self) -> String {
        let ip = match self.addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        format!("http://{}", SocketAddr::new(ip, self.addr.port()))
    }

    /// `base_url()` followed by `path` (which should start with `/`).
    #[must_use]
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url())
    }

    /// Replaces the active faults of the site itself; takes effect for the next request.
    /// Faults of the dependencies (bucket, DNS) need [`FaultLab::switch`].
    pub fn set_faults(&self, faults: Faults) {
        let current = self.state.faults();
        self.state.set_faults(Faults {
            bucket_deleted: current.bucket_deleted,
            bucket_private: current.bucket_private,
            dns_record: current.dns_record,
            dns_stopped: current.dns_stopped,
            ..faults
        });
    }

    /// Replaces the active faults, switching the lab's dependencies too.
    ///
    /// # Errors
    ///
    /// A dependency fault on a lab without that dependency, or a dependency that did not
    /// switch; the faults then stay as they were.
    pub async fn switch(&self, faults: Faults) -> Result<(), SwitchError> {
        self.state.switch(faults).await
    }

    /// The S3 endpoint of the lab's own server, when it runs one.
    pub async fn s3_endpoint(&self) -> Option<String> {
        self.state
            .backends
            .lock()
            .await
            .s3
            .as_ref()
            .map(|s| s.endpoint())
    }

    /// The address of the lab's DNS server, when it runs one.
    pub async fn dns_addr(&self) -> Option<SocketAddr> {
        self.state
            .backends
            .lock()
            .await
            .dns
            .as_ref()
            .map(|d| d.addr)
    }

    /// The active faults.
    #[must_use]
    pub fn faults(&self) -> Faults {
        self.state.faults()
    }

    /// Stops accepting connections, lets in-flight requests finish (up to 10
    /// seconds, then the server task is aborted) and waits for the server task.
    pub async fn shutdown(self) {
        let FaultLab {
            addr,
            shutdown_tx,
            task,
            state,
        } = self;
        {
            let mut b = state.backends.lock().await;
            if let Some(s3) = b.s3.take() {
                s3.stop().await;
            }
            if let Some(dns) = b.dns.take() {
                dns.stop().await;
            }
        }
        let _ = shutdown_tx.send(());
        let abort = task.abort_handle();
        match tokio::time::timeout(SHUTDOWN_GRACE, task).await {
            Ok(Ok(Ok(()))) => tracing::info!(%addr, "fault lab stopped"),
            Ok(Ok(Err(err))) => tracing::warn!(%addr, "fault lab server error: {err}"),
            Ok(Err(err)) => tracing::warn!(%addr, "fault lab server task failed: {err}"),
            Err(_) => {
                abort.abort();
                tracing::warn!(%addr, "fault lab did not stop in time; aborted");
            }
        }
    }
}

/// Start whichever dependencies are installed; a missing one is logged, not fatal.
async fn start_backends() -> Backends {
    let mut b = Backends::default();
    if crate::process::find_program("moto_server").is_some() {
        match backends::S3Server::start().await {
            Ok(s3) => b.s3 = Some(s3),
            Err(e) => tracing::warn!("fault lab: the S3 server did not start: {e}"),
        }
    } else {
        tracing::info!("fault lab: moto_server not installed; no assets bucket");
    }
    if crate::process::find_program("dnsmasq").is_some() {
        match backends::DnsServer::start().await {
            Ok(dns) => b.dns = Some(dns),
            Err(e) => tracing::warn!("fault lab: the DNS server did not start: {e}"),
        }
    } else {
        tracing::info!("fault lab: dnsmasq not installed; no DNS server");
    }
    b
}
