//! `journeyprobe demo` — the whole product on one machine: the fault-lab site (with its S3
//! and DNS servers when they are installed), `serve` running the example journeys and the
//! checks they stand on every few seconds, and the board, which shows the lab's fault
//! switches: break the site and watch a BPM leave its band. Ctrl-C stops everything.
//!
//! It says what it is doing (lab, board, the browser's first start) and prints, under the
//! board's address, commands to paste (`try_it`); while it runs it tells of journeys that
//! start failing, each with its `repro` line (`watch`).
//!
//! The probe files it serves are written to `<data-dir>/probes/`: the shipped examples
//! (embedded in the binary) with a demo schedule, the lab's address and the demo password
//! (a `${file:…}` secret), and a checks file for what the lab runs.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use try_it::TryIt;

use super::ExitCode;
use super::serve::{Resolved, Signals, serve};
use crate::faultlab::{DEFAULT_PASSWORD, FaultLab, FaultLabOptions, backends};
use crate::history::History;
use crate::service::{Plan, Settings};

mod try_it;
mod watch;

/// The demo password's file, in the probe folder (a `${file:…}` secret of the journeys).
const PASSWORD_FILE: &str = "password.secret";

/// The example journeys, as shipped in `journeys/`; login first.
const EMBEDDED: &[(&str, &str)] = &[
    ("login.yaml", include_str!("../../journeys/login.yaml")),
    ("search.yaml", include_str!("../../journeys/search.yaml")),
];

#[derive(clap::Args, Debug)]
#[command(after_help = "\
It prints what it is doing, the board URL, and the commands to try next: the shipped login \
journey run once against its lab, and repro of a failed run (each failure prints its own repro \
line). Open the board URL. The login BPM sits in its band; tick a switch in the board's \
fault-lab panel (say, \"sign-in answers 500\") and within two runs the login tile turns \
below band, with the failed runs one click away. Untick it and the BPM recovers.")]
pub struct Args {
    /// Address of the board, /metrics and the API.
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:9464")]
    pub listen: SocketAddr,
    /// Where the demo keeps its probe files, history and artifacts (relative paths are in the
    /// current directory).
    #[arg(long, value_name = "DIR", default_value = "journeyprobe-demo")]
    pub data_dir: PathBuf,
    /// How often the journeys and checks run.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = humantime::parse_duration)]
    pub every: Duration,
    /// Use this WebDriver server instead of starting chromedriver here.
    #[arg(long, value_name = "URL")]
    pub webdriver: Option<String>,
}

pub async fn run(args: Args) -> ExitCode {
    if args.every < Duration::from_secs(5) {
        eprintln!("error: --every must be at least 5s: a journey needs time to run");
        return ExitCode::Usage;
    }
    let started = Instant::now();
    say!("demo: starting the fault lab (the site, its S3 and DNS servers)…");
    let opts = FaultLabOptions {
        backends: true,
        ..FaultLabOptions::default()
    };
    let lab = match FaultLab::start_with("127.0.0.1:0".parse().expect("literal"), opts).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: cannot start the fault-lab site: {e}");
            return ExitCode::ProberError;
        }
    };
    say!(
        "fault lab:  {} ({}; up in {:.1} s)",
        lab.base_url(),
        backends_line(
            lab.s3_endpoint().await.is_some(),
            lab.dns_addr().await.is_some()
        ),
        started.elapsed().as_secs_f64()
    );
    let code = run_with(&args, &lab, started).await;
    lab.shutdown().await;
    code
}

/// Which of the lab's servers run, and what to do about one that does not.
fn backends_line(s3: bool, dns: bool) -> String {
    let missing: Vec<&str> = [(s3, "S3 (moto_server)"), (dns, "DNS (dnsmasq)")]
        .into_iter()
        .filter_map(|(up, name)| (!up).then_some(name))
        .collect();
    if missing.is_empty() {
        "with its S3 and DNS servers".into()
    } else {
        format!(
            "without {}: not installed, scripts/ensure-deps installs it; the checks on it are left out",
            missing.join(" or ")
        )
    }
}

async fn run_with(args: &Args, lab: &FaultLab, started: Instant) -> ExitCode {
    let probes = args.data_dir.join("probes");
    let journey = match write_probes(&probes, lab, args.every).await {
        Ok(()) => shipped_login(&args.data_dir),
        Err(e) => Err(e),
    };
    let journey = match journey {
        Ok(j) => j,
        Err(e) => {
            eprintln!(
                "error: cannot write the demo's probe files in {}: {e}",
                probes.display()
            );
            return ExitCode::Usage;
        }
    };
    let plan = match crate::config::load(std::slice::from_ref(&probes), &crate::config::ProcessEnv)
    {
        Ok(l) => Plan::from_loaded(l),
        Err(problems) => {
            for p in &problems {
                eprintln!("demo {p}");
            }
            return ExitCode::ProberError;
        }
    };
    say!(
        "probes:     {} ({} journeys, {} checks, every {})",
        probes.display(),
        plan.journeys.len(),
        plan.checks.len(),
        humantime::format_duration(args.every)
    );
    let history = match History::open(&args.data_dir) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::Usage;
        }
    };
    let listener = match tokio::net::TcpListener::bind(args.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!(
                "error: cannot listen on {}: {e} (pass --listen 127.0.0.1:0 for any free port)",
                args.listen
            );
            return ExitCode::Usage;
        }
    };
    let Ok(mut signals) = Signals::install() else {
        eprintln!("error: cannot install signal handlers");
        return ExitCode::ProberError;
    };
    let addr = listener.local_addr().unwrap_or(args.listen);
    let board = format!("http://{addr}/");
    say!("board:      {board}");
    say!("metrics:    {board}metrics");
    let try_it = try_it(lab, &journey, &probes, &args.data_dir);
    say!("");
    for line in try_it.block(&board, &cwd()) {
        say!("{line}");
    }
    say!("");
    say!(
        "demo: warming the browser before the first journey runs (on a cold machine Chromium's \
         first start takes up to a minute; the journey tiles fill in after it). Ctrl-C stops everything."
    );
    let seen = watch::newest_id(&history).await;
    let narrator = tokio::spawn(watch::watch(history.clone(), seen, started, try_it));
    let settings = Settings {
        webdriver: args.webdriver.clone(),
        artifacts: Some(args.data_dir.join("artifacts")),
        lab_url: Some(lab.base_url()),
        ..Settings::default()
    };
    let resolved = Resolved {
        browser: None,
        paths: vec![probes],
        environment: None,
        listen: addr,
        data_dir: args.data_dir.clone(),
        settings,
    };
    let code = serve(resolved, plan, history, listener, &mut signals).await;
    narrator.abort();
    code
}

