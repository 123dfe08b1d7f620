//! The mission-control board of `journeyprobe serve`, read in real headless Chromium through
//! journeyprobe's own WebDriver layer, against a seeded history: tiles show the right ratios
//! and states (errors and retried attempts not counted), a posted deploy appears as a chart
//! marker and under "what changed", a failed run's page shows its real screenshot, the page
//! fits a phone; artifacts are served only from the artifacts folder.
//!
//! `JOURNEYPROBE_UPDATE_SCREENSHOT=1 cargo test --test board` rewrites `docs/board.png`.

mod common;

use std::path::Path;
use std::time::{Duration, SystemTime};

use common::board::{
    Browser, Seed, Seeded, closed_port, fetch, journey_run, minutes, probe_files, seed, store,
    utc_minute,
};
use common::serve::{Served, http};
use common::{Lab, Scratch};
use journeyprobe::faultlab::Faults;
use journeyprobe::history::History;
use journeyprobe::journey::{Quiet, RunEnv, run_journey};
use journeyprobe::outcome::Reason;
use journeyprobe::time::unix;
use serde_json::Value;

const TOKEN: &str = "board-token-5678";

/// One browser test at a time: [`Browser::stop`] insists that no browser of this process is
/// left, which a browser of a test running beside it would contradict.
static ONE_BROWSER: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_browser() -> std::sync::MutexGuard<'static, ()> {
    ONE_BROWSER.lock().unwrap_or_else(|e| e.into_inner())
}

fn post_event(serve: &Served, body: &str) -> Value {
    let auth = format!("Authorization: Bearer {TOKEN}\r\n");
    let (status, _, body) = http(&serve.addr, "POST", "/api/v1/events", &auth, body);
    assert_eq!(status, 201, "{body}");
    serde_json::from_str(&body).unwrap()
}

#[test]
fn the_board_shows_bpms_in_and_out_of_band_what_changed_and_a_failed_runs_screenshot() {
    let _one = one_browser();
    let lab = Lab::start();
    let s = Scratch::new();
    let data = s.path().join("data");
    let artifacts = data.join("artifacts");
    let (probe_dir, parsed) = probe_files(&s, &lab.base_url());
    let webdriver = format!("http://127.0.0.1:{}", closed_port());
    let serve = Served::start(
        &s,
        &lab.base_url(),
        &data,
        &[
            &probe_dir,
            "--events-token",
            TOKEN,
            "--webdriver",
            &webdriver,
        ],
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    let browser = rt.block_on(Browser::start());

    // A real failed run: the login journey in Chromium against the lab's invisible button,
    // with its real screenshot and page capture, and its prerequisite check run after it.
    lab.set(Faults {
        invisible_submit: true,
        ..Default::default()
    });
    let login = parsed["login"].journey.as_ref().unwrap();
    let (route, dns) = (&parsed["login"].checks[0], &parsed["login"].checks[1]);
    let real = rt.block_on(async {
        let env = RunEnv {
            webdriver: browser.driver().url().to_string(),
            driver: Some(browser.driver().clone()),
            pool: None,
            browser_binary: journeyprobe::browser::driver::find_chromium(),
            artifacts: Some(artifacts.clone()),
            cancel: Default::default(),
            interactive: Default::default(),
        };
        let mut r = run_journey(login, &env, &Quiet).await;
        let env = journeyprobe::check::CheckEnv::new();
        journeyprobe::check::attribute(&mut r, &[route, dns], &env).await;
        r
    });
    assert_eq!(real.reason, Some(Reason::LowContrast), "{real:?}");
    assert!(
        real.artifacts.iter().any(|a| a.ends_with("screenshot.png")),
        "{:?}",
        real.artifacts
    );

    // Every probe has its one run (errors for the journeys, a success for the route check)
    // at its grid offset, within a minute of serve's start; waiting for them before the seed
    // makes what the board shows next settled.
    let names = [
        "login",
        "login_route",
        "app_dns",
        "checkout",
        "password_reset",
        "search",
        "signup",
    ];
    serve.wait_for("each probe's first run", Duration::from_secs(90), |m| {
        names
            .iter()
            .all(|p| m.count("journeyprobe_runs_total", &[("probe", p)]) >= 1.0)
    });
    let history = History::open(&data).unwrap();
    let seeded = rt.block_on(seed(&history, &parsed, &real));
    let deploy_at = seeded.now - minutes(33.0);
    let deploy = post_event(
        &serve,
        &format!(
            r#"{{"kind":"deploy","service":"web","version":"v1.2.3","description":"new login form","at":"{}"}}"#,
            humantime::format_rfc3339_seconds(deploy_at)
        ),
    );

    let base = format!("http://{}", serve.addr);
    rt.block_on(async {
        browser.resize(1280, 900).await;
        browser.goto(&format!("{base}/")).await;
        browser
            .wait_js("every chart drawn", "return [...document.querySelectorAll('.chart')].every(c => c.dataset.drawn === 'true' && c.querySelector('canvas'))")
            .await;
        check_tiles(&browser).await;
        check_now(&browser).await;
        check_dependencies_and_cause(&browser, &seeded).await;
        check_what_changed(&browser, &seeded, deploy["id"].as_i64().unwrap(), deploy_at).await;
        check_markers(&browser, deploy["id"].as_i64().unwrap(), unix(deploy_at)).await;
        check_probes(&browser, &seeded).await;
        if std::env::var_os("JOURNEYPROBE_UPDATE_SCREENSHOT").is_some() {
            save_screenshot(&browser).await;
        }
        if let Some(dir) = std::env::var_os("JOURNEYPROBE_BOARD_SHOTS") {
            browser.resize(1366, 768).await;
            tokio::time::sleep(Duration::from_millis(300)).await;
            let png = browser.screenshot().await;
            std::fs::write(Path::new(&dir).join("board-1366x768.png"), png).unwrap();
            browser.resize(1280, 900).await;
        }
        check_phone(&browser).await;
        check_run_pages(&browser, &base, &seeded).await;
        browser.stop().await;
    });
    drop(rt);
    drop(serve);
    s.assert_no_leftovers();
}

/// `[bpm, state, headline, [[window, ratio, counts, state]…]]` of every tile, in page order.
async fn tiles(b: &Browser) -> Value {
    b.js(r#"return [...document.querySelectorAll('.tile')].map(t => [
        t.dataset.bpm, t.dataset.state, t.querySelector('.ratio').textContent,
        [...t.querySelectorAll('.windows tr[data-window]')].map(r =>
            [r.dataset.window, r.cells[1].textContent, r.cells[2].textContent, r.dataset.state])])"#)
        .await
}

