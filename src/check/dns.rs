//! `dns` checks, through hickory-resolver with its cache off: every run asks the server.
//!
//! **Whose timeout is it?** With an explicit `nameserver`, that server is what is under test:
//! no answer in time is the target's `dns_timeout` (a failure). Without one, the system
//! resolver (resolv.conf) is only the prober's way of asking; when it has no nameserver or
//! none answers, that is `resolver_unavailable` (an error): the prober cannot tell whether
//! the record is fine.

use std::time::Duration;

use hickory_resolver::config::{NameServerConfig, ResolveHosts, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::RecordType;
use hickory_resolver::{Resolver, TokioResolver};
use tokio::time::Instant;

use crate::config::check_model::{DnsCheck, DnsType, Rcode, normalise_answer};
use crate::net::Timings;
use crate::outcome::NetPhase;
use crate::outcome::{Problem, Reason};

/// What the server said.
struct Answer {
    rcode: ResponseCode,
    /// Normalised text of each answer of the asked type.
    records: Vec<String>,
}

pub async fn run(c: &DnsCheck, deadline: Instant, timings: &mut Timings) -> Result<(), Problem> {
    let left = deadline.saturating_duration_since(Instant::now());
    let resolver = resolver(c, left)?;
    let started = Instant::now();
    let answer = tokio::time::timeout_at(deadline, ask(&resolver, c)).await;
    let took = started.elapsed();
    timings.push((NetPhase::Dns, took));
    let answer = match answer {
        Ok(a) => a?,
        Err(_) => return Err(timed_out(c, left)),
    };
    judge(c, &answer)?;
    if let Some(max) = c.expect.max_latency
        && took > max
    {
        return Err(Problem::new(
            Reason::LatencyExceeded,
            format!(
                "answered in {}, more than max_latency {}",
                ms(took),
                ms(max)
            ),
        ));
    }
    Ok(())
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn resolver(c: &DnsCheck, left: Duration) -> Result<TokioResolver, Problem> {
    let mut builder = match c.nameserver {
        Some(addr) => {
            let mut ns = NameServerConfig::udp_and_tcp(addr.ip());
            for conn in &mut ns.connections {
                conn.port = addr.port();
            }
            let config = ResolverConfig::from_parts(None, vec![], vec![ns]);
            Resolver::builder_with_config(config, TokioRuntimeProvider::default())
        }
        None => Resolver::builder_tokio().map_err(|e| {
            Problem::new(
                Reason::ResolverUnavailable,
                format!("the system resolver is not usable: {e}"),
            )
        })?,
    };
    let opts = builder.options_mut();
    opts.cache_size = 0;
    opts.attempts = 1;
    opts.timeout = left.max(Duration::from_millis(1));
    opts.use_hosts_file = ResolveHosts::Never;
    opts.ndots = 0;
    builder.build().map_err(|e| {
        Problem::new(
            Reason::ResolverUnavailable,
            format!("cannot set up the resolver: {e}"),
        )
    })
}

async fn ask(resolver: &TokioResolver, c: &DnsCheck) -> Result<Answer, Problem> {
    let name = format!("{}.", c.query);
    let asked = resolver
        .lookup(name.as_str(), record_type(c.record_type))
        .await;
    let system = c.nameserver.is_none();
    match asked {
        Ok(lookup) => Ok(Answer {
            // Not always NOERROR: a dangling CNAME comes back as NXDOMAIN with a record.
            rcode: lookup.message().metadata.response_code,
            records: lookup
                .answers()
                .iter()
                .filter(|r| r.record_type() == record_type(c.record_type))
                .map(|r| normalise_answer(c.record_type, &r.data.to_string()))
                .collect(),
        }),
        Err(NetError::Dns(DnsError::NoRecordsFound(none))) => Ok(Answer {
            rcode: none.response_code,
            records: Vec::new(),
        }),
        // The system resolver's own error codes (its upstream down, its access list) do not
        // tell whether the record is fine.
        Err(NetError::Dns(DnsError::ResponseCode(rcode))) if system => Err(Problem::new(
            Reason::ResolverUnavailable,
            format!(
                "the system resolver answered {}; the prober cannot tell whether {} is fine",
                mnemonic(rcode),
                c.query
            ),
        )),
        Err(NetError::Dns(DnsError::ResponseCode(rcode))) => Ok(Answer {
            rcode,
            records: Vec::new(),
        }),
        Err(NetError::Timeout) => Err(timed_out(c, resolver.options().timeout)),
        Err(e) if system => Err(Problem::new(
            Reason::ResolverUnavailable,
            format!("the system resolver could not be asked: {e}"),
        )),
        Err(NetError::Io(io)) if crate::net::classify_io(&io) == Reason::ProberNetwork => {
            Err(Problem::new(
                Reason::ProberNetwork,
                format!(
                    "the prober cannot reach nameserver {}: {io}",
                    c.nameserver.map(|n| n.to_string()).unwrap_or_default()
                ),
            ))
        }
        Err(e @ (NetError::NoConnections | NetError::Io(_))) => Err(Problem::new(
            Reason::DnsTimeout,
            format!("the nameserver could not be reached: {e}"),
        )),
        Err(e) => Err(Problem::new(
            Reason::DnsRcodeMismatch,
            format!("the query failed: {e}"),
        )),
    }
}

fn timed_out(c: &DnsCheck, waited: Duration) -> Problem {
    match c.nameserver {
        Some(ns) => Problem::new(
            Reason::DnsTimeout,
            format!("nameserver {ns} did not answer within {}", ms(waited)),
        ),
        None => Problem::new(
            Reason::ResolverUnavailable,
            format!(
                "the system resolver did not answer within {}; the prober cannot tell whether {} is fine",
                ms(waited),
                c.query
            ),
        ),
    }
}

fn record_type(t: DnsType) -> RecordType {
    match t {
        DnsType::A => RecordType::A,
        DnsType::Aaaa => RecordType::AAAA,
        DnsType::Cname => RecordType::CNAME,
        DnsType::Txt => RecordType::TXT,
        DnsType::Mx => RecordType::MX,
        DnsType::Ns => RecordType::NS,
    }
}

fn expected_rcode(r: Rcode) -> ResponseCode {
    match r {
        Rcode::NoError => ResponseCode::NoError,
        Rcode::NxDomain => ResponseCode::NXDomain,
        Rcode::ServFail => ResponseCode::ServFail,
        Rcode::Refused => ResponseCode::Refused,
    }
}

/// The name operators know a response code by.
fn mnemonic(r: ResponseCode) -> String {
    match r {
        ResponseCode::NoError => "NOERROR".into(),
        ResponseCode::NXDomain => "NXDOMAIN".into(),
        ResponseCode::ServFail => "SERVFAIL".into(),
        ResponseCode::Refused => "REFUSED".into(),
        ResponseCode::FormErr => "FORMERR".into(),
        ResponseCode::NotImp => "NOTIMP".into(),
        other => format!("rcode {}", u16::from(other)),
    }
}

/// Compare what the server said with what the check expects.
fn judge(c: &DnsCheck, a: &Answer) -> Result<(), Problem> {
    let e = &c.expect;
    let q = format!("{} {}", c.query, c.record_type.name());
    if a.rcode != expected_rcode(e.rcode) {
        let reason = match a.rcode {
            ResponseCode::NXDomain => Reason::DnsNxdomain,
            ResponseCode::ServFail => Reason::DnsServfail,
            ResponseCode::Refused => Reason::DnsRefused,
            _ => Reason::DnsRcodeMismatch,
        };
        let msg = format!(
            "{q}: the server answered {}, expected {}",
            mnemonic(a.rcode),
            mnemonic(expected_rcode(e.rcode))
        );
        return Err(Problem::new(reason, msg));
    }
    let shown = || format!("[{}]", a.records.join(", "));
    if a.records.len() < e.min_answers {
        let reason = if a.records.is_empty() {
            Reason::DnsNoAnswer
        } else {
            Reason::DnsAnswerMismatch
        };
        let msg = format!(
            "{q}: {} answer(s) {}, expected at least {}",
            a.records.len(),
            shown(),
            e.min_answers
        );
        return Err(Problem::new(reason, msg));
    }
    if let Some(missing) = e.answers_contain.iter().find(|x| !a.records.contains(x)) {
        let msg = format!("{q}: answers {} do not contain {missing}", shown());
        return Err(Problem::new(Reason::DnsAnswerMismatch, msg));
    }
    if let Some(want) = &e.answers_equal {
        let (mut got, mut want) = (a.records.clone(), want.clone());
        got.sort();
        want.sort();
        if got != want {
            let msg = format!("{q}: answers {} are not [{}]", shown(), want.join(", "));
            return Err(Problem::new(Reason::DnsAnswerMismatch, msg));
        }
    }
    if let Some(re) = &e.answers_match
        && let Some(bad) = a.records.iter().find(|x| !re.is_match(x))
    {
        let msg = format!("{q}: answer {bad} does not match {:?}", re.as_str());
        return Err(Problem::new(Reason::DnsAnswerMismatch, msg));
    }
    Ok(())
}
