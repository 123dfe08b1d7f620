//! `select`: choose an option of a `<select>` by value, label or index.

use serde::Deserialize;
use serde_json::json;
use tokio::time::Instant;

use super::wait::{interactable, set_page_load, timed_out};
use super::{POLL, StepCtx};
use crate::browser::scripts;
use crate::config::{Locator, SelectBy};
use crate::outcome::{Problem, Reason};

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
pub(super) async fn select(
    ctx: &StepCtx<'_>,
    target: &Locator,
    option: &SelectBy,
) -> Result<(), Problem> {
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
