//! BPM ratios and band alerts.
//!
//! **Recording.** For each BPM and each of its windows, `journeyprobe:bpm_ratio{bpm,window}`
//! is the share of its probes' measured runs that succeeded, pooled over replicas. The probes
//! are matched by name only (names are unique across journeys and checks), so a BPM may
//! count checks too. The exporter's own `journeyprobe_bpm_ratio` gauge is one replica's view;
//! this is the fleet's.
//!
//! **Alerting.** `BpmBelowBand` (ratio < `min`, only when `min > 0`) and `BpmAboveBand`
//! (ratio > `max`, only when `max < 1`: a ratio cannot exceed 1). Both read the BPM's
//! **shortest window that holds at least three runs** of each probe it counts (by their
//! `every`; the longest window if none does): the shortest notices first and recovers
//! first, but a window holding one run or none is 0%, 100% or missing (0/0) by turns, and
//! `for:` never holds across those gaps. The other windows are for dashboards. `for:` is
//! the alert's window (at most 1h): the ratio must stay out of band for a whole window,
//! which one bad run cannot do — it leaves the window before `for:` elapses — while a real
//! shift does, and is reported about two windows after it starts. Longer than 1h adds delay
//! without adding evidence, as a long window already smooths.
//!
//! Below band is `page`: the BPM is the business symptom the product exists to watch, and
//! for low objectives (a funnel at 60%) no burn-rate page can fire (see [`super::burn`]).
//! Above band is `ticket`: a ratio better than normal usually means the measurement changed
//! (a step skipped, a probe no longer reaching the real target), worth a look, not a wake-up.

use std::time::Duration;

use super::promql::{duration, num, one_of, pct, ratio, string};
use super::{Alert, Rule, journey_annotations, shared_labels};
use crate::config::{Band, Bpm, Journey, Loaded};

/// The recorded ratio.
pub const RECORD: &str = "journeyprobe:bpm_ratio";
/// Longest `for:` of a band alert.
const MAX_FOR: Duration = Duration::from_secs(3600);
/// Runs of each probe the alert's window must hold.
const MIN_RUNS: u32 = 3;

pub fn rules(loaded: &Loaded) -> Vec<Rule> {
    let records = loaded.bpms.iter().flat_map(records);
    let alerts = loaded.bpms.iter().flat_map(|b| alerts(b, loaded));
    records.chain(alerts).collect()
}

fn records(b: &Bpm) -> Vec<Rule> {
    let probes: Vec<&str> = b.probes.iter().map(String::as_str).collect();
    let matcher = one_of("probe", &probes);
    b.windows
        .iter()
        .map(|w| Rule::Record {
            record: RECORD.into(),
            expr: ratio("job", &[&matcher], "success", &duration(*w)),
            labels: vec![
                ("bpm".into(), b.name.clone()),
                ("window".into(), duration(*w)),
            ],
        })
        .collect()
}

fn alerts(b: &Bpm, loaded: &Loaded) -> Vec<Rule> {
    let Some(window) = alert_window(b, loaded) else {
        return Vec::new();
    };
    let journeys: Vec<&Journey> = b
        .probes
        .iter()
        .filter_map(|p| loaded.journeys.iter().find(|j| &j.name == p))
        .collect();
    let mut out = Vec::new();
    if let Some(min) = b.expected.min.filter(|m| *m > 0.0) {
        out.push(alert(b, &journeys, window, Side::Below, min));
    }
    if let Some(max) = b.expected.max.filter(|m| *m < 1.0) {
        out.push(alert(b, &journeys, window, Side::Above, max));
    }
    out
}

/// The shortest window holding [`MIN_RUNS`] runs of the BPM's slowest probe, else the
/// longest window.
fn alert_window(b: &Bpm, loaded: &Loaded) -> Option<Duration> {
    let every = |p: &String| {
        let journey = loaded
            .journeys
            .iter()
            .find(|j| &j.name == p)
            .map(|j| j.every);
        journey.or_else(|| loaded.checks.iter().find(|c| &c.name == p).map(|c| c.every))
    };
    let slowest = b.probes.iter().filter_map(every).max().unwrap_or_default();
    let mut windows = b.windows.clone();
    windows.sort();
    let enough = windows.iter().find(|w| **w >= slowest * MIN_RUNS);
    enough.or(windows.last()).copied()
}

#[derive(Clone, Copy)]
enum Side {
    Below,
    Above,
}

fn alert(b: &Bpm, journeys: &[&Journey], window: Duration, side: Side, bound: f64) -> Rule {
    let w = duration(window);
    let (name, op, severity, word) = match side {
        Side::Below => ("BpmBelowBand", "<", "page", "below"),
        Side::Above => ("BpmAboveBand", ">", "ticket", "above"),
    };
    let series = format!("{RECORD}{{bpm={},window={}}}", string(&b.name), string(&w));
    let why = match side {
        Side::Below => "Runs the prober could not measure (errors) are left out.",
        Side::Above => {
            "A ratio better than normal usually means the measurement changed (a step skipped, \
             a probe no longer reaching the real target), not that users do better."
        }
    };
    let description = format!(
        "{}{} was {{{{ $value | humanizePercentage }}}} over the last {w}, {word} its band \
         ({}). It counts {}. {why}",
        intro(b),
        b.name,
        band(&b.expected),
        b.probes.join(", "),
    );
    let mut labels = vec![
        ("severity".to_string(), severity.to_string()),
        ("bpm".to_string(), b.name.clone()),
    ];
    labels.extend(shared_labels(journeys));
    let mut annotations = vec![
        (
            "summary".to_string(),
            format!("BPM {} is {word} its band", b.name),
        ),
        ("description".to_string(), description),
    ];
    annotations.extend(journey_annotations(journeys));
    Rule::Alert(Alert {
        alert: name.into(),
        expr: format!("{series} {op} {}", num(bound)),
        for_: duration(window.min(MAX_FOR)),
        labels,
        annotations,
    })
}

/// The BPM's description as an opening sentence, if it has one.
fn intro(b: &Bpm) -> String {
    match b.description.as_deref().map(str::trim) {
        Some(d) if d.ends_with(['.', '!', '?']) => format!("{d} "),
        Some(d) if !d.is_empty() => format!("{d}. "),
        _ => String::new(),
    }
}

/// `90% to 100%`, `at least 95%`, `at most 80%`.
pub fn band(b: &Band) -> String {
    match (b.min, b.max) {
        (Some(lo), Some(hi)) => format!("{} to {}", pct(lo), pct(hi)),
        (Some(lo), None) => format!("at least {}", pct(lo)),
        (None, Some(hi)) => format!("at most {}", pct(hi)),
        (None, None) => "any ratio".into(),
    }
}
