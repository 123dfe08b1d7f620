//! `tls` check definitions.

use marked_yaml::Node;

use super::dns::read_dns_name;
use crate::config::check_model::{DEFAULT_MIN_DAYS_LEFT, TlsCheck};
use crate::config::reader::{Reader, fields, join, whole_number};

const TLS_KEYS: &[&str] = &["host", "port", "sni", "min_days_left", "ca"];

pub(super) fn read_tls(r: &mut Reader, node: &Node, key: &str) -> Option<TlsCheck> {
    let m = fields(r, node, key, TLS_KEYS)?;
    let host = r.required(m, key, "host").and_then(|n| {
        r.text(n, &join(key, "host")).and_then(|h| {
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
        })
    });
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
