//! `journeyprobe run [PATHS…]` — run every probe once and report: the checks first, a
//! bounded number at a time, then the journeys one after another in a real browser.
//!
//! It is also the CI smoke check after a deploy: `--env` picks each file's environment
//! block, `--retries` gives every probe extra attempts (a pass on a retry is reported as
//! flaky, never hidden), and `--junit`, `--json` and `$GITHUB_STEP_SUMMARY` receive reports.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::interrupt::Interrupt;

use super::Format;
use crate::browser::driver::{ManagedDriver, find_chromedriver, find_chromium};
use crate::browser::pool::{Pool, PoolSettings};
use crate::check::{CheckEnv, attribute, run_check};
use crate::config::{self, Check, Env, Journey, ProcessEnv};
use crate::journey::{Interactive, Phase, RunEnv, RunResult, run_journey};
use crate::outcome::{Outcome, Problem, Reason, exit_code};
use crate::report::ProbeRun;
use crate::report::files::Files;
use crate::report::live::Live;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Probe files or folders (searched recursively for *.yaml / *.yml). Default: journeys/
    pub paths: Vec<PathBuf>,
    /// Run only the probe (journey or check) with this name (repeatable).
    #[arg(long = "probe", visible_alias = "journey", value_name = "NAME")]
    pub probes: Vec<String>,
    /// Run only the journeys, or only the checks.
    #[arg(long, value_enum)]
    pub only: Option<Only>,
    /// Use this WebDriver server (a Selenium Grid, a remote chromedriver) instead of
    /// starting chromedriver here. Without it, chromedriver is found through
    /// JOURNEYPROBE_CHROMEDRIVER or PATH and started on a free loopback port.
    #[arg(long, value_name = "URL")]
    pub webdriver: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Where failed runs leave screenshots, page HTML, URL, console log and step timeline.
    #[arg(long, value_name = "DIR", default_value = "journeyprobe-artifacts")]
    pub artifacts: PathBuf,
    /// Keep no artifacts at all.
    #[arg(long, conflicts_with_all = ["artifacts", "trace"])]
    pub no_artifacts: bool,
    /// Give every probe N extra attempts after one that failed or errored (0 to 5),
    /// instead of its own `retries:`. A pass on a retry exits 0 and is reported as flaky.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=5))]
    pub retries: Option<u32>,
    /// Take each probe file's vars from its `envs:` block NAME (a file with `envs:` but no
    /// such block is an error; files without `envs:` are unaffected).
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,
    /// Also write a JUnit XML report to FILE: a testcase per probe run, a testsuite per kind.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Also write the JSON lines (as `--format json` prints them) to FILE.
    #[arg(long = "json", value_name = "FILE")]
    pub json_file: Option<PathBuf>,
    /// Run each selected journey N times, one after another, then print per journey the
    /// outcomes and the median, p95, min and max duration (JSON: a `repeat_summary` line).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000), help_heading = "Measuring")]
    pub repeat: u32,
    /// Open a new browser session for every journey run instead of reusing one warm
    /// session, reset between runs (journeys with `isolation: fresh` always get a new one).
    #[arg(long)]
    pub no_pool: bool,
    #[command(flatten)]
    pub incident: super::incident::IncidentArgs,
    /// After the run, post a deploy event with this ID (the version) and the run's verdict
    /// to a running serve (needs --service and --events-url; token from
    /// JOURNEYPROBE_EVENTS_TOKEN).
    #[arg(long, value_name = "ID", requires_all = ["service", "events_url"], help_heading = "Post-deploy check")]
    pub deploy: Option<String>,
    /// The service the deploy was of.
    #[arg(
        long,
        value_name = "NAME",
        requires = "deploy",
        help_heading = "Post-deploy check"
    )]
    pub service: Option<String>,
    /// Where serve listens, e.g. http://127.0.0.1:9464.
    #[arg(
        long,
        value_name = "URL",
        requires = "deploy",
        help_heading = "Post-deploy check"
    )]
    pub events_url: Option<String>,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Only {
    Journeys,
    Checks,
}

/// Checks running at the same time, at most.
pub const CHECK_CONCURRENCY: usize = 16;

/// The probes picked to run.
pub struct Selection {
    pub journeys: Vec<Journey>,
    pub checks: Vec<Check>,
    /// Every check loaded, selected or not: a failed journey's prerequisites run from here.
    pub all_checks: Vec<Check>,
}

/// Everything a batch of probes needs besides the probes.
pub struct Options {
    pub webdriver: Option<String>,
    pub artifacts: Option<PathBuf>,
    /// `--retries`: extra attempts for every probe, instead of each probe's own.
    pub retries: Option<u32>,
    /// `--headed`, `--slow-mo`, `--pause-on-failure`, `--trace`.
    pub interactive: Interactive,
    /// `--repeat`: runs of each journey.
    pub repeat: u32,
    /// Reuse a warm session between runs (not `--no-pool`).
    pub pool: bool,
}

