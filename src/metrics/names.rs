//! The name of every series journeyprobe exports, written once. The registry
//! ([`super::Metrics::new`]) registers them, [`crate::rules`] builds alert and recording
//! rules on them, and the README's metric table documents them.

/// Runs by eventual outcome (after retries).
pub const RUNS: &str = "journeyprobe_runs_total";
/// Runs by the outcome of their first attempt.
pub const FIRST_ATTEMPTS: &str = "journeyprobe_first_attempts_total";
/// Runs whose first attempt did not succeed and a retry did.
pub const RUNS_FLAKY: &str = "journeyprobe_runs_flaky_total";
/// Scheduled runs that did not start.
pub const RUNS_SKIPPED: &str = "journeyprobe_runs_skipped_total";
pub const RUN_DURATION: &str = "journeyprobe_run_duration_seconds";
pub const STEP_DURATION: &str = "journeyprobe_step_duration_seconds";
pub const PAGE_TIMING: &str = "journeyprobe_page_timing_seconds";
pub const START_LATENESS: &str = "journeyprobe_start_lateness_seconds";
pub const LAST_RUN: &str = "journeyprobe_last_run_timestamp_seconds";
pub const LAST_SUCCESS: &str = "journeyprobe_last_success_timestamp_seconds";
pub const PROBE_INTERVAL: &str = "journeyprobe_probe_interval_seconds";
pub const SESSIONS_IN_USE: &str = "journeyprobe_webdriver_sessions_in_use";
pub const POOL_SESSIONS: &str = "journeyprobe_pool_sessions";
pub const POOL_RECYCLED: &str = "journeyprobe_pool_recycled_total";
pub const POOL_CHECKOUTS: &str = "journeyprobe_pool_checkouts_total";
pub const POOL_RESET_DURATION: &str = "journeyprobe_pool_reset_duration_seconds";
pub const BROWSER_SLOTS: &str = "journeyprobe_browser_slots";
pub const CHECK_SLOTS: &str = "journeyprobe_check_slots";
pub const CONFIG_RELOAD_SUCCESSFUL: &str = "journeyprobe_config_last_reload_successful";
pub const CONFIG_RELOAD_SUCCESS_TIME: &str =
    "journeyprobe_config_last_reload_success_timestamp_seconds";
pub const CONFIG_RELOADS: &str = "journeyprobe_config_reloads_total";
pub const CHANGE_EVENTS: &str = "journeyprobe_change_events_total";
pub const BPM_RATIO: &str = "journeyprobe_bpm_ratio";
pub const BPM_COUNTABLE_RUNS: &str = "journeyprobe_bpm_countable_runs";
pub const BPM_EXPECTED_MIN: &str = "journeyprobe_bpm_expected_min";
pub const BPM_EXPECTED_MAX: &str = "journeyprobe_bpm_expected_max";
pub const BPM_STATE: &str = "journeyprobe_bpm_state";
/// Always 1, labelled with the version: a journeyprobe is up.
pub const BUILD_INFO: &str = "journeyprobe_build_info";
