//! Human output: each step as it runs with its duration, then for a journey that did not
//! pass, which step, the reason, the message and the artifact paths.

use std::io::Write;
use std::sync::Mutex;

use super::{ProbeRun, Tally, attempt_line};
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

    /// The verdict of one probe run, with its earlier attempts.
    pub fn finished_run(&self, run: &ProbeRun) {
        self.emit(&run_verdict(run));
    }

    /// Between the attempts of a journey, whose steps are shown as they run.
    pub fn retrying(&self, r: &RunResult, attempt: usize, attempts: usize) {
        self.emit(&format!(
            "  attempt {attempt} of {attempts}: {} — retrying\n",
            attempt_line(r)
        ));
    }

    pub fn summary(&self, runs: &[ProbeRun]) {
        self.emit(&summary(Tally::of_runs(runs)));
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
        // A step that loaded a page says how fast the page was: `ok (250 ms; ttfb 12 ms, …)`.
        let page = r
            .page
            .map(|p| p.summary())
            .filter(|s| !s.is_empty())
            .map(|s| format!("; {s}"))
            .unwrap_or_default();
        self.emit(&format!("{status} ({}{page})\n", duration(r.duration_ms)));
    }
}

/// A check's phase timings on one line, `dns 1 ms · connect 2 ms · …`; None without any.
pub fn timings(r: &RunResult) -> Option<String> {
    let phases: Vec<String> = r
        .timings
        .0
        .iter()
        .map(|(p, ms)| format!("{p} {}", duration(*ms)))
        .collect();
    (!phases.is_empty()).then(|| phases.join(" · "))
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
    let name = if r.kind.is_journey() {
        r.probe.clone()
    } else {
        format!("{} ({} check)", r.probe, r.kind)
    };
    let gap = if r.kind.is_journey() { "\n" } else { "" };
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
    if let Some(t) = timings(r) {
        s.push_str(&format!("    timings: {t}\n"));
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

/// [`verdict`] of the last attempt, saying on its first line how many attempts it took
/// (`flaky: passed on attempt 2 of 2`) and listing each earlier attempt under it.
pub fn run_verdict(run: &ProbeRun) -> String {
    let base = verdict(&run.result);
    if run.earlier.is_empty() {
        return base;
    }
    let (first, rest) = base.split_once('\n').unwrap_or((&base, ""));
    let n = run.attempts();
    let note = if run.flaky() {
        format!(" — flaky: passed on attempt {n} of {n}")
    } else {
        format!(" (attempt {n} of {n})")
    };
    // Journeys end their verdict with a blank line; the attempts go above it.
    let (body, gap) = match rest.strip_suffix("\n\n") {
        Some(b) => (format!("{b}\n"), "\n"),
        None => (rest.to_string(), ""),
    };
    let mut s = format!("{first}{note}\n{body}");
    for (i, r) in run.earlier.iter().enumerate() {
        s.push_str(&format!("    attempt {}: {}\n", i + 1, attempt_line(r)));
    }
    s.push_str(gap);
    s
}

pub fn summary(t: Tally) -> String {
    let total = t.passed + t.failed + t.errors;
    let noun = if total == 1 { "probe" } else { "probes" };
    let flaky = if t.flaky > 0 {
        format!(" ({} flaky: passed on a retry)", t.flaky)
    } else {
        String::new()
    };
    format!(
        "{total} {noun}: {} passed{flaky}, {} failed, {} could not be verified\n",
        t.passed, t.failed, t.errors
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures::{check, flaky};

    #[test]
    fn a_flaky_pass_says_so_and_shows_the_first_attempt() {
        let run = flaky("flaky_route");
        assert_eq!(
            run_verdict(&run),
            "✓ flaky_route (http check): success in 3 ms — flaky: passed on attempt 2 of 2\n    \
             attempt 1: failure (status_mismatch) after 3 ms: flaky_route went | <wrong>\n"
        );
        assert_eq!(
            summary(Tally::of_runs(&[run])),
            "1 probe: 1 passed (1 flaky: passed on a retry), 0 failed, 0 could not be verified\n"
        );
    }

    #[test]
    fn one_attempt_reads_as_before() {
        let run = ProbeRun::single(check("a", Outcome::Success, None));
        assert_eq!(run_verdict(&run), "✓ a (http check): success in 3 ms\n");
        assert_eq!(
            summary(Tally::of_runs(&[run])),
            "1 probe: 1 passed, 0 failed, 0 could not be verified\n"
        );
    }
}
