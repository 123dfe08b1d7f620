//! `assert_url`: the address of the page matches a pattern.

use regex::Regex;

use super::StepCtx;
use super::wait::{Check, poll};
use crate::outcome::{Problem, Reason};

pub(super) async fn assert_url(ctx: &StepCtx<'_>, pattern: &Regex) -> Result<(), Problem> {
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
