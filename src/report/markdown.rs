//! A Markdown summary of a `run`, for `$GITHUB_STEP_SUMMARY` (GitHub-flavoured Markdown,
//! which also renders inline HTML: text from results is escaped so a message cannot break
//! the table or inject markup). Every string comes from a result that is already redacted.

use std::fmt::Write as _;

use super::human::duration;
use super::{ProbeRun, Tally};
use crate::journey::{RunResult, StepStatus};
use crate::outcome::Outcome;

/// The summary: a headline, one table row per probe run, then a section per run that did
/// not pass (or passed only on a retry) with its failed step, prerequisites and links.
pub fn summary(runs: &[ProbeRun], environment: Option<&str>) -> String {
    let t = Tally::of_runs(runs);
    let mut s = String::new();
    let env = environment.map_or(String::new(), |e| format!(" ({})", cell(e)));
    let flaky = if t.flaky > 0 {
        format!(" ({} flaky)", t.flaky)
    } else {
        String::new()
    };
    let _ = writeln!(
        s,
        "### journeyprobe{env}: {} passed{flaky}, {} failed, {} could not be verified\n",
        t.passed, t.failed, t.errors
    );
    s.push_str("| probe | kind | outcome | reason | duration |\n|---|---|---|---|---|\n");
    for run in runs {
        let r = &run.result;
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} |",
            cell(&r.probe),
            r.kind,
            outcome(run),
            r.reason.map_or(String::new(), |x| format!("`{x}`")),
            duration(r.duration_ms)
        );
    }
    for run in runs
        .iter()
        .filter(|r| r.result.outcome != Outcome::Success || r.flaky())
    {
        details(&mut s, run);
    }
    s
}

fn outcome(run: &ProbeRun) -> String {
    let n = run.attempts();
    match run.result.outcome {
        Outcome::Success if run.flaky() => format!("⚠️ success, flaky ({n} attempts)"),
        Outcome::Success => "✅ success".into(),
        Outcome::Failure => with_attempts("❌ failure", n),
        Outcome::Error => with_attempts("❔ error (could not verify)", n),
    }
}

fn with_attempts(s: &str, n: usize) -> String {
    if n > 1 {
        format!("{s} ({n} attempts)")
    } else {
        s.to_string()
    }
}

fn details(s: &mut String, run: &ProbeRun) {
    let r = &run.result;
    let _ = writeln!(s, "\n#### {} ({})\n", cell(&r.probe), r.kind);
    if let Some(m) = &r.message {
        let _ = writeln!(s, "- {}", cell(m));
    }
    if let Some(step) = r.steps.iter().find(|x| x.status == StepStatus::Failed) {
        let _ = writeln!(
            s,
            "- failed step {}/{}: {} (`{}`, {})",
            step.index,
            r.steps.len(),
            cell(&step.label),
            step.action,
            duration(step.duration_ms)
        );
    }
    for (i, e) in run.earlier.iter().enumerate() {
        let _ = writeln!(s, "- attempt {}: {}", i + 1, attempt(e));
    }
    for p in &r.prerequisites {
        let reason = p.reason.map_or(String::new(), |x| format!(" `{x}`"));
        let message = p
            .message
            .as_deref()
            .map_or(String::new(), |m| format!(" — {}", cell(m)));
        let _ = writeln!(
            s,
            "- prerequisite {}: {}{reason}{message}",
            cell(&p.check),
            p.outcome
        );
    }
    if let Some(rb) = &r.runbook {
        let _ = writeln!(s, "- runbook: {}", link(rb, "runbook"));
    }
    for i in &r.incident {
        let _ = writeln!(s, "- incident: {}", link(i, i));
    }
    let artifacts: Vec<String> = run
        .earlier
        .iter()
        .chain([r])
        .flat_map(|x| &x.artifacts)
        .map(|a| format!("`{}`", code(&a.display().to_string())))
        .collect();
    if !artifacts.is_empty() {
        let _ = writeln!(s, "- artifacts: {}", artifacts.join(", "));
    }
}

fn attempt(r: &RunResult) -> String {
    let reason = r.reason.map_or(String::new(), |x| format!(" `{x}`"));
    let message = r
        .message
        .as_deref()
        .map_or(String::new(), |m| format!(": {}", cell(m)));
    format!(
        "{}{reason} after {}{message}",
        r.outcome,
        duration(r.duration_ms)
    )
}

/// A link when `target` is an absolute http(s) URL, else the text alone.
fn link(target: &str, text: &str) -> String {
    match url::Url::parse(target) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => {
            // The url crate percent-encodes spaces and quotes; parentheses end a Markdown
            // link destination.
            let dest = u.as_str().replace('(', "%28").replace(')', "%29");
            format!("[{}]({dest})", cell(text))
        }
        _ => cell(text),
    }
}

/// Text safe in a table cell and in a list item: one line, no table pipes, no HTML.
fn cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '|' => out.push_str("\\|"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' => out.push(' '),
            '`' | '*' | '_' | '[' | ']' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// Text inside a backtick code span: backticks and line breaks cannot appear.
fn code(text: &str) -> String {
    text.replace('`', "'").replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures::{check, failed_journey, flaky};

    #[test]
    fn table_rows_details_and_links() {
        let runs = vec![
            ProbeRun::single(failed_journey()),
            ProbeRun::single(check("ok", Outcome::Success, None)),
            flaky("flaky_route"),
        ];
        let md = summary(&runs, Some("staging"));
        assert!(
            md.starts_with(
                "### journeyprobe (staging): 2 passed (1 flaky), 1 failed, 0 could not be verified\n"
            ),
            "{md}"
        );
        assert!(
            md.contains("| login | journey | ❌ failure | `assertion_failed` | 3 ms |"),
            "{md}"
        );
        assert!(md.contains("| ok | http | ✅ success |  | 3 ms |"), "{md}");
        assert!(
            md.contains("| flaky\\_route | http | ⚠️ success, flaky (2 attempts) |"),
            "{md}"
        );
        assert!(
            md.contains("- failed step 2/3: submit button is visible (`goto`, 15 ms)"),
            "{md}"
        );
        assert!(
            md.contains("- attempt 1: failure `status_mismatch` after 3 ms: flaky\\_route went \\| &lt;wrong&gt;"),
            "{md}"
        );
        assert!(
            md.contains("- runbook: [runbook](https://wiki.test/runbooks/login)"),
            "{md}"
        );
        assert!(md.contains("- incident: INC-1234\n"), "{md}");
        assert!(
            md.contains("- incident: [https://tickets.test/INC-9](https://tickets.test/INC-9)"),
            "{md}"
        );
        assert!(
            md.contains("- artifacts: `out/login/t/screenshot.png`"),
            "{md}"
        );
        assert!(!md.contains("#### ok"), "{md}");
    }
}
