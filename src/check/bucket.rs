//! `bucket` checks against S3-compatible object storage.
//!
//! Without a key: the bucket is listed (ListObjectsV2, max-keys=1); if listing is denied,
//! a HEAD on the bucket still shows it exists and answers. With a key: a one-byte ranged GET
//! reads the object's size and ETag (a GET, not a HEAD, because a HEAD has no body to carry
//! the error code that tells NoSuchBucket from NoSuchKey); with `sha256`, the whole object
//! is read and hashed. Requests are anonymous, or SigV4-signed with the given credentials.

use sha2::{Digest, Sha256};
use tokio::time::Instant;

use super::CheckEnv;
use super::sigv4::{self, EMPTY_SHA256, uri_encode};
use crate::config::check_model::BucketCheck;
use crate::net::Timings;
use crate::net::http::{Fetch, Response, exchange};
use crate::outcome::{Problem, Reason};

/// Objects are hashed up to this size for `sha256`; a larger one is a probe that cannot work.
pub const HASH_LIMIT: usize = 64 << 20;
/// Enough of a response to read an S3 error document.
const ERROR_LIMIT: usize = 64 << 10;

pub async fn run(
    c: &BucketCheck,
    env: &CheckEnv,
    deadline: Instant,
    timings: &mut Timings,
) -> Result<(), Problem> {
    match &c.key {
        None => check_bucket(c, env, deadline, timings).await,
        Some(key) => check_object(c, key, env, deadline, timings).await,
    }
}

async fn check_bucket(
    c: &BucketCheck,
    env: &CheckEnv,
    deadline: Instant,
    timings: &mut Timings,
) -> Result<(), Problem> {
    let query = [("list-type", "2"), ("max-keys", "1")];
    let list = send(c, "GET", None, &query, &[], env, deadline, timings).await?;
    match judge_listing(c, &list) {
        Listing::Judged(verdict) => verdict,
        Listing::AskHead => {
            let head = send(c, "HEAD", None, &[], &[], env, deadline, timings).await?;
            judge_head(c, &head)
        }
    }
}

/// What the answer to a listing tells.
#[derive(Debug)]
enum Listing {
    Judged(Result<(), Problem>),
    /// Listing may be denied to a reader that can still use the bucket: only a HEAD of the
    /// bucket can tell.
    AskHead,
}

fn judge_listing(c: &BucketCheck, list: &Response) -> Listing {
    match list.status {
        200..=299 if is_listing(&list.body) => Listing::Judged(Ok(())),
        200..=299 => Listing::Judged(Err(not_a_bucket(c, list))),
        403 if matches!(
            error_code(&list.body).as_deref(),
            Some("RequestTimeTooSkewed" | "AuthorizationHeaderMalformed")
        ) =>
        {
            Listing::Judged(Err(judge_error(c, None, list)))
        }
        403 => Listing::AskHead,
        _ => Listing::Judged(Err(judge_error(c, None, list))),
    }
}

/// A ListObjectsV2 answer. A 2xx without one is not S3 answering for a bucket: a catch-all
/// web server or wildcard name in front of the endpoint answers every path with 200.
fn is_listing(body: &[u8]) -> bool {
    String::from_utf8_lossy(body).contains("<ListBucketResult")
}

fn not_a_bucket(c: &BucketCheck, r: &Response) -> Problem {
    let kind = r
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("no content type");
    Problem::new(
        Reason::BucketNotFound,
        format!(
            "bucket {} at {} answered {} without a bucket listing ({kind}): no bucket answers there",
            c.bucket, c.endpoint, r.status
        ),
    )
}

/// A HEAD has no body, so no error code: only its status tells.
fn judge_head(c: &BucketCheck, head: &Response) -> Result<(), Problem> {
    match head.status {
        200..=299 => Ok(()),
        404 => Err(not_found(c, None)),
        403 => Err(denied(c, None)),
        other => Err(unexpected(c, None, other, head)),
    }
}

