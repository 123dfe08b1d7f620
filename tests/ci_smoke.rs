//! Acceptance: `journeyprobe run` as the CI smoke check after a deploy. The real binary,
//! real Chromium through real chromedriver, the fault-lab site on loopback; its JUnit report
//! read back by a JUnit parser that is not ours (Python's `junitparser`), its `--json` file,
//! the GitHub step summary, `--retries` on the lab's flaky route and `--env` blocks.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Once;

use common::{Lab, PASSWORD, Scratch, json_results, show};
use journeyprobe::faultlab::Faults;
use serde_json::Value;

/// Dumps a JUnit file as JSON, as `junitparser` reads it: per suite its counts, per case
/// its result elements (failure, error, skipped), system-out, properties and the tags of
/// every child element (junitparser knows no flakyFailure; the tags show it is there).
const READ_JUNIT: &str = r##"
import json, sys
from junitparser import JUnitXml
xml = JUnitXml.fromfile(sys.argv[1])
suites = []
for suite in xml:
    cases = []
    for case in suite:
        props = {}
        for p in case._elem.iter("property"):
            props.setdefault(p.get("name"), []).append(p.get("value"))
        cases.append({
            "name": case.name,
            "classname": case.classname,
            "passed": case.is_passed,
            "results": [{"kind": type(r).__name__, "message": r.message, "type": r.type,
                         "text": r.text} for r in case.result],
            "system_out": case.system_out or "",
            "properties": props,
            "children": [c.tag for c in case._elem],
        })
    suites.append({"name": suite.name, "tests": suite.tests, "failures": suite.failures,
                   "errors": suite.errors, "cases": cases})
json.dump(suites, sys.stdout)
"##;

/// Install junitparser (PyPI) once if it is missing; `scripts/ensure-deps` installs it too.
fn ensure_junitparser() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let have = Command::new("python3")
            .args(["-c", "import junitparser"])
            .status()
            .is_ok_and(|s| s.success());
        if !have {
            let st = Command::new("python3")
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                ])
                .arg("junitparser")
                .status()
                .expect("python3 runs");
            assert!(st.success(), "cannot install junitparser");
        }
    });
}

