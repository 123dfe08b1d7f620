//! `checks:` — a list of dependency checks, each a mapping with `name`, optional `timeout`
//! and `every`, and exactly one kind key (`http`, `dns`, `tls`, `bucket`).

use std::net::{IpAddr, SocketAddr};

use marked_yaml::Node;
use marked_yaml::types::MarkedMappingNode;

use super::check_model::{
    BucketCheck, Check, CheckSpec, DEFAULT_CHECK_TIMEOUT, DEFAULT_MIN_DAYS_LEFT, DnsCheck,
    DnsExpect, DnsType, HttpCheck, Rcode, StatusRange, TlsCheck, normalise_answer,
};
use super::diag::{mapping_start, position, start_of, suggest};
use super::journey::{is_probe_name, show};
use super::reader::{Reader, join, kind_name};
use crate::redact::Redactor;

/// Check kinds.
pub const KINDS: &[&str] = &["http", "dns", "tls", "bucket"];
const CHECK_KEYS: &[&str] = &["name", "timeout", "every"];

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
    let every = map
        .get_node("every")
        .and_then(|n| r.duration(n, &join(&key, "every")));
    // Like a journey's, the default timeout gives way to a shorter `every`.
    let timeout = match map.get_node("timeout") {
        Some(n) => r.duration(n, &join(&key, "timeout")),
        None => Some(every.map_or(DEFAULT_CHECK_TIMEOUT, |e| e.min(DEFAULT_CHECK_TIMEOUT))),
    };
    if let (Some(t), Some(e)) = (timeout, every)
        && t > e
    {
        let span = map
            .get_node("timeout")
            .map(start_of)
            .unwrap_or_else(|| mapping_start(map));
        let msg = format!(
            "timeout {} is longer than the check's every {}",
            show(t),
            show(e)
        );
        r.d.at(&span, &join(&key, "timeout"), msg);
    }
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
        timeout: timeout?,
        every,
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

/// A scalar or a list of scalars, each expanded.
fn string_list(r: &mut Reader, node: &Node, key: &str) -> Option<Vec<String>> {
    match node {
        Node::Sequence(items) => {
            let out: Vec<Option<String>> = items.iter().map(|n| r.text(n, key)).collect();
            out.into_iter().collect()
        }
        _ => r.text(node, key).map(|s| vec![s]),
    }
}

fn fields<'n>(
    r: &mut Reader,
    node: &'n Node,
    key: &str,
    allowed: &[&str],
) -> Option<&'n MarkedMappingNode> {
    let m = r.mapping(node, key)?;
    r.known_keys(m, key, allowed);
    Some(m)
}

fn boolean(r: &mut Reader, node: &Node, key: &str) -> Option<bool> {
    let s = r.scalar(node, key)?;
    match s.as_str().trim() {
        "true" | "yes" | "on" => Some(true),
        "false" | "no" | "off" => Some(false),
        other => {
            r.d.at(
                s.span(),
                key,
                format!("expected true or false, found '{other}'"),
            );
            None
        }
    }
}

const HTTP_KEYS: &[&str] = &[
    "url",
    "method",
    "headers",
    "body",
    "status",
    "follow_redirects",
    "redirect_to",
    "body_contains",
    "body_matches",
    "header_matches",
    "max_latency",
    "tls_verify",
];

