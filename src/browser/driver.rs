//! A WebDriver server we start and own: chromedriver, or geckodriver (one per Firefox
//! session); what differs between them is the [`Engine`]'s.
//!
//! The driver is started in its own process group on a loopback port. Killing the driver
//! alone leaves its browser running (re-parented to PID 1), so teardown signals the whole
//! group and then kills any process still using one of our throw-away profile folders,
//! found by scanning `/proc`. Every path out of a run ends in [`ManagedDriver::stop`] (or
//! the kill in its `Drop`).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use super::engine::{BrowserKind, Engine, PortChoice, find_driver};
use crate::outcome::{Problem, Reason};

/// How long a driver may take to say it is listening.
const START_TIMEOUT: Duration = Duration::from_secs(15);

/// Where to find chromedriver: `JOURNEYPROBE_CHROMEDRIVER`, else `chromedriver` on PATH.
pub fn find_chromedriver() -> Result<PathBuf, Problem> {
    find_driver(BrowserKind::Chromium.engine())
}

/// The browser binary to hand chromedriver: `JOURNEYPROBE_CHROMIUM`, else `chromium` on
/// PATH, else none (chromedriver then looks for Chrome itself).
pub fn find_chromium() -> Option<PathBuf> {
    BrowserKind::Chromium.engine().find_browser()
}

/// A running driver and the profile folders of the browsers it started for us.
pub struct ManagedDriver {
    engine: &'static dyn Engine,
    /// Behind a lock so [`ManagedDriver::has_exited`] can look from a shared reference.
    child: std::sync::Mutex<Child>,
    pgid: i32,
    url: String,
    /// Parent of every per-session `--user-data-dir`; removed on stop. Its name carries our
    /// PID so a later run can tell when its owner died without cleaning up.
    profiles: tempfile::TempDir,
    stopped: bool,
    /// Where its kill handle is armed while it runs (taken out again when it stops).
    switch: Option<KillSwitch>,
}

/// What it takes to kill a driver and its browsers at once, from anywhere (a second
/// Ctrl-C), without waiting for anything.
#[derive(Clone, Debug)]
pub struct KillHandle {
    pgid: i32,
    profiles: PathBuf,
}

impl KillHandle {
    /// The process group the driver leads.
    pub fn pgid(&self) -> i32 {
        self.pgid
    }

    pub fn kill_now(&self) {
        if self.pgid > 0 {
            // SAFETY: killpg takes plain integers and touches no memory. pgid > 0 is the
            // group chromedriver leads (spawned with process_group(0)), never 0 (our own
            // group) or a negative value.
            unsafe { libc::killpg(self.pgid, libc::SIGKILL) };
        }
        kill_processes_using(&self.profiles);
    }
}

/// Where the kill handles of the managed drivers of the moment are kept (the chromedriver,
/// and a geckodriver per Firefox session), shared between the
/// [`super::supervisor::Supervisor`] that starts and replaces drivers and whoever must kill
/// them all without waiting (a second Ctrl-C).
#[derive(Clone, Debug, Default)]
pub struct KillSwitch(std::sync::Arc<std::sync::Mutex<Vec<KillHandle>>>);

impl KillSwitch {
    fn handles(&self) -> std::sync::MutexGuard<'_, Vec<KillHandle>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn arm(&self, handle: KillHandle) {
        self.handles().push(handle);
    }

    /// Forget the driver of process group `pgid` (it stopped).
    pub fn disarm(&self, pgid: i32) {
        self.handles().retain(|h| h.pgid != pgid);
    }

    /// Kill every armed driver and its browsers now; false when none was armed.
    pub fn fire(&self) -> bool {
        let armed = std::mem::take(&mut *self.handles());
        for h in &armed {
            h.kill_now();
        }
        !armed.is_empty()
    }
}

/// Prefix of our profile folders under the temporary directory: `journeyprobe-<pid>-…`.
const PROFILES_PREFIX: &str = "journeyprobe-";

impl ManagedDriver {
    /// Start chromedriver on a free loopback port and wait until it listens.
    pub async fn start(binary: &Path) -> Result<ManagedDriver, Problem> {
        Self::start_engine(BrowserKind::Chromium.engine(), binary).await
    }

    /// Start `engine`'s driver (`binary`) on a loopback port and wait until it listens.
    pub async fn start_engine(
        engine: &'static dyn Engine,
        binary: &Path,
    ) -> Result<ManagedDriver, Problem> {
        sweep_stale_profiles();
        let profiles = tempfile::Builder::new()
            .prefix(&format!("{PROFILES_PREFIX}{}-", std::process::id()))
            .tempdir()
            .map_err(|e| {
                Problem::new(
                    Reason::DriverStartFailed,
                    format!("cannot create a temporary profile folder: {e}"),
                )
            })?;
        let mut last = None;
        // A port picked as free can be taken before the driver binds it: try a few.
        for _ in 0..3 {
            let port = if engine.chooses_port() {
                PortChoice::Own
            } else {
                PortChoice::Given(free_port()?)
            };
            match Self::spawn(engine, binary, port, profiles.path()).await {
                Ok((child, url)) => {
                    let pgid = child.id().map(|p| p as i32).unwrap_or(0);
                    return Ok(ManagedDriver {
                        engine,
                        child: std::sync::Mutex::new(child),
                        pgid,
                        url,
                        profiles,
                        stopped: false,
                        switch: None,
                    });
                }
                Err(p) => last = Some(p),
            }
        }
        Err(last.unwrap_or_else(|| Problem::new(Reason::DriverStartFailed, "unknown")))
    }

