//! `journeyprobe demo` — the fault-lab site plus the example journeys, embedded in the
//! binary, run once healthy and once with the submit button drawn in its background colour,
//! so a newcomer sees a pass, a caught fault, and the artifacts it leaves.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::config::journey::parse_journey;
use crate::config::refs::Overlay;
use crate::config::{Journey, ProcessEnv};
use crate::faultlab::{DEFAULT_PASSWORD, FaultLab, Faults};
use crate::outcome::{Outcome, Reason, exit_code};

use super::interrupt::Interrupt;
use super::run::{Batch, Options, run_batch};
use crate::report::live::Live;

/// The example journeys, as shipped in `journeys/`.
const EMBEDDED: &[(&str, &str)] = &[
    (
        "journeys/login.yaml",
        include_str!("../../journeys/login.yaml"),
    ),
    (
        "journeys/search.yaml",
        include_str!("../../journeys/search.yaml"),
    ),
];

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Use this WebDriver server instead of starting chromedriver here.
    #[arg(long, value_name = "URL")]
    pub webdriver: Option<String>,
    /// Where failed runs leave their artifacts.
    #[arg(long, value_name = "DIR", default_value = "journeyprobe-artifacts")]
    pub artifacts: PathBuf,
}

pub async fn run(args: Args) -> i32 {
    let lab = match FaultLab::start("127.0.0.1:0".parse().expect("literal address")).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: cannot start the fault-lab site: {e}");
            return 3;
        }
    };
    let journeys = match embedded_journeys(&lab.base_url()) {
        Ok(j) => j,
        Err(code) => return code,
    };
    let opts = Options {
        webdriver: args.webdriver,
        artifacts: Some(args.artifacts),
        retries: None,
        interactive: Default::default(),
    };
    let interrupt = Interrupt::install();
    say!("fault lab running at {}\n", lab.base_url());
    say!("== 1. the healthy site: every journey should pass\n");
    let live = Live::stdout(false);
    let healthy = run_batch(
        Batch {
            journeys: &journeys,
            prerequisites: &[],
        },
        &opts,
        &live,
        &interrupt,
    )
    .await;
    live.summary(&healthy);
    // Exit codes as for `run`: the prober failing to measure (no driver, say) is 3, never a
    // target failure; the broken round counts as expected when it fails with low_contrast.
    let mut code = exit_code(healthy.iter().map(|r| r.result.outcome));
    let measured = healthy.iter().any(|r| r.result.outcome != Outcome::Error);
    if !interrupt.is_cancelled() && measured {
        say!("\n== 2. someone ships the submit button in its background colour\n");
        lab.set_faults(Faults {
            invisible_submit: true,
            ..Faults::default()
        });
        let login: Vec<Journey> = journeys
            .iter()
            .filter(|j| j.name == "login")
            .cloned()
            .collect();
        let broken = run_batch(
            Batch {
                journeys: &login,
                prerequisites: &[],
            },
            &opts,
            &live,
            &interrupt,
        )
        .await;
        live.summary(&broken);
        let caught = broken
            .iter()
            .any(|r| r.result.reason == Some(Reason::LowContrast));
        let missed = broken.iter().any(|r| r.result.outcome == Outcome::Success);
        if caught {
            say!(
                "\nThe unit tests would still pass; the journey caught the button nobody can see."
            );
        } else if missed {
            say!("\nThe journey did NOT catch the button nobody can see.");
            code = code.max(1);
        } else {
            code = code.max(exit_code(broken.iter().map(|r| r.result.outcome)));
        }
    }
    lab.shutdown().await;
    if interrupt.is_cancelled() {
        return super::EXIT_INTERRUPTED;
    }
    say!(
        "\nNext: `journeyprobe fault-lab` serves this site on 127.0.0.1:8080; switch faults with\n\
         curl -X POST 127.0.0.1:8080/_faults -d '{{\"login_500\": true}}' and run\n\
         LOGIN_PASSWORD={DEFAULT_PASSWORD} journeyprobe run journeys/"
    );
    code
}

fn embedded_journeys(base_url: &str) -> Result<Vec<Journey>, i32> {
    let env = Overlay {
        vars: BTreeMap::from([
            ("BASE_URL".to_string(), base_url.to_string()),
            ("LOGIN_PASSWORD".to_string(), DEFAULT_PASSWORD.to_string()),
        ]),
        fallback: &ProcessEnv,
    };
    let mut out = Vec::new();
    for (path, text) in EMBEDDED {
        let (journey, diags) = parse_journey(Path::new(path), text, &env);
        for d in &diags.items {
            eprintln!("embedded {d}");
        }
        match journey {
            Some(j) => out.push(j),
            None => return Err(super::EXIT_CONFIG),
        }
    }
    Ok(out)
}