fn read_http(r: &mut Reader, node: &Node, key: &str) -> Option<HttpCheck> {
    let m = fields(r, node, key, HTTP_KEYS)?;
    let url = match m.get_node("url") {
        Some(n) => read_url(r, n, &join(key, "url")),
        None => {
            r.d.at(&mapping_start(m), key, "missing required key 'url'");
            None
        }
    };
    let method = match m.get_node("method") {
        None => Some(http::Method::GET),
        Some(n) => {
            let k = join(key, "method");
            let s = r.literal(n, &k)?;
            match http::Method::from_bytes(s.to_ascii_uppercase().as_bytes()) {
                Ok(method) => Some(method),
                Err(_) => {
                    r.d.at(n.span(), &k, format!("'{s}' is not an HTTP method"));
                    None
                }
            }
        }
    };
    let headers = m
        .get_node("headers")
        .and_then(|n| read_headers(r, n, &join(key, "headers")));
    let body = m.get_node("body").and_then(|n| {
        let s = r.scalar(n, &join(key, "body"))?;
        r.expand(s.as_str(), s.span(), &join(key, "body"))
    });
    let follow_redirects = match m.get_node("follow_redirects") {
        Some(n) => boolean(r, n, &join(key, "follow_redirects")),
        None => Some(true),
    };
    let status = match m.get_node("status") {
        Some(n) => read_status(r, n, &join(key, "status")),
        // Without following, a redirect is a normal answer of a route.
        None => Some(match follow_redirects {
            Some(false) => vec![StatusRange {
                low: 200,
                high: 399,
            }],
            _ => vec![StatusRange {
                low: 200,
                high: 299,
            }],
        }),
    };
    let redirect_to = m
        .get_node("redirect_to")
        .and_then(|n| r.regex(n, &join(key, "redirect_to")));
    let body_contains = m
        .get_node("body_contains")
        .and_then(|n| r.text(n, &join(key, "body_contains")));
    let body_matches = m
        .get_node("body_matches")
        .and_then(|n| r.regex(n, &join(key, "body_matches")));
    let header_matches = m
        .get_node("header_matches")
        .and_then(|n| read_header_matches(r, n, &join(key, "header_matches")));
    let max_latency = m
        .get_node("max_latency")
        .and_then(|n| r.duration(n, &join(key, "max_latency")));
    let tls_verify = match m.get_node("tls_verify") {
        Some(n) => boolean(r, n, &join(key, "tls_verify")),
        None => Some(true),
    };
    Some(HttpCheck {
        url: url?,
        method: method?,
        headers: headers.unwrap_or_default(),
        body,
        status: status?,
        follow_redirects: follow_redirects?,
        redirect_to,
        body_contains,
        body_matches,
        header_matches: header_matches.unwrap_or_default(),
        max_latency,
        tls_verify: tls_verify?,
    })
}

fn read_url(r: &mut Reader, node: &Node, key: &str) -> Option<url::Url> {
    let text = r.text(node, key)?;
    match url::Url::parse(&text) {
        Ok(u) if !u.username().is_empty() || u.password().is_some() => {
            let msg = "credentials in the URL are not sent; give them in headers (Authorization), or in credentials: for a bucket";
            r.d.at(node.span(), key, msg);
            None
        }
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Some(u),
        Ok(_) => {
            r.d.at(
                node.span(),
                key,
                format!("'{text}' is not an http or https URL with a host"),
            );
            None
        }
        Err(e) => {
            r.d.at(
                node.span(),
                key,
                format!("'{text}' is not an absolute URL ({e})"),
            );
            None
        }
    }
}

fn read_headers(
    r: &mut Reader,
    node: &Node,
    key: &str,
) -> Option<Vec<(http::HeaderName, http::HeaderValue)>> {
    let m = r.mapping(node, key)?;
    let mut out = Vec::new();
    for (k, v) in m.iter() {
        let hk = join(key, k.as_str());
        let Ok(name) = http::HeaderName::from_bytes(k.as_str().as_bytes()) else {
            r.d.at(
                k.span(),
                &hk,
                format!("'{}' is not a valid header name", k.as_str()),
            );
            continue;
        };
        let Some(value) = r
            .scalar(v, &hk)
            .and_then(|s| r.expand(s.as_str(), s.span(), &hk))
        else {
            continue;
        };
        match http::HeaderValue::from_str(&value) {
            Ok(value) => out.push((name, value)),
            Err(_) => r.d.at(
                v.span(),
                &hk,
                "header values may not contain control characters",
            ),
        }
    }
    Some(out)
}

