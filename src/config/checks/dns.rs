//! `dns` check definitions.

use std::net::{IpAddr, SocketAddr};

use marked_yaml::Node;

use crate::config::check_model::{DnsCheck, DnsExpect, DnsType, Rcode, normalise_answer};
use crate::config::diag::{mapping_start, suggest};
use crate::config::reader::{Reader, fields, join, string_list};

const DNS_KEYS: &[&str] = &["query", "type", "nameserver", "expect"];
const EXPECT_KEYS: &[&str] = &[
    "rcode",
    "answers_contain",
    "answers_equal",
    "answers_match",
    "min_answers",
    "max_latency",
];

pub(super) fn read_dns(r: &mut Reader, node: &Node, key: &str) -> Option<DnsCheck> {
    let m = fields(r, node, key, DNS_KEYS)?;
    let query = r
        .required(m, key, "query")
        .and_then(|n| read_dns_name(r, n, &join(key, "query")));
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
        (None, Some(_)) => Some(DnsExpect::default()),
        (_, None) => None,
    };
    Some(DnsCheck {
        query: query?,
        record_type: record_type?,
        nameserver: nameserver?,
        expect: expect?,
    })
}

pub(super) fn read_dns_name(r: &mut Reader, node: &Node, key: &str) -> Option<String> {
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
    let mut e = DnsExpect::default();
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
