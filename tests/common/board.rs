//! Helpers of the board's acceptance tests: a headless Chromium driven through journeyprobe's
//! own WebDriver layer (a [`ManagedDriver`] and a [`Session`], as the journey runner opens
//! them), and builders of the runs a test seeds into a history.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use journeyprobe::browser::Session;
use journeyprobe::browser::driver::{
    ManagedDriver, find_chromedriver, find_chromium, processes_mentioning,
};
use journeyprobe::browser::{BrowserKind, BrowserOptions};
use journeyprobe::config::Journey;
use journeyprobe::config::file::{ParsedFile, parse_file};
use journeyprobe::history::events::{EventKind, NewEvent};
use journeyprobe::history::{Attempt, History};
use journeyprobe::outcome::{Problem, Reason};
use journeyprobe::result::{Phase, RunResult};
use journeyprobe::time::unix;
use serde_json::Value;
use tokio::time::Instant;

use super::{PASSWORD, Scratch};

/// Longest any one browser command may take.
const COMMAND: Duration = Duration::from_secs(20);

pub struct Browser {
    driver: Arc<ManagedDriver>,
    session: Session,
}

impl Browser {
    pub async fn start() -> Browser {
        let binary = find_chromedriver().expect("chromedriver (scripts/ensure-deps)");
        let driver = ManagedDriver::start(&binary)
            .await
            .unwrap_or_else(|p| panic!("chromedriver starts: {}", p.message));
        let opts = BrowserOptions {
            binary: find_chromium(),
            profile_dir: Some(driver.new_profile_dir().expect("profile folder")),
            headed: false,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        let limit = Instant::now() + Duration::from_secs(600);
        let session = Session::start(
            driver.url(),
            BrowserKind::Chromium.engine().capabilities(&opts),
            deadline,
            limit,
        )
        .await
        .unwrap_or_else(|p| panic!("a browser session opens: {}", p.message));
        Browser {
            driver: Arc::new(driver),
            session,
        }
    }

    /// The chromedriver, for running journeys with the library's runner.
    pub fn driver(&self) -> &Arc<ManagedDriver> {
        &self.driver
    }

    pub async fn goto(&self, url: &str) {
        let deadline = Instant::now() + COMMAND;
        self.session
            .call_navigating(deadline, "goto", self.session.client().goto(url))
            .await
            .unwrap_or_else(|c| panic!("open {url}: {}", c.problem.message));
    }

    /// Run `script` (a function body: `return …`) in the page.
    pub async fn js(&self, script: &str) -> Value {
        let deadline = Instant::now() + COMMAND;
        self.session
            .call(
                deadline,
                "script",
                self.session.client().execute(script, vec![]),
            )
            .await
            .unwrap_or_else(|c| panic!("script failed: {}\n{script}", c.problem.message))
    }

    /// Run `script` until it returns something truthy (10 s at most).
    pub async fn wait_js(&self, what: &str, script: &str) -> Value {
        let end = Instant::now() + Duration::from_secs(10);
        loop {
            let v = self.js(script).await;
            let truthy = !matches!(&v, Value::Null | Value::Bool(false)) && v != 0 && v != "";
            if truthy {
                return v;
            }
            assert!(Instant::now() < end, "timed out waiting for {what}: {v}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Commands go to the page's `index`-th frame from now on (its scripts, its origin).
    pub async fn enter_frame(&self, index: u16) {
        let deadline = Instant::now() + COMMAND;
        let c = self.session.client();
        self.session
            .call(deadline, "enter frame", c.enter_frame(index))
            .await
            .unwrap_or_else(|c| panic!("enter frame {index}: {}", c.problem.message));
    }

    pub async fn resize(&self, width: u32, height: u32) {
        let deadline = Instant::now() + COMMAND;
        let c = self.session.client();
        self.session
            .call(deadline, "resize", c.set_window_size(width, height))
            .await
            .unwrap_or_else(|c| panic!("resize: {}", c.problem.message));
    }

    pub async fn screenshot(&self) -> Vec<u8> {
        let deadline = Instant::now() + COMMAND;
        let c = self.session.client();
        self.session
            .call(deadline, "screenshot", c.screenshot())
            .await
            .unwrap_or_else(|c| panic!("screenshot: {}", c.problem.message))
    }

    /// Close the session, stop chromedriver, and insist that no browser of ours survived.
    pub async fn stop(self) {
        let pid = self.driver.pid();
        let closed = self.session.close(Instant::now() + COMMAND).await;
        Arc::into_inner(self.driver)
            .expect("no run holds the chromedriver any more")
            .stop()
            .await;
        closed.unwrap_or_else(|p| panic!("the session closes: {}", p.message));
        // Our browsers' profile folders are named after this process.
        let marker = std::env::temp_dir()
            .join(format!("journeyprobe-{}-", std::process::id()))
            .display()
            .to_string();
        let end = std::time::Instant::now() + Duration::from_secs(3);
        while !processes_mentioning(&marker).is_empty() {
            assert!(
                std::time::Instant::now() < end,
                "browsers left behind: {:?}",
                processes_mentioning(&marker)
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        if let Some(pid) = pid {
            assert!(
                !std::path::Path::new(&format!("/proc/{pid}")).exists(),
                "chromedriver {pid} left behind"
            );
        }
    }
}

/// What a seeded journey run ended in.
#[derive(Clone, Copy)]
pub enum Seeded {
    Success,
    /// Failed at this (1-based) step, for this reason.
    Failure(usize, Reason),
    /// The prober could not measure.
    Error(Reason),
}

/// A run of journey `j` that started `ago` before `now`.
pub fn journey_run(j: &Journey, now: SystemTime, ago: Duration, how: Seeded) -> RunResult {
    let mut r = RunResult::begin(j, now - ago);
    r.duration_ms = 1800.0;
    let problem = match how {
        Seeded::Success => None,
        Seeded::Failure(index, reason) => {
            let step = &j.steps[index - 1];
            let phase = Phase::Step {
                index,
                label: step.label(),
                action: step.action.kind(),
            };
            Some((Problem::new(reason, "seeded failure"), phase))
        }
        Seeded::Error(reason) => Some((Problem::new(reason, "seeded prober error"), Phase::Setup)),
    };
    r.conclude(problem);
    r
}

/// Store one attempt; returns its row id.
pub async fn store(
    h: &History,
    r: &RunResult,
    attempt: u32,
    is_final: bool,
    first_id: Option<i64>,
) -> i64 {
    h.insert(Attempt {
        result: r,
        attempt,
        is_final,
        first_id,
        definition_hash: "seeded",
        vars: None,
    })
    .await
    .expect("seeded run stored")
}

/// Minutes as a duration.
pub fn minutes(m: f64) -> Duration {
    Duration::from_secs_f64(m * 60.0)
}

/// Unix seconds → `2026-11-25 06:17 UTC`, as the board writes times.
pub fn utc_minute(t: SystemTime) -> String {
    let s = humantime::format_rfc3339_seconds(t).to_string();
    format!("{} {} UTC", &s[..10], &s[11..16])
}

/// `GET path` over plain HTTP/1.0 → (status, head, body bytes): for binary artifacts, which
/// [`super::serve::http_get`] (text only) cannot read.
pub fn fetch(addr: &str, path: &str) -> (u16, String, Vec<u8>) {
    use std::io::{Read, Write};
    let mut tcp = std::net::TcpStream::connect(addr).expect("connect to serve");
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(tcp, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut raw = Vec::new();
    tcp.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(raw.len());
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let body = raw.get(split + 4..).unwrap_or_default().to_vec();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head, body)
}

// The scenario of tests/board.rs: probe files and a seeded day of history.

/// The probe files `serve` loads. `every: 1h`: each probe runs once, within a minute of the
/// start (its grid offset), and not again during the test. Journeys meet an unreachable
/// WebDriver, so their runs are prober errors, which no BPM counts: the seeded ratios hold.
const LOGIN: &str = r##"name: login
description: A returning user signs in and reaches the dashboard.
every: 1h
timeout: 30s
step_timeout: 10s
incident: [INC-1234]
runbook: https://wiki.example.com/runbooks/login
depends_on: [login_route, app_dns]
vars:
  base: ${env:BASE_URL}
  user: probe@example.com
secrets:
  password: ${env:LOGIN_PASSWORD}
steps:
  - goto: ${base}/login
  - assert_title: Sign in
  - fill: { selector: "#username", value: "${user}" }
  - fill: { selector: "#password", value: "${password}" }
  - name: submit button is visible
    assert_visible: { selector: "button[type=submit]", min_contrast: 3.0 }
  - click: "button[type=submit]"
  - wait_for: { url_matches: "/dashboard$" }
  - assert_text: { selector: "#welcome", contains: "Welcome" }
  - assert_visible: { selector: "#logout", min_contrast: 3.0 }
checks:
  - name: login_route
    every: 1h
    http: { url: "${base}/login", status: [200] }
  - name: app_dns
    every: 1h
    timeout: 1s
    dns: { query: app.fault-lab.test, nameserver: "@APP_DNS@", expect: { answers_equal: [127.0.0.1] } }
"##;

const CHECKOUT: &str = r#"name: checkout
description: A signed-in user opens the basket and pays.
every: 1h
steps:
  - goto: ${env:BASE_URL}/dashboard
  - assert_title: Dashboard
bpms:
  - name: checkout_funnel
    description: Of the users who open the basket, the share that pays (normally 60–80%).
    probes: [checkout]
    windows: [1h, 24h]
    expected: { min: 0.6, max: 0.8 }
"#;

const SEARCH: &str = r#"name: search
description: A user searches the catalogue from the dashboard.
every: 1h
steps:
  - goto: ${env:BASE_URL}/dashboard
"#;

const PASSWORD_RESET: &str = r#"name: password_reset
description: A user who forgot the password asks for a reset link.
every: 1h
steps:
  - goto: ${env:BASE_URL}/login
"#;

const SIGNUP: &str = r#"name: signup
description: A visitor creates an account.
every: 1h
steps:
  - goto: ${env:BASE_URL}/signup
"#;

/// Write the probe files; return the folder and each file parsed as `serve` parses it. The
/// login file's DNS check asks a loopback port where nothing listens: it fails with
/// `dns_timeout`, in serve's run and as the real failed run's prerequisite.
pub fn probe_files(s: &Scratch, base_url: &str) -> (String, BTreeMap<&'static str, ParsedFile>) {
    let nameserver = format!("127.0.0.1:{}", closed_port());
    let dir = s.path().join("probes");
    std::fs::create_dir_all(&dir).unwrap();
    let env = BTreeMap::from([
        ("BASE_URL".to_string(), base_url.to_string()),
        ("LOGIN_PASSWORD".to_string(), PASSWORD.to_string()),
    ]);
    let mut parsed = BTreeMap::new();
    let login = LOGIN.replace("@APP_DNS@", &nameserver);
    for (name, text) in [
        ("login", login.as_str()),
        ("checkout", CHECKOUT),
        ("password_reset", PASSWORD_RESET),
        ("search", SEARCH),
        ("signup", SIGNUP),
    ] {
        let path = dir.join(format!("{name}.yaml"));
        std::fs::write(&path, text).unwrap();
        let (file, diags) = parse_file(&path, text, &env);
        parsed.insert(
            name,
            file.unwrap_or_else(|| panic!("{name}.yaml: {diags:?}")),
        );
    }
    (dir.display().to_string(), parsed)
}

pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Ids of the rows the assertions follow.
pub struct Seed {
    pub now: SystemTime,
    pub failed_real: i64,
    pub retry_first: i64,
    pub retry_second: i64,
}

/// 24 h of history for the four BPMs. Expected values, with the test's minute of slack:
///
/// - `login` (band ≥ 95%): successes every 5 min from 23.9 h to 37 min ago; an outage from
///   29.5 min ago, one run a minute, with one lucky success; in the last 5 minutes two
///   failures, an error (not counted), a failed attempt retried into a success (only the
///   retry counts) and the real failed run. 5m: 1/4 = 25%; 1h: 7/34 = 20.6%;
///   24h: 282/309 = 91.3%. It left its band 29.5 min ago, at the outage's first failure.
/// - `checkout_funnel` (60–80%): a run every 10 min, one in three failing, none in the last
///   95 min: 1h 6/6 = 100% (above); 24h 98/143 = 68.5%.
/// - `password_reset` (≥ 95%): recovered 2 minutes ago. A success every 5 min from 23.9 h to
///   12 min ago, failures every minute from 9.5 to 2.5 min ago, successes 1.5 and 0.5 min
///   ago: 5m 2/5 = 40%, 1h 12/20 = 60% (below), 24h 287/295 = 97.3%; the latest two pass,
///   so it is `recovering`.
/// - `search` (≥ 95%): a success every 5 min: 100% in band.
/// - `signup`: no run: no data.
pub async fn seed(
    h: &History,
    probes: &BTreeMap<&str, ParsedFile>,
    real: &journeyprobe::result::RunResult,
) -> Seed {
    let now = SystemTime::now();
    let login = probes["login"].journey.as_ref().unwrap();
    let low_contrast = Seeded::Failure(5, Reason::LowContrast);
    for k in 7..=286 {
        let r = journey_run(login, now, minutes(k as f64 * 5.0 + 2.0), Seeded::Success);
        store(h, &r, 1, true, None).await;
    }
    for m in 5..=29 {
        let how = if m == 15 {
            Seeded::Success
        } else {
            low_contrast
        };
        let r = journey_run(login, now, minutes(m as f64 + 0.5), how);
        store(h, &r, 1, true, None).await;
    }
    for ago in [3.5, 3.0] {
        store(
            h,
            &journey_run(login, now, minutes(ago), low_contrast),
            1,
            true,
            None,
        )
        .await;
    }
    let error = Seeded::Error(Reason::WebdriverUnreachable);
    store(
        h,
        &journey_run(login, now, minutes(2.5), error),
        1,
        true,
        None,
    )
    .await;
    let first = journey_run(login, now, minutes(2.0), low_contrast);
    let retry_first = store(h, &first, 1, false, None).await;
    let second = journey_run(login, now, minutes(1.9), Seeded::Success);
    let retry_second = store(h, &second, 2, true, Some(retry_first)).await;
    let failed_real = store(h, real, 1, true, None).await;

    let checkout = probes["checkout"].journey.as_ref().unwrap();
    for k in 0..=142 {
        let how = if k >= 9 && k % 3 == 0 {
            Seeded::Failure(2, Reason::AssertionFailed)
        } else {
            Seeded::Success
        };
        let r = journey_run(checkout, now, minutes(k as f64 * 10.0 + 5.0), how);
        store(h, &r, 1, true, None).await;
    }
    let reset = probes["password_reset"].journey.as_ref().unwrap();
    let broken = Seeded::Failure(1, Reason::HttpErrorPage);
    for k in 2..=286 {
        let r = journey_run(reset, now, minutes(k as f64 * 5.0 + 2.0), Seeded::Success);
        store(h, &r, 1, true, None).await;
    }
    for m in 2..=9 {
        let r = journey_run(reset, now, minutes(m as f64 + 0.5), broken);
        store(h, &r, 1, true, None).await;
    }
    for ago in [1.5, 0.5] {
        let r = journey_run(reset, now, minutes(ago), Seeded::Success);
        store(h, &r, 1, true, None).await;
    }
    let search = probes["search"].journey.as_ref().unwrap();
    for k in 0..=286 {
        let r = journey_run(search, now, minutes(k as f64 * 5.0 + 2.0), Seeded::Success);
        store(h, &r, 1, true, None).await;
    }

    // Older changes: one six hours ago (a marker, not in any "what changed"), a flag flipped
    // during the outage, and a config change before checkout's funnel went too good.
    let event =
        |kind, service: &str, version: Option<&str>, flag: Option<&str>, description: &str| {
            NewEvent {
                kind,
                service: service.into(),
                version: version.map(Into::into),
                flag: flag.map(Into::into),
                description: Some(description.into()),
                at: None,
            }
        };
    let at = |ago: Duration| unix(now - ago);
    h.insert_event(
        event(
            EventKind::Deploy,
            "web",
            Some("v1.2.2"),
            None,
            "weekly release",
        ),
        at(minutes(360.0)),
    )
    .await
    .unwrap();
    h.insert_event(
        event(
            EventKind::Config,
            "checkout",
            None,
            None,
            "address step made optional",
        ),
        at(minutes(100.0)),
    )
    .await
    .unwrap();
    h.insert_event(
        event(
            EventKind::Flag,
            "web",
            None,
            Some("new_login_form"),
            "turned off to mitigate",
        ),
        at(minutes(10.0)),
    )
    .await
    .unwrap();
    Seed {
        now,
        failed_real,
        retry_first,
        retry_second,
    }
}
