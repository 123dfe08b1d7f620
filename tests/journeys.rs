//! Acceptance: the example journeys through real Chromium and real chromedriver against the
//! fault-lab site on loopback, the way a user runs them (the binary, its exit code, its
//! output). Every test also checks that no browser or driver outlived the run.

mod common;

use std::io::Read;
use std::time::{Duration, Instant};

use common::{Lab, PASSWORD, Scratch, children_named, json_results, show};
use journeyprobe::faultlab::Faults;

/// The example holds the checks it stands on beside its journey: `--only journeys` runs the
/// journey alone (its checks still run after it fails, as its prerequisites).
const LOGIN: &str = "journeys/login.yaml";

/// Run journeys/login.yaml against the lab with `faults` and return (exit, result object).
fn login_with(faults: Faults) -> (i32, serde_json::Value, Scratch) {
    let lab = Lab::start();
    lab.set(faults);
    let s = Scratch::new();
    let arts = s.artifacts().display().to_string();
    let cmd = s.command(
        &lab.base_url(),
        &[
            "run",
            LOGIN,
            "--only",
            "journeys",
            "--format",
            "json",
            "--artifacts",
            &arts,
        ],
    );
    let out = s.run(cmd);
    let results = json_results(&out);
    assert_eq!(results.len(), 1, "{}", show(&out));
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
fn example_login_passes_against_the_healthy_site() {
    let lab = Lab::start();
    let s = Scratch::new();
    let out = s.run(s.command(&lab.base_url(), &["run", LOGIN, "--only", "journeys"]));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(stdout.contains("✓ login: success"), "{}", show(&out));
    // Steps are shown as they run, with their durations.
    assert!(stdout.contains("[1/9] goto http://127.0.0.1:"), "{stdout}");
    assert!(
        stdout.contains(" ms)") || stdout.contains(" s)"),
        "{stdout}"
    );
    assert!(
        s.artifact_files().is_empty(),
        "a passing run leaves no failure artifacts"
    );
}

#[test]
fn example_search_journey_passes_and_keeps_its_named_screenshot() {
    let lab = Lab::start();
    let s = Scratch::new();
    let arts = s.artifacts().display().to_string();
    let cmd = s.command(
        &lab.base_url(),
        &[
            "run",
            "journeys/",
            "--journey",
            "dashboard_search",
            "--format",
            "json",
            "--artifacts",
            &arts,
        ],
    );
    let out = s.run(cmd);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let r = &json_results(&out)[0];
    assert_eq!(r["probe"], "dashboard_search");
    assert_eq!(r["kind"], "journey");
    assert_eq!(r["outcome"], "success");
    let shot = s
        .artifact_files()
        .into_iter()
        .find(|p| p.ends_with("screenshot-settings.png"));
    let shot = shot.expect("named screenshot kept");
    assert!(std::fs::read(shot).unwrap().starts_with(b"\x89PNG"));
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
    for want in ["screenshot.png", "page.html", "url.txt", "timeline.json"] {
        assert!(
            names.iter().any(|n| n == want),
            "missing {want} in {names:?}"
        );
    }
}

#[test]
fn unauthenticated_dashboard_fails_the_welcome_assertion() {
    let (code, r, _s) = login_with(Faults {
        unauthenticated_dashboard: true,
        ..Faults::default()
    });
    assert_failed_at(code, &r, 8, "assertion_failed");
    assert!(
        r["message"].as_str().unwrap().contains("Please sign in"),
        "{r:#}"
    );
}

#[test]
fn login_500_fails_with_http_error_page_right_after_submit() {
    let (code, r, _s) = login_with(Faults {
        login_500: true,
        ..Faults::default()
    });
    assert_failed_at(code, &r, 7, "http_error_page");
    assert!(r["message"].as_str().unwrap().contains("HTTP 500"), "{r:#}");
}

#[test]
fn misrouted_dashboard_fails_with_http_error_page() {
    let (code, r, _s) = login_with(Faults {
        dashboard_404: true,
        ..Faults::default()
    });
    assert_failed_at(code, &r, 7, "http_error_page");
    assert!(r["message"].as_str().unwrap().contains("HTTP 404"), "{r:#}");
}

#[test]
fn renamed_element_fails_with_element_not_found() {
    let (code, r, _s) = login_with(Faults {
        renamed_element: true,
        ..Faults::default()
    });
    assert_failed_at(code, &r, 8, "element_not_found");
    // What the refactor renamed it to, after the message as it always was.
    let message = r["message"].as_str().unwrap();
    assert!(
        message.contains(
            r##"no element matches "#welcome" (waited 10s); did you mean "#welcome-banner"?"##
        ),
        "{r:#}"
    );
    assert_eq!(
        r["candidates"],
        serde_json::json!(["#welcome-banner"]),
        "{r:#}"
    );
}

#[test]
fn slow_responses_trip_the_step_timeout_of_the_first_navigation() {
    let (code, r, _s) = login_with(Faults {
        slow_ms: 12_000,
        ..Faults::default()
    });
    assert_failed_at(code, &r, 1, "navigation_timeout");
    assert!(
        r["message"].as_str().unwrap().contains("within 10s"),
        "{r:#}"
    );
    assert!(r["duration_ms"].as_f64().unwrap() < 30_000.0, "{r:#}");
}

#[test]
fn unreachable_webdriver_is_an_error_not_a_failure() {
    let lab = Lab::start();
    let s = Scratch::new();
    let cmd = s.command(
        &lab.base_url(),
        &[
            "run",
            LOGIN,
            "--only",
            "journeys",
            "--webdriver",
            "http://127.0.0.1:1",
            "--format",
            "json",
        ],
    );
    let out = s.run(cmd);
    assert_eq!(out.status.code(), Some(3), "{}", show(&out));
    let r = &json_results(&out)[0];
    assert_eq!(r["outcome"], "error");
    assert_eq!(r["reason"], "webdriver_unreachable");
    assert_eq!(r["phase"]["phase"], "setup");
}

#[test]
fn missing_chromedriver_names_the_packages_and_exits_3() {
    let lab = Lab::start();
    let s = Scratch::new();
    let mut cmd = s.command(&lab.base_url(), &["run", LOGIN, "--only", "journeys"]);
    cmd.env(
        "JOURNEYPROBE_CHROMEDRIVER",
        s.path().join("no-such-chromedriver"),
    );
    let out = s.run(cmd);
    assert_eq!(out.status.code(), Some(3), "{}", show(&out));
    let mut cmd = s.command(&lab.base_url(), &["run", LOGIN, "--only", "journeys"]);
    cmd.env("PATH", s.path());
    let out = s.run(cmd);
    assert_eq!(out.status.code(), Some(3), "{}", show(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("driver_not_found"), "{stdout}");
    assert!(
        stdout.contains("apt-get install chromium chromium-driver"),
        "{stdout}"
    );
}

/// A journey that loads the login page, then waits for something that never comes.
fn write_waiting_journey(s: &Scratch) -> std::path::PathBuf {
    let path = s.path().join("waits.yaml");
    std::fs::write(
        &path,
        "name: waits\ntimeout: 30s\nstep_timeout: 25s\nvars: { base: \"${env:BASE_URL}\" }\n\
         steps:\n  - goto: ${base}/login\n  - wait_for: { selector: \"#never\" }\n",
    )
    .unwrap();
    path
}

/// A running journeyprobe whose stdout is collected as it comes.
struct Running {
    child: std::process::Child,
    stdout: std::sync::Arc<std::sync::Mutex<String>>,
    reader: std::thread::JoinHandle<()>,
}

/// Start journeyprobe on the waiting journey; return once it is inside the long wait (the
/// human reporter prints a step's label when the step starts).
fn spawn_until_waiting(s: &Scratch, lab: &Lab) -> Running {
    let journey = write_waiting_journey(s);
    let mut cmd = s.command(&lab.base_url(), &["run", journey.to_str().unwrap()]);
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    let mut child = cmd.spawn().expect("spawn journeyprobe");
    let stdout = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let mut pipe = child.stdout.take().unwrap();
    let sink = stdout.clone();
    let reader = std::thread::spawn(move || {
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
    let up = Instant::now() + Duration::from_secs(30);
    while !stdout.lock().unwrap().contains("[2/2]") {
        assert!(
            Instant::now() < up,
            "never reached step 2: {}",
            stdout.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    Running {
        child,
        stdout,
        reader,
    }
}

impl Running {
    fn finish(mut self) -> (i32, String) {
        let status = self.child.wait().unwrap();
        self.reader.join().unwrap();
        let out = self.stdout.lock().unwrap().clone();
        (status.code().unwrap_or(-1), out)
    }
}

#[test]
fn chromedriver_killed_mid_journey_is_an_error_and_leaves_no_processes() {
    let lab = Lab::start();
    let s = Scratch::new();
    let run = spawn_until_waiting(&s, &lab);
    let drivers = children_named(run.child.id(), "chromedriver");
    assert_eq!(drivers.len(), 1, "one managed chromedriver");
    let killed_at = Instant::now();
    unsafe { libc::kill(drivers[0], libc::SIGKILL) };
    let (code, stdout) = run.finish();
    let took = killed_at.elapsed();
    assert_eq!(code, 3, "{stdout}");
    assert!(
        stdout.contains("! waits: error (session_lost) in step 2"),
        "{stdout}"
    );
    assert!(
        stdout.contains("not counted against the target"),
        "{stdout}"
    );
    // Within the journey deadline (30 s) plus a few seconds.
    assert!(took < Duration::from_secs(35), "took {took:?}");
    s.assert_no_leftovers();
}

fn interrupted_mid_journey(signal: i32) {
    let lab = Lab::start();
    let s = Scratch::new();
    let run = spawn_until_waiting(&s, &lab);
    unsafe { libc::kill(run.child.id() as i32, signal) };
    let (code, stdout) = run.finish();
    assert_eq!(code, 130, "{stdout}");
    assert!(stdout.contains("error (cancelled) in step 2"), "{stdout}");
    s.assert_no_leftovers();
}

#[test]
fn ctrl_c_mid_journey_closes_the_browser_and_exits_130() {
    interrupted_mid_journey(libc::SIGINT);
}

#[test]
fn sigterm_mid_journey_closes_the_browser_too() {
    interrupted_mid_journey(libc::SIGTERM);
}

#[test]
fn secret_canary_appears_nowhere() {
    // Characters that change under JSON, Rust-debug, HTML and URL escaping.
    let canary = r#"canary "7f3a\9c&2e%51 <secret>'"#;
    let lab = Lab::with_password(canary);
    let s = Scratch::new();
    // The secret is typed into a visible text field too, then the journey fails, so the
    // screenshot, HTML and every report are produced while the secret is on the page.
    let journey = s.path().join("leaky.yaml");
    std::fs::write(
        &journey,
        "name: leaky\nstep_timeout: 2s\nvars: { base: \"${env:BASE_URL}\" }\n\
         secrets: { password: \"${env:LOGIN_PASSWORD}\" }\nsteps:\n\
         \x20 - goto: ${base}/login\n\
         \x20 - fill: { selector: \"#username\", value: \"${password}\" }\n\
         \x20 - fill: { selector: \"#password\", value: \"${password}\" }\n\
         \x20 - assert_text: { selector: \"#username\", equals: \"x${password}\" }\n",
    )
    .unwrap();
    let arts = s.artifacts().display().to_string();
    let mut outputs = Vec::new();
    for format in ["human", "json"] {
        let mut cmd = s.command(
            &lab.base_url(),
            &[
                "-vv",
                "run",
                journey.to_str().unwrap(),
                "--format",
                format,
                "--artifacts",
                &arts,
            ],
        );
        cmd.env("LOGIN_PASSWORD", canary);
        let out = s.run(cmd);
        assert_eq!(out.status.code(), Some(1), "{}", show(&out));
        outputs.push(out);
    }
    for out in &outputs {
        let all = show(out);
        assert!(!all.contains(canary), "secret leaked in output:\n{all}");
        assert!(
            !all.contains("7f3a"),
            "an escaped form of the secret leaked:\n{all}"
        );
        assert!(all.contains("••••"), "the secret is shown masked: {all}");
    }
    let files = s.artifact_files();
    assert!(files.iter().any(|f| f.ends_with("page.html")), "{files:?}");
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(canary), "secret leaked in {}", f.display());
        for part in ["7f3a", "2e%51", "2e%2551"] {
            assert!(
                !text.contains(part),
                "part of the secret leaked in {}: {text}",
                f.display()
            );
        }
    }
    assert_ne!(canary, PASSWORD);
}

#[test]
fn a_site_that_refuses_connections_fails_with_navigation_failed() {
    // A loopback port that was free a moment ago: nothing listens there now.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let s = Scratch::new();
    let cmd = s.command(
        &format!("http://127.0.0.1:{port}"),
        &[
            "run",
            LOGIN,
            "--only",
            "journeys",
            "--format",
            "json",
            "--no-artifacts",
        ],
    );
    let out = s.run(cmd);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let r = &json_results(&out)[0];
    assert_eq!(r["outcome"], "failure", "{r:#}");
    assert_eq!(r["reason"], "navigation_failed", "{r:#}");
    assert_eq!(r["phase"]["index"], 1, "{r:#}");
    assert!(
        r["message"]
            .as_str()
            .unwrap()
            .contains("ERR_CONNECTION_REFUSED"),
        "{r:#}"
    );
}

#[test]
fn a_journey_that_outlives_its_timeout_fails_with_journey_timeout() {
    let lab = Lab::start();
    let s = Scratch::new();
    let journey = s.path().join("short.yaml");
    std::fs::write(
        &journey,
        "name: short\ntimeout: 4s\nstep_timeout: 4s\nvars: { base: \"${env:BASE_URL}\" }\n\
         steps:\n  - goto: ${base}/login\n  - wait_for: { selector: \"#never\" }\n",
    )
    .unwrap();
    let started = Instant::now();
    // With artifacts: capturing them must fit in the timeout too.
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
    let out = s.run(cmd);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let r = &json_results(&out)[0];
    assert_eq!(r["reason"], "journey_timeout", "{r:#}");
    assert!(
        s.artifact_files()
            .iter()
            .any(|p| p.ends_with("screenshot.png")),
        "{r:#}"
    );
    assert_eq!(r["phase"]["index"], 2, "{r:#}");
    // The run, session close included, fits in the journey's timeout.
    // Closing a session may run up to a second past the deadline when it must.
    assert!(r["duration_ms"].as_f64().unwrap() <= 5_000.0, "{r:#}");
    assert!(started.elapsed() < Duration::from_secs(15));
}

#[test]
fn select_by_index_and_value_and_a_named_screenshot_leave_the_page_usable() {
    let lab = Lab::start();
    let s = Scratch::new();
    let journey = s.path().join("dash.yaml");
    std::fs::write(
        &journey,
        r##"name: dash
vars: { base: "${env:BASE_URL}" }
secrets: { password: "${env:LOGIN_PASSWORD}" }
steps:
  - goto: ${base}/login
  - fill: { selector: "#username", value: "sel@example.com" }
  - fill: { selector: "#password", value: "${password}" }
  - click: "text=Sign in"
  - select: { selector: "#region", index: 2 }
  - assert_text: { selector: "#region", equals: "ap" }
  - select: { selector: "#region", value: "us" }
  - assert_text: { selector: "#region", equals: "us" }
  - fill: { selector: "#search", value: "${password}" }
  - screenshot: mid
  # The screenshot masked the secret in the page; the journey must find it restored.
  - assert_text: { selector: "#search", equals: "${password}" }
"##,
    )
    .unwrap();
    let arts = s.artifacts().display().to_string();
    let cmd = s.command(
        &lab.base_url(),
        &["run", journey.to_str().unwrap(), "--artifacts", &arts],
    );
    let out = s.run(cmd);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(!show(&out).contains(PASSWORD), "{}", show(&out));
    assert!(
        s.artifact_files()
            .iter()
            .any(|p| p.ends_with("screenshot-mid.png"))
    );
}

#[test]
fn a_click_whose_page_loads_too_slowly_is_a_navigation_timeout_not_a_prober_error() {
    let lab = Lab::start();
    lab.set(Faults {
        slow_ms: 2_500,
        ..Faults::default()
    });
    let s = Scratch::new();
    let out = s.run_journey(
        &lab.base_url(),
        "slow_click.yaml",
        r##"name: slow_click
timeout: 30s
step_timeout: 15s
vars: { base: "${env:BASE_URL}" }
secrets: { password: "${env:LOGIN_PASSWORD}" }
steps:
  - goto: ${base}/login
  - fill: { selector: "#username", value: "slow@example.com" }
  - fill: { selector: "#password", value: "${password}" }
  - click: "button[type=submit]"
    timeout: 1500ms
  - assert_url: "/dashboard$"
    timeout: 1500ms
"##,
        &["--no-artifacts"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let r = &json_results(&out)[0];
    assert_eq!(r["outcome"], "failure", "{r:#}");
    // The click step's own wait for its page (src/journey/steps/settle.rs) waits for the
    // navigation the form starts, even one that starts a moment after the click: the click
    // is the step that failed.
    assert_eq!(r["reason"], "navigation_timeout", "{r:#}");
    assert_eq!(r["phase"]["index"], 4, "{r:#}");
    assert!(r["message"].as_str().unwrap().contains("1s 500ms"), "{r:#}");
}

/// Run a one-step `assert_visible` journey on the lab's /contrast page.
fn assert_visible_on_contrast_page(lab: &Lab, selector: &str) -> serde_json::Value {
    let s = Scratch::new();
    let journey = format!(
        "name: contrast\nstep_timeout: 2s\nvars: {{ base: \"${{env:BASE_URL}}\" }}\nsteps:\n\
         \x20 - goto: ${{base}}/contrast\n\
         \x20 - assert_visible: {{ selector: \"{selector}\", min_contrast: 3.0 }}\n"
    );
    let out = s.run_journey(
        &lab.base_url(),
        "contrast.yaml",
        &journey,
        &["--no-artifacts"],
    );
    json_results(&out).remove(0)
}

#[test]
fn assert_visible_judges_modern_colours_translucency_cover_and_viewport() {
    let lab = Lab::start();
    let cases = [
        ("#oklch-ok", None),
        ("#oklch-low", Some("low_contrast")),
        ("#translucent", Some("low_contrast")),
        ("#covered", Some("covered")),
        ("#offscreen", Some("not_visible")),
    ];
    for (selector, want) in cases {
        let r = assert_visible_on_contrast_page(&lab, selector);
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
fn after_journeyprobe_is_killed_outright_the_next_run_cleans_up_its_browsers() {
    let lab = Lab::start();
    let s = Scratch::new();
    let run = spawn_until_waiting(&s, &lab);
    let pid = run.child.id();
    let drivers = children_named(pid, "chromedriver");
    assert_eq!(drivers.len(), 1);
    // No teardown can run: SIGKILL.
    unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    let _ = run.finish();
    // chromedriver follows its parent (parent-death signal).
    let gone_by = Instant::now() + Duration::from_secs(5);
    while std::path::Path::new(&format!("/proc/{}/cmdline", drivers[0])).exists()
        && std::fs::read_to_string(format!("/proc/{}/stat", drivers[0]))
            .map(|st| {
                !st.rsplit(')')
                    .next()
                    .unwrap_or("")
                    .trim_start()
                    .starts_with('Z')
            })
            .unwrap_or(false)
    {
        assert!(Instant::now() < gone_by, "chromedriver outlived its parent");
        std::thread::sleep(Duration::from_millis(50));
    }
    // The next run in the same temporary folder finds the orphaned browser and kills it.
    let out = s.run(s.command(
        &lab.base_url(),
        &["run", LOGIN, "--only", "journeys", "--no-artifacts"],
    ));
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
}

#[test]
fn a_failed_journey_names_the_prerequisite_that_fails() {
    let lab = Lab::start();
    lab.set(Faults {
        dashboard_404: true,
        ..Faults::default()
    });
    let s = Scratch::new();
    let journey = s.path().join("with_deps.yaml");
    std::fs::write(
        &journey,
        r##"name: signin
depends_on: [dashboard_route, login_route]
vars: { base: "${env:BASE_URL}" }
secrets: { password: "${env:LOGIN_PASSWORD}" }
steps:
  - goto: ${base}/login
  - fill: { selector: "#username", value: "deps@example.com" }
  - fill: { selector: "#password", value: "${password}" }
  - click: "button[type=submit]"
  - assert_text: { selector: "#welcome", contains: "Welcome" }
checks:
  - name: login_route
    http: { url: "${base}/login", body_contains: "Sign in" }
  - name: dashboard_route
    http: { url: "${base}/dashboard", status: [200] }
"##,
    )
    .unwrap();
    let path = journey.to_str().unwrap();
    let out = s.run(s.command(
        &lab.base_url(),
        &["run", path, "--only", "journeys", "--no-artifacts"],
    ));
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("prerequisite dashboard_route fails: status_mismatch"),
        "{stdout}"
    );
    assert!(
        stdout.contains("prerequisite login_route passes"),
        "{stdout}"
    );
    let out = s.run(s.command(
        &lab.base_url(),
        &[
            "run",
            path,
            "--probe",
            "signin",
            "--format",
            "json",
            "--no-artifacts",
        ],
    ));
    let r = &json_results(&out)[0];
    let deps = r["prerequisites"]
        .as_array()
        .expect("prerequisites in JSON");
    let failing: Vec<&str> = deps
        .iter()
        .filter(|d| d["outcome"] == "failure")
        .map(|d| d["check"].as_str().unwrap())
        .collect();
    assert_eq!(failing, vec!["dashboard_route"], "{r:#}");
}

/// A click lands where a person's would: on a button below the fold (scrolled to), through
/// the browser's own input (trusted pointer and mouse events, in order). A click that opens
/// an alert does not hang on it (the session dismisses prompts). A button under an overlay
/// is never clicked through it: the step fails as not interactable, and the page the
/// failure kept shows the overlay got no click.
#[test]
fn click_scrolls_to_its_button_with_trusted_events_and_never_clicks_an_overlay() {
    let lab = Lab::start();
    let s = Scratch::new();
    let arts = s.artifacts().display().to_string();
    let out = s.run_journey(
        &lab.base_url(),
        "clicks.yaml",
        "name: clicks\nstep_timeout: 2s\nvars: { base: \"${env:BASE_URL}\" }\nsteps:\n\
         \x20 - goto: ${base}/clicks\n\
         \x20 - click: \"#far\"\n\
         \x20 - assert_text: { selector: \"#events\", equals: \"far: pointerdown mousedown pointerup mouseup click\" }\n\
         \x20 - click: \"#alerting\"\n\
         \x20 - click: \"#under\"\n",
        &["--artifacts", &arts, "-vv"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let r = &json_results(&out)[0];
    assert_eq!(r["outcome"], "failure", "{r:#}");
    assert_eq!(r["phase"]["index"], 5, "{r:#}");
    // Which click each step made (debug log): mouse input where the probe found the point,
    // WebDriver's element click (which refuses) on the covered button.
    let log = String::from_utf8_lossy(&out.stderr);
    for (step, how) in [
        ("\"#far\"", "mouse input at"),
        ("\"#alerting\"", "mouse input at"),
        ("\"#under\"", "WebDriver element click"),
    ] {
        assert!(
            log.contains(&format!("click {step}: {how}")),
            "{step}: {log}"
        );
    }
    assert!(!log.contains("click \"#under\": mouse input"), "{log}");
    assert_eq!(r["reason"], "not_interactable", "{r:#}");
    let page = s
        .artifact_files()
        .into_iter()
        .find(|p| p.ends_with("page.html"))
        .expect("the failure keeps the page");
    let html = std::fs::read_to_string(page).unwrap();
    assert!(
        html.contains(r#"<span id="overlay-clicks">0</span>"#),
        "{html}"
    );
    assert!(
        html.contains("far: pointerdown mousedown pointerup mouseup click</p>"),
        "{html}"
    );
}

/// `run --repeat` outlives its chromedriver: the run it was killed under is an `error`, a
/// new chromedriver is started, the runs after it succeed, and no browser is left behind.
#[test]
fn run_repeat_starts_a_new_chromedriver_after_one_died_and_goes_on() {
    let (out, results) = kill_chromedriver_in_the_first_of_three_runs(&[]);
    let outcomes: Vec<&str> = results
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["error", "success", "success"], "{}", show(&out));
    // Exit 3: a run could not be verified (a prober error, never a target failure).
    assert_eq!(out.status.code(), Some(3), "{}", show(&out));
}

/// With `--retries`, the retry of the run chromedriver died under already gets the new one.
#[test]
fn a_retry_after_chromedriver_died_runs_on_a_new_one() {
    let (out, results) = kill_chromedriver_in_the_first_of_three_runs(&["--retries", "1"]);
    let outcomes: Vec<&str> = results
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(
        outcomes,
        ["success", "success", "success"],
        "{}",
        show(&out)
    );
    assert_eq!(results[0]["attempts"], 2, "{}", show(&out));
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
}

/// `run --repeat 3` of a two-step journey, chromedriver killed during the first run's goto
/// (the lab answers slowly until then). The runs' results (the summary lines left out);
/// checks the warning and that nothing is left running.
fn kill_chromedriver_in_the_first_of_three_runs(
    extra: &[&str],
) -> (std::process::Output, Vec<serde_json::Value>) {
    let lab = Lab::start();
    lab.set(Faults {
        slow_ms: 3000,
        ..Faults::default()
    });
    let s = Scratch::new();
    let journey = s.path().join("open.yaml");
    std::fs::write(
        &journey,
        "name: open\nstep_timeout: 10s\nvars: { base: \"${env:BASE_URL}\" }\nsteps:\n\
         \x20 - goto: ${base}/login\n\
         \x20 - assert_text: { selector: \"#remembered\", contains: \"New visitor\" }\n",
    )
    .unwrap();
    let mut args = vec![
        "run",
        journey.to_str().unwrap(),
        "--repeat",
        "3",
        "--format",
        "json",
        "--no-artifacts",
    ];
    args.extend_from_slice(extra);
    let mut cmd = s.command(&lab.base_url(), &args);
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = cmd.spawn().expect("spawn journeyprobe");
    let pid = child.id();
    // The first run is inside its goto once chromedriver has started a browser.
    let up = Instant::now() + Duration::from_secs(30);
    let driver = loop {
        let drivers = children_named(pid, "chromedriver");
        if let Some(&d) = drivers.first()
            && !children_named(d as u32, "chromium").is_empty()
        {
            break d;
        }
        assert!(Instant::now() < up, "no browser started");
        std::thread::sleep(Duration::from_millis(50));
    };
    std::thread::sleep(Duration::from_millis(1000));
    unsafe { libc::kill(driver, libc::SIGKILL) };
    lab.set(Faults::default());
    let out = child.wait_with_output().unwrap();
    let results: Vec<serde_json::Value> = json_results(&out)
        .into_iter()
        .filter(|r| r.get("outcome").is_some())
        .collect();
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("chromedriver exited; starting a new one"),
        "{}",
        show(&out)
    );
    s.assert_no_leftovers();
    (out, results)
}
