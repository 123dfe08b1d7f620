//! `bucket` check definitions.

use marked_yaml::Node;

use super::http::read_url;
use crate::config::check_model::{BucketCheck, Credentials};
use crate::config::diag::{mapping_start, start_of};
use crate::config::reader::{Reader, boolean, fields, join, whole_number};

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

pub(super) fn read_bucket(r: &mut Reader, node: &Node, key: &str) -> Option<BucketCheck> {
    let m = fields(r, node, key, BUCKET_KEYS)?;
    let endpoint = r
        .required(m, key, "endpoint")
        .and_then(|n| read_url(r, n, &join(key, "endpoint")));
    let bucket = r
        .required(m, key, "bucket")
        .and_then(|n| read_bucket_name(r, n, &join(key, "bucket")));
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

fn read_credentials(r: &mut Reader, node: &Node, key: &str) -> Option<Credentials> {
    let m = fields(
        r,
        node,
        key,
        &["access_key_id", "secret_access_key", "session_token"],
    )?;
    let get = |r: &mut Reader, field: &str| {
        let n = r.required(m, key, field)?;
        r.text(n, &join(key, field))
    };
    let id = get(r, "access_key_id");
    let secret = get(r, "secret_access_key");
    let token = m
        .get_node("session_token")
        .and_then(|n| r.text(n, &join(key, "session_token")));
    Some(Credentials {
        access_key_id: id?,
        secret_access_key: secret?,
        session_token: token,
    })
}
