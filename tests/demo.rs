//! `journeyprobe demo` as a new user runs it: the site, serve and the board come up, the
//! login BPM is in band; a fault switched on from the board's fault-lab panel turns the
//! login tile below band within two intervals; Ctrl-C stops everything it started.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::board::Browser;
use common::child::Guarded;
use common::serve::http_get;
use common::{Scratch, children_named};

/// The demo's probes run this often here (its default is 10s).
const EVERY: Duration = Duration::from_secs(5);

fn login_state(addr: &str) -> Option<String> {
    let (status, _, body) = http_get(addr, "/api/v1/bpms", None);
    if status != 200 {
        return None;
    }
    let bpms: serde_json::Value = serde_json::from_str(&body).ok()?;
    let login = bpms.as_array()?.iter().find(|b| b["name"] == "login")?;
    login["windows"][0]["state"].as_str().map(str::to_string)
}

fn wait_state(addr: &str, want: &str, limit: Duration) -> Duration {
    let start = Instant::now();
    loop {
        let state = login_state(addr);
        if state.as_deref() == Some(want) {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < limit,
            "login never {want} within {limit:?} (last: {state:?})"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_runs_and_a_switch_on_the_board_breaks_the_login_bpm() {
    let s = Scratch::new();
    let data = s.path().join("demo");
    // Stopped (and its process group killed) if an assertion below fails.
    let mut child = Guarded::spawn(
        Command::new(env!("CARGO_BIN_EXE_journeyprobe"))
            .args([
                "demo",
                "--listen",
                "127.0.0.1:0",
                "--every",
                "5s",
                "--data-dir",
            ])
            .arg(&data)
            .env("TMPDIR", s.tmp())
            .env_remove("BASE_URL")
            .env_remove("LOGIN_PASSWORD")
            .stdout(Stdio::piped())
            .stderr(Stdio::null()),
    );
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let board = loop {
        let line = lines
            .next()
            .expect("the demo prints its addresses")
            .unwrap();
        if let Some(url) = line.strip_prefix("board:") {
            break url.trim().to_string();
        }
    };
    let addr = board
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    // The lab's S3 and DNS servers, where installed (scripts/ensure-deps installs both).
    let backends: Vec<i32> = ["dnsmasq", "moto_server"]
        .iter()
        .flat_map(|n| children_named(child.id(), n))
        .collect();

    // The shipped login journey passes against the healthy site.
    wait_state(&addr, "in_band", Duration::from_secs(90));

    // From the board: the fault lab's panel, "sign-in answers 500".
    let browser = Browser::start().await;
    browser.goto(&board).await;
    browser
        .wait_js(
            "the board with the lab panel",
            "return !!document.querySelector('.lab iframe')",
        )
        .await;
    browser.enter_frame(0).await;
    browser
        .wait_js(
            "the switches",
            "return !!document.querySelector('input[name=login_500]')",
        )
        .await;
    browser
        .js("document.querySelector('input[name=login_500]').click(); return true")
        .await;
    browser
        .wait_js(
            "the switch to take",
            "return document.getElementById('jp-fault-status').textContent.includes('switched at')",
        )
        .await;

    // Within two intervals (and the time a run takes), the tile turns below band.
    let took = wait_state(&addr, "below", EVERY * 2 + Duration::from_secs(10));
    browser.goto(&board).await;
    let state = browser
        .wait_js(
            "the login tile",
            "var t = document.getElementById('bpm-login'); return t && t.dataset.state",
        )
        .await;
    assert_eq!(state, "below", "the tile, {took:?} after the switch");
    browser.stop().await;

    child.signal(libc::SIGINT);
    let end = Instant::now() + Duration::from_secs(40);
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        assert!(Instant::now() < end, "the demo did not stop on Ctrl-C");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0));
    s.assert_no_leftovers();
    std::thread::sleep(Duration::from_millis(300));
    for pid in backends {
        let alive = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|st| {
                !st.rsplit(')')
                    .next()
                    .unwrap_or("")
                    .trim_start()
                    .starts_with('Z')
            })
            .unwrap_or(false);
        assert!(!alive, "the lab's server {pid} stopped with the demo");
    }
}