    async fn spawn(
        engine: &dyn Engine,
        binary: &Path,
        port: PortChoice,
        profiles: &Path,
    ) -> Result<(Child, String), Problem> {
        let asked = match port {
            PortChoice::Given(p) => Some(p),
            PortChoice::Own => None,
        };
        let mut cmd = Command::new(binary);
        let mut child = crate::process::die_with_parent(&mut cmd)
            .args(engine.driver_args(port))
            .envs(engine.driver_env(profiles))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| {
                Problem::new(
                    Reason::DriverStartFailed,
                    format!("cannot start {}: {e}", binary.display()),
                )
            })?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut lines = BufReader::new(stdout).lines();
        let ready = tokio::time::timeout(START_TIMEOUT, async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(port) = engine.listening(&line, asked) {
                    return Some(port);
                }
            }
            None
        })
        .await;
        if let Ok(Some(port)) = ready {
            // Keep draining the driver's output so it never blocks on a full pipe.
            tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
            if let Some(err) = child.stderr.take() {
                tokio::spawn(async move {
                    let mut l = BufReader::new(err).lines();
                    while let Ok(Some(_)) = l.next_line().await {}
                });
            }
            return Ok((child, format!("http://127.0.0.1:{port}")));
        }
        let _ = child.start_kill();
        let mut stderr = String::new();
        if let Some(mut err) = child.stderr.take() {
            use tokio::io::AsyncReadExt;
            let _ =
                tokio::time::timeout(Duration::from_secs(1), err.read_to_string(&mut stderr)).await;
        }
        let _ = child.wait().await;
        Err(Problem::new(
            Reason::DriverStartFailed,
            format!(
                "{} did not report ready within {}s: {}",
                binary.display(),
                START_TIMEOUT.as_secs(),
                stderr.trim()
            ),
        ))
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// The browser this driver drives.
    pub fn engine(&self) -> &'static dyn Engine {
        self.engine
    }

    /// Keep this driver's kill handle in `switch` until it stops.
    pub fn arm(&mut self, switch: &KillSwitch) {
        switch.arm(self.kill_handle());
        self.switch = Some(switch.clone());
    }

    fn disarm(&mut self) {
        if let Some(s) = self.switch.take() {
            s.disarm(self.pgid);
        }
    }

    /// PID of the driver (tests kill it to simulate a crash).
    pub fn pid(&self) -> Option<u32> {
        self.child.lock().ok()?.id()
    }

    /// Has the driver exited (crashed, killed)? Its sessions are gone with it.
    pub fn has_exited(&self) -> bool {
        match self.child.lock() {
            Ok(mut c) => !matches!(c.try_wait(), Ok(None)),
            Err(_) => true,
        }
    }

    /// A new, empty profile folder for one browser session.
    pub fn new_profile_dir(&self) -> std::io::Result<PathBuf> {
        let dir = tempfile::Builder::new()
            .prefix("profile-")
            .tempdir_in(self.profiles.path())?;
        Ok(dir.keep())
    }

    pub fn kill_handle(&self) -> KillHandle {
        KillHandle {
            pgid: self.pgid,
            profiles: self.profiles.path().to_path_buf(),
        }
    }

    /// Stop the driver and every browser it started, whatever state they are in.
    pub async fn stop(mut self) {
        self.stopped = true;
        self.disarm();
        if self.pgid > 0 {
            // SIGTERM first lets chromedriver close its browsers cleanly.
            // SAFETY: as in `KillHandle::kill_now`: integers only, and pgid > 0 is the group
            // chromedriver leads.
            unsafe { libc::killpg(self.pgid, libc::SIGTERM) };
            let child = self.child.get_mut().unwrap_or_else(|p| p.into_inner());
            let exited = tokio::time::timeout(Duration::from_secs(2), child.wait()).await;
            // SAFETY: as above.
            unsafe { libc::killpg(self.pgid, libc::SIGKILL) };
            if exited.is_err() {
                let _ = child.wait().await;
            }
        }
        kill_processes_using(self.profiles.path());
    }
}

/// A driver dropped without `stop` (a panic, an early return) still takes its browsers down.
impl Drop for ManagedDriver {
    fn drop(&mut self) {
        if !self.stopped {
            self.disarm();
            self.kill_handle().kill_now();
        }
    }
}

/// The argument that makes the journeyprobe binary a browser reaper (see [`start_reaper`]);
/// `main.rs` answers it before parsing the command line, so it is in no `--help`.
pub const REAPER_ARG: &str = "__reap-browsers";

