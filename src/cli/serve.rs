//! `journeyprobe serve [PATHS…]` — the production mode: every probe on its schedule,
//! Prometheus metrics, BPMs, run history; SIGHUP reloads, SIGTERM/SIGINT stop gracefully.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use tokio::signal::unix::{SignalKind, signal};
use tokio_util::sync::CancellationToken;

use super::ExitCode;
use crate::browser::pool::PoolSettings;
use crate::config::service::{ServeFile, load_serve_file};
use crate::config::{self, ProcessEnv};
use crate::history::{History, Retention};
use crate::metrics::Metrics;
use crate::service::{Plan, Service, Settings};

/// Default address of /metrics, /healthz and /readyz (loopback: see `--listen`).
pub const DEFAULT_LISTEN: &str = "127.0.0.1:9464";

#[derive(clap::Args, Debug)]
#[command(after_help = "\
Each probe runs on its `every:` (default 1m for journeys, 30s for checks), offset by a stable \
per-probe jitter. A run that cannot start in time to finish before its next one (previous run \
still going, or no free slot) is skipped and counted in journeyprobe_runs_skipped_total.

Signals: SIGHUP re-reads the probe files (a broken file is rejected, logged, and the running \
configuration kept: see journeyprobe_config_last_reload_successful). SIGTERM or SIGINT stops \
scheduling, lets runs in flight finish within --shutdown-grace, then cancels them (recorded as \
error/cancelled), stops chromedriver, flushes history and exits 0. A second signal cancels at once.

Endpoints: /metrics (Prometheus text; OpenMetrics when the scraper asks), /healthz, /readyz.
Metrics, BPMs and the settings file are documented in README.md.")]
pub struct Args {
    /// Probe files or folders (searched recursively for *.yaml / *.yml). Default: the
    /// settings file's `probes:`, else journeys/
    pub paths: Vec<PathBuf>,
    /// Settings file (journeyprobe.yaml); command-line flags win over it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Address for /metrics, /healthz and /readyz. [default: 127.0.0.1:9464]
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<SocketAddr>,
    /// Folder for run history (SQLite) and artifacts. [default: journeyprobe-data]
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Browser sessions at once. [default: 2]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=64))]
    pub browser_slots: Option<u32>,
    /// Checks at once. [default: 16]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub check_slots: Option<u32>,
    /// Use this WebDriver server instead of starting chromedriver here.
    #[arg(long, value_name = "URL")]
    pub webdriver: Option<String>,
    /// Run every journey in this browser (chromium or firefox) instead of the one its file
    /// names with `browser:` (also after a reload).
    #[arg(long, value_name = "BROWSER", value_parser = super::parse_browser)]
    pub browser: Option<crate::config::BrowserKind>,
    /// How long runs in flight may take to finish on SIGTERM before they are cancelled.
    /// [default: 30s]
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub shutdown_grace: Option<Duration>,
    /// Keep no artifacts of failed runs.
    #[arg(long)]
    pub no_artifacts: bool,
    /// Open a new browser session for every journey run instead of reusing warm ones
    /// (the pool; see `pool:` in journeyprobe.yaml).
    #[arg(long)]
    pub no_pool: bool,
    /// Take each probe file's vars from its `envs:` block NAME (see journeys/README.md).
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,
    /// Bearer token that POST /api/v1/events requires (posting is refused without one).
    #[arg(
        long,
        env = super::EVENTS_TOKEN_ENV,
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub events_token: Option<String>,
}

