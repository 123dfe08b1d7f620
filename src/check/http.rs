//! `http` route checks. Each request is made phase by phase — resolve, connect, TLS, send,
//! first byte, body — on its own connection ([`crate::net::http`]), so every phase has a
//! timing and every failure a precise reason. Redirects are followed by hand (at most
//! [`MAX_REDIRECTS`]), so the first `Location` can be checked against `redirect_to`.

use std::time::Duration;

use tokio::time::Instant;

use super::CheckEnv;
use crate::config::check_model::HttpCheck;
use crate::net::Timings;
use crate::net::http::{BODY_LIMIT, Fetch, Response, exchange};
use crate::outcome::NetPhase;
use crate::outcome::{Problem, Reason};

pub const MAX_REDIRECTS: usize = 10;

pub async fn run(
    c: &HttpCheck,
    env: &CheckEnv,
    deadline: Instant,
    timings: &mut Timings,
) -> Result<(), Problem> {
    let started = Instant::now();
    let mut hop = Hop {
        url: c.url.clone(),
        method: c.method.clone(),
        body: c.body.clone(),
        count: 0,
    };
    let mut first_location: Option<String> = None;
    let response = loop {
        // Like browsers and curl, the check's headers (credentials among them) do not follow
        // a redirect to another host.
        let same_origin = hop.url.origin() == c.url.origin();
        let fetch = Fetch {
            url: &hop.url,
            method: &hop.method,
            headers: if same_origin { &c.headers } else { &[] },
            body: hop.body.as_deref(),
            tls_verify: c.tls_verify,
            body_limit: BODY_LIMIT,
        };
        let resp = exchange(&fetch, env, deadline, timings).await?;
        let location = location(&resp);
        if is_redirect(resp.status) && first_location.is_none() {
            first_location = location.map(str::to_string);
        }
        match next_hop(c, &hop, resp.status, location)? {
            Some(next) => hop = next,
            None => break resp,
        }
    };
    let total = started.elapsed();
    timings.push((NetPhase::Total, total));
    let seen = Seen {
        url: hop.url,
        response,
        first_location,
        total,
    };
    judge(c, &seen)
}

/// One request of a chain of redirects.
#[derive(Clone, Debug, PartialEq)]
struct Hop {
    url: url::Url,
    method: http::Method,
    body: Option<String>,
    /// Redirects followed to get here.
    count: usize,
}

/// What the check saw: the final answer, where it came from and how long the chain took.
struct Seen {
    url: url::Url,
    response: Response,
    /// The `Location` of the first redirect, if any.
    first_location: Option<String>,
    total: Duration,
}

fn is_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

fn location(r: &Response) -> Option<&str> {
    r.headers
        .get(http::header::LOCATION)
        .and_then(|v| v.to_str().ok())
}

/// The request a redirect leads to; None when the chain ends at this answer.
fn next_hop(
    c: &HttpCheck,
    hop: &Hop,
    status: u16,
    location: Option<&str>,
) -> Result<Option<Hop>, Problem> {
    let Some(loc) = location.filter(|_| c.follow_redirects && is_redirect(status)) else {
        return Ok(None);
    };
    if hop.count >= MAX_REDIRECTS {
        return Err(Problem::new(
            Reason::RedirectMismatch,
            format!("more than {MAX_REDIRECTS} redirects from {}", c.url),
        ));
    }
    let url = hop.url.join(loc).map_err(|e| {
        Problem::new(
            Reason::RedirectMismatch,
            format!("{} redirects to an invalid location {loc:?}: {e}", hop.url),
        )
    })?;
    // Only http(s) is spoken here: an ftp:, file:, javascript: or data: Location is not a
    // route the check can follow, and requesting it as plain HTTP would measure something else.
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Problem::new(
            Reason::RedirectMismatch,
            format!(
                "{} redirects to {loc:?}, which is not an http(s) URL",
                hop.url
            ),
        ));
    }
    let mut next = Hop {
        url,
        count: hop.count + 1,
        ..hop.clone()
    };
    // Browsers turn these into GETs without a body; a HEAD stays a HEAD (RFC 9110 §15.4.4).
    if status == 303 || (matches!(status, 301 | 302) && hop.method == http::Method::POST) {
        if hop.method != http::Method::HEAD {
            next.method = http::Method::GET;
        }
        next.body = None;
    }
    Ok(Some(next))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Compare what the check saw with what it expects: the answer first, then the time the
