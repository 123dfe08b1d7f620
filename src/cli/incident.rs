//! The flags of reproducing an incident, shared by `run` and `repro`: a visible browser,
//! slow motion, a pause on failure, a screenshot after every step.

use std::time::Duration;

use super::ExitCode;
use crate::journey::Interactive;
use crate::journey::runner::MAX_SLOW_MO;

#[derive(clap::Args, Debug, Default)]
#[command(next_help_heading = "Reproducing an incident")]
pub struct IncidentArgs {
    /// Show the browser window instead of running headless (needs a display).
    #[arg(long)]
    pub headed: bool,
    /// Pause this long after every step (e.g. 500ms); each journey's timeout grows to match.
    #[arg(long, value_name = "DURATION", value_parser = slow_mo)]
    pub slow_mo: Option<Duration>,
    /// When a journey fails, keep its browser open as the failure left it until Enter is
    /// pressed (at most an hour).
    #[arg(long)]
    pub pause_on_failure: bool,
    /// Keep a screenshot (secrets masked) after every step, in the artifacts folder.
    #[arg(long)]
    pub trace: bool,
}

impl IncidentArgs {
    /// The runner's settings, or the exit code of a usage error (`--headed` without a
    /// display), already explained on stderr.
    pub fn interactive(&self) -> Result<Interactive, ExitCode> {
        if self.headed && !has_display() {
            eprintln!(
                "error: --headed needs a display, and neither DISPLAY nor WAYLAND_DISPLAY is set; \
                 run it in a desktop session, under xvfb-run, or without --headed (then --trace \
                 keeps a screenshot of every step)"
            );
            return Err(ExitCode::Usage);
        }
        Ok(Interactive {
            headed: self.headed,
            slow_mo: self.slow_mo.unwrap_or_default(),
            pause_on_failure: self.pause_on_failure,
            trace: self.trace,
        })
    }
}

/// Why `--slow-mo` is refused (clap shows it after the value).
#[derive(Debug, thiserror::Error)]
enum SlowMoError {
    #[error(transparent)]
    Duration(#[from] humantime::DurationError),
    #[error("at most 1m: slow motion is for watching steps, not for waiting")]
    TooSlow(Duration),
}

/// `--slow-mo`: a duration up to a minute.
fn slow_mo(s: &str) -> Result<Duration, SlowMoError> {
    let d = humantime::parse_duration(s)?;
    if d > MAX_SLOW_MO {
        return Err(SlowMoError::TooSlow(d));
    }
    Ok(d)
}

fn has_display() -> bool {
    ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()))
}
