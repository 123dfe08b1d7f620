//! The only place outcomes become Prometheus series. Names are constants here and in the
//! README's metric table; label values come from closed sets (outcome, reason, kind, skip
//! reason, BPM state) or configured names (probe, step, BPM, window) — never URLs or error
//! text.
//!
//! The registry is owned, not global, and handed to whoever records or encodes.
//! `/metrics` answers in the Prometheus text format, or in OpenMetrics 1.0 when the scraper
//! asks for it ([`encode_openmetrics`]; the `prometheus` crate only writes the former).

use prometheus::proto::{MetricFamily, MetricType};
use prometheus::{
    Encoder, GaugeVec, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

use crate::config::{Band, BpmState, ProbeKind};
use crate::result::RunResult;

/// Buckets of run durations: a check takes milliseconds, a journey seconds.
const RUN_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];
/// Buckets of one journey step.
const STEP_BUCKETS: &[f64] = &[0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
/// Buckets of a page's Navigation Timing figures (TTFB to load).
const PAGE_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Buckets of scheduler start lateness.
const LATENESS_BUCKETS: &[f64] = &[0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0];

/// Why a scheduled run did not start. Closed set: it is a label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SkipReason {
    /// The probe's previous run was still going when this one was due.
    Overrun,
    /// No browser or check slot freed up in time for the run to finish before its next one.
    NoSlot,
}

impl SkipReason {
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::Overrun => "overrun",
            SkipReason::NoSlot => "no_slot",
        }
    }
}

/// Every series journeyprobe exports.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    /// Held shared by a scrape and exclusively by an update that moves several series
    /// together (a reload's counter and state, a BPM's one-hot state), so no scrape sees
    /// half of such an update: the registry gathers its families one by one, in no set order.
    together: std::sync::Arc<std::sync::RwLock<()>>,
    runs: IntCounterVec,
    first_attempts: IntCounterVec,
    flaky: IntCounterVec,
    skipped: IntCounterVec,
    run_duration: HistogramVec,
    step_duration: HistogramVec,
    page_timing: HistogramVec,
    lateness: HistogramVec,
    last_run: GaugeVec,
    last_success: GaugeVec,
    interval: GaugeVec,
    sessions: IntGauge,
    pool: crate::browser::pool::PoolMetrics,
    browser_slots: IntGauge,
    check_slots: IntGauge,
    reload_ok: IntGauge,
    reload_time: prometheus::Gauge,
    reloads: IntCounterVec,
    events: IntCounterVec,
    bpm_ratio: GaugeVec,
    bpm_runs: IntGaugeVec,
    bpm_min: GaugeVec,
    bpm_max: GaugeVec,
    bpm_state: IntGaugeVec,
}

fn opts(name: &str, help: &str) -> Opts {
    Opts::new(name, help)
}

