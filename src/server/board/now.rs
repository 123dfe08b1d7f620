//! What is true *now*, beside the window's verdict. A BPM's windows lag: after an outage
//! the 5-minute ratio stays below its band for up to five minutes while the latest runs
//! already pass, and the first failures of a new outage barely move a long window. So each
//! tile also says where its probes stand by their latest runs alone:
//!
//! - `failing_now` — the latest [`RECENT_RUNS`] countable runs of one of its probes all
//!   failed (or every run it has, when it has fewer);
//! - `recovering` — out of band, but the latest runs of every probe pass;
//! - `in_band` — in band (or no window has data), and the latest runs pass;
//! - `mixed` — neither: a single failure in band, or an outage where some latest runs pass;
//! - `no_data` — no probe has a countable run in the look-back.
//!
//! A funnel's band (`max` below 1) expects failures: two failures in a row are normal there,
//! and so are two successes, so its latest runs say nothing on their own and its tile shows
//! the window's verdict only ([`now_state`] is `None`).
//!
//! Countable runs only, as everywhere on the board: an `error` says nothing about the target.

use crate::config::{Band, BpmState};

/// How many of a probe's latest countable runs decide "failing now" and "the latest runs
/// pass": two, so one failure is not an outage and one success is not a recovery, and the
/// demo (a run every 10 s) shows the change within two runs.
pub const RECENT_RUNS: usize = 2;

crate::closed::closed_set! {
    /// Where a BPM's probes stand by their latest runs. The text is the tile's `data-now`
    /// and CSS class.
    pub enum NowState {
        FailingNow => "failing_now",
        Recovering => "recovering",
        InBand => "in_band",
        Mixed => "mixed",
        NoData => "no_data",
    }
}

impl NowState {
    /// Symbol and words, so colour is never the only signal.
    pub fn words(self) -> (&'static str, &'static str) {
        match self {
            NowState::FailingNow => ("●", "Failing now"),
            NowState::Recovering => ("↗", "Recovering"),
            NowState::InBand => ("✓", "Passing now"),
            NowState::Mixed => ("≈", "Mixed now"),
            NowState::NoData => ("–", "No recent runs"),
        }
    }

    /// The tiles that need a look first: failing now, whatever the windows say.
    pub fn is_failing(self) -> bool {
        match self {
            NowState::FailingNow => true,
            NowState::Recovering | NowState::InBand | NowState::Mixed | NowState::NoData => false,
        }
    }
}

/// The state now of a BPM whose windows say `window`, with band `band`, from the latest
/// countable runs of each of its probes (`recent[i]`: success of probe `i`'s latest runs,
/// newest first, at most [`RECENT_RUNS`] of them; empty when it has none). `None` for a
/// funnel's band (see the module docs).
pub fn now_state(window: BpmState, band: &Band, recent: &[Vec<bool>]) -> Option<NowState> {
    if band.max.is_some_and(|max| max < 1.0) {
        return None;
    }
    let latest: Vec<&[bool]> = recent
        .iter()
        .map(|r| &r[..r.len().min(RECENT_RUNS)])
        .filter(|r| !r.is_empty())
        .collect();
    if latest.is_empty() {
        return Some(NowState::NoData);
    }
    if latest.iter().any(|r| r.iter().all(|ok| !ok)) {
        return Some(NowState::FailingNow);
    }
    let passing = latest.iter().all(|r| r.iter().all(|ok| *ok));
    Some(match (window, passing) {
        (BpmState::Below | BpmState::Above, true) => NowState::Recovering,
        (BpmState::InBand | BpmState::NoData, true) => NowState::InBand,
        (BpmState::Below | BpmState::Above | BpmState::InBand | BpmState::NoData, false) => {
            NowState::Mixed
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use BpmState::*;

    const MIN_95: Band = Band {
        min: Some(0.95),
        max: None,
    };

    fn now(window: BpmState, recent: &[&[bool]]) -> Option<NowState> {
        let recent: Vec<Vec<bool>> = recent.iter().map(|r| r.to_vec()).collect();
        now_state(window, &MIN_95, &recent)
    }

    #[test]
    fn after_the_site_recovers_the_tile_says_recovering_while_the_window_is_still_below() {
        // The incident of the report: the lab is mended, the latest two runs pass, the 5m
        // window still holds the outage's failures.
        assert_eq!(now(Below, &[&[true, true]]), Some(NowState::Recovering));
        // One success after the outage is not yet a recovery.
        assert_eq!(now(Below, &[&[true, false]]), Some(NowState::Mixed));
    }

    #[test]
    fn the_latest_runs_failing_is_failing_now_whatever_the_windows_say() {
        assert_eq!(now(Below, &[&[false, false]]), Some(NowState::FailingNow));
        // A fresh outage: the windows still hold the good runs before it.
        assert_eq!(now(InBand, &[&[false, false]]), Some(NowState::FailingNow));
        // One probe of several failing is enough (a check of a BPM of checks).
        assert_eq!(
            now(InBand, &[&[true, true], &[false, false], &[]]),
            Some(NowState::FailingNow)
        );
        // A probe with a single run, failed: every run it has failed.
        assert_eq!(now(NoData, &[&[false]]), Some(NowState::FailingNow));
        // Older runs beyond RECENT_RUNS do not count.
        assert_eq!(
            now(Below, &[&[false, false, true, true]]),
            Some(NowState::FailingNow)
        );
    }

    #[test]
    fn in_band_with_passing_runs_is_in_band_and_one_failure_is_mixed() {
        assert_eq!(now(InBand, &[&[true, true]]), Some(NowState::InBand));
        assert_eq!(now(InBand, &[&[false, true]]), Some(NowState::Mixed));
        assert_eq!(
            now(Below, &[&[true, true], &[true, false]]),
            Some(NowState::Mixed),
            "some probes recovered, one not yet"
        );
    }

    #[test]
    fn without_runs_there_is_no_state_now_and_a_funnel_has_none_of_its_own() {
        assert_eq!(now(NoData, &[&[], &[]]), Some(NowState::NoData));
        assert_eq!(now(NoData, &[]), Some(NowState::NoData));
        let funnel = Band {
            min: Some(0.6),
            max: Some(0.8),
        };
        assert_eq!(now_state(Above, &funnel, &[vec![true, true]]), None);
        let full = Band {
            min: Some(0.95),
            max: Some(1.0),
        };
        assert_eq!(
            now_state(InBand, &full, &[vec![true, true]]),
            Some(NowState::InBand)
        );
    }
}
