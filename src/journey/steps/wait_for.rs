//! `wait_for`: an element visible or hidden, the url matching, a text on the page.

use super::StepCtx;
use super::wait::{Check, poll};
use crate::config::WaitCondition;
use crate::outcome::{Problem, Reason};

pub(super) async fn wait_for(ctx: &StepCtx<'_>, cond: &WaitCondition) -> Result<(), Problem> {
    let what = format!("wait for {cond}");
    let timeout = |msg: String| Check::NotYet(Problem::new(Reason::StepTimeout, msg));
    match cond {
        WaitCondition::Visible(l) => {
            poll(ctx, &what, Some(l), None, |p| match &p.found {
                Some(f) if f.visible => Check::Ready(()),
                Some(_) => timeout(format!("{l} is present but not visible")),
                None => Check::Missing(Problem::new(
                    Reason::StepTimeout,
                    format!("no element matches {l}"),
                )),
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
