//! The only place outcomes become Prometheus series. Names are constants ([`names`], and
//! the README's metric table); label values come from closed sets (outcome, reason, kind, skip
//! reason, BPM state) or configured names (probe, step, BPM, window) — never URLs or error
//! text.
//!
//! The registry is owned, not global, and handed to whoever records or encodes. This file
//! registers every series; `record.rs` moves them as runs, reloads and BPMs happen.
//! `/metrics` answers in the Prometheus text format, or in OpenMetrics 1.0 when the scraper
//! asks for it ([`encode_openmetrics`]; the `prometheus` crate only writes the former).

pub mod names;
mod openmetrics;
mod record;

pub use openmetrics::{
    OPENMETRICS_CONTENT_TYPE, TEXT_CONTENT_TYPE, encode_openmetrics, wants_openmetrics,
};
pub use record::InFlight;

use prometheus::proto::MetricFamily;
use prometheus::{
    Encoder, GaugeVec, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

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
    pool_sessions: IntGaugeVec,
    pool_checkouts: IntCounterVec,
    pool_recycled: IntCounterVec,
    pool_reset: prometheus::Histogram,
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
        let int_gauge_vec = |name: &str, help: &str, labels: &[&str]| {
            let g = IntGaugeVec::new(opts(name, help), labels).expect("valid metric");
            registry.register(Box::new(g.clone())).expect("unique");
            g
        };
        let info = int_gauge_vec(
            names::BUILD_INFO,
            "Always 1; labels say which build runs.",
            &["version"],
        );
        info.with_label_values(&[env!("CARGO_PKG_VERSION")]).set(1);
        let outcome_labels = &["probe", "kind", "outcome", "reason"];
        let m = Metrics {
            runs: counter(
                names::RUNS,
                "Runs by eventual outcome (after retries). reason is 'none' for success.",
                outcome_labels,
            ),
            first_attempts: counter(
                names::FIRST_ATTEMPTS,
                "Runs by the outcome of their first attempt, so a retry never hides a flaky target.",
                outcome_labels,
            ),
            flaky: counter(
                names::RUNS_FLAKY,
                "Runs whose first attempt did not succeed and a retry did.",
                &["probe", "kind"],
            ),
            skipped: counter(
                names::RUNS_SKIPPED,
                "Scheduled runs that did not start: overrun (previous run still going) or no_slot (no slot in time).",
                &["probe", "reason"],
            ),
            run_duration: histogram(
                names::RUN_DURATION,
                "Duration of each attempt of a run: opening a new browser session and closing an unpooled one included, the pool's reset after it not.",
                &["probe", "kind"],
                RUN_BUCKETS,
            ),
            step_duration: histogram(
                names::STEP_DURATION,
                "Duration of each journey step that ran; step is the step's name, else its 1-based index.",
                &["probe", "step"],
                STEP_BUCKETS,
            ),
            page_timing: histogram(
                names::PAGE_TIMING,
                "Navigation Timing of the page a journey step loaded (goto, navigating click/press/select), from the navigation's start; timing is ttfb, dom_content_loaded, load or lcp.",
                &["probe", "step", "timing"],
                PAGE_BUCKETS,
            ),
            lateness: histogram(
                names::START_LATENESS,
                "How late runs started after they were due (waiting for a slot included).",
                &["kind"],
                LATENESS_BUCKETS,
            ),
            last_run: gauge(
                names::LAST_RUN,
                "Unix time the probe's last run ended, whatever its outcome (before its first run: when it was scheduled).",
                &["probe", "kind"],
            ),
            last_success: gauge(
                names::LAST_SUCCESS,
                "Unix time the probe's last successful run started.",
                &["probe", "kind"],
            ),
            interval: gauge(
                names::PROBE_INTERVAL,
                "The probe's configured every:, in seconds.",
                &["probe", "kind"],
            ),
            sessions: int_gauge(names::SESSIONS_IN_USE, "Browser sessions open right now."),
            pool_sessions: int_gauge_vec(
                names::POOL_SESSIONS,
                "Pooled browser sessions by state: warm (reset, waiting for a run), busy (in a run), resetting.",
                &["state"],
            ),
            pool_recycled: {
                let recycled = counter(
                    names::POOL_RECYCLED,
                    "Pooled sessions closed and replaced, by reason: error, failure, max_runs, memory, reset_failed, dead, evicted.",
                    &["reason"],
                );
                for r in crate::browser::pool::Recycle::ALL {
                    recycled.with_label_values(&[r.as_str()]);
                }
                recycled
            },
            pool_checkouts: {
                let checkouts = counter(
                    names::POOL_CHECKOUTS,
                    "Journey runs by the session they got: warm (reused from the pool) or new (opened for the run).",
                    &["session"],
                );
                for s in crate::result::SessionKind::ALL {
                    checkouts.with_label_values(&[s.as_str()]);
                }
                checkouts
            },
            pool_reset: {
                let reset = prometheus::Histogram::with_opts(
                    HistogramOpts::new(
                        names::POOL_RESET_DURATION,
                        "Time to reset a session between runs (new tab; storage, cookies and cache cleared), off the runs' clock.",
                    )
                    .buckets(STEP_BUCKETS.to_vec()),
                )
                .expect("valid metric");
                registry.register(Box::new(reset.clone())).expect("unique");
                reset
            },
            browser_slots: int_gauge(
                names::BROWSER_SLOTS,
                "Browser sessions allowed at once (browser_slots).",
            ),
            check_slots: int_gauge(
                names::CHECK_SLOTS,
                "Checks allowed to run at once (check_slots).",
            ),
            reload_ok: int_gauge(
                names::CONFIG_RELOAD_SUCCESSFUL,
                "1 if the last configuration load or reload succeeded, else 0 (the previous configuration keeps running).",
            ),
            reload_time: {
                let g = prometheus::Gauge::with_opts(opts(
                    names::CONFIG_RELOAD_SUCCESS_TIME,
                    "Unix time of the last successful configuration load.",
                ))
                .expect("valid metric");
                registry.register(Box::new(g.clone())).expect("unique");
                g
            },
            reloads: counter(
                names::CONFIG_RELOADS,
                "Configuration reloads (SIGHUP) by result: success or failure.",
                &["result"],
            ),
            events: counter(
                names::CHANGE_EVENTS,
                "Change events received (POST /api/v1/events) by kind: deploy, flag, config, incident, other.",
                &["kind"],
            ),
            bpm_ratio: gauge(
                names::BPM_RATIO,
                "Share of countable runs (success + failure; errors left out) that succeeded, over the window. Absent when the window has no countable run.",
                &["bpm", "window"],
            ),
            bpm_runs: int_gauge_vec(
                names::BPM_COUNTABLE_RUNS,
                "Countable runs (success + failure) in the BPM's window.",
                &["bpm", "window"],
            ),
            bpm_min: gauge(
                names::BPM_EXPECTED_MIN,
                "Lower bound of the BPM's expected band.",
                &["bpm"],
            ),
            bpm_max: gauge(
                names::BPM_EXPECTED_MAX,
                "Upper bound of the BPM's expected band.",
                &["bpm"],
            ),
            bpm_state: int_gauge_vec(
                names::BPM_STATE,
                "1 for the BPM's current state over the window: in_band, below, above or no_data.",
                &["bpm", "window", "state"],
            ),
            registry,
            together: Default::default(),
        };
        for kind in ["deploy", "flag", "config", "incident", "other"] {
            m.events.with_label_values(&[kind]);
        }
        #[cfg(target_os = "linux")]
        {
            let pc = prometheus::process_collector::ProcessCollector::for_self();
            let _ = m.registry.register(Box::new(pc));
        }
        m
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
