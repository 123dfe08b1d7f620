//! `checks:` — a list of dependency checks, each a mapping with `name`, optional `timeout`
//! and `every`, and exactly one kind key (`http`, `dns`, `tls`, `bucket`).

use marked_yaml::Node;
use marked_yaml::types::MarkedMappingNode;

mod bucket;
mod dns;
mod http;
mod tls;

use super::check_model::{Check, CheckSpec, DEFAULT_CHECK_TIMEOUT};
use super::diag::{mapping_start, position, start_of};
use super::kind::CheckKind;
use super::reader::{Reader, is_probe_name, join, kind_name};
use super::schedule::{DEFAULT_CHECK_EVERY, Defaults, read_schedule};
use crate::redact::Redactor;
use bucket::read_bucket;
use dns::read_dns;
use http::read_http;
use tls::read_tls;

const CHECK_KEYS: &[&str] = &["name", "timeout", "every", "retries"];

pub fn read_checks(r: &mut Reader, node: &Node, redactor: &Redactor) -> Vec<Check> {
    let Node::Sequence(items) = node else {
        let msg = format!("checks is a list (- name: …), found {}", kind_name(node));
        r.d.at(&start_of(node), "checks", msg);
        return Vec::new();
    };
    if items.is_empty() {
        r.d.at(
            &start_of(node),
            "checks",
            "an empty checks list; remove it or add a check",
        );
    }
    items
        .iter()
        .enumerate()
        .filter_map(|(i, n)| read_check(r, n, i + 1, redactor))
        .collect()
}

fn read_check(r: &mut Reader, node: &Node, index: usize, redactor: &Redactor) -> Option<Check> {
    let key = format!("checks[{index}]");
    let map = r.mapping(node, &key)?;
    let kind_keys = CheckKind::ALL.iter().map(|k| k.as_str());
    let all: Vec<&str> = kind_keys.chain(CHECK_KEYS.iter().copied()).collect();
    r.known_keys(map, &key, &all);
    let name = read_name(r, map, &key);
    let schedule = read_schedule(
        r,
        map,
        &key,
        &Defaults {
            every: DEFAULT_CHECK_EVERY,
            timeout: DEFAULT_CHECK_TIMEOUT,
            what: "check",
        },
    );
    let kinds: Vec<CheckKind> = CheckKind::ALL
        .iter()
        .copied()
        .filter(|k| map.get_node(k.as_str()).is_some())
        .collect();
    let spec = match kinds.as_slice() {
        [kind] => {
            let k = join(&key, kind.as_str());
            read_spec(r, *kind, map.get_node(kind.as_str())?, &k)
        }
        [] => {
            // An unknown key (already reported, with a suggestion) is most likely the kind.
            if map
                .keys()
                .all(|k| CheckKind::parse(k.as_str()).is_some() || CHECK_KEYS.contains(&k.as_str()))
            {
                let names: Vec<&str> = CheckKind::ALL.iter().map(|k| k.as_str()).collect();
                let msg = format!("a check needs a kind: one of {}", names.join(", "));
                r.d.at(&mapping_start(map), &key, msg);
            }
            None
        }
        [a, b, ..] => {
            let msg = format!("a check checks one thing; found both '{a}' and '{b}'");
            r.d.at(&mapping_start(map), &key, msg);
            None
        }
    };
    Some(Check {
        name: name?,
        timeout: schedule?.timeout,
        every: schedule?.every,
        retries: schedule?.retries,
        spec: spec?,
        redactor: redactor.clone(),
        file: r.d.file().to_path_buf(),
        name_at: map
            .get_node("name")
            .map(|n| position(n.span()))
            .unwrap_or((1, 1)),
    })
}

/// The reader of each kind: a kind without one does not compile.
fn read_spec(r: &mut Reader, kind: CheckKind, node: &Node, key: &str) -> Option<CheckSpec> {
    match kind {
        CheckKind::Http => read_http(r, node, key).map(CheckSpec::Http),
        CheckKind::Dns => read_dns(r, node, key).map(CheckSpec::Dns),
        CheckKind::Tls => read_tls(r, node, key).map(CheckSpec::Tls),
        CheckKind::Bucket => read_bucket(r, node, key).map(CheckSpec::Bucket),
    }
}

fn read_name(r: &mut Reader, map: &MarkedMappingNode, key: &str) -> Option<String> {
    let k = join(key, "name");
    let Some(node) = map.get_node("name") else {
        r.d.at(&mapping_start(map), &k, "missing required key 'name'");
        return None;
    };
    let name = r.literal(node, &k)?;
    if !is_probe_name(&name) {
        let msg = format!("name '{name}' may only use a-z, 0-9 and '_'");
        r.d.hint(node.span(), &k, msg, "it becomes a metric label".into());
        return None;
    }
    Some(name)
}

//END