async fn check_tiles(b: &Browser) {
    let expected = serde_json::json!([
        [
            "login",
            "below",
            "25%",
            [
                ["5m", "25%", "1 / 4", "below"],
                ["1h", "20.6%", "7 / 34", "below"],
                ["24h", "91.3%", "282 / 309", "below"]
            ]
        ],
        [
            "password_reset",
            "below",
            "40%",
            [
                ["5m", "40%", "2 / 5", "below"],
                ["1h", "60%", "12 / 20", "below"],
                ["24h", "97.3%", "287 / 295", "in_band"]
            ]
        ],
        [
            "checkout_funnel",
            "above",
            "100%",
            [
                ["1h", "100%", "6 / 6", "above"],
                ["24h", "68.5%", "98 / 143", "in_band"]
            ]
        ],
        [
            "search",
            "in_band",
            "100%",
            [
                ["5m", "100%", "1 / 1", "in_band"],
                ["1h", "100%", "12 / 12", "in_band"],
                ["24h", "100%", "287 / 287", "in_band"]
            ]
        ],
        [
            "signup",
            "no_data",
            "—",
            [
                ["5m", "—", "0 / 0", "no_data"],
                ["1h", "—", "0 / 0", "no_data"],
                ["24h", "—", "0 / 0", "no_data"]
            ]
        ],
    ]);
    assert_eq!(
        tiles(b).await,
        expected,
        "worst first, errors and retried attempts not counted"
    );
    // The state is said in words, not only in colour.
    let words = b
        .js("return [...document.querySelectorAll('.tile-head .badge')].map(x => x.textContent.trim())")
        .await;
    assert_eq!(
        words,
        serde_json::json!([
            "▼ Below band",
            "▼ Below band",
            "▲ Above band",
            "✓ In band",
            "– No data"
        ])
    );
    let summary = b
        .js("return document.querySelector('.summary h1').textContent")
        .await;
    assert_eq!(summary, "3 of 5 BPMs out of band");
}

