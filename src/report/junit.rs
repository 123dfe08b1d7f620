//! JUnit XML for CI (`run --junit FILE`), written with `quick-junit` once every probe ran.
//!
//! - One `<testsuite>` per probe kind (`journey`, `http`, `dns`, `tls`, `bucket`), and one
//!   `<testcase>` per probe run with `classname` the kind and `name` the probe. CI test
//!   views (GitLab's test report, Jenkins, the GitHub JUnit publishers) list and count by
//!   suite, so a reader sees "journey: 1 of 3 failed" apart from dozens of cheap checks.
//! - A target failure is `<failure>`, a prober error `<error>` (CI tools show them apart:
//!   "broken" vs "could not verify"); `message` is the message and `type` the reason.
//! - Retries follow Maven Surefire's convention, which Jenkins, nextest and most JUnit
//!   readers know: a pass after failed attempts carries one `<flakyFailure>`/`<flakyError>`
//!   per earlier attempt (still a pass, as exit code 0 says), a run that never passed
//!   carries `<rerunFailure>`/`<rerunError>`. Readers that do not know those elements
//!   still see the testcase properties `attempts` and `flaky` and the first line of
//!   `<system-out>`.
//! - `<system-out>` holds what a person needs to act: the step timeline (index, label,
//!   status, duration), the check timings, prerequisite verdicts, incident, runbook and
//!   artifact paths. Every string comes from a result that is already redacted.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use quick_junit::{
    FlakyOrRerun, NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestRerun, TestSuite,
};

use super::ProbeRun;
use super::human::duration;
use crate::journey::{RunResult, StepStatus};
use crate::outcome::Outcome;

/// The report of a whole `run`; `environment` is `--env`, recorded as a suite property.
pub fn report(runs: &[ProbeRun], environment: Option<&str>) -> Report {
    let mut by_kind: BTreeMap<&str, Vec<&ProbeRun>> = BTreeMap::new();
    for run in runs {
        by_kind
            .entry(run.result.kind.as_str())
            .or_default()
            .push(run);
    }
    let mut report = Report::new("journeyprobe");
    let mut total = Duration::ZERO;
    for (kind, runs) in by_kind {
        let suite = suite(kind, &runs, environment);
        total += suite.time.unwrap_or_default();
        report.add_test_suite(suite);
    }
    report.set_time(total);
    report
}

/// The XML text of [`report`].
pub fn to_xml(runs: &[ProbeRun], environment: Option<&str>) -> std::io::Result<String> {
    report(runs, environment)
        .to_string()
        .map_err(std::io::Error::other)
}

fn suite(kind: &str, runs: &[&ProbeRun], environment: Option<&str>) -> TestSuite {
    let mut s = TestSuite::new(kind);
    if let Some(e) = environment {
        s.add_property(Property::new("environment", e));
    }
    let mut time = Duration::ZERO;
    for run in runs {
        time += std::iter::once(&run.result)
            .chain(&run.earlier)
            .map(|r| seconds(r.duration_ms))
            .sum::<Duration>();
        s.add_test_case(test_case(run));
    }
    // The earliest start of the suite's runs (a run's started_at is RFC 3339, UTC).
    if let Some(t) = runs
        .iter()
        .flat_map(|r| r.earlier.first().or(Some(&r.result)))
        .filter_map(|r| timestamp(&r.started_at))
        .min()
    {
        s.set_timestamp(t);
    }
    s.set_time(time);
    s
}

