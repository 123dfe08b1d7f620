//! Change events and the read API of `journeyprobe serve`: the token guards writes, bad
//! bodies are refused with a message, nothing is stored in either case; `journeyprobe
//! event` posts one; BPMs and runs are readable as JSON.

mod common;

use std::time::Duration;

use common::serve::{Served, http};
use common::{Lab, Scratch};

const TOKEN: &str = "events-token-1234";

fn post(serve: &Served, auth: Option<&str>, body: &str) -> (u16, serde_json::Value) {
    let headers = auth
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let (status, _, body) = http(&serve.addr, "POST", "/api/v1/events", &headers, body);
    (
        status,
        serde_json::from_str(&body).unwrap_or(serde_json::Value::Null),
    )
}

fn get_json(serve: &Served, path: &str) -> serde_json::Value {
    let (status, _, body) = serve.get(path, None);
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).unwrap()
}

fn start(s: &Scratch, lab: &Lab) -> Served {
    let probes = s.path().join("probes");
    std::fs::create_dir_all(&probes).unwrap();
    std::fs::write(
        probes.join("route.yaml"),
        "checks:\n  - name: login_route\n    every: 1s\n    http: { url: \"${env:BASE_URL}/login\" }\n\
         bpms:\n  - name: route_ok\n    probes: [login_route]\n    windows: [5m]\n    expected: { min: 0.99 }\n",
    )
    .unwrap();
    let mut cmd_args = vec![probes.to_str().unwrap().to_string()];
    cmd_args.extend(["--events-token".to_string(), TOKEN.to_string()]);
    let args: Vec<&str> = cmd_args.iter().map(String::as_str).collect();
    Served::start(s, &lab.base_url(), &s.path().join("data"), &args)
}

#[test]
fn the_events_api_refuses_bad_tokens_and_bodies_and_stores_nothing_then() {
    let lab = Lab::start();
    let s = Scratch::new();
    let serve = start(&s, &lab);
    let good = r#"{"kind":"deploy","service":"web","version":"v1.2.3"}"#;

    let (status, body) = post(&serve, None, good);
    assert_eq!(status, 401, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("missing Authorization")
    );
    assert_eq!(post(&serve, Some("wrong"), good).0, 401);
    let (status, body) = post(&serve, Some(TOKEN), r#"{"kind":"rollout","service":"web"}"#);
    assert_eq!(status, 400);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("unknown variant `rollout`"),
        "{body}"
    );
    let (status, body) = post(&serve, Some(TOKEN), r#"{"kind":"flag","service":"web"}"#);
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("a flag event names its flag (flag: …)"))
    );
    assert_eq!(post(&serve, Some(TOKEN), "not json").0, 400);
    assert_eq!(
        get_json(&serve, "/api/v1/events"),
        serde_json::json!([]),
        "nothing stored"
    );
    assert_eq!(
        serve
            .metrics()
            .count("journeyprobe_change_events_total", &[]),
        0.0
    );

    let (status, stored) = post(&serve, Some(TOKEN), good);
    assert_eq!(status, 201, "{stored}");
    assert_eq!(
        (stored["kind"].as_str(), stored["version"].as_str()),
        (Some("deploy"), Some("v1.2.3"))
    );

    // The command-line client posts the same way (an hour ago: within the retention).
    let an_hour_ago =
        humantime::format_rfc3339_seconds(std::time::SystemTime::now() - Duration::from_secs(3600))
            .to_string();
    let out = s.run({
        let mut c = s.command(
            &lab.base_url(),
            &[
                "event",
                "--kind",
                "flag",
                "--service",
                "web",
                "--flag",
                "new_checkout",
                "--at",
                &an_hour_ago,
                "--url",
                &format!("http://{}", serve.addr),
            ],
        );
        c.env("JOURNEYPROBE_EVENTS_TOKEN", TOKEN);
        c
    });
    assert!(out.status.success(), "{}", common::show(&out));
    let wrong = s.run({
        let mut c = s.command(
            &lab.base_url(),
            &[
                "event",
                "--kind",
                "deploy",
                "--service",
                "web",
                "--url",
                &format!("http://{}", serve.addr),
            ],
        );
        c.env("JOURNEYPROBE_EVENTS_TOKEN", "nope");
        c
    });
    assert_eq!(wrong.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&wrong.stderr).contains("answered 401: wrong bearer token"),
        "{}",
        common::show(&wrong)
    );

    let events = get_json(&serve, "/api/v1/events?since=1d");
    let kinds: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["flag", "deploy"], "oldest first: {events}");
    let at = an_hour_ago.trim_end_matches('Z');
    assert_eq!(events[0]["at"], format!("{at}.000Z"));
    let m = serve.metrics();
    assert_eq!(
        m.count("journeyprobe_change_events_total", &[("kind", "deploy")]),
        1.0
    );
    assert_eq!(
        m.count("journeyprobe_change_events_total", &[("kind", "flag")]),
        1.0
    );
    assert_eq!(serve.get("/api/v1/events?since=soon", None).0, 400);
}

