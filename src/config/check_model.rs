//! Validated dependency checks: a single cheap probe of something a journey stands on.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use regex::Regex;

use super::kind::CheckKind;
use crate::redact::Redactor;

/// Default deadline of a check.
pub const DEFAULT_CHECK_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Clone, Debug)]
pub struct Check {
    pub name: String,
    pub timeout: Duration,
    /// How often it runs under `serve` (defaulted: see [`crate::config::schedule`]).
    pub every: Duration,
    /// Extra attempts of a failed or errored run.
    pub retries: u32,
    pub spec: CheckSpec,
    pub redactor: Redactor,
    pub file: PathBuf,
    /// Line and column of the check's `name:` value.
    pub name_at: (usize, usize),
}

/// What is checked. Closed set: adding a kind must be decided everywhere it is matched.
#[derive(Clone, Debug)]
pub enum CheckSpec {
    Http(HttpCheck),
    Dns(DnsCheck),
    Tls(TlsCheck),
    Bucket(BucketCheck),
}

impl CheckSpec {
    /// The YAML key, also the `kind` of its results.
    pub fn kind(&self) -> CheckKind {
        match self {
            CheckSpec::Http(_) => CheckKind::Http,
            CheckSpec::Dns(_) => CheckKind::Dns,
            CheckSpec::Tls(_) => CheckKind::Tls,
            CheckSpec::Bucket(_) => CheckKind::Bucket,
        }
    }
}

/// An HTTP route check.
#[derive(Clone, Debug)]
pub struct HttpCheck {
    pub url: url::Url,
    pub method: http::Method,
    pub headers: Vec<(http::HeaderName, http::HeaderValue)>,
    pub body: Option<String>,
    /// Acceptable statuses of the final response (of the first one when not following).
    pub status: Vec<StatusRange>,
    pub follow_redirects: bool,
    /// Regex on the `Location` of the first redirect; requires a redirect.
    pub redirect_to: Option<Regex>,
    pub body_contains: Option<String>,
    pub body_matches: Option<Regex>,
    pub header_matches: Vec<(http::HeaderName, Regex)>,
    pub max_latency: Option<Duration>,
    pub tls_verify: bool,
}

/// An inclusive range of HTTP statuses: `200` is 200..=200, `2xx` is 200..=299.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatusRange {
    pub low: u16,
    pub high: u16,
}

impl StatusRange {
    pub fn parse(s: &str) -> Option<StatusRange> {
        let s = s.trim();
        if let Some(d) = s.strip_suffix("xx").or_else(|| s.strip_suffix("XX")) {
            let d: u16 = d.parse().ok().filter(|d| (1..=5).contains(d))?;
            return Some(StatusRange {
                low: d * 100,
                high: d * 100 + 99,
            });
        }
        let code: u16 = s.parse().ok().filter(|c| (100..=599).contains(c))?;
        Some(StatusRange {
            low: code,
            high: code,
        })
    }

    pub fn contains(&self, status: u16) -> bool {
        (self.low..=self.high).contains(&status)
    }
}

impl std::fmt::Display for StatusRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.low == self.high {
            write!(f, "{}", self.low)
        } else {
            write!(f, "{}xx", self.low / 100)
        }
    }
}

/// What a bucket check signs its requests with (AWS Signature V4). Debug never shows the secret.
#[derive(Clone)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({}, ••••)", self.access_key_id)
    }
}

/// An S3-compatible bucket (AWS S3, GCS XML API, MinIO, …), or one object in it.
#[derive(Clone, Debug)]
pub struct BucketCheck {
    pub endpoint: url::Url,
    pub region: String,
    pub bucket: String,
    pub key: Option<String>,
    /// `https://endpoint/bucket/key` (true) or `https://bucket.endpoint/key` (false).
    pub path_style: bool,
    /// None: anonymous requests.
    pub credentials: Option<Credentials>,
    pub min_size: Option<u64>,
    /// Without quotes.
    pub etag: Option<String>,
    /// Lower-case hex.
    pub sha256: Option<String>,
    pub tls_verify: bool,
}

/// Default `min_days_left` of a TLS check.
pub const DEFAULT_MIN_DAYS_LEFT: u32 = 14;

