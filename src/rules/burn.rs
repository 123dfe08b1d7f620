//! Multi-window, multi-burn-rate alerts on journey success (The Site Reliability Workbook,
//! chapter 5, "Alerting on SLOs").
//!
//! **Recording.** `journeyprobe:journey_failure_ratio:<W>{job,probe}` for W in 5m, 30m, 1h,
//! 2h, 6h, 1d, 3d: failed / measured runs of each journey (`kind="journey"`), pooled over
//! replicas. One name per window, as in the workbook, so the two windows of an alert match
//! on `{job, probe}` without `ignoring(window)` and an `or` of two branches yields one alert,
//! not one per branch.
//!
//! **Objective.** A journey's objective is the `expected.min` of the BPM that counts it (the
//! highest one when several do: the strictest promise made about it). Its error budget is
//! `1 − objective`, and the burn rate is `failure ratio / budget`: 1 spends the budget in
//! exactly the SLO period (30 days, the workbook's assumption behind the factors). A journey
//! with no `min` anywhere, or an objective of 1 (no budget: the band alert watches it), gets
//! no burn-rate alert.
//!
//! **Alerts.** `JourneyBudgetBurn` with severity `page` when the burn rate is above 14.4 over
//! 1h and 5m, or above 6 over 6h and 30m; severity `ticket` above 3 over 1d and 2h, or above
//! 1 over 3d and 6h. The long window proves the burn is significant, the short one that it
//! is still going on, so the alert stops soon after the journey recovers. A branch whose
//! threshold needs a failure ratio above 1 can never fire and is left out: with a 60%
//! objective (budget 0.4) only `1 over 3d and 6h` remains, and no page — the BPM's band
//! alert pages instead. `for:` is short, since the short window already rules out blips:
//! 2m for a page (two evaluations must agree, so one odd scrape does not wake anyone), 15m
//! for a ticket (nobody needs it within minutes). `$value` is the long window's burn rate.

use super::promql::{num, one_of, pct, ratio};
use super::{Alert, Rule, journey_annotations, shared_labels};
use crate::config::{Journey, Loaded};

/// The windows recorded, shortest first.
pub const WINDOWS: [&str; 7] = ["5m", "30m", "1h", "2h", "6h", "1d", "3d"];

/// The recorded failure ratio over `window`.
pub fn record(window: &str) -> String {
    format!("journeyprobe:journey_failure_ratio:{window}")
}

/// One severity: two (long window, short window, burn-rate factor) branches.
struct Tier {
    severity: &'static str,
    for_: &'static str,
    pace: &'static str,
    branches: [(&'static str, &'static str, f64); 2],
}

const TIERS: [Tier; 2] = [
    Tier {
        severity: "page",
        for_: "2m",
        pace: "fast",
        branches: [("1h", "5m", 14.4), ("6h", "30m", 6.0)],
    },
    Tier {
        severity: "ticket",
        for_: "15m",
        pace: "slowly",
        branches: [("1d", "2h", 3.0), ("3d", "6h", 1.0)],
    },
];

pub fn rules(loaded: &Loaded) -> Vec<Rule> {
    let journey = r#"kind="journey""#;
    let records = WINDOWS.iter().map(|w| Rule::Record {
        record: record(w),
        expr: ratio("job, probe", &[journey], "failure", w),
        labels: Vec::new(),
    });
    let alerts = loaded.journeys.iter().flat_map(|j| {
        let objective = objective(j, loaded);
        TIERS
            .iter()
            .filter_map(move |t| objective.and_then(|(o, bpm)| alert(j, o, bpm, t)))
    });
    records.chain(alerts).collect()
}

/// The highest `expected.min` among the BPMs counting `j`, with that BPM's name; None when
/// there is no budget to burn.
fn objective<'a>(j: &Journey, loaded: &'a Loaded) -> Option<(f64, &'a str)> {
    loaded
        .bpms
        .iter()
        .filter(|b| b.probes.contains(&j.name))
        .filter_map(|b| b.expected.min.map(|m| (m, b.name.as_str())))
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .filter(|(m, _)| *m > 0.0 && *m < 1.0)
}

fn alert(j: &Journey, objective: f64, bpm: &str, tier: &Tier) -> Option<Rule> {
    let budget = 1.0 - objective;
    let reachable: Vec<_> = tier
        .branches
        .iter()
        .filter(|(_, _, factor)| factor * budget < 1.0)
        .collect();
    if reachable.is_empty() {
        return None;
    }
    let probe = one_of("probe", &[&j.name]);
    let burn = |w: &str, factor: f64| {
        format!(
            "{}{{{probe}}} / (1 - {}) > {}",
            record(w),
            num(objective),
            num(factor)
        )
    };
    let expr = reachable
        .iter()
        .map(|(long, short, f)| format!("(\n  {}\n  and\n  {}\n)", burn(long, *f), burn(short, *f)))
        .collect::<Vec<_>>()
        .join("\nor\n");
    let needs = reachable
        .iter()
        .map(|(long, short, f)| format!("more than {}× over {long} and {short}", num(*f)))
        .collect::<Vec<_>>()
        .join(", or ");
    let description = format!(
        "{} is spending its error budget {{{{ $value | humanize }}}}× as fast as its objective \
         of {} success (BPM {bpm}) allows; a {} fires at {needs}. Runs the prober could not \
         measure (errors) are left out.",
        j.name,
        pct(objective),
        tier.severity,
    );
    let mut labels = vec![
        ("severity".to_string(), tier.severity.to_string()),
        ("probe".to_string(), j.name.clone()),
    ];
    labels.extend(shared_labels(&[j]));
    let mut annotations = vec![
        (
            "summary".to_string(),
            format!(
                "Journey {} is burning its error budget {}",
                j.name, tier.pace
            ),
        ),
        ("description".to_string(), description),
    ];
    annotations.extend(journey_annotations(&[j]));
    Some(Rule::Alert(Alert {
        alert: "JourneyBudgetBurn".into(),
        expr,
        for_: tier.for_.into(),
        labels,
        annotations,
    }))
}
