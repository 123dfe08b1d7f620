//! `/`: the BPM tiles (worst first), then the probes. Charts are drawn in the browser by
//! `assets/board/board.js` from the JSON embedded at the end of the page.

use std::fmt::Write;

use serde_json::{Value, json};

use super::band::Left;
use super::deps::{Cause, DepLine, DepRole};
use super::html::{
    Esc, ago, link_or_text, outcome_badge, page, pct, span, state_badge, time_el, utc, w,
};
use super::now::{NowState, RECENT_RUNS};
use super::view::{BEFORE_SECS, Board, BpmView, Changed, LOOKBACK_SECS, ProbeRow, rank};
use crate::config::{Band, BpmState};
use crate::history::board::RunRef;
use crate::history::events::Event;
use crate::outcome::Outcome;

/// The board reloads itself this often (seconds).
pub const REFRESH_SECS: u32 = 60;
/// In the demo, where faults are switched by hand and probes run every few seconds.
pub const DEMO_REFRESH_SECS: u32 = 10;

fn refresh(b: &Board) -> u32 {
    if b.lab_url.is_some() {
        DEMO_REFRESH_SECS
    } else {
        REFRESH_SECS
    }
}

pub fn render(b: &Board) -> String {
    let mut body = String::new();
    summary(&mut body, b);
    if let Some(lab) = &b.lab_url {
        lab_panel(&mut body, lab);
    }
    let mut tiles: Vec<&BpmView> = b.bpms.iter().collect();
    // Out of band or failing now first: that is what the page is opened for.
    tiles.sort_by_key(|v| (!v.alarming(), rank(v.state)));
    body.push_str("<section class=\"tiles\" aria-label=\"Business value proxy metrics\">\n");
    for v in tiles {
        tile(&mut body, v, b.now);
    }
    if b.bpms.is_empty() {
        body.push_str("<p class=\"empty\">No BPMs: the probe files define no journey and no <code>bpms:</code>.</p>\n");
    }
    if !b.loose.is_empty() {
        loose_checks(&mut body, &b.loose, b.now);
    }
    body.push_str("</section>\n");
    probes(&mut body, b);
    w!(
        body,
        "<script type=\"application/json\" id=\"board-data\">{}</script>\n",
        super::html::json_for_script(&chart_data(b))
    );
    page(
        "journeyprobe — mission control",
        Some(refresh(b)),
        "<span class=\"bar-title\">Mission control</span>",
        &body,
        &["uPlot.iife.min.js", "board.js"],
    )
}

fn summary(out: &mut String, b: &Board) {
    use BpmState::*;
    let count = |s: BpmState| b.bpms.iter().filter(|v| v.state == s).count();
    let now = |n: NowState| b.bpms.iter().filter(|v| v.now == Some(n)).count();
    let bad = count(Below) + count(Above);
    let (class, headline) = match (bad, b.bpms.len()) {
        (_, 0) => (NoData, "No BPMs configured".to_string()),
        (0, n) if count(InBand) == 0 => (NoData, format!("No data yet for {n} BPM(s)")),
        // Only those with data: a young board is not "all 5 in band" with one measured.
        (0, _) => (
            InBand,
            format!("All {} BPMs with data are in band", count(InBand)),
        ),
        (k, n) => (Below, format!("{k} of {n} BPMs out of band")),
    };
    w!(
        out,
        r#"<section class="summary s-{class}" data-out-of-band="{bad}">
<h1>{}</h1>
<p class="counts"><span class="count s-below">▼ {} below</span> <span class="count s-above">▲ {} above</span> <span class="count s-in_band">✓ {} in band</span> <span class="count s-no_data">– {} no data</span> <span class="count n-failing_now">● {} failing now</span> <span class="count n-recovering">↗ {} recovering</span></p>
<p class="generated">As of {} · reloads every {} s · all times UTC</p>
</section>
"#,
        Esc(&headline),
        count(Below),
        count(Above),
        count(InBand),
        count(NoData),
        now(NowState::FailingNow),
        now(NowState::Recovering),
        utc(b.now),
        refresh(b),
    );
}

