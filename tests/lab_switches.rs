//! Acceptance: the fault lab's own dependencies — a real S3 server holding the dashboard's
//! bundle and a real DNS server for its host name — broken and mended through its
//! `/_faults` switches, as a demo or a test flips them, and seen by bucket and DNS checks.

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;

use common::{Lab, Scratch, json_results, show};
use journeyprobe::faultlab::FaultLabOptions;

/// `POST path` with a JSON body to the lab; returns the status and the body.
fn post(base: &str, path: &str, body: &str) -> (u16, String) {
    let addr = base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(60)))
        .unwrap();
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, out)
}

fn get(base: &str, path: &str) -> String {
    let addr = base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out.split("\r\n\r\n").nth(1).unwrap_or("").to_string()
}

fn verdicts(s: &Scratch, lab: &Lab, file: &std::path::Path) -> BTreeMap<String, String> {
    let out = s.run(s.command(
        &lab.base_url(),
        &["run", file.to_str().unwrap(), "--format", "json"],
    ));
    let v: BTreeMap<String, String> = json_results(&out)
        .iter()
        .map(|r| {
            let verdict = if r["outcome"] == "success" {
                "success"
            } else {
                r["reason"].as_str().unwrap_or("?")
            };
            (
                r["probe"].as_str().unwrap().to_string(),
                verdict.to_string(),
            )
        })
        .collect();
    assert_eq!(v.len(), 2, "{}", show(&out));
    v
}

