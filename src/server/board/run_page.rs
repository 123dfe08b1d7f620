//! `/runs/{id}`: one attempt of a run: what failed and why, which prerequisite checks
//! failed with it, the step timeline, the screenshot inline and links to every artifact, and
//! the run's other attempts.

use std::fmt::Write;
use std::path::Path;

use serde::Deserialize;

use super::html::{Esc, link_or_text, millis, outcome_badge, page, time_el, utc_seconds, w};
use crate::history::StoredRun;
use crate::history::board::RunRef;
use crate::outcome::{NetPhase, Outcome};

/// The parts of a stored result the page shows (the result is the JSON of
/// [`crate::result::RunResult`]; missing fields read as empty).
#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct Shown {
    file: String,
    pub message: Option<String>,
    pub phase: Option<PhaseShown>,
    steps: Vec<StepShown>,
    timings: serde_json::Map<String, serde_json::Value>,
    artifacts: Vec<String>,
    pub prerequisites: Vec<PrerequisiteShown>,
    teardown_error: Option<String>,
    incident: Vec<String>,
    runbook: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct PhaseShown {
    phase: String,
    index: Option<usize>,
    label: Option<String>,
    check: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct StepShown {
    index: usize,
    label: String,
    action: String,
    status: String,
    duration_ms: f64,
    message: Option<String>,
    page: Option<crate::result::PageTimings>,
}

#[derive(Clone, Deserialize, Default)]
#[serde(default)]
pub(super) struct PrerequisiteShown {
    pub check: String,
    pub outcome: String,
    pub reason: Option<String>,
    pub message: Option<String>,
}

impl Shown {
    /// The shown parts of a stored result; what is missing or unreadable is empty.
    pub(super) fn of(run: &StoredRun) -> Shown {
        serde_json::from_value(run.result.clone()).unwrap_or_default()
    }
}

/// The artifact file names of a stored result, as listed in it.
pub fn listed_artifacts(run: &StoredRun) -> Vec<String> {
    serde_json::from_value::<Shown>(run.result.clone())
        .map(|s| s.artifacts)
        .unwrap_or_default()
}

/// What a file name keeps unencoded in a URL path segment.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'.')
    .remove(b'-')
    .remove(b'_');

/// URL of an artifact of run `id`.
pub fn artifact_url(id: i64, path: &str) -> Option<String> {
    let name = Path::new(path).file_name()?.to_str()?;
    let enc = percent_encoding::utf8_percent_encode(name, SEGMENT);
    Some(format!("/runs/{id}/artifacts/{enc}"))
}

pub fn render(run: &StoredRun, attempts: &[RunRef], now: f64) -> String {
    let shown = Shown::of(run);
    let mut body = String::new();
    head(&mut body, run, &shown, attempts, now);
    problem(&mut body, run, &shown);
    prerequisites(&mut body, &shown);
    steps(&mut body, &shown);
    timings(&mut body, &shown);
    artifacts(&mut body, run.id, &shown);
    let nav = format!(
        "<a href=\"/#probe-{p}\">{p}</a><span class=\"bar-sep\">/</span><span class=\"bar-title\">run {}</span>",
        run.id,
        p = Esc(&run.probe)
    );
    page(
        &format!("{} run {} — journeyprobe", run.probe, run.id),
        None,
        &nav,
        &body,
        &["board.js"],
    )
}

fn head(out: &mut String, run: &StoredRun, s: &Shown, attempts: &[RunRef], now: f64) {
    w!(
        out,
        "<section class=\"run-head o-{o}\" data-outcome=\"{o}\">\n<h1>{} <span class=\"muted\">run {}</span> {}</h1>\n<dl class=\"facts\">",
        Esc(&run.probe),
        run.id,
        outcome_badge(run.outcome.as_str()),
        o = Esc(run.outcome.as_str()),
    );
    w!(
        out,
        "<div><dt>Started</dt><dd>{} (",
        utc_seconds(run.started_at)
    );
    time_el(out, now, run.started_at);
    w!(
        out,
        ")</dd></div><div><dt>Duration</dt><dd>{}</dd></div><div><dt>Kind</dt><dd>{}</dd></div>",
        millis(run.duration_ms),
        Esc(run.kind.as_str())
    );
    w!(
        out,
        "<div><dt>Attempt</dt><dd class=\"attempt\">{}",
        run.attempt
    );
    if attempts.len() > 1 {
        w!(out, " of {}", attempts.len());
    }
    out.push_str(if run.is_final {
        " (the run's outcome)"
    } else {
        " (retried: not the run's outcome)"
    });
    if let Some(first) = run.first_id {
        w!(
            out,
            " · <a class=\"first-attempt\" href=\"/runs/{first}\">first attempt</a>"
        );
    }
    if attempts.len() > 1 {
        out.push_str("<span class=\"attempts\">");
        for a in attempts {
            if a.id == run.id {
                w!(out, " <b>#{}</b>", a.attempt);
            } else {
                w!(
                    out,
                    " <a href=\"/runs/{}\">#{} {}</a>",
                    a.id,
                    a.attempt,
                    Esc(a.outcome.as_str())
                );
            }
        }
        out.push_str("</span>");
    }
    out.push_str("</dd></div>");
    w!(
        out,
        "<div><dt>Probe file</dt><dd><code>{}</code> <span class=\"muted\" title=\"definition hash\">{}</span></dd></div>",
        Esc(&s.file),
        Esc(run
            .definition_hash
            .get(..12)
            .unwrap_or(&run.definition_hash))
    );
    if s.runbook.is_some() || !s.incident.is_empty() {
        out.push_str("<div><dt>Runbook · incidents</dt><dd>");
        for l in s.runbook.iter().chain(&s.incident) {
            link_or_text(out, l);
            out.push(' ');
        }
        out.push_str("</dd></div>");
    }
    out.push_str("</dl>\n</section>\n");
}

/// Where a run ended: `step 5 (submit button is visible)`, `the dns check`, `setup`.
pub(super) fn where_text(p: &PhaseShown) -> String {
    match (p.phase.as_str(), p.index, &p.label, &p.check) {
        ("step", Some(i), Some(l), _) => format!("step {i} ({l})"),
        ("check", _, _, Some(c)) => format!("the {c} check"),
        (other, _, _, _) => other.to_string(),
    }
}

fn problem(out: &mut String, run: &StoredRun, s: &Shown) {
    let (title, note) = match run.outcome {
        Outcome::Failure => (
            "Failure",
            "The target misbehaved: this run counts against its BPMs.",
        ),
        Outcome::Error => (
            "Prober error",
            "journeyprobe could not measure: not counted against the target or any BPM.",
        ),
        Outcome::Success => return,
    };
    w!(
        out,
        "<section class=\"problem o-{}\"><h2>{title}</h2><p class=\"why\">",
        Esc(run.outcome.as_str())
    );
    if let Some(r) = &run.reason {
        w!(out, "<code class=\"reason\">{}</code>", Esc(r.as_str()));
    }
    if let Some(p) = &s.phase {
        w!(out, " at <b class=\"phase\">{}</b>", Esc(&where_text(p)));
    }
    w!(out, "</p><p class=\"note\">{note}</p>");
    if let Some(m) = &s.message {
        w!(out, "<pre class=\"message\">{}</pre>", Esc(m));
    }
    if let Some(t) = &s.teardown_error {
        w!(
            out,
            "<p class=\"teardown\">Closing the session also failed: {}</p>",
            Esc(t)
        );
    }
    out.push_str("</section>\n");
}

fn prerequisites(out: &mut String, s: &Shown) {
    if s.prerequisites.is_empty() {
        return;
    }
    out.push_str(
        "<section class=\"prerequisites\"><h2>Prerequisites</h2>\
         <p class=\"muted\">The checks this journey depends on, run right after it failed.</p>\
         <div class=\"table-wrap\"><table><thead><tr><th scope=\"col\">Check</th><th scope=\"col\">Outcome</th>\
         <th scope=\"col\">Reason</th><th scope=\"col\">Message</th></tr></thead><tbody>\n",
    );
    for p in &s.prerequisites {
        w!(
            out,
            "<tr data-check=\"{c}\" data-outcome=\"{o}\"><th scope=\"row\">{c}</th><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            outcome_badge(&p.outcome),
            p.reason
                .as_deref()
                .map(|r| format!("<code>{}</code>", Esc(r)))
                .unwrap_or_default(),
            Esc(p.message.as_deref().unwrap_or("")),
            c = Esc(&p.check),
            o = Esc(&p.outcome),
        );
    }
    out.push_str("</tbody></table></div></section>\n");
}

fn steps(out: &mut String, s: &Shown) {
    if s.steps.is_empty() {
        return;
    }
    let longest = s.steps.iter().map(|st| st.duration_ms).fold(1.0, f64::max);
    out.push_str("<section class=\"steps\"><h2>Steps</h2><ol class=\"timeline\">\n");
    for st in &s.steps {
        w!(
            out,
            "<li class=\"step st-{status}\" data-status=\"{status}\"><span class=\"idx\">{}</span>\
             <span class=\"what\"><span class=\"label\">{}</span> <code class=\"action\">{}</code></span>\
             {}<span class=\"dur\">{}</span>\
             <span class=\"dur-track\"><span class=\"dur-bar\" data-frac=\"{:.4}\"></span></span>",
            st.index,
            Esc(&st.label),
            Esc(&st.action),
            outcome_badge(&st.status),
            if st.status == "skipped" {
                "—".to_string()
            } else {
                millis(st.duration_ms)
            },
            st.duration_ms / longest,
            status = Esc(&st.status),
        );
        if let Some(p) = st.page.filter(|p| p.each().next().is_some()) {
            // Numbers only: the summary holds no text from the run.
            w!(
                out,
                "<span class=\"page-timings\" title=\"Navigation Timing of the page this step loaded\">page: {}</span>",
                Esc(&p.summary())
            );
        }
        if let Some(m) = &st.message {
            w!(out, "<pre class=\"message\">{}</pre>", Esc(m));
        }
        out.push_str("</li>\n");
    }
    out.push_str("</ol></section>\n");
}

/// Check phase timings, in the order the phases happen.
fn timings(out: &mut String, s: &Shown) {
    if s.timings.is_empty() {
        return;
    }
    // A key this build does not know (a newer one wrote it) goes last, shown as it is.
    let order = |k: &str| {
        NetPhase::ALL
            .iter()
            .position(|p| *p == k)
            .unwrap_or(NetPhase::ALL.len())
    };
    let mut keys: Vec<&String> = s.timings.keys().collect();
    keys.sort_by_key(|k| order(k));
    out.push_str("<section class=\"timings\"><h2>Timings</h2><dl class=\"facts\">");
    for k in keys {
        let ms = s.timings[k].as_f64().unwrap_or(0.0);
        w!(out, "<div><dt>{}</dt><dd>{}</dd></div>", Esc(k), millis(ms));
    }
    out.push_str("</dl></section>\n");
}

fn artifacts(out: &mut String, id: i64, s: &Shown) {
    if s.artifacts.is_empty() {
        return;
    }
    out.push_str("<section class=\"artifacts\"><h2>Artifacts</h2>\n");
    for path in s.artifacts.iter().filter(|p| is_image(p)) {
        if let Some(url) = artifact_url(id, path) {
            w!(
                out,
                "<figure class=\"shot\"><a href=\"{u}\"><img src=\"{u}\" alt=\"Screenshot of the page when the run ended: {n}\" loading=\"eager\"></a><figcaption>{n}</figcaption></figure>\n",
                u = Esc(&url),
                n = Esc(file_name(path)),
            );
        }
    }
    out.push_str("<ul class=\"files\">");
    for path in &s.artifacts {
        if let Some(url) = artifact_url(id, path) {
            w!(
                out,
                "<li><a href=\"{}\">{}</a> <span class=\"muted\">{}</span></li>",
                Esc(&url),
                Esc(file_name(path)),
                describe(file_name(path))
            );
        }
    }
    out.push_str("</ul></section>\n");
}

fn file_name(path: &str) -> &str {
    Path::new(path)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(path)
}

fn is_image(path: &str) -> bool {
    let p = path.to_ascii_lowercase();
    p.ends_with(".png") || p.ends_with(".jpg") || p.ends_with(".jpeg")
}

fn describe(name: &str) -> &'static str {
    match name {
        "screenshot.png" => "the page when the run ended",
        "page.html" => "the page's HTML (shown with scripts off)",
        "url.txt" => "the page's URL",
        "console.json" => "the browser console",
        "timeline.json" => "the step timeline",
        n if n.starts_with("screenshot-") => "a screenshot step",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ProbeKind;
    use crate::outcome::Reason;

    fn run(result: serde_json::Value) -> StoredRun {
        StoredRun {
            id: 5,
            probe: "login".into(),
            kind: ProbeKind::Journey,
            started_at: 1_795_586_400.0,
            duration_ms: 2100.0,
            outcome: Outcome::Failure,
            reason: Some(Reason::LowContrast),
            failed_step: Some(2),
            attempt: 2,
            is_final: true,
            first_id: Some(4),
            definition_hash: "abcdef0123456789".into(),
            result,
        }
    }

    #[test]
    fn the_run_page_shows_steps_prerequisites_and_artifacts_escaped() {
        let hostile = "<script>alert(1)</script>";
        let r = run(serde_json::json!({
            "file": "journeys/login.yaml",
            "message": hostile,
            "phase": { "phase": "step", "index": 2, "label": "submit <b>", "action": "assert_visible" },
            "steps": [
                { "index": 1, "label": "goto /login", "action": "goto", "status": "passed", "duration_ms": 300.0,
                  "page": { "ttfb_ms": 12.3, "dom_content_loaded_ms": 40.0, "load_ms": 81.0 } },
                { "index": 2, "label": hostile, "action": "assert_visible", "status": "failed", "duration_ms": 900.0, "message": hostile },
                { "index": 3, "label": "click", "action": "click", "status": "skipped", "duration_ms": 0.0 }
            ],
            "artifacts": ["/d/artifacts/login/x/screenshot.png", "/d/artifacts/login/x/page.html"],
            "prerequisites": [{ "check": "login_route", "outcome": "failure", "reason": "http_status", "message": hostile }],
            "runbook": "javascript:alert(1)",
        }));
        let attempts = [
            RunRef {
                id: 4,
                started_at: 0.0,
                outcome: Outcome::Failure,
                reason: None,
                attempt: 1,
                is_final: false,
            },
            RunRef {
                id: 5,
                started_at: 0.0,
                outcome: Outcome::Failure,
                reason: None,
                attempt: 2,
                is_final: true,
            },
        ];
        let html = render(&r, &attempts, 1_795_586_460.0);
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(!html.contains("href=\"javascript:"), "{html}");
        assert!(
            html.contains("at <b class=\"phase\">step 2 (submit &lt;b&gt;)</b>"),
            "{html}"
        );
        assert!(
            html.contains("<img src=\"/runs/5/artifacts/screenshot.png\""),
            "{html}"
        );
        assert!(
            html.contains("href=\"/runs/5/artifacts/page.html\""),
            "{html}"
        );
        assert!(html.contains("data-check=\"login_route\" data-outcome=\"failure\""));
        assert!(
            html.contains(
                "2 of 2 (the run's outcome) · <a class=\"first-attempt\" href=\"/runs/4\">"
            ),
            "{html}"
        );
        assert_eq!(html.matches("class=\"step st-").count(), 3);
        assert!(
            html.contains(">page: ttfb 12 ms, dcl 40 ms, load 81 ms</span>"),
            "{html}"
        );
        assert_eq!(html.matches("class=\"page-timings\"").count(), 1);
        assert_eq!(
            listed_artifacts(&r),
            [
                "/d/artifacts/login/x/screenshot.png",
                "/d/artifacts/login/x/page.html"
            ]
        );
    }
}
