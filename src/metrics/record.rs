//! Recording: what happened (an attempt, a run, a skip, a reload, a BPM's window) becomes
//! the series it moves.

use std::time::Duration;

use prometheus::IntGauge;

use super::{Metrics, SkipReason};
use crate::browser::pool::{PoolEvents, Recycle};
use crate::config::{Band, BpmState, ProbeKind};
use crate::result::RunResult;
use crate::result::SessionKind;

impl Metrics {
    /// Record one attempt (durations, steps, last-run gauges).
    pub fn attempt(&self, r: &RunResult) {
        self.run_duration
            .with_label_values(&[&r.probe, r.kind.as_str()])
            .observe(r.duration_ms / 1000.0);
        for s in r
            .steps
            .iter()
            .filter(|s| s.status != crate::result::StepStatus::Skipped)
        {
            let step = step_label(s);
            self.step_duration
                .with_label_values(&[&r.probe, &step])
                .observe(s.duration_ms / 1000.0);
            for (timing, ms) in s.page.iter().flat_map(|p| p.each()) {
                self.page_timing
                    .with_label_values(&[&r.probe, &step, timing.as_str()])
                    .observe(ms / 1000.0);
            }
        }
        let now = crate::time::unix(std::time::SystemTime::now());
        self.last_run
            .with_label_values(&[&r.probe, r.kind.as_str()])
            .set(now);
        if r.outcome == crate::outcome::Outcome::Success {
            self.last_success
                .with_label_values(&[&r.probe, r.kind.as_str()])
                .set(started(r));
        }
    }

    /// Record a run's first attempt and its eventual outcome.
    pub fn run(&self, first: &RunResult, last: &RunResult) {
        self.first_attempts
            .with_label_values(&outcome_labels(first))
            .inc();
        self.runs.with_label_values(&outcome_labels(last)).inc();
        if first.outcome != crate::outcome::Outcome::Success
            && last.outcome == crate::outcome::Outcome::Success
        {
            self.flaky
                .with_label_values(&[&last.probe, last.kind.as_str()])
                .inc();
        }
    }

    pub fn skipped(&self, probe: &str, reason: SkipReason) {
        self.skipped
            .with_label_values(&[probe, reason.as_str()])
            .inc();
    }

    pub fn late(&self, kind: ProbeKind, seconds: f64) {
        self.lateness
            .with_label_values(&[kind.as_str()])
            .observe(seconds);
    }

    /// A probe is scheduled: its interval gauge and zeroed counters, so `increase()` sees
    /// its first run and absent-series alerts see it before it ran.
    pub fn probe(&self, name: &str, kind: ProbeKind, every_seconds: f64) {
        let kind = kind.as_str();
        // A probe that never gets to run still has a last-run time to go stale from: when
        // it was first scheduled.
        let last = self.last_run.with_label_values(&[name, kind]);
        if last.get() == 0.0 {
            last.set(crate::time::unix(std::time::SystemTime::now()));
        }
        self.interval
            .with_label_values(&[name, kind])
            .set(every_seconds);
        self.skipped
            .with_label_values(&[name, SkipReason::Overrun.as_str()]);
        self.skipped
            .with_label_values(&[name, SkipReason::NoSlot.as_str()]);
        // A success series at 0 from the start: `increase()` then sees the first success,
        // and a probe that only ever fails still has a numerator for its ratio.
        let ok = [name, kind, "success", "none"];
        self.runs.with_label_values(&ok);
        self.first_attempts.with_label_values(&ok);
    }

    /// Forget a probe that a reload removed.
    pub fn forget_probe(&self, name: &str, kind: ProbeKind) {
        let _ = self.interval.remove_label_values(&[name, kind.as_str()]);
    }

    pub fn restore_last_success(&self, probe: &str, kind: ProbeKind, at: f64) {
        self.last_success
            .with_label_values(&[probe, kind.as_str()])
            .set(at);
    }

    /// A browser session is in use until the guard drops, however the run holding it ends
    /// (finished, failed, or its future dropped mid-run).
    pub fn session_in_use(&self) -> InFlight {
        InFlight::start(self.sessions.clone())
    }

    /// What the browser pool reports, for [`crate::browser::pool::Pool::new`].
    pub fn pool(&self) -> std::sync::Arc<dyn PoolEvents> {
        std::sync::Arc::new(self.clone())
    }

    pub fn slots(&self, browser: usize, checks: usize) {
        self.browser_slots.set(browser as i64);
        self.check_slots.set(checks as i64);
    }