fn read_header_matches(
    r: &mut Reader,
    node: &Node,
    key: &str,
) -> Option<Vec<(http::HeaderName, regex::Regex)>> {
    let m = r.mapping(node, key)?;
    let mut out = Vec::new();
    for (k, v) in m.iter() {
        let hk = join(key, k.as_str());
        let Ok(name) = http::HeaderName::from_bytes(k.as_str().as_bytes()) else {
            r.d.at(
                k.span(),
                &hk,
                format!("'{}' is not a valid header name", k.as_str()),
            );
            continue;
        };
        if let Some(re) = r.regex(v, &hk) {
            out.push((name, re));
        }
    }
    Some(out)
}

fn read_status(r: &mut Reader, node: &Node, key: &str) -> Option<Vec<StatusRange>> {
    let items: Vec<&Node> = match node {
        Node::Sequence(s) => s.iter().collect(),
        other => vec![other],
    };
    let mut out = Vec::new();
    for n in items {
        let s = r.literal(n, key)?;
        match StatusRange::parse(&s) {
            Some(range) => out.push(range),
            None => {
                let msg = format!("'{s}' is not a status (100 to 599) or a class (1xx to 5xx)");
                r.d.at(n.span(), key, msg);
                return None;
            }
        }
    }
    if out.is_empty() {
        r.d.at(&start_of(node), key, "give at least one status");
        return None;
    }
    Some(out)
}

const DNS_KEYS: &[&str] = &["query", "type", "nameserver", "expect"];
const EXPECT_KEYS: &[&str] = &[
    "rcode",
    "answers_contain",
    "answers_equal",
    "answers_match",
    "min_answers",
    "max_latency",
];

fn read_dns(r: &mut Reader, node: &Node, key: &str) -> Option<DnsCheck> {
    let m = fields(r, node, key, DNS_KEYS)?;
    let query = match m.get_node("query") {
        Some(n) => read_dns_name(r, n, &join(key, "query")),
        None => {
            r.d.at(&mapping_start(m), key, "missing required key 'query'");
            None
        }
    };
    let record_type = match m.get_node("type") {
        None => Some(DnsType::A),
        Some(n) => read_dns_type(r, n, &join(key, "type")),
    };
    let nameserver = match m.get_node("nameserver") {
        None => Some(None),
        Some(n) => read_nameserver(r, n, &join(key, "nameserver")).map(Some),
    };
    let expect = match (m.get_node("expect"), record_type) {
        (Some(n), Some(t)) => read_expect(r, n, &join(key, "expect"), t),
        (None, Some(_)) => Some(default_expect()),
        (_, None) => None,
    };
    Some(DnsCheck {
        query: query?,
        record_type: record_type?,
        nameserver: nameserver?,
        expect: expect?,
    })
}

fn default_expect() -> DnsExpect {
    DnsExpect {
        rcode: Rcode::NoError,
        answers_contain: Vec::new(),
        answers_equal: None,
        answers_match: None,
        min_answers: 1,
        max_latency: None,
    }
}

fn read_dns_name(r: &mut Reader, node: &Node, key: &str) -> Option<String> {
    let text = r.text(node, key)?;
    let name = text.trim_end_matches('.').to_ascii_lowercase();
    let ok = !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        });
    if !ok {
        r.d.at(
            node.span(),
            key,
            format!("'{text}' is not a valid DNS name"),
        );
        return None;
    }
    Some(name)
}

fn read_dns_type(r: &mut Reader, node: &Node, key: &str) -> Option<DnsType> {
    let s = r.literal(node, key)?;
    let found = DnsType::ALL
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(&s));
    if found.is_none() {
        let names: Vec<&str> = DnsType::ALL.iter().map(|(n, _)| *n).collect();
        let msg = format!("record type '{s}' is not one of {}", names.join(", "));
        r.d.at(node.span(), key, msg);
    }
    found.map(|(_, t)| *t)
}

