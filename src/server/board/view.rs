//! What the board shows, gathered from the plan and the history: one view per BPM (its
//! windows, its 24 h chart, and for a BPM out of band, what changed) and one row per probe.

use std::time::{Duration, SystemTime};

use crate::bpm::WindowValue;
use crate::config::{Band, Bpm, BpmState, ProbeKind};
use crate::history::HistoryError;
use crate::history::board::ProbeStatus;
use crate::history::events::Event;
use crate::service::Shared;
use crate::time::unix;

use super::band::{Left, left_band};
use super::deps::{Cause, DepLine};
use super::now::{NowState, RECENT_RUNS, now_state};
use super::series::{Point, chart_start, chart_step, rolling};

/// How far back the charts (and the search for when a BPM left its band) look.
pub const LOOKBACK_SECS: f64 = 24.0 * 3600.0;
/// "What changed" starts this long before the BPM left its band.
pub const BEFORE_SECS: f64 = 3600.0;

pub struct Board {
    pub now: f64,
    /// Start of the charts: `now - LOOKBACK_SECS`.
    pub from: f64,
    pub bpms: Vec<BpmView>,
    pub probes: Vec<ProbeRow>,
    /// Checks that no BPM counts and no journey stands on.
    pub loose: Vec<DepLine>,
    /// Change events of the look-back, oldest first (the chart markers).
    pub events: Vec<Event>,
    /// The fault lab whose switches the board shows (`journeyprobe demo`).
    pub lab_url: Option<String>,
}

pub struct BpmView {
    pub name: String,
    pub description: Option<String>,
    pub probes: Vec<String>,
    pub band: Band,
    /// In the order of the BPM's `windows`; the shortest is the headline.
    pub windows: Vec<WindowValue>,
    /// Index of the headline window in `windows`.
    pub headline: usize,
    /// `Below` or `Above` if any window is; else `InBand` if any window is; else `NoData`.
    pub state: BpmState,
    /// Where its probes stand by their latest runs ([`super::now`]); `None` for a funnel.
    pub now: Option<NowState>,
    /// The headline window's ratio from `chart_from` to now ([`super::series`]).
    pub chart: Vec<Point>,
    /// Start of the chart: the look-back's start, or shortly before the first countable run
    /// when the history is younger than that.
    pub chart_from: f64,
    /// Set when a window is out of band.
    pub changed: Option<Changed>,
    /// Its checks and the checks its journeys stand on ([`super::deps`]).
    pub deps: Vec<DepLine>,
    /// Its journeys' latest failure and their prerequisites then: set while below its band
    /// or while its latest runs are not all passing.
    pub cause: Option<Cause>,
}

impl BpmView {
    /// Worth a look first: out of band, or failing now while its windows still look fine.
    pub fn alarming(&self) -> bool {
        self.state.is_out_of_band() || self.now.is_some_and(NowState::is_failing)
    }
}

/// The "what changed" of a BPM out of band.
pub struct Changed {
    /// The window judged: the shortest one out of band.
    pub window: String,
    /// `Below` or `Above`.
    pub state: BpmState,
    /// When that window's ratio left the band ([`super::band`]).
    pub left: Left,
    /// Change events from [`BEFORE_SECS`] before `left` (before now when unknown) until now.
    pub events: Vec<Event>,
}

impl Changed {
    /// Start of the span whose events are listed.
    pub fn since(&self, now: f64) -> f64 {
        match self.left {
            Left::At(t) => t - BEFORE_SECS,
            Left::BeforeLookback => now - BEFORE_SECS,
        }
    }
}

pub struct ProbeRow {
    pub name: String,
    pub kind: ProbeKind,
    pub every: Duration,
    pub incident: Vec<String>,
    pub runbook: Option<String>,
    /// BPMs that count this probe.
    pub bpms: Vec<String>,
    pub status: ProbeStatus,
}

impl ProbeRow {
    /// When the next run is due, estimated from the last run's start and `every`: the
    /// scheduler keeps each probe on its own grid of `every`, so this is right to within
    /// the run's start lateness. `None` before the first run.
    pub fn next_run(&self) -> Option<f64> {
        self.status
            .last
            .as_ref()
            .map(|l| l.started_at + self.every.as_secs_f64())
    }
}

pub async fn gather(s: &Shared) -> Result<Board, HistoryError> {
    let plan = s.plan();
    let now = unix(SystemTime::now());
    let from = now - LOOKBACK_SECS;
    let all_events = s.history.events_since(from - BEFORE_SECS, 1000).await?;
    let probes = probe_rows(s, &plan).await?;
    let mut bpms = Vec::with_capacity(plan.bpms.len());
    for b in &plan.bpms {
        let mut v = bpm_view(s, b, now, &all_events).await?;
        v.deps = super::deps::lines(s, &plan, &b.probes, &probes).await?;
        let unsettled = v
            .now
            .is_some_and(|n| n != NowState::InBand && n != NowState::NoData);
        // Above its band (a funnel too good) is not explained by a failure.
        if v.state == BpmState::Below || unsettled {
            v.cause = super::deps::cause(s, &plan, &b.probes, &probes, from).await?;
        }
        bpms.push(v);
    }
    let loose = super::deps::loose(s, &plan, &probes).await?;
    let events = all_events
        .into_iter()
        .filter(|e| e.at_unix >= from)
        .collect();
    Ok(Board {
        now,
        from,
        bpms,
        probes,
        loose,
        events,
        lab_url: s.settings.lab_url.clone(),
    })
}

