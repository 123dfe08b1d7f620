//! `journeyprobe validate [PATHS…]`
//!
//! Validation is structure, references and types. A secret's value is needed only to run,
//! so a secret whose environment variable or file is missing is a note here, not a problem
//! (validate runs where the secrets are not: a CI job, a laptop); `--strict` makes it one.

use std::path::PathBuf;

use super::ExitCode;
use crate::config::{self, Diagnostic, ProcessEnv, SecretsUnused};

#[derive(clap::Args, Debug)]
#[command(after_help = "\
A secret whose environment variable or file is missing is reported as a note naming the \
variable and its file:line:column, and does not fail validation: its value is needed only to \
run. With --strict it is a problem (exit 2), as it is for run and serve.")]
pub struct Args {
    /// Probe files or folders (searched recursively for *.yaml / *.yml). Default: journeys/
    pub paths: Vec<PathBuf>,
    /// Validate as `run --env NAME` loads: the vars of each file's `envs:` block NAME (a
    /// file with `envs:` and no such block is a problem).
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,
    /// Also fail on a secret that cannot be resolved (its environment variable is unset or
    /// its file missing), as `run` and `serve` would.
    #[arg(long)]
    pub strict: bool,
}

pub fn run(args: Args) -> ExitCode {
    let paths = super::default_paths(args.paths);
    let environment = args.env.as_deref();
    let (loaded, unresolved) = match config::load_for(&paths, &ProcessEnv, environment) {
        Ok(loaded) => (Ok(loaded), Vec::new()),
        Err(problems) if args.strict => (Err(problems), Vec::new()),
        Err(problems) => {
            // Again as `list` loads, with unresolved secrets standing in: what is still
            // wrong is a problem, and the secrets only the first load missed are notes.
            let lenient = config::load_for(&paths, &SecretsUnused(&ProcessEnv), environment);
            let unresolved = unresolved_secrets(problems, lenient.as_ref().err());
            (lenient, unresolved)
        }
    };
    for d in &unresolved {
        eprintln!(
            "note: {d} — not needed to validate; run and serve need it (validate --strict fails on it)"
        );
    }
    match loaded {
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

/// The problems of a load with every secret resolved (`strict`) that a load with
/// unresolvable secrets standing in (`lenient`) did not have, and that are about a secret:
/// the secrets that could not be resolved. Others only the strict load had follow from an
/// unresolved secret's empty value, and go with it.
fn unresolved_secrets(
    strict: Vec<Diagnostic>,
    lenient: Option<&Vec<Diagnostic>>,
) -> Vec<Diagnostic> {
    let lenient = lenient.map(Vec::as_slice).unwrap_or_default();
    strict
        .into_iter()
        .filter(|d| d.key.starts_with("secrets.") && !lenient.contains(d))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(key: &str, line: usize) -> Diagnostic {
        Diagnostic {
            file: "j.yaml".into(),
            line,
            column: 3,
            key: key.into(),
            message: "m".into(),
            hint: None,
        }
    }

    #[test]
    fn only_secret_problems_the_lenient_load_lost_are_notes() {
        let strict = vec![
            d("secrets.pw", 3),
            d("steps[1].goto", 5),
            d("secrets.bad", 4),
        ];
        let lenient = vec![d("secrets.bad", 4)];
        assert_eq!(
            unresolved_secrets(strict.clone(), Some(&lenient)),
            [d("secrets.pw", 3)]
        );
        assert_eq!(
            unresolved_secrets(strict, None),
            [d("secrets.pw", 3), d("secrets.bad", 4)]
        );
    }
}
