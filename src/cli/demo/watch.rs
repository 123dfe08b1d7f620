//! What `demo` says while it runs, read from the history serve writes: when the browser has
//! started (the first journey run ended: on a cold machine Chromium's first start takes up
//! to a minute, and until then the board's journey tiles are empty), and when a journey
//! starts failing, with the exact `repro` command for that run, and when it passes again.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::try_it::TryIt;
use crate::history::{History, StoredRun};
use crate::outcome::{Outcome, Reason};

/// How often the history is read.
const POLL: Duration = Duration::from_millis(500);
/// How often "still starting" is said while no journey run has ended.
const TICK: Duration = Duration::from_secs(15);

/// One ended attempt, as far as the demo's lines need it.
#[derive(Clone, Debug)]
pub(super) struct Ended {
    pub id: i64,
    pub probe: String,
    pub journey: bool,
    pub is_final: bool,
    pub outcome: Outcome,
    pub reason: Option<Reason>,
    pub failed_step: Option<i64>,
    pub duration: Duration,
}

impl From<&StoredRun> for Ended {
    fn from(r: &StoredRun) -> Ended {
        Ended {
            id: r.id,
            probe: r.probe.clone(),
            journey: r.kind.is_journey(),
            is_final: r.is_final,
            outcome: r.outcome,
            reason: r.reason,
            failed_step: r.failed_step,
            duration: Duration::from_secs_f64(r.duration_ms.max(0.0) / 1000.0),
        }
    }
}

/// The lines to print as runs end. Pure, so its wording is unit-tested.
pub(super) struct Narrator {
    browser_up: bool,
    /// Each journey's last final outcome and reason.
    last: HashMap<String, (Outcome, Option<Reason>)>,
}

impl Narrator {
    pub(super) fn new() -> Narrator {
        Narrator {
            browser_up: false,
            last: HashMap::new(),
        }
    }

    /// Lines for one ended attempt; `since_start` is the time since the demo started.
    pub(super) fn ended(
        &mut self,
        run: &Ended,
        since_start: Duration,
        try_it: &TryIt,
    ) -> Vec<String> {
        let mut out = Vec::new();
        if !run.journey {
            return out;
        }
        if !self.browser_up {
            self.browser_up = true;
            out.push(format!(
                "browser:    started, {} after the demo did: {}'s first run ended {} in {}",
                secs(since_start),
                run.probe,
                run.outcome,
                secs(run.duration)
            ));
        }
        if !run.is_final {
            return out;
        }
        let now = (run.outcome, run.reason);
        let before = self.last.insert(run.probe.clone(), now);
        if before == Some(now) {
            return out;
        }
        let why = why(run);
        match run.outcome {
            Outcome::Failure => out.push(format!(
                "{} failed: run {} ({why}); reproduce it: {}",
                run.probe,
                run.id,
                try_it.repro_line(&run.id.to_string())
            )),
            Outcome::Error => out.push(format!(
                "{} could not be verified: run {} ({why}), the prober's trouble, not the lab's",
                run.probe, run.id
            )),
            Outcome::Success if before.is_some() => {
                out.push(format!("{} passes again: run {}", run.probe, run.id));
            }
            Outcome::Success => {}
        }
        out
    }

    /// A line while no journey run has ended yet, `waited` after the demo started.
    pub(super) fn still_starting(&self, waited: Duration) -> Option<String> {
        (!self.browser_up).then(|| {
            format!(
                "browser:    still starting ({}; Chromium's first start on a cold machine takes up to a minute)",
                secs(waited)
            )
        })
    }
}

fn why(run: &Ended) -> String {
    let reason = run.reason.map_or("no reason", Reason::as_str);
    match run.failed_step {
        Some(step) => format!("{reason} at step {step}"),
        None => reason.to_string(),
    }
}

fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

/// The id of the newest run already in the history: runs of an earlier demo on the same
/// data folder are not news.
pub(super) async fn newest_id(history: &History) -> i64 {
    match history.recent(None, 1).await {
        Ok(runs) => runs.first().map_or(0, |r| r.id),
        Err(_) => 0,
    }
}