/// `journeyprobe demo`: the lab's own switch page, framed, so a newcomer can break the site
/// from here and watch the tiles react. Folded by default, so the tiles stay above the fold
/// of a laptop screen; a `<details>` needs no script.
fn lab_panel(out: &mut String, lab: &str) {
    let lab = lab.trim_end_matches('/');
    w!(
        out,
        "<details class=\"lab\" aria-label=\"Fault lab\">\n<summary><h2>Break the demo site</h2> \
         <span class=\"muted\">open the fault lab's switches</span></summary>\n\
         <p>Tick a fault: within two runs the BPMs below react (this page reloads every {} s). \
         The site is <a href=\"{}/login\">{}</a>.</p>\n\
         <iframe src=\"{}/_lab/switches\" title=\"Fault lab switches\"></iframe>\n</details>\n",
        DEMO_REFRESH_SECS,
        Esc(lab),
        Esc(lab),
        Esc(lab)
    );
}

fn band_text(band: &Band) -> String {
    match (band.min, band.max) {
        (Some(min), Some(max)) => format!("{} – {}", pct(min), pct(max)),
        (Some(min), None) => format!("≥ {}", pct(min)),
        (None, Some(max)) => format!("≤ {}", pct(max)),
        (None, None) => "any".into(),
    }
}

fn tile(out: &mut String, v: &BpmView, now: f64) {
    let name = Esc(&v.name);
    let now_class = v.now.map_or("", |n| n.as_str());
    w!(
        out,
        "<article class=\"tile s-{st} n-{now_class}\" id=\"bpm-{name}\" data-bpm=\"{name}\" data-state=\"{st}\" data-now=\"{now_class}\">\n\
         <div class=\"tile-head\"><h2>{name}</h2>{}</div>\n",
        state_badge(v.state),
        st = v.state,
    );
    if let Some(n) = v.now {
        now_line(out, n);
    }
    if let Some(d) = &v.description {
        w!(out, "<p class=\"desc\">{}</p>\n", Esc(d));
    }
    if let Some(h) = v.windows.get(v.headline) {
        let ratio = h.ratio.map_or("—".to_string(), pct);
        let runs = match h.countable {
            0 => "no countable runs".to_string(),
            n => format!("{} of {n} runs succeeded", h.success),
        };
        w!(
            out,
            "<div class=\"headline\"><span class=\"ratio\" data-window=\"{win}\">{ratio}</span>\
             <span class=\"headline-meta\">last {win}<br>{runs}</span>\
             <span class=\"band\">expected<br><b>{band}</b></span></div>\n",
            win = Esc(&h.window),
            band = Esc(&band_text(&v.band)),
        );
    }
    if let Some(c) = &v.cause {
        cause(out, c, now);
    }
    dep_lines(out, &v.deps, now);
    windows_table(out, v);
    let win = v.windows.get(v.headline).map_or("", |h| h.window.as_str());
    let over = if v.chart_from > now - LOOKBACK_SECS {
        format!(
            "since shortly before its first run, {}",
            ago(now, v.chart_from)
        )
    } else {
        "over the last 24 h".to_string()
    };
    w!(
        out,
        "<figure class=\"chart-box\"><div class=\"chart\" data-chart=\"{name}\" role=\"img\" \
         aria-label=\"{name}: its {win} ratio {over}, expected band shaded, change events flagged\"></div>\
         <figcaption>The {win} ratio {over} (gap: no countable run) · shaded: expected band · \
         red: out of band · flags: change events</figcaption></figure>\n",
        win = Esc(win),
        over = Esc(&over),
    );
    if let Some(c) = &v.changed {
        changed(out, c, now);
    }
    out.push_str("<p class=\"tile-probes\">Counts ");
    for (i, p) in v.probes.iter().enumerate() {
        let sep = if i == 0 { "" } else { ", " };
        w!(out, "{sep}<a href=\"#probe-{p}\">{p}</a>", p = Esc(p));
    }
    out.push_str(" · errors never count</p>\n</article>\n");
}