impl Metrics {
    pub fn new() -> Metrics {
        let registry = Registry::new();
        let counter = |name: &str, help: &str, labels: &[&str]| {
            let c = IntCounterVec::new(opts(name, help), labels).expect("valid metric");
            registry.register(Box::new(c.clone())).expect("unique");
            c
        };
        let gauge = |name: &str, help: &str, labels: &[&str]| {
            let g = GaugeVec::new(opts(name, help), labels).expect("valid metric");
            registry.register(Box::new(g.clone())).expect("unique");
            g
        };
        let int_gauge = |name: &str, help: &str| {
            let g = IntGauge::with_opts(opts(name, help)).expect("valid metric");
            registry.register(Box::new(g.clone())).expect("unique");
            g
        };
        let histogram = |name: &str, help: &str, labels: &[&str], buckets: &[f64]| {
            let o = HistogramOpts::new(name, help).buckets(buckets.to_vec());
            let h = HistogramVec::new(o, labels).expect("valid metric");
            registry.register(Box::new(h.clone())).expect("unique");
            h
        };
        let outcome_labels = &["probe", "kind", "outcome", "reason"];
        let m = Metrics {
            runs: counter(
                "journeyprobe_runs_total",
                "Runs by eventual outcome (after retries). reason is 'none' for success.",
                outcome_labels,
            ),
            first_attempts: counter(
                "journeyprobe_first_attempts_total",
                "Runs by the outcome of their first attempt, so a retry never hides a flaky target.",
                outcome_labels,
            ),
            flaky: counter(
                "journeyprobe_runs_flaky_total",
                "Runs whose first attempt did not succeed and a retry did.",
                &["probe", "kind"],
            ),
            skipped: counter(
                "journeyprobe_runs_skipped_total",
                "Scheduled runs that did not start: overrun (previous run still going) or no_slot (no slot in time).",
                &["probe", "reason"],
            ),
            run_duration: histogram(
                "journeyprobe_run_duration_seconds",
                "Duration of each attempt of a run: opening a new browser session and closing an unpooled one included, the pool's reset after it not.",
                &["probe", "kind"],
                RUN_BUCKETS,
            ),
            step_duration: histogram(
                "journeyprobe_step_duration_seconds",
                "Duration of each journey step that ran; step is the step's name, else its 1-based index.",
                &["probe", "step"],
                STEP_BUCKETS,
            ),
            page_timing: histogram(
                "journeyprobe_page_timing_seconds",
                "Navigation Timing of the page a journey step loaded (goto, navigating click/press/select), from the navigation's start; timing is ttfb, dom_content_loaded, load or lcp.",
                &["probe", "step", "timing"],
                PAGE_BUCKETS,
            ),
            lateness: histogram(
                "journeyprobe_start_lateness_seconds",
                "How late runs started after they were due (waiting for a slot included).",
                &["kind"],
                LATENESS_BUCKETS,
            ),
            last_run: gauge(
                "journeyprobe_last_run_timestamp_seconds",
                "Unix time the probe's last run ended, whatever its outcome (before its first run: when it was scheduled).",
                &["probe", "kind"],
            ),
            last_success: gauge(
                "journeyprobe_last_success_timestamp_seconds",
                "Unix time the probe's last successful run started.",
                &["probe", "kind"],
            ),
            interval: gauge(
                "journeyprobe_probe_interval_seconds",
                "The probe's configured every:, in seconds.",
                &["probe", "kind"],
            ),
            sessions: int_gauge(
                "journeyprobe_webdriver_sessions_in_use",
                "Browser sessions open right now.",
            ),
            pool: {
                let sessions = IntGaugeVec::new(
                    opts(
                        "journeyprobe_pool_sessions",
                        "Pooled browser sessions by state: warm (reset, waiting for a run), busy (in a run), resetting.",
                    ),
                    &["state"],
                )
                .expect("valid metric");
                registry
                    .register(Box::new(sessions.clone()))
                    .expect("unique");
                let recycled = counter(
                    "journeyprobe_pool_recycled_total",
                    "Pooled sessions closed and replaced, by reason: error, failure, max_runs, memory, reset_failed, dead, evicted.",
                    &["reason"],
                );
                for r in crate::browser::pool::Recycle::ALL {
                    recycled.with_label_values(&[r.as_str()]);
                }
                let checkouts = counter(
                    "journeyprobe_pool_checkouts_total",
                    "Journey runs by the session they got: warm (reused from the pool) or new (opened for the run).",
                    &["session"],
                );
                for s in crate::result::SessionKind::ALL {
                    checkouts.with_label_values(&[s.as_str()]);
                }
                let reset = prometheus::Histogram::with_opts(
                    HistogramOpts::new(
                        "journeyprobe_pool_reset_duration_seconds",
                        "Time to reset a session between runs (new tab; storage, cookies and cache cleared), off the runs' clock.",
                    )
                    .buckets(STEP_BUCKETS.to_vec()),
                )
                .expect("valid metric");
                registry.register(Box::new(reset.clone())).expect("unique");
                crate::browser::pool::PoolMetrics {
                    sessions,
                    checkouts,
                    recycled,
                    reset,
                }
            },
            browser_slots: int_gauge(
                "journeyprobe_browser_slots",
                "Browser sessions allowed at once (browser_slots).",
            ),
            check_slots: int_gauge(
                "journeyprobe_check_slots",
                "Checks allowed to run at once (check_slots).",
            ),
            reload_ok: int_gauge(
                "journeyprobe_config_last_reload_successful",
                "1 if the last configuration load or reload succeeded, else 0 (the previous configuration keeps running).",
            ),
            reload_time: {
                let g = prometheus::Gauge::with_opts(opts(
                    "journeyprobe_config_last_reload_success_timestamp_seconds",
                    "Unix time of the last successful configuration load.",
                ))
                .expect("valid metric");
                registry.register(Box::new(g.clone())).expect("unique");
                g
            },
            reloads: counter(
                "journeyprobe_config_reloads_total",
                "Configuration reloads (SIGHUP) by result: success or failure.",
                &["result"],
            ),
            events: counter(
                "journeyprobe_change_events_total",
                "Change events received (POST /api/v1/events) by kind: deploy, flag, config, incident, other.",
                &["kind"],
            ),
            bpm_ratio: gauge(
                "journeyprobe_bpm_ratio",
                "Share of countable runs (success + failure; errors left out) that succeeded, over the window. Absent when the window has no countable run.",
                &["bpm", "window"],
            ),
            bpm_runs: {
                let g = IntGaugeVec::new(
                    opts(
                        "journeyprobe_bpm_countable_runs",
                        "Countable runs (success + failure) in the BPM's window.",
                    ),
                    &["bpm", "window"],
                )
                .expect("valid metric");
                registry.register(Box::new(g.clone())).expect("unique");
                g
            },
            bpm_min: gauge(
                "journeyprobe_bpm_expected_min",
                "Lower bound of the BPM's expected band.",
                &["bpm"],
            ),
            bpm_max: gauge(
                "journeyprobe_bpm_expected_max",
                "Upper bound of the BPM's expected band.",
                &["bpm"],
            ),
            bpm_state: {
                let g = IntGaugeVec::new(
                    opts(
                        "journeyprobe_bpm_state",
                        "1 for the BPM's current state over the window: in_band, below, above or no_data.",
                    ),
                    &["bpm", "window", "state"],
                )
                .expect("valid metric");
                registry.register(Box::new(g.clone())).expect("unique");
                g
            },
            registry,
            together: Default::default(),
        };
        let info = IntGaugeVec::new(
            opts(
                "journeyprobe_build_info",
                "Always 1; labels say which build runs.",
            ),
            &["version"],
        )
        .expect("valid metric");
        info.with_label_values(&[env!("CARGO_PKG_VERSION")]).set(1);
        for kind in ["deploy", "flag", "config", "incident", "other"] {
            m.events.with_label_values(&[kind]);
        }
        m.registry.register(Box::new(info)).expect("unique");
        #[cfg(target_os = "linux")]
        {
            let pc = prometheus::process_collector::ProcessCollector::for_self();
            let _ = m.registry.register(Box::new(pc));
        }
        m
    }

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

