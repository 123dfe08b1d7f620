//! Validated domain types. Everything here is already checked: regexes are compiled, URLs
//! parsed, durations typed, references expanded. Nothing downstream re-reads YAML.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use regex::Regex;

use crate::redact::Redactor;

/// Default whole-journey deadline.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default per-step budget (auto-wait).
pub const DEFAULT_STEP_TIMEOUT: Duration = Duration::from_secs(10);
/// Default `min_contrast` of `assert_visible` (WCAG AA for large text and UI components).
pub const DEFAULT_MIN_CONTRAST: f64 = 3.0;

/// A journey, ready to run.
#[derive(Clone, Debug)]
pub struct Journey {
    pub name: String,
    pub description: Option<String>,
    pub timeout: Duration,
    pub step_timeout: Duration,
    /// How often it runs under `serve` (defaulted: see [`super::schedule`]).
    pub every: Duration,
    /// Extra attempts of a failed or errored run.
    pub retries: u32,
    /// Whether a run may use a warm, reset browser from the pool.
    pub isolation: Isolation,
    /// The browser it runs in (`browser:`, default chromium; `--browser` overrides).
    pub browser: BrowserKind,
    pub labels: BTreeMap<String, String>,
    pub incident: Vec<String>,
    pub runbook: Option<String>,
    /// Checks this journey stands on, with where each is named (for diagnostics). They run
    /// when the journey fails, to say which dependency broke.
    pub depends_on: Vec<(String, (usize, usize))>,
    pub steps: Vec<Step>,
    /// Replaces every resolved secret value with `••••`.
    pub redactor: Redactor,
    /// The file's `vars:` as resolved, except those holding a secret (kept with each run
    /// for `repro`).
    pub vars: BTreeMap<String, String>,
    pub file: PathBuf,
    /// Line and column of the journey's `name:` value.
    pub name_at: (usize, usize),
}

crate::closed::closed_set! {
    /// A browser journeyprobe drives: a journey's `browser:` key and `--browser`. What
    /// differs between them is `browser::engine`'s.
    #[derive(Default, PartialOrd, Ord)]
    pub enum BrowserKind {
        #[default]
        Chromium => "chromium",
        Firefox => "firefox",
    }
}

/// How a journey's runs are kept apart from each other.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Isolation {
    /// A warm browser from the pool: cookies, storage, cache and tabs reset between runs.
    #[default]
    Pooled,
    /// A new browser with a new profile for every run.
    Fresh,
}

/// One step of a journey.
#[derive(Clone, Debug)]
pub struct Step {
    /// 1-based position in the journey.
    pub index: usize,
    pub name: Option<String>,
    pub timeout: Option<Duration>,
    pub action: Action,
    /// Line of the step in its file, for reports.
    pub line: usize,
}

impl Step {
    /// The name given in the file, else a description of what the step does.
    pub fn label(&self) -> String {
        self.name.clone().unwrap_or_else(|| self.action.to_string())
    }
}

/// What a step does. Closed set: adding a kind must be decided everywhere it is matched.
#[derive(Clone, Debug)]
pub enum Action {
    Goto { url: String },
    Fill { target: Locator, value: String },
    Click { target: Locator },
    Press { key: Key, target: Option<Locator> },
    Select { target: Locator, option: SelectBy },
    WaitFor(WaitCondition),
    AssertText { target: Locator, expect: TextMatch },
    AssertUrl { pattern: Regex },
    AssertTitle { expect: TextMatch },
    AssertVisible { target: Locator, min_contrast: f64 },
    Screenshot { name: String },
}

crate::closed::closed_set! {
    /// The kind of a step: its action's YAML key, in the order the docs list them. Each kind
    /// has its reader in [`super::steps`] and its executor in `journey::steps`.
    pub enum StepKind {
        Goto => "goto",
        Fill => "fill",
        Click => "click",
        Press => "press",
        Select => "select",
        WaitFor => "wait_for",
        AssertText => "assert_text",
        AssertUrl => "assert_url",
        AssertTitle => "assert_title",
        AssertVisible => "assert_visible",
        Screenshot => "screenshot",
    }
}

impl Action {
    /// The YAML key of the action.
    pub fn kind(&self) -> StepKind {
        match self {
            Action::Goto { .. } => StepKind::Goto,
            Action::Fill { .. } => StepKind::Fill,
            Action::Click { .. } => StepKind::Click,
            Action::Press { .. } => StepKind::Press,
            Action::Select { .. } => StepKind::Select,
            Action::WaitFor(_) => StepKind::WaitFor,
            Action::AssertText { .. } => StepKind::AssertText,
            Action::AssertUrl { .. } => StepKind::AssertUrl,
            Action::AssertTitle { .. } => StepKind::AssertTitle,
            Action::AssertVisible { .. } => StepKind::AssertVisible,
            Action::Screenshot { .. } => StepKind::Screenshot,
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Goto { url } => write!(f, "goto {url}"),
            Action::Fill { target, value } => write!(f, "fill {target} with {value:?}"),
            Action::Click { target } => write!(f, "click {target}"),
            Action::Press { key, target: None } => write!(f, "press {}", key.name),
            Action::Press {
                key,
                target: Some(t),
            } => write!(f, "press {} in {t}", key.name),
            Action::Select { target, option } => write!(f, "select {option} in {target}"),
            Action::WaitFor(c) => write!(f, "wait for {c}"),
            Action::AssertText { target, expect } => write!(f, "assert text of {target} {expect}"),
            Action::AssertUrl { pattern } => write!(f, "assert url matches {:?}", pattern.as_str()),
            Action::AssertTitle { expect } => write!(f, "assert title {expect}"),
            Action::AssertVisible {
                target,
                min_contrast,
            } => write!(f, "assert {target} visible (contrast >= {min_contrast})"),
            Action::Screenshot { name } => write!(f, "screenshot {name}"),
        }
    }
}