#[test]
fn bpms_and_runs_are_readable_as_json() {
    let lab = Lab::start();
    let s = Scratch::new();
    let serve = start(&s, &lab);
    serve.wait_for("two runs", Duration::from_secs(10), |m| {
        m.count(
            "journeyprobe_runs_total",
            &[("probe", "login_route"), ("outcome", "success")],
        ) >= 2.0
    });
    let bpms = get_json(&serve, "/api/v1/bpms");
    let b = &bpms[0];
    assert_eq!(b["name"], "route_ok");
    assert_eq!(b["expected"]["min"], 0.99);
    assert_eq!(b["windows"][0]["window"], "5m");
    assert_eq!(b["windows"][0]["ratio"], 1.0);
    assert_eq!(b["windows"][0]["state"], "in_band");
    let runs = get_json(&serve, "/api/v1/runs?probe=login_route&limit=1");
    assert_eq!(runs.as_array().unwrap().len(), 1);
    assert_eq!(runs[0]["outcome"], "success");
    assert_eq!(runs[0]["result"]["kind"], "http");
    assert!(
        runs[0]["result"]["timings"]["total"].as_f64().is_some(),
        "{runs}"
    );
}

#[test]
fn without_a_configured_token_posting_is_refused() {
    let lab = Lab::start();
    let s = Scratch::new();
    let probes = s.path().join("probes");
    std::fs::create_dir_all(&probes).unwrap();
    std::fs::write(
        probes.join("route.yaml"),
        "checks:\n  - name: login_route\n    http: { url: \"${env:BASE_URL}/login\" }\n",
    )
    .unwrap();
    let serve = Served::start(
        &s,
        &lab.base_url(),
        &s.path().join("data"),
        &[probes.to_str().unwrap()],
    );
    let (status, body) = post(
        &serve,
        Some("anything"),
        r#"{"kind":"deploy","service":"web"}"#,
    );
    assert_eq!(status, 403, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("JOURNEYPROBE_EVENTS_TOKEN")
    );
}

