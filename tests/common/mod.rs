//! Shared helpers for the acceptance tests: a fault-lab site in this process, the
//! journeyprobe binary run as a user runs it, and a check that no browser outlived it.

#![allow(dead_code)]

pub mod board;
pub mod child;
pub mod s3;
pub mod serve;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use journeyprobe::faultlab::{FaultLab, FaultLabOptions, Faults};

pub const PASSWORD: &str = "correct-horse-battery";

/// The fixture site, served from its own runtime for the duration of a test.
pub struct Lab {
    pub lab: Option<FaultLab>,
    rt: tokio::runtime::Runtime,
}

impl Lab {
    pub fn start() -> Lab {
        Lab::with_password(PASSWORD)
    }

    pub fn with_password(password: &str) -> Lab {
        Lab::with_options(FaultLabOptions {
            password: password.to_string(),
            ..Default::default()
        })
    }

    /// A lab whose dashboard is rendered by a script from `s3`'s public `assets` bucket
    /// (created here); `cacheable` stores the script with `Cache-Control: max-age=3600`.
    pub fn with_assets_bucket(s3: &s3::S3, cacheable: bool) -> Lab {
        let js = journeyprobe::faultlab::DASHBOARD_JS.as_bytes();
        s3.create_bucket("assets");
        if cacheable {
            s3.put_cacheable("assets", "dashboard.js", js, "application/javascript");
        } else {
            s3.put("assets", "dashboard.js", js, "application/javascript");
        }
        s3.make_public("assets");
        Lab::with_options(FaultLabOptions {
            password: PASSWORD.to_string(),
            assets_url: Some(format!("{}/assets", s3.endpoint())),
            ..Default::default()
        })
    }

    pub fn with_options(opts: FaultLabOptions) -> Lab {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let lab = rt
            .block_on(FaultLab::start_with("127.0.0.1:0".parse().unwrap(), opts))
            .expect("fault lab starts");
        Lab { lab: Some(lab), rt }
    }

    pub fn base_url(&self) -> String {
        self.lab.as_ref().unwrap().base_url()
    }

    pub fn set(&self, faults: Faults) {
        self.lab.as_ref().unwrap().set_faults(faults);
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if let Some(lab) = self.lab.take() {
            self.rt.block_on(lab.shutdown());
        }
    }
}

/// A scratch folder per test: TMPDIR of the journeyprobe process (so browser profiles land
/// here and leftovers can be found by path) and the artifacts folder.
pub struct Scratch {
    pub dir: tempfile::TempDir,
}

impl Scratch {
    pub fn new() -> Scratch {
        Scratch {
            dir: tempfile::Builder::new()
                .prefix("jp-test-")
                .tempdir()
                .expect("tempdir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn tmp(&self) -> PathBuf {
        let t = self.path().join("tmp");
        std::fs::create_dir_all(&t).unwrap();
        t
    }

    pub fn artifacts(&self) -> PathBuf {
        self.path().join("artifacts")
    }

    /// `journeyprobe <args>` with the lab's URL and password in its environment.
    pub fn command(&self, base_url: &str, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_journeyprobe"));
        cmd.args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("TMPDIR", self.tmp())
            .env("BASE_URL", base_url)
            .env("LOGIN_PASSWORD", PASSWORD)
            .env_remove("RUST_LOG");
        cmd
    }

    /// Write `yaml` as `name` here and `journeyprobe run` it with `--format json` and `extra`
    /// (`--no-artifacts`, `--artifacts DIR`, …), to completion (see [`run`](Self::run)).
    pub fn run_journey(&self, base_url: &str, name: &str, yaml: &str, extra: &[&str]) -> Output {
        let file = self.path().join(name);
        std::fs::write(&file, yaml).unwrap();
        let mut args = vec!["run", file.to_str().unwrap(), "--format", "json"];
        args.extend_from_slice(extra);
        self.run(self.command(base_url, &args))
    }

    /// Run to completion, then insist that no process still uses this test's TMPDIR.
    pub fn run(&self, mut cmd: Command) -> Output {
        let out = cmd.output().expect("journeyprobe runs");
        self.assert_no_leftovers();
        out
    }

    pub fn assert_no_leftovers(&self) {
        let needle = self.tmp().display().to_string();
        // Processes being reaped may linger for a moment; give them a second.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
        loop {
            let left = live_processes_mentioning(&needle);
            if left.is_empty() {
                return;
            }
            if std::time::Instant::now() > deadline {
                panic!("processes left behind: {left:?}");
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }

    /// Every file under the artifacts folder.
    pub fn artifact_files(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        walk(&self.artifacts(), &mut out);
        out
    }
}

/// Every file under `dir`, recursively.
pub fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// (pid, command line) of live (non-zombie) processes whose command line contains `needle`.
pub fn live_processes_mentioning(needle: &str) -> Vec<(i32, String)> {
    let me = std::process::id() as i32;
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if pid == me {
            continue;
        }
        let Ok(cmd) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
        let zombie = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| {
                s.rsplit(')')
                    .next()
                    .unwrap_or("")
                    .trim_start()
                    .starts_with('Z')
            })
            .unwrap_or(true);
        if cmd.contains(needle) && !zombie {
            out.push((pid, cmd));
        }
    }
    out
}

/// Children of `parent` whose executable name is `name`.
pub fn children_named(parent: u32, name: &str) -> Vec<i32> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let comm = stat
            .split('(')
            .nth(1)
            .and_then(|s| s.split(')').next())
            .unwrap_or("");
        let ppid: u32 = stat
            .rsplit(')')
            .next()
            .and_then(|s| s.split_whitespace().nth(1))
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        if ppid == parent && comm == name {
            out.push(pid);
        }
    }
    out
}

/// The JSON lines journeyprobe printed with `--format json`.
pub fn json_results(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).expect("valid JSON line"))
        .collect()
}

pub fn show(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