/// How an element is found. CSS by default; `xpath=` and `text=` prefixes select the others.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Locator {
    Css(String),
    XPath(String),
    /// Text of a link, button, submit/button input, `[role=button]`, `[role=link]`,
    /// `summary` or `label`, equal to the given text once runs of whitespace are collapsed.
    Text(String),
}

impl Locator {
    pub fn parse(s: &str) -> Locator {
        if let Some(x) = s.strip_prefix("xpath=") {
            Locator::XPath(x.to_string())
        } else if let Some(t) = s.strip_prefix("text=") {
            Locator::Text(t.to_string())
        } else {
            Locator::Css(s.to_string())
        }
    }

    /// `(strategy, expression)` as understood by the in-page locator script.
    pub fn parts(&self) -> (&'static str, &str) {
        match self {
            Locator::Css(s) => ("css", s),
            Locator::XPath(s) => ("xpath", s),
            Locator::Text(s) => ("text", s),
        }
    }
}

impl fmt::Display for Locator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Locator::Css(s) => write!(f, "{s:?}"),
            Locator::XPath(s) => write!(f, "xpath={s:?}"),
            Locator::Text(s) => write!(f, "text={s:?}"),
        }
    }
}

/// A key for `press`: its name in the file and the WebDriver code point it sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Key {
    pub name: String,
    pub code: char,
}

/// Named keys `press` accepts, with their WebDriver code points.
pub const KEYS: &[(&str, char)] = &[
    ("Enter", '\u{E007}'),
    ("Tab", '\u{E004}'),
    ("Escape", '\u{E00C}'),
    ("Backspace", '\u{E003}'),
    ("Delete", '\u{E017}'),
    ("Space", '\u{E00D}'),
    ("ArrowUp", '\u{E013}'),
    ("ArrowDown", '\u{E015}'),
    ("ArrowLeft", '\u{E012}'),
    ("ArrowRight", '\u{E014}'),
    ("Home", '\u{E011}'),
    ("End", '\u{E010}'),
    ("PageUp", '\u{E00E}'),
    ("PageDown", '\u{E00F}'),
];

/// Which option of a `<select>` to choose.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SelectBy {
    Value(String),
    Label(String),
    Index(usize),
}

impl fmt::Display for SelectBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SelectBy::Value(v) => write!(f, "value {v:?}"),
            SelectBy::Label(l) => write!(f, "label {l:?}"),
            SelectBy::Index(i) => write!(f, "option #{i}"),
        }
    }
}

/// What `wait_for` waits for.
#[derive(Clone, Debug)]
pub enum WaitCondition {
    /// The element is present and visible.
    Visible(Locator),
    /// No matching element is visible (absent or hidden).
    Hidden(Locator),
    UrlMatches(Regex),
    /// The text appears anywhere in the page's visible text.
    Text(String),
}

impl fmt::Display for WaitCondition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WaitCondition::Visible(l) => write!(f, "{l} to be visible"),
            WaitCondition::Hidden(l) => write!(f, "{l} to be hidden"),
            WaitCondition::UrlMatches(r) => write!(f, "url to match {:?}", r.as_str()),
            WaitCondition::Text(t) => write!(f, "text {t:?}"),
        }
    }
}

/// An expectation on a piece of text.
#[derive(Clone, Debug)]
pub enum TextMatch {
    Contains(String),
    Equals(String),
    Matches(Regex),
}

impl TextMatch {
    pub fn check(&self, actual: &str) -> bool {
        match self {
            TextMatch::Contains(s) => actual.contains(s.as_str()),
            TextMatch::Equals(s) => actual.trim() == s.trim(),
            TextMatch::Matches(r) => r.is_match(actual),
        }
    }
}

impl TextMatch {
    /// "to contain \"x\"", for failure messages.
    pub fn expectation(&self) -> String {
        match self {
            TextMatch::Contains(s) => format!("to contain {s:?}"),
            TextMatch::Equals(s) => format!("to equal {s:?}"),
            TextMatch::Matches(r) => format!("to match {:?}", r.as_str()),
        }
    }
}

impl fmt::Display for TextMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TextMatch::Contains(s) => write!(f, "contains {s:?}"),
            TextMatch::Equals(s) => write!(f, "equals {s:?}"),
            TextMatch::Matches(r) => write!(f, "matches {:?}", r.as_str()),
        }
    }
}
