//! Prometheus recording and alerting rules generated from the probe files
//! (`journeyprobe rules`).
//!
//! The rules read the series `journeyprobe serve` exports, chiefly the counter
//! `journeyprobe_runs_total{probe,kind,outcome,reason}`, and come in three groups:
//!
//! - **`journeyprobe-bpm`** (`bpm.rs`): per BPM and window, `journeyprobe:bpm_ratio{bpm,window}`
//!   (successes / measured runs), and alerts when the ratio leaves its band.
//! - **`journeyprobe-burn-rate`** (`burn.rs`): per journey, failure ratios over the windows of
//!   the SRE workbook's multi-window, multi-burn-rate alerts, and those alerts.
//! - **`journeyprobe-prober`** (`prober.rs`): the prober's own health — too many errors, a
//!   probe that stopped running or is scheduled nowhere, no prober at all.
//!
//! Choices shared by all of them:
//!
//! - **Errors never count.** A run that ended in `error` (the prober could not measure) is
//!   in neither numerator nor denominator of a BPM or burn ratio, so a window of errors only
//!   is 0/0 = NaN, and NaN compares false: no BPM or burn alert. Errors have their own
//!   alert in the prober group, with severity `ticket`: it never pages a service owner.
//! - **Replicas are pooled.** Several journeyprobe replicas (shards, locations) may report
//!   the same probe. Service ratios are `sum by (job)` (plus `probe` for burn rates): the
//!   user does not care which replica measured, and `by` drops every per-target label
//!   (`instance`, or `pod` under the prometheus-operator) where `without (instance)` would
//!   keep `pod`. `job` stays so two deployments in one Prometheus are not mixed. Prober
//!   alerts stay per target instead: the fix is on one replica.
//! - **Severity** is `page` or `ticket`; routing labels the journeys set (`labels:`, e.g.
//!   `team`) are copied onto their alerts, unless they clash with a label the rules set.
//! - **Annotations**: `summary`, `description`, and from the journeys `runbook_url`
//!   (`runbook:`) and `incidents` (`incident:`, joined with `, `).

mod bpm;
mod burn;
mod prober;
mod promql;
pub mod yaml;

use std::collections::BTreeMap;

use crate::config::{Journey, Loaded};
use yaml::Yaml;

/// A rule group, evaluated in order: recording rules come before the alerts that read them.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    pub name: String,
    pub rules: Vec<Rule>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Rule {
    Record {
        record: String,
        expr: String,
        labels: Vec<(String, String)>,
    },
    Alert(Alert),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Alert {
    pub alert: String,
    pub expr: String,
    /// Prometheus duration, e.g. `5m`.
    pub for_: String,
    pub labels: Vec<(String, String)>,
    pub annotations: Vec<(String, String)>,
}

/// Labels the rules set or read from the series; a journey's own label of the same name is
/// not copied onto alerts.
const RESERVED_LABELS: &[&str] = &[
    "alertname",
    "severity",
    "bpm",
    "probe",
    "kind",
    "window",
    "job",
    "instance",
    "outcome",
    "reason",
];

/// Every rule group for what `loaded` holds. Empty groups are left out.
pub fn groups(loaded: &Loaded) -> Vec<Group> {
    [
        Group {
            name: "journeyprobe-bpm".into(),
            rules: bpm::rules(loaded),
        },
        Group {
            name: "journeyprobe-burn-rate".into(),
            rules: burn::rules(loaded),
        },
        Group {
            name: "journeyprobe-prober".into(),
            rules: prober::rules(loaded),
        },
    ]
    .into_iter()
    .filter(|g| !g.rules.is_empty())
    .collect()
}

/// A Prometheus rule file: `groups: […]`.
pub fn rule_file(groups: &[Group]) -> Yaml {
    Yaml::Map(vec![(
        "groups".into(),
        Yaml::List(groups.iter().map(group_yaml).collect()),
    )])
}

/// A prometheus-operator `PrometheusRule` holding `groups`.
pub fn prometheus_rule(groups: &[Group], name: &str, labels: &[(String, String)]) -> Yaml {
    let mut metadata = vec![("name".to_string(), Yaml::str(name))];
    if !labels.is_empty() {
        metadata.push(("labels".into(), string_map(labels)));
    }
    Yaml::Map(vec![
        ("apiVersion".into(), Yaml::str("monitoring.coreos.com/v1")),
        ("kind".into(), Yaml::str("PrometheusRule")),
        ("metadata".into(), Yaml::Map(metadata)),
        ("spec".into(), rule_file(groups)),
    ])
}

fn group_yaml(g: &Group) -> Yaml {
    Yaml::Map(vec![
        ("name".into(), Yaml::str(&g.name)),
        (
            "rules".into(),
            Yaml::List(g.rules.iter().map(rule_yaml).collect()),
        ),
    ])
}

fn rule_yaml(r: &Rule) -> Yaml {
    let mut m = Vec::new();
    match r {
        Rule::Record {
            record,
            expr,
            labels,
        } => {
            m.push(("record".into(), Yaml::str(record)));
            m.push(("expr".into(), Yaml::str(expr)));
            if !labels.is_empty() {
                m.push(("labels".into(), string_map(labels)));
            }
        }
        Rule::Alert(a) => {
            m.push(("alert".into(), Yaml::str(&a.alert)));
            m.push(("expr".into(), Yaml::str(&a.expr)));
            m.push(("for".into(), Yaml::str(&a.for_)));
            m.push(("labels".into(), string_map(&a.labels)));
            m.push(("annotations".into(), string_map(&a.annotations)));
        }
    }
    Yaml::Map(m)
}

fn string_map(pairs: &[(String, String)]) -> Yaml {
    Yaml::Map(
        pairs
            .iter()
            .map(|(k, v)| (k.clone(), Yaml::str(v)))
            .collect(),
    )
}

/// Labels every one of `journeys` sets to the same value, less [`RESERVED_LABELS`].
fn shared_labels(journeys: &[&Journey]) -> Vec<(String, String)> {
    let Some((first, rest)) = journeys.split_first() else {
        return Vec::new();
    };
    let shared: BTreeMap<&String, &String> = first
        .labels
        .iter()
        .filter(|(k, v)| rest.iter().all(|j| j.labels.get(*k) == Some(*v)))
        .filter(|(k, _)| !RESERVED_LABELS.contains(&k.as_str()))
        .collect();
    shared
        .into_iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// `runbook_url` of the first of `journeys` that has a runbook, and `incidents`: their
/// incident references, each once, in order.
fn journey_annotations(journeys: &[&Journey]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(url) = journeys.iter().find_map(|j| j.runbook.as_ref()) {
        out.push(("runbook_url".to_string(), url.clone()));
    }
    let mut incidents: Vec<&str> = Vec::new();
    for i in journeys.iter().flat_map(|j| &j.incident) {
        if !incidents.contains(&i.as_str()) {
            incidents.push(i);
        }
    }
    if !incidents.is_empty() {
        out.push(("incidents".to_string(), incidents.join(", ")));
    }
    out
}
