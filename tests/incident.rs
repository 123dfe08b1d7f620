//! Reproducing an incident with `journeyprobe run`: a visible browser (under Xvfb), slow
//! motion, a screenshot after every step, a pause on failure that keeps the browser open
//! until Enter; and posting the smoke check's verdict as a deploy event to `serve`.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::serve::Served;
use common::{Lab, Scratch, json_results, live_processes_mentioning, show};
use journeyprobe::faultlab::Faults;

/// The example holds the checks it stands on beside its journey: `--only journeys` runs the
/// journey alone (its checks still run after it fails, as its prerequisites).
const LOGIN: &str = "journeys/login.yaml";

#[test]
fn headed_without_a_display_is_a_clear_usage_error() {
    let s = Scratch::new();
    let mut cmd = s.command(
        "http://127.0.0.1:9",
        &["run", LOGIN, "--only", "journeys", "--headed"],
    );
    cmd.env_remove("DISPLAY").env_remove("WAYLAND_DISPLAY");
    let out = s.run(cmd);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--headed needs a display"));
}

#[test]
fn headed_runs_a_visible_browser_under_xvfb() {
    let lab = Lab::start();
    let s = Scratch::new();
    let xvfb = journeyprobe::process::find_program("xvfb-run")
        .expect("xvfb-run (Debian package xvfb) is installed: run scripts/ensure-deps");
    let mut cmd = std::process::Command::new(xvfb);
    cmd.args([
        "-a",
        env!("CARGO_BIN_EXE_journeyprobe"),
        "run",
        LOGIN,
        "--only",
        "journeys",
        "--headed",
        "--format",
        "json",
    ])
    .current_dir(env!("CARGO_MANIFEST_DIR"))
    .env("TMPDIR", s.tmp())
    .env("BASE_URL", lab.base_url())
    .env("LOGIN_PASSWORD", common::PASSWORD);
    let out = s.run(cmd);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(json_results(&out)[0]["outcome"], "success");
}

#[test]
fn trace_keeps_a_screenshot_per_step_and_slow_mo_slows_without_failing() {
    let lab = Lab::start();
    let s = Scratch::new();
    let artifacts = s.artifacts();
    let cmd = s.command(
        &lab.base_url(),
        &[
            "run",
            LOGIN,
            "--only",
            "journeys",
            "--format",
            "json",
            "--trace",
            "--slow-mo",
            "200ms",
            "--artifacts",
            artifacts.to_str().unwrap(),
        ],
    );
    let out = s.run(cmd);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let r = &json_results(&out)[0];
    let steps = r["steps"].as_array().unwrap().len();
    let traces: Vec<String> = r["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .filter(|a| a.contains("trace-step-"))
        .collect();
    assert_eq!(traces.len(), steps, "{r:#}");
    for t in &traces {
        let png = std::fs::read(t).unwrap();
        assert!(png.starts_with(b"\x89PNG"), "{t} is a PNG");
    }
    // The journey's own 30s budget is untouched: slow motion adds to it.
    assert!(
        r["duration_ms"].as_f64().unwrap() >= 200.0 * steps as f64,
        "{r:#}"
    );
}

#[test]
fn pause_on_failure_keeps_the_browser_open_until_enter() {
    let lab = Lab::start();
    lab.set(Faults {
        login_500: true,
        ..Default::default()
    });
    let s = Scratch::new();
    let mut cmd = s.command(
        &lab.base_url(),
        &[
            "run",
            LOGIN,
            "--only",
            "journeys",
            "--pause-on-failure",
            "--no-artifacts",
        ],
    );
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    let deadline = Instant::now() + Duration::from_secs(40);
    while !seen.contains("paused:") {
        assert!(Instant::now() < deadline, "never paused: {seen}");
        let mut line = String::new();
        if stderr.read_line(&mut line).unwrap() == 0 {
            panic!("exited without pausing: {seen}");
        }
        seen.push_str(&line);
    }
    assert!(seen.contains("press Enter"), "{seen}");
    std::thread::sleep(Duration::from_millis(500));
    let tmp = s.tmp().display().to_string();
    assert!(
        live_processes_mentioning(&tmp)
            .iter()
            .any(|(_, cmd)| cmd.contains("chrom")),
        "the browser is still open while paused"
    );
    child.stdin.take().unwrap().write_all(b"\n").unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1), "a target failure: {seen}");
    s.assert_no_leftovers();
}