/// The JUnit file at `path`, as junitparser reads it.
fn read_junit(path: &Path) -> Vec<Value> {
    ensure_junitparser();
    let child = Command::new("python3")
        .arg("-c")
        .arg(READ_JUNIT)
        .arg(path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "junitparser cannot read {}: {}\n{}",
        path.display(),
        String::from_utf8_lossy(&out.stderr),
        std::fs::read_to_string(path).unwrap_or_default()
    );
    serde_json::from_slice::<Value>(&out.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// The test case named `name` in any suite.
fn case<'a>(suites: &'a [Value], name: &str) -> &'a Value {
    suites
        .iter()
        .flat_map(|s| s["cases"].as_array().unwrap())
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no testcase {name} in {suites:#?}"))
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn text(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

const OK_PAGE: &str = r##"name: ok_page
timeout: 20s
vars: { base: "${env:BASE_URL}" }
steps:
  - goto: ${base}/login
  - assert_title: Sign in
"##;

/// Fails at step 4 (low_contrast) when the lab draws the button in its background colour.
const SIGN_IN: &str = r##"name: sign_in
timeout: 20s
incident: [INC-42]
runbook: https://wiki.example.com/runbooks/sign-in
vars: { base: "${env:BASE_URL}", user: probe@example.com }
secrets: { password: "${env:LOGIN_PASSWORD}" }
steps:
  - goto: ${base}/login
  - fill: { selector: "#username", value: "${user}" }
  - fill: { selector: "#password", value: "${password}" }
  - name: submit button is visible
    assert_visible: { selector: "button[type=submit]", min_contrast: 3.0 }
  - click: "button[type=submit]"
"##;

/// The browser rejects the selector: the probe file is wrong, an error, not a failure.
const BROKEN_SELECTOR: &str = r##"name: broken_selector
timeout: 20s
vars: { base: "${env:BASE_URL}" }
steps:
  - goto: ${base}/login
  - click: "button[[type"
"##;

#[test]
fn junit_tells_failures_from_errors_and_carries_the_step_timeline() {
    let lab = Lab::start();
    lab.set(Faults {
        invisible_submit: true,
        ..Faults::default()
    });
    let s = Scratch::new();
    let probes = s.path().join("probes");
    std::fs::create_dir_all(&probes).unwrap();
    write(&probes, "a_ok.yaml", OK_PAGE);
    write(&probes, "b_sign_in.yaml", SIGN_IN);
    write(&probes, "c_broken.yaml", BROKEN_SELECTOR);
    let junit = s.path().join("junit.xml");
    let jsonl = s.path().join("results.jsonl");
    let summary = write(s.path(), "summary.md", "earlier step's summary\n");
    let arts = s.artifacts();
    let mut cmd = s.command(&lab.base_url(), &["run"]);
    cmd.arg(&probes)
        .arg("--junit")
        .arg(&junit)
        .arg("--json")
        .arg(&jsonl)
        .arg("--artifacts")
        .arg(&arts)
        .env("GITHUB_STEP_SUMMARY", &summary);
    let out = s.run(cmd);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    // stdout stays human; the JSON lines went to the file.
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("✗ sign_in: failure (low_contrast)"),
        "{}",
        show(&out)
    );
    assert!(json_results(&out).is_empty(), "{}", show(&out));

    let suites = read_junit(&junit);
    assert_eq!(suites.len(), 1, "{suites:#?}");
    let suite = &suites[0];
    assert_eq!(suite["name"], "journey");
    assert_eq!(
        (&suite["tests"], &suite["failures"], &suite["errors"]),
        (&Value::from(3), &Value::from(1), &Value::from(1)),
        "{suite:#}"
    );

    let ok = case(&suites, "ok_page");
    assert_eq!(ok["classname"], "journey");
    assert_eq!(ok["passed"], true, "{ok:#}");
    assert!(
        ok["system_out"]
            .as_str()
            .unwrap()
            .contains("[2/2] assert title"),
        "{ok:#}"
    );

    let failed = case(&suites, "sign_in");
    let r = &failed["results"][0];
    assert_eq!(failed["results"].as_array().unwrap().len(), 1, "{failed:#}");
    assert_eq!(r["kind"], "Failure", "{failed:#}");
    assert_eq!(r["type"], "low_contrast", "{failed:#}");
    assert!(
        r["message"].as_str().unwrap().contains("contrast 1:1"),
        "{failed:#}"
    );
    let so = failed["system_out"].as_str().unwrap();
    for want in [
        "[1/5] goto http://127.0.0.1:",
        "— passed in ",
        "[4/5] submit button is visible — FAILED in ",
        "[5/5] click \"button[type=submit]\" — skipped",
        "incident: INC-42",
        "runbook: https://wiki.example.com/runbooks/sign-in",
        "screenshot.png",
    ] {
        assert!(so.contains(want), "no '{want}' in system-out:\n{so}");
    }
    // The artifact paths it names are there.
    for line in so.lines().filter(|l| l.trim_start().starts_with('/')) {
        assert!(Path::new(line.trim()).exists(), "{line} does not exist");
    }

    let broken = case(&suites, "broken_selector");
    assert_eq!(broken["results"][0]["kind"], "Error", "{broken:#}");
    assert_eq!(
        broken["results"][0]["type"], "invalid_selector",
        "{broken:#}"
    );
    assert!(
        broken["system_out"]
            .as_str()
            .unwrap()
            .contains("[2/2] click \"button[[type\" — FAILED"),
        "{broken:#}"
    );

    // --json FILE: the same objects as --format json, one per probe run.
    let lines: Vec<Value> = text(&jsonl)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    let outcome = |name: &str| {
        let v = lines.iter().find(|v| v["probe"] == name).expect(name);
        (
            v["outcome"].as_str().unwrap().to_string(),
            v["attempts"].clone(),
            v["flaky"].clone(),
        )
    };
    assert_eq!(lines.len(), 3, "{lines:#?}");
    assert_eq!(
        outcome("ok_page"),
        ("success".into(), 1.into(), false.into())
    );
    assert_eq!(outcome("sign_in").0, "failure");
    assert_eq!(outcome("broken_selector").0, "error");

    // The step summary is appended to, never overwritten.
    let md = text(&summary);
    assert!(
        md.starts_with(
            "earlier step's summary\n### journeyprobe: 1 passed, 1 failed, 1 could not be verified"
        ),
        "{md}"
    );
    for want in [
        "| probe | kind | outcome | reason | duration |",
        "| ok\\_page | journey | ✅ success |",
        "| sign\\_in | journey | ❌ failure | `low_contrast` |",
        "| broken\\_selector | journey | ❔ error (could not verify) | `invalid_selector` |",
        "- failed step 4/5: submit button is visible (`assert_visible`",
        "- runbook: [runbook](https://wiki.example.com/runbooks/sign-in)",
        "- incident: INC-42",
    ] {
        assert!(md.contains(want), "no '{want}' in the summary:\n{md}");
    }

    // The password was typed into the page, and is in none of the reports.
    for (name, body) in [
        ("junit", text(&junit)),
        ("json", text(&jsonl)),
        ("summary", md),
    ] {
        assert!(
            !body.contains(PASSWORD),
            "the password is in the {name} report"
        );
    }
}

const FLAKY: &str = r##"checks:
  - name: flaky_route
    retries: 1
    timeout: 2s
    http: { url: "${env:BASE_URL}/flaky" }
"##;

#[test]
fn a_pass_on_retry_exits_0_and_every_report_says_it_was_flaky() {
    let lab = Lab::start();
    let s = Scratch::new();
    let file = write(s.path(), "flaky.yaml", FLAKY);
    let junit = s.path().join("junit.xml");
    let jsonl = s.path().join("results.jsonl");
    let summary = s.path().join("summary.md");
    // /flaky answers 500 to the lab's first request and 200 to the next.
    let mut cmd = s.command(&lab.base_url(), &["run"]);
    cmd.arg(&file)
        .arg("--junit")
        .arg(&junit)
        .arg("--json")
        .arg(&jsonl)
        .env("GITHUB_STEP_SUMMARY", &summary);
    let out = s.run(cmd);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("✓ flaky_route (http check): success in ")
            && stdout.contains("flaky: passed on attempt 2 of 2"),
        "{stdout}"
    );
    assert!(
        stdout.contains("attempt 1: failure (status_mismatch)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("1 passed (1 flaky: passed on a retry)"),
        "{stdout}"
    );

    let v: Value = serde_json::from_str(text(&jsonl).trim()).unwrap();
    assert_eq!(v["outcome"], "success", "{v:#}");
    assert_eq!(v["attempts"], 2, "{v:#}");
    assert_eq!(v["flaky"], true, "{v:#}");
    assert_eq!(
        v["earlier_attempts"][0]["reason"], "status_mismatch",
        "{v:#}"
    );

    let suites = read_junit(&junit);
    let c = case(&suites, "flaky_route");
    assert_eq!(c["classname"], "http");
    assert_eq!(c["passed"], true, "a flaky pass is a pass: {c:#}");
    assert!(
        c["children"]
            .as_array()
            .unwrap()
            .contains(&"flakyFailure".into()),
        "{c:#}"
    );
    assert_eq!(c["properties"]["flaky"][0], "true", "{c:#}");
    assert_eq!(c["properties"]["attempts"][0], "2", "{c:#}");
    assert!(
        c["system_out"]
            .as_str()
            .unwrap()
            .starts_with("FLAKY: passed on attempt 2 of 2"),
        "{c:#}"
    );

    let md = text(&summary);
    assert!(md.contains("1 passed (1 flaky)"), "{md}");
    assert!(
        md.contains("| flaky\\_route | http | ⚠️ success, flaky (2 attempts) |"),
        "{md}"
    );

    // --retries 0 overrides the file: the next request is a 500 again, and it counts.
    let mut cmd = s.command(
        &lab.base_url(),
        &["run", "--format", "json", "--retries", "0"],
    );
    cmd.arg(&file).env_remove("GITHUB_STEP_SUMMARY");
    let out = s.run(cmd);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let r = &json_results(&out)[0];
    assert_eq!(
        (r["outcome"].as_str(), r["attempts"].as_u64()),
        (Some("failure"), Some(1)),
        "{r:#}"
    );
}

#[test]
fn an_unreachable_webdriver_is_an_error_in_junit_with_each_attempt() {
    let lab = Lab::start();
    let s = Scratch::new();
    let file = write(s.path(), "ok.yaml", OK_PAGE);
    let junit = s.path().join("junit.xml");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let webdriver = format!("http://127.0.0.1:{port}");
    let mut cmd = s.command(
        &lab.base_url(),
        &["run", "--no-artifacts", "--retries", "1"],
    );
    cmd.arg(&file)
        .arg("--webdriver")
        .arg(&webdriver)
        .arg("--junit")
        .arg(&junit);
    let out = s.run(cmd);
    assert_eq!(out.status.code(), Some(3), "{}", show(&out));
    let suites = read_junit(&junit);
    let c = case(&suites, "ok_page");
    assert_eq!(c["results"][0]["kind"], "Error", "{c:#}");
    assert_eq!(c["results"][0]["type"], "webdriver_unreachable", "{c:#}");
    assert!(
        c["children"]
            .as_array()
            .unwrap()
            .contains(&"rerunError".into()),
        "{c:#}"
    );
    assert!(
        c["system_out"]
            .as_str()
            .unwrap()
            .starts_with("2 attempts, none passed"),
        "{c:#}"
    );
}

/// `base` points at a closed port unless an environment says otherwise.
const ENVS: &str = r##"vars:
  base: http://127.0.0.1:1
envs:
  lab: { base: "${env:BASE_URL}" }
  closed: {}
checks:
  - name: healthz
    http: { url: "${base}/healthz" }
"##;

const NO_ENVS: &str = r##"checks:
  - name: login_page
    http: { url: "${env:BASE_URL}/login" }
"##;

#[test]
fn env_picks_a_block_of_vars_and_names_the_known_ones_when_it_is_missing() {
    let lab = Lab::start();
    let s = Scratch::new();
    write(s.path(), "envs.yaml", ENVS);
    write(s.path(), "plain.yaml", NO_ENVS);
    let run = |extra: &[&str]| {
        let mut cmd = s.command(
            &lab.base_url(),
            &["run", "envs.yaml", "plain.yaml", "--format", "json"],
        );
        cmd.args(extra).current_dir(s.path());
        s.run(cmd)
    };
    let reason = |out: &std::process::Output, probe: &str| {
        let r = json_results(out)
            .into_iter()
            .find(|r| r["probe"] == probe)
            .unwrap();
        r["reason"].as_str().unwrap_or("none").to_string()
    };

    let out = run(&["--env", "lab"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(
        json_results(&out).len(),
        2,
        "a file without envs: runs as it is"
    );

    for extra in [&[][..], &["--env", "closed"][..]] {
        let out = run(extra);
        assert_eq!(out.status.code(), Some(1), "{extra:?}: {}", show(&out));
        assert_eq!(reason(&out, "healthz"), "connect_refused", "{extra:?}");
        assert_eq!(reason(&out, "login_page"), "none", "{extra:?}");
    }

    let want = "envs.yaml:3:1: envs: no environment 'stagng' (selected with --env) in this file; it defines: lab, closed";
    let out = run(&["--env", "stagng"]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(out.stdout.is_empty(), "nothing ran: {}", show(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.lines().any(|l| l.starts_with(want)), "{stderr}");

    let validate = |extra: &[&str]| {
        let mut cmd = s.command(&lab.base_url(), &["validate", "envs.yaml", "plain.yaml"]);
        cmd.args(extra).current_dir(s.path());
        s.run(cmd)
    };
    let out = validate(&["--env", "stagng"]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.lines().any(|l| l.starts_with(want)), "{stdout}");
    let out = validate(&["--env", "lab"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
}

#[test]
fn a_report_file_that_cannot_be_written_is_a_usage_error_and_nothing_runs() {
    let lab = Lab::start();
    let s = Scratch::new();
    let file = write(s.path(), "flaky.yaml", FLAKY);
    for flag in ["--junit", "--json"] {
        let mut cmd = s.command(&lab.base_url(), &["run"]);
        cmd.arg(&file)
            .arg(flag)
            .arg(s.path().join("no/such/folder/out"));
        let out = s.run(cmd);
        assert_eq!(out.status.code(), Some(2), "{flag}: {}", show(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&format!("cannot write {flag} ")),
            "{stderr}"
        );
        assert!(out.stdout.is_empty(), "{flag}: {}", show(&out));
    }
}
