//! `http` check definitions.

use marked_yaml::Node;

use crate::config::check_model::{HttpCheck, StatusRange};
use crate::config::diag::start_of;
use crate::config::reader::{Reader, boolean, fields, join};

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

pub(super) fn read_http(r: &mut Reader, node: &Node, key: &str) -> Option<HttpCheck> {
    let m = fields(r, node, key, HTTP_KEYS)?;
    let url = r
        .required(m, key, "url")
        .and_then(|n| read_url(r, n, &join(key, "url")));
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

pub(super) fn read_url(r: &mut Reader, node: &Node, key: &str) -> Option<url::Url> {
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

/// A mapping of header names to values read by `value`; bad names are reported.
fn header_map<T>(
    r: &mut Reader,
    node: &Node,
    key: &str,
    mut value: impl FnMut(&mut Reader, &Node, &str) -> Option<T>,
) -> Option<Vec<(http::HeaderName, T)>> {
    let m = r.mapping(node, key)?;
    let mut out = Vec::new();
    for (k, v) in m.iter() {
        let hk = join(key, k.as_str());
        match http::HeaderName::from_bytes(k.as_str().as_bytes()) {
            Ok(name) => out.extend(value(r, v, &hk).map(|x| (name, x))),
            Err(_) => {
                let msg = format!("'{}' is not a valid header name", k.as_str());
                r.d.at(k.span(), &hk, msg);
            }
        }
    }
    Some(out)
}

fn read_headers(
    r: &mut Reader,
    node: &Node,
    key: &str,
) -> Option<Vec<(http::HeaderName, http::HeaderValue)>> {
    header_map(r, node, key, |r, v, hk| {
        let s = r.scalar(v, hk)?;
        let value = r.expand(s.as_str(), s.span(), hk)?;
        match http::HeaderValue::from_str(&value) {
            Ok(value) => Some(value),
            Err(_) => {
                r.d.at(
                    v.span(),
                    hk,
                    "header values may not contain control characters",
                );
                None
            }
        }
    })
}

fn read_header_matches(
    r: &mut Reader,
    node: &Node,
    key: &str,
) -> Option<Vec<(http::HeaderName, regex::Regex)>> {
    header_map(r, node, key, |r, v, hk| r.regex(v, hk))
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
