//! What one run of a probe produced: outcome, reason, and for a journey the step timeline
//! and artifact paths, for a check its phase timings. Every string in here has already been
//! through the probe's redactor.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::config::{CheckKind, Journey, ProbeKind, Step, StepKind};
use crate::outcome::{NetPhase, Outcome, Problem, Reason};

/// A prerequisite check's verdict, attached to the journey that failed.
#[derive(Clone, Debug, Serialize)]
pub struct Prerequisite {
    pub check: String,
    pub outcome: Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl Prerequisite {
    /// The verdict of a prerequisite check's run.
    pub fn of(r: &RunResult) -> Prerequisite {
        Prerequisite {
            check: r.probe.clone(),
            outcome: r.outcome,
            reason: r.reason,
            message: r.message.clone(),
        }
    }
}

/// Phase timings in milliseconds, kept in the order the phases happened; serialised as a
/// JSON object.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Timings(pub Vec<(NetPhase, f64)>);

impl Timings {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for Timings {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k.as_str(), v)?;
        }
        m.end()
    }
}

crate::closed::closed_set! {
    /// Where a journey's browser session came from: the `session` of its result and the
    /// label of `journeyprobe_pool_checkouts_total`.
    pub enum SessionKind {
        /// Reused from the pool, reset before the run.
        Warm => "warm",
        /// Opened for the run.
        New => "new",
    }
}

impl SessionKind {
    pub fn of(warm: bool) -> SessionKind {
        if warm {
            SessionKind::Warm
        } else {
            SessionKind::New
        }
    }
}

/// One Navigation Timing figure of a page. Closed set: it is a metric label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageTiming {
    Ttfb,
    DomContentLoaded,
    Load,
    Lcp,
}

impl PageTiming {
    pub fn as_str(self) -> &'static str {
        match self {
            PageTiming::Ttfb => "ttfb",
            PageTiming::DomContentLoaded => "dom_content_loaded",
            PageTiming::Load => "load",
            PageTiming::Lcp => "lcp",
        }
    }

    /// Short form for one-line reports.
    fn short(self) -> &'static str {
        match self {
            PageTiming::Ttfb => "ttfb",
            PageTiming::DomContentLoaded => "dcl",
            PageTiming::Load => "load",
            PageTiming::Lcp => "lcp",
        }
    }
}

/// Navigation Timing of the document a step navigated to, in milliseconds from the
/// navigation's start. Numbers only: no URL. A figure the browser did not have (load not
/// finished, no LCP support or no contentful paint yet) is absent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PageTimings {
    /// responseStart − startTime of the `navigation` entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttfb_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dom_content_loaded_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lcp_ms: Option<f64>,
}

impl PageTimings {
    /// The figures present, in the order of the JSON fields.
    pub fn each(&self) -> impl Iterator<Item = (PageTiming, f64)> {
        [
            (PageTiming::Ttfb, self.ttfb_ms),
            (PageTiming::DomContentLoaded, self.dom_content_loaded_ms),
            (PageTiming::Load, self.load_ms),
            (PageTiming::Lcp, self.lcp_ms),
        ]
        .into_iter()
        .filter_map(|(t, v)| v.map(|v| (t, v)))
    }

