//! The JSON API under `/api/v1`:
//!
//! - `POST /api/v1/events` — store a change event. Needs `Authorization: Bearer <token>`
//!   (the `events_token` setting or `JOURNEYPROBE_EVENTS_TOKEN`); a missing or wrong token
//!   is 401, a body that is not a valid event is 400 with a message, and in neither case is
//!   anything stored. A valid event has no control character in any field, and an `at` at
//!   most a few minutes ahead and within the history retention; configured secrets in it
//!   are masked before it is stored. Without a configured token, posting is refused (403): a write
//!   endpoint never runs open.
//! - `GET /api/v1/events?since=…&limit=…` — events since an RFC 3339 time or a duration
//!   ago (`since=1h`; default 24h), oldest first.
//! - `GET /api/v1/bpms` — every BPM with its band and, per window, ratio and state.
//! - `GET /api/v1/runs?probe=…&limit=…` — latest attempts, newest first.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::history::events::NewEvent;
use crate::redact::Redactor;
use crate::service::{Plan, Shared};
use crate::time::unix;

/// Largest event body accepted.
pub const MAX_EVENT_BYTES: usize = 64 * 1024;
/// Most events or runs one GET returns.
const MAX_LIMIT: u32 = 1000;

fn problem(status: StatusCode, message: impl Into<String>) -> Response {
    let body = serde_json::json!({ "error": message.into() });
    (status, Json(body)).into_response()
}

/// Constant-time comparison, so the time to refuse says nothing about the token.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `None` when the request carries the events token, else the refusal to send.
fn refusal(s: &Shared, headers: &HeaderMap) -> Option<Response> {
    let Some(token) = s.settings.events_token.as_deref() else {
        return Some(problem(
            StatusCode::FORBIDDEN,
            "posting events is disabled: start serve with JOURNEYPROBE_EVENTS_TOKEN (or events_token in journeyprobe.yaml)",
        ));
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    match given {
        Some(g) if same(g.as_bytes(), token.as_bytes()) => None,
        Some(_) => Some(unauthorised("wrong bearer token")),
        None => Some(unauthorised("missing Authorization: Bearer <token>")),
    }
}

fn unauthorised(msg: &str) -> Response {
    let mut r = problem(StatusCode::UNAUTHORIZED, msg);
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("Bearer"),
    );
    r
}

pub async fn post_event(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if let Some(r) = refusal(&s, &headers) {
        return r;
    }
    let event: NewEvent = match serde_json::from_slice(&body) {
        Ok(e) => e,
        Err(e) => return problem(StatusCode::BAD_REQUEST, format!("not a valid event: {e}")),
    };
    let keep = s.settings.retention.max_age;
    let at = match event.validate(unix(SystemTime::now()), keep) {
        Ok(at) => at,
        Err(e) => return problem(StatusCode::BAD_REQUEST, e.to_string()),
    };
    let kind = event.kind.as_str();
    // Masked before it is stored: the board, the API and the database see the mask.
    let event = event.masked(&secrets_of(&s.plan()));
    match s.history.insert_event(event, at).await {
        Ok(stored) => {
            s.metrics.change_event(kind);
            // Debug-quoted: a posted value is shown escaped, never as raw text in a line.
            tracing::info!(kind, service = ?stored.service, id = stored.id, "change event stored");
            (StatusCode::CREATED, Json(stored)).into_response()
        }
        Err(e) => {
            tracing::error!("cannot store a change event: {e}");
            problem(StatusCode::INTERNAL_SERVER_ERROR, "cannot store the event")
        }
    }
}

/// Every secret of every loaded probe at once: an event comes from outside any one probe.
/// Built per event (events are few) so a reload's new secrets are masked at once.
fn secrets_of(plan: &Plan) -> Redactor {
    let journeys = plan.journeys.iter().map(|j| &j.redactor);
    let all = journeys.chain(plan.checks.iter().map(|c| &c.redactor));
    Redactor::new(all.flat_map(|r| r.secrets().iter().cloned()))
}

#[derive(Deserialize)]
pub struct EventsQuery {
    since: Option<String>,
    limit: Option<u32>,
}

pub async fn get_events(State(s): State<Arc<Shared>>, Query(q): Query<EventsQuery>) -> Response {
    let since = match parse_since(q.since.as_deref(), SystemTime::now()) {
        Ok(t) => t,
        Err(e) => return problem(StatusCode::BAD_REQUEST, e.to_string()),
    };
    let limit = q.limit.unwrap_or(MAX_LIMIT).min(MAX_LIMIT);
    match s.history.events_since(since, limit).await {
        Ok(events) => Json(events).into_response(),
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// A `since` that is neither a time nor a duration.
#[derive(Debug, PartialEq, thiserror::Error)]
#[error("since: '{0}' is neither an RFC 3339 time (2026-11-25T06:00:00Z) nor a duration (1h)")]
struct BadSince(String);

/// `since` as an RFC 3339 time, or a duration before `now` (`90m`); default 24h ago.
fn parse_since(since: Option<&str>, now: SystemTime) -> Result<f64, BadSince> {
    let Some(s) = since else {
        return Ok(unix(now - Duration::from_secs(24 * 3600)));
    };
    if let Ok(t) = humantime::parse_rfc3339_weak(s) {
        return Ok(unix(t));
    }
    match humantime::parse_duration(s) {
        Ok(d) if d <= Duration::from_secs(400 * 24 * 3600) => Ok(unix(now - d)),
        _ => Err(BadSince(s.to_string())),
    }
}

pub async fn get_bpms(State(s): State<Arc<Shared>>) -> Response {
    let plan = s.plan();
    let mut out = Vec::with_capacity(plan.bpms.len());
    for b in &plan.bpms {
        match s.bpm_values(b).await {
            Ok(windows) => out.push(serde_json::json!({
                "name": b.name,
                "description": b.description,
                "probes": b.probes,
                "implicit": b.implicit,
                "expected": { "min": b.expected.min, "max": b.expected.max },
                "windows": windows,
            })),
            Err(e) => return problem(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        }
    }
    Json(out).into_response()
}

#[derive(Deserialize)]
pub struct RunsQuery {
    probe: Option<String>,
    limit: Option<u32>,
}

pub async fn get_runs(State(s): State<Arc<Shared>>, Query(q): Query<RunsQuery>) -> Response {
    let limit = q.limit.unwrap_or(50).min(MAX_LIMIT);
    match s.history.recent(q.probe, limit).await {
        Ok(runs) => Json(runs).into_response(),
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_is_a_time_or_a_duration_ago() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(100_000);
        assert_eq!(parse_since(Some("1h"), now), Ok(96_400.0));
        assert_eq!(parse_since(None, now), Ok(13_600.0));
        assert_eq!(parse_since(Some("1970-01-01T00:01:40Z"), now), Ok(100.0));
        let err = parse_since(Some("yesterday"), now).unwrap_err();
        assert_eq!(err, BadSince("yesterday".into()));
        assert!(err.to_string().contains("neither"), "{err}");
        assert!(same(b"abc", b"abc") && !same(b"abc", b"abd") && !same(b"abc", b"ab"));
    }
}
