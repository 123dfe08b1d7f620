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
    timings.push((NetPhase::Total, total));
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