    pub fn sessions(&self) -> &IntGauge {
        &self.sessions
    }

    pub fn pool(&self) -> crate::browser::pool::PoolMetrics {
        self.pool.clone()
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

    pub fn gather(&self) -> Vec<MetricFamily> {
        let _together = self.together.read().unwrap_or_else(|e| e.into_inner());
        self.registry.gather()
    }

    fn exclusive(&self) -> std::sync::RwLockWriteGuard<'_, ()> {
        self.together.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Prometheus text format 0.0.4.
    pub fn encode_text(&self) -> String {
        let mut buf = Vec::new();
        let _ = TextEncoder::new().encode(&self.gather(), &mut buf);
        String::from_utf8(buf).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
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

/// Content type of the Prometheus text format.
pub const TEXT_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";
/// Content type of OpenMetrics text.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Does an `Accept` header ask for OpenMetrics?
pub fn wants_openmetrics(accept: &str) -> bool {
    accept
        .split(',')
        .any(|part| part.trim().starts_with("application/openmetrics-text"))
}

/// OpenMetrics 1.0 text: counters are declared without `_total` and sampled with it,
/// label values escaped, and the exposition ends with `# EOF`.
pub fn encode_openmetrics(families: &[MetricFamily]) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    for f in families {
        let name = f.name();
        let (family, kind) = match f.get_field_type() {
            MetricType::COUNTER => (name.strip_suffix("_total").unwrap_or(name), "counter"),
            MetricType::GAUGE => (name, "gauge"),
            MetricType::HISTOGRAM => (name, "histogram"),
            MetricType::SUMMARY => (name, "summary"),
            MetricType::UNTYPED => (name, "unknown"),
        };
        let _ = writeln!(out, "# TYPE {family} {kind}");
        let _ = writeln!(out, "# HELP {family} {}", escape_help(f.help()));
        for m in f.get_metric() {
            let labels: Vec<(String, String)> = m
                .get_label()
                .iter()
                .map(|l| (l.name().to_string(), l.value().to_string()))
                .collect();
            match f.get_field_type() {
                MetricType::COUNTER => {
                    let v = m.get_counter().get_value();
                    sample(&mut out, &format!("{family}_total"), &labels, None, v);
                }
                MetricType::GAUGE => {
                    sample(&mut out, name, &labels, None, m.get_gauge().get_value())
                }
                // Nothing here registers untyped metrics.
                MetricType::UNTYPED => {}
                MetricType::HISTOGRAM => {
                    let h = m.get_histogram();
                    for b in h.get_bucket() {
                        let le = format_float(b.upper_bound());
                        sample(
                            &mut out,
                            &format!("{name}_bucket"),
                            &labels,
                            Some(&le),
                            b.cumulative_count() as f64,
                        );
                    }
                    let count = h.get_sample_count() as f64;
                    sample(
                        &mut out,
                        &format!("{name}_bucket"),
                        &labels,
                        Some("+Inf"),
                        count,
                    );
                    sample(&mut out, &format!("{name}_count"), &labels, None, count);
                    sample(
                        &mut out,
                        &format!("{name}_sum"),
                        &labels,
                        None,
                        h.get_sample_sum(),
                    );
                }
                MetricType::SUMMARY => {
                    let s = m.get_summary();
                    sample(
                        &mut out,
                        &format!("{name}_count"),
                        &labels,
                        None,
                        s.sample_count() as f64,
                    );
                    sample(
                        &mut out,
                        &format!("{name}_sum"),
                        &labels,
                        None,
                        s.sample_sum(),
                    );
                }
            }
        }
    }
    out.push_str("# EOF\n");
    out
}

fn sample(out: &mut String, name: &str, labels: &[(String, String)], le: Option<&str>, v: f64) {
    use std::fmt::Write;
    out.push_str(name);
    let mut all: Vec<(&str, &str)> = labels
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    if let Some(le) = le {
        all.push(("le", le));
    }
    if !all.is_empty() {
        out.push('{');
        for (i, (k, v)) in all.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{k}=\"{}\"", escape_label(v));
        }
        out.push('}');
    }
    let _ = writeln!(out, " {}", format_float(v));
}

