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
use crate::faultlab::{DEFAULT_PASSWORD, FaultLab, FaultLabOptions};
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
    let servers = LabServers {
        s3: lab.s3_endpoint().await,
        dns: lab.dns_addr().await,
    };
    let try_it = try_it(lab, &servers, &journey, &probes, &args.data_dir);
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

fn try_it(
    lab: &FaultLab,
    servers: &LabServers,
    journey: &Path,
    probes: &Path,
    data_dir: &Path,
) -> TryIt {
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
    .with_servers(servers.s3.as_deref(), servers.dns)
}

/// The lab's S3 and DNS servers, where it could start them.
struct LabServers {
    s3: Option<String>,
    dns: Option<SocketAddr>,
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

/// The examples with the demo's schedule and the lab's addresses, and the password as a file
/// secret. The login example's checks point at the lab's S3 and DNS servers; a check of a
/// server the lab could not start (its program is not installed) is left out.
async fn write_probes(dir: &Path, lab: &FaultLab, every: Duration) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    // Written by earlier versions, it would now name the example's checks a second time.
    match std::fs::remove_file(dir.join("dependencies.yaml")) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let secret = dir.join(PASSWORD_FILE);
    std::fs::write(&secret, DEFAULT_PASSWORD)?;
    let lab_addrs = LabAddrs {
        base: lab.base_url(),
        s3: lab.s3_endpoint().await,
        dns: lab.dns_addr().await,
    };
    for (name, text) in EMBEDDED {
        std::fs::write(dir.join(name), demo_journey(text, &lab_addrs, every))?;
    }
    Ok(())
}

/// Where the demo's lab and its servers listen.
struct LabAddrs {
    base: String,
    s3: Option<String>,
    dns: Option<SocketAddr>,
}

