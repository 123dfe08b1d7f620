//! Executing one step against a live session: one file per step kind, named after it
//! (`click.rs` holds `click`), the auto-wait they share in `wait.rs`, and what follows a
//! step that may load a page in `settle.rs`.
//!
//! Every step auto-waits: it probes the page (one in-page script per round trip) until its
//! condition holds or its deadline passes, every [`POLL`]. While waiting, a page served with
//! HTTP status >= 400 ends the step at once with `http_error_page`: an error page will not
//! turn into the dashboard by waiting.
//!
//! A new step kind: its variant in `config::model::Action`, its reader in `config::steps`,
//! a file here, and its arm in [`execute`] and `act_on` (both matches are exhaustive, so a
//! kind not wired in does not compile).

mod assert_text;
mod assert_title;
mod assert_url;
mod assert_visible;
mod click;
mod fill;
mod goto;
mod press;
mod screenshot;
mod select;
mod settle;
mod suggest;
mod wait;
mod wait_for;

use std::time::Duration;

use tokio::time::Instant;

use super::artifacts::RunArtifacts;
use crate::browser::Session;
use crate::config::Action;
use crate::outcome::Problem;
use crate::redact::Redactor;
use crate::result::PageTimings;

/// Pause between probes while waiting.
pub const POLL: Duration = Duration::from_millis(25);

/// What a step needs to run.
pub struct StepCtx<'a> {
    pub session: &'a Session,
    pub deadline: Instant,
    /// The budget the step was given (for messages).
    pub budget: Duration,
    pub redactor: &'a Redactor,
    pub artifacts: &'a mut RunArtifacts,
    /// Timings of the page the step loaded (goto, a navigating click, key or option).
    pub page: Option<PageTimings>,
}

pub async fn execute(ctx: &mut StepCtx<'_>, action: &Action) -> Result<(), Problem> {
    act_on(ctx, action).await?;
    // What follows a step that succeeded: every kind says, so a new one must decide.
    match action {
        Action::Goto { .. } => {
            // Loaded already: a short read, never the step's failure.
            let by = (Instant::now() + Duration::from_millis(500)).min(ctx.deadline);
            ctx.page = ctx.session.page_timings(by, true).await.ok().flatten();
            Ok(())
        }
        Action::Click { .. } | Action::Press { .. } | Action::Select { .. } => {
            settle::settle(ctx, action).await
        }
        Action::Fill { .. }
        | Action::WaitFor(_)
        | Action::AssertText { .. }
        | Action::AssertUrl { .. }
        | Action::AssertTitle { .. }
        | Action::AssertVisible { .. }
        | Action::Screenshot { .. } => Ok(()),
    }
}

async fn act_on(ctx: &mut StepCtx<'_>, action: &Action) -> Result<(), Problem> {
    match action {
        Action::Goto { url } => goto::goto(ctx, url).await,
        Action::Fill { target, value } => fill::fill(ctx, target, value).await,
        Action::Click { target } => click::click(ctx, target).await,
        Action::Press { key, target } => press::press(ctx, key.code, target.as_ref()).await,
        Action::Select { target, option } => select::select(ctx, target, option).await,
        Action::WaitFor(cond) => wait_for::wait_for(ctx, cond).await,
        Action::AssertText { target, expect } => {
            assert_text::assert_text(ctx, target, expect).await
        }
        Action::AssertUrl { pattern } => assert_url::assert_url(ctx, pattern).await,
        Action::AssertTitle { expect } => assert_title::assert_title(ctx, expect).await,
        Action::AssertVisible {
            target,
            min_contrast,
        } => assert_visible::assert_visible(ctx, target, *min_contrast).await,
        Action::Screenshot { name } => screenshot::screenshot(ctx, name).await,
    }
}
