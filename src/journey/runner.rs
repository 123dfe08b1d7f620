//! Running one journey: setup (open a session), body (the steps), teardown (artifacts, close).
//!
//! Deadlines: the run's deadline is `start + timeout`. The body ends `reserve` earlier
//! ([`teardown_reserve`]) so that capturing artifacts and closing the session always have
//! time left. Each step gets `min(step timeout, body deadline)`; a step cut short by the
//! body deadline fails with `journey_timeout`. The session is closed on every path,
//! Ctrl-C included, and a close error is kept beside the outcome, never instead of it.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::artifacts::{RunArtifacts, capture_failure};
use super::steps::{StepCtx, execute};
use std::sync::Arc;

use crate::browser::BrowserOptions;
use crate::browser::Session;
use crate::browser::driver::{ManagedDriver, remove_profile};
use crate::browser::pool::{Browser, Checkout, Key, Pool, Recycle};
use crate::config::{Isolation, Journey, Step};
use crate::outcome::{Outcome, Problem, Reason};
use crate::result::{PageTimings, Phase, RunResult, SessionKind, StepRecord, StepStatus};
use crate::time::ms;

/// Longest we wait for a browser session to open.
const SESSION_START_LIMIT: Duration = Duration::from_secs(30);

/// Where journeys run.
#[derive(Clone)]
pub struct RunEnv {
    /// WebDriver URL (a managed chromedriver's, or `--webdriver`).
    pub webdriver: String,
    /// The chromedriver we manage, if any: it hands out throw-away profile folders.
    pub driver: Option<Arc<ManagedDriver>>,
    /// Warm sessions to reuse; None opens a new session for every run.
    pub pool: Option<Pool>,
    pub browser_binary: Option<PathBuf>,
    /// None disables artifacts.
    pub artifacts: Option<PathBuf>,
    pub cancel: CancellationToken,
    /// Incident-reproduction settings (`run --headed …`); all off for production runs.
    pub interactive: Interactive,
}

/// How an engineer reproducing an incident wants the run: visible, slowed, paused on a
/// failure, with a screenshot after every step.
#[derive(Clone, Debug, Default)]
pub struct Interactive {
    /// A visible browser window instead of headless.
    pub headed: bool,
    /// A pause after every step; the journey's timeout grows by it once per step.
    pub slow_mo: Duration,
    /// On a failure, keep the browser open until Enter is pressed (at most [`MAX_PAUSE`]).
    pub pause_on_failure: bool,
    /// A screenshot (secrets masked) after every step that ran, kept as an artifact.
    pub trace: bool,
}

/// Longest a run stays paused on a failure.
pub const MAX_PAUSE: Duration = Duration::from_secs(3600);
/// Longest `--slow-mo` pause after a step.
pub const MAX_SLOW_MO: Duration = Duration::from_secs(60);
/// Time each step's `--trace` screenshot may take, added to the run's deadline so that
/// tracing never causes a timeout.
pub const TRACE_ALLOWANCE: Duration = Duration::from_secs(2);

/// Hears about a run while it happens (the human reporter prints steps as they run).
pub trait Observer: Send + Sync {
    fn journey_started(&self, _journey: &Journey) {}
    fn step_started(&self, _journey: &Journey, _step: &Step) {}
    fn step_finished(&self, _journey: &Journey, _record: &StepRecord) {}
}

/// An observer that ignores everything.
pub struct Quiet;
impl Observer for Quiet {}

/// Time kept back from the body for artifacts and closing the session.
pub fn teardown_reserve(timeout: Duration) -> Duration {
    (timeout / 4).min(Duration::from_secs(5))
}

/// Longest a session close may take once the run was interrupted.
const CLOSE_WHEN_CANCELLED: Duration = Duration::from_secs(2);

/// A run's deadlines, all derived from its start and `timeout`.
struct Deadlines {
    /// start + timeout: the run is over.
    end: Instant,
    /// Steps stop here.
    body: Instant,
    /// Every WebDriver command, grace included, and artifact capture stop here; the rest of
    /// the time closes the session.
    commands: Instant,
}

impl Deadlines {
    fn new(start: Instant, timeout: Duration) -> Self {
        let reserve = teardown_reserve(timeout);
        let end = start + timeout;
        Deadlines {
            end,
            body: end - reserve,
            commands: end - reserve / 2,
        }
    }

