//! HTTP handlers of the fault lab and the router that ties them together.
//!
//! Every handler reads the current [`Faults`] once (a short lock, never held
//! across an `.await`) and behaves accordingly. The `slow_ms` delay is applied
//! by one middleware around the whole router, which skips `/_faults*`.

use std::sync::Arc;

use axum::{
    Json, Router,
    body::Bytes,
    extract::{Form, Path, Request, State, rejection::FormRejection},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::Deserialize;

use super::{Faults, LabState, pages};

/// Name of the session cookie.
pub(crate) const SESSION_COOKIE: &str = "session";

/// Builds the router of the whole site over the shared state.
pub(crate) fn router(state: Arc<LabState>) -> Router {
    Router::new()
        .route("/", get(root))
        .route("/login", get(login_form).post(login_submit))
        .route("/dashboard", get(dashboard))
        .route("/logout", post(logout))
        .route("/settings", get(settings))
        .route("/contrast", get(contrast))
        .route("/clicks", get(clicks))
        .route("/static/{file}", get(static_asset))
        .route("/healthz", get(healthz))
        .route("/flaky", get(flaky))
        .route("/_faults", get(get_faults).post(post_faults))
        .route("/_faults/reset", post(reset_faults))
        .route("/_lab", get(lab_endpoints))
        .route(
            "/_lab/switches",
            get(|| async { html(StatusCode::OK, pages::switches_page()) }),
        )
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            slow_responses,
        ))
        .with_state(state)
}

/// True for the fault-control endpoints, which are never delayed.
fn is_control_path(path: &str) -> bool {
    path == "/_faults"
        || path.starts_with("/_faults/")
        || path == "/_lab"
        || path.starts_with("/_lab/")
}

/// Middleware implementing the `slow_ms` fault.
async fn slow_responses(State(state): State<Arc<LabState>>, req: Request, next: Next) -> Response {
    if !is_control_path(req.uri().path()) {
        let slow_ms = state.faults().slow_ms;
        if slow_ms > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(slow_ms)).await;
        }
    }
    next.run(req).await
}

/// An HTML response with the right content type, never cached (faults can
/// change between two loads of the same page).
fn html(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

/// A redirect with the given status and target.
fn redirect(status: StatusCode, location: &'static str) -> Response {
    (status, [(header::LOCATION, location)]).into_response()
}

/// The value of the `session` cookie, if the request carries one.
fn session_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == SESSION_COOKIE && !value.is_empty())
        .map(|(_, value)| value.to_owned())
}

async fn root() -> Response {
    redirect(StatusCode::FOUND, "/login")
}

async fn login_form(State(state): State<Arc<LabState>>) -> Response {
    html(
        StatusCode::OK,
        pages::login_page(None, state.faults().invisible_submit),
    )
}

/// The sign-in form. Missing fields count as empty (and so as bad
/// credentials); a body that is not a form at all is a 400.
#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

async fn login_submit(
    State(state): State<Arc<LabState>>,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Response {
    let faults = state.faults();
    if faults.login_500 {
        return html(
            StatusCode::INTERNAL_SERVER_ERROR,
            pages::server_error_page(),
        );
    }
    let Ok(Form(form)) = form else {
        return html(StatusCode::BAD_REQUEST, pages::bad_request_page());
    };
    let username = form.username.trim();
    if username.is_empty() || !state.password_matches(&form.password) {
        tracing::debug!("fault lab: rejected sign-in attempt");
        return html(
            StatusCode::UNAUTHORIZED,
            pages::login_page(Some(pages::INVALID_CREDENTIALS), faults.invisible_submit),
        );
    }
    if faults.unauthenticated_dashboard {
        // Broken session handling: the sign-in "succeeds" but no session is
        // created, so the dashboard will not know who the user is.
        return redirect(StatusCode::SEE_OTHER, "/dashboard");
    }
    let token = state.create_session(username);
    let cookie = format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly");
    let mut response = redirect(StatusCode::SEE_OTHER, "/dashboard");
    match HeaderValue::from_str(&cookie) {
        Ok(value) => {
            response.headers_mut().insert(header::SET_COOKIE, value);
        }
        // Cannot happen (the token is hex), but never panic on it.
        Err(_) => {
            return html(
                StatusCode::INTERNAL_SERVER_ERROR,
                pages::server_error_page(),
            );
        }
    }
    response
}

async fn dashboard(State(state): State<Arc<LabState>>, headers: HeaderMap) -> Response {
    let faults = state.faults();
    if faults.dashboard_404 {
        return html(StatusCode::NOT_FOUND, pages::not_found_page());
    }
    let user = if faults.unauthenticated_dashboard {
        // While sessions are "broken", nobody is recognised, not even
        // browsers that still hold a cookie from before the fault.
        None
    } else {
        session_token(&headers).and_then(|token| state.session_user(&token))
    };
    html(
        StatusCode::OK,
        pages::dashboard_page(
            user.as_deref(),
            faults.renamed_element,
            state.assets_url.as_deref(),
        ),
    )
}

async fn logout(State(state): State<Arc<LabState>>, headers: HeaderMap) -> Response {
    if let Some(token) = session_token(&headers) {
        state.remove_session(&token);
    }
    let mut response = redirect(StatusCode::SEE_OTHER, "/login");
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("session=; Path=/; HttpOnly; Max-Age=0"),
    );
    response
}

