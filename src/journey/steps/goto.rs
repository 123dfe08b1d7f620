//! `goto`: load a page, and look at it once: an error page fails the step right here.

use super::StepCtx;
use super::wait::{Check, poll, set_page_load, waited};
use crate::outcome::{Problem, Reason};

pub(super) async fn goto(ctx: &StepCtx<'_>, url: &str) -> Result<(), Problem> {
    // Even a page that never answers may have set cookies on its way (a redirect).
    ctx.session.saw(url);
    set_page_load(ctx).await?;
    let what = format!("goto {url}");
    let nav = ctx
        .session
        .call_navigating(ctx.deadline, &what, ctx.session.client().goto(url))
        .await;
    if let Err(c) = nav {
        return Err(match c.problem.reason {
            Reason::NavigationTimeout => Problem::new(
                Reason::NavigationTimeout,
                format!(
                    "{what}: the page did not finish loading within {}",
                    waited(ctx)
                ),
            ),
            // Some chromedriver versions answer a network failure with "unknown error"
            // instead of showing Chromium's error page; the page tells which it was.
            Reason::WebdriverError => {
                match poll(ctx, &what, None, None, |_| Check::Ready(())).await {
                    Err(p) if p.reason.class() == crate::outcome::Outcome::Failure => p,
                    _ => c.problem,
                }
            }
            _ => c.problem,
        });
    }
    // One probe: an error page is a failure right here, not three steps later.
    poll(ctx, &what, None, None, |_| Check::Ready(())).await
}