    /// When closing must be done. Past `end` only when a run got there without closing,
    /// and then by a second at most: a session that would otherwise leak is worth it.
    fn close_by(&self, now: Instant, cancelled: bool) -> Instant {
        let by = self.end.max(now + Duration::from_secs(1));
        if cancelled {
            by.min(now + CLOSE_WHEN_CANCELLED)
        } else {
            by
        }
    }
}

pub async fn run_journey(j: &Journey, env: &RunEnv, obs: &dyn Observer) -> RunResult {
    if let Some(pool) = &env.pool {
        tokio::select! {
            _ = pool.settle() => {}
            _ = env.cancel.cancelled() => {}
        }
    }
    let started_at = SystemTime::now();
    let start = Instant::now();
    // Slow motion is the engineer's own choice, not the target being slow: it extends
    // the deadline by what it adds.
    let i = &env.interactive;
    let per_step = i.slow_mo.min(MAX_SLOW_MO)
        + if i.trace {
            TRACE_ALLOWANCE
        } else {
            Duration::ZERO
        };
    let slowed = per_step * j.steps.len() as u32;
    let at = Deadlines::new(start, j.timeout + slowed);
    obs.journey_started(j);
    let mut result = RunResult::begin(j, started_at);
    let mut arts = RunArtifacts::new(
        env.artifacts.as_deref(),
        &j.name,
        started_at,
        j.redactor.clone(),
    );

    let setup_deadline = at.body.min(start + SESSION_START_LIMIT);
    let opened = tokio::select! {
        b = open_browser(j, env, setup_deadline, at.commands) => b,
        _ = env.cancel.cancelled() => Err(Problem::new(Reason::Cancelled, "interrupted before the browser session opened")),
    };
    let setup_took = start.elapsed();
    let mut teardown = None;
    let problem = match opened {
        Err(p) => {
            result.steps = StepRecord::all_skipped(j);
            Some((p, Phase::Setup))
        }
        Ok((browser, warm)) => {
            result.session = Some(SessionKind::of(warm).as_str());
            let session = &browser.session;
            let problem = run_steps(j, env, obs, session, at.body, &mut arts, &mut result)
                .await
                .map(|(p, phase)| {
                    let slow = j.browser.engine().slow_start();
                    (slow_start(p, setup_took, j.timeout, slow), phase)
                });
            if let Some((p, _)) = &problem
                && !session_is_gone(p.reason)
            {
                capture_failure(session, at.commands, &mut arts).await;
                if env.interactive.pause_on_failure {
                    pause(j, p, &env.cancel).await;
                }
            }
            match (&env.pool, browser.is_pooled() && !env.cancel.is_cancelled()) {
                // Reset and kept warm off this run's clock, unless the run went wrong: a
                // browser that saw an error or a failure is replaced, so no run (a retry
                // above all) inherits whatever state it was left in.
                (Some(pool), true) => {
                    let recycle = problem.as_ref().map(|(p, _)| match p.reason.class() {
                        Outcome::Error => Recycle::Error,
                        _ => Recycle::Failure,
                    });
                    pool.give_back(browser, recycle);
                }
                _ => {
                    let by = at.close_by(Instant::now(), env.cancel.is_cancelled());
                    teardown = browser.close(by).await.err();
                }
            }
            problem
        }
    };
    conclude(j, &mut result, problem, teardown);
    result.duration_ms = ms(start.elapsed());
    if result.outcome != Outcome::Success {
        write_timeline(&mut arts, &mut result);
    }
    result.artifacts = arts.files.clone();
    result
}

/// A browser for the run: a warm one from the pool, else a new session (in the pool's
/// place when the journey may be pooled). The bool tells whether it was warm.
async fn open_browser(
    j: &Journey,
    env: &RunEnv,
    deadline: Instant,
    limit: Instant,
) -> Result<(Browser, bool), Problem> {
    let engine = j.browser.engine();
    let key = Key {
        webdriver: env.webdriver.clone(),
        headed: env.interactive.headed,
        browser: j.browser,
    };
    let fresh = j.isolation == Isolation::Fresh;
    let ticket = match &env.pool {
        Some(pool) => match pool
            .checkout(&key, env.driver.as_ref(), deadline, fresh)
            .await
        {
            Checkout::Warm(mut b) => {
                b.session.set_limit(limit);
                return Ok((*b, true));
            }
            Checkout::New(t) => Some(t),
        },
        None => None,
    };
    // Removed with its browser unless a session takes it: also when the run is cancelled
    // while the session opens (this future is then dropped).
    let opts = BrowserOptions::for_session(
        engine,
        env.driver.as_deref(),
        env.browser_binary.clone(),
        env.interactive.headed,
    );
    let mut profile = ProfileGuard(opts.profile_dir.clone());
    let caps = engine.capabilities(&opts);
    let session = Session::start_for(engine, &env.webdriver, caps, deadline, limit).await?;
    let (driver, profile) = (env.driver.clone(), profile.0.take());
    Ok(match ticket {
        Some(t) if !fresh => (Browser::pooled(t, session, key, driver, profile), false),
        // A fresh browser still holds its place in the pool while it runs.
        _ => (
            Browser::unpooled(session, key, driver, profile, ticket),
            false,
        ),
    })
}