async fn settings() -> Response {
    html(StatusCode::OK, pages::settings_page())
}

async fn contrast() -> Response {
    html(StatusCode::OK, pages::contrast_page())
}

async fn clicks() -> Response {
    html(StatusCode::OK, pages::clicks_page())
}

async fn static_asset(Path(file): Path<String>) -> Response {
    match pages::asset(&file) {
        Some(asset) => (
            [
                (header::CONTENT_TYPE, asset.content_type),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            asset.body,
        )
            .into_response(),
        None => html(StatusCode::NOT_FOUND, pages::not_found_page()),
    }
}

async fn healthz() -> Response {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "ok").into_response()
}

/// The first request fails, the next succeeds, and so on.
async fn flaky(State(state): State<Arc<LabState>>) -> Response {
    let n = state
        .flaky_seq
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let status = if n % 2 == 0 {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    };
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "flaky\n",
    )
        .into_response()
}

async fn get_faults(State(state): State<Arc<LabState>>) -> Json<Faults> {
    Json(state.faults())
}

/// Replaces the faults with the JSON body. The body is parsed whatever its
/// content type, so `curl -d '{"login_500":true}'` works too.
async fn post_faults(State(state): State<Arc<LabState>>, body: Bytes) -> Response {
    match parse_faults(&body) {
        Ok(faults) => match state.switch(faults.clone()).await {
            Ok(()) => Json(faults).into_response(),
            Err(e) => (
                StatusCode::CONFLICT,
                Json(serde_json::json!({ "error": e.to_string() })),
            )
                .into_response(),
        },
        Err(e) => (
            StatusCode::BAD_REQUEST,
            Json(serde_json::json!({ "error": e.to_string() })),
        )
            .into_response(),
    }
}

/// A `/_faults` body that is refused (400).
#[derive(Debug, thiserror::Error)]
enum BadFaults {
    #[error("invalid faults JSON: {0}")]
    Json(serde_json::Error),
    #[error("invalid faults: expected a JSON object")]
    NotAnObject,
    #[error("invalid faults: {0}")]
    Fields(serde_json::Error),
}

/// Parses a `/_faults` body: a JSON object with only known fields.
fn parse_faults(body: &[u8]) -> Result<Faults, BadFaults> {
    let value: serde_json::Value = serde_json::from_slice(body).map_err(BadFaults::Json)?;
    // serde would also accept an array for a struct; only objects make sense.
    if !value.is_object() {
        return Err(BadFaults::NotAnObject);
    }
    serde_json::from_value(value).map_err(BadFaults::Fields)
}

async fn reset_faults(State(state): State<Arc<LabState>>) -> Response {
    match state.switch(Faults::default()).await {
        Ok(()) => Json(Faults::default()).into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(serde_json::json!({ "error": e.to_string() })),
        )
            .into_response(),
    }
}

async fn lab_endpoints(State(state): State<Arc<LabState>>) -> Json<serde_json::Value> {
    Json(state.endpoints().await)
}

async fn not_found() -> Response {
    html(StatusCode::NOT_FOUND, pages::not_found_page())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_token_is_found_among_other_cookies() {
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, HeaderValue::from_static("a=1; b=2"));
        assert_eq!(session_token(&headers), None);
        headers.append(
            header::COOKIE,
            HeaderValue::from_static("theme=dark; session=abc123 ; x=y"),
        );
        assert_eq!(session_token(&headers).as_deref(), Some("abc123"));

        let mut empty = HeaderMap::new();
        empty.insert(header::COOKIE, HeaderValue::from_static("session="));
        assert_eq!(session_token(&empty), None);
        let mut similar = HeaderMap::new();
        similar.insert(header::COOKIE, HeaderValue::from_static("my_session=zzz"));
        assert_eq!(session_token(&similar), None);
    }

    #[test]
    fn parse_faults_accepts_objects_only() {
        assert_eq!(parse_faults(b"{}").unwrap(), Faults::default());
        assert_eq!(
            parse_faults(br#"{"slow_ms": 250}"#).unwrap(),
            Faults {
                slow_ms: 250,
                ..Faults::default()
            }
        );
        assert!(matches!(parse_faults(b"[]"), Err(BadFaults::NotAnObject)));
        assert!(matches!(parse_faults(b"null"), Err(BadFaults::NotAnObject)));
        assert!(matches!(parse_faults(b"{"), Err(BadFaults::Json(_))));
        let err = parse_faults(br#"{"bogus": 1}"#).unwrap_err();
        assert!(matches!(err, BadFaults::Fields(_)), "{err:?}");
        assert!(err.to_string().contains("unknown field `bogus`"), "{err}");
    }

    #[test]
    fn control_paths_are_recognised() {
        assert!(is_control_path("/_faults"));
        assert!(is_control_path("/_faults/reset"));
        assert!(!is_control_path("/_faultsx"));
        assert!(!is_control_path("/healthz"));
    }
}
