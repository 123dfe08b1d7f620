//! `journeyprobe run [PATHS…]` — run every probe once and report: the checks first, a
//! bounded number at a time, then the journeys one after another in a real browser.

use std::path::PathBuf;

use tokio_util::sync::CancellationToken;

use super::interrupt::Interrupt;

use super::Format;
use crate::browser::driver::{ManagedDriver, find_chromedriver, find_chromium};
use crate::check::{CheckEnv, attribute, run_check};
use crate::config::{self, Check, Env, Journey, ProcessEnv};
use crate::journey::{Observer, Phase, Quiet, RunEnv, RunResult, run_journey};
use crate::outcome::{Outcome, Problem, exit_code};
use crate::report::{human::Human, json};

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
    #[arg(long, conflicts_with = "artifacts")]
    pub no_artifacts: bool,
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

/// Everything a batch of journeys needs besides the journeys.
pub struct Options {
    pub webdriver: Option<String>,
    pub format: Format,
    pub artifacts: Option<PathBuf>,
}

pub async fn run(args: Args) -> i32 {
    let paths = super::default_paths(args.paths);
    let selection = match load_selected(&paths, &args.probes, args.only, &ProcessEnv) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let opts = Options {
        webdriver: args.webdriver,
        format: args.format,
        artifacts: (!args.no_artifacts).then_some(args.artifacts),
    };
    let interrupt = Interrupt::install();
    let human = Human::stdout();
    let mut results = run_checks(&selection.checks, &opts, &human, interrupt.token()).await;
    if !selection.journeys.is_empty() && !interrupt.is_cancelled() {
        let batch = Batch {
            journeys: &selection.journeys,
            prerequisites: &selection.all_checks,
        };
        results.extend(run_batch(batch, &opts, &human, &interrupt).await);
    }
    summarise(opts.format, &human, &results);
    if interrupt.is_cancelled() {
        eprintln!("interrupted: browser sessions closed, driver stopped");
        return super::EXIT_INTERRUPTED;
    }
    exit_code(results.iter().map(|r| r.outcome))
}

/// Load, validate, and pick the probes named by `--probe` and `--only`. Problems are
/// printed to stderr and become exit code 2.
pub fn load_selected(
    paths: &[PathBuf],
    names: &[String],
    only: Option<Only>,
    env: &dyn Env,
) -> Result<Selection, i32> {
    let loaded = config::load(paths, env).map_err(|problems| {
        for p in &problems {
            eprintln!("{p}");
        }
        eprintln!(
            "error: {} problem(s) in the probe files; nothing ran",
            problems.len()
        );
        super::EXIT_CONFIG
    })?;
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

/// Run checks, [`CHECK_CONCURRENCY`] at a time, reporting each as it finishes.
pub async fn run_checks(
    checks: &[Check],
    opts: &Options,
    human: &Human,
    cancel: &CancellationToken,
) -> Vec<RunResult> {
    use futures::StreamExt;
    if checks.is_empty() {
        return Vec::new();
    }
    let env = CheckEnv::new();
    let runs = futures::stream::iter(checks).map(|c| {
        let env = &env;
        async move {
            tokio::select! {
                biased;
                _ = cancel.cancelled() => {
                    let mut r = RunResult::for_check(c, std::time::SystemTime::now());
                    r.conclude(Some((Problem::new(crate::outcome::Reason::Cancelled, "interrupted"), Phase::Check { check: c.spec.kind() })));
                    r
                }
                r = run_check(c, env) => r,
            }
        }
    });
    let mut stream = runs.buffer_unordered(CHECK_CONCURRENCY);
    let mut results = Vec::new();
    while let Some(r) = stream.next().await {
        report(opts.format, human, &r);
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
    human: &Human,
    interrupt: &Interrupt,
) -> Vec<RunResult> {
    let cancel = interrupt.token();
    let journeys = batch.journeys;
    let mut check_env = None;
    let (driver, url) = match &opts.webdriver {
        Some(url) => (None, url.clone()),
        None => match start_driver(cancel).await {
            Ok(d) => {
                let url = d.url().to_string();
                (Some(d), url)
            }
            Err(problem) => {
                let results: Vec<RunResult> = journeys
                    .iter()
                    .map(|j| RunResult::not_started(j, problem.clone()))
                    .collect();
                for r in &results {
                    report(opts.format, human, r);
                }
                return results;
            }
        },
    };
    if let Some(d) = &driver {
        interrupt.arm(d.kill_handle());
    }
    let env = RunEnv {
        webdriver: url,
        driver: driver.as_ref(),
        browser_binary: if driver.is_some() {
            find_chromium()
        } else {
            None
        },
        artifacts: opts.artifacts.clone(),
        cancel: cancel.clone(),
    };
    let observer: &dyn Observer = match opts.format {
        Format::Human => human,
        Format::Json => &Quiet,
    };
    let mut results = Vec::new();
    for j in journeys {
        if cancel.is_cancelled() {
            break;
        }
        let mut r = run_journey(j, &env, observer).await;
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
                _ = attribute(&mut r, &deps, check_env) => {}
            }
        }
        report(opts.format, human, &r);
        results.push(r);
    }
    drop(env);
    if let Some(d) = driver {
        d.stop().await;
        interrupt.disarm();
    }
    results
}

async fn start_driver(cancel: &CancellationToken) -> Result<ManagedDriver, Problem> {
    let binary = find_chromedriver()?;
    tokio::select! {
        d = ManagedDriver::start(&binary) => d,
        _ = cancel.cancelled() => Err(Problem::new(crate::outcome::Reason::Cancelled, "interrupted while starting chromedriver")),
    }
}

fn report(format: Format, human: &Human, r: &RunResult) {
    match format {
        Format::Human => human.finished(r),
        Format::Json => {
            let _ = json::write_result(&mut std::io::stdout().lock(), r);
        }
    }
}

pub fn summarise(format: Format, human: &Human, results: &[RunResult]) {
    if format == Format::Human {
        human.summary(results);
    }
}