/// `127.0.0.1`, `127.0.0.1:5353`, `::1` or `[::1]:5353`; port 53 when not given.
fn read_nameserver(r: &mut Reader, node: &Node, key: &str) -> Option<SocketAddr> {
    let text = r.text(node, key)?;
    let parsed = text.parse::<SocketAddr>().ok().or_else(|| {
        text.parse::<IpAddr>()
            .ok()
            .map(|ip| SocketAddr::new(ip, 53))
    });
    if parsed.is_none() {
        let msg = format!("'{text}' is not an IP address with an optional port");
        r.d.hint(
            node.span(),
            key,
            msg,
            "e.g. 127.0.0.1:5353 or [::1]:53".into(),
        );
    }
    parsed
}

fn read_expect(r: &mut Reader, node: &Node, key: &str, t: DnsType) -> Option<DnsExpect> {
    let m = fields(r, node, key, EXPECT_KEYS)?;
    let mut e = default_expect();
    if let Some(n) = m.get_node("rcode") {
        let k = join(key, "rcode");
        let s = r.literal(n, &k)?;
        match Rcode::ALL
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(&s))
        {
            Some((_, rc)) => e.rcode = *rc,
            None => {
                let names: Vec<&str> = Rcode::ALL.iter().map(|(n, _)| *n).collect();
                let hint =
                    suggest(&s.to_ascii_lowercase(), &names).unwrap_or_else(|| names.join(", "));
                r.d.hint(n.span(), &k, format!("unknown rcode '{s}'"), hint);
                return None;
            }
        }
    }
    if e.rcode != Rcode::NoError {
        e.min_answers = 0;
    }
    let norm = |v: Vec<String>| v.iter().map(|a| normalise_answer(t, a)).collect::<Vec<_>>();
    if let Some(n) = m.get_node("answers_contain") {
        e.answers_contain = norm(string_list(r, n, &join(key, "answers_contain"))?);
    }
    if let Some(n) = m.get_node("answers_equal") {
        e.answers_equal = Some(norm(string_list(r, n, &join(key, "answers_equal"))?));
    }
    if let Some(n) = m.get_node("answers_match") {
        e.answers_match = Some(r.regex(n, &join(key, "answers_match"))?);
    }
    if let Some(n) = m.get_node("min_answers") {
        let k = join(key, "min_answers");
        let s = r.literal(n, &k)?;
        match s.trim().parse::<usize>() {
            Ok(v) => e.min_answers = v,
            Err(_) => {
                r.d.at(
                    n.span(),
                    &k,
                    format!("expected a whole number, found '{s}'"),
                );
                return None;
            }
        }
    }
    if let Some(n) = m.get_node("max_latency") {
        e.max_latency = Some(r.duration(n, &join(key, "max_latency"))?);
    }
    if matches!(t, DnsType::A | DnsType::Aaaa) {
        for a in e
            .answers_contain
            .iter()
            .chain(e.answers_equal.iter().flatten())
        {
            if a.parse::<IpAddr>().is_err() {
                let msg = format!(
                    "'{a}' is not an IP address, so no {} answer can equal it",
                    t.name()
                );
                r.d.at(&mapping_start(m), key, msg);
                return None;
            }
        }
    }
    Some(e)
}

const TLS_KEYS: &[&str] = &["host", "port", "sni", "min_days_left", "ca"];