/// A profile folder no session owns yet.
struct ProfileGuard(Option<std::path::PathBuf>);

impl Drop for ProfileGuard {
    fn drop(&mut self) {
        if let Some(dir) = self.0.take() {
            remove_profile(&dir);
        }
    }
}

/// The session (or the driver behind it) is gone: no point asking it for artifacts.
fn session_is_gone(reason: Reason) -> bool {
    matches!(
        reason,
        Reason::SessionLost
            | Reason::WebdriverTimeout
            | Reason::WebdriverUnreachable
            | Reason::Cancelled
    )
}

async fn run_steps(
    j: &Journey,
    env: &RunEnv,
    obs: &dyn Observer,
    session: &Session,
    body_deadline: Instant,
    arts: &mut RunArtifacts,
    result: &mut RunResult,
) -> Option<(Problem, Phase)> {
    let mut failure = None;
    for step in &j.steps {
        if failure.is_some() {
            result.steps.push(StepRecord::skipped(j, step));
            continue;
        }
        obs.step_started(j, step);
        let began = Instant::now();
        let clock = session.clock();
        let document = session.document_id();
        let window = StepWindow::new(began, step.timeout.unwrap_or(j.step_timeout), body_deadline);
        let mut ctx = StepCtx {
            session,
            deadline: window.deadline,
            budget: window.budget,
            redactor: &j.redactor,
            artifacts: arts,
            page: None,
        };
        let outcome = tokio::select! {
            r = execute(&mut ctx, &step.action) => r,
            _ = env.cancel.cancelled() => Err(Problem::new(Reason::Cancelled, "interrupted (Ctrl-C)")),
        };
        // Out of time because the journey's deadline cut the step's budget short: that is
        // the journey's timeout, whatever the step was waiting for.
        let cut_short = window.cut_short(Instant::now());
        let outcome = outcome.map_err(|p| journey_deadline(p, cut_short, j.timeout));
        // The step's duration is its own; reading the page's timings is not part of it.
        let took = began.elapsed();
        let clock_after = session.clock();
        let page = match (&outcome, ctx.page.take()) {
            (Ok(()), None) => tokio::select! {
                t = page_timings(session, document, body_deadline) => t,
                _ = env.cancel.cancelled() => None,
            },
            (_, page) => page,
        };
        let record = StepRecord {
            index: step.index,
            label: j.redactor.redact(&step.label()),
            named: step.name.is_some(),
            action: step.action.kind(),
            status: if outcome.is_ok() {
                StepStatus::Passed
            } else {
                StepStatus::Failed
            },
            duration_ms: ms(took),
            message: outcome
                .as_ref()
                .err()
                .map(|p| j.redactor.redact(&p.message)),
            overhead_ms: Some(overhead(took, clock, clock_after)),
            page,
        };
        obs.step_finished(j, &record);
        if outcome.is_ok() {
            after_step(env, session, step.index, body_deadline, arts).await;
        }
        if let Err(p) = outcome {
            let phase = Phase::Step {
                index: step.index,
                label: record.label.clone(),
                action: step.action.kind(),
            };
            failure = Some((p, phase));
        }
        result.steps.push(record);
    }
    failure
}

/// What is left of a step's time once WebDriver round trips and auto-wait pauses are taken
/// out: the prober's own work (scripts' results parsed, deadlines computed, records made).
fn overhead(total: Duration, before: (u64, u64), after: (u64, u64)) -> f64 {
    let waited = (after.0 - before.0) + (after.1 - before.1);
    let own = total.saturating_sub(Duration::from_nanos(waited));
    ms(own)
}