/// A shipped example, scheduled for the demo and pointed at the lab.
fn demo_journey(text: &str, lab: &LabAddrs, every: Duration) -> String {
    let show = |d: Duration| humantime::format_duration(d).to_string();
    let timeout = every * 4 / 5;
    let mut missing = Vec::new();
    if lab.s3.is_none() {
        missing.push(ASSETS_CHECK);
    }
    if lab.dns.is_none() {
        missing.push(DNS_CHECK);
    }
    let mut out = String::from(
        "# Written by `journeyprobe demo` from the shipped example: schedule, lab address and\n\
         # password are the demo's.\n",
    );
    let mut section = "";
    let mut skipping = false;
    for line in text.lines() {
        if !line.is_empty() && !line.starts_with([' ', '#']) {
            section = line.split(':').next().unwrap_or("");
        }
        let item = line.strip_prefix("  - name: ");
        if item.is_some() || !line.starts_with("    ") {
            skipping = section == "checks" && item.is_some_and(|n| missing.contains(&n));
        }
        if skipping {
            continue;
        }
        let trimmed = line.trim_start();
        let line = match line {
            "timeout: 30s" => format!("timeout: {}\nevery: {}", show(timeout), show(every)),
            "step_timeout: 10s" => format!("step_timeout: {}", show(timeout / 2)),
            _ if trimmed.starts_with("base: ${env:BASE_URL") => format!("  base: {}", lab.base),
            _ if trimmed.starts_with("password: ${env:LOGIN_PASSWORD}") => {
                format!("  password: ${{file:{PASSWORD_FILE}}}")
            }
            l if trimmed.starts_with("endpoint: ${env:ASSETS_ENDPOINT") => indent_as(
                l,
                &format!("endpoint: \"{}\"", lab.s3.as_deref().unwrap_or("")),
            ),
            l if trimmed.starts_with("nameserver: ${env:LAB_NAMESERVER") => {
                let addr = lab.dns.map(|a| a.to_string()).unwrap_or_default();
                indent_as(l, &format!("nameserver: \"{addr}\""))
            }
            l if section == "checks" && item.is_some() => {
                format!("{l}\n    every: {}", show(every))
            }
            l if trimmed.starts_with("depends_on: [") || trimmed.starts_with("probes: [") => {
                without_names(l, &missing)
            }
            l => l.to_string(),
        };
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// The login example's checks of the lab's S3 and DNS servers.
const ASSETS_CHECK: &str = "assets_bucket";
const DNS_CHECK: &str = "app_address";

fn indent_as(line: &str, text: &str) -> String {
    let indent = line.len() - line.trim_start().len();
    format!("{}{text}", &line[..indent])
}

/// `depends_on: [a, b, c]` without the names in `drop`.
fn without_names(line: &str, drop: &[&str]) -> String {
    let Some((head, rest)) = line.split_once('[') else {
        return line.to_string();
    };
    let Some((list, tail)) = rest.split_once(']') else {
        return line.to_string();
    };
    let kept: Vec<&str> = list
        .split(',')
        .map(str::trim)
        .filter(|n| !drop.contains(n))
        .collect();
    format!("{head}[{}]{tail}", kept.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lab(backends: bool) -> LabAddrs {
        LabAddrs {
            base: "http://127.0.0.1:1234".into(),
            s3: backends.then(|| "http://127.0.0.1:4321".into()),
            dns: backends.then(|| "127.0.0.1:5454".parse().unwrap()),
        }
    }

    #[test]
    fn the_embedded_examples_take_the_demo_schedule_address_and_secret() {
        for (name, text) in EMBEDDED {
            let out = demo_journey(text, &lab(true), Duration::from_secs(10));
            assert!(
                out.contains("\nevery: 10s\n") && out.contains("\ntimeout: 8s\n"),
                "{name}: {out}"
            );
            assert!(out.contains("  base: http://127.0.0.1:1234\n"), "{name}");
            assert!(
                out.contains("${file:password.secret}") && !out.contains("LOGIN_PASSWORD"),
                "{name}"
            );
            assert!(!out.contains("${env:"), "{name}: {out}");
        }
    }

    /// Write the demo's probe files for a lab with or without its S3 and DNS servers and
    /// load them as `serve` does.
    fn loaded(backends: bool) -> crate::config::Loaded {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("password.secret"), DEFAULT_PASSWORD).unwrap();
        for (name, text) in EMBEDDED {
            let out = demo_journey(text, &lab(backends), Duration::from_secs(10));
            std::fs::write(dir.path().join(name), out).unwrap();
        }
        crate::config::load(&[dir.path().to_path_buf()], &crate::config::ProcessEnv)
            .unwrap_or_else(|p| panic!("{p:?}"))
    }

    #[test]
    fn the_login_examples_checks_point_at_the_labs_servers_on_the_demo_schedule() {
        let l = loaded(true);
        let names: Vec<&str> = l.checks.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["login_page", ASSETS_CHECK, DNS_CHECK]);
        assert!(l.checks.iter().all(|c| c.every == Duration::from_secs(10)));
        // The example names the lab's bucket and host as the lab defines them.
        let text = EMBEDDED.iter().map(|(_, t)| *t).collect::<String>();
        assert!(text.contains(&format!(
            "bucket: {}\n",
            crate::faultlab::backends::ASSETS_BUCKET
        )));
        assert!(text.contains(&format!("query: {}\n", crate::faultlab::backends::LAB_HOST)));
        for j in &l.journeys {
            let deps: Vec<&str> = j.depends_on.iter().map(|(d, _)| d.as_str()).collect();
            assert_eq!(deps, names, "{}", j.name);
        }
    }

    #[test]
    fn a_check_of_a_server_the_lab_could_not_start_is_left_out_everywhere() {
        let l = loaded(false);
        let names: Vec<&str> = l.checks.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["login_page"]);
        assert!(l.journeys.iter().all(|j| j.depends_on.len() == 1));
        let deps = l
            .bpms
            .iter()
            .find(|b| b.name == "login_dependencies")
            .unwrap();
        assert_eq!(deps.probes, ["login_page"]);
    }
}