fn read_tls(r: &mut Reader, node: &Node, key: &str) -> Option<TlsCheck> {
    let m = fields(r, node, key, TLS_KEYS)?;
    let host = match m.get_node("host") {
        Some(n) => r.text(n, &join(key, "host")).and_then(|h| {
            let h = h.trim_start_matches('[').trim_end_matches(']').to_string();
            // A DNS name or an IP address (IPv6 without brackets).
            let ok = url::Host::parse(&h).is_ok() || h.parse::<std::net::Ipv6Addr>().is_ok();
            if !ok {
                r.d.at(
                    n.span(),
                    &join(key, "host"),
                    format!("'{h}' is not a host name or IP address"),
                );
                return None;
            }
            Some(h)
        }),
        None => {
            r.d.at(&mapping_start(m), key, "missing required key 'host'");
            None
        }
    };
    let port = match m.get_node("port") {
        None => Some(443),
        Some(n) => whole_number(r, n, &join(key, "port"), 1, 65535).map(|p| p as u16),
    };
    let sni = m
        .get_node("sni")
        .and_then(|n| read_dns_name(r, n, &join(key, "sni")));
    let min_days_left = match m.get_node("min_days_left") {
        None => Some(DEFAULT_MIN_DAYS_LEFT),
        Some(n) => whole_number(r, n, &join(key, "min_days_left"), 0, 3650).map(|d| d as u32),
    };
    let ca = match m.get_node("ca") {
        None => Some(None),
        Some(n) => read_ca(r, n, &join(key, "ca")).map(Some),
    };
    Some(TlsCheck {
        host: host?,
        port: port?,
        sni,
        min_days_left: min_days_left?,
        ca: ca?,
    })
}

fn whole_number(r: &mut Reader, node: &Node, key: &str, min: u64, max: u64) -> Option<u64> {
    let s = r.literal(node, key)?;
    match s.trim().parse::<u64>() {
        Ok(v) if (min..=max).contains(&v) => Some(v),
        _ => {
            r.d.at(
                node.span(),
                key,
                format!("expected a whole number from {min} to {max}, found '{s}'"),
            );
            None
        }
    }
}

/// A PEM file of trust anchors, relative to the probe file.
fn read_ca(
    r: &mut Reader,
    node: &Node,
    key: &str,
) -> Option<Vec<rustls::pki_types::CertificateDer<'static>>> {
    use rustls::pki_types::pem::PemObject;
    let text = r.text(node, key)?;
    let path = r.base_dir.join(&text);
    let certs: Result<Vec<_>, _> = match rustls::pki_types::CertificateDer::pem_file_iter(&path) {
        Ok(iter) => iter.collect(),
        Err(e) => Err(e),
    };
    match certs {
        Ok(c) if !c.is_empty() => Some(c),
        Ok(_) => {
            r.d.at(
                node.span(),
                key,
                format!("{} holds no PEM certificate", path.display()),
            );
            None
        }
        Err(e) => {
            r.d.at(
                node.span(),
                key,
                format!("cannot read certificates from {}: {e}", path.display()),
            );
            None
        }
    }
}

const BUCKET_KEYS: &[&str] = &[
    "endpoint",
    "region",
    "bucket",
    "key",
    "path_style",
    "credentials",
    "min_size",
    "etag",
    "sha256",
    "tls_verify",
];

