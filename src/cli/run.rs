//! `journeyprobe run [PATHS…]` — run journeys once and report.

use std::path::PathBuf;

use tokio_util::sync::CancellationToken;

use super::interrupt::Interrupt;

use super::Format;
use crate::browser::driver::{ManagedDriver, find_chromedriver, find_chromium};
use crate::config::{self, Env, Journey, ProcessEnv};
use crate::journey::{Observer, Quiet, RunEnv, RunResult, run_journey};
use crate::outcome::{Problem, exit_code};
use crate::report::{human::Human, json};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Journey files or folders (searched recursively for *.yaml / *.yml). Default: journeys/
    pub paths: Vec<PathBuf>,
    /// Run only the journey with this name (repeatable).
    #[arg(long = "journey", value_name = "NAME")]
    pub journeys: Vec<String>,
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

/// Everything a batch of journeys needs besides the journeys.
pub struct Options {
    pub webdriver: Option<String>,
    pub format: Format,
    pub artifacts: Option<PathBuf>,
}

pub async fn run(args: Args) -> i32 {
    let journeys = match load_selected(
        &super::default_paths(args.paths),
        &args.journeys,
        &ProcessEnv,
    ) {
        Ok(j) => j,
        Err(code) => return code,
    };
    let opts = Options {
        webdriver: args.webdriver,
        format: args.format,
        artifacts: (!args.no_artifacts).then_some(args.artifacts),
    };
    let interrupt = Interrupt::install();
    let results = run_batch(&journeys, &opts, &interrupt).await;
    if interrupt.is_cancelled() {
        eprintln!("interrupted: browser sessions closed, driver stopped");
        return super::EXIT_INTERRUPTED;
    }
    exit_code(results.iter().map(|r| r.outcome))
}

/// Load, validate, and pick the journeys named by `--journey`. Problems are printed to
/// stderr and become exit code 2.
pub fn load_selected(
    paths: &[PathBuf],
    names: &[String],
    env: &dyn Env,
) -> Result<Vec<Journey>, i32> {
    let loaded = config::load(paths, env).map_err(|problems| {
        for p in &problems {
            eprintln!("{p}");
        }
        eprintln!(
            "error: {} problem(s) in the journey files; nothing ran",
            problems.len()
        );
        super::EXIT_CONFIG
    })?;
    let mut journeys = loaded.journeys;
    if !names.is_empty() {
        let known: Vec<String> = journeys.iter().map(|j| j.name.clone()).collect();
        if let Some(missing) = names.iter().find(|n| !known.contains(n)) {
            eprintln!(
                "error: no journey named '{missing}' (known: {})",
                known.join(", ")
            );
            return Err(super::EXIT_CONFIG);
        }
        journeys.retain(|j| names.contains(&j.name));
    }
    if journeys.is_empty() {
        eprintln!("error: no journeys found in {}", show_paths(paths));
        return Err(super::EXIT_CONFIG);
    }
    Ok(journeys)
}

fn show_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Run journeys one after another on one driver; always stops the driver it started.
pub async fn run_batch(
    journeys: &[Journey],
    opts: &Options,
    interrupt: &Interrupt,
) -> Vec<RunResult> {
    let cancel = interrupt.token();
    let human = Human::stdout();
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
                    report(opts.format, &human, r);
                }
                summarise(opts.format, &human, &results);
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
        Format::Human => &human,
        Format::Json => &Quiet,
    };
    let mut results = Vec::new();
    for j in journeys {
        if cancel.is_cancelled() {
            break;
        }
        let r = run_journey(j, &env, observer).await;
        report(opts.format, &human, &r);
        results.push(r);
    }
    drop(env);
    if let Some(d) = driver {
        d.stop().await;
        interrupt.disarm();
    }
    summarise(opts.format, &human, &results);
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

fn summarise(format: Format, human: &Human, results: &[RunResult]) {
    if format == Format::Human {
        human.summary(results);
    }
}