#[test]
fn bucket_and_dns_switches_break_the_labs_own_servers() {
    let lab = Lab::with_options(FaultLabOptions {
        backends: true,
        ..Default::default()
    });
    let base = lab.base_url();
    let endpoints: serde_json::Value = serde_json::from_str(&get(&base, "/_lab")).unwrap();
    let (s3, dns) = (
        endpoints["s3"].as_str().expect("an S3 server"),
        endpoints["dns"].as_str().expect("a DNS server"),
    );
    let s = Scratch::new();
    let file = s.path().join("deps.yaml");
    std::fs::write(
        &file,
        format!(
            "checks:\n  - name: assets_bucket\n    bucket: {{ endpoint: \"{s3}\", bucket: assets, key: dashboard.js }}\n\
             \x20 - name: app_dns\n    timeout: 1s\n    dns: {{ query: app.fault-lab.test, nameserver: \"{dns}\", expect: {{ answers_equal: [127.0.0.1] }} }}\n"
        ),
    )
    .unwrap();
    let healthy = verdicts(&s, &lab, &file);
    assert_eq!(healthy["assets_bucket"], "success");
    assert_eq!(healthy["app_dns"], "success");

    for (switch, probe, want) in [
        (
            r#"{"bucket_private": true}"#,
            "assets_bucket",
            "bucket_access_denied",
        ),
        (
            r#"{"bucket_deleted": true}"#,
            "assets_bucket",
            "bucket_not_found",
        ),
        (
            r#"{"dns_record": "changed"}"#,
            "app_dns",
            "dns_answer_mismatch",
        ),
        (r#"{"dns_record": "removed"}"#, "app_dns", "dns_nxdomain"),
        (r#"{"dns_stopped": true}"#, "app_dns", "dns_timeout"),
    ] {
        let (status, body) = post(&base, "/_faults", switch);
        assert_eq!(status, 200, "{switch}: {body}");
        assert_eq!(verdicts(&s, &lab, &file)[probe], want, "{switch}");
        let (status, body) = post(&base, "/_faults/reset", "");
        assert_eq!(status, 200, "reset after {switch}: {body}");
    }
    let mended = verdicts(&s, &lab, &file);
    assert_eq!(mended["assets_bucket"], "success");
    assert_eq!(mended["app_dns"], "success");
}

#[test]
fn a_dependency_switch_on_a_lab_without_that_dependency_is_refused() {
    let lab = Lab::start();
    let (status, body) = post(&lab.base_url(), "/_faults", r#"{"bucket_deleted": true}"#);
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("no S3 server"), "{body}");
    assert!(get(&lab.base_url(), "/_faults").contains("\"bucket_deleted\":false"));
}

#[test]
fn the_switches_page_flips_faults_from_a_real_browser() {
    let lab = Lab::start();
    let s = Scratch::new();
    let journey = s.path().join("switch.yaml");
    std::fs::write(
        &journey,
        "name: switch\nvars: { base: \"${env:BASE_URL}\" }\nsteps:\n  - goto: ${base}/_lab/switches\n\
         \x20 - click: \"input[name=login_500]\"\n\
         \x20 - assert_text: { selector: \"#jp-fault-status\", contains: \"switched at\" }\n",
    )
    .unwrap();
    let out = s.run(s.command(
        &lab.base_url(),
        &["run", journey.to_str().unwrap(), "--format", "json"],
    ));
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(
        lab.lab.as_ref().unwrap().faults().login_500,
        "the click switched login_500 on"
    );
    // A switch the lab cannot make (no DNS server here) is refused and the page says why.
    std::fs::write(
        &journey,
        "name: switch\nvars: { base: \"${env:BASE_URL}\" }\nsteps:\n  - goto: ${base}/_lab/switches\n\
         \x20 - click: \"input[name=dns_stopped]\"\n\
         \x20 - assert_text: { selector: \"#jp-fault-status.error\", contains: \"DNS\" }\n",
    )
    .unwrap();
    let out = s.run(s.command(
        &lab.base_url(),
        &["run", journey.to_str().unwrap(), "--format", "json"],
    ));
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(!lab.lab.as_ref().unwrap().faults().dns_stopped);
}

/// The shipped login example against the lab's own servers: with the assets bucket deleted,
/// the journey fails at the welcome wait (`element_not_found`), and its result names the
/// cause: its `assets_bucket` check fails with `bucket_not_found` while its other checks
/// pass. A DNS fault breaks no journey here (the lab is reached by address), and the
/// example's DNS check, a probe of its own, turns red.
#[test]
fn the_shipped_login_journey_names_the_deleted_bucket_and_its_dns_check_the_dns_fault() {
    let lab = Lab::with_options(FaultLabOptions {
        password: common::PASSWORD.into(),
        backends: true,
        ..Default::default()
    });
    let base = lab.base_url();
    let endpoints: serde_json::Value = serde_json::from_str(&get(&base, "/_lab")).unwrap();
    let (s3, dns) = (
        endpoints["s3"].as_str().expect("an S3 server"),
        endpoints["dns"].as_str().expect("a DNS server"),
    );
    let s = Scratch::new();
    let shipped = |args: &[&str]| {
        let mut cmd = s.command(&base, &[&["run", "journeys/login.yaml"], args].concat());
        cmd.env("ASSETS_ENDPOINT", s3).env("LAB_NAMESERVER", dns);
        s.run(cmd)
    };
    let healthy = shipped(&["--no-artifacts"]);
    assert_eq!(healthy.status.code(), Some(0), "{}", show(&healthy));

    let (status, body) = post(&base, "/_faults", r#"{"bucket_deleted": true}"#);
    assert_eq!(status, 200, "{body}");
    let out = shipped(&["--only", "journeys", "--no-artifacts"]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("✗ login: failure (element_not_found) in step 8"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "prerequisite assets_bucket fails: bucket_not_found — bucket assets does not exist"
        ),
        "the result names the deleted bucket: {stdout}"
    );
    for passing in ["login_page", "app_address"] {
        assert!(
            stdout.contains(&format!("prerequisite {passing} passes")),
            "{stdout}"
        );
    }
    post(&base, "/_faults/reset", "");

    let (status, body) = post(&base, "/_faults", r#"{"dns_record": "removed"}"#);
    assert_eq!(status, 200, "{body}");
    let out = shipped(&["--format", "json", "--no-artifacts"]);
    let verdicts: BTreeMap<String, (String, String)> = json_results(&out)
        .iter()
        .map(|r| {
            let probe = r["probe"].as_str().unwrap().to_string();
            let outcome = r["outcome"].as_str().unwrap().to_string();
            (probe, (outcome, r["reason"].as_str().unwrap_or("").into()))
        })
        .collect();
    assert_eq!(
        verdicts["app_address"],
        ("failure".into(), "dns_nxdomain".into()),
        "{}",
        show(&out)
    );
    assert_eq!(verdicts["login"].0, "success", "{}", show(&out));
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
}
