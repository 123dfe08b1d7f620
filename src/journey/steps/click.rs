//! `click`: a mouse click where the element really is, or WebDriver's element click.

use tokio::time::Instant;

use super::wait::{Check, element, poll_prepared, ready, set_page_load, timed_out};
use super::{POLL, StepCtx};
use crate::browser::session::Prepare;
use crate::config::Locator;
use crate::outcome::{Problem, Reason};

/// Click the first visible, enabled element `target` finds. Where the probe that finds it
/// also finds the point a click lands on it, the click is dispatched there through Chrome
/// DevTools; otherwise (covered, in a frame, no DevTools) it is WebDriver's element click,
/// with the driver's own checks and errors.
pub(super) async fn click(ctx: &StepCtx<'_>, target: &Locator) -> Result<(), Problem> {
    let what = format!("click {target}");
    loop {
        // An element the probe scrolled to is looked at once more, after the page reacted
        // to the scroll; one that keeps needing it gets WebDriver's click.
        let mut scrolls = 0;
        let (el, at) = poll_prepared(
            ctx,
            &what,
            Some(target),
            None,
            Prepare::Point,
            |p| match ready(&what, target, p) {
                Check::Ready(f) if f.scrolled && scrolls == 0 => {
                    scrolls += 1;
                    Check::NotYet(Problem::new(
                        Reason::NotInteractable,
                        format!("{what}: {target} was scrolled into view"),
                    ))
                }
                other => other.map(|f| (f.el.clone(), f.point)),
            },
        )
        .await?;
        set_page_load(ctx).await?;
        let clicked = match at {
            Some(at) => ctx.session.click_at(ctx.deadline, &what, at).await,
            None => Ok(false),
        };
        if let (Ok(true), Some(p)) = (&clicked, at) {
            tracing::debug!("{what}: mouse input at ({:.0}, {:.0})", p.x, p.y);
        }
        let clicked = match clicked {
            Ok(false) => {
                tracing::debug!("{what}: WebDriver element click");
                let el = element(ctx, &what, &el)?;
                ctx.session
                    .call_navigating(ctx.deadline, &what, el.click())
                    .await
            }
            Ok(true) => Ok(()),
            Err(c) => Err(c),
        };
        match clicked {
            Ok(()) => return Ok(()),
            Err(c) if c.retryable && Instant::now() < ctx.deadline => {
                ctx.session.pause(POLL).await;
            }
            Err(c) => return Err(timed_out(ctx, c.problem)),
        }
    }
}
