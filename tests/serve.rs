//! `journeyprobe serve` against the fault lab, with real Chromium and chromedriver: BPMs
//! that react to faults and ignore prober errors, /metrics that promtool accepts, graceful
//! SIGTERM, SIGHUP reloads, and overload that is skipped rather than queued.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use common::serve::Served;
use common::{Lab, Scratch, children_named};
use journeyprobe::faultlab::Faults;

/// The browser tests share two cores; one at a time keeps their schedules honest.
static BROWSER: Mutex<()> = Mutex::new(());

fn browser_lock() -> std::sync::MutexGuard<'static, ()> {
    BROWSER.lock().unwrap_or_else(|p| p.into_inner())
}

const LOGIN: &str = r##"name: login
every: 4s
timeout: 3500ms
vars: { base: "${env:BASE_URL}" }
secrets: { password: "${env:LOGIN_PASSWORD}" }
steps:
  - goto: ${base}/login
  - fill: { selector: "#username", value: "probe@example.com" }
  - fill: { selector: "#password", value: "${password}" }
  - click: "button[type=submit]"
  - name: signed in
    assert_text: { selector: "#welcome", contains: "Welcome" }
"##;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn success(m: &common::serve::Metrics, probe: &str) -> f64 {
    m.count(
        "journeyprobe_runs_total",
        &[("probe", probe), ("outcome", "success")],
    )
}
fn failure(m: &common::serve::Metrics, probe: &str) -> f64 {
    m.count(
        "journeyprobe_runs_total",
        &[("probe", probe), ("outcome", "failure")],
    )
}
fn error(m: &common::serve::Metrics, probe: &str) -> f64 {
    m.count(
        "journeyprobe_runs_total",
        &[("probe", probe), ("outcome", "error")],
    )
}
fn ratio(m: &common::serve::Metrics, bpm: &str) -> Option<f64> {
    m.get("journeyprobe_bpm_ratio", &[("bpm", bpm), ("window", "5m")])
}
fn state(m: &common::serve::Metrics, bpm: &str, s: &str) -> f64 {
    m.count(
        "journeyprobe_bpm_state",
        &[("bpm", bpm), ("window", "5m"), ("state", s)],
    )
}

