//! Acceptance: the session pool, through real Chromium and chromedriver against the fault-lab
//! site. One warm session serves several runs of `journeyprobe run`; nothing a run left in
//! the browser (cookies, local and session storage) reaches the next one, and a session
//! whose chromedriver died is replaced.

mod common;

use std::path::Path;

use common::{Lab, Scratch, json_results, show};

/// Signs in, then shows that the site remembered the user in this browser: after this run
/// the browser holds a session cookie, local storage and session storage for the lab.
const SIGN_IN: &str = r##"
name: a_sign_in
timeout: 30s
vars: { base: "${env:BASE_URL}" }
secrets: { password: "${env:LOGIN_PASSWORD}" }
steps:
  - goto: ${base}/login
  - name: a new visitor
    assert_text: { selector: "#remembered", contains: "New visitor" }
  - fill: { selector: "#username", value: "probe@example.com" }
  - fill: { selector: "#password", value: "${password}" }
  - click: "button[type=submit]"
  - wait_for: { url_matches: "/dashboard$" }
  - assert_text: { selector: "#welcome", contains: "Welcome" }
  - goto: ${base}/login
  - name: remembered in local and session storage
    assert_text: { selector: "#remembered", equals: "Welcome back, probe@example.com (this tab)" }
"##;

/// Expects a browser that never saw the site: signed out, nothing remembered.
const VISITOR: &str = r##"
name: b_visitor
timeout: 30s
vars: { base: "${env:BASE_URL}" }
steps:
  - goto: ${base}/dashboard
  - name: no session cookie
    assert_text: { selector: "#welcome", contains: "Please sign in" }
  - goto: ${base}/login
  - name: no local or session storage
    assert_text: { selector: "#remembered", equals: "New visitor" }
"##;

/// The runs' result lines (not the `--repeat` summaries).
fn runs(out: &std::process::Output) -> Vec<serde_json::Value> {
    json_results(out)
        .into_iter()
        .filter(|r| r["kind"] == "journey")
        .collect()
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

#[test]
fn a_warm_session_keeps_nothing_of_the_previous_run() {
    let lab = Lab::start();
    let s = Scratch::new();
    let probes = s.path().join("probes");
    std::fs::create_dir_all(&probes).unwrap();
    write(&probes, "a_sign_in.yaml", SIGN_IN);
    write(&probes, "b_visitor.yaml", VISITOR);
    let dir = probes.display().to_string();
    // Each journey twice, one after another: sign in, sign in, visitor, visitor.
    let out = s.run(s.command(
        &lab.base_url(),
        &[
            "run",
            &dir,
            "--repeat",
            "2",
            "--format",
            "json",
            "--no-artifacts",
        ],
    ));
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let runs = runs(&out);
    let seen: Vec<(&str, &str, &str)> = runs
        .iter()
        .map(|r| {
            (
                r["probe"].as_str().unwrap(),
                r["outcome"].as_str().unwrap(),
                r["session"].as_str().unwrap_or("-"),
            )
        })
        .collect();
    // One browser served all four runs: the first opened it, the others got it warm.
    assert_eq!(
        seen,
        [
            ("a_sign_in", "success", "new"),
            ("a_sign_in", "success", "warm"),
            ("b_visitor", "success", "warm"),
            ("b_visitor", "success", "warm"),
        ],
        "{}",
        show(&out)
    );
}

#[test]
fn without_the_pool_every_run_opens_its_own_session() {
    let lab = Lab::start();
    let s = Scratch::new();
    let probes = s.path().join("probes");
    std::fs::create_dir_all(&probes).unwrap();
    write(&probes, "b_visitor.yaml", VISITOR);
    // isolation: fresh opts one journey out; --no-pool opts the whole run out.
    write(
        &probes,
        "a_sign_in.yaml",
        &SIGN_IN.replace("timeout: 30s", "timeout: 30s\nisolation: fresh"),
    );
    let dir = probes.display().to_string();
    let out = s.run(s.command(
        &lab.base_url(),
        &[
            "run",
            &dir,
            "--repeat",
            "2",
            "--format",
            "json",
            "--no-artifacts",
        ],
    ));
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let sessions: Vec<String> = runs(&out)
        .iter()
        .map(|r| format!("{} {}", r["probe"].as_str().unwrap(), r["session"]))
        .collect();
    assert_eq!(
        sessions,
        [
            "a_sign_in \"new\"",
            "a_sign_in \"new\"",
            "b_visitor \"new\"",
            "b_visitor \"warm\""
        ],
        "{}",
        show(&out)
    );

    let out = s.run(s.command(
        &lab.base_url(),
        &[
            "run",
            &dir,
            "--journey",
            "b_visitor",
            "--repeat",
            "2",
            "--no-pool",
            "--format",
            "json",
            "--no-artifacts",
        ],
    ));
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let sessions: Vec<String> = runs(&out)
        .iter()
        .map(|r| r["session"].to_string())
        .collect();
    assert_eq!(sessions, ["\"new\"", "\"new\""], "{}", show(&out));
}
