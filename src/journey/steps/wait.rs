//! The auto-wait every step shares: probe the page (one in-page script per round trip)
//! until a condition holds or the step's deadline passes, every [`POLL`](super::POLL).
//! While waiting, a page served with HTTP status >= 400 ends the step at once with
//! `http_error_page`, and Chromium's error page with the reason its network error names.
//! A wait that ends because its locator still matches nothing looks once, then, for what
//! the page has instead ([`super::suggest`]).

use std::time::Duration;

use fantoccini::elements::Element;
use tokio::time::Instant;

use super::{POLL, StepCtx};
use crate::browser::classify::Classified;
use crate::browser::session::{Found, PageProbe, Prepare};
use crate::config::Locator;
use crate::outcome::{Problem, Reason};

/// A condition not met yet, and what to report if it never is.
pub(super) enum Check<T> {
    Ready(T),
    NotYet(Problem),
    /// Not met because the locator matches nothing: at the deadline, the problem also says
    /// what the page has that comes closest.
    Missing(Problem),
}

impl<T> Check<T> {
    pub(super) fn map<U>(self, f: impl FnOnce(T) -> U) -> Check<U> {
        match self {
            Check::Ready(v) => Check::Ready(f(v)),
            Check::NotYet(p) => Check::NotYet(p),
            Check::Missing(p) => Check::Missing(p),
        }
    }
}

pub(super) fn waited(ctx: &StepCtx) -> String {
    humantime::format_duration(Duration::from_millis(ctx.budget.as_millis() as u64)).to_string()
}

/// Add how long the step waited to a problem found at its deadline.
pub(super) fn timed_out(ctx: &StepCtx, p: Problem) -> Problem {
    if Instant::now() >= ctx.deadline {
        Problem::new(p.reason, format!("{} (waited {})", p.message, waited(ctx)))
    } else {
        p
    }
}

/// Probe the page until `check` is ready or the deadline passes.
pub(super) async fn poll<T>(
    ctx: &StepCtx<'_>,
    what: &str,
    locator: Option<&Locator>,
    needle: Option<&str>,
    check: impl FnMut(&PageProbe) -> Check<T>,
) -> Result<T, Problem> {
    poll_prepared(ctx, what, locator, needle, Prepare::Nothing, check).await
}

/// [`poll`], asking each probe to ready the element it finds for a fill or a click.
pub(super) async fn poll_prepared<T>(
    ctx: &StepCtx<'_>,
    what: &str,
    locator: Option<&Locator>,
    needle: Option<&str>,
    prepare: Prepare,
    mut check: impl FnMut(&PageProbe) -> Check<T>,
) -> Result<T, Problem> {
    let mut last: Problem;
    // The last probe saw a page on which the locator matches nothing.
    let mut missing: bool;
    loop {
        match ctx
            .session
            .probe(ctx.deadline, what, locator, needle, prepare)
            .await
        {
            Ok(p) => {
                if let Some(msg) = p.invalid {
                    return Err(Problem::new(
                        Reason::InvalidSelector,
                        format!("{what}: the browser rejected the selector: {msg}"),
                    ));
                }
                if let Some(code) = p.net_error {
                    return Err(Problem::new(
                        ctx.session.engine().net_error_reason(&code),
                        format!("{what}: the browser could not load the page: {code}"),
                    ));
                }
                if p.status >= 400 {
                    return Err(Problem::new(
                        Reason::HttpErrorPage,
                        format!(
                            "{what}: the page {} was served with HTTP {} (title {:?})",
                            p.href, p.status, p.title
                        ),
                    ));
                }
                (last, missing) = match check(&p) {
                    Check::Ready(v) => return Ok(v),
                    Check::NotYet(problem) => (problem, false),
                    Check::Missing(problem) => (problem, true),
                };
            }
            Err(Classified {
                retryable: true,
                problem,
            }) => (last, missing) = (problem, false),
            Err(c) => return Err(c.problem),
        }
        let now = Instant::now();
        if now >= ctx.deadline {
            let last = timed_out(ctx, last);
            return Err(match (missing, locator) {
                // Once, now that the wait is over: never a cost of polling.
                (true, Some(target)) => super::suggest::instead(ctx, target, last).await,
                _ => last,
            });
        }
        // Waiting for the page, not the prober's own time.
        ctx.session
            .pause((now + POLL).min(ctx.deadline) - now)
            .await;
    }
}

/// The element a probe found, when it is there, visible and enabled.
pub(super) fn ready<'p>(what: &str, target: &Locator, p: &'p PageProbe) -> Check<&'p Found> {
    match &p.found {
        None => Check::Missing(Problem::new(
            Reason::ElementNotFound,
            format!("{what}: no element matches {target}"),
        )),
        Some(f) if !f.visible => Check::NotYet(Problem::new(
            Reason::NotInteractable,
            format!("{what}: {target} is present but not visible"),
        )),
        Some(f) if !f.enabled => Check::NotYet(Problem::new(
            Reason::NotInteractable,
            format!("{what}: {target} is disabled"),
        )),
        Some(f) => Check::Ready(f),
    }
}

pub(super) async fn interactable(
    ctx: &StepCtx<'_>,
    target: &Locator,
    what: &str,
) -> Result<Element, Problem> {
    let el = interactable_ref(ctx, target, what).await?;
    element(ctx, what, &el)
}

/// The element a script returned, as a WebDriver element.
pub(super) fn element(
    ctx: &StepCtx<'_>,
    what: &str,
    el: &serde_json::Value,
) -> Result<Element, Problem> {
    ctx.session.element(el).ok_or_else(|| {
        Problem::new(
            Reason::WebdriverError,
            format!("{what}: the driver returned no element reference"),
        )
    })
}

/// The first visible, enabled element `target` finds, as the reference a script returns.
async fn interactable_ref(
    ctx: &StepCtx<'_>,
    target: &Locator,
    what: &str,
) -> Result<serde_json::Value, Problem> {
    poll(ctx, what, Some(target), None, |p| {
        ready(what, target, p).map(|f| f.el.clone())
    })
    .await
}

/// Find an interactable element and do something with it that may navigate; if the element
/// goes stale or is briefly not interactable (re-rendered, animating), find it again until
/// the deadline.
pub(super) async fn act<F, Fut>(
    ctx: &StepCtx<'_>,
    target: &Locator,
    what: &str,
    f: F,
) -> Result<(), Problem>
where
    F: Fn(Element) -> Fut,
    Fut: Future<Output = Result<(), fantoccini::error::CmdError>>,
{
    loop {
        let el = interactable(ctx, target, what).await?;
        set_page_load(ctx).await?;
        match ctx.session.call_navigating(ctx.deadline, what, f(el)).await {
            Ok(()) => return Ok(()),
            Err(c) if c.retryable && Instant::now() < ctx.deadline => {
                ctx.session.pause(POLL).await;
            }
            Err(c) => return Err(timed_out(ctx, c.problem)),
        }
    }
}

/// Bound navigations the driver waits for (goto, navigating clicks) by the step's budget.
pub(super) async fn set_page_load(ctx: &StepCtx<'_>) -> Result<(), Problem> {
    let left = ctx.deadline.saturating_duration_since(Instant::now());
    ctx.session
        .set_page_load_timeout(ctx.deadline, left)
        .await
        .map_err(|c| c.problem)
}
