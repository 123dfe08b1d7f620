//! Thin binary: parse the command line, hand it to the library, exit with its code.

use clap::Parser;
use journeyprobe::cli::{Cli, run};
use tracing_subscriber::EnvFilter;

fn main() {
    let cli = Cli::parse();
    let level = match cli.verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            EnvFilter::try_from_default_env()
                // Other crates stay at warn: their debug output is not ours to vouch for.
                .unwrap_or_else(|_| EnvFilter::new(format!("journeyprobe={level},warn"))),
        )
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(3);
        }
    };
    let code = runtime.block_on(run(cli));
    // Background tasks (log drains, signal listeners) must not hold the exit.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    std::process::exit(code);
}