/// The state now, in a line under the tile's head: the windows lag, this does not.
fn now_line(out: &mut String, n: NowState) {
    let (symbol, words) = n.words();
    let why = match n {
        NowState::FailingNow => {
            format!("the latest {RECENT_RUNS} runs of a probe it counts failed")
        }
        NowState::Recovering => format!(
            "the latest {RECENT_RUNS} runs of each probe passed; its windows still count the failures before them"
        ),
        NowState::InBand => format!("the latest {RECENT_RUNS} runs of each probe passed"),
        NowState::Mixed => "the latest runs pass and fail".to_string(),
        NowState::NoData => "no countable run in the last 24 h".to_string(),
    };
    w!(
        out,
        "<p class=\"now-line\"><span class=\"now n-{n}\"><span aria-hidden=\"true\">{symbol}</span> {words}</span> \
         <span class=\"now-why\">{why}</span></p>\n"
    );
}

/// The latest failure of the BPM's journeys, and what the checks it stands on said then.
fn cause(out: &mut String, c: &Cause, now: f64) {
    w!(
        out,
        "<section class=\"cause\" data-probe=\"{p}\" data-run=\"{id}\"><p class=\"cause-run\">Last failure: \
         <a href=\"/runs/{id}\"><b>{p}</b> ",
        p = Esc(&c.probe),
        id = c.run.id,
    );
    if let Some(r) = &c.run.reason {
        w!(out, "<code>{}</code>", Esc(r.as_str()));
    }
    if let Some(at) = &c.at {
        w!(out, " at {}", Esc(at));
    }
    out.push_str("</a>, ");
    time_el(out, now, c.run.started_at);
    if let Some(m) = &c.message {
        w!(out, "<span class=\"cause-msg\">{}</span>", Esc(m));
    }
    out.push_str("</p>\n");
    let failed: Vec<_> = c.failed().collect();
    for p in &failed {
        let verb = if p.outcome == "failure" {
            "failed with it"
        } else {
            "could not be checked with it"
        };
        w!(
            out,
            "<p class=\"blame o-{o}\" data-check=\"{ch}\" data-outcome=\"{o}\">The check it stands on \
             <b>{ch}</b> {verb}",
            ch = Esc(&p.check),
            o = Esc(&p.outcome),
        );
        if let Some(r) = &p.reason {
            w!(out, ": <code>{}</code>", Esc(r));
        }
        if let Some(m) = &p.message {
            w!(out, " — {}", Esc(m));
        }
        out.push_str("</p>\n");
    }
    let passed: Vec<&str> = c
        .prerequisites
        .iter()
        .filter(|p| p.outcome == "success")
        .map(|p| p.check.as_str())
        .collect();
    if !passed.is_empty() {
        let lead = if failed.is_empty() {
            "Every check it stands on passed with it (the fault is on the journey's own path): "
        } else {
            "Passed with it: "
        };
        w!(
            out,
            "<p class=\"passed\">{lead}{}</p>\n",
            Esc(&passed.join(", "))
        );
    }
    out.push_str("</section>\n");
}

/// One line per check: its latest attempt, with the weight of a failing journey when it
/// failed (the same colours and edge as a tile below its band).
fn dep_lines(out: &mut String, deps: &[DepLine], now: f64) {
    if deps.is_empty() {
        return;
    }
    out.push_str("<ul class=\"deps\" aria-label=\"Checks\">\n");
    for d in deps {
        dep_line(out, d, now);
    }
    out.push_str("</ul>\n");
}

