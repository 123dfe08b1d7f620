//! Reporters: how results are shown. Human text (steps as they run), JSON lines, and the
//! CI reports written once everything ran: JUnit XML and a Markdown summary.

pub mod files;
pub mod human;
pub mod json;
pub mod junit;
pub mod live;
pub mod markdown;
pub mod repeat;

use crate::journey::RunResult;
use crate::outcome::Outcome;

pub use crate::probe::ProbeRun;

/// Counts for the closing summary line.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub passed: usize,
    /// Of `passed`, those that passed only on a retry.
    pub flaky: usize,
    pub failed: usize,
    pub errors: usize,
}

impl Tally {
    pub fn of(results: &[RunResult]) -> Tally {
        let mut t = Tally::default();
        for r in results {
            t.count(r.outcome);
        }
        t
    }

    pub fn of_runs(runs: &[ProbeRun]) -> Tally {
        let mut t = Tally::default();
        for r in runs {
            t.count(r.result.outcome);
            t.flaky += usize::from(r.flaky());
        }
        t
    }

    fn count(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Success => self.passed += 1,
            Outcome::Failure => self.failed += 1,
            Outcome::Error => self.errors += 1,
        }
    }
}

/// A whole line of text for one attempt's problem: `failure (http_status) after 2 ms: …`.
pub(crate) fn attempt_line(r: &RunResult) -> String {
    let reason = r.reason.map_or("none", |x| x.as_str());
    let mut s = format!(
        "{} ({reason}) after {}",
        r.outcome,
        human::duration(r.duration_ms)
    );
    if let Some(m) = &r.message {
        s.push_str(": ");
        s.push_str(m);
    }
    s
}

#[cfg(test)]
pub(crate) mod fixtures {
    //! Results built without running anything, for the reporters' unit tests.

    use std::path::PathBuf;

    use crate::journey::{Phase, RunResult, StepRecord, StepStatus};
    use crate::outcome::{Outcome, Reason};
    use crate::result::Prerequisite;

    use super::ProbeRun;

    pub fn check(name: &str, outcome: Outcome, reason: Option<Reason>) -> RunResult {
        let text = format!("checks: [{{ name: {name}, http: {{ url: 'http://127.0.0.1:1/' }} }}]");
        let env = std::collections::BTreeMap::<String, String>::new();
        let (parsed, d) =
            crate::config::file::parse_file(std::path::Path::new("c.yaml"), &text, &env);
        assert!(d.is_empty(), "{:?}", d.items);
        let c = parsed.expect("valid").checks.remove(0);
        let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_800_000_000);
        let mut r = RunResult::for_check(&c, at);
        r.duration_ms = 3.0;
        r.outcome = outcome;
        if let Some(reason) = reason {
            r.reason = Some(reason);
            r.message = Some(format!("{name} went | <wrong>"));
            r.phase = Some(Phase::Check {
                check: crate::config::CheckKind::Http,
            });
        }
        r
    }

    /// `name`, an http check that failed with `status_mismatch` and passed on its retry.
    pub fn flaky(name: &str) -> ProbeRun {
        ProbeRun {
            result: check(name, Outcome::Success, None),
            earlier: vec![check(name, Outcome::Failure, Some(Reason::StatusMismatch))],
        }
    }

    /// A journey that failed at its second step of three, with a prerequisite, an incident,
    /// a runbook and artifacts.
    pub fn failed_journey() -> RunResult {
        let mut r = check("login", Outcome::Failure, Some(Reason::AssertionFailed));
        r.kind = crate::config::ProbeKind::Journey;
        r.file = PathBuf::from("journeys/login.yaml");
        r.phase = Some(Phase::Step {
            index: 2,
            label: "submit button is visible".into(),
            action: crate::config::StepKind::AssertVisible,
        });
        r.message = Some("contrast 1:1 is below 3".into());
        let step = |index, label: &str, status, ms| StepRecord {
            overhead_ms: None,
            index,
            label: label.into(),
            named: false,
            action: crate::config::StepKind::Goto,
            status,
            duration_ms: ms,
            message: (status == StepStatus::Failed).then(|| "contrast 1:1 is below 3".into()),
            // The goto loaded a page; its load figure is missing (absent, not zero).
            page: (index == 1).then_some(crate::result::PageTimings {
                ttfb_ms: Some(12.0),
                dom_content_loaded_ms: Some(40.4),
                ..Default::default()
            }),
        };
        r.steps = vec![
            step(
                1,
                "goto http://127.0.0.1:1/login",
                StepStatus::Passed,
                120.0,
            ),
            step(2, "submit button is visible", StepStatus::Failed, 15.0),
            step(3, "click #submit", StepStatus::Skipped, 0.0),
        ];
        r.prerequisites = vec![Prerequisite {
            check: "login_page".into(),
            outcome: Outcome::Success,
            reason: None,
            message: None,
        }];
        r.incident = vec!["INC-1234".into(), "https://tickets.test/INC-9".into()];
        r.runbook = Some("https://wiki.test/runbooks/login".into());
        r.artifacts = vec![PathBuf::from("out/login/t/screenshot.png")];
        r
    }
}