/// Longest reading a page's timings may take after a step. It never fails the step.
const PAGE_TIMINGS_BUDGET: Duration = Duration::from_millis(500);

/// Timings of a new document that a step's own probes saw arrive (a `wait_for` after a
/// click whose navigation started late): one read then, none when the document is the one
/// the step began on. Goto, click, press and select time their page themselves.
async fn page_timings(
    session: &Session,
    before: Option<String>,
    body_deadline: Instant,
) -> Option<PageTimings> {
    let now = session.document_id();
    if before.is_none() || now.is_none() || now == before {
        return None;
    }
    let by = (Instant::now() + PAGE_TIMINGS_BUDGET).min(body_deadline);
    session.page_timings(by, true).await.ok().flatten()
}

/// `--trace` and `--slow-mo`: a screenshot of the page the step left, then the pause.
async fn after_step(
    env: &RunEnv,
    session: &Session,
    index: usize,
    body_deadline: Instant,
    arts: &mut RunArtifacts,
) {
    let i = &env.interactive;
    if i.trace && arts.enabled() {
        let by = (Instant::now() + TRACE_ALLOWANCE).min(body_deadline);
        match super::artifacts::masked_screenshot(session, by, arts.redactor()).await {
            Ok(png) => {
                if let Err(e) = arts.write(&format!("trace-step-{index:02}.png"), &png) {
                    tracing::warn!("cannot keep the trace screenshot of step {index}: {e}");
                }
            }
            Err(c) => tracing::warn!("no trace screenshot of step {index}: {}", c.problem.message),
        }
    }
    if !i.slow_mo.is_zero() {
        tokio::select! {
            _ = tokio::time::sleep(i.slow_mo.min(MAX_SLOW_MO)) => {}
            _ = env.cancel.cancelled() => {}
        }
    }
}

/// `--pause-on-failure`: the browser stays as the failure left it until Enter (or Ctrl-C,
/// or an hour).
async fn pause(j: &Journey, p: &Problem, cancel: &CancellationToken) {
    eprintln!(
        "paused: {} failed ({}): the browser stays open as it is; press Enter to close it and go on",
        j.name,
        j.redactor.redact(&p.message)
    );
    tokio::select! {
        _ = next_stdin_line() => {}
        _ = cancel.cancelled() => {}
        _ = tokio::time::sleep(MAX_PAUSE) => eprintln!("paused for an hour: closing the browser"),
    }
}

/// The next line typed on stdin. One reader thread serves every pause of the process, so a
/// pause that ended by Ctrl-C or its time limit leaves no reader behind to swallow the
/// Enter meant for the next one.
async fn next_stdin_line() {
    use std::sync::OnceLock;
    use tokio::sync::{Mutex, mpsc};
    static LINES: OnceLock<Mutex<mpsc::UnboundedReceiver<()>>> = OnceLock::new();
    let lines = LINES.get_or_init(|| {
        let (tx, rx) = mpsc::unbounded_channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            while std::io::stdin().read_line(&mut line).is_ok_and(|n| n > 0) {
                line.clear();
                if tx.send(()).is_err() {
                    break;
                }
            }
        });
        Mutex::new(rx)
    });
    let mut rx = lines.lock().await;
    // Enter pressed before the pause began does not count.
    while rx.try_recv().is_ok() {}
    if rx.recv().await.is_none() {
        // stdin is closed: nobody can press Enter; wait for Ctrl-C or the time limit.
        std::future::pending::<()>().await;
    }
}

/// The run's outcome is the body's problem alone (None: success); a close error is kept
/// beside it, never instead of it. Both are redacted.
fn conclude(
    j: &Journey,
    result: &mut RunResult,
    problem: Option<(Problem, Phase)>,
    teardown: Option<Problem>,
) {
    let redacted = |p: Problem| Problem {
        message: j.redactor.redact(&p.message),
        candidates: p.candidates.iter().map(|c| j.redactor.redact(c)).collect(),
        ..p
    };
    let problem = problem.map(|(p, phase)| (redacted(p), phase));
    result.conclude(problem);
    if let Some(e) = teardown {
        result.teardown_error = Some(j.redactor.redact(&e.message));
    }
}

/// When a step must end and what budget it is told, from its own timeout and the body's
/// deadline.
#[derive(Debug, PartialEq)]
struct StepWindow {
    deadline: Instant,
    budget: Duration,
    /// The body's deadline comes before the step's own.
    limited: bool,
}