fn dep_line(out: &mut String, d: &DepLine, now: f64) {
    let outcome = d.last.as_ref().map_or("none", |l| l.outcome.as_str());
    // The badge of a failing check is the badge of a tile below its band.
    let (class, badge) = match d.last.as_ref().map(|l| l.outcome) {
        Some(Outcome::Failure) => ("s-below", "✗ Failing"),
        Some(Outcome::Success) => ("s-in_band", "✓ Passing"),
        Some(Outcome::Error) => ("o-err", "! Not checked"),
        None => ("s-no_data", "– Not run yet"),
    };
    let role = match d.role {
        DepRole::Counted => "counted",
        DepRole::StandsOn => "stood on",
        DepRole::Loose => "in no BPM",
    };
    w!(
        out,
        "<li class=\"dep {class}\" data-check=\"{c}\" data-outcome=\"{outcome}\" data-role=\"{}\">\
         <span class=\"badge {class}\">{badge}</span> <a class=\"dep-name\" href=\"#probe-{c}\">{c}</a> \
         <span class=\"dep-kind\">{} check, {role}</span>",
        d.role,
        Esc(d.kind.as_str()),
        c = Esc(&d.check),
    );
    if let Some(l) = &d.last {
        out.push(' ');
        w!(out, "<a class=\"run-link\" href=\"/runs/{}\">", l.id);
        if let Some(r) = &l.reason {
            w!(out, "<code>{}</code> ", Esc(r.as_str()));
        }
        time_el(out, now, l.started_at);
        out.push_str("</a>");
    }
    if let Some(m) = &d.message {
        w!(out, "<span class=\"dep-msg\">{}</span>", Esc(m));
    }
    out.push_str("</li>\n");
}

/// The checks no BPM counts and no journey stands on: still where people look.
fn loose_checks(out: &mut String, loose: &[DepLine], now: f64) {
    let failing = loose.iter().any(|d| {
        d.last
            .as_ref()
            .is_some_and(|l| l.outcome == Outcome::Failure)
    });
    let st = if failing { "below" } else { "no_data" };
    w!(
        out,
        "<article class=\"checks-tile s-{st}\" id=\"loose-checks\" data-state=\"{st}\">\n\
         <div class=\"tile-head\"><h2>Other checks</h2></div>\n\
         <p class=\"desc\">Checks that no BPM counts and no journey stands on.</p>\n"
    );
    dep_lines(out, loose, now);
    out.push_str("</article>\n");
}

fn windows_table(out: &mut String, v: &BpmView) {
    out.push_str(
        "<table class=\"windows\"><thead><tr><th scope=\"col\">Window</th><th scope=\"col\">Ratio</th>\
         <th scope=\"col\"><span class=\"wide-only\">Succeeded / countable</span><span class=\"narrow-only\">OK / runs</span></th><th scope=\"col\">State</th></tr></thead><tbody>\n",
    );
    for wv in &v.windows {
        w!(
            out,
            "<tr data-window=\"{win}\" data-state=\"{st}\"><td>{win}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{} / {}</td><td>{}</td></tr>\n",
            wv.ratio.map_or("—".to_string(), pct),
            wv.success,
            wv.countable,
            state_badge(wv.state),
            win = Esc(&wv.window),
            st = wv.state,
        );
    }
    out.push_str("</tbody></table>\n");
}

fn changed(out: &mut String, c: &Changed, now: f64) {
    // A window in "what changed" is out of band: below or above.
    let dir = match c.state {
        BpmState::Above => "Above",
        BpmState::Below | BpmState::InBand | BpmState::NoData => "Below",
    };
    w!(
        out,
        "<section class=\"changed\" data-window=\"{}\"><h3>What changed</h3>\n<p class=\"left\">",
        Esc(&c.window)
    );
    match c.left {
        Left::At(t) => {
            w!(
                out,
                "{dir} its band over {} since <b>{}</b> ({}). Change events from {} before that until now:",
                Esc(&c.window),
                utc(t),
                ago(now, t),
                span(BEFORE_SECS)
            );
        }
        Left::BeforeLookback => {
            w!(
                out,
                "{dir} its band over {} for all of the last 24 h with data; when it left is not known. \
                 Change events of the last {}:",
                Esc(&c.window),
                span(BEFORE_SECS)
            );
        }
    }
    out.push_str("</p>\n");
    if c.events.is_empty() {
        w!(
            out,
            "<p class=\"none\">No change event recorded since {}. Post deploys and flag flips to \
             <code>POST /api/v1/events</code> (or <code>journeyprobe event</code>) to see them here.</p>\n",
            utc(c.since(now))
        );
    } else {
        out.push_str("<ol class=\"events\">\n");
        for e in c.events.iter().rev() {
            let when = match c.left {
                Left::At(t) if e.at_unix <= t => format!("{} before it left", span(t - e.at_unix)),
                Left::At(t) => format!("during, {} after it left", span(e.at_unix - t)),
                Left::BeforeLookback => ago(now, e.at_unix),
            };
            w!(
                out,
                "<li data-event-id=\"{}\" data-kind=\"{}\">",
                e.id,
                e.kind.as_str()
            );
            event_text(out, e);
            w!(
                out,
                " <span class=\"ev-when\">{} · {}</span></li>\n",
                utc(e.at_unix),
                Esc(&when)
            );
        }
        out.push_str("</ol>\n");
    }
    out.push_str("</section>\n");
}