impl Options {
    /// Attempts a probe whose own `retries:` is `own` gets.
    fn attempts(&self, own: u32) -> usize {
        self.retries.unwrap_or(own) as usize + 1
    }
}

pub async fn run(args: Args) -> i32 {
    let started = std::time::SystemTime::now();
    let interactive = match args.incident.interactive() {
        Ok(i) => i,
        Err(code) => return code,
    };
    let paths = super::default_paths(args.paths);
    let environment = args.env.as_deref();
    let selection = match load_selected(&paths, &args.probes, args.only, environment, &ProcessEnv) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let step_summary = Files::step_summary_from_env();
    let mut files = match Files::open(
        args.junit.as_deref(),
        args.json_file.as_deref(),
        step_summary,
    ) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}; nothing ran");
            return super::EXIT_CONFIG;
        }
    };
    let mut live = Live::stdout(args.format == Format::Json);
    if let Some((path, file)) = files.take_json() {
        live = live.with_json_file(path, file);
    }
    let opts = Options {
        webdriver: args.webdriver,
        artifacts: (!args.no_artifacts).then_some(args.artifacts),
        retries: args.retries,
        interactive,
        repeat: args.repeat,
        pool: !args.no_pool,
    };
    let interrupt = Interrupt::install();
    let mut runs = run_checks(&selection.checks, &opts, &live, interrupt.token()).await;
    if !selection.journeys.is_empty() && !interrupt.is_cancelled() {
        let batch = Batch {
            journeys: &selection.journeys,
            prerequisites: &selection.all_checks,
        };
        runs.extend(run_batch(batch, &opts, &live, &interrupt).await);
    }
    if args.repeat > 1 {
        live.repeat_summary(&runs);
    }
    live.summary(&runs);
    // Reports are written even after an interrupt: they hold what did run.
    let mut report_failed = finish_reports(files, &live, &runs, environment);
    if let (Some(id), Some(service), Some(url)) = (&args.deploy, &args.service, &args.events_url)
        && !interrupt.is_cancelled()
    {
        report_failed |= !post_deploy(id, service, url, &runs, started).await;
    }
    if interrupt.is_cancelled() {
        eprintln!("interrupted: browser sessions closed, driver stopped");
        return super::EXIT_INTERRUPTED;
    }
    match exit_code(runs.iter().map(|r| r.result.outcome)) {
        // All passed, but the CI could not be told so: not verified.
        0 if report_failed => 3,
        code => code,
    }
}

/// Write the JUnit report and the step summary, and close the JSON file; print what could
/// not be written. True when a report asked for on the command line is incomplete.
fn finish_reports(files: Files, live: &Live, runs: &[ProbeRun], environment: Option<&str>) -> bool {
    let done = files.finish(runs, environment);
    for w in &done.warnings {
        eprintln!("warning: {w}");
    }
    let mut errors = done.errors;
    errors.extend(live.json_file_error());
    for e in &errors {
        eprintln!("error: {e}");
    }
    !errors.is_empty()
}

/// Load, validate (with the vars of `environment`, `--env`), and pick the probes named by
/// `--probe` and `--only`. Problems are printed to stderr and become exit code 2.
pub fn load_selected(
    paths: &[PathBuf],
    names: &[String],
    only: Option<Only>,
    environment: Option<&str>,
    env: &dyn Env,
) -> Result<Selection, i32> {
    let loaded = config::load_for(paths, env, environment).map_err(|problems| {
        for p in &problems {
            eprintln!("{p}");
        }
        eprintln!(
            "error: {} problem(s) in the probe files; nothing ran",
            problems.len()
        );
        super::EXIT_CONFIG
    })?;
    if let Some(name) = environment
        && loaded.environments.is_empty()
    {
        eprintln!("warning: --env {name}: no probe file has envs:, so it changes nothing");
    }
    let mut s = Selection {
        journeys: loaded.journeys,
        all_checks: loaded.checks.clone(),
        checks: loaded.checks,
    };
    if !names.is_empty() {
        let known: Vec<&String> = s
            .journeys
            .iter()
            .map(|j| &j.name)
            .chain(s.checks.iter().map(|c| &c.name))
            .collect();
        if let Some(missing) = names.iter().find(|n| !known.contains(n)) {
            let known: Vec<&str> = known.iter().map(|k| k.as_str()).collect();
            eprintln!(
                "error: no probe named '{missing}' (known: {})",
                known.join(", ")
            );
            return Err(super::EXIT_CONFIG);
        }
        s.journeys.retain(|j| names.contains(&j.name));
        s.checks.retain(|c| names.contains(&c.name));
    }
    match only {
        Some(Only::Journeys) => s.checks.clear(),
        Some(Only::Checks) => s.journeys.clear(),
        None => {}
    }
    if s.journeys.is_empty() && s.checks.is_empty() {
        eprintln!("error: nothing to run in {}", show_paths(paths));
        return Err(super::EXIT_CONFIG);
    }
    Ok(s)
}

