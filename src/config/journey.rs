//! A journey file's top level: metadata, vars, secrets, steps, and the cross-field rules
//! (timeouts that cannot fit, duplicate screenshot names).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use marked_yaml::Node;
use marked_yaml::types::MarkedMappingNode;

use super::diag::{mapping_start, start_of};
use super::model::{
    Action, BrowserKind, DEFAULT_STEP_TIMEOUT, DEFAULT_TIMEOUT, Isolation, Journey, Step,
};
use super::reader::{Reader, is_probe_name, join, show};
use super::schedule::{DEFAULT_JOURNEY_EVERY, Defaults, read_schedule};
use super::steps::parse_step;
use crate::redact::Redactor;

/// Shortest journey timeout: opening and closing a browser session alone takes ~0.5 s.
pub const MIN_TIMEOUT: Duration = Duration::from_secs(2);
/// Longest journey timeout.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(3600);

/// Top-level keys that only make sense in a file that holds a journey.
pub const JOURNEY_ONLY_KEYS: &[&str] = &[
    "description",
    "timeout",
    "step_timeout",
    "every",
    "retries",
    "isolation",
    "browser",
    "labels",
    "incident",
    "runbook",
    "depends_on",
];

/// Top-level keys besides `name` and the journey's own: the file's values and contents.
const CONTENT_KEYS: &[&str] = &["vars", "envs", "secrets", "steps", "checks", "bpms"];

/// Every top-level key of a probe file, in the order "expected one of" lists them: `name`,
/// the journey's settings, then the contents. Built from the lists above, so a journey key
/// added there is a known key too.
pub const TOP_KEYS: &[&str] = &concat::<{ 1 + JOURNEY_ONLY_KEYS.len() + CONTENT_KEYS.len() }>([
    &["name"],
    JOURNEY_ONLY_KEYS,
    CONTENT_KEYS,
]);