    /// A configuration load (at start or on SIGHUP) succeeded or failed.
    pub fn reload(&self, ok: bool, initial: bool) {
        // One update: a scrape that sees the new state sees its count (an alert on the state
        // can join on the counter).
        let _together = self.exclusive();
        if !initial {
            let result = if ok { "success" } else { "failure" };
            self.reloads.with_label_values(&[result]).inc();
        }
        if ok {
            self.reload_time
                .set(crate::time::unix(std::time::SystemTime::now()));
        }
        self.reload_ok.set(i64::from(ok));
    }

    /// A change event was stored.
    pub fn change_event(&self, kind: &str) {
        self.events.with_label_values(&[kind]).inc();
    }

    /// The band of a BPM.
    pub fn band(&self, bpm: &str, band: &Band) {
        match band.min {
            Some(v) => self.bpm_min.with_label_values(&[bpm]).set(v),
            None => {
                let _ = self.bpm_min.remove_label_values(&[bpm]);
            }
        }
        match band.max {
            Some(v) => self.bpm_max.with_label_values(&[bpm]).set(v),
            None => {
                let _ = self.bpm_max.remove_label_values(&[bpm]);
            }
        }
    }

    /// A BPM's ratio over one window: `None` when the window holds no countable run, which
    /// exports no ratio at all (neither 1 nor 0) and the state `no_data`.
    pub fn bpm(&self, bpm: &str, window: &str, countable: u64, ratio: Option<(f64, BpmState)>) {
        let _together = self.exclusive();
        self.bpm_runs
            .with_label_values(&[bpm, window])
            .set(countable as i64);
        let state = match ratio {
            Some((r, state)) => {
                self.bpm_ratio.with_label_values(&[bpm, window]).set(r);
                state
            }
            None => {
                let _ = self.bpm_ratio.remove_label_values(&[bpm, window]);
                BpmState::NoData
            }
        };
        for s in BpmState::ALL {
            self.bpm_state
                .with_label_values(&[bpm, window, s.as_str()])
                .set(i64::from(*s == state));
        }
    }

    /// Forget every series of a BPM a reload removed.
    pub fn forget_bpm(&self, bpm: &str, windows: &[String]) {
        let _ = self.bpm_min.remove_label_values(&[bpm]);
        let _ = self.bpm_max.remove_label_values(&[bpm]);
        self.forget_bpm_windows(bpm, windows);
    }

    /// Forget some windows of a BPM (a reload dropped them).
    pub fn forget_bpm_windows(&self, bpm: &str, windows: &[String]) {
        let _together = self.exclusive();
        for w in windows {
            let _ = self.bpm_ratio.remove_label_values(&[bpm, w]);
            let _ = self.bpm_runs.remove_label_values(&[bpm, w]);
            for s in BpmState::ALL {
                let _ = self.bpm_state.remove_label_values(&[bpm, w, s.as_str()]);
            }
        }
    }
}

/// Work in flight counted by a gauge: up by one while the guard lives, down when it drops.
/// A future dropped between the two (a cancelled run) cannot leave the gauge counting it.
#[must_use = "the gauge goes down when the guard drops"]
pub struct InFlight(IntGauge);

