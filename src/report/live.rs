//! Where each probe run goes the moment it finishes: stdout (human text, or JSON lines) and,
//! with `run --json FILE`, the same JSON lines into that file, whatever stdout shows.

use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;

use super::human::Human;
use super::{ProbeRun, json};
use crate::journey::{Observer, Quiet, RunResult};

pub struct Live {
    human: Human,
    /// JSON lines on stdout instead of human text.
    json_stdout: bool,
    json_file: Option<JsonFile>,
}

struct JsonFile {
    path: PathBuf,
    file: Mutex<File>,
    /// The first write that failed; the run goes on and it is reported at the end.
    error: Mutex<Option<String>>,
}

impl Live {
    /// Human text on stdout, or JSON lines when `json_stdout`.
    pub fn stdout(json_stdout: bool) -> Live {
        Live {
            human: Human::stdout(),
            json_stdout,
            json_file: None,
        }
    }

    /// Also write every run as a JSON line to `file` (already created at `path`).
    pub fn with_json_file(mut self, path: PathBuf, file: File) -> Live {
        self.json_file = Some(JsonFile {
            path,
            file: Mutex::new(file),
            error: Mutex::new(None),
        });
        self
    }

    /// Who watches a journey's steps as they run.
    pub fn observer(&self) -> &dyn Observer {
        if self.json_stdout {
            &Quiet
        } else {
            &self.human
        }
    }

    /// A probe run finished: show it, and append it to the JSON file.
    pub fn finished(&self, run: &ProbeRun) {
        if self.json_stdout {
            let _ = json::write_run(&mut std::io::stdout().lock(), run);
        } else {
            self.human.finished_run(run);
        }
        if let Some(f) = &self.json_file {
            let mut file = f.file.lock().unwrap_or_else(|p| p.into_inner());
            if let Err(e) = json::write_run(&mut *file, run) {
                let mut first = f.error.lock().unwrap_or_else(|p| p.into_inner());
                first.get_or_insert_with(|| format!("cannot write {}: {e}", f.path.display()));
            }
        }
    }

    /// A journey attempt did not pass and another follows. Human output only: its steps were
    /// just shown and the next attempt's follow.
    pub fn retrying(&self, r: &RunResult, attempt: usize, attempts: usize) {
        if !self.json_stdout {
            self.human.retrying(r, attempt, attempts);
        }
    }

    /// The closing line of human output.
    pub fn summary(&self, runs: &[ProbeRun]) {
        if !self.json_stdout {
            self.human.summary(runs);
        }
    }

    /// `run --repeat`: per journey, outcomes and duration statistics; a table in human
    /// output, one `{"repeat_summary": …}` line per journey in JSON.
    pub fn repeat_summary(&self, runs: &[ProbeRun]) {
        let stats = super::repeat::stats(runs);
        if self.json_stdout {
            let mut out = std::io::stdout().lock();
            for s in &stats {
                let _ = writeln!(out, "{}", serde_json::json!({ "repeat_summary": s }));
            }
            let usage = super::repeat::prober_usage();
            let _ = writeln!(out, "{}", serde_json::json!({ "prober_usage": usage }));
        } else {
            let _ = write!(
                std::io::stdout().lock(),
                "{}",
                super::repeat::render(&stats)
            );
        }
        if let Some(f) = &self.json_file {
            let mut file = f.file.lock().unwrap_or_else(|p| p.into_inner());
            for s in &stats {
                let _ = writeln!(file, "{}", serde_json::json!({ "repeat_summary": s }));
            }
        }
    }

    /// Why the JSON file is incomplete, if it is.
    pub fn json_file_error(&self) -> Option<String> {
        let f = self.json_file.as_ref()?;
        let mut file = f.file.lock().unwrap_or_else(|p| p.into_inner());
        let synced = file
            .flush()
            .and_then(|_| file.sync_all())
            .map_err(|e| format!("cannot write {}: {e}", f.path.display()));
        let first = f.error.lock().unwrap_or_else(|p| p.into_inner()).clone();
        first.or(synced.err())
    }
}
