//! `envs:` — per-environment values for a probe file's vars, picked with `--env NAME`.
//!
//! ```yaml
//! vars:
//!   base: http://127.0.0.1:8080          # used without --env, and by blocks that omit it
//! envs:
//!   staging:    { base: https://staging.example.com }
//!   production: { base: "${env:PROD_URL}" }
//! ```
//!
//! The selected block's value replaces the var's value where the var is defined, and is
//! read by the same rules (it may reference earlier vars, `${env:…}` and `${file:…}`). The
//! blocks that are not selected are checked for shape only, never expanded: a production
//! secret need not be set to run against staging.
//!
//! Every key of a block must be a var of the file. A block that sets a name `vars:` does
//! not define would otherwise be a silent typo (`bse:`), and the probe would run against
//! the default target instead of the chosen environment.

use marked_yaml::Node;
use marked_yaml::types::MarkedMappingNode;

use super::diag::{start_of, suggest};
use super::reader::{Reader, join, kind_name};

/// The selected environment's block: where its values are and under what key path their
/// problems are reported (`envs.staging`).
pub struct Selected<'n> {
    pub key: String,
    pub block: &'n MarkedMappingNode,
}

/// `[A-Za-z0-9_-]+`: an environment name as written after `--env`.
pub fn is_environment_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// The environments a file defines, in file order (empty without `envs:`).
pub fn names(root: &MarkedMappingNode) -> Vec<String> {
    root.get_mapping("envs")
        .map(|m| m.keys().map(|k| k.as_str().to_string()).collect())
        .unwrap_or_default()
}

/// Check the shape of `envs:` and return the block `selected` names, if the file has
/// `envs:`. A file without `envs:` ignores the selection.
pub fn read_envs<'n>(
    r: &mut Reader,
    root: &'n MarkedMappingNode,
    selected: Option<&str>,
) -> Option<Selected<'n>> {
    let node = root.get_node("envs")?;
    let Node::Mapping(envs) = node else {
        let msg = format!(
            "envs is a mapping of environment name → mapping of var values, found {}",
            kind_name(node)
        );
        let hint = "write e.g. envs: { staging: { base: https://staging.example.com } }";
        r.d.hint(&start_of(node), "envs", msg, hint.into());
        return None;
    };
    if envs.is_empty() {
        let msg = "envs names no environment";
        let hint = "remove it, or add e.g. staging: { base: https://staging.example.com }";
        r.d.hint(&start_of(node), "envs", msg, hint.into());
    }
    let vars = var_names(root);
    let secrets: Vec<&str> = root
        .get_mapping("secrets")
        .map(|m| m.keys().map(|k| k.as_str()).collect())
        .unwrap_or_default();
    for (name, block) in envs.iter() {
        check_block(r, name.as_str(), name.span(), block, &vars, &secrets);
    }
    let wanted = selected?;
    match envs
        .iter()
        .find(|(name, _)| name.as_str() == wanted)
        .map(|(_, b)| b)
    {
        Some(Node::Mapping(block)) => Some(Selected {
            key: join("envs", wanted),
            block,
        }),
        // Not a mapping: already reported by check_block.
        Some(_) => None,
        None => {
            unknown_environment(r, root, wanted);
            None
        }
    }
}

/// `--env NAME` where this file's `envs:` has no block `NAME`.
fn unknown_environment(r: &mut Reader, root: &MarkedMappingNode, wanted: &str) {
    let known = names(root);
    let known_refs: Vec<&str> = known.iter().map(String::as_str).collect();
    let list = if known.is_empty() {
        "none".to_string()
    } else {
        known.join(", ")
    };
    let msg =
        format!("no environment '{wanted}' (selected with --env) in this file; it defines: {list}");
    let hint = suggest(wanted, &known_refs).unwrap_or_else(|| {
        "add a block for it under envs:, or run without --env to use the vars as written"
            .to_string()
    });
    let key_span = root
        .keys()
        .find(|k| k.as_str() == "envs")
        .map(|k| *k.span())
        .unwrap_or_else(|| super::diag::mapping_start(root));
    r.d.hint(&key_span, "envs", msg, hint);
}