/// Run checks, [`CHECK_CONCURRENCY`] at a time, reporting each as it finishes. A check's
/// retries follow each other at once and keep its slot.
pub async fn run_checks(
    checks: &[Check],
    opts: &Options,
    live: &Live,
    cancel: &CancellationToken,
) -> Vec<ProbeRun> {
    use futures::StreamExt;
    if checks.is_empty() {
        return Vec::new();
    }
    let env = CheckEnv::new();
    let runs = futures::stream::iter(checks).map(|c| {
        let env = &env;
        let once = move || async move {
            tokio::select! {
                biased;
                _ = cancel.cancelled() => {
                    let mut r = RunResult::for_check(c, std::time::SystemTime::now());
                    r.conclude(Some((Problem::new(Reason::Cancelled, "interrupted"), Phase::Check { check: c.spec.kind() })));
                    r
                }
                r = run_check(c, env) => r,
            }
        };
        with_retries(opts.attempts(c.retries), cancel, once, |_, _| {})
    });
    let mut stream = runs.buffer_unordered(CHECK_CONCURRENCY);
    let mut results = Vec::new();
    while let Some(r) = stream.next().await {
        live.finished(&r);
        results.push(r);
    }
    results
}

/// Up to `attempts` attempts, the next one at once after one that failed or errored, unless
/// it was cancelled. `on_retry(result, attempt)` is told before each retry.
async fn with_retries<F, Fut>(
    attempts: usize,
    cancel: &CancellationToken,
    mut attempt: F,
    on_retry: impl Fn(&RunResult, usize),
) -> ProbeRun
where
    F: FnMut() -> Fut,
    Fut: Future<Output = RunResult>,
{
    let mut earlier = Vec::new();
    loop {
        let r = attempt().await;
        let n = earlier.len() + 1;
        let last = n >= attempts
            || r.outcome == Outcome::Success
            || r.reason == Some(Reason::Cancelled)
            || cancel.is_cancelled();
        if last {
            return ProbeRun { result: r, earlier };
        }
        on_retry(&r, n);
        earlier.push(r);
    }
}

fn show_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Run journeys one after another on one driver; always stops the driver it started.
/// Journeys to run, and the checks they may depend on.
#[derive(Clone, Copy)]
pub struct Batch<'a> {
    pub journeys: &'a [Journey],
    pub prerequisites: &'a [Check],
}

pub async fn run_batch(
    batch: Batch<'_>,
    opts: &Options,
    live: &Live,
    interrupt: &Interrupt,
) -> Vec<ProbeRun> {
    let cancel = interrupt.token();
    let journeys = batch.journeys;
    let mut check_env = None;
    let (driver, url) = match &opts.webdriver {
        Some(url) => (None, url.clone()),
        None => match start_driver(cancel).await {
            Ok(d) => {
                let url = d.url().to_string();
                (Some(Arc::new(d)), url)
            }
            // No driver, no attempt: retrying cannot help, the driver will not appear.
            Err(problem) => {
                let results: Vec<ProbeRun> = journeys
                    .iter()
                    .map(|j| ProbeRun::single(RunResult::not_started(j, problem.clone())))
                    .collect();
                for r in &results {
                    live.finished(r);
                }
                return results;
            }
        },
    };
    if let Some(d) = &driver {
        interrupt.arm(d.kill_handle());
    }
    // Runs go one after another: one warm session serves them all (a single run has
    // nothing to reuse it for).
    let several = journeys.len() * opts.repeat.max(1) as usize > 1;
    let pool = (opts.pool && several).then(|| Pool::new(PoolSettings::new(1), None));
    let env = RunEnv {
        webdriver: url,
        driver: driver.clone(),
        pool: pool.clone(),
        browser_binary: if driver.is_some() {
            find_chromium()
        } else {
            None
        },
        artifacts: opts.artifacts.clone(),
        cancel: cancel.clone(),
        interactive: opts.interactive.clone(),
    };
    let observer = live.observer();
    let managed = tokio::sync::Mutex::new(Managed { driver, env });
    // The last attempt ended in `error`: the next one looks harder at the driver.
    let suspect = std::cell::Cell::new(false);
    let mut results = Vec::new();
    let rounds = journeys
        .iter()
        .flat_map(|j| std::iter::repeat_n(j, opts.repeat.max(1) as usize));
    for j in rounds {
        if cancel.is_cancelled() {
            break;
        }
        let attempts = opts.attempts(j.retries);
        let (managed, suspect) = (&managed, &suspect);
        let attempt = || async move {
            let r = match env_for_attempt(managed, suspect.get(), cancel, interrupt).await {
                Ok(env) => run_journey(j, &env, observer).await,
                Err(problem) => RunResult::not_started(j, problem),
            };
            suspect.set(r.outcome == Outcome::Error);
            r
        };
        let mut run = with_retries(attempts, cancel, attempt, |r, n| {
            live.retrying(r, n, attempts)
        })
        .await;
        // The checks it depends on explain the run's outcome: the last attempt's.
        let r = &mut run.result;
        if r.outcome == Outcome::Failure && !j.depends_on.is_empty() {
            let deps: Vec<&Check> = batch
                .prerequisites
                .iter()
                .filter(|c| j.depends_on.iter().any(|(d, _)| *d == c.name))
                .collect();
            let check_env = check_env.get_or_insert_with(CheckEnv::new);
            tokio::select! {
                biased;
                _ = cancel.cancelled() => {}
                _ = attribute(r, &deps, check_env) => {}
            }
        }
        live.finished(&run);
        results.push(run);
    }
    let Managed { driver, env } = managed.into_inner();
    drop(env);
    if let Some(pool) = pool {
        pool.close(Duration::from_secs(5)).await;
    }
    if let Some(d) = driver {
        match Arc::try_unwrap(d) {
            Ok(d) => d.stop().await,
            // A session still closing holds it: its browsers go down with it at once.
            Err(d) => d.kill_handle().kill_now(),
        }
        interrupt.disarm();
    }
    results
}

