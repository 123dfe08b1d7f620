//! Executing one step against a live session.
//!
//! Every step auto-waits: it probes the page (one in-page script per round trip) until its
//! condition holds or its deadline passes, every [`POLL`]. While waiting, a page served with
//! HTTP status >= 400 ends the step at once with `http_error_page`: an error page will not
//! turn into the dashboard by waiting.

use std::time::Duration;

use fantoccini::elements::Element;
use serde::Deserialize;
use serde_json::json;
use tokio::time::Instant;

use super::artifacts::RunArtifacts;
use crate::browser::Session;
use crate::browser::classify::Classified;
use crate::browser::scripts;
use crate::browser::session::{Found, PageProbe, Prepare};
use crate::config::{Action, Locator, SelectBy, TextMatch, WaitCondition};
use crate::outcome::{Problem, Reason};
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

/// A condition not met yet, and what to report if it never is.
enum Check<T> {
    Ready(T),
    NotYet(Problem),
}

impl<T> Check<T> {
    fn map<U>(self, f: impl FnOnce(T) -> U) -> Check<U> {
        match self {
            Check::Ready(v) => Check::Ready(f(v)),
            Check::NotYet(p) => Check::NotYet(p),
        }
    }
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
            settle(ctx, action).await
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

/// After a click, key or option: wait for the page it loads, if it loads one, and time it.
/// chromedriver usually waits for that page itself, but misses a navigation that starts a
/// moment after it looked (a form's submission is queued); then this read waits for it.
/// The driver's page-load and script timeouts are the step's remaining budget meanwhile:
/// a script cut short by a page that unloads under it waits for the script timeout.
async fn settle(ctx: &mut StepCtx<'_>, action: &Action) -> Result<(), Problem> {
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

async fn act_on(ctx: &mut StepCtx<'_>, action: &Action) -> Result<(), Problem> {
    match action {
        Action::Goto { url } => goto(ctx, url).await,
        Action::Fill { target, value } => fill(ctx, target, value).await,
        Action::Click { target } => click(ctx, target).await,
        Action::Press { key, target } => press(ctx, key.code, target.as_ref()).await,
        Action::Select { target, option } => select(ctx, target, option).await,
        Action::WaitFor(cond) => wait_for(ctx, cond).await,
        Action::AssertText { target, expect } => assert_text(ctx, target, expect).await,
        Action::AssertUrl { pattern } => {
            poll(ctx, "assert url", None, None, |p| {
                if pattern.is_match(&p.href) {
                    Check::Ready(())
                } else {
                    Check::NotYet(Problem::new(
                        Reason::AssertionFailed,
                        format!("url {} does not match /{pattern}/", p.href),
                    ))
                }
            })
            .await
        }
        Action::AssertTitle { expect } => {
            poll(ctx, "assert title", None, None, |p| {
                if expect.check(&p.title) {
                    Check::Ready(())
                } else {
                    Check::NotYet(Problem::new(
                        Reason::AssertionFailed,
                        format!(
                            "title is {:?}, expected it {}",
                            p.title,
                            expect.expectation()
                        ),
                    ))
                }
            })
            .await
        }
        Action::AssertVisible {
            target,
            min_contrast,
        } => assert_visible(ctx, target, *min_contrast).await,
        Action::Screenshot { name } => screenshot(ctx, name).await,
    }
}

fn waited(ctx: &StepCtx) -> String {
    humantime::format_duration(Duration::from_millis(ctx.budget.as_millis() as u64)).to_string()
}

/// Probe the page until `check` is ready or the deadline passes.
async fn poll<T>(
    ctx: &StepCtx<'_>,
    what: &str,
    locator: Option<&Locator>,
    needle: Option<&str>,
    check: impl FnMut(&PageProbe) -> Check<T>,
) -> Result<T, Problem> {
    poll_prepared(ctx, what, locator, needle, Prepare::Nothing, check).await
}

/// [`poll`], asking each probe to ready the element it finds for a fill or a click.
async fn poll_prepared<T>(
    ctx: &StepCtx<'_>,
    what: &str,
    locator: Option<&Locator>,
    needle: Option<&str>,
    prepare: Prepare,
    mut check: impl FnMut(&PageProbe) -> Check<T>,
) -> Result<T, Problem> {
    let mut last: Problem;
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
                        net_error_reason(&code),
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
                match check(&p) {
                    Check::Ready(v) => return Ok(v),
                    Check::NotYet(problem) => last = problem,
                }
            }
            Err(Classified {
                retryable: true,
                problem,
            }) => last = problem,
            Err(c) => return Err(c.problem),
        }
        let now = Instant::now();
        if now >= ctx.deadline {
            return Err(timed_out(ctx, last));
        }
        // Waiting for the page, not the prober's own time.
        ctx.session
            .pause((now + POLL).min(ctx.deadline) - now)
            .await;
    }
}