fn promtool_check_metrics(text: &str) {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool (Debian package prometheus) is installed: run scripts/ensure-deps");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn bpm_follows_faults_and_ignores_prober_errors() {
    let _one = browser_lock();
    let lab = Lab::start();
    let s = Scratch::new();
    let probes = s.path().join("probes");
    write(&probes, "login.yaml", LOGIN);
    let data = s.path().join("data");
    let serve = Served::start(
        &s,
        &lab.base_url(),
        &data,
        &[probes.to_str().unwrap(), "--log-format", "json"],
    );
    let (status, _, body) = serve.get("/healthz", None);
    assert_eq!((status, body.as_str()), (200, "ok\n"));

    // Healthy: the journey's own BPM is 1 and in band.
    let m = serve.wait_for("two successful runs", Duration::from_secs(30), |m| {
        success(m, "login") >= 2.0 && ratio(m, "login").is_some()
    });
    assert_eq!(ratio(&m, "login"), Some(1.0), "{}", m.journeyprobe_only());
    assert_eq!(state(&m, "login", "in_band"), 1.0);
    // The second run got the first one's browser, warm.
    assert!(
        m.count("journeyprobe_pool_checkouts_total", &[("session", "warm")]) >= 1.0,
        "{}",
        m.journeyprobe_only()
    );
    assert_eq!(
        m.get("journeyprobe_bpm_expected_min", &[("bpm", "login")]),
        Some(0.95)
    );
    assert_eq!(serve.get("/readyz", None).0, 200);
    promtool_check_metrics(&m.0);
    let (_, head, om) = serve.get(
        "/metrics",
        Some("application/openmetrics-text; version=1.0.0"),
    );
    assert!(
        head.to_lowercase()
            .contains("content-type: application/openmetrics-text"),
        "{head}"
    );
    assert!(om.contains("# TYPE journeyprobe_runs counter\n") && om.ends_with("# EOF\n"));

    // A fault: failures rise and the BPM drops below its band.
    lab.set(Faults {
        login_500: true,
        ..Default::default()
    });
    let m = serve.wait_for(
        "two failed runs, the BPM below its band",
        Duration::from_secs(30),
        |m| failure(m, "login") >= 2.0 && state(m, "login", "below") == 1.0,
    );
    assert!(
        m.count(
            "journeyprobe_runs_total",
            &[
                ("probe", "login"),
                ("outcome", "failure"),
                ("reason", "http_error_page")
            ]
        ) >= 2.0,
        "{}",
        m.journeyprobe_only()
    );
    assert!(ratio(&m, "login").unwrap() < 0.95);

    // The prober breaks: chromedriver is killed in the middle of a run. That run is an
    // error; the next run gets a new chromedriver; the BPM counts neither errors.
    // It hits a run on a warm session from the pool (the acceptance of the pool: that
    // run is an error, the next one succeeds on a new session).
    lab.set(Faults::default());
    serve.wait_for(
        "a warm session and no run in flight",
        Duration::from_secs(30),
        |m| {
            m.get("journeyprobe_pool_sessions", &[("state", "warm")]) == Some(1.0)
                && m.count("journeyprobe_webdriver_sessions_in_use", &[]) == 0.0
        },
    );
    serve.wait_for("a run in flight", Duration::from_secs(30), |m| {
        m.count("journeyprobe_webdriver_sessions_in_use", &[]) >= 1.0
    });
    let drivers = children_named(serve.child.id(), "chromedriver");
    assert_eq!(drivers.len(), 1, "one managed chromedriver");
    unsafe { libc::kill(drivers[0], libc::SIGKILL) };
    let ok_before = success(&serve.metrics(), "login");
    // Errors are left out of the BPM: its ratio is successes over successes and failures.
    let counted = |m: &common::serve::Metrics| {
        let (ok, bad) = (success(m, "login"), failure(m, "login"));
        ratio(m, "login") == Some(ok / (ok + bad))
    };
    let m = serve.wait_for(
        "an error, then a success on a new chromedriver",
        Duration::from_secs(40),
        |m| error(m, "login") >= 1.0 && success(m, "login") > ok_before && counted(m),
    );
    let (ok, bad) = (success(&m, "login"), failure(&m, "login"));
    assert!(
        m.count(
            "journeyprobe_runs_total",
            &[("probe", "login"), ("outcome", "failure")]
        ) == bad
            && m.count(
                "journeyprobe_first_attempts_total",
                &[("probe", "login"), ("outcome", "error")]
            ) >= 1.0,
        "{}",
        m.journeyprobe_only()
    );
    assert_eq!(
        m.get(
            "journeyprobe_bpm_countable_runs",
            &[("bpm", "login"), ("window", "5m")]
        ),
        Some(ok + bad)
    );
    let new_drivers = children_named(serve.child.id(), "chromedriver");
    assert!(
        new_drivers.len() == 1 && new_drivers[0] != drivers[0],
        "a new chromedriver: {new_drivers:?}"
    );
    // The browser that saw the error was not kept; nor were those that saw failures.
    let recycled = |m: &common::serve::Metrics, reason: &str| {
        m.count("journeyprobe_pool_recycled_total", &[("reason", reason)])
    };
    assert!(
        recycled(&m, "error") >= 1.0 && recycled(&m, "failure") >= 1.0,
        "{}",
        m.journeyprobe_only()
    );

    // chromedriver dies while its session waits warm in the pool: the pool notices before
    // handing it out, and the next run succeeds on a new session (no error).
    let m = serve.wait_for(
        "a warm session and no run in flight",
        Duration::from_secs(30),
        |m| {
            m.get("journeyprobe_pool_sessions", &[("state", "warm")]) == Some(1.0)
                && m.count("journeyprobe_webdriver_sessions_in_use", &[]) == 0.0
        },
    );
    let (errors, ok, dead) = (
        error(&m, "login"),
        success(&m, "login"),
        recycled(&m, "dead"),
    );
    unsafe { libc::kill(new_drivers[0], libc::SIGKILL) };
    let m = serve.wait_for(
        "a success after the idle session's chromedriver died",
        Duration::from_secs(30),
        |m| success(m, "login") > ok,
    );
    assert_eq!(error(&m, "login"), errors, "{}", m.journeyprobe_only());
    assert!(recycled(&m, "dead") > dead, "{}", m.journeyprobe_only());
    let metrics_text = serve.metrics().0;
    let log = serve.log_text();
    drop(serve);
    s.assert_no_leftovers();

    // Logs are JSON lines, a line per run at its outcome's level.
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let runs = |outcome: &str, level: &str| {
        lines
            .iter()
            .filter(|l| l["outcome"] == outcome && l["level"] == level && l["probe"] == "login")
            .count()
    };
    assert!(
        runs("success", "INFO") >= 3 && runs("failure", "WARN") >= 2 && runs("error", "ERROR") >= 1,
        "{log}"
    );
    // The password is nowhere: not in the logs, the metrics, history or the artifacts.
    assert!(!log.contains(common::PASSWORD) && !metrics_text.contains(common::PASSWORD));
    let mut files = Vec::new();
    common::walk(&data, &mut files);
    assert!(
        files.iter().any(|f| f.ends_with("history.sqlite3")),
        "{files:?}"
    );
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        let found = bytes
            .windows(common::PASSWORD.len())
            .any(|w| w == common::PASSWORD.as_bytes());
        assert!(!found, "the password is in {}", f.display());
    }
}