/// Each tile says where its probes stand now, beside its windows' verdict: `password_reset`
/// recovered two minutes ago and its windows still hold the outage; `login`'s latest runs
/// pass and fail; a funnel has no state now of its own.
async fn check_now(b: &Browser) {
    let now = b
        .js(r#"return [...document.querySelectorAll('.tile')].map(t => [t.dataset.bpm, t.dataset.state,
            t.dataset.now, t.querySelector('.now')?.textContent.trim() ?? null])"#)
        .await;
    assert_eq!(
        now,
        serde_json::json!([
            ["login", "below", "mixed", "≈ Mixed now"],
            ["password_reset", "below", "recovering", "↗ Recovering"],
            ["checkout_funnel", "above", "", null],
            ["search", "in_band", "in_band", "✓ Passing now"],
            ["signup", "no_data", "no_data", "– No recent runs"]
        ])
    );
    // A recovering tile's edge is no longer red; a tile below its band and not recovering is.
    let edges = b
        .js(
            r#"const edge = id => getComputedStyle(document.getElementById(id)).borderTopColor;
            return [edge('bpm-password_reset'), edge('bpm-search'), edge('bpm-login')]"#,
        )
        .await;
    assert_eq!(
        edges[0], edges[1],
        "recovering wears the in-band edge: {edges}"
    );
    assert_ne!(edges[0], edges[2], "{edges}");
}