/// Chromium network error codes that say the *target* could not be reached or spoke
/// nonsense. Any other code (no connectivity, proxy, out of resources, blocked by policy)
/// is the prober's own network failing, which must not count against the target.
const TARGET_NET_ERRORS: &[&str] = &[
    "ERR_CONNECTION_REFUSED",
    "ERR_CONNECTION_RESET",
    "ERR_CONNECTION_CLOSED",
    "ERR_CONNECTION_FAILED",
    "ERR_CONNECTION_TIMED_OUT",
    "ERR_TIMED_OUT",
    "ERR_ADDRESS_UNREACHABLE",
    "ERR_NAME_NOT_RESOLVED",
    "ERR_EMPTY_RESPONSE",
    "ERR_INVALID_RESPONSE",
    "ERR_INVALID_HTTP_RESPONSE",
    "ERR_RESPONSE_HEADERS_TRUNCATED",
    "ERR_TOO_MANY_REDIRECTS",
    "ERR_CONTENT_DECODING_FAILED",
    "ERR_HTTP2_PROTOCOL_ERROR",
    "ERR_UNSAFE_PORT",
    "ERR_UNSAFE_REDIRECT",
    "ERR_INVALID_REDIRECT",
];

/// Which side a Chromium network error is on.
pub fn net_error_reason(code: &str) -> Reason {
    let target = TARGET_NET_ERRORS.contains(&code)
        || code.starts_with("ERR_CERT_")
        || code.starts_with("ERR_SSL_");
    if target {
        Reason::NavigationFailed
    } else {
        Reason::ProberNetwork
    }
}

/// Wait until `target` is present, visible and enabled.
/// Put `value` in a text field: the probe that finds it ready also focuses it and selects
/// its text, then one `Input.insertText` (Chrome DevTools, ~4 ms) replaces that text and
/// fires `beforeinput` and `input` like a paste, and a last look checks that the field kept
/// the focus: three round trips. Typing key by key through
/// WebDriver costs 50–80 ms for a 17-character address, plus ~30 ms for clearing the field.
/// Other fields, an empty value, and a WebDriver without Chrome DevTools take the
/// key-by-key path.
async fn fill(ctx: &StepCtx<'_>, target: &Locator, value: &str) -> Result<(), Problem> {
    let what = format!("fill {target}");
    if !value.is_empty() {
        let focused = poll_prepared(ctx, &what, Some(target), None, Prepare::Focus, |p| {
            ready(&what, target, p).map(|f| f.focused.then(|| f.el.clone()))
        })
        .await?;
        if let Some(el) = focused {
            let text = serde_json::json!({ "text": value });
            match ctx
                .session
                .cdp(ctx.deadline, "Input.insertText", text)
                .await
            {
                // The page may have moved the focus (re-rendered the field) in between: then
                // the text went elsewhere or nowhere, and the field is typed into anew.
                Ok(_) if still_focused(ctx, &what, el).await => return Ok(()),
                Ok(_) => tracing::debug!("{what}: the field lost the focus; typing instead"),
                Err(c) => tracing::debug!(
                    "{what}: no text insertion ({}); typing instead",
                    ctx.redactor.redact(&c.problem.message)
                ),
            }
        }
    }
    act(ctx, target, &what, |el| async move {
        el.clear().await?;
        el.send_keys(value).await
    })
    .await
}