/// `parts` one after another, at compile time; `N` must be their total length.
const fn concat<const N: usize>(parts: [&[&'static str]; 3]) -> [&'static str; N] {
    let mut out = [""; N];
    let (mut i, mut p) = (0, 0);
    while p < parts.len() {
        let mut j = 0;
        while j < parts[p].len() {
            out[i] = parts[p][j];
            i += 1;
            j += 1;
        }
        p += 1;
    }
    assert!(i == N, "N is not the total length of the parts");
    out
}

/// The journey of a file whose vars and secrets are already read.
pub(super) fn read_journey(
    r: &mut Reader,
    root: &MarkedMappingNode,
    redactor: &Redactor,
) -> Option<Journey> {
    let name = read_name(r, root);
    let description = root
        .get_node("description")
        .and_then(|n| r.literal(n, "description"));
    let schedule = read_schedule(
        r,
        root,
        "",
        &Defaults {
            every: DEFAULT_JOURNEY_EVERY,
            timeout: DEFAULT_TIMEOUT,
            what: "journey",
        },
    );
    let timeout = schedule.map(|s| s.timeout);
    // `timeout: 5s` alone means 5s steps.
    let step_timeout = opt_duration(r, root, "step_timeout").unwrap_or(Some(
        timeout.map_or(DEFAULT_STEP_TIMEOUT, |t| t.min(DEFAULT_STEP_TIMEOUT)),
    ));
    let isolation = read_isolation(r, root);
    let browser = read_browser(r, root);
    let labels = root.get_node("labels").and_then(|n| read_labels(r, n));
    let incident = root.get_node("incident").map(|n| read_incident(r, n));
    let runbook = root.get_node("runbook").and_then(|n| read_runbook(r, n));
    let depends_on = root
        .get_node("depends_on")
        .map(|n| read_depends_on(r, n))
        .unwrap_or_default();
    let steps = read_steps(r, root, timeout);
    check_timeouts(r, root, timeout, step_timeout, schedule.map(|s| s.every));
    let (schedule, step_timeout) = (schedule?, step_timeout?);
    Some(Journey {
        name: name?,
        description,
        timeout: schedule.timeout,
        step_timeout,
        every: schedule.every,
        retries: schedule.retries,
        isolation: isolation?,
        browser: browser?,
        labels: labels.unwrap_or_default(),
        incident: incident.unwrap_or_default(),
        runbook,
        depends_on,
        steps,
        redactor: redactor.clone(),
        vars: BTreeMap::new(),
        file: r.d.file().to_path_buf(),
        name_at: root
            .get_node("name")
            .map(|n| super::diag::position(n.span()))
            .unwrap_or((1, 1)),
    })
}

/// `isolation: pooled | fresh` (default pooled).
fn read_isolation(r: &mut Reader, root: &MarkedMappingNode) -> Option<Isolation> {
    let Some(node) = root.get_node("isolation") else {
        return Some(Isolation::Pooled);
    };
    let value = r.literal(node, "isolation")?;
    match value.as_str() {
        "pooled" => Some(Isolation::Pooled),
        "fresh" => Some(Isolation::Fresh),
        other => {
            r.d.hint(
                node.span(),
                "isolation",
                format!("isolation '{other}' is not one of: pooled, fresh"),
                "pooled reuses a warm browser, reset between runs; fresh opens a new browser for every run".into(),
            );
            None
        }
    }
}

/// `browser: chromium | firefox` (default chromium).
fn read_browser(r: &mut Reader, root: &MarkedMappingNode) -> Option<BrowserKind> {
    let Some(node) = root.get_node("browser") else {
        return Some(BrowserKind::default());
    };
    let value = r.literal(node, "browser")?;
    let known = || {
        BrowserKind::ALL
            .iter()
            .map(|b| b.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    BrowserKind::parse(&value).or_else(|| {
        r.d.hint(
            node.span(),
            "browser",
            format!("browser '{value}' is not one of: {}", known()),
            "the browser the journey runs in; `--browser` on run, serve and repro overrides it"
                .into(),
        );
        None
    })
}

/// `Some(Some(d))` set and valid, `Some(None)` set and invalid, `None` absent.
pub(super) fn opt_duration(
    r: &mut Reader,
    root: &MarkedMappingNode,
    key: &str,
) -> Option<Option<Duration>> {
    root.get_node(key).map(|n| r.duration(n, key))
}

fn read_name(r: &mut Reader, root: &MarkedMappingNode) -> Option<String> {
    let Some(node) = root.get_node("name") else {
        r.d.at(&mapping_start(root), "name", "missing required key 'name'");
        return None;
    };
    let name = r.literal(node, "name")?;
    if !is_probe_name(&name) {
        let msg = format!("name '{name}' may only use a-z, 0-9 and '_'");
        r.d.hint(
            node.span(),
            "name",
            msg,
            "it becomes a metric label and a file name".into(),
        );
        return None;
    }
    Some(name)
}

fn read_labels(r: &mut Reader, node: &Node) -> Option<BTreeMap<String, String>> {
    let m = r.mapping(node, "labels")?;
    let mut out = BTreeMap::new();
    for (k, v) in m.iter() {
        let key = join("labels", k.as_str());
        if !super::refs::is_identifier(k.as_str()) {
            let msg = format!(
                "label name '{}' must match [A-Za-z_][A-Za-z0-9_]*",
                k.as_str()
            );
            r.d.at(k.span(), &key, msg);
            continue;
        }
        if let Some(s) = r.scalar(v, &key) {
            out.insert(k.as_str().to_string(), s.as_str().to_string());
        }
    }
    Some(out)
}

/// `depends_on: [check names]`; that each names a check is checked once all files are read.
fn read_depends_on(r: &mut Reader, node: &Node) -> Vec<(String, (usize, usize))> {
    let items: Vec<&Node> = match node {
        Node::Sequence(items) => items.iter().collect(),
        other => vec![other],
    };
    let mut out: Vec<(String, (usize, usize))> = Vec::new();
    for n in items {
        let Some(name) = r.literal(n, "depends_on") else {
            continue;
        };
        if out.iter().any(|(x, _)| *x == name) {
            r.d.at(n.span(), "depends_on", format!("'{name}' is listed twice"));
            continue;
        }
        out.push((name, super::diag::position(n.span())));
    }
    out
}

fn read_incident(r: &mut Reader, node: &Node) -> Vec<String> {
    match node {
        Node::Sequence(items) => items
            .iter()
            .filter_map(|n| r.literal(n, "incident"))
            .collect(),
        _ => r.literal(node, "incident").into_iter().collect(),
    }
}

fn read_runbook(r: &mut Reader, node: &Node) -> Option<String> {
    let s = r.literal(node, "runbook")?;
    if url::Url::parse(&s).is_err() {
        r.d.at(
            node.span(),
            "runbook",
            format!("'{s}' is not an absolute URL"),
        );
        return None;
    }
    Some(s)
}

/// A redactor for the resolved values of the file's `secrets:`.
pub(super) fn secret_redactor(r: &Reader, root: &MarkedMappingNode) -> Redactor {
    let names = root
        .get_mapping("secrets")
        .map(|m| m.keys().map(|k| k.as_str().to_string()).collect::<Vec<_>>());
    Redactor::new(
        names
            .unwrap_or_default()
            .iter()
            .filter_map(|n| r.values.get(n).cloned()),
    )
}

/// Read `vars:` or `secrets:` in order, each value able to reference the ones before it.
/// A name the `selected` environment block sets takes the block's value instead, read in
/// the var's place (so by the same rules). Returns the names defined.
pub(super) fn read_values(
    r: &mut Reader,
    root: &MarkedMappingNode,
    section: &str,
    selected: Option<&super::envs::Selected>,
) -> Vec<String> {
    let Some(node) = root.get_node(section) else {
        return Vec::new();
    };
    let Some(m) = r.mapping(node, section) else {
        return Vec::new();
    };
    let mut names = Vec::new();
    for (k, v) in m.iter() {
        let key = join(section, k.as_str());
        if !super::refs::is_identifier(k.as_str()) {
            let msg = format!(
                "'{}' cannot be referenced: names match [A-Za-z_][A-Za-z0-9_]*",
                k.as_str()
            );
            r.d.at(k.span(), &key, msg);
            continue;
        }
        if r.values.contains_key(k.as_str()) {
            let msg = format!(
                "'{}' is already defined above (vars and secrets share one set of names)",
                k.as_str()
            );
            r.d.at(k.span(), &key, msg);
            continue;
        }
        if section == "vars"
            && let Some(value) = r.recorded.get(k.as_str())
        {
            r.values.insert(k.as_str().to_string(), value.clone());
            names.push(k.as_str().to_string());
            continue;
        }
        let over = selected.and_then(|e| {
            e.block
                .get_node(k.as_str())
                .map(|n| (n, join(&e.key, k.as_str())))
        });
        let (v, key) = over.unwrap_or((v, key));
        let Some(s) = r.scalar(v, &key) else { continue };
        let unused_secret = section == "secrets" && r.env.secrets_unused();
        if unused_secret && r.lacks_only_env_or_file(s.as_str()) {
            let value = super::refs::UNSET_SECRET.to_string();
            r.values.insert(k.as_str().to_string(), value);
            names.push(k.as_str().to_string());
            continue;
        }
        // For a command that never uses it, the mistake beside a missing variable is the
        // one to report.
        let expanded = if unused_secret {
            r.expand_any_env(s.as_str(), s.span(), &key)
                .and_then(|_| r.expand(s.as_str(), s.span(), &key))
        } else {
            r.expand(s.as_str(), s.span(), &key)
        };
        match expanded {
            Some(value) => {
                r.values.insert(k.as_str().to_string(), value);
                names.push(k.as_str().to_string());
            }
            // Already reported; define it anyway so every use of it is not reported again.
            None => {
                r.values.insert(k.as_str().to_string(), String::new());
            }
        }
    }
    names
}

fn read_steps(r: &mut Reader, root: &MarkedMappingNode, timeout: Option<Duration>) -> Vec<Step> {
    let Some(node) = root.get_node("steps") else {
        r.d.at(
            &mapping_start(root),
            "steps",
            "missing required key 'steps'",
        );
        return Vec::new();
    };
    let Node::Sequence(items) = node else {
        let msg = format!(
            "steps is a list (- goto: …), found {}",
            super::reader::kind_name(node)
        );
        r.d.at(&start_of(node), "steps", msg);
        return Vec::new();
    };
    if items.is_empty() {
        r.d.at(
            &start_of(node),
            "steps",
            "a journey needs at least one step",
        );
    }
    let mut shots = BTreeSet::new();
    let mut steps = Vec::new();
    for (i, n) in items.iter().enumerate() {
        let Some(step) = parse_step(r, n, i + 1) else {
            continue;
        };
        let field = |k: &str| {
            n.as_mapping()
                .and_then(|m| m.get_node(k))
                .map(|v| *v.span())
        };
        if let (Some(t), Some(limit)) = (step.timeout, timeout)
            && t > limit
        {
            let msg = format!(
                "timeout {} is longer than the journey's timeout {}",
                show(t),
                show(limit)
            );
            r.d.at(
                &field("timeout").unwrap_or_else(|| start_of(n)),
                &format!("steps[{}].timeout", i + 1),
                msg,
            );
        }
        if let Action::Screenshot { name } = &step.action
            && !shots.insert(name.clone())
        {
            let msg = format!("screenshot name '{name}' is used twice in this journey");
            r.d.at(
                &field("screenshot").unwrap_or_else(|| start_of(n)),
                &format!("steps[{}].screenshot", i + 1),
                msg,
            );
        }
        steps.push(step);
    }
    steps
}

/// The journey's own timeouts must fit each other (the schedule's rules are checked by
/// [`read_schedule`]).
fn check_timeouts(
    r: &mut Reader,
    root: &MarkedMappingNode,
    timeout: Option<Duration>,
    step_timeout: Option<Duration>,
    every: Option<Duration>,
) {
    let Some(timeout) = timeout else { return };
    let span_of = |k: &str| {
        root.get_node(k)
            .map(|n| *n.span())
            .unwrap_or_else(|| mapping_start(root))
    };
    if root.get_node("timeout").is_none() && timeout < MIN_TIMEOUT {
        // The timeout defaulted to a share of `every`, which is too short for any run.
        let msg = format!(
            "every {} leaves a timeout of {}, shorter than the shortest journey timeout {}",
            show(every.unwrap_or(timeout)),
            show(timeout),
            show(MIN_TIMEOUT)
        );
        r.d.at(&span_of("every"), "every", msg);
    } else if timeout < MIN_TIMEOUT || timeout > MAX_TIMEOUT {
        let msg = format!(
            "timeout {} is outside {} to {}",
            show(timeout),
            show(MIN_TIMEOUT),
            show(MAX_TIMEOUT)
        );
        let hint = "a run needs time to open a browser, and one over an hour is not a probe";
        r.d.hint(&span_of("timeout"), "timeout", msg, hint.into());
    }
    if let Some(step_timeout) = step_timeout
        && step_timeout > timeout
    {
        let msg = format!(
            "step_timeout {} is longer than the journey's timeout {}",
            show(step_timeout),
            show(timeout)
        );
        r.d.at(&span_of("step_timeout"), "step_timeout", msg);
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::file::parse_journey;
    use crate::config::model::{Locator, TextMatch, WaitCondition};

    fn env() -> BTreeMap<String, String> {
        BTreeMap::from([("LOGIN_PASSWORD".to_string(), "pw-123".to_string())])
    }

    fn parse(text: &str) -> (Option<Journey>, Vec<String>) {
        let (j, d) = parse_journey(Path::new("j.yaml"), text, &env());
        (j, d.items.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn top_keys_are_name_the_journey_keys_then_the_contents_in_that_order() {
        // The order "expected one of" lists them in.
        assert_eq!(
            TOP_KEYS.join(", "),
            "name, description, timeout, step_timeout, every, retries, isolation, browser, labels, \
             incident, runbook, depends_on, vars, envs, secrets, steps, checks, bpms"
        );
    }

    #[test]
    fn the_example_login_journey_parses_into_typed_steps() {
        let (j, problems) = parse(include_str!("../../journeys/login.yaml"));
        assert!(problems.is_empty(), "{problems:?}");
        let j = j.unwrap();
        assert_eq!(j.name, "login");
        assert_eq!(j.timeout, Duration::from_secs(30));
        assert_eq!(j.steps.len(), 9);
        assert_eq!(j.incident, vec!["INC-1234".to_string()]);
        match &j.steps[0].action {
            Action::Goto { url } => assert_eq!(url, "http://127.0.0.1:8080/login"),
            other => panic!("{other:?}"),
        }
        match &j.steps[6].action {
            Action::WaitFor(WaitCondition::UrlMatches(r)) => assert!(r.is_match("/x/dashboard")),
            other => panic!("{other:?}"),
        }
        match &j.steps[7].action {
            Action::AssertText {
                target,
                expect: TextMatch::Contains(t),
            } => {
                assert_eq!(target, &Locator::Css("#welcome".into()));
                assert_eq!(t, "Welcome");
            }
            other => panic!("{other:?}"),
        }
        // The secret's value is known to the redactor, and only there.
        assert_eq!(j.redactor.redact("pw-123"), crate::redact::MASK);
    }

    #[test]
    fn browser_defaults_to_chromium_and_a_wrong_value_is_named() {
        let steps = "steps:\n  - goto: http://127.0.0.1/\n";
        let (j, _) = parse(&format!("name: a\n{steps}"));
        assert_eq!(j.unwrap().browser, BrowserKind::Chromium);
        let (j, _) = parse(&format!("name: a\nbrowser: firefox\n{steps}"));
        assert_eq!(j.unwrap().browser, BrowserKind::Firefox);
        let (j, problems) = parse(&format!("name: a\nbrowser: safari\n{steps}"));
        assert!(j.is_none());
        assert!(
            problems.iter().any(|p| p.starts_with(
                "j.yaml:2:10: browser: browser 'safari' is not one of: chromium, firefox"
            )),
            "{problems:?}"
        );
    }

    #[test]
    fn isolation_defaults_to_pooled_and_a_wrong_value_is_named() {
        let steps = "steps:\n  - goto: http://127.0.0.1/\n";
        let (j, _) = parse(&format!("name: a\n{steps}"));
        assert_eq!(j.unwrap().isolation, Isolation::Pooled);
        let (j, _) = parse(&format!("name: a\nisolation: fresh\n{steps}"));
        assert_eq!(j.unwrap().isolation, Isolation::Fresh);
        let (j, problems) = parse(&format!("name: a\nisolation: clean\n{steps}"));
        assert!(j.is_none());
        assert!(
            problems[0].starts_with(
                "j.yaml:2:12: isolation: isolation 'clean' is not one of: pooled, fresh"
            ),
            "{problems:?}"
        );
    }

    #[test]
    fn every_problem_in_a_file_is_reported_with_its_position() {
        let text = "name: Bad-Name\ntimeout: 40s\nevery: 30s\nsteps:\n  - clik: \"#x\"\n  - goto: /relative\n";
        let (j, problems) = parse(text);
        assert!(j.is_none());
        let all = problems.join("\n");
        assert!(
            all.contains("j.yaml:1:7: name: name 'Bad-Name' may only use"),
            "{all}"
        );
        assert!(
            all.contains("j.yaml:5:5: steps[1]: unknown step 'clik' — did you mean 'click'?"),
            "{all}"
        );
        assert!(
            all.contains("j.yaml:6:11: steps[2].goto: '/relative' is not an absolute URL"),
            "{all}"
        );
        assert!(
            all.contains(
                "j.yaml:2:10: timeout: timeout 40s is not shorter than the journey's every 30s"
            ),
            "{all}"
        );
    }

    #[test]
    fn prefixes_pick_the_locator_strategy() {
        assert_eq!(Locator::parse("xpath=//h1"), Locator::XPath("//h1".into()));
        assert_eq!(
            Locator::parse("text=Sign in"),
            Locator::Text("Sign in".into())
        );
        assert_eq!(Locator::parse("#a > b"), Locator::Css("#a > b".into()));
    }
}
