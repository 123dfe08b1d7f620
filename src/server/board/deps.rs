//! What a tile says about the checks behind its BPM, so that a broken dependency is seen
//! where people look, with the weight of a failing journey:
//!
//! - **dependency lines**: the checks the BPM counts (a BPM of checks) and the checks its
//!   journeys stand on (`depends_on`), each with its latest attempt: outcome, reason, when,
//!   and the message when it did not pass. A DNS record gone turns a line red under every
//!   journey that needs the name, even while the journeys still pass.
//! - **the cause**: for a BPM out of band or failing now, its journeys' latest failure and
//!   what their prerequisites said when they were run right after it, so "element not found
//!   on the dashboard" reads together with "the assets bucket is gone".
//!
//! Checks that no BPM counts and no journey stands on get lines of their own ([`loose`]):
//! every check is somewhere on the board above the probe table.

use crate::config::ProbeKind;
use crate::history::HistoryError;
use crate::history::board::RunRef;
use crate::outcome::Outcome;
use crate::service::{Plan, Shared};

use super::run_page::{PrerequisiteShown, Shown, where_text};
use super::view::ProbeRow;

crate::closed::closed_set! {
    /// Why a check is listed under a tile.
    pub enum DepRole {
        /// The BPM counts its runs.
        Counted => "counted",
        /// A journey of the BPM names it in `depends_on`.
        StandsOn => "stands_on",
        /// No BPM counts it and no journey stands on it.
        Loose => "loose",
    }
}

pub struct DepLine {
    pub check: String,
    pub kind: ProbeKind,
    pub role: DepRole,
    /// Its latest attempt.
    pub last: Option<RunRef>,
    /// The message of that attempt, when it did not succeed.
    pub message: Option<String>,
}

/// A journey's latest failure, and what its prerequisites said right after it.
pub struct Cause {
    pub probe: String,
    pub run: RunRef,
    /// Where it failed (`step 8 (…)`).
    pub at: Option<String>,
    pub message: Option<String>,
    pub prerequisites: Vec<PrerequisiteShown>,
}

impl Cause {
    /// The prerequisites that failed or could not be checked with it.
    pub fn failed(&self) -> impl Iterator<Item = &PrerequisiteShown> {
        self.prerequisites.iter().filter(|p| p.outcome != "success")
    }
}

fn row<'a>(rows: &'a [ProbeRow], name: &str) -> Option<&'a ProbeRow> {
    rows.iter().find(|r| r.name == name)
}

/// The lines of a BPM over `probes`: its checks first, then what its journeys stand on,
/// each check once, in the order the files name them.
pub async fn lines(
    s: &Shared,
    plan: &Plan,
    probes: &[String],
    rows: &[ProbeRow],
) -> Result<Vec<DepLine>, HistoryError> {
    let mut named: Vec<(&str, DepRole)> = Vec::new();
    for p in probes {
        if plan.checks.iter().any(|c| &c.name == p) {
            named.push((p, DepRole::Counted));
        }
    }
    for j in plan.journeys.iter().filter(|j| probes.contains(&j.name)) {
        for (d, _) in &j.depends_on {
            if !named.iter().any(|(n, _)| n == d) {
                named.push((d, DepRole::StandsOn));
            }
        }
    }
    let mut out = Vec::with_capacity(named.len());
    for (name, role) in named {
        out.extend(line(s, rows, name, role).await?);
    }
    Ok(out)
}

/// Lines for the checks that no BPM counts and no journey stands on.
pub async fn loose(
    s: &Shared,
    plan: &Plan,
    rows: &[ProbeRow],
) -> Result<Vec<DepLine>, HistoryError> {
    let mut out = Vec::new();
    for c in &plan.checks {
        let counted = plan.bpms.iter().any(|b| b.probes.contains(&c.name));
        let stood_on = plan
            .journeys
            .iter()
            .any(|j| j.depends_on.iter().any(|(d, _)| *d == c.name));
        if !counted && !stood_on {
            out.extend(line(s, rows, &c.name, DepRole::Loose).await?);
        }
    }
    Ok(out)
}

/// The line of check `name`; `None` if it is not among the probes (it always is: every
/// probe has a row, and `depends_on` names loaded checks only).
async fn line(
    s: &Shared,
    rows: &[ProbeRow],
    name: &str,
    role: DepRole,
) -> Result<Option<DepLine>, HistoryError> {
    let Some(r) = row(rows, name) else {
        return Ok(None);
    };
    let last = r.status.last.clone();
    let message = match &last {
        Some(l) if l.outcome != Outcome::Success => message_of(s, l.id).await?,
        Some(_) | None => None,
    };
    Ok(Some(DepLine {
        check: name.to_string(),
        kind: r.kind,
        role,
        last,
        message,
    }))
}

async fn message_of(s: &Shared, id: i64) -> Result<Option<String>, HistoryError> {
    Ok(s.history.run(id).await?.and_then(|r| Shown::of(&r).message))
}

/// The latest final failure of the journeys among `probes` since `since`, with its
/// prerequisites.
pub async fn cause(
    s: &Shared,
    plan: &Plan,
    probes: &[String],
    rows: &[ProbeRow],
    since: f64,
) -> Result<Option<Cause>, HistoryError> {
    let latest = plan
        .journeys
        .iter()
        .filter(|j| probes.contains(&j.name))
        .filter_map(|j| row(rows, &j.name)?.status.last_failure.clone())
        .filter(|f| f.started_at >= since)
        .max_by(|a, b| a.started_at.total_cmp(&b.started_at));
    let Some(run) = latest else {
        return Ok(None);
    };
    let Some(stored) = s.history.run(run.id).await? else {
        return Ok(None);
    };
    let shown = Shown::of(&stored);
    Ok(Some(Cause {
        probe: stored.probe,
        run,
        at: shown.phase.as_ref().map(where_text),
        message: shown.message,
        prerequisites: shown.prerequisites,
    }))
}