fn format_float(v: f64) -> String {
    if v.is_infinite() {
        if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else if v.is_nan() {
        "NaN".into()
    } else {
        format!("{v}")
    }
}

fn escape_label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn escape_help(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\n', "\\n")
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
    fn openmetrics_names_counter_families_without_total_and_ends_with_eof() {
        let m = Metrics::new();
        m.skipped("login", SkipReason::NoSlot);
        m.bpm("login", "5m", 4, Some((0.75, BpmState::Below)));
        let text = encode_openmetrics(&m.gather());
        assert!(
            text.contains("# TYPE journeyprobe_runs_skipped counter\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "journeyprobe_runs_skipped_total{probe=\"login\",reason=\"no_slot\"} 1\n"
            ),
            "{text}"
        );
        assert!(text.contains("journeyprobe_bpm_ratio{bpm=\"login\",window=\"5m\"} 0.75\n"));
        assert!(
            text.contains(
                "journeyprobe_bpm_state{bpm=\"login\",state=\"below\",window=\"5m\"} 1\n"
            )
        );
        assert!(text.ends_with("# EOF\n"));
        assert!(wants_openmetrics(
            "application/openmetrics-text;version=1.0.0,text/plain;q=0.5"
        ));
        assert!(!wants_openmetrics("text/plain;version=0.0.4"));
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
}
