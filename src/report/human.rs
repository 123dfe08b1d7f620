//! Human output: each step as it runs with its duration, then for a journey that did not
//! pass, which step, the reason, the message and the artifact paths.

use std::io::Write;
use std::sync::Mutex;

use super::Tally;
use crate::config::{Journey, Step};
use crate::journey::{Observer, RunResult, StepRecord, StepStatus};
use crate::outcome::Outcome;

/// Prints to stdout while journeys run.
pub struct Human {
    out: Mutex<Box<dyn Write + Send>>,
}

impl Human {
    pub fn stdout() -> Self {
        Human {
            out: Mutex::new(Box::new(std::io::stdout())),
        }
    }

    pub fn new(out: Box<dyn Write + Send>) -> Self {
        Human {
            out: Mutex::new(out),
        }
    }

    fn emit(&self, text: &str) {
        let mut out = self.out.lock().unwrap_or_else(|p| p.into_inner());
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }

    /// The verdict of one journey.
    pub fn finished(&self, r: &RunResult) {
        self.emit(&verdict(r));
    }

    pub fn summary(&self, results: &[RunResult]) {
        self.emit(&summary(Tally::of(results)));
    }
}

impl Observer for Human {
    fn journey_started(&self, j: &Journey) {
        self.emit(&format!("{} — {}\n", j.name, j.file.display()));
    }

    fn step_started(&self, j: &Journey, step: &Step) {
        let label = j.redactor.redact(&step.label());
        self.emit(&format!("  [{}/{}] {label} … ", step.index, j.steps.len()));
    }

    fn step_finished(&self, _j: &Journey, r: &StepRecord) {
        let status = match r.status {
            StepStatus::Passed => "ok",
            StepStatus::Failed => "FAILED",
            StepStatus::Skipped => "skipped",
        };
        self.emit(&format!("{status} ({})\n", duration(r.duration_ms)));
    }
}

pub fn duration(ms: f64) -> String {
    if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{:.2} s", ms / 1000.0)
    }
}

pub fn verdict(r: &RunResult) -> String {
    let took = duration(r.duration_ms);
    let name = if r.kind == "journey" {
        r.probe.clone()
    } else {
        format!("{} ({} check)", r.probe, r.kind)
    };
    let gap = if r.kind == "journey" { "\n" } else { "" };
    if r.outcome == Outcome::Success {
        return format!("✓ {name}: success in {took}\n{gap}");
    }
    let mark = if r.outcome == Outcome::Failure {
        "✗"
    } else {
        "!"
    };
    let reason = r.reason.map(|x| x.as_str()).unwrap_or("unknown");
    let mut s = format!("{mark} {name}: {} ({reason})", r.outcome);
    if let Some(phase) = &r.phase {
        s.push_str(&format!(" in {phase}"));
    }
    s.push_str(&format!(" after {took}\n"));
    if let Some(m) = &r.message {
        s.push_str(&format!("    {m}\n"));
    }
    if !r.timings.is_empty() {
        let phases: Vec<String> = r
            .timings
            .0
            .iter()
            .map(|(p, ms)| format!("{p} {}", duration(*ms)))
            .collect();
        s.push_str(&format!("    timings: {}\n", phases.join(" · ")));
    }
    for p in &r.prerequisites {
        let reason = p.reason.map(|x| x.as_str()).unwrap_or("unknown");
        let message = p.message.as_deref().unwrap_or("");
        s.push_str(&match p.outcome {
            Outcome::Success => format!("    prerequisite {} passes\n", p.check),
            Outcome::Failure => {
                format!("    prerequisite {} fails: {reason} — {message}\n", p.check)
            }
            Outcome::Error => format!(
                "    prerequisite {} could not be checked: {reason} — {message}\n",
                p.check
            ),
        });
    }
    if r.outcome == Outcome::Error {
        s.push_str("    (the prober could not measure; this is not counted against the target)\n");
    }
    if let Some(e) = &r.teardown_error {
        s.push_str(&format!("    closing the session also failed: {e}\n"));
    }
    if let Some(rb) = &r.runbook {
        s.push_str(&format!("    runbook: {rb}\n"));
    }
    if !r.artifacts.is_empty() {
        s.push_str("    artifacts:\n");
        for a in &r.artifacts {
            s.push_str(&format!("      {}\n", a.display()));
        }
    }
    s.push_str(gap);
    s
}

pub fn summary(t: Tally) -> String {
    let total = t.passed + t.failed + t.errors;
    let noun = if total == 1 { "probe" } else { "probes" };
    format!(
        "{total} {noun}: {} passed, {} failed, {} could not be verified\n",
        t.passed, t.failed, t.errors
    )
}
