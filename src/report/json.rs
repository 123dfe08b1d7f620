//! JSON lines: one object per probe run, written as each run finishes, so a consumer can
//! stream them (`jq` reads the lines one by one). The object is the last attempt's
//! [`RunResult`] with `attempts`, `flaky` and, after a retry, `earlier_attempts`.

use std::io::Write;
use std::path::PathBuf;

use serde::Serialize;

use super::ProbeRun;
use crate::journey::{Phase, RunResult};
use crate::outcome::{Outcome, Reason};

pub fn write_result(out: &mut dyn Write, result: &RunResult) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, result)?;
    out.write_all(b"\n")?;
    out.flush()
}

/// One line for a probe run, with its attempts.
pub fn write_run(out: &mut dyn Write, run: &ProbeRun) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, &Line::of(run))?;
    out.write_all(b"\n")?;
    out.flush()
}

#[derive(Serialize)]
struct Line<'a> {
    #[serde(flatten)]
    result: &'a RunResult,
    attempts: usize,
    flaky: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    earlier_attempts: Vec<Earlier<'a>>,
}

/// What an attempt before the last one came to (its steps are in its artifacts).
#[derive(Serialize)]
struct Earlier<'a> {
    outcome: Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<Reason>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    phase: Option<&'a Phase>,
    started_at: &'a str,
    duration_ms: f64,
    #[serde(skip_serializing_if = "<[PathBuf]>::is_empty")]
    artifacts: &'a [PathBuf],
}

impl<'a> Line<'a> {
    fn of(run: &'a ProbeRun) -> Line<'a> {
        Line {
            result: &run.result,
            attempts: run.attempts(),
            flaky: run.flaky(),
            earlier_attempts: run
                .earlier
                .iter()
                .map(|r| Earlier {
                    outcome: r.outcome,
                    reason: r.reason,
                    message: r.message.as_deref(),
                    phase: r.phase.as_ref(),
                    started_at: &r.started_at,
                    duration_ms: r.duration_ms,
                    artifacts: &r.artifacts,
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures::{check, flaky};

    fn line(run: &ProbeRun) -> serde_json::Value {
        let mut out = Vec::new();
        write_run(&mut out, run).unwrap();
        assert!(out.ends_with(b"}\n"));
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn a_single_attempt_keeps_every_result_field_and_adds_attempts() {
        let v = line(&ProbeRun::single(check("a", Outcome::Success, None)));
        assert_eq!(v["probe"], "a");
        assert_eq!(v["kind"], "http");
        assert_eq!(v["outcome"], "success");
        assert_eq!(v["attempts"], 1);
        assert_eq!(v["flaky"], false);
        assert!(v.get("earlier_attempts").is_none());
    }

    #[test]
    fn a_pass_on_retry_is_flaky_and_keeps_the_first_failure() {
        let run = flaky("a");
        let v = line(&run);
        assert_eq!(v["outcome"], "success");
        assert_eq!(v["attempts"], 2);
        assert_eq!(v["flaky"], true);
        let first = &v["earlier_attempts"][0];
        assert_eq!(first["outcome"], "failure");
        assert_eq!(first["reason"], "status_mismatch");
        assert_eq!(first["phase"]["phase"], "check");
    }
}