/// A TLS certificate check.
#[derive(Clone, Debug)]
pub struct TlsCheck {
    pub host: String,
    pub port: u16,
    /// Name sent in SNI and verified against the certificate; the host by default.
    pub sni: Option<String>,
    pub min_days_left: u32,
    /// Trust anchors from `ca:` (PEM); the system's roots when None.
    pub ca: Option<Vec<rustls::pki_types::CertificateDer<'static>>>,
}

impl TlsCheck {
    /// The name the certificate must be valid for.
    pub fn server_name(&self) -> &str {
        self.sni.as_deref().unwrap_or(&self.host)
    }
}

/// A DNS check.
#[derive(Clone, Debug)]
pub struct DnsCheck {
    /// Fully qualified, lower case, without the trailing dot.
    pub query: String,
    pub record_type: DnsType,
    /// The server under test; None asks the system resolver (resolv.conf).
    pub nameserver: Option<SocketAddr>,
    pub expect: DnsExpect,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DnsType {
    A,
    Aaaa,
    Cname,
    Txt,
    Mx,
    Ns,
}

impl DnsType {
    pub const ALL: &[(&str, DnsType)] = &[
        ("A", DnsType::A),
        ("AAAA", DnsType::Aaaa),
        ("CNAME", DnsType::Cname),
        ("TXT", DnsType::Txt),
        ("MX", DnsType::Mx),
        ("NS", DnsType::Ns),
    ];

    pub fn name(self) -> &'static str {
        DnsType::ALL
            .iter()
            .find(|(_, t)| *t == self)
            .map(|(n, _)| *n)
            .unwrap_or("?")
    }
}

/// The response codes a check can expect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rcode {
    NoError,
    NxDomain,
    ServFail,
    Refused,
}

impl Rcode {
    pub const ALL: &[(&str, Rcode)] = &[
        ("noerror", Rcode::NoError),
        ("nxdomain", Rcode::NxDomain),
        ("servfail", Rcode::ServFail),
        ("refused", Rcode::Refused),
    ];
}

#[derive(Clone, Debug)]
pub struct DnsExpect {
    pub rcode: Rcode,
    /// Every one of these is among the answers (normalised text form).
    pub answers_contain: Vec<String>,
    /// The answers are exactly these, in any order.
    pub answers_equal: Option<Vec<String>>,
    /// Every answer matches.
    pub answers_match: Option<Regex>,
    /// At least this many answers (default 1 when the rcode expected is noerror).
    pub min_answers: usize,
    pub max_latency: Option<Duration>,
}

/// What a `dns` check expects when `expect:` leaves a key out (or is absent): `noerror`
/// with at least one answer.
impl Default for DnsExpect {
    fn default() -> DnsExpect {
        DnsExpect {
            rcode: Rcode::NoError,
            answers_contain: Vec::new(),
            answers_equal: None,
            answers_match: None,
            min_answers: 1,
            max_latency: None,
        }
    }
}

/// The text form answers are compared in: names lower case without the trailing dot, IPs in
/// canonical form, MX as `preference exchange`.
pub fn normalise_answer(record_type: DnsType, text: &str) -> String {
    let t = text.trim();
    match record_type {
        DnsType::A | DnsType::Aaaa => t
            .parse::<std::net::IpAddr>()
            .map(|ip| ip.to_string())
            .unwrap_or_else(|_| t.to_string()),
        DnsType::Cname | DnsType::Ns => t.trim_end_matches('.').to_ascii_lowercase(),
        DnsType::Mx => {
            let mut parts = t.split_whitespace();
            match (parts.next(), parts.next()) {
                (Some(pref), Some(host)) => {
                    format!("{pref} {}", host.trim_end_matches('.').to_ascii_lowercase())
                }
                _ => t.to_ascii_lowercase(),
            }
        }
        DnsType::Txt => t.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_ranges() {
        let r = StatusRange::parse("2xx").unwrap();
        assert!(r.contains(204) && !r.contains(302));
        assert_eq!(StatusRange::parse("302").unwrap().to_string(), "302");
        assert!(StatusRange::parse("6xx").is_none());
        assert!(StatusRange::parse("99").is_none());
    }

    #[test]
    fn answers_are_compared_in_one_form() {
        assert_eq!(
            normalise_answer(DnsType::Cname, "App.Example.TEST."),
            "app.example.test"
        );
        assert_eq!(normalise_answer(DnsType::Aaaa, "0:0:0:0:0:0:0:1"), "::1");
        assert_eq!(normalise_answer(DnsType::Mx, "10 Mail.X."), "10 mail.x");
    }
}
