//! `journeyprobe demo` as a new user runs it: it says what it is doing (the lab, the board's
//! address, the browser's first start) and prints the commands to try next; the site, serve
//! and the board come up, the login BPM is in band; the printed run command, pasted as
//! printed, passes against the demo's lab; a fault switched on from the board's fault-lab
//! panel turns the login tile below band within two intervals, and the repro line the demo
//! prints for that failure re-runs it; Ctrl-C stops everything it started.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
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

/// The demo's stdout, line by line, as it comes, and every line so far.
struct Said {
    rx: mpsc::Receiver<String>,
    all: Vec<String>,
}

impl Said {
    fn new(out: impl std::io::Read + Send + 'static) -> Said {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Said {
            rx,
            all: Vec::new(),
        }
    }

    /// The first line (already said, or said within `limit`) that `want` picks.
    fn wait(&mut self, what: &str, limit: Duration, want: impl Fn(&str) -> bool) -> String {
        if let Some(l) = self.all.iter().find(|l| want(l)) {
            return l.clone();
        }
        let end = Instant::now() + limit;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(line) => {
                    self.all.push(line.clone());
                    if want(&line) {
                        return line;
                    }
                }
                Err(e) => panic!(
                    "the demo did not say {what} within {limit:?} ({e}); it said:\n{}",
                    self.all.join("\n")
                ),
            }
        }
    }

    /// Index of the first line said so far that starts with `prefix`.
    fn position(&self, prefix: &str) -> usize {
        self.all
            .iter()
            .position(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no line starting {prefix:?} in:\n{}", self.all.join("\n")))
    }
}