impl StepWindow {
    fn new(began: Instant, budget: Duration, body_deadline: Instant) -> Self {
        let limited = began + budget > body_deadline;
        StepWindow {
            deadline: (began + budget).min(body_deadline),
            budget: if limited {
                body_deadline.saturating_duration_since(began)
            } else {
                budget
            },
            limited,
        }
    }

    /// Out of time at `now` because the body's deadline cut the step's budget short.
    fn cut_short(&self, now: Instant) -> bool {
        self.limited && now >= self.deadline
    }
}

/// Relabel a step's problem as the journey's timeout when the journey's deadline, not the
/// step's own, ended it. Prober faults stay what they are.
fn journey_deadline(p: Problem, cut_short: bool, timeout: Duration) -> Problem {
    if cut_short && p.reason.class() == Outcome::Failure {
        let t = humantime::format_duration(timeout);
        // What the page had instead of a missing element is still worth showing.
        Problem {
            candidates: p.candidates,
            ..Problem::new(
                Reason::JourneyTimeout,
                format!("the journey's timeout {t} ran out: {}", p.message),
            )
        }
    } else {
        p
    }
}

/// A journey's timeout that ran out after opening the browser session took a quarter or more
/// of it, and longer than `slow` (the engine's mark of a slow start, well above its usual
/// start), is the prober's: `browser_start_slow`, an error. Both bounds: a browser that
/// starts at its usual pace never turns a slow target into an error.
fn slow_start(p: Problem, setup: Duration, timeout: Duration, slow: Duration) -> Problem {
    if p.reason == Reason::JourneyTimeout && setup >= (timeout / 4).max(slow) {
        Problem::new(
            Reason::BrowserStartSlow,
            format!(
                "{} — after the browser took {} of it to start: the prober's own time, not counted against the target",
                p.message,
                humantime::format_duration(Duration::from_millis(setup.as_millis() as u64))
            ),
        )
    } else {
        p
    }
}

