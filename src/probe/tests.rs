//! The run policy against a fake world: scripted attempt outcomes, recorded calls.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::time::{Duration, SystemTime};

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::*;
use crate::outcome::{Problem, Reason};
use crate::result::Phase;

/// A journey `login` (depends on `route`, `bucket`), and checks `route`, `bucket`, `dns`.
fn probes() -> (Journey, Vec<Check>) {
    let text = "name: login\n\
        depends_on: [route, bucket]\n\
        steps:\n  - goto: http://127.0.0.1:1/login\n\
        checks:\n\
        \x20 - { name: route, http: { url: 'http://127.0.0.1:1/login' } }\n\
        \x20 - { name: bucket, http: { url: 'http://127.0.0.1:1/assets' } }\n\
        \x20 - { name: dns, http: { url: 'http://127.0.0.1:1/' } }\n";
    let env = std::collections::BTreeMap::<String, String>::new();
    let (parsed, d) = crate::config::file::parse_file(Path::new("login.yaml"), text, &env);
    assert!(d.is_empty(), "{:?}", d.items);
    let parsed = parsed.expect("valid");
    (parsed.journey.expect("a journey"), parsed.checks)
}

/// A result of `probe` with this reason (None: success).
fn result_of(probe: &Probe, reason: Option<Reason>) -> RunResult {
    let mut r = match probe {
        Probe::Journey(j) => RunResult::begin(j, SystemTime::now()),
        Probe::Check(c) => RunResult::for_check(c, SystemTime::now()),
    };
    r.conclude(reason.map(|x| (Problem::new(x, "scripted"), Phase::Setup)));
    r
}

/// Attempts end as scripted, in order; every check runs to `check_reason`.
struct Fake {
    script: RefCell<VecDeque<Option<Reason>>>,
    checks: Vec<Check>,
    check_reason: Option<Reason>,
    /// Checks take this long.
    check_takes: Duration,
    /// Cancel the run during this attempt (1-based).
    cancel_during: Option<u32>,
    cancel: CancellationToken,
    /// `after_error` of each attempt, in order.
    after_error: RefCell<Vec<bool>>,
    checks_run: Cell<usize>,
}

impl Fake {
    fn new(script: &[Option<Reason>]) -> Fake {
        Fake {
            script: RefCell::new(script.iter().copied().collect()),
            checks: probes().1,
            check_reason: Some(Reason::StatusMismatch),
            check_takes: Duration::ZERO,
            cancel_during: None,
            cancel: CancellationToken::new(),
            after_error: RefCell::default(),
            checks_run: Cell::new(0),
        }
    }
}

impl Prober for Fake {
    async fn attempt(&self, probe: &Probe, after_error: bool) -> RunResult {
        self.after_error.borrow_mut().push(after_error);
        let n = self.after_error.borrow().len() as u32;
        if self.cancel_during == Some(n) {
            self.cancel.cancel();
        }
        let reason = self
            .script
            .borrow_mut()
            .pop_front()
            .expect("an attempt the script did not expect");
        result_of(probe, reason)
    }

    async fn check(&self, check: &Check) -> RunResult {
        tokio::time::sleep(self.check_takes).await;
        self.checks_run.set(self.checks_run.get() + 1);
        result_of(&Probe::Check(check.clone()), self.check_reason)
    }

    fn checks(&self) -> &[Check] {
        &self.checks
    }

    fn cancel(&self) -> &CancellationToken {
        &self.cancel
    }
}

/// Every attempt the policy reported: (outcome, attempt, attempts, is_final).
#[derive(Default)]
struct Seen(Vec<(Outcome, u32, u32, bool)>);

impl Witness for Seen {
    async fn attempt_ended(&mut self, r: &RunResult, attempt: u32, attempts: u32, last: bool) {
        self.0.push((r.outcome, attempt, attempts, last));
    }
}

fn limits(attempts: u32) -> Limits {
    Limits {
        attempts,
        until: None,
    }
}

fn journey() -> Probe {
    Probe::Journey(probes().0)
}

fn check() -> Probe {
    Probe::Check(probes().1.remove(0))
}

#[tokio::test]
async fn a_failure_is_retried_and_a_pass_on_the_retry_is_flaky_with_the_first_kept() {
    let fake = Fake::new(&[Some(Reason::ElementNotFound), None]);
    let mut seen = Seen::default();
    let run = run(&check(), limits(3), &fake, &mut seen).await;
    assert_eq!(run.result.outcome, Outcome::Success);
    assert!(run.flaky());
    assert_eq!(run.attempts(), 2);
    assert_eq!(run.first().reason, Some(Reason::ElementNotFound));
    assert_eq!(
        seen.0,
        [
            (Outcome::Failure, 1, 3, false),
            (Outcome::Success, 2, 3, true)
        ]
    );
}