/// One environment: a valid name, a mapping, every key a var, every value a string.
fn check_block(
    r: &mut Reader,
    name: &str,
    name_span: &marked_yaml::Span,
    block: &Node,
    vars: &[String],
    secrets: &[&str],
) {
    let key = join("envs", name);
    if !is_environment_name(name) {
        let msg = format!("environment name '{name}' may only use A-Z, a-z, 0-9, '_' and '-'");
        r.d.hint(name_span, &key, msg, "it is written after --env".into());
    }
    let Node::Mapping(m) = block else {
        let msg = "an environment is a mapping of var name → value";
        match block {
            // `qa:` with nothing after it: the parser places the empty value on the next line.
            Node::Scalar(s) if s.as_str().is_empty() => {
                let hint = format!("write {name}: {{}} for the vars as written");
                r.d.hint(name_span, &key, format!("{msg}, found nothing"), hint);
            }
            other => {
                let msg = format!("{msg}, found {}", kind_name(other));
                r.d.at(&start_of(other), &key, msg);
            }
        }
        return;
    };
    let known: Vec<&str> = vars.iter().map(String::as_str).collect();
    for (k, v) in m.iter() {
        let path = join(&key, k.as_str());
        if secrets.contains(&k.as_str()) {
            let msg = format!("'{}' is a secret, and envs set vars only", k.as_str());
            let hint =
                "give the secret a per-environment ${env:…} reference, or have it reference a var";
            r.d.hint(k.span(), &path, msg, hint.into());
        } else if !vars.iter().any(|x| x == k.as_str()) {
            let msg = format!("'{}' is not a var of this file", k.as_str());
            let hint = suggest(k.as_str(), &known).unwrap_or_else(|| {
                "an environment overrides vars: define it under vars: too, with the value used without --env"
                    .to_string()
            });
            r.d.hint(k.span(), &path, msg, hint);
        }
        if !matches!(v, Node::Scalar(_)) {
            let msg = format!("expected a string, found {}", kind_name(v));
            r.d.at(&start_of(v), &path, msg);
        }
    }
}

/// The names `vars:` defines (whatever their values).
fn var_names(root: &MarkedMappingNode) -> Vec<String> {
    root.get_mapping("vars")
        .map(|m| m.keys().map(|k| k.as_str().to_string()).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;

    use crate::config::file::parse_file_in;

    fn parse(text: &str, env: Option<&str>) -> (Option<String>, Vec<String>) {
        let vars = BTreeMap::from([("PROD_URL".to_string(), "https://prod.test".to_string())]);
        let (parsed, d) = parse_file_in(Path::new("e.yaml"), text, &vars, env);
        let url = parsed.map(|p| match &p.checks[0].spec {
            crate::config::CheckSpec::Http(h) => h.url.to_string(),
            _ => unreachable!(),
        });
        (url, d.items.iter().map(ToString::to_string).collect())
    }

    const FILE: &str = "vars:\n  base: http://127.0.0.1:1\n  path: /healthz\nenvs:\n  staging: { base: http://staging.test }\n  production: { base: \"${env:PROD_URL}\" }\n  empty: {}\nchecks:\n  - name: c\n    http: { url: \"${base}${path}\" }\n";

    #[test]
    fn the_selected_block_overrides_vars_and_others_are_not_expanded() {
        assert_eq!(
            parse(FILE, None),
            (Some("http://127.0.0.1:1/healthz".into()), vec![])
        );
        assert_eq!(
            parse(FILE, Some("staging")),
            (Some("http://staging.test/healthz".into()), vec![])
        );
        assert_eq!(
            parse(FILE, Some("production")).0.as_deref(),
            Some("https://prod.test/healthz")
        );
        assert_eq!(
            parse(FILE, Some("empty")).0.as_deref(),
            Some("http://127.0.0.1:1/healthz")
        );
        // An unset variable in a block that is not selected is no problem.
        let text = FILE.replace("PROD_URL", "JP_UNSET_PROD_URL_XYZ");
        assert!(parse(&text, Some("staging")).1.is_empty());
        let (_, problems) = parse(&text, Some("production"));
        assert_eq!(
            problems[0],
            "e.yaml:6:23: envs.production.base: environment variable JP_UNSET_PROD_URL_XYZ is not set (and the reference gives no default)"
        );
    }

    #[test]
    fn an_unknown_environment_names_the_file_line_and_known_ones() {
        let (url, problems) = parse(FILE, Some("stagign"));
        assert!(url.is_none());
        assert_eq!(
            problems,
            vec![
                "e.yaml:4:1: envs: no environment 'stagign' (selected with --env) in this file; it defines: staging, production, empty — did you mean 'staging'?"
            ]
        );
    }

    #[test]
    fn a_file_without_envs_ignores_the_selection() {
        let text = "vars:\n  base: http://127.0.0.1:1\nchecks:\n  - name: c\n    http: { url: \"${base}/\" }\n";
        assert_eq!(
            parse(text, Some("staging")),
            (Some("http://127.0.0.1:1/".into()), vec![])
        );
    }
}