/// Start the second line of defence against browsers outliving us: a small process of our
/// own binary (`exe`), in a process group of its own (a Ctrl-C to ours does not reach it),
/// that waits for its stdin to close, which happens when this process ends, however it
/// ends: SIGKILL and the OOM killer included. It then kills every process that still uses
/// a profile folder of ours (`…/journeyprobe-<our pid>-…`: Chromium and Firefox, whose
/// command lines name them) and removes the folders. A normal exit has cleaned up already,
/// and the reaper finds nothing. The drivers themselves die with us (parent-death signal),
/// and the start-up sweep ([`sweep_stale_profiles`]) stays as the third line.
///
/// The write end of the pipe stays open for the rest of the process (it is close-on-exec,
/// so no driver or browser inherits it). Call it once, early, from the binary.
pub fn start_reaper(exe: &Path) -> std::io::Result<()> {
    use std::os::unix::process::CommandExt;
    let mut child = std::process::Command::new(exe)
        .arg(REAPER_ARG)
        .arg(std::process::id().to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()?;
    // Kept open until we die; the reaper is reaped by init after it, never by us.
    std::mem::forget(child.stdin.take());
    std::mem::forget(child);
    Ok(())
}

/// The reaper's side (`journeyprobe __reap-browsers <pid>`): wait for the parent to end, then
/// kill what it left.
pub fn reap_after(parent: i32) {
    use std::io::Read;
    let mut sink = [0u8; 64];
    let mut stdin = std::io::stdin();
    // EOF (or an error): the parent is gone.
    while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
    let marker = std::env::temp_dir().join(format!("{PROFILES_PREFIX}{parent}-"));
    // Twice: a browser starting a helper process at the moment of the first pass.
    for _ in 0..2 {
        kill_processes_using(&marker);
        std::thread::sleep(Duration::from_millis(200));
    }
    remove_profiles_of(parent);
}

/// Remove the profile folders of journeyprobe `owner`.
fn remove_profiles_of(owner: i32) {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    let prefix = format!("{PROFILES_PREFIX}{owner}-");
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(&prefix) && entry.path().is_dir() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Browsers of a journeyprobe that died without cleaning up (killed outright, so no
/// teardown ran) keep running; their profile folders name the dead owner. Kill them and
/// remove the folders.
pub fn sweep_stale_profiles() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(owner) = name
            .strip_prefix(PROFILES_PREFIX)
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<i32>().ok())
        else {
            continue;
        };
        let alive = std::path::Path::new(&format!("/proc/{owner}")).exists();
        if !alive && entry.path().is_dir() {
            tracing::info!(
                "cleaning up after a journeyprobe (pid {owner}) that did not stop its browsers"
            );
            kill_processes_using(&entry.path());
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

fn free_port() -> Result<u16, Problem> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| {
            Problem::new(
                Reason::DriverStartFailed,
                format!("no free loopback port: {e}"),
            )
        })
}

/// Kill the browser still using a throw-away profile folder, if any, and remove the folder.
pub fn remove_profile(dir: &Path) {
    kill_processes_using(dir);
    let _ = std::fs::remove_dir_all(dir);
}

/// SIGKILL every process whose command line mentions `marker` (a profile folder of ours).
/// Chromium's helper processes can leave the process group; the profile path finds them all.
pub fn kill_processes_using(marker: &Path) {
    let marker = marker.to_string_lossy().into_owned();
    for pid in processes_mentioning(&marker) {
        // SAFETY: kill takes plain integers and touches no memory; pid is a positive PID
        // read from /proc (never 0 or -1, which would signal a group or everyone) and not
        // our own.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
}

/// PIDs whose `/proc/PID/cmdline` contains `needle`.
pub fn processes_mentioning(needle: &str) -> Vec<i32> {
    let me = std::process::id() as i32;
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| *pid != me)
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| String::from_utf8_lossy(&c).contains(needle))
                .unwrap_or(false)
        })
        .collect()
}

/// Memory of the browser using `profile`: the proportional set size (shared pages split
/// among their users, so a sum does not count them twice) of every process whose command
/// line names the profile folder, and of their descendants. None when none is found.
pub fn memory_of(profile: &Path) -> Option<u64> {
    let roots = processes_mentioning(&profile.to_string_lossy());
    if roots.is_empty() {
        return None;
    }
    let parents: Vec<(i32, i32)> = std::fs::read_dir("/proc")
        .ok()?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(|pid| Some((pid, parent_of(pid)?)))
        .collect();
    let mut family: std::collections::BTreeSet<i32> = roots.into_iter().collect();
    // Descendants, a generation at a time (Chromium's tree is three or four deep).
    loop {
        let before = family.len();
        for (pid, ppid) in &parents {
            if family.contains(ppid) {
                family.insert(*pid);
            }
        }
        if family.len() == before {
            break;
        }
    }
    Some(family.iter().filter_map(|pid| pss_of(*pid)).sum())
}

/// The parent PID, from `/proc/PID/stat` (the field after the parenthesised name).
fn parent_of(pid: i32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(1)?.parse().ok()
}

/// Bytes of `Pss:` in `/proc/PID/smaps_rollup`.
fn pss_of(pid: i32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    let line = text.lines().find(|l| l.starts_with("Pss:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
