//! The prober's own network client, below every check: the system resolver, TCP connects
//! with their failures classified by side, TLS configurations, and a phase-timed HTTP client
//! ([`http`]). Checks judge what it returns; `browser` (the driver's `/status`) and `cli`
//! (change events) use it as their HTTP client. It knows nothing of probes or checks.

pub mod http;
pub mod tls;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::net::{DnsError, NetError};
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::outcome::{NetPhase, Problem, Reason};

/// Phase timings of a check, in order.
pub type Timings = Vec<(NetPhase, Duration)>;

/// Add a phase's duration (summed over redirect hops).
fn add(timings: &mut Timings, phase: NetPhase, d: Duration) {
    match timings.iter_mut().find(|(p, _)| *p == phase) {
        Some((_, t)) => *t += d,
        None => timings.push((phase, d)),
    }
}

/// Which side a socket error is on. A refusal is the target's; errors that only the prober's
/// own host produces (no route on this host, no local address, out of descriptors or
/// buffers, forbidden by local policy) are the prober's; anything else (reset, remote
/// unreachable, timed out) is the target's failure to connect.
pub fn classify_io(e: &std::io::Error) -> Reason {
    if e.kind() == std::io::ErrorKind::ConnectionRefused {
        return Reason::ConnectRefused;
    }
    match e.raw_os_error() {
        Some(
            libc::ENETUNREACH
            | libc::EADDRNOTAVAIL
            | libc::EMFILE
            | libc::ENFILE
            | libc::ENOBUFS
            | libc::ENOMEM
            | libc::EACCES
            | libc::EPERM
            | libc::EAFNOSUPPORT,
        ) => Reason::ProberNetwork,
        _ => Reason::ConnectFailed,
    }
}

/// What connections share within one run: TLS configurations and the system resolver. The
/// checks call it `CheckEnv`.
pub struct NetEnv {
    /// The system's trust anchors.
    pub roots: Arc<rustls::RootCertStore>,
    pub tls: Arc<rustls::ClientConfig>,
    pub tls_unverified: Arc<rustls::ClientConfig>,
    /// None when resolv.conf cannot be read; host names then cannot be resolved.
    resolver: Option<TokioResolver>,
}

impl NetEnv {
    pub fn new() -> NetEnv {
        let roots = Arc::new(tls::system_roots());
        let (tls, tls_unverified) = tls::tls_configs(roots.clone());
        let resolver = TokioResolver::builder_tokio().ok().and_then(|mut b| {
            // Every run asks again: a cached answer could hide a changed record.
            b.options_mut().cache_size = 0;
            b.build().ok()
        });
        NetEnv {
            roots,
            tls,
            tls_unverified,
            resolver,
        }
    }

    /// Verifying a certificate needs trust anchors; without any, every certificate would look
    /// untrusted and every owner would be paged for the prober's missing CA bundle.
    pub fn require_roots(&self) -> Result<(), Problem> {
        if self.roots.is_empty() {
            return Err(Problem::new(
                Reason::NoTrustAnchors,
                "the prober found no trusted CA certificates (Debian: apt-get install ca-certificates)",
            ));
        }
        Ok(())
    }

    /// Addresses of `host` through the system resolver (hosts file included). A name that
    /// does not exist is the target's failure; a resolver that does not answer is ours.
    pub async fn resolve(
        &self,
        host: &str,
        port: u16,
        deadline: Instant,
    ) -> Result<Vec<SocketAddr>, Problem> {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = bare.parse::<IpAddr>() {
            return Ok(vec![SocketAddr::new(ip, port)]);
        }
        let Some(resolver) = &self.resolver else {
            return Err(Problem::new(
                Reason::ResolverUnavailable,
                format!("cannot resolve {host}: the system resolver is not configured"),
            ));
        };
        let lookup = tokio::time::timeout_at(deadline, resolver.lookup_ip(host)).await;
        match lookup {
            Ok(Ok(ips)) => Ok(ips.iter().map(|ip| SocketAddr::new(ip, port)).collect()),
            Ok(Err(NetError::Dns(DnsError::NoRecordsFound(_)))) => Err(Problem::new(
                Reason::NameNotResolved,
                format!("{host} does not resolve (no such name, or no address record)"),
            )),
            // SERVFAIL, REFUSED… from the system resolver do not say whether the name or the
            // resolver is broken: the prober cannot tell.
            Ok(Err(NetError::Dns(DnsError::ResponseCode(rcode)))) => Err(Problem::new(
                Reason::ResolverUnavailable,
                format!("cannot resolve {host}: the system resolver answered {rcode}"),
            )),
            Ok(Err(e)) => Err(Problem::new(
                Reason::ResolverUnavailable,
                format!("cannot resolve {host}: the system resolver failed: {e}"),
            )),
            Err(_) => Err(Problem::new(
                Reason::ResolverUnavailable,
                format!("cannot resolve {host}: the system resolver did not answer in time"),
            )),
        }
    }
}

impl Default for NetEnv {
    fn default() -> Self {
        NetEnv::new()
    }
}

pub async fn within<F: Future>(
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

pub async fn connect(
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
        Some((addr, e)) => match classify_io(&e) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_errors_of_the_probers_own_host_are_errors() {
        let os = std::io::Error::from_raw_os_error;
        assert_eq!(classify_io(&os(libc::ECONNREFUSED)), Reason::ConnectRefused);
        assert_eq!(classify_io(&os(libc::ENETUNREACH)), Reason::ProberNetwork);
        assert_eq!(classify_io(&os(libc::EMFILE)), Reason::ProberNetwork);
        assert_eq!(classify_io(&os(libc::EADDRNOTAVAIL)), Reason::ProberNetwork);
        assert_eq!(classify_io(&os(libc::ECONNRESET)), Reason::ConnectFailed);
        assert_eq!(classify_io(&os(libc::EHOSTUNREACH)), Reason::ConnectFailed);
        assert_eq!(
            Reason::ProberNetwork.class(),
            crate::outcome::Outcome::Error
        );
    }
}