#[test]
fn control_characters_in_any_event_field_are_refused_and_never_forge_a_log_line() {
    let lab = Lab::start();
    let s = Scratch::new();
    let serve = start(&s, &lab);
    let forged = "web\n2026-12-04T19:11:00Z ERROR journeyprobe::service::probe: FORGED";
    let bodies = [
        (
            "service",
            serde_json::json!({"kind": "deploy", "service": forged}),
        ),
        (
            "service",
            serde_json::json!({"kind": "deploy", "service": "x\u{0}y"}),
        ),
        (
            "version",
            serde_json::json!({"kind": "deploy", "service": "web", "version": "v1\r\nFORGED"}),
        ),
        (
            "flag",
            serde_json::json!({"kind": "flag", "service": "web", "flag": "f\u{1b}[2J"}),
        ),
        (
            "description",
            serde_json::json!({"kind": "deploy", "service": "web", "description": "a\nFORGED"}),
        ),
        (
            "at",
            serde_json::json!({"kind": "deploy", "service": "web", "at": "2026-11-25T06:00:00Z\n"}),
        ),
    ];
    for (field, body) in bodies {
        let (status, answer) = post(&serve, Some(TOKEN), &body.to_string());
        assert_eq!(status, 400, "{body} -> {answer}");
        let msg = answer["error"].as_str().unwrap();
        assert!(
            msg.starts_with(&format!("{field}: ")) && msg.contains("control character"),
            "{body} -> {msg}"
        );
    }
    assert_eq!(
        get_json(&serve, "/api/v1/events?since=400d"),
        serde_json::json!([])
    );
    // A stored event is logged; the log line is one line whatever it carries.
    assert_eq!(
        post(&serve, Some(TOKEN), r#"{"kind":"deploy","service":"web"}"#).0,
        201
    );
    serve.wait_for("the event logged", Duration::from_secs(5), |_| {
        serve.log_text().contains("change event stored")
    });
    let log = serve.log_text();
    assert!(!log.contains('\u{0}'), "{log}");
    assert!(
        !log.lines().any(|l| l.contains("FORGED")),
        "a posted value reached the log: {log}"
    );
}

#[test]
fn an_events_time_is_bounded_by_now_and_the_history_retention() {
    let lab = Lab::start();
    let s = Scratch::new();
    let serve = start(&s, &lab);
    let (status, answer) = post(
        &serve,
        Some(TOKEN),
        r#"{"kind":"deploy","service":"web","at":"9999-12-31T00:00:00Z"}"#,
    );
    assert_eq!(status, 400, "{answer}");
    let msg = answer["error"].as_str().unwrap();
    assert!(
        msg.starts_with("at: ") && msg.contains("in the future"),
        "{msg}"
    );
    let (status, answer) = post(
        &serve,
        Some(TOKEN),
        r#"{"kind":"deploy","service":"web","at":"1970-01-02T00:00:00Z"}"#,
    );
    assert_eq!(status, 400, "{answer}");
    let msg = answer["error"].as_str().unwrap();
    assert!(
        msg.starts_with("at: ") && msg.contains("retention"),
        "{msg}"
    );
    assert_eq!(
        get_json(&serve, "/api/v1/events?since=1970-01-01T00:00:00Z"),
        serde_json::json!([])
    );
    // A minute ahead (clock skew) and a day ago are fine.
    let soon = humantime::format_rfc3339(std::time::SystemTime::now() + Duration::from_secs(60));
    let (status, answer) = post(
        &serve,
        Some(TOKEN),
        &format!(r#"{{"kind":"deploy","service":"web","at":"{soon}"}}"#),
    );
    assert_eq!(status, 201, "{answer}");
}

#[test]
fn a_secret_inside_a_posted_event_is_masked_in_the_answer_the_api_the_board_and_the_database() {
    const CANARY: &str = "canary-5ecr3t-7781";
    let lab = Lab::start();
    let s = Scratch::new();
    let probes = s.path().join("probes");
    std::fs::create_dir_all(&probes).unwrap();
    std::fs::write(probes.join("token.txt"), CANARY).unwrap();
    std::fs::write(
        probes.join("route.yaml"),
        "secrets:\n  token: ${file:token.txt}\n\
         checks:\n  - name: login_route\n    every: 1s\n    http:\n      url: \"${env:BASE_URL}/login\"\n      headers: { x-token: \"${token}\" }\n",
    )
    .unwrap();
    let data = s.path().join("data");
    let mut serve = Served::start(
        &s,
        &lab.base_url(),
        &data,
        &[probes.to_str().unwrap(), "--events-token", TOKEN],
    );
    let body = serde_json::json!({
        "kind": "deploy",
        "service": format!("web {CANARY}"),
        "version": CANARY,
        "description": format!("rotated {CANARY} today"),
    });
    let (status, answer) = post(&serve, Some(TOKEN), &body.to_string());
    assert_eq!(status, 201, "{answer}");
    let answer = answer.to_string();
    assert!(
        !answer.contains(CANARY) && answer.contains("••••"),
        "{answer}"
    );
    let listed = get_json(&serve, "/api/v1/events").to_string();
    assert!(
        !listed.contains(CANARY) && listed.contains("••••"),
        "{listed}"
    );
    let (_, _, board) = serve.get("/", Some("text/html"));
    assert!(!board.contains(CANARY), "the board shows the secret");
    assert!(!serve.log_text().contains(CANARY), "{}", serve.log_text());
    serve.signal(libc::SIGTERM);
    serve.wait_exit(Duration::from_secs(20));
    let mut leaked = Vec::new();
    let mut files = Vec::new();
    common::walk(&data, &mut files);
    for f in files {
        let bytes = std::fs::read(&f).unwrap_or_default();
        if bytes.windows(CANARY.len()).any(|w| w == CANARY.as_bytes()) {
            leaked.push(f);
        }
    }
    assert!(leaked.is_empty(), "the secret is stored in {leaked:?}");
}
