//! Acceptance: a browser's slow first start belongs to the prober. `serve` warms every
//! browser its journeys use before their first runs (and says so in its log), and a journey
//! whose timeout ran out because opening the browser took a large part of it is
//! `browser_start_slow`, an error, never a target failure. A slow start is made real here:
//! the Chromium binary chromedriver starts is a wrapper that waits before it runs Chromium.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use common::serve::Served;
use common::{Lab, Scratch, json_results, show};

/// A Chromium that takes `secs` longer to start than the real one.
fn slow_chromium(s: &Scratch, secs: u32) -> std::path::PathBuf {
    let real = ["/usr/bin/chromium", "/usr/lib/chromium/chromium"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("chromium (scripts/ensure-deps)");
    let path = s.path().join("slow-chromium");
    std::fs::write(
        &path,
        format!("#!/bin/sh\nsleep {secs}\nexec {real} \"$@\"\n"),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[test]
fn a_journey_timeout_after_a_slow_browser_start_is_an_error_not_a_failure() {
    let lab = Lab::start();
    let s = Scratch::new();
    let journey = "name: cold\ntimeout: 12s\nstep_timeout: 10s\nvars: { base: \"${env:BASE_URL}\" }\n\
                   steps:\n  - goto: ${base}/login\n  - wait_for: { selector: \"#never\" }\n";
    let file = s.path().join("cold.yaml");
    std::fs::write(&file, journey).unwrap();
    let run = |chromium: Option<&std::path::Path>| {
        let mut cmd = s.command(
            &lab.base_url(),
            &[
                "run",
                file.to_str().unwrap(),
                "--format",
                "json",
                "--no-artifacts",
            ],
        );
        if let Some(c) = chromium {
            cmd.env("JOURNEYPROBE_CHROMIUM", c);
        }
        let out = s.run(cmd);
        let r = json_results(&out).first().cloned().unwrap_or_default();
        (out.status.code(), r, show(&out))
    };
    // A browser that starts at its usual pace: the journey's timeout is the target's.
    let (code, r, out) = run(None);
    assert_eq!(code, Some(1), "{out}");
    assert_eq!(r["reason"], "journey_timeout", "{r:#}");
    // Five of the twelve seconds spent starting the browser: the prober's.
    let slow = slow_chromium(&s, 5);
    let (code, r, out) = run(Some(&slow));
    assert_eq!(code, Some(3), "{out}");
    assert_eq!(r["outcome"], "error", "{r:#}");
    assert_eq!(r["reason"], "browser_start_slow", "{r:#}");
    let message = r["message"].as_str().unwrap();
    assert!(message.contains("the browser took"), "{message}");
    assert!(
        message.contains("not counted against the target"),
        "{message}"
    );
}

#[test]
fn serve_warms_the_browser_before_the_first_run() {
    let lab = Lab::start();
    let s = Scratch::new();
    let probes = s.path().join("probes");
    std::fs::create_dir_all(&probes).unwrap();
    std::fs::write(
        probes.join("login.yaml"),
        "name: login\nevery: 5s\ntimeout: 4s\nvars: { base: \"${env:BASE_URL}\" }\n\
         steps:\n  - goto: ${base}/login\n  - assert_title: Sign in\n",
    )
    .unwrap();
    let serve = Served::start(
        &s,
        &lab.base_url(),
        &s.path().join("data"),
        &[probes.to_str().unwrap()],
    );
    serve.wait_for("a run", Duration::from_secs(60), |m| {
        m.count("journeyprobe_runs_total", &[("probe", "login")]) >= 1.0
    });
    let log = serve.log_text();
    let at = |needle: &str| {
        log.find(needle)
            .unwrap_or_else(|| panic!("no {needle:?} in the log:\n{log}"))
    };
    let warming = at("warming the browser before the first runs");
    let warm = at("browser warm in");
    let first_run = at("run succeeded");
    assert!(warming < warm && warm < first_run, "{log}");
}
