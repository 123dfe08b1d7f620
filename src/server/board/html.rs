//! HTML building blocks: escaping, safe links, the page frame, and how numbers and times are
//! written.
//!
//! Every string that comes from history or configuration (probe names, messages, event
//! descriptions, URLs) goes through [`Esc`] or [`json_for_script`]; literal markup is written
//! by the page modules. A crate such as `maud` would make escaping structural, but two pages do
//! not justify a new dependency; the hostile-strings tests below and in the page modules pin
//! the escaping instead, and the pages' Content-Security-Policy allows no inline script, so a
//! slip could not run code.

use std::fmt::{self, Display, Write};

use super::files::asset_url;
use crate::config::BpmState;

/// Write formatted text to a `String`. Writing to a `String` cannot fail.
macro_rules! w {
    ($dst:expr, $($arg:tt)*) => {{
        let _ = write!($dst, $($arg)*);
    }};
}
pub(crate) use w;

/// Displays its text with `& < > " '` escaped: safe in element content and in quoted
/// attribute values.
pub struct Esc<'a>(pub &'a str);

impl Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(i) = rest.find(['&', '<', '>', '"', '\'']) {
            f.write_str(&rest[..i])?;
            f.write_str(match rest.as_bytes()[i] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => "&#39;",
            })?;
            rest = &rest[i + 1..];
        }
        f.write_str(rest)
    }
}

/// `s` as a link target when it is an http(s) URL; anything else (`javascript:`, a bare
/// ticket id) is shown as text, never linked.
pub fn http_url(s: &str) -> Option<&str> {
    let lower = s.trim_start().get(..8).unwrap_or("").to_ascii_lowercase();
    (lower.starts_with("http://") || lower.starts_with("https://")).then_some(s.trim_start())
}

/// A link when `s` is an http(s) URL, else the escaped text.
pub fn link_or_text(out: &mut String, s: &str) {
    match http_url(s) {
        Some(url) => w!(
            out,
            r#"<a href="{}" rel="noopener noreferrer">{}</a>"#,
            Esc(url),
            Esc(s)
        ),
        None => w!(out, "{}", Esc(s)),
    }
}

/// JSON to embed in `<script type="application/json">`: `<`, `>` and `&` are written as
/// `\u003c`… so no string in it can close the script element. (They can only occur inside
/// JSON strings, where the escapes mean the same characters.)
pub fn json_for_script(v: &serde_json::Value) -> String {
    v.to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// The frame of every page: head (styles, optional refresh), header bar, then `body`, then
/// the scripts.
pub fn page(title: &str, refresh: Option<u32>, nav: &str, body: &str, scripts: &[&str]) -> String {
    let mut h = String::with_capacity(body.len() + 2048);
    w!(
        h,
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{}</title>
"#,
        Esc(title)
    );
    if let Some(secs) = refresh {
        w!(h, "<meta http-equiv=\"refresh\" content=\"{secs}\">\n");
    }
    w!(
        h,
        r#"<link rel="stylesheet" href="{}">
<link rel="stylesheet" href="{}">
</head>
<body>
<header class="bar"><a class="brand" href="/">journeyprobe</a><span class="bar-sep">/</span>{nav}</header>
<main>
{body}</main>
"#,
        asset_url("uPlot.min.css"),
        asset_url("board.css"),
    );
    for s in scripts {
        w!(h, "<script src=\"{}\"></script>\n", asset_url(s));
    }
    h.push_str("</body>\n</html>\n");
    h
}

/// `0.912…` → `91.3%`; whole percentages without a decimal.
pub fn pct(ratio: f64) -> String {
    let p = ratio * 100.0;
    if (p - p.round()).abs() < 0.05 {
        format!("{}%", p.round())
    } else {
        format!("{p:.1}%")
    }
}

/// Unix seconds → `2026-11-25 06:17 UTC`.
pub fn utc(t: f64) -> String {
    let s = stamp(t);
    format!("{} {} UTC", &s[..10], &s[11..16])
}

/// Unix seconds → `2026-11-25 06:17:51 UTC`.
pub fn utc_seconds(t: f64) -> String {
    let s = stamp(t);
    format!("{} {} UTC", &s[..10], &s[11..19])
}

fn stamp(t: f64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs_f64(t.max(0.0));
    humantime::format_rfc3339_seconds(t).to_string()
}

/// A span of seconds in words: `45 s`, `12 min`, `3 h 5 min`, `2 d 4 h`.
pub fn span(secs: f64) -> String {
    let s = secs.abs().round() as u64;
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min", s / 60),
        3600..86400 => match (s / 3600, s % 3600 / 60) {
            (h, 0) => format!("{h} h"),
            (h, m) => format!("{h} h {m} min"),
        },
        _ => match (s / 86400, s % 86400 / 3600) {
            (d, 0) => format!("{d} d"),
            (d, h) => format!("{d} d {h} h"),
        },
    }
}