/// `deploy web v1.2.3 — canary 10%`, every part escaped.
fn event_text(out: &mut String, e: &Event) {
    w!(
        out,
        "<span class=\"ev-kind k-{k}\">{k}</span> <b>{}</b>",
        Esc(&e.service),
        k = e.kind.as_str()
    );
    if let Some(f) = &e.flag {
        w!(out, " flag <code>{}</code>", Esc(f));
    }
    if let Some(v) = &e.version {
        w!(out, " <code>{}</code>", Esc(v));
    }
    if let Some(d) = &e.description {
        w!(out, " — {}", Esc(d));
    }
}

fn probes(out: &mut String, b: &Board) {
    out.push_str(
        "<section class=\"probes\" aria-labelledby=\"probes-h\"><h2 id=\"probes-h\">Probes</h2>\n\
         <div class=\"table-wrap\"><table class=\"probe-table\"><thead><tr>\
         <th scope=\"col\">Probe</th><th scope=\"col\">Kind</th><th scope=\"col\">Last run</th>\
         <th scope=\"col\">Last success</th><th scope=\"col\">Last failure</th><th scope=\"col\">Next run</th>\
         <th scope=\"col\">Runbook · incidents</th></tr></thead><tbody>\n",
    );
    for p in &b.probes {
        probe_row(out, p, b.now);
    }
    out.push_str("</tbody></table></div></section>\n");
}

fn probe_row(out: &mut String, p: &ProbeRow, now: f64) {
    let name = Esc(&p.name);
    w!(
        out,
        "<tr id=\"probe-{name}\" data-probe=\"{name}\"><th scope=\"row\">{name}"
    );
    if !p.bpms.is_empty() {
        out.push_str("<span class=\"sub\">BPM ");
        for (i, b) in p.bpms.iter().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            w!(out, "{sep}<a href=\"#bpm-{b}\">{b}</a>", b = Esc(b));
        }
        out.push_str("</span>");
    }
    w!(
        out,
        "</th><td>{}<span class=\"sub\">every {}</span></td>",
        Esc(p.kind.as_str()),
        span(p.every.as_secs_f64())
    );
    out.push_str("<td class=\"last\">");
    match &p.status.last {
        Some(r) => run_cell(out, r, now, true),
        None => out.push_str("<span class=\"muted\">not run yet</span>"),
    }
    out.push_str("</td><td class=\"last-success\">");
    match &p.status.last_success {
        Some(r) => {
            w!(out, "<a href=\"/runs/{}\">", r.id);
            time_el(out, now, r.started_at);
            out.push_str("</a>");
        }
        None => out.push_str("<span class=\"muted\">never</span>"),
    }
    out.push_str("</td><td class=\"last-failure\">");
    match &p.status.last_failure {
        Some(r) => run_cell(out, r, now, false),
        None => out.push_str("<span class=\"muted\">none</span>"),
    }
    out.push_str("</td><td class=\"next\">");
    match p.next_run() {
        Some(t) if t > now => time_el(out, now, t),
        Some(_) => out.push_str("due now"),
        None => w!(
            out,
            "<span class=\"muted\">within {} of start</span>",
            span(p.every.as_secs_f64().min(60.0))
        ),
    }
    out.push_str("</td><td class=\"links\">");
    links(out, p);
    out.push_str("</td></tr>\n");
}

