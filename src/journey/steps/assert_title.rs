//! `assert_title`: the title of the page, matched exactly, as a substring or a pattern.

use super::StepCtx;
use super::wait::{Check, poll};
use crate::config::TextMatch;
use crate::outcome::{Problem, Reason};

pub(super) async fn assert_title(ctx: &StepCtx<'_>, expect: &TextMatch) -> Result<(), Problem> {
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
