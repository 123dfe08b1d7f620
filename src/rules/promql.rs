//! Pieces of PromQL and of alert text: label matchers, numbers, percentages.

use std::time::Duration;

use crate::config::bpm::window_label;
// The counter every ratio is built from.
use crate::metrics::names::RUNS;

/// Outcomes a ratio counts: the target was measured. `error` (the prober could not
/// measure) is left out of numerator and denominator alike.
pub const MEASURED: &str = r#"outcome=~"success|failure""#;

/// A PromQL string literal.
pub fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A matcher selecting exactly `values` of `label`: `label="a"` for one value, else
/// `label=~"a|b"` with each value escaped to match only itself (Prometheus anchors regex
/// matchers at both ends). Probe and BPM names are `[a-z0-9_]`, so escaping is a guard.
pub fn one_of(label: &str, values: &[&str]) -> String {
    match values {
        [one] => format!("{label}={}", string(one)),
        many => {
            let alternatives: Vec<String> = many.iter().map(|v| regex::escape(v)).collect();
            format!("{label}=~{}", string(&alternatives.join("|")))
        }
    }
}

/// A range or `for:` duration as Prometheus writes it: `5m`, `1h`, `24h`.
pub fn duration(d: Duration) -> String {
    window_label(d)
}

/// A number as PromQL reads it, shortest form (`0.9`, `1`, `14.4`).
pub fn num(v: f64) -> String {
    format!("{v}")
}

/// A ratio as a percentage for people: `0.9` → `90%`, `0.955` → `95.5%`.
pub fn pct(v: f64) -> String {
    let s = format!("{:.4}", v * 100.0);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s}%")
}

/// `sum by (BY) (increase(journeyprobe_runs_total{MATCHERS}[W]))`.
pub fn increase(by: &str, matchers: &[&str], window: &str) -> String {
    format!(
        "sum by ({by}) (increase({RUNS}{{{}}}[{window}]))",
        matchers.join(",")
    )
}

/// The share of measured runs (`success` or `failure`) selected by `matchers` that ended in
/// `outcome`, over `window`, per `by`. The numerator falls back to `0 *` the denominator so
/// a ratio exists even when no run ever ended in `outcome` (an outcome's series only appear
/// once it happens: a journey that has failed every run since the prober started has no
/// success series, and its success ratio must be 0, not missing). A window holding only
/// prober errors is 0/0 = NaN, which no comparison matches.
pub fn ratio(by: &str, matchers: &[&str], outcome: &str, window: &str) -> String {
    let hit = format!("outcome={}", string(outcome));
    let selected = |extra: &str| {
        let all: Vec<&str> = matchers.iter().copied().chain([extra]).collect();
        increase(by, &all, window)
    };
    let measured = selected(MEASURED);
    format!(
        "(\n  {}\n  or\n  0 * {measured}\n)\n/\n{measured}",
        selected(&hit)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matchers_select_exactly_the_names() {
        assert_eq!(one_of("probe", &["login"]), r#"probe="login""#);
        assert_eq!(one_of("probe", &["a", "b_2"]), r#"probe=~"a|b_2""#);
        assert_eq!(one_of("probe", &["a.b", "c"]), r#"probe=~"a\\.b|c""#);
        assert_eq!(string("say \"x\"\n"), r#""say \"x\"\n""#);
    }

    #[test]
    fn numbers_and_percentages_read_as_written() {
        assert_eq!(num(0.9), "0.9");
        assert_eq!(num(1.0), "1");
        assert_eq!(num(14.4), "14.4");
        assert_eq!(pct(0.9), "90%");
        assert_eq!(pct(0.955), "95.5%");
        assert_eq!(pct(1.0), "100%");
        assert_eq!(pct(0.0), "0%");
        assert_eq!(pct(0.99999), "99.999%");
    }
}
