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

/// What the server said, and how long it took to say it.
struct Answer {
    rcode: ResponseCode,
    /// Normalised text of each answer of the asked type.
    records: Vec<String>,
    took: Duration,
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
    judge(c, &Answer { took, ..answer })
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
    let wanted = record_type(c.record_type);
    match resolver.lookup(name.as_str(), wanted).await {
        Ok(lookup) => Ok(Answer {
            // Not always NOERROR: a dangling CNAME comes back as NXDOMAIN with a record.
            rcode: lookup.message().metadata.response_code,
            records: lookup
                .answers()
                .iter()
                .filter(|r| r.record_type() == wanted)
                .map(|r| normalise_answer(c.record_type, &r.data.to_string()))
                .collect(),
            took: Duration::ZERO,
        }),
        Err(e) => failed(c, e, resolver.options().timeout),
    }
}

/// What a lookup error says: an answer without records (the server said NXDOMAIN,
/// SERVFAIL…), or a problem when no answer can be judged. `waited` is how long the resolver
/// was given.
fn failed(c: &DnsCheck, e: NetError, waited: Duration) -> Result<Answer, Problem> {
    let system = c.nameserver.is_none();
    let no_records = |rcode| {
        Ok(Answer {
            rcode,
            records: Vec::new(),
            took: Duration::ZERO,
        })
    };
    match e {
        NetError::Dns(DnsError::NoRecordsFound(none)) => no_records(none.response_code),
        // The system resolver's own error codes (its upstream down, its access list) do not
        // tell whether the record is fine.
        NetError::Dns(DnsError::ResponseCode(rcode)) if system => Err(Problem::new(
            Reason::ResolverUnavailable,
            format!(
                "the system resolver answered {}; the prober cannot tell whether {} is fine",
                mnemonic(rcode),
                c.query
            ),
        )),
        NetError::Dns(DnsError::ResponseCode(rcode)) => no_records(rcode),
        NetError::Timeout => Err(timed_out(c, waited)),
        e if system => Err(Problem::new(
            Reason::ResolverUnavailable,
            format!("the system resolver could not be asked: {e}"),
        )),
        NetError::Io(io) if crate::net::classify_io(&io) == Reason::ProberNetwork => {
            Err(Problem::new(
                Reason::ProberNetwork,
                format!(
                    "the prober cannot reach nameserver {}: {io}",
                    c.nameserver.map(|n| n.to_string()).unwrap_or_default()
                ),
            ))
        }
        e @ (NetError::NoConnections | NetError::Io(_)) => Err(Problem::new(
            Reason::DnsTimeout,
            format!("the nameserver could not be reached: {e}"),
        )),
        e => Err(Problem::new(
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

/// Compare what the server said with what the check expects: the answer first, then how
/// long it took (a wrong answer is reported as wrong, however fast).
fn judge(c: &DnsCheck, a: &Answer) -> Result<(), Problem> {
    judge_answer(c, a)?;
    match c.expect.max_latency {
        Some(max) if a.took > max => Err(Problem::new(
            Reason::LatencyExceeded,
            format!(
                "answered in {}, more than max_latency {}",
                ms(a.took),
                ms(max)
            ),
        )),
        _ => Ok(()),
    }
}

fn judge_answer(c: &DnsCheck, a: &Answer) -> Result<(), Problem> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::check_model::DnsExpect;
    use hickory_resolver::net::NoRecords;
    use hickory_resolver::proto::op::Query;
    use regex::Regex;

    fn check(nameserver: Option<&str>, expect: impl FnOnce(&mut DnsExpect)) -> DnsCheck {
        let mut e = DnsExpect::default();
        expect(&mut e);
        DnsCheck {
            query: "app.example.test".into(),
            record_type: DnsType::A,
            nameserver: nameserver.map(|n| n.parse().unwrap()),
            expect: e,
        }
    }

    fn answer(rcode: ResponseCode, records: &[&str]) -> Answer {
        Answer {
            rcode,
            records: records.iter().map(|r| r.to_string()).collect(),
            took: Duration::from_millis(3),
        }
    }

    fn reason(r: Result<(), Problem>) -> Option<Reason> {
        r.err().map(|p| p.reason)
    }

    const NS: Option<&str> = Some("127.0.0.1:5353");

    #[test]
    fn expected_records_pass_in_any_order() {
        let c = check(NS, |e| {
            e.answers_contain = vec!["192.0.2.2".into()];
            e.answers_equal = Some(vec!["192.0.2.2".into(), "192.0.2.1".into()]);
            e.answers_match = Some(Regex::new(r"^192\.0\.2\.\d+$").unwrap());
        });
        let a = answer(ResponseCode::NoError, &["192.0.2.1", "192.0.2.2"]);
        assert_eq!(reason(judge(&c, &a)), None);
    }

    #[test]
    fn a_missing_or_extra_record_is_an_answer_mismatch() {
        let a = answer(ResponseCode::NoError, &["192.0.2.1", "192.0.2.9"]);
        let contain = check(NS, |e| e.answers_contain = vec!["192.0.2.2".into()]);
        let p = judge(&contain, &a).unwrap_err();
        assert_eq!(p.reason, Reason::DnsAnswerMismatch);
        assert!(p.message.contains("do not contain 192.0.2.2"), "{p}");
        let equal = check(NS, |e| e.answers_equal = Some(vec!["192.0.2.1".into()]));
        assert_eq!(reason(judge(&equal, &a)), Some(Reason::DnsAnswerMismatch));
        let pattern = check(NS, |e| {
            e.answers_match = Some(Regex::new(r"^192\.0\.2\.1$").unwrap())
        });
        let p = judge(&pattern, &a).unwrap_err();
        assert_eq!(p.reason, Reason::DnsAnswerMismatch);
        assert!(p.message.contains("answer 192.0.2.9 does not match"), "{p}");
    }

    #[test]
    fn no_record_is_no_answer_and_too_few_is_a_mismatch() {
        let c = check(NS, |e| e.min_answers = 2);
        let none = answer(ResponseCode::NoError, &[]);
        assert_eq!(reason(judge(&c, &none)), Some(Reason::DnsNoAnswer));
        let one = answer(ResponseCode::NoError, &["192.0.2.1"]);
        assert_eq!(reason(judge(&c, &one)), Some(Reason::DnsAnswerMismatch));
    }

    #[test]
    fn each_unexpected_rcode_has_its_own_reason() {
        let c = check(NS, |_| {});
        for (rcode, want) in [
            (ResponseCode::NXDomain, Reason::DnsNxdomain),
            (ResponseCode::ServFail, Reason::DnsServfail),
            (ResponseCode::Refused, Reason::DnsRefused),
            (ResponseCode::NotImp, Reason::DnsRcodeMismatch),
        ] {
            let p = judge(&c, &answer(rcode, &[])).unwrap_err();
            assert_eq!(p.reason, want, "{rcode:?}");
            assert!(p.message.ends_with("expected NOERROR"), "{p}");
        }
        // Expecting a name to be gone: NXDOMAIN passes, an answer does not.
        let gone = check(NS, |e| {
            e.rcode = Rcode::NxDomain;
            e.min_answers = 0;
        });
        assert_eq!(
            reason(judge(&gone, &answer(ResponseCode::NXDomain, &[]))),
            None
        );
        let there = answer(ResponseCode::NoError, &["192.0.2.1"]);
        assert_eq!(reason(judge(&gone, &there)), Some(Reason::DnsRcodeMismatch));
    }

    #[test]
    fn latency_is_judged_after_the_answer() {
        let c = check(NS, |e| {
            e.answers_contain = vec!["192.0.2.1".into()];
            e.max_latency = Some(Duration::from_millis(50));
        });
        let mut slow = answer(ResponseCode::NoError, &["192.0.2.1"]);
        slow.took = Duration::from_millis(51);
        assert_eq!(reason(judge(&c, &slow)), Some(Reason::LatencyExceeded));
        slow.took = Duration::from_millis(50);
        assert_eq!(reason(judge(&c, &slow)), None);
        // Slow and wrong: the wrong answer is what is reported.
        let mut wrong = answer(ResponseCode::NoError, &["192.0.2.7"]);
        wrong.took = Duration::from_secs(1);
        assert_eq!(reason(judge(&c, &wrong)), Some(Reason::DnsAnswerMismatch));
    }

    fn no_records(rcode: ResponseCode) -> NetError {
        let q = Query::query("app.example.test.".parse().unwrap(), RecordType::A);
        NetError::Dns(DnsError::NoRecordsFound(NoRecords::new(q, rcode)))
    }

    /// The verdict on a lookup error, as `run` reaches it.
    fn verdict(c: &DnsCheck, e: NetError) -> Reason {
        match failed(c, e, Duration::from_secs(1)) {
            Ok(a) => judge(c, &a).unwrap_err().reason,
            Err(p) => p.reason,
        }
    }

    #[test]
    fn nxdomain_is_the_targets_from_any_resolver() {
        for ns in [NS, None] {
            let c = check(ns, |_| {});
            assert_eq!(
                verdict(&c, no_records(ResponseCode::NXDomain)),
                Reason::DnsNxdomain
            );
            let empty = verdict(&c, no_records(ResponseCode::NoError));
            assert_eq!(empty, Reason::DnsNoAnswer);
        }
    }

    #[test]
    fn a_server_failure_is_the_targets_only_from_the_nameserver_under_test() {
        let servfail = || NetError::Dns(DnsError::ResponseCode(ResponseCode::ServFail));
        let refused = || NetError::Dns(DnsError::ResponseCode(ResponseCode::Refused));
        let under_test = check(NS, |_| {});
        assert_eq!(verdict(&under_test, servfail()), Reason::DnsServfail);
        assert_eq!(verdict(&under_test, refused()), Reason::DnsRefused);
        let system = check(None, |_| {});
        assert_eq!(verdict(&system, servfail()), Reason::ResolverUnavailable);
        assert_eq!(verdict(&system, refused()), Reason::ResolverUnavailable);
        assert_eq!(
            Reason::ResolverUnavailable.class(),
            crate::outcome::Outcome::Error
        );
    }

    #[test]
    fn no_answer_in_time_is_whose_resolver_it_was() {
        let under_test = check(NS, |_| {});
        assert_eq!(verdict(&under_test, NetError::Timeout), Reason::DnsTimeout);
        assert_eq!(
            verdict(&under_test, NetError::NoConnections),
            Reason::DnsTimeout
        );
        let system = check(None, |_| {});
        assert_eq!(
            verdict(&system, NetError::Timeout),
            Reason::ResolverUnavailable
        );
        assert_eq!(
            verdict(&system, NetError::NoConnections),
            Reason::ResolverUnavailable
        );
    }

    #[test]
    fn the_probers_own_network_is_an_error() {
        let io = |errno| NetError::Io(std::io::Error::from_raw_os_error(errno).into());
        let c = check(NS, |_| {});
        assert_eq!(verdict(&c, io(libc::ENETUNREACH)), Reason::ProberNetwork);
        assert_eq!(verdict(&c, io(libc::ECONNRESET)), Reason::DnsTimeout);
    }
}