/// Outcome, reason and time of an attempt, linked to its page.
fn run_cell(out: &mut String, r: &RunRef, now: f64, with_badge: bool) {
    w!(out, "<a href=\"/runs/{}\" class=\"run-link\">", r.id);
    if with_badge {
        out.push_str(&outcome_badge(r.outcome.as_str()));
        out.push(' ');
    }
    if let Some(reason) = &r.reason {
        w!(out, "<code>{}</code> ", Esc(reason.as_str()));
    }
    time_el(out, now, r.started_at);
    out.push_str("</a>");
    if r.outcome == Outcome::Error {
        out.push_str("<span class=\"sub\">prober error, not counted</span>");
    }
    if r.attempt > 1 || !r.is_final {
        let what = if r.is_final { "final" } else { "retried" };
        w!(
            out,
            "<span class=\"sub\">attempt {}, {what}</span>",
            r.attempt
        );
    }
}

fn links(out: &mut String, p: &ProbeRow) {
    let mut any = false;
    if let Some(rb) = &p.runbook {
        out.push_str("<span class=\"runbook\">");
        match super::html::http_url(rb) {
            Some(url) => w!(
                out,
                "<a href=\"{}\" rel=\"noopener noreferrer\">runbook</a>",
                Esc(url)
            ),
            None => w!(out, "runbook: {}", Esc(rb)),
        }
        out.push_str("</span> ");
        any = true;
    }
    for i in &p.incident {
        out.push_str("<span class=\"incident\">");
        link_or_text(out, i);
        out.push_str("</span> ");
        any = true;
    }
    if !any {
        out.push_str("<span class=\"muted\">—</span>");
    }
}

