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
//! | `GET /login` | sign-in form (`#username`, `#password`, `#submit`) |
//! | `POST /login` | form-urlencoded `username`, `password`: 303 to `/dashboard` with a `session` cookie; 401 + `#error` on bad credentials; 400 on a malformed form |
//! | `GET /dashboard` | `#welcome` "Welcome, {user}", `#region` select, `#search` box (Enter writes "Results for {query}" into `#results`), Settings link, `#logout`; without a session `#welcome` says "Please sign in" (still 200) |
//! | `POST /logout` | drops the session, 303 to `/login` |
//! | `GET /settings` | `#settings-title` "Settings" |
//! | `GET /static/app.css`, `GET /static/app.js` | the in-memory assets bucket |
//! | `GET /_faults` | current [`Faults`] as JSON |
//! | `POST /_faults` | JSON body replaces the faults (unknown field: 400), answers the new faults |
//! | `POST /_faults/reset` | all faults off |
//! | `GET /healthz` | `ok` |
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
}

impl Default for FaultLabOptions {
    fn default() -> Self {
        FaultLabOptions {
            password: DEFAULT_PASSWORD.to_owned(),
            assets_url: None,
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
    token_seq: AtomicU64,
    token_keys: RandomState,
}

/// Locks a mutex, ignoring poisoning (the data stays usable: every critical
/// section here is a single assignment or map operation).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl LabState {
    fn new(options: FaultLabOptions) -> Self {
        LabState {
            faults: Mutex::new(Faults::default()),
            sessions: Mutex::new(HashMap::new()),
            password: options.password,
            assets_url: options.assets_url,
            token_seq: AtomicU64::new(0),
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
        let state = Arc::new(LabState::new(options));
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

    /// Replaces the active faults; takes effect for the next request.
    pub fn set_faults(&self, faults: Faults) {
        self.state.set_faults(faults);
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
            ..
        } = self;
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
