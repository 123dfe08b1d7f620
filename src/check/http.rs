//! `http` route checks. Each request is made phase by phase — resolve, connect, TLS, send,
//! first byte, body — on its own connection, so every phase has a timing and every failure a
//! precise reason. Redirects are followed by hand (at most [`MAX_REDIRECTS`]), so the first
//! `Location` can be checked against `redirect_to`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::CheckEnv;
use super::dns::Timings;
use crate::config::check_model::HttpCheck;
use crate::outcome::{Problem, Reason};

pub const MAX_REDIRECTS: usize = 10;
/// Bodies are read up to this size for matching; the rest is not downloaded.
pub const BODY_LIMIT: usize = 1 << 20;

/// One request to make.
pub(super) struct Fetch<'a> {
    pub url: &'a url::Url,
    pub method: &'a http::Method,
    pub headers: &'a [(http::HeaderName, http::HeaderValue)],
    pub body: Option<&'a str>,
    pub tls_verify: bool,
    /// Read at most this much of the body.
    pub body_limit: usize,
}

pub(super) struct Response {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

pub async fn run(
    c: &HttpCheck,
    env: &CheckEnv,
    deadline: Instant,
    timings: &mut Timings,
) -> Result<(), Problem> {
    let started = Instant::now();
    let mut url = c.url.clone();
    let mut method = c.method.clone();
    let mut body = c.body.clone();
    let mut first_location: Option<String> = None;
    let mut hops = 0;
    let resp = loop {
        // Like browsers and curl, the check's headers (credentials among them) do not follow
        // a redirect to another host.
        let same_origin = url.origin() == c.url.origin();
        let fetch = Fetch {
            url: &url,
            method: &method,
            headers: if same_origin { &c.headers } else { &[] },
            body: body.as_deref(),
            tls_verify: c.tls_verify,
            body_limit: BODY_LIMIT,
        };
        let resp = exchange(&fetch, env, deadline, timings).await?;
        let location = resp
            .headers
            .get(http::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let redirect = matches!(resp.status, 301 | 302 | 303 | 307 | 308);
        if redirect && first_location.is_none() {
            first_location = location.clone();
        }
        match (c.follow_redirects && redirect, location) {
            (true, Some(loc)) if hops < MAX_REDIRECTS => {
                hops += 1;
                url = url.join(&loc).map_err(|e| {
                    Problem::new(
                        Reason::RedirectMismatch,
                        format!("{url} redirects to an invalid location {loc:?}: {e}"),
                    )
                })?;
                // Browsers turn these into GETs without a body.
                if resp.status == 303
                    || (matches!(resp.status, 301 | 302) && method == http::Method::POST)
                {
                    method = http::Method::GET;
                    body = None;
                }
            }
            (true, Some(_)) => {
                return Err(Problem::new(
                    Reason::RedirectMismatch,
                    format!("more than {MAX_REDIRECTS} redirects from {}", c.url),
                ));
            }
            _ => break resp,
        }
    };
    let total = started.elapsed();
    timings.push(("total", total));
    judge(c, &url, &resp, first_location.as_deref())?;
    if let Some(max) = c.max_latency
        && total > max
    {
        return Err(Problem::new(
            Reason::LatencyExceeded,
            format!(
                "{} {url} took {:.0} ms, more than max_latency {:.0} ms",
                c.method,
                ms(total),
                ms(max)
            ),
        ));
    }
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Add a phase's duration (summed over redirect hops).
fn add(timings: &mut Timings, phase: &'static str, d: Duration) {
    match timings.iter_mut().find(|(p, _)| *p == phase) {
        Some((_, t)) => *t += d,
        None => timings.push((phase, d)),
    }
}

/// One request on a fresh connection.
pub(super) async fn exchange(
    f: &Fetch<'_>,
    env: &CheckEnv,
    deadline: Instant,
    timings: &mut Timings,
) -> Result<Response, Problem> {
    let (url, method) = (f.url, f.method);
    let host = url.host_str().unwrap_or_default().to_string();
    let port = url.port_or_known_default().unwrap_or(80);
    let t = Instant::now();
    let addrs = env.resolve(&host, port, deadline).await?;
    add(timings, "dns", t.elapsed());

    let t = Instant::now();
    let tcp = connect(&addrs, &host, deadline).await?;
    add(timings, "connect", t.elapsed());

    let io: Box<dyn Io> = if url.scheme() == "https" {
        let t = Instant::now();
        // An IPv6 literal is written in brackets in URLs, bare as a TLS server name.
        let name = host.trim_start_matches('[').trim_end_matches(']');
        let tls = handshake(tcp, name, f.tls_verify, env, deadline).await?;
        add(timings, "tls", t.elapsed());
        Box::new(tls)
    } else {
        Box::new(tcp)
    };

    let t = Instant::now();
    let what = format!("{method} {url}");
    let (mut sender, conn) = within(deadline, &what, http1::handshake(TokioIo::new(io)))
        .await?
        .map_err(|e| Problem::new(Reason::ProtocolError, format!("{what}: {e}")))?;
    let driver = tokio::spawn(async move {
        let _ = conn.await;
    });
    let request = build_request(f)?;
    let resp = within(deadline, &what, sender.send_request(request))
        .await?
        .map_err(|e| Problem::new(classify_hyper(&e), format!("{what}: {e}")))?;
    add(timings, "first_byte", t.elapsed());

    let t = Instant::now();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = read_body(resp.into_body(), f.body_limit, deadline, &what).await?;
    add(timings, "transfer", t.elapsed());
    driver.abort();
    Ok(Response {
        status,
        headers,
        body,
    })
}

/// A connection we can speak HTTP over: plain TCP or TLS.
trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Io for T {}

pub(super) async fn within<F: Future>(
    deadline: Instant,
    what: &str,
    fut: F,
) -> Result<F::Output, Problem> {
    tokio::time::timeout_at(deadline, fut).await.map_err(|_| {
        Problem::new(
            Reason::Timeout,
            format!("{what}: no complete answer before the check's timeout"),
        )
    })
}

pub(super) async fn connect(
    addrs: &[SocketAddr],
    host: &str,
    deadline: Instant,
) -> Result<TcpStream, Problem> {
    let mut last = None;
    for addr in addrs {
        match within(
            deadline,
            &format!("connect to {host} ({addr})"),
            TcpStream::connect(addr),
        )
        .await?
        {
            Ok(s) => {
                let _ = s.set_nodelay(true);
                return Ok(s);
            }
            Err(e) => last = Some((*addr, e)),
        }
    }
    Err(match last {
        Some((addr, e)) => match super::classify_io(&e) {
            Reason::ConnectRefused => Problem::new(
                Reason::ConnectRefused,
                format!("{host} ({addr}) refused the connection"),
            ),
            Reason::ProberNetwork => Problem::new(
                Reason::ProberNetwork,
                format!("the prober cannot open a connection to {host} ({addr}): {e}"),
            ),
            reason => Problem::new(reason, format!("cannot connect to {host} ({addr}): {e}")),
        },
        None => Problem::new(Reason::NameNotResolved, format!("{host} has no address")),
    })
}

async fn handshake(
    tcp: TcpStream,
    host: &str,
    verify: bool,
    env: &CheckEnv,
    deadline: Instant,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, Problem> {
    let name = rustls::pki_types::ServerName::try_from(host.to_string()).map_err(|e| {
        Problem::new(
            Reason::TlsInvalid,
            format!("'{host}' cannot be a TLS server name: {e}"),
        )
    })?;
    if verify {
        env.require_roots()?;
    }
    let config = if verify {
        env.tls.clone()
    } else {
        env.tls_unverified.clone()
    };
    let connector = tokio_rustls::TlsConnector::from(config);
    within(
        deadline,
        &format!("TLS handshake with {host}"),
        connector.connect(name, tcp),
    )
    .await?
    .map_err(|e| {
        let tls_error = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>());
        match tls_error {
            Some(t) => Problem::new(Reason::TlsInvalid, format!("TLS with {host}: {t}")),
            None => Problem::new(super::classify_io(&e), format!("TLS with {host}: {e}")),
        }
    })
}

fn build_request(f: &Fetch<'_>) -> Result<http::Request<Full<Bytes>>, Problem> {
    let (url, method) = (f.url, f.method);
    let path = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    };
    let host = match url.port() {
        Some(p) => format!("{}:{p}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_string(),
    };
    let b = http::Request::builder()
        .method(method.clone())
        .uri(path)
        .header(http::header::HOST, host)
        .header(
            http::header::USER_AGENT,
            concat!("journeyprobe/", env!("CARGO_PKG_VERSION")),
        )
        .header(http::header::CONNECTION, "close");
    let mut request = b
        .body(Full::new(Bytes::from(
            f.body.unwrap_or_default().to_string(),
        )))
        .map_err(|e| {
            Problem::new(
                Reason::ProtocolError,
                format!("cannot build the request: {e}"),
            )
        })?;
    // The check's own headers replace the defaults (a User-Agent of its own, say).
    for (k, v) in f.headers {
        request.headers_mut().insert(k.clone(), v.clone());
    }
    Ok(request)
}

fn classify_hyper(e: &hyper::Error) -> Reason {
    if e.is_parse() || e.is_incomplete_message() {
        Reason::ProtocolError
    } else {
        Reason::ConnectFailed
    }
}

async fn read_body(
    mut body: hyper::body::Incoming,
    limit: usize,
    deadline: Instant,
    what: &str,
) -> Result<Bytes, Problem> {
    let mut out = Vec::new();
    while out.len() < limit {
        match within(deadline, what, body.frame()).await? {
            None => break,
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    out.extend_from_slice(&data);
                }
            }
            Some(Err(e)) => {
                return Err(Problem::new(
                    classify_hyper(&e),
                    format!("{what}: reading the body: {e}"),
                ));
            }
        }
    }
    out.truncate(limit);
    Ok(Bytes::from(out))
}

/// Compare the final response with what the check expects.
fn judge(
    c: &HttpCheck,
    url: &url::Url,
    r: &Response,
    first_location: Option<&str>,
) -> Result<(), Problem> {
    let what = format!("{} {url}", c.method);
    if !c.status.iter().any(|s| s.contains(r.status)) {
        let want: Vec<String> = c.status.iter().map(ToString::to_string).collect();
        let msg = format!(
            "{what} answered {}, expected {}",
            r.status,
            want.join(" or ")
        );
        return Err(Problem::new(Reason::StatusMismatch, msg));
    }
    if let Some(re) = &c.redirect_to {
        match first_location {
            None => {
                let msg = format!(
                    "{what} did not redirect (status {}); expected a redirect to {:?}",
                    r.status,
                    re.as_str()
                );
                return Err(Problem::new(Reason::RedirectMismatch, msg));
            }
            Some(loc) if !re.is_match(loc) => {
                let msg = format!(
                    "{} redirects to {loc:?}, which does not match {:?}",
                    c.url,
                    re.as_str()
                );
                return Err(Problem::new(Reason::RedirectMismatch, msg));
            }
            Some(_) => {}
        }
    }
    for (name, re) in &c.header_matches {
        let value = r.headers.get(name).and_then(|v| v.to_str().ok());
        match value {
            Some(v) if re.is_match(v) => {}
            Some(v) => {
                let msg = format!(
                    "{what}: header {name}: {v:?} does not match {:?}",
                    re.as_str()
                );
                return Err(Problem::new(Reason::HeaderMismatch, msg));
            }
            None => {
                let msg = format!("{what}: no {name} header");
                return Err(Problem::new(Reason::HeaderMismatch, msg));
            }
        }
    }
    let text = String::from_utf8_lossy(&r.body);
    if let Some(s) = &c.body_contains
        && !text.contains(s.as_str())
    {
        let msg = format!(
            "{what}: the body ({} bytes read) does not contain {s:?}",
            r.body.len()
        );
        return Err(Problem::new(Reason::BodyMismatch, msg));
    }
    if let Some(re) = &c.body_matches
        && !re.is_match(&text)
    {
        let msg = format!(
            "{what}: the body ({} bytes read) does not match {:?}",
            r.body.len(),
            re.as_str()
        );
        return Err(Problem::new(Reason::BodyMismatch, msg));
    }
    Ok(())
}

/// One request outside any check: journeyprobe's own small HTTP client (posting a change
/// event to a running `serve`). No redirects are followed; the body is read up to 1 MiB.
pub async fn request(
    url: &url::Url,
    method: http::Method,
    headers: &[(http::HeaderName, http::HeaderValue)],
    body: Option<&str>,
    timeout: Duration,
) -> Result<(u16, Bytes), Problem> {
    let env = CheckEnv::new();
    let fetch = Fetch {
        url,
        method: &method,
        headers,
        body,
        tls_verify: true,
        body_limit: BODY_LIMIT,
    };
    let mut timings = Vec::new();
    let resp = exchange(&fetch, &env, Instant::now() + timeout, &mut timings).await?;
    Ok((resp.status, resp.body))
}

/// A rustls client config: verifying against the system's roots, or (`tls_verify: false`)
/// accepting any certificate.
pub fn tls_configs(
    roots: Arc<rustls::RootCertStore>,
) -> (Arc<rustls::ClientConfig>, Arc<rustls::ClientConfig>) {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut verified = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map(|b| b.with_root_certificates(roots).with_no_client_auth())
        .expect("the default protocol versions are supported by the default provider");
    let mut unverified = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map(|b| {
            b.dangerous()
                .with_custom_certificate_verifier(Arc::new(AcceptAny(provider)))
                .with_no_client_auth()
        })
        .expect("the default protocol versions are supported by the default provider");
    // Every check does a full handshake: a resumed session would skip the certificate and
    // time an abbreviated handshake.
    verified.resumption = rustls::client::Resumption::disabled();
    unverified.resumption = rustls::client::Resumption::disabled();
    (Arc::new(verified), Arc::new(unverified))
}

/// The system's trust anchors (Debian: /etc/ssl/certs).
pub fn system_roots() -> rustls::RootCertStore {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    roots
}

/// `tls_verify: false`: the handshake still happens, the certificate is not judged.
#[derive(Debug)]
struct AcceptAny(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
