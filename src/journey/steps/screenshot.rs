//! `screenshot`: a masked picture of the page, kept with the run's artifacts.

use super::StepCtx;
use crate::outcome::Problem;

pub(super) async fn screenshot(ctx: &mut StepCtx<'_>, name: &str) -> Result<(), Problem> {
    let png = crate::journey::artifacts::masked_screenshot(ctx.session, ctx.deadline, ctx.redactor)
        .await
        .map_err(|c| c.problem)?;
    if let Err(e) = ctx.artifacts.write(&format!("screenshot-{name}.png"), &png) {
        tracing::warn!("cannot keep screenshot {name}: {e}");
    }
    Ok(())
}