fn read_bucket(r: &mut Reader, node: &Node, key: &str) -> Option<BucketCheck> {
    let m = fields(r, node, key, BUCKET_KEYS)?;
    let required = |r: &mut Reader, field: &str| match m.get_node(field) {
        Some(n) => Some(n),
        None => {
            r.d.at(
                &mapping_start(m),
                key,
                format!("missing required key '{field}'"),
            );
            None
        }
    };
    let endpoint = required(r, "endpoint").and_then(|n| read_url(r, n, &join(key, "endpoint")));
    let bucket = required(r, "bucket").and_then(|n| read_bucket_name(r, n, &join(key, "bucket")));
    let region = match m.get_node("region") {
        Some(n) => r.text(n, &join(key, "region")),
        None => Some("us-east-1".to_string()),
    };
    let object = m.get_node("key").and_then(|n| {
        let k = join(key, "key");
        let v = r.text(n, &k)?;
        // URLs collapse `.` and `..` segments, so such a key cannot be addressed as written.
        if v.split('/').any(|seg| seg == "." || seg == "..") {
            r.d.at(
                n.span(),
                &k,
                format!("key '{v}' has a '.' or '..' segment, which URLs rewrite"),
            );
            return None;
        }
        Some(v)
    });
    // AWS endpoints address buckets as host names; S3-compatible servers on an address or
    // a plain host name usually by path.
    let path_style = match m.get_node("path_style") {
        Some(n) => boolean(r, n, &join(key, "path_style")),
        None => Some(
            !endpoint
                .as_ref()
                .and_then(|u| u.host_str())
                .is_some_and(|h| h.ends_with(".amazonaws.com")),
        ),
    };
    if path_style == Some(false)
        && let Some(url::Host::Ipv4(_) | url::Host::Ipv6(_)) =
            endpoint.as_ref().and_then(|u| u.host())
    {
        let span = m
            .get_node("path_style")
            .map(start_of)
            .unwrap_or_else(|| mapping_start(m));
        let msg = "virtual-host addressing puts the bucket in the host name, which an IP address endpoint cannot have";
        r.d.hint(
            &span,
            &join(key, "path_style"),
            msg,
            "use path_style: true".into(),
        );
    }
    let credentials = match m.get_node("credentials") {
        None => Some(None),
        Some(n) => read_credentials(r, n, &join(key, "credentials")).map(Some),
    };
    let min_size = m
        .get_node("min_size")
        .and_then(|n| whole_number(r, n, &join(key, "min_size"), 0, u64::MAX));
    let etag = m
        .get_node("etag")
        .and_then(|n| r.text(n, &join(key, "etag")))
        .map(|e| e.trim_matches('"').to_string());
    let sha256 = m.get_node("sha256").and_then(|n| {
        let k = join(key, "sha256");
        let v = r.text(n, &k)?.to_ascii_lowercase();
        if v.len() == 64 && v.chars().all(|c| c.is_ascii_hexdigit()) {
            Some(v)
        } else {
            r.d.at(n.span(), &k, "expected 64 hexadecimal digits");
            None
        }
    });
    if object.is_none() {
        for field in ["min_size", "etag", "sha256"] {
            if let Some(n) = m.get_node(field) {
                let msg = format!("'{field}' is about an object; give a key");
                r.d.at(&start_of(n), &join(key, field), msg);
            }
        }
    }
    let tls_verify = match m.get_node("tls_verify") {
        Some(n) => boolean(r, n, &join(key, "tls_verify")),
        None => Some(true),
    };
    Some(BucketCheck {
        endpoint: endpoint?,
        region: region?,
        bucket: bucket?,
        key: object,
        path_style: path_style?,
        credentials: credentials?,
        min_size,
        etag,
        sha256,
        tls_verify: tls_verify?,
    })
}

/// S3 bucket naming rules, loosely: 3–63 of a-z, 0-9, '.', '-'.
fn read_bucket_name(r: &mut Reader, node: &Node, key: &str) -> Option<String> {
    let name = r.text(node, key)?;
    let ok = (3..=63).contains(&name.len())
        && name.chars().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-' || c == '_'
        });
    if !ok {
        let msg = format!("'{name}' is not a bucket name (3 to 63 of a-z, 0-9, '.', '-', '_')");
        r.d.at(node.span(), key, msg);
        return None;
    }
    Some(name)
}

fn read_credentials(
    r: &mut Reader,
    node: &Node,
    key: &str,
) -> Option<crate::check::sigv4::Credentials> {
    let m = fields(
        r,
        node,
        key,
        &["access_key_id", "secret_access_key", "session_token"],
    )?;
    let get = |r: &mut Reader, field: &str| match m.get_node(field) {
        Some(n) => r.text(n, &join(key, field)),
        None => {
            r.d.at(
                &mapping_start(m),
                key,
                format!("missing required key '{field}'"),
            );
            None
        }
    };
    let id = get(r, "access_key_id");
    let secret = get(r, "secret_access_key");
    let token = m
        .get_node("session_token")
        .and_then(|n| r.text(n, &join(key, "session_token")));
    Some(crate::check::sigv4::Credentials {
        access_key_id: id?,
        secret_access_key: secret?,
        session_token: token,
    })
}
