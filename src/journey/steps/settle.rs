//! What follows a click, key or option: the page it loads, if it loads one, timed.

use std::time::Duration;

use tokio::time::Instant;

use super::StepCtx;
use super::wait::waited;
use crate::browser::classify::Classified;
use crate::config::Action;
use crate::outcome::{Problem, Reason};

/// After a click, key or option: wait for the page it loads, if it loads one, and time it.
/// chromedriver usually waits for that page itself, but misses a navigation that starts a
/// moment after it looked (a form's submission is queued); then this read waits for it.
/// The driver's page-load and script timeouts are the step's remaining budget meanwhile:
/// a script cut short by a page that unloads under it waits for the script timeout.
pub(super) async fn settle(ctx: &mut StepCtx<'_>, action: &Action) -> Result<(), Problem> {
    // At least half a second, within the grace every command has past its step's deadline:
    // a click that ends just before it still gets its page looked at.
    let left = ctx
        .deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_millis(500));
    let session = ctx.session;
    session
        .set_script_timeout(ctx.deadline, left)
        .await
        .map_err(|c| c.problem)?;
    let read = session.page_timings(ctx.deadline, false).await;
    let restored = session
        .set_script_timeout(ctx.deadline, crate::browser::session::SCRIPT_TIMEOUT)
        .await;
    let slow = |ctx: &StepCtx<'_>, c: &Classified| {
        Problem::new(
            Reason::NavigationTimeout,
            format!(
                "{}: the page it loaded did not finish loading within {} ({})",
                action.kind(),
                waited(ctx),
                c.problem.message
            ),
        )
    };
    let verdict = match read {
        Ok(t) => {
            ctx.page = t;
            Ok(())
        }
        Err(c)
            if matches!(
                c.problem.reason,
                Reason::NavigationTimeout | Reason::StepTimeout
            ) =>
        {
            Err(slow(ctx, &c))
        }
        // Not answered by the step's deadline (and its grace): a script that a page
        // navigating under it cut short can keep chromedriver waiting for that page, beyond
        // its own timeouts. A driver that still answers /status is waiting for the page.
        Err(c) if c.problem.reason == Reason::WebdriverTimeout && session.driver_alive().await => {
            Err(slow(ctx, &c))
        }
        // The session or the driver is gone or hung: ours.
        Err(c)
            if c.problem.reason.class() == crate::outcome::Outcome::Error
                && c.problem.reason != Reason::WebdriverError =>
        {
            Err(c.problem)
        }
        // A script of ours the page broke: no timings, and the next step goes on.
        Err(c) => {
            tracing::debug!(
                "no page timings: {}",
                ctx.redactor.redact(&c.problem.message)
            );
            Ok(())
        }
    };
    verdict.and(restored.map_err(|c| c.problem))
}