pub async fn run(args: Args) -> ExitCode {
    let file = match &args.config {
        Some(path) => match load_serve_file(path, &ProcessEnv) {
            Ok(f) => f,
            Err(problems) => {
                for p in &problems {
                    eprintln!("{p}");
                }
                eprintln!("error: {} problem(s) in {}", problems.len(), path.display());
                return ExitCode::Usage;
            }
        },
        None => ServeFile::default(),
    };
    let resolved = resolve(args, file);
    let plan = match load_plan(
        &resolved.paths,
        resolved.environment.as_deref(),
        resolved.browser,
    ) {
        Ok(p) => p,
        Err(problems) => {
            for p in &problems {
                eprintln!("{p}");
            }
            eprintln!(
                "error: {} problem(s) in the probe files; not serving",
                problems.len()
            );
            return ExitCode::Usage;
        }
    };
    let history = match History::open(&resolved.data_dir) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::Usage;
        }
    };
    let listener = match tokio::net::TcpListener::bind(resolved.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: cannot listen on {}: {e}", resolved.listen);
            return ExitCode::Usage;
        }
    };
    if !resolved.listen.ip().is_loopback() {
        tracing::warn!(listen = %resolved.listen, "listening beyond loopback: /metrics is readable by anyone who can reach it");
    }
    let mut signals = match Signals::install() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: cannot install signal handlers: {e}");
            return ExitCode::ProberError;
        }
    };
    serve(resolved, plan, history, listener, &mut signals).await
}

pub(super) async fn serve(
    r: Resolved,
    plan: Plan,
    history: History,
    listener: tokio::net::TcpListener,
    signals: &mut Signals,
) -> ExitCode {
    let addr = listener.local_addr().unwrap_or(r.listen);
    let metrics = Metrics::new();
    restore(&history, &metrics).await;
    tracing::info!(
        journeys = plan.journeys.len(),
        checks = plan.checks.len(),
        bpms = plan.bpms.len(),
        data_dir = %r.data_dir.display(),
        "serving on http://{addr}/metrics"
    );
    let svc = Service::start(plan, r.settings.clone(), history, metrics);
    let http_stop = CancellationToken::new();
    let server = {
        let stop = http_stop.clone();
        let app = crate::server::router(svc.shared.clone());
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move { stop.cancelled().await })
                .await
        })
    };
    while signals.next().await == Sig::Reload {
        reload(&svc, &r.paths, r.environment.clone(), r.browser).await;
    }
    let urgent = CancellationToken::new();
    let watcher = {
        let urgent = urgent.clone();
        let mut second = Signals::install().ok();
        tokio::spawn(async move {
            if let Some(s) = second.as_mut() {
                while s.next().await != Sig::Stop {}
                tracing::warn!("second stop signal: cancelling runs in flight now");
                urgent.cancel();
            }
        })
    };
    let cancelled = svc.shutdown(urgent).await;
    watcher.abort();
    http_stop.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(5), server).await;
    tracing::info!(
        cancelled_runs = cancelled,
        "stopped: history flushed, browsers and the managed chromedriver (if any) stopped"
    );
    ExitCode::Passed
}

async fn reload(
    svc: &Service,
    paths: &[PathBuf],
    environment: Option<String>,
    browser: Option<crate::config::BrowserKind>,
) {
    let paths = paths.to_vec();
    let loaded =
        tokio::task::spawn_blocking(move || load_plan(&paths, environment.as_deref(), browser))
            .await;
    match loaded {
        Ok(Ok(plan)) => {
            tracing::info!(
                journeys = plan.journeys.len(),
                checks = plan.checks.len(),
                bpms = plan.bpms.len(),
                "reloaded the probe files"
            );
            svc.reload(plan);
        }
        Ok(Err(problems)) => {
            for p in &problems {
                tracing::error!("{p}");
            }
            tracing::error!(
                problems = problems.len(),
                "reload rejected: the previous configuration keeps running"
            );
            svc.reload_failed();
        }
        Err(e) => {
            tracing::error!("reload failed: {e}; the previous configuration keeps running");
            svc.reload_failed();
        }
    }
}

