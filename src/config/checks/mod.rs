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
use super::reader::{Reader, is_probe_name, join, kind_name};
use super::schedule::{DEFAULT_CHECK_EVERY, Defaults, read_schedule};
use crate::redact::Redactor;
use bucket::read_bucket;
use dns::read_dns;
use http::read_http;
use tls::read_tls;

/// Check kinds.
pub const KINDS: &[&str] = &["http", "dns", "tls", "bucket"];
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
    let all: Vec<&str> = KINDS.iter().chain(CHECK_KEYS).copied().collect();
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
    let kinds: Vec<&str> = KINDS
        .iter()
        .copied()
        .filter(|k| map.get_node(k).is_some())
        .collect();
    let spec = match kinds.as_slice() {
        [kind] => {
            let k = join(&key, kind);
            let n = map.get_node(kind)?;
            match *kind {
                "http" => read_http(r, n, &k).map(CheckSpec::Http),
                "dns" => read_dns(r, n, &k).map(CheckSpec::Dns),
                "tls" => read_tls(r, n, &k).map(CheckSpec::Tls),
                _ => read_bucket(r, n, &k).map(CheckSpec::Bucket),
            }
        }
        [] => {
            // An unknown key (already reported, with a suggestion) is most likely the kind.
            if map
                .keys()
                .all(|k| KINDS.contains(&k.as_str()) || CHECK_KEYS.contains(&k.as_str()))
            {
                let msg = format!("a check needs a kind: one of {}", KINDS.join(", "));
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