/// A journey that stays in flight: it waits for an element that never comes.
const WAITS: &str = r##"name: waits
every: 30s
timeout: 20s
step_timeout: 8s
vars: { base: "${env:BASE_URL}" }
steps:
  - goto: ${base}/login
  - wait_for: { selector: "#never" }
"##;

const QUICK: &str = r##"checks:
  - name: login_route
    every: 1s
    http: { url: "${env:BASE_URL}/login" }
"##;

fn history_rows(data: &Path) -> Vec<journeyprobe::history::StoredRun> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let h = journeyprobe::history::History::open(data).unwrap();
        h.recent(None, 10_000).await.unwrap()
    })
}

#[test]
fn sigterm_lets_runs_finish_or_cancels_them_after_the_grace_and_history_survives() {
    let _one = browser_lock();
    let lab = Lab::start();
    let s = Scratch::new();
    let probes = s.path().join("probes");
    write(&probes, "waits.yaml", WAITS);
    write(&probes, "quick.yaml", QUICK);
    let data = s.path().join("data");

    // The journey is mid-wait when SIGTERM comes; a 2s grace is too short for it.
    let mut serve = Served::start(
        &s,
        &lab.base_url(),
        &data,
        &[probes.to_str().unwrap(), "--shutdown-grace", "2s"],
    );
    let m = serve.wait_for("the journey in flight", Duration::from_secs(60), |m| {
        m.count("journeyprobe_webdriver_sessions_in_use", &[]) >= 1.0
            && success(m, "login_route") >= 2.0
    });
    let checks_seen = success(&m, "login_route");
    serve.signal(libc::SIGTERM);
    let status = serve.wait_exit(Duration::from_secs(20));
    assert_eq!(status.code(), Some(0), "{}", serve.log_text());
    drop(serve);
    s.assert_no_leftovers();

    let rows = history_rows(&data);
    let waits: Vec<_> = rows.iter().filter(|r| r.probe == "waits").collect();
    assert_eq!(waits.len(), 1, "the cancelled run is recorded");
    assert_eq!(waits[0].outcome, "error");
    assert_eq!(waits[0].reason.as_deref(), Some("cancelled"));
    let checks_stored = rows.iter().filter(|r| r.probe == "login_route").count() as f64;
    assert!(
        checks_stored >= checks_seen,
        "every completed run is in history"
    );
    assert!(
        rows.iter()
            .all(|r| !r.definition_hash.is_empty() && r.is_final)
    );

    // Restarted on the same folder, the history is there before any new run.
    let serve = Served::start(
        &s,
        &lab.base_url(),
        &data,
        &[probes.to_str().unwrap(), "--shutdown-grace", "1s"],
    );
    let m = serve.metrics();
    assert!(
        m.count(
            "journeyprobe_bpm_countable_runs",
            &[("bpm", "waits"), ("window", "5m")]
        ) == 0.0
            && m.get(
                "journeyprobe_last_success_timestamp_seconds",
                &[("probe", "login_route")]
            )
            .is_some(),
        "{}",
        m.journeyprobe_only()
    );
    assert!(history_rows(&data).len() >= rows.len());

    // With a long enough grace, the run in flight finishes on its own: the journey fails
    // its wait (a target failure), it is not cancelled.
    drop(serve);
    let mut serve = Served::start(
        &s,
        &lab.base_url(),
        &data,
        &[probes.to_str().unwrap(), "--shutdown-grace", "30s"],
    );
    serve.wait_for("the journey in flight", Duration::from_secs(60), |m| {
        m.count("journeyprobe_webdriver_sessions_in_use", &[]) >= 1.0
    });
    serve.signal(libc::SIGTERM);
    assert_eq!(serve.wait_exit(Duration::from_secs(40)).code(), Some(0));
    drop(serve);
    s.assert_no_leftovers();
    let last = history_rows(&data)
        .into_iter()
        .find(|r| r.probe == "waits")
        .unwrap();
    assert_eq!(
        last.outcome, "failure",
        "a target failure, not a cancelled run: {last:?}"
    );
    assert_ne!(last.reason.as_deref(), Some("cancelled"));
}