/// whole chain took.
fn judge(c: &HttpCheck, seen: &Seen) -> Result<(), Problem> {
    judge_response(c, &seen.url, &seen.response, seen.first_location.as_deref())?;
    match c.max_latency {
        Some(max) if seen.total > max => Err(Problem::new(
            Reason::LatencyExceeded,
            format!(
                "{} {} took {:.0} ms, more than max_latency {:.0} ms",
                c.method,
                seen.url,
                ms(seen.total),
                ms(max)
            ),
        )),
        _ => Ok(()),
    }
}

/// Compare the final response with what the check expects.
fn judge_response(
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::check_model::StatusRange;
    use regex::Regex;

    fn check(method: http::Method, follow: bool) -> HttpCheck {
        HttpCheck {
            url: "http://app.example.test/login".parse().unwrap(),
            method,
            headers: Vec::new(),
            body: Some("user=a".into()),
            status: vec![StatusRange::parse("2xx").unwrap()],
            follow_redirects: follow,
            redirect_to: None,
            body_contains: None,
            body_matches: None,
            header_matches: Vec::new(),
            max_latency: None,
            tls_verify: true,
        }
    }

    fn first(c: &HttpCheck) -> Hop {
        Hop {
            url: c.url.clone(),
            method: c.method.clone(),
            body: c.body.clone(),
            count: 0,
        }
    }

    fn seen(status: u16, headers: &[(&str, &str)], body: &str) -> Seen {
        let mut map = http::HeaderMap::new();
        for (k, v) in headers {
            map.insert(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                http::HeaderValue::from_str(v).unwrap(),
            );
        }
        Seen {
            url: "http://app.example.test/login".parse().unwrap(),
            response: Response {
                status,
                headers: map,
                body: bytes::Bytes::from(body.to_string()),
            },
            first_location: None,
            total: Duration::from_millis(10),
        }
    }

    fn reason(r: Result<(), Problem>) -> Option<Reason> {
        r.err().map(|p| p.reason)
    }

    #[test]
    fn redirects_are_followed_relative_to_the_current_url() {
        let c = check(http::Method::GET, true);
        let next = next_hop(&c, &first(&c), 302, Some("/home?x=1"))
            .unwrap()
            .unwrap();
        assert_eq!(next.url.as_str(), "http://app.example.test/home?x=1");
        assert_eq!(next.count, 1);
        // Not a redirect, no Location, or not following: the chain ends here.
        assert_eq!(next_hop(&c, &first(&c), 200, Some("/x")).unwrap(), None);
        assert_eq!(next_hop(&c, &first(&c), 301, None).unwrap(), None);
        let stay = check(http::Method::GET, false);
        assert_eq!(
            next_hop(&stay, &first(&stay), 301, Some("/x")).unwrap(),
            None
        );
    }

    #[test]
    fn the_method_after_a_redirect_is_the_browsers() {
        let post = check(http::Method::POST, true);
        for status in [301, 302, 303] {
            let next = next_hop(&post, &first(&post), status, Some("/x"))
                .unwrap()
                .unwrap();
            assert_eq!(
                (next.method, next.body),
                (http::Method::GET, None),
                "{status}"
            );
        }
        for status in [307, 308] {
            let next = next_hop(&post, &first(&post), status, Some("/x"))
                .unwrap()
                .unwrap();
            assert_eq!(next.method, http::Method::POST, "{status}");
            assert_eq!(next.body.as_deref(), Some("user=a"));
        }
        let put = check(http::Method::PUT, true);
        let next = next_hop(&put, &first(&put), 302, Some("/x"))
            .unwrap()
            .unwrap();
        assert_eq!(next.method, http::Method::PUT);
        let next = next_hop(&put, &first(&put), 303, Some("/x"))
            .unwrap()
            .unwrap();
        assert_eq!(next.method, http::Method::GET);
    }

    #[test]
    fn head_stays_head_after_every_redirect_status() {
        // RFC 9110 §15.4.4: a 303 turns the method into GET, except HEAD.
        let mut head = check(http::Method::HEAD, true);
        head.body = None;
        for status in [301, 302, 303, 307, 308] {
            let next = next_hop(&head, &first(&head), status, Some("/x"))
                .unwrap()
                .unwrap();
            assert_eq!(
                (next.method, next.body),
                (http::Method::HEAD, None),
                "{status}"
            );
        }
    }

    #[test]
    fn a_redirect_to_a_non_http_scheme_is_a_redirect_mismatch_naming_the_location() {
        let c = check(http::Method::GET, true);
        for loc in [
            "ftp://files.example.test/x",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "data:text/html,hi",
        ] {
            for status in [301, 302, 303, 307, 308] {
                let p = next_hop(&c, &first(&c), status, Some(loc)).unwrap_err();
                assert_eq!(p.reason, Reason::RedirectMismatch, "{loc} {status}");
                assert!(p.message.contains(loc), "{loc}: {}", p.message);
            }
        }
        // Another host or https is still followed.
        for loc in ["https://app.example.test/x", "http://other.example.test/x"] {
            let next = next_hop(&c, &first(&c), 302, Some(loc)).unwrap().unwrap();
            assert_eq!(next.url.as_str(), loc);
        }
        // Not following redirects: nothing is requested, the response is the final one.
        let stay = check(http::Method::GET, false);
        assert_eq!(
            next_hop(&stay, &first(&stay), 302, Some("ftp://x.test/")).unwrap(),
            None
        );
    }

    #[test]
    fn too_many_redirects_and_an_invalid_location_are_redirect_mismatches() {
        let c = check(http::Method::GET, true);
        let tenth = Hop {
            count: MAX_REDIRECTS,
            ..first(&c)
        };
        let p = next_hop(&c, &tenth, 302, Some("/again")).unwrap_err();
        assert_eq!(p.reason, Reason::RedirectMismatch);
        assert_eq!(
            p.message,
            "more than 10 redirects from http://app.example.test/login"
        );
        let ninth = Hop {
            count: MAX_REDIRECTS - 1,
            ..first(&c)
        };
        assert!(next_hop(&c, &ninth, 302, Some("/again")).unwrap().is_some());
        let p = next_hop(&c, &first(&c), 302, Some("http://[::1")).unwrap_err();
        assert_eq!(p.reason, Reason::RedirectMismatch);
    }

    #[test]
    fn status_redirect_headers_body_and_latency_in_that_order() {
        let mut c = check(http::Method::GET, true);
        c.redirect_to = Some(Regex::new("^/home").unwrap());
        c.header_matches = vec![(
            http::header::CONTENT_TYPE,
            Regex::new("^text/html").unwrap(),
        )];
        c.body_contains = Some("Welcome".into());
        c.body_matches = Some(Regex::new(r"v\d+").unwrap());
        c.max_latency = Some(Duration::from_millis(5));
        let html = [("content-type", "text/html; charset=utf-8")];
        let mut ok = seen(200, &html, "Welcome v2");
        ok.first_location = Some("/home".into());
        ok.total = Duration::from_millis(5);
        assert_eq!(reason(judge(&c, &ok)), None);
        let p = judge(&c, &seen(500, &html, "Welcome v2")).unwrap_err();
        assert_eq!(p.reason, Reason::StatusMismatch);
        assert_eq!(
            p.message,
            "GET http://app.example.test/login answered 500, expected 2xx"
        );
        let not_redirected = seen(200, &html, "Welcome v2");
        assert_eq!(
            reason(judge(&c, &not_redirected)),
            Some(Reason::RedirectMismatch)
        );
        let mut elsewhere = seen(200, &html, "Welcome v2");
        elsewhere.first_location = Some("/login?error".into());
        assert_eq!(
            reason(judge(&c, &elsewhere)),
            Some(Reason::RedirectMismatch)
        );
        let mut json = seen(200, &[("content-type", "application/json")], "Welcome v2");
        json.first_location = Some("/home".into());
        assert_eq!(reason(judge(&c, &json)), Some(Reason::HeaderMismatch));
        let mut bare = seen(200, &[], "Welcome v2");
        bare.first_location = Some("/home".into());
        assert_eq!(reason(judge(&c, &bare)), Some(Reason::HeaderMismatch));
        for body in ["Hello v2", "Welcome"] {
            let mut b = seen(200, &html, body);
            b.first_location = Some("/home".into());
            assert_eq!(reason(judge(&c, &b)), Some(Reason::BodyMismatch), "{body}");
        }
        let mut slow = seen(200, &html, "Welcome v2");
        slow.first_location = Some("/home".into());
        slow.total = Duration::from_millis(6);
        assert_eq!(reason(judge(&c, &slow)), Some(Reason::LatencyExceeded));
    }
}
