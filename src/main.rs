//! Thin binary: parse the command line, hand it to the library, exit with its code.

use std::io::IsTerminal;

use clap::Parser;
use journeyprobe::browser::driver::{REAPER_ARG, reap_after, start_reaper};
use journeyprobe::cli::{Cli, Command, ExitCode, LogFormat, run};
use journeyprobe::log_line::OneLine;
use tracing_subscriber::EnvFilter;

fn main() {
    let mut args = std::env::args_os().skip(1);
    if args.next().as_deref() == Some(std::ffi::OsStr::new(REAPER_ARG)) {
        if let Some(parent) = args.next().and_then(|p| p.to_str()?.parse().ok()) {
            reap_after(parent);
        }
        return;
    }
    let cli = Cli::parse();
    // Whatever ends this process, the browsers it started end with it (see start_reaper).
    if matches!(
        cli.command,
        Command::Run(_) | Command::Serve(_) | Command::Repro(_) | Command::Demo(_)
    ) && let Err(e) = std::env::current_exe().and_then(|exe| start_reaper(&exe))
    {
        eprintln!(
            "warning: cannot start the browser reaper ({e}); browsers may outlive a killed journeyprobe until its next start"
        );
    }
    // A service logs each run at info; one-shot commands print their own report and log
    // only what goes wrong. So does the demo: its own lines (progress, the try-it commands,
    // each failure with its repro line) would scroll away under a log line per run.
    let quiet = if matches!(cli.command, Command::Serve(_)) {
        "info"
    } else {
        "warn"
    };
    let level = match cli.verbose {
        0 => quiet,
        1 => "info",
        _ => "debug",
    };
    let filter = EnvFilter::try_from_default_env()
        // Other crates stay at warn: their debug output is not ours to vouch for.
        .unwrap_or_else(|_| EnvFilter::new(format!("journeyprobe={level},warn")));
    let ansi = std::io::stderr().is_terminal();
    let builder = tracing_subscriber::fmt()
        // Each event on one line, whatever its values hold (see log_line).
        .with_writer(OneLine::new(std::io::stderr, ansi))
        .with_ansi(ansi)
        .with_env_filter(filter);
    match cli.log_format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(ExitCode::ProberError.code());
        }
    };
    let code = runtime.block_on(run(cli));
    // Background tasks (log drains, signal listeners) must not hold the exit.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    std::process::exit(code.code());
}