/// Print the narrator's lines until the task is aborted.
pub(super) async fn watch(history: History, mut seen: i64, started: Instant, try_it: TryIt) {
    let mut narrator = Narrator::new();
    let mut next_tick = started + TICK;
    loop {
        tokio::time::sleep(POLL).await;
        let runs = match history.recent(None, 200).await {
            Ok(r) => r,
            Err(e) => {
                tracing::debug!("demo: cannot read the history: {e}");
                continue;
            }
        };
        // Newest first from the history; told oldest first.
        let from = seen;
        for run in runs.iter().rev().filter(|r| r.id > from) {
            seen = run.id;
            for line in narrator.ended(&Ended::from(run), started.elapsed(), &try_it) {
                say!("{line}");
            }
        }
        if Instant::now() >= next_tick {
            next_tick += TICK;
            if let Some(line) = narrator.still_starting(started.elapsed()) {
                say!("{line}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn try_it() -> TryIt {
        let cwd = Path::new("/w");
        TryIt::new(
            Path::new("/nonexistent/journeyprobe"),
            cwd,
            "http://127.0.0.1:1",
            Path::new("/w/journeys/login.yaml"),
            Path::new("/w/d/probes/password.secret"),
            Path::new("/w/d"),
        )
    }

    fn ended(id: i64, probe: &str, outcome: Outcome, reason: Option<Reason>) -> Ended {
        Ended {
            id,
            probe: probe.into(),
            journey: true,
            is_final: true,
            outcome,
            reason,
            failed_step: reason.map(|_| 6),
            duration: Duration::from_millis(3200),
        }
    }

    #[test]
    fn the_first_journey_run_says_the_browser_started_and_checks_do_not() {
        let t = try_it();
        let mut n = Narrator::new();
        let check = Ended {
            journey: false,
            ..ended(1, "login_page", Outcome::Success, None)
        };
        assert!(n.ended(&check, Duration::from_secs(2), &t).is_empty());
        assert!(
            n.still_starting(Duration::from_secs(15))
                .unwrap()
                .contains("still starting (15.0 s")
        );
        let lines = n.ended(
            &ended(2, "login", Outcome::Success, None),
            Duration::from_secs(18),
            &t,
        );
        assert_eq!(
            lines,
            [
                "browser:    started, 18.0 s after the demo did: login's first run ended success in 3.2 s"
            ]
        );
        assert!(n.still_starting(Duration::from_secs(30)).is_none());
        let again = n.ended(
            &ended(3, "search", Outcome::Success, None),
            Duration::from_secs(19),
            &t,
        );
        assert!(again.is_empty(), "{again:?}");
    }

    #[test]
    fn a_journey_that_starts_failing_gets_its_repro_line_once_and_a_line_when_it_passes_again() {
        let t = try_it();
        let mut n = Narrator::new();
        n.ended(
            &ended(1, "login", Outcome::Success, None),
            Duration::ZERO,
            &t,
        );
        let fail = |id| ended(id, "login", Outcome::Failure, Some(Reason::ElementNotFound));
        let lines = n.ended(&fail(7), Duration::ZERO, &t);
        assert_eq!(
            lines,
            [
                "login failed: run 7 (element_not_found at step 6); reproduce it: \
              /nonexistent/journeyprobe repro 7 --data-dir d"
            ]
        );
        assert!(
            n.ended(&fail(9), Duration::ZERO, &t).is_empty(),
            "said once"
        );
        // A retried attempt that is not final says nothing.
        let retry = Ended {
            is_final: false,
            ..ended(10, "login", Outcome::Success, None)
        };
        assert!(n.ended(&retry, Duration::ZERO, &t).is_empty());
        let back = n.ended(
            &ended(11, "login", Outcome::Success, None),
            Duration::ZERO,
            &t,
        );
        assert_eq!(back, ["login passes again: run 11"]);
    }
}