async fn check_object(
    c: &BucketCheck,
    key: &str,
    env: &CheckEnv,
    deadline: Instant,
    timings: &mut Timings,
) -> Result<(), Problem> {
    let whole = c.sha256.is_some();
    let range: &[(&str, &str)] = if whole {
        &[]
    } else {
        &[("range", "bytes=0-0")]
    };
    let mut r = send(c, "GET", Some(key), &[], range, env, deadline, timings).await?;
    if is_empty_object(&r) {
        r = send(c, "GET", Some(key), &[], &[], env, deadline, timings).await?;
    }
    judge_object(c, key, &r)
}

/// An empty object has no byte 0, so a ranged read of it is refused: it is read whole.
fn is_empty_object(r: &Response) -> bool {
    r.status == 416 && error_code(&r.body).as_deref() == Some("InvalidRange")
}

/// Judge the read of an object: its status, then `min_size`, `etag` and `sha256` in order.
fn judge_object(c: &BucketCheck, key: &str, r: &Response) -> Result<(), Problem> {
    if !(200..=299).contains(&r.status) {
        return Err(judge_error(c, Some(key), r));
    }
    let what = format!("s3://{}/{key}", c.bucket);
    let size = object_size(r);
    judge_size(c, &what, size)?;
    judge_etag(c, &what, r)?;
    judge_sha256(c, &what, size, r)
}

fn judge_size(c: &BucketCheck, what: &str, size: Option<u64>) -> Result<(), Problem> {
    let Some(min) = c.min_size else {
        return Ok(());
    };
    match size {
        Some(size) if size < min => {
            let msg = format!("{what} is {size} bytes, less than min_size {min}");
            Err(Problem::new(Reason::ObjectMismatch, msg))
        }
        Some(_) => Ok(()),
        None => {
            let msg = format!("{what}: no size reported, so min_size {min} cannot be checked");
            Err(Problem::new(Reason::ObjectMismatch, msg))
        }
    }
}

fn judge_etag(c: &BucketCheck, what: &str, r: &Response) -> Result<(), Problem> {
    let Some(want) = &c.etag else {
        return Ok(());
    };
    let got = r
        .headers
        .get(http::header::ETAG)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        // A weak ETag (W/"…") names the same content.
        .trim_start_matches("W/")
        .trim_matches('"');
    if got != want {
        return Err(Problem::new(
            Reason::ObjectMismatch,
            format!("{what} has ETag {got:?}, expected {want:?}"),
        ));
    }
    Ok(())
}

fn judge_sha256(
    c: &BucketCheck,
    what: &str,
    size: Option<u64>,
    r: &Response,
) -> Result<(), Problem> {
    let Some(want) = &c.sha256 else {
        return Ok(());
    };
    if let Some(size) = size
        && size > HASH_LIMIT as u64
    {
        let msg = format!(
            "{what} is {size} bytes; sha256 is checked on objects up to {HASH_LIMIT} bytes"
        );
        return Err(Problem::new(Reason::ProbeMisconfigured, msg));
    }
    let got = hex::encode(Sha256::digest(&r.body));
    if &got != want {
        let msg = format!(
            "{what} has sha256 {got} ({} bytes read), expected {want}",
            r.body.len()
        );
        return Err(Problem::new(Reason::ObjectMismatch, msg));
    }
    Ok(())
}

/// The object's full size: from `Content-Range: bytes 0-0/SIZE` of a ranged read, else
/// from the `Content-Length` of a whole one. A partial answer's length is only the part
/// sent, so a range of unknown total (`bytes 0-0/*`) reports no size.
fn object_size(r: &Response) -> Option<u64> {
    let header = |h: http::HeaderName| r.headers.get(h).and_then(|v| v.to_str().ok());
    let total = header(http::header::CONTENT_RANGE)
        .and_then(|v| v.rsplit('/').next())
        .and_then(|s| s.trim().parse().ok());
    if r.status == 206 {
        return total;
    }
    total.or_else(|| header(http::header::CONTENT_LENGTH).and_then(|s| s.trim().parse().ok()))
}