#[test]
fn sighup_with_a_broken_file_keeps_the_old_configuration_running() {
    let lab = Lab::start();
    let s = Scratch::new();
    let probes = s.path().join("probes");
    let file = write(&probes, "quick.yaml", QUICK);
    let serve = Served::start(
        &s,
        &lab.base_url(),
        &s.path().join("data"),
        &[probes.to_str().unwrap()],
    );
    serve.wait_for("check runs", Duration::from_secs(10), |m| {
        success(m, "login_route") >= 2.0
    });
    assert_eq!(
        serve
            .metrics()
            .get("journeyprobe_config_last_reload_successful", &[]),
        Some(1.0)
    );

    std::fs::write(
        &file,
        "checks:\n  - name: login_route\n    every: 1s\n    htp: {}\n",
    )
    .unwrap();
    serve.signal(libc::SIGHUP);
    let m = serve.wait_for("the reload to be refused", Duration::from_secs(10), |m| {
        m.get("journeyprobe_config_last_reload_successful", &[]) == Some(0.0)
    });
    assert_eq!(
        m.count(
            "journeyprobe_config_reloads_total",
            &[("result", "failure")]
        ),
        1.0
    );
    assert!(
        serve
            .log_text()
            .contains("quick.yaml:4:5: checks[1].htp: unknown key 'htp'"),
        "{}",
        serve.log_text()
    );
    let before = success(&m, "login_route");
    serve.wait_for(
        "the old check to keep running",
        Duration::from_secs(10),
        |m| success(m, "login_route") >= before + 2.0,
    );

    // Fixed, with a second check: both run.
    let fixed = format!(
        "{QUICK}  - name: healthz\n    every: 1s\n    http: {{ url: \"${{env:BASE_URL}}/healthz\" }}\n"
    );
    std::fs::write(&file, fixed).unwrap();
    serve.signal(libc::SIGHUP);
    let m = serve.wait_for("the new check", Duration::from_secs(10), |m| {
        success(m, "healthz") >= 1.0
    });
    assert_eq!(
        m.get("journeyprobe_config_last_reload_successful", &[]),
        Some(1.0)
    );
    assert_eq!(
        m.count(
            "journeyprobe_config_reloads_total",
            &[("result", "success")]
        ),
        1.0
    );
}

/// `n` journeys every 8s on one browser slot. A healthy run takes about a second, so five
/// fit; with every response slowed by 3s each runs into its 2.5s timeout, and five take
/// over 11s of every 8s.
fn overloaded(n: usize) -> Vec<(String, String)> {
    (0..n)
        .map(|i| {
            let name = format!("j{i}");
            let text = format!(
                "name: {name}\nevery: 8s\ntimeout: 2500ms\nvars: {{ base: \"${{env:BASE_URL}}\" }}\n\
                 steps:\n  - goto: ${{base}}/login\n  - assert_title: Sign in\n"
            );
            (name, text)
        })
        .collect()
}