/// The checks a journey stands on are lines under its tile; a failing one weighs what a tile
/// below its band weighs (same edge colour and width, same tint, same badge). The tile names
/// the check that failed with its last failure.
async fn check_dependencies_and_cause(b: &Browser, seed: &Seed) {
    let deps = b
        .js(
            r#"return [...document.querySelectorAll('#bpm-login .dep')].map(d => [d.dataset.check,
            d.dataset.outcome, d.dataset.role, d.querySelector('.badge').textContent,
            d.querySelector('code')?.textContent ?? null])"#,
        )
        .await;
    assert_eq!(
        deps,
        serde_json::json!([
            ["login_route", "success", "stands_on", "✓ Passing", null],
            [
                "app_dns",
                "failure",
                "stands_on",
                "✗ Failing",
                "dns_timeout"
            ]
        ])
    );
    let weight = b
        .js(r#"const s = e => getComputedStyle(e);
            const dep = document.querySelector('#bpm-login .dep[data-check="app_dns"]');
            const tile = document.getElementById('bpm-login');
            const badge = tile.querySelector('.tile-head .badge');
            return { dep: [s(dep).borderLeftColor, s(dep).borderLeftWidth],
                     tile: [s(tile).borderTopColor, s(tile).borderTopWidth],
                     dep_badge: [s(dep.querySelector('.badge')).color, s(dep.querySelector('.badge')).backgroundColor],
                     tile_badge: [s(badge).color, s(badge).backgroundColor],
                     tint: s(dep).backgroundColor, changed: s(tile.querySelector('.changed')).backgroundColor,
                     message: dep.querySelector('.dep-msg')?.textContent }"#)
        .await;
    assert_eq!(weight["dep"], weight["tile"], "{weight}");
    assert_eq!(weight["dep_badge"], weight["tile_badge"], "{weight}");
    assert_eq!(weight["tint"], weight["changed"], "{weight}");
    assert!(
        weight["message"]
            .as_str()
            .is_some_and(|m| m.contains("did not answer within")),
        "{weight}"
    );
    let cause = b
        .js(r#"const c = document.querySelector('#bpm-login .cause');
            return c && { run: +c.dataset.run, text: c.querySelector('.cause-run').textContent,
              blame: [...c.querySelectorAll('.blame')].map(p => [p.dataset.check, p.dataset.outcome, p.textContent]),
              passed: c.querySelector('.passed')?.textContent }"#)
        .await;
    assert_eq!(cause["run"], seed.failed_real, "{cause}");
    assert!(
        cause["text"]
            .as_str()
            .unwrap()
            .contains("low_contrast at step 5 (submit button is visible)"),
        "{cause}"
    );
    let blame = &cause["blame"][0];
    assert_eq!(
        (&blame[0], &blame[1]),
        (&"app_dns".into(), &"failure".into()),
        "{cause}"
    );
    assert!(
        blame[2]
            .as_str()
            .unwrap()
            .starts_with("The check it stands on app_dns failed with it: dns_timeout — nameserver"),
        "{cause}"
    );
    assert_eq!(cause["passed"], "Passed with it: login_route", "{cause}");
    // Below its band, a failure explains it; a funnel too good is not explained by one.
    let causes = b
        .js("return [...document.querySelectorAll('.tile .cause')].map(c => c.closest('.tile').dataset.bpm)")
        .await;
    assert_eq!(causes, serde_json::json!(["login", "password_reset"]));
}

async fn check_what_changed(b: &Browser, seed: &Seed, deploy_id: i64, deploy_at: SystemTime) {
    let changed = b
        .js(r#"const c = document.querySelector('#bpm-login .changed');
            return c && { window: c.dataset.window, left: c.querySelector('.left').textContent,
              events: [...c.querySelectorAll('li')].map(li => [+li.dataset.eventId, li.dataset.kind, li.textContent]) }"#)
        .await;
    assert_eq!(changed["window"], "5m", "{changed}");
    let left_at = seed.now - minutes(29.5);
    let left = changed["left"].as_str().unwrap();
    assert!(
        left.starts_with(&format!(
            "Below its band over 5m since {}",
            utc_minute(left_at)
        )),
        "the outage's first failure: {left}"
    );
    let events = changed["events"].as_array().unwrap();
    // Newest first: the flag flipped during the outage, then the deploy 3.5 min before it.
    // The weekly release six hours ago is not listed.
    assert_eq!(events.len(), 2, "{changed}");
    assert_eq!(events[0][1], "flag");
    assert!(
        events[0][2]
            .as_str()
            .unwrap()
            .contains("during, 19 min after it left"),
        "{changed}"
    );
    assert_eq!(events[1][0], deploy_id);
    let text = events[1][2].as_str().unwrap();
    assert!(
        text.contains("deploy")
            && text.contains("web")
            && text.contains("v1.2.3")
            && text.contains("new login form")
            && text.contains(&utc_minute(deploy_at))
            && text.contains("3 min before it left"),
        "{text}"
    );
    // The funnel too good: out of band, and its own "what changed".
    let funnel = b
        .js("return document.querySelector('#bpm-checkout_funnel .changed .left').textContent")
        .await;
    assert!(
        funnel
            .as_str()
            .unwrap()
            .starts_with("Above its band over 1h since"),
        "{funnel}"
    );
    let quiet = b
        .js("return [...document.querySelectorAll('#bpm-search .changed, #bpm-signup .changed')].length")
        .await;
    assert_eq!(quiet, 0, "in band or without data: nothing to explain");
}

async fn check_markers(b: &Browser, deploy_id: i64, deploy_at: f64) {
    let m = b
        .js(&format!(
            r#"const data = JSON.parse(document.getElementById('board-data').textContent);
            const m = document.querySelector('[data-chart="login"] .marker[data-event-id="{deploy_id}"]');
            return m && {{ kind: m.dataset.kind, x: m.offsetLeft, width: m.parentElement.clientWidth,
                from: data.from, now: data.now, title: m.querySelector('.flag').title,
                markers: document.querySelectorAll('[data-chart="login"] .marker').length }}"#
        ))
        .await;
    assert_eq!(m["kind"], "deploy", "a marker for the posted deploy: {m}");
    assert_eq!(m["markers"], 4, "every change of the last 24 h: {m}");
    assert!(
        m["title"].as_str().unwrap().contains("deploy web v1.2.3"),
        "{m}"
    );
    let (from, now) = (m["from"].as_f64().unwrap(), m["now"].as_f64().unwrap());
    let expected = (deploy_at - from) / (now - from) * m["width"].as_f64().unwrap();
    let x = m["x"].as_f64().unwrap();
    assert!(
        (x - expected).abs() <= 2.0,
        "marker at {x}px, expected {expected}px: {m}"
    );
}

async fn check_probes(b: &Browser, seed: &Seed) {
    let rows = b
        .js(r#"return Object.fromEntries([...document.querySelectorAll('.probe-table tbody tr')].map(r =>
            [r.dataset.probe, { last: r.querySelector('.last').textContent,
              failure: r.querySelector('.last-failure').textContent,
              failure_link: r.querySelector('.last-failure a')?.getAttribute('href'),
              success: r.querySelector('.last-success').textContent,
              next: r.querySelector('.next').textContent,
              links: [...r.querySelectorAll('.links a')].map(a => a.href),
              text: r.querySelector('.links').textContent }]))"#)
        .await;
    let login = &rows["login"];
    let last = login["last"].as_str().unwrap();
    assert!(
        last.contains("error")
            && last.contains("webdriver_unreachable")
            && last.contains("not counted"),
        "serve's own run met no WebDriver: {login}"
    );
    assert!(
        login["failure"].as_str().unwrap().contains("low_contrast"),
        "{login}"
    );
    assert_eq!(login["failure_link"], format!("/runs/{}", seed.failed_real));
    assert!(
        login["success"].as_str().unwrap().contains("min ago"),
        "{login}"
    );
    assert!(
        login["next"].as_str().unwrap().starts_with("in "),
        "{login}"
    );
    assert_eq!(
        login["links"],
        serde_json::json!(["https://wiki.example.com/runbooks/login"])
    );
    assert!(
        login["text"].as_str().unwrap().contains("INC-1234"),
        "{login}"
    );
    let route = &rows["login_route"];
    assert!(
        route["last"].as_str().unwrap().contains("success"),
        "{route}"
    );
    assert_eq!(route["failure"], "none");
    assert_eq!(rows["signup"]["success"], "never");
    assert_eq!(rows.as_object().unwrap().len(), 7, "{rows}");
}

async fn save_screenshot(b: &Browser) {
    // The whole page: its height plus what the window keeps for itself.
    let height = b
        .js("return Math.ceil(document.documentElement.scrollHeight + window.outerHeight - window.innerHeight)")
        .await
        .as_u64()
        .unwrap();
    b.resize(1280, height.clamp(900, 4000) as u32).await;
    b.wait_js(
        "charts at the new size",
        "return [...document.querySelectorAll('.chart canvas')].length > 0",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let png = b.screenshot().await;
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/board.png");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, png).unwrap();
    b.resize(1280, 900).await;
}

/// A phone's width: nothing wider than the screen but the probe table, which scrolls in its
/// own box; the charts shrink to fit.
async fn check_phone(b: &Browser) {
    b.resize(390, 844).await;
    let facts = r#"const w = document.documentElement.clientWidth;
        const wide = [...document.querySelectorAll('main *')].filter(e => !e.closest('.table-wrap')
            && e.getBoundingClientRect().right > w + 1).map(e => e.className || e.tagName).slice(0, 5);
        return { width: w, page: document.documentElement.scrollWidth, wide,
            table_scrolls: document.querySelector('.table-wrap').scrollWidth > w }"#;
    let end = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let f = b.js(facts).await;
        let fits = f["width"].as_u64() <= Some(400)
            && f["page"] == f["width"]
            && f["wide"].as_array().is_some_and(|w| w.is_empty());
        if fits {
            assert_eq!(
                f["table_scrolls"], true,
                "the probe table scrolls in its box: {f}"
            );
            break;
        }
        assert!(
            std::time::Instant::now() < end,
            "the page does not fit a phone: {f}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    b.resize(1280, 900).await;
}

async fn check_run_pages(b: &Browser, base: &str, seed: &Seed) {
    b.goto(&format!("{base}/runs/{}", seed.failed_real)).await;
    let shot = b
        .wait_js(
            "the screenshot to load",
            "const i = document.querySelector('.shot img'); return i && i.complete && i.naturalWidth > 0 && [i.naturalWidth, i.naturalHeight, i.getAttribute('src')]",
        )
        .await;
    assert!(
        shot[0].as_u64().unwrap() >= 800,
        "a real screenshot: {shot}"
    );
    let page = b
        .js(r#"return {
            reason: document.querySelector('.problem .reason').textContent,
            phase: document.querySelector('.problem .phase').textContent,
            steps: [...document.querySelectorAll('.timeline .step')].map(s => s.dataset.status),
            prerequisites: [...document.querySelectorAll('.prerequisites tr[data-check]')].map(r => [r.dataset.check, r.dataset.outcome]),
            files: [...document.querySelectorAll('.files a')].map(a => a.textContent),
            links: [...document.querySelectorAll('.files a')].map(a => a.getAttribute('href')),
            attempt: document.querySelector('.attempt').textContent }"#)
        .await;
    assert_eq!(page["reason"], "low_contrast");
    assert_eq!(page["phase"], "step 5 (submit button is visible)");
    let mut steps = vec!["passed"; 4];
    steps.push("failed");
    steps.extend(["skipped"; 4]);
    assert_eq!(page["steps"], serde_json::json!(steps));
    assert_eq!(
        page["prerequisites"],
        serde_json::json!([["login_route", "success"], ["app_dns", "failure"]])
    );
    for f in [
        "screenshot.png",
        "page.html",
        "console.json",
        "timeline.json",
        "url.txt",
    ] {
        assert!(
            page["files"].as_array().unwrap().iter().any(|x| x == f),
            "{f}: {page}"
        );
    }
    assert_eq!(page["attempt"], "1 (the run's outcome)");
    // Each artifact link answers with its own content type; page HTML runs no script.
    let addr = base.trim_start_matches("http://");
    for link in page["links"].as_array().unwrap() {
        let link = link.as_str().unwrap();
        let (status, head, body) = fetch(addr, link);
        assert_eq!(status, 200, "{link}: {head}");
        let head = head.to_ascii_lowercase();
        let ctype = match link.rsplit('.').next().unwrap() {
            "png" => "image/png",
            "html" => "text/html; charset=utf-8",
            "json" => "application/json",
            _ => "text/plain; charset=utf-8",
        };
        assert!(
            head.contains(&format!("content-type: {ctype}")),
            "{link}: {head}"
        );
        assert!(
            head.contains("content-security-policy: sandbox"),
            "{link}: {head}"
        );
        match ctype {
            "image/png" => assert!(body.starts_with(b"\x89PNG"), "{link}"),
            _ => assert!(!body.is_empty(), "{link}"),
        }
    }

    // A retry's page links its first attempt, and says which attempt it is.
    b.goto(&format!("{base}/runs/{}", seed.retry_second)).await;
    let retry = b
        .js("return [document.querySelector('.attempt').textContent, document.querySelector('.first-attempt').getAttribute('href')]")
        .await;
    assert_eq!(
        retry,
        serde_json::json!([
            "2 of 2 (the run's outcome) · first attempt #1 failure #2".to_string(),
            format!("/runs/{}", seed.retry_first)
        ])
    );
}

/// A young instance: ten minutes of history. The chart of a BPM with runs starts a minute
/// before its first run (its line fills the chart), not a day ago with a dot at the right
/// edge; a BPM without countable runs still shows its empty day.
/// `JOURNEYPROBE_BOARD_SHOTS=DIR` saves what the browser saw there.
#[test]
fn a_young_instances_charts_zoom_to_their_data() {
    let _one = one_browser();
    let lab = Lab::start();
    let s = Scratch::new();
    let data = s.path().join("data");
    let (probe_dir, parsed) = probe_files(&s, &lab.base_url());
    let search = parsed["search"].journey.as_ref().unwrap();
    let history = History::open(&data).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let now = SystemTime::now();
    let first = now - minutes(10.0);
    rt.block_on(async {
        for ago in [10.0, 8.0, 6.0, 4.0, 2.0, 0.5] {
            let r = journey_run(search, now, minutes(ago), Seeded::Success);
            store(&history, &r, 1, true, None).await;
        }
    });
    let webdriver = format!("http://127.0.0.1:{}", closed_port());
    let serve = Served::start(
        &s,
        &lab.base_url(),
        &data,
        &[&probe_dir, "--webdriver", &webdriver],
    );
    rt.block_on(async {
        let browser = Browser::start().await;
        browser.resize(1366, 768).await;
        browser.goto(&format!("http://{}/", serve.addr)).await;
        let charts = browser
            .wait_js(
                "every chart drawn",
                r#"const c = [...document.querySelectorAll('.chart')];
                return c.every(e => e.dataset.drawn === 'true') && {
                  from: JSON.parse(document.getElementById('board-data').textContent).from,
                  search: +document.querySelector('[data-chart="search"]').dataset.from,
                  signup: +document.querySelector('[data-chart="signup"]').dataset.from,
                  caption: document.querySelector('#bpm-search figcaption').textContent }"#,
            )
            .await;
        let start = charts["search"]
            .as_f64()
            .unwrap_or_else(|| panic!("the search chart's start: {charts}"));
        let expected = unix(first) - 60.0;
        assert!(
            (start - expected).abs() < 2.0,
            "the chart starts a minute before the first run ({expected}): {charts}"
        );
        assert_eq!(
            charts["signup"], charts["from"],
            "no runs: the whole day: {charts}"
        );
        assert!(
            charts["caption"]
                .as_str()
                .unwrap()
                .contains("since shortly before its first run, 11 min ago"),
            "{charts}"
        );
        if let Some(dir) = std::env::var_os("JOURNEYPROBE_BOARD_SHOTS") {
            std::fs::write(
                Path::new(&dir).join("young.png"),
                browser.screenshot().await,
            )
            .unwrap();
        }
        browser.stop().await;
    });
    drop(rt);
    drop(serve);
    s.assert_no_leftovers();
}

#[test]
fn artifacts_are_served_only_from_the_artifacts_folder() {
    let lab = Lab::start();
    let s = Scratch::new();
    let data = s.path().join("data");
    let (probe_dir, parsed) = probe_files(&s, &lab.base_url());
    let login = parsed["login"].journey.as_ref().unwrap();
    let run_dir = data.join("artifacts/login/2026-11-25T061751.296Z");
    std::fs::create_dir_all(&run_dir).unwrap();
    std::fs::write(
        run_dir.join("page.html"),
        "<p>captured</p><script>parent.x=1</script>",
    )
    .unwrap();
    std::fs::write(data.join("secret.txt"), "not an artifact").unwrap();
    std::os::unix::fs::symlink(data.join("secret.txt"), run_dir.join("link.txt")).unwrap();

    // One run lists its page and a symlink out of the folder; a forged one lists a file
    // outside the artifacts folder.
    let history = History::open(&data).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (run, forged) = rt.block_on(async {
        let mut r = journey_run(
            login,
            SystemTime::now(),
            minutes(1.0),
            Seeded::Failure(5, Reason::LowContrast),
        );
        r.artifacts = vec![run_dir.join("page.html"), run_dir.join("link.txt")];
        let run = store(&history, &r, 1, true, None).await;
        r.artifacts = vec![data.join("secret.txt"), data.join("history.sqlite3")];
        (run, store(&history, &r, 1, true, None).await)
    });
    drop(rt);
    let webdriver = format!("http://127.0.0.1:{}", closed_port());
    let serve = Served::start(
        &s,
        &lab.base_url(),
        &data,
        &[&probe_dir, "--webdriver", &webdriver],
    );

    let (status, head, body) = serve.get(&format!("/runs/{run}/artifacts/page.html"), None);
    assert_eq!(status, 200, "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-security-policy: sandbox"),
        "{head}"
    );
    assert!(body.contains("captured"));
    for refused in [
        format!("/runs/{run}/artifacts/link.txt"),
        format!("/runs/{run}/artifacts/..%2F..%2F..%2Fsecret.txt"),
        format!("/runs/{run}/artifacts/..%2F..%2F..%2Fhistory.sqlite3"),
        format!("/runs/{run}/artifacts/%2Fetc%2Fpasswd"),
        format!("/runs/{run}/artifacts/../../../secret.txt"),
        format!("/runs/{forged}/artifacts/secret.txt"),
        format!("/runs/{forged}/artifacts/history.sqlite3"),
        "/runs/999999/artifacts/page.html".to_string(),
    ] {
        let (status, _, body) = serve.get(&refused, None);
        assert_eq!(status, 404, "{refused}: {body}");
        assert!(
            !body.contains("not an artifact") && !body.contains("SQLite"),
            "{refused}"
        );
    }
    // The board's own files come from the binary, with their types.
    let (status, head, _) = serve.get("/assets/uPlot.iife.min.js", None);
    assert_eq!(status, 200);
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: text/javascript"),
        "{head}"
    );
    assert_eq!(serve.get("/assets/../Cargo.toml", None).0, 404);
    drop(serve);
    s.assert_no_leftovers();
}
