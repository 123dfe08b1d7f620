//! Acceptance: a journeyprobe killed outright (SIGKILL: an OOM kill, a node drain that did
//! not wait) takes its browsers with it at once, in `run` and in `serve`, in Chromium and
//! in Firefox. No teardown of ours can run then: the drivers die with their parent
//! (parent-death signal) and the reaper process kills the browsers, whose command lines
//! name a profile folder of the dead journeyprobe. The start-up sweep of the next run
//! (tests/journeys.rs) stays as the line behind it.

mod common;

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::serve::Served;
use common::{Lab, Scratch, live_processes_mentioning};

const WAITS: &str = "name: waits\nevery: 60s\ntimeout: 30s\nstep_timeout: 25s\n\
                     vars: { base: \"${env:BASE_URL}\" }\n\
                     steps:\n  - goto: ${base}/login\n  - wait_for: { selector: \"#never\" }\n";

/// The browser processes (not drivers) using a profile under the test's TMPDIR.
fn browsers(s: &Scratch, program: &str) -> Vec<(i32, String)> {
    live_processes_mentioning(&s.tmp().display().to_string())
        .into_iter()
        .filter(|(_, cmd)| cmd.contains(program))
        .collect()
}

/// Wait until `program` runs with a profile of ours.
fn until_browsing(s: &Scratch, program: &str, child: &mut Child) {
    let up = Instant::now() + Duration::from_secs(60);
    while browsers(s, program).is_empty() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "journeyprobe ended before its browser started"
        );
        assert!(Instant::now() < up, "no {program} started");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Let the browser start its helper processes too.
    std::thread::sleep(Duration::from_millis(1500));
}

/// SIGKILL `child`, then insist that nothing of ours is left within a few seconds.
fn kill_and_expect_no_browsers(s: &Scratch, mut child: Child) {
    let before = live_processes_mentioning(&s.tmp().display().to_string());
    // SAFETY: a plain signal to the PID of a child we spawned and have not reaped.
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    let _ = child.wait();
    // Asserted after the kill: a failed test must not leave the journeyprobe running.
    assert!(!before.is_empty());
    let gone_by = Instant::now() + Duration::from_secs(5);
    loop {
        let left = live_processes_mentioning(&s.tmp().display().to_string());
        if left.is_empty() {
            break;
        }
        assert!(
            Instant::now() < gone_by,
            "{} of {} processes outlived the killed journeyprobe: {left:?}",
            left.len(),
            before.len()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // Its profile folders are gone too: nothing for the next start to sweep.
    let left: Vec<_> = std::fs::read_dir(s.tmp())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("journeyprobe-"))
        .map(|e| e.path())
        .collect();
    let gone_by = Instant::now() + Duration::from_secs(3);
    while left.iter().any(|p| p.exists()) {
        assert!(Instant::now() < gone_by, "profile folders left: {left:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn killed_run(browser: &str, program: &str) {
    let lab = Lab::start();
    let s = Scratch::new();
    let file = s.path().join("waits.yaml");
    std::fs::write(&file, WAITS).unwrap();
    let mut cmd = s.command(
        &lab.base_url(),
        &["run", file.to_str().unwrap(), "--browser", browser],
    );
    cmd.stdout(Stdio::null()).stderr(Stdio::null());
    let child = cmd.spawn().expect("spawn journeyprobe run");
    let mut child = KillOnDrop(Some(child));
    until_browsing(&s, program, child.0.as_mut().unwrap());
    kill_and_expect_no_browsers(&s, child.0.take().unwrap());
}

/// A journeyprobe that a failing assertion must not leave running.
struct KillOnDrop(Option<Child>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(c) = &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

#[test]
fn a_killed_run_takes_its_chromium_with_it() {
    killed_run("chromium", "chromium");
}

#[test]
fn a_killed_run_takes_its_firefox_with_it() {
    killed_run("firefox", "firefox");
}

#[test]
fn a_killed_serve_takes_its_browsers_with_it() {
    let lab = Lab::start();
    let s = Scratch::new();
    let probes = s.path().join("probes");
    std::fs::create_dir_all(&probes).unwrap();
    std::fs::write(probes.join("waits.yaml"), WAITS).unwrap();
    let data = s.path().join("data");
    let mut serve = Served::start(&s, &lab.base_url(), &data, &[probes.to_str().unwrap()]);
    // Past the warm-up's own browser (opened and closed before the first run): the
    // journey's is in its long wait.
    serve.wait_for("the journey in flight", Duration::from_secs(60), |m| {
        m.count("journeyprobe_webdriver_sessions_in_use", &[]) >= 1.0
    });
    until_browsing(&s, "chromium", &mut serve.child);
    let child = std::mem::replace(
        &mut serve.child,
        std::process::Command::new("true").spawn().unwrap(),
    );
    kill_and_expect_no_browsers(&s, child);
    let _ = serve.child.wait();
    assert!(Path::new(&data).join("history.sqlite3").exists());
}
