//! `journeyprobe validate [PATHS…]`

use std::path::PathBuf;

use super::ExitCode;
use crate::config::{self, ProcessEnv};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Probe files or folders (searched recursively for *.yaml / *.yml). Default: journeys/
    pub paths: Vec<PathBuf>,
    /// Validate as `run --env NAME` loads: the vars of each file's `envs:` block NAME (a
    /// file with `envs:` and no such block is a problem).
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,
}

pub fn run(args: Args) -> ExitCode {
    let paths = super::default_paths(args.paths);
    match config::load_for(&paths, &ProcessEnv, args.env.as_deref()) {
        Ok(loaded) => {
            if let Some(name) = &args.env
                && loaded.environments.is_empty()
            {
                eprintln!("warning: --env {name}: no probe file has envs:, so it changes nothing");
            }
            say!(
                "{} journey(s), {} check(s) and {} BPM(s) in {} file(s): all valid",
                loaded.journeys.len(),
                loaded.checks.len(),
                loaded.bpms.len(),
                loaded.files.len()
            );
            ExitCode::Passed
        }
        Err(problems) => {
            for p in &problems {
                say!("{p}");
            }
            let files: std::collections::BTreeSet<_> = problems.iter().map(|p| &p.file).collect();
            let noun = if problems.len() == 1 {
                "problem"
            } else {
                "problems"
            };
            say!("{} {noun} in {} file(s)", problems.len(), files.len());
            ExitCode::Usage
        }
    }
}
