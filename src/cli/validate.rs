//! `journeyprobe validate [PATHS…]`

use std::path::PathBuf;

use crate::config::{self, ProcessEnv};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Probe files or folders (searched recursively for *.yaml / *.yml). Default: journeys/
    pub paths: Vec<PathBuf>,
}

pub fn run(args: Args) -> i32 {
    let paths = super::default_paths(args.paths);
    match config::load(&paths, &ProcessEnv) {
        Ok(loaded) => {
            say!(
                "{} journey(s), {} check(s) and {} BPM(s) in {} file(s): all valid",
                loaded.journeys.len(),
                loaded.checks.len(),
                loaded.bpms.len(),
                loaded.files.len()
            );
            0
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
            super::EXIT_CONFIG
        }
    }
}
