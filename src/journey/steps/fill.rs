//! `fill`: put a value in a text field (one DevTools text insertion, or typed key by key).

use super::StepCtx;
use super::wait::{act, poll_prepared, ready};
use crate::browser::session::Prepare;
use crate::config::Locator;
use crate::outcome::Problem;

/// Put `value` in a text field: the probe that finds it ready also focuses it and selects
/// its text, then one `Input.insertText` (Chrome DevTools, ~4 ms) replaces that text and
/// fires `beforeinput` and `input` like a paste, and a last look checks that the field kept
/// the focus: three round trips. Typing key by key through
/// WebDriver costs 50–80 ms for a 17-character address, plus ~30 ms for clearing the field.
/// Other fields, an empty value, and a WebDriver without Chrome DevTools take the
/// key-by-key path.
pub(super) async fn fill(ctx: &StepCtx<'_>, target: &Locator, value: &str) -> Result<(), Problem> {
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
