//! OpenMetrics 1.0 text, for a scraper that asks for it: the `prometheus` crate only writes
//! the Prometheus text format ([`super::Metrics::encode_text`]).

use prometheus::proto::{MetricFamily, MetricType};

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
    use crate::config::BpmState;
    use crate::metrics::{Metrics, SkipReason};

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
}