impl InFlight {
    fn start(gauge: IntGauge) -> InFlight {
        gauge.inc();
        InFlight(gauge)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

impl PoolEvents for Metrics {
    fn sessions(&self, warm: usize, busy: usize, resetting: usize) {
        for (state, n) in [("warm", warm), ("busy", busy), ("resetting", resetting)] {
            self.pool_sessions.with_label_values(&[state]).set(n as i64);
        }
    }

    fn checkout(&self, session: SessionKind) {
        self.pool_checkouts
            .with_label_values(&[session.as_str()])
            .inc();
    }

    fn recycled(&self, why: Recycle) {
        self.pool_recycled.with_label_values(&[why.as_str()]).inc();
    }

    fn reset(&self, took: Duration) {
        self.pool_reset.observe(took.as_secs_f64());
    }
}

fn outcome_labels(r: &RunResult) -> [&str; 4] {
    [
        &r.probe,
        r.kind.as_str(),
        r.outcome.as_str(),
        r.reason.map_or("none", |x| x.as_str()),
    ]
}

/// A step's label: its name when it has one, else its index. Bounded by the steps of the
/// journey file, never a URL or selector.
fn step_label(s: &crate::result::StepRecord) -> String {
    if s.named {
        s.label.clone()
    } else {
        s.index.to_string()
    }
}

fn started(r: &RunResult) -> f64 {
    humantime::parse_rfc3339(&r.started_at)
        .map(crate::time::unix)
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scrape taken while updates run sees each update whole: one BPM state at 1, and a
    /// failed reload's state only with its count.
    #[test]
    fn a_scrape_never_sees_half_an_update() {
        let m = Metrics::new();
        m.reload(true, true);
        let writer = {
            let m = m.clone();
            std::thread::spawn(move || {
                for i in 0..20_000 {
                    let state = [BpmState::InBand, BpmState::Below, BpmState::Above][i % 3];
                    m.bpm("login", "5m", 4, Some((0.5, state)));
                    if i % 1000 == 0 {
                        m.reload(false, false);
                    }
                }
            })
        };
        let mut scrapes = 0;
        while !writer.is_finished() || scrapes == 0 {
            scrapes += 1;
            let text = m.encode_text();
            let value = |line: &str| line.rsplit_once(' ').map(|(_, v)| v.to_string());
            let states: Vec<_> = text
                .lines()
                .filter(|l| l.starts_with("journeyprobe_bpm_state{"))
                .filter_map(value)
                .collect();
            if !states.is_empty() {
                let ones = states.iter().filter(|v| v.as_str() == "1").count();
                assert_eq!(ones, 1, "one state at a time: {states:?}");
            }
            let failed = text
                .lines()
                .find(|l| l.starts_with("journeyprobe_config_last_reload_successful "))
                .and_then(value);
            let count = text
                .lines()
                .find(|l| l.starts_with("journeyprobe_config_reloads_total{result=\"failure\"}"))
                .and_then(value);
            if failed.as_deref() == Some("0") {
                assert!(count.is_some(), "a failed state without its count");
            }
        }
        writer.join().unwrap();
    }

    #[test]
    fn page_timings_of_a_step_are_observed_under_its_label_and_absent_ones_are_not() {
        let m = Metrics::new();
        let r = crate::report::fixtures::failed_journey();
        m.attempt(&r);
        let text = m.encode_text();
        assert!(
            text.contains(
                "journeyprobe_page_timing_seconds_sum{probe=\"login\",step=\"1\",timing=\"ttfb\"} 0.012"
            ),
            "{text}"
        );
        assert!(
            text.contains("_count{probe=\"login\",step=\"1\",timing=\"dom_content_loaded\"} 1"),
            "{text}"
        );
        assert!(!text.contains("timing=\"load\""), "{text}");
        assert!(!text.contains("timing=\"lcp\""), "{text}");
        // Only the step that loaded a page has timings.
        assert!(!text.contains("step=\"2\",timing="), "{text}");
    }

    #[test]
    fn a_window_without_countable_runs_exports_no_ratio() {
        let m = Metrics::new();
        m.bpm("login", "5m", 3, Some((1.0, BpmState::InBand)));
        m.bpm("login", "5m", 0, None);
        let text = m.encode_text();
        assert!(!text.contains("journeyprobe_bpm_ratio{"), "{text}");
        assert!(
            text.contains(
                "journeyprobe_bpm_state{bpm=\"login\",state=\"no_data\",window=\"5m\"} 1"
            )
        );
        assert!(
            text.contains(
                "journeyprobe_bpm_state{bpm=\"login\",state=\"in_band\",window=\"5m\"} 0"
            )
        );
    }

    /// The service's run future is dropped when the service stops mid-run: the session it
    /// held must not stay counted.
    #[tokio::test]
    async fn a_run_dropped_mid_way_leaves_no_session_in_use() {
        let m = Metrics::new();
        let run = {
            let m = m.clone();
            async move {
                let _in_use = m.session_in_use();
                std::future::pending::<()>().await;
            }
        };
        let mut run = Box::pin(run);
        assert!(futures::poll!(run.as_mut()).is_pending());
        assert_eq!(m.sessions.get(), 1, "counted while the run is going");
        drop(run);
        assert_eq!(m.sessions.get(), 0);
        assert!(
            m.encode_text()
                .contains("\njourneyprobe_webdriver_sessions_in_use 0\n")
        );
    }

    #[test]
    fn pool_events_move_the_pool_series() {
        let m = Metrics::new();
        let pool = m.pool();
        pool.sessions(2, 1, 0);
        pool.checkout(SessionKind::Warm);
        pool.recycled(Recycle::Dead);
        pool.reset(Duration::from_millis(30));
        let text = m.encode_text();
        for line in [
            "journeyprobe_pool_sessions{state=\"warm\"} 2",
            "journeyprobe_pool_sessions{state=\"busy\"} 1",
            "journeyprobe_pool_sessions{state=\"resetting\"} 0",
            "journeyprobe_pool_checkouts_total{session=\"warm\"} 1",
            "journeyprobe_pool_checkouts_total{session=\"new\"} 0",
            "journeyprobe_pool_recycled_total{reason=\"dead\"} 1",
            "journeyprobe_pool_recycled_total{reason=\"error\"} 0",
            "journeyprobe_pool_reset_duration_seconds_count 1",
        ] {
            assert!(text.contains(&format!("{line}\n")), "{line} in\n{text}");
        }
    }
}
