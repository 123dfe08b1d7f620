//! Dependency checks: one file per kind. Each returns `Ok(())` or the [`Problem`] that
//! explains the failure or error; [`run_check`] turns that into a [`RunResult`].

pub mod bucket;
pub mod dns;
pub mod http;
pub mod sigv4;
pub mod tls;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::SystemTime;

use hickory_resolver::TokioResolver;
use hickory_resolver::net::{DnsError, NetError};
use tokio::time::Instant;

use crate::config::{Check, CheckSpec};
use crate::outcome::{Problem, Reason};
use crate::result::{Phase, Prerequisite, RunResult};

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

/// What checks share within one run: TLS configurations and the system resolver.
pub struct CheckEnv {
    /// The system's trust anchors.
    pub roots: Arc<rustls::RootCertStore>,
    pub tls: Arc<rustls::ClientConfig>,
    pub tls_unverified: Arc<rustls::ClientConfig>,
    /// None when resolv.conf cannot be read; host names then cannot be resolved.
    resolver: Option<TokioResolver>,
}

impl CheckEnv {
    pub fn new() -> CheckEnv {
        let roots = Arc::new(http::system_roots());
        let (tls, tls_unverified) = http::tls_configs(roots.clone());
        let resolver = TokioResolver::builder_tokio().ok().and_then(|mut b| {
            // Every run asks again: a cached answer could hide a changed record.
            b.options_mut().cache_size = 0;
            b.build().ok()
        });
        CheckEnv {
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

impl Default for CheckEnv {
    fn default() -> Self {
        CheckEnv::new()
    }
}

/// After a journey failed, run the checks it depends on, all at once, and attach their
/// verdicts: "login failed at step 5; prerequisite assets_route fails: status_mismatch".
pub async fn attribute(result: &mut RunResult, prerequisites: &[&Check], env: &CheckEnv) {
    let runs = prerequisites.iter().map(|c| run_check(c, env));
    result.prerequisites = futures::future::join_all(runs)
        .await
        .into_iter()
        .map(|r| Prerequisite {
            check: r.probe,
            outcome: r.outcome,
            reason: r.reason,
            message: r.message,
        })
        .collect();
}

/// Run one check under its own timeout.
pub async fn run_check(c: &Check, env: &CheckEnv) -> RunResult {
    let started_at = SystemTime::now();
    let start = Instant::now();
    let deadline = start + c.timeout;
    let mut timings = Vec::new();
    let outcome = match &c.spec {
        CheckSpec::Http(h) => http::run(h, env, deadline, &mut timings).await,
        CheckSpec::Dns(d) => dns::run(d, deadline, &mut timings).await,
        CheckSpec::Tls(t) => tls::run(t, env, deadline, &mut timings).await,
        CheckSpec::Bucket(b) => bucket::run(b, env, deadline, &mut timings).await,
    };
    let mut result = RunResult::for_check(c, started_at);
    result.duration_ms = crate::journey::runner::ms(start.elapsed());
    result.timings = crate::result::Timings(
        timings
            .into_iter()
            .map(|(phase, d)| (phase, crate::journey::runner::ms(d)))
            .collect(),
    );
    let problem = outcome.err().map(|p| {
        let p = Problem::new(p.reason, c.redactor.redact(&p.message));
        (
            p,
            Phase::Check {
                check: c.spec.kind(),
            },
        )
    });
    result.conclude(problem);
    result
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
