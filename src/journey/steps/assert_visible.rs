//! `assert_visible`: an element a person can see: not covered, not hidden, with contrast.

use serde::Deserialize;
use serde_json::json;
use tokio::time::Instant;

use super::wait::{Check, poll, timed_out};
use super::{POLL, StepCtx};
use crate::browser::scripts;
use crate::config::Locator;
use crate::outcome::{Problem, Reason};

#[derive(Deserialize)]
struct Visibility {
    ok: bool,
    reason: Option<String>,
    detail: String,
}

pub(super) async fn assert_visible(
    ctx: &StepCtx<'_>,
    target: &Locator,
    min: f64,
) -> Result<(), Problem> {
    let what = format!("assert {target} visible");
    loop {
        let el = poll(ctx, &what, Some(target), None, |p| match &p.found {
            None => Check::Missing(Problem::new(
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