/// Is `el` still in the page and focused?
async fn still_focused(ctx: &StepCtx<'_>, what: &str, el: serde_json::Value) -> bool {
    let script = "return arguments[0].isConnected && document.activeElement === arguments[0];";
    let asked = ctx
        .session
        .call(
            ctx.deadline,
            what,
            ctx.session.client().execute(script, vec![el]),
        )
        .await;
    matches!(asked, Ok(serde_json::Value::Bool(true)))
}

async fn interactable(ctx: &StepCtx<'_>, target: &Locator, what: &str) -> Result<Element, Problem> {
    let el = interactable_ref(ctx, target, what).await?;
    element(ctx, what, &el)
}

/// The element a script returned, as a WebDriver element.
fn element(ctx: &StepCtx<'_>, what: &str, el: &serde_json::Value) -> Result<Element, Problem> {
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

/// The element a probe found, when it is there, visible and enabled.
fn ready<'p>(what: &str, target: &Locator, p: &'p PageProbe) -> Check<&'p Found> {
    match &p.found {
        None => Check::NotYet(Problem::new(
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

/// Find an interactable element and do something with it that may navigate; if the element
/// goes stale or is briefly not interactable (re-rendered, animating), find it again until
/// the deadline.
async fn act<F, Fut>(ctx: &StepCtx<'_>, target: &Locator, what: &str, f: F) -> Result<(), Problem>
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

/// Click the first visible, enabled element `target` finds. Where the probe that finds it
/// also finds the point a click lands on it, the click is dispatched there through Chrome
/// DevTools; otherwise (covered, in a frame, no DevTools) it is WebDriver's element click,
/// with the driver's own checks and errors.
async fn click(ctx: &StepCtx<'_>, target: &Locator) -> Result<(), Problem> {
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

/// Add how long the step waited to a problem found at its deadline.
fn timed_out(ctx: &StepCtx, p: Problem) -> Problem {
    if Instant::now() >= ctx.deadline {
        Problem::new(p.reason, format!("{} (waited {})", p.message, waited(ctx)))
    } else {
        p
    }
}

/// Bound navigations the driver waits for (goto, navigating clicks) by the step's budget.
async fn set_page_load(ctx: &StepCtx<'_>) -> Result<(), Problem> {
    let left = ctx.deadline.saturating_duration_since(Instant::now());
    ctx.session
        .set_page_load_timeout(ctx.deadline, left)
        .await
        .map_err(|c| c.problem)
}

async fn goto(ctx: &StepCtx<'_>, url: &str) -> Result<(), Problem> {
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

async fn press(ctx: &StepCtx<'_>, code: char, target: Option<&Locator>) -> Result<(), Problem> {
    let keys = code.to_string();
    match target {
        Some(t) => {
            let what = format!("press in {t}");
            act(ctx, t, &what, |el| {
                let keys = keys.clone();
                async move { el.send_keys(&keys).await }
            })
            .await
        }
        None => {
            let client = ctx.session.client();
            let fut = async {
                let el = client.active_element().await?;
                el.send_keys(&keys).await
            };
            set_page_load(ctx).await?;
            ctx.session
                .call_navigating(ctx.deadline, "press", fut)
                .await
                .map_err(|c| c.problem)
        }
    }
}

#[derive(Deserialize)]
struct Picked {
    option: Option<serde_json::Value>,
    is_select: bool,
    #[serde(default)]
    disabled: bool,
    available: Vec<String>,
}

/// Choose an option of a `<select>` by clicking it, as a user would. Options that load
/// late are waited for until the deadline.
async fn select(ctx: &StepCtx<'_>, target: &Locator, option: &SelectBy) -> Result<(), Problem> {
    let what = format!("select {option} in {target}");
    let (kind, want) = match option {
        SelectBy::Value(v) => ("value", json!(v)),
        SelectBy::Label(l) => ("label", json!(l)),
        SelectBy::Index(i) => ("index", json!(i)),
    };
    loop {
        let el = interactable(ctx, target, &what).await?;
        let el = serde_json::to_value(&el).unwrap_or_default();
        let script = ctx
            .session
            .client()
            .execute(scripts::PICK_OPTION, vec![el, json!(kind), want.clone()]);
        let last = match ctx.session.call(ctx.deadline, &what, script).await {
            Ok(v) => match serde_json::from_value::<Picked>(v) {
                Ok(Picked {
                    option: Some(o), ..
                }) => {
                    let Some(opt) = ctx.session.element(&o) else {
                        return Err(Problem::new(
                            Reason::WebdriverError,
                            format!("{what}: no element reference"),
                        ));
                    };
                    set_page_load(ctx).await?;
                    match ctx
                        .session
                        .call_navigating(ctx.deadline, &what, opt.click())
                        .await
                    {
                        Ok(()) if is_selected(ctx, &o, &what).await? => return Ok(()),
                        Ok(()) => Problem::new(
                            Reason::NotInteractable,
                            format!("{what}: the option was clicked but did not become selected"),
                        ),
                        Err(c) if c.retryable => c.problem,
                        Err(c) => return Err(c.problem),
                    }
                }
                Ok(Picked { disabled: true, .. }) => Problem::new(
                    Reason::NotInteractable,
                    format!("{what}: the option is disabled"),
                ),
                Ok(Picked {
                    is_select: false, ..
                }) => Problem::new(
                    Reason::ElementNotFound,
                    format!("{what}: {target} is not a <select>"),
                ),
                Ok(p) => Problem::new(
                    Reason::ElementNotFound,
                    format!(
                        "{what}: no such option (options: {})",
                        p.available.join(", ")
                    ),
                ),
                Err(e) => Problem::new(Reason::WebdriverError, format!("{what}: {e}")),
            },
            Err(c) if c.retryable => c.problem,
            Err(c) => return Err(c.problem),
        };
        if Instant::now() >= ctx.deadline {
            return Err(timed_out(ctx, last));
        }
        ctx.session.pause(POLL).await;
    }
}

async fn is_selected(
    ctx: &StepCtx<'_>,
    option: &serde_json::Value,
    what: &str,
) -> Result<bool, Problem> {
    let script = ctx.session.client().execute(
        "return arguments[0].selected === true;",
        vec![option.clone()],
    );
    match ctx.session.call(ctx.deadline, what, script).await {
        Ok(v) => Ok(v.as_bool().unwrap_or(false)),
        // Choosing the option navigated away: it was chosen.
        Err(c) if c.retryable => Ok(true),
        Err(c) => Err(c.problem),
    }
}

async fn wait_for(ctx: &StepCtx<'_>, cond: &WaitCondition) -> Result<(), Problem> {
    let what = format!("wait for {cond}");
    let timeout = |msg: String| Check::NotYet(Problem::new(Reason::StepTimeout, msg));
    match cond {
        WaitCondition::Visible(l) => {
            poll(ctx, &what, Some(l), None, |p| match &p.found {
                Some(f) if f.visible => Check::Ready(()),
                Some(_) => timeout(format!("{l} is present but not visible")),
                None => timeout(format!("no element matches {l}")),
            })
            .await
        }
        WaitCondition::Hidden(l) => {
            poll(ctx, &what, Some(l), None, |p| match &p.found {
                Some(f) if f.visible => timeout(format!("{l} is still visible")),
                _ => Check::Ready(()),
            })
            .await
        }
        WaitCondition::UrlMatches(r) => {
            poll(ctx, &what, None, None, |p| {
                if r.is_match(&p.href) {
                    Check::Ready(())
                } else {
                    timeout(format!("url {} does not match /{r}/", p.href))
                }
            })
            .await
        }
        WaitCondition::Text(t) => {
            poll(ctx, &what, None, Some(t), |p| {
                if p.text_found == Some(true) {
                    Check::Ready(())
                } else {
                    timeout(format!("text {t:?} does not appear on {}", p.href))
                }
            })
            .await
        }
    }
}

async fn assert_text(
    ctx: &StepCtx<'_>,
    target: &Locator,
    expect: &TextMatch,
) -> Result<(), Problem> {
    let what = format!("assert text of {target}");
    poll(ctx, &what, Some(target), None, |p| match &p.found {
        None => Check::NotYet(Problem::new(
            Reason::ElementNotFound,
            format!("no element matches {target}"),
        )),
        Some(f) if expect.check(&f.text) => Check::Ready(()),
        Some(f) => Check::NotYet(Problem::new(
            Reason::AssertionFailed,
            format!(
                "text of {target} is {:?}, expected it {}",
                clip(&ctx.redactor.redact(&f.text)),
                expect.expectation()
            ),
        )),
    })
    .await
}

fn clip(s: &str) -> String {
    const MAX: usize = 200;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(MAX).collect::<String>())
    }
}

#[derive(Deserialize)]
struct Visibility {
    ok: bool,
    reason: Option<String>,
    detail: String,
}

async fn assert_visible(ctx: &StepCtx<'_>, target: &Locator, min: f64) -> Result<(), Problem> {
    let what = format!("assert {target} visible");
    loop {
        let el = poll(ctx, &what, Some(target), None, |p| match &p.found {
            None => Check::NotYet(Problem::new(
                Reason::ElementNotFound,
                format!("no element matches {target}"),
            )),
            Some(f) => Check::Ready(f.el.clone()),
        })
        .await?;
        let verdict = ctx
            .session
            .call(
                ctx.deadline,
                &what,
                ctx.session
                    .client()
                    .execute(scripts::CHECK_VISIBLE, vec![el, json!(min)]),
            )
            .await;
        let problem = match verdict {
            Ok(v) => match serde_json::from_value::<Visibility>(v) {
                Ok(v) if v.ok => return Ok(()),
                Ok(v) => {
                    let reason = match v.reason.as_deref() {
                        Some("covered") => Reason::Covered,
                        Some("low_contrast") => Reason::LowContrast,
                        _ => Reason::NotVisible,
                    };
                    Problem::new(reason, format!("{target} {}", v.detail))
                }
                Err(e) => Problem::new(Reason::WebdriverError, format!("{what}: {e}")),
            },
            Err(c) if c.retryable => c.problem,
            Err(c) => return Err(c.problem),
        };
        if Instant::now() >= ctx.deadline {
            return Err(timed_out(ctx, problem));
        }
        ctx.session.pause(POLL).await;
    }
}

async fn screenshot(ctx: &mut StepCtx<'_>, name: &str) -> Result<(), Problem> {
    let png = super::artifacts::masked_screenshot(ctx.session, ctx.deadline, ctx.redactor)
        .await
        .map_err(|c| c.problem)?;
    if let Err(e) = ctx.artifacts.write(&format!("screenshot-{name}.png"), &png) {
        tracing::warn!("cannot keep screenshot {name}: {e}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_browsers_own_network_failing_is_not_the_targets_fault() {
        assert_eq!(
            net_error_reason("ERR_CONNECTION_REFUSED"),
            Reason::NavigationFailed
        );
        assert_eq!(
            net_error_reason("ERR_CERT_DATE_INVALID"),
            Reason::NavigationFailed
        );
        assert_eq!(
            net_error_reason("ERR_INTERNET_DISCONNECTED"),
            Reason::ProberNetwork
        );
        assert_eq!(
            net_error_reason("ERR_PROXY_CONNECTION_FAILED"),
            Reason::ProberNetwork
        );
        assert_eq!(
            net_error_reason("the browser could not load the page"),
            Reason::ProberNetwork
        );
    }
}
