//! `press`: a key, in an element or wherever the focus is.

use super::StepCtx;
use super::wait::{act, set_page_load};
use crate::config::Locator;
use crate::outcome::Problem;

pub(super) async fn press(
    ctx: &StepCtx<'_>,
    code: char,
    target: Option<&Locator>,
) -> Result<(), Problem> {
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