/// `--deploy`: tell a running serve that this deploy happened and how its smoke check
/// went, so the board shows it next to the BPMs. False when it could not be posted.
async fn post_deploy(
    id: &str,
    service: &str,
    url: &str,
    runs: &[ProbeRun],
    started: std::time::SystemTime,
) -> bool {
    let count = |o: Outcome| runs.iter().filter(|r| r.result.outcome == o).count();
    let (ok, failed, errors) = (
        count(Outcome::Success),
        count(Outcome::Failure),
        count(Outcome::Error),
    );
    let verdict = if failed > 0 {
        "broken"
    } else if errors > 0 {
        "not verified"
    } else {
        "passed"
    };
    let event = crate::history::events::NewEvent {
        kind: crate::history::events::EventKind::Deploy,
        service: service.to_string(),
        version: Some(id.to_string()),
        flag: None,
        description: Some(format!(
            "smoke check {verdict}: {ok} passed, {failed} failed, {errors} could not be verified"
        )),
        // When the smoke check began: right after the deploy, not after the check.
        at: Some(humantime::format_rfc3339_millis(started).to_string()),
    };
    let token = std::env::var("JOURNEYPROBE_EVENTS_TOKEN").ok();
    match super::event::post(url, token.as_deref(), &event).await {
        Ok(_) => {
            eprintln!("deploy event {id} posted to {url}");
            true
        }
        Err(super::event::PostError::Refused(m) | super::event::PostError::Unreachable(m)) => {
            eprintln!("error: cannot post the deploy event: {m}");
            false
        }
    }
}

/// The chromedriver we manage (none with `--webdriver`), and the environment runs get.
struct Managed {
    driver: Option<Arc<ManagedDriver>>,
    env: RunEnv,
}

/// The environment for the next attempt. A chromedriver we manage that died is replaced
/// first, as `serve` does, so `--repeat` and `--retries` go on instead of erroring to the
/// end. After an attempt that errored (`suspect`), one that no longer answers `/status`
/// counts as dead too: a killed process closes its sockets a moment before it can be
/// reaped, and a hung one would fail every run after it.
async fn env_for_attempt(
    managed: &tokio::sync::Mutex<Managed>,
    suspect: bool,
    cancel: &CancellationToken,
    interrupt: &Interrupt,
) -> Result<RunEnv, Problem> {
    let mut m = managed.lock().await;
    if let Some(d) = &m.driver
        && (d.has_exited()
            || (suspect && crate::browser::supervisor::status(d.url()).await.is_err()))
    {
        eprintln!("warning: chromedriver exited; starting a new one");
        d.kill_handle().kill_now();
        let d = Arc::new(start_driver(cancel).await?);
        interrupt.arm(d.kill_handle());
        m.env.webdriver = d.url().to_string();
        m.env.driver = Some(d.clone());
        // The old one is dropped with the last session the pool holds on it.
        m.driver = Some(d);
    }
    Ok(m.env.clone())
}

async fn start_driver(cancel: &CancellationToken) -> Result<ManagedDriver, Problem> {
    let binary = find_chromedriver()?;
    tokio::select! {
        d = ManagedDriver::start(&binary) => d,
        _ = cancel.cancelled() => Err(Problem::new(Reason::Cancelled, "interrupted while starting chromedriver")),
    }
}
