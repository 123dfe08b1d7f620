//! The report files of a CI run: `--junit FILE`, `--json FILE` and the Markdown summary
//! appended to `$GITHUB_STEP_SUMMARY`.
//!
//! `--junit` and `--json` are created before anything runs, so a path that cannot be
//! written is a usage error (exit 2) rather than a run whose report is lost at the end.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::{ProbeRun, junit, markdown};

/// The environment variable GitHub Actions names its job summary file in.
pub const STEP_SUMMARY_VAR: &str = "GITHUB_STEP_SUMMARY";

/// A report file that cannot be created: `cannot write --junit out/report.xml: …`.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {flag} {}: {source}", path.display())]
pub struct OpenError {
    pub flag: &'static str,
    pub path: PathBuf,
    pub source: std::io::Error,
}

pub struct Files {
    junit: Option<(PathBuf, File)>,
    json: Option<(PathBuf, File)>,
    step_summary: Option<PathBuf>,
}

impl Files {
    /// Create (truncate) the `--junit` and `--json` files. `step_summary` is only appended
    /// to at the end.
    pub fn open(
        junit: Option<&Path>,
        json: Option<&Path>,
        step_summary: Option<PathBuf>,
    ) -> Result<Files, OpenError> {
        let create = |flag: &'static str, p: &Path| {
            File::create(p)
                .map(|f| (p.to_path_buf(), f))
                .map_err(|source| OpenError {
                    flag,
                    path: p.to_path_buf(),
                    source,
                })
        };
        Ok(Files {
            junit: junit.map(|p| create("--junit", p)).transpose()?,
            json: json.map(|p| create("--json", p)).transpose()?,
            step_summary,
        })
    }

    /// `$GITHUB_STEP_SUMMARY`, when it is set to a path.
    pub fn step_summary_from_env() -> Option<PathBuf> {
        std::env::var_os(STEP_SUMMARY_VAR)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    }

    /// The `--json` file, for the live reporter to write each run into.
    pub fn take_json(&mut self) -> Option<(PathBuf, File)> {
        self.json.take()
    }

    /// Write the JUnit report and append the Markdown summary. Returns what could not be
    /// written: a lost JUnit report is an error, a lost step summary only a warning.
    pub fn finish(self, runs: &[ProbeRun], environment: Option<&str>) -> Finished {
        let mut out = Finished::default();
        if let Some((path, mut file)) = self.junit {
            let written = junit::to_xml(runs, environment).and_then(|xml| {
                file.write_all(xml.as_bytes())?;
                file.sync_all()
            });
            if let Err(e) = written {
                out.errors
                    .push(format!("cannot write --junit {}: {e}", path.display()));
            }
        }
        if let Some(path) = self.step_summary {
            let text = markdown::summary(runs, environment);
            let appended = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .and_then(|mut f| f.write_all(text.as_bytes()));
            if let Err(e) = appended {
                out.warnings.push(format!(
                    "cannot append the summary to ${STEP_SUMMARY_VAR} ({}): {e}",
                    path.display()
                ));
            }
        }
        out
    }
}

#[derive(Debug, Default)]
pub struct Finished {
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
}
