//! One probe file: a journey (`name:`, `steps:`, …), a `checks:` list, or both. `vars:` and
//! `secrets:` at the top apply to everything in the file; `envs:` holds per-environment
//! values of the vars (see [`super::envs`]).

use std::collections::BTreeMap;
use std::path::Path;

use marked_yaml::Node;
use marked_yaml::types::MarkedMappingNode;

use super::bpm::{Bpm, read_bpms};
use super::check_model::Check;
use super::checks::read_checks;
use super::diag::{Diags, start_of};
use super::envs::read_envs;
use super::journey::{JOURNEY_ONLY_KEYS, TOP_KEYS, read_journey, read_values, secret_redactor};
use super::model::Journey;
use super::reader::{Reader, load_yaml};
use super::refs::Env;

/// What a file holds once it is valid.
#[derive(Debug, Default)]
pub struct ParsedFile {
    pub journey: Option<Journey>,
    pub checks: Vec<Check>,
    pub bpms: Vec<Bpm>,
    /// The environments its `envs:` defines, in file order.
    pub environments: Vec<String>,
}

/// Parse and validate one file expected to hold a journey. Returns the journey only when
/// there is no problem anywhere in the file.
pub fn parse_journey(path: &Path, text: &str, env: &dyn Env) -> (Option<Journey>, Diags) {
    let (parsed, diags) = parse_file(path, text, env);
    (parsed.and_then(|p| p.journey), diags)
}

/// [`parse_file`] for `repro`: the text and non-secret vars recorded with a past run. The
/// recorded vars are taken as they are, not expanded again: the run is reproduced against
/// what it ran against, whatever the environment says now. Secrets still come from the
/// environment (they were never recorded).
pub fn parse_recorded(
    path: &Path,
    text: &str,
    env: &dyn Env,
    environment: Option<&str>,
    vars: &BTreeMap<String, String>,
) -> (Option<ParsedFile>, Diags) {
    parse_with(path, text, env, environment, vars.clone())
}

/// Parse and validate one probe file. Returns its probes only when there is no problem.
pub fn parse_file(path: &Path, text: &str, env: &dyn Env) -> (Option<ParsedFile>, Diags) {
    parse_file_in(path, text, env, None)
}

/// [`parse_file`] with the vars of `environment` (`--env NAME`) taken from the file's
/// `envs:` block of that name. A file without `envs:` reads the same either way.
pub fn parse_file_in(
    path: &Path,
    text: &str,
    env: &dyn Env,
    environment: Option<&str>,
) -> (Option<ParsedFile>, Diags) {
    parse_with(path, text, env, environment, BTreeMap::new())
}

fn parse_with(
    path: &Path,
    text: &str,
    env: &dyn Env,
    environment: Option<&str>,
    recorded: BTreeMap<String, String>,
) -> (Option<ParsedFile>, Diags) {
    let mut r = Reader {
        d: Diags::new(path),
        values: BTreeMap::new(),
        env,
        base_dir: path.parent().unwrap_or(Path::new(".")).to_path_buf(),
        recorded,
    };
    // A byte-order mark is invisible in editors; do not let it become part of the first key.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let root = match load_yaml(text, &mut r.d) {
        Some(Node::Mapping(m)) => m,
        Some(other) => {
            let msg = format!(
                "a probe file is a mapping (name:, steps:, … or checks:), found {}",
                super::reader::kind_name(&other)
            );
            r.d.at(&start_of(&other), "", msg);
            return (None, r.d);
        }
        None => return (None, r.d),
    };
    let parsed = read_file(&mut r, &root, environment);
    // Read top to bottom, like the file.
    r.d.items.sort_by_key(|d| (d.line, d.column));
    // A message may quote an expanded value (a URL, a regex) that holds a secret.
    let redactor = secret_redactor(&r, &root);
    for d in &mut r.d.items {
        d.message = redactor.redact(&d.message);
        d.hint = d.hint.as_deref().map(|h| redactor.redact(h));
    }
    if r.d.is_empty() {
        (Some(parsed), r.d)
    } else {
        (None, r.d)
    }
}

fn read_file(r: &mut Reader, root: &MarkedMappingNode, environment: Option<&str>) -> ParsedFile {
    r.known_keys(root, "", TOP_KEYS);
    let selected = read_envs(r, root, environment);
    let var_names = read_values(r, root, "vars", selected.as_ref());
    read_values(r, root, "secrets", None);
    let redactor = secret_redactor(r, root);
    // What `repro` needs to run the journey against the same targets later: the vars as
    // resolved now, except any that holds a secret.
    let vars: BTreeMap<String, String> = var_names
        .iter()
        .filter_map(|n| r.values.get(n).map(|v| (n.clone(), v.clone())))
        .filter(|(_, v)| redactor.redact(v) == *v)
        .collect();
    let is_journey = root.get_node("name").is_some() || root.get_node("steps").is_some();
    let checks_node = root.get_node("checks");
    if !is_journey {
        if checks_node.is_none() && root.get_node("bpms").is_none() {
            let msg = "a probe file holds a journey (name:, steps:), a checks: list, a bpms: list, or some of these";
            r.d.at(&super::diag::mapping_start(root), "", msg);
        }
        // Journey settings in a checks-only file would silently apply to nothing.
        for k in root
            .keys()
            .filter(|k| JOURNEY_ONLY_KEYS.contains(&k.as_str()))
        {
            let msg = format!(
                "'{}' belongs to a journey, and this file has none",
                k.as_str()
            );
            if matches!(k.as_str(), "timeout" | "every") {
                let hint = "checks take their own timeout: and every: inside each check";
                r.d.hint(k.span(), k.as_str(), msg, hint.to_string());
            } else {
                r.d.at(k.span(), k.as_str(), msg);
            }
        }
    }
    let journey = if is_journey {
        read_journey(r, root, &redactor).map(|j| Journey { vars, ..j })
    } else {
        None
    };
    let checks = checks_node
        .map(|n| read_checks(r, n, &redactor))
        .unwrap_or_default();
    let bpms = root
        .get_node("bpms")
        .map(|n| read_bpms(r, n))
        .unwrap_or_default();
    ParsedFile {
        journey,
        checks,
        bpms,
        environments: super::envs::names(root),
    }
}
