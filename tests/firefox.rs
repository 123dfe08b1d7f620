//! Acceptance: the example journeys in real Firefox (Debian's firefox-esr) through real
//! geckodriver, against the fault-lab site on loopback, from the same YAML files the
//! Chromium suite runs (`--browser firefox`, or `browser: firefox` in the file). Each fault
//! is caught with the same outcome, reason and step as in Chromium (tests/journeys.rs);
//! where a message must differ (the browser's own network error code), the test says why.
//! Every test also checks that no Firefox and no geckodriver outlived the run.

mod common;

use common::{Lab, PASSWORD, Scratch, json_results, show};
use journeyprobe::faultlab::Faults;

/// The example holds the checks it stands on beside its journey: `--only journeys` runs the
/// journey alone (its checks still run after it fails, as its prerequisites).
const LOGIN: &str = "journeys/login.yaml";

/// Processes whose environment mentions `needle` (a geckodriver is started with its own
/// `TMPDIR` inside the test's: its command line names no folder of ours).
fn processes_with_env(needle: &str) -> Vec<i32> {
    let me = std::process::id() as i32;
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| *pid != me)
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ"))
                .map(|e| String::from_utf8_lossy(&e).contains(needle))
                .unwrap_or(false)
        })
        .collect()
}

/// Run `cmd`, then insist that neither a browser nor a driver of it is left.
fn run(s: &Scratch, cmd: std::process::Command) -> std::process::Output {
    let out = s.run(cmd);
    let needle = format!("TMPDIR={}/journeyprobe-", s.tmp().display());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    loop {
        let left = processes_with_env(&needle);
        if left.is_empty() {
            return out;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "geckodriver left behind: {left:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// `journeyprobe run <args> --browser firefox --format json` against `base`, to completion,
/// with nothing of it left behind.
fn run_in_firefox(s: &Scratch, base: &str, args: &[&str]) -> std::process::Output {
    let mut all = vec!["run"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--browser", "firefox", "--format", "json"]);
    run(s, s.command(base, &all))
}

/// Run journeys/login.yaml in Firefox against the lab with `faults`.
fn login_with(faults: Faults) -> (i32, serde_json::Value, Scratch) {
    let lab = Lab::start();
    lab.set(faults);
    let s = Scratch::new();
    let arts = s.artifacts().display().to_string();
    let out = run_in_firefox(
        &s,
        &lab.base_url(),
        &[LOGIN, "--only", "journeys", "--artifacts", &arts],
    );
    let results = json_results(&out);
    assert_eq!(results.len(), 1, "{}", show(&out));
    assert_eq!(results[0]["browser"], "firefox", "{:#}", results[0]);
    (out.status.code().unwrap_or(-1), results[0].clone(), s)
}

fn assert_failed_at(code: i32, r: &serde_json::Value, step: u64, reason: &str) {
    assert_eq!(code, 1, "{r:#}");
    assert_eq!(r["outcome"], "failure", "{r:#}");
    assert_eq!(r["reason"], reason, "{r:#}");
    assert_eq!(r["phase"]["phase"], "step", "{r:#}");
    assert_eq!(r["phase"]["index"], step, "{r:#}");
}

#[test]
fn example_login_passes_in_firefox_against_the_healthy_site() {
    let (code, r, s) = login_with(Faults::default());
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(r["outcome"], "success", "{r:#}");
    // Not pooled (its reset is DevTools): every run is a new session, and says so.
    assert_eq!(r["session"], "new", "{r:#}");
    let steps = r["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 9, "{r:#}");
    assert!(steps.iter().all(|s| s["status"] == "passed"), "{r:#}");
    // Navigation Timing is read in Firefox too.
    assert!(steps[0]["page"]["ttfb_ms"].as_f64().is_some(), "{r:#}");
    assert!(
        s.artifact_files().is_empty(),
        "a passing run leaves no artifacts"
    );
}

#[test]
fn a_journey_file_can_ask_for_firefox_and_sit_beside_a_chromium_one() {
    let lab = Lab::start();
    let s = Scratch::new();
    let login = std::fs::read_to_string(LOGIN).unwrap();
    // The journey alone: its checks are named once, by LOGIN loaded beside it.
    let journey = login.split("\n# What sign-in stands on").next().unwrap();
    let ff = journey
        .replace("name: login\n", "name: login_firefox\nbrowser: firefox\n")
        .replace("${env:BASE_URL:-http://127.0.0.1:8080}", "${env:BASE_URL}");
    assert!(ff.contains("browser: firefox"));
    let file = s.path().join("login_firefox.yaml");
    std::fs::write(&file, ff).unwrap();
    let cmd = s.command(
        &lab.base_url(),
        &[
            "run",
            LOGIN,
            "--only",
            "journeys",
            file.to_str().unwrap(),
            "--format",
            "json",
            "--no-artifacts",
        ],
    );
    let out = run(&s, cmd);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let browsers: Vec<(String, String)> = json_results(&out)
        .iter()
        .map(|r| {
            (
                r["probe"].as_str().unwrap().to_string(),
                r["browser"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        browsers,
        [
            ("login".to_string(), "chromium".to_string()),
            ("login_firefox".to_string(), "firefox".to_string())
        ],
        "{}",
        show(&out)
    );
}

#[test]
fn button_in_its_background_colour_fails_assert_visible_with_low_contrast() {
    let (code, r, s) = login_with(Faults {
        invisible_submit: true,
        ..Faults::default()
    });
    assert_failed_at(code, &r, 5, "low_contrast");
    assert!(
        r["message"].as_str().unwrap().contains("contrast 1:1"),
        "{r:#}"
    );
    let names: Vec<String> = s
        .artifact_files()
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    // No console.json: that log is chromedriver's (`se/log`).
    for want in ["screenshot.png", "page.html", "url.txt", "timeline.json"] {
        assert!(
            names.iter().any(|n| n == want),
            "missing {want} in {names:?}"
        );
    }
}

/// Each fault of the lab, the step that catches it, the reason and a part of the message:
/// what tests/journeys.rs expects of the same fault in Chromium.
struct Caught {
    fault: &'static str,
    switch: fn(&mut Faults),
    step: u64,
    reason: &'static str,
    says: &'static str,
}

const FAULTS: &[Caught] = &[
    Caught {
        fault: "unauthenticated_dashboard",
        switch: |f| f.unauthenticated_dashboard = true,
        step: 8,
        reason: "assertion_failed",
        says: "Please sign in",
    },
    Caught {
        fault: "login_500",
        switch: |f| f.login_500 = true,
        step: 7,
        reason: "http_error_page",
        says: "HTTP 500",
    },
    Caught {
        fault: "dashboard_404",
        switch: |f| f.dashboard_404 = true,
        step: 7,
        reason: "http_error_page",
        says: "HTTP 404",
    },
    Caught {
        fault: "renamed_element",
        switch: |f| f.renamed_element = true,
        step: 8,
        reason: "element_not_found",
        // What the refactor renamed it to, after the message as it always was.
        says: r##"no element matches "#welcome" (waited 10s); did you mean "#welcome-banner"?"##,
    },
    Caught {
        fault: "slow_ms",
        switch: |f| f.slow_ms = 12_000,
        step: 1,
        reason: "navigation_timeout",
        says: "within 10s",
    },
];

#[test]
fn each_lab_fault_is_caught_in_firefox_at_the_same_step_with_the_same_reason() {
    for c in FAULTS {
        let mut faults = Faults::default();
        (c.switch)(&mut faults);
        let (code, r, _s) = login_with(faults);
        assert_failed_at(code, &r, c.step, c.reason);
        assert!(
            r["message"].as_str().unwrap().contains(c.says),
            "{}: {r:#}",
            c.fault
        );
        if c.fault == "renamed_element" {
            assert_eq!(
                r["candidates"],
                serde_json::json!(["#welcome-banner"]),
                "{r:#}"
            );
        }
    }
}

#[test]
fn a_site_that_refuses_connections_fails_with_navigation_failed() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let s = Scratch::new();
    let out = run_in_firefox(
        &s,
        &format!("http://127.0.0.1:{port}"),
        &[LOGIN, "--only", "journeys", "--no-artifacts"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let r = &json_results(&out)[0];
    assert_eq!(r["outcome"], "failure", "{r:#}");
    assert_eq!(r["reason"], "navigation_failed", "{r:#}");
    assert_eq!(r["phase"]["index"], 1, "{r:#}");
    // The same reason as Chromium's; the code is Firefox's own (its about:neterror page
    // says `connectionFailure` where Chromium's says ERR_CONNECTION_REFUSED).
    assert!(
        r["message"].as_str().unwrap().contains("connectionFailure"),
        "{r:#}"
    );
}

#[test]
fn missing_geckodriver_names_how_to_install_it_and_exits_3() {
    let lab = Lab::start();
    let s = Scratch::new();
    let mut cmd = s.command(
        &lab.base_url(),
        &["run", LOGIN, "--only", "journeys", "--browser", "firefox"],
    );
    cmd.env(
        "JOURNEYPROBE_GECKODRIVER",
        s.path().join("no-such-geckodriver"),
    );
    let out = run(&s, cmd);
    assert_eq!(out.status.code(), Some(3), "{}", show(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("driver_not_found"), "{stdout}");
    assert!(stdout.contains("JOURNEYPROBE_GECKODRIVER"), "{stdout}");
}

#[test]
fn an_unknown_browser_is_a_usage_error_naming_the_choices() {
    let s = Scratch::new();
    let out = s.run(s.command(
        "http://127.0.0.1:1",
        &["run", LOGIN, "--only", "journeys", "--browser", "safari"],
    ));
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("'safari' is not one of: chromium, firefox"),
        "{stderr}"
    );
}

#[test]
fn secret_canary_appears_nowhere_in_firefox_either() {
    let canary = r#"canary "7f3a\9c&2e%51 <secret>'"#;
    let lab = Lab::with_password(canary);
    let s = Scratch::new();
    // Typed key by key here (no DevTools insertion): the secret passes through geckodriver.
    let journey = s.path().join("leaky.yaml");
    std::fs::write(
        &journey,
        "name: leaky\nbrowser: firefox\nstep_timeout: 2s\nvars: { base: \"${env:BASE_URL}\" }\n\
         secrets: { password: \"${env:LOGIN_PASSWORD}\" }\nsteps:\n\
         \x20 - goto: ${base}/login\n\
         \x20 - fill: { selector: \"#username\", value: \"${password}\" }\n\
         \x20 - assert_text: { selector: \"#username\", equals: \"x${password}\" }\n",
    )
    .unwrap();
    let arts = s.artifacts().display().to_string();
    let mut cmd = s.command(
        &lab.base_url(),
        &[
            "-vv",
            "run",
            journey.to_str().unwrap(),
            "--format",
            "json",
            "--artifacts",
            &arts,
        ],
    );
    cmd.env("LOGIN_PASSWORD", canary);
    let out = run(&s, cmd);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let all = show(&out);
    assert!(!all.contains(canary), "secret leaked in output:\n{all}");
    assert!(!all.contains("7f3a"), "part of the secret leaked:\n{all}");
    let files = s.artifact_files();
    assert!(files.iter().any(|f| f.ends_with("page.html")), "{files:?}");
    for f in files {
        let text = String::from_utf8_lossy(&std::fs::read(&f).unwrap()).into_owned();
        for part in [canary, "7f3a", "2e%51", "2e%2551"] {
            assert!(!text.contains(part), "secret leaked in {}", f.display());
        }
    }
    assert_ne!(canary, PASSWORD);
}

#[test]
fn serve_runs_its_journeys_in_firefox_with_browser_firefox() {
    let lab = Lab::start();
    let s = Scratch::new();
    let probes = s.path().join("probes");
    std::fs::create_dir_all(&probes).unwrap();
    std::fs::write(
        probes.join("login.yaml"),
        // Every Firefox run opens a new session (~1.7 s idle, ~4 s on a loaded 2-core box).
        "name: login\nevery: 12s\ntimeout: 10s\nvars: { base: \"${env:BASE_URL}\" }\n\
         secrets: { password: \"${env:LOGIN_PASSWORD}\" }\nsteps:\n\
         \x20 - goto: ${base}/login\n\
         \x20 - fill: { selector: \"#username\", value: \"probe@example.com\" }\n\
         \x20 - fill: { selector: \"#password\", value: \"${password}\" }\n\
         \x20 - click: \"button[type=submit]\"\n\
         \x20 - assert_text: { selector: \"#welcome\", contains: \"Welcome\" }\n",
    )
    .unwrap();
    let mut serve = common::serve::Served::start(
        &s,
        &lab.base_url(),
        &s.path().join("data"),
        &[probes.to_str().unwrap(), "--browser", "firefox"],
    );
    serve.wait_for("a success", std::time::Duration::from_secs(90), |m| {
        m.count(
            "journeyprobe_runs_total",
            &[("probe", "login"), ("outcome", "success")],
        ) >= 1.0
    });
    // Ready: its journeys' driver (geckodriver) can be found.
    assert_eq!(serve.get("/readyz", None).0, 200);
    let (status, _, body) = serve.get("/api/v1/runs?probe=login&limit=5", None);
    assert_eq!(status, 200, "{body}");
    let runs: serde_json::Value = serde_json::from_str(&body).unwrap();
    let text = runs.to_string();
    assert!(text.contains(r#""browser":"firefox""#), "{text}");
    assert!(!text.contains(r#""browser":"chromium""#), "{text}");
    serve.signal(libc::SIGTERM);
    let status = serve.wait_exit(std::time::Duration::from_secs(20));
    assert_eq!(status.code(), Some(0), "{}", serve.log_text());
    drop(serve);
    s.assert_no_leftovers();
}

#[test]
fn example_search_journey_passes_in_firefox_and_keeps_its_named_screenshot() {
    let lab = Lab::start();
    let s = Scratch::new();
    let arts = s.artifacts().display().to_string();
    let out = run_in_firefox(
        &s,
        &lab.base_url(),
        &[
            "journeys/",
            "--journey",
            "dashboard_search",
            "--artifacts",
            &arts,
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let r = &json_results(&out)[0];
    assert_eq!(r["probe"], "dashboard_search");
    assert_eq!(r["outcome"], "success", "{r:#}");
    let shot = s
        .artifact_files()
        .into_iter()
        .find(|p| p.ends_with("screenshot-settings.png"))
        .expect("named screenshot kept");
    assert!(std::fs::read(shot).unwrap().starts_with(b"\x89PNG"));
}

#[test]
fn assert_visible_judges_contrast_cover_and_viewport_in_firefox_as_in_chromium() {
    let lab = Lab::start();
    let cases = [
        ("#oklch-ok", None),
        ("#oklch-low", Some("low_contrast")),
        ("#translucent", Some("low_contrast")),
        ("#covered", Some("covered")),
        ("#offscreen", Some("not_visible")),
    ];
    for (selector, want) in cases {
        let s = Scratch::new();
        let journey = format!(
            "name: contrast\nbrowser: firefox\nstep_timeout: 2s\n\
             vars: {{ base: \"${{env:BASE_URL}}\" }}\nsteps:\n\
             \x20 - goto: ${{base}}/contrast\n\
             \x20 - assert_visible: {{ selector: \"{selector}\", min_contrast: 3.0 }}\n"
        );
        let file = s.path().join("contrast.yaml");
        std::fs::write(&file, journey).unwrap();
        let cmd = s.command(
            &lab.base_url(),
            &[
                "run",
                file.to_str().unwrap(),
                "--format",
                "json",
                "--no-artifacts",
            ],
        );
        let r = json_results(&run(&s, cmd)).remove(0);
        assert_eq!(r["browser"], "firefox", "{r:#}");
        match want {
            None => assert_eq!(r["outcome"], "success", "{selector}: {r:#}"),
            Some(reason) => {
                assert_eq!(r["outcome"], "failure", "{selector}: {r:#}");
                assert_eq!(r["reason"], reason, "{selector}: {r:#}");
            }
        }
    }
}

#[test]
fn a_journey_that_outlives_its_timeout_fails_with_journey_timeout_in_firefox() {
    let lab = Lab::start();
    let s = Scratch::new();
    // Longer than Chromium's 4 s: a new Firefox session takes ~2-8 s of it on a loaded box,
    // and a start past a quarter of the timeout (and Firefox's 6 s mark) would make it
    // browser_start_slow, the prober's.
    let journey = s.path().join("short.yaml");
    std::fs::write(
        &journey,
        "name: short\nbrowser: firefox\ntimeout: 40s\nstep_timeout: 40s\n\
         vars: { base: \"${env:BASE_URL}\" }\n\
         steps:\n  - goto: ${base}/login\n  - wait_for: { selector: \"#never\" }\n",
    )
    .unwrap();
    let arts = s.artifacts().display().to_string();
    let cmd = s.command(
        &lab.base_url(),
        &[
            "run",
            journey.to_str().unwrap(),
            "--format",
            "json",
            "--artifacts",
            &arts,
        ],
    );
    let out = run(&s, cmd);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let r = &json_results(&out)[0];
    assert_eq!(r["reason"], "journey_timeout", "{r:#}");
    assert_eq!(r["outcome"], "failure", "{r:#}");
    assert!(
        s.artifact_files()
            .iter()
            .any(|p| p.ends_with("screenshot.png")),
        "{r:#}"
    );
}

/// `journeyprobe run` of a journey that waits in its second step, in Firefox; returns once
/// it waits there (the human reporter prints a step's label when it starts).
fn spawn_waiting(
    s: &Scratch,
    lab: &Lab,
) -> (
    std::process::Child,
    std::sync::Arc<std::sync::Mutex<String>>,
) {
    use std::io::Read;
    let journey = s.path().join("waits.yaml");
    std::fs::write(
        &journey,
        "name: waits\nbrowser: firefox\ntimeout: 30s\nstep_timeout: 25s\n\
         vars: { base: \"${env:BASE_URL}\" }\n\
         steps:\n  - goto: ${base}/login\n  - wait_for: { selector: \"#never\" }\n",
    )
    .unwrap();
    let mut cmd = s.command(&lab.base_url(), &["run", journey.to_str().unwrap()]);
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    let mut child = cmd.spawn().expect("spawn journeyprobe");
    let out = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let mut pipe = child.stdout.take().unwrap();
    let sink = out.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = pipe.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    let up = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !out.lock().unwrap().contains("[2/2]") {
        if std::time::Instant::now() > up {
            let _ = child.kill();
            panic!("never reached step 2: {}", out.lock().unwrap());
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    (child, out)
}

/// Wait for `child` and what it printed (the reader thread ends with its stdout).
fn finish(mut child: std::process::Child, out: &std::sync::Mutex<String>) -> (i32, String) {
    let code = child.wait().unwrap().code().unwrap_or(-1);
    std::thread::sleep(std::time::Duration::from_millis(200));
    (code, out.lock().unwrap().clone())
}

#[test]
fn geckodriver_killed_mid_journey_is_an_error_and_leaves_no_processes() {
    let lab = Lab::start();
    let s = Scratch::new();
    let (child, out) = spawn_waiting(&s, &lab);
    let drivers = common::children_named(child.id(), "geckodriver");
    assert_eq!(drivers.len(), 1, "one geckodriver for the one session");
    // SAFETY: a plain signal to a PID read from /proc, a child of our child.
    unsafe { libc::kill(drivers[0], libc::SIGKILL) };
    let (code, stdout) = finish(child, &out);
    assert_eq!(code, 3, "{stdout}");
    assert!(
        stdout.contains("! waits: error (session_lost) in step 2"),
        "{stdout}"
    );
    assert!(
        stdout.contains("not counted against the target"),
        "{stdout}"
    );
    s.assert_no_leftovers();
}

#[test]
fn ctrl_c_mid_journey_closes_firefox_and_exits_130() {
    let lab = Lab::start();
    let s = Scratch::new();
    let (child, out) = spawn_waiting(&s, &lab);
    // SAFETY: a plain signal to the PID of our child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let (code, stdout) = finish(child, &out);
    assert_eq!(code, 130, "{stdout}");
    assert!(stdout.contains("error (cancelled) in step 2"), "{stdout}");
    s.assert_no_leftovers();
    let needle = format!("TMPDIR={}/journeyprobe-", s.tmp().display());
    assert!(
        processes_with_env(&needle).is_empty(),
        "geckodriver left behind"
    );
}