/// `t` relative to `now`: `3 min ago`, `in 5 min`.
pub fn ago(now: f64, t: f64) -> String {
    if t <= now {
        format!("{} ago", span(now - t))
    } else {
        format!("in {}", span(t - now))
    }
}

/// A `<time>` element: relative text, the exact UTC time as its tooltip.
pub fn time_el(out: &mut String, now: f64, t: f64) {
    w!(
        out,
        r#"<time datetime="{}" title="{}">{}</time>"#,
        stamp(t),
        utc_seconds(t),
        ago(now, t)
    );
}

/// Milliseconds as people read them: `340 ms`, `1.24 s`, `2 min 5 s`.
pub fn millis(ms: f64) -> String {
    if ms < 1000.0 {
        format!("{} ms", ms.round())
    } else if ms < 60_000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else {
        let s = (ms / 1000.0).round() as u64;
        format!("{} min {} s", s / 60, s % 60)
    }
}

/// The badge of a BPM state: symbol and words, so colour is never the only signal.
pub fn state_badge(state: BpmState) -> String {
    let (symbol, words) = match state {
        BpmState::InBand => ("✓", "In band"),
        BpmState::Below => ("▼", "Below band"),
        BpmState::Above => ("▲", "Above band"),
        BpmState::NoData => ("–", "No data"),
    };
    format!(
        r#"<span class="badge s-{state}"><span aria-hidden="true">{symbol}</span> {words}</span>"#
    )
}

/// The badge of a run outcome (`success`, `failure`, `error`, or a step's `passed`…).
pub fn outcome_badge(outcome: &str) -> String {
    let (symbol, class) = match outcome {
        "success" | "passed" => ("✓", "ok"),
        "failure" | "failed" => ("✗", "bad"),
        "error" => ("!", "err"),
        _ => ("–", "none"),
    };
    format!(
        r#"<span class="badge o-{class}"><span aria-hidden="true">{symbol}</span> {}</span>"#,
        Esc(outcome)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_text_and_quoted_attributes() {
        let hostile = r#"<script>alert("x")</script> & 'y'"#;
        assert_eq!(
            Esc(hostile).to_string(),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
        assert_eq!(Esc("plain €").to_string(), "plain €");
    }

    #[test]
    fn only_http_urls_become_links() {
        let mut out = String::new();
        link_or_text(&mut out, "javascript:alert(1)");
        assert_eq!(out, "javascript:alert(1)");
        out.clear();
        link_or_text(&mut out, "HTTPS://wiki/x?a=1&b=\"2\"");
        assert!(out.starts_with(r#"<a href="HTTPS://wiki/x?a=1&amp;b=&quot;2&quot;""#));
        assert_eq!(http_url("INC-1234"), None);
    }

    #[test]
    fn embedded_json_cannot_close_its_script_element() {
        let v = serde_json::json!({ "d": "</script><script>alert(1)</script>&" });
        let s = json_for_script(&v);
        assert!(!s.contains('<') && !s.contains('&'));
        let back: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(back, v);
    }

    #[test]
    fn numbers_and_times_read_well() {
        assert_eq!(pct(0.25), "25%");
        assert_eq!(pct(7.0 / 34.0), "20.6%");
        assert_eq!(pct(1.0), "100%");
        assert_eq!(span(59.4), "59 s");
        assert_eq!(span(3600.0 + 300.0), "1 h 5 min");
        assert_eq!(ago(1000.0, 1000.0 - 120.0), "2 min ago");
        assert_eq!(ago(1000.0, 4600.0), "in 1 h");
        assert_eq!(utc(1_795_586_400.0), "2026-11-25 06:00 UTC");
        assert_eq!(millis(1234.0), "1.23 s");
        assert_eq!(millis(12.4), "12 ms");
    }
}
