//! `tls` checks: connect, handshake with full verification (chain, name, validity), then
//! judge how long the certificate has left. The verifier records the certificate it was shown,
//! so even a failed handshake reports the certificate's dates.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};
use tokio::time::Instant;

use super::CheckEnv;
use crate::config::check_model::TlsCheck;
use crate::net::{Timings, connect, within};
use crate::outcome::NetPhase;
use crate::outcome::{Problem, Reason};

pub async fn run(
    c: &TlsCheck,
    env: &CheckEnv,
    deadline: Instant,
    timings: &mut Timings,
) -> Result<(), Problem> {
    let t = Instant::now();
    let addrs = env.resolve(&c.host, c.port, deadline).await?;
    timings.push((NetPhase::Dns, t.elapsed()));
    let t = Instant::now();
    let tcp = connect(&addrs, &c.host, deadline).await?;
    timings.push((NetPhase::Connect, t.elapsed()));

    let seen: Arc<Mutex<Option<CertificateDer<'static>>>> = Arc::default();
    let config = client_config(c, env, seen.clone())?;
    let name = ServerName::try_from(c.server_name().to_string()).map_err(|e| {
        Problem::new(
            Reason::TlsHostnameMismatch,
            format!("'{}' cannot be a TLS server name: {e}", c.server_name()),
        )
    })?;
    let t = Instant::now();
    let what = format!("TLS handshake with {}:{}", c.host, c.port);
    let handshake = within(
        deadline,
        &what,
        tokio_rustls::TlsConnector::from(config).connect(name, tcp),
    )
    .await?;
    timings.push((NetPhase::Tls, t.elapsed()));
    let leaf = seen.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let seen = Handshake {
        error: handshake.err(),
        expires: leaf.as_ref().and_then(|der| not_after(der)),
    };
    judge(c, &seen, SystemTime::now())
}

/// What the handshake showed.
struct Handshake {
    error: Option<std::io::Error>,
    /// The end-entity certificate's not-after, when one was shown and could be read.
    expires: Option<SystemTime>,
}

/// A failed handshake is judged by its error; a good one by the days left at `now`.
fn judge(c: &TlsCheck, h: &Handshake, now: SystemTime) -> Result<(), Problem> {
    if let Some(e) = &h.error {
        return Err(classify(c, e, h.expires));
    }
    let Some(expires) = h.expires else {
        return Err(Problem::new(
            Reason::ProtocolError,
            format!(
                "TLS handshake with {}:{}: the certificate's validity could not be read",
                c.host, c.port
            ),
        ));
    };
    let left = expires.duration_since(now).unwrap_or(Duration::ZERO);
    let days = left.as_secs() / 86_400;
    if days < u64::from(c.min_days_left) {
        return Err(Problem::new(
            Reason::TlsExpiring,
            format!(
                "the certificate of {} expires in {days} day(s), on {}; min_days_left is {}",
                c.server_name(),
                humantime::format_rfc3339_seconds(expires),
                c.min_days_left
            ),
        ));
    }
    Ok(())
}

fn classify(c: &TlsCheck, e: &std::io::Error, expires: Option<SystemTime>) -> Problem {
    let name = c.server_name();
    let Some(tls) = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) else {
        return Problem::new(
            Reason::ConnectFailed,
            format!("TLS with {}:{}: {e}", c.host, c.port),
        );
    };
    let when = expires
        .map(|t| format!(" (not after {})", humantime::format_rfc3339_seconds(t)))
        .unwrap_or_default();
    match tls {
        rustls::Error::InvalidCertificate(ce) => match ce {
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => Problem::new(
                Reason::TlsExpired,
                format!("the certificate of {name} has expired{when}"),
            ),
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                Problem::new(
                    Reason::TlsExpired,
                    format!("the certificate of {name} is not valid yet"),
                )
            }
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                Problem::new(
                    Reason::TlsHostnameMismatch,
                    format!("the certificate is not valid for {name}: {ce:?}"),
                )
            }
            other => Problem::new(
                Reason::TlsUntrusted,
                format!("the certificate of {name} is not trusted: {other:?}"),
            ),
        },
        other => Problem::new(
            Reason::ProtocolError,
            format!("TLS with {}:{}: {other}", c.host, c.port),
        ),
    }
}

/// When the certificate stops being valid.
fn not_after(der: &CertificateDer<'_>) -> Option<SystemTime> {
    let (_, cert) = x509_parser::parse_x509_certificate(der.as_ref()).ok()?;
    let ts = cert.validity().not_after.timestamp();
    u64::try_from(ts)
        .ok()
        .map(|s| UNIX_EPOCH + Duration::from_secs(s))
}

