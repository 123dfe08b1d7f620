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
            Ok(Err(NetError::Dns(DnsError::NoRecordsFound(_) | DnsError::ResponseCode(_)))) => Err(
                Problem::new(Reason::NameNotResolved, format!("{host} does not resolve")),
            ),
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
