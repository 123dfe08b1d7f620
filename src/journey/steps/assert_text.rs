//! `assert_text`: the text of an element, matched exactly, as a substring or a pattern.

use super::StepCtx;
use super::wait::{Check, poll};
use crate::config::{Locator, TextMatch};
use crate::outcome::{Problem, Reason};

pub(super) async fn assert_text(
    ctx: &StepCtx<'_>,
    target: &Locator,
    expect: &TextMatch,
) -> Result<(), Problem> {
    let what = format!("assert text of {target}");
    poll(ctx, &what, Some(target), None, |p| match &p.found {
        None => Check::Missing(Problem::new(
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