/// The timeline lists every artifact of the run, itself included.
fn write_timeline(arts: &mut RunArtifacts, result: &mut RunResult) {
    if !arts.enabled() {
        return;
    }
    const NAME: &str = "timeline.json";
    let written = arts.path(NAME).and_then(|path| {
        result.artifacts = arts.files.iter().cloned().chain([path]).collect();
        let json = serde_json::to_string_pretty(result).map_err(std::io::Error::other)?;
        arts.write_text(NAME, &json)
    });
    if let Err(e) = written {
        tracing::warn!("cannot write the step timeline: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redact::Redactor;

    fn journey() -> Journey {
        let text = "name: login\ntimeout: 20s\nsteps:\n  - goto: http://127.0.0.1:1/login\n";
        let env = std::collections::BTreeMap::<String, String>::new();
        let (parsed, d) =
            crate::config::file::parse_file(std::path::Path::new("login.yaml"), text, &env);
        assert!(d.is_empty(), "{:?}", d.items);
        let mut j = parsed.expect("valid").journey.expect("a journey");
        j.redactor = Redactor::new(["hunter2".to_string()]);
        j
    }

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn the_body_ends_a_reserve_before_the_run_and_commands_halfway_through_it() {
        assert_eq!(teardown_reserve(S * 8), S * 2);
        assert_eq!(teardown_reserve(S * 60), S * 5);
        let start = Instant::now();
        let at = Deadlines::new(start, S * 8);
        assert_eq!(at.end, start + S * 8);
        assert_eq!(at.body, start + S * 6);
        assert_eq!(at.commands, start + S * 7);
    }

    #[test]
    fn closing_gets_until_the_end_and_a_second_past_it_at_most() {
        let start = Instant::now();
        let at = Deadlines::new(start, S * 8);
        assert_eq!(at.close_by(start + S * 7, false), at.end);
        assert_eq!(at.close_by(at.end + S * 3, false), at.end + S * 4);
        // Interrupted: two seconds at most, even with time left.
        assert_eq!(at.close_by(start, true), start + S * 2);
        assert_eq!(at.close_by(start + S * 7, true), at.end);
    }

    #[test]
    fn a_step_gets_its_own_timeout_unless_the_body_ends_first() {
        let began = Instant::now();
        let own = StepWindow::new(began, S * 5, began + S * 10);
        assert_eq!(
            (own.deadline, own.budget, own.limited),
            (began + S * 5, S * 5, false)
        );
        assert!(!own.cut_short(began + S * 20));
        let cut = StepWindow::new(began, S * 5, began + S * 2);
        assert_eq!(
            (cut.deadline, cut.budget, cut.limited),
            (began + S * 2, S * 2, true)
        );
        assert!(!cut.cut_short(began + S));
        assert!(cut.cut_short(began + S * 2));
        // Past the body's deadline already: no budget, and cut short at once.
        let late = StepWindow::new(began + S * 3, S * 5, began + S * 2);
        assert_eq!(late.budget, Duration::ZERO);
        assert!(late.cut_short(began + S * 3));
    }

    #[test]
    fn a_step_failure_cut_short_is_the_journeys_timeout_but_a_prober_fault_stays() {
        let waited = Problem::new(Reason::ElementNotFound, "no #welcome");
        let p = journey_deadline(waited.clone(), true, S * 20);
        assert_eq!(p.reason, Reason::JourneyTimeout);
        assert_eq!(p.message, "the journey's timeout 20s ran out: no #welcome");
        assert_eq!(journey_deadline(waited.clone(), false, S * 20), waited);
        for fault in [
            Reason::SessionLost,
            Reason::Cancelled,
            Reason::WebdriverTimeout,
        ] {
            let p = Problem::new(fault, "gone");
            assert_eq!(journey_deadline(p.clone(), true, S * 20), p);
        }
    }

    #[test]
    fn a_journey_timeout_after_a_slow_browser_start_is_the_probers() {
        let timeout = Duration::from_secs(30);
        let ran_out = || Problem::new(Reason::JourneyTimeout, "the journey's timeout 30s ran out");
        let slow = Duration::from_secs(3);
        let p = slow_start(ran_out(), Duration::from_millis(12_300), timeout, slow);
        assert_eq!(p.reason, Reason::BrowserStartSlow);
        assert_eq!(p.reason.class(), Outcome::Error);
        assert!(
            p.message.contains("the browser took 12s 300ms"),
            "{}",
            p.message
        );
        // A quick start leaves the timeout the target's.
        let p = slow_start(ran_out(), Duration::from_millis(400), timeout, slow);
        assert_eq!(p.reason, Reason::JourneyTimeout);
        // A short timeout: a quarter of it is less than a usual start; the engine's mark holds.
        let short = Duration::from_secs(4);
        let p = slow_start(ran_out(), Duration::from_millis(1_500), short, slow);
        assert_eq!(p.reason, Reason::JourneyTimeout);
        // Only the journey's timeout: a step that failed on its own stays what it is.
        let p = Problem::new(Reason::ElementNotFound, "no element");
        let p = slow_start(p, Duration::from_secs(20), timeout, slow);
        assert_eq!(p.reason, Reason::ElementNotFound);
    }

    #[test]
    fn a_close_error_is_kept_beside_the_outcome_never_instead_of_it() {
        let j = journey();
        let closed = || {
            Some(Problem::new(
                Reason::SessionLost,
                "close failed for hunter2",
            ))
        };
        let mut passed = RunResult::begin(&j, SystemTime::now());
        conclude(&j, &mut passed, None, closed());
        assert_eq!(passed.outcome, Outcome::Success);
        assert_eq!(passed.reason, None);
        assert_eq!(
            passed.teardown_error.as_deref(),
            Some("close failed for ••••")
        );

        let mut failed = RunResult::begin(&j, SystemTime::now());
        let body = Problem::new(Reason::ElementNotFound, "no #hunter2");
        conclude(&j, &mut failed, Some((body, Phase::Setup)), closed());
        assert_eq!(failed.outcome, Outcome::Failure);
        assert_eq!(failed.reason, Some(Reason::ElementNotFound));
        assert_eq!(failed.message.as_deref(), Some("no #••••"));
        assert_eq!(
            failed.teardown_error.as_deref(),
            Some("close failed for ••••")
        );

        let mut clean = RunResult::begin(&j, SystemTime::now());
        conclude(&j, &mut clean, None, None);
        assert_eq!(
            (clean.outcome, clean.teardown_error),
            (Outcome::Success, None)
        );
    }

    #[test]
    fn overhead_is_what_the_waits_leave_and_never_negative() {
        assert_eq!(overhead(S, (0, 0), (400_000_000, 100_000_000)), 500.0);
        assert_eq!(overhead(S, (0, 0), (2_000_000_000, 0)), 0.0);
    }
}
