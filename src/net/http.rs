//! The phase-timed HTTP/1.1 client: one request on a fresh connection, made phase by phase
//! (resolve, connect, TLS, send, first byte, body) so every phase has a timing and every
//! failure a precise [`Reason`]. The `http` and `bucket` checks judge what it returns;
//! [`request`] is journeyprobe's own small client (change events, the driver's status).

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::{NetEnv, Timings, add, connect, within};
use crate::outcome::NetPhase;
use crate::outcome::{Problem, Reason};

/// Bodies are read up to this size for matching; the rest is not downloaded.
pub const BODY_LIMIT: usize = 1 << 20;

/// One request to make.
pub struct Fetch<'a> {
    pub url: &'a url::Url,
    pub method: &'a http::Method,
    pub headers: &'a [(http::HeaderName, http::HeaderValue)],
    pub body: Option<&'a str>,
    pub tls_verify: bool,
    /// Read at most this much of the body.
    pub body_limit: usize,
}

pub struct Response {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

/// One request on a fresh connection.
pub async fn exchange(
    f: &Fetch<'_>,
    env: &NetEnv,
    deadline: Instant,
    timings: &mut Timings,
) -> Result<Response, Problem> {
    let (url, method) = (f.url, f.method);
    let host = url.host_str().unwrap_or_default().to_string();
    let port = url.port_or_known_default().unwrap_or(80);
    let t = Instant::now();
    let addrs = env.resolve(&host, port, deadline).await?;
    add(timings, NetPhase::Dns, t.elapsed());

    let t = Instant::now();
    let tcp = connect(&addrs, &host, deadline).await?;
    add(timings, NetPhase::Connect, t.elapsed());

    let io: Box<dyn Io> = if url.scheme() == "https" {
        let t = Instant::now();
        // An IPv6 literal is written in brackets in URLs, bare as a TLS server name.
        let name = host.trim_start_matches('[').trim_end_matches(']');
        let tls = handshake(tcp, name, f.tls_verify, env, deadline).await?;
        add(timings, NetPhase::Tls, t.elapsed());
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
    add(timings, NetPhase::FirstByte, t.elapsed());

    let t = Instant::now();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = read_body(resp.into_body(), f.body_limit, deadline, &what).await?;
    add(timings, NetPhase::Transfer, t.elapsed());
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

async fn handshake(
    tcp: TcpStream,
    host: &str,
    verify: bool,
    env: &NetEnv,
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

/// One request outside any check: journeyprobe's own small HTTP client (posting a change
/// event to a running `serve`). No redirects are followed; the body is read up to 1 MiB.
pub async fn request(
    url: &url::Url,
    method: http::Method,
    headers: &[(http::HeaderName, http::HeaderValue)],
    body: Option<&str>,
    timeout: Duration,
) -> Result<(u16, Bytes), Problem> {
    let env = NetEnv::new();
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