fn cwd() -> PathBuf {
    std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."))
}

fn try_it(lab: &FaultLab, journey: &Path, probes: &Path, data_dir: &Path) -> TryIt {
    let cwd = cwd();
    let abs = |p: &Path| cwd.join(p);
    let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("journeyprobe"));
    TryIt::new(
        &exe,
        &cwd,
        &lab.base_url(),
        &abs(journey),
        &abs(&probes.join(PASSWORD_FILE)),
        &abs(data_dir),
    )
}

/// The shipped login journey for the try-it line: `journeys/login.yaml` when the demo runs
/// in a checkout whose file is the one built in, else a verbatim copy under the data folder.
fn shipped_login(data_dir: &Path) -> std::io::Result<PathBuf> {
    let (name, text) = EMBEDDED[0];
    let checkout = Path::new("journeys").join(name);
    if std::fs::read_to_string(&checkout).is_ok_and(|t| t == text) {
        return Ok(checkout);
    }
    let dir = data_dir.join("journeys");
    std::fs::create_dir_all(&dir)?;
    for (name, text) in EMBEDDED {
        std::fs::write(dir.join(name), text)?;
    }
    Ok(dir.join(name))
}

/// The examples with the demo's schedule and the lab's address, the password as a file
/// secret, and the checks of what the lab runs.
async fn write_probes(dir: &Path, lab: &FaultLab, every: Duration) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let secret = dir.join(PASSWORD_FILE);
    std::fs::write(&secret, DEFAULT_PASSWORD)?;
    let timeout = every * 4 / 5;
    for (name, text) in EMBEDDED {
        std::fs::write(
            dir.join(name),
            demo_journey(text, &lab.base_url(), every, timeout),
        )?;
    }
    let checks = demo_checks(
        &lab.base_url(),
        lab.s3_endpoint().await,
        lab.dns_addr().await,
        every,
    );
    std::fs::write(dir.join("dependencies.yaml"), checks)
}

/// A shipped journey, scheduled for the demo and pointed at the lab.
fn demo_journey(text: &str, base: &str, every: Duration, timeout: Duration) -> String {
    let show = |d: Duration| humantime::format_duration(d).to_string();
    let mut out = String::from(
        "# Written by `journeyprobe demo` from the shipped example: schedule, lab address and\n\
         # password are the demo's.\n",
    );
    for line in text.lines() {
        let line = match line {
            "timeout: 30s" => format!("timeout: {}\nevery: {}", show(timeout), show(every)),
            "step_timeout: 10s" => format!("step_timeout: {}", show(timeout / 2)),
            l if l.trim_start().starts_with("base: ${env:BASE_URL") => format!("  base: {base}"),
            l if l
                .trim_start()
                .starts_with("password: ${env:LOGIN_PASSWORD}") =>
            {
                format!("  password: ${{file:{PASSWORD_FILE}}}")
            }
            l => l.to_string(),
        };
        out.push_str(&line);
        out.push('\n');
    }
    out
}

fn demo_checks(base: &str, s3: Option<String>, dns: Option<SocketAddr>, every: Duration) -> String {
    let every = humantime::format_duration(every).to_string();
    let mut out = format!(
        "# Written by `journeyprobe demo`: what the login journey stands on.\nchecks:\n\
         \x20 - name: login_page\n    every: {every}\n    http: {{ url: \"{base}/login\", status: 200 }}\n"
    );
    if let Some(endpoint) = s3 {
        out.push_str(&format!(
            "  - name: assets_bucket\n    every: {every}\n    bucket:\n      endpoint: \"{endpoint}\"\n\
             \x20     bucket: {}\n      key: dashboard.js\n",
            backends::ASSETS_BUCKET
        ));
    }
    if let Some(addr) = dns {
        out.push_str(&format!(
            "  - name: app_address\n    every: {every}\n    dns:\n      query: {}\n      type: A\n\
             \x20     nameserver: \"{addr}\"\n      expect: {{ answers_equal: [127.0.0.1] }}\n",
            backends::LAB_HOST
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_examples_take_the_demo_schedule_address_and_secret() {
        for (name, text) in EMBEDDED {
            let out = demo_journey(
                text,
                "http://127.0.0.1:1234",
                Duration::from_secs(10),
                Duration::from_secs(8),
            );
            assert!(
                out.contains("\nevery: 10s\n") && out.contains("\ntimeout: 8s\n"),
                "{name}: {out}"
            );
            assert!(out.contains("  base: http://127.0.0.1:1234\n"), "{name}");
            assert!(
                out.contains("${file:password.secret}") && !out.contains("LOGIN_PASSWORD"),
                "{name}"
            );
        }
    }
}