fn test_case(run: &ProbeRun) -> TestCase {
    let r = &run.result;
    let mut status = match r.outcome {
        Outcome::Success => TestCaseStatus::success(),
        Outcome::Failure | Outcome::Error => {
            let mut st = TestCaseStatus::non_success(kind_of(r.outcome));
            st.set_type(r.reason.map_or("unknown", |x| x.as_str()));
            st.set_message(r.message.as_deref().unwrap_or(""));
            st.set_description(description(r));
            st.set_rerun_kind(FlakyOrRerun::Rerun);
            st
        }
    };
    status.add_reruns(run.earlier.iter().map(rerun));
    let mut tc = TestCase::new(r.probe.as_str(), status);
    tc.set_classname(r.kind.as_str());
    tc.set_time(seconds(r.duration_ms));
    if let Some(t) = timestamp(&r.started_at) {
        tc.set_timestamp(t);
    }
    tc.add_property(Property::new("file", r.file.display().to_string()));
    tc.add_property(Property::new("attempts", run.attempts().to_string()));
    if run.flaky() {
        tc.add_property(Property::new("flaky", "true"));
    }
    for i in &r.incident {
        tc.add_property(Property::new("incident", i));
    }
    if let Some(rb) = &r.runbook {
        tc.add_property(Property::new("runbook", rb));
    }
    tc.set_system_out(system_out(run));
    tc
}

/// An earlier attempt, as a `flakyFailure`/`rerunFailure` (or `…Error`) element.
fn rerun(r: &RunResult) -> TestRerun {
    let mut x = TestRerun::new(kind_of(r.outcome));
    x.set_type(r.reason.map_or("unknown", |x| x.as_str()));
    x.set_message(r.message.as_deref().unwrap_or(""));
    x.set_time(seconds(r.duration_ms));
    if let Some(t) = timestamp(&r.started_at) {
        x.set_timestamp(t);
    }
    let steps = timeline(r);
    if !steps.is_empty() {
        x.set_system_out(steps);
    }
    x.set_description(description(r));
    x
}

fn kind_of(outcome: Outcome) -> NonSuccessKind {
    match outcome {
        // Never asked for a success; a failure is the closer reading.
        Outcome::Failure | Outcome::Success => NonSuccessKind::Failure,
        Outcome::Error => NonSuccessKind::Error,
    }
}

/// The element's text: where it went wrong, and what.
fn description(r: &RunResult) -> String {
    let mut s = String::new();
    if let Some(p) = &r.phase {
        let _ = write!(s, "in {p}: ");
    }
    s.push_str(r.message.as_deref().unwrap_or(""));
    if r.outcome == Outcome::Error {
        s.push_str("\n(the prober could not measure; this is not counted against the target)");
    }
    s
}

/// What a person needs to act on this run, as plain text.
pub fn system_out(run: &ProbeRun) -> String {
    let r = &run.result;
    let mut s = String::new();
    if run.flaky() {
        let _ = writeln!(
            s,
            "FLAKY: passed on attempt {n} of {n}; earlier attempts did not pass",
            n = run.attempts()
        );
    } else if !run.earlier.is_empty() {
        let _ = writeln!(s, "{} attempts, none passed", run.attempts());
    }
    let _ = writeln!(
        s,
        "{} {} ({}): {} in {}",
        r.kind,
        r.probe,
        r.file.display(),
        r.outcome,
        duration(r.duration_ms)
    );
    s.push_str(&timeline(r));
    for (i, e) in run.earlier.iter().enumerate() {
        let _ = writeln!(s, "attempt {}: {}", i + 1, super::attempt_line(e));
    }
    if !r.prerequisites.is_empty() {
        s.push_str("prerequisites:\n");
        for p in &r.prerequisites {
            let _ = write!(s, "  {}: {}", p.check, p.outcome);
            if let Some(reason) = p.reason {
                let _ = write!(s, " ({reason})");
            }
            if let Some(m) = &p.message {
                let _ = write!(s, " — {m}");
            }
            s.push('\n');
        }
    }
    if let Some(e) = &r.teardown_error {
        let _ = writeln!(s, "closing the session also failed: {e}");
    }
    for i in &r.incident {
        let _ = writeln!(s, "incident: {i}");
    }
    if let Some(rb) = &r.runbook {
        let _ = writeln!(s, "runbook: {rb}");
    }
    let artifacts = run.earlier.iter().chain([r]).flat_map(|x| &x.artifacts);
    for (i, a) in artifacts.enumerate() {
        if i == 0 {
            s.push_str("artifacts:\n");
        }
        let _ = writeln!(s, "  {}", a.display());
    }
    s
}

