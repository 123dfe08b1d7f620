//! The command line. `main.rs` parses [`Cli`] and calls [`run()`]; each subcommand lives in
//! its own file and returns the process exit code, an [`ExitCode`] (README.md, "Exit codes":
//! 0 passed, 1 a target failed, 2 usage or configuration error, 3 the prober could not
//! verify, 130 interrupted).

/// `println!` that does not panic on a closed pipe; see [`say`].
macro_rules! say {
    ($($arg:tt)*) => { $crate::cli::say(format_args!($($arg)*)) };
}

pub mod demo;
pub mod event;
pub mod faultlab;
pub mod incident;
pub mod interrupt;
pub mod list;
pub mod repro;
pub mod rules;
pub mod run;
pub mod serve;
pub mod validate;

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

pub use crate::outcome::ExitCode;

/// The variable that holds the events token: `serve` requires it on POST /api/v1/events,
/// and `event` and `run --deploy` send it, so all three must read the same name.
pub const EVENTS_TOKEN_ENV: &str = "JOURNEYPROBE_EVENTS_TOKEN";

/// `--browser chromium|firefox`: run every journey in this browser, whatever its file says.
pub fn parse_browser(s: &str) -> Result<crate::config::BrowserKind, String> {
    crate::config::BrowserKind::parse(s).ok_or_else(|| {
        let known: Vec<&str> = crate::config::BrowserKind::ALL
            .iter()
            .map(|b| b.as_str())
            .collect();
        format!("'{s}' is not one of: {}", known.join(", "))
    })
}

#[derive(Parser, Debug)]
#[command(
    name = "journeyprobe",
    version,
    about = "Drive a real browser through scripted user journeys and report whether users can still get through.",
    long_about = "journeyprobe drives a real browser (Chromium or Firefox, through WebDriver) through scripted user \
journeys — open the login page, sign in, reach the dashboard — and reports each run as success, \
failure (the target misbehaved) or error (the prober could not measure).\n\n\
Exit codes of run and validate: 0 all passed · 1 at least one target failure · \
2 usage or configuration error (nothing ran) · 3 the prober could not verify (errors, no failures).\n\n\
Probe files (journeys and checks) are documented in journeys/README.md."
)]
pub struct Cli {
    /// More log output on stderr (-v info, -vv debug). RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Log lines on stderr as readable text or as one JSON object per line.
    #[arg(long, value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check probe files and report every problem with file:line:column (exit 2 if any).
    Validate(validate::Args),
    /// Run every probe once — checks, then journeys in a real browser — and report.
    Run(run::Args),
    /// Run every probe on its schedule; keep history; serve the board, /metrics, the API,
    /// /healthz and /readyz.
    Serve(serve::Args),
    /// Print Prometheus recording and alerting rules generated from the probe files.
    Rules(rules::Args),
    /// Post a change event (deploy, flag flip, …) to a running serve.
    Event(event::Args),
    /// List every probe (kind, schedule, BPMs it feeds, prerequisites, incident links) and BPM.
    List(list::Args),
    /// Re-run a past run's journey exactly as recorded (text and vars), e.g. --headed.
    Repro(repro::Args),
    /// The whole product on one machine: the fault-lab site, serve with the example journeys
    /// and checks, and the board with the lab's fault switches (Ctrl-C stops it all).
    Demo(demo::Args),
    /// Serve the fault-lab fixture site (a login page, a dashboard, switchable faults).
    FaultLab(faultlab::Args),
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Steps as they run, then a verdict per journey.
    Human,
    /// One JSON object per probe run, one per line.
    Json,
}

/// Print a line on stdout. A closed pipe (`journeyprobe validate | head -1`) is not an
/// error worth a panic: the reader has what it wanted.
pub fn say(text: impl std::fmt::Display) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout().lock(), "{text}");
}

/// Default probe folder when no path is given.
pub fn default_paths(paths: Vec<PathBuf>) -> Vec<PathBuf> {
    if paths.is_empty() {
        vec![PathBuf::from("journeys")]
    } else {
        paths
    }
}

/// Run the parsed command line; returns the exit code.
pub async fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Validate(a) => validate::run(a),
        Command::Run(a) => run::run(a).await,
        Command::Serve(a) => serve::run(a).await,
        Command::Rules(a) => rules::run(a),
        Command::Event(a) => event::run(a).await,
        Command::List(a) => list::run(a),
        Command::Repro(a) => repro::run(a).await,
        Command::Demo(a) => demo::run(a).await,
        Command::FaultLab(a) => faultlab::run(a).await,
    }
}