#[test]
fn a_post_deploy_smoke_check_posts_its_verdict_as_a_deploy_event() {
    let lab = Lab::start();
    let s = Scratch::new();
    let probes = s.path().join("probes");
    std::fs::create_dir_all(&probes).unwrap();
    let check = probes.join("route.yaml");
    std::fs::write(
        &check,
        "checks:\n  - name: login_route\n    http: { url: \"${env:BASE_URL}/login\" }\n",
    )
    .unwrap();
    let serve = Served::start(
        &s,
        &lab.base_url(),
        &s.path().join("data"),
        &[probes.to_str().unwrap(), "--events-token", "tok"],
    );
    let url = format!("http://{}", serve.addr);
    let mut cmd = s.command(
        &lab.base_url(),
        &[
            "run",
            check.to_str().unwrap(),
            "--deploy",
            "v9.1",
            "--service",
            "web",
            "--events-url",
            &url,
        ],
    );
    cmd.env("JOURNEYPROBE_EVENTS_TOKEN", "tok");
    let out = s.run(cmd);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let (_, _, body) = serve.get("/api/v1/events", None);
    let events: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(events[0]["version"], "v9.1", "{events}");
    assert_eq!(events[0]["kind"], "deploy");
    assert_eq!(
        events[0]["description"],
        "smoke check passed: 1 passed, 0 failed, 0 could not be verified"
    );
    // A serve that refuses the event makes a passing check "not verified" (exit 3).
    let mut cmd = s.command(
        &lab.base_url(),
        &[
            "run",
            check.to_str().unwrap(),
            "--deploy",
            "v9.2",
            "--service",
            "web",
            "--events-url",
            &url,
        ],
    );
    cmd.env("JOURNEYPROBE_EVENTS_TOKEN", "wrong");
    let out = s.run(cmd);
    assert_eq!(out.status.code(), Some(3), "{}", show(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrong bearer token"));
}

#[test]
fn repro_reruns_the_recorded_journey_and_vars_after_the_file_changed() {
    let lab = Lab::start();
    lab.set(Faults {
        renamed_element: true,
        ..Default::default()
    });
    let s = Scratch::new();
    let probes = s.path().join("probes");
    std::fs::create_dir_all(&probes).unwrap();
    let file = probes.join("signin.yaml");
    let recorded = "name: signin\nevery: 8s\ntimeout: 7s\nstep_timeout: 2s\nvars: { base: \"${env:BASE_URL}\" }\n\
         secrets: { password: \"${env:LOGIN_PASSWORD}\" }\nsteps:\n  - goto: ${base}/login\n\
         \x20 - fill: { selector: \"#username\", value: \"probe@example.com\" }\n\
         \x20 - fill: { selector: \"#password\", value: \"${password}\" }\n\
         \x20 - click: \"button[type=submit]\"\n\
         \x20 - assert_text: { selector: \"#welcome\", contains: \"Welcome\" }\n";
    std::fs::write(&file, recorded).unwrap();
    let data = s.path().join("data");
    let mut serve = Served::start(&s, &lab.base_url(), &data, &[probes.to_str().unwrap()]);
    serve.wait_for("the failed run", Duration::from_secs(90), |m| {
        m.count(
            "journeyprobe_runs_total",
            &[("probe", "signin"), ("outcome", "failure")],
        ) >= 1.0
    });
    serve.signal(libc::SIGTERM);
    assert_eq!(serve.wait_exit(Duration::from_secs(30)).code(), Some(0));
    drop(serve);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let id = rt.block_on(async {
        let h = journeyprobe::history::History::open(&data).unwrap();
        h.recent(Some("signin".into()), 10).await.unwrap()[0].id
    });

    // The file changes (the assertion is gone) and BASE_URL now points nowhere: repro
    // still runs the recorded journey against the recorded base, and fails where it did.
    std::fs::write(
        &file,
        recorded.replace(
            "  - assert_text: { selector: \"#welcome\", contains: \"Welcome\" }\n",
            "",
        ),
    )
    .unwrap();
    let data_arg = data.to_str().unwrap().to_string();
    let mut cmd = s.command(
        "http://127.0.0.1:9",
        &[
            "repro",
            &id.to_string(),
            "--data-dir",
            &data_arg,
            "--format",
            "json",
        ],
    );
    cmd.current_dir(s.path());
    let out = s.run(cmd);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let r = &json_results(&out)[0];
    assert_eq!(
        (r["reason"].as_str(), r["phase"]["index"].as_u64()),
        (Some("element_not_found"), Some(5)),
        "{r:#}"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&format!("has changed since run {id}")),
        "{}",
        show(&out)
    );

    // With the site mended, the recorded journey passes: it really ran against the lab.
    lab.set(Faults::default());
    let mut cmd = s.command(
        "http://127.0.0.1:9",
        &[
            "repro",
            &id.to_string(),
            "--data-dir",
            &data_arg,
            "--format",
            "json",
        ],
    );
    cmd.current_dir(s.path());
    let out = s.run(cmd);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(json_results(&out)[0]["steps"].as_array().unwrap().len(), 5);
}

#[test]
fn repeat_runs_a_journey_n_times_and_summarises_each_journey() {
    let lab = Lab::start();
    let s = Scratch::new();
    let json = s.path().join("runs.jsonl");
    let cmd = s.command(
        &lab.base_url(),
        &[
            "run",
            LOGIN,
            "--only",
            "journeys",
            "--repeat",
            "3",
            "--format",
            "json",
            "--json",
            json.to_str().unwrap(),
        ],
    );
    let out = s.run(cmd);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let lines = json_results(&out);
    let runs: Vec<_> = lines.iter().filter(|l| l["probe"] == "login").collect();
    assert_eq!(runs.len(), 3, "each run reported on its own");
    // Each step that ran says how much of it was journeyprobe's own time.
    for r in &runs {
        for step in r["steps"].as_array().unwrap() {
            let own = step["overhead_ms"]
                .as_f64()
                .expect("overhead_ms on a step that ran");
            assert!(
                (0.0..=step["duration_ms"].as_f64().unwrap()).contains(&own),
                "{step}"
            );
        }
    }
    let summary = &lines
        .iter()
        .find(|l| l.get("repeat_summary").is_some())
        .expect("a summary line")["repeat_summary"];
    assert_eq!(
        (
            summary["probe"].as_str(),
            summary["runs"].as_u64(),
            summary["success"].as_u64()
        ),
        (Some("login"), Some(3), Some(3))
    );
    let durations: Vec<f64> = runs
        .iter()
        .map(|r| r["duration_ms"].as_f64().unwrap())
        .collect();
    assert_eq!(summary["durations_ms"], serde_json::json!(durations));
    let mut sorted = durations.clone();
    sorted.sort_by(f64::total_cmp);
    assert_eq!(summary["median_ms"].as_f64(), Some(sorted[1]));
    assert_eq!(summary["p95_ms"].as_f64(), Some(sorted[2]));
    let file = std::fs::read_to_string(&json).unwrap();
    assert!(
        file.lines().any(|l| l.contains("\"repeat_summary\"")),
        "{file}"
    );

    // Human output: the table.
    let out = s.run(s.command(
        &lab.base_url(),
        &["run", LOGIN, "--only", "journeys", "--repeat", "2"],
    ));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("repeated runs")
            && text
                .lines()
                .any(|l| l.starts_with("login ") && l.contains(" 2 ")),
        "{text}"
    );
}
