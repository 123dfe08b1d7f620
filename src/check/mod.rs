//! Dependency checks: one file per kind. Each returns `Ok(())` or the [`Problem`] that
//! explains the failure or error; [`run_check`] turns that into a [`RunResult`].

pub mod bucket;
pub mod dns;
pub mod http;
pub mod sigv4;
pub mod tls;

use std::time::SystemTime;

use tokio::time::Instant;

use crate::config::{Check, CheckSpec};
use crate::outcome::Problem;
use crate::result::{Phase, Prerequisite, RunResult};

/// What checks share within one run (TLS configurations, the system resolver): the
/// network client's environment.
pub use crate::net::NetEnv as CheckEnv;

/// Run `prerequisites` all at once and attach their verdicts to `result` (a library entry
/// point; runs under `run` and `serve` attribute through [`crate::probe`]'s policy).
pub async fn attribute(result: &mut RunResult, prerequisites: &[&Check], env: &CheckEnv) {
    let runs = prerequisites.iter().map(|c| run_check(c, env));
    let results = futures::future::join_all(runs).await;
    result.prerequisites = results.iter().map(Prerequisite::of).collect();
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
    result.duration_ms = crate::time::ms(start.elapsed());
    result.timings = crate::result::Timings(
        timings
            .into_iter()
            .map(|(phase, d)| (phase, crate::time::ms(d)))
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
