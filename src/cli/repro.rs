//! `journeyprobe repro RUN_ID --data-dir DIR` — run a past run's journey again, exactly as
//! it was: the journey text and the non-secret vars recorded with the run, even if the file
//! on disk has changed since. Secrets come from the environment, as they did then.

use std::path::{Path, PathBuf};

use super::ExitCode;
use super::interrupt::Interrupt;
use super::run::{Batch, Options, run_batch};
use crate::config::file::parse_recorded;
use crate::config::{Diagnostic, Journey, ProcessEnv};
use crate::history::{History, HistoryError};
use crate::outcome::exit_code;
use crate::report::live::Live;

#[derive(clap::Args, Debug)]
#[command(after_help = "\
RUN_ID is the id of a stored attempt: GET /api/v1/runs on serve lists them (field `id`), \
and the board's run pages show it. Exit codes as for run: 0 passed · 1 failed · 2 no such \
run or journey · 3 the prober could not verify.

Example, at 2 a.m.:
  journeyprobe repro 4711 --data-dir /var/lib/journeyprobe --headed --slow-mo 500ms --pause-on-failure")]
pub struct Args {
    /// The stored run to reproduce.
    pub run_id: i64,
    /// serve's data folder (its history).
    #[arg(long, value_name = "DIR", default_value = "journeyprobe-data")]
    pub data_dir: PathBuf,
    /// Use this WebDriver server instead of starting chromedriver here.
    #[arg(long, value_name = "URL")]
    pub webdriver: Option<String>,
    /// Reproduce in this browser (chromium or firefox) instead of the one the run used.
    #[arg(long, value_name = "BROWSER", value_parser = super::parse_browser)]
    pub browser: Option<crate::config::BrowserKind>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = super::Format::Human)]
    pub format: super::Format,
    /// Where the run leaves screenshots, page HTML, console log and step timeline.
    #[arg(long, value_name = "DIR", default_value = "journeyprobe-artifacts")]
    pub artifacts: PathBuf,
    /// The `envs:` block serve ran with (`--env`), for vars not recorded with the run
    /// because they hold a secret.
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,
    #[command(flatten)]
    pub incident: super::incident::IncidentArgs,
}

pub async fn run(a: Args) -> ExitCode {
    let interactive = match a.incident.interactive() {
        Ok(i) => i,
        Err(code) => return code,
    };
    let mut journey = match load(a.run_id, &a.data_dir, a.env.as_deref()).await {
        Ok(j) => j,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::Usage;
        }
    };
    if let Some(b) = a.browser {
        journey.0.browser = b;
    }
    let opts = Options {
        webdriver: a.webdriver,
        artifacts: Some(a.artifacts),
        retries: Some(0),
        interactive,
        repeat: 1,
        pool: false,
    };
    let live = Live::stdout(a.format == super::Format::Json);
    let interrupt = Interrupt::install();
    let batch = Batch {
        journeys: std::slice::from_ref(&journey.0),
        prerequisites: &journey.1,
    };
    let runs = run_batch(batch, &opts, &live, &interrupt).await;
    live.summary(&runs);
    if interrupt.is_cancelled() {
        return ExitCode::Interrupted;
    }
    exit_code(runs.iter().map(|r| r.result.outcome))
}

/// Why a run cannot be reproduced (exit 2, nothing ran).
#[derive(Debug, thiserror::Error)]
enum ReproError {
    #[error("no history in {} (serve's --data-dir)", .0.display())]
    NoHistory(PathBuf),
    #[error(transparent)]
    History(#[from] HistoryError),
    #[error("no run {id} in {}", history.display())]
    NoRun { id: i64, history: PathBuf },
    #[error("run {id} is a {kind} check ({probe}); repro re-runs journeys")]
    NotAJourney {
        id: i64,
        kind: String,
        probe: String,
    },
    #[error("the definition of run {0} is no longer in history")]
    NoDefinition(i64),
    #[error("the recorded journey does not load now:\n{}", lines(.0))]
    DoesNotLoad(Vec<Diagnostic>),
    #[error("the recorded text of {file} holds no journey {probe}")]
    NoJourney { file: String, probe: String },
}

fn lines(diags: &[Diagnostic]) -> String {
    let all: Vec<String> = diags.iter().map(ToString::to_string).collect();
    all.join("\n")
}

/// The recorded journey of run `id`, and the checks of its file (its prerequisites).
async fn load(
    id: i64,
    data_dir: &Path,
    environment: Option<&str>,
) -> Result<(Journey, Vec<crate::config::Check>), ReproError> {
    if !data_dir.join("history.sqlite3").is_file() {
        return Err(ReproError::NoHistory(data_dir.to_path_buf()));
    }
    let h = History::open(data_dir)?;
    let run = h.recorded(id).await?.ok_or_else(|| ReproError::NoRun {
        id,
        history: h.path().to_path_buf(),
    })?;
    if !run.kind.is_journey() {
        return Err(ReproError::NotAJourney {
            id,
            kind: run.kind.to_string(),
            probe: run.probe,
        });
    }
    let (file, text) = h
        .definition(run.definition_hash.clone())
        .await?
        .ok_or(ReproError::NoDefinition(id))?;
    let path = PathBuf::from(&file);
    match std::fs::read_to_string(&path) {
        Ok(now) if crate::history::content_hash(&now) == run.definition_hash => {}
        Ok(_) => eprintln!(
            "note: {file} has changed since run {id}; re-running the journey as it was then"
        ),
        Err(_) => eprintln!("note: {file} is gone; re-running the journey as it was at run {id}"),
    }
    let (parsed, diags) = parse_recorded(&path, &text, &ProcessEnv, environment, &run.vars);
    let parsed = parsed.ok_or(ReproError::DoesNotLoad(diags.items))?;
    let Some(journey) = parsed.journey.filter(|j| j.name == run.probe) else {
        return Err(ReproError::NoJourney {
            file,
            probe: run.probe,
        });
    };
    eprintln!(
        "reproducing run {id} of {} (it ended in {}), with the vars recorded then",
        run.probe, run.outcome
    );
    Ok((journey, parsed.checks))
}