    /// `ttfb 12 ms, dcl 40 ms, load 80 ms` (empty when there is nothing).
    pub fn summary(&self) -> String {
        self.each()
            .map(|(t, v)| format!("{} {v:.0} ms", t.short()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// How one step ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Passed,
    Failed,
    /// Not reached because an earlier step failed.
    Skipped,
}

#[derive(Clone, Debug, Serialize)]
pub struct StepRecord {
    /// 1-based.
    pub index: usize,
    /// `name:` from the file, else a description of the action.
    pub label: String,
    /// The label is the step's `name:` (else a description of the action).
    #[serde(skip)]
    pub named: bool,
    /// The action key (`click`, `assert_visible`, …).
    pub action: StepKind,
    pub status: StepStatus,
    pub duration_ms: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Of `duration_ms`, the time journeyprobe itself spent: not waiting on the WebDriver
    /// server, not pausing between auto-wait probes. Absent for a step that did not run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overhead_ms: Option<f64>,
    /// Timings of the document the step navigated to (goto, a navigating click, press or
    /// select); absent for other steps and when the browser could not tell in time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<PageTimings>,
}

impl StepRecord {
    /// A step not reached because an earlier one failed (or the run never started).
    pub fn skipped(j: &Journey, step: &Step) -> StepRecord {
        StepRecord {
            index: step.index,
            label: j.redactor.redact(&step.label()),
            named: step.name.is_some(),
            action: step.action.kind(),
            status: StepStatus::Skipped,
            duration_ms: 0.0,
            message: None,
            overhead_ms: None,
            page: None,
        }
    }

    pub fn all_skipped(j: &Journey) -> Vec<StepRecord> {
        j.steps.iter().map(|s| StepRecord::skipped(j, s)).collect()
    }
}

/// Where in the run a problem happened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "phase")]
pub enum Phase {
    /// Starting the driver or opening the browser session.
    Setup,
    Step {
        index: usize,
        label: String,
        action: StepKind,
    },
    /// Closing the session.
    Teardown,
    /// A check (there is one phase: the check itself).
    Check { check: CheckKind },
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Phase::Setup => f.write_str("setup"),
            Phase::Step { index, label, .. } => write!(f, "step {index} ({label})"),
            Phase::Teardown => f.write_str("teardown"),
            Phase::Check { check } => write!(f, "the {check} check"),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct RunResult {
    /// The probe's name.
    pub probe: String,
    /// `journey`, or the check's kind (`http`, `dns`, …).
    pub kind: ProbeKind,
    pub file: PathBuf,
    pub outcome: Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phase: Option<Phase>,
    /// A locator matched nothing: what the page had that comes closest (`#welcome-banner`,
    /// `[name=email]`, `text=Log out`), best first, at most three, as a journey file writes
    /// a locator. Absent when nothing on the page was close.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub candidates: Vec<String>,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub duration_ms: f64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<StepRecord>,
    /// Check phase timings in milliseconds, in phase order (`dns`, `connect`, `tls`,
    /// `first_byte`, `transfer`, `total`).
    #[serde(skip_serializing_if = "Timings::is_empty")]
    pub timings: Timings,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub artifacts: Vec<PathBuf>,
    /// When a journey failed: how the checks it depends on fared, run right after it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub prerequisites: Vec<Prerequisite>,
    /// Closing the session failed; kept beside the outcome, never instead of it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub teardown_error: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub incident: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runbook: Option<String>,
    /// A journey's browser session: `warm` (reused from the pool, reset before) or `new`.
    /// Always a [`SessionKind`]'s text: kept as text because library users (the pool's
    /// acceptance test among them) compare it with `Some("warm")`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<&'static str>,
    /// The browser a journey ran in (`chromium`, `firefox`); none for a check.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub browser: Option<crate::config::BrowserKind>,
}

impl RunResult {
    /// A result for a run starting at `started_at`; `conclude` sets the outcome.
    fn fresh(
        probe: &str,
        kind: ProbeKind,
        file: &std::path::Path,
        started_at: std::time::SystemTime,
    ) -> RunResult {
        RunResult {
            probe: probe.to_string(),
            kind,
            file: file.to_path_buf(),
            outcome: Outcome::Success,
            reason: None,
            message: None,
            phase: None,
            candidates: Vec::new(),
            started_at: humantime::format_rfc3339_millis(started_at).to_string(),
            duration_ms: 0.0,
            steps: Vec::new(),
            timings: Timings::default(),
            artifacts: Vec::new(),
            prerequisites: Vec::new(),
            teardown_error: None,
            incident: Vec::new(),
            runbook: None,
            session: None,
            browser: None,
        }
    }

    /// A result for a journey run starting at `started_at`.
    pub fn begin(j: &Journey, started_at: std::time::SystemTime) -> RunResult {
        RunResult {
            incident: j.incident.clone(),
            runbook: j.runbook.clone(),
            browser: Some(j.browser),
            ..RunResult::fresh(&j.name, ProbeKind::Journey, &j.file, started_at)
        }
    }

    /// A result for a check run starting at `started_at`.
    pub fn for_check(c: &crate::config::Check, started_at: std::time::SystemTime) -> RunResult {
        RunResult::fresh(&c.name, c.spec.kind().into(), &c.file, started_at)
    }

    /// A run that never reached its first step (no driver, no session).
    pub fn not_started(j: &Journey, problem: Problem) -> RunResult {
        let mut r = RunResult::begin(j, std::time::SystemTime::now());
        r.steps = StepRecord::all_skipped(j);
        r.conclude(Some((problem, Phase::Setup)));
        r
    }

    /// Set the outcome from a problem (or success when there is none).
    pub fn conclude(&mut self, problem: Option<(Problem, Phase)>) {
        match problem {
            None => self.outcome = Outcome::Success,
            Some((p, phase)) => {
                self.outcome = p.reason.class();
                self.reason = Some(p.reason);
                self.message = Some(p.message);
                self.candidates = p.candidates;
                self.phase = Some(phase);
            }
        }
    }

    /// The failed step's index, if the problem was in a step.
    pub fn failed_step(&self) -> Option<usize> {
        match &self.phase {
            Some(Phase::Step { index, .. }) => Some(*index),
            Some(Phase::Setup | Phase::Teardown | Phase::Check { .. }) | None => None,
        }
    }
}
