//! `journeyprobe run [PATHS…]` — run every probe once and report: the checks first, a
//! bounded number at a time, then the journeys one after another in a real browser.
//!
//! It is also the CI smoke check after a deploy: `--env` picks each file's environment
//! block, `--retries` gives every probe extra attempts (a pass on a retry is reported as
//! flaky, never hidden), and `--junit`, `--json` and `$GITHUB_STEP_SUMMARY` receive reports.

use std::path::PathBuf;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::ExitCode;
use super::interrupt::Interrupt;

use super::Format;
use crate::browser::pool::{Pool, PoolSettings};
use crate::browser::supervisor::Supervisor;
use crate::check::CheckEnv;
use crate::config::{self, Check, Env, Journey, ProcessEnv};
use crate::journey::{Interactive, Quiet, RunResult};
use crate::outcome::{Outcome, Problem, Reason, exit_code};
use crate::probe::{self, Limits, Probe, ProbeRun, Runner, Unwitnessed, Witness};
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
    /// Run every journey in this browser (chromium or firefox) instead of the one its file
    /// names with `browser:` (default chromium). Firefox needs firefox-esr and geckodriver
    /// (found through JOURNEYPROBE_GECKODRIVER or PATH; scripts/ensure-deps installs both).
    #[arg(long, value_name = "BROWSER", value_parser = super::parse_browser)]
    pub browser: Option<crate::config::BrowserKind>,
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
    /// The limits of a run of a probe whose own `retries:` is `own`.
    fn limits(&self, own: u32) -> Limits {
        Limits {
            attempts: self.retries.unwrap_or(own) + 1,
            until: None,
        }
    }

    /// The world the probes of one batch run in.
    fn runner<'a>(
        &self,
        driver: &'a Supervisor,
        check_env: &'a CheckEnv,
        checks: &'a [Check],
        pool: Option<Pool>,
        live: &'a Live,
        cancel: &CancellationToken,
    ) -> Runner<'a> {
        Runner {
            driver,
            pool,
            check_env,
            checks,
            artifacts: self.artifacts.clone(),
            interactive: self.interactive.clone(),
            observer: live.observer(),
            metrics: None,
            cancel: cancel.clone(),
            stopping: "interrupted",
        }
    }
}

/// Under `run`, each retry is announced before it starts (the attempt it follows shown).
struct Retrying<'a>(&'a Live);

impl Witness for Retrying<'_> {
    async fn attempt_ended(&mut self, r: &RunResult, attempt: u32, attempts: u32, is_final: bool) {
        if !is_final {
            self.0.retrying(r, attempt as usize, attempts as usize);
        }
    }
}

pub async fn run(args: Args) -> ExitCode {
    let started = std::time::SystemTime::now();
    let interactive = match args.incident.interactive() {
        Ok(i) => i,
        Err(code) => return code,
    };
    let paths = super::default_paths(args.paths);
    let environment = args.env.as_deref();
    let mut selection =
        match load_selected(&paths, &args.probes, args.only, environment, &ProcessEnv) {
            Ok(s) => s,
            Err(code) => return code,
        };
    if let Some(b) = args.browser {
        for j in &mut selection.journeys {
            j.browser = b;
        }
    }
    let step_summary = Files::step_summary_from_env();
    let mut files = match Files::open(
        args.junit.as_deref(),
        args.json_file.as_deref(),
        step_summary,
    ) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}; nothing ran");
            return ExitCode::Usage;
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
        return ExitCode::Interrupted;
    }
    match exit_code(runs.iter().map(|r| r.result.outcome)) {
        // All passed, but the CI could not be told so: not verified.
        ExitCode::Passed if report_failed => ExitCode::ProberError,
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
) -> Result<Selection, ExitCode> {
    let loaded = config::load_for(paths, env, environment).map_err(|problems| {
        for p in &problems {
            eprintln!("{p}");
        }
        eprintln!(
            "error: {} problem(s) in the probe files; nothing ran",
            problems.len()
        );
        ExitCode::Usage
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
            return Err(ExitCode::Usage);
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
        return Err(ExitCode::Usage);
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
    let check_env = CheckEnv::new();
    // Checks need no browser: this driver is never started.
    let driver = Supervisor::new(None);
    let runner = Runner {
        observer: &Quiet,
        ..opts.runner(&driver, &check_env, checks, None, live, cancel)
    };
    let runner = &runner;
    let runs = futures::stream::iter(checks).map(|c| async move {
        let probe = Probe::Check(c.clone());
        probe::run(&probe, opts.limits(c.retries), runner, &mut Unwitnessed).await
    });
    let mut stream = runs.buffer_unordered(CHECK_CONCURRENCY);
    let mut results = Vec::new();
    while let Some(r) = stream.next().await {
        live.finished(&r);
        results.push(r);
    }
    results
}

fn show_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Journeys to run, and the checks they may depend on.
#[derive(Clone, Copy)]
pub struct Batch<'a> {
    pub journeys: &'a [Journey],
    pub prerequisites: &'a [Check],
}

/// Run journeys one after another on one driver; always stops the driver it started.
pub async fn run_batch(
    batch: Batch<'_>,
    opts: &Options,
    live: &Live,
    interrupt: &Interrupt,
) -> Vec<ProbeRun> {
    let cancel = interrupt.token();
    let journeys = batch.journeys;
    let driver = Supervisor::new(opts.webdriver.clone()).with_kill_switch(interrupt.kill_switch());
    // The driver starts before the first run. No driver, no attempt: retrying cannot help,
    // the driver will not appear.
    // (A browser whose driver serves one session, Firefox, starts one per run instead.)
    let shared = journeys
        .iter()
        .map(|j| j.browser)
        .find(|b| b.engine().sessions_per_driver().is_none());
    let started = match shared {
        None => Ok(()),
        Some(b) => tokio::select! {
            l = driver.lease(b, false) => l.map(drop),
            _ = cancel.cancelled() => Err(Problem::new(Reason::Cancelled, "interrupted while starting chromedriver")),
        },
    };
    if let Err(problem) = started {
        let results: Vec<ProbeRun> = journeys
            .iter()
            .map(|j| ProbeRun::single(RunResult::not_started(j, problem.clone())))
            .collect();
        for r in &results {
            live.finished(r);
        }
        driver.stop().await;
        return results;
    }
    // Runs go one after another: one warm session serves them all (a single run has
    // nothing to reuse it for).
    let several = journeys.len() * opts.repeat.max(1) as usize > 1;
    let pool = (opts.pool && several).then(|| Pool::new(PoolSettings::new(1), None));
    let check_env = CheckEnv::new();
    let runner = opts.runner(
        &driver,
        &check_env,
        batch.prerequisites,
        pool.clone(),
        live,
        cancel,
    );
    let mut results = Vec::new();
    'journeys: for j in journeys {
        let probe = Probe::Journey(j.clone());
        for _ in 0..opts.repeat.max(1) {
            if cancel.is_cancelled() {
                break 'journeys;
            }
            let run =
                probe::run(&probe, opts.limits(j.retries), &runner, &mut Retrying(live)).await;
            live.finished(&run);
            results.push(run);
        }
    }
    drop(runner);
    if let Some(pool) = pool {
        pool.close(Duration::from_secs(5)).await;
    }
    driver.stop().await;
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
    let token = std::env::var(super::EVENTS_TOKEN_ENV).ok();
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