fn client_config(
    c: &TlsCheck,
    env: &CheckEnv,
    seen: Arc<Mutex<Option<CertificateDer<'static>>>>,
) -> Result<Arc<rustls::ClientConfig>, Problem> {
    let provider = env.tls.crypto_provider().clone();
    let roots = match &c.ca {
        Some(certs) => {
            let mut store = rustls::RootCertStore::empty();
            for cert in certs {
                let _ = store.add(cert.clone());
            }
            Arc::new(store)
        }
        None => {
            env.require_roots()?;
            env.roots.clone()
        }
    };
    let inner = WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
        .build()
        .map_err(|e| {
            Problem::new(
                Reason::TlsUntrusted,
                format!("no usable trust anchors: {e}"),
            )
        })?;
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Problem::new(Reason::ProtocolError, format!("TLS set-up: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Recording { inner, seen }))
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Verifies exactly as WebPKI does, remembering the end-entity certificate it was shown.
#[derive(Debug)]
struct Recording {
    inner: Arc<WebPkiServerVerifier>,
    seen: Arc<Mutex<Option<CertificateDer<'static>>>>,
}

impl ServerCertVerifier for Recording {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        *self.seen.lock().unwrap_or_else(|p| p.into_inner()) =
            Some(end_entity.clone().into_owned());
        self.inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
    }

    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(m, c, d)
    }

    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(m, c, d)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(min_days_left: u32) -> TlsCheck {
        TlsCheck {
            host: "app.example.test".into(),
            port: 443,
            sni: None,
            min_days_left,
            ca: None,
        }
    }

    const DAY: Duration = Duration::from_secs(86_400);

    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_800_000_000)
    }

    fn shown(error: Option<rustls::Error>, days_left: Option<Duration>) -> Handshake {
        Handshake {
            error: error.map(std::io::Error::other),
            expires: days_left.map(|d| now() + d),
        }
    }

    fn reason(r: Result<(), Problem>) -> Option<Reason> {
        r.err().map(|p| p.reason)
    }

    #[test]
    fn days_left_are_whole_days_against_min_days_left() {
        let c = check(14);
        assert_eq!(reason(judge(&c, &shown(None, Some(DAY * 14)), now())), None);
        let almost = DAY * 14 - Duration::from_secs(1);
        let p = judge(&c, &shown(None, Some(almost)), now()).unwrap_err();
        assert_eq!(p.reason, Reason::TlsExpiring);
        assert!(
            p.message
                .starts_with("the certificate of app.example.test expires in 13 day(s)"),
            "{p}"
        );
        assert_eq!(
            reason(judge(&check(0), &shown(None, Some(DAY)), now())),
            None
        );
    }

    #[test]
    fn an_unreadable_certificate_is_a_protocol_error() {
        let p = judge(&check(14), &shown(None, None), now()).unwrap_err();
        assert_eq!(p.reason, Reason::ProtocolError);
    }

    #[test]
    fn handshake_errors_are_expiry_name_or_trust() {
        let c = check(14);
        let cert = |e| Some(rustls::Error::InvalidCertificate(e));
        let expired = shown(cert(CertificateError::Expired), Some(Duration::ZERO));
        let p = judge(&c, &expired, now()).unwrap_err();
        assert_eq!(p.reason, Reason::TlsExpired);
        assert_eq!(
            p.message,
            "the certificate of app.example.test has expired (not after 2027-01-15T08:00:00Z)"
        );
        let early = shown(cert(CertificateError::NotValidYet), None);
        assert_eq!(reason(judge(&c, &early, now())), Some(Reason::TlsExpired));
        let name = shown(cert(CertificateError::NotValidForName), Some(DAY * 90));
        assert_eq!(
            reason(judge(&c, &name, now())),
            Some(Reason::TlsHostnameMismatch)
        );
        let issuer = shown(cert(CertificateError::UnknownIssuer), Some(DAY * 90));
        assert_eq!(
            reason(judge(&c, &issuer, now())),
            Some(Reason::TlsUntrusted)
        );
        let alert = shown(Some(rustls::Error::HandshakeNotComplete), None);
        assert_eq!(
            reason(judge(&c, &alert, now())),
            Some(Reason::ProtocolError)
        );
    }

    #[test]
    fn a_socket_error_in_the_handshake_is_a_failed_connection() {
        let reset = Handshake {
            error: Some(std::io::Error::from_raw_os_error(libc::ECONNRESET)),
            expires: None,
        };
        assert_eq!(
            reason(judge(&check(14), &reset, now())),
            Some(Reason::ConnectFailed)
        );
    }
}