/// The S3 error code in an error response's XML body (`<Code>NoSuchKey</Code>`).
fn error_code(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let start = text.find("<Code>")? + "<Code>".len();
    let end = text[start..].find("</Code>")? + start;
    Some(text[start..end].trim().to_string())
}

fn judge_error(c: &BucketCheck, key: Option<&str>, r: &Response) -> Problem {
    let code = error_code(&r.body);
    match code.as_deref() {
        // The prober's clock, not the bucket.
        Some("RequestTimeTooSkewed") => {
            let msg = format!(
                "{} refused the signature: the prober's clock is off",
                target(c, key)
            );
            return Problem::new(Reason::ClockSkew, msg);
        }
        // The probe file names the wrong region or endpoint for this bucket.
        Some(
            code @ ("AuthorizationHeaderMalformed"
            | "PermanentRedirect"
            | "IllegalLocationConstraintException"),
        ) => {
            let msg = format!(
                "{} answered {code}: check the endpoint and region (region is {})",
                target(c, key),
                c.region
            );
            return Problem::new(Reason::ProbeMisconfigured, msg);
        }
        _ => {}
    }
    match (r.status, code.as_deref()) {
        (_, Some("NoSuchBucket")) => not_found(c, None),
        (_, Some("NoSuchKey")) => not_found(c, key),
        (403, _)
        | (
            _,
            Some(
                "AccessDenied"
                | "AllAccessDisabled"
                | "InvalidAccessKeyId"
                | "SignatureDoesNotMatch",
            ),
        ) => denied(c, key),
        (404, None) => not_found(c, key),
        (status, _) => unexpected(c, key, status, r),
    }
}

fn target(c: &BucketCheck, key: Option<&str>) -> String {
    match key {
        Some(k) => format!("s3://{}/{k}", c.bucket),
        None => format!("bucket {}", c.bucket),
    }
}

fn not_found(c: &BucketCheck, key: Option<&str>) -> Problem {
    match key {
        Some(k) => Problem::new(
            Reason::ObjectNotFound,
            format!("s3://{}/{k} does not exist (NoSuchKey)", c.bucket),
        ),
        None => Problem::new(
            Reason::BucketNotFound,
            format!(
                "bucket {} does not exist (NoSuchBucket) at {}",
                c.bucket, c.endpoint
            ),
        ),
    }
}

fn denied(c: &BucketCheck, key: Option<&str>) -> Problem {
    let how = if c.credentials.is_some() {
        "with the given credentials"
    } else {
        "anonymously"
    };
    Problem::new(
        Reason::BucketAccessDenied,
        format!("{} may not be read {how} (403)", target(c, key)),
    )
}

fn unexpected(c: &BucketCheck, key: Option<&str>, status: u16, r: &Response) -> Problem {
    let code = error_code(&r.body)
        .map(|c| format!(" {c}"))
        .unwrap_or_default();
    Problem::new(
        Reason::StatusMismatch,
        format!("{} answered {status}{code}", target(c, key)),
    )
}

