//! The prober's own health. Every alert here is severity `ticket` and about journeyprobe,
//! never the service: when it fires, the service's health is unknown, not bad. They stay
//! per scrape target (no pooling), because the fix is on one replica.
//!
//! - `JourneyprobeErrorsHigh`: more than half of a probe's runs over 15m ended in `error`,
//!   for 15m. Errors are exactly what the BPM and burn-rate ratios leave out, so this is the
//!   alert that notices them piling up.
//! - `JourneyprobeProbeStale`: a probe last ran more than three intervals ago, for 5m. A run
//!   never outlasts its interval (timeout × attempts < every), so three intervals is two
//!   missed runs at least; the timestamp is the prober's own, so a Prometheus restart cannot
//!   make it look old, and a timestamp of 0 (never ran) is ignored. `for: 5m` rides out a
//!   prober restart's first, slow runs.
//! - `JourneyprobeProbeNotScheduled`: a probe the files define has had no
//!   `journeyprobe_probe_interval_seconds` series for 10m while some journeyprobe is up — a
//!   shard died, or the deployed files differ from those the rules came from. Silent while
//!   no journeyprobe is up at all, so a dead prober is one alert, not one per probe.
//! - `JourneyprobeAbsent`: no `journeyprobe_build_info` for 10m. `for:` covers the minutes
//!   after a Prometheus or prober restart before the first scrape.

use super::promql::string;
use super::{Alert, Rule};
use crate::config::{Loaded, ProbeKind};
use crate::metrics::names::{BUILD_INFO, LAST_RUN, PROBE_INTERVAL, RUNS};

pub fn rules(loaded: &Loaded) -> Vec<Rule> {
    let probes = loaded
        .journeys
        .iter()
        .map(|j| (j.name.as_str(), ProbeKind::Journey))
        .chain(
            loaded
                .checks
                .iter()
                .map(|c| (c.name.as_str(), c.spec.kind().into())),
        );
    [errors_high(), stale(), absent()]
        .into_iter()
        .chain(probes.map(|(name, kind)| not_scheduled(name, kind)))
        .map(Rule::Alert)
        .collect()
}

fn ticket() -> Vec<(String, String)> {
    vec![("severity".into(), "ticket".into())]
}

fn annotations(summary: &str, description: &str) -> Vec<(String, String)> {
    vec![
        ("summary".into(), summary.into()),
        ("description".into(), description.into()),
    ]
}

fn errors_high() -> Alert {
    Alert {
        alert: "JourneyprobeErrorsHigh".into(),
        expr: format!(
            "sum without (outcome, reason) (increase({RUNS}{{outcome=\"error\"}}[15m]))\n\
             /\n\
             sum without (outcome, reason) (increase({RUNS}[15m]))\n\
             > 0.5"
        ),
        for_: "15m".into(),
        labels: ticket(),
        annotations: annotations(
            "journeyprobe cannot measure {{ $labels.probe }} on {{ $labels.instance }}",
            "{{ $value | humanizePercentage }} of the runs of {{ $labels.probe }} \
             ({{ $labels.kind }}) on {{ $labels.instance }} over the last 15m ended in error: \
             the prober could not measure, so the target's health is unknown and its BPM and \
             burn-rate alerts cannot see it. Look at the prober (WebDriver, browser, slots) \
             and the runs' error reasons, not at the service.",
        ),
    }
}

fn stale() -> Alert {
    Alert {
        alert: "JourneyprobeProbeStale".into(),
        expr: format!("time() - ({LAST_RUN} > 0)\n> 3 * {PROBE_INTERVAL}"),
        for_: "5m".into(),
        labels: ticket(),
        annotations: annotations(
            "{{ $labels.probe }} has not run for {{ $value | humanizeDuration }}",
            "journeyprobe on {{ $labels.instance }} last ran {{ $labels.probe }} \
             ({{ $labels.kind }}) {{ $value | humanizeDuration }} ago, more than three times \
             its interval: its scheduler is stuck or overloaded, and the probe's BPM and \
             burn-rate alerts see no new runs.",
        ),
    }
}

fn absent() -> Alert {
    Alert {
        alert: "JourneyprobeAbsent".into(),
        expr: format!("absent({BUILD_INFO})"),
        for_: "10m".into(),
        labels: ticket(),
        annotations: annotations(
            "No journeyprobe is reporting",
            &format!(
                "Prometheus has had no {BUILD_INFO} for 10m: no journey or check is \
                 measured, and no BPM or burn-rate alert can fire. Check the journeyprobe \
                 deployment and its scrape target."
            ),
        ),
    }
}

fn not_scheduled(probe: &str, kind: ProbeKind) -> Alert {
    Alert {
        alert: "JourneyprobeProbeNotScheduled".into(),
        expr: format!(
            "absent({PROBE_INTERVAL}{{probe={}}})\nand on ()\n{BUILD_INFO}",
            string(probe)
        ),
        for_: "10m".into(),
        labels: [
            ticket(),
            vec![
                ("probe".into(), probe.into()),
                ("kind".into(), kind.as_str().into()),
            ],
        ]
        .concat(),
        annotations: annotations(
            &format!("Probe {probe} is scheduled by no journeyprobe"),
            &format!(
                "The probe files define {probe} ({kind}), but no journeyprobe that Prometheus \
                 scrapes has scheduled it for 10m, so nothing measures it. Deploy the probe \
                 files these rules were generated from, or regenerate the rules."
            ),
        ),
    }
}