/// What `board.js` draws: per BPM the points of its chart (ratio null where the window held
/// no countable run, so the line has a gap), the counts behind each, and the band; the events.
fn chart_data(b: &Board) -> Value {
    let bpms: Vec<Value> = b
        .bpms
        .iter()
        .map(|v| {
            let x: Vec<f64> = v.chart.iter().map(|p| p.t).collect();
            let y: Vec<Option<f64>> = v.chart.iter().map(|p| p.ratio()).collect();
            let n: Vec<[u64; 2]> = v.chart.iter().map(|p| [p.success, p.countable]).collect();
            json!({
                "name": v.name,
                "from": v.chart_from,
                "window": v.windows.get(v.headline).map(|h| h.window.as_str()),
                "min": v.band.min,
                "max": v.band.max,
                "x": x,
                "y": y,
                "n": n,
            })
        })
        .collect();
    let events: Vec<Value> = b
        .events
        .iter()
        .map(|e| {
            let mut label = format!("{} {}", e.kind.as_str(), e.service);
            for part in [&e.flag, &e.version, &e.description].into_iter().flatten() {
                label.push(' ');
                label.push_str(part);
            }
            json!({ "id": e.id, "kind": e.kind.as_str(), "at": e.at_unix, "label": label, "when": utc(e.at_unix) })
        })
        .collect();
    json!({ "now": b.now, "from": b.from, "bpms": bpms, "events": events })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bpm::WindowValue;
    use crate::history::board::ProbeStatus;
    use crate::history::events::EventKind;
    use crate::server::board::run_page::PrerequisiteShown;
    use crate::server::board::series::Point;
    use std::time::Duration;

    const HOSTILE: &str = "<script>alert('x')</script>\"><img src=x onerror=alert(1)>";

    fn board() -> Board {
        let now = 1_795_586_400.0;
        let event = Event {
            id: 7,
            kind: EventKind::Deploy,
            service: HOSTILE.into(),
            version: Some(HOSTILE.into()),
            flag: None,
            description: Some(HOSTILE.into()),
            at: String::new(),
            at_unix: now - 2000.0,
        };
        Board {
            now,
            from: now - 86400.0,
            bpms: vec![BpmView {
                name: "login".into(),
                description: Some(HOSTILE.into()),
                probes: vec!["login".into()],
                band: Band {
                    min: Some(0.95),
                    max: None,
                },
                windows: vec![WindowValue {
                    window: "5m".into(),
                    success: 1,
                    countable: 4,
                    ratio: Some(0.25),
                    state: BpmState::Below,
                }],
                headline: 0,
                state: BpmState::Below,
                chart: vec![
                    Point {
                        t: now - 300.0,
                        success: 0,
                        countable: 0,
                    },
                    Point {
                        t: now,
                        success: 1,
                        countable: 4,
                    },
                ],
                changed: Some(Changed {
                    window: "5m".into(),
                    state: BpmState::Below,
                    left: Left::At(now - 1800.0),
                    events: vec![event.clone()],
                }),
                now: Some(NowState::FailingNow),
                chart_from: now - 86400.0,
                deps: vec![dep(HOSTILE, Some(Outcome::Failure), now)],
                cause: Some(Cause {
                    probe: "login".into(),
                    run: run_ref(9, now - 20.0, Outcome::Failure),
                    at: Some(HOSTILE.into()),
                    message: Some(HOSTILE.into()),
                    prerequisites: vec![
                        PrerequisiteShown {
                            check: "assets_bucket".into(),
                            outcome: "failure".into(),
                            reason: Some("bucket_not_found".into()),
                            message: Some(HOSTILE.into()),
                        },
                        PrerequisiteShown {
                            check: "login_page".into(),
                            outcome: "success".into(),
                            reason: None,
                            message: None,
                        },
                    ],
                }),
            }],
            probes: vec![ProbeRow {
                name: "login".into(),
                kind: crate::config::ProbeKind::Journey,
                every: Duration::from_secs(60),
                incident: vec![HOSTILE.into(), "javascript:alert(1)".into()],
                runbook: Some("https://wiki.example.com/runbooks/login?a=1&b=2".into()),
                bpms: vec!["login".into()],
                status: ProbeStatus::default(),
            }],
            loose: vec![dep("orphan", Some(Outcome::Success), now)],
            events: vec![event],
            lab_url: Some(HOSTILE.into()),
        }
    }

    fn run_ref(id: i64, at: f64, outcome: Outcome) -> RunRef {
        RunRef {
            id,
            started_at: at,
            outcome,
            reason: match outcome {
                Outcome::Success => None,
                Outcome::Failure => Some(crate::outcome::Reason::BucketNotFound),
                Outcome::Error => Some(crate::outcome::Reason::ResolverUnavailable),
            },
            attempt: 1,
            is_final: true,
        }
    }

    fn dep(name: &str, outcome: Option<Outcome>, now: f64) -> DepLine {
        DepLine {
            check: name.into(),
            kind: crate::config::ProbeKind::Check(crate::config::CheckKind::Bucket),
            role: DepRole::StandsOn,
            last: outcome.map(|o| run_ref(11, now - 30.0, o)),
            message: outcome
                .filter(|o| *o != Outcome::Success)
                .map(|_| HOSTILE.into()),
        }
    }

    #[test]
    fn strings_from_history_and_config_are_escaped_everywhere() {
        let html = render(&board());
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(!html.contains("<img src=x"), "{html}");
        assert!(!html.contains("href=\"javascript:"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
        assert!(html.contains(r#"href="https://wiki.example.com/runbooks/login?a=1&amp;b=2""#));
        // The only <script> elements: the data block and the two script files.
        assert_eq!(html.matches("<script").count(), 3, "{html}");
    }

    #[test]
    fn the_chart_data_has_gaps_as_null_and_the_counts_behind_each_point() {
        let data = chart_data(&board());
        let bpm = &data["bpms"][0];
        assert_eq!(bpm["y"], json!([null, 0.25]));
        assert_eq!(bpm["n"], json!([[0, 0], [1, 4]]));
        assert_eq!(bpm["x"][1], json!(1_795_586_400.0));
        assert_eq!(bpm["window"], "5m");
        assert_eq!(bpm["min"], json!(0.95));
        assert!(bpm["max"].is_null());
        assert_eq!(data["events"][0]["id"], 7);
    }

    #[test]
    fn what_changed_says_when_and_how_long_before() {
        let html = render(&board());
        assert!(
            html.contains("Below its band over 5m since <b>2026-11-25 05:30 UTC</b> (30 min ago)"),
            "{html}"
        );
        assert!(html.contains("3 min before it left"), "{html}");
    }

    /// `(class, text)` of the element of `html` that carries `marker`.
    fn element_with<'a>(html: &'a str, marker: &str) -> &'a str {
        let at = html
            .find(marker)
            .unwrap_or_else(|| panic!("no {marker} in {html}"));
        let start = html[..at].rfind('<').unwrap();
        let end = at
            + html[at..]
                .find("</li>")
                .or(html[at..].find("</p>"))
                .unwrap();
        &html[start..end]
    }

    #[test]
    fn a_tile_says_its_state_now_beside_the_windows_verdict() {
        let mut b = board();
        let html = render(&b);
        assert!(
            html.contains("data-state=\"below\" data-now=\"failing_now\""),
            "{html}"
        );
        assert!(html.contains("<span class=\"now n-failing_now\"><span aria-hidden=\"true\">●</span> Failing now</span>"));
        b.bpms[0].now = Some(NowState::Recovering);
        let html = render(&b);
        assert!(html.contains("data-state=\"below\" data-now=\"recovering\""));
        assert!(html.contains("Recovering</span> <span class=\"now-why\">the latest 2 runs of each probe passed; its windows still count"));
        // A funnel has no state of its own now: no line.
        b.bpms[0].now = None;
        assert!(!render(&b).contains("now-line"));
    }

    #[test]
    fn an_in_band_tile_failing_now_comes_before_quiet_ones_and_is_counted() {
        let mut b = board();
        let mut quiet = BpmView {
            name: "quiet".into(),
            ..board().bpms.remove(0)
        };
        quiet.state = BpmState::InBand;
        quiet.now = Some(NowState::InBand);
        let mut fresh = BpmView {
            name: "fresh_outage".into(),
            ..board().bpms.remove(0)
        };
        fresh.state = BpmState::InBand;
        fresh.now = Some(NowState::FailingNow);
        b.bpms = vec![quiet, fresh];
        let html = render(&b);
        let (q, f) = (
            html.find("id=\"bpm-quiet\"").unwrap(),
            html.find("id=\"bpm-fresh_outage\"").unwrap(),
        );
        assert!(f < q, "failing now first");
        assert!(html.contains("● 1 failing now"), "{html}");
    }

    #[test]
    fn the_tile_names_the_failed_check_behind_its_last_failure() {
        let html = render(&board());
        let blame = element_with(&html, "class=\"blame o-failure\"");
        assert!(
            blame.contains("data-check=\"assets_bucket\"")
                && blame.contains("<b>assets_bucket</b> failed with it: <code>bucket_not_found</code> — &lt;script&gt;"),
            "{blame}"
        );
        assert!(
            html.contains("<p class=\"passed\">Passed with it: login_page</p>"),
            "{html}"
        );
        assert!(html.contains("<section class=\"cause\" data-probe=\"login\" data-run=\"9\">"));
    }

    #[test]
    fn a_failing_check_line_wears_the_badge_of_a_tile_below_its_band() {
        let html = render(&board());
        let line = element_with(&html, "class=\"dep s-below\"");
        assert!(line.contains("data-outcome=\"failure\""), "{line}");
        assert!(
            line.contains("<span class=\"badge s-below\">✗ Failing</span>"),
            "{line}"
        );
        assert!(line.contains("<code>bucket_not_found</code>"), "{line}");
        // A check in no BPM and stood on by no journey has a place of its own.
        assert!(html.contains("id=\"loose-checks\""), "{html}");
        assert!(html.contains("data-check=\"orphan\" data-outcome=\"success\""));
    }

    #[test]
    fn the_fault_lab_panel_is_folded() {
        let html = render(&board());
        assert!(html.contains("<details class=\"lab\""), "{html}");
        assert!(!html.contains("<details class=\"lab\" open"), "{html}");
    }

    #[test]
    fn the_summary_counts_only_the_bpms_with_data_as_in_band() {
        let mut b = board();
        let mut quiet = b.bpms.remove(0);
        quiet.state = BpmState::InBand;
        let mut empty = BpmView {
            name: "empty".into(),
            ..board().bpms.remove(0)
        };
        empty.state = BpmState::NoData;
        b.bpms = vec![quiet, empty];
        assert!(render(&b).contains("<h1>All 1 BPMs with data are in band</h1>"));
    }
}