/// One request to the bucket, signed when there are credentials.
#[allow(clippy::too_many_arguments)]
async fn send(
    c: &BucketCheck,
    method: &str,
    key: Option<&str>,
    query: &[(&str, &str)],
    extra: &[(&str, &str)],
    env: &CheckEnv,
    deadline: Instant,
    timings: &mut Timings,
) -> Result<Response, Problem> {
    let (url, path) = address(c, key, query)?;
    let host = match url.port() {
        Some(p) => format!("{}:{p}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_string(),
    };
    let mut signed: Vec<(String, String)> = vec![("host".into(), host)];
    for (k, v) in extra {
        signed.push((k.to_string(), v.to_string()));
    }
    if let Some(creds) = &c.credentials {
        let date = sigv4::amz_date(std::time::SystemTime::now());
        signed.push(("x-amz-date".into(), date.clone()));
        signed.push(("x-amz-content-sha256".into(), EMPTY_SHA256.into()));
        if let Some(token) = &creds.session_token {
            signed.push(("x-amz-security-token".into(), token.clone()));
        }
        let q: Vec<(String, String)> = query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let req = sigv4::Request {
            method,
            path: &path,
            query: &q,
            headers: &signed,
            payload_hash: EMPTY_SHA256,
        };
        let auth = sigv4::authorization(&req, creds, &c.region, "s3", &date);
        signed.push(("authorization".into(), auth));
    }
    let headers: Vec<(http::HeaderName, http::HeaderValue)> = signed
        .into_iter()
        .filter(|(k, _)| k != "host")
        .filter_map(|(k, v)| {
            Some((
                http::HeaderName::from_bytes(k.as_bytes()).ok()?,
                http::HeaderValue::from_str(&v).ok()?,
            ))
        })
        .collect();
    let method = http::Method::from_bytes(method.as_bytes()).unwrap_or(http::Method::GET);
    let fetch = Fetch {
        url: &url,
        method: &method,
        headers: &headers,
        body: None,
        tls_verify: c.tls_verify,
        // Only a sha256 needs the object; anything else reads an error document at most.
        body_limit: if c.sha256.is_some() {
            HASH_LIMIT
        } else {
            ERROR_LIMIT
        },
    };
    exchange(&fetch, env, deadline, timings).await
}

/// The request URL, and its path as signed (each segment encoded once).
fn address(
    c: &BucketCheck,
    key: Option<&str>,
    query: &[(&str, &str)],
) -> Result<(url::Url, String), Problem> {
    let base = c.endpoint.path().trim_end_matches('/');
    let key_path = key
        .map(|k| format!("/{}", uri_encode(k, false)))
        .unwrap_or_default();
    let (host_url, path) = if c.path_style {
        (
            c.endpoint.clone(),
            format!("{base}/{}{key_path}", uri_encode(&c.bucket, true)),
        )
    } else {
        let mut u = c.endpoint.clone();
        let host = format!("{}.{}", c.bucket, u.host_str().unwrap_or_default());
        u.set_host(Some(&host)).map_err(|e| {
            Problem::new(
                Reason::NameNotResolved,
                format!("cannot address bucket {} as {host}: {e}", c.bucket),
            )
        })?;
        (
            u,
            format!(
                "{base}{}",
                if key_path.is_empty() {
                    "/".to_string()
                } else {
                    key_path
                }
            ),
        )
    };
    let query_string = query
        .iter()
        .map(|(k, v)| format!("{}={}", uri_encode(k, true), uri_encode(v, true)))
        .collect::<Vec<_>>()
        .join("&");
    let mut url = host_url;
    url.set_path(&path);
    url.set_query((!query_string.is_empty()).then_some(query_string.as_str()));
    Ok((url, path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(key: Option<&str>) -> BucketCheck {
        BucketCheck {
            endpoint: "http://127.0.0.1:9000".parse().unwrap(),
            region: "us-east-1".into(),
            bucket: "assets".into(),
            key: key.map(str::to_string),
            path_style: true,
            credentials: None,
            min_size: None,
            etag: None,
            sha256: None,
            tls_verify: true,
        }
    }

    fn response(status: u16, headers: &[(&str, &str)], body: &str) -> Response {
        let mut map = http::HeaderMap::new();
        for (k, v) in headers {
            map.insert(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                http::HeaderValue::from_str(v).unwrap(),
            );
        }
        Response {
            status,
            headers: map,
            body: bytes::Bytes::from(body.to_string()),
        }
    }

    fn s3_error(status: u16, code: &str) -> Response {
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>m</Message></Error>"
        );
        response(status, &[("content-type", "application/xml")], &body)
    }

    const LISTING: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>assets</Name><KeyCount>1</KeyCount><MaxKeys>1</MaxKeys></ListBucketResult>";

    fn listed(r: &Response) -> Option<Reason> {
        match judge_listing(&check(None), r) {
            Listing::Judged(v) => v.err().map(|p| p.reason),
            Listing::AskHead => panic!("asked for a HEAD after {}", r.status),
        }
    }

    fn reason(r: Result<(), Problem>) -> Option<Reason> {
        r.err().map(|p| p.reason)
    }

    #[test]
    fn a_listing_passes_and_error_codes_decide_the_rest() {
        let ok = response(200, &[("content-type", "application/xml")], LISTING);
        assert_eq!(listed(&ok), None);
        assert_eq!(
            listed(&s3_error(404, "NoSuchBucket")),
            Some(Reason::BucketNotFound)
        );
        assert_eq!(
            listed(&s3_error(403, "RequestTimeTooSkewed")),
            Some(Reason::ClockSkew)
        );
        assert_eq!(
            listed(&s3_error(400, "AuthorizationHeaderMalformed")),
            Some(Reason::ProbeMisconfigured)
        );
        assert_eq!(
            listed(&s3_error(301, "PermanentRedirect")),
            Some(Reason::ProbeMisconfigured)
        );
        assert_eq!(
            listed(&s3_error(400, "InvalidAccessKeyId")),
            Some(Reason::BucketAccessDenied)
        );
        assert_eq!(
            listed(&response(404, &[], "")),
            Some(Reason::BucketNotFound)
        );
        let p = match judge_listing(&check(None), &s3_error(500, "InternalError")) {
            Listing::Judged(Err(p)) => p,
            other => panic!("{other:?}"),
        };
        assert_eq!(p.reason, Reason::StatusMismatch);
        assert_eq!(p.message, "bucket assets answered 500 InternalError");
    }

    #[test]
    fn a_catch_all_server_answering_200_is_not_a_bucket() {
        // A wildcard DNS name or a web server in front of the endpoint answers every path.
        let page = response(
            200,
            &[("content-type", "text/html")],
            "<html>Welcome</html>",
        );
        let p = match judge_listing(&check(None), &page) {
            Listing::Judged(Err(p)) => p,
            other => panic!("{other:?}"),
        };
        assert_eq!(p.reason, Reason::BucketNotFound);
        assert_eq!(
            p.message,
            "bucket assets at http://127.0.0.1:9000/ answered 200 without a bucket listing (text/html): no bucket answers there"
        );
        let empty = response(204, &[], "");
        assert_eq!(listed(&empty), Some(Reason::BucketNotFound));
    }

    #[test]
    fn a_denied_listing_asks_a_head_which_has_only_its_status() {
        let denied = s3_error(403, "AccessDenied");
        assert!(matches!(
            judge_listing(&check(None), &denied),
            Listing::AskHead
        ));
        let c = check(None);
        assert_eq!(reason(judge_head(&c, &response(200, &[], ""))), None);
        assert_eq!(
            reason(judge_head(&c, &response(404, &[], ""))),
            Some(Reason::BucketNotFound)
        );
        let p = judge_head(&c, &response(403, &[], "")).unwrap_err();
        assert_eq!(p.reason, Reason::BucketAccessDenied);
        assert_eq!(p.message, "bucket assets may not be read anonymously (403)");
        assert_eq!(
            reason(judge_head(&c, &response(503, &[], ""))),
            Some(Reason::StatusMismatch)
        );
    }

    #[test]
    fn a_missing_key_is_not_a_missing_bucket() {
        let c = check(Some("app.css"));
        let key = judge_object(&c, "app.css", &s3_error(404, "NoSuchKey")).unwrap_err();
        assert_eq!(key.reason, Reason::ObjectNotFound);
        assert_eq!(
            key.message,
            "s3://assets/app.css does not exist (NoSuchKey)"
        );
        let bucket = judge_object(&c, "app.css", &s3_error(404, "NoSuchBucket"));
        assert_eq!(reason(bucket), Some(Reason::BucketNotFound));
        let bare = judge_object(&c, "app.css", &response(404, &[], ""));
        assert_eq!(reason(bare), Some(Reason::ObjectNotFound));
        let private = judge_object(&c, "app.css", &s3_error(403, "AccessDenied"));
        assert_eq!(reason(private), Some(Reason::BucketAccessDenied));
    }

    #[test]
    fn only_an_invalid_range_is_read_again_whole() {
        assert!(is_empty_object(&s3_error(416, "InvalidRange")));
        assert!(!is_empty_object(&response(416, &[], "")));
        assert!(!is_empty_object(&s3_error(404, "NoSuchKey")));
    }

    #[test]
    fn size_comes_from_the_range_total_before_the_length() {
        let mut c = check(Some("app.css"));
        c.min_size = Some(5);
        let partial = response(
            206,
            &[("content-range", "bytes 0-0/20"), ("content-length", "1")],
            "b",
        );
        assert_eq!(reason(judge_object(&c, "app.css", &partial)), None);
        let small = response(206, &[("content-range", "bytes 0-0/4")], "b");
        let p = judge_object(&c, "app.css", &small).unwrap_err();
        assert_eq!(p.reason, Reason::ObjectMismatch);
        assert_eq!(
            p.message,
            "s3://assets/app.css is 4 bytes, less than min_size 5"
        );
        let whole = response(200, &[("content-length", "20")], "");
        assert_eq!(reason(judge_object(&c, "app.css", &whole)), None);
        let unknown = response(200, &[], "");
        let p = judge_object(&c, "app.css", &unknown).unwrap_err();
        assert!(p.message.contains("no size reported"), "{p}");
    }

    #[test]
    fn an_unknown_total_is_no_size_not_the_one_byte_read() {
        let mut c = check(Some("app.css"));
        c.min_size = Some(5);
        let r = response(
            206,
            &[("content-range", "bytes 0-0/*"), ("content-length", "1")],
            "b",
        );
        let p = judge_object(&c, "app.css", &r).unwrap_err();
        assert_eq!(
            p.message,
            "s3://assets/app.css: no size reported, so min_size 5 cannot be checked"
        );
    }

    #[test]
    fn etags_compare_without_quotes_or_weakness() {
        let mut c = check(Some("app.css"));
        c.etag = Some("9b2c".into());
        for etag in ["\"9b2c\"", "W/\"9b2c\"", "9b2c"] {
            let r = response(206, &[("etag", etag)], "b");
            assert_eq!(reason(judge_object(&c, "app.css", &r)), None, "{etag}");
        }
        let other = response(206, &[("etag", "\"9b2d\"")], "b");
        assert_eq!(
            reason(judge_object(&c, "app.css", &other)),
            Some(Reason::ObjectMismatch)
        );
        let none = response(206, &[], "b");
        let p = judge_object(&c, "app.css", &none).unwrap_err();
        assert_eq!(
            p.message,
            "s3://assets/app.css has ETag \"\", expected \"9b2c\""
        );
    }

    #[test]
    fn sha256_is_of_the_body_and_too_large_an_object_is_the_probes_mistake() {
        let mut c = check(Some("app.css"));
        // sha256 of "abc".
        c.sha256 = Some("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad".into());
        let good = response(200, &[("content-length", "3")], "abc");
        assert_eq!(reason(judge_object(&c, "app.css", &good)), None);
        let bad = response(200, &[("content-length", "3")], "abd");
        assert_eq!(
            reason(judge_object(&c, "app.css", &bad)),
            Some(Reason::ObjectMismatch)
        );
        let huge = (HASH_LIMIT as u64 + 1).to_string();
        let large = response(200, &[("content-length", huge.as_str())], "abc");
        let p = judge_object(&c, "app.css", &large).unwrap_err();
        assert_eq!(p.reason, Reason::ProbeMisconfigured);
        assert_eq!(p.reason.class(), crate::outcome::Outcome::Error);
    }
}