/// A command line the demo printed, run as printed by a shell in the demo's folder, with the
/// test's binary first on PATH (in case the line names plain `journeyprobe`).
fn paste(line: &str, cwd: &Path, tmp: &Path) -> Output {
    let bin = Path::new(env!("CARGO_BIN_EXE_journeyprobe"))
        .parent()
        .unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Command::new("sh")
        .args(["-c", line])
        .current_dir(cwd)
        .env("PATH", path)
        .env("TMPDIR", tmp)
        .env_remove("BASE_URL")
        .env_remove("LOGIN_PASSWORD")
        .env_remove("RUST_LOG")
        .output()
        .expect("sh runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_runs_and_a_switch_on_the_board_breaks_the_login_bpm() {
    let s = Scratch::new();
    // A checkout as a new user has it: the shipped journeys beside the demo's folder.
    let checkout = s.path().join("checkout");
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("journeys");
    std::fs::create_dir_all(checkout.join("journeys")).unwrap();
    for entry in std::fs::read_dir(&shipped).unwrap() {
        let file = entry.unwrap().path();
        if file.is_file() {
            std::fs::copy(
                &file,
                checkout.join("journeys").join(file.file_name().unwrap()),
            )
            .unwrap();
        }
    }
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
                "demo",
            ])
            .current_dir(&checkout)
            .env("TMPDIR", s.tmp())
            .env_remove("BASE_URL")
            .env_remove("LOGIN_PASSWORD")
            .stdout(Stdio::piped())
            .stderr(Stdio::null()),
    );
    let mut said = Said::new(child.stdout.take().unwrap());
    let board = said.wait("the board's address", Duration::from_secs(60), |l| {
        l.starts_with("board:")
    });
    let board = board.strip_prefix("board:").unwrap().trim().to_string();

    // It said what it was doing, in order, before the board answered: the lab (with its
    // real address), the probe files, then the board.
    let starting = said.position("demo: starting the fault lab");
    let lab_line = said.position("fault lab:  http://127.0.0.1:");
    let probes_line = said.position("probes:     demo/probes (2 journeys");
    assert!(
        starting < lab_line && lab_line < probes_line && probes_line < said.position("board:"),
        "{:#?}",
        said.all
    );
    let lab = said.all[lab_line]
        .trim_start_matches("fault lab:")
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    // Under the board's address: the commands to try, then the browser's warm-up.
    said.wait(
        "that the browser is warming",
        Duration::from_secs(10),
        |l| l.starts_with("demo: warming the browser"),
    );
    let run_line = said.wait("the run command", Duration::ZERO, |l| {
        l.trim_start().starts_with("BASE_URL=")
    });
    let run_line = run_line.trim().to_string();
    // The login file's checks ask the lab's S3 and DNS servers: the line says where they
    // are, or runs the journey alone when the lab could not start one.
    let (servers, tail) = if said.all[lab_line].contains("with its S3 and DNS servers") {
        (
            " ASSETS_ENDPOINT=http://127.0.0.1:",
            " run journeys/login.yaml",
        )
    } else {
        ("", " run journeys/login.yaml --only journeys")
    };
    assert!(
        run_line.starts_with(&format!("BASE_URL={lab}{servers}"))
            && run_line.contains(" LOGIN_PASSWORD=\"$(cat demo/probes/password.secret)\" ")
            && (servers.is_empty() || run_line.contains(" LAB_NAMESERVER=127.0.0.1:"))
            && run_line.ends_with(tail),
        "{run_line}"
    );
    let repro_template = said.wait("the repro command", Duration::ZERO, |l| {
        l.contains(" repro RUN_ID --data-dir demo")
    });
    assert!(
        said.all
            .iter()
            .any(|l| l.contains(&format!("{board}runs/RUN_ID"))),
        "where to find a RUN_ID: {:#?}",
        said.all
    );
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
    said.wait("that the browser started", Duration::from_secs(30), |l| {
        l.starts_with("browser:    started, ")
    });

    // The printed run command, pasted as printed, runs the shipped journey against the lab.
    let ran = paste(&run_line, &checkout, &s.tmp());
    let out = String::from_utf8_lossy(&ran.stdout);
    assert!(
        ran.status.code() == Some(0) && out.contains("login: success"),
        "{run_line}\n{}",
        common::show(&ran)
    );

    // From the board: the fault lab's panel, "sign-in answers 500".
    let browser = Browser::start().await;
    browser.goto(&board).await;
    browser
        .wait_js(
            "the board with the lab panel",
            "return !!document.querySelector('.lab iframe')",
        )
        .await;
    // The lab's panel is folded, so the tiles are above the fold of a 1366×768 laptop
    // screen; opened, it shows the switches.
    browser.resize(1366, 768).await;
    let fold = browser
        .wait_js(
            "the first tile's headline",
            "const h = document.querySelector('.tile .headline'); \
             return h && [document.querySelector('.lab').open, h.getBoundingClientRect().bottom, innerHeight]",
        )
        .await;
    assert_eq!(fold[0], false, "the lab panel starts folded: {fold}");
    assert!(
        fold[1].as_f64() < fold[2].as_f64(),
        "the first tile's ratio is above the fold: {fold}"
    );
    if let Some(dir) = std::env::var_os("JOURNEYPROBE_BOARD_SHOTS") {
        let png = browser.screenshot().await;
        std::fs::write(std::path::Path::new(&dir).join("demo-1366x768.png"), png).unwrap();
    }
    browser
        .js("document.querySelector('.lab').open = true; return true")
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

    // The failure's own line names its run; its repro command, pasted, re-runs that run.
    let failed = said.wait("the login failure", Duration::from_secs(10), |l| {
        l.starts_with("login failed: run ")
    });
    let (_, repro_line) = failed
        .split_once("; reproduce it: ")
        .unwrap_or_else(|| panic!("{failed}"));
    let id = failed["login failed: run ".len()..]
        .split_whitespace()
        .next()
        .unwrap();
    assert_eq!(
        repro_line,
        repro_template.trim().replace("RUN_ID", id),
        "the failure's line is the template with its id"
    );
    let again = paste(repro_line, &checkout, &s.tmp());
    let out = String::from_utf8_lossy(&again.stdout);
    assert!(
        again.status.code() == Some(1) && out.contains("login: failure"),
        "{repro_line} (the fault is still on)\n{}",
        common::show(&again)
    );

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