#[tokio::test]
async fn attempts_stop_at_the_limit_and_the_last_one_is_the_runs() {
    let fake = Fake::new(&[Some(Reason::ElementNotFound), Some(Reason::AssertionFailed)]);
    let run = run(&check(), limits(2), &fake, &mut Unwitnessed).await;
    assert_eq!(run.result.reason, Some(Reason::AssertionFailed));
    assert_eq!(run.earlier.len(), 1);
    assert!(!run.flaky());
    assert!(fake.script.borrow().is_empty());
}

#[tokio::test]
async fn zero_attempts_still_run_once_and_a_success_is_never_retried() {
    let fake = Fake::new(&[None]);
    let run = run(&check(), limits(0), &fake, &mut Unwitnessed).await;
    assert_eq!(run.attempts(), 1);
    let fake = Fake::new(&[None]);
    let run = super::run(&check(), limits(5), &fake, &mut Unwitnessed).await;
    assert_eq!((run.attempts(), run.result.outcome), (1, Outcome::Success));
}

#[tokio::test]
async fn a_cancelled_attempt_is_not_retried() {
    let fake = Fake::new(&[Some(Reason::Cancelled)]);
    let run = run(&journey(), limits(3), &fake, &mut Unwitnessed).await;
    assert_eq!(run.result.outcome, Outcome::Error);
    assert_eq!(run.attempts(), 1);
    assert_eq!(fake.checks_run.get(), 0, "an error is not attributed");
}

#[tokio::test]
async fn no_retry_once_the_run_is_cancelled_even_after_a_failure() {
    let mut fake = Fake::new(&[Some(Reason::ElementNotFound)]);
    fake.cancel_during = Some(1);
    let run = run(&journey(), limits(3), &fake, &mut Unwitnessed).await;
    assert_eq!(run.attempts(), 1);
    assert!(
        run.result.prerequisites.is_empty(),
        "no attribution once cancelled"
    );
}

#[tokio::test]
async fn an_attempt_after_an_error_is_told_so_and_one_after_a_failure_is_not() {
    let fake = Fake::new(&[
        Some(Reason::SessionLost),
        Some(Reason::ElementNotFound),
        None,
    ]);
    let run = run(&journey(), limits(3), &fake, &mut Unwitnessed).await;
    assert_eq!(run.result.outcome, Outcome::Success);
    assert_eq!(*fake.after_error.borrow(), [false, true, false]);
}

#[tokio::test]
async fn a_final_failure_is_attributed_to_the_checks_the_journey_depends_on() {
    let fake = Fake::new(&[Some(Reason::ElementNotFound), Some(Reason::ElementNotFound)]);
    let mut seen = Seen::default();
    let run = run(&journey(), limits(2), &fake, &mut seen).await;
    // Only the journey's own prerequisites (not `dns`), once, after the last attempt.
    let names: Vec<&str> = run
        .result
        .prerequisites
        .iter()
        .map(|p| p.check.as_str())
        .collect();
    assert_eq!(names, ["route", "bucket"]);
    assert_eq!(fake.checks_run.get(), 2);
    assert!(run.earlier[0].prerequisites.is_empty());
    let p = &run.result.prerequisites[0];
    assert_eq!(
        (p.outcome, p.reason),
        (Outcome::Failure, Some(Reason::StatusMismatch))
    );
    // The witness hears of the final attempt after its attribution.
    assert_eq!(seen.0.len(), 2);
}

#[tokio::test]
async fn a_success_an_error_and_a_check_are_not_attributed() {
    for (probe, script) in [
        (journey(), None),
        (journey(), Some(Reason::SessionLost)),
        (check(), Some(Reason::StatusMismatch)),
    ] {
        let fake = Fake::new(&[script]);
        let run = run(&probe, limits(1), &fake, &mut Unwitnessed).await;
        assert!(run.result.prerequisites.is_empty(), "{script:?}");
        assert_eq!(fake.checks_run.get(), 0, "{script:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn attribution_that_would_pass_the_runs_limit_is_given_up() {
    let mut fake = Fake::new(&[Some(Reason::ElementNotFound)]);
    fake.check_takes = Duration::from_secs(10);
    let until = Instant::now() + Duration::from_secs(1);
    let run = run(
        &journey(),
        Limits {
            attempts: 1,
            until: Some(until),
        },
        &fake,
        &mut Unwitnessed,
    )
    .await;
    assert_eq!(run.result.reason, Some(Reason::ElementNotFound));
    assert!(run.result.prerequisites.is_empty());
    assert!(Instant::now() < until + Duration::from_millis(10));
}