/// One attempt's steps (journeys) or phase timings (checks).
fn timeline(r: &RunResult) -> String {
    let mut s = String::new();
    if !r.steps.is_empty() {
        s.push_str("steps:\n");
    }
    let n = r.steps.len();
    for st in &r.steps {
        let status = match st.status {
            StepStatus::Passed => "passed",
            StepStatus::Failed => "FAILED",
            StepStatus::Skipped => "skipped",
        };
        let _ = write!(s, "  [{}/{n}] {} — {status}", st.index, st.label);
        if st.status != StepStatus::Skipped {
            let _ = write!(s, " in {}", duration(st.duration_ms));
        }
        if let Some(p) = st.page.filter(|p| p.each().next().is_some()) {
            let _ = write!(s, " (page: {})", p.summary());
        }
        if let Some(m) = &st.message {
            let _ = write!(s, ": {m}");
        }
        s.push('\n');
    }
    if let Some(t) = super::human::timings(r) {
        let _ = writeln!(s, "timings: {t}");
    }
    s
}

fn seconds(ms: f64) -> Duration {
    Duration::try_from_secs_f64(ms / 1000.0).unwrap_or_default()
}

fn timestamp(rfc3339: &str) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    chrono::DateTime::parse_from_rfc3339(rfc3339).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Reason;
    use crate::report::fixtures::{check, failed_journey, flaky};

    #[test]
    fn failures_errors_and_flaky_passes_are_told_apart() {
        let runs = vec![
            ProbeRun::single(failed_journey()),
            ProbeRun::single(check("dns_gone", Outcome::Error, Some(Reason::Timeout))),
            flaky("flaky_route"),
        ];
        let xml = to_xml(&runs, Some("staging")).unwrap();
        for want in [
            r#"<testsuites name="journeyprobe" tests="3" skipped="0" failures="1" errors="1""#,
            r#"<testsuite name="http" tests="2" skipped="0" errors="1" failures="0""#,
            r#"<testsuite name="journey" tests="1" skipped="0" errors="0" failures="1""#,
            r#"<property name="environment" value="staging"/>"#,
            r#"<testcase name="login" classname="journey""#,
            r#"<failure message="contrast 1:1 is below 3" type="assertion_failed">in step 2"#,
            r#"<error message="dns_gone went | &lt;wrong&gt;" type="timeout">"#,
            r#"<flakyFailure timestamp="2027-01-15T08:00:00.000+00:00" time="0.003" message="flaky_route went | &lt;wrong&gt;" type="status_mismatch">"#,
            r#"<property name="flaky" value="true"/>"#,
            "FLAKY: passed on attempt 2 of 2",
            "[1/3] goto http://127.0.0.1:1/login — passed in 120 ms (page: ttfb 12 ms, dcl 40 ms)\n",
            "[2/3] submit button is visible — FAILED in 15 ms: contrast 1:1 is below 3",
            "[3/3] click #submit — skipped\n",
            "login_page: success",
            "runbook: https://wiki.test/runbooks/login",
            "out/login/t/screenshot.png",
        ] {
            assert!(xml.contains(want), "no {want} in:\n{xml}");
        }
        assert!(!xml.contains("<system-out></system-out>"), "{xml}");
    }

    #[test]
    fn a_run_that_never_passed_lists_its_reruns() {
        let run = ProbeRun {
            result: check("down", Outcome::Failure, Some(Reason::ConnectRefused)),
            earlier: vec![check("down", Outcome::Error, Some(Reason::Timeout))],
        };
        let xml = to_xml(&[run], None).unwrap();
        assert!(xml.contains("<rerunError "), "{xml}");
        assert!(xml.contains("2 attempts, none passed"), "{xml}");
    }
}