#[test]
fn overload_is_skipped_not_queued_and_runs_are_back_on_schedule_after_it() {
    let _one = browser_lock();
    let lab = Lab::start();
    let s = Scratch::new();
    let probes = s.path().join("probes");
    let journeys = overloaded(5);
    for (name, text) in &journeys {
        write(&probes, &format!("{name}.yaml"), text);
    }
    lab.set(Faults {
        slow_ms: 3000,
        ..Default::default()
    });
    let serve = Served::start(
        &s,
        &lab.base_url(),
        &s.path().join("data"),
        &[probes.to_str().unwrap(), "--browser-slots", "1"],
    );
    let skipped = |m: &common::serve::Metrics| {
        m.count("journeyprobe_runs_skipped_total", &[("reason", "no_slot")])
    };
    let rss = |m: &common::serve::Metrics| m.get("process_resident_memory_bytes", &[]).unwrap();
    let early = serve.wait_for("skipped runs", Duration::from_secs(40), |m| {
        skipped(m) >= 2.0
    });
    // Keep the overload going; the prober's own memory stays flat (browsers excluded).
    let late = serve.wait_for("more skipped runs", Duration::from_secs(40), |m| {
        skipped(m) >= skipped(&early) + 2.0
    });
    let growth = rss(&late) - rss(&early);
    assert!(
        growth < 16.0 * 1024.0 * 1024.0,
        "RSS grew by {growth} bytes under overload"
    );
    assert_eq!(late.count("journeyprobe_browser_slots", &[]), 1.0);

    // The overload ends. After one interval to settle, each journey runs once per interval
    // again: no backlog is replayed (a replay would run a journey many times over), and the
    // skipping stops (one late start is tolerated: on a loaded machine the five journeys'
    // starts may bunch up behind the one slot).
    lab.set(Faults::default());
    std::thread::sleep(Duration::from_secs(9));
    let settled = serve.metrics();
    std::thread::sleep(Duration::from_secs(16));
    let after = serve.metrics();
    assert!(
        skipped(&after) - skipped(&settled) <= 1.0,
        "{}",
        serve.log_text()
    );
    for (name, _) in &journeys {
        let ran = after.count("journeyprobe_runs_total", &[("probe", name)])
            - settled.count("journeyprobe_runs_total", &[("probe", name)]);
        assert!(
            (1.0..=3.0).contains(&ran),
            "{name} ran {ran} times in 16s at every 8s"
        );
    }
    drop(serve);
    s.assert_no_leftovers();
}

#[test]
fn a_retry_that_passes_still_shows_the_first_attempts_failure() {
    let lab = Lab::start();
    let s = Scratch::new();
    let probes = s.path().join("probes");
    write(
        &probes,
        "flaky.yaml",
        "checks:\n  - name: flaky_route\n    every: 1s\n    timeout: 400ms\n    retries: 1\n    \
         http: { url: \"${env:BASE_URL}/flaky\" }\n",
    );
    let data = s.path().join("data");
    let serve = Served::start(&s, &lab.base_url(), &data, &[probes.to_str().unwrap()]);
    let m = serve.wait_for("three flaky runs", Duration::from_secs(15), |m| {
        m.count("journeyprobe_runs_flaky_total", &[("probe", "flaky_route")]) >= 3.0
    });
    // /flaky alternates 500 and 200, so every run fails first and passes on its retry.
    let first_failed = m.count(
        "journeyprobe_first_attempts_total",
        &[
            ("probe", "flaky_route"),
            ("outcome", "failure"),
            ("reason", "status_mismatch"),
        ],
    );
    assert!(first_failed >= 3.0, "{}", m.journeyprobe_only());
    assert_eq!(
        failure(&m, "flaky_route"),
        0.0,
        "eventual outcomes: all passed"
    );
    assert!(success(&m, "flaky_route") >= 3.0);
    drop(serve);
    let rows = history_rows(&data);
    let first = rows
        .iter()
        .find(|r| r.attempt == 1 && r.outcome == "failure")
        .expect("a failed first attempt");
    assert!(!first.is_final, "{first:?}");
    let retry = rows
        .iter()
        .find(|r| r.first_id == Some(first.id))
        .expect("its retry");
    assert_eq!(retry.attempt, 2);
    assert!(retry.is_final && retry.outcome == "success", "{retry:?}");
}

#[test]
fn readyz_says_why_when_the_webdriver_is_not_there() {
    let lab = Lab::start();
    let s = Scratch::new();
    let probes = s.path().join("probes");
    write(&probes, "login.yaml", LOGIN);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let webdriver = format!("http://127.0.0.1:{port}");
    let serve = Served::start(
        &s,
        &lab.base_url(),
        &s.path().join("data"),
        &[probes.to_str().unwrap(), "--webdriver", &webdriver],
    );
    let (status, _, body) = serve.get("/readyz", None);
    assert_eq!(status, 503, "{body}");
    assert!(
        body.contains(&format!("cannot reach WebDriver at {webdriver}")),
        "{body}"
    );
    assert_eq!(serve.get("/healthz", None).0, 200, "alive all the same");
    // Runs against the missing WebDriver are the prober's errors, never failures.
    let m = serve.wait_for("an error run", Duration::from_secs(15), |m| {
        error(m, "login") >= 1.0
    });
    assert_eq!(failure(&m, "login"), 0.0);
    assert_eq!(ratio(&m, "login"), None, "no countable run, no ratio");
    assert_eq!(state(&m, "login", "no_data"), 1.0);
}