async fn bpm_view(
    s: &Shared,
    b: &Bpm,
    now: f64,
    events: &[Event],
) -> Result<BpmView, HistoryError> {
    let windows = s.bpm_values(b).await?;
    let from = now - LOOKBACK_SECS;
    let shortest = b.windows.iter().min().map_or(0.0, Duration::as_secs_f64);
    // The shortest window out of band, with its length.
    let out = b
        .windows
        .iter()
        .zip(&windows)
        .filter(|(_, v)| v.state.is_out_of_band())
        .min_by_key(|(w, _)| **w)
        .map(|(w, v)| (w.as_secs_f64(), v));
    // Runs for the chart (shortest window) and the replay (shortest out of band): one read.
    let reach = out.map_or(shortest, |(w, _)| w.max(shortest));
    let runs = s
        .history
        .countable_runs(b.probes.clone(), from - reach)
        .await?;
    let first = runs.iter().map(|r| r.0).find(|t| *t >= from);
    let chart_from = chart_start(first, from, now);
    let chart = rolling(
        &runs,
        shortest,
        chart_step(shortest, now - chart_from),
        chart_from,
        now,
    );
    // The ratio may have moved back in band since `refresh` read it: then nothing is out of
    // band any more and there is nothing to explain.
    let changed = out.and_then(|(w, v)| {
        left_band(&runs, w, &b.expected, from, now).map(|left| {
            let mut c = Changed {
                window: v.window.clone(),
                state: v.state,
                left,
                events: Vec::new(),
            };
            let since = c.since(now);
            c.events = events
                .iter()
                .filter(|e| e.at_unix >= since)
                .cloned()
                .collect();
            c
        })
    });
    let headline = b
        .windows
        .iter()
        .enumerate()
        .min_by_key(|(_, w)| **w)
        .map_or(0, |(i, _)| i);
    let state = overall(&windows);
    let recent = s
        .history
        .recent_countable(b.probes.clone(), from, RECENT_RUNS)
        .await?;
    Ok(BpmView {
        name: b.name.clone(),
        description: b.description.clone(),
        probes: b.probes.clone(),
        band: b.expected,
        state,
        now: now_state(state, &b.expected, &recent),
        headline,
        windows,
        chart,
        chart_from,
        changed,
        deps: Vec::new(),
        cause: None,
    })
}

/// One state for the tile: out of band if any window is (below wins: it is the page).
pub fn overall(windows: &[WindowValue]) -> BpmState {
    windows
        .iter()
        .map(|w| w.state)
        .min_by_key(|s| rank(*s))
        .unwrap_or(BpmState::NoData)
}

/// Out of band first (below before above: below is the page), then in band, then no data:
/// the order of the tiles and of [`overall`].
pub fn rank(state: BpmState) -> u8 {
    match state {
        BpmState::Below => 0,
        BpmState::Above => 1,
        BpmState::InBand => 2,
        BpmState::NoData => 3,
    }
}

async fn probe_rows(
    s: &Shared,
    plan: &crate::service::Plan,
) -> Result<Vec<ProbeRow>, HistoryError> {
    let mut rows: Vec<ProbeRow> = plan
        .journeys
        .iter()
        .map(|j| ProbeRow {
            name: j.name.clone(),
            kind: ProbeKind::Journey,
            every: j.every,
            incident: j.incident.clone(),
            runbook: j.runbook.clone(),
            bpms: Vec::new(),
            status: ProbeStatus::default(),
        })
        .chain(plan.checks.iter().map(|c| ProbeRow {
            name: c.name.clone(),
            kind: c.spec.kind().into(),
            every: c.every,
            incident: Vec::new(),
            runbook: None,
            bpms: Vec::new(),
            status: ProbeStatus::default(),
        }))
        .collect();
    let names = rows.iter().map(|r| r.name.clone()).collect();
    let statuses = s.history.probe_status(names).await?;
    for (row, status) in rows.iter_mut().zip(statuses) {
        row.status = status;
        row.bpms = plan
            .bpms
            .iter()
            .filter(|b| b.probes.contains(&row.name))
            .map(|b| b.name.clone())
            .collect();
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(state: BpmState) -> WindowValue {
        WindowValue {
            window: "5m".into(),
            success: 0,
            countable: 0,
            ratio: None,
            state,
        }
    }

    #[test]
    fn a_tile_is_out_of_band_when_any_window_is() {
        use BpmState::*;
        assert_eq!(overall(&[w(NoData), w(InBand), w(Below)]), Below);
        assert_eq!(overall(&[w(Above), w(Below)]), Below);
        assert_eq!(overall(&[w(InBand), w(Above)]), Above);
        assert_eq!(overall(&[w(NoData), w(InBand)]), InBand);
        assert_eq!(overall(&[w(NoData)]), NoData);
        assert_eq!(overall(&[]), NoData);
    }
}