/// The plan of the probe files, every journey in `browser` when `--browser` is given.
fn load_plan(
    paths: &[PathBuf],
    environment: Option<&str>,
    browser: Option<crate::config::BrowserKind>,
) -> Result<Plan, Vec<config::Diagnostic>> {
    config::load_for(paths, &ProcessEnv, environment).map(|mut loaded| {
        if let Some(b) = browser {
            for j in &mut loaded.journeys {
                j.browser = b;
            }
        }
        Plan::from_loaded(loaded)
    })
}

/// After a restart, the last-success gauges come from history, not from zero.
async fn restore(history: &History, metrics: &Metrics) {
    match history.last_successes().await {
        Ok(rows) => {
            for (probe, kind, at) in rows {
                metrics.restore_last_success(&probe, kind, at);
            }
        }
        Err(e) => tracing::error!("cannot read history: {e}"),
    }
}

/// Settings after the file and the flags are merged.
pub(super) struct Resolved {
    pub paths: Vec<PathBuf>,
    pub environment: Option<String>,
    /// `--browser`: every journey in this browser.
    pub browser: Option<crate::config::BrowserKind>,
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub settings: Settings,
}

fn resolve(a: Args, f: ServeFile) -> Resolved {
    let defaults = Settings::default();
    let retention_default = Retention::default();
    let paths = if !a.paths.is_empty() {
        a.paths
    } else if !f.probes.is_empty() {
        f.probes
    } else {
        super::default_paths(Vec::new())
    };
    let data_dir = a
        .data_dir
        .or(f.data_dir)
        .unwrap_or_else(|| PathBuf::from("journeyprobe-data"));
    let artifacts = !a.no_artifacts && f.artifacts.unwrap_or(true);
    let settings = Settings {
        browser_slots: a
            .browser_slots
            .map(|n| n as usize)
            .or(f.browser_slots)
            .unwrap_or(defaults.browser_slots),
        check_slots: a
            .check_slots
            .map(|n| n as usize)
            .or(f.check_slots)
            .unwrap_or(defaults.check_slots),
        webdriver: a.webdriver.or(f.webdriver),
        artifacts: artifacts.then(|| data_dir.join("artifacts")),
        artifacts_max_bytes: f
            .artifacts_max_mb
            .map_or(defaults.artifacts_max_bytes, |mb| mb * 1024 * 1024),
        retention: Retention {
            max_age: f.history_max_age.unwrap_or(retention_default.max_age),
            max_runs: f.history_max_runs.unwrap_or(retention_default.max_runs),
        },
        grace: a
            .shutdown_grace
            .or(f.shutdown_grace)
            .unwrap_or(defaults.grace),
        bpm_refresh: defaults.bpm_refresh,
        events_token: a.events_token.or(f.events_token),
        lab_url: None,
        pool: (!a.no_pool && f.pool_enabled.unwrap_or(true)).then(|| {
            let d = PoolSettings::new(1);
            PoolSettings {
                max_runs: f.pool_max_runs.unwrap_or(d.max_runs),
                max_memory: f
                    .pool_max_memory_mb
                    .map_or(d.max_memory, |mb| mb * 1024 * 1024),
                ..d
            }
        }),
    };
    Resolved {
        paths,
        browser: a.browser,
        environment: a.env.or(f.env),
        listen: a
            .listen
            .or(f.listen)
            .unwrap_or_else(|| DEFAULT_LISTEN.parse().expect("valid default")),
        data_dir,
        settings,
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Sig {
    Reload,
    Stop,
}

/// SIGHUP reloads; SIGTERM and SIGINT stop.
pub(super) struct Signals {
    hup: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl Signals {
    pub(super) fn install() -> std::io::Result<Signals> {
        Ok(Signals {
            hup: signal(SignalKind::hangup())?,
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
        })
    }

    async fn next(&mut self) -> Sig {
        tokio::select! {
            _ = self.hup.recv() => Sig::Reload,
            _ = self.term.recv() => Sig::Stop,
            _ = self.int.recv() => Sig::Stop,
        }
    }
}
